// A trained run loaded for serving: what `export`, `recommend`, `fold-in`,
// `serve` and gnnrec.load_run read. The model's ranking factors are computed
// once (train/trainer.h's load_run, then Model::ranking() without gradients)
// and kept read-only, so that any number of threads may score with them.
//
// The factors are the ones full-ranking evaluation ranks with: the score of
// (u, i) is users[u] · items[i]. Every model's ranking() gives such a pair;
// for all but KGCN they are one vector per user and one per item
// ("embeddings"); KGCN's item representation depends on the user, so its
// ranking() is the score matrix S [U, I] with the identity [I, I]
// ("score_matrix": users[u] is user u's row of scores). GCN's score adds a
// constant bias b that ranking() drops (it cannot change a ranking).
#pragma once

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "graph/interactions.h"
#include "train/trainer.h"

namespace gnnrec {

struct ServingRun {
  std::string dir;              // the run directory
  std::string which;            // "best" or "last"
  std::string checkpoint_path;  // RUN_DIR/checkpoints/WHICH.ckpt
  LoadedRun run;                // configuration, data (ids, training graph), model
  // Model::ranking(), detached, float32, contiguous, on the CPU: [U, d] and
  // [I, d] (KGCN: [U, I] and [I, I]).
  at::Tensor users, items;
  bool score_matrix = false;  // KGCN: see above

  const IdMap& user_ids() const { return run.data.dataset.users; }
  const IdMap& item_ids() const { return run.data.dataset.items; }
  const BipartiteGraph& train() const { return *run.data.train; }
  int64_t dim() const { return users.size(1); }
};

// Loads RUN_DIR with its `which` checkpoint (load_run's errors: a missing or
// corrupt file, data that differ from those the run recorded) and computes
// the factors. Throws std::invalid_argument for a --protocol ctr run (its
// test records are labelled pairs, not a ranking) and for factors holding
// NaN or Inf.
ServingRun load_serving_run(const std::string& run_dir, const std::string& which);
// The same from a run already loaded. A model that ranks by score rows
// (Model::ranks_rows: gfcf, bspm) has no factors to serve: std::invalid_argument
// saying what applies to it instead.
ServingRun serving_of(const std::string& run_dir, const std::string& which, LoadedRun run);

// The dense id of a raw user or item id as the data set's loader reads ids:
// "007" is user 7 for a format whose ids are integers (every format but
// delimited text, whose ids are strings matched as written). -1 when the id
// is not in the map.
int32_t find_raw_id(const IdMap& ids, const std::string& raw, const std::string& format);

// "'ID' is not a user of DATASET" (or item), with a hint when the id matches
// only as an integer in a data set whose ids are strings.
std::string unknown_id_message(const IdMap& ids, const std::string& raw, const char* what,
                               const std::string& dataset, const std::string& format);

// What identifies the served factors (model, checkpoint, epoch, users,
// items, dimension): the part of the model card that `serve`'s /health
// repeats.
nlohmann::json served_factors(const ServingRun& s);

// The model card of the run (export's card.json): served_factors(), the
// score function "dot", the kind of factors, the data record of config.json
// and the run's configuration.
nlohmann::json model_card(const ServingRun& s);

}  // namespace gnnrec
