// The HTTP bridge against real processes on 127.0.0.1: onewindowd with a
// workflow that retries Dept.Unavailable and catches Dept.Rejected and
// Dept.Unavailable, ow-adapter-http, and ow-test-department (scripted by each
// case's input). Sync answers, 202 + callback seconds later with the lease
// and HeartbeatSeconds kept by heartbeats, 4xx to the Catch route, 5xx and
// timeouts retried to success, bad bodies; the department, the bridge and
// the engine each killed (SIGKILL) and restarted mid-run. Every case must
// end once with the right answer. Every wait is bounded.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/harness.h"

namespace onewindow::testing {
namespace {

using nlohmann::json;
namespace v1 = onewindow::v1;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kSecret[] = "dept-secret-7f3a";

// The workflow; {HEARTBEAT} is replaced per variant.
constexpr char kWorkflow[] = R"(StartAt: Call
States:
  Call:
    Type: Task
    Resource: dept:HTTPD/check
    TimeoutSeconds: 60
{HEARTBEAT}    Retry:
      - ErrorEquals: [Dept.Unavailable]
        IntervalSeconds: 1
        MaxAttempts: 4
        BackoffRate: 1
    Catch:
      - ErrorEquals: [Dept.Rejected]
        ResultPath: $.error
        Next: Rejected
      - ErrorEquals: [Dept.Unavailable]
        ResultPath: $.error
        Next: Unavailable
    End: true
  Rejected:
    Type: Pass
    Parameters:
      outcome: rejected
      cause.$: $.error.Cause
    End: true
  Unavailable:
    Type: Pass
    Parameters:
      outcome: unavailable
      cause.$: $.error.Cause
    End: true
)";

std::string Workflow(bool heartbeat) {
  std::string w = kWorkflow;
  const std::string hb = heartbeat ? "    HeartbeatSeconds: 2\n" : "";
  w.replace(w.find("{HEARTBEAT}"), 11, hb);
  return w;
}

std::string Tail(const std::string& path, size_t n = 4000) {
  const std::string s = ReadFile(path);
  return s.size() > n ? s.substr(s.size() - n) : s;
}

class BridgeE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("DEPT_SECRET", kSecret, 1);
    server_log_ = (dir_.path() / "onewindowd.log").string();
    bridge_log_ = (dir_.path() / "bridge.log").string();
    dept_log_ = (dir_.path() / "department.log").string();
    server_ = std::make_unique<Server>(dir_.path() / "data", server_log_);
    ASSERT_TRUE(server_->Start()) << Tail(server_log_);
    Deploy("bridge", Workflow(false));
    Deploy("bridge-hb", Workflow(true));

    dept_port_ = FreePort();
    callback_port_ = FreePort();
    config_ = (dir_.path() / "bridge.yaml").string();
    std::ofstream(config_) << "tasks:\n"
                              "  check:\n"
                              "    url: http://127.0.0.1:"
                           << dept_port_
                           << "/check\n"
                              "    timeout_ms: 1000\n"
                              "    headers:\n"
                              "      Authorization: Bearer ${DEPT_SECRET}\n";
    StartDepartment();
    StartBridge();
  }

  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "---- bridge log (tail) ----\n"
                << Tail(bridge_log_) << "\n---- department log (tail) ----\n"
                << Tail(dept_log_) << "\n---- server log (tail) ----\n"
                << Tail(server_log_, 2000) << "\n";
    }
    bridge_.reset();
    dept_.reset();
  }

  void Deploy(const std::string& name, const std::string& definition) {
    v1::DeployWorkflowRequest req;
    req.set_name(name);
    req.set_definition(definition);
    v1::DeployWorkflowResponse resp;
    grpc::Status s =
        server_->workflows().DeployWorkflow(Ctx().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void StartDepartment() {
    dept_ = std::make_unique<Process>(
        std::vector<std::string>{DEPARTMENT_PATH, "--listen",
                                 "127.0.0.1:" + std::to_string(dept_port_),
                                 "--secret", kSecret},
        dept_log_);
    ASSERT_TRUE(WaitFor([&] { return PortOpen(dept_port_); }, seconds(10)))
        << Tail(dept_log_);
  }

  void StartBridge() {
    bridge_ = std::make_unique<Process>(
        std::vector<std::string>{
            BRIDGE_PATH, "--addr", server_->addr(), "--department", "HTTPD",
            "--config", config_, "--callback-listen",
            "127.0.0.1:" + std::to_string(callback_port_), "--concurrency", "8",
            "--lease-ms", "2000", "--log-level", "debug", "--summary-ms",
            "1000"},
        bridge_log_);
    ASSERT_TRUE(WaitFor([&] { return PortOpen(callback_port_); }, seconds(10)))
        << Tail(bridge_log_);
  }

  std::string Submit(const std::string& service, const json& input) {
    v1::SubmitCaseRequest req;
    req.set_service(service);
    req.set_input_json(input.dump());
    req.set_request_id("r-" + std::to_string(++submitted_));
    v1::SubmitCaseResponse resp;
    grpc::Status s = server_->cases().SubmitCase(Ctx().get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.case_id();
  }

  v1::Case GetCase(const std::string& id) {
    v1::GetCaseRequest req;
    req.set_case_id(id);
    v1::GetCaseResponse resp;
    server_->cases().GetCase(Ctx().get(), req, &resp);
    return resp.case_();
  }

  // Waits until every case ended; false after `limit`.
  bool WaitForAll(const std::vector<std::string>& ids, seconds limit) {
    return WaitFor(
        [&] {
          for (const auto& id : ids) {
            if (GetCase(id).status() == v1::CASE_STATUS_RUNNING) return false;
          }
          return true;
        },
        limit);
  }

  // The output of a case that must have succeeded.
  json Output(const std::string& id) {
    const v1::Case c = GetCase(id);
    EXPECT_EQ(c.status(), v1::CASE_STATUS_SUCCEEDED)
        << id << ": " << c.error() << ": " << c.cause();
    return json::parse(c.output_json().empty() ? "null" : c.output_json());
  }

  // The case's task completed exactly once, and the history is numbered.
  void ExpectAnsweredOnce(const std::string& id) {
    v1::GetCaseHistoryRequest req;
    req.set_case_id(id);
    v1::GetCaseHistoryResponse resp;
    ASSERT_TRUE(server_->cases().GetCaseHistory(Ctx().get(), req, &resp).ok());
    std::map<std::string, int> succeeded;
    int64_t seq = 0;
    int ended = 0;
    for (const auto& e : resp.events()) {
      EXPECT_EQ(e.seq(), ++seq) << id;
      if (e.type() == "TaskSucceeded") ++succeeded[e.task_id()];
      if (e.type().rfind("Execution", 0) == 0 &&
          e.type() != "ExecutionStarted") {
        ++ended;
      }
    }
    EXPECT_EQ(succeeded.size(), 1u) << id;
    for (const auto& [task, n] : succeeded) {
      EXPECT_EQ(n, 1) << id << " task " << task << " completed " << n
                      << " times";
    }
    EXPECT_EQ(ended, 1) << id << " ended " << ended << " times";
  }

  json DepartmentStats() {
    httplib::Client cli("127.0.0.1", dept_port_);
    cli.set_read_timeout(seconds(5));
    auto res = cli.Get("/stats");
    if (!res || res->status != 200) return json::object();
    return json::parse(res->body, nullptr, false);
  }
  int PostsFor(const json& stats, const std::string& case_id) {
    return stats["cases"].value(case_id, 0);
  }

  TempDir dir_;
  std::string server_log_, bridge_log_, dept_log_, config_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<Process> dept_;
  std::unique_ptr<Process> bridge_;
  int dept_port_ = 0;
  int callback_port_ = 0;
  int submitted_ = 0;
};

TEST_F(BridgeE2eTest, EveryKindOfAnswerTakesItsRoute) {
  std::map<std::string, std::string> ids;
  for (int n = 1; n <= 3; ++n) {
    ids["sync" + std::to_string(n)] =
        Submit("bridge", {{"mode", "sync"}, {"n", n}});
  }
  // Answered 3.5 s later: longer than the 2 s lease and HeartbeatSeconds.
  ids["async1"] =
      Submit("bridge-hb", {{"mode", "async"}, {"n", 10}, {"delay_ms", 3500}});
  ids["async2"] =
      Submit("bridge-hb", {{"mode", "async"}, {"n", 11}, {"delay_ms", 3500}});
  ids["async-fail"] =
      Submit("bridge", {{"mode", "async-fail"}, {"n", 12}, {"delay_ms", 500}});
  ids["reject"] = Submit("bridge", {{"mode", "reject"}, {"n", 20}});
  ids["flaky"] =
      Submit("bridge", {{"mode", "flaky"}, {"n", 30}, {"failures", 2}});
  ids["slow"] = Submit(
      "bridge",
      {{"mode", "slow"}, {"n", 40}, {"failures", 1}, {"sleep_ms", 1500}});
  ids["nonjson"] = Submit("bridge", {{"mode", "nonjson"}, {"n", 50}});
  ids["huge"] = Submit("bridge", {{"mode", "huge"}, {"n", 60}});
  std::vector<std::string> all;
  for (const auto& [k, id] : ids) all.push_back(id);
  ASSERT_TRUE(WaitForAll(all, seconds(30)));

  for (int n = 1; n <= 3; ++n) {
    const json out = Output(ids["sync" + std::to_string(n)]);
    EXPECT_EQ(out, json({{"approved", true}, {"n", n}, {"mode", "sync"}}));
  }
  EXPECT_EQ(Output(ids["async1"]),
            json({{"approved", true}, {"n", 10}, {"via", "callback"}}));
  EXPECT_EQ(Output(ids["async2"]),
            json({{"approved", true}, {"n", 11}, {"via", "callback"}}));
  EXPECT_EQ(Output(ids["async-fail"]),
            json({{"outcome", "rejected"}, {"cause", "premises too small"}}));
  json out = Output(ids["reject"]);
  EXPECT_EQ(out["outcome"], "rejected");
  EXPECT_EQ(out["cause"], R"(HTTP 422: {"reason": "missing document"})");
  EXPECT_EQ(Output(ids["flaky"])["n"], 30);
  EXPECT_EQ(Output(ids["slow"])["n"], 40);
  out = Output(ids["nonjson"]);
  EXPECT_EQ(out["outcome"], "unavailable");
  EXPECT_NE(out["cause"].get<std::string>().find("not JSON: this is not JSON"),
            std::string::npos)
      << out;
  out = Output(ids["huge"]);
  EXPECT_EQ(out["outcome"], "unavailable");
  EXPECT_NE(out["cause"].get<std::string>().find("over the limit"),
            std::string::npos)
      << out;

  const json stats = DepartmentStats();
  // Parked tasks were asked once: heartbeats kept their leases.
  EXPECT_EQ(PostsFor(stats, ids["async1"]), 1);
  EXPECT_EQ(PostsFor(stats, ids["async2"]), 1);
  EXPECT_EQ(PostsFor(stats, ids["flaky"]), 3);    // 2 x 503, then 200
  EXPECT_EQ(PostsFor(stats, ids["slow"]), 2);     // a timeout, then 200
  EXPECT_EQ(PostsFor(stats, ids["nonjson"]), 5);  // 1 + 4 retries
  for (const auto& [token, status] : stats["callbacks"].items()) {
    EXPECT_EQ(status, 200) << token;
  }
  EXPECT_EQ(stats["callbacks"].size(), 3u);
  for (const auto& [k, id] : ids) {
    if (k != "reject" && k != "nonjson" && k != "huge" && k != "async-fail") {
      ExpectAnsweredOnce(id);
    }
  }

  // The callback endpoint takes only tokens the bridge holds.
  httplib::Client cli("127.0.0.1", callback_port_);
  auto res = cli.Post("/tasks/" + ids["sync1"] + "%2Ft1%2F1%2Fabc/complete",
                      "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(BridgeE2eTest, DepartmentKilledAndRestarted) {
  std::vector<std::string> ids;
  for (int n = 1; n <= 2; ++n) {
    ids.push_back(
        Submit("bridge", {{"mode", "sleep"}, {"n", n}, {"sleep_ms", 700}}));
  }
  ASSERT_TRUE(WaitFor([&] { return DepartmentStats()["tokens"].size() >= 2; },
                      seconds(10)));
  dept_->Kill();  // two requests in flight
  for (int n = 3; n <= 6; ++n) {
    ids.push_back(Submit("bridge", {{"mode", "sync"}, {"n", n}}));
  }
  // Down long enough for the new cases' first attempts to be refused.
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadFile(bridge_log_).find("cannot connect") !=
               std::string::npos;
      },
      seconds(10)));
  std::this_thread::sleep_for(milliseconds(800));
  StartDepartment();
  ASSERT_TRUE(WaitForAll(ids, seconds(30)));
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(Output(ids[i])["n"], static_cast<int>(i) + 1) << ids[i];
    ExpectAnsweredOnce(ids[i]);
  }
}

TEST_F(BridgeE2eTest, BridgeKilledAndRestarted) {
  std::vector<std::string> ids;
  for (int n = 1; n <= 3; ++n) {
    ids.push_back(
        Submit("bridge", {{"mode", "sleep"}, {"n", n}, {"sleep_ms", 800}}));
  }
  for (int n = 4; n <= 5; ++n) {
    ids.push_back(
        Submit("bridge", {{"mode", "async"}, {"n", n}, {"delay_ms", 2500}}));
  }
  // Every task is with the department (three in flight, two parked).
  ASSERT_TRUE(WaitFor([&] { return DepartmentStats()["tokens"].size() >= 5; },
                      seconds(10)));
  bridge_->Kill();
  std::this_thread::sleep_for(milliseconds(1000));
  StartBridge();
  ASSERT_TRUE(WaitForAll(ids, seconds(30)));
  for (size_t i = 0; i < ids.size(); ++i) {
    const json out = Output(ids[i]);
    EXPECT_EQ(out["n"], static_cast<int>(i) + 1) << ids[i];
    if (i >= 3) {
      EXPECT_EQ(out["via"], "callback");
    }
    ExpectAnsweredOnce(ids[i]);
  }
  const json stats = DepartmentStats();
  for (const auto& [token, status] : stats["callbacks"].items()) {
    EXPECT_EQ(status, 200) << token;
  }
}

TEST_F(BridgeE2eTest, EngineKilledAndRestarted) {
  std::vector<std::string> ids;
  for (int n = 1; n <= 2; ++n) {
    ids.push_back(
        Submit("bridge", {{"mode", "sleep"}, {"n", n}, {"sleep_ms", 800}}));
  }
  for (int n = 3; n <= 4; ++n) {
    ids.push_back(
        Submit("bridge", {{"mode", "async"}, {"n", n}, {"delay_ms", 2500}}));
  }
  ASSERT_TRUE(WaitFor([&] { return DepartmentStats()["tokens"].size() >= 4; },
                      seconds(10)));
  server_->Kill();  // answers of the requests in flight come back meanwhile
  std::this_thread::sleep_for(milliseconds(1200));
  ASSERT_TRUE(server_->Start()) << Tail(server_log_);
  ASSERT_TRUE(WaitForAll(ids, seconds(30)));
  const json stats = DepartmentStats();
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(Output(ids[i])["n"], static_cast<int>(i) + 1) << ids[i];
    ExpectAnsweredOnce(ids[i]);
    // The engine offered the same tokens again; the bridge, still holding
    // them or their answers, did not ask the department twice.
    EXPECT_EQ(PostsFor(stats, ids[i]), 1) << ids[i];
  }
  for (const auto& [token, status] : stats["callbacks"].items()) {
    EXPECT_EQ(status, 200) << token;
  }
}

TEST_F(BridgeE2eTest, BadConfigurationRefusesToStart) {
  const std::string bad = (dir_.path() / "bad.yaml").string();
  std::ofstream(bad) << "tasks:\n  check:\n    url: http://127.0.0.1:1/x\n"
                        "    retries: 3\n";
  const std::string log = (dir_.path() / "bad.log").string();
  Process p({BRIDGE_PATH, "--addr", server_->addr(), "--department", "HTTPD",
             "--config", bad},
            log);
  EXPECT_EQ(p.Wait(seconds(10)), 2);
  EXPECT_NE(ReadFile(log).find(bad + ":4: tasks.check: unknown key 'retries'"),
            std::string::npos)
      << ReadFile(log);

  std::ofstream(bad) << "tasks:\n  check:\n    url: http://h/\n"
                        "    headers: {X-Key: \"${OW_TEST_UNSET_SECRET}\"}\n";
  Process q({BRIDGE_PATH, "--department", "HTTPD", "--config", bad}, log);
  EXPECT_EQ(q.Wait(seconds(10)), 2);
  EXPECT_NE(ReadFile(log).find(":4: tasks.check.headers.X-Key: "
                               "${OW_TEST_UNSET_SECRET} is not set"),
            std::string::npos)
      << ReadFile(log);
}

}  // namespace
}  // namespace onewindow::testing
