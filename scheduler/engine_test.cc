// Engine tests: real RocksDB in a temp directory, a manual clock, no gRPC.
#include "scheduler/engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace onewindow::scheduler {
namespace {

using nlohmann::json;

constexpr char kThreeDepts[] = R"({
  "StartAt": "Opinions",
  "States": {
    "Opinions": {
      "Type": "Parallel",
      "Branches": [
        {"StartAt": "Tax", "States": {"Tax": {"Type": "Task",
          "Resource": "dept:DSF/tax-clearance", "End": true}}},
        {"StartAt": "Fire", "States": {"Fire": {"Type": "Task",
          "Resource": "dept:CB/fire-safety", "End": true}}},
        {"StartAt": "Land", "States": {"Land": {"Type": "Task",
          "Resource": "dept:IACM/licence", "End": true}}}
      ],
      "ResultPath": "$.opinions",
      "Next": "Done"
    },
    "Done": {"Type": "Succeed"}
  }
})";

template <typename T>
absl::StatusOr<T> Wait(std::function<void(Engine::Done<T>)> call) {
  std::promise<absl::StatusOr<T>> p;
  auto f = p.get_future();
  call([&p](absl::StatusOr<T> r) { p.set_value(std::move(r)); });
  return f.get();
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ow-engine-test-" + std::to_string(std::random_device{}()));
    Open();
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    EngineOptions o;
    o.data_dir = dir_.string();
    o.clock = &clock_;
    o.sync = false;  // logic tests; durability is tested with real processes
    auto e = Engine::Open(std::move(o));
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }
  void Reopen() {
    engine_.reset();
    Open();
  }
  void Deploy(const std::string& name, const std::string& text) {
    auto r = engine_->registry().Deploy(name, text, asl::SourceFormat::kAuto,
                                        "", clock_.NowMs());
    ASSERT_TRUE(r.ok()) << r.status();
  }
  absl::StatusOr<SubmitResult> Submit(const std::string& service,
                                      const std::string& input,
                                      const std::string& request_id = "") {
    onewindow::v1::SubmitCaseRequest req;
    req.set_service(service);
    req.set_input_json(input);
    req.set_request_id(request_id);
    return Wait<SubmitResult>([&](Engine::Done<SubmitResult> d) {
      engine_->SubmitCase(req, Actor{"clerk-1", "counter"}, d);
    });
  }
  absl::Status Complete(const std::string& token, const std::string& result,
                        const std::string& department = "") {
    return Wait<bool>([&](Engine::Done<bool> d) {
             engine_->CompleteTask(token, result, department,
                                   Actor{"dept-1", "department"}, d);
           })
        .status();
  }
  absl::Status Fail(const std::string& token, const std::string& error,
                    const std::string& department = "") {
    return Wait<bool>([&](Engine::Done<bool> d) {
             engine_->FailTask(token, error, "because", department,
                               Actor{"dept-1", "department"}, d);
           })
        .status();
  }
  absl::StatusOr<onewindow::v1::Case> Get(const std::string& id) {
    return Wait<onewindow::v1::Case>(
        [&](Engine::Done<onewindow::v1::Case> d) { engine_->GetCase(id, d); });
  }
  absl::StatusOr<std::vector<onewindow::v1::HistoryEvent>> History(
      const std::string& id) {
    std::vector<onewindow::v1::HistoryEvent> all;
    for (int page = 0; page < 1000; ++page) {
      auto r = Wait<onewindow::v1::GetCaseHistoryResponse>(
          [&](Engine::Done<onewindow::v1::GetCaseHistoryResponse> d) {
            engine_->GetHistory(id, all.empty() ? 0 : all.back().seq(), 1000,
                                d);
          });
      if (!r.ok()) return r.status();
      for (const auto& e : r->events()) all.push_back(e);
      if (!r->more()) break;
    }
    return all;
  }
  absl::StatusOr<onewindow::v1::Case> Cancel(const std::string& id,
                                             const std::string& reason) {
    return Wait<onewindow::v1::Case>([&](Engine::Done<onewindow::v1::Case> d) {
      engine_->CancelCase(id, reason, Actor{"clerk-1", "counter"}, d);
    });
  }
  // Activates until `n` tasks of `dept` arrive (they appear after commit).
  std::vector<onewindow::v1::Task> Take(const std::string& dept, int n) {
    std::vector<onewindow::v1::Task> got;
    for (int i = 0; i < 200 && static_cast<int>(got.size()) < n; ++i) {
      for (auto& t : engine_->dispatcher().Activate(dept, n, 60'000, "test")) {
        got.push_back(std::move(t));
      }
      if (static_cast<int>(got.size()) < n) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    return got;
  }
  onewindow::v1::Case WaitForStatus(const std::string& id,
                                    onewindow::v1::CaseStatus s) {
    onewindow::v1::Case c;
    for (int i = 0; i < 400; ++i) {
      auto r = Get(id);
      if (r.ok()) {
        c = *r;
        if (c.status() == s) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return c;
  }

  ManualClock clock_{1'767'225'600'000};
  std::filesystem::path dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, CaseFansOutToThreeDepartmentsAndSucceeds) {
  Deploy("licence", kThreeDepts);
  auto sub = Submit("licence", R"({"applicant": "A. Chan"})");
  ASSERT_TRUE(sub.ok()) << sub.status();
  EXPECT_EQ(sub->version, 1);
  for (const char* dept : {"DSF", "CB", "IACM"}) {
    auto tasks = Take(dept, 1);
    ASSERT_EQ(tasks.size(), 1u) << dept;
    EXPECT_EQ(tasks[0].case_id(), sub->case_id);
    EXPECT_EQ(json::parse(tasks[0].input_json())["applicant"], "A. Chan");
    ASSERT_TRUE(
        Complete(tasks[0].token(), json{{"dept", dept}, {"ok", true}}.dump())
            .ok());
  }
  auto c = WaitForStatus(sub->case_id, onewindow::v1::CASE_STATUS_SUCCEEDED);
  ASSERT_EQ(c.status(), onewindow::v1::CASE_STATUS_SUCCEEDED);
  json out = json::parse(c.output_json());
  ASSERT_EQ(out["opinions"].size(), 3u);
  EXPECT_EQ(out["opinions"][0]["dept"], "DSF");
  EXPECT_EQ(out["opinions"][1]["dept"], "CB");
  EXPECT_EQ(out["opinions"][2]["dept"], "IACM");
  EXPECT_EQ(out["applicant"], "A. Chan");
  auto history = History(sub->case_id);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->front().seq(), 1);
  EXPECT_EQ(history->back().type(), "ExecutionSucceeded");
}

// Operators tell the engine's threads apart in top -H, perf and /proc by
// name.
TEST_F(EngineTest, ItsThreadsCarryTheirNames) {
  const std::set<std::string> want = {"ow-shard-0", "ow-task-expiry",
                                      "ow-task-loader", "ow-reader"};
  std::set<std::string> seen;
  // A thread names itself as it starts: look until all have (5 s at most).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (true) {
    seen.clear();
    for (const auto& t :
         std::filesystem::directory_iterator("/proc/self/task")) {
      std::ifstream comm(t.path() / "comm");
      std::string name;
      if (std::getline(comm, name)) seen.insert(name);
    }
    if (std::includes(seen.begin(), seen.end(), want.begin(), want.end()) ||
        std::chrono::steady_clock::now() > until) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (const std::string& name : want) {
    EXPECT_TRUE(seen.count(name) > 0) << name << " is not among the threads";
  }
}

TEST_F(EngineTest, SameRequestIdGivesTheSameCase) {
  Deploy("licence", kThreeDepts);
  auto a = Submit("licence", "{}", "counter-7-0001");
  auto b = Submit("licence", "{}", "counter-7-0001");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->case_id, b->case_id);
  EXPECT_FALSE(a->deduplicated);
  EXPECT_TRUE(b->deduplicated);
  Reopen();
  auto c = Submit("licence", "{}", "counter-7-0001");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->case_id, a->case_id);
  auto d = Submit("licence", "{}", "counter-7-0002");
  ASSERT_TRUE(d.ok());
  EXPECT_NE(d->case_id, a->case_id);
}

TEST_F(EngineTest, BadSubmissionsAreRefusedWithTheFieldNamed) {
  Deploy("licence", kThreeDepts);
  auto bad_json = Submit("licence", "{\"a\": ");
  EXPECT_EQ(bad_json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_json.status().message().find("input_json"),
            absl::string_view::npos);
  auto unknown = Submit("no-such-service", "{}");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("no-such-service"),
            absl::string_view::npos);
  auto big = Submit("licence", "\"" + std::string(300 * 1024, 'x') + "\"");
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(big.status().message().find("262144"), absl::string_view::npos);
}

TEST_F(EngineTest, AnsweredOrUnknownTokensAreRejectedAndChangeNothing) {
  Deploy("licence", kThreeDepts);
  auto sub = Submit("licence", "{}");
  ASSERT_TRUE(sub.ok());
  auto tasks = Take("DSF", 1);
  ASSERT_EQ(tasks.size(), 1u);
  ASSERT_TRUE(Complete(tasks[0].token(), "{\"a\":1}").ok());
  absl::Status again = Complete(tasks[0].token(), "{\"a\":2}");
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition) << again;
  EXPECT_NE(again.message().find("already completed"), absl::string_view::npos)
      << again;
  EXPECT_EQ(Complete("garbage", "{}").code(), absl::StatusCode::kNotFound);
  std::string forged = tasks[0].token();
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(Complete(forged, "{}").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Complete(tasks[0].token(), "not json").code(),
            absl::StatusCode::kInvalidArgument);
  auto history = History(sub->case_id);
  ASSERT_TRUE(history.ok());
  int succeeded = 0;
  for (const auto& e : *history) {
    if (e.type() == "TaskSucceeded" && e.task_id() == tasks[0].task_id()) {
      ++succeeded;
    }
  }
  EXPECT_EQ(succeeded, 1);
}

TEST_F(EngineTest, ExpiredLeaseReoffersWithANewTokenAndTheOldIsStale) {
  Deploy("licence", kThreeDepts);
  auto sub = Submit("licence", "{}");
  ASSERT_TRUE(sub.ok());
  auto first = engine_->dispatcher().Activate("DSF", 1, 1'000, "slow");
  for (int i = 0; i < 200 && first.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    first = engine_->dispatcher().Activate("DSF", 1, 1'000, "slow");
  }
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].attempt(), 1);
  clock_.Advance(2'000);
  auto second = Take("DSF", 1);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt(), 2);
  EXPECT_EQ(second[0].task_id(), first[0].task_id());
  EXPECT_NE(second[0].token(), first[0].token());
  absl::Status stale = Complete(first[0].token(), "{}");
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition) << stale;
  EXPECT_NE(stale.message().find("stale"), absl::string_view::npos) << stale;
  EXPECT_TRUE(Complete(second[0].token(), "{}").ok());
}

TEST_F(EngineTest, OpenCasesResumeAfterReopenAndTheirTasksAreOfferedAgain) {
  Deploy("licence", kThreeDepts);
  auto sub = Submit("licence", R"({"n": 1})");
  ASSERT_TRUE(sub.ok());
  auto dsf = Take("DSF", 1);
  ASSERT_EQ(dsf.size(), 1u);
  ASSERT_TRUE(Complete(dsf[0].token(), R"({"tax": "clear"})").ok());
  auto cb = Take("CB", 1);  // leased, then the engine goes away
  ASSERT_EQ(cb.size(), 1u);
  Reopen();
  EXPECT_EQ(engine_->stats().open_cases_at_start, 1);
  auto cb2 = Take("CB", 1);
  ASSERT_EQ(cb2.size(), 1u);
  EXPECT_EQ(cb2[0].task_id(), cb[0].task_id());
  EXPECT_TRUE(Take("DSF", 1).empty()) << "a completed task is not offered";
  ASSERT_TRUE(Complete(cb2[0].token(), "{}").ok());
  auto iacm = Take("IACM", 1);
  ASSERT_EQ(iacm.size(), 1u);
  ASSERT_TRUE(Complete(iacm[0].token(), "{}").ok());
  auto c = WaitForStatus(sub->case_id, onewindow::v1::CASE_STATUS_SUCCEEDED);
  ASSERT_EQ(c.status(), onewindow::v1::CASE_STATUS_SUCCEEDED);
  EXPECT_EQ(json::parse(c.output_json())["opinions"][0]["tax"], "clear");
}

TEST_F(EngineTest, CancelWithdrawsTasksAndEndsTheCase) {
  Deploy("licence", kThreeDepts);
  auto sub = Submit("licence", "{}");
  ASSERT_TRUE(sub.ok());
  auto dsf = Take("DSF", 1);
  ASSERT_EQ(dsf.size(), 1u);
  auto cancelled = Cancel(sub->case_id, "applicant withdrew");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->status(), onewindow::v1::CASE_STATUS_CANCELLED);
  EXPECT_EQ(Complete(dsf[0].token(), "{}").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(engine_->dispatcher().ReadyCount("CB"), 0u);
  auto again = Cancel(sub->case_id, "twice");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(EngineTest, DeployIsVersionedAndUnchangedIsNotReversioned) {
  Deploy("licence", kThreeDepts);
  auto same = engine_->registry().Deploy("licence", kThreeDepts,
                                         asl::SourceFormat::kAuto, "", 0);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->version, 1);
  EXPECT_FALSE(same->created);
  auto sub = Submit("licence", "{}");
  ASSERT_TRUE(sub.ok());
  std::string v2 = kThreeDepts;
  v2.replace(v2.find("\"Done\": {\"Type\": \"Succeed\"}"),
             std::string("\"Done\": {\"Type\": \"Succeed\"}").size(),
             "\"Done\": {\"Type\": \"Pass\", \"Result\": 2, \"End\": true}");
  auto next = engine_->registry().Deploy("licence", v2,
                                         asl::SourceFormat::kAuto, "", 0);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->version, 2);
  auto c = Get(sub->case_id);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->version(), 1) << "a running case keeps its version";
  auto bad = engine_->registry().Deploy("licence", R"({"StartAt": "X"})",
                                        asl::SourceFormat::kAuto, "", 0);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("$"), absl::string_view::npos);
}

}  // namespace
}  // namespace onewindow::scheduler

namespace onewindow::scheduler {
namespace {

constexpr char kDeadlines[] = R"({
  "StartAt": "Inspect",
  "States": {
    "Inspect": {
      "Type": "Task", "Resource": "dept:CB/inspection",
      "TimeoutSeconds": 10, "HeartbeatSeconds": 4,
      "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.late",
                 "Next": "Late"}],
      "Next": "Cool"
    },
    "Cool": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
    "Late": {"Type": "Pass", "Result": "late", "ResultPath": "$.decision",
             "End": true},
    "Done": {"Type": "Succeed"}
  }
})";

TEST_F(EngineTest, TaskTimeoutIsCaughtAndWithdrawsTheTask) {
  Deploy("deadlines", kDeadlines);
  auto sub = Submit("deadlines", "{}");
  ASSERT_TRUE(sub.ok());
  auto t = Take("CB", 1);
  ASSERT_EQ(t.size(), 1u);
  // Heartbeats keep HeartbeatSeconds from firing, not TimeoutSeconds.
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(3'000);
    auto hb = Wait<int64_t>([&](Engine::Done<int64_t> d) {
      engine_->Heartbeat(t[0].token(), 0, "", Actor{"dept-1", "department"}, d);
    });
    ASSERT_TRUE(hb.ok()) << hb.status();
  }
  clock_.Advance(2'000);  // 11 s after dispatch
  auto c = WaitForStatus(sub->case_id, onewindow::v1::CASE_STATUS_SUCCEEDED);
  ASSERT_EQ(c.status(), onewindow::v1::CASE_STATUS_SUCCEEDED);
  json out = json::parse(c.output_json());
  EXPECT_EQ(out["decision"], "late");
  EXPECT_EQ(out["late"]["Error"], "States.Timeout");
  EXPECT_EQ(Complete(t[0].token(), "{}").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(EngineTest, MissedHeartbeatFailsTheCaseWithHeartbeatTimeout) {
  Deploy("deadlines", kDeadlines);
  auto sub = Submit("deadlines", "{}");
  ASSERT_TRUE(sub.ok());
  ASSERT_EQ(Take("CB", 1).size(), 1u);
  clock_.Advance(5'000);
  auto c = WaitForStatus(sub->case_id, onewindow::v1::CASE_STATUS_FAILED);
  ASSERT_EQ(c.status(), onewindow::v1::CASE_STATUS_FAILED);
  EXPECT_EQ(c.error(), "States.HeartbeatTimeout");
}

TEST_F(EngineTest, WaitTimerIsDurableAndFiresAtOnceWhenOverdueAtRestart) {
  Deploy("deadlines", kDeadlines);
  auto sub = Submit("deadlines", "{}");
  ASSERT_TRUE(sub.ok());
  auto t = Take("CB", 1);
  ASSERT_EQ(t.size(), 1u);
  ASSERT_TRUE(Complete(t[0].token(), "{}").ok());
  // Now waiting 60 s. Stop the engine, let the time pass, start again.
  Reopen();
  EXPECT_EQ(Get(sub->case_id)->status(), onewindow::v1::CASE_STATUS_RUNNING);
  engine_.reset();
  clock_.Advance(61'000);
  Open();
  auto c = WaitForStatus(sub->case_id, onewindow::v1::CASE_STATUS_SUCCEEDED);
  EXPECT_EQ(c.status(), onewindow::v1::CASE_STATUS_SUCCEEDED);
}

TEST_F(EngineTest, LoweredDefinitionBoundsRefuseNewDeploysButLoadStoredOnes) {
  Deploy("licence", kThreeDepts);  // under the default bounds
  engine_.reset();
  EngineOptions o;
  o.data_dir = dir_.string();
  o.clock = &clock_;
  o.sync = false;
  o.asl_limits.max_states = 2;
  o.asl_limits.max_json_depth = 8;
  auto e = Engine::Open(std::move(o));
  ASSERT_TRUE(e.ok()) << e.status();  // the stored version still loads
  engine_ = std::move(*e);
  auto sub = Submit("licence", "{}");
  EXPECT_TRUE(sub.ok()) << sub.status();
  // A new version above the lowered bound is refused, naming it.
  std::string v2 = kThreeDepts;
  v2.replace(v2.find("\"Done\": {\"Type\": \"Succeed\"}"),
             std::string("\"Done\": {\"Type\": \"Succeed\"}").size(),
             "\"Done\": {\"Type\": \"Pass\", \"Result\": 2, \"End\": true}");
  auto next = engine_->registry().Deploy("licence", v2,
                                         asl::SourceFormat::kAuto, "", 0);
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(next.status().message().find("2"), absl::string_view::npos)
      << next.status();
  // Case data deeper than the lowered depth is refused, naming it.
  auto deep = Submit("licence", R"({"a": [[[[[[[[[[1]]]]]]]]]]})");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(deep.status().message().find("limit of 8"), absl::string_view::npos)
      << deep.status();
}

TEST_F(EngineTest, SubmitAnswersResourceExhaustedAtTheOpenCaseLimit) {
  engine_.reset();
  EngineOptions o;
  o.data_dir = dir_.string();
  o.clock = &clock_;
  o.sync = false;
  o.max_open_cases = 2;  // one per shard
  auto e = Engine::Open(std::move(o));
  ASSERT_TRUE(e.ok());
  engine_ = std::move(*e);
  Deploy("licence", kThreeDepts);
  int ok = 0, refused = 0;
  for (int i = 0; i < 6; ++i) {
    auto r = Submit("licence", "{}", "r" + std::to_string(i));
    if (r.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
      EXPECT_NE(r.status().message().find("open cases"),
                absl::string_view::npos);
      ++refused;
    }
  }
  EXPECT_LE(ok, 2);
  EXPECT_GE(refused, 4);
  // A retry of an accepted request id is still answered.
  for (int i = 0; i < 6; ++i) {
    auto r = Submit("licence", "{}", "r" + std::to_string(i));
    if (r.ok()) EXPECT_TRUE(r->deduplicated);
  }
}

}  // namespace
}  // namespace onewindow::scheduler
