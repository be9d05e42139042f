// Scheduled backups against a real engine (RocksDB in a temp directory) and
// a manual clock: when backups are made, what they hold, which are deleted,
// failures, and the thread.
#include "engine/service/backup_scheduler.h"

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>

#include "gtest/gtest.h"

namespace onewindow::service {
namespace {

namespace fs = std::filesystem;
using scheduler::Engine;
using scheduler::EngineOptions;
using scheduler::ManualClock;

constexpr int64_t kHour = 3'600'000;
// 2026-03-14T09:00:00Z
constexpr int64_t kStart = 1'773'478'800'000;

constexpr char kWaitForClerk[] = R"({
  "StartAt": "Check",
  "States": {"Check": {"Type": "Task", "Resource": "dept:COUNTER/check",
                       "End": true}}
})";

template <typename T>
absl::StatusOr<T> Wait(std::function<void(Engine::Done<T>)> call) {
  std::promise<absl::StatusOr<T>> p;
  auto f = p.get_future();
  call([&p](absl::StatusOr<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

class BackupSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("ow-backup-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(root_);
    backups_ = root_ / "backups";
    engine_ = Open((root_ / "data").string());
    auto r = engine_->registry().Deploy("check", kWaitForClerk,
                                        asl::SourceFormat::kAuto, "",
                                        clock_.NowMs());
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(root_);
  }

  std::unique_ptr<Engine> Open(const std::string& dir) {
    EngineOptions o;
    o.data_dir = dir;
    o.clock = &clock_;
    o.sync = false;
    auto e = Engine::Open(std::move(o));
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? std::move(*e) : nullptr;
  }

  std::string Submit(Engine* engine) {
    onewindow::v1::SubmitCaseRequest req;
    req.set_service("check");
    req.set_input_json(R"({"n": 1})");
    auto r = Wait<scheduler::SubmitResult>(
        [&](Engine::Done<scheduler::SubmitResult> d) {
          engine->SubmitCase(req, scheduler::Actor{"clerk", "counter"}, d);
        });
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->case_id : "";
  }

  BackupScheduler::Options Options(int keep = 2) {
    BackupScheduler::Options o;
    o.dir = backups_.string();
    o.every_ms = 6 * kHour;
    o.keep = keep;
    o.clock = &clock_;
    return o;
  }

  ManualClock clock_{kStart};
  fs::path root_;
  fs::path backups_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(BackupSchedulerTest, NamesAreUtcTimestamps) {
  EXPECT_EQ(BackupScheduler::NameFor(kStart), "20260314T090000Z");
  EXPECT_EQ(BackupScheduler::TimeOf("20260314T090000Z"), kStart);
  for (const char* other :
       {"20260314T090000", "20260314T090000Z.tmp", "2026031T4090000Z",
        "20261314T090000Z", "20260230T090000Z", "keep-me", "",
        "2026-03-14T090000Z"}) {
    EXPECT_FALSE(BackupScheduler::TimeOf(other).has_value()) << other;
  }
}

TEST_F(BackupSchedulerTest, BacksUpWhenDueKeepsTheNewestAndNothingElse) {
  fs::create_directories(backups_ / "keep-me");
  std::ofstream(backups_ / "20200101T000000Z.txt") << "not ours";
  BackupScheduler s(engine_.get(), Options(/*keep=*/2));

  // Nothing in DIR: due at once.
  const std::string first_case = Submit(engine_.get());
  ASSERT_TRUE(s.Tick());
  EXPECT_EQ(s.stats().made, 1);
  EXPECT_EQ(s.List(), std::vector<std::string>{"20260314T090000Z"});
  EXPECT_FALSE(s.Tick());  // not again until `every` has passed

  clock_.Advance(6 * kHour - 1);
  EXPECT_FALSE(s.Tick());
  clock_.Advance(1);
  ASSERT_TRUE(s.Tick());
  clock_.Advance(6 * kHour);
  ASSERT_TRUE(s.Tick());
  clock_.Advance(6 * kHour);
  ASSERT_TRUE(s.Tick());

  const BackupScheduler::Stats st = s.stats();
  EXPECT_EQ(st.made, 4);
  EXPECT_EQ(st.failed, 0);
  EXPECT_EQ(st.deleted, 2);
  EXPECT_EQ(s.List(), (std::vector<std::string>{"20260314T210000Z",
                                                "20260315T030000Z"}));
  EXPECT_EQ(st.last_dir, fs::absolute(backups_ / "20260315T030000Z").string());
  EXPECT_EQ(st.next_due_ms, kStart + 24 * kHour);
  // What it does not own stays.
  EXPECT_TRUE(fs::is_directory(backups_ / "keep-me"));
  EXPECT_TRUE(fs::exists(backups_ / "20200101T000000Z.txt"));

  // A backup is a store the engine opens, holding the cases of the moment.
  const std::string later_case = Submit(engine_.get());
  auto copy = Open((backups_ / "20260315T030000Z").string());
  ASSERT_NE(copy, nullptr);
  auto got = Wait<onewindow::v1::Case>([&](Engine::Done<onewindow::v1::Case> d) {
    copy->GetCase(first_case, d);
  });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->status(), onewindow::v1::CASE_STATUS_RUNNING);
  auto missing =
      Wait<onewindow::v1::Case>([&](Engine::Done<onewindow::v1::Case> d) {
        copy->GetCase(later_case, d);
      });
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound)
      << missing.status();
}

TEST_F(BackupSchedulerTest, FirstBackupIsDueEveryAfterTheNewestInDir) {
  fs::create_directories(backups_ /
                         BackupScheduler::NameFor(kStart - 2 * kHour));
  BackupScheduler s(engine_.get(), Options());
  EXPECT_EQ(s.stats().next_due_ms, kStart + 4 * kHour);
  EXPECT_FALSE(s.Tick());
  clock_.Advance(4 * kHour);
  EXPECT_TRUE(s.Tick());
  EXPECT_EQ(s.stats().made, 1);
}

TEST_F(BackupSchedulerTest, FailureIsRetriedNextTimeAndDeletesNothing) {
  BackupScheduler s(engine_.get(), Options(/*keep=*/1));
  ASSERT_TRUE(s.Tick());
  const std::string first = s.List().at(0);

  // The next backup's name is taken by something that is not empty.
  clock_.Advance(6 * kHour);
  const fs::path taken = backups_ / BackupScheduler::NameFor(clock_.NowMs());
  fs::create_directories(taken / "x");
  ASSERT_TRUE(s.Tick());
  BackupScheduler::Stats st = s.stats();
  EXPECT_EQ(st.made, 1);
  EXPECT_EQ(st.failed, 1);
  EXPECT_NE(st.last_error.find("exists"), std::string::npos) << st.last_error;
  EXPECT_TRUE(fs::exists(backups_ / first));  // kept: the last good one
  EXPECT_EQ(st.next_due_ms, clock_.NowMs() + 6 * kHour);
  fs::remove_all(taken);

  clock_.Advance(6 * kHour);
  ASSERT_TRUE(s.Tick());
  st = s.stats();
  EXPECT_EQ(st.made, 2);
  EXPECT_EQ(s.List().size(), 1u);
  EXPECT_FALSE(fs::exists(backups_ / first));
}

TEST_F(BackupSchedulerTest, UnfinishedCheckpointsAreCleanedUp) {
  const fs::path leftover =
      backups_ / (BackupScheduler::NameFor(kStart - kHour) + ".tmp");
  fs::create_directories(leftover / "sub");
  const fs::path foreign = backups_ / "mine.tmp";
  fs::create_directories(foreign);
  BackupScheduler s(engine_.get(), Options());
  ASSERT_TRUE(s.BackupNow().ok());
  EXPECT_FALSE(fs::exists(leftover));
  EXPECT_TRUE(fs::exists(foreign));
}

TEST_F(BackupSchedulerTest, ThreadBacksUpWhenDueAndWhenTriggered) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> made;
  BackupScheduler::Options o = Options(/*keep=*/5);
  o.on_backup = [&](const absl::StatusOr<std::string>& r) {
    std::lock_guard lock(mu);
    made.push_back(r.ok() ? *r : "error: " + r.status().ToString());
    cv.notify_all();
  };
  BackupScheduler s(engine_.get(), o);
  ASSERT_TRUE(s.Start().ok());
  auto wait_for = [&](size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30),
                       [&] { return made.size() >= n; });
  };
  ASSERT_TRUE(wait_for(1));  // due at start: none in DIR
  clock_.Advance(6 * kHour);
  s.Wake();
  ASSERT_TRUE(wait_for(2));
  clock_.Advance(1000);
  s.Trigger();  // whatever the schedule says
  ASSERT_TRUE(wait_for(3));
  s.Stop();
  std::lock_guard lock(mu);
  ASSERT_EQ(made.size(), 3u);
  for (const auto& m : made) EXPECT_EQ(m.find("error"), std::string::npos) << m;
  EXPECT_EQ(s.List().size(), 3u);
  EXPECT_EQ(s.stats().next_due_ms, kStart + 6 * kHour + 1000 + 6 * kHour);
}

TEST_F(BackupSchedulerTest, StartRefusesADirectoryItCannotMake) {
  std::ofstream(root_ / "file") << "x";
  BackupScheduler::Options o = Options();
  o.dir = (root_ / "file" / "backups").string();
  BackupScheduler s(engine_.get(), o);
  absl::Status st = s.Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("backup.dir"), std::string::npos) << st;
}

}  // namespace
}  // namespace onewindow::service
