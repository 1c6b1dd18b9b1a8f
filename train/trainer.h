// The training loop and the run directory it writes:
//   RUN_DIR/config.json     the fully resolved configuration
//   RUN_DIR/metrics.jsonl   one JSON object per evaluation
//   RUN_DIR/summary.json    best epoch and its metrics, timings, versions
//   RUN_DIR/checkpoints/    last.ckpt (every epoch) and best.ckpt, atomic
// Nothing in RUN_DIR is touched before the configuration, the data and the
// model have been checked, so bad input leaves an existing run intact.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "graph/adjacency.h"
#include "graph/interactions.h"
#include "models/model.h"
#include "train/config.h"

namespace gnnrec {

// The data set after filtering and splitting, with its graphs.
struct PreparedData {
  Dataset dataset;
  std::shared_ptr<const BipartiteGraph> train;
  std::shared_ptr<const BipartiteGraph> test;
};

// Loads cfg.dataset (a directory, through the binary cache, or the built-in
// synthetic data), drops duplicate pairs, applies min_rating, kcore and the
// split (unless the data set ships one), and builds the graphs. Throws
// DataError (file and line for bad files) or std::invalid_argument.
PreparedData prepare_data(const TrainConfig& cfg);

struct TrainOptions {
  bool resume = false;     // continue from RUN_DIR/checkpoints/last.ckpt
  bool overwrite = false;  // replace an existing run in RUN_DIR
  bool quiet = false;      // no progress output
};

// Trains cfg.model and returns the summary (also written to summary.json).
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
// corrupt file.
LoadedRun load_run(const std::string& run_dir, const std::string& which);

}  // namespace gnnrec
