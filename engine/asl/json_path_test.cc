// Tests for JSONPath evaluation (EvalPath, EvalPathOptional, path
// validation) and ApplyResultPath.
#include "engine/asl/json_path.h"

#include <string>

#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "gtest/gtest.h"

namespace onewindow::asl {
namespace {

const Json kStore = Json::parse(R"({
  "store": {
    "book": [
      {"category": "reference", "author": "Nigel Rees", "price": 8.95},
      {"category": "fiction", "author": "Evelyn Waugh", "price": 12.99},
      {"category": "fiction", "author": "Herman Melville", "price": 8.99,
       "isbn": "0-553-21311-3"},
      {"category": "fiction", "author": "J. R. R. Tolkien", "price": 22.99,
       "isbn": "0-395-19395-8"}
    ],
    "bicycle": {"color": "red", "price": 19.95}
  },
  "a b": {"c.d": 1},
  "n": null
})");

Json Eval(const std::string& path, const Json& input = kStore,
          const Json* context = nullptr) {
  EvalEnv env;
  env.context = context;
  auto r = EvalPath(path, input, env);
  EXPECT_TRUE(r.ok()) << path << ": " << r.status();
  return r.ok() ? *r : Json("<error>");
}

absl::Status EvalError(const std::string& path, const Json& input = kStore) {
  auto r = EvalPath(path, input, EvalEnv{});
  EXPECT_FALSE(r.ok()) << path << " unexpectedly gave " << r->dump();
  return r.status();
}

TEST(EvalPathTest, RootReturnsWholeInput) {
  EXPECT_EQ(Eval("$"), kStore);
  EXPECT_EQ(Eval("$", Json(42)), Json(42));
}

TEST(EvalPathTest, DotAndBracketChildren) {
  EXPECT_EQ(Eval("$.store.bicycle.color"), "red");
  EXPECT_EQ(Eval("$['store']['bicycle']['color']"), "red");
  EXPECT_EQ(Eval("$[\"store\"].bicycle[\"price\"]"), 19.95);
  EXPECT_EQ(Eval("$['a b']['c.d']"), 1);
  EXPECT_EQ(Eval("$.n"), Json(nullptr));
}

TEST(EvalPathTest, ArrayIndexes) {
  EXPECT_EQ(Eval("$.store.book[0].author"), "Nigel Rees");
  EXPECT_EQ(Eval("$.store.book[-1].author"), "J. R. R. Tolkien");
  EXPECT_EQ(Eval("$.store.book[-4].author"), "Nigel Rees");
}

TEST(EvalPathTest, WildcardsSlicesUnions) {
  EXPECT_EQ(Eval("$.store.book[*].price"),
            Json::parse("[8.95, 12.99, 8.99, 22.99]"));
  EXPECT_EQ(Eval("$.store.book.*.price"),
            Json::parse("[8.95, 12.99, 8.99, 22.99]"));
  EXPECT_EQ(Eval("$.store.book[1:3].price"), Json::parse("[12.99, 8.99]"));
  EXPECT_EQ(Eval("$.store.book[:2].price"), Json::parse("[8.95, 12.99]"));
  EXPECT_EQ(Eval("$.store.book[-2:].price"), Json::parse("[8.99, 22.99]"));
  EXPECT_EQ(Eval("$.store.book[::2].price"), Json::parse("[8.95, 8.99]"));
  EXPECT_EQ(Eval("$.store.book[1:100].price"),
            Json::parse("[12.99, 8.99, 22.99]"));
  EXPECT_EQ(Eval("$.store.book[0,2].price"), Json::parse("[8.95, 8.99]"));
  EXPECT_EQ(Eval("$.store.bicycle['color','price']"),
            Json::parse(R"(["red", 19.95])"));
  EXPECT_EQ(Eval("$.store.bicycle.*"), Json::parse(R"(["red", 19.95])"));
}

TEST(EvalPathTest, DeepScan) {
  EXPECT_EQ(Eval("$..author"),
            Json::parse(R"(["Nigel Rees", "Evelyn Waugh", "Herman Melville",
                            "J. R. R. Tolkien"])"));
  // Members are visited in key order ("bicycle" before "book").
  EXPECT_EQ(Eval("$.store..price"),
            Json::parse("[19.95, 8.95, 12.99, 8.99, 22.99]"));
  EXPECT_EQ(Eval("$..book[2].author"), Json::parse(R"(["Herman Melville"])"));
  EXPECT_EQ(Eval("$..nothing"), Json::array());
}

TEST(EvalPathTest, Filters) {
  EXPECT_EQ(Eval("$.store.book[?(@.price < 10)].author"),
            Json::parse(R"(["Nigel Rees", "Herman Melville"])"));
  EXPECT_EQ(Eval("$.store.book[?(@.isbn)].author"),
            Json::parse(R"(["Herman Melville", "J. R. R. Tolkien"])"));
  EXPECT_EQ(Eval("$.store.book[?(@.category == 'fiction' && @.price > 20)]"
                 ".author"),
            Json::parse(R"(["J. R. R. Tolkien"])"));
  EXPECT_EQ(Eval("$.store.book[?(@.price > 20 || @.price < 9)].price"),
            Json::parse("[8.95, 8.99, 22.99]"));
  EXPECT_EQ(Eval("$.store.book[?(!(@.category == 'fiction'))].author"),
            Json::parse(R"(["Nigel Rees"])"));
  EXPECT_EQ(Eval("$.store.book[?(@.author =~ /.*REES/i)].price"),
            Json::parse("[8.95]"));
  EXPECT_EQ(Eval("$.store.book[?(@.price <= $.store.bicycle.price)].price"),
            Json::parse("[8.95, 12.99, 8.99]"));
  EXPECT_EQ(Eval("$..book[?(@.price >= 22.99)].author"),
            Json::parse(R"(["J. R. R. Tolkien"])"));
  EXPECT_EQ(Eval("$.store.book[?(@.price != 8.95)].price"),
            Json::parse("[12.99, 8.99, 22.99]"));
}

// aws-base-state-pass-regex-json-path-base
TEST(EvalPathTest, AwsFilterOnStatus) {
  Json input = Json::parse(
      R"({"users": [{"year": 1997, "status": 0}, {"year": 1998, "status": 1}]})");
  EXPECT_EQ(Eval("$.users[?(@.status == 0)]", input),
            Json::parse(R"([{"year": 1997, "status": 0}])"));
}

// aws-base-jsonpath-wildcard-noinput-*: indefinite paths over a missing
// member give an empty array, never an error.
TEST(EvalPathTest, AwsIndefiniteOnEmptyInput) {
  Json empty = Json::object();
  for (const char* path : {"$.item.items[1:5]", "$.item.items[:1]",
                           "$.item.items[*]", "$.items[:1].itemValue",
                           "$.items[*]", "$.items[*].itemValue", "$[*]"}) {
    EXPECT_EQ(Eval(path, empty), Json::array()) << path;
  }
}

// aws-scen-escape-sequence-parsing-jsonpath
TEST(EvalPathTest, AwsEscapeSequenceInBracketName) {
  Json input = Json::parse(R"({"Test\\\"\"Name\"": "Value\"\\"})");
  EXPECT_EQ(Eval("$['Test\\\"\"Name\"']", input), "Value\"\\");
  EXPECT_EQ(Eval("$['it\\'s']", Json::parse(R"({"it's": 1})")), 1);
}

TEST(EvalPathTest, DefiniteNoMatchIsRuntimeError) {
  absl::Status s = EvalError("$.missing");
  EXPECT_EQ(AslErrorName(s), kStatesRuntime);
  EXPECT_EQ(AslErrorCause(s),
            "Invalid path '$.missing' : No results for path: $['missing']");
  EXPECT_EQ(AslErrorName(EvalError("$.store.book[10]")), kStatesRuntime);
  EXPECT_EQ(AslErrorName(EvalError("$.store.bicycle.color.x")), kStatesRuntime);
  EXPECT_EQ(AslErrorName(EvalError("$.store.book.author")), kStatesRuntime);
  EXPECT_EQ(AslErrorName(EvalError("$[0]")), kStatesRuntime);
}

TEST(EvalPathTest, InvalidSyntaxIsRuntimeError) {
  EXPECT_EQ(AslErrorName(EvalError("store")), kStatesRuntime);
  EXPECT_EQ(AslErrorName(EvalError("$.")), kStatesRuntime);
  EXPECT_EQ(AslErrorName(EvalError("$[")), kStatesRuntime);
  EXPECT_EQ(AslErrorName(EvalError("$['x")), kStatesRuntime);
}

TEST(EvalPathTest, ContextObject) {
  Json context = Json::parse(R"({
    "Execution": {"Id": "exec-1", "Input": {"a": 1}},
    "Map": {"Item": {"Index": 2, "Value": "v"}}
  })");
  EXPECT_EQ(Eval("$$", kStore, &context), context);
  EXPECT_EQ(Eval("$$.Execution.Input.a", kStore, &context), 1);
  EXPECT_EQ(Eval("$$.Map.Item.Index", kStore, &context), 2);
  EvalEnv env;
  env.context = &context;
  auto missing = EvalPath("$$.Task.Token", kStore, env);
  EXPECT_EQ(AslErrorName(missing.status()), kStatesRuntime);
  // Without a context, "$$" is an empty object.
  EXPECT_EQ(Eval("$$"), Json::object());
}

TEST(EvalPathOptionalTest, ReportsPresence) {
  bool found = true;
  auto r = EvalPathOptional("$.nope", kStore, EvalEnv{}, &found);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(found);
  r = EvalPathOptional("$.n", kStore, EvalEnv{}, &found);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(found);
  EXPECT_TRUE(r->is_null());
  r = EvalPathOptional("$.nope[*]", kStore, EvalEnv{}, &found);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(*r, Json::array());
  r = EvalPathOptional("bad", kStore, EvalEnv{}, &found);
  EXPECT_FALSE(r.ok());
}

TEST(PathValidationTest, ValidPaths) {
  for (const char* p :
       {"$", "$.a", "$.a.b", "$['a b']", "$.a[0]", "$.a[-1]", "$.a[*]",
        "$.a[1:3]", "$.a[:2]", "$..x", "$.a[?(@.x > 1)]", "$$",
        "$$.Execution.Input", "$.a[0,1]", "$.*", "$a", "$a.b[0]"}) {
    EXPECT_TRUE(IsValidPath(p)) << p;
  }
  for (const char* p : {"", "a", "$.", "$[", "$a.", "$.a[", "$.a[?(@.x >)]",
                        "$.a]", "@.a", "$..", "$.a[1:2:0]"}) {
    EXPECT_FALSE(IsValidPath(p)) << "'" << p << "'";
  }
}

TEST(PathValidationTest, ReferencePaths) {
  for (const char* p : {"$", "$.a", "$.a.b", "$['a b'].c", "$.a[0]",
                        "$.a[-1].b", "$$.Execution.Input"}) {
    EXPECT_TRUE(IsValidReferencePath(p)) << p;
  }
  for (const char* p :
       {"$.a[*]", "$.a[1:3]", "$..x", "$.a[?(@.x)]", "$.a[0,1]", "$.*", "x"}) {
    EXPECT_FALSE(IsValidReferencePath(p)) << p;
  }
}

TEST(NormalizedPathTest, JaywayForm) {
  auto p = internal::ParseJsonPath("$.a['b c'][0][*]..d[1:2]");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(internal::NormalizedPath(**p), "$['a']['b c'][0][*]..['d'][1:2]");
}

TEST(ApplyResultPathTest, RootReplaces) {
  auto r = ApplyResultPath("$", Json::parse(R"({"a": 1})"), Json("x"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "x");
}

TEST(ApplyResultPathTest, SetsAndCreatesMembers) {
  Json input = Json::parse(R"({"a": {"keep": true}, "z": 0})");
  auto r = ApplyResultPath("$.a.b.c", input, Json(5));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, Json::parse(R"({"a": {"keep": true, "b": {"c": 5}}, "z": 0})"));
  r = ApplyResultPath("$.z", input, Json::parse("[1]"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["z"], Json::parse("[1]"));
  r = ApplyResultPath("$['new key']", input, Json(nullptr));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->contains("new key"));
}

TEST(ApplyResultPathTest, ArrayElements) {
  Json input = Json::parse(R"({"list": [{"x": 1}, {"x": 2}]})");
  auto r = ApplyResultPath("$.list[1].y", input, Json(3));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, Json::parse(R"({"list": [{"x": 1}, {"x": 2, "y": 3}]})"));
  r = ApplyResultPath("$.list[-1]", input, Json(0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Json::parse(R"({"list": [{"x": 1}, 0]})"));
  r = ApplyResultPath("$.list[5]", input, Json(0));
  EXPECT_EQ(AslErrorName(r.status()), kStatesResultPathMatchFailure);
}

TEST(ApplyResultPathTest, ThroughNonObjectFails) {
  Json input = Json::parse(R"({"a": "text", "n": 1})");
  for (const char* p : {"$.a.b", "$.n.x.y", "$.a[0]"}) {
    auto r = ApplyResultPath(p, input, Json(1));
    EXPECT_FALSE(r.ok()) << p;
    EXPECT_EQ(AslErrorName(r.status()), kStatesResultPathMatchFailure) << p;
  }
  auto r = ApplyResultPath("$.x", Json("scalar input"), Json(1));
  EXPECT_EQ(AslErrorName(r.status()), kStatesResultPathMatchFailure);
  EXPECT_EQ(AslErrorCause(r.status()),
            "Unable to apply ResultPath configuration with ResultPath '$.x' "
            "on input '\"scalar input\"'");
}

TEST(ApplyResultPathTest, NonReferencePathFails) {
  for (const char* p : {"$.a[*]", "$..a", "$$.Execution", "bad"}) {
    auto r = ApplyResultPath(p, Json::object(), Json(1));
    EXPECT_EQ(AslErrorName(r.status()), kStatesResultPathMatchFailure) << p;
  }
}

}  // namespace
}  // namespace onewindow::asl
