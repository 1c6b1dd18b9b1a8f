// `gnnrec serve`'s HTTP side: cpp-httplib (Debian's libcpp-httplib-dev)
// routes each request to serve/service.h and writes its JSON reply.
//
// A pool of `threads` workers answers requests concurrently; the Service is
// read-only, so they share it without a lock. SIGINT and SIGTERM stop the
// listener: the requests in flight finish, then run_http_server returns
// (`gnnrec serve` exits 0). The signals are blocked in every thread and
// taken by one waiting thread (sigtimedwait), so no handler runs in an
// arbitrary thread.
#pragma once

#include <string>

#include "serve/service.h"

namespace gnnrec {

struct HttpOptions {
  std::string host = "127.0.0.1";  // loopback only unless told otherwise
  int port = 8080;                 // 0: any free port (printed)
  int threads = 4;                 // worker threads
};

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread
// it starts afterwards. Call it before anything starts a thread (torch's
// pools included): a thread that does not block them could take a signal
// and end the process by its default action instead of stopping the server.
void block_stop_signals();

// Binds host:port, prints "listening on http://HOST:PORT" (the port bound,
// also for 0) on stdout, flushed, and serves until SIGINT or SIGTERM;
// returns the signal that stopped it. std::runtime_error when the address
// cannot be bound (in use, not an address of this machine).
int run_http_server(const Service& service, const HttpOptions& options);

}  // namespace gnnrec
