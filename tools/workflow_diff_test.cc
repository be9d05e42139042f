#include "tools/workflow_diff.h"

#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::owctl {
namespace {

using ::testing::ElementsAre;

std::shared_ptr<const asl::Definition> Compile(const std::string& text) {
  auto def = asl::Definition::Compile(text);
  EXPECT_TRUE(def.ok()) << def.status();
  return def.ok() ? *def : nullptr;
}

constexpr char kA[] = R"({"StartAt":"P","TimeoutSeconds":60,"States":{
  "P":{"Type":"Parallel","Next":"Decide","Branches":[
    {"StartAt":"Fire","States":{"Fire":{"Type":"Task",
      "Resource":"dept:CB/fire","End":true}}},
    {"StartAt":"Tax","States":{"Tax":{"Type":"Task",
      "Resource":"dept:DSF/tax","End":true}}}]},
  "Decide":{"Type":"Choice","Choices":[
    {"Variable":"$.ok","BooleanEquals":true,"Next":"Done"}],"Default":"Old"},
  "Old":{"Type":"Pass","End":true},
  "Done":{"Type":"Succeed"}}})";

constexpr char kB[] = R"({"StartAt":"P","TimeoutSeconds":90,"States":{
  "P":{"Type":"Parallel","Next":"Decide","Branches":[
    {"StartAt":"Fire","States":{"Fire":{"Type":"Task",
      "Resource":"dept:CB/fire","TimeoutSeconds":5,"End":true}}},
    {"StartAt":"Tax","States":{"Tax":{"Type":"Task",
      "Resource":"dept:DSF/tax","End":true}}}]},
  "Decide":{"Type":"Choice","Choices":[
    {"Variable":"$.ok","BooleanEquals":true,"Next":"Done"}],"Default":"Ask"},
  "Ask":{"Type":"Task","Resource":"dept:COUNTER/more","Next":"Done"},
  "Done":{"Type":"Succeed"}}})";

TEST(WorkflowDiffTest, AddedRemovedChangedAndNestedStates) {
  auto a = Compile(kA);
  auto b = Compile(kB);
  ASSERT_TRUE(a && b);
  const DefinitionDiff d = DiffDefinitions(*a, *b);
  ASSERT_EQ(d.added.size(), 1u);
  EXPECT_EQ(d.added[0].name, "Ask");
  EXPECT_EQ(d.added[0].type, "Task");
  ASSERT_EQ(d.removed.size(), 1u);
  EXPECT_EQ(d.removed[0].name, "Old");
  ASSERT_EQ(d.changed.size(), 2u);
  EXPECT_EQ(d.changed[0].name, "Decide");
  EXPECT_THAT(d.changed[0].fields, ElementsAre("Default"));
  // A change inside a branch is reported on the nested state, not on P.
  EXPECT_EQ(d.changed[1].name, "Fire");
  EXPECT_THAT(d.changed[1].fields, ElementsAre("TimeoutSeconds"));
  EXPECT_THAT(d.top_fields, ElementsAre("TimeoutSeconds"));
  EXPECT_THAT(DiffLines(d),
              ElementsAre("~ (definition): TimeoutSeconds", "- Old (Pass)",
                          "+ Ask (Task)", "~ Decide (Choice): Default",
                          "~ Fire (Task): TimeoutSeconds"));
  EXPECT_TRUE(DiffDefinitions(*a, *a).same());
}

TEST(WorkflowDiffTest, MovedStatesAndBranchShape) {
  auto a = Compile(kA);
  auto b = Compile(R"({"StartAt":"P","States":{
    "P":{"Type":"Parallel","Next":"Tax","Branches":[
      {"StartAt":"Fire","States":{"Fire":{"Type":"Task",
        "Resource":"dept:CB/fire","End":true}}}]},
    "Tax":{"Type":"Task","Resource":"dept:DSF/tax","Next":"Decide"},
    "Decide":{"Type":"Choice","Choices":[
      {"Variable":"$.ok","BooleanEquals":true,"Next":"Done"}],
      "Default":"Old"},
    "Old":{"Type":"Pass","End":true},
    "Done":{"Type":"Succeed"}}})");
  ASSERT_TRUE(a && b);
  const DefinitionDiff d = DiffDefinitions(*a, *b);
  ASSERT_EQ(d.changed.size(), 2u);
  EXPECT_EQ(d.changed[0].name, "P");
  EXPECT_THAT(d.changed[0].fields, ElementsAre("Branches", "Next"));
  EXPECT_EQ(d.changed[1].name, "Tax");
  EXPECT_THAT(d.changed[1].fields, ElementsAre("(place)", "End", "Next"));
}

TEST(WorkflowDiffTest, MissingStateNamesTheFirstOne) {
  auto b = Compile(kB);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(MissingState({"Fire", "Tax"}, *b), std::nullopt);
  EXPECT_EQ(MissingState({"Fire", "Old", "Gone"}, *b), "Old");
  EXPECT_EQ(MissingState({}, *b), std::nullopt);
}

}  // namespace
}  // namespace onewindow::owctl
