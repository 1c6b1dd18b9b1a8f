#include "train/run_index.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "base/dir_lock.h"
#include "base/file_io.h"

namespace gnnrec {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json record_of(const AnnIndex& index, const std::string& checkpoint_fp, const std::string& bin_fp) {
  const AnnParams& p = index.params();
  return {{"kind", "hnsw"},
          {"library", "hnswlib"},
          {"space", name_of(p.space)},
          {"items", index.size()},
          {"dimension", index.dim()},
          {"max_norm", index.max_norm()},
          {"m", p.m},
          {"ef_construction", p.ef_construction},
          {"seed", p.seed},
          {"checkpoint_fingerprint", checkpoint_fp},
          {"index_fingerprint", bin_fp}};
}

// The recorded index when it is the one asked for and its file is intact.
std::unique_ptr<AnnIndex> load_if_current(const fs::path& bin, const fs::path& meta,
                                          const std::string& checkpoint_fp, int64_t dim,
                                          const AnnParams& params) {
  if (!fs::exists(meta) || !fs::exists(bin)) return nullptr;
  json r;
  try {
    r = json::parse(read_file(meta.string()));
    if (r.at("checkpoint_fingerprint") != checkpoint_fp || r.at("dimension") != dim ||
        r.at("space") != name_of(params.space) || r.at("m") != params.m ||
        r.at("ef_construction") != params.ef_construction || r.at("seed") != params.seed ||
        r.at("index_fingerprint") != file_fingerprint(bin.string())) {
      return nullptr;
    }
    return AnnIndex::load(bin.string(), dim, r.at("max_norm").get<double>(), params);
  } catch (const std::exception&) {
    return nullptr;  // unreadable or foreign: rebuilt
  }
}

void fsync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::unique_ptr<AnnIndex> open_run_index(const ServingRun& s, const AnnParams& params,
                                         const std::function<void(const std::string&)>& note) {
  if (s.score_matrix) {
    throw std::invalid_argument("--index hnsw needs one vector per item; " + s.run.config.model +
                                "'s ranking is a score matrix (docs/serving.md)");
  }
  const fs::path dir = fs::path(s.dir) / "index";
  const fs::path bin = dir / ("hnsw-" + s.which + ".bin");
  const fs::path meta = dir / ("hnsw-" + s.which + ".json");
  const std::string checkpoint_fp = file_fingerprint(s.checkpoint_path);
  if (auto index = load_if_current(bin, meta, checkpoint_fp, s.dim(), params)) return index;

  const DirLock lock(s.dir);
  note("building the HNSW index of " + std::to_string(s.items.size(0)) + " items (" + s.which +
       " checkpoint) into " + bin.string());
  std::unique_ptr<AnnIndex> index = AnnIndex::build(s.items, params);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DataError(dir.string() + ": cannot write: " + ec.message());
  const std::string tmp = bin.string() + ".tmp." + std::to_string(::getpid());
  try {
    index->save(tmp);
  } catch (const std::exception& e) {
    fs::remove(tmp, ec);
    throw DataError(bin.string() + ": cannot write: " + e.what());
  }
  fsync_file(tmp);
  fs::rename(tmp, bin, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw DataError(bin.string() + ": cannot write: " + ec.message());
  }
  sync_directory(dir.string());
  write_file_atomic(
      meta.string(),
      record_of(*index, checkpoint_fp, file_fingerprint(bin.string())).dump(2) + "\n");
  return index;
}

}  // namespace gnnrec
