// The run directory, the unit of output:
//   RUN_DIR/config.json     the fully resolved configuration
//   RUN_DIR/metrics.jsonl   one JSON object per evaluation (durable appends)
//   RUN_DIR/summary.json    best epoch and its metrics, timings, versions
//   RUN_DIR/checkpoints/    last.ckpt (every epoch) and best.ckpt
//   RUN_DIR/.lock           held by the process writing the run
//   RUN_DIR/previous-run/   the run an unfinished --overwrite replaces
//   RUN_DIR/index/          the ANN index of a checkpoint (train/run_index.h)
// Every file is written whole or not at all (base/file_io.h: atomic
// writes, fsynced appends), so an interrupted run loses nothing it had
// written. RunDir owns the policy: what may be written where (a new
// directory, --resume, --overwrite), the clean-up before writing, and the
// checkpoints on disk.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/dir_lock.h"
#include "base/file_io.h"
#include "train/checkpoint.h"

namespace gnnrec {

// Creates `dir` (and parents) and checks that a file can be written in it;
// std::runtime_error "cannot write to output directory DIR: REASON".
void ensure_writable_dir(const std::string& dir);

class RunDir {
 public:
  // Takes the run directory for this process and checks what it holds
  // against the request. The directory is created when missing and locked
  // (base/dir_lock.h) for the RunDir's life: a second process, or a second
  // RunDir in this one, gets std::runtime_error "DIR is in use by another
  // gnnrec process (pid N)". std::invalid_argument when:
  //  - out is empty;
  //  - resume finds neither a run (config.json) nor a checkpoint;
  //  - without resume, out holds anything but a run and overwrite is not
  //    set ("already holds a run" / "holds files of a gnnrec run ... but no
  //    config.json"), or holds files that are not a run's at all and no run
  //    (refused even with overwrite: gnnrec never deletes what it did not
  //    write), naming what is there.
  // A run killed before its first checkpoint has config.json but no
  // last.ckpt: resuming it starts again from epoch 1
  // (resumes_from_checkpoint() is false). Files gnnrec does not write, in a
  // directory that also holds a run, are left alone.
  RunDir(std::string out, bool resume, bool overwrite);
  // A directory created here in which nothing was written (the data failed
  // to load, say) is removed again.
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;

  bool resumes_from_checkpoint() const { return from_checkpoint_; }
  // RUN_DIR/name and RUN_DIR/checkpoints/name.
  std::string file(const std::string& name) const;
  std::string checkpoint(const std::string& name) const;

  // Makes the directory ready to write (call once the inputs are checked):
  // removes the temporaries a crash left behind, writes `config` as
  // config.json and creates checkpoints/.
  // On --overwrite (without --resume) the old run's files move to
  // RUN_DIR/previous-run/, where they stay until finish(): a replacement
  // that fails or is killed leaves the old run there, never neither run.
  // (An earlier replacement that never finished left its old run there
  // already; that one is kept and the unfinished run's files removed.)
  void prepare(const nlohmann::json& config);
  // The run completed (summary.json written): the run it replaced, if any,
  // is removed.
  void finish();
  // RUN_DIR/name, atomically: j.dump(2) and a newline.
  void write_json(const std::string& name, const nlohmann::json& j) const;
  // One line of metrics.jsonl, durably.
  void append_metrics(const nlohmann::json& line) const;
  // Keeps the lines of metrics.jsonl whose epoch is <= `epoch` (those a
  // resumed run will not recompute), dropping a torn last line.
  void truncate_metrics(int64_t epoch) const;

  // Saves checkpoints/which (last.ckpt or best.ckpt) of `epoch`; a failed
  // write (disk full, unwritable directory) leaves the previous file, if
  // any, intact and throws std::runtime_error saying so.
  void save_checkpoint(const std::string& which, const Checkpoint& c, int64_t epoch);
  // checkpoints/last.ckpt, loaded (train/checkpoint.h's errors); the epoch
  // in its meta is then the one last_good() names.
  Checkpoint load_last();
  // For error messages: where the last good checkpoint is, or that there is none.
  std::string last_good() const;

  // The names of the entries gnnrec writes in a run directory.
  static const std::vector<std::string>& run_entries();

 private:
  void check_contents() const;
  // Removes the directory when it was created here and nothing was written.
  void remove_if_unused();

  std::string out_;
  bool resume_, overwrite_, from_checkpoint_ = false;
  bool created_ = false;  // the directory did not exist before
  bool prepared_ = false;
  std::unique_ptr<DirLock> lock_;
  int64_t saved_epoch_ = 0;  // the epoch of the last.ckpt on disk; 0: none
};

}  // namespace gnnrec
