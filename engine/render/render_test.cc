#include "engine/render/render.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "engine/render/svg.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::render {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

// Every construct: Task with Retry, Catch and timeout; Choice with a simple
// rule, a compound rule and a Default; Parallel; Map with MaxConcurrency;
// Wait; Pass; Succeed; Fail.
constexpr char kEverything[] = R"({
  "StartAt": "Check",
  "States": {
    "Check": {"Type": "Task", "Resource": "dept:DSF/tax-clearance",
      "TimeoutSeconds": 604800,
      "Retry": [{"ErrorEquals": ["Dept.Unavailable"], "MaxAttempts": 3}],
      "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Refused"}],
      "Next": "Route"},
    "Route": {"Type": "Choice", "Choices": [
        {"Variable": "$.premises.area", "NumericGreaterThan": 100,
         "Next": "Opinions"},
        {"And": [{"Variable": "$.a", "BooleanEquals": true},
                 {"Not": {"Variable": "$.b", "IsPresent": true}}],
         "Next": "Partners"}],
      "Default": "Pause"},
    "Opinions": {"Type": "Parallel", "Branches": [
        {"StartAt": "Fire", "States": {
          "Fire": {"Type": "Task", "Resource": "dept:CB/fire-safety",
                   "End": true}}},
        {"StartAt": "Hygiene", "States": {
          "Hygiene": {"Type": "Task", "Resource": "dept:IAM/hygiene",
                      "End": true}}}],
      "Next": "Note"},
    "Partners": {"Type": "Map", "ItemsPath": "$.partners",
      "MaxConcurrency": 2,
      "ItemProcessor": {"StartAt": "Register", "States": {
        "Register": {"Type": "Task", "Resource": "dept:DSI/register",
                     "End": true}}},
      "Next": "Note"},
    "Pause": {"Type": "Wait", "Seconds": 3600, "Next": "Note"},
    "Note": {"Type": "Pass", "Next": "Granted"},
    "Granted": {"Type": "Succeed"},
    "Refused": {"Type": "Fail", "Error": "Refused", "Cause": "timed out"}
  }
})";

std::shared_ptr<const asl::Definition> Compile(const std::string& text) {
  auto def = asl::Definition::Compile(text);
  EXPECT_TRUE(def.ok()) << def.status();
  return def.ok() ? *def : nullptr;
}

TEST(RuleTextTest, ComparisonsTypeTestsAndCompounds) {
  EXPECT_EQ(RuleText(Json::parse(
                R"({"Variable":"$.premises.area","NumericGreaterThan":100})")),
            "$.premises.area > 100");
  EXPECT_EQ(
      RuleText(Json::parse(R"({"Variable":"$.name","StringEquals":"Lee"})")),
      "$.name == \"Lee\"");
  EXPECT_EQ(RuleText(Json::parse(
                R"({"Variable":"$.a","NumericLessThanEqualsPath":"$.b"})")),
            "$.a <= $.b");
  EXPECT_EQ(RuleText(Json::parse(R"({"Variable":"$.x","IsPresent":false})")),
            "$.x is absent");
  EXPECT_EQ(RuleText(Json::parse(R"({"Variable":"$.x","IsNull":true})")),
            "$.x is null");
  EXPECT_EQ(
      RuleText(Json::parse(R"({"Variable":"$.f","StringMatches":"*.pdf"})")),
      "$.f matches \"*.pdf\"");
  EXPECT_EQ(RuleText(Json::parse(R"({"Or":[
        {"Variable":"$.a","BooleanEquals":true},
        {"Not":{"Variable":"$.t","TimestampLessThan":"2026-01-01T00:00:00Z"}}],
        "Next":"X"})")),
            "Or($.a == true, Not($.t < \"2026-01-01T00:00:00Z\"))");
}

TEST(RuleTextTest, DeepRulesAreBounded) {
  Json rule = {{"Variable", "$.x"}, {"IsNull", true}};
  for (int i = 0; i < 200; ++i) rule = Json{{"Not", rule}};
  const std::string text = RuleText(rule);
  EXPECT_THAT(text, HasSubstr("\xE2\x80\xA6"));
  EXPECT_LT(text.size(), 400u);
}

TEST(EscapeTest, KeepsAlphanumericsAndHexesTheRest) {
  EXPECT_EQ(EscapeStateName("IssueLicence2"), "IssueLicence2");
  EXPECT_EQ(EscapeStateName("Issue licence"), "Issue_20licence");
  EXPECT_EQ(EscapeStateName("a_b"), "a_5Fb");
  EXPECT_NE(EscapeStateName("a b"), EscapeStateName("a_20b"));
  EXPECT_EQ(EscapeStateName("\xE5\xAF\xA9"), "_E5_AF_A9");
  EXPECT_EQ(StateDomId("Check"), "state-Check");
}

TEST(MermaidTest, EveryConstruct) {
  auto def = Compile(kEverything);
  ASSERT_NE(def, nullptr);
  const std::string m = ToMermaid(*def);
  EXPECT_THAT(m, HasSubstr("flowchart TD\n"));
  // Nodes: name, type, department, task type, timeout.
  EXPECT_THAT(m, HasSubstr("s_Check(\"Check<br/>Task \xC2\xB7 DSF<br/>"
                           "tax-clearance<br/>timeout 7 d\")"));
  EXPECT_THAT(m, HasSubstr("s_Route{\"Route<br/>Choice\"}"));
  EXPECT_THAT(m, HasSubstr("s_Pause[/\"Pause<br/>Wait \xC2\xB7 1 h\"/]"));
  EXPECT_THAT(m, HasSubstr("s_Refused{{\"Refused<br/>Fail \xC2\xB7 "
                           "Refused\"}}"));
  EXPECT_THAT(m, HasSubstr("s_Granted([\"Granted<br/>Succeed\"])"));
  EXPECT_THAT(m, HasSubstr("at most 2 at once"));
  // Clusters, nested.
  EXPECT_THAT(m, HasSubstr("subgraph c_Opinions [\"Opinions \xC2\xB7 "
                           "Parallel\"]\n"));
  EXPECT_THAT(m, HasSubstr("    subgraph c_Opinions_b1 [\"branch 1\"]\n"
                           "      s_Fire("));
  EXPECT_THAT(m, HasSubstr("subgraph c_Partners_items [\"each item\"]"));
  // Edges.
  EXPECT_THAT(m, HasSubstr("ow_start --> s_Check\n"));
  EXPECT_THAT(m, HasSubstr("s_Check --> s_Route\n"));
  EXPECT_THAT(
      m, HasSubstr("s_Route -->|\"$.premises.area #gt; 100\"| s_Opinions\n"));
  EXPECT_THAT(m, HasSubstr("s_Route -->|\"And($.a == true, Not($.b is "
                           "present))\"| s_Partners\n"));
  EXPECT_THAT(m, HasSubstr("s_Route -->|\"Default\"| s_Pause\n"));
  EXPECT_THAT(m, HasSubstr("s_Check -.->|\"catch States.Timeout\"| "
                           "s_Refused\n"));
  EXPECT_THAT(m, HasSubstr("s_Check -.->|\"retry Dept.Unavailable "
                           "\xC3\x97"
                           "3\"| s_Check\n"));
  EXPECT_THAT(m, HasSubstr("s_Opinions ==> s_Fire\n"));
  EXPECT_THAT(m, HasSubstr("s_Fire --> j_Opinions\n"));
  EXPECT_THAT(m, HasSubstr("j_Opinions --> s_Note\n"));
  EXPECT_THAT(m, HasSubstr("s_Partners ==> s_Register\n"));
  EXPECT_THAT(m, HasSubstr("s_Granted --> ow_end\n"));
  // A Fail state ends without an edge.
  EXPECT_THAT(m, Not(HasSubstr("s_Refused -->")));
  // Classes per type.
  EXPECT_THAT(m, HasSubstr("class s_Check,s_Fire,s_Hygiene,s_Register task\n"));
  EXPECT_THAT(m, Not(HasSubstr("passed")));
}

TEST(MermaidTest, HighlightAndHostileNames) {
  auto def = Compile(R"({"StartAt":"Say \"hi\" <now> #1","States":{
    "Say \"hi\" <now> #1":{"Type":"Pass","Next":"b_c"},
    "b_c":{"Type":"Succeed"}}})");
  ASSERT_NE(def, nullptr);
  Highlight h;
  h.passed = {"Say \"hi\" <now> #1", "b_c"};
  h.current = {"b_c"};
  RenderOptions o;
  o.highlight = &h;
  o.title = "x@1";
  const std::string m = ToMermaid(*def, o);
  EXPECT_THAT(m, HasSubstr("title: \"x@1\""));
  EXPECT_THAT(m, HasSubstr("[\"Say #quot;hi#quot; #lt;now#gt; #35;1"));
  const std::string id = "s_Say_20_22hi_22_20_3Cnow_3E_20_231";
  EXPECT_THAT(m, HasSubstr("class " + id + " passed\n"));
  EXPECT_THAT(m, HasSubstr("class s_b_5Fc current\n"));
}

TEST(DotTest, EveryConstructWithStableIds) {
  auto def = Compile(kEverything);
  ASSERT_NE(def, nullptr);
  const std::string d = ToDot(*def);
  EXPECT_THAT(d, HasSubstr("digraph workflow {\n"));
  EXPECT_THAT(d, HasSubstr("\"state-Check\" [id=\"state-Check\", "
                           "class=\"state task\", label=\"Check\\nTask "
                           "\xC2\xB7 DSF\\ntax-clearance\\ntimeout 7 d\""));
  EXPECT_THAT(d, HasSubstr("\"start\" [id=\"start\""));
  EXPECT_THAT(d, HasSubstr("\"end\" [id=\"end\""));
  EXPECT_THAT(d, HasSubstr("class=\"state choice\""));
  EXPECT_THAT(d, HasSubstr("subgraph \"cluster_Opinions\" {\n"));
  EXPECT_THAT(d, HasSubstr("id=\"cluster-Opinions-branch-2\"; "
                           "class=\"branch\"; label=\"branch 2\";"));
  EXPECT_THAT(d, HasSubstr("id=\"cluster-Partners-items\""));
  EXPECT_THAT(d, HasSubstr("\"state-Route\" -> \"state-Opinions\" "));
  EXPECT_THAT(d, HasSubstr("class=\"choice\", "
                           "label=\"$.premises.area > 100\""));
  EXPECT_THAT(d, HasSubstr("\"state-Route\" -> \"state-Pause\" "));
  EXPECT_THAT(d, HasSubstr("class=\"default\""));
  EXPECT_THAT(d, HasSubstr("\"state-Check\" -> \"state-Refused\" "));
  EXPECT_THAT(d, HasSubstr("label=\"catch States.Timeout\""));
  EXPECT_THAT(d, HasSubstr("\"state-Check\" -> \"state-Check\" "));
  EXPECT_THAT(d, HasSubstr("label=\"retry Dept.Unavailable \xC3\x97"
                           "3\""));
  EXPECT_THAT(d, HasSubstr("\"join-Opinions\" -> \"state-Note\""));
  EXPECT_THAT(d, HasSubstr("\"state-Granted\" -> \"end\""));
}

TEST(DotTest, HighlightMarksAndFadesTheRest) {
  auto def = Compile(kEverything);
  ASSERT_NE(def, nullptr);
  Highlight h;
  h.passed = {"Check", "Route", "Opinions", "Fire", "Hygiene"};
  h.current = {"Hygiene"};
  h.failed = {"Fire"};
  RenderOptions o;
  o.highlight = &h;
  const std::string d = ToDot(*def, o);
  EXPECT_THAT(d, HasSubstr("class=\"state task passed\", label=\"Check"));
  EXPECT_THAT(d, HasSubstr("class=\"state task current\", label=\"Hygiene"));
  EXPECT_THAT(d, HasSubstr("class=\"state task failed\", label=\"Fire"));
  EXPECT_THAT(d, HasSubstr("class=\"state pass\", label=\"Note\\nPass\", "
                           "tooltip=\"Note (Pass)\", shape=box, "
                           "style=\"filled\", fillcolor=\"#fafafa\""));
}

TEST(HighlightTest, RetriedAndCaughtFailuresAreNotFailed) {
  const Highlight h = HighlightFromHistory({{"ExecutionStarted", ""},
                                            {"StateEntered", "P"},
                                            {"StateEntered", "Tax"},
                                            {"StateFailed", "Tax"},
                                            {"StateRetryScheduled", "Tax"},
                                            {"StateEntered", "Fire"},
                                            {"StateFailed", "Fire"},
                                            {"StateFailed", "P"},
                                            {"StateCaught", "P"},
                                            {"StateEntered", "Refused"},
                                            {"StateFailed", "Refused"}},
                                           {"Tax"});
  EXPECT_EQ(h.passed, (std::set<std::string, std::less<>>{"P", "Tax", "Fire",
                                                          "Refused"}));
  EXPECT_EQ(h.failed, (std::set<std::string, std::less<>>{"Fire", "Refused"}));
  EXPECT_EQ(h.current, (std::set<std::string, std::less<>>{"Tax"}));
}

TEST(DotTest, QuotesAndBackslashesAreEscaped) {
  auto def = Compile(R"({"StartAt":"A \"q\" \\ b","States":{
    "A \"q\" \\ b":{"Type":"Succeed"}}})");
  ASSERT_NE(def, nullptr);
  const std::string d = ToDot(*def);
  EXPECT_THAT(d, HasSubstr("label=\"A \\\"q\\\" \\\\ b\\nSucceed\""));
  EXPECT_THAT(d, HasSubstr("\"state-A_20_22q_22_20_5C_20b\""));
}

TEST(DotTest, LongLabelsAreCut) {
  auto def = Compile(R"({"StartAt":"C","States":{
    "C":{"Type":"Choice","Choices":[{"And":[
      {"Variable":"$.opinions[0].approved","BooleanEquals":true},
      {"Variable":"$.opinions[1].approved","BooleanEquals":true},
      {"Variable":"$.opinions[2].approved","BooleanEquals":true}],
      "Next":"S"}],"Default":"S"},
    "S":{"Type":"Succeed"}}})");
  ASSERT_NE(def, nullptr);
  RenderOptions o;
  o.max_label_chars = 40;
  const std::string d = ToDot(*def, o);
  EXPECT_THAT(d, HasSubstr("label=\"And($.opinions[0].approved == true, $.o"
                           "\xE2\x80\xA6\""));
  // The tooltip keeps the whole rule.
  EXPECT_THAT(d, HasSubstr("$.opinions[2].approved == true)\""));
}

TEST(DotTest, DeepNestingIsElided) {
  Json machine = {{"StartAt", "Leaf"},
                  {"States", {{"Leaf", {{"Type", "Succeed"}}}}}};
  for (int i = 0; i < 15; ++i) {
    const std::string name = "P" + std::to_string(i);
    Json state = {{"Type", "Parallel"},
                  {"Branches", Json::array({machine})},
                  {"End", true}};
    Json states = Json::object();
    states[name] = std::move(state);
    machine = {{"StartAt", name}, {"States", std::move(states)}};
  }
  auto def = asl::Definition::FromJson(machine);
  ASSERT_TRUE(def.ok()) << def.status();
  const std::string d = ToDot(**def);
  EXPECT_THAT(d, HasSubstr("nested too deep to draw"));
  EXPECT_THAT(ToMermaid(**def), HasSubstr("nested too deep to draw"));
}

// SVG through the real Graphviz, when installed.
class SvgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!FindDot().ok()) GTEST_SKIP() << "Graphviz dot is not installed";
  }
};

TEST_F(SvgTest, DotRendersWithStateIdsAndClasses) {
  auto def = Compile(kEverything);
  ASSERT_NE(def, nullptr);
  Highlight h;
  h.current = {"Check"};
  RenderOptions o;
  o.highlight = &h;
  auto svg = DotToSvg(ToDot(*def, o));
  ASSERT_TRUE(svg.ok()) << svg.status();
  EXPECT_THAT(*svg, HasSubstr("<svg"));
  // Graphviz writes '-' in attributes as "&#45;".
  EXPECT_THAT(*svg, HasSubstr("<g id=\"state&#45;Check\" "
                              "class=\"node state task current\">"));
  EXPECT_THAT(*svg, HasSubstr("<g id=\"cluster&#45;Opinions\" "
                              "class=\"cluster parallel\">"));
  EXPECT_THAT(*svg, HasSubstr("class=\"edge catch\""));
}

TEST_F(SvgTest, DotSyntaxErrorIsInternalWithDotsMessage) {
  auto svg = DotToSvg("digraph { a -> }");
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(svg.status().message()), HasSubstr("dot failed"));
}

TEST_F(SvgTest, EarlyExitWhileWritingDoesNotKillUs) {
  // dot stops at the syntax error long before reading 8 MiB.
  std::string text = "digraph { a -> }\n";
  text += std::string(8u << 20, ' ');
  auto svg = DotToSvg(text);
  EXPECT_FALSE(svg.ok());
}

TEST(SvgRunTest, MissingProgramIsNotFoundNamingGraphviz) {
  SvgOptions o;
  o.dot_program = "/nonexistent/dot";
  auto svg = DotToSvg("digraph {}", o);
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(svg.status().message()), HasSubstr("graphviz"));
  o.dot_program = "ow-no-such-dot-program";
  EXPECT_EQ(DotToSvg("digraph {}", o).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(SvgRunTest, SlowProgramIsKilledAtTheDeadline) {
  char dir[] = "/tmp/ow-render-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string script = std::string(dir) + "/slow-dot";
  {
    std::ofstream f(script);
    f << "#!/bin/sh\nexec sleep 30\n";
  }
  ASSERT_EQ(::chmod(script.c_str(), 0755), 0);
  SvgOptions o;
  o.dot_program = script;
  o.timeout_ms = 200;
  auto svg = DotToSvg("digraph {}", o);
  EXPECT_EQ(svg.status().code(), absl::StatusCode::kDeadlineExceeded);
  std::remove(script.c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace onewindow::render
