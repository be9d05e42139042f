#include "scheduler/dispatcher.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace onewindow::scheduler {
namespace {

class RecordingSession : public WorkerSession {
 public:
  void Push(std::vector<onewindow::v1::Task> tasks) override {
    std::lock_guard lock(mu);
    frames.push_back(tasks.size());
    for (const auto& t : tasks) pushed.push_back(t.token());
  }
  void Cancelled(const onewindow::v1::TaskCancelled& n) override {
    std::lock_guard lock(mu);
    cancelled.push_back(n.token() + ":" + n.reason());
  }
  std::vector<std::string> Pushed() {
    std::lock_guard lock(mu);
    return pushed;
  }
  std::mutex mu;
  std::vector<std::string> pushed;
  std::vector<size_t> frames;
  std::vector<std::string> cancelled;
};

onewindow::v1::Task MakeTask(const std::string& token, const std::string& dept,
                             const std::string& type = "check") {
  onewindow::v1::Task t;
  t.set_token(token);
  t.set_department(dept);
  t.set_task_type(type);
  return t;
}

// A department queue in "the store": what the loader reads.
struct FakeQueue {
  std::mutex mu;
  std::map<int64_t, onewindow::v1::Task> rows;
  int loads = 0;
  absl::Status Load(const std::string& dept, int64_t after, int max,
                    std::vector<QueuedTask>* out, int64_t* scanned_to) {
    std::lock_guard lock(mu);
    ++loads;
    *scanned_to = after;
    for (auto it = rows.upper_bound(after); it != rows.end(); ++it) {
      if (it->second.department() != dept) continue;
      if (static_cast<int>(out->size()) >= max) break;
      out->push_back(QueuedTask{it->first, it->second});
      *scanned_to = it->first;
    }
    return absl::OkStatus();
  }
};

class DispatcherTest : public ::testing::Test {
 protected:
  ManualClock clock_{1'000'000};
  std::mutex mu_;
  std::vector<std::string> expired_;
  FakeQueue queue_;
  Dispatcher d_{&clock_,
                [this](const onewindow::v1::Task& t) {
                  std::lock_guard lock(mu_);
                  expired_.push_back(t.token());
                },
                [this](const std::string& dept, int64_t after, int max,
                       std::vector<QueuedTask>* out, int64_t* scanned) {
                  return queue_.Load(dept, after, max, out, scanned);
                },
                /*max_ready_per_department=*/32};
  int64_t seq_ = 0;
  void Offer(const std::string& token, const std::string& dept,
             const std::string& type = "check") {
    auto t = MakeTask(token, dept, type);
    {
      std::lock_guard lock(queue_.mu);
      queue_.rows[++seq_] = t;
    }
    d_.Offer(t, seq_);
  }
};

TEST_F(DispatcherTest, PushesUpToCreditInOneFrameAndRefillsOnAnswer) {
  RecordingSession s;
  SessionOptions o;
  o.department = "DSF";
  o.max_in_flight = 2;
  d_.Offer(MakeTask("t0", "DSF"), 1);
  d_.Offer(MakeTask("t1", "DSF"), 2);
  d_.Offer(MakeTask("t2", "DSF"), 3);
  d_.Attach(&s, o);
  EXPECT_EQ(s.Pushed(), (std::vector<std::string>{"t0", "t1"}));
  EXPECT_EQ(s.frames, std::vector<size_t>{2});  // both in one frame
  EXPECT_EQ(d_.ReadyCount("DSF"), 1u);
  d_.Withdraw("t0");
  EXPECT_EQ(s.Pushed(), (std::vector<std::string>{"t0", "t1", "t2"}));
  EXPECT_EQ(d_.LeasedCount(), 2u);
  EXPECT_TRUE(s.cancelled.empty());  // an answer is no cancellation
  d_.Detach(&s);
}

TEST_F(DispatcherTest, WithdrawalWithAReasonTellsTheHolder) {
  RecordingSession s;
  SessionOptions o;
  o.department = "DSF";
  d_.Attach(&s, o);
  d_.Offer(MakeTask("x", "DSF"), 1);
  d_.Withdraw("x", "case cancelled: citizen withdrew");
  ASSERT_EQ(s.cancelled.size(), 1u);
  EXPECT_EQ(s.cancelled[0], "x:case cancelled: citizen withdrew");
  EXPECT_EQ(d_.LeasedCount(), 0u);
  d_.Detach(&s);
}

TEST_F(DispatcherTest, OtherDepartmentsTasksAreNotPushed) {
  RecordingSession s;
  SessionOptions o;
  o.department = "DSF";
  d_.Attach(&s, o);
  d_.Offer(MakeTask("a", "CB"), 1);
  EXPECT_TRUE(s.Pushed().empty());
  EXPECT_EQ(d_.ReadyCount("CB"), 1u);
  d_.Detach(&s);
}

TEST_F(DispatcherTest, DetachRequeuesLeasedTasksForTheNextWorker) {
  RecordingSession a, b;
  SessionOptions o;
  o.department = "DSF";
  d_.Attach(&a, o);
  d_.Offer(MakeTask("x", "DSF"), 1);
  ASSERT_EQ(a.Pushed().size(), 1u);
  d_.Detach(&a);
  EXPECT_EQ(d_.ReadyCount("DSF"), 1u);
  d_.Attach(&b, o);
  EXPECT_EQ(b.Pushed(), (std::vector<std::string>{"x"}));
  d_.Detach(&b);
}

TEST_F(DispatcherTest, ActivateLeasesAndHeartbeatExtends) {
  d_.Offer(MakeTask("h", "IACM"), 1);
  auto got = d_.Activate("IACM", 5, 10'000, "clerk");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].lease_expires_at_ms(), 1'010'000);
  clock_.Advance(5'000);
  int hb = -1;
  std::string dept;
  auto lease = d_.Heartbeat("h", 20'000, &hb, &dept);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(*lease, 1'025'000);
  EXPECT_EQ(hb, 0);
  EXPECT_EQ(dept, "IACM");
  EXPECT_EQ(d_.Heartbeat("nope", 0, &hb, &dept).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DispatcherTest, ExpiredLeaseIsReportedOnce) {
  d_.Start();
  d_.Offer(MakeTask("e", "DSF"), 1);
  ASSERT_EQ(d_.Activate("DSF", 1, 1'000, "w").size(), 1u);
  clock_.Advance(1'500);
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard lock(mu_);
      if (!expired_.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  d_.Stop();
  std::lock_guard lock(mu_);
  EXPECT_EQ(expired_, (std::vector<std::string>{"e"}));
  int hb = 0;
  std::string dept;
  EXPECT_EQ(d_.Heartbeat("e", 0, &hb, &dept).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(DispatcherTest, StoredQueueIsLoadedAsTheWorkersAsk) {
  // After a restart: tasks are only in the store.
  for (int i = 0; i < 100; ++i) {
    std::lock_guard lock(queue_.mu);
    queue_.rows[++seq_] = MakeTask("s" + std::to_string(i), "DSF");
  }
  d_.MarkStored({"DSF"});
  EXPECT_EQ(d_.ReadyCount("DSF"), 0u);
  // A hand-held activation loads what it needs at once.
  auto got = d_.Activate("DSF", 3, 60'000, "clerk");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].token(), "s0");
  EXPECT_EQ(got[2].token(), "s2");
  // New work offered meanwhile goes to the store's order, not ahead of it.
  Offer("new", "DSF");
  // A stream takes the rest, in queue order, the loader refilling memory
  // (at most 32 ready at once).
  d_.Start();
  RecordingSession s;
  SessionOptions o;
  o.department = "DSF";
  o.max_in_flight = 1000;
  d_.Attach(&s, o);
  for (int i = 0; i < 200 && s.Pushed().size() < 98; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  d_.Stop();
  std::vector<std::string> pushed = s.Pushed();
  ASSERT_EQ(pushed.size(), 98u);
  EXPECT_EQ(pushed.front(), "s3");
  EXPECT_EQ(pushed[96], "s99");
  EXPECT_EQ(pushed.back(), "new");
  EXPECT_GT(queue_.loads, 2);
  d_.Detach(&s);
}

TEST_F(DispatcherTest, WithdrawalsKeepTheQueueProportional) {
  // 100k ready tasks withdrawn one by one, each in O(1): a withdrawn task's
  // place is skipped later, and the skipped places never outnumber the live
  // ones by more than a constant (so no withdrawal scans the queue).
  Dispatcher big(&clock_, [](const onewindow::v1::Task&) {},
                 [](const std::string&, int64_t, int,
                    std::vector<QueuedTask>*, int64_t*) {
                   return absl::OkStatus();
                 },
                 200'000);
  for (int i = 0; i < 100'000; ++i) {
    big.Offer(MakeTask("w" + std::to_string(i), "MAP"), i + 1);
  }
  EXPECT_EQ(big.ReadyCount("MAP"), 100'000u);
  for (int i = 0; i < 100'000; ++i) {
    big.Withdraw("w" + std::to_string(i), "x");
    const size_t live = big.ReadyCount("MAP");
    ASSERT_LE(big.QueueSlots("MAP"), 2 * live + 64 + 1) << i;
  }
  EXPECT_EQ(big.ReadyCount("MAP"), 0u);
}

}  // namespace
}  // namespace onewindow::scheduler
