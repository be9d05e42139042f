#include "engine/core/local_runner.h"

#include <cctype>
#include <deque>
#include <map>
#include <string>
#include <utility>

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

// Mirrors the outside world's view of one execution: tasks waiting to be
// answered (FIFO) and armed timers.
class World {
 public:
  void Absorb(StepOutput* out) {
    for (TaskSpec& t : out->dispatch) pending_.push_back(std::move(t));
    for (const std::string& id : out->cancel_tasks) {
      for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if (it->task_id == id) {
          pending_.erase(it);
          break;
        }
      }
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

  // The earliest armed timer (ties: the one armed first).
  bool NextTimer(std::string* id, int64_t* due) const {
    bool found = false;
    uint64_t best_seq = 0;
    for (const auto& [tid, a] : timers_) {
      if (!found || a.due_ms < *due || (a.due_ms == *due && a.seq < best_seq)) {
        *id = tid;
        *due = a.due_ms;
        best_seq = a.seq;
        found = true;
      }
    }
    return found;
  }
  void DropTimer(const std::string& id) { timers_.erase(id); }

 private:
  struct Armed {
    int64_t due_ms;
    uint64_t seq;
  };
  std::deque<TaskSpec> pending_;
  std::map<std::string, Armed> timers_;
  uint64_t seq_ = 0;
};

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

  World world;
  StepOutput out;
  int64_t now = options.start_ms;
  std::unique_ptr<Execution> exec = Execution::Start(def, input, info, &out);
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
      auto fixed = options.task_results.find(task.resource);
      if (fixed != options.task_results.end()) {
        s = exec->CompleteTask(task.task_id, fixed->second, now, &out);
      } else if (!options.echo_tasks) {
        return absl::FailedPreconditionError(
            "no result given for Task state '" + task.state + "' (Resource '" +
            task.resource + "')");
      } else {
        const std::string dept = DeptOf(task.resource);
        const int64_t call = ++calls_per_state[task.state];
        const int64_t flaky = FlakyCount(dept);
        if (dept.rfind("fail", 0) == 0) {
          s = exec->FailTask(task.task_id, "Dept.Failed", dept + " failed", now,
                             &out);
        } else if (flaky >= 0 && call <= flaky) {
          s = exec->FailTask(
              task.task_id, "Dept.Flaky",
              dept + " attempt " + std::to_string(call) + " failed", now, &out);
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
    } else {
      std::string id;
      int64_t due = 0;
      if (!world.NextTimer(&id, &due)) {
        return absl::InternalError(
            "execution is running but waits on no task or timer");
      }
      world.DropTimer(id);
      if (due > now) now = due;
      s = exec->FireTimer(id, now, &out);
    }
    if (!s.ok()) {
      return absl::InternalError("interpreter rejected a local step: " +
                                 std::string(s.message()));
    }
    world.Absorb(&out);
  }

  LocalRunResult r;
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

}  // namespace onewindow::core
