// Durable file output and whole-file input, shared by the data layer (binary
// cache, exported splits), the run directory (configs, metrics,
// checkpoints) and the benchmarks' result files. Torch-free.
//
// A reader never sees a half-written file: write_file_atomic writes a
// uniquely named temporary file in the same directory, fsyncs it, renames it
// over the target and fsyncs the directory, so after a crash the target
// holds either its old contents or the new ones. Safe to call from several
// threads or processes at once (last rename wins).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "base/data_error.h"

namespace gnnrec {

// Writes the concatenation of `parts` to `path`. On failure the previous
// file is untouched and DataError (base/data_error.h) says "PATH: cannot write: REASON".
void write_file_atomic(const std::string& path, std::initializer_list<std::string_view> parts);
inline void write_file_atomic(const std::string& path, std::string_view contents) {
  write_file_atomic(path, {contents});
}

// Test-only fault injection (train/fault_injection.h installs one when
// GNNREC_TEST_FAULT is set; never set otherwise). write_file_atomic calls the
// hook after the first of `parts` has been written to the temporary file and
// before the rest, the fsync and the rename: the hook may kill the process
// there (a crash mid-write) or return an errno value, which fails the write
// as that error would (ENOSPC: disk full); 0 continues.
using WriteHook = int (*)(const std::string& path);
void set_write_hook(WriteHook hook);

// fsyncs a directory, so that the renames and creations in it are durable
// (best effort: a directory that cannot be opened is skipped).
void sync_directory(const std::string& dir);

// Appends one line ('\n' added) and fsyncs it; DataError on failure.
void append_line_durable(const std::string& path, std::string_view line);

// The whole file in one buffer (parsing from memory is what makes loading
// fast); DataError "PATH: cannot open: REASON" or "PATH: cannot read: REASON"
// (also for a directory, FIFO, socket or device: never blocks on a FIFO).
std::string read_file(const std::string& path);

// A fast 64-bit FNV-1a variant over 8-byte words (then the tail bytes), for
// integrity checks of cache and checkpoint files; not cryptographic.
uint64_t checksum64(const char* p, size_t n);

// A well-mixed 64-bit hash of n bytes (one lane of MurmurHash3 x64, with its
// finaliser), for content fingerprints: any changed byte changes about half
// the bits. Not cryptographic: it detects edits, not tampering.
uint64_t content_hash64(const char* p, size_t n);

// "SIZE:HASH" of a file's bytes (content_hash64 in 16 hex digits), what a
// run records of each data file it read and the data cache is keyed on.
// DataError as read_file.
std::string file_fingerprint(const std::string& path);

}  // namespace gnnrec
