// The run directory's filesystem checks. Durable writes (atomic whole-file
// writes, fsynced appends) come from base/file_io.h, shared with the data
// layer.
#pragma once

#include <string>

#include "base/file_io.h"

namespace gnnrec {

// Creates `dir` (and parents) and checks that a file can be written in it;
// std::runtime_error "cannot write to output directory DIR: REASON".
void ensure_writable_dir(const std::string& dir);

}  // namespace gnnrec
