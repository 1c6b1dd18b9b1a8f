#include "train/progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace gnnrec {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Progress::Progress(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1) {}

void Progress::batch(int64_t epoch, int64_t epochs, int64_t done, int64_t total, double loss) {
  if (quiet_ || !tty_) return;
  constexpr int kWidth = 30;
  const int filled = total > 0 ? static_cast<int>(kWidth * done / total) : kWidth;
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\repoch %lld/%lld [%s] %lld/%lld loss %.4f", static_cast<long long>(epoch),
               static_cast<long long>(epochs), bar.c_str(), static_cast<long long>(done),
               static_cast<long long>(total), loss);
  std::fflush(stderr);
  bar_open_ = true;
}

void Progress::epoch_done(int64_t epoch, int64_t epochs, double loss, double seconds) {
  if (quiet_) return;
  if (bar_open_) std::fprintf(stderr, "\r\033[K");
  bar_open_ = false;
  std::fprintf(stderr, "epoch %lld/%lld loss %.5f (%.2f s)\n", static_cast<long long>(epoch),
               static_cast<long long>(epochs), loss, seconds);
}

void Progress::line(const std::string& text) {
  if (quiet_) return;
  if (bar_open_) std::fprintf(stderr, "\r\033[K");
  bar_open_ = false;
  std::fprintf(stderr, "%s\n", text.c_str());
}

void Progress::warning(const std::string& text) {
  if (bar_open_) std::fprintf(stderr, "\r\033[K");
  bar_open_ = false;
  std::fprintf(stderr, "gnnrec: warning: %s\n", text.c_str());
}

}  // namespace gnnrec
