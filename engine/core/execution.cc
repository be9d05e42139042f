// The public face of the interpreter and its command plumbing. See
// execution_impl.h for the model and the other files it is split into.
#include "engine/core/execution.h"

#include <algorithm>
#include <limits>

#include "engine/asl/json_parse.h"
#include "engine/core/execution_impl.h"
#include "engine/core/interp_util.h"

namespace onewindow::core {

using internal::FormatIsoMs;
using internal::JsonSize;
using internal::SplitMix64;
using internal::WholeNumber;
using onewindow::store::v1::ExecutionCheckpoint;
namespace sv1 = onewindow::store::v1;

ExecutionLimits DefaultLimits() {
  ExecutionLimits l;
  l.set_max_payload_bytes(256 * 1024);
  l.set_max_states_per_call(250000);
  l.set_max_map_items(10000);
  l.set_max_open_tasks(10000);
  l.set_launch_batch(1000);
  l.set_max_wait_seconds(10LL * 366 * 24 * 3600);
  l.set_max_history_events(100000);
  l.set_max_json_depth(128);
  return l;
}

// ---- free helpers ----------------------------------------------------------

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
  if (it == obj.end() || !internal::AnyNumber(*it, &v)) return dflt;
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

// ---- Impl helpers ----------------------------------------------------------

uint64_t Execution::Impl::NextRandom() { return SplitMix64(&rng); }

asl::EvalEnv Execution::Impl::Env(const Json* ctx) {
  asl::EvalEnv env;
  env.context = ctx;
  env.variables = cur_vars;
  env.random = [this] { return NextRandom(); };
  return env;
}

// The context object without Execution.Input (added per state only when
// the state reads "$$", so that big inputs are not copied for every state).
void Execution::Impl::BuildBaseContext() {
  base_context = Json::object();
  base_context["Execution"] = {{"Id", info.execution_id},
                               {"Name", info.execution_name},
                               {"StartTime", FormatIsoMs(info.start_ms)}};
  base_context["StateMachine"] = {{"Id", info.state_machine_id},
                                  {"Name", info.state_machine_name}};
}

// True when a state's own fields (not its nested machines) mention "$$".
bool Execution::Impl::UsesContext(const Json* sj) {
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

bool Execution::Impl::Mentions(const Json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    return s.find("$$") != std::string::npos ||
           (asl::IsJsonataExpression(s) &&
            s.find("context") != std::string::npos);
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

Json Execution::Impl::Context(const Thread& t, const std::string* token) {
  const bool jsonata = IsJsonata(t);
  // A JSONPath state's compiled form knows whether it reads "$$"; JSONata
  // states are also scanned for $states.context.
  const asl::StateSpec* spec = jsonata ? nullptr : def->Spec(t.sj);
  const bool uses =
      spec != nullptr ? spec->mentions_context : UsesContext(t.sj);
  // A JSONPath state reads the context only through "$$" in its own
  // fields: most states never do, so none is built for them. JSONata can
  // reach it through $states as a whole, so it always gets one.
  if (!uses && !jsonata) return Json::object();
  Json c = base_context;
  if (uses) c["Execution"]["Input"] = input;
  c["State"] = {{"Name", t.state},
                {"EnteredTime", FormatIsoMs(t.entered_ms)},
                {"RetryCount", t.retry_count}};
  if (token != nullptr) c["Task"] = {{"Token", *token}};
  return c;
}

// Both checks walk the value without recursion and stop at the bound, so a
// value grown deep by ResultPath (a loop placing the input inside itself)
// is refused before any recursive code (copy, dump, checkpoint) meets it.
bool Execution::Impl::TooBig(const Json& v) {
  const int64_t depth_cap = info.limits.max_json_depth();
  if (depth_cap > 0 && depth_cap < std::numeric_limits<int>::max() &&
      asl::JsonDepth(v, static_cast<int>(depth_cap)) > depth_cap) {
    data_limit_cause = "The state output is nested deeper than " +
                       std::to_string(depth_cap) + " levels (max_json_depth)";
    return true;
  }
  const int64_t cap = info.limits.max_payload_bytes();
  if (cap > 0 && asl::JsonTextSize(v, static_cast<size_t>(cap)) >
                     static_cast<size_t>(cap)) {
    data_limit_cause = "The state output exceeds the maximum payload size";
    return true;
  }
  return false;
}

Event& Execution::Impl::Emit(EventType type, const std::string& state,
                             std::string task_id) {
  ++events_emitted;
  Event& e = out->events.emplace_back();
  e.type = type;
  e.state = state;
  e.task_id = std::move(task_id);
  return e;
}

std::string Execution::Impl::ArmTimer(TimerKind kind, int64_t thread,
                                      int64_t due_ms) {
  std::string id = "tm" + std::to_string(next_timer++);
  timers[id] = Timer{due_ms, kind, thread};
  out->set_timers.push_back(TimerSpec{id, due_ms});
  fresh_timers.insert(id);
  return id;
}

// Tells the world to drop a timer or task. One armed or dispatched during
// this same call is taken back out of `out` instead, so that every call's
// output is consistent on its own, whatever order a consumer applies it in.
void Execution::Impl::DropTimer(const std::string& id, int64_t due_ms) {
  if (fresh_timers.erase(id) > 0) {
    std::erase_if(out->set_timers,
                  [&](const TimerSpec& t) { return t.timer_id == id; });
    return;
  }
  out->cancel_timers.push_back(TimerSpec{id, due_ms});
}

void Execution::Impl::DropTask(const std::string& id) {
  if (fresh_tasks.erase(id) > 0) {
    std::erase_if(out->dispatch,
                  [&](const TaskSpec& t) { return t.task_id == id; });
    return;
  }
  out->cancel_tasks.push_back(id);
}

void Execution::Impl::DisarmTimer(std::string* id) {
  if (id->empty()) return;
  auto it = timers.find(*id);
  if (it != timers.end()) {
    DropTimer(*id, it->second.due_ms);
    timers.erase(it);
  }
  id->clear();
}

// Withdraws the task a thread waits on, with its timers.
void Execution::Impl::WithdrawTask(Thread& t) {
  DisarmTimer(&t.timeout_timer);
  DisarmTimer(&t.heartbeat_timer);
  if (!t.task_id.empty()) {
    tasks.erase(t.task_id);
    DropTask(t.task_id);
    t.task_id.clear();
  }
}

// Resolves a machine path; nullptr when it does not fit the definition.
const asl::Machine* Execution::Impl::ResolveMachine(
    const std::vector<MachineStep>& mpath, const asl::Definition& d) const {
  const asl::Machine* m = &d.root();
  for (const MachineStep& step : mpath) {
    auto it = m->states.find(step.state);
    if (it == m->states.end()) return nullptr;
    m = d.Nested(it->second, step.index);
    if (m == nullptr) return nullptr;
  }
  return m;
}

const Json* Execution::Impl::StateJson(const asl::Machine* m,
                                       std::string_view name) {
  auto it = m->states.find(name);
  return it == m->states.end() ? nullptr : it->second;
}

absl::Status Execution::Impl::CheckRunning() const {
  if (status != RunStatus::kRunning) {
    return absl::FailedPreconditionError("the execution has ended");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Execution::Impl::TaskThread(
    std::string_view task_id) const {
  if (absl::Status s = CheckRunning(); !s.ok()) return s;
  auto it = tasks.find(std::string(task_id));
  if (it == tasks.end()) {
    return absl::FailedPreconditionError("no outstanding task '" +
                                         std::string(task_id) + "'");
  }
  return it->second;
}

void Execution::Impl::Begin(int64_t now_ms, StepOutput* o) {
  now = now_ms;
  if (o == nullptr) {
    scratch = StepOutput();
    o = &scratch;
  }
  out = o;
  fresh_tasks.clear();
  fresh_timers.clear();
  launched_this_call = 0;
}

void Execution::Impl::End() { out = nullptr; }

absl::StatusOr<int64_t> Execution::Impl::DueAfter(int64_t seconds,
                                                  std::string_view what) {
  const int64_t max_s = info.limits.max_wait_seconds() > 0
                            ? info.limits.max_wait_seconds()
                            : std::numeric_limits<int64_t>::max() / 1000;
  if (seconds < 0 || seconds > max_s) {
    return Runtime(std::string(what) + " " + std::to_string(seconds) +
                   " is outside the allowed range 0.." + std::to_string(max_s) +
                   " seconds");
  }
  int64_t due;
  if (__builtin_mul_overflow(seconds, int64_t{1000}, &due) ||
      __builtin_add_overflow(due, now, &due)) {
    return Runtime(std::string(what) + " " + std::to_string(seconds) +
                   " seconds overflows the engine's clock");
  }
  return due;
}

// ---- public API ------------------------------------------------------------

Execution::Execution(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Execution::~Execution() = default;

std::unique_ptr<Execution> Execution::Start(
    std::shared_ptr<const asl::Definition> def, Json input,
    const StartInfo& info, StepOutput* out) {
  auto impl = std::make_unique<Impl>();
  Impl& x = *impl;
  x.def = std::move(def);
  x.version = info.version;
  x.info = info;
  x.input = std::move(input);
  x.rng = info.seed;
  x.BuildBaseContext();
  x.Begin(info.start_ms, out);
  // The input is the call's own argument: the caller records it.
  Event& started = x.Emit(sv1::EXECUTION_STARTED);
  started.command = true;
  started.seed = info.seed;
  started.limits = info.limits;
  const Json& doc = x.def->doc();
  if (x.TooBig(x.input)) {
    x.ExecutionFailed(x.DataLimit());
  } else {
    int64_t timeout = IntField(doc, "TimeoutSeconds", 0);
    absl::StatusOr<int64_t> due =
        timeout > 0 ? x.DueAfter(timeout, "TimeoutSeconds") : int64_t{0};
    const asl::Machine& root = x.def->root();
    Thread t;
    t.id = x.next_thread++;
    t.machine = &root;
    t.state = root.start_at;
    t.sj = Impl::StateJson(&root, t.state);
    t.input = x.input;
    if (!due.ok()) {
      x.ExecutionFailed(Failure::FromStatus(due.status()));
    } else if (t.sj == nullptr) {
      x.ExecutionFailed(
          Failure::Of(asl::kStatesRuntime, "StartAt names no state"));
    } else {
      if (timeout > 0) x.ArmTimer(TimerKind::kExecTimeout, 0, *due);
      const int64_t id = t.id;
      x.threads.emplace(id, std::move(t));
      x.Enqueue(x.threads.at(id), Phase::kEnter);
      x.Run();
    }
  }
  x.End();
  return std::unique_ptr<Execution>(new Execution(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Execution>> Execution::FromCheckpoint(
    std::shared_ptr<const asl::Definition> def,
    const ExecutionCheckpoint& checkpoint) {
  auto impl = std::make_unique<Impl>();
  impl->def = std::move(def);
  if (absl::Status s = impl->FromCheckpoint(checkpoint); !s.ok()) return s;
  return std::unique_ptr<Execution>(new Execution(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Execution>> Execution::FromLayout1Json(
    std::shared_ptr<const asl::Definition> def, std::string_view snapshot) {
  Json j = Json::parse(snapshot, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::DataLossError("snapshot is not valid JSON");
  }
  auto impl = std::make_unique<Impl>();
  impl->def = std::move(def);
  absl::Status s;
  try {
    s = impl->FromLayout1Json(j);
  } catch (const std::exception& e) {
    s = absl::DataLossError(std::string("malformed snapshot: ") + e.what());
  }
  if (!s.ok()) return s;
  return std::unique_ptr<Execution>(new Execution(std::move(impl)));
}

ExecutionCheckpoint Execution::Checkpoint(int64_t history_seq) const {
  return impl_->ToCheckpoint(history_seq);
}

std::string Execution::Snapshot() const {
  return impl_->ToCheckpoint(0).SerializeAsString();
}

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
  // The result is the call's own argument: the caller records it.
  x.Emit(sv1::TASK_SUCCEEDED, t.state, id).command = true;
  if (x.TooBig(result)) {
    x.StateFailed(t, x.DataLimit());
  } else {
    x.Complete(t, std::move(result), /*select=*/true);
  }
  x.Run();
  x.End();
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
  Event& e = x.Emit(sv1::TASK_FAILED, t.state, id);
  e.command = true;
  e.error = f.error;
  e.cause = f.cause;
  e.has_error = e.has_cause = true;
  x.StateFailed(t, std::move(f));
  x.Run();
  x.End();
  return absl::OkStatus();
}

absl::Status Execution::HeartbeatTask(std::string_view task_id, int64_t now_ms,
                                      StepOutput* out) {
  Impl& x = *impl_;
  absl::StatusOr<int64_t> tid = x.TaskThread(task_id);
  if (!tid.ok()) return tid.status();
  Thread& t = x.threads.at(*tid);
  if (t.heartbeat_timer.empty()) {
    return absl::FailedPreconditionError("task '" + std::string(task_id) +
                                         "' has no HeartbeatSeconds");
  }
  x.Begin(now_ms, out);
  Event& e = x.Emit(sv1::TASK_HEARTBEAT, t.state, t.task_id);
  e.command = true;
  x.DisarmTimer(&t.heartbeat_timer);
  absl::StatusOr<int64_t> due = x.DueAfter(t.heartbeat_s, "HeartbeatSeconds");
  // heartbeat_s passed the same check when the task was scheduled.
  t.heartbeat_timer =
      x.ArmTimer(TimerKind::kHeartbeat, t.id, due.ok() ? *due : now_ms);
  // Heartbeats are history too: a worker beating forever meets the bound.
  x.HistoryExceeded();
  x.End();
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
  {
    Event& e = x.Emit(sv1::TIMER_FIRED);
    e.command = true;
    e.text = std::string(timer_id);
  }
  if (tm.kind == TimerKind::kExecTimeout) {
    x.Emit(sv1::EXECUTION_TIMED_OUT);
    x.ExecutionFailed(
        Failure::Of(asl::kStatesTimeout, "The execution timed out"));
    x.End();
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
      Event& e = x.Emit(sv1::TASK_TIMED_OUT, t.state, id);
      e.error = f.error;
      e.cause = f.cause;
      e.has_error = e.has_cause = true;
      x.StateFailed(t, std::move(f));
      break;
    }
    case TimerKind::kExecTimeout:
      break;
  }
  x.Run();
  x.End();
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
  Event& e = x.Emit(sv1::EXECUTION_CANCELLED);
  e.command = true;
  e.cause = x.cause;
  e.has_cause = true;
  x.End();
  return absl::OkStatus();
}

absl::Status Execution::Continue(int64_t now_ms, StepOutput* out) {
  Impl& x = *impl_;
  if (absl::Status s = x.CheckRunning(); !s.ok()) return s;
  if (x.pending_joins.empty()) {
    return absl::FailedPreconditionError("nothing left to launch");
  }
  x.Begin(now_ms, out);
  Event& e = x.Emit(sv1::EXECUTION_CONTINUED);
  e.command = true;
  const size_t at = x.out->events.size() - 1;
  x.LaunchPending();
  x.out->events[at].number = x.launched_this_call;
  x.Run();
  x.End();
  return absl::OkStatus();
}

absl::Status Execution::CanMigrate(const asl::Definition& to) const {
  const Impl& x = *impl_;
  if (absl::Status s = x.CheckRunning(); !s.ok()) return s;
  for (const auto& [id, t] : x.threads) {
    const asl::Machine* m = x.ResolveMachine(t.mpath, to);
    std::string where;
    for (const MachineStep& step : t.mpath) {
      where += step.state + "[" + std::to_string(step.index) + "] > ";
    }
    if (m == nullptr) {
      return absl::FailedPreconditionError(
          "state '" + (t.mpath.empty() ? t.state : t.mpath.back().state) +
          "' (" + where + t.state +
          ") has no matching machine in the target "
          "version");
    }
    const Json* sj = Impl::StateJson(m, t.state);
    if (sj == nullptr) {
      return absl::FailedPreconditionError(
          "state '" + t.state + "' (" + where + t.state +
          ") does not exist in the target version");
    }
    const std::string* type_to = StrField(*sj, "Type");
    const std::string* type_from = StrField(*t.sj, "Type");
    if (type_to == nullptr || type_from == nullptr || *type_to != *type_from) {
      return absl::FailedPreconditionError(
          "state '" + t.state + "' is a " + (type_from ? *type_from : "?") +
          " here but a " + (type_to ? *type_to : "?") +
          " in the target version");
    }
  }
  return absl::OkStatus();
}

absl::Status Execution::Migrate(std::shared_ptr<const asl::Definition> to,
                                int64_t to_version, int64_t now_ms,
                                StepOutput* out) {
  if (absl::Status s = CanMigrate(*to); !s.ok()) return s;
  Impl& x = *impl_;
  x.Begin(now_ms, out);
  Event& e = x.Emit(sv1::CASE_MIGRATED);
  e.command = true;
  e.number = x.version;
  e.version = to_version;
  for (auto& [id, t] : x.threads) {
    t.machine = x.ResolveMachine(t.mpath, *to);
    t.sj = Impl::StateJson(t.machine, t.state);
    if (t.attempts.size() < x.RetrierCount(t)) {
      t.attempts.resize(x.RetrierCount(t), 0);
    }
  }
  x.def = std::move(to);
  x.version = to_version;
  x.uses_context.clear();
  x.info.state_machine_id =
      x.info.state_machine_name + "@" + std::to_string(to_version);
  x.BuildBaseContext();
  x.End();
  return absl::OkStatus();
}

RunStatus Execution::status() const { return impl_->status; }
const Json& Execution::output() const { return impl_->output; }
const std::string& Execution::error() const { return impl_->error; }
const std::string& Execution::cause() const { return impl_->cause; }
bool Execution::has_error() const { return impl_->has_error; }
bool Execution::has_cause() const { return impl_->has_cause; }
bool Execution::has_pending_launch() const {
  return !impl_->pending_joins.empty() && impl_->status == RunStatus::kRunning;
}
const asl::Definition& Execution::definition() const { return *impl_->def; }
int64_t Execution::version() const { return impl_->version; }

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

bool Execution::TimerDue(std::string_view timer_id, int64_t* due_ms) const {
  auto it = impl_->timers.find(std::string(timer_id));
  if (it == impl_->timers.end()) return false;
  *due_ms = it->second.due_ms;
  return true;
}

}  // namespace onewindow::core
