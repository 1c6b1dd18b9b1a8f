#include "train/serving_run.h"

#include <filesystem>
#include <stdexcept>
#include <utility>

#include <ATen/ATen.h>

#include "base/file_io.h"
#include "train/config.h"

namespace gnnrec {
namespace {

at::Tensor served(const at::Tensor& t, const char* what) {
  at::Tensor out = t.detach().to(at::kCPU, at::kFloat).contiguous();
  if (!at::isfinite(out).all().item<bool>()) {
    throw std::invalid_argument(std::string("the model's ") + what +
                                " representations hold NaN or Inf values");
  }
  return out;
}

}  // namespace

ServingRun load_serving_run(const std::string& run_dir, const std::string& which) {
  return serving_of(run_dir, which, load_run(run_dir, which));
}

ServingRun serving_of(const std::string& run_dir, const std::string& which, LoadedRun run) {
  ServingRun s;
  s.dir = run_dir;
  s.which = which;
  s.checkpoint_path = (std::filesystem::path(run_dir) / "checkpoints" / (which + ".ckpt")).string();
  s.run = std::move(run);
  if (s.run.model->ranks_rows()) {
    throw std::invalid_argument(
        run_dir + "'s model, " + s.run.config.model +
        ", ranks a user's whole row of scores (an item-item filter, a network over each pair), "
        "not user and item factors: it has nothing to export, fold in, index or serve; recommend "
        "--user/--users ranks its rows");
  }
  if (s.run.config.ctr()) {
    throw std::invalid_argument(run_dir + " was trained under --protocol ctr (labelled pairs); " +
                                "serving needs a run trained for full ranking");
  }
  at::NoGradGuard no_grad;
  s.run.model->set_training(false);
  const auto [P, Q] = s.run.model->ranking();
  s.users = served(P, "user");
  s.items = served(Q, "item");
  s.score_matrix = s.run.config.model == "kgcn";
  return s;
}

int32_t find_raw_id(const IdMap& ids, const std::string& raw, const std::string& format) {
  const int32_t id = ids.find(raw);
  if (id >= 0 || format == "csv") return id;
  return ids.find_integer(raw);
}

std::string unknown_id_message(const IdMap& ids, const std::string& raw, const char* what,
                               const std::string& dataset, const std::string& format) {
  std::string msg =
      "'" + raw + "' is not " + (what[0] == 'i' ? "an " : "a ") + what + " of " + dataset;
  const int32_t v = ids.find_integer(raw);
  if (v >= 0 && format == "csv") {
    msg += " (its ids are matched as written; '" + ids.raw(v) + "' is one)";
  }
  return msg;
}

nlohmann::json served_factors(const ServingRun& s) {
  return {{"model", s.run.config.model}, {"checkpoint", s.which},    {"epoch", s.run.epoch},
          {"users", s.users.size(0)},    {"items", s.items.size(0)}, {"dimension", s.dim()}};
}

nlohmann::json model_card(const ServingRun& s) {
  nlohmann::json config =
      nlohmann::json::parse(read_file((std::filesystem::path(s.dir) / "config.json").string()));
  nlohmann::json data = config.contains(kDataRecordKey) ? config[kDataRecordKey] : nullptr;
  config.erase(kDataRecordKey);
  nlohmann::json card = served_factors(s);
  card.update({{"format", "gnnrec-export"},
               {"version", 1},
               {"score", "dot"},
               {"factors", s.score_matrix ? "score_matrix" : "embeddings"},
               {"data", data},
               {"config", config}});
  return card;
}

}  // namespace gnnrec
