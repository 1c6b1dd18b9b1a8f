#include "models/layers.h"

#include <stdexcept>

#include <ATen/ATen.h>

#include "kernels/ops.h"
#include "models/model.h"

namespace gnnrec::layers {

at::Tensor Linear::operator()(const at::Tensor& x) const { return at::linear(x, weight, bias); }

Linear make_linear(int64_t in, int64_t out, bool bias, uint64_t seed, uint64_t stream,
                   at::Device device) {
  Linear l;
  l.weight = xavier_parameter({out, in}, in, out, seed, stream, device);
  if (bias) l.bias = at::zeros({out}, at::TensorOptions(device).dtype(at::kFloat)).requires_grad_();
  return l;
}

at::Tensor gcn_conv(const AdjacencyProduct& adj, const at::Tensor& x, const Linear& lin) {
  // Transform first: the sparse product (and a rank's halo exchange) then
  // runs at the (usually no larger) output width, as in GCNConv.
  at::Tensor y = adj(at::linear(x, lin.weight));
  return lin.bias.defined() ? y + lin.bias : y;
}

void check_sage_aggregator(const std::string& aggregator) {
  if (aggregator != "mean" && aggregator != "max" && aggregator != "pool" &&
      aggregator != "lstm") {
    throw std::invalid_argument("--aggregator must be one of mean, max, pool, lstm; got '" +
                                aggregator + "'");
  }
}

namespace {

// The LSTM aggregate of a fixed-fanout block: [rows, fanout, d] sequences,
// last hidden state; rows without neighbours give 0.
at::Tensor lstm_aggregate(const SparseAdjacency& adj, const at::Tensor& x_src, const Lstm& lstm,
                          bool shuffle) {
  const at::Tensor deg = adj.rowptr.narrow(0, 1, adj.num_rows) - adj.rowptr.narrow(0, 0, adj.num_rows);
  const at::Tensor nonempty = deg.gt(0);
  const int64_t d = x_src.size(1);
  at::Tensor out = at::zeros({adj.num_rows, d}, x_src.options());
  const int64_t active = nonempty.sum().item<int64_t>();
  if (active == 0) return out;
  const int64_t fanout = deg.max().item<int64_t>();
  if (deg.masked_select(nonempty).min().item<int64_t>() != fanout) {
    throw std::invalid_argument(
        "sage lstm aggregator: every destination must have the same number of neighbours (a "
        "sampled block with a fixed fanout)");
  }
  // Non-empty rows are contiguous runs of `fanout` entries in CSR order.
  at::Tensor seq = x_src.index_select(0, adj.col.to(at::kLong)).view({active, fanout, d});
  if (shuffle) {
    // A uniform random order of each row's neighbours (Torch's generator).
    const at::Tensor order = at::rand({active, fanout}, x_src.options()).argsort(/*stable=*/false, /*dim=*/1);
    seq = seq.gather(1, order.unsqueeze(2).expand({active, fanout, d}));
  }
  const at::Tensor h0 = at::zeros({1, active, d}, x_src.options());
  auto result = at::lstm(seq, {h0, h0}, {lstm.w_ih, lstm.w_hh, lstm.b_ih, lstm.b_hh},
                         /*has_biases=*/true, /*num_layers=*/1, /*dropout=*/0.0,
                         /*train=*/false, /*bidirectional=*/false, /*batch_first=*/true);
  const at::Tensor last = std::get<1>(result).squeeze(0);  // [active, d]
  return out.index_put({nonempty}, last);
}

}  // namespace

at::Tensor sage_conv(const SparseAdjacency& adj, const at::Tensor& x_src, const at::Tensor& x_dst,
                     const SageLayer& layer, bool shuffle) {
  check_sage_aggregator(layer.aggregator);
  at::Tensor agg;
  if (layer.aggregator == "lstm") {
    agg = lstm_aggregate(adj, x_src, layer.lstm, shuffle);
  } else {
    const at::Tensor h = layer.aggregator == "pool" ? at::relu(layer.proj(x_src)) : x_src;
    const std::string reduce = layer.aggregator == "mean" ? "mean" : "max";
    agg = std::get<0>(
        ops::spmm_reduce(adj.rowptr, adj.col, adj.t_rowptr, adj.t_col, adj.t_perm, h, reduce));
  }
  return layer.lin_l(agg) + at::linear(x_dst, layer.lin_r.weight);
}

at::Tensor gat_conv(const SparseAdjacency& adj, const at::Tensor& x, const GatLayer& layer,
                    double attention_dropout, bool training) {
  const int64_t n = x.size(0), heads = layer.heads, channels = layer.att_src.size(1);
  const at::Tensor h = at::linear(x, layer.lin.weight).view({n, heads, channels});
  const at::Tensor a_src = (h * layer.att_src).sum(-1);  // [n, heads]
  const at::Tensor a_dst = (h * layer.att_dst).sum(-1);
  // Row = destination i, column = source j: logit a_dst[i] + a_src[j].
  at::Tensor alpha = ops::sddmm_add(adj.rowptr, adj.col, adj.t_rowptr, adj.t_col, adj.t_perm,
                                    a_dst, a_src);
  alpha = at::leaky_relu(alpha, layer.negative_slope);
  alpha = ops::edge_softmax(adj.rowptr, alpha);
  if (training && attention_dropout > 0) alpha = at::dropout(alpha, attention_dropout, true);
  // One spmm per head over head-major copies: unbind's backward is one
  // stack, where per-head select()s would each scatter into a full-size
  // zero gradient.
  const std::vector<at::Tensor> alpha_h = alpha.t().contiguous().unbind(0);
  const std::vector<at::Tensor> x_h = h.permute({1, 0, 2}).contiguous().unbind(0);
  std::vector<at::Tensor> per_head;
  per_head.reserve(heads);
  for (int64_t k = 0; k < heads; ++k) {
    per_head.push_back(ops::spmm(adj.rowptr, adj.col, alpha_h[k], adj.t_rowptr, adj.t_col,
                                 adj.t_perm, x_h[k]));
  }
  at::Tensor out = layer.concat ? at::cat(per_head, 1) : at::stack(per_head, 0).mean(0);
  return layer.bias.defined() ? out + layer.bias : out;
}

at::Tensor ngcf_conv(const AdjacencyProduct& adj, const at::Tensor& x, const NgcfLayer& layer) {
  const at::Tensor side = adj(x);
  return at::leaky_relu(layer.w1(x + side) + layer.w2(side * x), 0.2);
}

}  // namespace gnnrec::layers
