#include "engine/core/replay.h"

#include "onewindow/store/v1/records.pb.h"

namespace onewindow::core {

using onewindow::store::v1::StoredEvent;
namespace sv1 = onewindow::store::v1;

bool IsEngineNote(EventType type) {
  switch (type) {
    case sv1::TASK_REDELIVERED:
    case sv1::CASE_OVERDUE:
    case sv1::TASK_OVERDUE:
    case sv1::DOCUMENTS_ADDED:
      return true;
    default:
      return false;
  }
}

Replayer::Replayer(Definitions definitions, StartInfo ids)
    : definitions_(std::move(definitions)), ids_(std::move(ids)) {}

absl::Status Replayer::Begin(
    const onewindow::store::v1::ExecutionCheckpoint* cp) {
  if (cp == nullptr) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<const asl::Definition>> def =
      definitions_(cp->version() != 0 ? cp->version() : ids_.version);
  if (!def.ok()) return def.status();
  auto exec = Execution::FromCheckpoint(*def, *cp);
  if (!exec.ok()) return exec.status();
  exec_ = std::move(*exec);
  last_seq_ = cp->history_seq();
  return absl::OkStatus();
}

namespace {

absl::StatusOr<Json> ParseValue(const StoredEvent& e) {
  if (e.value_json().empty()) return Json();
  Json v = Json::parse(e.value_json(), nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) {
    return absl::DataLossError("event #" + std::to_string(e.seq()) +
                               " holds a value that is not JSON");
  }
  return v;
}

std::string Describe(EventType type, const std::string& state,
                     const std::string& task_id) {
  std::string s = sv1::EventType_Name(type);
  if (!state.empty()) s += " " + state;
  if (!task_id.empty()) s += " " + task_id;
  return s;
}

}  // namespace

absl::Status Replayer::CheckAllMatched() const {
  if (matched_ < produced_.events.size()) {
    const Event& e = produced_.events[matched_];
    return absl::DataLossError(
        "replay diverged after event #" + std::to_string(last_seq_) +
        ": the command at #" + std::to_string(last_command_seq_) +
        " produces " + Describe(e.type, e.state, e.task_id) +
        ", which is not in the stored history");
  }
  return absl::OkStatus();
}

absl::Status Replayer::Add(const StoredEvent& e) {
  if (e.seq() <= last_seq_) return absl::OkStatus();  // already covered
  if (e.seq() != last_seq_ + 1) {
    return absl::DataLossError("history has a gap: event #" +
                               std::to_string(e.seq()) + " follows #" +
                               std::to_string(last_seq_));
  }
  last_seq_ = e.seq();
  if (IsEngineNote(e.type())) return absl::OkStatus();
  if (e.command()) {
    if (absl::Status s = CheckAllMatched(); !s.ok()) return s;
    return Apply(e);
  }
  if (exec_ == nullptr) {
    return absl::DataLossError("event #" + std::to_string(e.seq()) +
                               " comes before the execution started");
  }
  if (matched_ >= produced_.events.size()) {
    return absl::DataLossError(
        "replay diverged at event #" + std::to_string(e.seq()) + ": stored " +
        Describe(e.type(), e.state(), e.task_id()) +
        " is not produced by the command at #" +
        std::to_string(last_command_seq_));
  }
  const Event& want = produced_.events[matched_];
  if (want.type != e.type() || want.state != e.state() ||
      want.task_id != e.task_id()) {
    return absl::DataLossError(
        "replay diverged at event #" + std::to_string(e.seq()) + ": stored " +
        Describe(e.type(), e.state(), e.task_id()) + ", replayed " +
        Describe(want.type, want.state, want.task_id));
  }
  ++matched_;
  return absl::OkStatus();
}

absl::Status Replayer::Apply(const StoredEvent& e) {
  ++commands_;
  last_command_seq_ = e.seq();
  produced_ = StepOutput();
  matched_ = 1;  // the command event itself
  const int64_t at = e.at_ms();
  auto need_exec = [&]() -> absl::Status {
    if (exec_ == nullptr) {
      return absl::DataLossError("command #" + std::to_string(e.seq()) +
                                 " comes before the execution started");
    }
    return absl::OkStatus();
  };
  absl::Status s;
  switch (e.type()) {
    case sv1::EXECUTION_STARTED: {
      if (exec_ != nullptr) {
        return absl::DataLossError("a second ExecutionStarted at #" +
                                   std::to_string(e.seq()));
      }
      auto def = definitions_(ids_.version);
      if (!def.ok()) return def.status();
      auto input = ParseValue(e);
      if (!input.ok()) return input.status();
      StartInfo info = ids_;
      info.start_ms = at;
      info.seed = e.seed();
      info.limits = e.limits();
      exec_ = Execution::Start(*def, std::move(*input), info, &produced_);
      break;
    }
    case sv1::TASK_SUCCEEDED: {
      if (s = need_exec(); !s.ok()) return s;
      auto result = ParseValue(e);
      if (!result.ok()) return result.status();
      s = exec_->CompleteTask(e.task_id(), std::move(*result), at, &produced_);
      break;
    }
    case sv1::TASK_FAILED:
      if (s = need_exec(); !s.ok()) return s;
      s = exec_->FailTask(e.task_id(), e.error(), e.cause(), at, &produced_);
      break;
    case sv1::TIMER_FIRED:
      if (s = need_exec(); !s.ok()) return s;
      s = exec_->FireTimer(e.text(), at, &produced_);
      break;
    case sv1::TASK_HEARTBEAT:
      if (s = need_exec(); !s.ok()) return s;
      s = exec_->HeartbeatTask(e.task_id(), at, &produced_);
      break;
    case sv1::EXECUTION_CANCELLED:
      if (s = need_exec(); !s.ok()) return s;
      s = exec_->Cancel(e.cause(), at, &produced_);
      break;
    case sv1::EXECUTION_CONTINUED:
      if (s = need_exec(); !s.ok()) return s;
      s = exec_->Continue(at, &produced_);
      break;
    case sv1::CASE_MIGRATED: {
      if (s = need_exec(); !s.ok()) return s;
      auto def = definitions_(e.version());
      if (!def.ok()) return def.status();
      s = exec_->Migrate(*def, e.version(), at, &produced_);
      break;
    }
    default:
      return absl::DataLossError("event #" + std::to_string(e.seq()) + " (" +
                                 sv1::EventType_Name(e.type()) +
                                 ") is marked as a command but is none");
  }
  if (!s.ok()) {
    return absl::DataLossError("command #" + std::to_string(e.seq()) +
                               " does not apply again: " +
                               std::string(s.message()));
  }
  if (produced_.events.empty() || produced_.events.front().type != e.type()) {
    return absl::DataLossError("command #" + std::to_string(e.seq()) +
                               " replays as a different event");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Execution>> Replayer::Finish() {
  if (absl::Status s = CheckAllMatched(); !s.ok()) return s;
  if (exec_ == nullptr) {
    return absl::DataLossError("history has no ExecutionStarted event");
  }
  return std::move(exec_);
}

}  // namespace onewindow::core
