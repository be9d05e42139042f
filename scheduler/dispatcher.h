// Dispatcher: hands ready tasks to department workers and keeps their
// leases.
//
// Tasks arrive (Offer) only after the commit that created them. Each is
// queued for its department and pushed to a subscribed worker session with
// free credit (several at once when several are ready), or taken by
// ActivateTasks. A delivery is leased until its lease ends; Heartbeat
// extends it. When a lease ends unanswered the dispatcher asks the engine
// (ExpiredFn) to re-offer the task under a new token; when a session goes
// away its tasks are re-queued at once under their current tokens.
//
// Memory holds at most `max_ready_per_department` ready tasks per
// department; the rest wait in the store's task queue (every open task has
// a row there) and a loader thread brings them in as the queue drains.
// After a restart every department starts that way, so recovery loads no
// task up front. Leases live in memory only: after a restart every open task
// is offered again. Every operation costs O(log n) in the tasks held.
// Thread-safe.
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
  // Sends tasks to the worker (one frame when several). Called with the
  // dispatcher's lock held: must not call back into the dispatcher.
  virtual void Push(std::vector<onewindow::v1::Task> tasks) = 0;
  // Tells the worker a task it holds was withdrawn. Same rules as Push.
  virtual void Cancelled(const onewindow::v1::TaskCancelled& notice) = 0;
};

struct SessionOptions {
  std::string department;
  std::string worker;
  int max_in_flight = 32;
  int64_t lease_ms = 30000;
  std::set<std::string> task_types;  // empty = all
};

// A task read back from the store's queue.
struct QueuedTask {
  int64_t queue_seq = 0;
  onewindow::v1::Task task;
};

class Dispatcher {
 public:
  // Called (outside the dispatcher's lock) when a lease ends unanswered:
  // the engine re-offers the task with a new token.
  using ExpiredFn = std::function<void(const onewindow::v1::Task& task)>;
  // Reads up to `max` open tasks of a department queued after `after_seq`,
  // in queue order; *scanned_to = the last queue seq looked at (or
  // after_seq when none). Runs on the loader thread or a reader thread.
  using LoadFn = std::function<absl::Status(
      const std::string& department, int64_t after_seq, int max,
      std::vector<QueuedTask>* out, int64_t* scanned_to)>;

  Dispatcher(const Clock* clock, ExpiredFn on_expired, LoadFn load,
             size_t max_ready_per_department = 10000);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Start();  // starts the lease-expiry and loader threads
  void Stop();

  // The departments whose queued tasks are (maybe) only in the store (after
  // a restart: all that have rows).
  void MarkStored(const std::vector<std::string>& departments);

  // A committed task is ready to be handed out. `queue_seq` is its position
  // in its department's stored queue.
  void Offer(onewindow::v1::Task task, int64_t queue_seq);
  // The delivery `token` is over. With a non-empty `reason` it was
  // withdrawn, and a worker holding it is told why.
  void Withdraw(const std::string& token, const std::string& reason = "");

  // Worker sessions.
  void Attach(WorkerSession* session, const SessionOptions& options);
  void Detach(WorkerSession* session);

  // Leases up to `max` ready tasks of `department` to a caller without a
  // stream. May read the store: call it off gRPC callback threads.
  std::vector<onewindow::v1::Task> Activate(const std::string& department,
                                            int max, int64_t lease_ms,
                                            const std::string& worker);

  // Extends the lease of `token` by `extend_ms` from now (0: the lease
  // length it was given). NOT_FOUND when the dispatcher holds no such
  // delivery; FAILED_PRECONDITION when it is not leased.
  // Sets *heartbeat_seconds to the task's HeartbeatSeconds (0 = none) and
  // *department to its department, when the dispatcher holds the token.
  absl::StatusOr<int64_t> Heartbeat(const std::string& token,
                                    int64_t extend_ms, int* heartbeat_seconds,
                                    std::string* department);

  // Counts, for tests and metrics.
  size_t ReadyCount(const std::string& department) const;
  size_t LeasedCount() const;
  size_t SessionCount() const;
  // Places in a department's ready queue, withdrawn ones included.
  size_t QueueSlots(const std::string& department) const;
  // Ready tasks in memory per department, and sessions per department.
  std::map<std::string, size_t> ReadyByDepartment() const;

  static constexpr int64_t kMinLeaseMs = 1000;
  static constexpr int64_t kMaxLeaseMs = 3600000;

 private:
  struct Session {
    WorkerSession* session;
    SessionOptions options;
    int in_flight = 0;
    std::set<std::string> held;  // tokens leased to it
  };
  struct Entry {
    onewindow::v1::Task task;
    int64_t queue_seq = 0;
    core::TaskLifecycle life;
    Session* holder = nullptr;  // null: ready, or leased by Activate
    int64_t lease_ms = 0;
    int64_t expires_ms = 0;
    std::multimap<int64_t, std::string>::iterator lease;
    bool leased = false;
  };
  struct Department {
    std::deque<std::string> ready;  // tokens; withdrawn ones skipped lazily
    size_t live = 0;                // ready entries still in entries_
    std::vector<std::unique_ptr<Session>> sessions;
    size_t round_robin = 0;
    // Tasks with queue seq > cursor may be only in the store.
    bool stored = false;
    int64_t cursor = 0;
    int64_t max_seq = 0;  // highest queue seq held in memory
    bool loading = false;
    int64_t min_skipped = 0;  // lowest seq Offer skipped during a load
    // Withdrawn while a load ran: the load may have read them as open.
    std::set<std::string> withdrawn_during_load;
  };

  // REQUIRES: mu_ held.
  void PumpLocked(const std::string& name, Department& d);
  void LeaseLocked(Entry* e, Session* holder, int64_t lease_ms);
  void UnleaseLocked(Entry* e);
  void RequeueLocked(Department& d, const std::string& token, bool front);
  bool AddLocked(Department& d, onewindow::v1::Task task, int64_t queue_seq);
  bool WantsLoadLocked(const Department& d) const;
  void ExpiryLoop();
  void LoaderLoop();
  void LoadSome(const std::string& department, std::unique_lock<std::mutex>& lock);

  const Clock* const clock_;
  const ExpiredFn on_expired_;
  const LoadFn load_;
  const size_t max_ready_;

  mutable std::mutex mu_;
  std::condition_variable cv_;         // expiry thread
  std::condition_variable loader_cv_;  // loader thread
  bool stopping_ = false;
  std::unordered_map<std::string, Entry> entries_;  // by token
  std::map<std::string, Department> departments_;
  std::unordered_map<WorkerSession*, std::string> session_dept_;
  std::multimap<int64_t, std::string> leases_;  // expiry -> token
  // When the expiry thread next wakes by itself (clock ms); 0 while it runs.
  int64_t expiry_wake_ms_ = 0;
  std::thread expiry_thread_;
  std::thread loader_thread_;
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_DISPATCHER_H_
