// What an attacker sends, door by door: every request below either crashed,
// stalled or exhausted memory before the limits existed. Each must now be
// refused quickly with a message naming the limit, or evaluated within
// bounds.
#include "engine/asl/limits.h"

#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/asl/definition.h"
#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "engine/asl/json_parse.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::asl {
namespace {

using ::testing::HasSubstr;

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out.append(s);
  return out;
}

std::string Nested(size_t depth) {
  return Repeat("[", depth) + Repeat("]", depth);
}

// A definition whose only state is a Pass with `parameters` as Parameters.
std::string PassWith(const Json& parameters) {
  Json def = {
      {"StartAt", "P"},
      {"States",
       {{"P", {{"Type", "Pass"}, {"Parameters", parameters}, {"End", true}}}}}};
  return def.dump();
}

// ---- ParseJson --------------------------------------------------------

TEST(ParseJsonTest, AcceptsOrdinaryJson) {
  auto v = ParseJson(R"({"a": [1, 2.5, "x\u0000y", true, null]})");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ((*v)["a"][2].get<std::string>(), std::string("x\0y", 3));
  EXPECT_TRUE(ParseJson("\xEF\xBB\xBF{}").ok());
  EXPECT_TRUE(ParseJson(Nested(128)).ok());
}

TEST(ParseJsonTest, RefusesDeepNestingWithoutRecursing) {
  auto v = ParseJson(Nested(100000));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(),
              HasSubstr("JSON nesting depth exceeds the limit of 128 at line "
                        "1, column 129"));
  auto objects = ParseJson(Repeat("{\"a\":", 40000) + "1" + Repeat("}", 40000));
  ASSERT_FALSE(objects.ok());
  EXPECT_THAT(objects.status().message(), HasSubstr("limit of 128"));
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseJson("\"" + Repeat("[", 1000) + "\"").ok());
}

TEST(ParseJsonTest, NumbersOutOfRange) {
  auto v = ParseJson(R"({"a":1e999})");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(v.status().message(),
              HasSubstr("number out of range at line 1, column 6: 1e999"));
  EXPECT_FALSE(ParseJson("-1e400").ok());
  // Large but finite numbers are fine.
  EXPECT_TRUE(ParseJson("123456789012345678901234567890").ok());
}

TEST(ParseJsonTest, TrailingBytesAndNul) {
  auto nul = ParseJson(std::string("{\"a\":1}\0{\"b\":2}", 15));
  ASSERT_FALSE(nul.ok());
  EXPECT_THAT(nul.status().message(),
              HasSubstr("NUL byte at line 1, column 8"));
  auto trailing = ParseJson(R"({"a":1} {"b":2})");
  ASSERT_FALSE(trailing.ok());
  EXPECT_THAT(trailing.status().message(),
              HasSubstr("unexpected bytes after the JSON value at line 1"));
  EXPECT_FALSE(ParseJson("").ok());
  EXPECT_FALSE(ParseJson("[1,]").ok());
}

TEST(ParseJsonTest, InvalidUtf8) {
  auto v = ParseJson("{\"a\":\"\xC3\x28\"}");
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("UTF-8"));
  EXPECT_THAT(v.status().message(), HasSubstr("line 1"));
  EXPECT_FALSE(ParseJson("\"\\uD800\"").ok());  // lone surrogate
}

TEST(ParseJsonTest, SizeLimit) {
  Limits limits;
  limits.max_payload_bytes = 10;
  auto v = ParseJson("[1,2,3,4,5,6]", limits);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(v.status().message(),
              HasSubstr("payload size exceeds the limit of 10 bytes"));
}

TEST(ParseJsonTest, PositionsCountCodePoints) {
  auto v = ParseJson("{\"é\": x}");
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("line 1, column 7"));
}

TEST(JsonMeasureTest, DepthAndSizeWithoutRecursion) {
  Json deep = Json::array();
  Json* cur = &deep;
  for (int i = 0; i < 100000; ++i) {
    cur->push_back(Json::array());
    cur = &cur->back();
  }
  EXPECT_EQ(JsonDepth(deep), 100001);
  EXPECT_EQ(JsonDepth(deep, 128), 129);
  EXPECT_EQ(JsonTextSize(deep), 200002u);
  Json v = Json::parse(
      R"({"a\n":[1,-20,3.5,true,false,null,"q\"\u0001",{}],"b":18446744073709551615})");
  EXPECT_EQ(JsonTextSize(v), v.dump().size());
  EXPECT_EQ(JsonDepth(Json(1)), 0);
}

// ---- definitions ------------------------------------------------------

TEST(DefinitionLimitsTest, DeepJsonDefinition) {
  auto def = Definition::Compile("{\"StartAt\":" + Nested(100000) + "}");
  ASSERT_FALSE(def.ok());
  EXPECT_THAT(def.status().message(), HasSubstr("JSON nesting depth"));
}

TEST(DefinitionLimitsTest, DeepYamlDefinitions) {
  for (const std::string& text :
       {"a: " + Nested(100000), Repeat("- ", 100000) + "x\n",
        "a: {b: " + Repeat("{c: ", 50000) + "1" + Repeat("}", 50001)}) {
    auto start = std::chrono::steady_clock::now();
    auto loaded = LoadSource(text, SourceFormat::kYaml);
    ASSERT_FALSE(loaded.ok());
    EXPECT_THAT(loaded.status().message(),
                HasSubstr("JSON nesting depth exceeds the limit of 128"));
    EXPECT_LT(std::chrono::steady_clock::now() - start,
              std::chrono::seconds(5));
  }
  // Block nesting by indentation.
  std::string block;
  for (int i = 0; i < 300; ++i) {
    block += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  }
  auto loaded = LoadSource(block, SourceFormat::kYaml);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("limit of 128"));
  // Brackets in quoted, block and plain scalars do not count.
  std::string ok = "a: '" + Repeat("[", 500) + "'\nb: |\n  " +
                   Repeat("{", 500) + "\nc: x" + Repeat("[", 500) + "\n";
  auto fine = LoadSource(ok, SourceFormat::kYaml);
  EXPECT_TRUE(fine.ok()) << fine.status();
}

TEST(DefinitionLimitsTest, YamlAliasBomb) {
  // The "billion laughs" shape: each level doubles... ten times over.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'j'; ++c) {
    bomb +=
        absl::StrCat(std::string(1, c), ": &", std::string(1, c), " [*",
                     std::string(1, prev), ",*", std::string(1, prev), ",*",
                     std::string(1, prev), ",*", std::string(1, prev), ",*",
                     std::string(1, prev), ",*", std::string(1, prev), ",*",
                     std::string(1, prev), ",*", std::string(1, prev), ",*",
                     std::string(1, prev), ",*", std::string(1, prev), "]\n");
    prev = c;
  }
  EXPECT_LT(bomb.size(), 500u);
  // The default (a million nodes) takes a while in a debug build; the
  // mechanism is the same with a smaller bound.
  EXPECT_EQ(DefaultLimits().max_yaml_nodes, 1000000u);
  Limits limits;
  limits.max_yaml_nodes = 100000;
  auto start = std::chrono::steady_clock::now();
  auto loaded = LoadSource(bomb, SourceFormat::kYaml, limits);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(
      loaded.status().message(),
      HasSubstr("YAML nodes after aliases exceeds the limit of 100000"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("YAML error at line "));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

  Limits small;
  small.max_yaml_bytes = 1000;
  auto bytes = LoadSource("a: &a " + std::string(600, 'x') + "\nb: *a\n",
                          SourceFormat::kYaml, small);
  ASSERT_FALSE(bytes.ok());
  EXPECT_THAT(bytes.status().message(),
              HasSubstr("YAML bytes after aliases exceeds the limit of 1000 "
                        "bytes"));
  // Modest reuse is fine.
  auto fine = LoadSource("a: &a {x: 1}\nb: *a\nc: *a\n", SourceFormat::kYaml);
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->doc["c"]["x"], 1);
}

TEST(DefinitionLimitsTest, DefinitionSize) {
  std::string big = PassWith({{"x", std::string((1 << 20) + 10, 'a')}});
  auto def = Definition::Compile(big);
  ASSERT_FALSE(def.ok());
  EXPECT_EQ(def.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(def.status().message(),
              HasSubstr("definition size exceeds the limit of 1048576 bytes"));
}

TEST(DefinitionLimitsTest, StateCount) {
  Json states = Json::object();
  for (int i = 0; i < 10001; ++i) {
    std::string next = absl::StrCat("S", i + 1);
    states[absl::StrCat("S", i)] = i == 10000
                                       ? Json{{"Type", "Succeed"}}
                                       : Json{{"Type", "Pass"}, {"Next", next}};
  }
  Json doc = {{"StartAt", "S0"}, {"States", states}};
  auto def = Definition::FromJson(doc);
  ASSERT_FALSE(def.ok());
  EXPECT_THAT(def.status().message(),
              HasSubstr("number of states exceeds the limit of 10000"));
  Limits more;
  more.max_states = 20000;
  EXPECT_TRUE(Definition::FromJson(doc, more).ok());
}

TEST(DefinitionLimitsTest, MachineNesting) {
  Json machine = {{"StartAt", "Leaf"},
                  {"States", {{"Leaf", {{"Type", "Succeed"}}}}}};
  for (int i = 0; i < 20; ++i) {
    std::string name = absl::StrCat("P", i);
    machine = {{"StartAt", name},
               {"States",
                {{name,
                  {{"Type", "Parallel"},
                   {"Branches", Json::array({machine})},
                   {"End", true}}}}}};
  }
  auto def = Definition::FromJson(machine);
  ASSERT_FALSE(def.ok());
  EXPECT_THAT(def.status().message(),
              HasSubstr("Parallel/Map nesting depth exceeds the limit of 16"));
}

TEST(DefinitionLimitsTest, ProgrammaticDeepDocument) {
  Json deep = Json::array();
  Json* cur = &deep;
  for (int i = 0; i < 100000; ++i) {
    cur->push_back(Json::array());
    cur = &cur->back();
  }
  Json doc = Json::object();
  doc["StartAt"] = "P";
  doc["States"] = std::move(deep);  // (a copy would recurse)
  auto def = Definition::FromJson(std::move(doc));
  ASSERT_FALSE(def.ok());
  EXPECT_THAT(def.status().message(), HasSubstr("JSON nesting depth"));
}

// ---- JSONPath ---------------------------------------------------------

TEST(PathLimitsTest, FilterNestingInDefinitions) {
  for (const std::string& filter :
       {Repeat("(", 10000) + "@.a" + Repeat(")", 10000),
        Repeat("!", 20000) + "@.a"}) {
    std::string path = "$.items[?(" + filter + ")]";
    auto def = Definition::Compile(PassWith({{"x.$", path}}));
    ASSERT_FALSE(def.ok());
    // Longer than an expression may be...
    EXPECT_THAT(def.status().message(), HasSubstr("neither a valid path"));
    auto eval = EvalPath(path, Json::object(), EvalEnv{});
    ASSERT_FALSE(eval.ok());
    EXPECT_THAT(eval.status().message(),
                HasSubstr("expression length exceeds the limit of 4096"));
  }
  // ...and, within the length, deeper than the nesting limit.
  for (const std::string& filter :
       {Repeat("(", 1000) + "@.a" + Repeat(")", 1000),
        Repeat("!", 2000) + "@.a"}) {
    auto eval =
        EvalPath("$.items[?(" + filter + ")]", Json::object(), EvalEnv{});
    ASSERT_FALSE(eval.ok());
    EXPECT_EQ(AslErrorName(eval.status()), "States.Runtime");
    EXPECT_THAT(eval.status().message(),
                HasSubstr("expression nesting depth exceeds the limit of 32"));
  }
  // Nested filters inside filters count too.
  std::string nested = "$";
  for (int i = 0; i < 40; ++i)
    nested = "$.a[?(" + nested.replace(0, 1, "@") + ")]";
  EXPECT_FALSE(EvalPath(nested, Json::object(), EvalEnv{}).ok());
}

TEST(PathLimitsTest, HugeIndexesAndSteps) {
  Json input = Json::parse(R"({"a": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]})");
  EvalEnv env;
  bool found = true;
  auto v = EvalPathOptional("$.a[9223372036854775799]", input, env, &found);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(found);
  EXPECT_FALSE(EvalPath("$.a[-9223372036854775799]", input, env).ok());
  EXPECT_FALSE(EvalPath("$.a[99999999999999999999]", input, env).ok());
  auto slice = EvalPath("$.a[1::9223372036854775799]", input, env);
  ASSERT_TRUE(slice.ok()) << slice.status();
  EXPECT_EQ(*slice, Json::parse("[1]"));
  auto back = EvalPath("$.a[::-9223372036854775799]", input, env);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, Json::parse("[11]"));
  auto result = ApplyResultPath("$.a[9223372036854775799]", input, Json(1));
  EXPECT_FALSE(result.ok());
}

TEST(PathLimitsTest, EvaluationStepsAreBounded) {
  // Nested deep scans multiply: refused once the step budget is spent.
  Json input = Json::array();
  for (int i = 0; i < 1000; ++i) {
    Json chain = {{"b", i}};
    for (int j = 0; j < 30; ++j) chain = {{"a", std::move(chain)}};
    input.push_back(std::move(chain));
  }
  auto start = std::chrono::steady_clock::now();
  auto v = EvalPath("$..[?(@..[?(@..[?(@..b)])])]", input, EvalEnv{});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(),
              HasSubstr("JSONPath evaluation steps exceeds the limit of "
                        "1000000"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(PathLimitsTest, ResultSizeIsBounded) {
  Json input = Json::object();
  Json* cur = &input;
  for (int i = 0; i < 100; ++i) {
    (*cur)["pad"] = std::string(2000, 'x');
    cur = &((*cur)["next"] = Json::object());
  }
  // $..* copies every subtree: about 100 x 100 x 2000 bytes.
  auto v = EvalPath("$..*", input, EvalEnv{});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(AslErrorName(v.status()), "States.DataLimitExceeded");
  EXPECT_THAT(v.status().message(),
              HasSubstr("payload size exceeds the limit of 262144 bytes"));
}

TEST(PathLimitsTest, RegexIsLinearAndShallow) {
  Json input = Json::array();
  input.push_back({{"s", std::string(20000, 'a')}});
  input.push_back({{"s", std::string(30, 'a') + "!"}});
  auto start = std::chrono::steady_clock::now();
  // Exponential for a backtracking matcher, linear here.
  auto v = EvalPath("$[?(@.s =~ /(a|aa)*(a+)+$/)].s", input, EvalEnv{});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->size(), 1u);
  // std::regex recursed once per subject byte: 100,000 bytes overflowed.
  input.push_back({{"s", std::string(100000, 'b')}});
  auto dot = EvalPath("$[?(@.s =~ /.*/)]", input, EvalEnv{});
  ASSERT_TRUE(dot.ok()) << dot.status();
  EXPECT_EQ(dot->size(), 3u);
  // Long subjects and busy patterns together run out of steps instead.
  auto busy = EvalPath("$[?(@.s =~ /(b|bb)*(b+)+$/)]", input, EvalEnv{});
  ASSERT_FALSE(busy.ok());
  EXPECT_THAT(busy.status().message(), HasSubstr("JSONPath evaluation steps"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(PathLimitsTest, DeepInputIsScannedWithoutRecursion) {
  // A value deeper than any door allows, built in memory: deep scan must
  // not recurse on it.
  Json deep = Json::object();
  Json* cur = &deep;
  for (int i = 0; i < 50000; ++i) cur = &((*cur)["x"] = Json::object());
  (*cur)["y"] = 1;
  Limits limits;
  limits.max_payload_bytes = 0;
  EvalEnv env;
  env.limits = &limits;
  auto v = EvalPath("$..y", deep, env);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, Json::array({1}));
}

// ---- intrinsics -------------------------------------------------------

TEST(IntrinsicLimitsTest, ArrayRange) {
  auto v = EvalIntrinsic("States.ArrayRange(0, 9223372036854775807, 1)",
                         Json::object(), EvalEnv{});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(AslErrorName(v.status()), "States.IntrinsicFailure");
  EXPECT_THAT(v.status().message(), HasSubstr("the maximum is 1000"));
  auto neg = EvalIntrinsic(
      "States.ArrayRange(9223372036854775807, -9223372036854775807, "
      "-9223372036854775807)",
      Json::object(), EvalEnv{});
  ASSERT_TRUE(neg.ok()) << neg.status();
  EXPECT_EQ(neg->size(), 3u);
  EXPECT_TRUE(
      EvalIntrinsic("States.ArrayRange(1, 1000, 1)", Json::object(), EvalEnv{})
          .ok());
}

TEST(IntrinsicLimitsTest, NestingAndLength) {
  std::string deep = Repeat("States.Array(", 10000) + Repeat(")", 10000);
  auto v = EvalIntrinsic(deep, Json::object(), EvalEnv{});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(), HasSubstr("expression length exceeds"));
  std::string within = Repeat("States.Array(", 100) + Repeat(")", 100);
  auto w = EvalIntrinsic(within, Json::object(), EvalEnv{});
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(),
              HasSubstr("expression nesting depth exceeds the limit of 32"));
  std::string why;
  EXPECT_FALSE(IsValidIntrinsic(within, &why));
  auto def = Definition::Compile(PassWith({{"x.$", within}}));
  EXPECT_FALSE(def.ok());
}

TEST(IntrinsicLimitsTest, ResultsAreBoundedByThePayloadCap) {
  Json input = {{"big", std::string(100000, 'x')}};
  std::string args = Repeat(", $.big", 100);
  for (const std::string& call :
       {"States.Array($.big" + args + ")",
        "States.Format('" + Repeat("{}", 101) + "', $.big" + args + ")",
        std::string("States.JsonToString(States.Array($.big, $.big, $.big))"),
        std::string("States.StringSplit(States.Format('{}{}{}', $.big, "
                    "$.big, $.big), '-')")}) {
    auto v = EvalIntrinsic(call, input, EvalEnv{});
    ASSERT_FALSE(v.ok()) << call.substr(0, 40);
    EXPECT_EQ(AslErrorName(v.status()), "States.IntrinsicFailure");
    EXPECT_THAT(v.status().message(),
                HasSubstr("payload size exceeds the limit of 262144 bytes"));
  }
  EXPECT_TRUE(
      EvalIntrinsic("States.Array($.big, $.big)", input, EvalEnv{}).ok());
}

TEST(IntrinsicLimitsTest, StringToJsonIsStrict) {
  Json input = {{"deep", Nested(100000)},
                {"inf", "1e999"},
                {"nul", std::string("1\0 2", 4)}};
  auto deep = EvalIntrinsic("States.StringToJson($.deep)", input, EvalEnv{});
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(deep.status().message(),
              HasSubstr("JSON nesting depth exceeds the limit of 128"));
  EXPECT_FALSE(
      EvalIntrinsic("States.StringToJson($.inf)", input, EvalEnv{}).ok());
  EXPECT_FALSE(
      EvalIntrinsic("States.StringToJson($.nul)", input, EvalEnv{}).ok());
}

TEST(IntrinsicLimitsTest, ArrayUniqueIsLinear) {
  Json items = Json::array();
  for (int i = 0; i < 60000; ++i) items.push_back(i % 20000);
  items.push_back(1.0);  // equal to 1
  Json input = {{"items", items}};
  auto start = std::chrono::steady_clock::now();
  auto v = EvalIntrinsic("States.ArrayUnique($.items)", input, EvalEnv{});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->size(), 20000u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(IntrinsicLimitsTest, HugeIntegers) {
  Json input = {{"a", Json::array({1, 2})}};
  EXPECT_FALSE(EvalIntrinsic("States.ArrayGetItem($.a, 9223372036854775807)",
                             input, EvalEnv{})
                   .ok());
  EXPECT_FALSE(
      EvalIntrinsic("States.MathAdd(9223372036854775807, 1)", input, EvalEnv{})
          .ok());
  auto r = EvalIntrinsic(
      "States.MathRandom(-9223372036854775807, 9223372036854775807, 7)", input,
      EvalEnv{});
  EXPECT_TRUE(r.ok()) << r.status();
  auto p = EvalIntrinsic("States.ArrayPartition($.a, 9223372036854775807)",
                         input, EvalEnv{});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, Json::parse("[[1,2]]"));
}

// ---- Choice rules -----------------------------------------------------

TEST(ChoiceLimitsTest, NestingAndMatching) {
  Json rule = {{"Variable", "$.a"}, {"IsPresent", true}};
  for (int i = 0; i < 100; ++i) rule = {{"Not", rule}};
  auto v = EvalChoiceRule(rule, Json::object(), EvalEnv{});
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(v.status().message(),
              HasSubstr("expression nesting depth exceeds the limit of 32"));
  Json choice = rule;
  choice["Next"] = "Done";
  auto def = Definition::FromJson(
      {{"StartAt", "C"},
       {"States",
        {{"C", {{"Type", "Choice"}, {"Choices", Json::array({choice})}}},
         {"Done", {{"Type", "Succeed"}}}}}});
  ASSERT_FALSE(def.ok());
  EXPECT_THAT(def.status().message(),
              HasSubstr("expression nesting depth exceeds the limit of 32"));

  // StringMatches with many stars against a long subject: linear.
  Json input = {{"s", std::string(250000, 'a')}};
  std::string pattern = Repeat("*a", 2000) + "*b";
  auto start = std::chrono::steady_clock::now();
  auto m = EvalChoiceRule({{"Variable", "$.s"}, {"StringMatches", pattern}},
                          input, EvalEnv{});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(*m);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ElideMiddleTest, ShortTextIsKept) {
  EXPECT_EQ(ElideMiddle("", 10), "");
  EXPECT_EQ(ElideMiddle("$.a.b", 64), "$.a.b");
  const std::string exact(1024, 'x');
  EXPECT_EQ(ElideMiddle(exact, 1024), exact);
}

TEST(ElideMiddleTest, LongTextKeepsBothEndsWithinTheBound) {
  const std::string path = "$[?(" + std::string(10'000, '(') + "@.a" +
                           std::string(10'000, ')') + ")]";
  const std::string msg = "\"" + path + "\" is not a valid path";
  const std::string got = ElideMiddle(msg, 1024);
  EXPECT_LE(got.size(), 1024u);
  EXPECT_EQ(got.rfind("\"$[?((", 0), 0u) << got;
  EXPECT_NE(got.find("bytes elided]"), std::string::npos) << got;
  EXPECT_EQ(got.substr(got.size() - 21), "\" is not a valid path");
}

TEST(ElideMiddleTest, CutsOnCharacterBoundaries) {
  // Three-byte characters (飲) everywhere: no cut may split one.
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "\xE9\xA3\xB2";
  for (size_t max : {60u, 100u, 101u, 102u, 1024u}) {
    const std::string got = ElideMiddle(text, max);
    EXPECT_LE(got.size(), max);
    const size_t open = got.find("\xE2\x80\xA6[");
    const size_t close = got.rfind("]\xE2\x80\xA6");
    ASSERT_NE(open, std::string::npos);
    ASSERT_NE(close, std::string::npos);
    EXPECT_EQ(open % 3, 0u) << max;
    EXPECT_EQ((got.size() - close - 4) % 3, 0u) << max;
  }
}

}  // namespace
}  // namespace onewindow::asl
