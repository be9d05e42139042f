#include "engine/service/caller.h"

namespace onewindow::service {
namespace {

// One row per operation; one column per role (the order of Role). Task
// operations are further scoped to a department in Authorize().
struct Rule {
  Op op;
  bool allowed[5];  // counter, department, analyst, supervisor, admin
};

constexpr Rule kRules[] = {
    //                          cntr   dept   anlst  super  admin
    {Op::kSubmitCase,        {true,  false, false, false, true}},
    {Op::kAddDocuments,      {true,  false, false, false, true}},
    {Op::kCancelCase,        {true,  false, false, true,  true}},
    {Op::kReadCases,         {true,  false, false, true,  true}},
    {Op::kGetBoard,          {false, false, false, true,  true}},
    {Op::kTasks,             {true,  true,  false, false, true}},
    {Op::kValidateWorkflow,  {false, false, true,  true,  true}},
    {Op::kReadWorkflows,     {true,  false, true,  true,  true}},
    {Op::kDeployWorkflow,    {false, false, true,  false, true}},
    {Op::kMigrateCase,       {false, false, true,  false, true}},
    {Op::kBackup,            {false, false, false, false, true}},
    {Op::kWhoAmI,            {true,  true,  true,  true,  true}},
};

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kCounter:
      return "counter";
    case Role::kDepartment:
      return "department";
    case Role::kAnalyst:
      return "analyst";
    case Role::kSupervisor:
      return "supervisor";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kCounter, Role::kDepartment, Role::kAnalyst,
                 Role::kSupervisor, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kSubmitCase:
      return "submit cases";
    case Op::kAddDocuments:
      return "add documents to cases";
    case Op::kCancelCase:
      return "cancel cases";
    case Op::kReadCases:
      return "read cases";
    case Op::kGetBoard:
      return "read the board";
    case Op::kTasks:
      return "take or answer tasks";
    case Op::kValidateWorkflow:
      return "validate or render workflows";
    case Op::kReadWorkflows:
      return "read workflows";
    case Op::kDeployWorkflow:
      return "deploy workflows";
    case Op::kMigrateCase:
      return "migrate cases";
    case Op::kBackup:
      return "make backups";
    case Op::kWhoAmI:
      return "ask who they are";
  }
  return "?";
}

absl::Status Authorize(const Caller& caller, Op op,
                       std::string_view department) {
  auto denied = [&](std::string_view what) {
    return absl::PermissionDeniedError(
        "principal " + caller.principal + " (" +
        std::string(RoleName(caller.role)) +
        (caller.department.empty() ? "" : " " + caller.department) +
        ") may not " + std::string(what));
  };
  bool allowed = false;
  for (const Rule& r : kRules) {
    if (r.op == op) allowed = r.allowed[static_cast<int>(caller.role)];
  }
  if (!allowed) return denied(OpName(op));
  if (op == Op::kTasks) {
    if (caller.role == Role::kCounter && department != kCounterDepartment) {
      return denied("take or answer tasks of department " +
                    std::string(department) + " (only COUNTER's)");
    }
    if (caller.role == Role::kDepartment && department != caller.department) {
      return denied("take or answer tasks of department " +
                    std::string(department) + " (only " + caller.department +
                    "'s)");
    }
  }
  return absl::OkStatus();
}

std::string AnswerScope(const Caller& caller) {
  switch (caller.role) {
    case Role::kCounter:
      return std::string(kCounterDepartment);
    case Role::kDepartment:
      return caller.department;
    case Role::kAdmin:
      return "";
    default:
      // Roles that may answer nothing: Authorize() refuses them first.
      return "\x01";
  }
}

}  // namespace onewindow::service
