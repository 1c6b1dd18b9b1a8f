#include "train/sharded.h"

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <utility>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>

#include "models/propagation_graph.h"
#include "train/progress.h"

namespace gnnrec {
namespace {

// MF's tables, in the order of ShardedEmbeddings::tables_; a graph model's one.
const std::vector<std::string> kMfTables = {"user_embedding", "item_embedding"};
const std::vector<std::string> kGraphTables = {"embedding"};

// The model over the fetched rows of one batch: its tables are the rows
// fetched (compact, in RowRequests::rows order) and the batch's ids are
// their positions, so the objective computes what it computes on the whole
// tables: the final representations (MF: the rows themselves) and the ego
// rows of the users and of the items (a graph model: one table for both),
// scored by the model (GCN's output layer).
class FetchedTables : public Model {
 public:
  FetchedTables(Model& model, at::Tensor users, at::Tensor items, at::Tensor ego_users,
                at::Tensor ego_items)
      : model_(model), users_(std::move(users)), items_(std::move(items)),
        ego_users_(std::move(ego_users)), ego_items_(std::move(ego_items)) {}
  std::string name() const override { return "fetched"; }
  std::pair<at::Tensor, at::Tensor> forward() override { return {users_, items_}; }
  at::Tensor score(const at::Tensor& u, const at::Tensor& i) override { return model_.score(u, i); }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {ego_users_.index_select(0, u), ego_items_.index_select(0, i)};
  }
  std::vector<NamedTensor> parameters() override {
    return {{"users", ego_users_}, {"items", ego_items_}};
  }

 private:
  Model& model_;
  at::Tensor users_, items_, ego_users_, ego_items_;
};

// The owner of each of `rows` (int64), of n rows cut into `world` shares:
// the number of shares after the first that start at or before it (an
// empty share starts where the next does, so it owns none).
at::Tensor owners(const at::Tensor& rows, int64_t n, int world) {
  if (world == 1) return at::zeros_like(rows);
  std::vector<int64_t> starts;
  for (int w = 1; w < world; ++w) starts.push_back(Distributed::share_of(n, w, world).first);
  return at::searchsorted(at::tensor(starts, at::kLong), rows, /*out_int32=*/false,
                          /*right=*/true);
}

std::vector<int64_t> per_rank(const at::Tensor& owner, int world) {
  const at::Tensor per = at::bincount(owner, {}, world);
  return {per.data_ptr<int64_t>(), per.data_ptr<int64_t>() + world};
}

// One layer's halo exchange: [own; halo rows fetched from their owners],
// differentiable in own. Its backward (below) runs collectives, so every
// rank backpropagates through the same layers in the same order.
class HaloExchangeBackward : public torch::autograd::Node {
 public:
  // The plan, the process group and `seconds` outlive the batch's graph
  // (members of ShardedEmbeddings and of the trainer).
  HaloExchangeBackward(const HaloPlan& plan, Distributed& dist, int64_t dim, std::string where,
                       double& seconds)
      : plan_(plan), dist_(dist), dim_(dim), where_(std::move(where)), seconds_(seconds) {}
  std::string name() const override { return "HaloExchangeBackward"; }

  // The own rows' gradients plus, added at the rows each rank fetched, the
  // gradients of the halo rows, sent back by the ranks that fetched them.
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    const int64_t own = plan_.hi - plan_.lo, halo = plan_.halo.rows.numel();
    const at::Tensor g = grads[0].defined()
                             ? grads[0].contiguous()
                             : at::zeros({own + halo, dim_}, plan_.local.value.options());
    const double t0 = now_seconds();
    const at::Tensor back =
        dist_.all_to_all(g.narrow(0, own, halo).contiguous(), plan_.halo.counts, plan_.send_counts,
                         "the gradients of the halo rows (" + where_ + ")");
    seconds_ += now_seconds() - t0;
    at::Tensor out = g.narrow(0, 0, own).clone();
    out.index_add_(0, plan_.send, back);
    return {out};
  }

 private:
  const HaloPlan& plan_;
  Distributed& dist_;
  int64_t dim_;
  std::string where_;
  double& seconds_;
};

// `seconds`: the exchanges' time (forward and backward) is added to it.
at::Tensor halo_exchange(const at::Tensor& own, const HaloPlan& plan, Distributed& dist,
                         const std::string& where, double& seconds) {
  at::Tensor out;
  {
    at::NoGradGuard no_grad;
    const double t0 = now_seconds();
    out = at::cat({own, dist.all_to_all(own.index_select(0, plan.send), plan.send_counts,
                                        plan.halo.counts, "the halo rows (" + where + ")")});
    seconds += now_seconds() - t0;
  }
  if (own.requires_grad()) {
    const std::shared_ptr<HaloExchangeBackward> node(
        new HaloExchangeBackward(plan, dist, own.size(1), where, seconds),
        torch::autograd::deleteNode);
    node->set_next_edges(torch::autograd::collect_next_edges(own));
    torch::autograd::set_history(out, node);
  }
  return out;
}

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

const std::vector<std::string>& sharded_models() {
  static const std::vector<std::string> names{"mf", "lightgcn", "ngcf", "gcn"};
  return names;
}

void check_sharding(const TrainConfig& cfg) {
  if (!cfg.shard_embeddings) return;
  const auto& ok = sharded_models();
  if (std::find(ok.begin(), ok.end(), cfg.model) == ok.end()) {
    throw std::invalid_argument("--shard-embeddings: --model " + cfg.model +
                                " does not shard its tables; the models that do: " + join(ok));
  }
  if (cfg.reg_scope == RegScope::kFull) {
    throw std::invalid_argument(
        "--shard-embeddings: --reg-scope full needs every whole table in each batch's loss; "
        "use --reg-scope batch");
  }
}

RowRequests plan_rows(const at::Tensor& ids, int64_t n, int world) {
  RowRequests r;
  const at::Tensor flat = ids.reshape({-1}).to(at::kLong).cpu();
  auto [rows, inverse, counts] = at::_unique2(flat, /*sorted=*/true, /*return_inverse=*/true);
  r.rows = rows;
  r.inverse = inverse.reshape({-1});
  r.counts = per_rank(owners(rows, n, world), world);
  return r;
}

HaloPlan plan_halo(const SparseAdjacency& rows, int64_t lo, int64_t n, int world) {
  HaloPlan p;
  p.lo = lo;
  p.hi = lo + rows.num_rows;
  const int64_t own = rows.num_rows;
  const at::Tensor col = rows.col.to(at::kLong);
  const at::Tensor remote = (col < lo).logical_or_(col >= p.hi);
  // Each entry's row (local), for the nodes the other ranks read.
  const at::Tensor row = at::repeat_interleave(
      at::arange(own, at::kLong), rows.rowptr.narrow(0, 1, own) - rows.rowptr.narrow(0, 0, own));
  const at::Tensor remote_col = col.masked_select(remote);
  p.halo = plan_rows(remote_col, n, world);
  at::Tensor local_col = col - lo;
  local_col.masked_scatter_(remote, p.halo.inverse + own);
  // By symmetry, rank q reads own row v when v has a column q owns: the
  // distinct (q, v), by q then v.
  const at::Tensor key = owners(remote_col, n, world) * own + row.masked_select(remote);
  const at::Tensor pairs = std::get<0>(at::_unique(key, /*sorted=*/true));
  p.send = own > 0 ? pairs.remainder(own) : pairs;
  p.send_counts = per_rank(own > 0 ? pairs.div(own, "floor") : pairs, world);
  p.local.num_rows = own;
  p.local.num_cols = own + p.halo.rows.numel();
  p.local.rowptr = rows.rowptr;
  p.local.col = local_col.to(at::kInt);
  p.local.value = rows.value;
  fill_transpose(p.local);
  return p;
}

ShardedEmbeddings::ShardedEmbeddings(Model& model, std::vector<NamedTensor>& params, Adam& adam,
                                     double lr, Distributed* dist, const BipartiteGraph* graph)
    : model_(model), params_(params), adam_(adam), dist_(dist), tables_([&] {
        const Sharding::Kind kind = model.sharding().kind;
        if (kind == Sharding::Kind::kNone || (kind == Sharding::Kind::kGraph && !graph)) {
          throw std::logic_error("sharded: " + model.name() + " has no sharded tables here");
        }
        std::vector<Table> tables;
        for (const std::string& name : kind == Sharding::Kind::kGraph ? kGraphTables : kMfTables) {
          Table t;
          t.name = name;
          size_t slot = 0;
          for (size_t i = 0; i < params.size(); ++i) {
            if (params[i].name == name) {
              t.param = i, t.slot = slot;
              t.rows = params[i].tensor.size(0);
            }
            if (params[i].tensor.requires_grad()) ++slot;
          }
          if (t.rows == 0) throw std::logic_error("sharded: no parameter " + name);
          const auto [lo, hi] = dist ? dist->share(t.rows) : std::make_pair(int64_t{0}, t.rows);
          t.lo = lo;
          t.shard = params[t.param].tensor.detach().narrow(0, lo, hi - lo).clone();
          t.shard.requires_grad_(true);
          tables.push_back(std::move(t));
        }
        return tables;
      }()),
      shard_adam_(
          [&] {
            std::vector<at::Tensor> shards;
            for (const Table& t : tables_) shards.push_back(t.shard);
            return shards;
          }(),
          lr),
      num_users_(graph ? graph->num_users() : 0) {
  for (size_t i = 0; i < params.size(); ++i) {
    if (!shards(i) && params[i].tensor.requires_grad()) dense_.push_back(params[i].tensor);
  }
  for (size_t j = 0; j < tables_.size(); ++j) {
    const Table& t = tables_[j];
    const int64_t len = t.shard.size(0);
    shard_adam_.exp_avg()[j].copy_(adam.exp_avg()[t.slot].narrow(0, t.lo, len));
    shard_adam_.exp_avg_sq()[j].copy_(adam.exp_avg_sq()[t.slot].narrow(0, t.lo, len));
  }
  shard_adam_.set_steps(adam.steps());
  const Sharding sharding = model.sharding();
  if (sharding.kind != Sharding::Kind::kGraph) return;
  // This rank's rows of the model's adjacency, built alone, and the halo
  // they read; once per run.
  const Table& t = tables_[0];
  const int64_t lo = t.lo, hi = t.lo + t.shard.size(0);
  halo_ = plan_halo(unified_adjacency_rows(*graph, sharding.norm, sharding.self_loops,
                                           t.shard.scalar_type(), lo, hi),
                    lo, t.rows, world());
  at::Tensor counts = at::zeros({world()}, at::kLong);
  counts[dist ? dist->rank() : 0] = halo_->halo.rows.numel();
  if (dist) {
    std::vector<at::Tensor> all{counts};
    dist->sum(all, "the halo sizes");
  }
  halo_rows_.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + world());
}

at::Tensor ShardedEmbeddings::propagate(const std::string& where) {
  AdjacencyProduct adjacency{halo_->local, {}};
  // One process: the halo is empty.
  if (dist_) {
    adjacency.columns = [this, where](const at::Tensor& own) {
      return halo_exchange(own, *halo_, *dist_, where, halo_seconds_);
    };
  }
  return model_.propagate(adjacency, tables_[0].shard);
}

ShardedEmbeddings::Fetched ShardedEmbeddings::fetch(const Table& t, const at::Tensor& ids,
                                                    const at::Tensor& source,
                                                    const std::string& where) {
  Fetched f;
  f.plan = plan_rows(ids, t.rows, world());
  if (!dist_) {
    f.recv_counts = f.plan.counts;
    f.asked = f.plan.rows;
    f.rows = source.index_select(0, f.asked);
  } else {
    const std::string what = t.name + " rows (" + where + ")";
    f.recv_counts = dist_->exchange_counts(f.plan.counts, what);
    f.asked =
        dist_->all_to_all(f.plan.rows, f.plan.counts, f.recv_counts, "the ids of " + what) - t.lo;
    f.rows = dist_->all_to_all(source.index_select(0, f.asked), f.recv_counts, f.plan.counts,
                               "the " + what);
  }
  f.rows.requires_grad_(true);
  return f;
}

at::Tensor ShardedEmbeddings::local_loss(const Objective& objective, const Batch& all,
                                         int64_t start, int64_t len, const std::string& where) {
  const auto [a, z] = dist_ ? dist_->share(len) : std::make_pair(int64_t{0}, len);
  const int64_t n = z - a;
  const at::Tensor users = all.users.narrow(0, start + a, n);
  const at::Tensor positives = all.positives.narrow(0, start + a, n);
  const bool negatives = all.negatives.defined();
  const at::Tensor items =
      negatives ? at::cat({positives, all.negatives.narrow(0, start + a, n).reshape({-1})})
                : positives;
  for (Table& t : tables_) t.shard.mutable_grad() = at::zeros_like(t.shard);
  fetched_.clear();
  // Per table, the batch's rows and their positions in the rows fetched:
  // MF's users and items; a graph model's nodes (users, then items), each
  // row its ego embedding beside its final representation.
  at::Tensor user_pos, item_pos;
  if (halo_) {
    final_ = propagate(where);
    const at::Tensor source = at::cat({tables_[0].shard.detach(), final_.detach()}, 1);
    fetched_.push_back(fetch(tables_[0], at::cat({users, items + num_users_}), source, where));
    user_pos = fetched_[0].plan.inverse.narrow(0, 0, n);
    item_pos = fetched_[0].plan.inverse.narrow(0, n, items.numel());
  } else {
    fetched_.push_back(fetch(tables_[0], users, tables_[0].shard.detach(), where));
    fetched_.push_back(fetch(tables_[1], items, tables_[1].shard.detach(), where));
    user_pos = fetched_[0].plan.inverse;
    item_pos = fetched_[1].plan.inverse;
  }
  if (n == 0) return at::zeros({}, all.users.options().dtype(at::kFloat));
  // The share's batch, its ids replaced by their positions in the fetched rows.
  Batch batch;
  batch.users = user_pos;
  batch.positives = item_pos.narrow(0, 0, n);
  if (negatives) batch.negatives = item_pos.narrow(0, n, item_pos.numel() - n).view({n, -1});
  if (all.targets.defined()) batch.targets = all.targets.narrow(0, start + a, n);
  const at::Tensor& u = fetched_.front().rows;
  const at::Tensor& i = fetched_.back().rows;
  const int64_t d = tables_[0].shard.size(1), out = u.size(1) - d;
  FetchedTables model = halo_ ? FetchedTables(model_, u.narrow(1, d, out), i.narrow(1, d, out),
                                              u.narrow(1, 0, d), i.narrow(1, 0, d))
                              : FetchedTables(model_, u, i, u, i);
  const at::Tensor loss = objective(model, model.parameters(), batch);
  return dist_ ? loss * (static_cast<double>(n) / static_cast<double>(len)) : loss;
}

at::Tensor ShardedEmbeddings::returned(const Table& t, const Fetched& f, const std::string& where) {
  const at::Tensor g = f.rows.grad().defined() ? f.rows.grad() : at::zeros_like(f.rows);
  const at::Tensor back =
      dist_ ? dist_->all_to_all(g, f.plan.counts, f.recv_counts,
                                "the gradients of " + t.name + " rows (" + where + ")")
            : g;
  return at::zeros({t.shard.size(0), g.size(1)}, g.options()).index_add_(0, f.asked, back);
}

at::Tensor ShardedEmbeddings::return_gradients(const at::Tensor& loss, const std::string& where) {
  for (size_t j = 0; j < fetched_.size(); ++j) {
    Table& t = tables_[j];
    const at::Tensor g = returned(t, fetched_[j], where);
    const int64_t d = t.shard.size(1);
    t.shard.mutable_grad().add_(g.narrow(1, 0, d));
    // A graph model: the final representations' gradients, through the
    // layers (every rank: their halo exchanges are collectives).
    if (halo_) final_.backward(g.narrow(1, d, g.size(1) - d));
  }
  fetched_.clear();
  final_ = at::Tensor();
  // The loss and the whole parameters' gradients summed over the ranks.
  return dist_ ? dist_->sum_gradients(dense_, loss, where) : loss.detach();
}

void ShardedEmbeddings::step() {
  shard_adam_.step();
  // The whole parameters; the trainer's Adam leaves the emptied tables
  // alone (they have no gradient).
  if (!dense_.empty()) adam_.step();
}

void ShardedEmbeddings::release() {
  at::NoGradGuard no_grad;
  for (const Table& t : tables_) {
    const at::Tensor& p = params_[t.param].tensor;
    for (const at::Tensor& x : {p, adam_.exp_avg()[t.slot], adam_.exp_avg_sq()[t.slot]}) {
      x.set_(at::empty({0, p.size(1)}, p.options().requires_grad(false)));
    }
  }
}

void ShardedEmbeddings::gather() {
  at::NoGradGuard no_grad;
  for (size_t j = 0; j < tables_.size(); ++j) {
    const Table& t = tables_[j];
    const std::pair<at::Tensor, at::Tensor> pairs[] = {
        {params_[t.param].tensor, t.shard.detach()},
        {adam_.exp_avg()[t.slot], shard_adam_.exp_avg()[j]},
        {adam_.exp_avg_sq()[t.slot], shard_adam_.exp_avg_sq()[j]}};
    for (const auto& [whole, part] : pairs) {
      whole.set_(dist_ ? dist_->all_gather_rows(part, t.rows, "the " + t.name + " shards")
                       : part.clone());
    }
  }
  adam_.set_steps(shard_adam_.steps());
}

bool ShardedEmbeddings::shards(size_t i) const {
  return std::any_of(tables_.begin(), tables_.end(), [&](const Table& t) { return t.param == i; });
}

int64_t ShardedEmbeddings::bytes_per_rank() const {
  int64_t most = 0;
  for (int r = 0; r < world(); ++r) {
    int64_t bytes = 0;
    for (const Table& t : tables_) {
      const auto [lo, hi] = Distributed::share_of(t.rows, r, world());
      bytes += (hi - lo) * t.shard.size(1) * static_cast<int64_t>(t.shard.element_size());
    }
    most = std::max(most, bytes);
  }
  return 3 * most;  // the rows, exp_avg and exp_avg_sq
}

int64_t ShardedEmbeddings::bytes_replicated() const {
  int64_t bytes = 0;
  for (const Table& t : tables_) {
    bytes += t.rows * t.shard.size(1) * static_cast<int64_t>(t.shard.element_size());
  }
  return 3 * bytes;
}

}  // namespace gnnrec
