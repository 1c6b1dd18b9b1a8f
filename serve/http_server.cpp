#include "serve/http_server.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <exception>
#include <stdexcept>
#include <thread>

#include <httplib.h>

namespace gnnrec {
namespace {

// Keep-alive connections idle longer than this are closed; a stop waits for
// the workers, so it also bounds how long a stop can take.
constexpr time_t kKeepAliveSeconds = 2;
constexpr size_t kMaxBody = 1 << 20;

void send(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  res.set_content(reply.body.dump() + "\n", "application/json");
}

Params params_of(const httplib::Request& req) {
  Params out;
  for (const auto& [name, value] : req.params) out.emplace(name, value);
  return out;
}

void add_routes(httplib::Server& svr, const Service& service) {
  svr.Get("/health",
          [&](const httplib::Request&, httplib::Response& res) { send(res, service.health()); });
  svr.Get("/recommend", [&](const httplib::Request& req, httplib::Response& res) {
    send(res, service.recommend(params_of(req)));
  });
  svr.Post("/recommend", [&](const httplib::Request& req, httplib::Response& res) {
    send(res, service.recommend_new_user(params_of(req), req.body));
  });
  svr.Get("/similar", [&](const httplib::Request& req, httplib::Response& res) {
    send(res, service.similar(params_of(req)));
  });
  // Whatever the library answers on its own (no route: 404; a body past
  // kMaxBody: 413; a malformed request line: 400) gets a JSON error too.
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string what = res.status == 404 ? "no such endpoint: " + req.method + " " + req.path
                             : res.status == 413 ? "request body too large"
                                                 : "bad request";
    send(res, error_reply(res.status, what));
  });
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what += std::string(": ") + e.what();
        } catch (...) {
        }
        send(res, error_reply(500, what));
      });
}

sigset_t stop_signal_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_http_server(const Service& service, const HttpOptions& options) {
  // Blocked (again) before the workers start, so that they inherit the mask
  // and only the waiter below takes the signals.
  block_stop_signals();
  const sigset_t stop_signals = stop_signal_set();

  httplib::Server svr;
  const int threads = options.threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  // SO_REUSEADDR (a restart may bind while old connections linger in
  // TIME_WAIT) but not the library's default SO_REUSEPORT, with which a
  // second server would bind the same port and share its connections.
  svr.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // A reply is written in two pieces (headers, body): without TCP_NODELAY
  // Nagle's algorithm holds the second until the client's delayed ACK,
  // 40 ms later on Linux.
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_timeout(kKeepAliveSeconds);
  svr.set_payload_max_length(kMaxBody);
  add_routes(svr, service);

  int port = options.port;
  if (port == 0) {
    port = svr.bind_to_any_port(options.host);
  } else if (!svr.bind_to_port(options.host, port)) {
    port = -1;
  }
  if (port < 0) {
    throw std::runtime_error("cannot listen on " + options.host + ":" +
                             std::to_string(options.port) +
                             " (in use, or not an address of this machine)");
  }
  std::printf("listening on http://%s:%d\n", options.host.c_str(), port);
  std::fflush(stdout);

  std::atomic<bool> done{false};
  std::atomic<int> stopped_by{0};
  std::thread waiter([&] {
    const timespec tick{0, 100'000'000};
    while (!done.load()) {
      const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) stopped_by = sig;
      // Until listen_after_bind has returned: a stop before it started
      // listening would otherwise be lost.
      if (stopped_by.load() != 0) svr.stop();
    }
  });
  svr.listen_after_bind();
  done = true;
  waiter.join();
  return stopped_by.load();
}

}  // namespace gnnrec
