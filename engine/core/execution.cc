// The ASL interpreter.
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
// Everything, including the random generator, lives in plain data that
// Snapshot() writes as JSON and Restore() reads back.
//
// Snapshot format (version "v": 1; one JSON object, keys sorted):
//   digest     Definition::digest() it was taken with (Restore checks it)
//   info       StartInfo (seed as a decimal string)
//   input, status, output, error, cause, has_error, has_cause
//   rng        splitmix64 state, decimal string
//   next       {task, timer, thread, join}: id counters ("t<N>", "tm<N>")
//   threads    [{id, mpath, join, slot, state, phase, input, entered_ms,
//               attempts, retry_count, task_id, timer, timeout_timer,
//               heartbeat_timer, heartbeat_s, child_join, held}]
//              mpath locates the machine: [[state, branch index], ...] from
//              the top level (Map processors use index 0)
//   joins      [{id, kind, parent, inputs, results, next, done, failed,
//               max_concurrency, tolerated_count, tolerated_pct, children}]
//   tasks      {task id: thread id}
//   timers     {timer id: {due_ms, kind, thread}}
//   queue      runnable thread ids (empty at every quiescent point)
// Timer ids are never reused: re-arming (a heartbeat) cancels the old id and
// sets a new one, so a late firing of a replaced timer is simply unknown.
#include "engine/core/execution.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "engine/core/interp_util.h"

namespace onewindow::core {
namespace {

using internal::AnyNumber;
using internal::DumpJson;
using internal::FormatIsoMs;
using internal::JsonSize;
using internal::SplitMix64;
using internal::WholeNumber;

constexpr int kSnapshotVersion = 1;

enum class Phase { kEnter, kAttempt, kTask, kWait, kRetry, kJoin };

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kEnter:
      return "enter";
    case Phase::kAttempt:
      return "attempt";
    case Phase::kTask:
      return "task";
    case Phase::kWait:
      return "wait";
    case Phase::kRetry:
      return "retry";
    case Phase::kJoin:
      return "join";
  }
  return "enter";
}

bool ParsePhase(const std::string& s, Phase* p) {
  static const std::pair<const char*, Phase> kAll[] = {
      {"enter", Phase::kEnter}, {"attempt", Phase::kAttempt},
      {"task", Phase::kTask},   {"wait", Phase::kWait},
      {"retry", Phase::kRetry}, {"join", Phase::kJoin}};
  for (const auto& [name, phase] : kAll) {
    if (s == name) {
      *p = phase;
      return true;
    }
  }
  return false;
}

enum class TimerKind { kWait, kRetry, kTaskTimeout, kHeartbeat, kExecTimeout };

const char* TimerKindName(TimerKind k) {
  switch (k) {
    case TimerKind::kWait:
      return "wait";
    case TimerKind::kRetry:
      return "retry";
    case TimerKind::kTaskTimeout:
      return "task_timeout";
    case TimerKind::kHeartbeat:
      return "heartbeat";
    case TimerKind::kExecTimeout:
      return "exec_timeout";
  }
  return "wait";
}

bool ParseTimerKind(const std::string& s, TimerKind* k) {
  static const std::pair<const char*, TimerKind> kAll[] = {
      {"wait", TimerKind::kWait},
      {"retry", TimerKind::kRetry},
      {"task_timeout", TimerKind::kTaskTimeout},
      {"heartbeat", TimerKind::kHeartbeat},
      {"exec_timeout", TimerKind::kExecTimeout}};
  for (const auto& [name, kind] : kAll) {
    if (s == name) {
      *k = kind;
      return true;
    }
  }
  return false;
}

const char* StatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kSucceeded:
      return "succeeded";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kCancelled:
      return "cancelled";
  }
  return "running";
}

bool ParseStatus(const std::string& s, RunStatus* r) {
  static const std::pair<const char*, RunStatus> kAll[] = {
      {"running", RunStatus::kRunning},
      {"succeeded", RunStatus::kSucceeded},
      {"failed", RunStatus::kFailed},
      {"cancelled", RunStatus::kCancelled}};
  for (const auto& [name, st] : kAll) {
    if (s == name) {
      *r = st;
      return true;
    }
  }
  return false;
}

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

struct Thread {
  int64_t id = 0;
  // Where the machine sits: [[state, index], ...] from the top level.
  Json mpath = Json::array();
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
};

enum class JoinKind { kParallel, kMap };

struct Join {
  int64_t id = 0;
  JoinKind kind = JoinKind::kParallel;
  int64_t parent = 0;            // the thread running the Parallel/Map state
  Json inputs = Json::array();   // input of each branch / iteration
  Json results = Json::array();  // output of each, in order
  int64_t next = 0;              // next iteration to start (Map)
  int64_t done = 0;              // children finished (or failed, tolerated)
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

// ErrorEquals matching: States.ALL matches every error except States.Runtime
// and States.DataLimitExceeded (which are terminal); States.TaskFailed
// matches the same set minus States.Timeout.
bool ErrorMatches(const Json& error_equals, const Failure& f) {
  if (!error_equals.is_array()) return false;
  const bool terminal =
      f.has_error && (f.error == asl::kStatesRuntime ||
                      f.error == asl::kStatesDataLimitExceeded);
  for (const Json& n : error_equals) {
    if (!n.is_string()) continue;
    const std::string& name = n.get_ref<const std::string&>();
    if (f.has_error && name == f.error) return true;
    if (name == asl::kStatesAll && !terminal) return true;
    if (name == asl::kStatesTaskFailed && !terminal &&
        !(f.has_error && f.error == asl::kStatesTimeout)) {
      return true;
    }
  }
  return false;
}

int64_t IntField(const Json& obj, const char* key, int64_t dflt) {
  auto it = obj.find(key);
  int64_t v;
  if (it == obj.end() || !WholeNumber(*it, &v)) return dflt;
  return v;
}

double NumField(const Json& obj, const char* key, double dflt) {
  auto it = obj.find(key);
  double v;
  if (it == obj.end() || !AnyNumber(*it, &v)) return dflt;
  return v;
}

const std::string* StrField(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

absl::Status Runtime(std::string_view cause) {
  return asl::AslError(asl::kStatesRuntime, cause);
}

}  // namespace

struct Execution::Impl {
  std::shared_ptr<const asl::Definition> def;
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
  int64_t next_thread = 1;
  int64_t next_join = 1;
  std::map<int64_t, Thread> threads;
  std::map<int64_t, Join> joins;
  std::map<std::string, int64_t> tasks;  // outstanding task id -> thread
  std::map<std::string, Timer> timers;   // armed timer id -> timer
  std::deque<int64_t> queue;             // runnable threads

  // Transient: rebuilt on Start/Restore, or set per call.
  Json base_context;
  std::map<const Json*, bool> uses_context;  // state -> reads "$$"
  int64_t now = 0;
  StepOutput* out = nullptr;
  StepOutput scratch;  // stands in when a caller passes no StepOutput
  // Tasks and timers created during the current call.
  std::set<std::string> fresh_tasks;
  std::set<std::string> fresh_timers;

  // ---- helpers --------------------------------------------------------

  uint64_t NextRandom() { return SplitMix64(&rng); }

  asl::EvalEnv Env(const Json* ctx) {
    asl::EvalEnv env;
    env.context = ctx;
    env.random = [this] { return NextRandom(); };
    return env;
  }

  // The context object without Execution.Input (added per state only when
  // the state reads "$$", so that big inputs are not copied for every state).
  void BuildBaseContext() {
    base_context = Json::object();
    base_context["Execution"] = {{"Id", info.execution_id},
                                 {"Name", info.execution_name},
                                 {"StartTime", FormatIsoMs(info.start_ms)}};
    base_context["StateMachine"] = {{"Id", info.state_machine_id},
                                    {"Name", info.state_machine_name}};
  }

  // True when a state's own fields (not its nested machines) mention "$$".
  bool UsesContext(const Json* sj) {
    auto it = uses_context.find(sj);
    if (it != uses_context.end()) return it->second;
    bool uses = false;
    for (const auto& [key, value] : sj->items()) {
      if (key == "Branches" || key == "ItemProcessor" || key == "Iterator") {
        continue;
      }
      if (Mentions(value)) {
        uses = true;
        break;
      }
    }
    uses_context[sj] = uses;
    return uses;
  }

  static bool Mentions(const Json& v) {
    if (v.is_string()) {
      return v.get_ref<const std::string&>().find("$$") != std::string::npos;
    }
    if (v.is_object()) {
      for (const auto& [key, value] : v.items()) {
        if (key.find("$$") != std::string::npos || Mentions(value)) return true;
      }
    }
    if (v.is_array()) {
      for (const Json& e : v) {
        if (Mentions(e)) return true;
      }
    }
    return false;
  }

  Json Context(const Thread& t, const std::string* token) {
    Json c = base_context;
    if (UsesContext(t.sj)) c["Execution"]["Input"] = input;
    c["State"] = {{"Name", t.state},
                  {"EnteredTime", FormatIsoMs(t.entered_ms)},
                  {"RetryCount", t.retry_count}};
    if (token != nullptr) c["Task"] = {{"Token", *token}};
    return c;
  }

  bool TooBig(const Json& v) const {
    return info.max_payload_bytes > 0 &&
           JsonSize(v) > static_cast<size_t>(info.max_payload_bytes);
  }

  void Emit(std::string type, const std::string& state, std::string task_id,
            Json details) {
    out->events.push_back(
        Event{std::move(type), state, std::move(task_id), std::move(details)});
  }

  std::string ArmTimer(TimerKind kind, int64_t thread, int64_t due_ms) {
    std::string id = "tm" + std::to_string(next_timer++);
    timers[id] = Timer{due_ms, kind, thread};
    out->set_timers.push_back(TimerSpec{id, due_ms});
    fresh_timers.insert(id);
    return id;
  }

  // Tells the world to drop a timer or task. One armed or dispatched during
  // this same call is taken back out of `out` instead, so that every call's
  // output is consistent on its own, whatever order a consumer applies it in.
  void DropTimer(const std::string& id, int64_t due_ms) {
    if (fresh_timers.erase(id) > 0) {
      std::erase_if(out->set_timers,
                    [&](const TimerSpec& t) { return t.timer_id == id; });
      return;
    }
    out->cancel_timers.push_back(TimerSpec{id, due_ms});
  }

  void DropTask(const std::string& id) {
    if (fresh_tasks.erase(id) > 0) {
      std::erase_if(out->dispatch,
                    [&](const TaskSpec& t) { return t.task_id == id; });
      return;
    }
    out->cancel_tasks.push_back(id);
  }

  void DisarmTimer(std::string* id) {
    if (id->empty()) return;
    auto it = timers.find(*id);
    if (it != timers.end()) {
      DropTimer(*id, it->second.due_ms);
      timers.erase(it);
    }
    id->clear();
  }

  // Withdraws the task a thread waits on, with its timers.
  void WithdrawTask(Thread& t) {
    DisarmTimer(&t.timeout_timer);
    DisarmTimer(&t.heartbeat_timer);
    if (!t.task_id.empty()) {
      tasks.erase(t.task_id);
      DropTask(t.task_id);
      t.task_id.clear();
    }
  }

  // Resolves a machine path ([[state, index], ...]); nullptr when it does
  // not fit the definition.
  const asl::Machine* ResolveMachine(const Json& mpath) const {
    const asl::Machine* m = &def->root();
    if (!mpath.is_array()) return nullptr;
    for (const Json& step : mpath) {
      if (!step.is_array() || step.size() != 2 || !step[0].is_string() ||
          !step[1].is_number_integer()) {
        return nullptr;
      }
      auto it = m->states.find(step[0].get_ref<const std::string&>());
      if (it == m->states.end()) return nullptr;
      m = def->Nested(it->second, step[1].get<int>());
      if (m == nullptr) return nullptr;
    }
    return m;
  }

  const Json* StateJson(const asl::Machine* m, std::string_view name) const {
    auto it = m->states.find(name);
    return it == m->states.end() ? nullptr : it->second;
  }

  // ---- data flow ------------------------------------------------------

  absl::StatusOr<Json> ApplyPathField(const Json& sj, const char* field,
                                      const Json& value, const Json& ctx) {
    auto it = sj.find(field);
    if (it == sj.end()) return value;
    if (it->is_null()) return Json::object();
    if (!it->is_string()) {
      return Runtime(std::string(field) + " is not a string");
    }
    asl::EvalEnv env = Env(&ctx);
    return asl::EvalPath(it->get_ref<const std::string&>(), value, env);
  }

  absl::StatusOr<Json> EffectiveInput(const Thread& t, const Json& ctx) {
    return ApplyPathField(*t.sj, "InputPath", t.input, ctx);
  }

  absl::StatusOr<Json> Template(const Json& sj, const char* field,
                                const Json& value, const Json& ctx) {
    auto it = sj.find(field);
    if (it == sj.end()) return value;
    asl::EvalEnv env = Env(&ctx);
    return asl::EvalPayloadTemplate(*it, value, env);
  }

  absl::StatusOr<Json> PlaceResult(const Json& sj, const Json& raw,
                                   const Json& result) {
    auto it = sj.find("ResultPath");
    if (it == sj.end()) return result;
    if (it->is_null()) return raw;
    if (!it->is_string()) return Runtime("ResultPath is not a string");
    const std::string& path = it->get_ref<const std::string&>();
    if (path == "$") return result;
    return asl::ApplyResultPath(path, raw, result);
  }

  // Reads a whole number from a literal field or its *Path twin (evaluated
  // against `input`). *found = false when neither is present.
  absl::Status NumberOrPath(const Thread& t, const char* field,
                            const char* path_field, const Json& input,
                            const Json& ctx, int64_t min_value, int64_t* value,
                            bool* found) {
    const Json& sj = *t.sj;
    *found = false;
    auto it = sj.find(field);
    if (it != sj.end()) {
      if (!WholeNumber(*it, value) || *value < min_value) {
        return Runtime(std::string(field) + " is not a valid number");
      }
      *found = true;
      return absl::OkStatus();
    }
    const std::string* path = StrField(sj, path_field);
    if (path == nullptr) return absl::OkStatus();
    asl::EvalEnv env = Env(&ctx);
    auto v = asl::EvalPath(*path, input, env);
    if (!v.ok()) return v.status();
    if (!WholeNumber(*v, value) || *value < min_value) {
      return Runtime(std::string(path_field) + " '" + *path +
                     "' does not give a valid number: " + DumpJson(*v));
    }
    *found = true;
    return absl::OkStatus();
  }

  // ---- the run loop ---------------------------------------------------

  void Enqueue(Thread& t, Phase phase) {
    t.phase = phase;
    queue.push_back(t.id);
  }

  void Run() {
    int64_t steps = 0;
    while (!queue.empty() && status == RunStatus::kRunning) {
      if (info.max_states_per_call > 0 && ++steps > info.max_states_per_call) {
        ExecutionFailed(Failure::Of(
            asl::kStatesRuntime,
            "more than " + std::to_string(info.max_states_per_call) +
                " states ran without waiting on a task or timer"));
        break;
      }
      int64_t id = queue.front();
      queue.pop_front();
      auto it = threads.find(id);
      if (it == threads.end()) continue;
      Thread& t = it->second;
      if (t.phase == Phase::kEnter) {
        t.entered_ms = now;
        t.retry_count = 0;
        t.attempts.assign(RetrierCount(t), 0);
        Emit("StateEntered", t.state, "", {{"input", t.input}});
        Attempt(t);
      } else if (t.phase == Phase::kAttempt) {
        Attempt(t);
      }
    }
    if (status != RunStatus::kRunning) queue.clear();
  }

  size_t RetrierCount(const Thread& t) const {
    auto it = t.sj->find("Retry");
    return it != t.sj->end() && it->is_array() ? it->size() : 0;
  }

  void Attempt(Thread& t) {
    const std::string* type = StrField(*t.sj, "Type");
    const std::string ty = type ? *type : "";
    if (ty == "Pass") {
      RunPass(t);
    } else if (ty == "Task") {
      RunTask(t);
    } else if (ty == "Choice") {
      RunChoice(t);
    } else if (ty == "Wait") {
      RunWait(t);
    } else if (ty == "Succeed") {
      RunSucceed(t);
    } else if (ty == "Fail") {
      RunFail(t);
    } else if (ty == "Parallel") {
      RunParallel(t);
    } else if (ty == "Map") {
      RunMap(t);
    } else {
      StateFailed(t, Failure::Of(asl::kStatesRuntime,
                                 "unsupported state type '" + ty + "'"));
    }
  }

  // ---- state types ----------------------------------------------------

  void RunPass(Thread& t) {
    Json ctx = Context(t, nullptr);
    auto eff = EffectiveInput(t, ctx);
    if (!eff.ok()) return StateFailed(t, Failure::FromStatus(eff.status()));
    auto params = Template(*t.sj, "Parameters", *eff, ctx);
    if (!params.ok()) {
      return StateFailed(t, Failure::FromStatus(params.status()));
    }
    auto rit = t.sj->find("Result");
    Json result = rit != t.sj->end() ? *rit : std::move(*params);
    Complete(t, std::move(result), /*select=*/false);
  }

  void RunSucceed(Thread& t) {
    Json ctx = Context(t, nullptr);
    auto eff = EffectiveInput(t, ctx);
    if (!eff.ok()) return StateFailed(t, Failure::FromStatus(eff.status()));
    auto outv = ApplyPathField(*t.sj, "OutputPath", *eff, ctx);
    if (!outv.ok()) return StateFailed(t, Failure::FromStatus(outv.status()));
    Exit(t, std::move(*outv));
  }

  // Error/Cause from a literal, a path or an intrinsic function.
  absl::Status FailField(const Thread& t, const char* field,
                         const char* path_field, const Json& ctx,
                         std::string* value, bool* present) {
    *present = false;
    if (const std::string* lit = StrField(*t.sj, field)) {
      *value = *lit;
      *present = true;
      return absl::OkStatus();
    }
    const std::string* path = StrField(*t.sj, path_field);
    if (path == nullptr) return absl::OkStatus();
    asl::EvalEnv env = Env(&ctx);
    absl::StatusOr<Json> v = path->rfind("States.", 0) == 0
                                 ? asl::EvalIntrinsic(*path, t.input, env)
                                 : asl::EvalPath(*path, t.input, env);
    if (!v.ok()) return v.status();
    if (!v->is_string()) {
      return Runtime(std::string(path_field) + " '" + *path +
                     "' does not give a string");
    }
    *value = v->get<std::string>();
    *present = true;
    return absl::OkStatus();
  }

  void RunFail(Thread& t) {
    Json ctx = Context(t, nullptr);
    Failure f;
    absl::Status s =
        FailField(t, "Error", "ErrorPath", ctx, &f.error, &f.has_error);
    if (s.ok()) {
      s = FailField(t, "Cause", "CausePath", ctx, &f.cause, &f.has_cause);
    }
    if (!s.ok()) return StateFailed(t, Failure::FromStatus(s));
    StateFailed(t, f);
  }

  void RunChoice(Thread& t) {
    Json ctx = Context(t, nullptr);
    auto eff = EffectiveInput(t, ctx);
    if (!eff.ok()) return StateFailed(t, Failure::FromStatus(eff.status()));
    const std::string* next = nullptr;
    auto cit = t.sj->find("Choices");
    if (cit != t.sj->end() && cit->is_array()) {
      for (const Json& choice : *cit) {
        if (!choice.is_object()) continue;
        Json rule = choice;
        rule.erase("Next");
        asl::EvalEnv env = Env(&ctx);
        auto m = asl::EvalChoiceRule(rule, *eff, env);
        if (!m.ok()) return StateFailed(t, Failure::FromStatus(m.status()));
        if (*m) {
          next = StrField(choice, "Next");
          break;
        }
      }
    }
    if (next == nullptr) next = StrField(*t.sj, "Default");
    if (next == nullptr) {
      return StateFailed(
          t, Failure::Of(asl::kStatesNoChoiceMatched,
                         "No Choice Rule matched and there is no Default in "
                         "state '" +
                             t.state + "'"));
    }
    auto outv = ApplyPathField(*t.sj, "OutputPath", *eff, ctx);
    if (!outv.ok()) return StateFailed(t, Failure::FromStatus(outv.status()));
    GoTo(t, *next, std::move(*outv));
  }

  void RunWait(Thread& t) {
    Json ctx = Context(t, nullptr);
    auto eff = EffectiveInput(t, ctx);
    if (!eff.ok()) return StateFailed(t, Failure::FromStatus(eff.status()));
    const Json& sj = *t.sj;
    int64_t due = now;
    int64_t secs;
    if (sj.contains("Seconds")) {
      if (!WholeNumber(sj["Seconds"], &secs) || secs < 0) {
        return StateFailed(
            t, Failure::Of(asl::kStatesRuntime, "Wait Seconds is not valid"));
      }
      due = now + secs * 1000;
    } else if (const std::string* ts = StrField(sj, "Timestamp")) {
      auto ms = asl::ParseTimestampMs(*ts);
      if (!ms.ok()) return StateFailed(t, Failure::FromStatus(ms.status()));
      due = *ms;
    } else if (const std::string* p = StrField(sj, "SecondsPath")) {
      asl::EvalEnv env = Env(&ctx);
      auto v = asl::EvalPath(*p, *eff, env);
      if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
      if (!WholeNumber(*v, &secs) || secs < 0) {
        return StateFailed(
            t, Failure::Of(asl::kStatesRuntime,
                           "SecondsPath '" + *p +
                               "' does not give a non-negative integer: " +
                               DumpJson(*v)));
      }
      due = now + secs * 1000;
    } else if (const std::string* p = StrField(sj, "TimestampPath")) {
      asl::EvalEnv env = Env(&ctx);
      auto v = asl::EvalPath(*p, *eff, env);
      if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
      absl::StatusOr<int64_t> ms =
          v->is_string() ? asl::ParseTimestampMs(v->get<std::string>())
                         : absl::StatusOr<int64_t>(Runtime("not a string"));
      if (!ms.ok()) {
        return StateFailed(
            t, Failure::Of(
                   asl::kStatesRuntime,
                   "TimestampPath '" + *p +
                       "' does not give a valid timestamp: " + DumpJson(*v)));
      }
      due = *ms;
    }
    auto outv = ApplyPathField(*t.sj, "OutputPath", *eff, ctx);
    if (!outv.ok()) return StateFailed(t, Failure::FromStatus(outv.status()));
    if (TooBig(*outv)) return StateFailed(t, DataLimit());
    if (due <= now) {
      Exit(t, std::move(*outv));
      return;
    }
    t.held = std::move(*outv);
    t.phase = Phase::kWait;
    t.timer = ArmTimer(TimerKind::kWait, t.id, due);
    Emit("WaitStarted", t.state, "", {{"due_ms", due}});
  }

  void RunTask(Thread& t) {
    std::string task_id = "t";  // (operator+ here trips GCC 12 -Wrestrict)
    task_id += std::to_string(next_task++);
    Json ctx = Context(t, &task_id);
    auto eff = EffectiveInput(t, ctx);
    if (!eff.ok()) return StateFailed(t, Failure::FromStatus(eff.status()));
    auto params = Template(*t.sj, "Parameters", *eff, ctx);
    if (!params.ok()) {
      return StateFailed(t, Failure::FromStatus(params.status()));
    }
    int64_t timeout = 0, heartbeat = 0;
    bool found = false;
    absl::Status s = NumberOrPath(t, "TimeoutSeconds", "TimeoutSecondsPath",
                                  *eff, ctx, 1, &timeout, &found);
    if (s.ok()) {
      s = NumberOrPath(t, "HeartbeatSeconds", "HeartbeatSecondsPath", *eff, ctx,
                       1, &heartbeat, &found);
    }
    if (!s.ok()) return StateFailed(t, Failure::FromStatus(s));
    if (TooBig(*params)) return StateFailed(t, DataLimit());
    const std::string* resource = StrField(*t.sj, "Resource");
    TaskSpec spec;
    spec.task_id = task_id;
    spec.state = t.state;
    spec.resource = resource ? *resource : "";
    spec.input = std::move(*params);
    spec.timeout_seconds = timeout;
    spec.heartbeat_seconds = heartbeat;
    t.phase = Phase::kTask;
    t.task_id = task_id;
    t.heartbeat_s = heartbeat;
    tasks[task_id] = t.id;
    if (timeout > 0) {
      t.timeout_timer =
          ArmTimer(TimerKind::kTaskTimeout, t.id, now + timeout * 1000);
    }
    if (heartbeat > 0) {
      t.heartbeat_timer =
          ArmTimer(TimerKind::kHeartbeat, t.id, now + heartbeat * 1000);
    }
    Emit("TaskScheduled", t.state, task_id,
         {{"resource", spec.resource}, {"input", spec.input}});
    out->dispatch.push_back(std::move(spec));
    fresh_tasks.insert(task_id);
  }

  void RunParallel(Thread& t) {
    Json ctx = Context(t, nullptr);
    auto eff = EffectiveInput(t, ctx);
    if (!eff.ok()) return StateFailed(t, Failure::FromStatus(eff.status()));
    auto params = Template(*t.sj, "Parameters", *eff, ctx);
    if (!params.ok()) {
      return StateFailed(t, Failure::FromStatus(params.status()));
    }
    auto bit = t.sj->find("Branches");
    const size_t n = bit != t.sj->end() && bit->is_array() ? bit->size() : 0;
    Join j;
    j.id = next_join++;
    j.kind = JoinKind::kParallel;
    j.parent = t.id;
    for (size_t i = 0; i < n; ++i) {
      j.inputs.push_back(*params);
      j.results.push_back(nullptr);
    }
    j.max_concurrency = 0;
    j.next = 0;
    Emit("ParallelStarted", t.state, "", {{"branches", n}});
    StartJoin(t, std::move(j));
  }

  void RunMap(Thread& t) {
    Json ctx = Context(t, nullptr);
    auto eff = EffectiveInput(t, ctx);
    if (!eff.ok()) return StateFailed(t, Failure::FromStatus(eff.status()));
    const Json& sj = *t.sj;
    Json items;
    if (const std::string* ip = StrField(sj, "ItemsPath")) {
      asl::EvalEnv env = Env(&ctx);
      auto v = asl::EvalPath(*ip, *eff, env);
      if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
      items = std::move(*v);
    } else {
      items = *eff;
    }
    if (!items.is_array()) {
      return StateFailed(
          t, Failure::Of(asl::kStatesRuntime,
                         "Map items are not an array: " + DumpJson(items)));
    }
    int64_t maxc = 0;
    bool found = false;
    absl::Status s = NumberOrPath(t, "MaxConcurrency", "MaxConcurrencyPath",
                                  *eff, ctx, 0, &maxc, &found);
    if (!s.ok()) return StateFailed(t, Failure::FromStatus(s));
    int64_t tol_count = -1;
    s = NumberOrPath(t, "ToleratedFailureCount", "ToleratedFailureCountPath",
                     *eff, ctx, 0, &tol_count, &found);
    if (!s.ok()) return StateFailed(t, Failure::FromStatus(s));
    if (!found) tol_count = -1;
    double tol_pct = -1;
    if (sj.contains("ToleratedFailurePercentage")) {
      if (!AnyNumber(sj["ToleratedFailurePercentage"], &tol_pct) ||
          tol_pct < 0 || tol_pct > 100) {
        return StateFailed(t, Failure::Of(asl::kStatesRuntime,
                                          "ToleratedFailurePercentage is "
                                          "not a valid percentage"));
      }
    } else if (const std::string* p =
                   StrField(sj, "ToleratedFailurePercentagePath")) {
      asl::EvalEnv env = Env(&ctx);
      auto v = asl::EvalPath(*p, *eff, env);
      if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
      if (!AnyNumber(*v, &tol_pct) || tol_pct < 0 || tol_pct > 100) {
        return StateFailed(
            t, Failure::Of(asl::kStatesRuntime,
                           "ToleratedFailurePercentagePath '" + *p +
                               "' does not give a valid percentage"));
      }
    }
    const char* selector_field = sj.contains("ItemSelector") ? "ItemSelector"
                                 : sj.contains("Parameters") ? "Parameters"
                                                             : nullptr;
    Join j;
    j.id = next_join++;
    j.kind = JoinKind::kMap;
    j.parent = t.id;
    j.max_concurrency = maxc;
    j.tolerated_count = tol_count;
    j.tolerated_pct = tol_pct;
    for (size_t i = 0; i < items.size(); ++i) {
      if (selector_field != nullptr) {
        Json ictx = ctx;
        ictx["Map"] = {{"Item", {{"Index", i}, {"Value", items[i]}}}};
        asl::EvalEnv env = Env(&ictx);
        auto v = asl::EvalPayloadTemplate(sj[selector_field], *eff, env);
        if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
        j.inputs.push_back(std::move(*v));
      } else {
        j.inputs.push_back(items[i]);
      }
      j.results.push_back(nullptr);
    }
    Emit("MapStarted", t.state, "", {{"items", items.size()}});
    StartJoin(t, std::move(j));
  }

  // ---- joins ----------------------------------------------------------

  void StartJoin(Thread& t, Join j) {
    const int64_t jid = j.id;
    if (j.inputs.empty()) {
      Complete(t, Json::array(), /*select=*/true);
      return;
    }
    t.phase = Phase::kJoin;
    t.child_join = jid;
    joins.emplace(jid, std::move(j));
    LaunchChildren(joins.at(jid));
  }

  void LaunchChildren(Join& j) {
    Thread& parent = threads.at(j.parent);
    const int64_t total = static_cast<int64_t>(j.inputs.size());
    while (j.next < total &&
           (j.max_concurrency == 0 ||
            static_cast<int64_t>(j.children.size()) < j.max_concurrency)) {
      const int64_t i = j.next++;
      const int index = j.kind == JoinKind::kParallel ? static_cast<int>(i) : 0;
      Thread c;
      c.id = next_thread++;
      c.mpath = parent.mpath;
      c.mpath.push_back(Json::array({parent.state, index}));
      c.machine = def->Nested(parent.sj, index);
      c.join = j.id;
      c.slot = i;
      c.input = j.inputs[i];
      j.inputs[i] = nullptr;  // no longer needed
      if (c.machine != nullptr) {
        c.state = c.machine->start_at;
        c.sj = StateJson(c.machine, c.state);
      }
      if (j.kind == JoinKind::kMap) {
        Emit("MapIterationStarted", parent.state, "", {{"index", i}});
      } else {
        Emit("ParallelBranchStarted", parent.state, "", {{"index", i}});
      }
      if (c.sj == nullptr) {
        // The definition lacks the nested machine: fail the parent state.
        CancelJoin(j.id);
        parent.child_join = 0;
        StateFailed(parent, Failure::Of(asl::kStatesRuntime,
                                        "state '" + parent.state +
                                            "' has no runnable machine"));
        return;
      }
      j.children.insert(c.id);
      const int64_t cid = c.id;
      threads.emplace(cid, std::move(c));
      Enqueue(threads.at(cid), Phase::kEnter);
    }
  }

  void ChildSucceeded(int64_t jid, int64_t cid, int64_t slot, Json output) {
    Join& j = joins.at(jid);
    j.children.erase(cid);
    j.results[slot] = std::move(output);
    ++j.done;
    Emit(j.kind == JoinKind::kMap ? "MapIterationSucceeded"
                                  : "ParallelBranchSucceeded",
         threads.at(j.parent).state, "", {{"index", slot}});
    FinishOrContinue(j);
  }

  void FinishOrContinue(Join& j) {
    if (j.done == static_cast<int64_t>(j.results.size())) {
      Json results = std::move(j.results);
      Thread& parent = threads.at(j.parent);
      joins.erase(j.id);
      parent.child_join = 0;
      Complete(parent, std::move(results), /*select=*/true);
      return;
    }
    if (j.kind == JoinKind::kMap) LaunchChildren(j);
  }

  void ChildFailed(int64_t jid, int64_t cid, int64_t slot, Failure f) {
    Join& j = joins.at(jid);
    j.children.erase(cid);
    Thread& parent = threads.at(j.parent);
    Emit(j.kind == JoinKind::kMap ? "MapIterationFailed"
                                  : "ParallelBranchFailed",
         parent.state, "", {{"index", slot}, {"error", f.ToJson()}});
    if (j.kind == JoinKind::kMap &&
        (j.tolerated_count >= 0 || j.tolerated_pct >= 0)) {
      ++j.failed;
      const double total = static_cast<double>(j.results.size());
      const bool over_count =
          j.tolerated_count >= 0 && j.failed > j.tolerated_count;
      const bool over_pct =
          j.tolerated_pct >= 0 && j.failed * 100.0 / total > j.tolerated_pct;
      if (!over_count && !over_pct) {
        j.results[slot] = f.ToJson();
        ++j.done;
        FinishOrContinue(j);
        return;
      }
      f = Failure::Of(asl::kStatesExceedToleratedFailureThreshold,
                      "The specified tolerated failure threshold was "
                      "exceeded");
    }
    CancelJoin(jid);
    parent.child_join = 0;
    StateFailed(parent, f);
  }

  // ---- cancellation ---------------------------------------------------

  void CancelThread(int64_t id) {
    auto it = threads.find(id);
    if (it == threads.end()) return;
    Thread& t = it->second;
    WithdrawTask(t);
    DisarmTimer(&t.timer);
    if (t.child_join != 0) CancelJoin(t.child_join);
    threads.erase(id);
  }

  void CancelJoin(int64_t jid) {
    auto it = joins.find(jid);
    if (it == joins.end()) return;
    std::set<int64_t> children = std::move(it->second.children);
    joins.erase(it);
    for (int64_t c : children) CancelThread(c);
  }

  void CancelEverything() {
    std::vector<int64_t> ids;
    for (const auto& [id, t] : threads) ids.push_back(id);
    for (int64_t id : ids) CancelThread(id);
    joins.clear();
    for (auto& [id, tm] : timers) {
      DropTimer(id, tm.due_ms);
    }
    timers.clear();
    for (auto& [id, th] : tasks) DropTask(id);
    tasks.clear();
    queue.clear();
  }

  // ---- completion and failure ----------------------------------------

  static Failure DataLimit() {
    return Failure::Of(asl::kStatesDataLimitExceeded,
                       "The state output exceeds the maximum payload size");
  }

  // The state's work produced `result`: ResultSelector (Task, Parallel,
  // Map), ResultPath, OutputPath, then on to the next state.
  void Complete(Thread& t, Json result, bool select) {
    Json ctx = Context(t, nullptr);
    if (select) {
      auto sel = Template(*t.sj, "ResultSelector", result, ctx);
      if (!sel.ok()) return StateFailed(t, Failure::FromStatus(sel.status()));
      result = std::move(*sel);
    }
    auto placed = PlaceResult(*t.sj, t.input, result);
    if (!placed.ok()) {
      return StateFailed(t, Failure::FromStatus(placed.status()));
    }
    auto outv = ApplyPathField(*t.sj, "OutputPath", *placed, ctx);
    if (!outv.ok()) return StateFailed(t, Failure::FromStatus(outv.status()));
    Exit(t, std::move(*outv));
  }

  // Leaves the state with `output`: to Next, or the thread ends.
  void Exit(Thread& t, Json output) {
    if (TooBig(output)) return StateFailed(t, DataLimit());
    const std::string* next = StrField(*t.sj, "Next");
    const std::string* type = StrField(*t.sj, "Type");
    const bool ends = next == nullptr || (type && (*type == "Succeed"));
    if (ends) {
      Emit("StateExited", t.state, "", {{"output", output}});
      ThreadSucceeded(t, std::move(output));
      return;
    }
    GoTo(t, *next, std::move(output));
  }

  void GoTo(Thread& t, const std::string& next, Json output) {
    Emit("StateExited", t.state, "", {{"output", output}});
    const Json* nsj = StateJson(t.machine, next);
    if (nsj == nullptr) {
      return ThreadFailed(
          t, Failure::Of(asl::kStatesRuntime, "no state named '" + next + "'"));
    }
    t.state = next;
    t.sj = nsj;
    t.input = std::move(output);
    t.held = nullptr;
    Enqueue(t, Phase::kEnter);
  }

  // The state failed with `f`: Retry, then Catch, else the thread fails.
  void StateFailed(Thread& t, Failure f) {
    Emit("StateFailed", t.state, "", {{"error", f.ToJson()}});
    auto rit = t.sj->find("Retry");
    if (rit != t.sj->end() && rit->is_array()) {
      for (size_t r = 0; r < rit->size(); ++r) {
        const Json& retrier = (*rit)[r];
        if (!retrier.is_object() ||
            !ErrorMatches(retrier.value("ErrorEquals", Json()), f)) {
          continue;
        }
        if (t.attempts.size() < rit->size()) t.attempts.resize(rit->size(), 0);
        const int64_t max_attempts = IntField(retrier, "MaxAttempts", 3);
        if (t.attempts[r] >= max_attempts) break;  // exhausted: try Catch
        const double interval = NumField(retrier, "IntervalSeconds", 1);
        const double rate = NumField(retrier, "BackoffRate", 2.0);
        double delay_ms = interval * 1000.0 *
                          std::pow(rate, static_cast<double>(t.attempts[r]));
        if (retrier.contains("MaxDelaySeconds")) {
          delay_ms = std::min(delay_ms,
                              NumField(retrier, "MaxDelaySeconds", 0) * 1000.0);
        }
        if (!std::isfinite(delay_ms) || delay_ms > 3.2e12) delay_ms = 3.2e12;
        if (delay_ms < 0) delay_ms = 0;
        int64_t delay = static_cast<int64_t>(std::llround(delay_ms));
        const std::string* jitter = StrField(retrier, "JitterStrategy");
        if (jitter != nullptr && *jitter == "FULL" && delay > 0) {
          delay = static_cast<int64_t>(NextRandom() %
                                       static_cast<uint64_t>(delay + 1));
        }
        ++t.attempts[r];
        ++t.retry_count;
        t.phase = Phase::kRetry;
        t.timer = ArmTimer(TimerKind::kRetry, t.id, now + delay);
        Emit("StateRetryScheduled", t.state, "",
             {{"retrier", r}, {"attempt", t.attempts[r]}, {"delay_ms", delay}});
        return;
      }
    }
    auto cit = t.sj->find("Catch");
    if (cit != t.sj->end() && cit->is_array()) {
      for (size_t c = 0; c < cit->size(); ++c) {
        const Json& catcher = (*cit)[c];
        if (!catcher.is_object() ||
            !ErrorMatches(catcher.value("ErrorEquals", Json()), f)) {
          continue;
        }
        const std::string* next = StrField(catcher, "Next");
        if (next == nullptr) break;
        absl::StatusOr<Json> placed = PlaceResult(catcher, t.input, f.ToJson());
        if (!placed.ok()) {
          return ThreadFailed(t, Failure::FromStatus(placed.status()));
        }
        if (TooBig(*placed)) return ThreadFailed(t, DataLimit());
        Emit("StateCaught", t.state, "", {{"catcher", c}, {"next", *next}});
        GoTo(t, *next, std::move(*placed));
        return;
      }
    }
    ThreadFailed(t, std::move(f));
  }

  void ThreadSucceeded(Thread& t, Json output) {
    const int64_t id = t.id, jid = t.join, slot = t.slot;
    threads.erase(id);
    if (jid == 0) return ExecutionSucceeded(std::move(output));
    ChildSucceeded(jid, id, slot, std::move(output));
  }

  void ThreadFailed(Thread& t, Failure f) {
    const int64_t id = t.id, jid = t.join, slot = t.slot;
    CancelThread(id);
    if (jid == 0) return ExecutionFailed(std::move(f));
    ChildFailed(jid, id, slot, std::move(f));
  }

  void ExecutionSucceeded(Json out_value) {
    CancelEverything();
    status = RunStatus::kSucceeded;
    output = std::move(out_value);
    Emit("ExecutionSucceeded", "", "", {{"output", output}});
  }

  void ExecutionFailed(Failure f) {
    CancelEverything();
    status = RunStatus::kFailed;
    error = f.has_error ? f.error : "";
    cause = f.has_cause ? f.cause : "";
    has_error = f.has_error;
    has_cause = f.has_cause;
    Emit("ExecutionFailed", "", "", {{"error", f.ToJson()}});
  }

  // ---- snapshot -------------------------------------------------------

  Json ToJson() const {
    Json j = Json::object();
    j["v"] = kSnapshotVersion;
    j["digest"] = def->digest();
    j["info"] = {{"execution_id", info.execution_id},
                 {"execution_name", info.execution_name},
                 {"state_machine_id", info.state_machine_id},
                 {"state_machine_name", info.state_machine_name},
                 {"start_ms", info.start_ms},
                 {"seed", std::to_string(info.seed)},
                 {"max_payload_bytes", info.max_payload_bytes},
                 {"max_states_per_call", info.max_states_per_call}};
    j["input"] = input;
    j["status"] = StatusName(status);
    j["output"] = output;
    j["error"] = error;
    j["cause"] = cause;
    j["has_error"] = has_error;
    j["has_cause"] = has_cause;
    j["rng"] = std::to_string(rng);
    j["next"] = {{"task", next_task},
                 {"timer", next_timer},
                 {"thread", next_thread},
                 {"join", next_join}};
    Json th = Json::array();
    for (const auto& [id, t] : threads) {
      th.push_back({{"id", t.id},
                    {"mpath", t.mpath},
                    {"join", t.join},
                    {"slot", t.slot},
                    {"state", t.state},
                    {"phase", PhaseName(t.phase)},
                    {"input", t.input},
                    {"entered_ms", t.entered_ms},
                    {"attempts", t.attempts},
                    {"retry_count", t.retry_count},
                    {"task_id", t.task_id},
                    {"timer", t.timer},
                    {"timeout_timer", t.timeout_timer},
                    {"heartbeat_timer", t.heartbeat_timer},
                    {"heartbeat_s", t.heartbeat_s},
                    {"child_join", t.child_join},
                    {"held", t.held}});
    }
    j["threads"] = std::move(th);
    Json jo = Json::array();
    for (const auto& [id, x] : joins) {
      jo.push_back({{"id", x.id},
                    {"kind", x.kind == JoinKind::kMap ? "map" : "parallel"},
                    {"parent", x.parent},
                    {"inputs", x.inputs},
                    {"results", x.results},
                    {"next", x.next},
                    {"done", x.done},
                    {"failed", x.failed},
                    {"max_concurrency", x.max_concurrency},
                    {"tolerated_count", x.tolerated_count},
                    {"tolerated_pct", x.tolerated_pct},
                    {"children", x.children}});
    }
    j["joins"] = std::move(jo);
    Json ta = Json::object();
    for (const auto& [id, thread] : tasks) ta[id] = thread;
    j["tasks"] = std::move(ta);
    Json tm = Json::object();
    for (const auto& [id, x] : timers) {
      tm[id] = {{"due_ms", x.due_ms},
                {"kind", TimerKindName(x.kind)},
                {"thread", x.thread}};
    }
    j["timers"] = std::move(tm);
    j["queue"] = queue;
    return j;
  }

  // Reads ToJson() output. May throw nlohmann exceptions on wrong types;
  // the caller turns them into a status.
  absl::Status FromJson(const Json& j) {
    if (!j.is_object() || j.value("v", 0) != kSnapshotVersion) {
      return absl::InvalidArgumentError("unsupported snapshot version");
    }
    if (j.at("digest").get<std::string>() != def->digest()) {
      return absl::InvalidArgumentError(
          "snapshot was taken with a different definition");
    }
    const Json& in = j.at("info");
    info.execution_id = in.at("execution_id").get<std::string>();
    info.execution_name = in.at("execution_name").get<std::string>();
    info.state_machine_id = in.at("state_machine_id").get<std::string>();
    info.state_machine_name = in.at("state_machine_name").get<std::string>();
    info.start_ms = in.at("start_ms").get<int64_t>();
    info.seed = std::stoull(in.at("seed").get<std::string>());
    info.max_payload_bytes = in.at("max_payload_bytes").get<int64_t>();
    info.max_states_per_call = in.at("max_states_per_call").get<int64_t>();
    input = j.at("input");
    if (!ParseStatus(j.at("status").get<std::string>(), &status)) {
      return absl::DataLossError("bad status");
    }
    output = j.at("output");
    error = j.at("error").get<std::string>();
    cause = j.at("cause").get<std::string>();
    has_error = j.at("has_error").get<bool>();
    has_cause = j.at("has_cause").get<bool>();
    rng = std::stoull(j.at("rng").get<std::string>());
    const Json& nx = j.at("next");
    next_task = nx.at("task").get<int64_t>();
    next_timer = nx.at("timer").get<int64_t>();
    next_thread = nx.at("thread").get<int64_t>();
    next_join = nx.at("join").get<int64_t>();
    for (const Json& x : j.at("threads")) {
      Thread t;
      t.id = x.at("id").get<int64_t>();
      t.mpath = x.at("mpath");
      t.machine = ResolveMachine(t.mpath);
      if (t.machine == nullptr) {
        return absl::InvalidArgumentError("snapshot machine path " +
                                          DumpJson(t.mpath) +
                                          " does not fit the definition");
      }
      t.join = x.at("join").get<int64_t>();
      t.slot = x.at("slot").get<int64_t>();
      t.state = x.at("state").get<std::string>();
      t.sj = StateJson(t.machine, t.state);
      if (t.sj == nullptr) {
        return absl::InvalidArgumentError("snapshot state '" + t.state +
                                          "' is not in the definition");
      }
      if (!ParsePhase(x.at("phase").get<std::string>(), &t.phase)) {
        return absl::DataLossError("bad thread phase");
      }
      t.input = x.at("input");
      t.entered_ms = x.at("entered_ms").get<int64_t>();
      t.attempts = x.at("attempts").get<std::vector<int64_t>>();
      t.retry_count = x.at("retry_count").get<int64_t>();
      t.task_id = x.at("task_id").get<std::string>();
      t.timer = x.at("timer").get<std::string>();
      t.timeout_timer = x.at("timeout_timer").get<std::string>();
      t.heartbeat_timer = x.at("heartbeat_timer").get<std::string>();
      t.heartbeat_s = x.at("heartbeat_s").get<int64_t>();
      t.child_join = x.at("child_join").get<int64_t>();
      t.held = x.at("held");
      threads.emplace(t.id, std::move(t));
    }
    for (const Json& x : j.at("joins")) {
      Join jn;
      jn.id = x.at("id").get<int64_t>();
      jn.kind = x.at("kind").get<std::string>() == "map" ? JoinKind::kMap
                                                         : JoinKind::kParallel;
      jn.parent = x.at("parent").get<int64_t>();
      jn.inputs = x.at("inputs");
      jn.results = x.at("results");
      jn.next = x.at("next").get<int64_t>();
      jn.done = x.at("done").get<int64_t>();
      jn.failed = x.at("failed").get<int64_t>();
      jn.max_concurrency = x.at("max_concurrency").get<int64_t>();
      jn.tolerated_count = x.at("tolerated_count").get<int64_t>();
      jn.tolerated_pct = x.at("tolerated_pct").get<double>();
      jn.children = x.at("children").get<std::set<int64_t>>();
      if (!threads.contains(jn.parent)) {
        return absl::DataLossError("join without its parent thread");
      }
      for (int64_t c : jn.children) {
        if (!threads.contains(c)) {
          return absl::DataLossError("join with a missing child thread");
        }
      }
      joins.emplace(jn.id, std::move(jn));
    }
    for (const auto& [id, t] : threads) {
      if (t.join != 0 && !joins.contains(t.join)) {
        return absl::DataLossError("thread in a missing join");
      }
      if (t.child_join != 0 && !joins.contains(t.child_join)) {
        return absl::DataLossError("thread waiting on a missing join");
      }
    }
    for (const auto& [id, th] : j.at("tasks").items()) {
      int64_t tid = th.get<int64_t>();
      if (!threads.contains(tid)) {
        return absl::DataLossError("task of a missing thread");
      }
      tasks[id] = tid;
    }
    for (const auto& [id, x] : j.at("timers").items()) {
      Timer tm;
      tm.due_ms = x.at("due_ms").get<int64_t>();
      if (!ParseTimerKind(x.at("kind").get<std::string>(), &tm.kind)) {
        return absl::DataLossError("bad timer kind");
      }
      tm.thread = x.at("thread").get<int64_t>();
      if (tm.kind != TimerKind::kExecTimeout && !threads.contains(tm.thread)) {
        return absl::DataLossError("timer of a missing thread");
      }
      timers[id] = tm;
    }
    for (const Json& q : j.at("queue")) queue.push_back(q.get<int64_t>());
    BuildBaseContext();
    return absl::OkStatus();
  }

  // ---- command plumbing ----------------------------------------------

  absl::Status CheckRunning() const {
    if (status != RunStatus::kRunning) {
      return absl::FailedPreconditionError("the execution has ended");
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int64_t> TaskThread(std::string_view task_id) const {
    if (absl::Status s = CheckRunning(); !s.ok()) return s;
    auto it = tasks.find(std::string(task_id));
    if (it == tasks.end()) {
      return absl::FailedPreconditionError("no outstanding task '" +
                                           std::string(task_id) + "'");
    }
    return it->second;
  }

  void Begin(int64_t now_ms, StepOutput* o) {
    now = now_ms;
    if (o == nullptr) {
      scratch = StepOutput();
      o = &scratch;
    }
    out = o;
    fresh_tasks.clear();
    fresh_timers.clear();
  }
};

// ---- public API ---------------------------------------------------------

Execution::Execution(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Execution::~Execution() = default;

std::unique_ptr<Execution> Execution::Start(
    std::shared_ptr<const asl::Definition> def, Json input,
    const StartInfo& info, StepOutput* out) {
  auto impl = std::make_unique<Impl>();
  Impl& x = *impl;
  x.def = std::move(def);
  x.info = info;
  x.input = std::move(input);
  x.rng = info.seed;
  x.BuildBaseContext();
  x.Begin(info.start_ms, out);
  x.Emit("ExecutionStarted", "", "", {{"input", x.input}});
  const Json& doc = x.def->doc();
  if (x.TooBig(x.input)) {
    x.ExecutionFailed(Impl::DataLimit());
  } else {
    int64_t timeout = IntField(doc, "TimeoutSeconds", 0);
    if (timeout > 0) {
      x.ArmTimer(TimerKind::kExecTimeout, 0, info.start_ms + timeout * 1000);
    }
    const asl::Machine& root = x.def->root();
    Thread t;
    t.id = x.next_thread++;
    t.machine = &root;
    t.state = root.start_at;
    t.sj = x.StateJson(&root, t.state);
    t.input = x.input;
    if (t.sj == nullptr) {
      x.ExecutionFailed(
          Failure::Of(asl::kStatesRuntime, "StartAt names no state"));
    } else {
      const int64_t id = t.id;
      x.threads.emplace(id, std::move(t));
      x.Enqueue(x.threads.at(id), Phase::kEnter);
      x.Run();
    }
  }
  x.out = nullptr;
  return std::unique_ptr<Execution>(new Execution(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Execution>> Execution::Restore(
    std::shared_ptr<const asl::Definition> def, std::string_view snapshot) {
  Json j = Json::parse(snapshot, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::DataLossError("snapshot is not valid JSON");
  }
  auto impl = std::make_unique<Impl>();
  impl->def = std::move(def);
  absl::Status s;
  try {
    s = impl->FromJson(j);
  } catch (const std::exception& e) {
    s = absl::DataLossError(std::string("malformed snapshot: ") + e.what());
  }
  if (!s.ok()) return s;
  return std::unique_ptr<Execution>(new Execution(std::move(impl)));
}

std::string Execution::Snapshot() const { return DumpJson(impl_->ToJson()); }

absl::Status Execution::CompleteTask(std::string_view task_id, Json result,
                                     int64_t now_ms, StepOutput* out) {
  Impl& x = *impl_;
  absl::StatusOr<int64_t> tid = x.TaskThread(task_id);
  if (!tid.ok()) return tid.status();
  x.Begin(now_ms, out);
  Thread& t = x.threads.at(*tid);
  const std::string id = t.task_id;
  x.DisarmTimer(&t.timeout_timer);
  x.DisarmTimer(&t.heartbeat_timer);
  x.tasks.erase(id);
  t.task_id.clear();
  x.Emit("TaskSucceeded", t.state, id, {{"output", result}});
  if (x.TooBig(result)) {
    x.StateFailed(t, Impl::DataLimit());
  } else {
    x.Complete(t, std::move(result), /*select=*/true);
  }
  x.Run();
  x.out = nullptr;
  return absl::OkStatus();
}

absl::Status Execution::FailTask(std::string_view task_id,
                                 std::string_view error, std::string_view cause,
                                 int64_t now_ms, StepOutput* out) {
  Impl& x = *impl_;
  absl::StatusOr<int64_t> tid = x.TaskThread(task_id);
  if (!tid.ok()) return tid.status();
  x.Begin(now_ms, out);
  Thread& t = x.threads.at(*tid);
  const std::string id = t.task_id;
  x.DisarmTimer(&t.timeout_timer);
  x.DisarmTimer(&t.heartbeat_timer);
  x.tasks.erase(id);
  t.task_id.clear();
  Failure f = Failure::Of(error, cause);
  x.Emit("TaskFailed", t.state, id, {{"error", f.ToJson()}});
  x.StateFailed(t, std::move(f));
  x.Run();
  x.out = nullptr;
  return absl::OkStatus();
}

absl::Status Execution::HeartbeatTask(std::string_view task_id, int64_t now_ms,
                                      StepOutput* out) {
  Impl& x = *impl_;
  absl::StatusOr<int64_t> tid = x.TaskThread(task_id);
  if (!tid.ok()) return tid.status();
  x.Begin(now_ms, out);
  Thread& t = x.threads.at(*tid);
  if (!t.heartbeat_timer.empty()) {
    x.DisarmTimer(&t.heartbeat_timer);
    t.heartbeat_timer =
        x.ArmTimer(TimerKind::kHeartbeat, t.id, now_ms + t.heartbeat_s * 1000);
  }
  x.out = nullptr;
  return absl::OkStatus();
}

absl::Status Execution::FireTimer(std::string_view timer_id, int64_t now_ms,
                                  StepOutput* out) {
  Impl& x = *impl_;
  if (absl::Status s = x.CheckRunning(); !s.ok()) return s;
  auto it = x.timers.find(std::string(timer_id));
  if (it == x.timers.end()) {
    return absl::FailedPreconditionError("no armed timer '" +
                                         std::string(timer_id) + "'");
  }
  const Timer tm = it->second;
  if (tm.kind != TimerKind::kExecTimeout && !x.threads.contains(tm.thread)) {
    return absl::InternalError("timer '" + std::string(timer_id) +
                               "' belongs to no running state");
  }
  x.timers.erase(it);
  x.Begin(now_ms, out);
  if (tm.kind == TimerKind::kExecTimeout) {
    x.Emit("ExecutionTimedOut", "", "", nullptr);
    x.ExecutionFailed(
        Failure::Of(asl::kStatesTimeout, "The execution timed out"));
    x.out = nullptr;
    return absl::OkStatus();
  }
  Thread& t = x.threads.at(tm.thread);
  switch (tm.kind) {
    case TimerKind::kWait: {
      t.timer.clear();
      Json held = std::move(t.held);
      t.held = nullptr;
      x.Exit(t, std::move(held));
      break;
    }
    case TimerKind::kRetry:
      t.timer.clear();
      x.Enqueue(t, Phase::kAttempt);
      break;
    case TimerKind::kTaskTimeout:
    case TimerKind::kHeartbeat: {
      const bool hb = tm.kind == TimerKind::kHeartbeat;
      if (hb) {
        t.heartbeat_timer.clear();
      } else {
        t.timeout_timer.clear();
      }
      const std::string id = t.task_id;
      x.WithdrawTask(t);
      Failure f = hb ? Failure::Of(asl::kStatesHeartbeatTimeout,
                                   "The task sent no heartbeat in time")
                     : Failure::Of(asl::kStatesTimeout, "The task timed out");
      x.Emit("TaskTimedOut", t.state, id, {{"error", f.ToJson()}});
      x.StateFailed(t, std::move(f));
      break;
    }
    case TimerKind::kExecTimeout:
      break;
  }
  x.Run();
  x.out = nullptr;
  return absl::OkStatus();
}

absl::Status Execution::Cancel(std::string_view reason, int64_t now_ms,
                               StepOutput* out) {
  Impl& x = *impl_;
  if (absl::Status s = x.CheckRunning(); !s.ok()) return s;
  x.Begin(now_ms, out);
  x.CancelEverything();
  x.status = RunStatus::kCancelled;
  x.cause = std::string(reason);
  x.has_cause = true;
  x.Emit("ExecutionCancelled", "", "", {{"reason", x.cause}});
  x.out = nullptr;
  return absl::OkStatus();
}

RunStatus Execution::status() const { return impl_->status; }
const Json& Execution::output() const { return impl_->output; }
const std::string& Execution::error() const { return impl_->error; }
const std::string& Execution::cause() const { return impl_->cause; }
bool Execution::has_error() const { return impl_->has_error; }
bool Execution::has_cause() const { return impl_->has_cause; }

std::vector<std::string> Execution::ActiveStates() const {
  std::set<std::string> names;
  for (const auto& [id, t] : impl_->threads) names.insert(t.state);
  return std::vector<std::string>(names.begin(), names.end());
}

std::vector<std::string> Execution::OutstandingTasks() const {
  std::vector<std::string> ids;
  for (const auto& [id, th] : impl_->tasks) ids.push_back(id);
  return ids;
}

std::vector<TimerSpec> Execution::ArmedTimers() const {
  std::vector<TimerSpec> out;
  for (const auto& [id, tm] : impl_->timers) {
    out.push_back(TimerSpec{id, tm.due_ms});
  }
  return out;
}

}  // namespace onewindow::core
