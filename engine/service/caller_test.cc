// The authorization table, as a table: every operation x every role.
#include "engine/service/caller.h"

#include <map>

#include "gtest/gtest.h"

namespace onewindow::service {
namespace {

Caller Who(Role r, std::string dept = "") {
  Caller c;
  c.principal = std::string(RoleName(r)) + "-1";
  c.role = r;
  c.department = std::move(dept);
  return c;
}

TEST(CallerTest, TheMatrix) {
  // op -> allowed for counter, department, analyst, supervisor, admin.
  const std::map<Op, std::array<bool, 5>> expected = {
      {Op::kSubmitCase, {true, false, false, false, true}},
      {Op::kAddDocuments, {true, false, false, false, true}},
      {Op::kCancelCase, {true, false, false, true, true}},
      {Op::kReadCases, {true, false, false, true, true}},
      {Op::kGetBoard, {false, false, false, true, true}},
      {Op::kValidateWorkflow, {false, false, true, true, true}},
      {Op::kReadWorkflows, {true, false, true, true, true}},
      {Op::kDeployWorkflow, {false, false, true, false, true}},
      {Op::kMigrateCase, {false, false, true, false, true}},
      {Op::kBackup, {false, false, false, false, true}},
      {Op::kWhoAmI, {true, true, true, true, true}},
  };
  const Role roles[] = {Role::kCounter, Role::kDepartment, Role::kAnalyst,
                        Role::kSupervisor, Role::kAdmin};
  for (const auto& [op, allowed] : expected) {
    for (int r = 0; r < 5; ++r) {
      absl::Status s = Authorize(Who(roles[r], "DSF"), op);
      EXPECT_EQ(s.ok(), allowed[r])
          << OpName(op) << " by " << RoleName(roles[r]) << ": " << s;
      if (!s.ok()) {
        EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
        // The refusal names the principal, the role and what was refused.
        EXPECT_NE(s.message().find(std::string(RoleName(roles[r])) + "-1"),
                  absl::string_view::npos);
        EXPECT_NE(std::string(s.message()).find(OpName(op)), std::string::npos);
      }
    }
  }
}

TEST(CallerTest, TasksAreScopedToADepartment) {
  // (role, own department, department touched) -> allowed.
  EXPECT_TRUE(Authorize(Who(Role::kDepartment, "DSF"), Op::kTasks, "DSF").ok());
  EXPECT_EQ(Authorize(Who(Role::kDepartment, "DSF"), Op::kTasks, "CB").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Authorize(Who(Role::kCounter), Op::kTasks, "COUNTER").ok());
  EXPECT_EQ(Authorize(Who(Role::kCounter), Op::kTasks, "DSF").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Authorize(Who(Role::kAdmin), Op::kTasks, "ANY").ok());
  EXPECT_EQ(Authorize(Who(Role::kAnalyst), Op::kTasks, "DSF").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Authorize(Who(Role::kSupervisor), Op::kTasks, "DSF").code(),
            absl::StatusCode::kPermissionDenied);
  // The scope of answers a role may give.
  EXPECT_EQ(AnswerScope(Who(Role::kDepartment, "CB")), "CB");
  EXPECT_EQ(AnswerScope(Who(Role::kCounter)), "COUNTER");
  EXPECT_EQ(AnswerScope(Who(Role::kAdmin)), "");
}

TEST(CallerTest, RoleNamesRoundTrip) {
  for (Role r : {Role::kCounter, Role::kDepartment, Role::kAnalyst,
                 Role::kSupervisor, Role::kAdmin}) {
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  }
  EXPECT_FALSE(ParseRole("root").has_value());
}

}  // namespace
}  // namespace onewindow::service
