// The deterministic ASL interpreter: one case's execution state and the
// commands that advance it.
//
// An Execution does no I/O and reads no clock: time, ids and randomness come
// in with each call, and every call reports what the outside world must do
// (dispatch tasks, set or cancel timers) plus the history events it produced
// in a StepOutput. The first event of every call is its *command event*
// (ExecutionStarted, TaskSucceeded, TaskFailed, TimerFired, TaskHeartbeat,
// ExecutionCancelled, ExecutionContinued, CaseMigrated): it carries all of
// the call's arguments, so replaying the command events of a history on a
// fresh execution (or on a checkpoint) rebuilds the same state
// (replay.h). Thread-compatible: owned by one shard loop at a time.
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
#include "onewindow/store/v1/execution.pb.h"
#include "onewindow/store/v1/records.pb.h"

namespace onewindow::core {

using Json = nlohmann::json;
using EventType = onewindow::store::v1::EventType;
using ExecutionLimits = onewindow::store::v1::ExecutionLimits;

// The ASL error a state fails with when a case goes over one of its
// limits at run time (Map items, open tasks): catchable by Retry/Catch.
inline constexpr std::string_view kStatesLimitExceeded = "States.LimitExceeded";

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

// One history event. Which fields are set depends on the type (see
// StoredEvent in proto/onewindow/store/v1/records.proto, which is the
// stored form of this).
struct Event {
  EventType type = onewindow::store::v1::EVENT_TYPE_UNSPECIFIED;
  std::string state;    // state name, when the event concerns one
  std::string task_id;  // task id, for task events
  bool command = false;
  bool has_value = false;
  Json value;           // input/output/result
  std::string error;
  std::string cause;
  bool has_error = false;
  bool has_cause = false;
  int64_t index = 0;
  int64_t attempt = 0;
  int64_t number = 0;
  std::string text;
  // ExecutionStarted.
  uint64_t seed = 0;
  ExecutionLimits limits;
  // CaseMigrated: the version moved to.
  int64_t version = 0;
};

// The payload of ExecutionStarted (the input) and of TaskSucceeded (the
// result) is the call's own argument and is not copied into the event: the
// caller records what it passed. TaskScheduled's is the TaskSpec's input;
// ExecutionSucceeded's is output().

// What a call produced. Appended to (not cleared) by each call.
struct StepOutput {
  std::vector<TaskSpec> dispatch;           // new tasks to hand out
  std::vector<std::string> cancel_tasks;    // outstanding tasks to withdraw
  std::vector<TimerSpec> set_timers;        // timers to (re)arm
  std::vector<TimerSpec> cancel_timers;     // armed timers to drop (due_ms =
                                            // the due time they were set at)
  std::vector<Event> events;                // history, in order
};

// The API's name of an event type ("ExecutionStarted", "TaskSucceeded"...).
std::string_view EventTypeName(EventType type);

enum class RunStatus { kRunning, kSucceeded, kFailed, kCancelled };

// Default limits (the engine passes its configured ones).
ExecutionLimits DefaultLimits();

// Facts fixed when an execution starts.
struct StartInfo {
  std::string execution_id;     // the case number
  std::string execution_name;   // usually the case number too
  std::string state_machine_id; // "<service>@<version>"
  std::string state_machine_name;  // service code
  int64_t version = 0;          // definition version
  int64_t start_ms = 0;         // ms since epoch
  uint64_t seed = 0;            // seeds States.UUID/MathRandom/jitter
  ExecutionLimits limits = DefaultLimits();
};

class Execution {
 public:
  // Starts running `def` on `input` until it waits on tasks or timers or
  // ends. A failure while running is not an error of this call: the
  // execution ends FAILED (status() says so).
  static std::unique_ptr<Execution> Start(
      std::shared_ptr<const asl::Definition> def, Json input,
      const StartInfo& info, StepOutput* out);

  // Rebuilds an execution from Checkpoint(). INVALID_ARGUMENT/DATA_LOSS
  // when it does not decode or does not fit `def`.
  static absl::StatusOr<std::unique_ptr<Execution>> FromCheckpoint(
      std::shared_ptr<const asl::Definition> def,
      const onewindow::store::v1::ExecutionCheckpoint& checkpoint);
  // Layout 1 stores kept the state as JSON text (CaseRecord.execution).
  static absl::StatusOr<std::unique_ptr<Execution>> FromLayout1Json(
      std::shared_ptr<const asl::Definition> def, std::string_view snapshot);

  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;
  ~Execution();

  // The whole state, for the store (`history_seq` = the last history event
  // it includes).
  onewindow::store::v1::ExecutionCheckpoint Checkpoint(
      int64_t history_seq) const;
  // The same as bytes (for tests comparing states).
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
  // A worker reported progress: re-arms the task's heartbeat timer.
  // FAILED_PRECONDITION when the task has no HeartbeatSeconds (nothing to
  // record) or is not outstanding.
  absl::Status HeartbeatTask(std::string_view task_id, int64_t now_ms,
                             StepOutput* out);
  // A timer set earlier came due. FAILED_PRECONDITION for an unknown or
  // replaced timer (a stale firing is harmless).
  absl::Status FireTimer(std::string_view timer_id, int64_t now_ms,
                         StepOutput* out);
  // Stops the execution: outstanding tasks and timers are withdrawn.
  absl::Status Cancel(std::string_view reason, int64_t now_ms,
                      StepOutput* out);
  // Starts the Parallel branches / Map iterations a wide fan-out left for
  // later turns (see has_pending_launch()). FAILED_PRECONDITION when there
  // are none.
  absl::Status Continue(int64_t now_ms, StepOutput* out);
  // Moves the execution to another definition (another version of the same
  // service). FAILED_PRECONDITION naming the state when a state it is in
  // (or a machine it runs) does not exist in `to` with the same type;
  // nothing changes then.
  absl::Status Migrate(std::shared_ptr<const asl::Definition> to,
                       int64_t to_version, int64_t now_ms, StepOutput* out);
  // Same check without changing anything.
  absl::Status CanMigrate(const asl::Definition& to) const;

  RunStatus status() const;
  const Json& output() const;      // when kSucceeded
  const std::string& error() const;  // when kFailed
  const std::string& cause() const;  // when kFailed or kCancelled
  // False when the execution failed without an error name (a Fail state
  // without Error/ErrorPath) or without a cause; error()/cause() are then "".
  bool has_error() const;
  bool has_cause() const;
  // True when a wide fan-out has branches/iterations still to start.
  bool has_pending_launch() const;
  // Names of the states currently active, sorted.
  std::vector<std::string> ActiveStates() const;
  // Outstanding task ids and armed timers, for checks and recovery.
  std::vector<std::string> OutstandingTasks() const;
  std::vector<TimerSpec> ArmedTimers() const;
  // The due time of an armed timer; false when it is not armed.
  bool TimerDue(std::string_view timer_id, int64_t* due_ms) const;
  const asl::Definition& definition() const;
  int64_t version() const;

 private:
  struct Impl;
  explicit Execution(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace onewindow::core

#endif  // ONEWINDOW_ENGINE_CORE_EXECUTION_H_
