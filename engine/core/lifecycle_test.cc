#include "engine/core/lifecycle.h"

#include "gtest/gtest.h"

namespace onewindow::core {
namespace {

using CS = CaseLifecycle::State;
using CE = CaseLifecycle::Event;
using TS = TaskLifecycle::State;
using TE = TaskLifecycle::Event;

TEST(CaseLifecycleTest, RunningCaseEndsOnceAndOnlyOnce) {
  CaseLifecycle c;
  EXPECT_EQ(c.state(), CS::kRunning);
  ASSERT_TRUE(c.Fire(CE::kSucceed).ok());
  EXPECT_EQ(c.state(), CS::kSucceeded);
  absl::Status s = c.Fire(CE::kCancel);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("SUCCEEDED"), std::string_view::npos);
  EXPECT_EQ(c.state(), CS::kSucceeded);
}

TEST(CaseLifecycleTest, RestoredStateRefusesWhatItShould) {
  for (CS end : {CS::kSucceeded, CS::kFailed, CS::kCancelled}) {
    CaseLifecycle c = CaseLifecycle::At(end);
    EXPECT_EQ(c.state(), end);
    EXPECT_TRUE(c.terminal());
    for (CE e : {CE::kSucceed, CE::kFail, CE::kCancel}) {
      EXPECT_EQ(c.Fire(e).code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_EQ(c.state(), end);
    }
  }
  CaseLifecycle r = CaseLifecycle::At(CS::kRunning);
  EXPECT_TRUE(r.Fire(CE::kCancel).ok());
  EXPECT_EQ(r.state(), CS::kCancelled);
}

TEST(TaskLifecycleTest, LeaseReleaseAndAnswer) {
  TaskLifecycle t;
  EXPECT_EQ(t.state(), TS::kReady);
  ASSERT_TRUE(t.Fire(TE::kLease).ok());
  EXPECT_EQ(t.state(), TS::kLeased);
  EXPECT_EQ(t.Fire(TE::kLease).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(t.Fire(TE::kRelease).ok());
  EXPECT_EQ(t.state(), TS::kReady);
  EXPECT_EQ(t.Fire(TE::kRelease).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(t.Fire(TE::kComplete).ok());
  EXPECT_EQ(t.state(), TS::kCompleted);
  EXPECT_FALSE(t.open());
}

TEST(TaskLifecycleTest, FinalStatesAcceptNothing) {
  for (TS end : {TS::kCompleted, TS::kFailed, TS::kTimedOut, TS::kCancelled}) {
    TaskLifecycle t = TaskLifecycle::At(end);
    EXPECT_EQ(t.state(), end);
    for (TE e : {TE::kLease, TE::kRelease, TE::kComplete, TE::kFail,
                 TE::kTimeout, TE::kCancel}) {
      absl::Status s = t.Fire(e);
      EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_EQ(t.state(), end);
    }
  }
}

TEST(TaskLifecycleTest, LeasedTaskCanTimeOutFailOrBeCancelled) {
  for (TE e : {TE::kTimeout, TE::kFail, TE::kCancel, TE::kComplete}) {
    TaskLifecycle t = TaskLifecycle::At(TS::kLeased);
    ASSERT_TRUE(t.Fire(e).ok());
    EXPECT_FALSE(t.open());
  }
}

}  // namespace
}  // namespace onewindow::core
