// Tests for LoadSource (JSON and YAML) and the location path helpers.
#include <string>

#include "absl/status/status.h"
#include "engine/asl/definition.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::asl {
namespace {

using ::testing::HasSubstr;

TEST(LocationTest, MembersAndIndexes) {
  EXPECT_EQ(LocationMember("$", "States"), "$.States");
  EXPECT_EQ(LocationMember("$.States", "Hello World"), "$.States.Hello World");
  EXPECT_EQ(LocationMember("$.P", "x.$"), "$.P['x.$']");
  EXPECT_EQ(LocationMember("$", "it's"), "$['it\\'s']");
  EXPECT_EQ(LocationMember("$", ""), "$['']");
  EXPECT_EQ(LocationIndex("$.Branches", 2), "$.Branches[2]");
}

TEST(LoadSourceTest, JsonWithLines) {
  const std::string text =
      "{\n"
      "  \"StartAt\": \"Check\",\n"
      "  \"States\": {\n"
      "    \"Check\": {\"Type\": \"Pass\",\n"
      "      \"Next\": \"Done\", \"x.$\": [1,\n"
      "        2]},\n"
      "    \"Done\": {\"Type\": \"Succeed\"}\n"
      "  }\n"
      "}\n";
  absl::StatusOr<LoadedSource> source = LoadSource(text, SourceFormat::kAuto);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->doc["States"]["Check"]["Next"], "Done");
  EXPECT_EQ(source->lines.at("$"), 1);
  EXPECT_EQ(source->lines.at("$.StartAt"), 2);
  EXPECT_EQ(source->lines.at("$.States"), 3);
  EXPECT_EQ(source->lines.at("$.States.Check"), 4);
  EXPECT_EQ(source->lines.at("$.States.Check.Type"), 4);
  EXPECT_EQ(source->lines.at("$.States.Check.Next"), 5);
  EXPECT_EQ(source->lines.at("$.States.Check['x.$'][1]"), 6);
  EXPECT_EQ(source->lines.at("$.States.Done"), 7);
}

TEST(LoadSourceTest, JsonEscapedKeysMatchDecodedNames) {
  absl::StatusOr<LoadedSource> source =
      LoadSource(R"({"a\u00e9\"b": 1})", SourceFormat::kJson);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->lines.count("$['a\xC3\xA9\"b']"), 1u);
}

TEST(LoadSourceTest, JsonSyntaxErrorNamesLineAndColumn) {
  absl::StatusOr<LoadedSource> source = LoadSource(
      "{\n  \"StartAt\": \"A\",\n  \"States\" {}\n}", SourceFormat::kJson);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(source.status().message(), HasSubstr("line 3, column 12"));
}

TEST(LoadSourceTest, JsonDuplicateKeysAreRejected) {
  absl::StatusOr<LoadedSource> source =
      LoadSource("{\"a\": 1,\n \"a\": 2}", SourceFormat::kJson);
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(source.status().message(), HasSubstr("line 2"));
  EXPECT_THAT(source.status().message(), HasSubstr("duplicate key \"a\""));
}

TEST(LoadSourceTest, JsonTooDeep) {
  std::string text(1000, '[');
  text += std::string(1000, ']');
  absl::StatusOr<LoadedSource> source = LoadSource(text, SourceFormat::kJson);
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(source.status().message(), HasSubstr("nesting"));
}

TEST(LoadSourceTest, YamlScalarsAndLines) {
  const std::string text =
      "# comment\n"
      "StartAt: Check\n"
      "States:\n"
      "  Check:\n"
      "    Type: Pass\n"
      "    Result:\n"
      "      quoted: \"123\"\n"
      "      single: 'true'\n"
      "      int: 123\n"
      "      neg: -7\n"
      "      float: 1.5\n"
      "      exp: 1e3\n"
      "      yes: yes\n"
      "      bool: true\n"
      "      nul: ~\n"
      "      empty:\n"
      "      hex: 0x1F\n"
      "      version: 1.2.3\n"
      "      block: |\n"
      "        12\n"
      "      list: [1, two, \"3\"]\n"
      "      tagged: !!str 42\n"
      "    Next: Done\n"
      "  Done: {Type: Succeed}\n";
  absl::StatusOr<LoadedSource> source = LoadSource(text, SourceFormat::kAuto);
  ASSERT_TRUE(source.ok()) << source.status();
  const Json& r = source->doc["States"]["Check"]["Result"];
  EXPECT_EQ(r["quoted"], Json("123"));
  EXPECT_EQ(r["single"], Json("true"));
  EXPECT_EQ(r["int"], Json(123));
  EXPECT_TRUE(r["int"].is_number_integer());
  EXPECT_EQ(r["neg"], Json(-7));
  EXPECT_EQ(r["float"], Json(1.5));
  EXPECT_EQ(r["exp"], Json(1000.0));
  EXPECT_EQ(r["yes"], Json("yes"));
  EXPECT_EQ(r["bool"], Json(true));
  EXPECT_TRUE(r["nul"].is_null());
  EXPECT_TRUE(r["empty"].is_null());
  EXPECT_EQ(r["hex"], Json(31));
  EXPECT_EQ(r["version"], Json("1.2.3"));
  EXPECT_EQ(r["block"], Json("12\n"));
  EXPECT_EQ(r["list"], Json::parse(R"([1, "two", "3"])"));
  EXPECT_EQ(r["tagged"], Json("42"));
  EXPECT_EQ(source->lines.at("$.StartAt"), 2);
  EXPECT_EQ(source->lines.at("$.States"), 3);
  EXPECT_EQ(source->lines.at("$.States.Check"), 4);
  EXPECT_EQ(source->lines.at("$.States.Check.Result.list[1]"), 21);
  EXPECT_EQ(source->lines.at("$.States.Check.Next"), 23);
  EXPECT_EQ(source->lines.at("$.States.Done.Type"), 24);
}

TEST(LoadSourceTest, YamlSyntaxErrorNamesLine) {
  absl::StatusOr<LoadedSource> source =
      LoadSource("StartAt: A\nStates:\n  A: [1, 2\n", SourceFormat::kYaml);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(source.status().message(), HasSubstr("line "));
}

TEST(LoadSourceTest, YamlDuplicateKeysAreRejected) {
  absl::StatusOr<LoadedSource> source =
      LoadSource("a: 1\nb: 2\na: 3\n", SourceFormat::kYaml);
  ASSERT_FALSE(source.ok());
  EXPECT_THAT(source.status().message(), HasSubstr("line 3"));
  EXPECT_THAT(source.status().message(), HasSubstr("duplicate key \"a\""));
}

TEST(LoadSourceTest, YamlMultipleDocumentsAreRejected) {
  EXPECT_FALSE(LoadSource("a: 1\n---\nb: 2\n", SourceFormat::kYaml).ok());
}

TEST(LoadSourceTest, AutoDetectsJsonByBrace) {
  // Flow-style YAML that is also JSON-like but does not start with '{'.
  absl::StatusOr<LoadedSource> source =
      LoadSource("  \n {\"a\": 1}", SourceFormat::kAuto);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->doc, Json::parse(R"({"a": 1})"));
  source = LoadSource("a: [1]", SourceFormat::kAuto);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->doc, Json::parse(R"({"a": [1]})"));
}

}  // namespace
}  // namespace onewindow::asl
