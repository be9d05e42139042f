// Built-in functions: strings, numbers, booleans, arrays, objects,
// encodings. Expected values follow the JSONata function library docs.
#include "engine/asl/jsonata/test_util.h"

namespace onewindow::asl::jsonata::testing {
namespace {

TEST(StringFunctionsTest, String) {
  CheckAll(
      {
          {"$string(5)", R"("5")"},
          {"$string('x')", R"("x")"},
          {"$string(true)", R"("true")"},
          {"$string(null)", R"("null")"},
          {"$string([1, 'a', {'b': null}])", R"("[1,\"a\",{\"b\":null}]")"},
          {"$string({'a': [1, 2]}, true)",
           R"("{\n  \"a\": [\n    1,\n    2\n  ]\n}")"},
          {"$string(1/3)", R"("0.333333333333333")"},
          {"$string(nothing)", "undefined"},
          {"$string({'a': 'x\"y'})", R"("{\"a\":\"x\\\"y\"}")"},
          {"$string(100000000000000000000)", R"("100000000000000000000")"},
          // Numbers in strings have 15 significant digits (JSONata 2.0).
          {"$string(5890840712243076)", R"("5890840712243080")"},
          {"$string(1/0)", "error D3001"},
          {"$string({'inf': 1/0})", "error D1001"},
          {"$string([1/0])", "error D1001"},
      },
      nullptr);
}

TEST(StringFunctionsTest, LengthAndSubstrings) {
  CheckAll(
      {
          {"$length('Hello World')", "11"},
          {"$length('日本語')", "3"},
          {"$length('')", "0"},
          {"$length(nothing)", "undefined"},
          {"$length(5)", "error T0410"},
          {"$substring('Hello World', 3)", R"("lo World")"},
          {"$substring('Hello World', 3, 5)", R"("lo Wo")"},
          {"$substring('Hello World', -4)", R"("orld")"},
          {"$substring('Hello World', -4, 2)", R"("or")"},
          {"$substring('Hello World', 20)", R"("")"},
          {"$substring('Hello World', 3, 0)", R"("")"},
          {"$substring('Hello World', -20, 3)", R"("Hel")"},
          {"$substring('日本語テキスト', 1, 2)", R"("本語")"},
          {"$substringBefore('Hello World', ' ')", R"("Hello")"},
          {"$substringBefore('Hello World', 'x')", R"("Hello World")"},
          {"$substringAfter('Hello World', ' ')", R"("World")"},
          {"$substringAfter('Hello World', 'x')", R"("Hello World")"},
          {"$uppercase('Hello World')", R"("HELLO WORLD")"},
          {"$lowercase('Hello World')", R"("hello world")"},
          {"$uppercase('straße émile')", R"("STRASSE ÉMILE")"},
          {"$lowercase('ÀÉÎ ΑΒΓ АБВ')", R"("àéî αβγ абв")"},
          {"$trim('   Hello  \\n World   ')", R"("Hello World")"},
          {"$trim('')", R"("")"},
      },
      nullptr);
}

TEST(StringFunctionsTest, PadContainsSplitJoin) {
  CheckAll(
      {
          {"$pad('foo', 5)", R"("foo  ")"},
          {"$pad('foo', -5)", R"("  foo")"},
          {"$pad('foo', -5, '#')", R"("##foo")"},
          {"$pad('5', 3, '0')", R"("500")"},
          {"$pad('5', -3, 'ab')", R"("ab5")"},
          {"$pad('foo', 2)", R"("foo")"},
          {"$contains('abracadabra', 'bra')", "true"},
          {"$contains('abracadabra', /a.*a/)", "true"},
          {"$contains('abracadabra', 'ZZ')", "false"},
          {"$contains('abracadabra', nothing)", "undefined"},
          {"$split('a, b, c, d', ', ', 2.5)", R"(["a", "b"])"},
          {"$split('so many words', ' ')", R"(["so", "many", "words"])"},
          {"$split('so many words', ' ', 2)", R"(["so", "many"])"},
          {"$split('too much, punctuation. hard; to read', /[ ,.;]+/)",
           R"(["too", "much", "punctuation", "hard", "to", "read"])"},
          {"$split('abc', '')", R"(["a", "b", "c"])"},
          {"$split('a,b', ',', -1)", "error D3020"},
          {"$split('', ',')", R"([""])"},
          {"$join(['a', 'b', 'c'])", R"("abc")"},
          {"$join(['a', 'b', 'c'], ', ')", R"("a, b, c")"},
          {"$join('a', ', ')", R"("a")"},
          {"$join([1, 2])", "error T0412"},
          {"$join(nothing)", "undefined"},
      },
      nullptr);
}

TEST(StringFunctionsTest, MatchAndReplace) {
  CheckAll(
      {
          {"$replace('John Smith and John Jones', 'John', 'Mr')",
           R"("Mr Smith and Mr Jones")"},
          {"$replace('John Smith and John Jones', 'John', 'Mr', 1)",
           R"("Mr Smith and John Jones")"},
          {"$replace('abracadabra', /bra/, '*')", R"("a*cada*")"},
          {"$replace('abracadabra', /a.*?a/, '*')", R"("*c*bra")"},
          {"$replace('abracadabra', /a/, '')", R"("brcdbr")"},
          {"$replace('abracadabra', /(a)(.)/, '$2$1')", R"("barcadabara")"},
          {"$replace('abc', /(b)/, '[$0|$1|$9]')", R"("a[b|b|]c")"},
          {"$replace('x', '', 'y')", "error D3010"},
          {"$replace('x', 'x', 'y', -1)", "error D3011"},
          {"$replace('abc', /b/, function($m){5})", "error D3012"},
          {"$match('abc', /b/, -1)", "error D3040"},
      },
      nullptr);
}

TEST(StringFunctionsTest, Encodings) {
  CheckAll(
      {
          {"$base64encode('myuser:mypass')", R"("bXl1c2VyOm15cGFzcw==")"},
          {"$base64decode('bXl1c2VyOm15cGFzcw==')", R"("myuser:mypass")"},
          {"$base64encode('é')", R"("w6k=")"},
          {"$base64decode('w6k=')", R"("é")"},
          {"$base64encode('')", R"("")"},
          {"$encodeUrlComponent('?x=test')", R"("%3Fx%3Dtest")"},
          {"$encodeUrl('https://mozilla.org/?x=шеллы')",
           R"("https://mozilla.org/?x=%D1%88%D0%B5%D0%BB%D0%BB%D1%8B")"},
          {"$decodeUrlComponent('%3Fx%3Dtest')", R"("?x=test")"},
          {"$decodeUrl('https://mozilla.org/"
           "?x=%D1%88%D0%B5%D0%BB%D0%BB%D1%8B')",
           R"("https://mozilla.org/?x=шеллы")"},
          {"$decodeUrl('%3Fx')", R"("%3Fx")"},
          {"$decodeUrlComponent('%E0%A4%A')", "error D3140"},
          {"$decodeUrlComponent('%FF')", "error D3140"},
      },
      nullptr);
}

TEST(NumericFunctionsTest, Conversions) {
  CheckAll(
      {
          {"$number('5')", "5"},
          {"$number('-0.05')", "-0.05"},
          {"$number('1e3')", "1000"},
          {"$number('0x12')", "18"},
          {"$number('0b101')", "5"},
          {"$number('0o17')", "15"},
          {"$number(true)", "1"},
          {"$number(false)", "0"},
          {"$number(7)", "7"},
          {"$number('abc')", "error D3030"},
          {"$number('')", "error D3030"},
          {"$number(' 5')", "error D3030"},
          {"$number(null)", "error T0410"},
          {"$number(nothing)", "undefined"},
      },
      nullptr);
}

TEST(NumericFunctionsTest, Arithmetic) {
  CheckAll(
      {
          {"$abs(5)", "5"},
          {"$abs(-5)", "5"},
          {"$floor(5.3)", "5"},
          {"$floor(-5.3)", "-6"},
          {"$ceil(5.3)", "6"},
          {"$ceil(-5.3)", "-5"},
          {"$round(123.456)", "123"},
          {"$round(123.456, 2)", "123.46"},
          {"$round(123.456, -1)", "120"},
          {"$round(123.456, -2)", "100"},
          {"$round(11.5)", "12"},
          {"$round(12.5)", "12"},
          {"$round(125, -1)", "120"},
          {"$round(-0.5)", "0"},
          {"$round(-1.5)", "-2"},
          {"$round(2.675, 2)", "2.68"},
          {"$power(2, 8)", "256"},
          {"$power(2, 0.5)", "1.4142135623730951"},
          {"$power(2, -2)", "0.25"},
          {"$power(10, 400)", "error D3061"},
          {"$sqrt(4)", "2"},
          {"$sqrt(2)", "1.4142135623730951"},
          {"$sqrt(-1)", "error D3060"},
          {"$formatBase(100, 2)", R"("1100100")"},
          {"$formatBase(2555, 16)", R"("9fb")"},
          {"$formatBase(-255, 16)", R"("-ff")"},
          {"$formatBase(10)", R"("10")"},
          {"$formatBase(10, 1)", "error D3100"},
      },
      nullptr);
}

TEST(NumericFunctionsTest, Aggregates) {
  CheckAll(
      {
          {"$sum([5, 1, 3, 7, 4])", "20"},
          {"$sum([])", "0"},
          {"$sum(5)", "5"},
          {"$sum(nothing)", "undefined"},
          {"$sum(['a'])", "error T0412"},
          {"$max([5, 1, 3, 7, 4])", "7"},
          {"$max([])", "undefined"},
          {"$min([5, 1, 3, 7, 4])", "1"},
          {"$average([5, 1, 3, 7, 4])", "4"},
          {"$average([])", "undefined"},
          {"$count([1, 2, 3, 1])", "4"},
          {"$count([])", "0"},
          {"$count(nothing)", "0"},
          {"$count('a')", "1"},
      },
      nullptr);
}

TEST(NumericFunctionsTest, RandomNeedsASource) {
  EXPECT_EQ(EvalShow("$random()"), "error U1010");
  Bindings b;
  b.random = [] { return 0.25; };
  EXPECT_EQ(EvalShow("$random()", nullptr, b), "0.25");
  EXPECT_EQ(EvalShow("$shuffle([1])", nullptr, b), "[1]");
  auto r = RunExpr("$sort($shuffle([1, 2, 3, 4, 5]))", nullptr, b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->dump(), "[1,2,3,4,5]");
}

TEST(BooleanFunctionsTest, Boolean) {
  CheckAll(
      {
          {"$boolean('')", "false"},
          {"$boolean('0')", "true"},
          {"$boolean(0)", "false"},
          {"$boolean(0.1)", "true"},
          {"$boolean(null)", "false"},
          {"$boolean([])", "false"},
          {"$boolean([0])", "false"},
          {"$boolean([0, 1])", "true"},
          {"$boolean([[[0]], [false]])", "false"},
          {"$boolean({})", "false"},
          {"$boolean({'a': 0})", "true"},
          {"$boolean(function(){1})", "false"},
          {"$boolean(nothing)", "undefined"},
          {"$not(true)", "false"},
          {"$not('')", "true"},
          {"$not(nothing)", "undefined"},
          {"$exists(nothing)", "false"},
          {"$exists(null)", "true"},
          {"$exists(0)", "true"},
      },
      nullptr);
}

TEST(ArrayFunctionsTest, Arrays) {
  CheckAll(
      {
          {"$append([1, 2], [3, 4])", "[1, 2, 3, 4]"},
          {"$append(1, 2)", "[1, 2]"},
          {"$append([1], [[2]])", "[1, [2]]"},
          {"$append(nothing, [1])", "[1]"},
          {"$sort([3, 1, 2])", "[1, 2, 3]"},
          {"$sort(['b', 'a', 'C'])", R"(["C", "a", "b"])"},
          {"$sort([1, 'a'])", "error D3070"},
          {"$sort([{'a': 2}, {'a': 1}], function($l, $r){$l.a > $r.a})",
           R"([{"a": 1}, {"a": 2}])"},
          {"$reverse([1, 2, 3])", "[3, 2, 1]"},
          {"$reverse([])", "[]"},
          {"$distinct([1, 2, 1, 'a', 'a', [1], [1], {'x': 1}, {'x': 1}])",
           R"([1, 2, "a", [1], {"x": 1}])"},
          {"$distinct(5)", "5"},
          {"$zip([1, 2, 3], [4, 5, 6])", "[[1, 4], [2, 5], [3, 6]]"},
          {"$zip([1, 2, 3], [4, 5], [7, 8, 9])", "[[1, 4, 7], [2, 5, 8]]"},
          {"$zip(1, 2)", "[[1, 2]]"},
      },
      nullptr);
}

TEST(ObjectFunctionsTest, Objects) {
  Json input = Json::parse(
      R"({"o": {"b": 2, "a": 1}, "arr": [{"x": 1}, {"y": 2, "x": 3}]})");
  CheckAll(
      {
          {"$keys(o)", R"(["a", "b"])"},
          {"$keys({'z': 1, 'y': 2})", R"(["z", "y"])"},
          {"$keys(arr)", R"(["x", "y"])"},
          {"$keys({'k': 1})", R"("k")"},
          {"$keys(5)", "undefined"},
          {"$lookup(o, 'a')", "1"},
          {"$lookup(arr, 'x')", "[1, 3]"},
          {"$lookup(o, 'zz')", "undefined"},
          {"$spread({'a': 1, 'b': 2})", R"([{"a": 1}, {"b": 2}])"},
          {"$spread(arr)", R"([{"x": 1}, {"x": 3}, {"y": 2}])"},
          {"$spread(5)", "5"},
          {"$merge([{'a': 1}, {'b': 2}, {'a': 3}])", R"({"a": 3, "b": 2})"},
          {"$merge([])", "{}"},
          {"$type(o)", R"("object")"},
          {"$type(arr)", R"("array")"},
          {"$type('s')", R"("string")"},
          {"$type(1)", R"("number")"},
          {"$type(true)", R"("boolean")"},
          {"$type(null)", R"("null")"},
          {"$type(nothing)", "undefined"},
          {"$error('boom')", "error D3137"},
          {"$error()", "error D3137"},
          {"$assert(1 = 1, 'fine')", "undefined"},
          {"$assert(1 = 2, 'broken')", "error D3141"},
          {"$assert(1, 'x')", "error T0410"},
          {"$clone(o)", R"({"a": 1, "b": 2})"},
      },
      &input);
  EXPECT_EQ(ErrorMessage("$error('boom')"), "D3137: boom at position 7");
  EXPECT_EQ(ErrorMessage("$assert(false)"),
            "D3141: $assert() statement failed at position 8");
}

}  // namespace
}  // namespace onewindow::asl::jsonata::testing
