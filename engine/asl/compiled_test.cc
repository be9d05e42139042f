#include "engine/asl/compiled.h"

#include <string>

#include "engine/asl/definition.h"
#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "engine/asl/intrinsics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::asl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CompiledPathTest, ParseAndEvaluate) {
  auto p = CompiledPath::Parse("$.a.b[1]");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->text(), "$.a.b[1]");
  EXPECT_TRUE(p->definite());
  EXPECT_FALSE(p->is_context());
  EXPECT_FALSE(p->is_root());
  Json input = Json::parse(R"j({"a": {"b": [1, 2]}})j");
  auto v = p->Eval(input, EvalEnv{});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 2);
  bool found = true;
  auto missing =
      CompiledPath::Parse("$.zz")->EvalOptional(input, EvalEnv{}, &found);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(found);
  auto err = CompiledPath::Parse("$.zz")->Eval(input, EvalEnv{});
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status(), EvalPath("$.zz", input, EvalEnv{}).status());
  EXPECT_FALSE(CompiledPath::Parse("a.b").ok());
  EXPECT_TRUE(CompiledPath::Parse("$")->is_root());
  EXPECT_TRUE(CompiledPath::Parse("$$.Execution.Id")->is_context());
  EXPECT_FALSE(CompiledPath::Parse("$.a[*]")->definite());
  EXPECT_FALSE(CompiledPath().Eval(input, EvalEnv{}).ok());
}

TEST(CompiledPathTest, ApplyResultMatchesApplyResultPath) {
  Json input = Json::parse(R"j({"a": {"x": 1}, "list": [1, 2]})j");
  for (const char* path : {"$", "$.a", "$.a.y", "$.new.deep.key", "$.list[1]",
                           "$.list[5]", "$.a.x.y", "$.list[0].z", "$.new[0]"}) {
    auto compiled = CompiledPath::Parse(path);
    ASSERT_TRUE(compiled.ok()) << path;
    auto want = ApplyResultPath(path, input, Json("R"));
    auto got = compiled->ApplyResult(input, Json("R"));
    ASSERT_EQ(got.ok(), want.ok()) << path;
    if (want.ok()) {
      EXPECT_EQ(*got, *want) << path;
    } else {
      EXPECT_EQ(got.status(), want.status()) << path;
    }
  }
}

TEST(PathFieldTest, AbsentNullAndPath) {
  Json input = Json::parse(R"j({"a": 1})j");
  PathField absent;
  EXPECT_EQ(*absent.Select(input, EvalEnv{}), input);
  EXPECT_EQ(*absent.Place(input, Json(5)), Json(5));
  PathField null_field;
  null_field.kind = PathField::Kind::kNull;
  EXPECT_EQ(*null_field.Select(input, EvalEnv{}), Json::object());
  EXPECT_EQ(*null_field.Place(input, Json(5)), input);
  PathField path;
  path.kind = PathField::Kind::kPath;
  path.path = *CompiledPath::Parse("$.r");
  EXPECT_EQ(*path.Place(input, Json(5)), Json::parse(R"j({"a": 1, "r": 5})j"));
  path.path = *CompiledPath::Parse("$.a");
  EXPECT_EQ(*path.Select(input, EvalEnv{}), Json(1));
  path.path = *CompiledPath::Parse("$");
  EXPECT_EQ(*path.Place(input, Json(5)), Json(5));
}

TEST(CompiledTemplateTest, SameAsEvalPayloadTemplate) {
  Json context = {{"Execution", {{"Id", "x-1"}}}};
  EvalEnv env;
  env.context = &context;
  Json input = Json::parse(R"j({"name": "Ana", "n": [1, 2, 3]})j");
  Json tmpl = Json::parse(R"j({
    "fixed": {"k": [1, {"z": true}]},
    "who.$": "$.name",
    "id.$": "$$.Execution.Id",
    "count.$": "States.ArrayLength($.n)",
    "nested": [{"first.$": "$.n[0]"}, "literal"],
    "a": 1, "a.$": "$.n[2]"
  })j");
  auto compiled = CompiledTemplate::Compile(tmpl);
  EXPECT_FALSE(compiled.constant());
  auto got = compiled.Eval(input, env);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, Json::parse(R"j({
    "fixed": {"k": [1, {"z": true}]}, "who": "Ana", "id": "x-1", "count": 3,
    "nested": [{"first": 1}, "literal"], "a": 3})j"));
  EXPECT_TRUE(
      CompiledTemplate::Compile(Json::parse(R"j({"a": [1, {"b": 2}]})j"))
          .constant());
  // Errors are the evaluation's own, in its order.
  for (const char* bad :
       {R"j({"x.$": 3})j", R"j({"x.$": "nope"})j", R"j({"x.$": "$.missing"})j",
        R"j({"x.$": "$$.missing"})j", R"j({"x.$": "$[?("})j",
        R"j({"x.$": "States.Nope()"})j", R"j({"a.$": "$.name", "b.$": 1})j"}) {
    Json t = Json::parse(bad);
    auto c = CompiledTemplate::Compile(t).Eval(input, env);
    ASSERT_FALSE(c.ok()) << bad;
    auto want = EvalPayloadTemplate(t, input, env);
    EXPECT_EQ(c.status(), want.status()) << bad;
    EXPECT_EQ(AslErrorName(c.status()),
              std::string_view(bad).find("States.") != std::string_view::npos
                  ? "States.IntrinsicFailure"
                  : "States.Runtime")
        << bad;
  }
}

TEST(CompiledIntrinsicTest, ParseOnceEvaluateMany) {
  auto call =
      CompiledIntrinsic::Compile("States.Format('{} has {}', $.a, $.b)");
  EXPECT_TRUE(call.parse_status().ok());
  for (int i = 0; i < 3; ++i) {
    Json input = {{"a", "x"}, {"b", i}};
    auto v = call.Eval(input, EvalEnv{});
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(*v, Json("x has " + std::to_string(i)));
  }
  auto bad = CompiledIntrinsic::Compile("States.Format(");
  EXPECT_FALSE(bad.parse_status().ok());
  auto v = bad.Eval(Json::object(), EvalEnv{});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(AslErrorName(v.status()), "States.IntrinsicFailure");
  EXPECT_EQ(
      v.status(),
      EvalIntrinsic("States.Format(", Json::object(), EvalEnv{}).status());
}

TEST(IntrinsicTableTest, OneTableForValidatorAndEvaluator) {
  auto call = internal::ParseIntrinsic("States.MathAdd(1, '2')");
  ASSERT_TRUE(call.ok());
  ASSERT_NE(call->function, nullptr);
  EXPECT_EQ(call->function, internal::FindIntrinsic("States.MathAdd"));
  absl::Status s = internal::CheckIntrinsicSignature(*call);
  EXPECT_THAT(s.message(), HasSubstr("argument 2 of States.MathAdd ('2') is "
                                     "a string; expected a number"));
  EXPECT_TRUE(internal::CheckIntrinsicArity(*call).ok());
  // A path the JSONPath parser refuses is kept by the lenient parse only.
  EXPECT_FALSE(internal::ParseIntrinsic("States.Array($.)").ok());
  auto lenient =
      internal::ParseIntrinsic("States.Array($.)", DefaultLimits(), true);
  ASSERT_TRUE(lenient.ok());
  EXPECT_EQ(lenient->args[0].parsed_path, nullptr);
  EXPECT_TRUE(internal::CheckIntrinsicSignature(*lenient).ok());
  auto unknown = internal::ParseIntrinsic("States.Nope(1)");
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->function, nullptr);
  EXPECT_FALSE(internal::CheckIntrinsicSignature(*unknown).ok());
}

TEST(CompiledChoiceRuleTest, SameAsEvalChoiceRule) {
  Json input = Json::parse(
      R"j({"s": "abc", "n": 5, "t": "2024-01-02T00:00:00Z", "b": true})j");
  for (
      const char* rule : {
          R"j({"Variable": "$.s", "StringMatches": "a*c"})j",
          R"j({"Variable": "$.n", "NumericGreaterThanPath": "$.n"})j",
          R"j({"Variable": "$.t", "TimestampLessThan": "2025-01-01T00:00:00Z"})j",
          R"j({"Variable": "$.t", "TimestampLessThan": "not a time"})j",
          R"j({"And": [{"Variable": "$.b", "BooleanEquals": true},
                      {"Not": {"Variable": "$.x", "IsPresent": true}}]})j",
          R"j({"Or": [{"Variable": "$.n", "NumericEquals": 4},
                     {"Variable": "$.n", "NumericEquals": 5}]})j",
          R"j({"Variable": "$.missing", "StringEquals": "x"})j",
          R"j({"Variable": "$.n", "IsNull": "yes"})j",
          R"j({"Variable": "$.n", "NumericEqualsPath": 3})j",
          R"j({"Variable": "$.n", "NumericEqualsPath": "$.none"})j",
          R"j({"Variable": 3, "IsNull": true})j",
          R"j({"Variable": "$.n"})j",
          R"j({"And": []})j",
          R"j({"Nothing": 1})j",
          R"j([1])j",
      }) {
    Json r = Json::parse(rule);
    auto compiled = CompiledChoiceRule::Compile(r);
    auto got = compiled.Eval(input, EvalEnv{});
    auto want = EvalChoiceRule(r, input, EvalEnv{});
    ASSERT_EQ(got.ok(), want.ok()) << rule;
    if (got.ok()) {
      EXPECT_EQ(*got, *want) << rule;
    } else {
      EXPECT_EQ(got.status(), want.status()) << rule;
    }
  }
  auto yes = CompiledChoiceRule::Compile(
      Json::parse(R"j({"Variable": "$.n", "NumericLessThan": 10})j"));
  EXPECT_TRUE(*yes.Eval(input, EvalEnv{}));
  EXPECT_FALSE(*yes.Eval(Json::parse(R"j({"n": 11})j"), EvalEnv{}));
}

constexpr char kDefinition[] = R"j({
  "StartAt": "Prepare",
  "States": {
    "Prepare": {"Type": "Pass", "InputPath": "$.case", "ResultPath": null,
                "Parameters": {"id.$": "$$.Execution.Id"}, "Next": "Check"},
    "Check": {"Type": "Task", "Resource": "dept:DSF/tax-check",
              "TimeoutSeconds": 60, "HeartbeatSecondsPath": "$.hb",
              "ResultSelector": {"ok.$": "$.approved"},
              "ResultPath": "$.check", "OutputPath": "$",
              "Retry": [{"ErrorEquals": ["Dept.Unavailable"],
                         "MaxAttempts": 5, "JitterStrategy": "FULL",
                         "MaxDelaySeconds": 30},
                        {"ErrorEquals": ["States.ALL"]}],
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed",
                         "ResultPath": "$.error"}],
              "Next": "Route"},
    "Route": {"Type": "Choice",
              "Choices": [{"Variable": "$.check.ok", "BooleanEquals": true,
                           "Next": "Fan"}],
              "Default": "Failed"},
    "Fan": {"Type": "Parallel", "Next": "Each",
            "Branches": [
              {"StartAt": "B1", "States": {"B1": {"Type": "Succeed"}}},
              {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": true}}}]},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
             "ToleratedFailurePercentagePath": "$.pct",
             "Parameters": {"v.$": "$$.Map.Item.Value"},
             "ItemProcessor": {"StartAt": "Item",
               "States": {"Item": {"Type": "Wait", "Seconds": 1, "End": true}}},
             "Next": "Later"},
    "Later": {"Type": "Wait", "Timestamp": "2030-01-01T00:00:00Z",
              "Next": "Done"},
    "Done": {"Type": "Succeed"},
    "Failed": {"Type": "Fail", "Error": "Check.Failed",
               "CausePath": "States.Format('no: {}', $.why)"}
  }
})j";

TEST(StateSpecTest, EveryFieldCompiledAndLinked) {
  auto def = Definition::Compile(kDefinition);
  ASSERT_TRUE(def.ok()) << def.status();
  const Machine& root = (*def)->root();
  ASSERT_NE(root.start, nullptr);
  EXPECT_EQ(root.start->name, "Prepare");

  const StateSpec* prepare = root.Find("Prepare");
  ASSERT_NE(prepare, nullptr);
  EXPECT_EQ(prepare->type, StateType::kPass);
  EXPECT_EQ(prepare->machine, &root);
  EXPECT_EQ(prepare->json, root.states.at("Prepare"));
  EXPECT_EQ((*def)->Spec(root.states.at("Prepare")), prepare);
  EXPECT_EQ(prepare->input_path.kind, PathField::Kind::kPath);
  EXPECT_EQ(prepare->input_path.path.text(), "$.case");
  EXPECT_EQ(prepare->result_path.kind, PathField::Kind::kNull);
  EXPECT_EQ(prepare->output_path.kind, PathField::Kind::kAbsent);
  ASSERT_TRUE(prepare->parameters.has_value());
  EXPECT_TRUE(prepare->mentions_context);
  EXPECT_EQ(prepare->next_state, root.Find("Check"));

  const StateSpec* check = root.Find("Check");
  EXPECT_EQ(check->type, StateType::kTask);
  EXPECT_TRUE(check->is_dept);
  EXPECT_EQ(check->department, "DSF");
  EXPECT_EQ(check->task_type, "tax-check");
  EXPECT_TRUE(check->timeout_seconds.present);
  EXPECT_FALSE(check->timeout_seconds.is_path);
  EXPECT_EQ(check->timeout_seconds.integer, 60);
  EXPECT_TRUE(check->heartbeat_seconds.is_path);
  EXPECT_EQ(check->heartbeat_seconds.path.text(), "$.hb");
  EXPECT_FALSE(check->mentions_context);
  ASSERT_EQ(check->retry.size(), 2u);
  EXPECT_THAT(check->retry[0].error_equals, ElementsAre("Dept.Unavailable"));
  EXPECT_EQ(check->retry[0].max_attempts, 5);
  EXPECT_EQ(check->retry[0].jitter, JitterStrategy::kFull);
  EXPECT_EQ(check->retry[0].max_delay_seconds, 30);
  EXPECT_EQ(check->retry[1].max_attempts, 3);
  EXPECT_EQ(check->retry[1].interval_seconds, 1);
  EXPECT_EQ(check->retry[1].backoff_rate, 2.0);
  EXPECT_FALSE(check->retry[1].max_delay_seconds.has_value());
  ASSERT_EQ(check->catchers.size(), 1u);
  EXPECT_EQ(check->catchers[0].next_state, root.Find("Failed"));
  EXPECT_EQ(check->catchers[0].result_path.path.text(), "$.error");
  EXPECT_TRUE(check->output_path.path.is_root());

  const StateSpec* route = root.Find("Route");
  ASSERT_EQ(route->choices.size(), 1u);
  EXPECT_EQ(route->choices[0].next_state, root.Find("Fan"));
  EXPECT_EQ(route->default_state, root.Find("Failed"));
  EXPECT_TRUE(*route->choices[0].rule.Eval(
      Json::parse(R"j({"check": {"ok": true}})j"), EvalEnv{}));

  const StateSpec* fan = root.Find("Fan");
  ASSERT_EQ(fan->branches.size(), 2u);
  EXPECT_EQ(fan->branches[0], (*def)->Nested(fan->json, 0));
  EXPECT_EQ(fan->branches[1]->start->name, "B2");
  EXPECT_TRUE(fan->branches[0]->Find("B1")->end);

  const StateSpec* each = root.Find("Each");
  EXPECT_EQ(each->processor, (*def)->Nested(each->json, 0));
  EXPECT_FALSE(each->parameters.has_value());
  ASSERT_TRUE(each->item_selector.has_value());
  EXPECT_TRUE(each->mentions_context);
  EXPECT_EQ(each->items_path.path.text(), "$.items");
  EXPECT_EQ(each->max_concurrency.integer, 2);
  EXPECT_TRUE(each->tolerated_failure_percentage.is_path);
  const StateSpec* item = each->processor->Find("Item");
  EXPECT_EQ(item->seconds.integer, 1);
  EXPECT_EQ(item->machine, each->processor);

  const StateSpec* later = root.Find("Later");
  EXPECT_TRUE(later->timestamp.present);
  EXPECT_EQ(later->timestamp.value_ms, 1893456000000);

  const StateSpec* failed = root.Find("Failed");
  EXPECT_TRUE(failed->end);
  EXPECT_EQ(failed->error.kind, StringField::Kind::kLiteral);
  EXPECT_EQ(failed->error.literal, "Check.Failed");
  EXPECT_EQ(failed->cause.kind, StringField::Kind::kIntrinsic);
  auto cause =
      failed->cause.Eval(Json::parse(R"j({"why": "late"})j"), EvalEnv{});
  ASSERT_TRUE(cause.ok());
  EXPECT_EQ(*cause, Json("no: late"));
  EXPECT_EQ(StateTypeName(failed->type), "Fail");
}

}  // namespace
}  // namespace onewindow::asl
