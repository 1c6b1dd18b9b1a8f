// Checkpoints: named tensors plus a JSON header, in one file written
// atomically (see run_dir.h), so an interrupted write leaves the previous
// checkpoint intact.
//
// Layout: "GNNRECK1" | uint64 header length | header JSON | tensor bytes |
// uint64 checksum64 (base/file_io.h) of everything before it. The header lists each
// tensor's name, dtype, shape and byte offset, and carries `meta`.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/model.h"

namespace gnnrec {

struct Checkpoint {
  nlohmann::json meta;              // epoch, optimiser steps, best metric, ...
  std::vector<NamedTensor> tensors; // saved from CPU copies; loaded on the CPU
};

void save_checkpoint(const std::string& path, const Checkpoint& ckpt);
// Throws std::runtime_error naming the path if it is missing, truncated,
// corrupt (checksum) or of another format.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace gnnrec
