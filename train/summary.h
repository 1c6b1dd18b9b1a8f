// RUN_DIR/summary.json: what a finished run reports (best epoch and its
// metrics, the baseline's, the protocol in words, timings, sizes, device and
// versions).
#pragma once

#include <cstdint>
#include <string>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "train/config.h"
#include "train/data.h"
#include "train/evaluation.h"
#include "train/train_state.h"

namespace gnnrec {

// The evaluation protocol in words, as summary.json states it, so that its
// numbers can be compared with papers'.
std::string protocol_description(const TrainConfig& cfg);

// Seconds spent outside the epochs' training.
struct RunTimes {
  double load_seconds = 0;        // prepare_data
  double eval_seconds_total = 0;  // every evaluation together
  int64_t evaluations = 0;
};

nlohmann::json make_summary(const TrainConfig& cfg, const PreparedData& data,
                            const RunEvaluation& evaluation, const Baseline& baseline,
                            const TrainingState& state, bool stopped_early, const RunTimes& times,
                            at::Device device);

}  // namespace gnnrec
