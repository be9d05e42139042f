// Boost.MSM machine for the task lifecycle. Kept alone in this file: MSM is
// costly to compile.
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>

#include "absl/strings/str_cat.h"
#include "engine/core/lifecycle.h"

namespace onewindow::core {
namespace {

namespace msmf = boost::msm::front;

struct Lease {};
struct Release {};
struct Complete {};
struct Fail {};
struct Timeout {};
struct Cancel {};

using S = TaskLifecycle::State;

struct TaskDef : msmf::state_machine_def<TaskDef> {
  // Each state records itself on entry, so the wrapper can read it.
  template <S kState>
  struct Tracked : msmf::state<> {
    template <class Event, class FSM>
    void on_entry(const Event&, FSM& fsm) {
      fsm.current = kState;
    }
  };
  struct Ready : Tracked<S::kReady> {};
  struct Leased : Tracked<S::kLeased> {};
  struct Completed : Tracked<S::kCompleted> {};
  struct Failed : Tracked<S::kFailed> {};
  struct TimedOut : Tracked<S::kTimedOut> {};
  struct Cancelled : Tracked<S::kCancelled> {};
  using initial_state = Ready;

  // A worker may answer a task it holds, or one whose lease lapsed but that
  // no one else has taken yet (its token is still current). Final states
  // accept nothing.
  // clang-format off
  struct transition_table : boost::mpl::vector<
      //         Start   Event     Next
      msmf::Row<Ready,  Lease,    Leased>,
      msmf::Row<Leased, Release,  Ready>,
      msmf::Row<Leased, Complete, Completed>,
      msmf::Row<Leased, Fail,     Failed>,
      msmf::Row<Leased, Timeout,  TimedOut>,
      msmf::Row<Leased, Cancel,   Cancelled>,
      msmf::Row<Ready,  Complete, Completed>,
      msmf::Row<Ready,  Fail,     Failed>,
      msmf::Row<Ready,  Timeout,  TimedOut>,
      msmf::Row<Ready,  Cancel,   Cancelled>
  > {};
  // clang-format on

  template <class FSM, class Event>
  void no_transition(const Event&, FSM&, int) {
    refused = true;
  }
  bool refused = false;
  S current = S::kReady;
};

using TaskMachine = boost::msm::back::state_machine<TaskDef>;

template <class Ev>
bool Apply(TaskMachine& sm) {
  sm.refused = false;
  sm.process_event(Ev{});
  return !sm.refused;
}

bool Dispatch(TaskMachine& sm, TaskLifecycle::Event e) {
  using E = TaskLifecycle::Event;
  switch (e) {
    case E::kLease:
      return Apply<Lease>(sm);
    case E::kRelease:
      return Apply<Release>(sm);
    case E::kComplete:
      return Apply<Complete>(sm);
    case E::kFail:
      return Apply<Fail>(sm);
    case E::kTimeout:
      return Apply<Timeout>(sm);
    case E::kCancel:
      return Apply<Cancel>(sm);
  }
  return false;
}

std::string_view EventName(TaskLifecycle::Event e) {
  static constexpr std::string_view kNames[] = {
      "lease", "release", "complete", "fail", "time out", "cancel"};
  return kNames[static_cast<int>(e)];
}

}  // namespace

struct TaskLifecycle::Machine {
  TaskMachine sm;
};

TaskLifecycle::TaskLifecycle() : m_(std::make_unique<Machine>()) {
  m_->sm.start();
}

TaskLifecycle TaskLifecycle::At(State state) {
  TaskLifecycle t;
  switch (state) {
    case S::kReady:
      break;
    case S::kLeased:
      Dispatch(t.m_->sm, Event::kLease);
      break;
    case S::kCompleted:
      Dispatch(t.m_->sm, Event::kComplete);
      break;
    case S::kFailed:
      Dispatch(t.m_->sm, Event::kFail);
      break;
    case S::kTimedOut:
      Dispatch(t.m_->sm, Event::kTimeout);
      break;
    case S::kCancelled:
      Dispatch(t.m_->sm, Event::kCancel);
      break;
  }
  return t;
}

TaskLifecycle::TaskLifecycle(TaskLifecycle&&) noexcept = default;
TaskLifecycle& TaskLifecycle::operator=(TaskLifecycle&&) noexcept = default;
TaskLifecycle::~TaskLifecycle() = default;

absl::Status TaskLifecycle::Fire(Event event) {
  const State before = state();
  if (!Dispatch(m_->sm, event)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "task is ", std::string(ToString(before)), ": cannot ",
        std::string(EventName(event)), " it"));
  }
  return absl::OkStatus();
}

TaskLifecycle::State TaskLifecycle::state() const { return m_->sm.current; }

std::string_view ToString(TaskLifecycle::State s) {
  switch (s) {
    case S::kReady:
      return "READY";
    case S::kLeased:
      return "LEASED";
    case S::kCompleted:
      return "COMPLETED";
    case S::kFailed:
      return "FAILED";
    case S::kTimedOut:
      return "TIMED_OUT";
    case S::kCancelled:
      return "CANCELLED";
  }
  return "?";
}

}  // namespace onewindow::core
