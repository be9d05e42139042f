#include "engine/core/local_runner.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::core {
namespace {

using Json = nlohmann::json;

std::shared_ptr<const asl::Definition> Def(const std::string& text) {
  auto def = asl::Definition::Compile(text);
  EXPECT_TRUE(def.ok()) << def.status();
  return def.ok() ? *def : nullptr;
}

LocalRunOptions Echo() {
  LocalRunOptions o;
  o.echo_tasks = true;
  return o;
}

TEST(LocalRunnerTest, EchoContractObjectAndScalarInput) {
  auto def = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Task","Resource":"arn:aws:states:::dept:dsf","Next":"B"},
    "B":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:HelloWorld","InputPath":"$.dept","End":true}}})");
  auto r = RunLocal(def, {{"k", 1}}, Echo());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->succeeded);
  EXPECT_EQ(r->output, Json({{"input", "dsf"}, {"dept", "HelloWorld"}}));
}

// A Map wider than one launch batch starts the rest on later turns.
TEST(LocalRunnerTest, WideMapRunsEveryIteration) {
  auto def = Def(R"({"StartAt":"Each","States":{
    "Each":{"Type":"Map","ItemsPath":"$.items","End":true,
      "ItemProcessor":{"StartAt":"Do","States":{
        "Do":{"Type":"Task","Resource":"dept:X/do","End":true}}}}}})");
  Json items = Json::array();
  for (int i = 0; i < 4000; ++i) items.push_back(i);
  auto r = RunLocal(def, {{"items", items}}, Echo());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->succeeded);
  ASSERT_EQ(r->output.size(), 4000u);
  EXPECT_EQ(r->output[3999], Json({{"input", 3999}, {"dept", "X/do"}}));
}

TEST(LocalRunnerTest, FailingDepartment) {
  auto def = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Task","Resource":"arn:aws:states:::dept:fail-x","End":true}}})");
  auto r = RunLocal(def, Json::object(), Echo());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->succeeded);
  EXPECT_EQ(r->error, "Dept.Failed");
  EXPECT_EQ(r->cause, "fail-x failed");
  EXPECT_TRUE(r->has_error);
}

TEST(LocalRunnerTest, FlakyDepartmentRetriesInVirtualTime) {
  auto def = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Task","Resource":"arn:aws:states:::dept:flaky2-x",
         "Retry":[{"ErrorEquals":["Dept.Flaky"],"IntervalSeconds":10}],
         "End":true}}})");
  auto r = RunLocal(def, Json::object(), Echo());
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->succeeded);
  EXPECT_EQ(r->output, Json({{"dept", "flaky2-x"}}));
  EXPECT_EQ(r->virtual_elapsed_ms, 10000 + 20000);

  auto no_retry = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Task","Resource":"arn:aws:states:::dept:flaky1-x","End":true}}})");
  r = RunLocal(no_retry, Json::object(), Echo());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, "Dept.Flaky");
  EXPECT_EQ(r->cause, "flaky1-x attempt 1 failed");
}

TEST(LocalRunnerTest, FixedResultsAndMissingResult) {
  auto def = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Task","Resource":"dept:DSF/check","ResultPath":"$.r","End":true}}})");
  LocalRunOptions o;
  o.task_results["dept:DSF/check"] = {{"approved", true}};
  auto r = RunLocal(def, {{"x", 1}}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, Json({{"x", 1}, {"r", {{"approved", true}}}}));

  r = RunLocal(def, {{"x", 1}}, LocalRunOptions());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(LocalRunnerTest, WaitsAndTimeoutsUseVirtualTime) {
  auto def = Def(R"({"StartAt":"W","States":{
    "W":{"Type":"Wait","Seconds":3600,"End":true}}})");
  auto r = RunLocal(def, Json::object(), Echo());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->succeeded);
  EXPECT_EQ(r->virtual_elapsed_ms, 3600000);

  auto timeout = Def(R"({"StartAt":"W","TimeoutSeconds":1,"States":{
    "W":{"Type":"Wait","Seconds":3,"End":true}}})");
  r = RunLocal(timeout, Json::object(), Echo());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error, "States.Timeout");
  EXPECT_EQ(r->virtual_elapsed_ms, 1000);
}

TEST(LocalRunnerTest, FailWithoutErrorHasNoErrorName) {
  auto r = RunLocal(Def(R"({"StartAt":"F","States":{"F":{"Type":"Fail"}}})"),
                    Json::object(), Echo());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->succeeded);
  EXPECT_FALSE(r->has_error);
  EXPECT_FALSE(r->has_cause);
}

TEST(LocalRunnerTest, EndlessTaskLoopHitsTheStepCap) {
  auto def = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Task","Resource":"arn:aws:states:::dept:x","Next":"C"},
    "C":{"Type":"Choice","Choices":[
      {"Variable":"$.stop","IsPresent":true,"Next":"D"}],"Default":"A"},
    "D":{"Type":"Succeed"}}})");
  LocalRunOptions o = Echo();
  o.max_steps = 1000;
  auto r = RunLocal(def, Json::object(), o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

TaskMock Result(Json j, int64_t delay_ms = 0) {
  TaskMock m;
  m.result = std::move(j);
  m.delay_ms = delay_ms;
  return m;
}

TaskMock Error(std::string error, std::string cause) {
  TaskMock m;
  m.fails = true;
  m.error = std::move(error);
  m.cause = std::move(cause);
  return m;
}

TEST(LocalRunnerMocksTest, SuccessiveAttemptsFollowTheList) {
  auto def = Def(R"({"StartAt":"Works","States":{
    "Works":{"Type":"Task","Resource":"dept:DSSOPT/works",
      "Retry":[{"ErrorEquals":["Dept.Failure"],"IntervalSeconds":5,
                "MaxAttempts":2}],
      "ResultPath":"$.works","Next":"Done"},
    "Done":{"Type":"Succeed"}}})");
  LocalRunOptions o;
  o.mocks["Works"] = {Error("Dept.Failure", "down"),
                      Result({{"approved", true}})};
  auto r = RunLocal(def, {{"id", 7}}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->succeeded);
  EXPECT_EQ(r->output, Json({{"id", 7}, {"works", {{"approved", true}}}}));
  EXPECT_EQ(r->virtual_elapsed_ms, 5000);
  EXPECT_EQ(r->task_calls["Works"], 2);
  EXPECT_EQ(r->states_entered, (std::vector<std::string>{"Works", "Done"}));

  // The failing answer repeats past the end of the list: retries run out.
  o.mocks["Works"] = {Error("Dept.Failure", "down")};
  r = RunLocal(def, {{"id", 7}}, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->succeeded);
  EXPECT_EQ(r->error, "Dept.Failure");
  EXPECT_EQ(r->cause, "down");
  EXPECT_EQ(r->task_calls["Works"], 3);
}

TEST(LocalRunnerMocksTest, MocksReachNestedStatesAndWinOverResources) {
  auto def = Def(R"({"StartAt":"Opinions","States":{
    "Opinions":{"Type":"Parallel","Next":"Each","Branches":[
      {"StartAt":"Fire","States":{"Fire":{"Type":"Task",
        "Resource":"dept:CB/fire","End":true}}},
      {"StartAt":"Tax","States":{"Tax":{"Type":"Task",
        "Resource":"dept:DSF/tax","End":true}}}]},
    "Each":{"Type":"Map","ItemsPath":"$[0].partners","End":true,
      "ItemProcessor":{"StartAt":"Register","States":{"Register":{
        "Type":"Task","Resource":"dept:DSI/register","End":true}}}}}})");
  LocalRunOptions o;
  o.mocks["Fire"] = {Result({{"partners", {1, 2, 3}}})};
  o.task_results["dept:DSF/tax"] = {{"tax", "ok"}};
  o.task_results["dept:CB/fire"] = {{"never", "used"}};
  o.mocks["Register"] = {Result("first"), Result("later")};
  auto r = RunLocal(def, Json::object(), o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->succeeded);
  EXPECT_EQ(r->output, Json({"first", "later", "later"}));
  // Only top-level states are listed.
  EXPECT_EQ(r->states_entered, (std::vector<std::string>{"Opinions", "Each"}));
  EXPECT_EQ(r->task_calls["Register"], 3);
}

TEST(LocalRunnerMocksTest, DelayedAnswerLosesToTheTaskTimeout) {
  auto def = Def(R"({"StartAt":"Slow","States":{
    "Slow":{"Type":"Task","Resource":"dept:IAM/inspect","TimeoutSeconds":60,
      "Catch":[{"ErrorEquals":["States.Timeout"],"Next":"Late"}],
      "End":true},
    "Late":{"Type":"Pass","Result":"late","End":true}}})");
  LocalRunOptions o;
  o.mocks["Slow"] = {Result({{"ok", true}}, 120000)};
  auto r = RunLocal(def, Json::object(), o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->succeeded);
  EXPECT_EQ(r->output, Json("late"));
  EXPECT_EQ(r->virtual_elapsed_ms, 60000);
  EXPECT_EQ(r->states_entered, (std::vector<std::string>{"Slow", "Late"}));

  o.mocks["Slow"] = {Result({{"ok", true}}, 30000)};
  r = RunLocal(def, Json::object(), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->output, Json({{"ok", true}}));
  EXPECT_EQ(r->virtual_elapsed_ms, 30000);
}

TEST(LocalRunnerMocksTest, UnansweredTaskNamesTheState) {
  auto def = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Task","Resource":"dept:DSF/a","Next":"B"},
    "B":{"Type":"Task","Resource":"dept:DSF/b","End":true}}})");
  LocalRunOptions o;
  o.mocks["A"] = {Result(1)};
  auto r = RunLocal(def, Json::object(), o);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(UnansweredTaskState(r.status()), "B");
  EXPECT_EQ(UnansweredTaskState(absl::InternalError("x")), std::nullopt);
}

TEST(LocalRunnerMocksTest, StatesEnteredInLoopsRepeat) {
  auto def = Def(R"({"StartAt":"Ask","States":{
    "Ask":{"Type":"Task","Resource":"dept:COUNTER/more-documents",
           "Next":"Enough"},
    "Enough":{"Type":"Choice","Choices":[
      {"Variable":"$.complete","BooleanEquals":true,"Next":"Done"}],
      "Default":"Ask"},
    "Done":{"Type":"Succeed"}}})");
  LocalRunOptions o;
  o.mocks["Ask"] = {Result({{"complete", false}}),
                    Result({{"complete", true}})};
  auto r = RunLocal(def, Json::object(), o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->states_entered, (std::vector<std::string>{"Ask", "Enough", "Ask",
                                                         "Enough", "Done"}));
}

}  // namespace
}  // namespace onewindow::core
