#include "scheduler/dispatcher.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "gtest/gtest.h"

namespace onewindow::scheduler {
namespace {

class RecordingSession : public WorkerSession {
 public:
  void Push(const onewindow::v1::Task& task) override {
    std::lock_guard lock(mu);
    pushed.push_back(task.token());
  }
  std::vector<std::string> Pushed() {
    std::lock_guard lock(mu);
    return pushed;
  }
  std::mutex mu;
  std::vector<std::string> pushed;
};

onewindow::v1::Task MakeTask(const std::string& token, const std::string& dept,
                             const std::string& type = "check") {
  onewindow::v1::Task t;
  t.set_token(token);
  t.set_department(dept);
  t.set_task_type(type);
  return t;
}

class DispatcherTest : public ::testing::Test {
 protected:
  ManualClock clock_{1'000'000};
  std::mutex mu_;
  std::vector<std::string> expired_;
  Dispatcher d_{&clock_, [this](const onewindow::v1::Task& t) {
                  std::lock_guard lock(mu_);
                  expired_.push_back(t.token());
                }};
};

TEST_F(DispatcherTest, PushesUpToCreditAndRefillsOnAnswer) {
  RecordingSession s;
  SessionOptions o;
  o.department = "DSF";
  o.max_in_flight = 2;
  d_.Attach(&s, o);
  for (int i = 0; i < 3; ++i) d_.Offer(MakeTask("t" + std::to_string(i), "DSF"));
  EXPECT_EQ(s.Pushed(), (std::vector<std::string>{"t0", "t1"}));
  EXPECT_EQ(d_.ReadyCount("DSF"), 1u);
  d_.Withdraw("t0");
  EXPECT_EQ(s.Pushed(), (std::vector<std::string>{"t0", "t1", "t2"}));
  EXPECT_EQ(d_.LeasedCount(), 2u);
  d_.Detach(&s);
}

TEST_F(DispatcherTest, OtherDepartmentsTasksAreNotPushed) {
  RecordingSession s;
  SessionOptions o;
  o.department = "DSF";
  d_.Attach(&s, o);
  d_.Offer(MakeTask("a", "CB"));
  EXPECT_TRUE(s.Pushed().empty());
  EXPECT_EQ(d_.ReadyCount("CB"), 1u);
  d_.Detach(&s);
}

TEST_F(DispatcherTest, DetachRequeuesLeasedTasksForTheNextWorker) {
  RecordingSession a, b;
  SessionOptions o;
  o.department = "DSF";
  d_.Attach(&a, o);
  d_.Offer(MakeTask("x", "DSF"));
  ASSERT_EQ(a.Pushed().size(), 1u);
  d_.Detach(&a);
  EXPECT_EQ(d_.ReadyCount("DSF"), 1u);
  d_.Attach(&b, o);
  EXPECT_EQ(b.Pushed(), (std::vector<std::string>{"x"}));
  d_.Detach(&b);
}

TEST_F(DispatcherTest, ActivateLeasesAndHeartbeatExtends) {
  d_.Offer(MakeTask("h", "IACM"));
  auto got = d_.Activate("IACM", 5, 10'000, "clerk");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].lease_expires_at_ms(), 1'010'000);
  clock_.Advance(5'000);
  int hb = -1;
  auto lease = d_.Heartbeat("h", 20'000, &hb);
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(*lease, 1'025'000);
  EXPECT_EQ(hb, 0);
  EXPECT_EQ(d_.Heartbeat("nope", 0, &hb).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(DispatcherTest, ExpiredLeaseIsReportedOnce) {
  d_.Start();
  d_.Offer(MakeTask("e", "DSF"));
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
  EXPECT_EQ(d_.Heartbeat("e", 0, &hb).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace onewindow::scheduler
