// A department worker: the client side of AdapterService.TaskStream.
//
// A Worker holds one task stream open for a department and hands every task
// the engine pushes to a handler, in one of two styles:
//
//  - synchronous (TaskHandler): the handler returns the answer; it runs on a
//    pool of `concurrency` threads;
//  - asynchronous (AsyncTaskHandler): the handler gets the task and a
//    Responder and returns at once; the answer is given later, from any
//    thread, through the Responder. No thread is tied up per task, so one
//    worker can hold a thousand tasks waiting on slow departments.
//
// Answers, and heartbeats that keep the leases of unanswered tasks alive,
// go out on the stream; when several are waiting they go as one batch
// frame. Answers an asynchronous handler gives before it returns are sent
// by the stream thread itself once the engine's frame is handled; others
// by a writer thread. When the stream breaks or the engine is down the worker reconnects
// with exponential backoff; answers not yet acknowledged are sent again on
// the next stream (delivery is at-least-once both ways; the engine refuses a
// duplicate, which is reported, not fatal). A task the engine offers again
// while the worker still holds it or still has its answer pending (same
// token: after a reconnect or an engine restart) is not run twice. When the
// engine withdraws a task (case cancelled, branch failed) the task's context
// says so, the optional cancel handler is called, and an answer given later
// is dropped.
//
// Thread-safety: Start/Stop/stats may be called from any thread. Handlers
// run concurrently and must be thread-safe. Asynchronous and cancel
// handlers, and answer callbacks, run on the worker's stream thread: they
// must return promptly and must not call Stop.
//
//   namespace oa = onewindow::adapter;
//   oa::WorkerOptions opts;
//   opts.department = "DSF";
//   oa::Worker worker(opts, [](oa::TaskContext& t) {
//     return oa::TaskResult::Complete(R"({"ok": true})");
//   });
//   worker.Start();
//   ...
//   worker.Stop();
#ifndef ONEWINDOW_ADAPTERS_SDK_WORKER_H_
#define ONEWINDOW_ADAPTERS_SDK_WORKER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "adapters/sdk/client_options.h"
#include "onewindow/v1/adapters.pb.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace onewindow::adapter {

namespace internal {
class WorkerCore;
}  // namespace internal

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
// Every copy of a task's Responder was dropped without an answer.
inline constexpr char kAbandonedError[] = "Adapter.Abandoned";

// The task a handler works on. The SDK and the handler share it; an
// asynchronous handler may keep it as long as it likes. Thread-safe.
class TaskContext {
 public:
  virtual ~TaskContext() = default;
  virtual const onewindow::v1::Task& task() const = 0;
  // Queues a heartbeat that extends the lease by `extend_ms` from now
  // (0 = the stream's lease). False when it cannot be sent (no stream at
  // the moment, or the task is answered or withdrawn). Not needed with
  // auto_heartbeat.
  virtual bool Heartbeat(int64_t extend_ms = 0) = 0;
  // True once Stop() has been called: long handlers should wrap up.
  virtual bool stopping() const = 0;
  // True once the engine withdrew the task: stop working on it; an answer
  // will be dropped.
  virtual bool cancelled() const = 0;
  // Why the task was withdrawn; empty while it is not.
  virtual std::string cancel_reason() const = 0;
};

// What became of an answer.
struct AnswerOutcome {
  // A google.rpc.Code value: 0 = the engine took the answer. Otherwise the
  // engine's refusal (e.g. 9 FAILED_PRECONDITION: stale token, already
  // answered, case ended; 5 NOT_FOUND: unknown token), or the SDK's:
  // FAILED_PRECONDITION when the task was already answered or withdrawn,
  // UNAVAILABLE when the worker stopped or gave up before an
  // acknowledgement.
  int code = 0;
  std::string message;
  // The answer went out more than once (a stream broke before its
  // acknowledgement): a FAILED_PRECONDITION then most likely means an
  // earlier copy was taken.
  bool resent = false;
  bool ok() const { return code == 0; }
};
using AnswerCallback = std::function<void(const AnswerOutcome&)>;

// Answers one task, once, from any thread. Copies share the task: the first
// answer given through any of them counts. When the last copy goes away
// unanswered while the worker runs, the task is failed with
// kAbandonedError. Thread-safe.
class Responder {
 public:
  class State;  // internal

  Responder() = default;  // answers nothing; every call returns false
  explicit Responder(std::shared_ptr<State> state);

  // Queues the answer and returns at once. False when it is refused here:
  // already answered, withdrawn by the engine, or the worker has stopped.
  // `done`, when given, is called exactly once with the outcome: later
  // (from the stream thread) for an answer sent, or before this returns
  // for one refused here. A result that is not JSON is sent as a failure
  // kInvalidResultError; a result the engine refuses as invalid or too
  // large is reported to `done` and then failed with kInvalidResultError.
  bool Complete(std::string result_json, AnswerCallback done = nullptr) const;
  bool Fail(std::string error, std::string cause = "",
            AnswerCallback done = nullptr) const;
  bool Answer(TaskResult result, AnswerCallback done = nullptr) const;

  // The task; null for a default-constructed Responder.
  const onewindow::v1::Task* task() const;
  // True once an answer was given (or refused because the task is gone).
  bool done() const;

 private:
  std::shared_ptr<State> state_;
};

using TaskHandler = std::function<TaskResult(TaskContext&)>;
using AsyncTaskHandler =
    std::function<void(std::shared_ptr<TaskContext>, Responder)>;
// Called when the engine withdraws a task the worker holds.
using CancelHandler =
    std::function<void(const std::string& token, const std::string& reason)>;

struct WorkerOptions {
  // Engine address, host:port.
  std::string address = "127.0.0.1:50051";
  // Channel credentials; null = built from `tls` (insecure when off).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // TLS to the engine (see client_options.h); used when `credentials` is
  // null.
  TlsOptions tls;
  // Sent as `authorization: Bearer <token>` on every call; empty = none.
  // Never logged.
  std::string bearer_token;
  // Department code to take tasks for. Required.
  std::string department;
  // Worker name for the engine's logs; empty = "<department>-worker".
  std::string worker;
  // Only these task types (empty = all of the department's).
  std::vector<std::string> task_types;
  // Synchronous handler: handler threads. Asynchronous handler: the
  // default for max_in_flight.
  int concurrency = 4;
  // Unanswered tasks the engine may push at once; 0 = concurrency. The
  // engine caps it at 1024.
  int max_in_flight = 0;
  // Lease asked for, in ms (0 = engine default).
  int64_t lease_ms = 30000;
  // While a task is held unanswered, heartbeat automatically every third
  // of the task's heartbeat interval (or of the lease when it has none).
  bool auto_heartbeat = true;
  // Send several waiting answers and heartbeats as one batch frame.
  bool batch_answers = true;
  // Most messages in one batch frame.
  int max_batch = 128;
  // Reconnect backoff: doubles from initial to max, with jitter.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  // On Stop: how long to wait for answers to be acknowledged, and for the
  // engine to close the stream after half-close.
  std::chrono::milliseconds stop_grace{2000};
  // Unacknowledged answers older than this are dropped (not resent).
  std::chrono::milliseconds answer_retention{std::chrono::minutes(10)};
};

// Counters, for logs and tests. A snapshot.
struct WorkerStats {
  uint64_t tasks_received = 0;
  uint64_t tasks_completed = 0;  // answered with a result
  uint64_t tasks_failed = 0;     // answered with an error (or threw)
  uint64_t tasks_reoffered = 0;  // offered again while held: not run again
  uint64_t tasks_cancelled = 0;  // withdrawn by the engine while held
  uint64_t answers_acked = 0;    // engine accepted the answer
  uint64_t answers_rejected = 0;
  uint64_t answers_resent = 0;  // sent again on a later stream
  uint64_t heartbeats_sent = 0;
  uint64_t batches_sent = 0;   // batch frames (two or more messages)
  uint64_t messages_sent = 0;  // answers and heartbeats, batched or not
  uint64_t sessions = 0;       // task streams opened (first one included)
  uint64_t tasks_held = 0;     // unanswered tasks held now
  bool connected = false;      // a stream is open now
};

class Worker {
 public:
  Worker(WorkerOptions options, TaskHandler handler,
         CancelHandler on_cancel = nullptr);
  Worker(WorkerOptions options, AsyncTaskHandler handler,
         CancelHandler on_cancel = nullptr);
  // Stops if running.
  ~Worker();

  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Starts the stream and handler threads; returns at once (connection
  // happens in the background). Returns false if already started or the
  // options are invalid (no department, no handler, unreadable TLS files).
  bool Start();

  // Stops taking tasks; lets running synchronous handlers finish; sends the
  // answers given so far and waits for their acknowledgements (bounded by
  // stop_grace); half-closes the stream and waits for the engine to end it
  // (bounded by stop_grace), then joins all threads. Tasks held unanswered
  // (queued, or with an asynchronous handler) are left to the engine, which
  // offers them again. Answers given after Stop are refused. Idempotent.
  void Stop();

  WorkerStats stats() const;

 private:
  std::shared_ptr<internal::WorkerCore> core_;
};

}  // namespace onewindow::adapter

#endif  // ONEWINDOW_ADAPTERS_SDK_WORKER_H_
