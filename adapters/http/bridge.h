// The HTTP bridge: a department worker that hands each task to the
// department's own HTTP service and turns the HTTP answer into the task's
// answer.
//
// For every task the bridge POSTs
//   {"task_token", "case_id", "task_id", "task_type", "state", "service",
//    "attempt", "input", "callback_url"}
// (input as JSON) to the task type's URL and maps the reply:
//   200/201 + JSON body      -> complete with the body
//   202                      -> the department answers later by POSTing to
//                               callback_url + "/complete" (body = result)
//                               or "/fail" ({"error", "cause"}); meanwhile
//                               the lease is kept alive by heartbeats
//   4xx (but 408, 429)       -> fail Dept.Rejected, cause "HTTP <status>:
//                               <first 1 KiB of the body>"
//   5xx, 408, 429, timeout,
//   connection refused,
//   non-JSON or oversize body -> fail Dept.Unavailable with the reason
// At most `concurrency` requests are in flight; tasks beyond wait in arrival
// order (their leases kept alive). The callback endpoint accepts only tokens
// the bridge holds (404 otherwise) and answers once the engine acknowledged
// the answer: 200, or the engine's refusal (409 conflict, 410 gone, ...).
//
// Tokens are stable across stream breaks and engine restarts, and the
// worker SDK does not run a task it still holds a second time, so a
// department is asked once per delivery. After the bridge itself restarts,
// the engine offers its tasks again (same tokens) and they are POSTed again:
// departments must treat a repeated task_token as the same request.
//
// Thread-safety: Start/Stop/stats from any thread.
#ifndef ONEWINDOW_ADAPTERS_HTTP_BRIDGE_H_
#define ONEWINDOW_ADAPTERS_HTTP_BRIDGE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "adapters/http/config.h"
#include "adapters/sdk/worker.h"

namespace onewindow::http_bridge {

inline constexpr char kRejectedError[] = "Dept.Rejected";
inline constexpr char kUnavailableError[] = "Dept.Unavailable";

struct BridgeOptions {
  // Engine address, credentials, department, lease, max_in_flight, ...
  // (task_types is set from the config).
  adapter::WorkerOptions worker;
  BridgeConfig config;
  // HTTP requests to departments in flight at once.
  int concurrency = 16;
  // host:port the callback endpoint listens on (port 0: any free port);
  // empty = no callbacks (a 202 then fails the task).
  std::string callback_listen;
  // Base URL departments call back (…/tasks/TOKEN/complete); empty =
  // http://<callback_listen as bound>. Required when listening on a
  // wildcard address.
  std::string callback_url;
  // Largest department answer or callback body taken.
  size_t max_body_bytes = 256 * 1024;
  // How long a callback waits for the engine's acknowledgement before
  // answering 503 (the answer stays queued and is sent when it can be).
  std::chrono::milliseconds callback_wait{10000};
  // Threads serving callbacks.
  int callback_threads = 16;
};

// Counters, for logs and tests. A snapshot.
struct BridgeStats {
  uint64_t posts = 0;               // requests sent to departments
  uint64_t completed = 0;           // 200/201 + JSON
  uint64_t parked = 0;              // 202
  uint64_t rejected = 0;            // Dept.Rejected
  uint64_t unavailable = 0;         // Dept.Unavailable
  uint64_t callbacks_accepted = 0;  // callbacks answered 200
  uint64_t callbacks_refused = 0;   // callbacks answered 4xx/5xx
  uint64_t queued = 0;              // now: waiting for a request slot
  uint64_t posting = 0;             // now: request in flight
  uint64_t waiting = 0;             // now: parked, waiting for a callback
  adapter::WorkerStats worker;
};

class Bridge {
 public:
  explicit Bridge(BridgeOptions options);
  ~Bridge();  // stops
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  // Binds the callback endpoint, then starts the worker and the request
  // threads. FAILED_PRECONDITION when the address cannot be bound,
  // INVALID_ARGUMENT for bad options.
  absl::Status Start();
  // Stops taking callbacks, lets requests in flight finish and their
  // answers go out, then stops the worker. Tasks waiting or parked are left
  // to the engine. Idempotent.
  void Stop();

  // The port the callback endpoint listens on (0 = none).
  int callback_port() const;
  // Base URL given to departments ("" = none).
  std::string callback_url() const;
  BridgeStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace onewindow::http_bridge

#endif  // ONEWINDOW_ADAPTERS_HTTP_BRIDGE_H_
