// Tests for Definition (compile, index, departments, digest) and
// ParseDeptResource.
#include "engine/asl/definition.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::asl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kDefinition[] = R"({
  "Comment": "intake",
  "StartAt": "Check",
  "States": {
    "Check": {"Type": "Task", "Resource": "dept:DSF/check", "Next": "Fan"},
    "Fan": {"Type": "Parallel", "Next": "Each", "Branches": [
      {"StartAt": "B0", "States": {
        "B0": {"Type": "Task", "Resource": "arn:aws:states:::dept:IACM/review",
               "End": true}}},
      {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}}]},
    "Each": {"Type": "Map", "Next": "Done", "Iterator": {
      "StartAt": "I", "States": {
        "I": {"Type": "Task", "Resource": "dept:DSF/stamp", "End": true}}}},
    "Done": {"Type": "Succeed"}
  }
})";

TEST(DefinitionTest, CompilesAndIndexes) {
  auto def = Definition::Compile(kDefinition);
  ASSERT_TRUE(def.ok()) << def.status();
  const Definition& d = **def;
  EXPECT_EQ(d.root().start_at, "Check");
  ASSERT_EQ(d.root().states.size(), 4u);
  const Json* check = d.root().states.at("Check");
  EXPECT_EQ(check, &d.doc()["States"]["Check"]);
  EXPECT_EQ(d.Nested(check, 0), nullptr);

  const Json* fan = d.root().states.at("Fan");
  const Machine* b0 = d.Nested(fan, 0);
  const Machine* b1 = d.Nested(fan, 1);
  ASSERT_NE(b0, nullptr);
  ASSERT_NE(b1, nullptr);
  EXPECT_EQ(d.Nested(fan, 2), nullptr);
  EXPECT_EQ(b0->start_at, "B0");
  EXPECT_EQ(b1->states.count("B1"), 1u);
  EXPECT_EQ(b0->states.at("B0"),
            &d.doc()["States"]["Fan"]["Branches"][0]["States"]["B0"]);

  const Machine* items = d.Nested(d.root().states.at("Each"), 0);
  ASSERT_NE(items, nullptr);
  EXPECT_EQ(items->start_at, "I");
  EXPECT_EQ(d.Nested(d.root().states.at("Each"), 1), nullptr);

  EXPECT_THAT(d.departments(), ElementsAre("DSF", "IACM"));
}

TEST(DefinitionTest, ItemProcessorIsIndexed) {
  auto def = Definition::Compile(R"({"StartAt": "M", "States": {"M": {
      "Type": "Map", "End": true, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "P", "States": {"P": {"Type": "Succeed"}}}}}})");
  ASSERT_TRUE(def.ok()) << def.status();
  const Machine* m = (*def)->Nested((*def)->root().states.at("M"), 0);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->start_at, "P");
}

TEST(DefinitionTest, DigestIsSha256OfCanonicalJson) {
  auto a = Definition::Compile(
      R"({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}})");
  auto b = Definition::Compile("States:\n  A:\n    Type: Succeed\nStartAt: A\n",
                               SourceFormat::kYaml);
  auto c = Definition::Compile(
      R"({"StartAt": "B", "States": {"B": {"Type": "Succeed"}}})");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ((*a)->digest().size(), 64u);
  EXPECT_EQ((*a)->digest().find_first_not_of("0123456789abcdef"),
            std::string::npos);
  EXPECT_EQ((*a)->digest(), (*b)->digest());
  EXPECT_NE((*a)->digest(), (*c)->digest());
  // The digest covers the canonical (sorted, compact) serialisation.
  EXPECT_EQ((*a)->doc().dump(),
            R"({"StartAt":"A","States":{"A":{"Type":"Succeed"}}})");
}

TEST(DefinitionTest, InvalidUtf8FromYamlDoesNotThrow) {
  auto def = Definition::Compile(
      "Comment: \"bad \xff byte\"\nStartAt: A\nStates:\n  A:\n"
      "    Type: Succeed\n",
      SourceFormat::kYaml);
  if (def.ok()) {
    EXPECT_EQ((*def)->digest().size(), 64u);
  }
}

TEST(DefinitionTest, InvalidDefinitionListsErrors) {
  auto def = Definition::Compile(R"({"StartAt": "A", "States": {
      "A": {"Type": "Pass", "Next": "Review"},
      "B": {"Type": "Succeed"}}})");
  ASSERT_FALSE(def.ok());
  EXPECT_EQ(def.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(def.status().message(), HasSubstr("$.States.A.Next: "));
  EXPECT_THAT(def.status().message(), HasSubstr("\n$.States.B: "));
}

TEST(DefinitionTest, SyntaxErrorsPassThrough) {
  auto def = Definition::Compile("{\"StartAt\": ");
  ASSERT_FALSE(def.ok());
  EXPECT_EQ(def.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(def.status().message(), HasSubstr("line 1"));
}

TEST(DefinitionTest, FromJson) {
  auto def = Definition::FromJson(Json::parse(
      R"({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}})"));
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_EQ((*def)->root().start_at, "A");
  EXPECT_TRUE((*def)->departments().empty());
  EXPECT_FALSE(Definition::FromJson(Json::parse("{}")).ok());
}

TEST(ParseDeptResourceTest, Forms) {
  std::string dept, type;
  EXPECT_TRUE(ParseDeptResource("dept:DSF/check", &dept, &type));
  EXPECT_EQ(dept, "DSF");
  EXPECT_EQ(type, "check");
  EXPECT_TRUE(ParseDeptResource("arn:aws:states:::dept:LAND_REG-2/verify",
                                &dept, &type));
  EXPECT_EQ(dept, "LAND_REG-2");
  EXPECT_EQ(type, "verify");
  EXPECT_TRUE(ParseDeptResource("dept:A/b", nullptr, nullptr));
  EXPECT_FALSE(ParseDeptResource("dept:dsf/check", &dept, &type));
  EXPECT_FALSE(ParseDeptResource("arn:aws:states:::dept:dsf", &dept, &type));
  EXPECT_FALSE(ParseDeptResource("dept:DSF", &dept, &type));
  EXPECT_FALSE(ParseDeptResource("dept:DSF/", &dept, &type));
  EXPECT_FALSE(ParseDeptResource("dept:/check", &dept, &type));
  EXPECT_FALSE(ParseDeptResource("xdept:DSF/check", &dept, &type));
  EXPECT_FALSE(ParseDeptResource("dept:DSF/a/b", &dept, &type));
  EXPECT_FALSE(
      ParseDeptResource("arn:aws:lambda:r:1:function:F", &dept, &type));
}

}  // namespace
}  // namespace onewindow::asl
