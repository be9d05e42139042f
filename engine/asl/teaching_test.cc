// Validation that teaches: positions (line and column, JSON and YAML),
// hints, and warnings that never make a definition invalid.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/asl/definition.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::asl {
namespace {

using ::testing::HasSubstr;

std::vector<ValidationError> Check(const std::string& text,
                                   bool warnings = true) {
  absl::StatusOr<LoadedSource> source = LoadSource(text, SourceFormat::kAuto);
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return {};
  ValidateOptions options;
  options.warnings = warnings;
  return Validate(*source, options);
}

std::string Describe(const std::vector<ValidationError>& problems) {
  std::vector<std::string> lines;
  for (const auto& e : problems) {
    lines.push_back(absl::StrCat(
        e.line, ":", e.column, ": ",
        e.severity == Severity::kWarning ? "warning: " : "", e.path, ": ",
        e.message, e.hint.empty() ? "" : " -- hint: ", e.hint));
  }
  return absl::StrJoin(lines, "\n");
}

// A one-state machine around `state` (a JSON object text) named "S".
std::string OneStateText(const std::string& state) {
  return absl::StrCat(R"({"StartAt": "S", "States": {"S": )", state, "}}");
}

const ValidationError* Find(const std::vector<ValidationError>& problems,
                            const std::string& path, const std::string& text) {
  auto it = std::find_if(problems.begin(), problems.end(), [&](const auto& e) {
    return e.path == path && e.message.find(text) != std::string::npos;
  });
  return it == problems.end() ? nullptr : &*it;
}

TEST(TeachingTest, JsonPositionsHaveColumns) {
  std::string text =
      "{\n"
      "  \"StartAt\": \"A\",\n"
      "  \"States\": {\n"
      "    \"A\": {\"Type\": \"Pass\", \"Nxt\": \"B\", \"End\": true},\n"
      "    \"é\": {\"Type\": \"Pass\", \"Next\": \"Nowhere\"}\n"
      "  }\n"
      "}\n";
  auto problems = Check(text, /*warnings=*/false);
  const ValidationError* unknown = Find(problems, "$.States.A.Nxt", "unknown");
  ASSERT_NE(unknown, nullptr) << Describe(problems);
  EXPECT_EQ(unknown->line, 4);
  EXPECT_EQ(unknown->column, 27);
  EXPECT_EQ(unknown->severity, Severity::kError);
  const ValidationError* next =
      Find(problems, "$.States.é.Next", "no state named");
  ASSERT_NE(next, nullptr) << Describe(problems);
  EXPECT_EQ(next->line, 5);
  EXPECT_EQ(next->column, 27);  // code points: "é" is one column
}

TEST(TeachingTest, YamlPositionsHaveColumns) {
  std::string text =
      "StartAt: A\n"
      "States:\n"
      "  A:\n"
      "    Type: Pass\n"
      "    Next: Bee\n"
      "  Be:\n"
      "    Type: Succeed\n";
  auto problems = Check(text, /*warnings=*/false);
  const ValidationError* next =
      Find(problems, "$.States.A.Next", "no state named \"Bee\"");
  ASSERT_NE(next, nullptr) << Describe(problems);
  EXPECT_EQ(next->line, 5);
  EXPECT_EQ(next->column, 5);
  EXPECT_EQ(next->hint, "did you mean \"Be\"?");
}

TEST(TeachingTest, NearestStateNameForEveryTransition) {
  auto problems = Check(R"({
    "StartAt": "ChekFire",
    "States": {
      "CheckFire": {"Type": "Task", "Resource": "dept:FSB/inspect",
        "Retry": [{"ErrorEquals": ["States.ALL"]}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Rejectd"}],
        "Next": "Decide"},
      "Decide": {"Type": "Choice",
        "Choices": [{"Variable": "$.ok", "BooleanEquals": true,
                     "Next": "approve"}],
        "Default": "Rejected"},
      "Approve": {"Type": "Succeed"},
      "Rejected": {"Type": "Fail"}
    }})");
  const ValidationError* start =
      Find(problems, "$.StartAt", "StartAt names \"ChekFire\"");
  ASSERT_NE(start, nullptr) << Describe(problems);
  EXPECT_EQ(start->hint, "did you mean \"CheckFire\"?");
  const ValidationError* catcher =
      Find(problems, "$.States.CheckFire.Catch[0].Next", "no state named");
  ASSERT_NE(catcher, nullptr) << Describe(problems);
  EXPECT_EQ(catcher->hint, "did you mean \"Rejected\"?");
  const ValidationError* choice =
      Find(problems, "$.States.Decide.Choices[0].Next", "no state named");
  ASSERT_NE(choice, nullptr) << Describe(problems);
  EXPECT_EQ(choice->hint, "did you mean \"Approve\"?");
  // Nothing close: no guess.
  auto far = Check(R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Next": "Completely different"}}})");
  const ValidationError* e = Find(far, "$.States.A.Next", "no state named");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->hint, "");
}

TEST(TeachingTest, UnknownFieldsNameWhatIsAllowed) {
  auto problems = Check(R"({"StartAt": "T", "States": {
      "T": {"Type": "Task", "Resource": "dept:DSF/check", "End": true,
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAtempts": 2}],
            "ResultPth": "$.r"}}})");
  const ValidationError* field =
      Find(problems, "$.States.T.ResultPth", "unknown field \"ResultPth\"");
  ASSERT_NE(field, nullptr) << Describe(problems);
  EXPECT_THAT(field->hint, HasSubstr("did you mean \"ResultPath\"?"));
  EXPECT_THAT(field->hint, HasSubstr("A Task state allows: "));
  EXPECT_THAT(field->hint, HasSubstr("HeartbeatSeconds"));
  const ValidationError* retry =
      Find(problems, "$.States.T.Retry[0].MaxAtempts", "unknown field");
  ASSERT_NE(retry, nullptr) << Describe(problems);
  EXPECT_THAT(retry->hint, HasSubstr("did you mean \"MaxAttempts\"?"));
  auto rule = Check(R"({"StartAt": "C", "States": {
      "C": {"Type": "Choice", "Default": "D", "Choices": [
        {"Variable": "$.a", "NumericEqual": 1, "Next": "D"}]},
      "D": {"Type": "Succeed"}}})");
  const ValidationError* op =
      Find(rule, "$.States.C.Choices[0].NumericEqual", "unknown field");
  ASSERT_NE(op, nullptr) << Describe(rule);
  EXPECT_EQ(op->hint, "did you mean \"NumericEquals\"?");
  auto type = Check(OneStateText(R"({"Type": "Paralel", "End": true})"));
  const ValidationError* t =
      Find(type, "$.States.S.Type", "unknown state type");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->hint, "did you mean \"Parallel\"?");
}

TEST(TeachingTest, ResourceFormExpected) {
  for (const auto& [resource, guess] :
       std::vector<std::pair<std::string, std::string>>{
           {"DSF/check", "dept:DSF/check"},
           {"dept:dsf/check", "dept:DSF/check"},
           {"dept:DSF", ""}}) {
    auto problems = Check(OneStateText(absl::StrCat(
        R"({"Type": "Task", "End": true, "Resource": ")", resource, "\"}")));
    const ValidationError* e =
        Find(problems, "$.States.S.Resource", "Resource");
    ASSERT_NE(e, nullptr) << resource << "\n" << Describe(problems);
    EXPECT_THAT(e->hint, HasSubstr("dept:<DEPT>/<task-type>"));
    if (!guess.empty()) {
      EXPECT_THAT(e->hint, HasSubstr("did you mean \"" + guess + "\"?"));
    }
  }
}

TEST(TeachingTest, PathProblemsSayWhy) {
  auto problems = Check(OneStateText(
      R"({"Type": "Pass", "End": true, "InputPath": "$.a[", "OutputPath": "x",
          "Parameters": {"v.$": "name"}})"));
  const ValidationError* input =
      Find(problems, "$.States.S.InputPath", "not a valid path");
  ASSERT_NE(input, nullptr) << Describe(problems);
  EXPECT_THAT(input->hint, HasSubstr("position"));
  const ValidationError* param =
      Find(problems, "$.States.S.Parameters['v.$']", "neither a valid path");
  ASSERT_NE(param, nullptr) << Describe(problems);
  EXPECT_THAT(param->hint, HasSubstr("starts with '$'"));
}

TEST(TeachingTest, UnreachableStaysAnError) {
  auto problems = Check(R"({"StartAt": "A", "States": {
      "A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}})");
  const ValidationError* e = Find(problems, "$.States.B", "unreachable");
  ASSERT_NE(e, nullptr) << Describe(problems);
  EXPECT_EQ(e->severity, Severity::kError);
  EXPECT_THAT(e->hint, HasSubstr("add a transition"));
}

constexpr char kLikelyWrong[] = R"({
  "StartAt": "Check",
  "States": {
    "Check": {"Type": "Task", "Resource": "dept:DSF/tax-check",
              "Next": "Route"},
    "Route": {"Type": "Choice",
              "Choices": [{"Variable": "$.ok", "BooleanEquals": true,
                           "Next": "Each"}]},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "End": true,
             "ItemProcessor": {"StartAt": "Inspect", "States": {
               "Inspect": {"Type": "Task", "Resource": "dept:IACM/inspect",
                           "Retry": [{"ErrorEquals": ["Dept.Unavailable"]}],
                           "End": true}}}}
  }
})";

TEST(TeachingTest, WarningsForLegalButLikelyWrong) {
  auto problems = Check(kLikelyWrong);
  EXPECT_FALSE(HasErrors(problems)) << Describe(problems);
  ASSERT_EQ(problems.size(), 3u) << Describe(problems);
  for (const auto& p : problems) {
    EXPECT_EQ(p.severity, Severity::kWarning);
    EXPECT_FALSE(p.hint.empty());
    EXPECT_GT(p.line, 0);
    EXPECT_GT(p.column, 0);
  }
  const ValidationError* retry =
      Find(problems, "$.States.Check", "no Retry covers Dept.Unavailable");
  ASSERT_NE(retry, nullptr) << Describe(problems);
  EXPECT_THAT(retry->message, HasSubstr("department DSF"));
  EXPECT_THAT(retry->hint,
              HasSubstr("\"ErrorEquals\": [\"Dept.Unavailable\"]"));
  EXPECT_NE(Find(problems, "$.States.Route", "has no Default"), nullptr);
  const ValidationError* map =
      Find(problems, "$.States.Each", "no MaxConcurrency");
  ASSERT_NE(map, nullptr) << Describe(problems);
  EXPECT_THAT(map->message, HasSubstr("IACM"));

  // Without the option: no warnings, the same as Validate(source).
  EXPECT_TRUE(Check(kLikelyWrong, /*warnings=*/false).empty());
  // Warnings never make a definition invalid.
  EXPECT_TRUE(Definition::Compile(kLikelyWrong).ok());
}

TEST(TeachingTest, WhatSilencesTheWarnings) {
  auto problems = Check(R"({"StartAt": "P", "States": {
      "P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "T", "States": {"T": {"Type": "Task",
          "Resource": "dept:DSF/check", "End": true,
          "Retry": [{"ErrorEquals": ["States.TaskFailed"]}]}}},
        {"StartAt": "U", "States": {"U": {"Type": "Task",
          "Resource": "dept:DSF/check", "End": true,
          "Retry": [{"ErrorEquals": ["Dept.Unavailable"], "MaxAttempts": 0}]}}},
        {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
          "MaxConcurrency": 4, "ItemProcessor": {"StartAt": "X", "States": {
            "X": {"Type": "Task", "Resource": "dept:DSF/check", "End": true,
                  "Retry": [{"ErrorEquals": ["States.ALL"]}]}}}}}},
        {"StartAt": "C", "States": {"C": {"Type": "Choice", "Default": "Z",
          "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "Z"}]},
          "Z": {"Type": "Succeed"}}}]}}})");
  // Only U warns: a retrier that never retries covers nothing.
  ASSERT_EQ(problems.size(), 1u) << Describe(problems);
  EXPECT_EQ(problems[0].path, "$.States.P.Branches[1].States.U");
}

TEST(TeachingTest, LoadFailuresCarryPositions) {
  auto json = LoadSource("{\n  \"a\": [1,\n  }\n", SourceFormat::kJson);
  ASSERT_FALSE(json.ok());
  ValidationError e = LoadFailure(json.status());
  EXPECT_EQ(e.path, "$");
  EXPECT_EQ(e.line, 3);
  EXPECT_GT(e.column, 0);
  auto yaml = LoadSource("a: 1\n b: [\n", SourceFormat::kYaml);
  ASSERT_FALSE(yaml.ok());
  EXPECT_GT(LoadFailure(yaml.status()).line, 0);
  auto size = LoadFailure(absl::ResourceExhaustedError("too big"));
  EXPECT_EQ(size.line, 0);
  EXPECT_EQ(size.message, "too big");
}

// The editor schema lists no field the validator would call unknown.
TEST(TeachingTest, SchemaFieldsAreFieldsTheValidatorKnows) {
#ifdef OW_ASL_SCHEMA
  std::ifstream in(OW_ASL_SCHEMA);
  ASSERT_TRUE(in) << OW_ASL_SCHEMA;
  std::stringstream text;
  text << in.rdbuf();
  Json schema = Json::parse(text.str());
  const Json& defs = schema["definitions"];
  int checked = 0;
  for (const char* type : {"pass", "task", "choice", "wait", "succeed", "fail",
                           "parallel", "map"}) {
    for (const auto& [field, spec] : defs[type]["properties"].items()) {
      Json state = {{"Type", defs[type]["properties"]["Type"]["const"]},
                    {field, nullptr}};
      auto problems = Check(OneStateText(state.dump()), /*warnings=*/false);
      EXPECT_EQ(Find(problems, "$.States.S." + field, "unknown field"), nullptr)
          << type << "." << field << "\n"
          << Describe(problems);
      ++checked;
    }
  }
  for (const char* def : {"retrier", "catcher"}) {
    for (const auto& [field, spec] : defs[def]["properties"].items()) {
      Json entry = {{"ErrorEquals", {"States.ALL"}}, {field, nullptr}};
      Json state = {{"Type", "Task"},
                    {"Resource", "dept:A/b"},
                    {"End", true},
                    {std::string(def) == "retrier" ? "Retry" : "Catch",
                     Json::array({entry})}};
      auto problems = Check(OneStateText(state.dump()), /*warnings=*/false);
      for (const auto& p : problems) {
        EXPECT_EQ(p.message.find("unknown field"), std::string::npos)
            << def << "." << field << ": " << p.message;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 60);
#else
  GTEST_SKIP() << "schema path not configured";
#endif
}

}  // namespace
}  // namespace onewindow::asl
