// Tests for the JSON Schema validator beyond the official suite: every
// failure reported by pointer, malformed schemas refused with their
// location, bounds, and the keywords counters' forms rely on.
#include "engine/manifest/json_schema.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::manifest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::shared_ptr<const JsonSchema> MustCompile(const Json& schema) {
  absl::StatusOr<std::shared_ptr<const JsonSchema>> s =
      JsonSchema::Compile(schema);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : nullptr;
}

// "pointer keyword" for each error, for compact assertions.
std::vector<std::string> Summary(const ValidationResult& r) {
  std::vector<std::string> out;
  for (const SchemaError& e : r.errors) {
    out.push_back(e.instance_pointer + " " + e.keyword);
  }
  return out;
}

const Json kFoodLicence = Json::parse(R"js({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Food establishment licence",
  "type": "object",
  "required": ["applicant", "premises"],
  "additionalProperties": false,
  "properties": {
    "applicant": {
      "type": "object",
      "title": "Applicant",
      "required": ["name", "id_number"],
      "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 4,
                 "description": "As on the identity card"},
        "id_number": {"type": "string", "pattern": "^[0-9]{7}\\([0-9]\\)$"},
        "email": {"type": "string", "format": "email"},
        "born": {"type": "string", "format": "date"}
      }
    },
    "premises": {
      "type": "object",
      "properties": {
        "area": {"type": "number", "exclusiveMinimum": 0, "maximum": 5000},
        "kind": {"enum": ["restaurant", "cafe", "stall"]},
        "seats": {"type": "integer", "minimum": 0, "multipleOf": 1}
      },
      "required": ["area", "kind"]
    },
    "documents": {
      "type": "array", "minItems": 1, "uniqueItems": true,
      "items": {"$ref": "#/$defs/document"}
    }
  },
  "$defs": {
    "document": {
      "type": "object",
      "required": ["sha256"],
      "properties": {"sha256": {"type": "string",
                                "pattern": "^[0-9a-f]{64}$"}}
    }
  }
})js");

TEST(JsonSchemaTest, ValidDataPasses) {
  auto schema = MustCompile(kFoodLicence);
  Json data = Json::parse(R"js({
    "applicant": {"name": "陳大文", "id_number": "1234567(8)",
                  "email": "chan@example.mo", "born": "1980-02-29"},
    "premises": {"area": 80.5, "kind": "cafe", "seats": 20.0}
  })js");
  data["documents"] = Json::array({{{"sha256", std::string(64, 'a')}}});
  ValidationResult r = schema->Validate(data);
  EXPECT_TRUE(r.valid()) << ValidationStatus(r, "data");
  EXPECT_TRUE(ValidationStatus(r, "data").ok());
}

TEST(JsonSchemaTest, EveryFailureIsReportedByPointer) {
  auto schema = MustCompile(kFoodLicence);
  Json data = Json::parse(R"js({
    "applicant": {"name": "Chan Tai Man", "email": "not-an-email",
                  "born": "1981-02-29", "id_number": "123"},
    "premises": {"area": 0, "seats": 2.5},
    "documents": [{"sha256": "xyz"}, {"sha256": "xyz"}],
    "colour": "red"
  })js");
  ValidationResult r = schema->Validate(data);
  EXPECT_FALSE(r.valid());
  EXPECT_FALSE(r.truncated);
  EXPECT_THAT(
      Summary(r),
      ElementsAre("/applicant/born format", "/applicant/email format",
                  "/applicant/id_number pattern", "/applicant/name maxLength",
                  "/colour additionalProperties", "/documents/0/sha256 pattern",
                  "/documents/1/sha256 pattern", "/documents uniqueItems",
                  "/premises/kind required", "/premises/area exclusiveMinimum",
                  "/premises/seats type", "/premises/seats multipleOf"))
      << ValidationStatus(r, "data");
  // Schema locations point at the failing keyword, through $ref too.
  for (const SchemaError& e : r.errors) {
    if (e.instance_pointer == "/documents/0/sha256") {
      EXPECT_EQ(e.schema_pointer, "/$defs/document/properties/sha256/pattern");
    }
    if (e.keyword == "required") {
      EXPECT_EQ(e.schema_pointer, "/properties/premises/required");
      EXPECT_EQ(e.message, "is required");
    }
  }
  absl::Status s = ValidationStatus(r, "case data");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("case data does not meet its schema: "));
  EXPECT_THAT(s.message(),
              HasSubstr("/applicant/name: must be at most 4 characters long, "
                        "got 12"));
  EXPECT_THAT(s.message(), HasSubstr("/premises/kind: is required"));
  EXPECT_THAT(s.message(),
              HasSubstr("/colour: is not an allowed property here"));
  EXPECT_THAT(s.message(), HasSubstr("/premises/area: must be > 0, got 0"));
  EXPECT_THAT(s.message(), HasSubstr("/applicant/born: is not a valid date "
                                     "(YYYY-MM-DD)"));
}

TEST(JsonSchemaTest, MissingTopLevelMembersAndWrongTopType) {
  auto schema = MustCompile(kFoodLicence);
  ValidationResult r = schema->Validate(Json::object());
  EXPECT_THAT(Summary(r),
              ElementsAre("/applicant required", "/premises required"));
  r = schema->Validate(Json::array());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].instance_pointer, "");
  EXPECT_EQ(r.errors[0].message, "must be an object, got an array");
  EXPECT_EQ(FormatSchemaError(r.errors[0]),
            "/: must be an object, got an array");
}

TEST(JsonSchemaTest, LengthsCountCodePoints) {
  auto schema =
      MustCompile({{"type", "string"}, {"minLength", 2}, {"maxLength", 2}});
  EXPECT_TRUE(schema->Validate("澳門").valid());
  EXPECT_TRUE(schema->Validate("\xF0\x9F\x92\xA9\xF0\x9F\x92\xA9").valid());
  EXPECT_FALSE(schema->Validate("澳").valid());
  EXPECT_FALSE(schema->Validate("澳門街").valid());
}

TEST(JsonSchemaTest, IntegersAndNumbers) {
  auto schema = MustCompile({{"type", "integer"}});
  EXPECT_TRUE(schema->Validate(3).valid());
  EXPECT_TRUE(schema->Validate(3.0).valid());
  EXPECT_TRUE(schema->Validate(Json(18446744073709551615ull)).valid());
  EXPECT_FALSE(schema->Validate(3.5).valid());
  EXPECT_FALSE(schema->Validate("3").valid());
  auto money = MustCompile({{"multipleOf", 0.01}});
  EXPECT_TRUE(money->Validate(19.99).valid());
  EXPECT_TRUE(money->Validate(0.07).valid());
  EXPECT_FALSE(money->Validate(19.999).valid());
  auto big = MustCompile({{"maximum", 9007199254740993ll}});
  EXPECT_TRUE(big->Validate(Json(9007199254740993ll)).valid());
  EXPECT_FALSE(big->Validate(Json(9007199254740994ll)).valid());
  auto unique = MustCompile({{"uniqueItems", true}});
  EXPECT_FALSE(unique->Validate(Json::parse("[1, 1.0]")).valid());
  EXPECT_FALSE(unique
                   ->Validate(Json::parse(
                       R"js([{"a": [1], "b": 2}, {"b": 2.0, "a": [1.0]}])js"))
                   .valid());
  EXPECT_TRUE(unique->Validate(Json::parse(R"js([0, false, null, "0", [0]])js"))
                  .valid());
}

TEST(JsonSchemaTest, CompositionAndConditionals) {
  auto schema = MustCompile(Json::parse(R"js({
    "type": "object",
    "properties": {"kind": {"enum": ["person", "company"]}},
    "if": {"properties": {"kind": {"const": "company"}}},
    "then": {"required": ["registration"]},
    "else": {"required": ["id_number"]},
    "anyOf": [{"required": ["phone"]}, {"required": ["email"]}],
    "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
    "not": {"required": ["forbidden"]}
  })js"));
  ValidationResult r = schema->Validate(Json::parse(
      R"js({"kind": "company", "a": 1, "b": 2, "forbidden": 1})js"));
  EXPECT_THAT(Summary(r), ElementsAre(" anyOf", " oneOf", " not",
                                      "/registration required"));
  EXPECT_THAT(r.errors[1].message, HasSubstr("more than one"));
  EXPECT_TRUE(
      schema
          ->Validate(Json::parse(
              R"js({"kind": "person", "id_number": "x", "email": "e", "a": 1})js"))
          .valid());
}

TEST(JsonSchemaTest, ArraysPrefixItemsContains) {
  auto schema = MustCompile(Json::parse(R"js({
    "prefixItems": [{"type": "string"}, {"type": "integer"}],
    "items": {"type": "boolean"},
    "contains": {"const": true}, "minContains": 2, "maxContains": 3,
    "maxItems": 6
  })js"));
  EXPECT_TRUE(
      schema->Validate(Json::parse(R"js(["a", 1, true, true])js")).valid());
  ValidationResult r = schema->Validate(
      Json::parse(R"js([1, "a", true, 5, true, true, true])js"));
  EXPECT_THAT(Summary(r), ElementsAre(" maxItems", "/0 type", "/1 type",
                                      "/3 type", " maxContains"));
}

TEST(JsonSchemaTest, ObjectKeywords) {
  auto schema = MustCompile(Json::parse(R"js({
    "patternProperties": {"^x-": {"type": "string"}},
    "additionalProperties": {"type": "integer"},
    "propertyNames": {"maxLength": 5},
    "minProperties": 1, "maxProperties": 3,
    "dependentRequired": {"card": ["expiry"]},
    "dependentSchemas": {"card": {"required": ["holder"]}}
  })js"));
  ValidationResult r = schema->Validate(
      Json::parse(R"js({"x-a": 1, "toolong": 1, "card": 4, "n": "s"})js"));
  EXPECT_THAT(
      Summary(r),
      ElementsAre("/expiry dependentRequired", " maxProperties", "/n type",
                  "/toolong propertyNames", "/x-a type", "/holder required"));
  EXPECT_FALSE(schema->Validate(Json::object()).valid());
}

TEST(JsonSchemaTest, RefsAnchorsAndDefinitions) {
  auto schema = MustCompile(Json::parse(R"js({
    "$id": "https://example.gov.mo/schemas/licence",
    "properties": {
      "a": {"$ref": "#/$defs/name"},
      "b": {"$ref": "#/definitions/code"},
      "c": {"$ref": "#phone"},
      "d": {"$ref": "#/$defs/with%25percent"},
      "e": {"$ref": "#/$defs/slash~1tilde~0"},
      "tree": {"$ref": "#/$defs/node"}
    },
    "$defs": {
      "name": {"type": "string"},
      "phone": {"$anchor": "phone", "pattern": "^[0-9]{8}$"},
      "with%percent": {"const": 1},
      "slash/tilde~": {"const": 2},
      "node": {"type": "object", "properties": {
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
        "additionalProperties": false}
    },
    "definitions": {"code": {"type": "integer"}}
  })js"));
  EXPECT_TRUE(schema
                  ->Validate(Json::parse(
                      R"js({"a": "x", "b": 1, "c": "28000000", "d": 1, "e": 2,
                      "tree": {"children": [{"children": []}]}})js"))
                  .valid());
  ValidationResult r = schema->Validate(Json::parse(
      R"js({"a": 1, "b": "x", "c": "1", "d": 2, "e": 1,
          "tree": {"children": [{"children": [{"leaf": 1}]}]}})js"));
  EXPECT_THAT(Summary(r), ElementsAre("/a type", "/b type", "/c pattern",
                                      "/d const", "/e const",
                                      "/tree/children/0/children/0/leaf "
                                      "additionalProperties"));
}

TEST(JsonSchemaTest, AnnotationsAreKeptAndUnknownKeywordsIgnored) {
  Json doc = Json::parse(R"js({
    "title": "Applicant", "description": "Who applies",
    "properties": {"name": {"title": "Name", "default": "", "examples": ["X"],
                            "x-widget": "text", "readOnly": false}},
    "$comment": "for the web console"
  })js");
  auto schema = MustCompile(doc);
  EXPECT_EQ(schema->document(), doc);
  EXPECT_TRUE(schema->Validate(Json::parse(R"js({"name": 5})js")).valid());
}

TEST(JsonSchemaTest, BooleanSchemas) {
  EXPECT_TRUE(MustCompile(true)->Validate(Json::parse("[1]")).valid());
  ValidationResult r = MustCompile(false)->Validate(1);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].keyword, "false");
  auto nested = MustCompile({{"properties", {{"gone", false}}}});
  r = nested->Validate({{"gone", 1}});
  EXPECT_THAT(Summary(r), ElementsAre("/gone false"));
  EXPECT_EQ(r.errors[0].schema_pointer, "/properties/gone");
}

// Compiles `schema` expecting INVALID_ARGUMENT with a problem at `pointer`
// whose message contains `text`.
void ExpectRefused(const Json& schema, const std::string& pointer,
                   const std::string& text) {
  std::vector<SchemaProblem> problems;
  absl::StatusOr<std::shared_ptr<const JsonSchema>> s =
      JsonSchema::Compile(schema, SchemaLimits{}, &problems);
  ASSERT_FALSE(s.ok()) << schema.dump();
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  bool found = false;
  for (const SchemaProblem& p : problems) {
    if (p.schema_pointer == pointer &&
        p.message.find(text) != std::string::npos) {
      found = true;
    }
  }
  EXPECT_TRUE(found) << schema.dump() << " -> " << s.status();
}

TEST(JsonSchemaTest, MalformedSchemasAreRefusedWithTheirLocation) {
  ExpectRefused({{"type", 5}}, "/type", "is not a type");
  ExpectRefused({{"type", "text"}}, "/type", "is not a type");
  ExpectRefused({{"type", Json::array({"string", "string"})}}, "/type/1",
                "listed twice");
  ExpectRefused({{"properties", {{"a", {{"minLength", -1}}}}}},
                "/properties/a/minLength", "non-negative integer");
  ExpectRefused({{"properties", {{"a", {{"maxItems", 1.5}}}}}},
                "/properties/a/maxItems", "non-negative integer");
  ExpectRefused({{"properties", {{"a", 3}}}}, "/properties/a",
                "must be an object or a boolean");
  ExpectRefused({{"pattern", "("}}, "/pattern", "invalid regular expression");
  ExpectRefused({{"patternProperties", {{"[", true}}}}, "/patternProperties/[",
                "invalid regular expression");
  ExpectRefused({{"required", Json::array({"a", 1})}}, "/required/1",
                "must be a string");
  ExpectRefused({{"enum", "a"}}, "/enum", "must be an array");
  ExpectRefused({{"multipleOf", 0}}, "/multipleOf", "greater than 0");
  ExpectRefused({{"allOf", Json::array()}}, "/allOf", "non-empty array");
  ExpectRefused({{"minimum", "1"}}, "/minimum", "must be a number");
  ExpectRefused({{"title", 1}}, "/title", "must be a string");
  ExpectRefused({{"$ref", "#/$defs/missing"}}, "/$ref", "nothing at that");
  ExpectRefused({{"$ref", "other.json#/a"}}, "/$ref",
                "only references within this schema");
  ExpectRefused({{"$ref", "#nowhere"}}, "/$ref", "no $anchor");
  ExpectRefused({{"$schema", "http://json-schema.org/draft-07/schema#"}},
                "/$schema", "only JSON Schema 2020-12");
  ExpectRefused({{"items", Json::array({true})}}, "/items", "prefixItems");
  ExpectRefused({{"additionalItems", false}}, "/additionalItems",
                "prefixItems");
  ExpectRefused({{"dependencies", Json::object()}}, "/dependencies",
                "dependentRequired");
  ExpectRefused({{"unevaluatedProperties", false}}, "/unevaluatedProperties",
                "not supported");
  ExpectRefused({{"$defs", {{"a", {{"$id", "a.json"}}}}}}, "/$defs/a/$id",
                "embedded $id");
  // A regular expression in another dialect is refused, not misread.
  ExpectRefused({{"pattern", "^a\\Z"}}, "/pattern", "not ECMA-262");
  ExpectRefused({{"pattern", "(?i)abc"}}, "/pattern", "not ECMA-262");
  ExpectRefused({{"pattern", "a*+"}}, "/pattern", "possessive");
  EXPECT_TRUE(
      JsonSchema::Compile({{"pattern", "^[*+]+(?:x)(?=y)(?<n>z)\\++$"}}).ok());
}

TEST(JsonSchemaTest, RefCyclesThatNeverConsumeDataAreRefused) {
  ExpectRefused({{"$ref", "#"}}, "", "reference cycle");
  ExpectRefused(
      Json::parse(R"js({"$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]},
                                          "b": {"anyOf": [{"$ref": "#/$defs/a"}]}},
                               "$ref": "#/$defs/a"})js"),
      "/$defs/a", "reference cycle");
  // Recursion through properties/items is fine (it descends).
  EXPECT_TRUE(JsonSchema::Compile(
                  Json::parse(R"js({"properties": {"next": {"$ref": "#"}}})js"))
                  .ok());
}

TEST(JsonSchemaTest, ErrorCountIsBounded) {
  SchemaLimits limits;
  limits.max_errors = 10;
  auto schema = *JsonSchema::Compile({{"items", {{"type", "string"}}}}, limits);
  ValidationResult r = schema->Validate(Json(std::vector<int>(1000, 1)));
  EXPECT_EQ(r.errors.size(), 10u);
  EXPECT_TRUE(r.truncated);
  EXPECT_TRUE(r.status.ok());
  EXPECT_THAT(ValidationStatus(r, "data").message(),
              HasSubstr("only the first 10 are listed"));
  // The default is 100.
  auto dflt = MustCompile({{"items", {{"type", "string"}}}});
  EXPECT_EQ(dflt->Validate(Json(std::vector<int>(1000, 1))).errors.size(),
            100u);
}

TEST(JsonSchemaTest, DeepDataIsRefusedBeforeWalking) {
  auto schema = MustCompile({{"items", {{"$ref", "#"}}}});
  Json deep = Json::array();
  for (int i = 0; i < 200; ++i) deep = Json::array({deep});
  ValidationResult r = schema->Validate(deep);
  EXPECT_FALSE(r.valid());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status.message(), HasSubstr("deeper than 128 levels"));
  EXPECT_EQ(ValidationStatus(r, "data").code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(JsonSchemaTest, ExponentialSchemasStopAtTheStepLimit) {
  // Each level tries two alternatives that both descend to the next level:
  // 2^40 applications without a bound.
  Json defs = Json::object();
  const int kLevels = 40;
  for (int i = 0; i < kLevels; ++i) {
    std::string next = "#/$defs/l" + std::to_string(i + 1);
    defs["l" + std::to_string(i)] = {
        {"anyOf", Json::array({{{"$ref", next}, {"type", "string"}},
                               {{"$ref", next}, {"type", "number"}}})}};
  }
  defs["l" + std::to_string(kLevels)] = {{"type", "boolean"}};
  SchemaLimits limits;
  limits.max_steps = 100000;
  auto schema =
      *JsonSchema::Compile({{"$defs", defs}, {"$ref", "#/$defs/l0"}}, limits);
  ValidationResult r = schema->Validate(true);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(r.status.message(), HasSubstr("more than 100000 steps"));
  EXPECT_FALSE(r.valid());
}

TEST(JsonSchemaTest, CatastrophicPatternsHitTheMatchLimit) {
  auto schema = MustCompile({{"pattern", "^(a|a?)+$"}});
  std::string evil(40, 'a');
  evil += "!";
  ValidationResult r = schema->Validate(evil);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].keyword, "pattern");
  EXPECT_THAT(r.errors[0].message, HasSubstr("matching limit"));
  EXPECT_TRUE(schema->Validate(std::string(40, 'a')).valid());
}

TEST(JsonSchemaTest, EcmaRegexDialect) {
  // \d is ASCII only; $ does not match before a final newline; \u escapes.
  auto digits = MustCompile({{"pattern", "^\\d+$"}});
  EXPECT_TRUE(digits->Validate("123").valid());
  EXPECT_FALSE(digits->Validate("\xd9\xa1\xd9\xa2").valid());  // Arabic-Indic
  EXPECT_FALSE(digits->Validate("123\n").valid());
  auto unicode = MustCompile({{"pattern", "^\\u6fb3.$"}});
  EXPECT_TRUE(unicode->Validate("澳門").valid());
  auto unanchored = MustCompile({{"pattern", "b"}});
  EXPECT_TRUE(unanchored->Validate("abc").valid());
}

TEST(JsonSchemaTest, SchemaBounds) {
  SchemaLimits limits;
  limits.max_subschemas = 5;
  absl::StatusOr<std::shared_ptr<const JsonSchema>> s = JsonSchema::Compile(
      Json::parse(R"js({"allOf": [true, true, true, true, true, true]})js"),
      limits);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.status().message(), HasSubstr("more than 5 subschemas"));
  Json deep = true;
  for (int i = 0; i < 200; ++i) deep = {{"not", deep}};
  s = JsonSchema::Compile(deep);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.status().message(), HasSubstr("nests deeper"));
  s = JsonSchema::Compile({{"pattern", std::string(2000, 'a')}});
  EXPECT_THAT(s.status().message(), HasSubstr("the limit is 1000"));
}

TEST(JsonSchemaTest, ValidateIsThreadSafe) {
  auto schema = MustCompile(kFoodLicence);
  Json bad = Json::parse(R"js({"applicant": {"name": "", "id_number": "1"},
                             "premises": {"area": 1, "kind": "cafe"}})js");
  std::vector<std::thread> threads;
  std::vector<int> counts(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        counts[t] += static_cast<int>(schema->Validate(bad).errors.size());
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int c : counts) EXPECT_EQ(c, 200 * 2);
}

}  // namespace
}  // namespace onewindow::manifest
