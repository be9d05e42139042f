// The run loop, the data flow of a state (InputPath, Parameters,
// ResultPath...) and the state types that need no children: Pass, Succeed,
// Fail, Choice, Wait, Task.
#include "engine/core/execution_impl.h"
#include "engine/core/interp_util.h"

namespace onewindow::core {

using internal::DumpJson;
using internal::WholeNumber;
namespace sv1 = onewindow::store::v1;

// ---- data flow -------------------------------------------------------------

// The data-flow fields of a state are read from its compiled form when the
// definition has one for it (every state does; a Catch element does not),
// so that no path or template is parsed again per case. A field the
// compiled form holds as absent is read from the JSON as before, which
// also gives the same error for a field of the wrong type.

template <typename V>
absl::StatusOr<Json> Execution::Impl::ApplyPathFieldTo(const Json& sj,
                                                       const char* field,
                                                       V&& value,
                                                       const Json& ctx) {
  if (const asl::StateSpec* spec = def->Spec(&sj)) {
    const std::string_view name(field);
    const asl::PathField* f = name == "InputPath"    ? &spec->input_path
                              : name == "OutputPath" ? &spec->output_path
                                                     : nullptr;
    if (f != nullptr && f->kind == asl::PathField::Kind::kNull) {
      return Json::object();
    }
    if (f != nullptr && f->kind == asl::PathField::Kind::kPath) {
      if (f->path.is_root()) return Json(std::forward<V>(value));
      asl::EvalEnv env = Env(&ctx);
      return f->path.Eval(value, env);
    }
  }
  auto it = sj.find(field);
  if (it == sj.end()) return Json(std::forward<V>(value));
  if (it->is_null()) return Json::object();
  if (!it->is_string()) {
    return Runtime(std::string(field) + " is not a string");
  }
  asl::EvalEnv env = Env(&ctx);
  return asl::EvalPath(it->get_ref<const std::string&>(), value, env);
}

absl::StatusOr<Json> Execution::Impl::ApplyPathField(const Json& sj,
                                                     const char* field,
                                                     const Json& value,
                                                     const Json& ctx) {
  return ApplyPathFieldTo(sj, field, value, ctx);
}

absl::StatusOr<Json> Execution::Impl::ApplyPathField(const Json& sj,
                                                     const char* field,
                                                     Json&& value,
                                                     const Json& ctx) {
  return ApplyPathFieldTo(sj, field, std::move(value), ctx);
}

absl::Status Execution::Impl::EffectiveInput(const Thread& t,
                                             const Json& ctx, Json* storage,
                                             const Json** eff) {
  // The cases where ApplyPathField gives the input itself: a compiled "$",
  // or no InputPath at all.
  const asl::StateSpec* spec = def->Spec(t.sj);
  using Kind = asl::PathField::Kind;
  const Kind kind = spec != nullptr ? spec->input_path.kind : Kind::kAbsent;
  const bool whole =
      (kind == Kind::kPath && spec->input_path.path.is_root()) ||
      (kind == Kind::kAbsent && !t.sj->contains("InputPath"));
  if (whole) {
    *eff = &t.input;
    return absl::OkStatus();
  }
  absl::StatusOr<Json> v = ApplyPathField(*t.sj, "InputPath", t.input, ctx);
  if (!v.ok()) return v.status();
  *storage = std::move(*v);
  *eff = storage;
  return absl::OkStatus();
}

absl::StatusOr<Json> Execution::Impl::Template(const Json& sj,
                                               const char* field,
                                               const Json& value,
                                               const Json& ctx) {
  if (const asl::StateSpec* spec = def->Spec(&sj)) {
    const std::string_view name(field);
    const std::optional<asl::CompiledTemplate>* tmpl = nullptr;
    if (name == "Parameters" && spec->type != asl::StateType::kMap) {
      tmpl = &spec->parameters;
    } else if (name == "ResultSelector") {
      tmpl = &spec->result_selector;
    }
    if (tmpl != nullptr && tmpl->has_value()) {
      asl::EvalEnv env = Env(&ctx);
      return (*tmpl)->Eval(value, env);
    }
  }
  auto it = sj.find(field);
  if (it == sj.end()) return value;
  asl::EvalEnv env = Env(&ctx);
  return asl::EvalPayloadTemplate(*it, value, env);
}

template <typename R>
absl::StatusOr<Json> Execution::Impl::PlaceResultTo(const Json& sj,
                                                    const Json& raw,
                                                    R&& result) {
  if (const asl::StateSpec* spec = def->Spec(&sj)) {
    const asl::PathField& f = spec->result_path;
    if (f.kind == asl::PathField::Kind::kNull) return raw;
    if (f.kind == asl::PathField::Kind::kPath) {
      if (f.path.is_root()) return Json(std::forward<R>(result));
      return f.path.ApplyResult(raw, result);
    }
  }
  auto it = sj.find("ResultPath");
  if (it == sj.end()) return Json(std::forward<R>(result));
  if (it->is_null()) return raw;
  if (!it->is_string()) return Runtime("ResultPath is not a string");
  const std::string& path = it->get_ref<const std::string&>();
  if (path == "$") return Json(std::forward<R>(result));
  return asl::ApplyResultPath(path, raw, result);
}

absl::StatusOr<Json> Execution::Impl::PlaceResult(const Json& sj,
                                                  const Json& raw,
                                                  const Json& result) {
  return PlaceResultTo(sj, raw, result);
}

absl::StatusOr<Json> Execution::Impl::PlaceResult(const Json& sj,
                                                  const Json& raw,
                                                  Json&& result) {
  return PlaceResultTo(sj, raw, std::move(result));
}

// Reads a whole number from a literal field or its *Path twin (evaluated
// against `input`). *found = false when neither is present.
absl::Status Execution::Impl::NumberOrPath(const Thread& t, const char* field,
                                           const char* path_field,
                                           const Json& input, const Json& ctx,
                                           int64_t min_value, int64_t* value,
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
  // MaxConcurrencyPath also takes a whole number written as a string.
  if (v->is_string() && std::string_view(path_field) == "MaxConcurrencyPath") {
    const std::string& text = v->get_ref<const std::string&>();
    if (!text.empty() && text.size() <= 18 &&
        text.find_first_not_of("0123456789") == std::string::npos) {
      *v = std::stoll(text);
    }
  }
  if (!WholeNumber(*v, value) || *value < min_value) {
    return Runtime(std::string(path_field) + " '" + *path +
                   "' does not give a valid number: " + DumpJson(*v));
  }
  *found = true;
  return absl::OkStatus();
}

// ---- the run loop ----------------------------------------------------------

void Execution::Impl::Enqueue(Thread& t, Phase phase) {
  t.phase = phase;
  queue.push_back(t.id);
}

bool Execution::Impl::HistoryExceeded() {
  const int64_t max_events = info.limits.max_history_events();
  if (max_events <= 0 || events_emitted <= max_events ||
      status != RunStatus::kRunning) {
    return false;
  }
  ExecutionFailed(Failure::Of(asl::kStatesRuntime,
                              "the history reached " +
                                  std::to_string(events_emitted) +
                                  " events, more than max_history_events (" +
                                  std::to_string(max_events) + ")"));
  return true;
}

void Execution::Impl::Run() {
  int64_t steps = 0;
  const int64_t max_steps = info.limits.max_states_per_call();
  while (!queue.empty() && status == RunStatus::kRunning) {
    if (HistoryExceeded()) break;
    if (max_steps > 0 && ++steps > max_steps) {
      ExecutionFailed(
          Failure::Of(asl::kStatesRuntime,
                      "more than " + std::to_string(max_steps) +
                          " states ran without waiting on a task or timer "
                          "(max_states_per_call)"));
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
      Emit(sv1::STATE_ENTERED, t.state);
      Attempt(t);
    } else if (t.phase == Phase::kAttempt) {
      Attempt(t);
    }
  }
  HistoryExceeded();
  if (status != RunStatus::kRunning) queue.clear();
}

size_t Execution::Impl::RetrierCount(const Thread& t) const {
  auto it = t.sj->find("Retry");
  return it != t.sj->end() && it->is_array() ? it->size() : 0;
}

void Execution::Impl::Attempt(Thread& t) {
  cur_vars = &t.vars;
  if (IsJsonata(t)) return AttemptJsonata(t);
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

// ---- state types -----------------------------------------------------------

void Execution::Impl::RunPass(Thread& t) {
  Json ctx = Context(t, nullptr);
  Json eff_storage;
  const Json* eff = nullptr;
  if (absl::Status s = EffectiveInput(t, ctx, &eff_storage, &eff); !s.ok()) {
    return StateFailed(t, Failure::FromStatus(s));
  }
  auto params = Template(*t.sj, "Parameters", *eff, ctx);
  if (!params.ok()) {
    return StateFailed(t, Failure::FromStatus(params.status()));
  }
  auto rit = t.sj->find("Result");
  Json result = rit != t.sj->end() ? *rit : std::move(*params);
  Complete(t, std::move(result), /*select=*/false);
}

void Execution::Impl::RunSucceed(Thread& t) {
  Json ctx = Context(t, nullptr);
  Json eff_storage;
  const Json* eff = nullptr;
  if (absl::Status s = EffectiveInput(t, ctx, &eff_storage, &eff); !s.ok()) {
    return StateFailed(t, Failure::FromStatus(s));
  }
  auto outv = ApplyPathField(*t.sj, "OutputPath", *eff, ctx);
  if (!outv.ok()) return StateFailed(t, Failure::FromStatus(outv.status()));
  Exit(t, std::move(*outv));
}

// Error/Cause from a literal, a path or an intrinsic function.
absl::Status Execution::Impl::FailField(const Thread& t, const char* field,
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

void Execution::Impl::RunFail(Thread& t) {
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

void Execution::Impl::RunChoice(Thread& t) {
  Json ctx = Context(t, nullptr);
  Json eff_storage;
  const Json* eff = nullptr;
  if (absl::Status s = EffectiveInput(t, ctx, &eff_storage, &eff); !s.ok()) {
    return StateFailed(t, Failure::FromStatus(s));
  }
  const std::string* next = nullptr;
  const Json* assign_holder = t.sj;
  auto cit = t.sj->find("Choices");
  const asl::StateSpec* spec = def->Spec(t.sj);
  if (spec != nullptr && cit != t.sj->end() && cit->is_array()) {
    // The rules as compiled at deploy (non-object elements are skipped
    // there as here).
    for (const asl::ChoiceBranch& b : spec->choices) {
      asl::EvalEnv env = Env(&ctx);
      auto m = b.rule.Eval(*eff, env);
      if (!m.ok()) return StateFailed(t, Failure::FromStatus(m.status()));
      if (*m) {
        next = StrField(*b.json, "Next");
        assign_holder = b.json;
        break;
      }
    }
  } else if (cit != t.sj->end() && cit->is_array()) {
    for (const Json& choice : *cit) {
      if (!choice.is_object()) continue;
      Json rule = choice;
      rule.erase("Next");
      rule.erase("Assign");
      asl::EvalEnv env = Env(&ctx);
      auto m = asl::EvalChoiceRule(rule, *eff, env);
      if (!m.ok()) return StateFailed(t, Failure::FromStatus(m.status()));
      if (*m) {
        next = StrField(choice, "Next");
        assign_holder = &choice;
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
  absl::Status assigned = AssignJsonPath(t, *assign_holder, *eff, ctx);
  if (!assigned.ok()) return StateFailed(t, Failure::FromStatus(assigned));
  GoTo(t, *next, std::move(*outv));
}

void Execution::Impl::RunWait(Thread& t) {
  Json ctx = Context(t, nullptr);
  Json eff_storage;
  const Json* eff = nullptr;
  if (absl::Status s = EffectiveInput(t, ctx, &eff_storage, &eff); !s.ok()) {
    return StateFailed(t, Failure::FromStatus(s));
  }
  const Json& sj = *t.sj;
  int64_t due = now;
  int64_t secs;
  const int64_t max_s = info.limits.max_wait_seconds();
  if (sj.contains("Seconds")) {
    if (!WholeNumber(sj["Seconds"], &secs) || secs < 0) {
      return StateFailed(
          t, Failure::Of(asl::kStatesRuntime, "Wait Seconds is not valid"));
    }
    auto d = DueAfter(secs, "Wait Seconds");
    if (!d.ok()) return StateFailed(t, Failure::FromStatus(d.status()));
    due = *d;
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
    auto d = DueAfter(secs, "SecondsPath '" + *p + "' gives");
    if (!d.ok()) return StateFailed(t, Failure::FromStatus(d.status()));
    due = *d;
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
  // A timestamp further away than the longest allowed wait.
  if (max_s > 0 && due > now && (due - now) / 1000 > max_s) {
    return StateFailed(
        t, Failure::Of(asl::kStatesRuntime,
                       "Wait until " + internal::FormatIsoMs(due) +
                           " is more than the longest allowed wait of " +
                           std::to_string(max_s) + " seconds away"));
  }
  auto outv = ApplyPathField(*t.sj, "OutputPath", *eff, ctx);
  if (!outv.ok()) return StateFailed(t, Failure::FromStatus(outv.status()));
  if (TooBig(*outv)) return StateFailed(t, DataLimit());
  absl::Status assigned = AssignJsonPath(t, sj, *eff, ctx);
  if (!assigned.ok()) return StateFailed(t, Failure::FromStatus(assigned));
  if (due <= now) {
    Exit(t, std::move(*outv));
    return;
  }
  t.held = std::move(*outv);
  t.phase = Phase::kWait;
  t.timer = ArmTimer(TimerKind::kWait, t.id, due);
  Emit(sv1::WAIT_STARTED, t.state).number = due;
}

void Execution::Impl::RunTask(Thread& t) {
  const int64_t max_tasks = info.limits.max_open_tasks();
  if (max_tasks > 0 && static_cast<int64_t>(tasks.size()) >= max_tasks) {
    return StateFailed(
        t, Failure::Of(kStatesLimitExceeded,
                       "the case already has " + std::to_string(tasks.size()) +
                           " tasks outstanding, the limit of open tasks per "
                           "case (max_open_tasks_per_case = " +
                           std::to_string(max_tasks) + ")"));
  }
  std::string task_id = "t";  // (operator+ here trips GCC 12 -Wrestrict)
  task_id += std::to_string(next_task++);
  Json ctx = Context(t, &task_id);
  Json eff_storage;
  const Json* eff = nullptr;
  if (absl::Status s = EffectiveInput(t, ctx, &eff_storage, &eff); !s.ok()) {
    return StateFailed(t, Failure::FromStatus(s));
  }
  auto params = Template(*t.sj, "Parameters", *eff, ctx);
  if (!params.ok()) {
    return StateFailed(t, Failure::FromStatus(params.status()));
  }
  int64_t timeout = 0, heartbeat = 0;
  bool found = false;
  absl::Status s = NumberOrPath(t, "TimeoutSeconds", "TimeoutSecondsPath", *eff,
                                ctx, 1, &timeout, &found);
  if (s.ok()) {
    s = NumberOrPath(t, "HeartbeatSeconds", "HeartbeatSecondsPath", *eff, ctx,
                     1, &heartbeat, &found);
  }
  if (!s.ok()) return StateFailed(t, Failure::FromStatus(s));
  absl::StatusOr<int64_t> timeout_due =
      timeout > 0 ? DueAfter(timeout, "TimeoutSeconds") : int64_t{0};
  if (!timeout_due.ok()) {
    return StateFailed(t, Failure::FromStatus(timeout_due.status()));
  }
  absl::StatusOr<int64_t> heartbeat_due =
      heartbeat > 0 ? DueAfter(heartbeat, "HeartbeatSeconds") : int64_t{0};
  if (!heartbeat_due.ok()) {
    return StateFailed(t, Failure::FromStatus(heartbeat_due.status()));
  }
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
    t.timeout_timer = ArmTimer(TimerKind::kTaskTimeout, t.id, *timeout_due);
  }
  if (heartbeat > 0) {
    t.heartbeat_timer = ArmTimer(TimerKind::kHeartbeat, t.id, *heartbeat_due);
  }
  // The event's value is the task input: whoever stores the event takes it
  // from the TaskSpec (it is serialized once, for the task and the event).
  Emit(sv1::TASK_SCHEDULED, t.state, task_id).text = spec.resource;
  out->dispatch.push_back(std::move(spec));
  fresh_tasks.insert(task_id);
}

}  // namespace onewindow::core
