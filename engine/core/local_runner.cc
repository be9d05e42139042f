#include "engine/core/local_runner.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/cord.h"
#include "engine/core/execution.h"

namespace onewindow::core {
namespace {

// The department echo contract's department name: the Resource after its
// last ':' (the whole string when it has none).
std::string DeptOf(const std::string& resource) {
  size_t colon = resource.rfind(':');
  return colon == std::string::npos ? resource : resource.substr(colon + 1);
}

// N of a "flaky<N>..." department; -1 when the name is not of that form.
int64_t FlakyCount(const std::string& dept) {
  if (dept.rfind("flaky", 0) != 0) return -1;
  size_t i = 5;
  int64_t n = 0;
  bool any = false;
  while (i < dept.size() && std::isdigit(static_cast<unsigned char>(dept[i])) &&
         n < 1000000) {
    n = n * 10 + (dept[i] - '0');
    ++i;
    any = true;
  }
  return any ? n : -1;
}

constexpr std::string_view kUnansweredPayload = "onewindow.local/unanswered";

// Mirrors the outside world's view of one execution: tasks waiting to be
// answered (FIFO), answers due later in virtual time, and armed timers.
class World {
 public:
  // What comes due next in virtual time.
  struct Due {
    bool is_timer = true;
    std::string id;  // timer id, or the answered task's id
    int64_t due_ms = 0;
  };

  void Absorb(StepOutput* out) {
    for (TaskSpec& t : out->dispatch) pending_.push_back(std::move(t));
    for (const std::string& id : out->cancel_tasks) {
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->task_id == id) {
          pending_.erase(it);
          break;
        }
      }
      deferred_.erase(id);
    }
    for (const TimerSpec& t : out->cancel_timers) timers_.erase(t.timer_id);
    for (const TimerSpec& t : out->set_timers) {
      timers_[t.timer_id] = Armed{t.due_ms, seq_++};
    }
    *out = StepOutput();
  }

  bool HasTask() const { return !pending_.empty(); }
  TaskSpec PopTask() {
    TaskSpec t = std::move(pending_.front());
    pending_.pop_front();
    return t;
  }

  // Holds `answer` to task `task_id` until `due_ms`.
  void Defer(const std::string& task_id, TaskMock answer, int64_t due_ms) {
    deferred_[task_id] = Deferred{due_ms, seq_++, std::move(answer)};
  }

  // The earliest timer or deferred answer (ties: the one set first).
  bool Next(Due* next) const {
    bool found = false;
    uint64_t best_seq = 0;
    auto consider = [&](bool is_timer, const std::string& id, int64_t due,
                        uint64_t seq) {
      if (!found || due < next->due_ms ||
          (due == next->due_ms && seq < best_seq)) {
        *next = Due{is_timer, id, due};
        best_seq = seq;
        found = true;
      }
    };
    for (const auto& [id, a] : timers_) consider(true, id, a.due_ms, a.seq);
    for (const auto& [id, d] : deferred_) consider(false, id, d.due_ms, d.seq);
    return found;
  }
  void DropTimer(const std::string& id) { timers_.erase(id); }
  TaskMock TakeDeferred(const std::string& task_id) {
    TaskMock m = std::move(deferred_.at(task_id).answer);
    deferred_.erase(task_id);
    return m;
  }

 private:
  struct Armed {
    int64_t due_ms;
    uint64_t seq;
  };
  struct Deferred {
    int64_t due_ms;
    uint64_t seq;
    TaskMock answer;
  };
  std::deque<TaskSpec> pending_;
  std::map<std::string, Armed> timers_;
  std::map<std::string, Deferred> deferred_;
  uint64_t seq_ = 0;
};

// Appends the top-level states `out` entered to `entered`.
void RecordEntered(const StepOutput& out, const asl::Machine& root,
                   std::vector<std::string>* entered) {
  for (const Event& e : out.events) {
    if (e.type == onewindow::store::v1::STATE_ENTERED && root.states.count(e.state) != 0) {
      entered->push_back(e.state);
    }
  }
}

absl::Status Answer(Execution* exec, const std::string& task_id,
                    const TaskMock& m, int64_t now, StepOutput* out) {
  if (m.fails) return exec->FailTask(task_id, m.error, m.cause, now, out);
  return exec->CompleteTask(task_id, m.result, now, out);
}

}  // namespace

absl::StatusOr<LocalRunResult> RunLocal(
    std::shared_ptr<const asl::Definition> def, const nlohmann::json& input,
    const LocalRunOptions& options) {
  if (def == nullptr) return absl::InvalidArgumentError("no definition");
  StartInfo info;
  info.execution_id = options.execution_id;
  info.execution_name = options.execution_id;
  info.state_machine_id = "local";
  info.state_machine_name = "local";
  info.start_ms = options.start_ms;
  info.seed = options.seed;
  info.limits = options.limits;

  World world;
  StepOutput out;
  int64_t now = options.start_ms;
  LocalRunResult r;
  std::unique_ptr<Execution> exec = Execution::Start(def, input, info, &out);
  RecordEntered(out, def->root(), &r.states_entered);
  world.Absorb(&out);
  std::map<std::string, int64_t> calls_per_state;

  for (int64_t step = 0; exec->status() == RunStatus::kRunning; ++step) {
    if (step >= options.max_steps) {
      return absl::ResourceExhaustedError("local run did not finish within " +
                                          std::to_string(options.max_steps) +
                                          " steps");
    }
    absl::Status s;
    if (world.HasTask()) {
      TaskSpec task = world.PopTask();
      const int64_t call = ++r.task_calls[task.state];
      auto mocked = options.mocks.find(task.state);
      auto fixed = options.task_results.find(task.resource);
      if (mocked != options.mocks.end() && !mocked->second.empty()) {
        const std::vector<TaskMock>& answers = mocked->second;
        const TaskMock& m = answers[std::min<size_t>(
            static_cast<size_t>(call - 1), answers.size() - 1)];
        if (m.delay_ms > 0) {
          world.Defer(task.task_id, m, now + m.delay_ms);
        } else {
          s = Answer(exec.get(), task.task_id, m, now, &out);
        }
      } else if (fixed != options.task_results.end()) {
        s = exec->CompleteTask(task.task_id, fixed->second, now, &out);
      } else if (!options.echo_tasks) {
        absl::Status missing = absl::FailedPreconditionError(
            "no result given for Task state '" + task.state + "' (Resource '" +
            task.resource + "')");
        missing.SetPayload(absl::string_view(kUnansweredPayload.data(),
                                             kUnansweredPayload.size()),
                           absl::Cord(absl::string_view(task.state.data(),
                                                        task.state.size())));
        return missing;
      } else {
        const std::string dept = DeptOf(task.resource);
        const int64_t echo_call = ++calls_per_state[task.state];
        const int64_t flaky = FlakyCount(dept);
        if (dept.rfind("fail", 0) == 0) {
          s = exec->FailTask(task.task_id, "Dept.Failed", dept + " failed", now,
                             &out);
        } else if (flaky >= 0 && echo_call <= flaky) {
          s = exec->FailTask(
              task.task_id, "Dept.Flaky",
              dept + " attempt " + std::to_string(echo_call) + " failed", now,
              &out);
        } else {
          nlohmann::json result;
          if (task.input.is_object()) {
            result = task.input;
            result["dept"] = dept;
          } else {
            result = {{"input", task.input}, {"dept", dept}};
          }
          s = exec->CompleteTask(task.task_id, std::move(result), now, &out);
        }
      }
    } else if (exec->has_pending_launch()) {
      // A wide fan-out starts its children over several turns, as the
      // engine's shard does between commits.
      s = exec->Continue(now, &out);
    } else {
      World::Due next;
      if (!world.Next(&next)) {
        return absl::InternalError(
            "execution is running but waits on no task or timer");
      }
      if (next.due_ms > now) now = next.due_ms;
      if (next.is_timer) {
        world.DropTimer(next.id);
        s = exec->FireTimer(next.id, now, &out);
      } else {
        const TaskMock m = world.TakeDeferred(next.id);
        s = Answer(exec.get(), next.id, m, now, &out);
        // A late answer to a task the execution gave up on is refused, as
        // the engine refuses it; the run goes on.
        if (absl::IsFailedPrecondition(s)) s = absl::OkStatus();
      }
    }
    if (!s.ok()) {
      return absl::InternalError("interpreter rejected a local step: " +
                                 std::string(s.message()));
    }
    RecordEntered(out, def->root(), &r.states_entered);
    world.Absorb(&out);
  }

  r.virtual_elapsed_ms = now - options.start_ms;
  switch (exec->status()) {
    case RunStatus::kSucceeded:
      r.succeeded = true;
      r.output = exec->output();
      break;
    case RunStatus::kFailed:
    case RunStatus::kCancelled:
      r.error = exec->error();
      r.cause = exec->cause();
      r.has_error = exec->has_error();
      r.has_cause = exec->has_cause();
      break;
    case RunStatus::kRunning:
      break;
  }
  return r;
}

std::optional<std::string> UnansweredTaskState(const absl::Status& status) {
  auto p = status.GetPayload(
      absl::string_view(kUnansweredPayload.data(), kUnansweredPayload.size()));
  if (!p.has_value()) return std::nullopt;
  return std::string(*p);
}

}  // namespace onewindow::core
