// Data-parallel training across processes on torch.distributed's c10d: the
// rendezvous (a TCPStore at MASTER_ADDR:MASTER_PORT), one process group
// (Gloo on the CPU, NCCL on CUDA) and the few collectives the trainer needs.
// torchrun (`torchrun --nproc-per-node N --no-python gnnrec train ...`)
// sets the environment read here; without WORLD_SIZE a run is one process
// and nothing here is used. docs/distributed.md says what is reduced, the
// tolerance against one process, resume and faults.
//
// Faults: every collective waits at most the timeout given (--dist-timeout).
// A rank that dies or stops answering makes the others throw one line,
// "rank R of N: <collective> failed ...: rank S is not answering", never
// hang. A heartbeat (a counter in the store, advanced every second by a
// thread of each rank) tells which rank stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

namespace gnnrec {

// torchrun's environment.
struct DistEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr;
  int master_port = 0;
  // TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent hosts the store,
  // every rank is its client; otherwise rank 0 hosts it.
  bool agent_store = false;
  // nullopt when WORLD_SIZE is unset. std::invalid_argument naming the
  // variable when one is missing or malformed (RANK outside [0,
  // WORLD_SIZE), a port outside [1, 65535], ...).
  static std::optional<DistEnv> from_environment();
};

class Distributed {
 public:
  // Joins the process group: the store, then Gloo (device CPU) or NCCL
  // (CUDA; the device must be cuda:LOCAL_RANK). Throws std::runtime_error
  // naming MASTER_ADDR:MASTER_PORT when the rendezvous fails or times out.
  Distributed(const DistEnv& env, at::Device device, double timeout_seconds);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  const std::string& backend() const { return backend_; }
  // Rank 0 writes the run directory; the others write nothing.
  bool writes() const { return env_.rank == 0; }
  // This rank's rows [lo, hi) of n rows cut into world_size contiguous
  // parts (n * r / N .. n * (r + 1) / N): empty for some ranks when n < N.
  std::pair<int64_t, int64_t> share(int64_t n) const;
  // Rank `rank`'s rows of n rows cut into `world` parts, as share() cuts them.
  static std::pair<int64_t, int64_t> share_of(int64_t n, int rank, int world);

  // Sums, over the ranks, every parameter's .grad() and `loss` (a scalar),
  // and writes the sums back into .grad(). Whole gradients go in one
  // flattened float32 array, all-reduced in buckets of at most 25 MiB; a
  // table (2-D, at least 65,536 elements) whose non-zero gradient rows are
  // few (every rank's largest count times the ranks, ids and values, is
  // fewer bytes than the table: MF's batch rows) goes as those rows, all-
  // gathered and added in rank order on every rank. A rank without a
  // gradient for a parameter adds zeros; a parameter no rank has a gradient
  // for keeps none (Adam leaves it alone, as in one process). Returns the
  // summed loss. `where` (epoch and batch) goes into error messages.
  at::Tensor sum_gradients(const std::vector<at::Tensor>& params, const at::Tensor& loss,
                           const std::string& where);
  // The bytes a rank put into the gradients' collectives per step, on
  // average over the steps so far (0 before the first):
  // summary.json's gradient_bytes_per_step.
  int64_t gradient_bytes_per_step() const { return steps_ > 0 ? bytes_ / steps_ : 0; }
  // Adds every rank's tensors into every rank's, in place (one all-reduce
  // per tensor; any dtype the backend sums, int64 included).
  void sum(std::vector<at::Tensor>& tensors, const std::string& what);
  // Copies rank 0's tensors into every rank's, in place.
  void broadcast(const std::vector<at::Tensor>& tensors, const std::string& what);
  // Compares every rank's tensors with rank 0's, bit for bit (rank 0's are
  // broadcast): on every rank, the first tensor (index) that differs and
  // the lowest rank whose copy differs, or nullopt when all are equal.
  std::optional<std::pair<int64_t, int>> first_difference(const std::vector<at::Tensor>& tensors,
                                                          const std::string& what);
  // All-to-all (sharded embeddings, train/sharded.h): how many rows every
  // rank sends to this one, given how many this one sends to each rank
  // (send_counts[r] rows to rank r; world_size entries).
  std::vector<int64_t> exchange_counts(const std::vector<int64_t>& send_counts,
                                       const std::string& what);
  // Sends rows [sum(send_counts[0..r)), + send_counts[r]) of `send` (rows
  // along dim 0) to rank r and returns what the ranks sent to this one, in
  // rank order: recv_counts[r] rows from rank r (exchange_counts' answer).
  at::Tensor all_to_all(const at::Tensor& send, const std::vector<int64_t>& send_counts,
                        const std::vector<int64_t>& recv_counts, const std::string& what);
  // The whole [n, ...] table from every rank's share(n) of its rows
  // (`local`, share(n)'s length), on every rank.
  at::Tensor all_gather_rows(const at::Tensor& local, int64_t n, const std::string& what);

 private:
  struct Impl;
  // sum_gradients' choice, per parameter, of rows over the whole gradient:
  // `rows` gets this rank's non-zero rows of each candidate table, `most`
  // the largest count over the ranks (-1: not a candidate).
  std::vector<bool> rows_plan(const std::vector<at::Tensor>& params, std::vector<at::Tensor>& rows,
                              at::Tensor& most, const std::string& where);
  // The sum over the ranks of p's gradient rows (this rank's: `rows`, at
  // most `most` on any rank) into p.grad(), set only when `has` (some rank
  // has a gradient).
  void sum_rows(const at::Tensor& p, const at::Tensor& rows, int64_t most, bool has,
                const std::string& where);
  // Waits for `what`'s work; a failure or timeout becomes the one-line error.
  void wait(const std::string& what, const std::function<void()>& run) const;

  DistEnv env_;
  std::string backend_;
  double timeout_seconds_;
  int64_t bytes_ = 0, steps_ = 0;  // sum_gradients' payload, and its calls
  std::unique_ptr<Impl> impl_;
};

}  // namespace gnnrec
