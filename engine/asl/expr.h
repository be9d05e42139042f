// ASL expressions: paths, reference paths, ResultPath, payload templates,
// intrinsic functions and Choice rules (JSONPath query language).
//
// All functions are pure and thread-safe. Failures are absl::Status values
// built with AslError() (errors.h) naming the ASL error to raise, e.g.
// States.Runtime for a path that matches nothing, States.IntrinsicFailure for
// a bad intrinsic call.
#ifndef ONEWINDOW_ENGINE_ASL_EXPR_H_
#define ONEWINDOW_ENGINE_ASL_EXPR_H_

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/asl/limits.h"
#include "nlohmann/json.hpp"

namespace onewindow::asl {

using Json = nlohmann::json;

// What an expression can see besides its input.
struct EvalEnv {
  // The context object ("$$"): Execution, State, StateMachine, Task, Map.
  const Json* context = nullptr;
  // Workflow variables ("$name" paths), an object; null: none.
  const Json* variables = nullptr;
  // Source of randomness for States.MathRandom and States.UUID: returns
  // uniformly distributed 64-bit values. Supplied by the (deterministic)
  // interpreter from its seeded generator. Must be set when templates may
  // call those functions.
  std::function<uint64_t()> random;
  // Bounds on the work and on the values built (JSONPath steps, intrinsic
  // results against max_payload_bytes, ...). Null: DefaultLimits().
  const Limits* limits = nullptr;

  const Limits& limits_or_default() const {
    return limits != nullptr ? *limits : DefaultLimits();
  }
};

// Evaluates a Path ("$...", or "$$..." against the context object), as used
// by InputPath, OutputPath, ItemsPath, `.$` template values and the *Path
// fields. Supports the JSONPath forms ASL allows: dot and bracket child
// access, array indexes (incl. negative), wildcards, slices, unions, deep
// scan and filter expressions. A definite path (reference path) yields the
// value; an indefinite one (wildcard, slice, filter...) yields an array of
// matches. Fails with States.Runtime when a definite path matches nothing.
absl::StatusOr<Json> EvalPath(std::string_view path, const Json& input,
                              const EvalEnv& env);

// Like EvalPath but reports "no match" as std::nullopt-like absence instead of
// an error: returns false in *found (used by IsPresent and Choice rules).
absl::StatusOr<Json> EvalPathOptional(std::string_view path, const Json& input,
                                      const EvalEnv& env, bool* found);

// True when `path` is syntactically a valid Path / Reference Path.
bool IsValidPath(std::string_view path);
bool IsValidReferencePath(std::string_view path);

// Applies ResultPath: returns `input` with `result` placed at `path`
// (a Reference Path; "$" replaces the whole input). Creates missing object
// members along the way. Fails with States.ResultPathMatchFailure when the
// path cannot be applied (e.g. walks through a non-object).
absl::StatusOr<Json> ApplyResultPath(std::string_view path, const Json& input,
                                     const Json& result);

// Evaluates a payload template (Parameters, ResultSelector, ItemSelector):
// keys ending in ".$" take their value from a Path, a context path ("$$...")
// or an intrinsic function call, and lose the suffix; other values are
// copied, recursing into objects and arrays.
absl::StatusOr<Json> EvalPayloadTemplate(const Json& tmpl, const Json& input,
                                         const EvalEnv& env);

// Evaluates an intrinsic function call such as
// "States.Format('Hello {}', $.name)". Errors: States.IntrinsicFailure (bad
// arguments) or States.Runtime (a path argument that matches nothing).
absl::StatusOr<Json> EvalIntrinsic(std::string_view expr, const Json& input,
                                   const EvalEnv& env);

// True when `expr` parses as an intrinsic function call with a known name
// (validation).
bool IsValidIntrinsic(std::string_view expr, std::string* why);

// Evaluates one Choice rule (a Choices element without its Next, or a nested
// rule inside And/Or/Not) against the state's effective input.
absl::StatusOr<bool> EvalChoiceRule(const Json& rule, const Json& input,
                                    const EvalEnv& env);

// True when `text` is an RFC 3339 timestamp as ASL accepts it
// (IsTimestamp, Timestamp* comparisons, Wait Timestamp).
bool IsTimestamp(std::string_view text);

// Parses an RFC 3339 timestamp into milliseconds since the Unix epoch.
absl::StatusOr<int64_t> ParseTimestampMs(std::string_view text);

// An instant with full precision: seconds since the Unix epoch and the
// nanoseconds within that second (0..999999999). Ordered chronologically.
struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;
  friend auto operator<=>(const Timestamp&, const Timestamp&) = default;
};

// Parses an RFC 3339 timestamp with nanosecond precision (digits beyond the
// ninth fractional one are ignored). Fails like ParseTimestampMs.
absl::StatusOr<Timestamp> ParseTimestamp(std::string_view text);

}  // namespace onewindow::asl

#endif  // ONEWINDOW_ENGINE_ASL_EXPR_H_
