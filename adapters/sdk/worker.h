// A department worker: the client side of AdapterService.TaskStream.
//
// A Worker holds one task stream open for a department, runs a user handler
// for every task the engine pushes (on a pool of `concurrency` threads) and
// answers complete/fail on the same stream. When the stream breaks or the
// engine is down it reconnects with exponential backoff; answers not yet
// acknowledged are sent again on the next stream (delivery is at-least-once
// both ways; the engine rejects duplicates, which is logged, not fatal).
//
// Thread-safety: Start/Stop/stats may be called from any thread. The handler
// runs concurrently on pool threads and must be thread-safe.
//
//   onewindow::adapter::WorkerOptions opts;
//   opts.department = "DSF";
//   onewindow::adapter::Worker worker(opts, [](onewindow::adapter::TaskContext&
//   t) {
//     return onewindow::adapter::TaskResult::Complete(R"({"ok": true})");
//   });
//   worker.Start();
//   ...
//   worker.Stop();
#ifndef ONEWINDOW_ADAPTERS_SDK_WORKER_H_
#define ONEWINDOW_ADAPTERS_SDK_WORKER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "onewindow/v1/adapters.pb.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace onewindow::adapter {

// What a handler returns: a result (JSON text) or an error name and cause.
struct TaskResult {
  static TaskResult Complete(std::string result_json) {
    TaskResult r;
    r.ok = true;
    r.result_json = std::move(result_json);
    return r;
  }
  static TaskResult Fail(std::string error, std::string cause = "") {
    TaskResult r;
    r.ok = false;
    r.error = std::move(error);
    r.cause = std::move(cause);
    return r;
  }

  bool ok = true;
  std::string result_json;  // when ok: any JSON value
  std::string error;        // when !ok: matched by Retry/Catch ErrorEquals
  std::string cause;
};

// Error names the SDK itself uses when a handler misbehaves.
inline constexpr char kHandlerExceptionError[] = "Adapter.HandlerException";
inline constexpr char kInvalidResultError[] = "Adapter.InvalidResult";

// The task a handler works on, and a way to extend its lease.
// Valid only during the handler call. Thread-compatible.
class TaskContext {
 public:
  virtual ~TaskContext() = default;
  virtual const onewindow::v1::Task& task() const = 0;
  // Sends a heartbeat that extends the lease by `extend_ms` from now
  // (0 = the stream's lease). Asynchronous: returns false when it could not
  // be sent (no stream at the moment). Not needed with auto_heartbeat.
  virtual bool Heartbeat(int64_t extend_ms = 0) = 0;
  // True once Stop() has been called: long handlers should wrap up.
  virtual bool stopping() const = 0;
};

using TaskHandler = std::function<TaskResult(TaskContext&)>;

struct WorkerOptions {
  // Engine address, host:port.
  std::string address = "127.0.0.1:50051";
  // Channel credentials; null = insecure (plaintext).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Department code to take tasks for. Required.
  std::string department;
  // Worker name for the engine's logs; empty = "<department>-worker".
  std::string worker;
  // Only these task types (empty = all of the department's).
  std::vector<std::string> task_types;
  // Handler threads.
  int concurrency = 4;
  // Unanswered tasks the engine may push at once; 0 = concurrency.
  int max_in_flight = 0;
  // Lease asked for, in ms (0 = engine default).
  int64_t lease_ms = 30000;
  // While a handler runs, heartbeat automatically at half the task's
  // heartbeat interval (or half the lease when it has none).
  bool auto_heartbeat = true;
  // Reconnect backoff: doubles from initial to max, with jitter.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  // On Stop: how long to wait for running handlers' answers to be
  // acknowledged, and for the engine to close the stream after half-close.
  std::chrono::milliseconds stop_grace{2000};
  // Unacknowledged answers older than this are dropped (not resent).
  std::chrono::milliseconds answer_retention{std::chrono::minutes(10)};
};

// Counters, for logs and tests. A snapshot.
struct WorkerStats {
  uint64_t tasks_received = 0;
  uint64_t tasks_completed = 0;  // handler returned a result
  uint64_t tasks_failed = 0;     // handler returned an error (or threw)
  uint64_t answers_acked = 0;    // engine accepted the answer
  uint64_t answers_rejected = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t sessions = 0;   // task streams opened (first one included)
  bool connected = false;  // a stream is open now
};

class Worker {
 public:
  Worker(WorkerOptions options, TaskHandler handler);
  // Stops if running.
  ~Worker();

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the stream and handler threads; returns at once (connection
  // happens in the background). Returns false if already started or the
  // options are invalid (no department, no handler).
  bool Start();

  // Stops taking tasks, lets running handlers finish and their answers go
  // out, half-closes the stream and waits for the engine to end it (bounded
  // by stop_grace), then joins all threads. Tasks received but not started
  // are left to the engine to re-offer when their lease runs out.
  // Idempotent.
  void Stop();

  WorkerStats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace onewindow::adapter

#endif  // ONEWINDOW_ADAPTERS_SDK_WORKER_H_
