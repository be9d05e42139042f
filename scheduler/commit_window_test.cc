#include "scheduler/commit_window.h"

#include <gtest/gtest.h>

namespace onewindow::scheduler {
namespace {

TEST(CommitWindowTest, NoEstimateNoWait) {
  CommitWindow w(1000, 16);
  EXPECT_EQ(w.WaitUs(1), 0);
  EXPECT_EQ(w.rate_per_s(), 0);
}

TEST(CommitWindowTest, ALoneCaseNeverWaits) {
  // A closed loop of one case: nothing arrives while its batch is in hand.
  CommitWindow w(1000, 16);
  for (int i = 0; i < 1000; ++i) w.Observe(300, 0);
  EXPECT_EQ(w.WaitUs(1), 0);
  EXPECT_EQ(w.rate_per_s(), 0);
}

TEST(CommitWindowTest, IndependentArrivalsOpenTheWindow) {
  // One command per 500 µs of busy time: 2,000/s. Two are expected within
  // the 1 ms window, so a batch of one waits, a gap of two mean
  // inter-arrival times at most (1 ms here).
  CommitWindow w(1000, 16);
  for (int i = 0; i < 200; ++i) w.Observe(500, 1);
  EXPECT_NEAR(w.rate_per_s(), 2000, 1);
  EXPECT_EQ(w.WaitUs(1), 1000);
  EXPECT_EQ(w.WaitUs(15), 1000);
  // A full batch does not wait.
  EXPECT_EQ(w.WaitUs(16), 0);
  EXPECT_EQ(w.WaitUs(400), 0);
  // Twice the rate: half the gap.
  CommitWindow busier(1000, 16);
  for (int i = 0; i < 200; ++i) busier.Observe(500, 2);
  EXPECT_EQ(busier.WaitUs(1), 500);
}

TEST(CommitWindowTest, WaitsThatGatherKeepTheWindowOpen) {
  CommitWindow w(1000, 16);
  for (int i = 0; i < 200; ++i) w.Observe(500, 1);
  // Each wait of 800 µs gathers 2 commands (2,500/s): the busy rate, the
  // lower of the two, sets the gap.
  for (int i = 0; i < 100; ++i) {
    ASSERT_GT(w.WaitUs(1), 0) << i;
    w.ObserveWait(800, 2);
  }
  EXPECT_EQ(w.WaitUs(1), 1000);
  // A lower yield (one command per 600 µs, 1,667/s) becomes the rate; its
  // gap, 2 / 1,667/s = 1.2 ms, is capped at the window.
  for (int i = 0; i < 100; ++i) w.ObserveWait(600, 1);
  EXPECT_NEAR(w.rate_per_s(), 1667, 2);
  EXPECT_EQ(w.WaitUs(1), 1000);
}

TEST(CommitWindowTest, WaitsThatGatherNothingCloseItButForProbes) {
  // A lone case with a three-way Parallel: its answers arrive while the
  // shard is busy with one of them, then nothing comes.
  CommitWindow w(1000, 16);
  for (int i = 0; i < 200; ++i) w.Observe(300, 1);
  ASSERT_GT(w.WaitUs(1), 0);
  w.ObserveWait(1000, 0);
  // From now on only one opportunity in kProbeEvery waits.
  int waits = 0;
  const int opportunities = CommitWindow::kProbeEvery * 10;
  for (int i = 0; i < opportunities; ++i) {
    if (w.WaitUs(1) > 0) {
      ++waits;
      w.ObserveWait(1000, 0);
    }
  }
  EXPECT_EQ(waits, 10);
  // The load changes: probes gather again and the window reopens.
  int probes = 0;
  while (probes < 10) {
    if (w.WaitUs(1) > 0) {
      w.ObserveWait(500, 3);
      ++probes;
    }
  }
  EXPECT_GT(w.WaitUs(1), 0);
  EXPECT_GT(w.WaitUs(1), 0);
}

TEST(CommitWindowTest, TooFewArrivalsToExpectOneWithinTheWindow) {
  // 1 command per 2 ms of busy time: under one expected in 1 ms.
  CommitWindow w(1000, 16);
  for (int i = 0; i < 200; ++i) w.Observe(2000, 1);
  EXPECT_EQ(w.WaitUs(1), 0);
  // The same rate with a 4 ms window expects two: it waits.
  CommitWindow longer(4000, 16);
  for (int i = 0; i < 200; ++i) longer.Observe(2000, 1);
  EXPECT_EQ(longer.WaitUs(1), 4000);  // gap 2 / 500/s = 4 ms
}

TEST(CommitWindowTest, FollowsTheLoadDown) {
  CommitWindow w(1000, 16);
  for (int i = 0; i < 200; ++i) w.Observe(500, 2);
  ASSERT_GT(w.WaitUs(1), 0);
  // The stream stops: within some tens of batches the window closes.
  int batches = 0;
  while (w.WaitUs(1) > 0 && batches < 1000) {
    w.Observe(300, 0);
    ++batches;
  }
  EXPECT_EQ(w.WaitUs(1), 0);
  EXPECT_LT(batches, 100);
}

TEST(CommitWindowTest, OffWhenTheLongestWaitIsZero) {
  CommitWindow w(0, 16);
  for (int i = 0; i < 200; ++i) w.Observe(100, 50);
  EXPECT_EQ(w.WaitUs(1), 0);
  EXPECT_EQ(w.rate_per_s(), 0);
}

TEST(CommitWindowTest, OddObservationsAreClamped) {
  // A clock step backwards or a zero-length batch must not produce a
  // negative or infinite rate.
  CommitWindow w(1000, 16);
  w.Observe(-5, 3);
  w.Observe(0, -1);
  const int64_t wait = w.WaitUs(1);
  EXPECT_GE(wait, 0);
  EXPECT_LE(wait, 1000);
  EXPECT_GE(w.rate_per_s(), 0);
}

}  // namespace
}  // namespace onewindow::scheduler
