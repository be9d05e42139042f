// Dispatcher: hands ready tasks to department workers and keeps their
// leases.
//
// Tasks arrive (Offer) only after the commit that created them. Each is
// queued for its department and pushed to a subscribed worker session with
// free credit, or taken by ActivateTasks. A delivery is leased until its
// lease ends; Heartbeat extends it. When a lease ends unanswered the
// dispatcher asks the engine (ExpiredFn) to re-offer the task under a new
// token; when a session goes away its tasks are re-queued at once under
// their current tokens. Leases live in memory only: after a restart every
// open task is offered again. Thread-safe.
#ifndef ONEWINDOW_SCHEDULER_DISPATCHER_H_
#define ONEWINDOW_SCHEDULER_DISPATCHER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/core/lifecycle.h"
#include "onewindow/v1/adapters.pb.h"
#include "scheduler/clock.h"

namespace onewindow::scheduler {

// A worker's task stream, as the dispatcher sees it.
class WorkerSession {
 public:
  virtual ~WorkerSession() = default;
  // Sends a task to the worker. Called with the dispatcher's lock held:
  // must not call back into the dispatcher.
  virtual void Push(const onewindow::v1::Task& task) = 0;
};

struct SessionOptions {
  std::string department;
  std::string worker;
  int max_in_flight = 32;
  int64_t lease_ms = 30000;
  std::set<std::string> task_types;  // empty = all
};

class Dispatcher {
 public:
  // Called (outside the dispatcher's lock) when a lease ends unanswered:
  // the engine re-offers the task with a new token.
  using ExpiredFn = std::function<void(const onewindow::v1::Task& task)>;

  Dispatcher(const Clock* clock, ExpiredFn on_expired);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Start();  // starts the lease-expiry thread
  void Stop();

  // A committed task is ready to be handed out.
  void Offer(onewindow::v1::Task task);
  // The delivery `token` is over (answered, withdrawn or superseded).
  void Withdraw(const std::string& token);

  // Worker sessions.
  void Attach(WorkerSession* session, const SessionOptions& options);
  void Detach(WorkerSession* session);

  // Leases up to `max` ready tasks of `department` to a caller without a
  // stream.
  std::vector<onewindow::v1::Task> Activate(const std::string& department,
                                            int max, int64_t lease_ms,
                                            const std::string& worker);

  // Extends the lease of `token` by `extend_ms` from now (0: the lease
  // length it was given). NOT_FOUND when the dispatcher holds no such
  // delivery; FAILED_PRECONDITION when it is not leased.
  // Sets *heartbeat_seconds to the task's HeartbeatSeconds (0 = none).
  absl::StatusOr<int64_t> Heartbeat(const std::string& token,
                                    int64_t extend_ms, int* heartbeat_seconds);

  // Counts, for tests and metrics.
  size_t ReadyCount(const std::string& department) const;
  size_t LeasedCount() const;

  static constexpr int64_t kMinLeaseMs = 1000;
  static constexpr int64_t kMaxLeaseMs = 3600000;

 private:
  struct Entry {
    onewindow::v1::Task task;
    core::TaskLifecycle life;
    WorkerSession* holder = nullptr;  // null: ready, or leased by Activate
    int64_t lease_ms = 0;
    int64_t expires_ms = 0;
  };
  struct Session {
    WorkerSession* session;
    SessionOptions options;
    int in_flight = 0;
  };

  // REQUIRES: mu_ held.
  void PumpLocked(const std::string& department);
  void LeaseLocked(Entry* e, WorkerSession* holder, int64_t lease_ms);
  void ExpiryLoop();

  const Clock* const clock_;
  const ExpiredFn on_expired_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::unordered_map<std::string, Entry> entries_;           // by token
  std::map<std::string, std::deque<std::string>> ready_;     // dept -> tokens
  std::map<std::string, std::vector<Session>> sessions_;     // dept -> ...
  std::map<std::string, size_t> round_robin_;                // dept -> next
  std::multimap<int64_t, std::string> leases_;               // expiry -> token
  std::thread expiry_thread_;
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_DISPATCHER_H_
