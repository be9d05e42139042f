// Every limit attacked: nesting, recursion, work, sizes, regular
// expressions and the machine stack. Each must end in an error that names
// the limit, quickly, without exhausting memory or the stack.
#include <chrono>
#include <thread>

#include "engine/asl/jsonata/evaluator.h"
#include "engine/asl/jsonata/test_util.h"

namespace onewindow::asl::jsonata::testing {
namespace {

std::string Repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string CompileCode(const std::string& text,
                        const Limits& limits = Limits()) {
  auto e = Compile(text, limits);
  if (e.ok()) return "compiled";
  auto info = GetErrorInfo(e.status());
  return info ? info->code : std::string(e.status().message());
}

TEST(LimitsTest, DeepNestingIsRefusedByTheParser) {
  Limits limits;
  limits.max_expression_bytes = 1 << 20;
  EXPECT_EQ(CompileCode(Repeat("(", 100000), limits), "U1001");
  EXPECT_EQ(
      CompileCode(Repeat("(", 100000) + "1" + Repeat(")", 100000), limits),
      "U1001");
  EXPECT_EQ(CompileCode(Repeat("[", 100000), limits), "U1001");
  EXPECT_EQ(CompileCode(Repeat("{'a':", 100000), limits), "U1001");
  EXPECT_EQ(CompileCode(Repeat("-", 100000) + "1", limits), "U1001");
  EXPECT_EQ(CompileCode(Repeat("$f(", 100000), limits), "U1001");
  EXPECT_EQ(CompileCode("1" + Repeat(" + 1", 100000), limits), "U1001");
  EXPECT_EQ(CompileCode("a" + Repeat("[0]", 100000), limits), "U1001");
  EXPECT_EQ(CompileCode(Repeat("true ? ", 100000) + "1", limits), "U1001");
  EXPECT_EQ(CompileCode(Repeat("function($x){", 10000), limits), "U1001");
  // Just inside the limit is fine; a long flat path is not nesting.
  EXPECT_EQ(CompileCode(Repeat("(", 95) + "1" + Repeat(")", 95)), "compiled");
  EXPECT_EQ(CompileCode("a" + Repeat(".b", 20000)), "compiled");
  auto e = Compile(Repeat("(", 100000), limits);
  EXPECT_EQ(e.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(e.status().message()).find("exceeds the limit of 100"),
            std::string::npos)
      << e.status();
}

TEST(LimitsTest, LongExpressionsAreRefused) {
  EXPECT_EQ(CompileCode(std::string(70000, ' ') + "1"), "U1000");
  Limits small;
  small.max_expression_bytes = 10;
  EXPECT_EQ(CompileCode("1 + 2 + 3 + 4", small), "U1000");
}

TEST(LimitsTest, HugeRanges) {
  EXPECT_EQ(EvalShow("[1..100000000]"), "error D2014");
  EXPECT_EQ(EvalShow("$count([1..1000001])"), "error D2014");
  EXPECT_EQ(EvalShow("$count([1..100000])"), "100000");
  EXPECT_EQ(
      ErrorMessage("[1..100000000]"),
      "D2014: The size of the sequence allocated by the range operator (..) "
      "must not exceed "
      "the limit of 1000000.  Attempted to allocate 100000000. at position 4");
  // Many ranges in a row run out of steps instead of memory.
  EXPECT_EQ(EvalShow("[1..1000000].[1..1000000]"), "error D1012");
}

TEST(LimitsTest, RunawayRecursion) {
  // Not a tail call: nests until the call depth limit (or, in unoptimised
  // builds with larger frames, the stack limit).
  std::string nested = EvalShow("($f := function($n){1 + $f($n + 1)}; $f(0))");
  EXPECT_EQ(nested, "error D1011");
  // 150 levels fit the default stack bound; AddressSanitizer's red zones
  // make every frame several times larger, so that build gets more room
  // (the main thread's stack is 8 MiB).
  Limits deep;
#if defined(__SANITIZE_ADDRESS__)
  deep.max_stack_bytes *= 8;
#endif
  EXPECT_EQ(
      EvalShow("($f := function($n){$n = 0 ? 0 : 1 + $f($n - 1)}; $f(150))",
               nullptr, Bindings(), deep),
      "150");
  Limits shallow;
  shallow.max_call_depth = 50;
  EXPECT_EQ(EvalShow("($f := function($n){1 + $f($n + 1)}; $f(0))", nullptr,
                     Bindings(), shallow),
            "error D1011");
  auto limited = RunExpr("($f := function($n){1 + $f($n + 1)}; $f(0))", nullptr,
                         Bindings(), shallow);
  EXPECT_EQ(std::string(limited.status().message()).substr(0, 72),
            "D1011: Stack overflow: function calls nest deeper than the limit "
            "of 50. ");
  // A tail call never nests: it loops until the step budget runs out.
  Limits limits;
  limits.max_steps = 200000;
  EXPECT_EQ(EvalShow("($f := function($n){$f($n + 1)}; $f(0))", nullptr,
                     Bindings(), limits),
            "error D1012");
  // Mutual recursion through higher-order functions also nests.
  EXPECT_EQ(
      EvalShow(
          "($f := function($n){$map([$n], function($v){$f($v + 1)})}; $f(0))"),
      "error D1011");
  std::string r = EvalShow("($f := function($n){$eval('$f(1)')}; $f(0))");
  EXPECT_EQ(r, "error D1011");
}

TEST(LimitsTest, TheStepBudgetStopsEndlessLoops) {
  // 500000 steps; the default of 5 million takes about half a second in an
  // optimised build (10 times longer unoptimised).
  Limits limits;
  limits.max_steps = 500000;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(EvalShow("($f := function($n){$f($n + 1)}; $f(0))", nullptr,
                     Bindings(), limits),
            "error D1012");
  EXPECT_EQ(EvalShow("$map([1..100000], function($v){$map([1..100000], "
                     "function($w){$w})})",
                     nullptr, Bindings(), limits),
            "error D1012");
  EXPECT_EQ(EvalShow("$reduce([1..400000], function($a, $b){$a + $b})", nullptr,
                     Bindings(), limits),
            "error D1012");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(Limits().max_steps, 5000000u);
}

TEST(LimitsTest, CatastrophicRegularExpressions) {
  std::string subject = std::string(40, 'a') + "!";
  Json input = {{"s", subject}};
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(EvalShow("$match(s, /(a+)+$/)", &input), "error U1008");
  EXPECT_EQ(EvalShow("$contains(s, /^(a|aa)+$/)", &input), "error U1008");
  EXPECT_EQ(EvalShow("$replace(s, /(a+)+$/, 'x')", &input), "error U1008");
  EXPECT_EQ(EvalShow("$split(s, /(a|a)+$/)", &input), "error U1008");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Ordinary patterns are unaffected.
  EXPECT_EQ(EvalShow("$contains(s, /a+!$/)", &input), "true");
}

TEST(LimitsTest, StringGrowth) {
  EXPECT_EQ(EvalShow("($f := function($s, $n){$n = 0 ? $s : $f($s & $s, $n - "
                     "1)}; $f('x', 40))"),
            "error U1005");
  EXPECT_EQ(EvalShow("$pad('x', 100000000)"), "error U1005");
  EXPECT_EQ(EvalShow("$pad('x', -100000000, 'ab')"), "error U1005");
  EXPECT_EQ(EvalShow("$join($map([1..100000], "
                     "function($v){'0123456789012345678901234567890123456789"
                     "01234567890123456789012345678901234567890123456789'}))"),
            "error U1005");
  EXPECT_EQ(EvalShow("$formatInteger(1, '" + Repeat("0", 20000) + "')"),
            "error U1005");
  EXPECT_EQ(EvalShow("$formatInteger(1e15, 'I')"), "error U1005");
  EXPECT_EQ(EvalShow("$formatNumber(1, '" + Repeat("0", 2000) + "')"),
            "error U1005");
  EXPECT_EQ(EvalShow("$length($pad('x', 1000))"), "1000");
}

TEST(LimitsTest, SharedStructuresCannotExplode) {
  // Each level doubles the logical size of the value while sharing the
  // halves, so memory stays small; walking it is what the limits stop.
  const std::string grow =
      "($f := function($a, $n){$n = 0 ? $a : $f({'l': $a, 'r': $a}, $n - 1)}; "
      "$f([1], 60))";
  Limits limits;
  limits.max_steps = 200000;
  limits.max_result_bytes = 1 << 20;
  auto check = [&](const std::string& expr,
                   std::initializer_list<std::string> codes) {
    std::string r = EvalShow(expr, nullptr, Bindings(), limits);
    bool ok = false;
    for (const auto& c : codes) ok = ok || r == "error " + c;
    EXPECT_TRUE(ok) << expr << " -> " << r;
  };
  check(grow, {"U1006"});  // the result is too large
  check("$string(" + grow + ")", {"D1012", "U1005"});    // serialising it
  check("(" + grow + " = " + grow + ")", {"D1012"});     // comparing it
  check("$count(" + grow + ".**)", {"D1012", "D2015"});  // walking it
  check("$clone(" + grow + ")", {"D1012"});              // copying it
}

TEST(LimitsTest, SequenceLength) {
  Limits limits;
  limits.max_sequence_length = 1000;
  EXPECT_EQ(EvalShow("[1..1001]", nullptr, Bindings(), limits), "error D2014");
  EXPECT_EQ(EvalShow("[1..600, 1..600]", nullptr, Bindings(), limits),
            "error D2015");
  EXPECT_EQ(
      EvalShow("$append([1..600], [1..600])", nullptr, Bindings(), limits),
      "error D2015");
  Json nested = Json::object();
  nested["xs"] = Json::array();
  for (int i = 0; i < 40; ++i) nested["xs"].push_back({{"ys", Json::array()}});
  for (auto& x : nested["xs"]) {
    for (int j = 0; j < 40; ++j) x["ys"].push_back(j);
  }
  EXPECT_EQ(EvalShow("xs.ys", &nested, Bindings(), limits), "error D2015");
  // Arrays built in the last step are not flattened: 40 arrays of 40.
  EXPECT_EQ(EvalShow("$count([1..40].[1..40])", nullptr, Bindings(), limits),
            "40");
}

Json DeepArray(int depth) {
  Json j = Json::array();
  for (int i = 0; i < depth; ++i) j = Json::array({std::move(j)});
  return j;
}

TEST(LimitsTest, DeepInputDocumentsDoNotOverflowTheStack) {
  Json deep = {{"a", DeepArray(20000)}};
  EXPECT_EQ(EvalShow("$string(a)", &deep), "error D1011");
  EXPECT_EQ(EvalShow("a", &deep), "error D1011");  // converting the result
  EXPECT_EQ(EvalShow("a = a", &deep), "true");     // same value: no walk
  EXPECT_EQ(EvalShow("$count(**)", &deep), "1");   // iterative walk
  EXPECT_EQ(EvalShow("$boolean(a)", &deep), "false");
  EXPECT_EQ(EvalShow("$clone(a)", &deep), "error D1011");
  Json flat = Json::parse(R"({"x": 1})");
  EXPECT_EQ(EvalShow("$string($)", &flat), R"("{\"x\":1}")");
}

// Measures the machine stack one level of user recursion costs, and checks
// that the call depth limit keeps the evaluator well under 1 MiB of stack.
TEST(LimitsTest, StackPerCallLevel) {
  Limits limits;
  auto program = internal::Parse(
      "($f := function($n){$n = 0 ? 0 : 1 + $f($n - 1)}; $f(depth))", limits);
  ASSERT_TRUE(program.ok());
  auto measure = [&](int depth) {
    Json input = {{"depth", depth}};
    internal::Evaluator ev(**program, Bindings(), limits);
    auto r = ev.Run(&input);
    EXPECT_TRUE(r.ok()) << r.status();
    return ev.max_stack_used();
  };
  size_t at10 = measure(10);
  size_t at100 = measure(100);
  double per_level = static_cast<double>(at100 - at10) / 90.0;
  double at_limit = per_level * limits.max_call_depth;
  std::printf(
      "[ stack    ] %.0f bytes per call level; %.0f KiB at the call depth "
      "limit of %d\n",
      per_level, at_limit / 1024, limits.max_call_depth);
  EXPECT_LT(at_limit, 1024.0 * 1024.0);
  EXPECT_LT(at100, limits.max_stack_bytes);
}

TEST(LimitsTest, RunsOnASmallStackThread) {
  // A 1 MiB thread evaluates the recursion limit and the deep input without
  // crashing: every path ends in a result or an error.
  std::string result1, result2;
  Json deep = {{"a", DeepArray(20000)}};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 1 << 20);
  struct Args {
    std::string* r1;
    std::string* r2;
    const Json* deep;
  } args{&result1, &result2, &deep};
  pthread_t thread;
  ASSERT_EQ(
      pthread_create(
          &thread, &attr,
          [](void* p) -> void* {
            auto* a = static_cast<Args*>(p);
            *a->r1 = EvalShow("($f := function($n){1 + $f($n + 1)}; $f(0))");
            *a->r2 =
                EvalShow("$string(a)", a->deep) + " " +
                EvalShow("$boolean(a)", a->deep) + " " +
                EvalShow(Repeat("[(-{'a': ", 20) + "1" + Repeat("})]", 20)) +
                " " + Show(Compile(Repeat("(", 60000)).status());
            return nullptr;
          },
          &args),
      0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_EQ(result1, "error D1011");
  EXPECT_EQ(result2, "error D1011 false error D1002 error U1001");
}

}  // namespace
}  // namespace onewindow::asl::jsonata::testing
