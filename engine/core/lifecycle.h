// Case and task lifecycles: the legal status transitions of a case and of a
// task, enforced by Boost.MSM state machines (case_lifecycle.cc,
// task_lifecycle.cc). An illegal transition is refused with
// FAILED_PRECONDITION and leaves the state unchanged, so a late or repeated
// command can never corrupt a case. Thread-compatible value types.
#ifndef ONEWINDOW_ENGINE_CORE_LIFECYCLE_H_
#define ONEWINDOW_ENGINE_CORE_LIFECYCLE_H_

#include <memory>
#include <string_view>

#include "absl/status/status.h"

namespace onewindow::core {

class CaseLifecycle {
 public:
  enum class State { kRunning, kSucceeded, kFailed, kCancelled };
  enum class Event { kSucceed, kFail, kCancel };

  // A new case: kRunning.
  CaseLifecycle();
  // A case restored from the store in `state`.
  static CaseLifecycle At(State state);
  CaseLifecycle(CaseLifecycle&&) noexcept;
  CaseLifecycle& operator=(CaseLifecycle&&) noexcept;
  ~CaseLifecycle();

  // Applies `event`. FAILED_PRECONDITION when the case's state does not
  // allow it (e.g. cancelling a case that already succeeded).
  absl::Status Fire(Event event);
  State state() const;
  bool terminal() const { return state() != State::kRunning; }

 private:
  struct Machine;
  std::unique_ptr<Machine> m_;
};

class TaskLifecycle {
 public:
  enum class State {
    kReady,      // waiting for a worker
    kLeased,     // held by a worker until its lease ends
    kCompleted,  // answered with a result
    kFailed,     // answered with an error
    kTimedOut,   // TimeoutSeconds/HeartbeatSeconds passed
    kCancelled,  // withdrawn (branch failed, case cancelled or ended)
  };
  enum class Event {
    kLease,    // handed to a worker
    kRelease,  // lease ended without an answer (expiry, worker gone)
    kComplete,
    kFail,
    kTimeout,
    kCancel,
  };

  TaskLifecycle();  // kReady
  static TaskLifecycle At(State state);
  TaskLifecycle(TaskLifecycle&&) noexcept;
  TaskLifecycle& operator=(TaskLifecycle&&) noexcept;
  ~TaskLifecycle();

  absl::Status Fire(Event event);
  State state() const;
  bool open() const {
    return state() == State::kReady || state() == State::kLeased;
  }

 private:
  struct Machine;
  std::unique_ptr<Machine> m_;
};

std::string_view ToString(CaseLifecycle::State s);
std::string_view ToString(TaskLifecycle::State s);

}  // namespace onewindow::core

#endif  // ONEWINDOW_ENGINE_CORE_LIFECYCLE_H_
