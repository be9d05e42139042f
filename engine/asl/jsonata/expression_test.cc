// Operators, constructors, conditionals, variables, blocks, lambdas,
// higher-order use, chains, transforms and regular expressions.
#include "engine/asl/jsonata/test_util.h"

namespace onewindow::asl::jsonata::testing {
namespace {

TEST(ExpressionTest, Literals) {
  CheckAll(
      {
          {"1", "1"},
          {"-1", "-1"},
          {"1.5e3", "1500"},
          {"\"hello\"", R"("hello")"},
          {"'hello'", R"("hello")"},
          {"'it\\'s'", "error S0103"},
          {"\"a\\\"b\"", R"("a\"b")"},
          {"'\\u00e9t\\u00e9'", R"("été")"},
          {"'\\uD83D\\uDE00'", R"("😀")"},
          {"'tab\\there'", R"("tab\there")"},
          {"true", "true"},
          {"false", "false"},
          {"null", "null"},
          {"/* comment */ 42", "42"},
          {"[]", "[]"},
          {"{}", "{}"},
      },
      nullptr);
}

TEST(ExpressionTest, Arithmetic) {
  Json input = Json::parse(R"({"a": 5, "b": 2, "s": "x"})");
  CheckAll(
      {
          {"5 + 3", "8"},
          {"5 - 3", "2"},
          {"5 * 3", "15"},
          {"5 / 2", "2.5"},
          {"5 % 3", "2"},
          {"-5 % 3", "-2"},
          {"2 * (3 + 4)", "14"},
          {"2 * 3 + 4", "10"},
          {"a * b - 1", "9"},
          {"-a", "-5"},
          {"-(a + b)", "-7"},
          {"0.1 + 0.2", "0.30000000000000004"},
          {"nothing + 1", "undefined"},
          {"1 + nothing", "undefined"},
          {"s + 1", "error T2001"},
          {"1 + s", "error T2002"},
          {"-s", "error D1002"},
          // Out-of-range numbers fail when used, not when computed.
          {"1 / 0", "error D1001"},
          {"1e308 * 10", "error D1001"},
          {"(1 / 0) + 1", "error D1001"},
          {"(1 / 0) > 5", "true"},
          {"true + 1", "error T2001"},
      },
      &input);
}

TEST(ExpressionTest, Comparison) {
  Json input =
      Json::parse(R"({"a": 5, "s": "abc", "arr": [1, 2], "o": {"x": 1}})");
  CheckAll(
      {
          {"a = 5", "true"},          {"a != 5", "false"},
          {"a > 4", "true"},          {"a >= 5", "true"},
          {"a < 5", "false"},         {"a <= 5", "true"},
          {"s = 'abc'", "true"},      {"s < 'abd'", "true"},
          {"'Z' < 'a'", "true"},      {"nothing = 1", "false"},
          {"nothing != 1", "false"},  {"nothing > 1", "undefined"},
          {"'1' = 1", "false"},       {"'1' < 1", "error T2009"},
          {"arr > 1", "error T2010"}, {"arr = [1, 2]", "true"},
          {"o = {'x': 1}", "true"},   {"o = {'x': 2}", "false"},
          {"null = null", "true"},    {"true > false", "error T2010"},
      },
      &input);
}

TEST(ExpressionTest, BooleanOperators) {
  Json input = Json::parse(
      R"({"t": true, "f": false, "e": "", "n": 0, "arr": [0, 0, 1]})");
  CheckAll(
      {
          {"t and f", "false"},
          {"t or f", "true"},
          {"f or f", "false"},
          {"nothing or t", "true"},
          {"nothing and t", "false"},
          {"e or n", "false"},
          {"'x' and 1", "true"},
          {"arr and true", "true"},
          {"[] or false", "false"},
          {"{} or false", "false"},
          {"t and (f or t)", "true"},
          {"$not(t)", "false"},
          {"1 in [1, 2]", "true"},
          {"3 in [1, 2]", "false"},
          {"'a' in 'a'", "true"},
          {"nothing in [1]", "false"},
          {"'b' in ['a', 'b']", "true"},
      },
      &input);
}

TEST(ExpressionTest, StringConcatenation) {
  Json input = Json::parse(R"({"a": "x", "n": 1.5, "o": {"k": [1, "v"]}})");
  CheckAll(
      {
          {"a & 'y'", R"("xy")"},
          {"a & nothing", R"("x")"},
          {"nothing & nothing", R"("")"},
          {"5 & 0 & true", R"("50true")"},
          {"n & ''", R"("1.5")"},
          {"o & ''", R"("{\"k\":[1,\"v\"]}")"},
          {"null & ''", R"("null")"},
          {"0.1 + 0.2 & ''", R"("0.3")"},
          {"1e21 & ''", R"("1e+21")"},
          {"1e-7 & ''", R"("1e-7")"},
          {"123456789012 & ''", R"("123456789012")"},
          {"$string(function($x){$x}) & 'z'", R"("z")"},
      },
      &input);
}

TEST(ExpressionTest, Ranges) {
  CheckAll(
      {
          {"[1..5]", "[1, 2, 3, 4, 5]"},
          {"[1..3, 7]", "[1, 2, 3, 7]"},
          {"[5..1]", "[]"},
          {"[0..0]", "[0]"},
          {"[1..nothing]", "[]"},
          {"[1.5..3]", "error T2003"},
          {"[1..'3']", "error T2004"},
          {"$count([1..1000])", "1000"},
          {"1..5", "error S0201"},
          {"[-2..2]", "[-2, -1, 0, 1, 2]"},
      },
      nullptr);
}

TEST(ExpressionTest, ArrayConstructors) {
  Json input = Json::parse(R"({"a": [1, 2], "b": 3, "c": [[4]]})");
  CheckAll(
      {
          {"[a, b]", "[1, 2, 3]"},
          {"[[a], b]", "[[1, 2], 3]"},
          {"[a, [b]]", "[1, 2, [3]]"},
          {"[nothing, b]", "[3]"},
          {"[c]", "[[4]]"},
          {"[1, [2, [3]]]", "[1, [2, [3]]]"},
          {"a.[$, 0]", "[[1, 0], [2, 0]]"},
          {"[a].($ * 2)", "[2, 4]"},
          {"$count([a, b])", "3"},
          {"[{'x': 1}].x", "1"},
      },
      &input);
}

TEST(ExpressionTest, ObjectConstructors) {
  Json input = Json::parse(
      R"({"k": "key", "v": 1, "items": [{"n": "a", "v": 1}, {"n": "b", "v": 2}, {"n": "a", "v": 3}]})");
  CheckAll(
      {
          {"{'a': 1, 'b': 'x'}", R"({"a": 1, "b": "x"})"},
          {"{k: v}", R"({"key": 1})"},
          {"{'a': nothing}", "{}"},
          {"{'a': [1, 2]}", R"({"a": [1, 2]})"},
          {"{v: 1}", "error T1003"},
          {"items{n: v}", R"({"a": [1, 3], "b": 2})"},
          {"items{n: $sum(v)}", R"({"a": 4, "b": 2})"},
          {"items{n: v, 'a': 0}", "error D1009"},
          {"items.{n: v}", R"([{"a": 1}, {"b": 2}, {"a": 3}])"},
          {"{'nested': {'deep': [1, {'x': true}]}}",
           R"({"nested": {"deep": [1, {"x": true}]}})"},
          {"(items{n: v}).a", "[1, 3]"},
          // A grouping applies to the whole path it ends, here items.a.
          {"items{n: v}.a", "{}"},
      },
      &input);
}

TEST(ExpressionTest, Conditionals) {
  Json input = Json::parse(R"({"n": 5, "s": ""})");
  CheckAll(
      {
          {"n > 3 ? 'big' : 'small'", R"("big")"},
          {"n > 9 ? 'big' : 'small'", R"("small")"},
          {"n > 9 ? 'big'", "undefined"},
          {"s ? 'yes' : 'no'", R"("no")"},
          {"nothing ? 1 : 2", "2"},
          {"n > 3 ? n > 4 ? 'a' : 'b' : 'c'", R"("a")"},
          {"s ?: 'default'", R"("default")"},
          {"n ?: 'default'", "5"},
          {"nothing ?? 'default'", R"("default")"},
          {"s ?? 'default'", R"("")"},
      },
      &input);
}

TEST(ExpressionTest, VariablesAndBlocks) {
  CheckAll(
      {
          {"($x := 3; $x * 2)", "6"},
          {"($x := 3; $y := $x + 1; [$x, $y])", "[3, 4]"},
          {"($x := 1; ($x := 2); $x)", "1"},
          {"($x := 1; ($x := 2; $x))", "2"},
          {"$a := $b := 4", "4"},
          {"($a := $b := 4; $a + $b)", "8"},
          {"()", "undefined"},
          {"(1; 2; 3)", "3"},
          {"(1; 2;)", "2"},
          {"$undefinedVar", "undefined"},
          {"1 := 2", "error S0212"},
      },
      nullptr);
}

TEST(ExpressionTest, CallerBindings) {
  Bindings b;
  b.Set("theAnswer", 42);
  Json big = Json::parse(
      R"({"input": {"x": [1, 2, 3]}, "context": {"Execution": {"Id": "e-1"}}})");
  b.SetRef("states", big);
  CheckAll(
      {
          {"$theAnswer", "42"},
          {"$theAnswer + 1", "43"},
          {"$states.input.x[1]", "2"},
          {"$states.context.Execution.Id", R"("e-1")"},
          {"$sum($states.input.x)", "6"},
          {"($theAnswer := 1; $theAnswer)", "1"},
          {"$theAnswer", "42"},
      },
      nullptr, b);
}

TEST(ExpressionTest, Lambdas) {
  CheckAll(
      {
          {"function($x){$x * 2}(21)", "42"},
          {"($double := function($x){$x * 2}; $double(4))", "8"},
          {"(λ($x){$x + 1})(1)", "2"},
          {"($add := function($a, $b){$a + $b}; $add(1))", "undefined"},
          {"($f := function($x){$x}; $f())", "undefined"},
          {"($fact := function($n){$n <= 1 ? 1 : $n * $fact($n - 1)}; "
           "$fact(10))",
           "3628800"},
          {"($fib := function($n){$n < 2 ? $n : $fib($n - 1) + $fib($n - 2)}; "
           "$fib(15))",
           "610"},
          {"($make := function($n){function($x){$x + $n}}; $add5 := $make(5); "
           "$add5(10))",
           "15"},
          {"($counter := function(){($c := 0; function(){$c})}; $counter()())",
           "0"},
          {"$type(function($x){$x})", R"("function")"},
          {"function($x){$x}", "error U1009"},
          {"5()", "error T1006"},
          {"uppercase('a')", "error T1005"},
          {"$nothing(1)", "error T1006"},
          {"function($x, 1){$x}", "error S0208"},
      },
      nullptr);
}

TEST(ExpressionTest, TailCallsDoNotNest) {
  // 10000 iterations of a tail-recursive loop stay well inside the call
  // depth limit of 200 because tail calls run one after the other.
  CheckAll(
      {
          {"($loop := function($i, $acc){$i = 0 ? $acc : $loop($i - 1, $acc + "
           "$i)}; $loop(10000, 0))",
           "50005000"},
          {"($even := function($n){$n = 0 ? true : $odd($n - 1)}; "
           "$odd := function($n){$n = 0 ? false : $even($n - 1)}; $even(1001))",
           "false"},
      },
      nullptr);
}

TEST(ExpressionTest, Signatures) {
  CheckAll(
      {
          {"(function($x)<n:n>{$x * 2})(2)", "4"},
          {"(function($x)<n:n>{$x * 2})('a')", "error T0410"},
          {"(function($x, $y)<sn?:s>{$x & $y})('a')", R"("a")"},
          {"(function($a)<a<n>:n>{$sum($a)})(5)", "5"},
          {"(function($a)<a<n>:n>{$sum($a)})(['x'])", "error T0412"},
          {"(function($x)<x-:x>{$x})()", "undefined"},
      },
      nullptr);
  Json input = Json::parse(R"({"name": "fred"})");
  CheckAll({{"name.$uppercase()", R"("FRED")"},
            {"name.(function($s)<s-:s>{$s & '!'})()", R"("fred!")"}},
           &input);
}

TEST(ExpressionTest, PartialApplication) {
  CheckAll(
      {
          {"($first5 := $substring(?, 0, 5); $first5('Hello World'))",
           R"("Hello")"},
          {"($add := function($a, $b){$a + $b}; $inc := $add(?, 1); $inc(41))",
           "42"},
          {"($add := function($a, $b){$a + $b}; $add(1, ?)(2))", "3"},
          {"$nothing(?)", "error T1008"},
          {"substring(?, 1)", "error T1007"},
      },
      nullptr);
}

TEST(ExpressionTest, FunctionChains) {
  Json input = Json::parse(R"({"s": "  Hello World  ", "n": [3, 1, 2]})");
  CheckAll(
      {
          {"s ~> $trim()", R"("Hello World")"},
          {"s ~> $trim() ~> $uppercase()", R"("HELLO WORLD")"},
          {"s ~> $trim ~> $lowercase", R"("hello world")"},
          {"n ~> $sort() ~> $reverse()", "[3, 2, 1]"},
          {"n ~> $map(function($v){$v * 10})", "[30, 10, 20]"},
          {"($f := $trim ~> $uppercase; $f(s))", R"("HELLO WORLD")"},
          {"s ~> $substring(?, 2, 5)", R"("Hello")"},
          {"s ~> 5", "error T2006"},
      },
      &input);
}

TEST(ExpressionTest, HigherOrderFunctions) {
  Json input =
      Json::parse(R"({"xs": [1, 2, 3, 4, 5], "o": {"a": 1, "b": 2, "c": 3}})");
  CheckAll(
      {
          {"$map(xs, function($v){$v * $v})", "[1, 4, 9, 16, 25]"},
          {"$map(xs, function($v, $i){$i})", "[0, 1, 2, 3, 4]"},
          {"$map(xs, function($v, $i, $a){$count($a)})", "[5, 5, 5, 5, 5]"},
          {"$map(xs, $string)", R"(["1", "2", "3", "4", "5"])"},
          {"$map([1], function($v){$v})", "1"},
          {"$map(nothing, function($v){$v})", "undefined"},
          {"$filter(xs, function($v){$v % 2 = 1})", "[1, 3, 5]"},
          {"$filter(xs, function($v, $i){$i < 2})", "[1, 2]"},
          {"$filter(xs, function($v){$v > 9})", "undefined"},
          {"$single(xs, function($v){$v = 3})", "3"},
          {"$single(xs, function($v){$v > 3})", "error D3138"},
          {"$single(xs, function($v){$v > 9})", "error D3139"},
          {"$reduce(xs, function($acc, $v){$acc + $v})", "15"},
          {"$reduce(xs, function($acc, $v){$acc + $v}, 100)", "115"},
          {"$reduce(xs, function($acc, $v, $i){$acc + $i})", "11"},
          {"$reduce(xs, function($v){$v})", "error D3050"},
          {"$reduce([], function($a, $b){$a + $b})", "undefined"},
          {"$sift(o, function($v){$v > 1})", R"({"b": 2, "c": 3})"},
          {"$sift(o, function($v, $k){$k = 'a'})", R"({"a": 1})"},
          {"$sift(o, function($v){$v > 5})", "undefined"},
          {"$each(o, function($v, $k){$k & '=' & $v})",
           R"(["a=1", "b=2", "c=3"])"},
          {"$sort(xs, function($a, $b){$a < $b})", "[5, 4, 3, 2, 1]"},
          {"$map(xs, $max)", "[1, 2, 3, 4, 5]"},
          {"$map(xs, $substring)", "error T0410"},
      },
      &input);
}

TEST(ExpressionTest, Transforms) {
  Json input = Json::parse(
      R"({"Account": {"Order": [{"Product": [{"Price": 10, "Quantity": 2}, {"Price": 5, "Quantity": 1}]}]}})");
  CheckAll(
      {
          {"$ ~> |Account.Order.Product|{'Total': Price * Quantity}|",
           R"({"Account": {"Order": [{"Product": [{"Price": 10, "Quantity": 2, "Total": 20},
               {"Price": 5, "Quantity": 1, "Total": 5}]}]}})"},
          {"$ ~> |Account.Order.Product|{'Price': Price * 2}, ['Quantity']|",
           R"({"Account": {"Order": [{"Product": [{"Price": 20}, {"Price": 10}]}]}})"},
          {"($ ~> |Account.Order.Product|{}, "
           "'Quantity'|).Account.Order.Product",
           R"([{"Price": 10}, {"Price": 5}])"},
          {"($ ~> |Account.Order.Product[Price > 8]|{'Big': "
           "true}|).Account.Order.Product.Big",
           "true"},
          {"$ ~> |Account|{}|.Account", "error T2006"},
          {"$ ~> |Account|5|", "error T2011"},
          {"$ ~> |Account|{}, 5|", "error T2012"},
          {"($t := |Account.Order|{'Seen': true}|; $t($).Account.Order.Seen)",
           "true"},
          {"(|a|{'b': 1}|)(nothing)", "undefined"},
      },
      &input);
  // The input itself is not changed by a transform.
  CheckAll({{"($ ~> |Account.Order.Product|{'Price': 0}|; "
             "Account.Order.Product.Price)",
             "[10, 5]"}},
           &input);
}

TEST(ExpressionTest, RegularExpressions) {
  CheckAll(
      {
          {"$contains('hello$world', /^hello\\$/)", "true"},
          {"$contains('hello$world', /^hello\\ /)", "false"},
          {"$contains('Hello', /hello/i)", "true"},
          {"$contains('a\\nb', /^b/m)", "true"},
          {"$contains('a\\nb', /^b/)", "false"},
          {"$contains('ab\\n', /b$/)", "false"},
          {"$match('ababbabbcc', /a(b+)/)",
           R"([{"match": "ab", "index": 0, "groups": ["b"]}, {"match": "abb", "index": 2, "groups": ["bb"]},
               {"match": "abb", "index": 5, "groups": ["bb"]}])"},
          {"$match('ababbabbcc', /a(b+)/, 1)",
           R"({"match": "ab", "index": 0, "groups": ["b"]})"},
          {"$match('xyz', /a/)", "undefined"},
          {"$replace('John Smith', /(\\w+)\\s(\\w+)/, '$2, $1')",
           R"("Smith, John")"},
          {"$replace('265USD', /([0-9]+)USD/, '$$$1')", R"("$265")"},
          {"$replace('abcabc', /b/, 'X', 1)", R"("aXcabc")"},
          {"$replace('temp 30C', /(\\d+)C/, "
           "function($m){$string($number($m.groups[0]) * 9 / 5 + 32) & 'F'})",
           R"("temp 86F")"},
          {"$split('a1b22c', /\\d+/)", R"(["a", "b", "c"])"},
          {"$split('a1b22c', /\\d+/, 2)", R"(["a", "b"])"},
          {"$split('abc', /x*/)", "error D1004"},
          {"/a(b)/('xaby')",
           R"({"match": "ab", "start": 1, "end": 3, "groups": ["b"]})"},
          {"[1, 'a', 'b'][$contains($string($), /[ab]/)]", R"(["a", "b"])"},
          {"//", "error S0301"},
          {"/abc", "error S0302"},
          {"/a{2,1}/", "error S0303"},
          {"/(/", "error S0302"},
          {"$replace('aaa', /a*?/, 'x')", "error D1004"},
          {"$match('日本語テキスト', /テ(キ)/)",
           R"({"match": "テキ", "index": 3, "groups": ["キ"]})"},
      },
      nullptr);
}

TEST(ExpressionTest, Eval) {
  Json input = Json::parse(R"({"a": 2, "s": "[1, 2, 3]"})");
  CheckAll(
      {
          {"$eval('1 + 2')", "3"},
          {"$eval('a * 10')", "20"},
          {"$eval(s)", "[1, 2, 3]"},
          {"$eval('$', {'x': 1})", R"({"x": 1})"},
          {"$eval('1 +')", "error D3120"},
          {"$eval('1 + \"a\"')", "error D3121"},
      },
      &input);
  Bindings no_eval;
  no_eval.allow_eval = false;
  EXPECT_EQ(EvalShow("$eval('1')", &input, no_eval), "error U1011");
}

}  // namespace
}  // namespace onewindow::asl::jsonata::testing
