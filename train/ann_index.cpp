// The one translation unit that includes hnswlib: its hnswlib.h defines
// functions outside any class (cpuid, AVXCapable), which a second file
// including it would define again.
#include "train/ann_index.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <thread>

#include <ATen/ATen.h>
// hnswlib's prefetches read the link after a list's last one
// (hnswalg.h, searchBaseLayer: *(datal + j + 1); nmslib/hnswlib#578, #107):
// inside malloc's rounding of the block, so harmless, but a heap-buffer-
// overflow to ASan. The ASan build does without hnswlib's SIMD.
#if defined(__SANITIZE_ADDRESS__)
#define NO_MANUAL_VECTORIZATION
#endif
#include <hnswlib/hnswlib.h>

namespace gnnrec {

const char* name_of(AnnSpace space) {
  return space == AnnSpace::kInnerProduct ? "ip" : "l2-augmented";
}

// Vectors are stored with d + 1 floats in both spaces: the augmented
// coordinate, or 0 (which leaves every inner product as it is).
struct AnnIndex::Impl {
  explicit Impl(int64_t dim, AnnSpace kind) {
    const auto width = static_cast<size_t>(dim) + 1;
    if (kind == AnnSpace::kInnerProduct)
      space = std::make_unique<hnswlib::InnerProductSpace>(width);
    else space = std::make_unique<hnswlib::L2Space>(width);
  }
  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
};

AnnIndex::AnnIndex(int64_t dim, double max_norm, const AnnParams& params)
    : dim_(dim), max_norm_(max_norm), params_(params),
      impl_(std::make_unique<Impl>(dim, params.space)) {}

AnnIndex::~AnnIndex() = default;

std::unique_ptr<AnnIndex> AnnIndex::build(const at::Tensor& items_in, const AnnParams& params,
                                          int threads) {
  const at::Tensor items = items_in.to(at::kCPU, at::kFloat).contiguous();
  if (items.dim() != 2 || items.size(0) == 0 || items.size(1) == 0) {
    throw std::invalid_argument("ann index: expected a non-empty [items, d] matrix, got " +
                                c10::str(items.sizes()));
  }
  if (!at::isfinite(items).all().item<bool>()) {
    throw std::invalid_argument("ann index: the item vectors hold NaN or Inf values");
  }
  const int64_t n = items.size(0), d = items.size(1);
  const at::Tensor norms = items.to(at::kDouble).norm(2, 1);
  const double max_norm = norms.max().item<double>();
  std::unique_ptr<AnnIndex> index(new AnnIndex(d, max_norm, params));
  index->impl_->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
      index->impl_->space.get(), static_cast<size_t>(n), static_cast<size_t>(params.m),
      static_cast<size_t>(params.ef_construction), static_cast<size_t>(params.seed));
  const float* x = items.data_ptr<float>();
  const double* norm = norms.data_ptr<double>();
  auto insert = [&](int64_t begin, int64_t step) {
    std::vector<float> row(static_cast<size_t>(d) + 1);
    for (int64_t i = begin; i < n; i += step) {
      std::copy(x + i * d, x + (i + 1) * d, row.begin());
      const double rest = max_norm * max_norm - norm[i] * norm[i];
      row[static_cast<size_t>(d)] = params.space == AnnSpace::kInnerProduct
                                        ? 0.0F
                                        : static_cast<float>(std::sqrt(std::max(rest, 0.0)));
      index->impl_->graph->addPoint(row.data(), static_cast<hnswlib::labeltype>(i));
    }
  };
  if (threads <= 1) {
    insert(0, 1);
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(insert, t, threads);
    for (std::thread& t : pool) t.join();
  }
  index->set_ef(params.ef_search);
  return index;
}

void AnnIndex::save(const std::string& path) const { impl_->graph->saveIndex(path); }

std::unique_ptr<AnnIndex> AnnIndex::load(const std::string& path, int64_t dim, double max_norm,
                                         const AnnParams& params) {
  std::unique_ptr<AnnIndex> index(new AnnIndex(dim, max_norm, params));
  try {
    index->impl_->graph =
        std::make_unique<hnswlib::HierarchicalNSW<float>>(index->impl_->space.get(), path);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not a readable HNSW index (" + e.what() + ")");
  }
  index->set_ef(params.ef_search);
  return index;
}

std::vector<int32_t> AnnIndex::search(const float* q, int64_t k) const {
  std::vector<float> query(q, q + dim_);
  query.push_back(0.0F);
  auto found = impl_->graph->searchKnn(query.data(), static_cast<size_t>(std::max<int64_t>(k, 0)));
  std::vector<int32_t> out(found.size());
  // The queue pops the farthest first.
  for (size_t j = out.size(); j-- > 0; found.pop())
    out[j] = static_cast<int32_t>(found.top().second);
  return out;
}

void AnnIndex::set_ef(int64_t ef) {
  params_.ef_search = ef;
  impl_->graph->setEf(static_cast<size_t>(ef));
}

int64_t AnnIndex::size() const { return static_cast<int64_t>(impl_->graph->cur_element_count); }

}  // namespace gnnrec
