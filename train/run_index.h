// The ANN index a run keeps beside its checkpoints, built once from the item
// factors of one checkpoint and reused by later `recommend --index hnsw`
// and `serve --index hnsw` calls:
//   RUN_DIR/index/hnsw-WHICH.bin    the HNSW graph (train/ann_index.h)
//   RUN_DIR/index/hnsw-WHICH.json   its parameters, the fingerprint
//                                   (base/file_io.h) of the checkpoint it
//                                   was built from and of the .bin itself
// WHICH is the checkpoint, best or last. An index whose checkpoint has
// changed since (a resumed run saved a new best.ckpt), whose build
// parameters differ from those asked for, or whose file does not match its
// record (truncated, edited) is rebuilt. Building writes under the run's
// lock (base/dir_lock.h): a run being trained is refused, as a second
// trainer would be. The .bin is written to a temporary file, fsynced and
// renamed, and the .json after it, so a crash leaves an index that is
// either whole or rebuilt on next use.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "train/ann_index.h"
#include "train/serving_run.h"

namespace gnnrec {

// The run's index for s.which, loaded or (re)built; `note` receives one line
// when it builds ("building the HNSW index ..."). std::invalid_argument for
// a run whose factors are a score matrix (KGCN).
std::unique_ptr<AnnIndex> open_run_index(const ServingRun& s, const AnnParams& params,
                                         const std::function<void(const std::string&)>& note);

}  // namespace gnnrec
