#include "train/fault_injection.h"

#include <csignal>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "base/file_io.h"

namespace gnnrec::fault {
namespace {

struct Spec {
  std::string action, point;
  int64_t epoch = -1;
  bool fired = false;
};
Spec spec;
int64_t current_epoch = 0;

// The action if it fires now (once), else empty.
std::string_view fire(std::string_view point) {
  if (spec.fired || spec.epoch != current_epoch || point != spec.point) return {};
  spec.fired = true;
  if (spec.action == "kill") std::raise(SIGKILL);
  if (spec.action == "stop") std::raise(SIGSTOP);
  return spec.action;
}

int write_hook(const std::string& path) {
  const std::string_view action = fire(std::filesystem::path(path).filename().string());
  if (action == "enospc") return ENOSPC;
  if (action == "eacces") return EACCES;
  return 0;
}

}  // namespace

void install_from_env() {
  spec = Spec{};  // a previous run in this process may have armed (or fired) one
  const char* env = std::getenv("GNNREC_TEST_FAULT");
  if (env == nullptr || *env == '\0') return;
  const std::string s = env;
  const size_t at = s.find('@'), colon = s.rfind(':');
  const auto bad = [&] {
    return std::invalid_argument("GNNREC_TEST_FAULT='" + s +
                                 "': expected ACTION@POINT:EPOCH (train/fault_injection.h)");
  };
  if (at == std::string::npos || colon == std::string::npos || colon < at) throw bad();
  spec.action = s.substr(0, at);
  spec.point = s.substr(at + 1, colon - at - 1);
  try {
    spec.epoch = std::stoll(s.substr(colon + 1));
  } catch (const std::exception&) {
    throw bad();
  }
  if (spec.action != "kill" && spec.action != "stop" && spec.action != "enospc" &&
      spec.action != "eacces" && spec.action != "nan" && spec.action != "skew") {
    throw bad();
  }
  if (spec.point != "batch" && spec.point != "eval") set_write_hook(write_hook);
}

void set_epoch(int64_t epoch) { current_epoch = epoch; }

std::string_view reached(std::string_view point) {
  const std::string_view action = fire(point);
  return action == "nan" || action == "skew" ? action : std::string_view();
}

}  // namespace gnnrec::fault
