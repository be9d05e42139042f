// Parsing of ASL intrinsic function calls ("States.Format('{}', $.x)") into
// a small syntax tree, and the one table of intrinsic functions (arity,
// the literals each argument accepts, evaluation) that both the evaluator
// (CompiledIntrinsic, EvalIntrinsic) and the validator use.
//
// Internal header of engine/asl. Parsed calls are immutable values; all
// functions are pure and thread-safe.
#ifndef ONEWINDOW_ENGINE_ASL_INTRINSICS_H_
#define ONEWINDOW_ENGINE_ASL_INTRINSICS_H_

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/asl/expr.h"
#include "engine/asl/json_path.h"
#include "engine/asl/limits.h"
#include "nlohmann/json.hpp"

namespace onewindow::asl::internal {

struct IntrinsicCall;
struct IntrinsicFunction;

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
  // kPath: the path text and its parsed form (null when a lenient parse
  // kept a path that does not parse; path_status says why).
  std::string path;
  std::shared_ptr<const JsonPath> parsed_path;
  absl::Status path_status;
  // The argument's text as written (messages).
  std::string text;
  // kCall: a nested intrinsic call.
  std::shared_ptr<const IntrinsicCall> call;
};

// A call: "States.<Name>" and its arguments.
struct IntrinsicCall {
  std::string name;
  // The function from the table; null when the name is unknown.
  const IntrinsicFunction* function = nullptr;
  std::vector<IntrinsicArg> args;
};

// The literal kinds an argument position accepts (a bit set).
enum : uint8_t {
  kLiteralString = 1,
  kLiteralNumber = 2,
  kLiteralBoolean = 4,
  kLiteralNull = 8,
};

// Evaluates a call whose arguments have been evaluated into `args` (the
// arity already checked).
using IntrinsicEval = absl::StatusOr<Json> (*)(const IntrinsicCall& call,
                                               std::vector<Json>& args,
                                               const EvalEnv& env);

// One intrinsic function.
struct IntrinsicFunction {
  std::string_view name;
  int min_args;
  int max_args;  // -1: any number
  // Literals each argument position accepts (kLiteral* bits; 0: only a
  // path or a call): the first `literal_positions` entries, the last of
  // them repeating.
  int literal_positions;
  std::array<uint8_t, 3> literals;
  IntrinsicEval eval;
};

// The function named `name` ("States.Format"), or null.
const IntrinsicFunction* FindIntrinsic(std::string_view name);

// Parses a complete intrinsic call. Fails with INVALID_ARGUMENT describing
// the syntax error (unknown names are not rejected here). With
// `lenient_paths`, a path argument that does not parse is kept (with
// parsed_path null and path_status saying why) instead of failing the call:
// the validator checks only the shape of path arguments.
absl::StatusOr<IntrinsicCall> ParseIntrinsic(
    std::string_view expr, const Limits& limits = DefaultLimits(),
    bool lenient_paths = false);

// Known function and arity of a call and its nested calls, in the
// evaluator's words ("Function 'States.X' takes exactly 1 argument(s)...").
absl::Status CheckIntrinsicArity(const IntrinsicCall& call);
// The validator's check: known function, arity and the kinds of literal
// arguments, of a call and its nested calls.
absl::Status CheckIntrinsicSignature(const IntrinsicCall& call);

// True when `name` (e.g. "States.Format") is a supported intrinsic function.
bool IsKnownIntrinsic(std::string_view name);

// How States.Format renders an argument: strings as-is, other scalars as
// JSON, objects as {k=v, ...} and arrays as [a, b] (Java style, as AWS does).
std::string FormatArgument(const Json& value);

}  // namespace onewindow::asl::internal

#endif  // ONEWINDOW_ENGINE_ASL_INTRINSICS_H_
