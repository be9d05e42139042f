#include "engine/core/local_runner.h"

#include <memory>
#include <string>

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

}  // namespace
}  // namespace onewindow::core
