// Mult-VAE and Mult-DAE (Liang, Krishnan, Hoffman & Jebara, WWW 2018,
// "Variational Autoencoders for Collaborative Filtering"): an autoencoder
// of each user's binary row x_u of training items, scored by its decoder's
// logits over all items. With x̃ = dropout(x_u / ‖x_u‖) (dropout only in
// training) and tanh on every hidden layer:
//   multvae: [mu, logvar] = W2 tanh(W1 x̃ + b1) + b2    (encoder I -> H -> 2L)
//            z = mu + ε ⊙ exp(½ logvar), ε ~ N(0, I) in training, z = mu
//            in evaluation
//   multdae: z = tanh(W2 tanh(W1 x̃ + b1) + b2)          (I -> H -> L)
//   logits = D2 tanh(D1 z + c1) + c2                    (decoder L -> H -> I)
// and the loss of a batch of users B is
//   (1/|B|) Σ_{u ∈ B} [ −Σ_i x_ui log softmax(logits_u)_i + β · KL_u ]
// (models/multvae.h), β = min(β_max, updates / total_anneal_steps) for
// multvae (0 for multdae), the update counter counting every loss computed
// in training and kept as the parameter "anneal_step", so that a
// checkpoint carries it and --resume continues the schedule exactly.
// Defaults as the paper: H 600 (--vae-hidden), L 200 (--vae-latent),
// dropout 0.5, β_max 0.2 (--anneal-cap) over 200,000 updates
// (--anneal-steps); weights Glorot-uniform, biases 0.
//
// The trainer's batches are training pairs: a batch's users are its
// distinct users, each with its whole training row (the model's own loss,
// Model::own_loss; the positives are not used otherwise). An epoch is one
// pass over the pairs, so a user's row is fitted once per batch that holds
// one of its pairs, not once per epoch as in the paper's batches of users.
// The trainer adds --reg · ½ Σ‖p‖² over the weights (the paper: 0 for
// Mult-VAE, 0.01 for Mult-DAE). Scores are rows (Model::ranks_rows): the
// decoder's logits for a chunk of users at a time.
#include "models/multvae.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/model.h"

namespace gnnrec {

at::Tensor multinomial_nll(const at::Tensor& logits, const at::Tensor& x) {
  return -(at::log_softmax(logits, 1) * x).sum(1);
}

at::Tensor gaussian_kl(const at::Tensor& mu, const at::Tensor& logvar) {
  return (1 + logvar - mu.pow(2) - logvar.exp()).sum(1) * -0.5;
}

double kl_anneal(int64_t step, int64_t total_steps, double cap) {
  if (total_steps <= 0) return cap;
  return std::min(cap, static_cast<double>(step) / static_cast<double>(total_steps));
}

namespace {

// Users scored at once by ranking_rows: [512, I] rows (84 MB on Gowalla).
constexpr int64_t kUsersPerBlock = 512;

class MultVae : public Model {
 public:
  MultVae(const ModelOptions& o, const PropagationGraph& pg, at::Device device, bool variational)
      : graph_(pg.graph()), variational_(variational), dropout_(o.dropout.value()),
        latent_(o.vae_latent.value()), cap_(o.anneal_cap.value()),
        total_steps_(o.anneal_steps.value()), device_(device) {
    const int64_t I = graph_.num_items(), H = o.vae_hidden.value(), L = latent_;
    const int64_t out = variational ? 2 * L : L;
    const auto weight = [&](int64_t in, int64_t to, uint64_t stream) {
      return xavier_parameter({in, to}, in, to, o.seed, stream, device);
    };
    const auto bias = [&](int64_t n) {
      return at::zeros({n}, at::TensorOptions(device).dtype(at::kFloat)).requires_grad_(true);
    };
    params_ = {{"encoder_w1", weight(I, H, 41)},   {"encoder_b1", bias(H)},
               {"encoder_w2", weight(H, out, 42)}, {"encoder_b2", bias(out)},
               {"decoder_w1", weight(L, H, 43)},   {"decoder_b1", bias(H)},
               {"decoder_w2", weight(H, I, 44)},   {"decoder_b2", bias(I)}};
    if (variational) {
      step_ = at::zeros({1}, at::TensorOptions(device).dtype(at::kLong));
      params_.push_back({"anneal_step", step_});
    }
  }

  std::string name() const override { return variational_ ? "multvae" : "multdae"; }
  std::pair<at::Tensor, at::Tensor> forward() override {
    throw std::logic_error(name() + " has no embeddings: its scores are its decoder's rows " +
                           "(Model::ranking_rows)");
  }
  std::pair<at::Tensor, at::Tensor> ego(const at::Tensor&, const at::Tensor&) override {
    return forward();
  }
  std::vector<NamedTensor> parameters() override { return params_; }
  bool ranks_rows() const override { return true; }
  bool has_own_loss() const override { return true; }

  at::Tensor own_loss(const at::Tensor& users, const at::Tensor& /*positives*/) override {
    const at::Tensor unique = std::get<0>(at::_unique(users, /*sorted=*/true));
    const at::Tensor x = rows_of(unique);
    const auto [logits, mu, logvar] = run(x);
    at::Tensor loss = multinomial_nll(logits, x).mean();
    if (variational_) {
      if (training_) {
        at::NoGradGuard no_grad;
        step_.add_(1);
      }
      const double beta = kl_anneal(step_.item<int64_t>(), total_steps_, cap_);
      loss = loss + gaussian_kl(mu, logvar).mean() * beta;
    }
    return loss;
  }

  at::Tensor ranking_rows(const at::Tensor& users_in) override {
    at::NoGradGuard no_grad;
    const at::Tensor users = users_in.to(device_, at::kLong);
    std::vector<at::Tensor> blocks;
    for (int64_t s = 0; s < users.numel(); s += kUsersPerBlock) {
      const at::Tensor block = users.narrow(0, s, std::min(kUsersPerBlock, users.numel() - s));
      blocks.push_back(std::get<0>(run(rows_of(block))));
    }
    if (blocks.empty()) return at::zeros({0, graph_.num_items()}, params_[0].tensor.options());
    return at::cat(blocks);
  }

 private:
  const at::Tensor& p(size_t k) const { return params_[k].tensor; }

  // The users' binary training rows [n, I] (float32, on the device).
  at::Tensor rows_of(const at::Tensor& users_in) const {
    const at::Tensor users = users_in.to(at::kCPU, at::kLong).contiguous();
    const auto& off = graph_.user_offsets();
    const auto& items = graph_.user_items();
    std::vector<int64_t> row, col;
    const int64_t* up = users.data_ptr<int64_t>();
    for (int64_t j = 0; j < users.numel(); ++j) {
      for (int64_t e = off[up[j]]; e < off[up[j] + 1]; ++e)
        row.push_back(j), col.push_back(items[e]);
    }
    at::Tensor x = at::zeros({users.numel(), graph_.num_items()},
                             at::TensorOptions(device_).dtype(at::kFloat));
    if (row.empty()) return x;
    x.index_put_({at::tensor(row, at::kLong).to(device_), at::tensor(col, at::kLong).to(device_)},
                 at::ones({static_cast<int64_t>(row.size())}, x.options()));
    return x;
  }

  // (logits, mu, logvar) of rows x; mu and logvar undefined for multdae.
  std::tuple<at::Tensor, at::Tensor, at::Tensor> run(const at::Tensor& x) const {
    at::Tensor h = x / x.norm(2, {1}, /*keepdim=*/true).clamp_min(1e-12);
    if (training_ && dropout_ > 0) h = at::dropout(h, dropout_, /*train=*/true);
    h = at::tanh(at::addmm(p(1), h, p(0)));
    const at::Tensor out = at::addmm(p(3), h, p(2));
    at::Tensor z, mu, logvar;
    if (variational_) {
      mu = out.narrow(1, 0, latent_);
      logvar = out.narrow(1, latent_, latent_);
      z = training_ ? mu + at::randn_like(mu) * (logvar * 0.5).exp() : mu;
    } else {
      z = at::tanh(out);
    }
    const at::Tensor logits = at::addmm(p(7), at::tanh(at::addmm(p(5), z, p(4))), p(6));
    return {logits, mu, logvar};
  }

  const BipartiteGraph& graph_;
  bool variational_;
  double dropout_;
  int64_t latent_;
  double cap_;
  int64_t total_steps_;
  at::Device device_;
  std::vector<NamedTensor> params_;
  at::Tensor step_;  // multvae: updates so far, int64 [1]
};

template <bool kVariational>
std::unique_ptr<Model> make(const ModelOptions& o, const PropagationGraph& g, at::Device d) {
  return std::make_unique<MultVae>(o, g, d, kVariational);
}

// The paper's settings, its L2 included (none for Mult-VAE, 0.01 for Mult-DAE).
const ModelRegistrar kMultVae("multvae", make<true>,
                              ModelDefaults()
                                  .dropout(0.5)
                                  .vae_hidden(600)
                                  .vae_latent(200)
                                  .anneal_cap(0.2)
                                  .anneal_steps(200000)
                                  .reg(0));
const ModelRegistrar kMultDae("multdae", make<false>,
                              ModelDefaults()
                                  .dropout(0.5)
                                  .vae_hidden(600)
                                  .vae_latent(200)
                                  .anneal_cap(0.0)
                                  .anneal_steps(0)
                                  .reg(0.01));

}  // namespace
}  // namespace gnnrec
