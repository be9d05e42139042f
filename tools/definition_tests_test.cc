#include "tools/definition_tests.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::owctl {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr char kWorkflow[] = R"(StartAt: Opinions
States:
  Opinions:
    Type: Parallel
    ResultPath: $.opinions
    Branches:
      - StartAt: Hygiene
        States:
          Hygiene: {Type: Task, Resource: dept:IAM/hygiene, End: true}
      - StartAt: Works
        States:
          Works:
            Type: Task
            Resource: dept:DSSOPT/works
            Retry: [{ErrorEquals: [Dept.Failure], MaxAttempts: 2}]
            End: true
    Next: Decide
  Decide:
    Type: Choice
    Choices:
      - And:
          - Variable: $.opinions[0].approved
            BooleanEquals: true
          - Variable: $.opinions[1].approved
            BooleanEquals: true
        Next: Granted
    Default: Refused
  Granted:
    Type: Pass
    Parameters: {decision: granted, area.$: $.premises.area}
    End: true
  Refused: {Type: Fail, Error: Licence.Refused, Cause: an opinion was negative}
)";

class DefinitionTestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ow-deftest-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    Write("food.asl.yaml", kWorkflow);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  TestFileReport Run(const std::string& text) {
    return RunDefinitionTestFile(Write("food.test.yaml", text));
  }

  std::string dir_;
};

TEST_F(DefinitionTestsTest, PassingCasesWithAttemptsAndSubsets) {
  Write("input.json", R"({"premises": {"area": 80}})");
  const TestFileReport r = Run(R"(workflow: food.asl.yaml
cases:
  - name: all approve after a retry
    input_file: input.json
    mocks:
      Hygiene: {result: {approved: true}}
      Works: [{error: Dept.Failure, cause: down}, {result: {approved: true}}]
    expect:
      status: SUCCEEDED
      output: {decision: granted, area: 80.0}
      states: [Opinions, Decide, Granted]
  - name: refused
    input: {premises: {area: 80}}
    mocks:
      Hygiene: {result: {approved: false}}
      Works: {result: {approved: true, extra: 1}}
    expect:
      status: FAILED
      error: Licence.Refused
      cause: an opinion was negative
      states: [Opinions, Decide, Refused]
  - name: subset
    input: {premises: {area: 80}, other: [1, 2]}
    start_time: 2026-03-02T09:00:00Z
    mocks:
      Hygiene: {result: {approved: true}}
      Works: {result: {approved: true}, after_seconds: 3600}
    expect:
      status: SUCCEEDED
      output_contains: {decision: granted}
)");
  for (const auto& c : r.cases)
    EXPECT_TRUE(c.passed) << c.name << ": " << c.failure;
  EXPECT_EQ(r.passed(), 3);
  EXPECT_EQ(r.failed(), 0);
}

TEST_F(DefinitionTestsTest, FailuresNameTheFirstDifference) {
  const TestFileReport r = Run(R"(workflow: food.asl.yaml
cases:
  - name: wrong output
    input: {premises: {area: 80}}
    mocks:
      Hygiene: {result: {approved: true}}
      Works: {result: {approved: true}}
    expect:
      status: SUCCEEDED
      output: {decision: refused, area: 80}
  - name: wrong status
    input: {premises: {area: 80}}
    mocks:
      Hygiene: {result: {approved: false}}
      Works: {result: {approved: true}}
    expect: {status: SUCCEEDED}
  - name: wrong path
    input: {premises: {area: 80}}
    mocks:
      Hygiene: {result: {approved: true}}
      Works: {result: {approved: true}}
    expect: {status: SUCCEEDED, states: [Opinions, Granted]}
  - name: retries run out
    input: {}
    mocks:
      Hygiene: {result: {approved: true}}
      Works: {error: Dept.Failure}
    expect: {status: FAILED, error: Dept.Unavailable}
  - name: missing mock
    input: {}
    mocks:
      Hygiene: {result: {approved: true}}
    expect: {status: SUCCEEDED}
  - name: extra member
    input: {premises: {area: 80}}
    mocks:
      Hygiene: {result: {approved: true}}
      Works: {result: {approved: true}}
    expect:
      status: SUCCEEDED
      output: {decision: granted}
)");
  ASSERT_EQ(r.cases.size(), 6u);
  EXPECT_EQ(r.passed(), 0);
  EXPECT_EQ(r.cases[0].failure,
            "/output/decision: expected \"refused\", got \"granted\"");
  EXPECT_THAT(r.cases[1].failure,
              HasSubstr("/status: expected \"SUCCEEDED\", got \"FAILED\" "
                        "with error \"Licence.Refused\""));
  EXPECT_EQ(r.cases[2].failure,
            "/states/1: expected \"Granted\", got \"Decide\"");
  EXPECT_EQ(r.cases[3].failure,
            "/error: expected \"Dept.Unavailable\", got \"Dept.Failure\"");
  EXPECT_EQ(r.cases[4].failure,
            "Task state \"Works\" was reached with no mock");
  EXPECT_EQ(r.cases[5].failure, "/output/area: expected nothing, got 80");
}

TEST_F(DefinitionTestsTest, BadInputNamesLineAndState) {
  const TestFileReport r = Run(R"(workflow: food.asl.yaml
cases:
  - name: missing state
    mocks:
      Hygeine: {result: {}}
    expect: {status: SUCCEEDED}
  - name: not a task
    mocks:
      Decide: {result: {}}
    expect: {status: SUCCEEDED}
  - name: nested state in states
    expect: {status: SUCCEEDED, states: [Opinions, Works]}
  - name: bad mock
    mocks:
      Works: {result: 1, error: X}
    expect: {status: SUCCEEDED}
  - name: unknown field
    expect: {status: SUCCEEDED, outputs: {}}
  - name: missing state
    expect: {status: SUCCEEDED}
)");
  ASSERT_EQ(r.cases.size(), 6u);
  EXPECT_EQ(r.passed(), 0);
  EXPECT_EQ(r.cases[0].failure,
            "$.cases[0].mocks.Hygeine: no state named \"Hygeine\" in "
            "food.asl.yaml (line 5); hint: did you mean \"Hygiene\"?");
  EXPECT_EQ(r.cases[1].failure,
            "$.cases[1].mocks.Decide: state \"Decide\" is a Choice state; "
            "only Task states take mocks (line 9)");
  EXPECT_EQ(r.cases[2].failure,
            "$.cases[2].expect.states[1]: state \"Works\" is inside "
            "\"Opinions\"; states: lists top-level states only (line 12)");
  EXPECT_THAT(r.cases[3].failure,
              HasSubstr("$.cases[3].mocks.Works: a mock has either result: "
                        "or error:"));
  EXPECT_THAT(r.cases[3].failure, HasSubstr("(line 15)"));
  EXPECT_THAT(r.cases[4].failure,
              HasSubstr("$.cases[4].expect.outputs: unknown field "
                        "\"outputs\""));
  EXPECT_THAT(r.cases[5].failure,
              HasSubstr("another case is already named \"missing state\""));
}

TEST_F(DefinitionTestsTest, FileProblemsFailTheFile) {
  TestFileReport r = RunDefinitionTestFile(dir_ + "/nope.test.yaml");
  ASSERT_EQ(r.cases.size(), 1u);
  EXPECT_FALSE(r.cases[0].passed);
  EXPECT_THAT(r.cases[0].failure, HasSubstr("cannot read"));

  r =
      Run("workflow: missing.asl.yaml\ncases: [{name: a, expect: "
          "{status: SUCCEEDED}}]\n");
  ASSERT_EQ(r.failed(), 1);
  EXPECT_THAT(r.cases[0].failure, HasSubstr("$.workflow: \""));
  EXPECT_THAT(r.cases[0].failure, HasSubstr("missing.asl.yaml\": cannot read"));
  EXPECT_THAT(r.cases[0].failure, HasSubstr("(line 1)"));

  Write("bad.asl.yaml",
        "StartAt: A\nStates:\n  A: {Type: Pass, Nxt: B, End: true}\n");
  r =
      Run("workflow: bad.asl.yaml\ncases: [{name: a, expect: "
          "{status: SUCCEEDED}}]\n");
  ASSERT_EQ(r.failed(), 1);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_THAT(r.notes[0], HasSubstr("bad.asl.yaml: $.States.A.Nxt: "));
  EXPECT_THAT(r.notes[0], HasSubstr("(line 3"));

  r = Run("workflow: food.asl.yaml\ncases: []\n");
  EXPECT_THAT(r.cases[0].failure,
              HasSubstr("$.cases: cases: must be a non-empty list (line 2)"));
  r = Run("workflow: food.asl.yaml\ncase: []\n");
  EXPECT_THAT(r.cases[0].failure, HasSubstr("unknown field \"case\""));
  r = Run("workflow: food.asl.yaml\ncases: [ {name: a\n");
  EXPECT_FALSE(r.cases[0].passed);
  EXPECT_THAT(r.cases[0].failure, HasSubstr("$: "));
}

TEST(FirstDifferenceTest, PointersNumbersAndSubsets) {
  EXPECT_EQ(FirstDifference(Json::parse(R"({"a":1})"),
                            Json::parse(R"({"a":1.0})"), "", false),
            std::nullopt);
  EXPECT_EQ(FirstDifference(Json(true), Json(1), "/x", false),
            "/x: expected true, got 1");
  EXPECT_EQ(FirstDifference(Json::parse(R"({"a/b":{"c~":[1,2]}})"),
                            Json::parse(R"({"a/b":{"c~":[1,3]}})"), "", false),
            "/a~1b/c~0/1: expected 2, got 3");
  EXPECT_EQ(
      FirstDifference(Json::parse("[1,2]"), Json::parse("[1]"), "/o", false),
      "/o/1: expected 2, got nothing (1 elements)");
  EXPECT_EQ(FirstDifference(Json::parse(R"([{"a":1}])"),
                            Json::parse(R"([{"a":1,"b":2}])"), "/o", true),
            std::nullopt);
  EXPECT_EQ(FirstDifference(Json::parse(R"({"a":1})"),
                            Json::parse(R"({"b":1})"), "/o", true),
            "/o/a: expected 1, got nothing");
  EXPECT_EQ(FirstDifference(Json(1), Json("1"), "", false),
            "/: expected 1, got \"1\"");
}

}  // namespace
}  // namespace onewindow::owctl
