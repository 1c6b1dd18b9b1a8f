// GRU4Rec (Hidasi, Karatzoglou, Baltrunas and Tikk, "Session-based
// Recommendations with Recurrent Neural Networks", ICLR 2016): a GRU reads
// a user's items one at a time, in time order, and scores every item as the
// next one. As in the paper the input is the item's one-hot vector, so the
// input weights are a table of 3·d gate rows per item; the output layer is
// an item table with a bias, so the score of item i after hidden state h is
// h·W_i + b_i and the model ranks like a factor model ([h, 1]·[W_i, b_i]).
// Trained on session-parallel mini-batches (models/gru4rec.h), one step of
// back-propagation per item (the hidden state is carried between mini-batches
// but not differentiated through, as in the reference code), with the
// mini-batch's other targets as the negatives: BPR (paper section 3.1.2), or
// the softmax cross-entropy over all items. Dropout on the hidden state (paper:
// 0.5). A user's ranking state is the hidden state after its whole training
// sequence, so the item predicted is the one after its last training item
// (`--split loo`: the latest interaction by time is the test item).
#include "models/gru4rec.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include <ATen/ATen.h>

#include "base/random.h"
#include "models/graph_model.h"
#include "models/model.h"

namespace gnnrec {

std::vector<std::vector<int32_t>> time_ordered_items(const BipartiteGraph& g) {
  if (g.num_edges() > 0 && g.timestamp().empty()) {
    throw std::invalid_argument(
        "--model gru4rec reads each user's items in time order, but the training data has no "
        "timestamps (use a data set with them, e.g. MovieLens, with --split loo)");
  }
  std::vector<std::vector<int32_t>> out(static_cast<size_t>(g.num_users()));
  std::vector<int64_t> pos;
  for (int64_t u = 0; u < g.num_users(); ++u) {
    const int64_t b = g.user_offsets()[u], e = g.user_offsets()[u + 1];
    pos.resize(static_cast<size_t>(e - b));
    std::iota(pos.begin(), pos.end(), b);
    // CSR rows hold items ascending, so a stable sort by time breaks ties by item.
    std::stable_sort(pos.begin(), pos.end(),
                     [&](int64_t x, int64_t y) { return g.timestamp()[x] < g.timestamp()[y]; });
    for (int64_t p : pos) out[static_cast<size_t>(u)].push_back(g.user_items()[p]);
  }
  return out;
}

std::vector<SessionStep> session_parallel_steps(const std::vector<int64_t>& lengths,
                                                const std::vector<int64_t>& order, int64_t slots) {
  struct Slot {
    int64_t session = -1, position = 0;
    bool fresh = true;
  };
  size_t next = 0;
  // The next session of `order` with a next item, or -1.
  auto take = [&]() -> int64_t {
    while (next < order.size() && lengths[static_cast<size_t>(order[next])] < 2) ++next;
    return next < order.size() ? order[next++] : -1;
  };
  std::vector<Slot> slot(static_cast<size_t>(std::max<int64_t>(slots, 1)));
  for (Slot& s : slot) s.session = take();
  std::vector<SessionStep> steps;
  for (;;) {
    SessionStep step;
    for (size_t k = 0; k < slot.size(); ++k) {
      Slot& s = slot[k];
      if (s.session < 0) continue;
      step.slot.push_back(static_cast<int64_t>(k));
      step.session.push_back(s.session);
      step.position.push_back(s.position);
      step.fresh.push_back(s.fresh);
      s.fresh = false;
      if (++s.position + 1 >= lengths[static_cast<size_t>(s.session)]) s = Slot{take(), 0, true};
    }
    if (step.slot.empty()) return steps;
    steps.push_back(std::move(step));
  }
}

at::Tensor gru4rec_cell(const at::Tensor& items, const at::Tensor& h, const at::Tensor& item_gates,
                        const at::Tensor& hidden_gates, const at::Tensor& input_bias,
                        const at::Tensor& hidden_bias) {
  const at::Tensor gi = item_gates.index_select(0, items) + input_bias;
  const at::Tensor gh = at::addmm(hidden_bias, h, hidden_gates.t());
  const auto i = gi.chunk(3, 1), g = gh.chunk(3, 1);
  const at::Tensor r = at::sigmoid(i[0] + g[0]);
  const at::Tensor z = at::sigmoid(i[1] + g[1]);
  const at::Tensor n = at::tanh(i[2] + r * g[2]);
  return (1 - z) * n + z * h;
}

at::Tensor gru4rec_step_loss(const at::Tensor& h, const at::Tensor& target,
                             const at::Tensor& output, const at::Tensor& output_bias,
                             bool cross_entropy) {
  if (cross_entropy) return at::cross_entropy_loss(at::addmm(output_bias, h, output.t()), target);
  const at::Tensor scores = at::addmm(output_bias.index_select(0, target).unsqueeze(0), h,
                                      output.index_select(0, target).t());
  const int64_t n = scores.size(0);
  const at::Tensor others = 1 - at::eye(n, scores.options());
  return (at::softplus(scores - scores.diagonal().unsqueeze(1)) * others).sum() /
         static_cast<double>(n * (n - 1));
}

namespace {

at::Tensor zero_parameter(at::IntArrayRef shape, at::Device device) {
  return at::zeros(shape, at::kFloat).to(device).requires_grad_(true);
}

at::Tensor long_tensor(const std::vector<int64_t>& v, at::Device device) {
  return at::tensor(v, at::kLong).to(device);
}

class Gru4Rec : public Model {
 public:
  Gru4Rec(const ModelOptions& o, const PropagationGraph& g, at::Device device)
      : sequences_(time_ordered_items(g.graph())), dim_(o.dim), device_(device),
        dropout_(checked_probability("--dropout", o.dropout.value())),
        // Glorot-uniform over each table's two sides, as the reference code.
        item_gates_(xavier_parameter({g.graph().num_items(), 3 * o.dim}, g.graph().num_items(),
                                     3 * o.dim, o.seed, 61, device)),
        hidden_gates_(xavier_parameter({3 * o.dim, o.dim}, o.dim, 3 * o.dim, o.seed, 62, device)),
        input_bias_(zero_parameter({3 * o.dim}, device)),
        hidden_bias_(zero_parameter({3 * o.dim}, device)),
        output_(xavier_parameter({g.graph().num_items(), o.dim}, g.graph().num_items(), o.dim,
                                 o.seed, 63, device)),
        output_bias_(zero_parameter({g.graph().num_items()}, device)) {}

  std::string name() const override { return "gru4rec"; }

  // Users' final hidden states [U, d] and the output table [I, d].
  std::pair<at::Tensor, at::Tensor> forward() override { return {final_states(), output_}; }

  std::pair<at::Tensor, at::Tensor> ranking() override {
    const at::Tensor h = final_states();
    return {at::cat({h, at::ones({h.size(0), 1}, h.options())}, 1),
            at::cat({output_, output_bias_.unsqueeze(1)}, 1)};
  }

  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor& /*users*/,
                                        const at::Tensor& /*items*/) override {
    throw std::logic_error("gru4rec has no ego embeddings: it trains on its own batches");
  }

  std::vector<NamedTensor> parameters() override {
    return {{"item_gates", item_gates_}, {"hidden_gates", hidden_gates_},
            {"input_bias", input_bias_}, {"hidden_bias", hidden_bias_},
            {"output", output_},         {"output_bias", output_bias_}};
  }

  bool own_batches() const override { return true; }

  double own_epoch(uint64_t seed, int64_t batch_size, bool cross_entropy,
                   const std::function<double(const at::Tensor&)>& step) override {
    if (batch_size < 2) {
      throw std::invalid_argument(
          "--model gru4rec contrasts each target with the other sessions' in its mini-batch: "
          "--batch-size must be at least 2");
    }
    std::vector<int64_t> lengths, order(sequences_.size());
    for (const auto& s : sequences_) lengths.push_back(static_cast<int64_t>(s.size()));
    std::iota(order.begin(), order.end(), 0);
    SplitMix64 rng(seed);
    shuffle(order, rng);
    const std::vector<SessionStep> steps = session_parallel_steps(lengths, order, batch_size);
    at::Tensor state = at::zeros({std::max<int64_t>(batch_size, 1), dim_},
                                 at::TensorOptions().dtype(at::kFloat).device(device_));
    double sum = 0;
    int64_t batches = 0;
    for (const SessionStep& s : steps) {
      // One row has no other target to contrast with: its step is skipped.
      if (s.slot.size() < 2) continue;
      std::vector<int64_t> input, target;
      for (size_t r = 0; r < s.slot.size(); ++r) {
        const auto& seq = sequences_[static_cast<size_t>(s.session[r])];
        input.push_back(seq[static_cast<size_t>(s.position[r])]);
        target.push_back(seq[static_cast<size_t>(s.position[r]) + 1]);
      }
      const at::Tensor slot = long_tensor(s.slot, device_);
      std::vector<int64_t> kept;  // rows whose session carries on
      for (size_t r = 0; r < s.fresh.size(); ++r) kept.push_back(s.fresh[r] ? 0 : 1);
      const at::Tensor h0 =
          state.index_select(0, slot) * long_tensor(kept, device_).to(at::kFloat).unsqueeze(1);
      const at::Tensor h = gru4rec_cell(long_tensor(input, device_), h0, item_gates_, hidden_gates_,
                                        input_bias_, hidden_bias_);
      const at::Tensor hd = training() && dropout_ > 0 ? at::dropout(h, dropout_, true) : h;
      const at::Tensor loss =
          gru4rec_step_loss(hd, long_tensor(target, device_), output_, output_bias_, cross_entropy);
      sum += step(loss);
      ++batches;
      state.index_copy_(0, slot, h.detach());
    }
    return batches > 0 ? sum / static_cast<double>(batches) : 0.0;
  }

 private:
  // The hidden state after each user's whole training sequence (zero for a
  // user without one), users stepped together, longest sequences first.
  at::Tensor final_states() const {
    const int64_t users = static_cast<int64_t>(sequences_.size());
    std::vector<int64_t> by_length(static_cast<size_t>(users));
    std::iota(by_length.begin(), by_length.end(), 0);
    std::stable_sort(by_length.begin(), by_length.end(), [&](int64_t a, int64_t b) {
      return sequences_[static_cast<size_t>(a)].size() > sequences_[static_cast<size_t>(b)].size();
    });
    const auto length = [&](int64_t k) {
      return static_cast<int64_t>(sequences_[static_cast<size_t>(by_length[k])].size());
    };
    at::Tensor h = at::zeros({users, dim_}, at::TensorOptions().dtype(at::kFloat).device(device_));
    std::vector<int64_t> items;
    for (int64_t t = 0, active = users; users > 0; ++t) {
      while (active > 0 && length(active - 1) <= t) --active;
      if (active == 0) break;
      items.clear();
      for (int64_t k = 0; k < active; ++k) {
        items.push_back(sequences_[static_cast<size_t>(by_length[k])][static_cast<size_t>(t)]);
      }
      const at::Tensor next = gru4rec_cell(long_tensor(items, device_), h.narrow(0, 0, active),
                                           item_gates_, hidden_gates_, input_bias_, hidden_bias_);
      h = at::cat({next, h.narrow(0, active, users - active)});
    }
    // Back from length order to user order.
    return at::empty_like(h).index_copy_(0, long_tensor(by_length, device_), h);
  }

  std::vector<std::vector<int32_t>> sequences_;
  int64_t dim_;
  at::Device device_;
  double dropout_;
  at::Tensor item_gates_, hidden_gates_, input_bias_, hidden_bias_, output_, output_bias_;
};

// The paper's dropout and 50 parallel sessions; no L2: under Adam, a whole-table
// L2 shrinks each input row by about the learning rate at every step that
// does not read it (docs/models.md#gru4rec).
const ModelRegistrar kRegister("gru4rec", factory_of<Gru4Rec>(),
                               ModelDefaults().dropout(0.5).batch_size(50).reg(0));

}  // namespace
}  // namespace gnnrec
