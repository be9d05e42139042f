// Parsing of ASL intrinsic function calls ("States.Format('{}', $.x)") into
// a small syntax tree, shared by EvalIntrinsic, IsValidIntrinsic and the
// tests. Evaluation lives in intrinsics.cc behind expr.h.
//
// Internal header of engine/asl. Parsed calls are immutable values; all
// functions are pure and thread-safe.
#ifndef ONEWINDOW_ENGINE_ASL_INTRINSICS_H_
#define ONEWINDOW_ENGINE_ASL_INTRINSICS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/asl/json_path.h"
#include "engine/asl/limits.h"
#include "nlohmann/json.hpp"

namespace onewindow::asl::internal {

struct IntrinsicCall;

// One argument of an intrinsic call.
struct IntrinsicArg {
  enum class Kind { kLiteral, kPath, kCall };
  Kind kind = Kind::kLiteral;
  // kLiteral: the value ('text' becomes a string with escapes resolved).
  Json literal;
  // kLiteral strings: the text between the quotes with escapes intact
  // (States.Format needs to tell "\{\}" from a "{}" placeholder).
  std::string raw;
  bool is_string_literal = false;
  // kPath: the path text and its parsed form.
  std::string path;
  std::shared_ptr<const JsonPath> parsed_path;
  // kCall: a nested intrinsic call.
  std::shared_ptr<const IntrinsicCall> call;
};

// A call: "States.<Name>" and its arguments.
struct IntrinsicCall {
  std::string name;
  std::vector<IntrinsicArg> args;
};

// Parses a complete intrinsic call. Fails with INVALID_ARGUMENT describing
// the syntax error (unknown names are not rejected here).
absl::StatusOr<IntrinsicCall> ParseIntrinsic(
    std::string_view expr, const Limits& limits = DefaultLimits());

// True when `name` (e.g. "States.Format") is a supported intrinsic function.
bool IsKnownIntrinsic(std::string_view name);

// How States.Format renders an argument: strings as-is, other scalars as
// JSON, objects as {k=v, ...} and arrays as [a, b] (Java style, as AWS does).
std::string FormatArgument(const Json& value);

}  // namespace onewindow::asl::internal

#endif  // ONEWINDOW_ENGINE_ASL_INTRINSICS_H_
