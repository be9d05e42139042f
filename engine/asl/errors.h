// ASL runtime errors carried in absl::Status.
//
// Expression evaluation (paths, payload templates, intrinsic functions,
// Choice rules) fails with an absl::Status whose payload names the ASL error
// (e.g. "States.Runtime", "States.IntrinsicFailure"); the status message is
// the cause. The interpreter turns such a status into a state failure that
// Retry/Catch can match. Header-only; thread-safe (stateless functions).
#ifndef ONEWINDOW_ENGINE_ASL_ERRORS_H_
#define ONEWINDOW_ENGINE_ASL_ERRORS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace onewindow::asl {

// Predefined error names of the Amazon States Language.
inline constexpr std::string_view kStatesAll = "States.ALL";
inline constexpr std::string_view kStatesRuntime = "States.Runtime";
inline constexpr std::string_view kStatesTimeout = "States.Timeout";
inline constexpr std::string_view kStatesHeartbeatTimeout =
    "States.HeartbeatTimeout";
inline constexpr std::string_view kStatesTaskFailed = "States.TaskFailed";
inline constexpr std::string_view kStatesPermissions = "States.Permissions";
inline constexpr std::string_view kStatesResultPathMatchFailure =
    "States.ResultPathMatchFailure";
inline constexpr std::string_view kStatesParameterPathFailure =
    "States.ParameterPathFailure";
inline constexpr std::string_view kStatesBranchFailed = "States.BranchFailed";
inline constexpr std::string_view kStatesNoChoiceMatched =
    "States.NoChoiceMatched";
inline constexpr std::string_view kStatesIntrinsicFailure =
    "States.IntrinsicFailure";
inline constexpr std::string_view kStatesExceedToleratedFailureThreshold =
    "States.ExceedToleratedFailureThreshold";
inline constexpr std::string_view kStatesItemReaderFailed =
    "States.ItemReaderFailed";
inline constexpr std::string_view kStatesResultWriterFailed =
    "States.ResultWriterFailed";
inline constexpr std::string_view kStatesDataLimitExceeded =
    "States.DataLimitExceeded";
inline constexpr std::string_view kStatesQueryEvaluationError =
    "States.QueryEvaluationError";

inline constexpr std::string_view kAslErrorPayloadUrl = "onewindow.asl/error";

// A failed status that carries ASL error `name` and `cause` (the message).
// (Debian's Abseil has its own string_view type, hence the conversions.)
inline absl::Status AslError(std::string_view name, std::string_view cause) {
  absl::Status s(absl::StatusCode::kFailedPrecondition,
                 absl::string_view(cause.data(), cause.size()));
  s.SetPayload(absl::string_view(kAslErrorPayloadUrl.data(),
                                 kAslErrorPayloadUrl.size()),
               absl::Cord(absl::string_view(name.data(), name.size())));
  return s;
}

// The ASL error name a failed status carries; States.Runtime when it carries
// none (any unexpected failure of evaluation is a runtime error).
inline std::string AslErrorName(const absl::Status& s) {
  auto p = s.GetPayload(absl::string_view(kAslErrorPayloadUrl.data(),
                                          kAslErrorPayloadUrl.size()));
  if (!p.has_value()) return std::string(kStatesRuntime);
  return std::string(*p);
}

// The cause text of a failed status.
inline std::string AslErrorCause(const absl::Status& s) {
  return std::string(s.message());
}

}  // namespace onewindow::asl

#endif  // ONEWINDOW_ENGINE_ASL_ERRORS_H_
