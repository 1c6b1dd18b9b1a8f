// File output that survives interruption: atomic whole-file writes and
// durable appends. A reader never sees a half-written file: it sees the old
// contents or the new ones.
#pragma once

#include <string>
#include <vector>

namespace gnnrec {

// Writes `contents` to `path` through a temporary file in the same
// directory, fsync, rename, fsync of the directory. On failure the previous
// file is untouched and std::runtime_error says "cannot write PATH: REASON".
void write_file_atomic(const std::string& path, const std::string& contents);

// Appends one line (a '\n' is added) and fsyncs it.
void append_line_durable(const std::string& path, const std::string& line);

// Reads a whole file; std::runtime_error "cannot read PATH: REASON".
std::string read_file(const std::string& path);

// Creates `dir` (and parents) and checks that a file can be written in it;
// std::runtime_error "cannot write to output directory DIR: REASON".
void ensure_writable_dir(const std::string& dir);

}  // namespace gnnrec
