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

std::string ElideMiddle(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  const auto continuation = [&](size_t i) {
    return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
  };
  // Room for the marker, e.g. "…[123456789 bytes elided]…" (at most 40).
  const size_t room = max_bytes > 48 ? max_bytes - 40 : 8;
  size_t head = room / 2;
  while (head > 0 && continuation(head)) --head;
  size_t tail = s.size() - (room - room / 2);
  while (tail < s.size() && continuation(tail)) ++tail;
  std::string out(s.substr(0, head));
  out += "\u2026[";
  out += std::to_string(tail - head);
  out += " bytes elided]\u2026";
  out += s.substr(tail);
  return out;
}

}  // namespace onewindow::asl
