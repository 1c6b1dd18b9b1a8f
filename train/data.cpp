#include "train/data.h"

#include <string>
#include <utility>

#include "base/file_io.h"
#include "graph/cache.h"
#include "graph/kg_loaders.h"
#include "graph/splits.h"
#include "graph/synthetic.h"

namespace gnnrec {

PreparedData prepare_data(const TrainConfig& cfg) {
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
  // After filtering, so that the graph is aligned with the final ids.
  if (cfg.dataset != "synthetic" && cfg.side_info) out.side = load_side_graph(cfg.dataset, ds);
  out.dataset = std::move(ds);
  return out;
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
