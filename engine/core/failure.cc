// How a state ends: its result placed and passed on (Complete, Exit, GoTo),
// or its failure retried, caught or passed up (StateFailed), and how
// threads and the whole execution end.
#include <algorithm>
#include <cmath>

#include "engine/core/execution_impl.h"
#include "engine/core/interp_util.h"

namespace onewindow::core {

namespace sv1 = onewindow::store::v1;

Failure Execution::Impl::DataLimit() const {
  return Failure::Of(asl::kStatesDataLimitExceeded,
                     data_limit_cause.empty()
                         ? "The state output exceeds the maximum payload size"
                         : data_limit_cause);
}

// The state's work produced `result`: ResultSelector (Task, Parallel,
// Map), ResultPath, OutputPath, then on to the next state.
void Execution::Impl::Complete(Thread& t, Json result, bool select) {
  cur_vars = &t.vars;
  if (IsJsonata(t)) return CompleteJsonata(t, std::move(result));
  Json ctx = Context(t, nullptr);
  if (select) {
    auto sel = Template(*t.sj, "ResultSelector", result, ctx);
    if (!sel.ok()) return StateFailed(t, Failure::FromStatus(sel.status()));
    result = std::move(*sel);
  }
  // Assign reads the result itself (not what ResultPath made of it) once
  // the output is known: only a state with Assign needs it kept.
  const bool assigns = t.sj->contains("Assign");
  auto placed = assigns ? PlaceResult(*t.sj, t.input, result)
                        : PlaceResult(*t.sj, t.input, std::move(result));
  if (!placed.ok()) {
    return StateFailed(t, Failure::FromStatus(placed.status()));
  }
  auto outv = ApplyPathField(*t.sj, "OutputPath", std::move(*placed), ctx);
  if (!outv.ok()) return StateFailed(t, Failure::FromStatus(outv.status()));
  absl::Status assigned = AssignJsonPath(t, *t.sj, result, ctx);
  if (!assigned.ok()) return StateFailed(t, Failure::FromStatus(assigned));
  Exit(t, std::move(*outv));
}

// Leaves the state with `output`: to Next, or the thread ends.
void Execution::Impl::Exit(Thread& t, Json output) {
  if (TooBig(output)) return StateFailed(t, DataLimit());
  const std::string* next = StrField(*t.sj, "Next");
  const std::string* type = StrField(*t.sj, "Type");
  const bool ends = next == nullptr || (type && (*type == "Succeed"));
  if (ends) {
    Emit(sv1::STATE_EXITED, t.state);
    ThreadSucceeded(t, std::move(output));
    return;
  }
  GoTo(t, *next, std::move(output));
}

void Execution::Impl::GoTo(Thread& t, const std::string& next, Json output) {
  Emit(sv1::STATE_EXITED, t.state);
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
void Execution::Impl::StateFailed(Thread& t, Failure f) {
  {
    Event& e = Emit(sv1::STATE_FAILED, t.state);
    e.error = f.error;
    e.cause = f.cause;
    e.has_error = f.has_error;
    e.has_cause = f.has_cause;
  }
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
      // A back-off never waits longer than the longest allowed wait.
      const double cap_ms =
          info.limits.max_wait_seconds() > 0
              ? static_cast<double>(info.limits.max_wait_seconds()) * 1000.0
              : 3.2e12;
      if (!std::isfinite(delay_ms) || delay_ms > cap_ms) delay_ms = cap_ms;
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
      Event& e = Emit(sv1::STATE_RETRY_SCHEDULED, t.state);
      e.index = static_cast<int64_t>(r);
      e.attempt = t.attempts[r];
      e.number = delay;
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
      cur_vars = &t.vars;
      absl::StatusOr<Json> placed;
      if (IsJsonata(t)) {
        Json error_output = f.ToJson();
        Json states = States(t, Context(t, nullptr), nullptr, &error_output);
        placed = AssignAndOutput(t, catcher, states, error_output);
      } else {
        placed = PlaceResult(catcher, t.input, f.ToJson());
        if (placed.ok()) {
          Json ctx = Context(t, nullptr);
          absl::Status assigned = AssignJsonPath(t, catcher, f.ToJson(), ctx);
          if (!assigned.ok()) placed = assigned;
        }
      }
      if (!placed.ok()) {
        return ThreadFailed(t, Failure::FromStatus(placed.status()));
      }
      if (TooBig(*placed)) return ThreadFailed(t, DataLimit());
      Event& e = Emit(sv1::STATE_CAUGHT, t.state);
      e.index = static_cast<int64_t>(c);
      e.text = *next;
      GoTo(t, *next, std::move(*placed));
      return;
    }
  }
  ThreadFailed(t, std::move(f));
}

void Execution::Impl::ThreadSucceeded(Thread& t, Json output) {
  const int64_t id = t.id, jid = t.join, slot = t.slot;
  threads.erase(id);
  if (jid == 0) return ExecutionSucceeded(std::move(output));
  ChildSucceeded(jid, id, slot, std::move(output));
}

void Execution::Impl::ThreadFailed(Thread& t, Failure f) {
  const int64_t id = t.id, jid = t.join, slot = t.slot;
  CancelThread(id);
  if (jid == 0) return ExecutionFailed(std::move(f));
  ChildFailed(jid, id, slot, std::move(f));
}

void Execution::Impl::ExecutionSucceeded(Json out_value) {
  CancelEverything();
  status = RunStatus::kSucceeded;
  output = std::move(out_value);
  // The event's value is output(): whoever stores it serializes it once.
  Emit(sv1::EXECUTION_SUCCEEDED);
}

void Execution::Impl::ExecutionFailed(Failure f) {
  CancelEverything();
  status = RunStatus::kFailed;
  error = f.has_error ? f.error : "";
  cause = f.has_cause ? f.cause : "";
  has_error = f.has_error;
  has_cause = f.has_cause;
  Event& e = Emit(sv1::EXECUTION_FAILED);
  e.error = f.error;
  e.cause = f.cause;
  e.has_error = f.has_error;
  e.has_cause = f.has_cause;
}

}  // namespace onewindow::core
