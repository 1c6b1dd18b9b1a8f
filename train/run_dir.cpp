#include "train/run_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace gnnrec {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Removes the temporary files that a crash in write_file_atomic leaves
// behind ("NAME.tmp.PID.N" next to NAME); the targets themselves are always
// whole.
void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file(ec) &&
        entry.path().filename().string().find(".tmp.") != std::string::npos) {
      fs::remove(entry.path(), ec);
    }
  }
}

}  // namespace

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error("cannot write to output directory " + dir + ": " + ec.message());
  }
  const std::string probe = (fs::path(dir) / (".write-test." + std::to_string(::getpid()))).string();
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("cannot write to output directory " + dir + ": " + std::strerror(errno));
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

RunDir::RunDir(std::string out, bool resume, bool overwrite)
    : out_(std::move(out)), resume_(resume), overwrite_(overwrite) {
  if (out_.empty()) throw std::invalid_argument("--out is required: the run directory to write");
  const bool has_run = fs::exists(file("config.json"));
  if (has_run && !resume_ && !overwrite_) {
    throw std::invalid_argument("--out " + out_ +
                                " already holds a run; pass --resume to continue it or "
                                "--overwrite to replace it");
  }
  const bool has_checkpoint = fs::exists(checkpoint("last.ckpt"));
  if (resume_ && !has_run && !has_checkpoint) {
    throw std::invalid_argument("--resume: " + checkpoint("last.ckpt") + " does not exist");
  }
  from_checkpoint_ = resume_ && has_checkpoint;
}

std::string RunDir::file(const std::string& name) const { return (fs::path(out_) / name).string(); }

std::string RunDir::checkpoint(const std::string& name) const {
  return (fs::path(out_) / "checkpoints" / name).string();
}

void RunDir::prepare() const {
  const fs::path run(out_), ckpt_dir = run / "checkpoints";
  ensure_writable_dir(out_);
  ensure_writable_dir(ckpt_dir.string());
  remove_stale_temporaries(run);
  remove_stale_temporaries(ckpt_dir);
  if (overwrite_ && !resume_) {
    fs::remove(file("metrics.jsonl"));
    fs::remove(file("summary.json"));
    fs::remove(checkpoint("last.ckpt"));
    fs::remove(checkpoint("best.ckpt"));
  }
}

void RunDir::write_json(const std::string& name, const json& j) const {
  write_file_atomic(file(name), j.dump(2) + "\n");
}

void RunDir::append_metrics(const json& line) const {
  append_line_durable(file("metrics.jsonl"), line.dump());
}

void RunDir::truncate_metrics(int64_t epoch) const {
  const std::string path = file("metrics.jsonl");
  if (!fs::exists(path)) return;
  std::istringstream in(read_file(path));
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      if (json::parse(line).at("epoch").get<int64_t>() <= epoch) kept += line + "\n";
    } catch (const std::exception&) {
      // A torn last line from a crash mid-append: drop it.
    }
  }
  write_file_atomic(path, kept);
}

void RunDir::save_checkpoint(const std::string& which, const Checkpoint& c, int64_t epoch) {
  const std::string path = checkpoint(which);
  try {
    gnnrec::save_checkpoint(path, c);
    if (which == "last.ckpt") saved_epoch_ = epoch;
  } catch (const std::exception& e) {
    throw std::runtime_error("epoch " + std::to_string(epoch) + ": could not save checkpoint: " +
                             e.what() + " (the previous " + path + " is intact)");
  }
}

Checkpoint RunDir::load_last() {
  Checkpoint c = load_checkpoint(checkpoint("last.ckpt"));
  saved_epoch_ = c.meta.at("epoch");
  return c;
}

std::string RunDir::last_good() const {
  if (saved_epoch_ == 0) return "no checkpoint was written yet";
  return "the last good checkpoint is " + checkpoint("last.ckpt") + ", epoch " +
         std::to_string(saved_epoch_);
}

}  // namespace gnnrec
