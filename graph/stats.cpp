#include "graph/stats.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace gnnrec {
namespace {

DegreeStats degree_stats(std::vector<int64_t> d) {
  DegreeStats s{};
  if (d.empty()) return s;
  std::sort(d.begin(), d.end());
  auto pct = [&](double p) {
    const double pos = p / 100.0 * static_cast<double>(d.size() - 1);
    const auto lo = static_cast<size_t>(pos);
    const size_t hi = std::min(lo + 1, d.size() - 1);
    const double frac = pos - static_cast<double>(lo);
    return static_cast<double>(d[lo]) + frac * static_cast<double>(d[hi] - d[lo]);
  };
  double sum = 0;
  for (int64_t v : d) sum += static_cast<double>(v);
  s.min = static_cast<double>(d.front());
  s.p25 = pct(25);
  s.p50 = pct(50);
  s.p75 = pct(75);
  s.p90 = pct(90);
  s.p99 = pct(99);
  s.max = static_cast<double>(d.back());
  s.mean = sum / static_cast<double>(d.size());
  return s;
}

// "1,027,370": large counts are read far more easily with separators.
std::string grouped(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v);
  std::string out;
  for (size_t k = 0; k < digits.size(); ++k) {
    if (k > 0 && (digits.size() - k) % 3 == 0) out.push_back(',');
    out.push_back(digits[k]);
  }
  return v < 0 ? "-" + out : out;
}

std::string degree_row(const char* label, const DegreeStats& d) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-12s %8.0f %8.1f %8.1f %8.1f %8.1f %8.1f %8.0f %9.2f\n", label,
                d.min, d.p25, d.p50, d.p75, d.p90, d.p99, d.max, d.mean);
  return buf;
}

}  // namespace

DatasetStats compute_stats(const Dataset& ds) {
  DatasetStats s{};
  s.format = ds.format;
  s.users = ds.num_users();
  s.items = ds.num_items();
  s.train = static_cast<int64_t>(ds.train.size());
  s.test = static_cast<int64_t>(ds.test.size());
  s.interactions = s.train + s.test;
  s.density = (s.users > 0 && s.items > 0)
                  ? static_cast<double>(s.interactions) /
                        (static_cast<double>(s.users) * static_cast<double>(s.items))
                  : 0.0;
  std::vector<int64_t> du(static_cast<size_t>(s.users), 0), di(static_cast<size_t>(s.items), 0);
  for (const Interactions* x : {&ds.train, &ds.test}) {
    for (int32_t u : x->user) ++du[static_cast<size_t>(u)];
    for (int32_t i : x->item) ++di[static_cast<size_t>(i)];
  }
  s.user_degree = degree_stats(std::move(du));
  s.item_degree = degree_stats(std::move(di));
  s.has_rating = ds.train.has_rating() || ds.test.has_rating();
  s.has_timestamp = ds.train.has_timestamp() || ds.test.has_timestamp();
  return s;
}

std::string format_stats(const DatasetStats& s, const std::string& name) {
  char density[64];
  std::snprintf(density, sizeof density, "%.4f %%", 100.0 * s.density);
  std::string out;
  out += "data set      " + name + "\n";
  if (!s.format.empty()) out += "format        " + s.format + "\n";
  out += "users         " + grouped(s.users) + "\n";
  out += "items         " + grouped(s.items) + "\n";
  out += "interactions  " + grouped(s.interactions) + " (train " + grouped(s.train) + ", test " +
         grouped(s.test) + ")\n";
  out += "density       " + std::string(density) + "\n";
  out += std::string("ratings       ") + (s.has_rating ? "yes" : "no") + "\n";
  out += std::string("timestamps    ") + (s.has_timestamp ? "yes" : "no") + "\n";
  out += "degree            min      p25      p50      p75      p90      p99      max      mean\n";
  out += degree_row("user", s.user_degree);
  out += degree_row("item", s.item_degree);
  return out;
}

}  // namespace gnnrec
