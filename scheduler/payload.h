// Strict reading of payloads that arrive from outside (case data, task
// results): one JSON value and nothing after it, no NUL bytes, numbers
// that fit a double, nesting at most `max_depth` deep — the depth checked
// by an iterative scan before any recursive code sees the value.
#ifndef ONEWINDOW_SCHEDULER_PAYLOAD_H_
#define ONEWINDOW_SCHEDULER_PAYLOAD_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace onewindow::scheduler {

inline constexpr int kDefaultMaxJsonDepth = 128;

// INVALID_ARGUMENT naming `field`, the problem and its byte position.
absl::StatusOr<nlohmann::json> ParsePayload(std::string_view text,
                                            std::string_view field,
                                            int max_depth);

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_PAYLOAD_H_
