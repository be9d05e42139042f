// Task Resource parsing: "dept:<DEPT>/<type>" addresses a department.
#include <string>
#include <string_view>

#include "engine/asl/definition.h"

namespace onewindow::asl {
namespace {

bool IsDeptChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool IsTypeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

}  // namespace

bool ParseDeptResource(std::string_view resource, std::string* department,
                       std::string* task_type) {
  constexpr std::string_view kScheme = "dept:";
  // The "dept:" segment must start the resource or follow a ':'.
  size_t at = 0;
  if (resource.substr(0, kScheme.size()) != kScheme) {
    at = resource.rfind(":dept:");
    if (at == std::string_view::npos) return false;
    ++at;
  }
  std::string_view rest = resource.substr(at + kScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view dept = rest.substr(0, slash);
  std::string_view type = rest.substr(slash + 1);
  if (dept.empty() || type.empty()) return false;
  for (char c : dept) {
    if (!IsDeptChar(c)) return false;
  }
  for (char c : type) {
    if (!IsTypeChar(c)) return false;
  }
  if (department != nullptr) *department = std::string(dept);
  if (task_type != nullptr) *task_type = std::string(type);
  return true;
}

}  // namespace onewindow::asl
