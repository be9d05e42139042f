// JSONata 2.x expressions over nlohmann::json: compile once, evaluate often.
//
// Compile() parses an expression into an immutable Expression; Evaluate()
// runs it against an input document and variable bindings. Evaluation is
// deterministic: it reads no clock and no random source except those the
// caller supplies in Bindings. Every resource an expression can consume is
// bounded by Limits; exceeding one fails the call with a status that names
// the limit, never a crash, an exhausted stack or a hang.
//
// Errors carry JSONata's error code and position (see GetErrorInfo()):
// S0xxx for syntax (INVALID_ARGUMENT from Compile), T/Dxxxx for evaluation
// (INVALID_ARGUMENT). A limit exceeded is RESOURCE_EXHAUSTED with JSONata's
// guardrail codes where it has them (D1011 stack overflow, D1012 runaway
// evaluation, D2014/D2015 sequence length) and U1xxx codes of this
// implementation otherwise; every such message names the limit. A position
// counts characters (code points) from the start of the expression to just
// past the offending token, as JSONata does.
//
// Differences from JSONata 2.0.6 (the version AWS Step Functions runs):
// members of input objects are visited in key order (nlohmann::json keeps
// objects sorted), not in document order; strings are sequences of Unicode
// code points, not UTF-16 units ($length, $substring, match indexes);
// regular expressions are PCRE2 with JavaScript-like options; functions
// passed as matchers to $match/$replace/$split/$contains must be regular
// expressions; $base64encode/decode work on UTF-8 bytes; the limits below
// apply. Like 2.0.6 (and unlike later versions) $string keeps 15
// significant digits even for integers; the later operators ?: and ?? are
// accepted.
//
// Thread safety: a compiled Expression, a FunctionTable after set-up and
// Limits are immutable and may be shared by concurrent evaluations. Bindings
// is read-only during Evaluate() and may be shared too if its callbacks are
// thread-safe.
//
// Usage:
//   auto expr = jsonata::Compile("$sum(Account.Order.Product.Price)");
//   if (!expr.ok()) return expr.status();
//   jsonata::Bindings vars;
//   vars.SetRef("states", states_json);
//   auto result = jsonata::Evaluate(**expr, &input, vars);
//   // *result is std::nullopt when the expression has no value (undefined).
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_JSONATA_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_JSONATA_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace onewindow::asl::jsonata {

namespace internal {
struct Program;
struct NativeEntry;
}  // namespace internal

// Bounds on compiling and evaluating one expression. The defaults suit
// expressions written by hand over payloads of a few hundred KiB.
struct Limits {
  // Longest expression text, in bytes (U1000).
  size_t max_expression_bytes = 64 * 1024;
  // Deepest nesting of the expression: brackets, operators, path steps
  // (U1001). Checked by the parser before it recurses further.
  int max_depth = 100;
  // Deepest nesting of function calls during evaluation (D1011, JSONata's
  // stack overflow). Tail calls
  // (a call that is the last thing a lambda does) do not nest.
  int max_call_depth = 200;
  // Work budget of one evaluation (D1012, JSONata's evaluation timeout):
  // one step per node evaluated and
  // per value produced, copied, compared or serialized.
  uint64_t max_steps = 5'000'000;
  // Most items in one array or sequence built by a range, constructor or
  // function (D2014 for the range operator, D2015 elsewhere).
  size_t max_sequence_length = 1'000'000;
  // Longest string built, in bytes (U1005).
  size_t max_string_bytes = 8 * 1024 * 1024;
  // Largest result, in approximate bytes of JSON (U1006).
  size_t max_result_bytes = 32 * 1024 * 1024;
  // Machine stack the evaluator may use below the Evaluate() call (D1011).
  // Callers on small-stack threads must leave at least this much headroom.
  size_t max_stack_bytes = 512 * 1024;
  // PCRE2 limits per regular-expression match (U1008): backtracking steps
  // and heap for backtracking, in KiB.
  uint32_t regex_match_limit = 1'000'000;
  uint32_t regex_heap_limit_kib = 16 * 1024;
};

// The JSONata error code, position and token carried by a failed status.
struct ErrorInfo {
  std::string code;   // e.g. "S0202", "T2001", "D1012"
  int position = -1;  // characters up to just past the token; -1 unknown
  size_t offset = 0;  // the same point as a byte offset into the text
  std::string token;  // the operator or function name at fault, if any
};

// The code and position of a status returned by this library (nullopt for
// other statuses).
std::optional<ErrorInfo> GetErrorInfo(const absl::Status& status);

// A failed status carrying `code` (e.g. "D3137") and `message`, for native
// functions that want a JSONata-style error.
absl::Status MakeError(std::string_view code, std::string_view message);

// A variable read by an expression and not bound inside it.
struct VariableReference {
  std::string name;     // without the leading '$'
  int position = 0;     // of the first reference, as in ErrorInfo
  bool called = false;  // every reference is a function call: $name(...)
};

// A compiled expression. Immutable; share it freely.
class Expression {
 public:
  ~Expression();
  Expression(const Expression&) = delete;
  Expression& operator=(const Expression&) = delete;

  const std::string& text() const;
  // Variables the expression reads from its bindings, in order of first
  // appearance. Names of JSONata's built-in functions are left out when
  // they are only called; "$" and "$$" are not variables.
  const std::vector<VariableReference>& free_variables() const;
  // True when the expression reads $states.
  bool reads_states() const;

  const internal::Program& program() const { return *program_; }

 private:
  friend absl::StatusOr<std::shared_ptr<const Expression>> Compile(
      std::string_view, const Limits&);
  explicit Expression(std::unique_ptr<internal::Program> program);
  std::unique_ptr<internal::Program> program_;
};

// Parses `text`. Syntax errors are INVALID_ARGUMENT with JSONata's code and
// the exact position, e.g. "S0203: Expected \")\" before end of expression
// at position 14"; a limit exceeded is RESOURCE_EXHAUSTED.
absl::StatusOr<std::shared_ptr<const Expression>> Compile(
    std::string_view text, const Limits& limits = Limits());

// What a native function may ask of the evaluation that calls it.
class CallContext {
 public:
  virtual ~CallContext() = default;
  // A number in [0, 1) from Bindings::random; fails when none was given.
  virtual absl::StatusOr<double> Random() = 0;
  // The evaluation's time (Bindings::clock, read once per evaluation).
  virtual absl::StatusOr<int64_t> NowMillis() = 0;
};

// A function supplied by the caller. Undefined arguments are std::nullopt;
// returning std::nullopt makes the call undefined. A failed status aborts
// the evaluation (use MakeError() to give it a JSONata code).
using NativeFunction =
    std::function<absl::StatusOr<std::optional<nlohmann::json>>(
        std::span<const std::optional<nlohmann::json>> args, CallContext& ctx)>;

// Extra functions callable from expressions, e.g. the ones Step Functions
// adds to JSONata (see step_functions.h). Set up once, then share it.
class FunctionTable {
 public:
  FunctionTable();
  ~FunctionTable();
  FunctionTable(const FunctionTable&) = delete;
  FunctionTable& operator=(const FunctionTable&) = delete;

  // Registers `name` (without '$'). `signature` uses JSONata's signature
  // syntax, e.g. "<a<j>n:a>", and is checked before each call; "" accepts
  // any arguments. A function named like a built-in replaces it.
  absl::Status Add(std::string name, std::string_view signature,
                   NativeFunction fn);
  const internal::NativeEntry* Find(std::string_view name) const;

 private:
  std::map<std::string, std::unique_ptr<internal::NativeEntry>, std::less<>>
      entries_;
};

// Variables and sources of one evaluation.
class Bindings {
 public:
  // Binds $name to a copy of `value`.
  void Set(std::string name, nlohmann::json value);
  // Binds $name to `value` without copying; `value` must outlive every
  // Evaluate() that uses these bindings.
  void SetRef(std::string name, const nlohmann::json& value);
  // The value bound to $name, or null.
  const nlohmann::json* Find(std::string_view name) const;

  // Functions the caller adds (may be null); not owned, must outlive use.
  const FunctionTable* functions = nullptr;
  // Milliseconds since the Unix epoch for $now() and $millis(), read at
  // most once per evaluation. Without it those functions fail (U1010).
  std::function<int64_t()> clock;
  // Uniform numbers in [0, 1) for $random() and $shuffle(). Without it
  // those functions fail (U1010).
  std::function<double()> random;
  // Whether $eval() may compile and run an expression given as data.
  bool allow_eval = true;

 private:
  struct Slot {
    std::shared_ptr<const nlohmann::json> owned;
    const nlohmann::json* value = nullptr;
  };
  std::map<std::string, Slot, std::less<>> vars_;
};

// Evaluates `expression` against `input` (null: no input, JSONata's
// undefined). Returns std::nullopt when the result is undefined. A result
// that is a function is an error (U1009): it has no JSON form.
absl::StatusOr<std::optional<nlohmann::json>> Evaluate(
    const Expression& expression, const nlohmann::json* input,
    const Bindings& bindings, const Limits& limits = Limits());

}  // namespace onewindow::asl::jsonata

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_JSONATA_H_
