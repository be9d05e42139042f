// The deterministic ASL interpreter: one case's execution state and the
// commands that advance it.
//
// An Execution does no I/O and reads no clock: time, ids and randomness come
// in with each call, and every call reports what the outside world must do
// (dispatch tasks, set or cancel timers) plus the history events it produced
// in a StepOutput. Run the same calls on a restored Snapshot() and you get
// the same results. Thread-compatible: owned by one shard loop at a time.
#ifndef ONEWINDOW_ENGINE_CORE_EXECUTION_H_
#define ONEWINDOW_ENGINE_CORE_EXECUTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/asl/definition.h"
#include "nlohmann/json.hpp"

namespace onewindow::core {

using Json = nlohmann::json;

// A Task state asks the outside world to do work.
struct TaskSpec {
  // Unique within the execution and stable for this task's life (retries of
  // the same state get new ids), e.g. "t7".
  std::string task_id;
  std::string state;     // state name
  std::string resource;  // the Task's Resource, as written
  Json input;            // effective input (after InputPath/Parameters)
  int64_t timeout_seconds = 0;    // TimeoutSeconds(Path); 0 = none
  int64_t heartbeat_seconds = 0;  // HeartbeatSeconds(Path); 0 = none
};

// A durable timer the execution wants fired at `due_ms` (ms since epoch).
// Setting a timer id that is already set replaces it.
struct TimerSpec {
  std::string timer_id;
  int64_t due_ms = 0;
};

// One history event.
struct Event {
  std::string type;     // e.g. "StateEntered", "TaskScheduled"
  std::string state;    // state name, when the event concerns one
  std::string task_id;  // task id, for task events
  Json details;         // input/output/error..., or null
};

// What a call produced. Appended to (not cleared) by each call.
struct StepOutput {
  std::vector<TaskSpec> dispatch;           // new tasks to hand out
  std::vector<std::string> cancel_tasks;    // outstanding tasks to withdraw
  std::vector<TimerSpec> set_timers;        // timers to (re)arm
  std::vector<TimerSpec> cancel_timers;     // armed timers to drop (due_ms =
                                            // the due time they were set at)
  std::vector<Event> events;                // history, in order
};

enum class RunStatus { kRunning, kSucceeded, kFailed, kCancelled };

// Facts fixed when an execution starts.
struct StartInfo {
  std::string execution_id;     // the case number
  std::string execution_name;   // usually the case number too
  std::string state_machine_id; // "<service>@<version>"
  std::string state_machine_name;  // service code
  int64_t start_ms = 0;         // ms since epoch
  uint64_t seed = 0;            // seeds States.UUID/MathRandom/jitter
  // Payload cap in bytes (States.DataLimitExceeded above it); 0 = none.
  int64_t max_payload_bytes = 256 * 1024;
  // Most states one call may run without waiting on a task or timer; beyond
  // it the execution fails with States.Runtime (a Pass/Choice loop guard).
  int64_t max_states_per_call = 250000;
};

class Execution {
 public:
  // Starts running `def` on `input` until it waits on tasks or timers or
  // ends. A failure while running is not an error of this call: the
  // execution ends FAILED (status() says so).
  static std::unique_ptr<Execution> Start(
      std::shared_ptr<const asl::Definition> def, Json input,
      const StartInfo& info, StepOutput* out);

  // Rebuilds an execution from Snapshot() text. INVALID_ARGUMENT/DATA_LOSS
  // when the snapshot does not parse or does not fit `def`.
  static absl::StatusOr<std::unique_ptr<Execution>> Restore(
      std::shared_ptr<const asl::Definition> def, std::string_view snapshot);

  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;
  ~Execution();

  // The whole state as text (JSON), for the store.
  std::string Snapshot() const;

  // A dispatched task finished. FAILED_PRECONDITION when `task_id` is not an
  // outstanding task (unknown, already answered, withdrawn) or the execution
  // has ended; nothing changes then.
  absl::Status CompleteTask(std::string_view task_id, Json result,
                            int64_t now_ms, StepOutput* out);
  // A dispatched task failed with `error`; Retry/Catch of its state apply.
  absl::Status FailTask(std::string_view task_id, std::string_view error,
                        std::string_view cause, int64_t now_ms,
                        StepOutput* out);
  // A worker reported progress: re-arms the task's heartbeat timer, if any.
  absl::Status HeartbeatTask(std::string_view task_id, int64_t now_ms,
                             StepOutput* out);
  // A timer set earlier came due. FAILED_PRECONDITION for an unknown or
  // replaced timer (a stale firing is harmless).
  absl::Status FireTimer(std::string_view timer_id, int64_t now_ms,
                         StepOutput* out);
  // Stops the execution: outstanding tasks and timers are withdrawn.
  absl::Status Cancel(std::string_view reason, int64_t now_ms,
                      StepOutput* out);

  RunStatus status() const;
  const Json& output() const;      // when kSucceeded
  const std::string& error() const;  // when kFailed
  const std::string& cause() const;  // when kFailed or kCancelled
  // False when the execution failed without an error name (a Fail state
  // without Error/ErrorPath) or without a cause; error()/cause() are then "".
  bool has_error() const;
  bool has_cause() const;
  // Names of the states currently active, sorted.
  std::vector<std::string> ActiveStates() const;
  // Outstanding task ids and armed timers, for checks and recovery.
  std::vector<std::string> OutstandingTasks() const;
  std::vector<TimerSpec> ArmedTimers() const;

 private:
  struct Impl;
  explicit Execution(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace onewindow::core

#endif  // ONEWINDOW_ENGINE_CORE_EXECUTION_H_
