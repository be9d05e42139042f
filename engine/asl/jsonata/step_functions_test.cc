// The functions Step Functions adds to JSONata, and native functions in
// general.
#include "engine/asl/jsonata/step_functions.h"

#include "engine/asl/jsonata/test_util.h"

namespace onewindow::asl::jsonata::testing {
namespace {

class StepFunctionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(AddStepFunctionsFunctions(
                    &table_,
                    [](std::string_view data,
                       std::string_view alg) -> absl::StatusOr<std::string> {
                      if (alg != "SHA-256")
                        return absl::InvalidArgumentError(
                            "unsupported algorithm");
                      return "hash(" + std::string(data) + ")";
                    })
                    .ok());
    bindings_.functions = &table_;
  }
  std::string Eval(std::string_view expr) {
    return EvalShow(expr, nullptr, bindings_);
  }

  FunctionTable table_;
  Bindings bindings_;
};

TEST_F(StepFunctionsTest, Partition) {
  EXPECT_EQ(Eval("$partition([1, 2, 3, 4, 5, 6, 7, 8, 9], 3)"),
            Norm("[[1, 2, 3], [4, 5, 6], [7, 8, 9]]"));
  EXPECT_EQ(Eval("$partition([1, 2, 3], 2)"), Norm("[[1, 2], [3]]"));
  EXPECT_EQ(Eval("$partition([], 2)"), Norm("[]"));
  EXPECT_EQ(Eval("$partition([1], 0)"), "error D3137");
  EXPECT_EQ(Eval("$partition([1], 1.5)"), "error D3137");
  EXPECT_EQ(Eval("$partition('a', 1)"), Norm(R"([["a"]])"));
  // A chunk size beyond size_t is one chunk, not an out-of-range cast.
  EXPECT_EQ(Eval("$partition([1, 2], 29223372036854775807)"),
            Norm("[[1, 2]]"));
  EXPECT_EQ(Eval("$partition([1, 2], 1e300)"), Norm("[[1, 2]]"));
}

TEST_F(StepFunctionsTest, Range) {
  EXPECT_EQ(Eval("$range(0, 10, 2)"), Norm("[0, 2, 4, 6, 8, 10]"));
  EXPECT_EQ(Eval("$range(10, 0, -5)"), Norm("[10, 5, 0]"));
  EXPECT_EQ(Eval("$range(1, 9, 9)"), "1");
  EXPECT_EQ(Eval("$range(5, 1, 1)"), "undefined");
  EXPECT_EQ(Eval("$range(0, 1, 0)"), "error D3137");
  EXPECT_EQ(Eval("$range(0, 1e12, 1)"), "error D2015");
}

TEST_F(StepFunctionsTest, RandomAndUuid) {
  EXPECT_EQ(Eval("$random()"), "error U1010");
  EXPECT_EQ(Eval("$uuid()"), "error U1010");
  std::string seeded = Eval("$random(42)");
  EXPECT_EQ(seeded, Eval("$random(42)"));  // a pure function of the seed
  EXPECT_NE(seeded, Eval("$random(43)"));
  double r = std::stod(seeded);
  EXPECT_GE(r, 0);
  EXPECT_LT(r, 1);
  // Seeds beyond int64 (as a JSON integer or a double) are seeds too.
  for (const char* big : {"$random(18446744073709551615)", "$random(1e300)",
                          "$random(-1e300)"}) {
    std::string v = Eval(big);
    EXPECT_EQ(v, Eval(big)) << big;
    ASSERT_NE(v.rfind("error", 0), 0u) << big << ": " << v;
    EXPECT_GE(std::stod(v), 0) << big;
    EXPECT_LT(std::stod(v), 1) << big;
  }
  uint64_t state = 7;
  bindings_.random = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  std::string uuid = Eval("$uuid()");
  ASSERT_EQ(uuid.size(), 38u) << uuid;  // quoted
  EXPECT_EQ(uuid[15], '4');             // version 4
  EXPECT_TRUE(uuid[20] == '8' || uuid[20] == '9' || uuid[20] == 'a' ||
              uuid[20] == 'b')
      << uuid;
  EXPECT_NE(uuid, Eval("$uuid()"));
  EXPECT_EQ(Eval("$random(1.5)"), "error D3137");
}

TEST_F(StepFunctionsTest, HashAndParse) {
  EXPECT_EQ(Eval("$hash('abc', 'SHA-256')"), Norm(R"x("hash(abc)")x"));
  EXPECT_EQ(Eval("$hash('abc', 'ROT13')"), "error D3137");
  EXPECT_EQ(Eval("$parse('{\"a\": [1, 2]}').a[1]"), "2");
  EXPECT_EQ(Eval("$parse('nope')"), "error D3137");
  EXPECT_EQ(Eval("$parse(5)"), "error T0410");
}

TEST(NativeFunctionsTest, CallerFunctionsWithSignaturesAndErrors) {
  FunctionTable table;
  ASSERT_TRUE(table
                  .Add("twice", "<n:n>",
                       [](std::span<const std::optional<Json>> args,
                          CallContext&) -> absl::StatusOr<std::optional<Json>> {
                         return std::optional<Json>(args[0]->get<double>() * 2);
                       })
                  .ok());
  ASSERT_TRUE(table
                  .Add("fail", "",
                       [](std::span<const std::optional<Json>>,
                          CallContext&) -> absl::StatusOr<std::optional<Json>> {
                         return absl::InternalError("went wrong");
                       })
                  .ok());
  ASSERT_TRUE(table
                  .Add("string", "<x:s>",
                       [](std::span<const std::optional<Json>>,
                          CallContext&) -> absl::StatusOr<std::optional<Json>> {
                         return std::optional<Json>("replaced");
                       })
                  .ok());
  EXPECT_FALSE(table.Add("bad", "<b<s>>", nullptr).ok());
  Bindings b;
  b.functions = &table;
  EXPECT_EQ(EvalShow("$twice(21)", nullptr, b), "42");
  EXPECT_EQ(EvalShow("[1, 2] ~> $map($twice)", nullptr, b), Norm("[2, 4]"));
  EXPECT_EQ(EvalShow("$twice('x')", nullptr, b), "error T0410");
  EXPECT_EQ(EvalShow("$fail()", nullptr, b), "error D3137");
  EXPECT_EQ(EvalShow("$string(1)", nullptr, b), Norm(R"("replaced")"));
  auto r = RunExpr("$fail()", nullptr, b);
  EXPECT_EQ(r.status().message(), "D3137: went wrong at position 6");
}

}  // namespace
}  // namespace onewindow::asl::jsonata::testing
