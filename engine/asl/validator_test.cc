// Tests for Validate(): one rule at a time, then the conformance fixtures
// (validator/valid, validator/invalid) and every execution case definition.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/asl/definition.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::asl {
namespace {

namespace fs = std::filesystem;

std::vector<ValidationError> ValidateText(const std::string& text) {
  absl::StatusOr<LoadedSource> source = LoadSource(text, SourceFormat::kAuto);
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return {};
  return Validate(*source);
}

std::string Describe(const std::vector<ValidationError>& errors) {
  std::vector<std::string> lines;
  for (const auto& e : errors) {
    lines.push_back(
        absl::StrCat(e.path, ": ", e.message, " (line ", e.line, ")"));
  }
  return absl::StrJoin(lines, "\n");
}

// True when some error is at `path` and its message contains `text`.
bool HasError(const std::vector<ValidationError>& errors,
              const std::string& path, const std::string& text) {
  return std::any_of(errors.begin(), errors.end(), [&](const auto& e) {
    return e.path == path && e.message.find(text) != std::string::npos;
  });
}

#define EXPECT_ERROR(errors, path, text) \
  EXPECT_TRUE(HasError(errors, path, text)) << Describe(errors)
#define EXPECT_VALID(errors) EXPECT_TRUE((errors).empty()) << Describe(errors)

// A one-state machine around `state` (a JSON object text) named "S".
std::string OneState(const std::string& state) {
  return absl::StrCat(R"({"StartAt": "S", "States": {"S": )", state, "}}");
}

TEST(ValidatorTest, AcceptsMinimalMachine) {
  EXPECT_VALID(ValidateText(OneState(R"({"Type": "Pass", "End": true})")));
}

TEST(ValidatorTest, RequiresObjectStartAtAndStates) {
  EXPECT_ERROR(ValidateText("[1]"), "$", "JSON object");
  auto errors = ValidateText(R"({"Comment": "x"})");
  EXPECT_ERROR(errors, "$", "\"StartAt\"");
  EXPECT_ERROR(errors, "$", "\"States\"");
  EXPECT_ERROR(ValidateText(R"({"StartAt": "S", "States": {}})"), "$.States",
               "at least one state");
}

TEST(ValidatorTest, TopLevelFields) {
  EXPECT_VALID(ValidateText(R"({"Comment": "c", "Version": "1.0",
      "TimeoutSeconds": 30, "QueryLanguage": "JSONPath", "StartAt": "S",
      "States": {"S": {"Type": "Succeed"}}})"));
  auto errors = ValidateText(R"({"StartAt": "S", "Bogus": 1,
      "TimeoutSeconds": 0, "States": {"S": {"Type": "Succeed"}}})");
  EXPECT_ERROR(errors, "$.Bogus", "unknown field");
  EXPECT_ERROR(errors, "$.TimeoutSeconds", "between 1");
}

TEST(ValidatorTest, JsonataStatesAreAccepted) {
  EXPECT_TRUE(ValidateText(R"({"QueryLanguage": "JSONata", "StartAt": "S",
      "States": {"S": {"Type": "Pass", "Output": {"a": "{% $x + 1 %}"},
      "Assign": {"x": "{% $states.input %}"}, "Next": "C"},
      "C": {"Type": "Choice", "Choices": [{"Condition": "{% $x > 1 %}",
      "Next": "E"}], "Default": "E"},
      "E": {"Type": "Succeed"}}})").empty());
  EXPECT_TRUE(ValidateText(OneState(R"({"Type": "Pass",
      "QueryLanguage": "JSONata", "Output": "{% 1 %}", "End": true})")).empty());
  EXPECT_TRUE(ValidateText(OneState(R"({"Type": "Pass",
      "Assign": {"v.$": "$.a", "w": 1}, "End": true})")).empty());
}

TEST(ValidatorTest, FieldsOfTheOtherQueryLanguageAreNamed) {
  auto errors = ValidateText(R"({"QueryLanguage": "JSONata", "StartAt": "S",
      "States": {"S": {"Type": "Pass", "Parameters": {"a.$": "$"},
      "ResultPath": "$.r", "End": true}}})");
  EXPECT_ERROR(errors, "$.States.S.Parameters", "belongs to the JSONPath");
  EXPECT_ERROR(errors, "$.States.S.ResultPath", "belongs to the JSONPath");
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Pass",
      "Output": {"a": 1}, "End": true})")),
               "$.States.S.Output", "belongs to the JSONata");
  EXPECT_ERROR(ValidateText(R"({"QueryLanguage": "JSONata", "StartAt": "S",
      "States": {"S": {"Type": "Pass", "QueryLanguage": "JSONPath",
      "End": true}}})"),
               "$.States.S.QueryLanguage", "cannot use JSONPath");
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Pass",
      "Assign": {"1bad": 1}, "End": true})")),
               "$.States.S.Assign.1bad", "not a valid variable name");
}

TEST(ValidatorTest, JsonataSyntaxErrorsHaveTheirPosition) {
  auto errors = ValidateText(R"({"QueryLanguage": "JSONata", "StartAt": "S",
      "States": {"S": {"Type": "Pass", "Output": {"a": ["{% (1 + %}"]},
      "End": true}}})");
  EXPECT_ERROR(errors, "$.States.S.Output.a[0]", "position");
  EXPECT_ERROR(ValidateText(R"({"QueryLanguage": "JSONata", "StartAt": "W",
      "States": {"W": {"Type": "Wait", "Seconds": "$.s", "End": true}}})"),
               "$.States.W.Seconds", "JSONata expression");
}

// A Task needs its Resource in either query language: a JSONata Task
// without one was accepted and then failed to compile (an exception out of
// the definition indexer).
TEST(ValidatorTest, AJsonataTaskNeedsItsResource) {
  const char* text = R"({"StartAt": "S", "States": {"S": {
      "QueryLanguage": "JSONata", "Type": "Task",
      "Output": "{% $states.input %}", "End": true}}})";
  EXPECT_ERROR(ValidateText(text), "$.States.S", "\"Resource\"");
  absl::StatusOr<std::shared_ptr<const Definition>> def =
      Definition::Compile(text);
  ASSERT_FALSE(def.ok());
  EXPECT_EQ(def.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(def.status().message()),
              ::testing::HasSubstr("Resource"));
}

TEST(ValidatorTest, UnknownStateTypeAndFields) {
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Sleep", "End": true})")),
               "$.States.S.Type", "unknown state type");
  EXPECT_ERROR(ValidateText(OneState(R"({"End": true})")), "$.States.S",
               "\"Type\"");
  auto errors = ValidateText(
      OneState(R"({"Type": "Pass", "bugInputPath": "$.a", "End": true})"));
  EXPECT_ERROR(errors, "$.States.S.bugInputPath", "unknown field");
  // Fields of other state types are unknown too.
  EXPECT_ERROR(
      ValidateText(OneState(R"({"Type": "Succeed", "ResultPath": "$.x"})")),
      "$.States.S.ResultPath", "unknown field");
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Fail", "End": true})")),
               "$.States.S.End", "unknown field");
}

TEST(ValidatorTest, NextAndEnd) {
  auto errors = ValidateText(R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Next": "B", "End": true},
      "B": {"Type": "Pass"},
      "C": {"Type": "Pass", "End": "yes"}}})");
  EXPECT_ERROR(errors, "$.States.A", "both \"Next\" and \"End\"");
  EXPECT_ERROR(errors, "$.States.B", "missing \"Next\" or \"End\"");
  EXPECT_ERROR(errors, "$.States.C.End", "boolean");
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Pass", "End": false})")),
               "$.States.S", "missing \"Next\" or \"End\"");
}

TEST(ValidatorTest, TransitionTargetsMustExist) {
  auto errors = ValidateText(R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Next": "Nowhere"},
      "B": {"Type": "Succeed"}}})");
  EXPECT_ERROR(errors, "$.States.A.Next", "no state named \"Nowhere\"");
  EXPECT_ERROR(ValidateText(R"({"StartAt": "X", "States": {
      "A": {"Type": "Succeed"}}})"),
               "$.StartAt", "\"X\"");
}

TEST(ValidatorTest, TransitionsCannotLeaveNestedMachines) {
  auto errors = ValidateText(R"({"StartAt": "P", "States": {
      "P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Next": "P"}}}]}}})");
  EXPECT_ERROR(errors, "$.States.P.Branches[0].States.B1.Next",
               "not a state of this state machine");
}

TEST(ValidatorTest, UnreachableStates) {
  auto errors = ValidateText(R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Next": "C"},
      "B": {"Type": "Pass", "Next": "C"},
      "C": {"Type": "Succeed"}}})");
  EXPECT_ERROR(errors, "$.States.B", "unreachable");
  EXPECT_EQ(errors.size(), 1u) << Describe(errors);
}

TEST(ValidatorTest, CatchAndChoiceTargetsMakeStatesReachable) {
  EXPECT_VALID(ValidateText(R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "dept:DSF/check", "Next": "C",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}]},
      "C": {"Type": "Choice", "Default": "D", "Choices": [
            {"Variable": "$.x", "IsPresent": true, "Next": "E"}]},
      "D": {"Type": "Succeed"}, "E": {"Type": "Succeed"},
      "F": {"Type": "Fail"}}})"));
}

TEST(ValidatorTest, MissingTerminalState) {
  auto errors = ValidateText(R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Next": "B"},
      "B": {"Type": "Pass", "Next": "A"}}})");
  EXPECT_ERROR(errors, "$.States", "no terminal state");
}

TEST(ValidatorTest, StateNames) {
  std::string long_name(81, 'n');
  auto errors = ValidateText(absl::StrCat(R"({"StartAt": ")", long_name,
                                          R"(", "States": {")", long_name,
                                          R"(": {"Type": "Succeed"}}})"));
  EXPECT_ERROR(errors, absl::StrCat("$.States.", long_name), "limit is 80");
  std::string ok_name(80, 'n');
  EXPECT_VALID(ValidateText(absl::StrCat(R"({"StartAt": ")", ok_name,
                                         R"(", "States": {")", ok_name,
                                         R"(": {"Type": "Succeed"}}})")));
}

TEST(ValidatorTest, DuplicateStateNamesAcrossNestedMachines) {
  auto errors = ValidateText(R"({"StartAt": "M", "States": {
      "M": {"Type": "Map", "Next": "Done", "ItemProcessor": {
        "StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}},
      "Done": {"Type": "Succeed"}}})");
  EXPECT_ERROR(errors, "$.States.M.ItemProcessor.States.Done",
               "duplicate state name \"Done\"");
}

TEST(ValidatorTest, Retry) {
  EXPECT_VALID(ValidateText(OneState(R"({"Type": "Task",
      "Resource": "dept:DSF/check", "End": true, "Retry": [
        {"ErrorEquals": ["Dept.Busy"], "IntervalSeconds": 2,
         "MaxAttempts": 0, "BackoffRate": 1.5, "MaxDelaySeconds": 10,
         "JitterStrategy": "FULL", "Comment": "c"},
        {"ErrorEquals": ["States.ALL"]}]})")));
  auto errors = ValidateText(OneState(R"({"Type": "Task",
      "Resource": "dept:DSF/check", "End": true, "Retry": [
        {"ErrorEquals": ["States.ALL", "X"], "IntervalSeconds": 0},
        {"ErrorEquals": [], "MaxAttempts": -1, "BackoffRate": 0.5},
        {"ErrorEquals": [true], "JitterStrategy": "HALF", "Bogus": 1}]})"));
  EXPECT_ERROR(errors, "$.States.S.Retry[0].ErrorEquals", "alone");
  EXPECT_ERROR(errors, "$.States.S.Retry[0].ErrorEquals", "last");
  EXPECT_ERROR(errors, "$.States.S.Retry[0].IntervalSeconds", "between 1");
  EXPECT_ERROR(errors, "$.States.S.Retry[1].ErrorEquals", "non-empty");
  EXPECT_ERROR(errors, "$.States.S.Retry[1].MaxAttempts", "negative");
  EXPECT_ERROR(errors, "$.States.S.Retry[1].BackoffRate", "at least 1.0");
  EXPECT_ERROR(errors, "$.States.S.Retry[2].ErrorEquals[0]", "strings");
  EXPECT_ERROR(errors, "$.States.S.Retry[2].JitterStrategy", "FULL");
  EXPECT_ERROR(errors, "$.States.S.Retry[2].Bogus", "unknown field");
}

TEST(ValidatorTest, Catch) {
  auto errors = ValidateText(R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "dept:DSF/check", "End": true,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"},
                      {"ErrorEquals": ["X"], "ResultPath": "$$.x"},
                      {"ErrorEquals": ["Y"], "Next": "Gone"}]},
      "F": {"Type": "Fail"}}})");
  EXPECT_ERROR(errors, "$.States.T.Catch[0].ErrorEquals", "last");
  EXPECT_ERROR(errors, "$.States.T.Catch[1]", "\"Next\"");
  EXPECT_ERROR(errors, "$.States.T.Catch[1].ResultPath", "context object");
  EXPECT_ERROR(errors, "$.States.T.Catch[2].Next", "\"Gone\"");
}

TEST(ValidatorTest, TaskFields) {
  auto errors = ValidateText(OneState(R"({"Type": "Task", "End": true,
      "Resource": "dept:DSF/check", "TimeoutSeconds": 10,
      "TimeoutSecondsPath": "$.t", "HeartbeatSeconds": 10})"));
  EXPECT_ERROR(errors, "$.States.S.TimeoutSeconds", "mutually exclusive");
  EXPECT_ERROR(errors, "$.States.S.HeartbeatSeconds", "smaller than");
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Task", "End": true,
      "Resource": "dept:DSF/check", "TimeoutSeconds": 0})")),
               "$.States.S.TimeoutSeconds", "between 1");
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Task", "End": true})")),
               "$.States.S", "\"Resource\"");
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Task", "End": true,
      "Resource": "dept:DSF/check", "Credentials": null})")),
               "$.States.S.Credentials", "object");
}

TEST(ValidatorTest, TaskResources) {
  for (const char* ok :
       {"dept:DSF/check", "arn:aws:states:::dept:DSF/check",
        "arn:aws:states:::dept:dsf", "arn:aws:lambda:us-east-1:1:function:F",
        "arn:aws:lambda:r:1:function:F:$LATEST", "${LambdaArn}"}) {
    EXPECT_VALID(ValidateText(OneState(absl::StrCat(
        R"({"Type": "Task", "End": true, "Resource": ")", ok, "\"}"))))
        << ok;
  }
  for (const char* bad :
       {"dept:dsf/check", "dept:DSF", "check", "arn:aws:lambda:r:1:function:F:",
        "arn:aws:lambda:r:1:function:F:$*#", "${LambdaArn", ""}) {
    EXPECT_ERROR(
        ValidateText(OneState(absl::StrCat(
            R"({"Type": "Task", "End": true, "Resource": ")", bad, "\"}"))),
        "$.States.S.Resource", "")
        << bad;
  }
}

TEST(ValidatorTest, PathsAndTemplates) {
  EXPECT_VALID(ValidateText(OneState(R"j({"Type": "Pass", "End": true,
      "InputPath": "$.a-b", "OutputPath": null, "ResultPath": "$.r",
      "Parameters": {"x.$": "$$.Execution.Id", "y": [{"z.$": "$.z"}],
                     "f.$": "States.Format('{} {}', $.a, $.b)"}})j")));
  auto errors = ValidateText(OneState(R"j({"Type": "Pass", "End": true,
      "InputPath": "a.b", "ResultPath": 5,
      "Parameters": {"x.$": "nope", "x": 1, "n": {"y.$": 3},
                     "i.$": "States.NoSuch($.a)"}})j"));
  EXPECT_ERROR(errors, "$.States.S.InputPath", "not a valid path");
  EXPECT_ERROR(errors, "$.States.S.ResultPath", "reference path");
  EXPECT_ERROR(errors, "$.States.S.Parameters['x.$']", "neither");
  EXPECT_ERROR(errors, "$.States.S.Parameters['x.$']", "given twice");
  EXPECT_ERROR(errors, "$.States.S.Parameters.n['y.$']", "string");
  EXPECT_ERROR(errors, "$.States.S.Parameters['i.$']", "States.NoSuch");
}

TEST(ValidatorTest, IntrinsicArgumentTypes) {
  auto errors = ValidateText(OneState(R"j({"Type": "Pass", "End": true,
      "Parameters": {"a.$": "States.MathAdd(1, '-1')",
                     "b.$": "States.UUID(1)",
                     "c.$": "States.ArrayGetItem($.a, States.MathAdd(1, 2))"}})j"));
  EXPECT_ERROR(errors, "$.States.S.Parameters['a.$']", "MathAdd");
  EXPECT_ERROR(errors, "$.States.S.Parameters['b.$']", "takes 0 arguments");
  EXPECT_FALSE(HasError(errors, "$.States.S.Parameters['c.$']", ""))
      << Describe(errors);
}

TEST(ValidatorTest, Wait) {
  EXPECT_VALID(ValidateText(OneState(
      R"({"Type": "Wait", "Timestamp": "2024-01-02T03:04:05.5+01:00",
          "End": true})")));
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Wait", "End": true})")),
               "$.States.S", "exactly one of");
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Wait", "Seconds": 1,
      "SecondsPath": "$.s", "End": true})")),
               "$.States.S", "found Seconds, SecondsPath");
  EXPECT_ERROR(
      ValidateText(OneState(R"({"Type": "Wait", "Seconds": -1, "End": true})")),
      "$.States.S.Seconds", "between 0");
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Wait",
      "Timestamp": "tomorrow", "End": true})")),
               "$.States.S.Timestamp", "RFC 3339");
}

TEST(ValidatorTest, Fail) {
  EXPECT_VALID(ValidateText(OneState(R"j({"Type": "Fail", "ErrorPath": "$.e",
      "CausePath": "States.Format('bad {}', $.x)"})j")));
  auto errors = ValidateText(OneState(R"({"Type": "Fail", "Error": "E",
      "ErrorPath": "$.e", "Cause": 3})"));
  EXPECT_ERROR(errors, "$.States.S.Error", "mutually exclusive");
  EXPECT_ERROR(errors, "$.States.S.Cause", "string");
}

TEST(ValidatorTest, Choice) {
  EXPECT_VALID(ValidateText(R"({"StartAt": "C", "States": {
      "C": {"Type": "Choice", "Choices": [
        {"And": [{"Variable": "$.a", "NumericGreaterThan": 1},
                 {"Not": {"Variable": "$.b", "StringMatches": "x*"}}],
         "Next": "D"},
        {"Variable": "$$.Execution.Input.t",
         "TimestampLessThanEqualsPath": "$.t", "Next": "D"}],
       "Default": "D"},
      "D": {"Type": "Succeed"}}})"));
  auto errors = ValidateText(R"({"StartAt": "C", "States": {
      "C": {"Type": "Choice", "Choices": [
        {"Variable": "$.a", "Next": "D"},
        {"Variable": "$.a", "StringEquals": "x", "IsNull": true, "Next": "D"},
        {"StringEquals": "x", "Next": "D"},
        {"Or": [], "Next": "D"},
        {"And": [{"Variable": "$.a", "BooleanEquals": true, "Next": "D"}],
         "Variable": "$.a", "Next": "D"},
        {"Variable": "$.a", "NumericEquals": "1", "Next": "D"},
        {"Variable": "$.a", "TimestampEquals": "yesterday", "Next": "D"},
        {"Variable": "$.a", "IsPresent": "yes", "Next": "D"},
        {"Variable": "$.a", "StringEqualz": "x", "Next": "D"},
        {"Variable": "$.a", "IsNull": true}],
       "Default": "Missing", "Next": "D"},
      "D": {"Type": "Succeed"}}})");
  const std::string c = "$.States.C.Choices";
  EXPECT_ERROR(errors, c + "[0]", "exactly one comparison operator");
  EXPECT_ERROR(errors, c + "[1]", "only one comparison operator");
  EXPECT_ERROR(errors, c + "[2]", "\"Variable\"");
  EXPECT_ERROR(errors, c + "[3].Or", "non-empty array");
  EXPECT_ERROR(errors, c + "[4]", "cannot also have");
  EXPECT_ERROR(errors, c + "[4].And[0].Next", "top-level");
  EXPECT_ERROR(errors, c + "[5].NumericEquals", "number");
  EXPECT_ERROR(errors, c + "[6].TimestampEquals", "RFC 3339");
  EXPECT_ERROR(errors, c + "[7].IsPresent", "boolean");
  EXPECT_ERROR(errors, c + "[8].StringEqualz", "unknown field");
  EXPECT_ERROR(errors, c + "[9]", "\"Next\"");
  EXPECT_ERROR(errors, "$.States.C.Default", "\"Missing\"");
  EXPECT_ERROR(errors, "$.States.C.Next", "unknown field");
}

TEST(ValidatorTest, Parallel) {
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Parallel", "End": true})")),
               "$.States.S", "\"Branches\"");
  EXPECT_ERROR(ValidateText(OneState(
                   R"({"Type": "Parallel", "End": true, "Branches": [[]]})")),
               "$.States.S.Branches[0]", "must be an object");
  auto errors = ValidateText(OneState(R"({"Type": "Parallel", "End": true,
      "Branches": [{"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 1}}}]})"));
  EXPECT_ERROR(errors, "$.States.S.Branches[0].States.W", "\"Next\"");
  EXPECT_ERROR(errors, "$.States.S.Branches[0].States", "no terminal state");
}

TEST(ValidatorTest, Map) {
  EXPECT_VALID(ValidateText(OneState(R"({"Type": "Map", "End": true,
      "ItemsPath": "$.items", "ItemSelector": {"v.$": "$$.Map.Item.Value"},
      "MaxConcurrency": 0, "ToleratedFailurePercentage": 5, "Label": "L",
      "ResultSelector": {"r.$": "$"}, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "I", "States": {"I": {"Type": "Succeed"}}}})")));
  auto errors = ValidateText(OneState(R"({"Type": "Map", "End": true,
      "MaxConcurrency": 2, "MaxConcurrencyPath": "$.m",
      "ToleratedFailureCount": -1, "ItemSelector": {}, "Parameters": {},
      "ItemProcessor": {"StartAt": "I", "Bogus": 1,
        "ProcessorConfig": {"Mode": "FAST"},
        "States": {"I": {"Type": "Succeed"}}},
      "Iterator": {"StartAt": "J", "States": {"J": {"Type": "Succeed"}}}})"));
  EXPECT_ERROR(errors, "$.States.S.MaxConcurrency", "mutually exclusive");
  EXPECT_ERROR(errors, "$.States.S.ToleratedFailureCount", "negative");
  EXPECT_ERROR(errors, "$.States.S.Parameters", "mutually exclusive");
  EXPECT_ERROR(errors, "$.States.S.Iterator", "mutually exclusive");
  EXPECT_ERROR(errors, "$.States.S.ItemProcessor.Bogus", "unknown field");
  EXPECT_ERROR(errors, "$.States.S.ItemProcessor.ProcessorConfig.Mode",
               "INLINE");
  EXPECT_ERROR(ValidateText(OneState(R"({"Type": "Map", "End": true})")),
               "$.States.S", "\"ItemProcessor\"");
}

TEST(ValidatorTest, StateNamesNeedingQuotesInPaths) {
  auto errors = ValidateText(R"({"StartAt": "a.b", "States": {
      "a.b": {"Type": "Pass", "Next": "x"}}})");
  EXPECT_ERROR(errors, "$.States['a.b'].Next", "no state named");
}

TEST(ValidatorTest, ErrorsCarrySourceLines) {
  auto errors = ValidateText(
      "{\n"
      "  \"StartAt\": \"A\",\n"
      "  \"States\": {\n"
      "    \"A\": {\n"
      "      \"Type\": \"Pass\",\n"
      "      \"Next\": \"Review\"\n"
      "    }\n"
      "  }\n"
      "}\n");
  ASSERT_TRUE(HasError(errors, "$.States.A.Next", "")) << Describe(errors);
  for (const auto& e : errors) {
    if (e.path == "$.States.A.Next") {
      EXPECT_EQ(e.line, 6);
    }
  }
  auto yaml_errors = ValidateText(
      "StartAt: A\n"
      "States:\n"
      "  A:\n"
      "    Type: Pass\n"
      "    Next: Review\n");
  for (const auto& e : yaml_errors) {
    if (e.path == "$.States.A.Next") {
      EXPECT_EQ(e.line, 5);
    }
  }
  EXPECT_TRUE(HasError(yaml_errors, "$.States.A.Next", ""));
}

// ---------------------------------------------------------------------------
// Conformance fixtures.

// The shared conformance suites: $OW_CONFORMANCE_DIR, else the folder the
// build names (../shared/conformance beside the source tree).
fs::path ConformanceDir() {
  if (const char* env = std::getenv("OW_CONFORMANCE_DIR")) return env;
#ifdef OW_CONFORMANCE_DIR
  return OW_CONFORMANCE_DIR;
#else
  return fs::path(__FILE__).parent_path() / ".." / ".." / ".." / "shared" /
         "conformance";
#endif
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

TEST(ValidatorConformanceTest, ValidatorFixtures) {
  fs::path dir = ConformanceDir() / "validator";
  if (!fs::exists(dir / "MANIFEST.tsv")) {
    GTEST_SKIP() << "no conformance fixtures at " << dir;
  }
  // "valid/name" -> features.
  std::map<std::string, std::set<std::string>> features;
  std::istringstream manifest(ReadFile(dir / "MANIFEST.tsv"));
  for (std::string line; std::getline(manifest, line);) {
    std::vector<std::string> cols = absl::StrSplit(line, '\t');
    if (cols.size() < 3 || cols[0] == "file") continue;
    std::vector<std::string> feats =
        absl::StrSplit(cols[2], ' ', absl::SkipEmpty());
    features[cols[1] + "/" + cols[0]] = {feats.begin(), feats.end()};
  }
  const std::set<std::string> kSkipped = {"distributed-map"};
  int passed = 0, failed = 0, skipped = 0;
  for (const char* kind : {"valid", "invalid"}) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir / kind)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& file : files) {
      std::string name = absl::StrCat(kind, "/", file.filename().string());
      const auto& feats = features[name];
      if (std::any_of(feats.begin(), feats.end(),
                      [&](const auto& f) { return kSkipped.count(f) > 0; })) {
        ++skipped;
        continue;
      }
      absl::StatusOr<LoadedSource> source =
          LoadSource(ReadFile(file), SourceFormat::kAuto);
      std::vector<ValidationError> errors;
      if (source.ok()) {
        errors = Validate(*source);
        // Warnings never change the verdict.
        ValidateOptions with_warnings;
        with_warnings.warnings = true;
        EXPECT_EQ(HasErrors(Validate(*source, with_warnings)), !errors.empty())
            << name;
      }
      bool rejected = !source.ok() || !errors.empty();
      bool want_rejected = std::string_view(kind) == "invalid";
      if (rejected == want_rejected) {
        ++passed;
      } else {
        ++failed;
        ADD_FAILURE() << name << " should be " << kind << "; got "
                      << (source.ok() ? Describe(errors)
                                      : source.status().ToString());
      }
    }
  }
  std::cout << "validator fixtures: " << passed << " passed, " << failed
            << " failed, " << skipped << " skipped\n";
  EXPECT_EQ(failed, 0);
  EXPECT_GT(passed, 0);
}

TEST(ValidatorConformanceTest, ExecutionCaseDefinitionsAreValid) {
  fs::path dir = ConformanceDir() / "cases";
  if (!fs::exists(dir)) GTEST_SKIP() << "no conformance cases at " << dir;
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    fs::path file = entry.path() / "definition.json";
    if (!fs::exists(file)) continue;
    ++checked;
    absl::StatusOr<LoadedSource> source =
        LoadSource(ReadFile(file), SourceFormat::kJson);
    ASSERT_TRUE(source.ok()) << file << ": " << source.status();
    std::vector<ValidationError> errors = Validate(*source);
    EXPECT_TRUE(errors.empty()) << entry.path().filename().string() << ":\n"
                                << Describe(errors);
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace onewindow::asl
