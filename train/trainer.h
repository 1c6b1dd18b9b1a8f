// Training a model into a run directory (train/run_dir.h), and loading a
// run back. train() is a sequence of units, each in its own header:
//   train/data.h        the data set, filtered and split, with its graphs
//   train/run_dir.h     what may be written where; checkpoints on disk
//   train/train_state.h epoch, best epoch, early stopping; their checkpoint
//   train/loss.h        the objective, chosen once per run
//   train/epoch.h       one epoch of batches
//   train/evaluation.h  evaluation under the run's protocol, the baseline
//   train/summary.h     summary.json
// Nothing in RUN_DIR is touched before the configuration, the data and the
// model have been checked, so bad input leaves an existing run intact.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "models/model.h"
#include "models/propagation_graph.h"
#include "train/config.h"
#include "train/data.h"
#include "train/evaluation.h"

namespace gnnrec {

struct TrainOptions {
  bool resume = false;     // continue from RUN_DIR/checkpoints/last.ckpt
  bool overwrite = false;  // replace an existing run in RUN_DIR
  bool quiet = false;      // no progress output
};

// The model hyper-parameters of a configuration: what train() and
// load_run() build the model with.
ModelOptions model_options(const TrainConfig& cfg);

// Trains cfg.model with the objective of train/loss.h and returns the
// summary (also written to summary.json).
nlohmann::json train(const TrainConfig& cfg, const TrainOptions& opts);

// A finished (or interrupted) run loaded back for evaluation/recommendation.
struct LoadedRun {
  TrainConfig config;
  PreparedData data;
  std::unique_ptr<PropagationGraph> graph;
  std::unique_ptr<Model> model;
  int64_t epoch = 0;
};
// which: "best" or "last". Throws std::runtime_error naming the missing or
// corrupt file, and (check_data) std::invalid_argument when the data set's
// files or the split they give differ from those config.json records
// (train/data.h: check_same_data).
LoadedRun load_run(const std::string& run_dir, const std::string& which, bool check_data = true);

}  // namespace gnnrec
