// The run directory, the unit of output:
//   RUN_DIR/config.json     the fully resolved configuration
//   RUN_DIR/metrics.jsonl   one JSON object per evaluation (durable appends)
//   RUN_DIR/summary.json    best epoch and its metrics, timings, versions
//   RUN_DIR/checkpoints/    last.ckpt (every epoch) and best.ckpt
// Every file is written whole or not at all (base/file_io.h: atomic
// writes, fsynced appends), so an interrupted run loses nothing it had
// written. RunDir owns the policy: what may be written where (a new
// directory, --resume, --overwrite), the clean-up before writing, and the
// checkpoints on disk.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "base/file_io.h"
#include "train/checkpoint.h"

namespace gnnrec {

// Creates `dir` (and parents) and checks that a file can be written in it;
// std::runtime_error "cannot write to output directory DIR: REASON".
void ensure_writable_dir(const std::string& dir);

class RunDir {
 public:
  // Checks what `out` holds against the request, touching nothing:
  // std::invalid_argument when out is empty, when it already holds a run
  // (config.json) and neither resume nor overwrite is set, or when resume
  // finds neither a run nor a checkpoint. A run killed before its first
  // checkpoint has config.json but no last.ckpt: resuming it starts again
  // from epoch 1 (resumes_from_checkpoint() is false).
  RunDir(std::string out, bool resume, bool overwrite);

  bool resumes_from_checkpoint() const { return from_checkpoint_; }
  // RUN_DIR/name and RUN_DIR/checkpoints/name.
  std::string file(const std::string& name) const;
  std::string checkpoint(const std::string& name) const;

  // Makes the directory ready to write (call once the inputs are checked):
  // creates it and checkpoints/, removes the temporaries a crash left
  // behind, and on --overwrite (without --resume) removes the old run's
  // metrics, summary and checkpoints.
  void prepare() const;
  // RUN_DIR/name, atomically: j.dump(2) and a newline.
  void write_json(const std::string& name, const nlohmann::json& j) const;
  // One line of metrics.jsonl, durably.
  void append_metrics(const nlohmann::json& line) const;
  // Keeps the lines of metrics.jsonl whose epoch is <= `epoch` (those a
  // resumed run will not recompute), dropping a torn last line.
  void truncate_metrics(int64_t epoch) const;

  // Saves checkpoints/which (last.ckpt or best.ckpt) of `epoch`; a failed
  // write (disk full, unwritable directory) leaves the previous file intact
  // and throws std::runtime_error saying so.
  void save_checkpoint(const std::string& which, const Checkpoint& c, int64_t epoch);
  // checkpoints/last.ckpt, loaded (train/checkpoint.h's errors); the epoch
  // in its meta is then the one last_good() names.
  Checkpoint load_last();
  // For error messages: where the last good checkpoint is, or that there is none.
  std::string last_good() const;

 private:
  std::string out_;
  bool resume_, overwrite_, from_checkpoint_;
  int64_t saved_epoch_ = 0;  // the epoch of the last.ckpt on disk; 0: none
};

}  // namespace gnnrec
