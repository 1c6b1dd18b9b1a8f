#include "train/epoch.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>

#include <ATen/ATen.h>

#include "base/nvtx.h"
#include "base/random.h"
#include "train/fault_injection.h"
#include "train/train_state.h"

namespace gnnrec {
namespace {

// The progress bar, when shown, reads the batch losses at most this often.
constexpr double kRedrawSeconds = 0.5;

// The losses of an epoch's batches, kept on the device until read; read()
// adds them to sum() in batch order (the sum that per-batch reads give),
// stopping at a non-finite one.
class LossReader {
 public:
  LossReader(int64_t epoch, int64_t batches, const std::function<std::string()>& last_good)
      : epoch_(epoch), last_good_(last_good) {
    losses_.reserve(static_cast<size_t>(batches));
  }
  void add(const at::Tensor& loss) { losses_.push_back(loss.detach()); }
  // Reads the losses of batches [read, upto).
  void read(int64_t upto) {
    if (upto <= read_) return;
    const at::Tensor host =
        at::stack(at::TensorList(losses_).slice(read_, upto - read_)).cpu().to(at::kDouble);
    const double* v = host.data_ptr<double>();
    for (int64_t b = read_; b < upto; ++b) {
      const double lv = v[b - read_];
      if (!std::isfinite(lv)) {
        throw std::runtime_error("epoch " + std::to_string(epoch_) + " batch " +
                                 std::to_string(b + 1) + ": loss is " + std::to_string(lv) +
                                 "; stopping (" + last_good_() + ")");
      }
      sum_ += lv;
    }
    read_ = upto;
  }
  double sum() const { return sum_; }

 private:
  int64_t epoch_;
  const std::function<std::string()>& last_good_;
  std::vector<at::Tensor> losses_;
  int64_t read_ = 0;
  double sum_ = 0;
};

}  // namespace

TrainingPairs::TrainingPairs(const TrainConfig& cfg, const PreparedData& data, at::Device device)
    : size(cfg.ctr() ? static_cast<int64_t>(data.ctr->train.size()) : data.train->num_edges()) {
  user = at::empty({size}, at::kLong);
  item = at::empty({size}, at::kLong);
  if (cfg.ctr()) {
    const CtrRecords& r = data.ctr->train;
    user = at::tensor(r.user, at::kInt).to(at::kLong);
    item = at::tensor(r.item, at::kInt).to(at::kLong);
    target = at::tensor(std::vector<float>(r.label.begin(), r.label.end()), at::kFloat).to(device);
  } else {
    int64_t* eu = user.data_ptr<int64_t>();
    int64_t* ei = item.data_ptr<int64_t>();
    for (int64_t u = 0, e = 0; u < data.train->num_users(); ++u) {
      for (; e < data.train->user_offsets()[u + 1]; ++e) {
        eu[e] = u;
        ei[e] = data.train->user_items()[e];
      }
    }
  }
  user = user.to(device);
  item = item.to(device);
  if (cfg.rating_mode()) target = at::tensor(data.train->rating(), at::kFloat).to(device);
}

EpochLoop::EpochLoop(const TrainConfig& cfg, const PreparedData& data, Model& model,
                     const std::vector<NamedTensor>& params, Adam& adam, Progress& progress,
                     at::Device device, Distributed* dist, ShardedEmbeddings* sharded)
    : cfg_(cfg), model_(model), params_(params), trainable_(trainable_tensors(params)), adam_(adam),
      progress_(progress), objective_(cfg, model), pairs_(cfg, data, device), train_(*data.train),
      read_every_batch_(device.is_cpu()), dist_(dist), sharded_(sharded) {
  // Negatives are drawn where the model trains, from the training graph's
  // CSR, copied there once (the draws are equal on every device).
  if (objective_.negatives() > 0) sampler_.emplace(*data.train, device);
}

double EpochLoop::run(int64_t epoch, const std::function<std::string()>& last_good) {
  phases_ = PhaseTimes{};
  if (model_.own_batches()) return own_epoch(epoch, last_good);
  const double t0 = now_seconds();
  const Batch all = draw(epoch);
  phases_.sample = now_seconds() - t0;
  model_.set_training(true);
  const int64_t batches = (pairs_.size + cfg_.batch_size.value() - 1) / cfg_.batch_size.value();
  if (sharded_) sharded_->release();
  const double loss_sum = train_batches(epoch, all, last_good);
  if (sharded_) sharded_->gather();
  extra_phase(epoch, last_good);
  check_parameters(epoch, batches, last_good);
  return loss_sum / static_cast<double>(std::max<int64_t>(batches, 1));
}

Batch EpochLoop::draw(int64_t epoch) const {
  const int64_t m = pairs_.size;
  SplitMix64 rng(cfg_.seed, 0x5eed0000ULL + static_cast<uint64_t>(epoch));
  // Positions in TrainingPairs (CSR order; record order under ctr).
  std::vector<int64_t> order =
      cfg_.ctr() ? shuffled_pairs(m, rng) : draw_epoch_pairs(train_, cfg_.sampling, rng);
  NvtxRange phase("gnnrec::train::sample");  // Nsight ranges (GNNREC_NVTX=1)
  // The permutation goes to the device once; the epoch's pairs are
  // gathered there (on the CPU, `order` is only viewed, not copied).
  const at::Tensor order_dev = at::from_blob(order.data(), {m}, at::kLong).to(pairs_.user.device());
  Batch all;
  all.users = pairs_.user.index_select(0, order_dev);
  all.positives = pairs_.item.index_select(0, order_dev);
  if (pairs_.target.defined()) all.targets = pairs_.target.index_select(0, order_dev);
  // Row j holds pair j's negatives ([m, negatives]).
  const int64_t k = objective_.negatives();
  if (k > 0) all.negatives = (*sampler_)(all.users, k, rng.next());
  // Dropout draws from Torch's global generator: seeding it per epoch makes
  // a resumed run draw the same masks as an uninterrupted one.
  at::manual_seed(SplitMix64(cfg_.seed, 0xd0d00000ULL + static_cast<uint64_t>(epoch)).next());
  return all;
}

double EpochLoop::train_batches(int64_t epoch, const Batch& all,
                                const std::function<std::string()>& last_good) {
  const int64_t m = pairs_.size;
  const int64_t batches = (m + cfg_.batch_size.value() - 1) / cfg_.batch_size.value();
  LossReader losses(epoch, batches, last_good);
  double last_redraw = now_seconds();
  std::optional<NvtxRange> phase;
  // Sums over the ranks (data-parallel), or over the owners of the rows
  // (sharded, one rank included), come after the backward pass.
  const bool reduced = dist_ || sharded_;
  for (int64_t b = 0; b < batches; ++b) {
    phase.emplace("gnnrec::train::forward");
    const int64_t start = b * cfg_.batch_size.value(),
                  len = std::min(cfg_.batch_size.value(), m - start);
    const std::string where = "epoch " + std::to_string(epoch) + ", batch " + std::to_string(b + 1);
    const double t_forward = now_seconds();
    const double halo_start = sharded_ ? sharded_->halo_seconds() : 0;
    at::Tensor loss = sharded_ ? sharded_->local_loss(objective_, all, start, len, where)
                               : local_loss(all, start, len);
    // Test-only: GNNREC_TEST_FAULT=nan@batch:EPOCH, skew@batch:EPOCH.
    const std::string_view fault =
        b == std::min<int64_t>(1, batches - 1) ? fault::reached("batch") : std::string_view();
    if (fault == "nan") loss = loss * std::nan("");
    // One process reads its loss before the backward pass; a distributed
    // rank reads the sum over the ranks, after the all-reduce.
    if (!reduced) losses.add(loss);
    if (!reduced && read_every_batch_) losses.read(b + 1);
    phase.emplace("gnnrec::train::backward");
    const double t_backward = now_seconds();
    const double halo_forward = sharded_ ? sharded_->halo_seconds() - halo_start : 0;
    if (loss.requires_grad()) loss.backward();
    const double t_reduce = now_seconds();
    if (reduced) {
      phase.emplace("gnnrec::train::allreduce");
      loss = sharded_ ? sharded_->return_gradients(loss, where)
                      : dist_->sum_gradients(trainable_, loss, where);
      losses.add(loss);
      if (read_every_batch_) losses.read(b + 1);
    }
    phase.emplace("gnnrec::train::step");
    const double t_step = now_seconds();
    const double halo = sharded_ ? sharded_->halo_seconds() - halo_start : 0;
    if (sharded_) {
      sharded_->step();
    } else {
      adam_.step();
    }
    if (fault == "skew") {
      // The last parameter: a sharded run's tables are empty here.
      at::NoGradGuard no_grad;
      trainable_.back().view({-1}).narrow(0, 0, 1).add_(1e-3);
    }
    phase.reset();
    const double t_end = now_seconds();
    phases_.forward += t_backward - t_forward - halo_forward;
    phases_.backward += t_reduce - t_backward;
    phases_.allreduce += t_step - t_reduce - (halo - halo_forward);
    phases_.halo += halo;
    phases_.step += t_end - t_step;
    if (progress_.shows_bar()) {
      const double now = now_seconds();
      if (read_every_batch_ || now - last_redraw >= kRedrawSeconds || b + 1 == batches) {
        losses.read(b + 1);
        last_redraw = now;
        progress_.batch(epoch, cfg_.epochs, b + 1, batches,
                        losses.sum() / static_cast<double>(b + 1));
      }
    }
  }
  losses.read(batches);  // on a GPU, waits for the epoch's last update
  return losses.sum();
}

double EpochLoop::own_epoch(int64_t epoch, const std::function<std::string()>& last_good) {
  model_.set_training(true);
  // Dropout, if the model has any, draws from Torch's global generator.
  at::manual_seed(SplitMix64(cfg_.seed, 0xd0d00000ULL + static_cast<uint64_t>(epoch)).next());
  const double t0 = now_seconds();
  int64_t batches = 0;
  const double mean = model_.own_epoch(
      SplitMix64(cfg_.seed, 0x5eed0000ULL + static_cast<uint64_t>(epoch)).next(),
      cfg_.batch_size.value(), objective_.cross_entropy(), [&](const at::Tensor& data_loss) {
        const at::Tensor loss = objective_.own_batch_loss(params_, data_loss);
        const double value = loss.item<double>();
        ++batches;
        if (!std::isfinite(value)) {
          throw std::runtime_error("epoch " + std::to_string(epoch) + " batch " +
                                   std::to_string(batches) + ": loss is " + std::to_string(value) +
                                   "; stopping (" + last_good() + ")");
        }
        loss.backward();
        adam_.step();
        return value;
      });
  phases_.forward = now_seconds() - t0;  // the model's batches: forward, backward and step
  check_parameters(epoch, batches, last_good);
  return mean;
}

at::Tensor EpochLoop::local_loss(const Batch& all, int64_t start, int64_t len) const {
  int64_t lo = start, n = len;
  if (dist_) {
    const auto [a, z] = dist_->share(len);
    lo = start + a, n = z - a;
    if (n == 0) return at::zeros({}, all.users.options().dtype(at::kFloat));
  }
  Batch batch;
  batch.users = all.users.narrow(0, lo, n);
  batch.positives = all.positives.narrow(0, lo, n);
  if (all.negatives.defined()) batch.negatives = all.negatives.narrow(0, lo, n);
  if (all.targets.defined()) batch.targets = all.targets.narrow(0, lo, n);
  const at::Tensor loss = objective_(model_, params_, batch);
  return dist_ ? loss * (static_cast<double>(n) / static_cast<double>(len)) : loss;
}

void EpochLoop::extra_phase(int64_t epoch, const std::function<std::string()>& last_good) {
  // A model's second objective (KGAT's KG loss), stepping the same Adam;
  // its losses are not in the epoch's loss (on the CPU each is checked).
  model_.extra_epoch_phase(
      SplitMix64(cfg_.seed, 0x6b670000ULL + static_cast<uint64_t>(epoch)).next(),
      cfg_.batch_size.value(), [&](const at::Tensor& loss) {
        if (read_every_batch_ && !std::isfinite(loss.item<double>())) {
          throw std::runtime_error("epoch " + std::to_string(epoch) + ": " + model_.name() +
                                   " extra phase loss is not finite; stopping (" + last_good() +
                                   ")");
        }
        loss.backward();
        adam_.step();
      });
}

void EpochLoop::check_parameters(int64_t epoch, int64_t batches,
                                 const std::function<std::string()>& last_good) const {
  // A finite loss does not prove finite parameters (an overflowing update
  // shows only in the next batch's loss): checked once per epoch, before
  // anything of this epoch is saved.
  for (const auto& p : params_) {
    if (!at::isfinite(p.tensor).all().item<bool>()) {
      throw std::runtime_error("epoch " + std::to_string(epoch) + " (after batch " +
                               std::to_string(batches) + "): parameter " + p.name +
                               " is not finite although every batch loss was; stopping (" +
                               last_good() + ")");
    }
  }
  // Data-parallel ranks take the same steps from the same sums: their
  // parameters must be equal bit for bit; so must a sharded run's whole
  // ones (NGCF's and GCN's weights; its tables are gathered from one copy
  // of each row: equal by construction).
  if (!dist_) return;
  std::vector<at::Tensor> tensors;
  std::vector<size_t> index;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (sharded_ && sharded_->shards(i)) continue;
    tensors.push_back(params_[i].tensor);
    index.push_back(i);
  }
  if (tensors.empty()) return;
  if (const auto diff = dist_->first_difference(tensors, "the parameters")) {
    throw std::runtime_error("epoch " + std::to_string(epoch) + ": parameter " +
                             params_[index[diff->first]].name + " of rank " +
                             std::to_string(diff->second) +
                             " differs from rank 0's although every rank took the same steps; "
                             "stopping (" +
                             last_good() + ")");
  }
}

}  // namespace gnnrec
