// The interpreter's state and machinery, shared by the files that implement
// Execution (internal to engine/core):
//   execution.cc   public API and command plumbing
//   states.cc      the run loop, data flow and the simple state types
//   fanout.cc      Parallel and Map: joins, launching, cancellation
//   failure.cc     completion, Retry/Catch, the end of threads and of the run
//   checkpoint.cc  the binary checkpoint codec and layout 1 JSON restore
//
// Model: an execution is a set of *threads*, one per running position in a
// state machine (the top level, each Parallel branch, each Map iteration),
// plus *joins*, one per running Parallel or Map state, that collect the
// results of their child threads. A thread is in one phase:
//   kEnter    queued: about to enter its state (StateEntered, then work)
//   kAttempt  queued: about to run its state again after a retry back-off
//   kTask     waiting for its task (`tasks` maps the task id to the thread)
//   kWait     waiting for a Wait state's timer
//   kRetry    waiting for a retry back-off timer
//   kJoin     a Parallel/Map state waiting for its children (child_join)
// Every call runs the queue until it is empty ("quiescent"): then every
// thread waits on a task, a timer or a join, or the execution has ended.
// Timer ids are never reused: re-arming (a heartbeat) cancels the old id and
// sets a new one, so a late firing of a replaced timer is simply unknown.
#ifndef ONEWINDOW_ENGINE_CORE_EXECUTION_IMPL_H_
#define ONEWINDOW_ENGINE_CORE_EXECUTION_IMPL_H_

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "engine/asl/query.h"
#include "engine/core/execution.h"

namespace onewindow::core {

enum class Phase { kEnter, kAttempt, kTask, kWait, kRetry, kJoin };
enum class TimerKind { kWait, kRetry, kTaskTimeout, kHeartbeat, kExecTimeout };
enum class JoinKind { kParallel, kMap };

// An ASL error raised by a state: a name and a cause, either of which may
// be absent (a Fail state without Error or Cause).
struct Failure {
  std::string error;
  std::string cause;
  bool has_error = true;
  bool has_cause = true;

  static Failure Of(std::string_view error, std::string_view cause) {
    return Failure{std::string(error), std::string(cause), true, true};
  }
  static Failure FromStatus(const absl::Status& s) {
    return Of(asl::AslErrorName(s), asl::AslErrorCause(s));
  }
  Json ToJson() const {
    Json j = Json::object();
    if (has_error) j["Error"] = error;
    if (has_cause) j["Cause"] = cause;
    return j;
  }
};

// One step of a machine path: a Parallel (branch index) or Map (0) state.
struct MachineStep {
  std::string state;
  int index = 0;
  bool operator==(const MachineStep&) const = default;
};

struct Thread {
  int64_t id = 0;
  // Where the machine sits, from the top level.
  std::vector<MachineStep> mpath;
  const asl::Machine* machine = nullptr;  // resolved from mpath
  int64_t join = 0;  // the join this thread belongs to; 0 = top level
  int64_t slot = 0;  // branch or item index within that join
  std::string state;
  const Json* sj = nullptr;  // resolved from machine + state
  Phase phase = Phase::kEnter;
  Json input;  // the state's raw input
  int64_t entered_ms = 0;
  std::vector<int64_t> attempts;  // per retrier, for this state entry
  int64_t retry_count = 0;
  std::string task_id;
  std::string timer;  // Wait or retry timer
  std::string timeout_timer;
  std::string heartbeat_timer;
  int64_t heartbeat_s = 0;
  int64_t child_join = 0;
  Json held;  // a Wait state's output, until its timer fires
  // Workflow variables visible here (an object, or null for none): a child
  // thread starts with a copy of its parent's, so what it assigns stays in
  // its own scope.
  Json vars;
};

struct Join {
  int64_t id = 0;
  JoinKind kind = JoinKind::kParallel;
  int64_t parent = 0;         // the thread running the Parallel/Map state
  std::vector<Json> inputs;   // input of each branch / iteration
  std::vector<Json> results;  // output of each, in order
  int64_t next = 0;           // next child to start
  int64_t done = 0;           // children finished (or failed, tolerated)
  int64_t failed = 0;
  int64_t max_concurrency = 0;   // 0 = unlimited
  int64_t tolerated_count = -1;  // -1 = not set
  double tolerated_pct = -1;     // -1 = not set
  std::set<int64_t> children;    // running child thread ids
};

struct Timer {
  int64_t due_ms = 0;
  TimerKind kind = TimerKind::kWait;
  int64_t thread = 0;
};

struct Execution::Impl {
  std::shared_ptr<const asl::Definition> def;
  int64_t version = 0;
  StartInfo info;
  Json input;
  RunStatus status = RunStatus::kRunning;
  Json output;
  std::string error;
  std::string cause;
  bool has_error = false;
  bool has_cause = false;
  uint64_t rng = 0;
  int64_t next_task = 1;
  int64_t next_timer = 1;
  int64_t events_emitted = 0;  // history events so far (max_history_events)
  int64_t next_thread = 1;
  int64_t next_join = 1;
  std::map<int64_t, Thread> threads;
  std::map<int64_t, Join> joins;
  std::map<std::string, int64_t> tasks;  // outstanding task id -> thread
  std::map<std::string, Timer> timers;   // armed timer id -> timer
  std::deque<int64_t> queue;             // runnable threads
  std::set<int64_t> pending_joins;       // joins with children to launch

  // Transient: rebuilt on Start/Restore, or set per call.
  Json base_context;
  std::map<const Json*, bool> uses_context;  // state -> reads "$$"
  int64_t now = 0;
  StepOutput* out = nullptr;
  StepOutput scratch;  // stands in when a caller passes no StepOutput
  // Tasks and timers created during the current call.
  std::set<std::string> fresh_tasks;
  std::set<std::string> fresh_timers;
  int64_t launched_this_call = 0;
  // The variables of the thread whose state is being evaluated (Env()).
  const Json* cur_vars = nullptr;

  // ---- helpers (execution.cc) ----
  uint64_t NextRandom();
  asl::EvalEnv Env(const Json* ctx);
  void BuildBaseContext();
  bool UsesContext(const Json* sj);
  static bool Mentions(const Json& v);
  Json Context(const Thread& t, const std::string* token);
  // True when `v` is over the payload size or nesting bound (DataLimit()
  // then names which).
  bool TooBig(const Json& v);
  std::string data_limit_cause;
  Event& Emit(EventType type, const std::string& state = std::string(),
              std::string task_id = std::string());
  std::string ArmTimer(TimerKind kind, int64_t thread, int64_t due_ms);
  void DropTimer(const std::string& id, int64_t due_ms);
  void DropTask(const std::string& id);
  void DisarmTimer(std::string* id);
  void WithdrawTask(Thread& t);
  const asl::Machine* ResolveMachine(const std::vector<MachineStep>& mpath,
                                     const asl::Definition& d) const;
  static const Json* StateJson(const asl::Machine* m, std::string_view name);
  absl::Status CheckRunning() const;
  absl::StatusOr<int64_t> TaskThread(std::string_view task_id) const;
  void Begin(int64_t now_ms, StepOutput* o);
  void End();
  // Checked "now + seconds": States.Runtime naming `what` and the value when
  // it is negative, above the longest allowed wait or overflows.
  absl::StatusOr<int64_t> DueAfter(int64_t seconds, std::string_view what);

  // ---- run loop, data flow, simple states (states.cc) ----
  absl::StatusOr<Json> ApplyPathField(const Json& sj, const char* field,
                                      const Json& value, const Json& ctx);
  // The same for a value the caller gives up: the whole of it (path "$" or
  // none) is moved, not copied.
  absl::StatusOr<Json> ApplyPathField(const Json& sj, const char* field,
                                      Json&& value, const Json& ctx);
  template <typename V>
  absl::StatusOr<Json> ApplyPathFieldTo(const Json& sj, const char* field,
                                        V&& value, const Json& ctx);
  // The state's input after InputPath: *eff is the thread's own input when
  // InputPath selects all of it (no copy), else `storage` holding the
  // selection. Valid while t.input and `storage` are unchanged.
  absl::Status EffectiveInput(const Thread& t, const Json& ctx, Json* storage,
                              const Json** eff);
  absl::StatusOr<Json> Template(const Json& sj, const char* field,
                                const Json& value, const Json& ctx);
  absl::StatusOr<Json> PlaceResult(const Json& sj, const Json& raw,
                                   const Json& result);
  // The same for a result the caller gives up: moved when it is the whole
  // output (ResultPath "$" or none).
  absl::StatusOr<Json> PlaceResult(const Json& sj, const Json& raw,
                                   Json&& result);
  template <typename R>
  absl::StatusOr<Json> PlaceResultTo(const Json& sj, const Json& raw,
                                     R&& result);
  absl::Status NumberOrPath(const Thread& t, const char* field,
                            const char* path_field, const Json& input,
                            const Json& ctx, int64_t min_value, int64_t* value,
                            bool* found);
  void Enqueue(Thread& t, Phase phase);
  void Run();
  // Fails the execution once it has emitted more than max_history_events
  // (true then).
  bool HistoryExceeded();
  size_t RetrierCount(const Thread& t) const;
  void Attempt(Thread& t);
  void RunPass(Thread& t);
  void RunSucceed(Thread& t);
  absl::Status FailField(const Thread& t, const char* field,
                         const char* path_field, const Json& ctx,
                         std::string* value, bool* present);
  void RunFail(Thread& t);
  void RunChoice(Thread& t);
  void RunWait(Thread& t);
  void RunTask(Thread& t);

  // ---- the JSONata query language and variables (query_states.cc) ----
  bool IsJsonata(const Thread& t) const;
  // $states for a JSONata expression of `t`'s state.
  Json States(const Thread& t, const Json& ctx, const Json* result,
              const Json* error_output);
  asl::JsonataScope Scope(const Json& states, std::string field);
  // Evaluates the Assign of `holder` (a state, Choice rule or catcher) and,
  // for JSONata, its Output (default `dflt`); then stores the variables.
  // JSONPath: Assign's paths read `value` (the state's result or input).
  absl::StatusOr<Json> AssignAndOutput(Thread& t, const Json& holder,
                                       const Json& states, Json dflt);
  absl::Status AssignJsonPath(Thread& t, const Json& holder, const Json& value,
                              const Json& ctx);
  void AttemptJsonata(Thread& t);
  void RunJsonataPass(Thread& t);
  void RunJsonataChoice(Thread& t);
  void RunJsonataWait(Thread& t);
  void RunJsonataFail(Thread& t);
  void RunJsonataFanout(Thread& t, bool map);
  void RunJsonataTask(Thread& t);
  absl::StatusOr<int64_t> JsonataNumber(const Thread& t, const Json& states,
                                        const char* field, int64_t min_value,
                                        int64_t dflt);
  void CompleteJsonata(Thread& t, Json result);

  // ---- Parallel and Map (fanout.cc) ----
  void RunParallel(Thread& t);
  void RunMap(Thread& t);
  void StartJoin(Thread& t, Join j);
  void LaunchChildren(Join& j);
  void LaunchPending();
  void ChildSucceeded(int64_t jid, int64_t cid, int64_t slot, Json output);
  void FinishOrContinue(Join& j);
  void ChildFailed(int64_t jid, int64_t cid, int64_t slot, Failure f);
  void CancelThread(int64_t id);
  void CancelJoin(int64_t jid);
  void CancelEverything();

  // ---- completion and failure (failure.cc) ----
  // The failure for the last TooBig() that was true.
  Failure DataLimit() const;
  void Complete(Thread& t, Json result, bool select);
  void Exit(Thread& t, Json output);
  void GoTo(Thread& t, const std::string& next, Json output);
  void StateFailed(Thread& t, Failure f);
  void ThreadSucceeded(Thread& t, Json output);
  void ThreadFailed(Thread& t, Failure f);
  void ExecutionSucceeded(Json out_value);
  void ExecutionFailed(Failure f);

  // ---- codec (checkpoint.cc) ----
  onewindow::store::v1::ExecutionCheckpoint ToCheckpoint(
      int64_t history_seq) const;
  absl::Status FromCheckpoint(
      const onewindow::store::v1::ExecutionCheckpoint& cp);
  absl::Status FromLayout1Json(const Json& j);
};

// Helpers of the codec and the interpreter.
bool ErrorMatches(const Json& error_equals, const Failure& f);
int64_t IntField(const Json& obj, const char* key, int64_t dflt);
double NumField(const Json& obj, const char* key, double dflt);
const std::string* StrField(const Json& obj, const char* key);
absl::Status Runtime(std::string_view cause);

}  // namespace onewindow::core

#endif  // ONEWINDOW_ENGINE_CORE_EXECUTION_IMPL_H_
