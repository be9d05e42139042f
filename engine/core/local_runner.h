// Runs a definition to completion in-process with virtual time: the driver
// behind `owctl run-local` and the conformance suite. Shares the interpreter
// (execution.h) with the engine; only the driver differs.
#ifndef ONEWINDOW_ENGINE_CORE_LOCAL_RUNNER_H_
#define ONEWINDOW_ENGINE_CORE_LOCAL_RUNNER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/asl/definition.h"
#include "engine/core/execution.h"
#include "nlohmann/json.hpp"

namespace onewindow::core {

// A made-up answer to one call of a Task state.
struct TaskMock {
  bool fails = false;
  nlohmann::json result;  // the task's result, when !fails
  std::string error;      // when fails
  std::string cause;
  // Virtual time between the task's dispatch and this answer; a Task
  // timeout or heartbeat timeout shorter than it fires first.
  int64_t delay_ms = 0;
};

struct LocalRunOptions {
  // State name -> answers to the successive calls of that Task state
  // (retries, Map iterations: in dispatch order); once the list is used up
  // its last answer repeats. Looked at before task_results.
  std::map<std::string, std::vector<TaskMock>, std::less<>> mocks;
  // Resource -> fixed result for every Task with that Resource.
  std::map<std::string, nlohmann::json> task_results;
  // Tasks without a fixed result follow the department echo contract
  // (shared/conformance/README.md): echo the input plus "dept", "fail*"
  // departments fail, "flaky<N>*" fail their first N calls per state.
  // When false, such a Task stops the run with FAILED_PRECONDITION naming
  // the state (UnansweredTaskState() reads the name back).
  bool echo_tasks = false;
  int64_t start_ms = 1767225600000;  // 2026-01-01T00:00:00Z (virtual)
  uint64_t seed = 1;
  std::string execution_id = "local";
  // Commands (task answers and timer firings) after which a run that has not
  // ended stops with RESOURCE_EXHAUSTED: a guard against endless loops.
  int64_t max_steps = 1000000;
  // The execution's limits, as the engine's defaults unless set.
  ExecutionLimits limits = DefaultLimits();
};

struct LocalRunResult {
  bool succeeded = false;
  nlohmann::json output;  // when succeeded
  std::string error;      // when failed
  std::string cause;
  bool has_error = false;  // Fail state without Error: false
  bool has_cause = false;
  int64_t virtual_elapsed_ms = 0;
  // Top-level states entered, in order (a state entered again, e.g. in a
  // loop, appears again). States inside Parallel and Map are not listed.
  std::vector<std::string> states_entered;
  // Calls answered per Task state name (every level).
  std::map<std::string, int64_t> task_calls;
};

// Runs to the end. Waits, retry back-off and timeouts advance virtual time
// instantly.
absl::StatusOr<LocalRunResult> RunLocal(
    std::shared_ptr<const asl::Definition> def, const nlohmann::json& input,
    const LocalRunOptions& options);

// The Task state a run stopped at for want of an answer, when `status` is
// RunLocal's error for that; nullopt for any other status.
std::optional<std::string> UnansweredTaskState(const absl::Status& status);

}  // namespace onewindow::core

#endif  // ONEWINDOW_ENGINE_CORE_LOCAL_RUNNER_H_
