// Boost.MSM machine for the case lifecycle. Kept alone in this file: MSM is
// costly to compile.
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/core/lifecycle.h"

namespace onewindow::core {
namespace {

namespace msmf = boost::msm::front;

struct Succeed {};
struct Fail {};
struct Cancel {};

struct CaseDef : msmf::state_machine_def<CaseDef> {
  // Each state records itself on entry, so the wrapper can read it.
  template <CaseLifecycle::State kState>
  struct Tracked : msmf::state<> {
    template <class Event, class FSM>
    void on_entry(const Event&, FSM& fsm) {
      fsm.current = kState;
    }
  };
  struct Running : Tracked<CaseLifecycle::State::kRunning> {};
  struct Succeeded : Tracked<CaseLifecycle::State::kSucceeded> {};
  struct Failed : Tracked<CaseLifecycle::State::kFailed> {};
  struct Cancelled : Tracked<CaseLifecycle::State::kCancelled> {};
  using initial_state = Running;

  // clang-format off
  struct transition_table : boost::mpl::vector<
      //         Start    Event    Next
      msmf::Row<Running, Succeed, Succeeded>,
      msmf::Row<Running, Fail,    Failed>,
      msmf::Row<Running, Cancel,  Cancelled>
  > {};
  // clang-format on

  template <class FSM, class Event>
  void no_transition(const Event&, FSM&, int) {
    refused = true;
  }
  bool refused = false;
  CaseLifecycle::State current = CaseLifecycle::State::kRunning;
};

using CaseMachine = boost::msm::back::state_machine<CaseDef>;

}  // namespace

struct CaseLifecycle::Machine {
  CaseMachine sm;
};

CaseLifecycle::CaseLifecycle() : m_(std::make_unique<Machine>()) {
  m_->sm.start();
}

CaseLifecycle CaseLifecycle::At(State state) {
  CaseLifecycle c;
  switch (state) {
    case State::kRunning:
      break;
    case State::kSucceeded:
      c.m_->sm.process_event(Succeed{});
      break;
    case State::kFailed:
      c.m_->sm.process_event(Fail{});
      break;
    case State::kCancelled:
      c.m_->sm.process_event(Cancel{});
      break;
  }
  return c;
}

CaseLifecycle::CaseLifecycle(CaseLifecycle&&) noexcept = default;
CaseLifecycle& CaseLifecycle::operator=(CaseLifecycle&&) noexcept = default;
CaseLifecycle::~CaseLifecycle() = default;

absl::Status CaseLifecycle::Fire(Event event) {
  const State before = state();
  m_->sm.refused = false;
  switch (event) {
    case Event::kSucceed:
      m_->sm.process_event(Succeed{});
      break;
    case Event::kFail:
      m_->sm.process_event(Fail{});
      break;
    case Event::kCancel:
      m_->sm.process_event(Cancel{});
      break;
  }
  if (m_->sm.refused) {
    static constexpr std::string_view kEventNames[] = {"succeed", "fail",
                                                       "cancel"};
    return absl::FailedPreconditionError(
        absl::StrCat("case is ", std::string(ToString(before)), ": cannot ",
                     std::string(kEventNames[static_cast<int>(event)]), " it"));
  }
  return absl::OkStatus();
}

CaseLifecycle::State CaseLifecycle::state() const {
  return m_->sm.current;
}

std::string_view ToString(CaseLifecycle::State s) {
  switch (s) {
    case CaseLifecycle::State::kRunning:
      return "RUNNING";
    case CaseLifecycle::State::kSucceeded:
      return "SUCCEEDED";
    case CaseLifecycle::State::kFailed:
      return "FAILED";
    case CaseLifecycle::State::kCancelled:
      return "CANCELLED";
  }
  return "?";
}

}  // namespace onewindow::core
