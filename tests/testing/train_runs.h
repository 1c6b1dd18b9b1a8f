// Helpers shared by the trainer tests: a small synthetic configuration that
// trains in about a second, and a run's metrics.jsonl as JSON lines.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "train/config.h"

namespace gnnrec::testing {

// LightGCN on 400 users x 300 synthetic items, d 16, 2 layers, 6 epochs
// evaluated every 2, batch 512, lr 0.01, 2 threads, CPU; run folder `out`.
inline TrainConfig small_config(const std::string& out) {
  TrainConfig c;
  c.model = "lightgcn";
  c.dataset = "synthetic";
  c.synthetic_users = 400;
  c.synthetic_items = 300;
  c.dim = 16;
  c.layers = 2;
  c.epochs = 6;
  c.eval_every = 2;
  c.batch_size = 512;
  c.lr = 0.01;
  c.threads = 2;
  c.out = out;
  return c;
}

// The lines of RUN/metrics.jsonl, parsed.
inline std::vector<nlohmann::json> metric_lines(const std::string& run) {
  std::istringstream in(read_file(run + "/metrics.jsonl"));
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

}  // namespace gnnrec::testing
