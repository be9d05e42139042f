// Tests for bounded YAML/JSON loading: scalars, positions, and refusals of
// deep nesting, alias bombs and oversized text.
#include "engine/manifest/document.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::manifest {
namespace {

using ::testing::HasSubstr;

TEST(DocumentTest, YamlScalarsFollowTheCoreSchema) {
  absl::StatusOr<LoadedDocument> doc = LoadDocument(
      "a: 1\nb: -2.5\nc: true\nd: ~\ne: 2026-12-20\nf: '1'\ng: 0x1F\n"
      "h: 1e3\ni: .inf\nj: +08:00\nk: !!str 5\nl: 18446744073709551615\n");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const Json& v = doc->value;
  EXPECT_EQ(v["a"], 1);
  EXPECT_EQ(v["b"], -2.5);
  EXPECT_EQ(v["c"], true);
  EXPECT_TRUE(v["d"].is_null());
  EXPECT_EQ(v["e"], "2026-12-20");
  EXPECT_EQ(v["f"], "1");
  EXPECT_EQ(v["g"], 31);
  EXPECT_EQ(v["h"], 1000.0);
  EXPECT_EQ(v["i"], ".inf");
  EXPECT_EQ(v["j"], "+08:00");
  EXPECT_EQ(v["k"], "5");
  EXPECT_TRUE(v["l"].is_number_unsigned());
}

TEST(DocumentTest, JsonTextLoadsWithPositions) {
  absl::StatusOr<LoadedDocument> doc = LoadDocument(
      "{\n\t\"title\": {\"en\": \"x\"},\n\t\"list\": [1,\n\t\t2],\n"
      "\t\"a/b\": null}\n");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->value["list"][1], 2);
  EXPECT_EQ(doc->PositionOf("/title").line, 2);
  EXPECT_EQ(doc->PositionOf("/title/en").line, 2);
  EXPECT_EQ(doc->PositionOf("/list/1").line, 4);
  EXPECT_EQ(doc->PositionOf("/a~1b").line, 5);
  // Unknown places fall back to the nearest ancestor.
  EXPECT_EQ(doc->PositionOf("/list/7").line, 3);
  EXPECT_EQ(KeyPath(doc->value, "/list/1"), "list[1]");
  EXPECT_EQ(KeyPath(doc->value, "/a~1b"), "a/b");
  EXPECT_EQ(KeyPath(doc->value, ""), "(top level)");
  EXPECT_EQ(KeyPath(Json{{"a.b", {{"c", 1}}}}, "/a.b/c"), "\"a.b\".c");
}

TEST(DocumentTest, EmptyTextIsNull) {
  absl::StatusOr<LoadedDocument> doc = LoadDocument("# nothing\n");
  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE(doc->value.is_null());
}

TEST(DocumentTest, SyntaxErrorsAndDuplicatesNameTheLine) {
  absl::StatusOr<LoadedDocument> doc = LoadDocument("a: [1, 2\nb: 3\n");
  ASSERT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(doc.status().message(), HasSubstr("line "));
  doc = LoadDocument("a: 1\nb: 2\na: 3\n");
  ASSERT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(doc.status().message(),
              HasSubstr("line 3, column 1: duplicate key \"a\""));
  doc = LoadDocument("a: 1\n---\nb: 2\n");
  EXPECT_THAT(doc.status().message(), HasSubstr("expected one document"));
  doc = LoadDocument("? [a, b]\n: 1\n");
  EXPECT_THAT(doc.status().message(), HasSubstr("keys must be plain text"));
  doc = LoadDocument("a: !!int xyz\n");
  EXPECT_THAT(doc.status().message(), HasSubstr("cannot be read with tag"));
  doc = LoadDocument(std::string("a: 1\0b", 6));
  EXPECT_THAT(doc.status().message(), HasSubstr("NUL"));
}

TEST(DocumentTest, RefusesTextOverTheSizeLimit) {
  LoadLimits limits;
  limits.max_bytes = 100;
  absl::StatusOr<LoadedDocument> doc =
      LoadDocument(std::string(101, ' '), limits);
  ASSERT_EQ(doc.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(doc.status().message(), HasSubstr("limit is 100"));
}

TEST(DocumentTest, DeepFlowNestingIsRefusedBeforeParsing) {
  // 100000 open brackets would overflow a recursive parser's stack; the
  // scan refuses them first.
  std::string deep(100000, '[');
  absl::StatusOr<LoadedDocument> doc = LoadDocument(deep);
  ASSERT_EQ(doc.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(doc.status().message(),
              HasSubstr("line 1: nesting deeper than 64 levels"));
  std::string json =
      "{\"a\": " + std::string(70, '[') + std::string(70, ']') + "}";
  EXPECT_EQ(LoadDocument(json).status().code(),
            absl::StatusCode::kResourceExhausted);
  std::string ok =
      "{\"a\": " + std::string(60, '[') + std::string(60, ']') + "}";
  EXPECT_TRUE(LoadDocument(ok).ok());
}

TEST(DocumentTest, DeepBlockNestingIsRefusedBeforeParsing) {
  std::string seq;
  for (int i = 0; i < 100000; ++i) seq += "- ";
  seq += "x\n";
  EXPECT_EQ(CheckNestingDepth(seq, 64).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(LoadDocument(seq).status().code(),
            absl::StatusCode::kResourceExhausted);
  std::string map;
  for (int i = 0; i < 100; ++i) map += std::string(i, ' ') + "k:\n";
  absl::Status s = CheckNestingDepth(map, 64);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("line 65"));
  // Anchors and tags before a bracket still open it.
  std::string anchored = "a: &x !!seq " + std::string(100, '[');
  EXPECT_EQ(CheckNestingDepth(anchored, 64).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(DocumentTest, TextThatOnlyLooksDeepIsAccepted) {
  // Brackets and quotes inside plain, quoted and block scalars open nothing.
  std::string text =
      "title: see [1] and {2} and don't [[[[[[[[\n"
      "quoted: \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
      "[[[[[[[[[[[[[\"\n"
      "single: '{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{"
      "{{{{{{{{{{''s'\n"
      "block: |\n";
  for (int i = 0; i < 80; ++i) text += "  " + std::string(i, ' ') + "x\n";
  text +=
      "folded: >-\n  [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
      "[[[[[[[[[[[[[[[[[[[[\n"
      "after: # a comment [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
      "[[[[[[[[[[[[[[[[\n  - 1\n";
  EXPECT_TRUE(CheckNestingDepth(text, 8).ok()) << CheckNestingDepth(text, 8);
  absl::StatusOr<LoadedDocument> doc = LoadDocument(text);
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->value["after"][0], 1);
}

TEST(DocumentTest, ExactDepthIsCheckedWhileConverting) {
  LoadLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(LoadDocument("a: {b: 1}", limits).ok());
  absl::StatusOr<LoadedDocument> doc = LoadDocument("a: {b: [1]}", limits);
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(DocumentTest, AliasBombIsRefused) {
  // Nine levels of ten aliases each would expand to 10^9 values.
  std::string text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    std::string prev = "*a" + std::to_string(i - 1);
    text += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) text += (k ? ", " : "") + prev;
    text += "]\n";
  }
  absl::StatusOr<LoadedDocument> doc = LoadDocument(text);
  ASSERT_EQ(doc.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(doc.status().message(), HasSubstr("alias"));
  // A long string used many times is refused by the expanded size.
  std::string big = "s: &s \"" + std::string(100000, 'y') + "\"\nl: [";
  for (int k = 0; k < 20; ++k) big += (k ? ", " : "") + std::string("*s");
  big += "]\n";
  doc = LoadDocument(big);
  ASSERT_EQ(doc.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(doc.status().message(), HasSubstr("bytes of text"));
  // A few aliases are fine.
  doc = LoadDocument("base: &b {x: 1}\ncopy: *b\n");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->value["copy"]["x"], 1);
}

TEST(DocumentTest, ReadFileBounded) {
  EXPECT_EQ(ReadFileBounded("/nonexistent/x.yaml", 10).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadFileBounded("/proc/self/status", 10).status().code(),
            absl::StatusCode::kResourceExhausted);
  absl::StatusOr<std::string> text =
      ReadFileBounded("/proc/self/status", 1 << 20);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("Name:"));
}

}  // namespace
}  // namespace onewindow::manifest
