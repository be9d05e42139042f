// Compilation: syntax errors with JSONata's codes, messages and positions,
// and what a compiled expression reports about the variables it reads.
#include <thread>

#include "engine/asl/jsonata/test_util.h"

namespace onewindow::asl::jsonata::testing {
namespace {

std::string CompileError(std::string_view text) {
  auto e = Compile(text);
  if (e.ok()) return "compiled";
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument) << text;
  return std::string(e.status().message());
}

TEST(ParserTest, SyntaxErrorsCarryCodeMessageAndPosition) {
  EXPECT_EQ(CompileError("(1 + 2"),
            "S0203: Expected \")\" before end of expression at position 6");
  EXPECT_EQ(CompileError("Account.Order[0"),
            "S0203: Expected \"]\" before end of expression at position 15");
  EXPECT_EQ(CompileError("{'a': 1"),
            "S0203: Expected \"}\" before end of expression at position 7");
  EXPECT_EQ(CompileError("(1 + 2]"),
            "S0202: Expected \")\", got \"]\" at position 7");
  EXPECT_EQ(CompileError("1 +"),
            "S0207: Unexpected end of expression at position 3");
  EXPECT_EQ(CompileError(""),
            "S0207: Unexpected end of expression at position 0");
  EXPECT_EQ(CompileError("a b"), "S0201: Syntax error: \"b\" at position 3");
  EXPECT_EQ(CompileError("\"abc"),
            "S0101: String literal must be terminated by a matching quote at "
            "position 4");
  EXPECT_EQ(CompileError("'\\q'"),
            "S0103: Unsupported escape sequence: \\q at position 2");
  EXPECT_EQ(CompileError("'\\u12'"),
            "S0104: The escape sequence \\u must be followed by 4 hex digits "
            "at position 2");
  EXPECT_EQ(CompileError("`abc"),
            "S0105: Quoted property name must be terminated with a backquote "
            "(`) at position 4");
  EXPECT_EQ(CompileError("1 /* open"),
            "S0106: Comment has no closing tag at position 9");
  EXPECT_EQ(CompileError("1e999"),
            "S0102: Number out of range: \"1e999\" at position 5");
  EXPECT_EQ(CompileError("! 1"),
            "S0204: Unknown operator: \"!\" at position 1");
  EXPECT_EQ(CompileError("+1"),
            "S0211: The symbol \"+\" cannot be used as a unary operator at "
            "position 1");
  EXPECT_EQ(CompileError("function(x){x}"),
            "S0208: Parameter 1 of function definition must be a variable name "
            "(start with $) at "
            "position 10");
  EXPECT_EQ(CompileError("foo.1"),
            "S0213: The literal value 1 cannot be used as a step within a path "
            "expression at "
            "position 5");
  EXPECT_EQ(CompileError("a@b"),
            "S0214: The right side of \"@\" must be a variable name (start "
            "with $) at position 3");
  EXPECT_EQ(CompileError("1 := 2"),
            "S0212: The left side of := must be a variable name (start with $) "
            "at position 1");
  EXPECT_EQ(CompileError("$a{'x': 1}[0]"),
            "S0209: A predicate cannot follow a grouping expression in a step "
            "at position 11");
  EXPECT_EQ(
      CompileError("a{'x': 1}{'y': 2}"),
      "S0210: Each step can only have one grouping expression at position 10");
  EXPECT_EQ(CompileError("a[0]@$x"),
            "S0215: A context variable binding must precede any predicates on "
            "a step at position 5");
  EXPECT_EQ(CompileError("a^(b)@$x"),
            "S0216: A context variable binding must precede the 'order-by' "
            "clause on a step at "
            "position 6");
  EXPECT_EQ(CompileError("%"),
            "S0217: The object representing the 'parent' cannot be derived "
            "from this expression "
            "at position 1");
  EXPECT_EQ(CompileError("//"),
            "S0301: Empty regular expressions are not allowed at position 2");
  EXPECT_EQ(CompileError("/abc"),
            "S0302: No terminating / in regular expression at position 4");
  EXPECT_EQ(CompileError("function($x)<q>{$x}").substr(0, 5), "compi");
  EXPECT_EQ(CompileError("function($x)<b<s>>{$x}").substr(0, 5), "S0401");
}

TEST(ParserTest, PositionsCountCharactersNotBytes) {
  EXPECT_EQ(CompileError("'日本' & (1"),
            "S0203: Expected \")\" before end of expression at position 9");
  auto e = Compile("'日本' & (1");
  auto info = GetErrorInfo(e.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->code, "S0203");
  EXPECT_EQ(info->position, 9);
  EXPECT_EQ(info->offset, 13u);  // bytes: two 3-byte characters
}

TEST(ParserTest, RuntimeErrorsCarryPositionAndToken) {
  Json input = Json::parse(R"({"s": "x"})");
  auto r = RunExpr("1 + s", &input);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "T2002: The right side of the \"+\" operator must evaluate to a "
            "number at position 3");
  r = RunExpr("s + 1", &input);
  EXPECT_EQ(r.status().message(),
            "T2001: The left side of the \"+\" operator must evaluate to a "
            "number at position 3");
  auto info = GetErrorInfo(r.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->code, "T2001");
  EXPECT_EQ(info->position, 3);
  EXPECT_EQ(info->token, "+");
  EXPECT_EQ(ErrorMessage("$substring('a', 'b')"),
            "T0410: Argument 2 of function \"substring\" does not match "
            "function signature at "
            "position 11");
  EXPECT_EQ(ErrorMessage("[1, 2] ~> $join()"),
            "T0412: Argument 1 of function \"join\" must be an array of "
            "strings at position 16");
  EXPECT_EQ(ErrorMessage("'a' < 1"),
            "T2009: The values \"a\" and 1 either side of operator \"<\" must "
            "be of the same data "
            "type at position 5");
  EXPECT_EQ(ErrorMessage("uppercase('x')"),
            "T1005: Attempted to invoke a non-function. Did you mean "
            "$uppercase? at position 10");
}

TEST(ParserTest, AcceptsTheWholeLanguage) {
  const char* valid[] = {
      "Account.Order[0].Product[Price > 30 and Quantity < 5].`Product Name`",
      "$sum(Account.Order.Product.(Price * Quantity))",
      "Account.Order.Product{`Product Name`: $sum(Price)}",
      "Account.Order.Product^(>Price, <Quantity)",
      "library.loans@$l.books@$b[$l.isbn=$b.isbn]",
      "books#$i[$i < 2]",
      "Product.{'Order': %.OrderID}",
      "$x := function($a, $b)<nn:n>{$a + $b}",
      "λ($x){$x}",
      "$substring(?, 0, 5)",
      "$ ~> |Account.Order|{'x': 1}, ['y']|",
      "/ab+c/i",
      "a ? b : c",
      "a ?: b",
      "a ?? b",
      "[1..10][$ % 2 = 0]",
      "( $a := 1; /* note */ $b := 2; $a + $b )",
      "**.Postcode",
      "*.*",
      "and.or.in",
      "a[]",
      "\"string\".length",
  };
  for (const char* text : valid) {
    auto e = Compile(text);
    EXPECT_TRUE(e.ok()) << text << ": " << e.status();
  }
}

TEST(ParserTest, FreeVariables) {
  auto names = [](std::string_view text) {
    auto e = Compile(text);
    EXPECT_TRUE(e.ok()) << e.status();
    std::vector<std::string> out;
    if (!e.ok()) return out;
    for (const auto& v : (*e)->free_variables())
      out.push_back(v.name + (v.called ? "()" : ""));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names("$states.input.x & $foo"), (V{"states", "foo"}));
  EXPECT_EQ(names("($x := 1; $x + $y)"), (V{"y"}));
  EXPECT_EQ(names("function($a){$a + $b}"), (V{"b"}));
  EXPECT_EQ(names("$string($v) & $uppercase('a')"), (V{"v"}));
  EXPECT_EQ(names("$partition([1], 1)"), (V{"partition()"}));
  EXPECT_EQ(names("$f(1) & $f"), (V{"f"}));
  EXPECT_EQ(names("library.loans@$l.books[$l.isbn = isbn]"), V{});
  EXPECT_EQ(names("books#$i[$i < 2]"), V{});
  EXPECT_EQ(names("$ & $$"), V{});
  EXPECT_EQ(names("($f := function($n){$n = 0 ? 1 : $f($n - 1)}; $f(3))"), V{});
  EXPECT_EQ(names("$a + $a + $b"), (V{"a", "b"}));

  auto e = Compile("$states.input");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE((*e)->reads_states());
  EXPECT_EQ((*e)->free_variables()[0].position, 7);
  e = Compile("$foo");
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE((*e)->reads_states());
  EXPECT_EQ((*e)->text(), "$foo");
}

TEST(ParserTest, CompiledExpressionsAreReusable) {
  auto e = Compile("a * 2");
  ASSERT_TRUE(e.ok());
  for (int i = 0; i < 5; ++i) {
    Json input = {{"a", i}};
    auto r = Evaluate(**e, &input, Bindings());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(**r, Json(i * 2));
  }
}

TEST(ParserTest, OneExpressionServesConcurrentEvaluations) {
  auto e = Compile(
      "($f := function($n){$n <= 1 ? 1 : $n * $f($n - 1)}; "
      "{'total': $sum(items.(price * qty)), 'names': items[price > 1].name, "
      "'fact': $f(n), 'text': $join(items.name, ',') & $string(n)})");
  ASSERT_TRUE(e.ok()) << e.status();
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        int n = (t + i) % 6;
        Json input = {{"n", n},
                      {"items", Json::array({{{"name", "a"}, {"price", 2}, {"qty", n}},
                                             {{"name", "b"}, {"price", 1}, {"qty", 1}}})}};
        auto r = Evaluate(**e, &input, Bindings());
        int fact = 1;
        for (int k = 2; k <= n; ++k) fact *= k;
        Json want = {{"total", 2 * n + 1},
                     {"names", "a"},
                     {"fact", fact},
                     {"text", "a,b" + std::to_string(n)}};
        if (!r.ok() || !r->has_value() || **r != want) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace onewindow::asl::jsonata::testing
