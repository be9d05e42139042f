#include "scheduler/payload.h"

#include <cmath>
#include <string>

namespace onewindow::scheduler {
namespace {

// Depth and raw-byte checks in one pass over the text.
absl::Status Scan(std::string_view text, std::string_view field,
                  int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') {
      return absl::InvalidArgumentError(
          std::string(field) + ": a NUL byte at position " +
          std::to_string(i) + " (JSON text may not contain one)");
    }
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return absl::InvalidArgumentError(
            std::string(field) + ": nesting deeper than the limit of " +
            std::to_string(max_depth) + " levels at position " +
            std::to_string(i));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<nlohmann::json> ParsePayload(std::string_view text,
                                            std::string_view field,
                                            int max_depth) {
  if (text.empty()) {
    return absl::InvalidArgumentError(std::string(field) +
                                      ": required (a JSON value, e.g. {})");
  }
  if (absl::Status s = Scan(text, field, max_depth); !s.ok()) return s;
  try {
    // strict: nothing may follow the value.
    return nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                 /*allow_exceptions=*/true,
                                 /*ignore_comments=*/false);
  } catch (const nlohmann::json::out_of_range& e) {
    // e.g. 1e999: a number no double holds.
    return absl::InvalidArgumentError(std::string(field) +
                                      ": a number is out of range (" +
                                      e.what() + ")");
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(std::string(field) +
                                      ": not valid JSON: " + e.what());
  }
}

}  // namespace onewindow::scheduler
