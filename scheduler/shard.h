// Shard: one thread that owns a subset of the cases and runs every command
// on them. See engine.h for the commit protocol and engine/store/FORMAT.md
// for what is written.
//
// Loop:  take queued commands (up to max_batch) and due timers
//        -> run each through the core, collecting store writes and
//           post-commit actions
//        -> write the batch (one synced write)
//        -> run post-commit actions: replies, task hand-out, watchers
// Case state is touched only by this thread: no locks on it.
//
// Open cases live in memory while they are used; the least recently used
// are dropped beyond the resident limit and rebuilt on demand from their
// checkpoint and the command events after it. After a restart no case is in
// memory: the first command or timer of each one loads it.
#ifndef ONEWINDOW_SCHEDULER_SHARD_H_
#define ONEWINDOW_SCHEDULER_SHARD_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/core/execution.h"
#include "engine/core/lifecycle.h"
#include "engine/store/records.h"
#include "engine/store/store.h"
#include "scheduler/commit_window.h"
#include "scheduler/dispatcher.h"
#include "scheduler/engine.h"
#include "scheduler/histogram.h"
#include "scheduler/ids.h"
#include "scheduler/registry.h"
#include "scheduler/watch.h"

namespace onewindow::scheduler {

class Shard {
 public:
  struct SubmitCmd {
    onewindow::v1::SubmitCaseRequest request;
    nlohmann::json input;
    DeployedWorkflow workflow;
    std::string digest;  // of the request (request id reuse check)
    Actor actor;
    Engine::Done<SubmitResult> done;
  };
  struct CompleteCmd {
    TokenParts token;
    std::string result_text;
    nlohmann::json result;
    std::string department;  // the caller may answer only these ("" = any)
    Actor actor;
    Engine::Done<bool> done;
  };
  struct FailCmd {
    TokenParts token;
    std::string error;
    std::string cause;
    std::string department;
    Actor actor;
    Engine::Done<bool> done;
  };
  struct HeartbeatCmd {
    TokenParts token;
    int64_t lease_expires_ms;
    bool leased;  // the dispatcher held (and extended) the lease
    std::string department;
    Actor actor;
    Engine::Done<int64_t> done;
  };
  struct CancelCmd {
    std::string case_id;
    std::string reason;
    Actor actor;
    Engine::Done<onewindow::v1::Case> done;
  };
  // A lease ended unanswered: offer the task again under a new token.
  struct RedeliverCmd {
    TokenParts token;
  };
  struct DocumentsCmd {
    std::string case_id;
    std::vector<onewindow::v1::DocumentRef> documents;
    Actor actor;
    Engine::Done<onewindow::v1::Case> done;
  };
  struct MigrateCmd {
    std::string case_id;
    int64_t to_version;
    Actor actor;
    Engine::Done<onewindow::v1::Case> done;
  };
  using Command = std::variant<SubmitCmd, CompleteCmd, FailCmd, HeartbeatCmd,
                               CancelCmd, RedeliverCmd, DocumentsCmd,
                               MigrateCmd>;

  struct Deps {
    store::Store* store;
    WorkflowRegistry* registry;
    Dispatcher* dispatcher;
    WatchHub* watch;
    const Clock* clock;
    const EngineOptions* options;
    // Next position in the departments' task queues (engine-wide).
    std::function<int64_t()> next_queue_seq;
    // Commit duration (seconds) and commands per commit.
    Histogram* commit_seconds;
    Histogram* commit_commands;
  };

  Shard(int index, int count, Deps deps);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Before Start(): this shard's counters, and its timers (from the
  // engine's one scan of the timer rows).
  absl::Status LoadCounters();
  void AddTimer(int64_t due_ms, const std::string& case_id,
                const std::string& timer_id);

  void Start();
  // Runs what is queued, writes a checkpoint of every case in memory that
  // replayed commands since its last one, then stops the thread.
  void Stop();

  // Queues a command. With `bounded`, refuses (returns false) when the
  // queue is full; other commands are always taken (they finish work that
  // is already in the engine).
  bool Enqueue(Command cmd, bool bounded);

  int64_t open_cases() const { return open_count_.load(); }
  int64_t resident_cases() const { return resident_count_.load(); }
  int64_t commits() const { return commits_.load(); }
  int64_t committed_commands() const { return committed_commands_.load(); }
  int64_t max_batch_commands() const { return max_batch_commands_.load(); }
  int64_t commit_failures() const { return commit_failures_.load(); }
  int64_t loaded_cases() const { return loaded_cases_.load(); }
  int64_t replayed_commands() const { return replayed_commands_.load(); }
  int64_t queued() const;
  int64_t timers() const { return timer_count_.load(); }
  // Batches held open for more commands (the commit window).
  int64_t window_waits() const { return window_waits_.load(); }

 private:
  struct OpenTask {
    store::TaskRecord rec;
    core::TaskLifecycle life;
  };
  struct OpenCase {
    store::CaseRecord rec;      // current (written at the end of the batch)
    store::CaseRecord written;  // as last committed (for index changes)
    std::shared_ptr<const ServiceRules> rules;
    std::unique_ptr<core::Execution> exec;
    core::CaseLifecycle life;
    std::map<std::string, OpenTask> tasks;  // open tasks by task id
    std::list<std::string>::iterator lru;
    bool is_new = false;  // not yet committed
    bool continue_armed = false;
  };
  struct TimerEntry {
    int64_t due_ms;
    std::string case_id;
    std::string timer_id;
    bool operator<(const TimerEntry& o) const {
      return std::tie(due_ms, case_id, timer_id) <
             std::tie(o.due_ms, o.case_id, o.timer_id);
    }
  };
  // Work of one group commit.
  struct Txn {
    std::unique_ptr<store::Store::Batch> batch;
    // Run after a successful commit (replies, hand-out, timers).
    std::vector<std::function<void()>> after_commit;
    // Run instead when the commit fails: the replies get the error.
    std::vector<std::function<void(const absl::Status&)>> on_failure;
    // Work to take up again after a failed commit.
    std::vector<TimerEntry> fired;
    std::vector<TokenParts> redeliveries;
    std::vector<OpenCase*> dirty;  // cases to write, in first-touch order
    std::set<OpenCase*> dirty_set;
    // History events of this batch, per case, and their stored bytes.
    struct CaseEvents {
      std::vector<store::StoredEvent> events;
      std::vector<std::string> wire;
    };
    std::map<std::string, CaseEvents> history;
    std::map<std::string, store::RequestRecord> new_requests;
    std::set<std::string> counters;                    // counter keys to write
    size_t commands = 0;
  };
  using Processor = void (Shard::*)(Command&, Txn*);

  void Loop();
  // REQUIRES: mu_ held (by *lock), queue_ not empty.
  void HoldOpen(std::unique_lock<std::mutex>* lock,
                std::chrono::steady_clock::time_point began);
  void RunBatch(std::deque<Command>* cmds);
  void Commit(Txn* txn);
  void Process(Command& cmd, Txn* txn);
  void ProcessSubmit(Command& cmd, Txn* txn);
  void ProcessComplete(Command& cmd, Txn* txn);
  void ProcessFail(Command& cmd, Txn* txn);
  void ProcessHeartbeat(Command& cmd, Txn* txn);
  void ProcessCancel(Command& cmd, Txn* txn);
  void ProcessRedeliver(Command& cmd, Txn* txn);
  void ProcessDocuments(Command& cmd, Txn* txn);
  void ProcessMigrate(Command& cmd, Txn* txn);
  void ProcessTimer(const TimerEntry& t, Txn* txn);
  void ProcessShardTimer(OpenCase* c, const TimerEntry& t, Txn* txn);
  // Deletes a timer's row in this batch; once it commits, the timer is no
  // longer held. (A fired timer has already left timers_.)
  void DisarmTimer(int64_t due_ms, const std::string& case_id,
                   const std::string& timer_id, Txn* txn);

  // Queues `done(result)` to run once the batch is committed (or
  // done(UNAVAILABLE) if the commit fails).
  template <typename T>
  static void ReplyAfterCommit(Txn* txn, Engine::Done<T> done,
                               absl::StatusOr<T> result) {
    auto shared = std::make_shared<Engine::Done<T>>(std::move(done));
    txn->after_commit.push_back(
        [shared, r = std::move(result)] { (*shared)(r); });
    txn->on_failure.push_back(
        [shared](const absl::Status& s) { (*shared)(s); });
  }

  // The open case `case_id`, loaded from the store when not in memory.
  // NOT_FOUND when there is no such case; FAILED_PRECONDITION when it has
  // ended (*ended = its record then).
  absl::StatusOr<OpenCase*> Resident(const std::string& case_id,
                                     store::CaseRecord* ended);
  absl::StatusOr<std::unique_ptr<OpenCase>> Load(const store::CaseRecord& rec);
  void Touch(OpenCase* c);
  void Evict();
  void MarkDirty(OpenCase* c, Txn* txn);

  // Finds the open task a token names, after checking the nonce and that
  // the caller may answer for its department.
  absl::StatusOr<std::pair<OpenCase*, OpenTask*>> ResolveToken(
      const TokenParts& token, const std::string& department);
  // Applies a worker's answer to the task `token` names: `answer` runs the
  // core; when it accepts, the task closes with `event` and the core's step
  // is applied. Nothing changes when it refuses.
  absl::Status AnswerTask(
      const TokenParts& token, const std::string& department,
      core::TaskLifecycle::Event event, const Actor& actor,
      const std::function<absl::Status(OpenCase*, OpenTask*, int64_t,
                                       core::StepOutput*)>& answer,
      const std::string* command_value, Txn* txn);
  // Applies what the core asked for: history, tasks, timers, the case's end
  // when it ended. `command_value` is the command's payload text as
  // received (stored instead of serializing the parsed value again).
  void ApplyStep(OpenCase* c, core::StepOutput* out, const Actor& actor,
                 const std::string* command_value, Txn* txn);
  void AddNote(OpenCase* c, store::StoredEvent e, const Actor* actor,
               Txn* txn);
  void AppendEvent(OpenCase* c, store::StoredEvent* e, Txn* txn);
  void CloseTask(OpenCase* c, OpenTask* t, core::TaskLifecycle::Event event,
                 const std::string& withdraw_reason, Txn* txn);
  void WriteCase(OpenCase* c, Txn* txn);
  void ArmShardTimer(OpenCase* c, int64_t due_ms, const std::string& id,
                     Txn* txn);
  void AddCounter(const std::string& key, int64_t delta, Txn* txn);
  void CaseEnded(OpenCase* c, Txn* txn);
  onewindow::v1::Task ToTaskMessage(const OpenCase& c,
                                    const store::TaskRecord& t) const;
  absl::StatusOr<std::string> NextCaseNumber(const std::string& prefix,
                                             int year, Txn* txn);
  void Publish(Txn* txn);

  int64_t now_ = 0;  // the time of the batch being run
  const int index_;
  const int count_;
  const Deps deps_;
  std::mt19937_64 rng_;

  std::unordered_map<std::string, std::unique_ptr<OpenCase>> cases_;
  std::list<std::string> lru_;  // most recently used first
  std::map<std::pair<std::string, int>, int64_t> next_k_;  // prefix, year
  std::map<std::string, int64_t> counters_;  // this shard's counter values
  // Armed timers, soonest first. A timer whose row a commit deletes leaves
  // with that commit, so that what is held matches the timer rows (a case
  // that ends takes its timers along instead of leaving them until due).
  std::set<TimerEntry> timers_;
  std::atomic<int64_t> open_count_{0};
  std::atomic<int64_t> resident_count_{0};
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> committed_commands_{0};
  std::atomic<int64_t> max_batch_commands_{0};
  std::atomic<int64_t> commit_failures_{0};
  std::atomic<int64_t> loaded_cases_{0};
  std::atomic<int64_t> replayed_commands_{0};
  std::atomic<int64_t> timer_count_{0};
  std::atomic<int64_t> window_waits_{0};

  // Group-commit window (see commit_window.h): its estimate, and the
  // arrival count and time when the last batch's write ended.
  CommitWindow window_;
  int64_t arrived_at_commit_ = 0;
  std::chrono::steady_clock::time_point committed_at_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Command> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;      // GUARDED_BY(mu_)
  // Commands ever queued; read outside the lock to count arrivals.
  std::atomic<int64_t> arrived_{0};
  // Enqueue wakes the shard once the queue holds this many commands: 1,
  // or the window's target while the shard holds a batch open.
  size_t wake_at_ = 1;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_SHARD_H_
