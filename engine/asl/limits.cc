// Default limits and the wording of refusals.
#include "engine/asl/limits.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace onewindow::asl {

const Limits& DefaultLimits() {
  static const Limits* const kDefaults = new Limits();
  return *kDefaults;
}

std::string LimitMessage(std::string_view name, int64_t limit,
                         std::string_view unit) {
  std::string out = absl::StrCat(absl::string_view(name.data(), name.size()),
                                 " exceeds the limit of ", limit);
  if (!unit.empty()) {
    absl::StrAppend(&out, " ", absl::string_view(unit.data(), unit.size()));
  }
  return out;
}

}  // namespace onewindow::asl
