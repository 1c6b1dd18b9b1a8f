// Embedding tables sharded across the ranks of a distributed run
// (--shard-embeddings): the user and item tables are cut row-wise into
// contiguous ranges (Distributed::share), each rank holding only its rows
// and their Adam moments. A batch's rows are fetched from their owners by
// all-to-all, the loss is computed on the fetched rows, and their gradients
// go back to the owners (the reverse all-to-all), which add them up and
// take the Adam step of their rows. Equal to the replicated data-parallel
// run up to float rounding (docs/distributed.md states the tolerance).
//
// A graph model (Sharding::Kind::kGraph: LightGCN, NGCF, GCN) is sharded
// over its partitioned graph: its one table over the unified user+item node
// set (users 0..U-1, then items) is cut into contiguous node ranges, each
// rank holding the adjacency rows of its nodes (HaloPlan). Every batch each
// rank runs the model's own propagation (Model::propagate) over its rows,
// whose every multiplication by the adjacency first fetches the halo rows
// its adjacency rows read from their owners (the gradients of those rows go
// back in the backward pass); the batch's final representations and ego
// rows are then fetched from their owners as MF's rows are. The model's
// other parameters (NGCF's and GCN's weights) stay whole on every rank:
// their gradients are summed over the ranks (Distributed::sum_gradients)
// and the trainer's Adam steps them, so every rank's copy stays equal.
//
// Between epochs (evaluation, checkpoints) the whole tables and moments
// are all-gathered into the model's parameters and the trainer's Adam on
// every rank, so evaluation, checkpoints, --resume, `export` and
// `recommend` see the tables of a replicated run; they are released again
// when the next epoch's batches start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "graph/bipartite_graph.h"
#include "kernels/sparse_adjacency.h"
#include "models/model.h"
#include "train/adam.h"
#include "train/config.h"
#include "train/distributed.h"
#include "train/loss.h"

namespace gnnrec {

// The models whose tables --shard-embeddings splits.
const std::vector<std::string>& sharded_models();
// Throws std::invalid_argument (one line) when cfg asks for sharded tables
// that cannot be had: a model not in sharded_models() (naming the model
// and those that are), or --reg-scope full (a term over whole tables).
void check_sharding(const TrainConfig& cfg);

// The rows one rank asks for, in a table of n rows cut into `world`
// contiguous shares (Distributed::share_of).
struct RowRequests {
  at::Tensor rows;     // int64 [k]: the distinct ids asked for, ascending (so grouped by owner)
  at::Tensor inverse;  // int64 [ids.numel()]: each id's position in rows
  std::vector<int64_t> counts;  // world entries: how many of rows each rank owns
};
// A pure function of its arguments (no process group): ids int64, any shape.
RowRequests plan_rows(const at::Tensor& ids, int64_t n, int world);

// A rank's part of a partitioned graph: it owns nodes [lo, hi) of n (as
// Distributed::share_of cuts them) and their adjacency rows, whose columns
// are re-indexed into [own rows; halo rows], the halo being the other
// ranks' nodes those rows read.
struct HaloPlan {
  int64_t lo = 0, hi = 0;
  SparseAdjacency local;  // [hi - lo, (hi - lo) + halo rows], entries in the rows' order
  RowRequests halo;       // the halo's node ids, ascending (grouped by owner), counts per owner
  at::Tensor send;        // int64: own rows (local ids) the other ranks read, by rank, ascending
  std::vector<int64_t> send_counts;  // world entries: how many of send go to each rank
};
// `rows`: rows [lo, hi) of an n x n matrix symmetric in structure (the
// unified adjacency's, models/propagation_graph.h), columns global. What
// rank r sends rank q is what q's halo asks of r, in the same order (by
// symmetry: r's nodes with a neighbour in q's range), so the plan needs no
// exchange. A pure function of its arguments.
HaloPlan plan_halo(const SparseAdjacency& rows, int64_t lo, int64_t n, int world);

class ShardedEmbeddings {
 public:
  // Takes this rank's rows of the tables of `model` (model.sharding()
  // names them) among `params` (the model's, whose tensors the model
  // shares) and of their moments in `adam` (the trainer's, over
  // trainable_tensors(params), after a resume if any), with its step count;
  // all must outlive this object. dist null (no torchrun): one shard, every
  // exchange local. `graph`: the training graph, for Sharding::Kind::kGraph.
  ShardedEmbeddings(Model& model, std::vector<NamedTensor>& params, Adam& adam, double lr,
                    Distributed* dist, const BipartiteGraph* graph = nullptr);

  // The loss of this rank's share of batch rows [start, start + len) of
  // `all`, weighted by its fraction of the batch (EpochLoop's local_loss),
  // over rows fetched from their owners: differentiable in the fetched
  // rows. Every rank calls it for every batch (an empty share too).
  at::Tensor local_loss(const Objective& objective, const Batch& all, int64_t start, int64_t len,
                        const std::string& where);
  // After loss.backward(): sends the fetched rows' gradients to their
  // owners, who add them into their shards' gradients; returns the loss
  // summed over the ranks.
  at::Tensor return_gradients(const at::Tensor& loss, const std::string& where);
  // The Adam step of this rank's rows (and of the model's other
  // parameters, by the trainer's Adam).
  void step();

  // Empties the model's tables and the trainer's moments of them (this
  // rank keeps its shards only).
  void release();
  // All-gathers the shards and their moments into the model's tables and
  // the trainer's Adam (step count included), on every rank.
  void gather();

  // Whether params[i] (the constructor's) is one of the sharded tables.
  bool shards(size_t i) const;

  // Bytes of the tables and their two Adam moments held by the rank that
  // holds the most during an epoch's batches, and by a replicated run.
  int64_t bytes_per_rank() const;
  int64_t bytes_replicated() const;
  // A graph model: the halo rows each rank fetches per product by the
  // adjacency (and sends back the gradients of), in rank order; empty for MF.
  const std::vector<int64_t>& halo_rows() const { return halo_rows_; }
  // A graph model: the seconds spent in the halo exchanges so far (forward
  // and backward; metrics.jsonl's phase_seconds "halo").
  double halo_seconds() const { return halo_seconds_; }

 private:
  struct Table {
    std::string name;
    int64_t rows = 0, lo = 0;    // the whole table's rows; this rank's first
    size_t param = 0, slot = 0;  // index in params, in the trainer's Adam
    at::Tensor shard;            // this rank's rows, a leaf (Adam steps it)
  };
  // The rows of table t that `ids` name, fetched from their owners.
  struct Fetched {
    RowRequests plan;
    std::vector<int64_t> recv_counts;  // ids each rank asked of this one
    at::Tensor asked;                  // those ids, local to this shard
    at::Tensor rows;                   // a leaf [k, w]: rows of plan.rows
  };
  // `source`: the rows to fetch from, this rank's [rows of t, w].
  Fetched fetch(const Table& t, const at::Tensor& ids, const at::Tensor& source,
                const std::string& where);
  // The gradients of f's rows from every rank that fetched them, summed
  // into a [rows of t, w] tensor.
  at::Tensor returned(const Table& t, const Fetched& f, const std::string& where);
  int world() const { return dist_ ? dist_->world_size() : 1; }
  // The model's final representations of this rank's rows
  // (Model::propagate), differentiable in its shard: each product by the
  // adjacency fetches its halo rows (Distributed::all_to_all) and
  // multiplies by the local rows; the backward multiplies by their
  // transpose and sends the halo rows' gradients back to their owners, who
  // add them to their own.
  at::Tensor propagate(const std::string& where);

  Model& model_;
  std::vector<NamedTensor>& params_;
  Adam& adam_;
  Distributed* dist_;
  std::vector<Table> tables_;      // MF's users and items; a graph model's nodes
  std::vector<at::Tensor> dense_;  // the model's other trained parameters, whole
  Adam shard_adam_;
  std::vector<Fetched> fetched_;  // the current batch's, per table
  // A graph model: users, this rank's part of the graph, and the current
  // batch's final representations of this rank's rows.
  int64_t num_users_ = 0;
  std::optional<HaloPlan> halo_;
  std::vector<int64_t> halo_rows_;
  double halo_seconds_ = 0;
  at::Tensor final_;
};

}  // namespace gnnrec
