// Interaction lists and raw-id maps: the torch-free representation that
// loaders produce and splits, filters and the graph builder consume.
//
// Contract: ids inside an Interactions are dense (0 .. n-1) and index into the
// IdMap of the Dataset that owns them. Optional columns (rating, timestamp)
// are either empty or exactly as long as `user`.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/data_error.h"

namespace gnnrec {

// Bidirectional map between raw ids (as written in the input) and dense ids.
class IdMap {
 public:
  // Returns the dense id of `raw`, adding it if it is new.
  int32_t intern(const std::string& raw);
  // Returns the dense id of `raw`, or -1 if it was never interned.
  int32_t find(const std::string& raw) const;
  // When `raw` is an integer written another way than its decimal form
  // ("007", "+7"), the dense id of that decimal form ("7"); else -1. The
  // loaders that parse integer ids store that form, so "007" in their
  // files and "7" are the same id.
  int32_t find_integer(const std::string& raw) const;
  const std::string& raw(int32_t dense) const { return raw_.at(static_cast<size_t>(dense)); }
  int64_t size() const { return static_cast<int64_t>(raw_.size()); }
  const std::vector<std::string>& raw_ids() const { return raw_; }

  // Renumbers so that dense ids follow the raw ids' order: numeric order when
  // every raw id is an integer, lexicographic otherwise. Returns old->new.
  // Makes dense ids independent of file order (and equal to raw ids for
  // files whose ids are already 0..n-1, as in the LightGCN splits).
  std::vector<int32_t> canonicalize();

 private:
  std::vector<std::string> raw_;
  std::unordered_map<std::string, int32_t> index_;
};

struct Interactions {
  std::vector<int32_t> user;
  std::vector<int32_t> item;
  std::vector<float> rating;        // empty when the source has none
  std::vector<int64_t> timestamp;   // empty when the source has none

  size_t size() const { return user.size(); }
  bool empty() const { return user.empty(); }
  bool has_rating() const { return !rating.empty(); }
  bool has_timestamp() const { return !timestamp.empty(); }
  void reserve(size_t n);
  // Appends row i of `other` (same optional columns required).
  void push_from(const Interactions& other, size_t i);
  // Keeps the rows whose mask entry is true, in order.
  Interactions select(const std::vector<bool>& mask) const;
};

// A loaded data set: raw-id maps and interactions, optionally already split.
struct Dataset {
  std::string name;            // e.g. "gowalla", "synthetic"
  std::string format;          // detect_format's name ("lightgcn", "recbole", ...) or "synthetic"
  IdMap users;
  IdMap items;
  Interactions train;          // all interactions when `test` is empty
  Interactions test;           // empty until split, unless the format ships a split

  int64_t num_users() const { return users.size(); }
  int64_t num_items() const { return items.size(); }
  bool is_split() const { return !test.empty(); }
};

}  // namespace gnnrec
