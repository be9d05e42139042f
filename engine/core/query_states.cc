// The JSONata query language (Arguments, Output, Condition, Items... as
// "{% %}" expressions over $states) and workflow variables (Assign) for
// both query languages.
#include <cmath>

#include "engine/core/execution_impl.h"
#include "engine/core/interp_util.h"

namespace onewindow::core {

using internal::AnyNumber;
using internal::DumpJson;
using internal::WholeNumber;
namespace sv1 = onewindow::store::v1;

namespace {

absl::Status QueryError(std::string_view cause) {
  return asl::AslError(asl::kStatesQueryEvaluationError, cause);
}

// Merges `assigned` (an object) into the thread's variables.
void StoreVars(Thread& t, Json assigned) {
  if (!assigned.is_object() || assigned.empty()) return;
  if (!t.vars.is_object()) t.vars = Json::object();
  for (auto& [k, v] : assigned.items()) t.vars[k] = std::move(v);
}

}  // namespace

bool Execution::Impl::IsJsonata(const Thread& t) const {
  return asl::StateIsJsonata(*t.sj, def->jsonata_default());
}

Json Execution::Impl::States(const Thread& t, const Json& ctx,
                             const Json* result, const Json* error_output) {
  Json s = Json::object();
  s["input"] = t.input;
  s["context"] = ctx;
  if (result != nullptr) s["result"] = *result;
  if (error_output != nullptr) s["errorOutput"] = *error_output;
  return s;
}

asl::JsonataScope Execution::Impl::Scope(const Json& states,
                                         std::string field) {
  asl::JsonataScope scope;
  scope.states = &states;
  scope.variables = cur_vars;
  scope.random = [this] {
    return static_cast<double>(NextRandom() >> 11) * 0x1.0p-53;
  };
  const int64_t at = now;
  scope.clock = [at] { return at; };
  scope.forms = &def->jsonata();
  scope.field = std::move(field);
  return scope;
}

absl::Status Execution::Impl::AssignJsonPath(Thread& t, const Json& holder,
                                             const Json& value,
                                             const Json& ctx) {
  auto it = holder.find("Assign");
  if (it == holder.end()) return absl::OkStatus();
  asl::EvalEnv env = Env(&ctx);
  auto v = asl::EvalPayloadTemplate(*it, value, env);
  if (!v.ok()) return v.status();
  if (TooBig(*v))
    return asl::AslError(asl::kStatesDataLimitExceeded,
                         "The assigned variables exceed the "
                         "maximum payload size");
  StoreVars(t, std::move(*v));
  return absl::OkStatus();
}

absl::StatusOr<Json> Execution::Impl::AssignAndOutput(Thread& t,
                                                      const Json& holder,
                                                      const Json& states,
                                                      Json dflt) {
  Json assigned;
  auto ait = holder.find("Assign");
  if (ait != holder.end()) {
    auto v = asl::EvalJsonataTemplate(*ait, Scope(states, "Assign"));
    if (!v.ok()) return v.status();
    if (TooBig(*v)) {
      return asl::AslError(asl::kStatesDataLimitExceeded,
                           "The assigned variables exceed the maximum "
                           "payload size");
    }
    assigned = std::move(*v);
  }
  Json out;
  auto oit = holder.find("Output");
  if (oit != holder.end()) {
    auto v = asl::EvalJsonataTemplate(*oit, Scope(states, "Output"));
    if (!v.ok()) return v.status();
    out = std::move(*v);
  } else {
    out = std::move(dflt);
  }
  StoreVars(t, std::move(assigned));
  return out;
}

absl::StatusOr<int64_t> Execution::Impl::JsonataNumber(const Thread& t,
                                                       const Json& states,
                                                       const char* field,
                                                       int64_t min_value,
                                                       int64_t dflt) {
  auto it = t.sj->find(field);
  if (it == t.sj->end()) return dflt;
  Json v = *it;
  if (it->is_string()) {
    auto r = asl::EvalJsonata(it->get_ref<const std::string&>(),
                              Scope(states, field));
    if (!r.ok()) return r.status();
    v = std::move(*r);
  }
  int64_t n = 0;
  if (!WholeNumber(v, &n) || n < min_value) {
    return QueryError(std::string("The field '") + field +
                      "' does not give a valid number: " + DumpJson(v));
  }
  return n;
}

void Execution::Impl::AttemptJsonata(Thread& t) {
  const std::string* type = StrField(*t.sj, "Type");
  const std::string ty = type ? *type : "";
  if (ty == "Pass" || ty == "Succeed") {
    RunJsonataPass(t);
  } else if (ty == "Task") {
    RunJsonataTask(t);
  } else if (ty == "Choice") {
    RunJsonataChoice(t);
  } else if (ty == "Wait") {
    RunJsonataWait(t);
  } else if (ty == "Fail") {
    RunJsonataFail(t);
  } else if (ty == "Parallel") {
    RunJsonataFanout(t, /*map=*/false);
  } else if (ty == "Map") {
    RunJsonataFanout(t, /*map=*/true);
  } else {
    StateFailed(t, Failure::Of(asl::kStatesRuntime,
                               "unsupported state type '" + ty + "'"));
  }
}

void Execution::Impl::RunJsonataPass(Thread& t) {
  Json ctx = Context(t, nullptr);
  Json states = States(t, ctx, nullptr, nullptr);
  auto out = AssignAndOutput(t, *t.sj, states, t.input);
  if (!out.ok()) return StateFailed(t, Failure::FromStatus(out.status()));
  Exit(t, std::move(*out));
}

void Execution::Impl::RunJsonataFail(Thread& t) {
  Json ctx = Context(t, nullptr);
  Json states = States(t, ctx, nullptr, nullptr);
  Failure f;
  f.has_error = false;
  f.has_cause = false;
  for (const char* field : {"Error", "Cause"}) {
    auto it = t.sj->find(field);
    if (it == t.sj->end() || !it->is_string()) continue;
    std::string value = it->get<std::string>();
    if (asl::IsJsonataExpression(value)) {
      auto v = asl::EvalJsonata(value, Scope(states, field));
      if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
      if (!v->is_string()) {
        return StateFailed(
            t, Failure::FromStatus(
                   QueryError(std::string("The field '") + field +
                              "' does not give a string: " + DumpJson(*v))));
      }
      value = v->get<std::string>();
    }
    if (std::string_view(field) == "Error") {
      f.error = std::move(value);
      f.has_error = true;
    } else {
      f.cause = std::move(value);
      f.has_cause = true;
    }
  }
  StateFailed(t, f);
}

void Execution::Impl::RunJsonataChoice(Thread& t) {
  Json ctx = Context(t, nullptr);
  Json states = States(t, ctx, nullptr, nullptr);
  const Json* holder = t.sj;
  const std::string* next = nullptr;
  auto cit = t.sj->find("Choices");
  if (cit != t.sj->end() && cit->is_array()) {
    for (const Json& choice : *cit) {
      if (!choice.is_object()) continue;
      auto cond = choice.find("Condition");
      if (cond == choice.end()) continue;
      Json v = *cond;
      if (cond->is_string()) {
        auto r = asl::EvalJsonata(cond->get_ref<const std::string&>(),
                                  Scope(states, "Condition"));
        if (!r.ok()) return StateFailed(t, Failure::FromStatus(r.status()));
        v = std::move(*r);
      }
      if (!v.is_boolean()) {
        return StateFailed(
            t, Failure::FromStatus(QueryError(
                   "The Condition of a choice rule of state '" + t.state +
                   "' does not give a boolean: " + DumpJson(v))));
      }
      if (v.get<bool>()) {
        next = StrField(choice, "Next");
        holder = &choice;
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
  auto out = AssignAndOutput(t, *holder, states, t.input);
  if (!out.ok()) return StateFailed(t, Failure::FromStatus(out.status()));
  GoTo(t, *next, std::move(*out));
}

void Execution::Impl::RunJsonataWait(Thread& t) {
  Json ctx = Context(t, nullptr);
  Json states = States(t, ctx, nullptr, nullptr);
  const Json& sj = *t.sj;
  int64_t due = now;
  if (sj.contains("Seconds")) {
    auto secs = JsonataNumber(t, states, "Seconds", 0, 0);
    if (!secs.ok()) return StateFailed(t, Failure::FromStatus(secs.status()));
    auto d = DueAfter(*secs, "Wait Seconds");
    if (!d.ok()) return StateFailed(t, Failure::FromStatus(d.status()));
    due = *d;
  } else if (const std::string* ts = StrField(sj, "Timestamp")) {
    Json v = *ts;
    if (asl::IsJsonataExpression(*ts)) {
      auto r = asl::EvalJsonata(*ts, Scope(states, "Timestamp"));
      if (!r.ok()) return StateFailed(t, Failure::FromStatus(r.status()));
      v = std::move(*r);
    }
    absl::StatusOr<int64_t> ms =
        v.is_string() && asl::IsTimestamp(v.get<std::string>())
            ? asl::ParseTimestampMs(v.get<std::string>())
            : absl::StatusOr<int64_t>(absl::InvalidArgumentError("bad"));
    if (!ms.ok()) {
      return StateFailed(t, Failure::FromStatus(QueryError(
                                "The Timestamp of state '" + t.state +
                                "' is not a valid timestamp: " + DumpJson(v))));
    }
    due = *ms;
  }
  const int64_t max_s = info.limits.max_wait_seconds();
  if (max_s > 0 && due > now && (due - now) / 1000 > max_s) {
    return StateFailed(
        t, Failure::Of(asl::kStatesRuntime,
                       "Wait until " + internal::FormatIsoMs(due) +
                           " is more than the longest allowed wait of " +
                           std::to_string(max_s) + " seconds away"));
  }
  auto out = AssignAndOutput(t, sj, states, t.input);
  if (!out.ok()) return StateFailed(t, Failure::FromStatus(out.status()));
  if (TooBig(*out)) return StateFailed(t, DataLimit());
  if (due <= now) {
    Exit(t, std::move(*out));
    return;
  }
  t.held = std::move(*out);
  t.phase = Phase::kWait;
  t.timer = ArmTimer(TimerKind::kWait, t.id, due);
  Emit(sv1::WAIT_STARTED, t.state).number = due;
}

void Execution::Impl::RunJsonataFanout(Thread& t, bool map) {
  Json ctx = Context(t, nullptr);
  Json states = States(t, ctx, nullptr, nullptr);
  const Json& sj = *t.sj;
  Join j;
  j.kind = map ? JoinKind::kMap : JoinKind::kParallel;
  j.parent = t.id;
  if (!map) {
    Json args = t.input;
    if (auto it = sj.find("Arguments"); it != sj.end()) {
      auto v = asl::EvalJsonataTemplate(*it, Scope(states, "Arguments"));
      if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
      args = std::move(*v);
    }
    auto bit = sj.find("Branches");
    const size_t n = bit != sj.end() && bit->is_array() ? bit->size() : 0;
    j.inputs.assign(n, args);
    j.results.resize(n);
    j.id = next_join++;
    Emit(sv1::PARALLEL_STARTED, t.state).number = static_cast<int64_t>(n);
    return StartJoin(t, std::move(j));
  }
  Json items = t.input;
  if (auto it = sj.find("Items"); it != sj.end()) {
    auto v = asl::EvalJsonataTemplate(*it, Scope(states, "Items"));
    if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
    items = std::move(*v);
  }
  if (!items.is_array()) {
    return StateFailed(t, Failure::FromStatus(QueryError(
                              "The Items of state '" + t.state +
                              "' do not give an array: " + DumpJson(items))));
  }
  const int64_t max_items = info.limits.max_map_items();
  if (max_items > 0 && static_cast<int64_t>(items.size()) > max_items) {
    return StateFailed(
        t, Failure::Of(kStatesLimitExceeded,
                       "the Map has " + std::to_string(items.size()) +
                           " items, over the limit of " +
                           std::to_string(max_items) +
                           " items per Map state (max_map_items)"));
  }
  auto maxc = JsonataNumber(t, states, "MaxConcurrency", 0, 0);
  if (!maxc.ok()) return StateFailed(t, Failure::FromStatus(maxc.status()));
  auto tol = JsonataNumber(t, states, "ToleratedFailureCount", 0, -1);
  if (!tol.ok()) return StateFailed(t, Failure::FromStatus(tol.status()));
  double tol_pct = -1;
  if (auto it = sj.find("ToleratedFailurePercentage"); it != sj.end()) {
    Json v = *it;
    if (it->is_string()) {
      auto r = asl::EvalJsonata(it->get_ref<const std::string&>(),
                                Scope(states, "ToleratedFailurePercentage"));
      if (!r.ok()) return StateFailed(t, Failure::FromStatus(r.status()));
      v = std::move(*r);
    }
    if (!AnyNumber(v, &tol_pct) || tol_pct < 0 || tol_pct > 100) {
      return StateFailed(
          t, Failure::FromStatus(QueryError(
                 "The ToleratedFailurePercentage of state '" + t.state +
                 "' is not a valid percentage: " + DumpJson(v))));
    }
  }
  j.max_concurrency = *maxc;
  j.tolerated_count = *tol;
  j.tolerated_pct = tol_pct;
  auto sel = sj.find("ItemSelector");
  j.inputs.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    if (sel != sj.end()) {
      // $states is this state's own copy: each item overwrites
      // context.Map instead of copying it (with the input) per item.
      states["context"]["Map"] = {
          {"Item", {{"Index", i}, {"Value", items[i]}}}};
      auto v = asl::EvalJsonataTemplate(*sel, Scope(states, "ItemSelector"));
      if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
      j.inputs.push_back(std::move(*v));
    } else {
      j.inputs.push_back(std::move(items[i]));
    }
  }
  j.results.resize(j.inputs.size());
  j.id = next_join++;
  Emit(sv1::MAP_STARTED, t.state).number = static_cast<int64_t>(items.size());
  StartJoin(t, std::move(j));
}

void Execution::Impl::RunJsonataTask(Thread& t) {
  const int64_t max_tasks = info.limits.max_open_tasks();
  if (max_tasks > 0 && static_cast<int64_t>(tasks.size()) >= max_tasks) {
    return StateFailed(
        t, Failure::Of(kStatesLimitExceeded,
                       "the case already has " + std::to_string(tasks.size()) +
                           " tasks outstanding, the limit of open tasks per "
                           "case (max_open_tasks_per_case = " +
                           std::to_string(max_tasks) + ")"));
  }
  std::string task_id = "t";
  task_id += std::to_string(next_task);
  Json ctx = Context(t, &task_id);
  Json states = States(t, ctx, nullptr, nullptr);
  Json args = t.input;
  if (auto it = t.sj->find("Arguments"); it != t.sj->end()) {
    auto v = asl::EvalJsonataTemplate(*it, Scope(states, "Arguments"));
    if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
    args = std::move(*v);
  }
  auto timeout = JsonataNumber(t, states, "TimeoutSeconds", 1, 0);
  if (!timeout.ok()) {
    return StateFailed(t, Failure::FromStatus(timeout.status()));
  }
  auto heartbeat = JsonataNumber(t, states, "HeartbeatSeconds", 1, 0);
  if (!heartbeat.ok()) {
    return StateFailed(t, Failure::FromStatus(heartbeat.status()));
  }
  absl::StatusOr<int64_t> timeout_due =
      *timeout > 0 ? DueAfter(*timeout, "TimeoutSeconds") : int64_t{0};
  if (!timeout_due.ok()) {
    return StateFailed(t, Failure::FromStatus(timeout_due.status()));
  }
  absl::StatusOr<int64_t> heartbeat_due =
      *heartbeat > 0 ? DueAfter(*heartbeat, "HeartbeatSeconds") : int64_t{0};
  if (!heartbeat_due.ok()) {
    return StateFailed(t, Failure::FromStatus(heartbeat_due.status()));
  }
  if (TooBig(args)) return StateFailed(t, DataLimit());
  ++next_task;
  const std::string* resource = StrField(*t.sj, "Resource");
  TaskSpec spec;
  spec.task_id = task_id;
  spec.state = t.state;
  spec.resource = resource ? *resource : "";
  spec.input = std::move(args);
  spec.timeout_seconds = *timeout;
  spec.heartbeat_seconds = *heartbeat;
  t.phase = Phase::kTask;
  t.task_id = task_id;
  t.heartbeat_s = *heartbeat;
  tasks[task_id] = t.id;
  if (*timeout > 0) {
    t.timeout_timer = ArmTimer(TimerKind::kTaskTimeout, t.id, *timeout_due);
  }
  if (*heartbeat > 0) {
    t.heartbeat_timer = ArmTimer(TimerKind::kHeartbeat, t.id, *heartbeat_due);
  }
  Emit(sv1::TASK_SCHEDULED, t.state, task_id).text = spec.resource;
  out->dispatch.push_back(std::move(spec));
  fresh_tasks.insert(task_id);
}

void Execution::Impl::CompleteJsonata(Thread& t, Json result) {
  Json ctx = Context(t, nullptr);
  Json states = States(t, ctx, &result, nullptr);
  auto out = AssignAndOutput(t, *t.sj, states, result);
  if (!out.ok()) return StateFailed(t, Failure::FromStatus(out.status()));
  Exit(t, std::move(*out));
}

}  // namespace onewindow::core
