// Tests for intrinsic functions: argument parsing, every States.* function
// (results recorded from AWS in the conformance cases where available) and
// their error cases.
#include "engine/asl/intrinsics.h"

#include <cstdint>
#include <set>
#include <string>

#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "gtest/gtest.h"

namespace onewindow::asl {
namespace {

EvalEnv CountingEnv() {
  EvalEnv env;
  auto counter = std::make_shared<uint64_t>(0);
  env.random = [counter]() {
    *counter += 0x9E3779B97F4A7C15ULL;
    return *counter;
  };
  return env;
}

Json Call(const std::string& expr, const Json& input = Json::object(),
          const EvalEnv& env = CountingEnv()) {
  auto r = EvalIntrinsic(expr, input, env);
  EXPECT_TRUE(r.ok()) << expr << ": " << r.status();
  return r.ok() ? *r : Json("<error>");
}

// Evaluates with {"fst": fst, "snd": snd} as FunctionInput, like the aws-intr
// conformance cases.
Json Call2(const std::string& fn, const Json& fst, const Json& snd) {
  Json input = {{"FunctionInput", {{"fst", fst}, {"snd", snd}}}};
  return Call(fn + "($.FunctionInput.fst, $.FunctionInput.snd)", input);
}

absl::Status Fail(const std::string& expr, const Json& input = Json::object()) {
  auto r = EvalIntrinsic(expr, input, CountingEnv());
  EXPECT_FALSE(r.ok()) << expr << " unexpectedly gave " << r->dump();
  return r.status();
}

void ExpectIntrinsicFailure(const std::string& expr,
                            const Json& input = Json::object()) {
  EXPECT_EQ(AslErrorName(Fail(expr, input)), kStatesIntrinsicFailure) << expr;
}

TEST(IntrinsicParseTest, ArgumentKinds) {
  // intrinsic-argument-parsing
  Json input = {{"inputValue", 55}};
  Json context = {{"Execution", {{"Input", input}}}};
  EvalEnv env = CountingEnv();
  env.context = &context;
  EXPECT_EQ(
      Call("States.Array('string 1', 0, 1, -1, true, false, null, "
           "$.inputValue, $$.Execution.Input.inputValue)",
           input, env),
      Json::parse(R"(["string 1", 0, 1, -1, true, false, null, 55, 55])"));
  EXPECT_EQ(Call("States.Array(1.5, -2.25e2,'a,b',  $ )", Json(7)),
            Json::parse(R"([1.5, -225.0, "a,b", 7])"));
  EXPECT_EQ(Call("States.Array()"), Json::array());
  EXPECT_EQ(Call("  States.Format( 'x{}' ,  $.a  ) ", Json{{"a", 1}}), "x1");
}

TEST(IntrinsicParseTest, StringEscapes) {
  EXPECT_EQ(Call(R"(States.Array('it\'s', 'a\\b', '\{\}'))"),
            Json::parse(R"(["it's", "a\\b", "{}"])"));
}

TEST(IntrinsicParseTest, PathsWithBracketsAndCommas) {
  Json input = Json::parse(R"({"a": [10, 20, 30], "b c": 1})");
  EXPECT_EQ(Call("States.Array($.a[0,2], $['b c'], $.a[?(@ > 15)])", input),
            Json::parse("[[10, 30], 1, [20, 30]]"));
  Json people = Json::parse(R"j({"p": [{"n": "x,y)"}, {"n": "z"}]})j");
  EXPECT_EQ(Call("States.Array($.p[?(@.n == 'x,y)')].n)", people),
            Json::parse(R"j([["x,y)"]])j"));
}

TEST(IntrinsicParseTest, NestedCalls) {
  // io-parameters-intrinsics
  EXPECT_EQ(Call("States.ArrayPartition(States.ArrayRange(1, 20, 1), 4)"),
            Json::parse("[[1,2,3,4],[5,6,7,8],[9,10,11,12],[13,14,15,16],"
                        "[17,18,19,20]]"));
  EXPECT_EQ(Call("States.ArrayLength(States.StringSplit('a,b,c', ','))"), 3);
}

TEST(IntrinsicParseTest, SyntaxErrors) {
  for (const char* expr :
       {"States.Array(", "States.Array('x)", "States.Array(1,)",
        "States.Array(1) x", "Foo.Bar()", "States.(1)", "States.Array(bogus)",
        "States.Array($.a[)"}) {
    ExpectIntrinsicFailure(expr);
  }
}

TEST(IntrinsicValidTest, IsValidIntrinsic) {
  std::string why;
  EXPECT_TRUE(IsValidIntrinsic("States.Format('{}', $.a)", &why)) << why;
  EXPECT_TRUE(IsValidIntrinsic("States.UUID()", &why)) << why;
  EXPECT_TRUE(IsValidIntrinsic("States.MathRandom(1, 10, 3)", &why)) << why;
  EXPECT_TRUE(IsValidIntrinsic("States.ArrayLength(States.Array(1, 2))", &why));
  EXPECT_FALSE(IsValidIntrinsic("States.Nope(1)", &why));
  EXPECT_NE(why.find("States.Nope"), std::string::npos);
  EXPECT_FALSE(IsValidIntrinsic("States.ArrayLength()", &why));
  EXPECT_FALSE(IsValidIntrinsic("States.UUID(1)", &why));
  EXPECT_FALSE(IsValidIntrinsic("States.Array(States.Nope())", &why));
  EXPECT_FALSE(IsValidIntrinsic("States.Array(", nullptr));
  EXPECT_FALSE(IsValidIntrinsic("$.a", nullptr));
  EXPECT_TRUE(internal::IsKnownIntrinsic("States.Hash"));
  EXPECT_FALSE(internal::IsKnownIntrinsic("States.hash"));
}

TEST(IntrinsicTest, UnknownFunctionAndArity) {
  ExpectIntrinsicFailure("States.Nope(1)");
  ExpectIntrinsicFailure("States.ArrayLength()");
  ExpectIntrinsicFailure("States.ArrayLength(States.Array(), 1)");
  ExpectIntrinsicFailure("States.MathRandom(1)");
  ExpectIntrinsicFailure("States.UUID(1)");
}

TEST(IntrinsicTest, MissingPathArgumentIsRuntimeError) {
  EXPECT_EQ(AslErrorName(Fail("States.Array($.missing)")), kStatesRuntime);
  EXPECT_EQ(AslErrorName(Fail("States.Format('{}', $.a.b)")), kStatesRuntime);
}

TEST(FormatTest, Basic) {
  EXPECT_EQ(Call("States.Format('Hello, {}! This is a {}.', 'world', "
                 "'string')"),
            "Hello, world! This is a string.");
  EXPECT_EQ(Call("States.Format('no placeholders')"), "no placeholders");
  EXPECT_EQ(Call(R"(States.Format('\{\} {} \\ \'q\'', 1))"), R"({} 1 \ 'q')");
}

TEST(FormatTest, AwsArgumentRendering) {
  // aws-intr-format-1-*, aws-intr-format-2-*
  auto format1 = [](const Json& v) {
    return Call("States.Format('Formatting argument {}.', $.FunctionInput)",
                Json{{"FunctionInput", v}});
  };
  EXPECT_EQ(format1(""), "Formatting argument .");
  EXPECT_EQ(format1(" "), "Formatting argument  .");
  EXPECT_EQ(format1(nullptr), "Formatting argument null.");
  EXPECT_EQ(format1(1.1), "Formatting argument 1.1.");
  EXPECT_EQ(format1(true), "Formatting argument true.");
  Json obj = Json::parse(R"({"Arg1": 1, "Arg2": []})");
  Json input = {{"FunctionInput", {{"fst", obj}, {"snd", obj}}}};
  EXPECT_EQ(Call("States.Format('Formatting arguments fst={} and snd={}.', "
                 "$.FunctionInput.fst, $.FunctionInput.snd)",
                 input),
            "Formatting arguments fst={Arg1=1, Arg2=[]} and snd={Arg1=1, "
            "Arg2=[]}.");
  EXPECT_EQ(internal::FormatArgument(Json::parse(R"([1, "a", {"k": [null]}])")),
            "[1, a, {k=[null]}]");
}

TEST(FormatTest, TemplateFromPath) {
  EXPECT_EQ(Call("States.Format($.t, 'x')", Json{{"t", "<{}>"}}), "<x>");
}

TEST(FormatTest, Errors) {
  ExpectIntrinsicFailure("States.Format('{} {}', 1)");
  ExpectIntrinsicFailure("States.Format('{}', 1, 2)");
  ExpectIntrinsicFailure("States.Format('{}')");
  ExpectIntrinsicFailure("States.Format(1, 2)");
}

TEST(StringToJsonTest, Values) {
  // aws-intr-string-to-json-*
  auto f = [](const std::string& s) {
    return Call("States.StringToJson($.FunctionInput)",
                Json{{"FunctionInput", s}});
  };
  EXPECT_EQ(f("1"), 1);
  EXPECT_EQ(f("true"), true);
  EXPECT_EQ(f("\"HelloWorld\""), "HelloWorld");
  EXPECT_EQ(f("[1, 2, \"HelloWorld\"]"),
            Json::parse(R"([1, 2, "HelloWorld"])"));
  EXPECT_EQ(f("{\"Arg1\": 1, \"Arg2\": []}"),
            Json::parse(R"({"Arg1": 1, "Arg2": []})"));
  EXPECT_EQ(f(""), Json(nullptr));
}

TEST(StringToJsonTest, Errors) {
  ExpectIntrinsicFailure("States.StringToJson('{bad')");
  ExpectIntrinsicFailure("States.StringToJson(1)");
}

TEST(JsonToStringTest, Values) {
  // aws-intr-json-to-string-*, intrinsic-jsontostring
  auto f = [](const Json& v) {
    return Call("States.JsonToString($.FunctionInput)",
                Json{{"FunctionInput", v}});
  };
  EXPECT_EQ(f(1), "1");
  EXPECT_EQ(f(1.1), "1.1");
  EXPECT_EQ(f("HelloWorld"), "\"HelloWorld\"");
  EXPECT_EQ(f(Json::parse(R"({"Arg1": 1, "Arg2": []})")),
            "{\"Arg1\":1,\"Arg2\":[]}");
  EXPECT_EQ(f(Json::parse(R"({"a": {"a1": 1, "a2": 2}, "b": 2})")),
            "{\"a\":{\"a1\":1,\"a2\":2},\"b\":2}");
}

TEST(ArrayTest, Values) {
  // aws-intr-array-2-*
  EXPECT_EQ(Call2("States.Array", " ", " "), Json::parse(R"([" ", " "])"));
  EXPECT_EQ(Call2("States.Array", nullptr, nullptr),
            Json::parse("[null,null]"));
  EXPECT_EQ(Call2("States.Array", 1.1, 1.1), Json::parse("[1.1,1.1]"));
}

TEST(ArrayPartitionTest, Values) {
  // aws-intr-array-partition-*
  EXPECT_EQ(Call2("States.ArrayPartition", Json::array(), 2), Json::array());
  EXPECT_EQ(Call2("States.ArrayPartition", Json::parse("[0]"), 5),
            Json::parse("[[0]]"));
  EXPECT_EQ(Call2("States.ArrayPartition", Json::parse("[0,1]"), 1),
            Json::parse("[[0],[1]]"));
  EXPECT_EQ(Call2("States.ArrayPartition", Json::parse("[0,1,2]"), 2),
            Json::parse("[[0,1],[2]]"));
  EXPECT_EQ(Call2("States.ArrayPartition", Json::parse("[0,1,2,3]"), 2),
            Json::parse("[[0,1],[2,3]]"));
  EXPECT_EQ(Call2("States.ArrayPartition", Json::parse("[0,1,2,3]"), 5),
            Json::parse("[[0,1,2,3]]"));
}

TEST(ArrayPartitionTest, Errors) {
  ExpectIntrinsicFailure("States.ArrayPartition(States.Array(1), 0)");
  ExpectIntrinsicFailure("States.ArrayPartition(States.Array(1), -1)");
  ExpectIntrinsicFailure("States.ArrayPartition(States.Array(1), 1.5)");
  ExpectIntrinsicFailure("States.ArrayPartition('x', 1)");
}

TEST(ArrayContainsTest, Values) {
  // aws-intr-array-contains-*, intrinsic-arraycontains-true
  EXPECT_EQ(Call2("States.ArrayContains", Json::array(), nullptr), false);
  EXPECT_EQ(Call2("States.ArrayContains", Json::parse("[[1,2,3],2]"),
                  Json::parse("[1,2,3]")),
            true);
  EXPECT_EQ(Call2("States.ArrayContains", Json::parse(R"([{"1":2,"2":[]}])"),
                  Json::array()),
            false);
  EXPECT_EQ(Call2("States.ArrayContains", Json::parse("[true,false]"), true),
            true);
  EXPECT_EQ(Call2("States.ArrayContains",
                  Json::parse(R"([1, {"val1": "hello", "val2": 3}])"),
                  Json::parse(R"({"val2": 3, "val1": "hello"})")),
            true);
  ExpectIntrinsicFailure("States.ArrayContains('x', 1)");
}

TEST(ArrayRangeTest, Values) {
  // aws-intr-array-range-*, intrinsic-arrayrange-2
  EXPECT_EQ(Call("States.ArrayRange(0, 10, 3)"), Json::parse("[0,3,6,9]"));
  EXPECT_EQ(Call("States.ArrayRange(1, 9, 2)"), Json::parse("[1,3,5,7,9]"));
  EXPECT_EQ(Call("States.ArrayRange(-1, 9, 2)"), Json::parse("[-1,1,3,5,7,9]"));
  EXPECT_EQ(Call("States.ArrayRange(5, 1, -2)"), Json::parse("[5,3,1]"));
  EXPECT_EQ(Call("States.ArrayRange(5, 1, 1)"), Json::array());
  EXPECT_EQ(Call("States.ArrayRange(1, 1000, 1)").size(), 1000u);
}

TEST(ArrayRangeTest, Errors) {
  ExpectIntrinsicFailure("States.ArrayRange(1, 1001, 1)");
  ExpectIntrinsicFailure("States.ArrayRange(0, 1000, 1)");
  ExpectIntrinsicFailure("States.ArrayRange(1, 10, 0)");
  ExpectIntrinsicFailure("States.ArrayRange(1.5, 10, 1)");
  ExpectIntrinsicFailure("States.ArrayRange('1', 10, 1)");
  ExpectIntrinsicFailure("States.ArrayRange(1, 10)");
}

TEST(ArrayGetItemTest, Values) {
  // aws-intr-array-get-item-00, intrinsic-arraygetitem
  EXPECT_EQ(Call2("States.ArrayGetItem", Json::parse("[1,2,3,4,5,6,7,8,9]"), 5),
            6);
  EXPECT_EQ(Call("States.ArrayGetItem(States.Array('a', 'b'), 0)"), "a");
  ExpectIntrinsicFailure("States.ArrayGetItem(States.Array('a'), 1)");
  ExpectIntrinsicFailure("States.ArrayGetItem(States.Array('a'), -1)");
  ExpectIntrinsicFailure("States.ArrayGetItem('a', 0)");
}

TEST(ArrayLengthTest, Values) {
  // aws-intr-array-length-mixed-values-00
  Json arr = Json::parse(R"([null,null,true,true,false,false,1,1,1.1,0,0,
    "HelloWorld","HelloWorld",[],[],[null],[null],{"a":1,"b":2},{"a":1,"b":2},
    {"a":1,"b":1}])");
  EXPECT_EQ(Call("States.ArrayLength($)", arr), 20);
  EXPECT_EQ(Call("States.ArrayLength(States.Array())"), 0);
  ExpectIntrinsicFailure("States.ArrayLength('abc')");
}

TEST(ArrayUniqueTest, Values) {
  // intrinsic-arrayunique
  Json arr = Json::parse(
      R"([1,2,2,3,3,3,null,null,true,true,false,false,5.67,5.67,5.6,"hello",
      "hello",[1,2,3],[1,2,3],{"a":1},{"a":1}])");
  EXPECT_EQ(Call("States.ArrayUnique($)", arr),
            Json::parse(R"([1,2,3,null,true,false,5.67,5.6,"hello",[1,2,3],
                            {"a":1}])"));
  ExpectIntrinsicFailure("States.ArrayUnique(1)");
}

TEST(Base64Test, EncodeDecode) {
  // intrinsic-base64encode / -decode, aws-intr-base-64-*-00
  EXPECT_EQ(Call("States.Base64Encode('Hello, world! This is a Base64 encoded "
                 "string')"),
            "SGVsbG8sIHdvcmxkISBUaGlzIGlzIGEgQmFzZTY0IGVuY29kZWQgc3RyaW5n");
  EXPECT_EQ(Call("States.Base64Decode('SGVsbG8sIHdvcmxkISBUaGlzIGlzIGEgQmFzZTY0"
                 "IGVuY29kZWQgc3RyaW5n')"),
            "Hello, world! This is a Base64 encoded string");
  EXPECT_EQ(Call("States.Base64Encode('')"), "");
  EXPECT_EQ(Call("States.Base64Decode('')"), "");
  EXPECT_EQ(Call("States.Base64Encode('a')"), "YQ==");
  EXPECT_EQ(Call("States.Base64Encode('ab')"), "YWI=");
  EXPECT_EQ(Call("States.Base64Decode('YQ==')"), "a");
  EXPECT_EQ(Call("States.Base64Decode('YWI')"), "ab");
  EXPECT_EQ(Call("States.Base64Decode(States.Base64Encode('\u00e9t\u00e9'))"),
            "\u00e9t\u00e9");
}

TEST(Base64Test, Errors) {
  ExpectIntrinsicFailure("States.Base64Decode('not base64!')");
  ExpectIntrinsicFailure("States.Base64Decode('Y')");
  ExpectIntrinsicFailure("States.Base64Encode(1)");
  ExpectIntrinsicFailure("States.Base64Decode(null)");
  ExpectIntrinsicFailure("States.Base64Encode($)",
                         Json(std::string(10001, 'a')));
}

TEST(HashTest, Algorithms) {
  // intrinsic-hash-*, aws-intr-hash-*
  EXPECT_EQ(Call("States.Hash('Test string', 'MD5')"),
            "0fd3dbec9730101bff92acc820befc34");
  EXPECT_EQ(Call2("States.Hash", "input data", "SHA-1"),
            "aaff4a450a104cd177d28d18d74485e8cae074b7");
  EXPECT_EQ(Call2("States.Hash", "input data", "SHA-256"),
            "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3");
  EXPECT_EQ(Call("States.Hash('Test string', 'SHA-256')"),
            "a3e49d843df13c2e2a7786f6ecd7e0d184f45d718d1ac1a8a63e570466e489dd");
  EXPECT_EQ(Call("States.Hash('Test string', 'SHA-384')"),
            "83ca14ebf3005a10f50839742bda82aa607d972a03b1e6a3086e29195ceaf05f"
            "038fecdff02aff6e9dcdd273268875f7");
  EXPECT_EQ(Call("States.Hash('Test string', 'SHA-512')"),
            "811aa0c53c0039b6ead0ca878b096eed1d39ed873fd2d2d270abfb9ca620d3ed"
            "561c565d6dbd1114c323d38e3f59c00df475451fc9b30074f2abda3529df2fa7");
}

TEST(HashTest, Errors) {
  ExpectIntrinsicFailure("States.Hash('x', 'SHA-3')");
  ExpectIntrinsicFailure("States.Hash('x', 'sha-256')");
  ExpectIntrinsicFailure("States.Hash(1, 'MD5')");
  ExpectIntrinsicFailure("States.Hash('x', 5)");
}

TEST(JsonMergeTest, Shallow) {
  // aws-intr-json-merge-00, intrinsic-jsonmerge
  Json input = Json::parse(R"({"fst": {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3},
                               "snd": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4}})");
  EXPECT_EQ(
      Call("States.JsonMerge($.fst, $.snd, false)", input),
      Json::parse(R"({"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4})"));
}

TEST(JsonMergeTest, Errors) {
  Json input = Json::parse(R"({"o": {}, "s": "x"})");
  ExpectIntrinsicFailure("States.JsonMerge($.o, $.o, true)", input);
  ExpectIntrinsicFailure("States.JsonMerge($.o, $.s, false)", input);
  ExpectIntrinsicFailure("States.JsonMerge($.s, $.o, false)", input);
  ExpectIntrinsicFailure("States.JsonMerge($.o, $.o, 'false')", input);
  ExpectIntrinsicFailure("States.JsonMerge($.o, $.o)", input);
}

TEST(MathRandomTest, RangeAndDeterminism) {
  EvalEnv env = CountingEnv();
  std::set<int64_t> seen;
  for (int i = 0; i < 200; ++i) {
    Json v = Call("States.MathRandom(1, 5)", Json::object(), env);
    ASSERT_TRUE(v.is_number_integer());
    int64_t n = v.get<int64_t>();
    EXPECT_GE(n, 1);
    EXPECT_LT(n, 5);
    seen.insert(n);
  }
  EXPECT_EQ(seen.size(), 4u);
  // A seed makes the result independent of the environment's generator.
  Json a = Call("States.MathRandom(0, 1000000, 7)", Json::object(), env);
  Json b =
      Call("States.MathRandom(0, 1000000, 7)", Json::object(), CountingEnv());
  EXPECT_EQ(a, b);
  EXPECT_EQ(Call("States.MathRandom(-3, -2)"), -3);
}

TEST(MathRandomTest, Errors) {
  ExpectIntrinsicFailure("States.MathRandom(5, 5)");
  ExpectIntrinsicFailure("States.MathRandom(5, 1)");
  ExpectIntrinsicFailure("States.MathRandom('1', 5)");
  ExpectIntrinsicFailure("States.MathRandom(1, 5, 'seed')");
  auto r = EvalIntrinsic("States.MathRandom(1, 5)", Json::object(), EvalEnv{});
  EXPECT_EQ(AslErrorName(r.status()), kStatesIntrinsicFailure);
}

TEST(MathAddTest, AwsRounding) {
  // aws-intr-math-add-*: each operand is rounded half up (Java Math.round).
  EXPECT_EQ(Call2("States.MathAdd", 1.49, 1.5), 3);
  EXPECT_EQ(Call2("States.MathAdd", -1.49, -1.5), -2);
  EXPECT_EQ(Call2("States.MathAdd", 1.49, 0), 1);
  EXPECT_EQ(Call2("States.MathAdd", 1.49, -1.49), 0);
  EXPECT_EQ(Call2("States.MathAdd", 1.51, 0), 2);
  EXPECT_EQ(Call2("States.MathAdd", -1.5, 0), -1);
  EXPECT_EQ(Call2("States.MathAdd", 2.5, 0), 3);
  EXPECT_EQ(Call2("States.MathAdd", -0.5, 0.5), 1);
  EXPECT_EQ(Call2("States.MathAdd", -2.5, 0), -2);
  EXPECT_EQ(Call2("States.MathAdd", -3.5, 0), -3);
  // intrinsic-mathadd-paths, map-nested
  EXPECT_EQ(Call("States.MathAdd($.count, -1)", Json{{"count", 5}}), 4);
  EXPECT_EQ(Call("States.MathAdd($, $)", Json(2)), 4);
  EXPECT_TRUE(Call("States.MathAdd(1, 2)").is_number_integer());
}

TEST(MathAddTest, Errors) {
  ExpectIntrinsicFailure("States.MathAdd('1', 2)");
  ExpectIntrinsicFailure("States.MathAdd(1, null)");
  ExpectIntrinsicFailure("States.MathAdd(1)");
  ExpectIntrinsicFailure("States.MathAdd(9223372036854775807, 1)");
}

TEST(StringSplitTest, AwsTokenizer) {
  // aws-intr-string-split-*: empty tokens are dropped.
  EXPECT_EQ(Call2("States.StringSplit", " ", ","), Json::parse(R"([" "])"));
  EXPECT_EQ(Call2("States.StringSplit", " , ", ","),
            Json::parse(R"([" ", " "])"));
  EXPECT_EQ(Call2("States.StringSplit", ", , ,", ","),
            Json::parse(R"([" ", " "])"));
  // intrinsic-stringsplit: every character of the delimiter splits.
  EXPECT_EQ(Call("States.StringSplit('1 - 2 - 3 - 10', ' - ')"),
            Json::parse(R"(["1", "2", "3", "10"])"));
  EXPECT_EQ(Call("States.StringSplit('a+b-c', '-+')"),
            Json::parse(R"(["a", "b", "c"])"));
  EXPECT_EQ(Call("States.StringSplit('', ',')"), Json::array());
  EXPECT_EQ(Call("States.StringSplit('abc', '')"), Json::parse(R"(["abc"])"));
  EXPECT_EQ(Call("States.StringSplit('a\u00e9b\u00e9', '\u00e9')"),
            Json::parse(R"(["a", "b"])"));
}

TEST(StringSplitTest, AwsContextObject) {
  // aws-intr-string-split-context-object-00
  Json input = {{"FunctionInput",
                 "Value1,Value2,Value3\nValue4,Value5,Value6\n,,,\ntrue,1,"
                 "'HelloWorld'\nNull,None,\n   \n"}};
  Json context = {{"Execution", {{"Input", input}}}};
  EvalEnv env = CountingEnv();
  env.context = &context;
  EXPECT_EQ(Call("States.StringSplit($$.Execution.Input.FunctionInput, ',')",
                 input, env),
            Json::parse(R"(["Value1", "Value2", "Value3\nValue4", "Value5",
              "Value6\n", "\ntrue", "1", "'HelloWorld'\nNull", "None",
              "\n   \n"])"));
}

TEST(StringSplitTest, Errors) {
  ExpectIntrinsicFailure("States.StringSplit(1, ',')");
  ExpectIntrinsicFailure("States.StringSplit('a', 1)");
}

TEST(UuidTest, Version4) {
  EvalEnv env = CountingEnv();
  Json a = Call("States.UUID()", Json::object(), env);
  Json b = Call("States.UUID()", Json::object(), env);
  ASSERT_TRUE(a.is_string());
  std::string s = a.get<std::string>();
  ASSERT_EQ(s.size(), 36u);
  EXPECT_EQ(s[8], '-');
  EXPECT_EQ(s[13], '-');
  EXPECT_EQ(s[14], '4');
  EXPECT_EQ(s[18], '-');
  EXPECT_NE(std::string("89ab").find(s[19]), std::string::npos);
  EXPECT_EQ(s[23], '-');
  EXPECT_NE(a, b);
  // Deterministic for the same generator state.
  EXPECT_EQ(Call("States.UUID()", Json::object(), CountingEnv()), a);
  auto r = EvalIntrinsic("States.UUID()", Json::object(), EvalEnv{});
  EXPECT_EQ(AslErrorName(r.status()), kStatesIntrinsicFailure);
}

}  // namespace
}  // namespace onewindow::asl
