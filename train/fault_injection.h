// Test-only fault injection for the crash-safety tests (tests/cli/
// test_crash_safety.py). Never set in normal use; without the variable every
// call here is a no-op.
//
//   GNNREC_TEST_FAULT=ACTION@POINT:EPOCH
//
// fires once, at POINT of epoch EPOCH (1-based):
//   POINT  batch      after the loss of the epoch's second batch (its first
//                     when it has one) is computed, before it is read
//          eval       during the epoch's evaluation, after scoring, before
//                     its metrics.jsonl line is written
//          last.ckpt, best.ckpt, summary.json, ...
//                     inside the atomic write of that file (the basename),
//                     after the first part (a checkpoint's header) has gone
//                     to the temporary file, before the rest and the rename
//   ACTION kill       raise SIGKILL on this process (a crash)
//          stop       raise SIGSTOP on this process (a hang: a rank of a
//                     distributed run that stops answering)
//          enospc     a file POINT's write fails with ENOSPC (disk full)
//          eacces     a file POINT's write fails with EACCES (unwritable)
//          nan        the batch's loss becomes NaN (POINT batch)
//          skew       after the batch's step, this process's first parameter
//                     changes (POINT batch): a rank of a distributed run
//                     whose parameters no longer equal the others'
//
// Not thread-safe: the trainer sets the epoch from its own thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace gnnrec::fault {

// Reads GNNREC_TEST_FAULT (std::invalid_argument when it is malformed) and
// installs the file write hook (base/file_io.h) when it names a file.
void install_from_env();
// The epoch now running (0 before the first).
void set_epoch(int64_t epoch);
// At POINT `point` of the current epoch: kill and stop do not return; nan
// and skew are returned (the caller poisons its value or its parameter);
// otherwise empty.
std::string_view reached(std::string_view point);

}  // namespace gnnrec::fault
