// The load generator of bench/serve_load.py: several client threads send
// `GET /recommend?user=ID&k=K[&index=hnsw]` to a running `gnnrec serve` on
// 127.0.0.1 for a fixed time, each on its own keep-alive connection (one
// request at a time per thread, users taken in turn from a file), and the
// latencies of all requests are reported as JSON on stdout: requests,
// non-200 answers, requests per second, p50/p90/p99/max in milliseconds.
//
//   build/gnnrec_bench_serve_load --port P --users FILE [--threads 4]
//       [--seconds 10] [--k 20] [--index hnsw]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0, threads = 4;
  double seconds = 10;
  int k = 20;
  std::string users, index;
};

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t at = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[at];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int a = 1; a + 1 < argc; a += 2) {
    const std::string flag = argv[a], v = argv[a + 1];
    if (flag == "--port") o.port = std::stoi(v);
    else if (flag == "--threads") o.threads = std::stoi(v);
    else if (flag == "--seconds") o.seconds = std::stod(v);
    else if (flag == "--k") o.k = std::stoi(v);
    else if (flag == "--users") o.users = v;
    else if (flag == "--index") o.index = v;
  }
  std::vector<std::string> users;
  std::ifstream in(o.users);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) users.push_back(line);
  }
  if (o.port <= 0 || users.empty()) {
    std::fprintf(stderr, "usage: gnnrec_bench_serve_load --port P --users FILE [...]\n");
    return 1;
  }
  const std::string suffix =
      "&k=" + std::to_string(o.k) + (o.index.empty() ? "" : "&index=" + o.index);
  std::vector<std::vector<double>> latencies(static_cast<size_t>(o.threads));
  std::atomic<int64_t> failures{0};
  const auto deadline = Clock::now() + std::chrono::duration<double>(o.seconds);
  const auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < o.threads; ++t) {
    pool.emplace_back([&, t] {
      httplib::Client cli("127.0.0.1", o.port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      size_t next = static_cast<size_t>(t) * 7919;
      while (Clock::now() < deadline) {
        const std::string path = "/recommend?user=" + users[next++ % users.size()] + suffix;
        const auto t0 = Clock::now();
        const auto res = cli.Get(path.c_str());
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (!res || res->status != 200) ++failures;
        latencies[static_cast<size_t>(t)].push_back(ms);
      }
    });
  }
  for (std::thread& t : pool) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  const nlohmann::json out{{"requests", all.size()},
                           {"non_200", failures.load()},
                           {"seconds", elapsed},
                           {"requests_per_second", static_cast<double>(all.size()) / elapsed},
                           {"p50_ms", percentile(all, 0.50)},
                           {"p90_ms", percentile(all, 0.90)},
                           {"p99_ms", percentile(all, 0.99)},
                           {"max_ms", all.empty() ? 0.0 : all.back()},
                           {"client_threads", o.threads},
                           {"k", o.k},
                           {"index", o.index.empty() ? "exact" : o.index}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
