// Hostile requests over raw gRPC against a real onewindowd on 127.0.0.1,
// skipping every check a well-behaved client makes: each gets the most
// specific status with a message naming the problem, and the server keeps
// serving everyone else. (The engine's own tests cover the same doors
// in-process; here a crash would be a dead process, not a failed assert.)
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "onewindow/v1/adapters.grpc.pb.h"
#include "onewindow/v1/cases.grpc.pb.h"
#include "onewindow/v1/workflows.grpc.pb.h"
#include "tests/harness.h"

namespace onewindow::testing {
namespace {

using nlohmann::json;
namespace v1 = onewindow::v1;

constexpr char kOneTask[] = R"({"StartAt": "T", "States": {
  "T": {"Type": "Task", "Resource": "dept:DSF/check", "End": true}}})";

std::string Deep(int n) {
  return std::string(static_cast<size_t>(n), '[') +
         std::string(static_cast<size_t>(n), ']');
}

class HostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = (dir_.path() / "server.log").string();
    server_ = std::make_unique<Server>(dir_.path() / "data", log_);
    ASSERT_TRUE(server_->Start()) << ReadFile(log_);
    ASSERT_TRUE(Deploy("one", kOneTask).ok());
  }
  void TearDown() override {
    // Whatever came before, the server still takes and runs a case.
    v1::SubmitCaseResponse sub;
    grpc::Status s = Submit("one", R"({"after": true})", &sub);
    EXPECT_TRUE(s.ok()) << "server no longer serving: " << s.error_message();
    if (HasFailure()) {
      const std::string log = ReadFile(log_);
      std::cerr << "---- server log (tail) ----\n"
                << (log.size() > 6000 ? log.substr(log.size() - 6000) : log)
                << "\n";
    }
  }

  grpc::Status Deploy(const std::string& name, const std::string& definition,
                      v1::DeployWorkflowResponse* resp = nullptr) {
    v1::DeployWorkflowRequest req;
    req.set_name(name);
    req.set_definition(definition);
    v1::DeployWorkflowResponse ignored;
    return server_->workflows().DeployWorkflow(Ctx(20000).get(), req,
                                               resp ? resp : &ignored);
  }
  grpc::Status Validate(const std::string& definition,
                        v1::ValidateWorkflowResponse* resp) {
    v1::ValidateWorkflowRequest req;
    req.set_definition(definition);
    return server_->workflows().ValidateWorkflow(Ctx(20000).get(), req, resp);
  }
  grpc::Status Submit(const std::string& service, const std::string& input,
                      v1::SubmitCaseResponse* resp,
                      const std::string& request_id = "") {
    v1::SubmitCaseRequest req;
    req.set_service(service);
    req.set_input_json(input);
    req.set_request_id(request_id);
    return server_->cases().SubmitCase(Ctx(20000).get(), req, resp);
  }
  v1::Task TakeOne(const std::string& dept) {
    v1::Task got;
    WaitFor(
        [&] {
          v1::ActivateTasksRequest req;
          req.set_department(dept);
          req.set_max_tasks(1);
          req.set_lease_ms(60000);
          v1::ActivateTasksResponse resp;
          if (server_->adapters().ActivateTasks(Ctx().get(), req, &resp).ok() &&
              resp.tasks_size() > 0) {
            got = resp.tasks(0);
            return true;
          }
          return false;
        },
        std::chrono::seconds(10));
    return got;
  }
  grpc::Status Complete(const std::string& token, const std::string& result) {
    v1::CompleteTaskRequest req;
    req.set_token(token);
    req.set_result_json(result);
    v1::CompleteTaskResponse resp;
    return server_->adapters().CompleteTask(Ctx().get(), req, &resp);
  }
  // Another case on the same engine is taken, worked and ends SUCCEEDED.
  void ExpectAnotherCaseRunsToTheEnd() {
    v1::SubmitCaseResponse other;
    ASSERT_TRUE(Submit("one", "{}", &other).ok());
    v1::Task t = TakeOne("DSF");
    ASSERT_FALSE(t.token().empty());
    ASSERT_TRUE(Complete(t.token(), "{}").ok());
    EXPECT_EQ(WaitEnd(other.case_id()).status(), v1::CASE_STATUS_SUCCEEDED);
  }
  v1::Case WaitEnd(const std::string& id) {
    v1::Case c;
    WaitFor(
        [&] {
          v1::GetCaseRequest req;
          req.set_case_id(id);
          v1::GetCaseResponse resp;
          if (!server_->cases().GetCase(Ctx().get(), req, &resp).ok()) {
            return false;
          }
          c = resp.case_();
          return c.status() != v1::CASE_STATUS_RUNNING;
        },
        std::chrono::seconds(30));
    return c;
  }

  TempDir dir_;
  std::string log_;
  std::unique_ptr<Server> server_;
};

TEST_F(HostileTest, DeepCaseInputIsRefusedNamingTheLimit) {
  v1::SubmitCaseResponse sub;
  grpc::Status s = Submit("one", Deep(100'000), &sub);  // 200 KB, under the cap
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("limit of 128"), std::string::npos)
      << s.error_message();
}

TEST_F(HostileTest, DeepTaskResultIsRefusedAndTheTaskStaysOpen) {
  v1::SubmitCaseResponse sub;
  ASSERT_TRUE(Submit("one", "{}", &sub).ok());
  v1::Task t = TakeOne("DSF");
  ASSERT_FALSE(t.token().empty());
  grpc::Status s = Complete(t.token(), Deep(100'000));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("limit of 128"), std::string::npos)
      << s.error_message();
  ASSERT_TRUE(Complete(t.token(), R"({"ok": true})").ok());
  EXPECT_EQ(WaitEnd(sub.case_id()).status(), v1::CASE_STATUS_SUCCEEDED);
}

TEST_F(HostileTest, NonFiniteNulAndTrailingBytesAreRefused) {
  v1::SubmitCaseResponse sub;
  for (const std::string& bad :
       {std::string(R"({"a":1e999})"), std::string("{\"a\":1}\0{\"b\":2}", 15),
        std::string(R"({"a":1} {"b":2})")}) {
    grpc::Status s = Submit("one", bad, &sub);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_FALSE(s.error_message().empty()) << bad;
  }
}

TEST_F(HostileTest, DeeplyNestedPathsInADefinitionAreRefused) {
  const std::string parens = "$[?(" + std::string(10'000, '(') + "@.a" +
                             std::string(10'000, ')') + ")]";
  const std::string nots = "$[?(" + std::string(20'000, '!') + "@.a)]";
  for (const std::string& path : {parens, nots}) {
    const std::string def =
        json{{"StartAt", "P"},
             {"States",
              {{"P", {{"Type", "Pass"}, {"InputPath", path}, {"End", true}}}}}}
            .dump();
    v1::ValidateWorkflowResponse v;
    grpc::Status s = Validate(def, &v);
    // Either refused outright or answered as invalid, naming the limit.
    if (s.ok()) {
      ASSERT_FALSE(v.valid());
      ASSERT_GT(v.errors_size(), 0);
      EXPECT_NE(v.errors(0).path().find("InputPath"), std::string::npos)
          << v.errors(0).message();
    } else {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    }
    s = Deploy("deep-path", def);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << s.error_code() << " " << s.error_message();
    EXPECT_NE(s.error_message().find("limit"), std::string::npos)
        << s.error_message();
    // The message quotes the path, cut to a size any client accepts in a
    // header (a 20 KB message made the client refuse the next call too).
    EXPECT_LE(s.error_message().size(), 4096u);
    EXPECT_NE(s.error_message().find("InputPath"), std::string::npos)
        << s.error_message();
    v1::SubmitCaseResponse sub;
    s = Submit("one", R"({"next": true})", &sub);
    EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  }
}

TEST_F(HostileTest, YamlAliasBombIsRefusedQuickly) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  bomb += "StartAt: P\nStates: {P: {Type: Pass, End: true}}\n";
  // Deploy's 20 s deadline turns a stall into DEADLINE_EXCEEDED, which the
  // code check below refuses: the expansion must be bounded, not slow.
  grpc::Status s = Deploy("bomb", bomb);
  EXPECT_TRUE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
              s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
      << s.error_code() << " " << s.error_message();
  EXPECT_NE(s.error_message().find("alias"), std::string::npos)
      << s.error_message();
}

// Each of these passed the validator once and then threw while the
// definition was compiled, which ended the server on the deploy call.
TEST_F(HostileTest, StatesMissingRequiredFieldsAreRefusedInEitherLanguage) {
  const char* definitions[] = {
      R"({"StartAt": "S", "States": {"S": {"QueryLanguage": "JSONata",
          "Type": "Task", "Output": "{% 1 %}", "End": true}}})",
      R"({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {
          "Type": "Task", "End": true}}})",
      R"({"StartAt": "S", "States": {"S": {"Type": "Task", "End": true}}})",
  };
  for (const char* def : definitions) {
    grpc::Status s = Deploy("no-resource", def);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << s.error_code() << " " << s.error_message();
    EXPECT_NE(s.error_message().find("\"Resource\""), std::string::npos)
        << s.error_message();
  }
}

TEST_F(HostileTest, HugeWaitFailsTheCaseInsteadOfSucceedingAtOnce) {
  ASSERT_TRUE(Deploy("wait", R"({"StartAt": "W", "States": {
    "W": {"Type": "Wait", "SecondsPath": "$.s", "End": true}}})")
                  .ok());
  v1::SubmitCaseResponse sub;
  ASSERT_TRUE(Submit("wait", R"({"s": 9223372036854775807})", &sub).ok());
  v1::Case c = WaitEnd(sub.case_id());
  EXPECT_EQ(c.status(), v1::CASE_STATUS_FAILED);
  EXPECT_EQ(c.error(), "States.Runtime");
}

TEST_F(HostileTest, HugeMapFailsWithACatchableErrorAndOthersMoveOn) {
  ASSERT_TRUE(Deploy("wide", R"json({"StartAt": "Make", "States": {
    "Make": {"Type": "Pass",
             "Parameters": {"items.$": "States.ArrayRange(1, 100000, 1)"},
             "Next": "Each"},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "End": true,
      "ItemProcessor": {"StartAt": "Do", "States": {
        "Do": {"Type": "Task", "Resource": "dept:MAP/do", "End": true}}}}}})json")
                  .ok());
  v1::SubmitCaseResponse wide;
  ASSERT_TRUE(Submit("wide", "{}", &wide).ok());
  v1::Case c = WaitEnd(wide.case_id());
  EXPECT_EQ(c.status(), v1::CASE_STATUS_FAILED);
  EXPECT_TRUE(c.error() == "States.LimitExceeded" ||
              c.error() == "States.Runtime" ||
              c.error() == "States.IntrinsicFailure")
      << c.error() << ": " << c.cause();
  EXPECT_FALSE(c.cause().empty());
  ExpectAnotherCaseRunsToTheEnd();
}

TEST_F(HostileTest, EndlessChoiceLoopStopsAtTheHistoryLimit) {
  // Two Choice states sending the case round forever without waiting: the
  // history bound (and the states-per-call bound) end it on the shard
  // thread, and the case fails with a cause naming the setting.
  ASSERT_TRUE(Deploy("spin", R"({"StartAt": "A", "States": {
    "A": {"Type": "Choice", "Default": "E", "Choices": [
      {"Variable": "$.go", "BooleanEquals": true, "Next": "B"}]},
    "B": {"Type": "Choice", "Default": "E", "Choices": [
      {"Variable": "$.go", "BooleanEquals": true, "Next": "A"}]},
    "E": {"Type": "Succeed"}}})")
                  .ok());
  v1::SubmitCaseResponse sub;
  ASSERT_TRUE(Submit("spin", R"({"go": true})", &sub).ok());
  v1::Case c = WaitEnd(sub.case_id());
  EXPECT_EQ(c.status(), v1::CASE_STATUS_FAILED);
  EXPECT_EQ(c.error(), "States.Runtime");
  EXPECT_NE(c.cause().find("max_history_events (100000)"), std::string::npos)
      << c.cause();
  EXPECT_LE(c.history_seq(), 100005);
  ExpectAnotherCaseRunsToTheEnd();
}

TEST_F(HostileTest, ConfiguredLimitsApplyAndAreNamed) {
  // A second engine with every configurable bound lowered: each refusal
  // names the configured value, not the default.
  TempDir dir;
  const std::string log = (dir.path() / "server.log").string();
  Server tight(dir.path() / "data", log,
               {"--max-json-depth", "16", "--max-definition-states", "3",
                "--max-history-events", "1000", "--max-map-items", "5"});
  ASSERT_TRUE(tight.Start()) << ReadFile(log);
  auto ctx = [] {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(20));
    return c;
  };
  auto deploy = [&](const std::string& name, const std::string& def) {
    v1::DeployWorkflowRequest req;
    req.set_name(name);
    req.set_definition(def);
    v1::DeployWorkflowResponse resp;
    return tight.workflows().DeployWorkflow(ctx().get(), req, &resp);
  };
  auto submit = [&](const std::string& service, const std::string& input,
                    v1::SubmitCaseResponse* resp) {
    v1::SubmitCaseRequest req;
    req.set_service(service);
    req.set_input_json(input);
    return tight.cases().SubmitCase(ctx().get(), req, resp);
  };
  auto wait_end = [&](const std::string& id) {
    v1::Case c;
    WaitFor(
        [&] {
          v1::GetCaseRequest req;
          req.set_case_id(id);
          v1::GetCaseResponse resp;
          if (!tight.cases().GetCase(ctx().get(), req, &resp).ok()) {
            return false;
          }
          c = resp.case_();
          return c.status() != v1::CASE_STATUS_RUNNING;
        },
        std::chrono::seconds(30));
    return c;
  };

  // Definition states: four states where three are allowed.
  grpc::Status s = deploy("four", R"({"StartAt": "A", "States": {
    "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "C"},
    "C": {"Type": "Pass", "Next": "D"}, "D": {"Type": "Succeed"}}})");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("3"), std::string::npos)
      << s.error_message();

  // Case data 20 deep where 16 is the bound.
  ASSERT_TRUE(deploy("pass", R"({"StartAt": "P", "States": {
    "P": {"Type": "Pass", "End": true}}})")
                  .ok());
  v1::SubmitCaseResponse sub;
  s = submit("pass", "{\"a\": " + Deep(20) + "}", &sub);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("limit of 16"), std::string::npos)
      << s.error_message();
  ASSERT_TRUE(submit("pass", "{\"a\": " + Deep(10) + "}", &sub).ok());
  EXPECT_EQ(wait_end(sub.case_id()).status(), v1::CASE_STATUS_SUCCEEDED);

  // Map items: six where five are allowed.
  ASSERT_TRUE(deploy("map", R"({"StartAt": "M", "States": {
    "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I",
      "States": {"I": {"Type": "Pass", "End": true}}}}}})")
                  .ok());
  ASSERT_TRUE(submit("map", "[1, 2, 3, 4, 5, 6]", &sub).ok());
  v1::Case c = wait_end(sub.case_id());
  EXPECT_EQ(c.status(), v1::CASE_STATUS_FAILED);
  EXPECT_NE(c.cause().find("max_map_items"), std::string::npos) << c.cause();

  // History events: a loop of two Choice states.
  ASSERT_TRUE(deploy("spin", R"({"StartAt": "A", "States": {
    "A": {"Type": "Choice", "Default": "E", "Choices": [
      {"Variable": "$.go", "BooleanEquals": true, "Next": "A"}]},
    "E": {"Type": "Succeed"}}})")
                  .ok());
  ASSERT_TRUE(submit("spin", R"({"go": true})", &sub).ok());
  c = wait_end(sub.case_id());
  EXPECT_EQ(c.status(), v1::CASE_STATUS_FAILED);
  EXPECT_NE(c.cause().find("max_history_events (1000)"), std::string::npos)
      << c.cause();
  EXPECT_LE(c.history_seq(), 1005);
}

TEST_F(HostileTest, ReusedRequestIdWithOtherDataIsAlreadyExists) {
  v1::SubmitCaseResponse a, b;
  ASSERT_TRUE(Submit("one", R"({"x":1})", &a, "counter-9-1").ok());
  grpc::Status s = Submit("one", R"({"x":2})", &b, "counter-9-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(s.error_message().find(a.case_id()), std::string::npos)
      << s.error_message();
}

TEST_F(HostileTest, ForgedTokenIsNotFound) {
  v1::SubmitCaseResponse sub;
  ASSERT_TRUE(Submit("one", "{}", &sub).ok());
  v1::Task t = TakeOne("DSF");
  ASSERT_FALSE(t.token().empty());
  // Same shape, last field (the nonce) replaced; and plain garbage.
  std::string forged = t.token();
  const size_t cut = forged.find_last_of("/:.");
  ASSERT_NE(cut, std::string::npos) << forged;
  forged = forged.substr(0, cut + 1) + std::string(32, '0');
  EXPECT_EQ(Complete(forged, "{}").error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::Status s = Complete("not-a-token", "{}");
  EXPECT_TRUE(s.error_code() == grpc::StatusCode::NOT_FOUND ||
              s.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
      << s.error_message();
  EXPECT_TRUE(Complete(t.token(), "{}").ok());
}

TEST_F(HostileTest, OwctlRefusesADeepDataFileWithoutCrashing) {
  const auto file = dir_.path() / "deep.json";
  std::ofstream(file) << Deep(100'000);
  const std::string cmd =
      std::string(OWCTL_PATH) + " --addr " + server_->addr() +
      " case submit --service one --data " + file.string() + " > " +
      (dir_.path() / "owctl.out").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_NE(WEXITSTATUS(rc), 0);
  EXPECT_LT(WEXITSTATUS(rc), 128) << "owctl died of a signal";
  const std::string out = ReadFile(dir_.path() / "owctl.out");
  EXPECT_NE(out.find("depth"), std::string::npos) << out;
}

}  // namespace
}  // namespace onewindow::testing
