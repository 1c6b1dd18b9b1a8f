// Timing and machine-description helpers shared by the C++ benchmarks.
#pragma once

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

namespace gnnrec::bench {

// A device name as a file-name tag: "NVIDIA H100 80GB HBM3" ->
// "nvidia_h100_80gb_hbm3" ("cuda" if nothing is left).
inline std::string file_tag(const std::string& name) {
  std::string out;
  for (const char ch : name) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "cuda" : out;
}

// Median wall time of f in milliseconds over `repeats` runs, after two
// warm-up runs.
template <typename F>
double median_ms(F&& f, int repeats) {
  for (int i = 0; i < 2; ++i) f();
  std::vector<double> t;
  for (int i = 0; i < repeats; ++i) {
    const auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// The CPU's model name from /proc/cpuinfo.
inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

}  // namespace gnnrec::bench
