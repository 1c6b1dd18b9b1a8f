// One training epoch: the epoch's pairs (samplers/pair_sampler.h: every
// training pair once in a permutation, or per-user draws) drawn from
// (seed, epoch), in batches of cfg.batch_size, each a loss (train/loss.h),
// a backward pass and an Adam step; then the model's extra phase (KGAT's KG
// loss) and a check that every parameter is finite. A resumed run draws the
// same permutation, negatives and dropout masks as an uninterrupted one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "models/model.h"
#include "samplers/negative_sampler.h"
#include "samplers/pair_sampler.h"
#include "train/adam.h"
#include "train/config.h"
#include "train/data.h"
#include "train/distributed.h"
#include "train/loss.h"
#include "train/progress.h"
#include "train/sharded.h"

namespace gnnrec {

// All training pairs (user, item) in CSR order, and their targets (ratings in
// rating mode), built once and kept on the device; under --protocol ctr the
// training records in record order, with their labels as targets.
struct TrainingPairs {
  TrainingPairs(const TrainConfig& cfg, const PreparedData& data, at::Device device);
  int64_t size = 0;
  at::Tensor user, item;  // int64 [size]
  at::Tensor target;      // float32 [size], or undefined when there are none
};

// Where an epoch's time went (seconds): drawing its pairs and negatives,
// the batches' forward passes (loss included), backward passes, the
// all-reduce of the gradients (distributed runs) and optimiser steps. On a
// GPU the phases measure launches, not work.
struct PhaseTimes {
  // halo: a sharded graph model's halo exchanges (train/sharded.h), taken
  // out of forward and allreduce, where they run.
  double sample = 0, forward = 0, backward = 0, allreduce = 0, step = 0, halo = 0;
};

class EpochLoop {
 public:
  // Keeps references to everything it is given; they must outlive it.
  // With `dist` (a distributed run), every rank draws the same epoch and
  // takes its share (Distributed::share) of each batch of cfg.batch_size
  // pairs; its loss is weighted by its share of the batch, so that the sum
  // over the ranks is the one-process batch loss, whose gradients
  // Distributed::sum_gradients adds up before each step. With `sharded`
  // (--shard-embeddings), the batches train the shards (train/sharded.h):
  // the model's tables are released while the batches run and gathered
  // back at the end of run().
  EpochLoop(const TrainConfig& cfg, const PreparedData& data, Model& model,
            const std::vector<NamedTensor>& params, Adam& adam, Progress& progress,
            at::Device device, Distributed* dist = nullptr, ShardedEmbeddings* sharded = nullptr);

  // Trains epoch `epoch` (1-based) and returns its mean batch loss. A
  // non-finite loss or parameter throws std::runtime_error naming the epoch
  // (and batch) and ending with last_good() in parentheses.
  double run(int64_t epoch, const std::function<std::string()>& last_good);
  // The phases of the epoch run() trained last.
  const PhaseTimes& phases() const { return phases_; }

 private:
  // The epoch's pairs in its permutation, with their negatives and targets.
  Batch draw(int64_t epoch) const;
  double train_batches(int64_t epoch, const Batch& all,
                       const std::function<std::string()>& last_good);
  // An epoch of a model that makes its own batches (Model::own_batches).
  double own_epoch(int64_t epoch, const std::function<std::string()>& last_good);
  // The loss of this process's rows of the batch at rows [start, start +
  // len) of `all`: all of them in one process; a distributed rank's share,
  // weighted by its fraction of the batch (a constant zero when its share
  // is empty).
  at::Tensor local_loss(const Batch& all, int64_t start, int64_t len) const;
  void extra_phase(int64_t epoch, const std::function<std::string()>& last_good);
  void check_parameters(int64_t epoch, int64_t batches,
                        const std::function<std::string()>& last_good) const;

  const TrainConfig& cfg_;
  Model& model_;
  const std::vector<NamedTensor>& params_;
  std::vector<at::Tensor> trainable_;  // what Adam updates: the gradients to reduce
  Adam& adam_;
  Progress& progress_;
  Objective objective_;
  TrainingPairs pairs_;
  const BipartiteGraph& train_;  // the pairs' CSR, for per-user sampling
  std::optional<NegativeSampler> sampler_;
  // Batch losses stay on the device and are read together (one copy, one
  // synchronisation) at the end of the epoch, so the GPU never waits for
  // the host between batches; on the CPU, where reading costs nothing,
  // after every batch, before its update (a non-finite loss stops the run
  // there).
  bool read_every_batch_;
  PhaseTimes phases_;
  Distributed* dist_;
  ShardedEmbeddings* sharded_;
};

}  // namespace gnnrec
