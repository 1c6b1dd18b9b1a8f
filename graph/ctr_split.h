// The click-through-rate (CTR) protocol of KGCN (Wang et al., WWW 2019) and
// RippleNet: labelled (user, item, label) records instead of a train/test
// split of interactions, evaluated by AUC and accuracy.
//
// From a list of implicit positives (one per distinct (user, item) pair):
//   1. every positive is a record with label 1;
//   2. each user gets as many negatives (label 0) as it has positives, drawn
//      uniformly without replacement from the items it never interacted
//      with (fewer when it interacted with more than half of the catalogue:
//      then every such item); records are laid out per user in user order,
//      positives in list order then negatives in draw order (KGCN's
//      preprocess.py);
//   3. the records are split at random, as KGCN's data_loader.py:
//      floor(n · eval_ratio) go to eval, floor(n · test_ratio) of the rest
//      to test, the remaining ones to train; each part keeps the records'
//      relative order.
// Deterministic in (positives, num_items, seed): SplitMix64, no std::
// distributions. Torch-free.
#pragma once

#include <cstdint>
#include <vector>

#include "graph/interactions.h"

namespace gnnrec {

// Aligned columns: record k is (user[k], item[k]) with label[k] (1: the user
// interacted with the item, 0: a sampled negative). Dense ids.
struct CtrRecords {
  std::vector<int32_t> user;
  std::vector<int32_t> item;
  std::vector<uint8_t> label;

  size_t size() const { return user.size(); }
  bool empty() const { return user.empty(); }
  int64_t positives() const;
};

struct CtrSplit {
  CtrRecords train, eval, test;
};

// KGCN's records and 6:2:2 split (eval_ratio = test_ratio = 0.2 by default)
// over `positives` (dense ids < num_users / num_items; duplicates must have
// been removed: graph/splits.h dedupe). Throws DataError when there are no
// positives, an id is out of range, or the ratios are not in [0, 1) with
// eval_ratio + test_ratio < 1.
CtrSplit make_ctr_split(const Interactions& positives, int64_t num_users, int64_t num_items,
                        uint64_t seed, double eval_ratio = 0.2, double test_ratio = 0.2);

// The label-1 records of `records` as interactions (no ratings/timestamps),
// in record order: the interaction graph a model may propagate over.
Interactions ctr_positives(const CtrRecords& records);

}  // namespace gnnrec
