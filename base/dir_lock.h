// One owner at a time for a directory (a run directory): an exclusive
// advisory lock (flock) on DIR/.lock, held while the DirLock lives and
// released by the kernel when the process ends, however it ends (a SIGKILL
// leaves no stale lock). The holder's pid is written into the file so that
// a refused process can name it. Torch-free.
//
// flock locks belong to an open file description, so two DirLocks on one
// directory conflict within one process too (two gnnrec.train calls on
// threads), not only across processes. The lock file stays in place after
// release: removing it would let a waiter lock a file no longer in the
// directory.
#pragma once

#include <string>

namespace gnnrec {

class DirLock {
 public:
  // Locks `dir` (which must exist). Throws DataError "DIR is in use by
  // another gnnrec process (pid N)" when another holder has it, or
  // "DIR/.lock: cannot write: REASON" when the file cannot be created.
  explicit DirLock(const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

  // The lock file's name inside the directory.
  static constexpr const char* kFileName = ".lock";

 private:
  int fd_ = -1;
};

}  // namespace gnnrec
