// Runs a definition to completion in-process with virtual time: the driver
// behind `owctl run-local` and the conformance suite. Shares the interpreter
// (execution.h) with the engine; only the driver differs.
#ifndef ONEWINDOW_ENGINE_CORE_LOCAL_RUNNER_H_
#define ONEWINDOW_ENGINE_CORE_LOCAL_RUNNER_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "engine/asl/definition.h"
#include "nlohmann/json.hpp"

namespace onewindow::core {

struct LocalRunOptions {
  // Resource -> fixed result for every Task with that Resource.
  std::map<std::string, nlohmann::json> task_results;
  // Tasks without a fixed result follow the department echo contract
  // (shared/conformance/README.md): echo the input plus "dept", "fail*"
  // departments fail, "flaky<N>*" fail their first N calls per state.
  // When false, such a Task fails the run with an error naming it.
  bool echo_tasks = false;
  int64_t start_ms = 1767225600000;  // 2026-01-01T00:00:00Z (virtual)
  uint64_t seed = 1;
  std::string execution_id = "local";
  // Commands (task answers and timer firings) after which a run that has not
  // ended stops with RESOURCE_EXHAUSTED: a guard against endless loops.
  int64_t max_steps = 1000000;
};

struct LocalRunResult {
  bool succeeded = false;
  nlohmann::json output;  // when succeeded
  std::string error;      // when failed
  std::string cause;
  bool has_error = false;  // Fail state without Error: false
  bool has_cause = false;
  int64_t virtual_elapsed_ms = 0;
};

// Runs to the end. Waits, retry back-off and timeouts advance virtual time
// instantly.
absl::StatusOr<LocalRunResult> RunLocal(
    std::shared_ptr<const asl::Definition> def, const nlohmann::json& input,
    const LocalRunOptions& options);

}  // namespace onewindow::core

#endif  // ONEWINDOW_ENGINE_CORE_LOCAL_RUNNER_H_
