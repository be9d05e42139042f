// Rebuilds an execution from its stored history: the state at a checkpoint
// (or none), then every command event after it applied again in order. The
// interpreter is deterministic, so the events each command produces again
// must be the stored ones that follow it; a difference is DATA_LOSS naming
// the event (the history was changed, or the interpreter no longer behaves
// as the build that wrote it).
//
//   Replayer r(defs, ids);
//   OW_RETURN_IF_ERROR(r.Begin(checkpoint_or_null));
//   for (const StoredEvent& e : events_after_the_checkpoint) r.Add(e);
//   auto exec = r.Finish();
#ifndef ONEWINDOW_ENGINE_CORE_REPLAY_H_
#define ONEWINDOW_ENGINE_CORE_REPLAY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/core/execution.h"

namespace onewindow::core {

// Events the engine writes around the execution (not produced by it): they
// are neither commands nor checked.
bool IsEngineNote(EventType type);

class Replayer {
 public:
  // The definition of a version of the case's service.
  using Definitions = std::function<absl::StatusOr<
      std::shared_ptr<const asl::Definition>>(int64_t version)>;

  // `ids` gives the execution's ids and names (StartInfo's string fields)
  // and its first version; the rest comes from the history.
  Replayer(Definitions definitions, StartInfo ids);

  // Starts from a checkpoint, or (null) from the EXECUTION_STARTED event.
  absl::Status Begin(const onewindow::store::v1::ExecutionCheckpoint* cp);
  // The next stored event (seq ascending, after the checkpoint's).
  absl::Status Add(const onewindow::store::v1::StoredEvent& e);
  // The execution as of the last event added.
  absl::StatusOr<std::unique_ptr<Execution>> Finish();

  int64_t commands() const { return commands_; }
  int64_t last_seq() const { return last_seq_; }

 private:
  absl::Status Apply(const onewindow::store::v1::StoredEvent& e);
  absl::Status CheckAllMatched() const;

  Definitions definitions_;
  StartInfo ids_;
  std::unique_ptr<Execution> exec_;
  StepOutput produced_;  // events of the last command
  size_t matched_ = 0;   // how many of produced_.events were found stored
  int64_t last_seq_ = 0;
  int64_t commands_ = 0;
  int64_t last_command_seq_ = 0;
};

}  // namespace onewindow::core

#endif  // ONEWINDOW_ENGINE_CORE_REPLAY_H_
