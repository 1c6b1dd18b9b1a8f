#include "train/run_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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

namespace {

constexpr const char* kPrevious = "previous-run";

bool is_temporary(const std::string& name) {
  return name.find(".tmp.") != std::string::npos || name == ".plot-stderr.tmp" ||
         name.rfind(".write-test.", 0) == 0;
}

// "a, b, c and 4 more"
std::string listing(const std::vector<std::string>& names) {
  std::string s;
  const size_t shown = std::min<size_t>(names.size(), 5);
  for (size_t k = 0; k < shown; ++k) s += (k == 0 ? "" : ", ") + names[k];
  if (names.size() > shown) s += " and " + std::to_string(names.size() - shown) + " more";
  return s;
}

}  // namespace

const std::vector<std::string>& RunDir::run_entries() {
  // index/: the ANN index built from the run's checkpoints (train/run_index.h).
  static const std::vector<std::string> names{"config.json", "metrics.jsonl", "summary.json",
                                              "checkpoints", "curves.png",    "ctr_records.tsv",
                                              "index",       kPrevious};
  return names;
}

RunDir::RunDir(std::string out, bool resume, bool overwrite)
    : out_(std::move(out)), resume_(resume), overwrite_(overwrite) {
  if (out_.empty()) throw std::invalid_argument("--out is required: the run directory to write");
  if (resume_ && !fs::exists(file("config.json")) && !fs::exists(checkpoint("last.ckpt"))) {
    throw std::invalid_argument("--resume: " + checkpoint("last.ckpt") + " does not exist");
  }
  created_ = !fs::exists(out_);
  ensure_writable_dir(out_);
  try {
    lock_ = std::make_unique<DirLock>(out_);
    // Checked again under the lock: another process may have written
    // between the first look and the lock.
    const bool has_run = fs::exists(file("config.json"));
    const bool has_checkpoint = fs::exists(checkpoint("last.ckpt"));
    if (resume_ && !has_run && !has_checkpoint) {
      throw std::invalid_argument("--resume: " + checkpoint("last.ckpt") + " does not exist");
    }
    from_checkpoint_ = resume_ && has_checkpoint;
    if (!resume_) check_contents();
  } catch (...) {
    remove_if_unused();
    throw;
  }
}

RunDir::~RunDir() {
  if (!prepared_) remove_if_unused();
}

void RunDir::remove_if_unused() {
  // Only the lock's holder may: another process that found the directory
  // missing too (two fresh runs at once) and lost the race for the lock
  // must not remove the winner's directory.
  if (!created_ || lock_ == nullptr) return;
  std::error_code ec;
  fs::remove(file(DirLock::kFileName), ec);
  lock_.reset();
  fs::remove(out_, ec);  // only if empty: never more than was created here
}

void RunDir::check_contents() const {
  std::vector<std::string> ours, foreign;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(out_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == DirLock::kFileName || is_temporary(name)) continue;
    const auto& known = run_entries();
    (std::find(known.begin(), known.end(), name) != known.end() ? ours : foreign).push_back(name);
  }
  std::sort(ours.begin(), ours.end());
  std::sort(foreign.begin(), foreign.end());
  const bool has_run = fs::exists(file("config.json"));
  if (has_run && !overwrite_) {
    throw std::invalid_argument("--out " + out_ +
                                " already holds a run; pass --resume to continue it or "
                                "--overwrite to replace it");
  }
  if (!has_run && !foreign.empty()) {
    throw std::invalid_argument("--out " + out_ + " is not empty and holds no gnnrec run (it has " +
                                listing(foreign) + "); choose a new or empty directory");
  }
  if (!has_run && !ours.empty() && !overwrite_) {
    throw std::invalid_argument("--out " + out_ + " holds files of a gnnrec run (" + listing(ours) +
                                ") but no config.json; pass --overwrite to replace them");
  }
}

std::string RunDir::file(const std::string& name) const { return (fs::path(out_) / name).string(); }

std::string RunDir::checkpoint(const std::string& name) const {
  return (fs::path(out_) / "checkpoints" / name).string();
}

void RunDir::prepare(const json& config) {
  const fs::path run(out_), ckpt_dir = run / "checkpoints";
  remove_stale_temporaries(run);
  if (fs::exists(ckpt_dir)) remove_stale_temporaries(ckpt_dir);
  if (overwrite_ && !resume_) {
    const fs::path previous = run / kPrevious;
    const bool keep_previous = fs::exists(previous);
    if (!keep_previous) fs::create_directories(previous);
    for (const std::string& name : run_entries()) {
      const fs::path p = run / name;
      if (name == kPrevious || !fs::exists(fs::symlink_status(p))) continue;
      if (keep_previous) {
        fs::remove_all(p);
      } else {
        fs::rename(p, previous / name);
      }
    }
    // The moves must be on disk before anything new is written over them.
    sync_directory(out_);
  }
  prepared_ = true;
  // config.json first: a run killed from here on is one --resume continues
  // (checkpoints/ without config.json would look like a foreign run's files).
  write_json("config.json", config);
  ensure_writable_dir(ckpt_dir.string());
}

void RunDir::finish() {
  std::error_code ec;
  fs::remove_all(fs::path(out_) / kPrevious, ec);
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
    const bool had_one = which == "last.ckpt" ? saved_epoch_ > 0 : fs::exists(path);
    throw std::runtime_error("epoch " + std::to_string(epoch) +
                             ": could not save checkpoint: " + e.what() +
                             (had_one ? " (the previous " + path + " is intact)"
                                      : " (no earlier " + which + " was written)"));
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
