#include "train/data.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "graph/cache.h"
#include "graph/kg_loaders.h"
#include "graph/loaders.h"
#include "graph/splits.h"
#include "graph/synthetic.h"

namespace gnnrec {

namespace {

// The files a run on cfg.dataset reads, each with its fingerprint, taken
// before they are read: a file that changes while it is parsed then
// disagrees with its record the next time, rather than agreeing falsely.
std::vector<std::pair<std::string, std::string>> fingerprint_inputs(const TrainConfig& cfg) {
  std::vector<std::pair<std::string, std::string>> files;
  if (cfg.dataset == "synthetic") return files;
  std::vector<std::string> paths = dataset_source_files(cfg.dataset);
  if (cfg.side_info) {
    for (std::string& f : side_source_files(cfg.dataset)) paths.push_back(std::move(f));
  }
  for (const std::string& f : paths) {
    const std::string name = std::filesystem::path(f).filename().string();
    // KGCN's item map is read by both the interactions and the KG loader.
    const bool seen = std::any_of(files.begin(), files.end(),
                                  [&](const auto& file) { return file.first == name; });
    if (!seen) files.emplace_back(name, file_fingerprint(f));
  }
  return files;
}

template <typename T>
void hash_column(std::string* bytes, const std::vector<T>& v) {
  const uint64_t n = v.size();
  bytes->append(reinterpret_cast<const char*>(&n), sizeof n);
  if (!v.empty()) bytes->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// A fingerprint of what the run trains and is evaluated on: the split's
// pairs (and ratings), and the CTR records with their labels.
std::string split_fingerprint(const PreparedData& out) {
  std::string bytes;
  for (const Interactions* x : {&out.dataset.train, &out.dataset.test}) {
    hash_column(&bytes, x->user);
    hash_column(&bytes, x->item);
    hash_column(&bytes, x->rating);
  }
  if (out.ctr) {
    for (const CtrRecords* r : {&out.ctr->train, &out.ctr->eval, &out.ctr->test}) {
      hash_column(&bytes, r->user);
      hash_column(&bytes, r->item);
      hash_column(&bytes, r->label);
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(content_hash64(bytes.data(), bytes.size())));
  return hex;
}

// A shipped test set that repeats training pairs: evaluation masks every
// training item, so those test pairs can never be found. All of them is an
// error (a copied train.txt); some, a warning with the count.
void check_test_overlap(const std::string& dataset, const BipartiteGraph& train,
                        const BipartiteGraph& test, std::vector<std::string>* warnings) {
  int64_t shared = 0;
  for (int64_t u = 0; u < test.num_users(); ++u) {
    for (int64_t k = test.user_offsets()[u]; k < test.user_offsets()[u + 1]; ++k) {
      if (train.has_edge(static_cast<int32_t>(u), test.user_items()[k])) ++shared;
    }
  }
  if (shared == 0) return;
  if (shared == test.num_edges()) {
    throw DataError(dataset + ": every test interaction is also a training interaction (is " +
                    "test.txt a copy of train.txt?); full ranking masks training items, so " +
                    "none of them could be found");
  }
  warnings->push_back(dataset + ": " + std::to_string(shared) + " of " +
                      std::to_string(test.num_edges()) +
                      " test interactions are also training interactions; full ranking masks " +
                      "them, so they count as misses");
}

}  // namespace

PreparedData prepare_data(const TrainConfig& cfg) {
  std::vector<std::pair<std::string, std::string>> inputs = fingerprint_inputs(cfg);
  Dataset ds;
  if (cfg.dataset == "synthetic") {
    SyntheticOptions so;
    so.num_users = cfg.synthetic_users;
    so.num_items = cfg.synthetic_items;
    so.seed = cfg.seed;
    ds = make_synthetic(so);
  } else {
    ds = load_dataset_cached(cfg.dataset);
  }
  if (cfg.rating_mode() && (!ds.train.has_rating() || (ds.is_split() && !ds.test.has_rating()))) {
    throw DataError(cfg.dataset + ": --loss mse trains on ratings, but data set '" + ds.name +
                    "' (" + ds.format + " format) has none; use bpr or bce");
  }
  if (cfg.ctr() && ds.is_split()) {
    throw DataError(cfg.dataset +
                    ": --protocol ctr draws its own 6:2:2 split of every "
                    "interaction, but data set '" +
                    ds.name + "' (" + ds.format +
                    " format) ships a train/test split; use --protocol ranking");
  }
  dedupe(ds.train);
  if (cfg.min_rating > 0) filter_min_rating(ds, static_cast<float>(cfg.min_rating));
  if (cfg.kcore > 1) k_core(ds, cfg.kcore);
  PreparedData out;
  if (cfg.ctr()) {
    if (ds.train.empty()) throw DataError(cfg.dataset + ": no interactions after filtering");
    CtrSplit records = make_ctr_split(ds.train, ds.num_users(), ds.num_items(), cfg.seed);
    if (records.train.positives() == 0 || records.eval.empty() || records.test.empty()) {
      throw DataError(cfg.dataset + ": " + std::to_string(ds.train.size()) +
                      " interactions are too few for --protocol ctr's 6:2:2 split (train " +
                      std::to_string(records.train.size()) + ", eval " +
                      std::to_string(records.eval.size()) + ", test " +
                      std::to_string(records.test.size()) + " records)");
    }
    ds.train = ctr_positives(records.train);
    ds.test = ctr_positives(records.test);
    out.ctr = std::move(records);
  } else {
    if (!ds.is_split()) split(ds, parse_split_kind(cfg.split), cfg.train_ratio, cfg.seed);
    if (ds.train.empty())
      throw DataError(cfg.dataset + ": no training interactions after filtering");
    if (ds.test.empty()) throw DataError(cfg.dataset + ": no test interactions after splitting");
  }
  out.train = std::make_shared<BipartiteGraph>(
      BipartiteGraph::build(ds.num_users(), ds.num_items(), ds.train));
  out.test = std::make_shared<BipartiteGraph>(
      BipartiteGraph::build(ds.num_users(), ds.num_items(), ds.test));
  if (!cfg.ctr()) check_test_overlap(cfg.dataset, *out.train, *out.test, &out.warnings);
  // After filtering, so that the graph is aligned with the final ids.
  if (cfg.dataset != "synthetic" && cfg.side_info) out.side = load_side_graph(cfg.dataset, ds);
  out.dataset = std::move(ds);
  out.record.files = std::move(inputs);
  out.record.split = split_fingerprint(out);
  return out;
}

void to_json(nlohmann::json& j, const DataRecord& r) {
  j = nlohmann::json::object();
  j["files"] = nlohmann::json::object();
  for (const auto& [name, fingerprint] : r.files) j["files"][name] = fingerprint;
  j["split"] = r.split;
}

DataRecord data_record_from_json(const nlohmann::json& j, const std::string& where) {
  const auto bad = [&] {
    return std::invalid_argument(where + ": \"data\" must be {\"files\": {NAME: FINGERPRINT}, " +
                                 "\"split\": FINGERPRINT}");
  };
  if (!j.is_object() || !j.contains("files") || !j.contains("split") || !j["files"].is_object() ||
      !j["split"].is_string()) {
    throw bad();
  }
  DataRecord r;
  for (const auto& [name, fingerprint] : j["files"].items()) {
    if (!fingerprint.is_string()) throw bad();
    r.files.emplace_back(name, fingerprint.get<std::string>());
  }
  r.split = j["split"].get<std::string>();
  return r;
}

std::optional<DataRecord> read_data_record(const std::string& config_path) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(config_path));
  } catch (const nlohmann::json::parse_error&) {
    return std::nullopt;  // read_run_config reports a malformed file
  }
  if (!j.is_object() || !j.contains(kDataRecordKey)) return std::nullopt;
  return data_record_from_json(j[kDataRecordKey], config_path);
}

void check_same_data(const DataRecord& recorded, const DataRecord& now, const std::string& dataset,
                     const std::string& what) {
  const auto differ = [&](const std::string& why) {
    throw std::invalid_argument(what +
                                ": the data differ from those the run was trained on: " + why);
  };
  std::map<std::string, std::string> then(recorded.files.begin(), recorded.files.end());
  for (const auto& [name, fingerprint] : now.files) {
    const std::string path = (std::filesystem::path(dataset) / name).string();
    const auto it = then.find(name);
    if (it == then.end()) differ(path + " was not among the files read in training");
    if (it->second != fingerprint) {
      differ(path + " changed (trained on " + it->second + ", now " + fingerprint + ")");
    }
    then.erase(it);
  }
  if (!then.empty()) {
    differ((std::filesystem::path(dataset) / then.begin()->first).string() +
           " was read in training but is not read now");
  }
  if (recorded.split != now.split) {
    differ("the same files give another split (trained on " + recorded.split + ", now " +
           now.split + "): a different gnnrec version or options");
  }
}

void write_ctr_records(const std::string& path, const PreparedData& data) {
  std::string text = "user\titem\tlabel\tpart\n";
  const auto add = [&](const CtrRecords& r, const char* part) {
    for (size_t k = 0; k < r.size(); ++k) {
      text += data.dataset.users.raw(r.user[k]) + "\t" + data.dataset.items.raw(r.item[k]) + "\t" +
              (r.label[k] ? "1" : "0") + "\t" + part + "\n";
    }
  };
  add(data.ctr->train, "train");
  add(data.ctr->eval, "eval");
  add(data.ctr->test, "test");
  write_file_atomic(path, text);
}

}  // namespace gnnrec
