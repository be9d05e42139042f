// Tests for payload templates (Parameters, ResultSelector, ItemSelector).
#include <string>

#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "gtest/gtest.h"

namespace onewindow::asl {
namespace {

const Json kMovies = Json::parse(R"({
  "movies": [
    {"director": "Quentin Tarantino", "title": "Reservoir Dogs", "year": 1992},
    {"director": "Brian De Palma", "title": "Mission: Impossible", "year": 1996}
  ],
  "metadata": {"lastUpdated": "2020-05-27T08:00:00Z"}
})");

Json Eval(const std::string& tmpl, const Json& input = kMovies,
          const Json* context = nullptr) {
  EvalEnv env;
  env.context = context;
  env.random = [] { return uint64_t{42}; };
  auto r = EvalPayloadTemplate(Json::parse(tmpl), input, env);
  EXPECT_TRUE(r.ok()) << tmpl << ": " << r.status();
  return r.ok() ? *r : Json("<error>");
}

absl::Status Fail(const std::string& tmpl, const Json& input = kMovies) {
  auto r = EvalPayloadTemplate(Json::parse(tmpl), input, EvalEnv{});
  EXPECT_FALSE(r.ok()) << tmpl << " unexpectedly gave " << r->dump();
  return r.status();
}

TEST(PayloadTest, StaticValuesAreCopied) {
  // io-parameters-static, io-parameters-no-suffix
  const char* tmpl = R"({"field1": 50, "field2": "$.movies[0].director",
    "field3": false, "field4": {"field5": 123.5, "field6": [1, 2, 3]}})";
  EXPECT_EQ(Eval(tmpl), Json::parse(tmpl));
  EXPECT_EQ(Eval("7"), 7);
  EXPECT_EQ(Eval("\"$.movies\""), "$.movies");
}

TEST(PayloadTest, PathValues) {
  // io-parameters-paths
  EXPECT_EQ(Eval(R"({"field1": 50, "field2.$": "$.movies[0].director",
                     "field4": {"field5.$": "$.metadata", "field6": [1]}})"),
            Json::parse(R"({"field1": 50, "field2": "Quentin Tarantino",
              "field4": {"field5": {"lastUpdated": "2020-05-27T08:00:00Z"},
                         "field6": [1]}})"));
  EXPECT_EQ(Eval(R"({"all.$": "$"})", Json(3)), Json::parse(R"({"all": 3})"));
  EXPECT_EQ(Eval(R"({"years.$": "$.movies[*].year"})"),
            Json::parse(R"({"years": [1992, 1996]})"));
  // aws-base-jsonpath-wildcard-noinput-*
  EXPECT_EQ(Eval(R"({"item.$": "$.items[*].itemValue"})", Json::object()),
            Json::parse(R"({"item": []})"));
}

TEST(PayloadTest, ArraysAreRecursed) {
  EXPECT_EQ(
      Eval(
          R"({"list": [{"d.$": "$.movies[1].year"}, [{"x.$": "$.metadata.lastUpdated"}], 3]})"),
      Json::parse(R"({"list": [{"d": 1996},
                                     [{"x": "2020-05-27T08:00:00Z"}], 3]})"));
}

TEST(PayloadTest, ContextPaths) {
  // map-itemselector, aws-scen-map-state-config-inline-parameters
  Json context =
      Json::parse(R"({"Map": {"Item": {"Index": 1, "Value": {"num1": 2}}}})");
  EXPECT_EQ(
      Eval(R"({"pair.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index",
                     "constantValue": "constant", "fromInput.$": "$"})",
           Json::parse(R"(["Hello"])"), &context),
      Json::parse(R"({"pair": {"num1": 2}, "index": 1,
                            "constantValue": "constant",
                            "fromInput": ["Hello"]})"));
  EXPECT_EQ(Eval(R"({"ctx.$": "$$"})", Json::object(), &context),
            (Json{{"ctx", context}}));
}

TEST(PayloadTest, IntrinsicValues) {
  // io-parameters-intrinsics
  EXPECT_EQ(Eval(R"j({"field1": 50,
        "field2.$": "States.Array(1, 'hello', true, false, null, $.movies[1], $.metadata.lastUpdated)",
        "field4": {"field5.$": "States.ArrayPartition(States.ArrayRange(1, 6, 1), 4)"}})j"),
            Json::parse(R"({"field1": 50,
        "field2": [1, "hello", true, false, null,
          {"director": "Brian De Palma", "title": "Mission: Impossible", "year": 1996},
          "2020-05-27T08:00:00Z"],
        "field4": {"field5": [[1, 2, 3, 4], [5, 6]]}})"));
  Json u = Eval(R"j({"id.$": "States.UUID()"})j");
  EXPECT_EQ(u["id"].get<std::string>().size(), 36u);
}

TEST(PayloadTest, MissingPathIsRuntimeError) {
  // aws-scen-invalid-jsonpath-invalid-jsonpath-in-string-expr-jsonpath
  absl::Status s = Fail(R"({"value.$": "$.no_such_jsonpath"})",
                        Json::parse(R"({"int-literal": 0})"));
  EXPECT_EQ(AslErrorName(s), kStatesRuntime);
  EXPECT_EQ(AslErrorCause(s),
            "The JSONPath '$.no_such_jsonpath' specified for the field "
            "'value.$' could not be found in the input '{\"int-literal\":0}'");
  EXPECT_EQ(AslErrorName(Fail(R"({"a": {"b.$": "$$.Map.Item.Value"}})")),
            kStatesRuntime);
  EXPECT_EQ(AslErrorName(Fail(R"({"a": [{"b.$": "$.nope"}]})")),
            kStatesRuntime);
}

TEST(PayloadTest, NonStringDynamicValueIsError) {
  for (const char* tmpl :
       {R"({"a.$": 1})", R"({"a.$": null})", R"({"a.$": {"b": "$.x"}})",
        R"({"a.$": ["$.x"]})", R"({"a.$": "movies"})"}) {
    absl::Status s = Fail(tmpl);
    EXPECT_EQ(AslErrorName(s), kStatesRuntime) << tmpl;
  }
}

TEST(PayloadTest, IntrinsicErrorsPropagate) {
  EXPECT_EQ(
      AslErrorName(Fail(R"j({"a.$": "States.ArrayLength($.metadata)"})j")),
      kStatesIntrinsicFailure);
  EXPECT_EQ(AslErrorName(Fail(R"j({"a.$": "States.Nope()"})j")),
            kStatesIntrinsicFailure);
  EXPECT_EQ(AslErrorName(Fail(R"j({"a.$": "States.Array($.missing)"})j")),
            kStatesRuntime);
}

}  // namespace
}  // namespace onewindow::asl
