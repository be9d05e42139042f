// Shard: one thread that owns a subset of the cases and runs every command
// on them. See engine.h for the commit protocol.
//
// Loop:  take queued commands (up to max_batch) and due timers
//        -> run each through the core, collecting store writes and
//           post-commit actions
//        -> write the batch (one synced RocksDB write)
//        -> run post-commit actions: replies, task hand-out, timer arming
// Case state is touched only by this thread: no locks on it.
#ifndef ONEWINDOW_SCHEDULER_SHARD_H_
#define ONEWINDOW_SCHEDULER_SHARD_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/core/execution.h"
#include "engine/core/lifecycle.h"
#include "engine/store/store.h"
#include "scheduler/dispatcher.h"
#include "scheduler/engine.h"
#include "scheduler/registry.h"

namespace onewindow::scheduler {

class Shard {
 public:
  struct SubmitCmd {
    onewindow::v1::SubmitCaseRequest request;
    nlohmann::json input;
    DeployedWorkflow workflow;
    Engine::Done<SubmitResult> done;
  };
  struct CompleteCmd {
    TokenParts token;
    std::string raw_token;
    nlohmann::json result;
    Engine::Done<bool> done;
  };
  struct FailCmd {
    TokenParts token;
    std::string raw_token;
    std::string error;
    std::string cause;
    Engine::Done<bool> done;
  };
  struct HeartbeatCmd {
    TokenParts token;
    std::string raw_token;
    int64_t lease_expires_ms;
    Engine::Done<int64_t> done;
  };
  struct CancelCmd {
    std::string case_id;
    std::string reason;
    Engine::Done<onewindow::v1::Case> done;
  };
  // A lease ended unanswered: offer the task again under a new token.
  struct RedeliverCmd {
    TokenParts token;
    std::string raw_token;
  };
  using Command = std::variant<SubmitCmd, CompleteCmd, FailCmd, HeartbeatCmd,
                               CancelCmd, RedeliverCmd>;

  struct Deps {
    store::Store* store;
    WorkflowRegistry* registry;
    Dispatcher* dispatcher;
    const Clock* clock;
    const EngineOptions* options;
  };

  Shard(int index, int count, Deps deps);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // Before Start(): loads an open case, its tasks and timers. Tasks are
  // offered to the dispatcher at once.
  absl::Status Recover(const store::CaseRecord& record);
  void RecoverTimer(int64_t due_ms, const std::string& case_id,
                    const std::string& timer_id);
  absl::Status LoadSequence();

  void Start();
  // Runs what is queued, then stops the thread.
  void Stop();

  // Queues a command. With `bounded`, refuses (returns false) when the
  // queue is full; other commands are always taken (they finish work that
  // is already in the engine).
  bool Enqueue(Command cmd, bool bounded);

  int64_t open_cases() const { return open_count_.load(); }
  int64_t commits() const { return commits_.load(); }
  int64_t committed_commands() const { return committed_commands_.load(); }
  int64_t max_batch_commands() const { return max_batch_commands_.load(); }

 private:
  struct OpenTask {
    store::TaskRecord rec;
    core::TaskLifecycle life;
  };
  struct OpenCase {
    store::CaseRecord rec;
    std::shared_ptr<const asl::Definition> def;
    std::unique_ptr<core::Execution> exec;
    core::CaseLifecycle life;
    std::map<std::string, OpenTask> tasks;      // open tasks by task id
    std::map<std::string, int64_t> timers;      // armed timer id -> due
  };
  // Work of one group commit.
  struct Txn {
    explicit Txn(const store::Store& s) : batch(s) {}
    store::Store::Batch batch;
    std::vector<std::function<void()>> after_commit;
    std::set<std::string> dirty;              // cases to write
    // History events of this batch, per case, written as one row each.
    std::map<std::string, std::vector<onewindow::v1::HistoryEvent>> history;
    std::map<std::string, std::string> new_requests;  // request -> case
    size_t commands = 0;
  };
  struct TimerEntry {
    int64_t due_ms;
    std::string case_id;
    std::string timer_id;
    bool operator>(const TimerEntry& o) const { return due_ms > o.due_ms; }
  };

  void Loop();
  void RunBatch(std::deque<Command>* cmds);
  void Process(Command& cmd, Txn* txn);
  void ProcessSubmit(SubmitCmd& cmd, Txn* txn);
  void ProcessComplete(CompleteCmd& cmd, Txn* txn);
  void ProcessFail(FailCmd& cmd, Txn* txn);
  void ProcessHeartbeat(HeartbeatCmd& cmd, Txn* txn);
  void ProcessCancel(CancelCmd& cmd, Txn* txn);
  void ProcessRedeliver(RedeliverCmd& cmd, Txn* txn);
  void ProcessTimer(const TimerEntry& t, Txn* txn);

  // Queues `done(result)` to run once the batch is committed.
  template <typename T>
  static void ReplyAfterCommit(Txn* txn, Engine::Done<T> done,
                               absl::StatusOr<T> result) {
    txn->after_commit.push_back(
        [done = std::move(done), r = std::move(result)] { done(r); });
  }
  // Applies a worker's answer to the task `token` names: `answer` runs the
  // core; when it accepts, the task closes with `event` and the core's
  // step is applied. Nothing changes when it refuses.
  absl::Status AnswerTask(
      const TokenParts& token, core::TaskLifecycle::Event event,
      const std::function<absl::Status(core::Execution*, int64_t,
                                       core::StepOutput*)>& answer,
      Txn* txn);
  // Finds the open task a token names. NOT_FOUND / FAILED_PRECONDITION
  // with a message saying why the token cannot be used.
  absl::StatusOr<std::pair<OpenCase*, OpenTask*>> ResolveToken(
      const TokenParts& token);
  // Applies what the core asked for; writes history, tasks, timers, and the
  // case's end when it ended.
  void ApplyStep(OpenCase* c, core::StepOutput* out, Txn* txn);
  void AppendHistory(OpenCase* c, const std::string& type,
                     const std::string& state, const std::string& task_id,
                     const nlohmann::json& details, Txn* txn);
  void WriteCase(OpenCase* c, Txn* txn);
  onewindow::v1::Task ToTaskMessage(const OpenCase& c,
                                    const store::TaskRecord& t) const;
  std::string NewToken(OpenCase* c, store::TaskRecord* t);

  const int index_;
  const int count_;
  const Deps deps_;
  std::mt19937_64 rng_;
  int64_t next_k_ = 0;  // next sequence slot: case seq = k*count + index + 1

  std::unordered_map<std::string, std::unique_ptr<OpenCase>> cases_;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>,
                      std::greater<TimerEntry>>
      timer_heap_;
  std::atomic<int64_t> open_count_{0};
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> committed_commands_{0};
  std::atomic<int64_t> max_batch_commands_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Command> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;      // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_SHARD_H_
