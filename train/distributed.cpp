#include "train/distributed.h"

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <c10/util/Logging.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(GNNREC_WITH_CUDA) && defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace gnnrec {
namespace {

using std::chrono::milliseconds;

// A gradient goes as its non-zero rows (ids and values, all-gathered)
// instead of whole (all-reduced) when its parameter is a table of at least
// this many elements and the rows of every rank are fewer bytes.
constexpr int64_t kRowsMinElements = int64_t{1} << 16;
// Whole gradients are all-reduced in buckets of at most this many bytes
// (PyTorch DDP's default bucket_cap_mb, 25 MiB), all in flight at once.
constexpr int64_t kBucketBytes = int64_t{25} << 20;

c10::Device p_device(const std::vector<at::Tensor>& params) {
  return params.empty() ? c10::Device(at::kCPU) : params[0].device();
}

milliseconds to_ms(double seconds) { return milliseconds(static_cast<int64_t>(seconds * 1000)); }

// An integer environment variable in [lo, hi]; nullopt when unset.
std::optional<int> env_int(const char* name, int lo, int hi) {
  const char* v = std::getenv(name);
  if (v == nullptr) return std::nullopt;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*v == '\0' || *end != '\0' || x < lo || x > hi) {
    throw std::invalid_argument(std::string(name) + "='" + v + "': expected an integer in [" +
                                std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int>(x);
}

int required_int(const char* name, int lo, int hi) {
  const auto v = env_int(name, lo, hi);
  if (!v) {
    throw std::invalid_argument(std::string("WORLD_SIZE is set but ") + name +
                                " is not (launch with torchrun, or set RANK, WORLD_SIZE, "
                                "MASTER_ADDR and MASTER_PORT)");
  }
  return *v;
}

// The first line of an error, without c10's backtrace.
std::string first_line(const std::exception& e) {
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string s = c10 ? c10->what_without_backtrace() : e.what();
  const size_t nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s.size() > 240 ? s.substr(0, 240) + "..." : s;
}

c10::intrusive_ptr<c10d::Store> connect_store(const DistEnv& env, bool server,
                                              milliseconds timeout) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<uint16_t>(env.master_port);
  o.isServer = server;
  // Gloo's and NCCL's own rendezvous (keys in this store) wait for every
  // rank, within `timeout`; the store does not count its clients.
  o.waitWorkers = false;
  o.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
}

// Keys of this run's rendezvous: torchrun's agent store holds its own too.
std::string key_prefix() {
  const char* restarts = std::getenv("TORCHELASTIC_RESTART_COUNT");
  return std::string("gnnrec/") + (restarts ? restarts : "0");
}

}  // namespace

std::optional<DistEnv> DistEnv::from_environment() {
  const auto world = env_int("WORLD_SIZE", 1, 1 << 20);
  if (!world) return std::nullopt;
  DistEnv e;
  e.world_size = *world;
  e.rank = required_int("RANK", 0, e.world_size - 1);
  e.local_rank = env_int("LOCAL_RANK", 0, e.world_size - 1).value_or(0);
  e.master_port = required_int("MASTER_PORT", 1, 65535);
  const char* addr = std::getenv("MASTER_ADDR");
  if (addr == nullptr || *addr == '\0') {
    throw std::invalid_argument(
        "WORLD_SIZE is set but MASTER_ADDR is not (launch with torchrun, or set RANK, "
        "WORLD_SIZE, MASTER_ADDR and MASTER_PORT)");
  }
  e.master_addr = addr;
  const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
  e.agent_store = agent != nullptr && std::string(agent) == "True";
  return e;
}

struct Distributed::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> group;
  // The heartbeat: hb/RANK in the store, advanced every second.
  std::thread heartbeat;
  std::mutex mutex;
  std::condition_variable stop_cv;
  bool stop = false;

  void beat(const DistEnv& env, milliseconds timeout) {
    try {
      const auto own =
          c10::make_intrusive<c10d::PrefixStore>(key_prefix(), connect_store(env, false, timeout));
      const std::string key = "hb/" + std::to_string(env.rank);
      std::unique_lock<std::mutex> lock(mutex);
      while (!stop) {
        lock.unlock();
        own->add(key, 1);
        lock.lock();
        stop_cv.wait_for(lock, std::chrono::seconds(1), [this] { return stop; });
      }
    } catch (const std::exception&) {
      // The store is gone: the collectives report it.
    }
  }
};

Distributed::Distributed(const DistEnv& env, at::Device device, double timeout_seconds)
    : env_(env), timeout_seconds_(timeout_seconds), impl_(std::make_unique<Impl>()) {
  const milliseconds timeout = to_ms(timeout_seconds);
  // c10d logs each failed socket read with a stack trace; a fault here is
  // the one line wait() throws. TORCH_CPP_LOG_LEVEL=INFO brings the logs back.
  if (std::getenv("TORCH_CPP_LOG_LEVEL") == nullptr) {
    FLAGS_caffe2_log_level = c10::GLOG_FATAL;
    c10::UpdateLoggingLevelsFromFlags();
  }
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    impl_->store = c10::make_intrusive<c10d::PrefixStore>(
        key_prefix(), connect_store(env, env.rank == 0 && !env.agent_store, timeout));
    if (device.is_cuda()) {
#if defined(GNNREC_WITH_CUDA) && defined(USE_C10D_NCCL)
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      impl_->group =
          c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, env.rank, env.world_size, opts);
      backend_ = "nccl";
#else
      throw std::invalid_argument("--device " + device.str() +
                                  ": this gnnrec was built without CUDA and NCCL");
#endif
    } else {
      auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
      // As torch.distributed does: GLOO_SOCKET_IFNAME names the interface,
      // else the address this host's name resolves to (or loopback).
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      opts->devices.push_back(ifname && *ifname
                                  ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                  : c10d::ProcessGroupGloo::createDefaultDevice());
      impl_->group =
          c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, opts);
      backend_ = "gloo";
    }
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(env.rank) + " of " +
                             std::to_string(env.world_size) + ": rendezvous at " + where +
                             " failed within " + std::to_string(timeout_seconds).substr(0, 6) +
                             " s: " + first_line(e));
  }
  impl_->heartbeat = std::thread([this, timeout] { impl_->beat(env_, timeout); });
}

Distributed::~Distributed() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stop = true;
  }
  impl_->stop_cv.notify_all();
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
}

std::pair<int64_t, int64_t> Distributed::share(int64_t n) const {
  return share_of(n, env_.rank, env_.world_size);
}

std::pair<int64_t, int64_t> Distributed::share_of(int64_t n, int rank, int world) {
  const int64_t r = rank, w = world;
  return {n * r / w, n * (r + 1) / w};
}

void Distributed::wait(const std::string& what, const std::function<void()>& run) const {
  const double t0 =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  try {
    run();
    return;
  } catch (const std::exception& e) {
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count() -
        t0;
    // Which ranks stopped: those whose heartbeat does not advance.
    std::string who;
    try {
      const auto probe = c10::make_intrusive<c10d::PrefixStore>(
          key_prefix(), connect_store(env_, false, milliseconds(3000)));
      std::vector<int64_t> before(env_.world_size);
      for (int r = 0; r < env_.world_size; ++r)
        before[r] = probe->add("hb/" + std::to_string(r), 0);
      std::this_thread::sleep_for(milliseconds(2500));
      for (int r = 0; r < env_.world_size; ++r) {
        if (r != env_.rank && probe->add("hb/" + std::to_string(r), 0) == before[r]) {
          who += (who.empty() ? "rank " : ", rank ") + std::to_string(r);
        }
      }
      who = who.empty() ? "every rank's heartbeat still advances"
                        : who + " is not answering (died or hung)";
    } catch (const std::exception&) {
      who = "the rendezvous store at " + env_.master_addr + ":" + std::to_string(env_.master_port) +
            " is gone with its host (" + (env_.agent_store ? "torchrun's agent" : "rank 0") + ")";
    }
    throw std::runtime_error("rank " + std::to_string(env_.rank) + " of " +
                             std::to_string(env_.world_size) + ": " + what + " failed after " +
                             std::to_string(waited).substr(0, 5) + " s (--dist-timeout " +
                             std::to_string(timeout_seconds_).substr(0, 6) + "): " + who + " [" +
                             backend_ + ": " + first_line(e) + "]");
  }
}

std::vector<bool> Distributed::rows_plan(const std::vector<at::Tensor>& params,
                                         std::vector<at::Tensor>& rows, at::Tensor& most,
                                         const std::string& where) {
  const int64_t n = static_cast<int64_t>(params.size());
  std::vector<bool> as_rows(params.size(), false);
  at::Tensor counts = at::full({n}, -1, at::kLong);
  bool candidates = false;
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor& p = params[i];
    if (p.dim() != 2 || p.numel() < kRowsMinElements) continue;
    const at::Tensor& g = p.grad();
    rows[i] = g.defined() && !g.is_sparse() ? at::nonzero(g.ne(0).any(1)).view({-1})
                                            : at::empty({0}, p.options().dtype(at::kLong));
    counts[i] = rows[i].numel();
    candidates = true;
  }
  if (!candidates) return as_rows;
  std::vector<at::Tensor> c{counts.to(p_device(params))};
  c10d::AllreduceOptions max;
  max.reduceOp = c10d::ReduceOp::MAX;
  wait("all-reduce of the gradient row counts (" + where + ")",
       [&] { impl_->group->allreduce(c, max)->wait(); });
  most = c[0].cpu();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t t = most[i].item<int64_t>();
    if (t < 0) continue;
    // Rows all-gathered (ids and float32 values) against the table all-reduced.
    const int64_t d = params[i].size(1);
    as_rows[i] = env_.world_size * t * (4 * d + 8) < 4 * params[i].numel();
  }
  return as_rows;
}

void Distributed::sum_rows(const at::Tensor& p, const at::Tensor& rows, int64_t most, bool has,
                           const std::string& where) {
  const at::Tensor& g = p.grad();
  const int64_t d = p.size(1), t = rows.numel(), w = env_.world_size;
  const auto dev = p.options().device();
  // Padded to the largest count (all-gather takes equal sizes): ids -1.
  std::vector<at::Tensor> ids{at::full({most}, -1, at::TensorOptions(dev).dtype(at::kLong))};
  std::vector<at::Tensor> values{at::zeros({most, d}, p.options().dtype(at::kFloat))};
  if (t > 0) {
    ids[0].narrow(0, 0, t).copy_(rows);
    values[0].narrow(0, 0, t).copy_(g.index_select(0, rows));
  }
  std::vector<std::vector<at::Tensor>> all_ids(1), all_values(1);
  if (most > 0) {
    for (int64_t r = 0; r < w; ++r) {
      all_ids[0].push_back(at::empty_like(ids[0]));
      all_values[0].push_back(at::empty_like(values[0]));
    }
    wait("all-gather of the gradient rows (" + where + ")", [&] {
      impl_->group->allgather(all_ids, ids)->wait();
      impl_->group->allgather(all_values, values)->wait();
    });
    bytes_ += most * (4 * d + 8);
  }
  if (!has) return;
  // This rank's gradient is zero outside `rows`: zeroing those rows makes
  // it a zero table without a pass over the whole of it.
  at::Tensor& grad = p.mutable_grad();
  if (grad.defined() && !grad.is_sparse()) {
    grad.index_fill_(0, rows, 0);
  } else {
    grad = at::zeros_like(p);
  }
  // In rank order on every rank: the same sums, bit for bit.
  for (int64_t r = 0; r < (most > 0 ? w : 0); ++r) {
    const int64_t valid = all_ids[0][r].ge(0).sum().item<int64_t>();
    grad.index_add_(0, all_ids[0][r].narrow(0, 0, valid),
                    all_values[0][r].narrow(0, 0, valid).to(grad.scalar_type()));
  }
}

at::Tensor Distributed::sum_gradients(const std::vector<at::Tensor>& params, const at::Tensor& loss,
                                      const std::string& where) {
  const int64_t n = static_cast<int64_t>(params.size());
  const auto options = loss.options().dtype(at::kFloat);
  std::vector<at::Tensor> rows(params.size());
  at::Tensor most;
  const std::vector<bool> as_rows = rows_plan(params, rows, most, where);
  std::vector<at::Tensor> parts;
  parts.reserve(params.size() + 2);
  at::Tensor has = at::zeros({n}, at::kFloat);
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor& g = params[i].grad();
    has[i] = g.defined() ? 1 : 0;
    if (as_rows[i]) continue;
    parts.push_back(g.defined() ? (g.is_sparse() ? g.to_dense() : g).reshape({-1}).to(at::kFloat)
                                : at::zeros({params[i].numel()}, options));
  }
  parts.push_back(has.to(options.device()));
  parts.push_back(loss.detach().reshape({1}).to(options));
  const at::Tensor flat = at::cat(parts);
  // Buckets of at most kBucketBytes, all in flight at once.
  const int64_t per_bucket = kBucketBytes / 4;
  std::vector<std::vector<at::Tensor>> buckets;
  for (int64_t b = 0; b < flat.numel(); b += per_bucket) {
    buckets.push_back({flat.narrow(0, b, std::min(per_bucket, flat.numel() - b))});
  }
  wait("all-reduce of the gradients (" + where + ")", [&] {
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    for (auto& bucket : buckets) works.push_back(impl_->group->allreduce(bucket));
    for (auto& work : works) work->wait();
  });
  bytes_ += flat.numel() * 4;
  ++steps_;
  int64_t offset = 0;
  const at::Tensor has_sum = flat.narrow(0, flat.numel() - n - 1, n).cpu();
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor& p = params[i];
    const bool any = has_sum[i].item<float>() != 0;
    if (as_rows[i]) {
      sum_rows(p, rows[i], most[i].item<int64_t>(), any, where);
      continue;
    }
    const at::Tensor part = flat.narrow(0, offset, p.numel()).view(p.sizes());
    offset += p.numel();
    if (!any) continue;
    at::Tensor& g = p.mutable_grad();
    if (g.defined() && !g.is_sparse()) {
      g.copy_(part);
    } else {
      g = part.to(p.scalar_type()).clone();
    }
  }
  return flat.narrow(0, flat.numel() - 1, 1).reshape({});
}

void Distributed::sum(std::vector<at::Tensor>& tensors, const std::string& what) {
  for (at::Tensor& t : tensors) {
    std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
    wait("all-reduce of " + what, [&] { impl_->group->allreduce(one)->wait(); });
    if (!one[0].is_same(t)) t.copy_(one[0]);
  }
}

void Distributed::broadcast(const std::vector<at::Tensor>& tensors, const std::string& what) {
  for (const at::Tensor& t : tensors) {
    std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
    wait("broadcast of " + what, [&] { impl_->group->broadcast(one)->wait(); });
    if (!one[0].is_same(t)) t.copy_(one[0]);
  }
}

std::optional<std::pair<int64_t, int>> Distributed::first_difference(
    const std::vector<at::Tensor>& tensors, const std::string& what) {
  const int64_t n = static_cast<int64_t>(tensors.size()), w = env_.world_size;
  int64_t first = n;
  for (int64_t i = 0; i < n; ++i) {
    std::vector<at::Tensor> root{tensors[i].detach().contiguous().clone()};
    wait("broadcast of " + what, [&] { impl_->group->broadcast(root)->wait(); });
    if (first == n && !at::equal(root[0], tensors[i])) first = i;
  }
  // The lowest (tensor, rank) pair over the ranks.
  std::vector<at::Tensor> code{at::tensor({first * w + env_.rank}, at::kLong)
                                   .to(tensors.empty() ? at::kCPU : tensors[0].device())};
  c10d::AllreduceOptions min;
  min.reduceOp = c10d::ReduceOp::MIN;
  wait("comparison of " + what, [&] { impl_->group->allreduce(code, min)->wait(); });
  const int64_t c = code[0].item<int64_t>();
  if (c / w == n) return std::nullopt;
  return std::make_pair(c / w, static_cast<int>(c % w));
}

std::vector<int64_t> Distributed::exchange_counts(const std::vector<int64_t>& send_counts,
                                                  const std::string& what) {
  at::Tensor send = at::tensor(send_counts, at::kLong);
  at::Tensor recv = at::empty_like(send);
  std::vector<int64_t> equal;  // one count to each rank
  wait("all-to-all of the row counts of " + what,
       [&] { impl_->group->alltoall_base(recv, send, equal, equal)->wait(); });
  return {recv.data_ptr<int64_t>(), recv.data_ptr<int64_t>() + recv.numel()};
}

at::Tensor Distributed::all_to_all(const at::Tensor& send, const std::vector<int64_t>& send_counts,
                                   const std::vector<int64_t>& recv_counts,
                                   const std::string& what) {
  int64_t rows = 0;
  for (int64_t c : recv_counts) rows += c;
  std::vector<int64_t> shape = send.sizes().vec();
  shape[0] = rows;
  at::Tensor in = send.contiguous();
  at::Tensor out = at::empty(shape, send.options());
  std::vector<int64_t> sc = send_counts, rc = recv_counts;
  wait("all-to-all of " + what, [&] { impl_->group->alltoall_base(out, in, rc, sc)->wait(); });
  return out;
}

at::Tensor Distributed::all_gather_rows(const at::Tensor& local, int64_t n,
                                        const std::string& what) {
  // Gloo gathers equal parts: each share padded to the largest, then cut.
  const int64_t w = env_.world_size, most = (n + w - 1) / w;
  std::vector<int64_t> shape = local.sizes().vec();
  shape[0] = most;
  at::Tensor padded = at::zeros(shape, local.options());
  padded.narrow(0, 0, local.size(0)).copy_(local);
  std::vector<at::Tensor> in{padded};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int64_t r = 0; r < w; ++r) out[0].push_back(at::empty_like(padded));
  wait("all-gather of " + what, [&] { impl_->group->allgather(out, in)->wait(); });
  std::vector<at::Tensor> parts;
  for (int64_t r = 0; r < w; ++r) {
    const auto [lo, hi] = share_of(n, static_cast<int>(r), static_cast<int>(w));
    parts.push_back(out[0][r].narrow(0, 0, hi - lo));
  }
  return at::cat(parts);
}

}  // namespace gnnrec
