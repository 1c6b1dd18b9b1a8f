// `gnnrec export`: a run's ranking factors and id maps as files that other
// tools read without gnnrec (docs/serving.md):
//   OUT/users.npy      float32 [U, d], row u the user with dense id u
//   OUT/items.npy      float32 [I, d]
//   OUT/user_ids.txt   the raw user ids, one per line, in row order
//   OUT/item_ids.txt   the raw item ids, likewise
//   OUT/card.json      model_card() (train/serving_run.h)
// The score of (u, i) is users[u] · items[i] (for KGCN the factors are the
// score matrix and the identity: see train/serving_run.h).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "train/serving_run.h"

namespace gnnrec {

// Writes the five files into `out_dir` (created with its parents when
// missing), each atomically (base/file_io.h); files of those names are
// replaced, other files left alone. Returns the card. Throws
// std::invalid_argument when a raw id holds a line break (it could not be
// one line), DataError when a file cannot be written.
nlohmann::json export_run(const ServingRun& s, const std::string& out_dir);

// The ids one per line ('\n' after each); std::invalid_argument naming the
// id when one holds '\n' or '\r'.
std::string id_lines(const IdMap& ids, const char* what);

}  // namespace gnnrec
