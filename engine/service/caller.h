// Who is calling and what they may do: the one place where access is
// decided. Every transport (gRPC, the web console's HTTP API) turns its
// credentials into a Caller and asks Authorize() before it calls the Api.
//
// The rules are one table (kRules in caller.cc), the matrix of the
// architecture's Identity section:
//
//   may ...                               counter  department D  analyst  supervisor  admin
//   submit, send case documents             yes       -             -        -          yes
//   cancel cases                            yes       -             -        yes        yes
//   get, list, watch, history, verify       yes       -             -        yes        yes
//   the board                               -         -             -        yes        yes
//   take / answer tasks                     COUNTER   D's only      -        -          yes
//   validate, render workflows              -         -             yes      yes        yes
//   list, get workflows                     yes       -             yes      yes        yes
//   deploy workflows, migrate cases         -         -             yes      -          yes
//   backup                                  -         -             -        -          yes
//   who am I                                yes       yes           yes      yes        yes
#ifndef ONEWINDOW_ENGINE_SERVICE_CALLER_H_
#define ONEWINDOW_ENGINE_SERVICE_CALLER_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace onewindow::service {

enum class Role { kCounter, kDepartment, kAnalyst, kSupervisor, kAdmin };

std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct Caller {
  std::string principal = "anonymous";
  Role role = Role::kAdmin;
  std::string department;  // for Role::kDepartment
};

// What a call does, as the rules see it.
enum class Op {
  kSubmitCase,
  kAddDocuments,
  kCancelCase,
  kReadCases,
  kGetBoard,
  kTasks,  // take, list and answer tasks of a department
  kValidateWorkflow,
  kReadWorkflows,
  kDeployWorkflow,
  kMigrateCase,
  kBackup,
  kWhoAmI,
};
std::string_view OpName(Op op);

inline constexpr std::string_view kCounterDepartment = "COUNTER";

// OK, or PERMISSION_DENIED naming the principal, role and what it may not
// do. For Op::kTasks, `department` is the department whose tasks the call
// touches (a counter may touch COUNTER's, a department principal only its
// own).
absl::Status Authorize(const Caller& caller, Op op,
                       std::string_view department = {});
// The department whose tasks a caller may answer: "" = any (admin).
std::string AnswerScope(const Caller& caller);

}  // namespace onewindow::service

#endif  // ONEWINDOW_ENGINE_SERVICE_CALLER_H_
