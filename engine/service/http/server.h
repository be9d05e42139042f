// HttpServer: the web console's HTTP front of onewindowd (Boost.Beast).
//
// Serves the JSON API of API.md under /api/v1/ (a thin transport over the
// same Api as gRPC: same authentication, same rules, same errors), the
// case and change event streams (Server-Sent Events over the WatchHub),
// the workflow drawings (graph.svg), /metrics, /healthz, /readyz and the
// console's static files, embedded in the binary at build time.
//
// Every door is bounded: header and body size, path length, query
// parameters, connections, the time to receive a request, event streams
// per principal (the Authenticator's stream limit) and the events a slow
// reader may fall behind. Reads of the store never run on the I/O threads:
// the Api does its reads on engine reader threads, and drawings run on a
// thread of their own. Tokens are never logged.
#ifndef ONEWINDOW_ENGINE_SERVICE_HTTP_SERVER_H_
#define ONEWINDOW_ENGINE_SERVICE_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/service/metrics.h"
#include "engine/service/services.h"

namespace onewindow::service::http {

struct HttpOptions {
  // host:port ("[::1]:8080" for IPv6; port 0 picks a free one).
  std::string listen = "127.0.0.1:8080";
  // I/O threads.
  int threads = 2;
  // A request body beyond this is refused with 413.
  size_t max_body_bytes = 1 << 20;
  // The request line and headers together; beyond: 431.
  size_t max_header_bytes = 16 << 10;
  // Open connections (event streams included); beyond: 503 and close.
  size_t max_connections = 512;
  // A connection that sends nothing for this long is closed.
  std::chrono::seconds idle_timeout{60};
  // Once a request's first byte arrived, all of it must arrive within this
  // (slow senders are cut off).
  std::chrono::seconds request_timeout{15};
  // A response (or an event stream frame) that cannot be written within
  // this closes the connection.
  std::chrono::seconds write_timeout{30};
  // Event streams send a comment line this often.
  std::chrono::milliseconds sse_keepalive{15000};
  // Event stream frames waiting to be written before a slow reader is cut
  // off with an error event.
  size_t sse_max_queued = 10000;
  // Drawings (graph.svg) at once, waiting ones included; beyond: 429.
  int max_drawings = 8;
  // Time and size bounds of one drawing (graphviz `dot`).
  std::chrono::milliseconds drawing_timeout{10000};
  size_t max_drawing_bytes = 8 << 20;
  // The graphviz program (a path, or a name on PATH).
  std::string dot_program = "dot";
};

class HttpServer {
 public:
  // Starts serving; INVALID_ARGUMENT for a bad address or option,
  // UNAVAILABLE when the port cannot be bound. `ctx` (its api and auth)
  // and `metrics` must outlive the server; `metrics` may be null (then
  // /metrics is 404). `ready` answers /readyz (null: always ready).
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      HttpOptions options, ServiceContext* ctx, Metrics* metrics,
      std::function<bool()> ready);

  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port.
  int port() const;
  // Closes the listener and every connection (event streams end), joins the
  // threads. Replies the engine gives later are dropped. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

// True when the console's files were embedded (console/dist existed when
// the server was built).
bool ConsoleEmbedded();

}  // namespace onewindow::service::http

#endif  // ONEWINDOW_ENGINE_SERVICE_HTTP_SERVER_H_
