// Workflow variables (Assign) and JSONata states in the interpreter: scoping
// in Map and Parallel, the checkpoint round trip, and query errors.
#include <memory>
#include <string>

#include "engine/core/execution.h"
#include "gtest/gtest.h"

namespace onewindow::core {
namespace {

constexpr int64_t kT0 = 1767225600000;  // 2026-01-01T00:00:00Z

std::shared_ptr<const asl::Definition> Def(const std::string& text) {
  auto def = asl::Definition::Compile(text);
  EXPECT_TRUE(def.ok()) << def.status();
  return def.ok() ? *def : nullptr;
}

StartInfo Info() {
  StartInfo info;
  info.execution_id = "C-1";
  info.execution_name = "C-1";
  info.state_machine_id = "svc@1";
  info.state_machine_name = "svc";
  info.start_ms = kT0;
  info.seed = 7;
  return info;
}

TEST(VariablesTest, JsonPathAssignIsReadByLaterStates) {
  auto def = Def(R"json({"StartAt":"A","States":{
    "A":{"Type":"Pass","Result":{"n":41},"Assign":{"n.$":"$.n","k":"lit"},
         "Next":"B"},
    "B":{"Type":"Pass","Parameters":{"n.$":"$n","k.$":"$k",
         "s.$":"States.MathAdd($n, 1)"},"End":true}}})json");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_EQ(exec->output(), Json({{"n", 41}, {"k", "lit"}, {"s", 42}}));
}

TEST(VariablesTest, JsonataStatesSeeStatesAndVariables) {
  auto def = Def(R"json({"QueryLanguage":"JSONata","StartAt":"A","States":{
    "A":{"Type":"Pass","Assign":{"x":"{% $states.input.v * 2 %}"},
         "Output":{"old":"{% $states.input.v %}"},"Next":"B"},
    "B":{"Type":"Choice","Choices":[{"Condition":"{% $x > 5 %}","Next":"C",
         "Output":{"big":"{% $x %}","old":"{% $states.input.old %}"}}],
         "Default":"C"},
    "C":{"Type":"Succeed"}}})json");
  StepOutput out;
  auto exec = Execution::Start(def, Json{{"v", 4}}, Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_EQ(exec->output(), Json({{"big", 8}, {"old", 4}}));
}

// Branches read outer variables; what they assign stays inside.
TEST(VariablesTest, ParallelAndMapScopes) {
  auto def = Def(R"json({"StartAt":"A","States":{
    "A":{"Type":"Pass","Assign":{"x":1},"Next":"P"},
    "P":{"Type":"Parallel","Next":"M","ResultPath":null,"Branches":[
      {"StartAt":"B1","States":{"B1":{"Type":"Pass","Assign":{"x":2,"y":3},
        "Next":"B2"},"B2":{"Type":"Pass","Parameters":{"x.$":"$x","y.$":"$y"},
        "End":true}}}]},
    "M":{"Type":"Map","ItemsPath":"$.items","ResultPath":"$.m","Next":"E",
      "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass",
        "Assign":{"x.$":"$"},"Parameters":{"outer.$":"$x"},"End":true}}}},
    "E":{"Type":"Pass","Parameters":{"x.$":"$x","m.$":"$.m"},"End":true}}})json");
  StepOutput out;
  auto exec = Execution::Start(def, Json{{"items", {7, 8}}}, Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded) << exec->cause();
  EXPECT_EQ(exec->output(),
            Json({{"x", 1}, {"m", {{{"outer", 1}}, {{"outer", 1}}}}}));
  // A variable assigned only inside a branch is not visible after it.
  auto leak = Def(R"json({"StartAt":"P","States":{
    "P":{"Type":"Parallel","Next":"E","Branches":[
      {"StartAt":"B","States":{"B":{"Type":"Pass","Assign":{"y":3},
        "End":true}}}]},
    "E":{"Type":"Pass","Parameters":{"y.$":"$y"},"End":true}}})json");
  StepOutput out2;
  auto exec2 = Execution::Start(leak, Json::object(), Info(), &out2);
  EXPECT_EQ(exec2->status(), RunStatus::kFailed);
}

TEST(VariablesTest, VariablesSurviveTheCheckpoint) {
  auto def = Def(R"json({"StartAt":"A","States":{
    "A":{"Type":"Pass","Assign":{"who":"ana","n":3},"Next":"T"},
    "T":{"Type":"Task","Resource":"dept:DSF/check","Next":"B"},
    "B":{"Type":"Pass","QueryLanguage":"JSONata",
         "Output":"{% $who & ':' & $string($n + $states.input.r) %}",
         "End":true}}})json");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kRunning);
  ASSERT_EQ(out.dispatch.size(), 1u);
  const std::string task = out.dispatch[0].task_id;
  auto cp = exec->Checkpoint(5);
  std::string bytes;
  ASSERT_TRUE(cp.SerializeToString(&bytes));
  onewindow::store::v1::ExecutionCheckpoint back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  auto restored = Execution::FromCheckpoint(def, back);
  ASSERT_TRUE(restored.ok()) << restored.status();
  StepOutput out2;
  ASSERT_TRUE(
      (*restored)->CompleteTask(task, Json{{"r", 2}}, kT0 + 10, &out2).ok());
  ASSERT_EQ((*restored)->status(), RunStatus::kSucceeded);
  EXPECT_EQ((*restored)->output(), Json("ana:5"));
}

TEST(VariablesTest, QueryErrorsAreCatchable) {
  auto def = Def(R"json({"QueryLanguage":"JSONata","StartAt":"A","States":{
    "A":{"Type":"Parallel","Next":"Z","Branches":[{"StartAt":"B",
         "States":{"B":{"Type":"Pass","Output":"{% $nothing %}",
         "End":true}}}],
         "Catch":[{"ErrorEquals":["States.QueryEvaluationError"],"Next":"C",
                   "Output":{"e":"{% $states.errorOutput.Error %}"}}]},
    "C":{"Type":"Succeed"},
    "Z":{"Type":"Succeed"}}})json");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_EQ(exec->output(), Json({{"e", "States.QueryEvaluationError"}}));
  auto bad = Def(R"json({"QueryLanguage":"JSONata","StartAt":"A","States":{
    "A":{"Type":"Pass","Output":"{% $number('x') + 1 %}","End":true}}})json");
  StepOutput out2;
  auto failed = Execution::Start(bad, Json::object(), Info(), &out2);
  ASSERT_EQ(failed->status(), RunStatus::kFailed);
  EXPECT_EQ(failed->error(), "States.QueryEvaluationError");
  EXPECT_NE(failed->cause().find("Output"), std::string::npos)
      << failed->cause();
}

}  // namespace
}  // namespace onewindow::core
