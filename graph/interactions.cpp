#include "graph/interactions.h"

#include <algorithm>
#include <charconv>
#include <numeric>

namespace gnnrec {

int32_t IdMap::intern(const std::string& raw) {
  auto it = index_.find(raw);
  if (it != index_.end()) return it->second;
  if (raw_.size() >= static_cast<size_t>(INT32_MAX)) {
    throw DataError("id map: more than 2147483647 distinct ids");
  }
  const auto id = static_cast<int32_t>(raw_.size());
  raw_.push_back(raw);
  index_.emplace(raw, id);
  return id;
}

int32_t IdMap::find(const std::string& raw) const {
  auto it = index_.find(raw);
  return it == index_.end() ? -1 : it->second;
}

int32_t IdMap::find_integer(const std::string& raw) const {
  const char* begin = raw.data();
  const char* end = begin + raw.size();
  if (begin != end && *begin == '+') {  // from_chars takes '-' only
    ++begin;
    if (begin != end && *begin == '-') return -1;  // "+-7"
  }
  int64_t value = 0;
  auto [p, ec] = std::from_chars(begin, end, value);
  if (begin == end || ec != std::errc() || p != end) return -1;
  const std::string decimal = std::to_string(value);
  return decimal == raw ? -1 : find(decimal);
}

std::vector<int32_t> IdMap::canonicalize() {
  const size_t n = raw_.size();
  // Numeric order only if every id is an integer in full ("12", "-3"); one
  // id such as "12a" or "" makes the whole map lexicographic, because mixing
  // the two orders would not be a total order that users can predict.
  std::vector<int64_t> value(n);
  bool numeric = true;
  for (size_t i = 0; i < n && numeric; ++i) {
    const std::string& s = raw_[i];
    const char* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, value[i]);
    numeric = !s.empty() && ec == std::errc() && p == end;
  }

  std::vector<int32_t> order(n);  // new -> old
  std::iota(order.begin(), order.end(), 0);
  if (numeric) {
    // Ties ("7" and "007") broken by the string so the order stays total.
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
      if (value[a] != value[b]) return value[a] < value[b];
      return raw_[a] < raw_[b];
    });
  } else {
    std::sort(order.begin(), order.end(),
              [&](int32_t a, int32_t b) { return raw_[a] < raw_[b]; });
  }

  std::vector<int32_t> old_to_new(n);
  bool identity = true;
  for (size_t k = 0; k < n; ++k) {
    old_to_new[order[k]] = static_cast<int32_t>(k);
    identity = identity && order[k] == static_cast<int32_t>(k);
  }
  if (identity) return old_to_new;  // common case (dense files): skip rehashing

  std::vector<std::string> sorted(n);
  for (size_t k = 0; k < n; ++k) sorted[k] = std::move(raw_[order[k]]);
  raw_ = std::move(sorted);
  index_.clear();
  index_.reserve(n);
  for (size_t k = 0; k < n; ++k) index_.emplace(raw_[k], static_cast<int32_t>(k));
  return old_to_new;
}

void Interactions::reserve(size_t n) {
  user.reserve(n);
  item.reserve(n);
  if (has_rating()) rating.reserve(n);
  if (has_timestamp()) timestamp.reserve(n);
}

void Interactions::push_from(const Interactions& other, size_t i) {
  // An empty destination adopts the source's optional columns (an empty
  // column is indistinguishable from an absent one).
  const bool want_rating = other.has_rating();
  const bool want_ts = other.has_timestamp();
  if (!empty() && (want_rating != has_rating() || want_ts != has_timestamp())) {
    throw DataError("interactions: cannot append a row with different optional columns");
  }
  user.push_back(other.user[i]);
  item.push_back(other.item[i]);
  if (want_rating) rating.push_back(other.rating[i]);
  if (want_ts) timestamp.push_back(other.timestamp[i]);
}

Interactions Interactions::select(const std::vector<bool>& mask) const {
  if (mask.size() != size()) {
    throw DataError("interactions: select mask has " + std::to_string(mask.size()) +
                    " entries for " + std::to_string(size()) + " rows");
  }
  const size_t kept = static_cast<size_t>(std::count(mask.begin(), mask.end(), true));
  Interactions out;
  out.user.reserve(kept);
  out.item.reserve(kept);
  if (has_rating()) out.rating.reserve(kept);
  if (has_timestamp()) out.timestamp.reserve(kept);
  for (size_t i = 0; i < size(); ++i) {
    if (!mask[i]) continue;
    out.user.push_back(user[i]);
    out.item.push_back(item[i]);
    if (has_rating()) out.rating.push_back(rating[i]);
    if (has_timestamp()) out.timestamp.push_back(timestamp[i]);
  }
  return out;
}

}  // namespace gnnrec
