// Approximate maximum-inner-product search over item vectors with an HNSW
// graph (hnswlib, header-only; Debian's libhnswlib-dev), in one of two
// spaces:
//   kInnerProduct (the default): hnswlib's InnerProductSpace, whose
//     "distance" is 1 − q·x, so the nearest item is the one of largest inner
//     product. It is not a metric, and the graph is built with it as is
//     (the "ip-NSW" of Morozov & Babenko, NeurIPS 2018): items of large norm
//     become hubs that the search reaches early, which is what maximum
//     inner product needs.
//   kL2Augmented: the reduction to nearest neighbours in L2 (Bachrach et
//     al., RecSys 2014): with M the largest item norm, item x becomes
//     [x, sqrt(M² − ‖x‖²)] and a query q becomes [q, 0], so that
//     ‖q' − x'‖² = ‖q‖² + M² − 2 q·x and the nearest augmented item is the
//     one of largest inner product, in a true metric space (L2Space). Exact
//     as a reduction, but every item then lies on one sphere of radius M and
//     the graph links items of similar norm rather than of similar
//     direction: on bench/ann_bench.cpp's synthetic catalogue of 20,000
//     items, d 64, its recall@20 is 0.61 at ef 50 and 0.90 at ef 400,
//     against 0.98 and 1.00 in kInnerProduct. On trained factors (Gowalla
//     LightGCN) it is the other way round, by less: 0.96 and 0.99 against
//     0.95 and 0.96 (docs/benchmarks.md). Kept for that comparison.
// Both rank by the inner product exactly at the end: the caller rescores
// the candidates (train/recommend.h).
//
// Thread-safety: search() may be called from any number of threads at once
// (hnswlib's searchKnn is); build, load and set_ef are not concurrent with
// anything.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace gnnrec {

enum class AnnSpace { kInnerProduct, kL2Augmented };

// "ip" or "l2-augmented".
const char* name_of(AnnSpace space);

struct AnnParams {
  AnnSpace space = AnnSpace::kInnerProduct;
  int64_t m = 16;                 // graph degree (hnswlib's M)
  int64_t ef_construction = 100;  // candidate list while building
  int64_t ef_search = 100;        // candidate list while searching (at least k)
  uint64_t seed = 100;            // hnswlib's level generator
};

class AnnIndex {
 public:
  ~AnnIndex();
  AnnIndex(const AnnIndex&) = delete;
  AnnIndex& operator=(const AnnIndex&) = delete;

  // An index over the rows of `items` (float32 [I, d], CPU), labelled by row.
  // Built with `threads` threads (hnswlib's addPoint is thread-safe; the
  // graph then depends on the insertion order, so only threads = 1 is
  // reproducible). std::invalid_argument for an empty or non-finite matrix.
  static std::unique_ptr<AnnIndex> build(const at::Tensor& items, const AnnParams& params,
                                         int threads = 1);
  // Writes the graph to `path` (not atomically: see train/run_index.h).
  void save(const std::string& path) const;
  // Reads an index written by save() for `dim`-wide items whose largest norm
  // was `max_norm`. std::runtime_error when the file is not such an index.
  static std::unique_ptr<AnnIndex> load(const std::string& path, int64_t dim, double max_norm,
                                        const AnnParams& params);

  // Up to k row labels, approximately those of largest q · items[row]
  // (q: `dim` floats), nearest first.
  std::vector<int32_t> search(const float* q, int64_t k) const;
  void set_ef(int64_t ef);

  int64_t dim() const { return dim_; }
  int64_t size() const;
  double max_norm() const { return max_norm_; }
  const AnnParams& params() const { return params_; }

 private:
  struct Impl;
  AnnIndex(int64_t dim, double max_norm, const AnnParams& params);
  int64_t dim_;
  double max_norm_;
  AnnParams params_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gnnrec
