// A binary cache of loaded data sets, so that repeated runs skip parsing.
//
// File layout (native byte order; the cache is per machine): magic
// "GNNRECDS", u32 format version, u32 reserved, u64 key length, u64 payload
// length, u64 checksum of the payload (FNV-1a over 8-byte words), the key
// bytes, then the payload (name, format, both IdMaps, train and test
// columns). A file whose magic, version, key, lengths or checksum do not
// match is treated as absent.
#pragma once

#include <string>

#include "graph/interactions.h"

namespace gnnrec {

// Returns load_dataset(dir), from a binary cache when one matches. The cache
// file lives in cache_dir (default: $GNNREC_CACHE/datasets, else
// $XDG_CACHE_HOME/gnnrec/datasets, else $HOME/.cache/gnnrec/datasets; no
// caching when none is set), named by a hash of the absolute directory path.
// Its key records the format version, the absolute path and the size and
// content hash (base/file_io.h: file_fingerprint) of every source file; the
// cache is ignored, reloaded and rewritten when any differs or when the
// file is truncated or corrupt.
// Written atomically (temporary file + rename), so concurrent processes
// at worst both write it. Cache failures (unwritable directory) never fail
// the load: caching is skipped. Load errors throw as load_dataset does.
Dataset load_dataset_cached(const std::string& dir, const std::string& cache_dir = "");

// The cache key for `dir` as load_dataset_cached computes it (path, format
// version, size and content hash of each source file). Throws like
// detect_format.
std::string dataset_fingerprint(const std::string& dir);

// Where load_dataset_cached keeps the cache of `dir` inside cache_dir.
std::string dataset_cache_path(const std::string& dir, const std::string& cache_dir);

// Writes ds with fingerprint `key` to path (temporary file + rename; parent
// directories created). Throws DataError if the file cannot be written.
void save_dataset_binary(const Dataset& ds, const std::string& path, const std::string& key);

// Reads a file written by save_dataset_binary into *out. Returns false,
// leaving *out untouched, when the file is missing, was written for another
// key or format version, or is truncated or corrupt; never throws for those.
bool load_dataset_binary(const std::string& path, const std::string& key, Dataset* out);

}  // namespace gnnrec
