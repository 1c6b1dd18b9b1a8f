#include "train/sharded.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <ATen/ATen.h>

namespace gnnrec {
namespace {

// The model's tables, in the order of ShardedEmbeddings::tables_.
const char* const kTables[] = {"user_embedding", "item_embedding"};

// MF over the fetched rows of one batch: its tables are the rows fetched
// (compact, in RowRequests::rows order) and the batch's ids are their
// positions, so the objective computes what it computes on the whole tables.
class FetchedTables : public Model {
 public:
  FetchedTables(at::Tensor users, at::Tensor items)
      : users_(std::move(users)), items_(std::move(items)) {}
  std::string name() const override { return "mf"; }
  std::pair<at::Tensor, at::Tensor> forward() override { return {users_, items_}; }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& u, const at::Tensor& i) override {
    return {users_.index_select(0, u), items_.index_select(0, i)};
  }
  std::vector<NamedTensor> parameters() override {
    return {{kTables[0], users_}, {kTables[1], items_}};
  }

 private:
  at::Tensor users_, items_;
};

std::string join(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

}  // namespace

const std::vector<std::string>& sharded_models() {
  static const std::vector<std::string> names{"mf"};
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
  // Owner of a row: the number of shares after the first that start at or
  // before it (an empty share starts where the next does, so it owns none).
  std::vector<int64_t> starts;
  for (int w = 1; w < world; ++w) starts.push_back(Distributed::share_of(n, w, world).first);
  const at::Tensor owner =
      world == 1 ? at::zeros_like(rows)
                 : at::searchsorted(at::tensor(starts, at::kLong), rows, /*out_int32=*/false,
                                    /*right=*/true);
  const at::Tensor per = at::bincount(owner, {}, world);
  r.counts.assign(per.data_ptr<int64_t>(), per.data_ptr<int64_t>() + world);
  return r;
}

ShardedEmbeddings::ShardedEmbeddings(std::vector<NamedTensor>& params, Adam& adam, double lr,
                                     Distributed* dist)
    : params_(params), adam_(adam), dist_(dist), tables_([&] {
        std::vector<Table> tables;
        for (const char* name : kTables) {
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
          if (t.rows == 0) throw std::logic_error(std::string("sharded: no parameter ") + name);
          const auto [lo, hi] = dist ? dist->share(t.rows) : std::make_pair(int64_t{0}, t.rows);
          t.lo = lo;
          t.shard = params[t.param].tensor.detach().narrow(0, lo, hi - lo).clone();
          t.shard.requires_grad_(true);
          tables.push_back(std::move(t));
        }
        return tables;
      }()),
      shard_adam_({tables_[0].shard, tables_[1].shard}, lr) {
  for (size_t j = 0; j < tables_.size(); ++j) {
    const Table& t = tables_[j];
    const int64_t len = t.shard.size(0);
    shard_adam_.exp_avg()[j].copy_(adam.exp_avg()[t.slot].narrow(0, t.lo, len));
    shard_adam_.exp_avg_sq()[j].copy_(adam.exp_avg_sq()[t.slot].narrow(0, t.lo, len));
  }
  shard_adam_.set_steps(adam.steps());
}

ShardedEmbeddings::Fetched ShardedEmbeddings::fetch(const Table& t, const at::Tensor& ids,
                                                    const std::string& where) {
  Fetched f;
  f.plan = plan_rows(ids, t.rows, world());
  const at::Tensor shard = t.shard.detach();
  if (!dist_) {
    f.recv_counts = f.plan.counts;
    f.asked = f.plan.rows;
    f.rows = shard.index_select(0, f.asked);
  } else {
    const std::string what = t.name + " rows (" + where + ")";
    f.recv_counts = dist_->exchange_counts(f.plan.counts, what);
    f.asked =
        dist_->all_to_all(f.plan.rows, f.plan.counts, f.recv_counts, "the ids of " + what) - t.lo;
    f.rows = dist_->all_to_all(shard.index_select(0, f.asked), f.recv_counts, f.plan.counts,
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
  fetched_.push_back(fetch(tables_[0], users, where));
  fetched_.push_back(fetch(tables_[1], items, where));
  if (n == 0) return at::zeros({}, all.users.options().dtype(at::kFloat));
  // The share's batch, its ids replaced by their positions in the fetched rows.
  Batch batch;
  batch.users = fetched_[0].plan.inverse;
  const at::Tensor item_pos = fetched_[1].plan.inverse;
  batch.positives = item_pos.narrow(0, 0, n);
  if (negatives) batch.negatives = item_pos.narrow(0, n, item_pos.numel() - n).view({n, -1});
  if (all.targets.defined()) batch.targets = all.targets.narrow(0, start + a, n);
  FetchedTables model(fetched_[0].rows, fetched_[1].rows);
  const at::Tensor loss = objective(model, model.parameters(), batch);
  return dist_ ? loss * (static_cast<double>(n) / static_cast<double>(len)) : loss;
}

void ShardedEmbeddings::give_back(Table& t, const Fetched& f, const std::string& where) {
  const at::Tensor g = f.rows.grad().defined() ? f.rows.grad() : at::zeros_like(f.rows);
  const at::Tensor back =
      dist_ ? dist_->all_to_all(g, f.plan.counts, f.recv_counts,
                                "the gradients of " + t.name + " rows (" + where + ")")
            : g;
  t.shard.mutable_grad().index_add_(0, f.asked, back);
}

at::Tensor ShardedEmbeddings::return_gradients(const at::Tensor& loss, const std::string& where) {
  for (size_t j = 0; j < tables_.size(); ++j) give_back(tables_[j], fetched_[j], where);
  fetched_.clear();
  // The loss summed over the ranks (no gradient to add: an empty list).
  return dist_ ? dist_->sum_gradients({}, loss, where) : loss.detach();
}

void ShardedEmbeddings::step() { shard_adam_.step(); }

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
