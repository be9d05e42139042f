// Strict JSON for untrusted text (case input, task results, payloads,
// States.StringToJson), and measures of JSON values that never recurse.
//
// ParseJson checks the nesting depth in one iterative pass over the bytes
// before any parser sees them, then parses without recursion. All functions
// are pure and thread-safe.
#ifndef ONEWINDOW_ENGINE_ASL_JSON_PARSE_H_
#define ONEWINDOW_ENGINE_ASL_JSON_PARSE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/asl/limits.h"
#include "nlohmann/json.hpp"

namespace onewindow::asl {

using Json = nlohmann::json;

// Parses one JSON value. INVALID_ARGUMENT with the line and column for:
// syntax errors, trailing bytes after the value, raw NUL bytes, invalid
// UTF-8, numbers out of the double range ("number out of range at line 1,
// column 6"), nesting deeper than limits.max_json_depth ("JSON nesting depth
// exceeds the limit of 128 at line 3, column 9"). RESOURCE_EXHAUSTED when
// the text is longer than limits.max_payload_bytes (0 = no size bound).
// Duplicate object keys: the last one wins. A UTF-8 byte-order mark at the
// start is skipped.
absl::StatusOr<Json> ParseJson(std::string_view text,
                               const Limits& limits = DefaultLimits());

// Nesting depth of `value` (0 for a scalar, 1 for [] or [1]), counted
// without recursion. Stops early and returns a value above `stop_above`
// once the depth is known to exceed it.
int JsonDepth(const Json& value,
              int stop_above = std::numeric_limits<int>::max());

// Bytes of value.dump() (compact, UTF-8 kept), counted without recursion and
// without building the text. Stops early and returns a value above
// `stop_above` once the size is known to exceed it.
size_t JsonTextSize(const Json& value,
                    size_t stop_above = std::numeric_limits<size_t>::max());

// 1-based line and column (in Unicode code points) of byte `offset` in
// `text`.
struct TextPosition {
  int line = 0;
  int column = 0;
};
TextPosition PositionAt(std::string_view text, size_t offset);
// "line L, column C".
std::string DescribePosition(const TextPosition& position);

}  // namespace onewindow::asl

#endif  // ONEWINDOW_ENGINE_ASL_JSON_PARSE_H_
