// Progress output: a redrawn bar on a terminal, plain log lines otherwise
// (files, pipes, CI logs).
#pragma once

#include <cstdint>
#include <string>

namespace gnnrec {

// Seconds on the steady clock (for durations).
double now_seconds();

class Progress {
 public:
  explicit Progress(bool quiet);
  void batch(int64_t epoch, int64_t epochs, int64_t done, int64_t total, double loss);
  void epoch_done(int64_t epoch, int64_t epochs, double loss, double seconds);
  void line(const std::string& text);
  // "gnnrec: warning: TEXT" on stderr, shown even when quiet.
  void warning(const std::string& text);
  // batch() draws something (not quiet, stderr a terminal): callers can
  // skip the work of computing what it would show.
  bool shows_bar() const { return !quiet_ && tty_; }

 private:
  bool quiet_;
  bool tty_;
  bool bar_open_ = false;
};

}  // namespace gnnrec
