// JSONata's built-in functions (internal to engine/asl/jsonata).
//
// The table maps names ("string", "sum", ...) to implementations with
// their JSONata signatures; it is built once and read by every evaluation
// (thread-safe). Implementations live in functions.cc (numbers, arrays,
// objects, higher-order), string_functions.cc (strings, regular
// expressions, encodings), datetime.cc (dates, integer pictures) and
// format_number.cc.
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_FUNCTIONS_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_FUNCTIONS_H_

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/asl/jsonata/evaluator.h"
#include "engine/asl/jsonata/value.h"

namespace onewindow::asl::jsonata::internal {

struct Builtin;
class Evaluator;

// One entry of the table: name, JSONata signature, implementation.
struct BuiltinDef {
  std::string_view name;
  std::string_view signature;
  BuiltinFn fn;
};

// The string and encoding built-ins (string_functions.cc).
std::span<const BuiltinDef> StringBuiltins();

// The built-in function `name` (without '$'), or null.
const Builtin* FindBuiltin(std::string_view name);
bool IsBuiltinFunctionName(std::string_view name);

// JSONata's $boolean: truthiness (nullopt for undefined).
std::optional<bool> ToBoolean(const Value& v);

// Date/time built-ins (datetime.cc).
absl::StatusOr<Value> FnNow(Evaluator& ev, const std::vector<Value>& args,
                            const Value& input);
absl::StatusOr<Value> FnMillis(Evaluator& ev, const std::vector<Value>& args,
                               const Value& input);
absl::StatusOr<Value> FnFromMillis(Evaluator& ev,
                                   const std::vector<Value>& args,
                                   const Value& input);
absl::StatusOr<Value> FnToMillis(Evaluator& ev, const std::vector<Value>& args,
                                 const Value& input);
absl::StatusOr<Value> FnFormatInteger(Evaluator& ev,
                                      const std::vector<Value>& args,
                                      const Value& input);
absl::StatusOr<Value> FnParseInteger(Evaluator& ev,
                                     const std::vector<Value>& args,
                                     const Value& input);
absl::StatusOr<Value> FnFormatNumber(Evaluator& ev,
                                     const std::vector<Value>& args,
                                     const Value& input);

}  // namespace onewindow::asl::jsonata::internal

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_FUNCTIONS_H_
