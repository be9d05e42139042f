// Compiled forms of ASL expressions and states: parsed once when a
// Definition is compiled, evaluated many times by the interpreter.
//
// CompiledPath, CompiledIntrinsic, CompiledTemplate and CompiledChoiceRule
// evaluate exactly as EvalPath, EvalIntrinsic, EvalPayloadTemplate and
// EvalChoiceRule (expr.h) do; those functions are thin wrappers that
// compile and evaluate. Compiling never fails: a malformed expression
// becomes a form whose evaluation returns the same ASL error the wrapper
// would (the validator refuses such definitions anyway).
//
// StateSpec is a state with every field read, typed and compiled; a
// Definition owns one per state (Definition::Spec, Machine::Find).
//
// All forms are immutable after construction and may be shared across
// threads; evaluation is pure (randomness and limits come from EvalEnv).
#ifndef ONEWINDOW_ENGINE_ASL_COMPILED_H_
#define ONEWINDOW_ENGINE_ASL_COMPILED_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/asl/expr.h"
#include "engine/asl/limits.h"
#include "nlohmann/json.hpp"

namespace onewindow::asl {

using Json = nlohmann::json;

namespace internal {
struct JsonPath;
struct IntrinsicCall;
struct TemplateNode;
struct RuleNode;
}  // namespace internal

struct Machine;
struct StateSpec;

// A JSONPath ("$...", or "$$..." for the context object).
class CompiledPath {
 public:
  // An empty path: evaluation fails with States.Runtime.
  CompiledPath() = default;
  // INVALID_ARGUMENT describing the syntax error (or the limit passed).
  static absl::StatusOr<CompiledPath> Parse(
      std::string_view text, const Limits& limits = DefaultLimits());

  bool empty() const { return path_ == nullptr; }
  const std::string& text() const;
  // "$$..." (reads EvalEnv::context).
  bool is_context() const;
  // At most one value (a Reference Path): Eval gives it, not an array.
  bool definite() const;
  // Exactly "$".
  bool is_root() const;

  // EvalPath: the value, or the array of matches of an indefinite path;
  // States.Runtime when a definite path matches nothing.
  absl::StatusOr<Json> Eval(const Json& input, const EvalEnv& env) const;
  // EvalPathOptional: *found = false instead of the error.
  absl::StatusOr<Json> EvalOptional(const Json& input, const EvalEnv& env,
                                    bool* found) const;
  // ApplyResultPath: `input` with `result` placed at this path, consuming
  // both (no copy of the input); States.ResultPathMatchFailure when it
  // cannot be placed.
  absl::StatusOr<Json> ApplyResult(Json input, Json result) const;

  const internal::JsonPath* parsed() const { return path_.get(); }

 private:
  std::shared_ptr<const internal::JsonPath> path_;
};

// An intrinsic function call, e.g. "States.Format('{}', $.name)".
class CompiledIntrinsic {
 public:
  CompiledIntrinsic() = default;
  static CompiledIntrinsic Compile(std::string_view text,
                                   const Limits& limits = DefaultLimits());

  const std::string& text() const { return text_; }
  // OK when the call parsed (its function may still be unknown).
  const absl::Status& parse_status() const { return parse_status_; }
  // As EvalIntrinsic.
  absl::StatusOr<Json> Eval(const Json& input, const EvalEnv& env) const;

 private:
  std::string text_;
  std::shared_ptr<const internal::IntrinsicCall> call_;
  absl::Status parse_status_ = absl::FailedPreconditionError("empty");
};

// A payload template (Parameters, ResultSelector, ItemSelector): constant
// parts pre-built, "key.$" members pre-split into their output key and a
// compiled path or intrinsic call.
class CompiledTemplate {
 public:
  CompiledTemplate() = default;
  static CompiledTemplate Compile(const Json& tmpl,
                                  const Limits& limits = DefaultLimits());
  // As EvalPayloadTemplate.
  absl::StatusOr<Json> Eval(const Json& input, const EvalEnv& env) const;
  // True when no member is dynamic: Eval always gives the same value.
  bool constant() const;

 private:
  std::shared_ptr<const internal::TemplateNode> root_;
};

// A Choice rule (a Choices element without its Next, or a rule inside
// And/Or/Not): the rule tree with its paths parsed, its operator resolved
// and literal timestamps read.
class CompiledChoiceRule {
 public:
  CompiledChoiceRule() = default;
  static CompiledChoiceRule Compile(const Json& rule,
                                    const Limits& limits = DefaultLimits());
  // As EvalChoiceRule.
  absl::StatusOr<bool> Eval(const Json& input, const EvalEnv& env) const;

 private:
  std::shared_ptr<const internal::RuleNode> root_;
};

// ---------------------------------------------------------------------------
// States

enum class StateType {
  kPass,
  kTask,
  kChoice,
  kWait,
  kSucceed,
  kFail,
  kParallel,
  kMap
};

// "Pass", "Task", ...
std::string_view StateTypeName(StateType type);

// InputPath, OutputPath, ItemsPath or ResultPath as written: absent, null
// or a path.
struct PathField {
  enum class Kind { kAbsent, kNull, kPath };
  Kind kind = Kind::kAbsent;
  CompiledPath path;  // kPath

  // As InputPath/OutputPath/ItemsPath: absent gives `value` itself, null
  // gives {}, a path the value it selects.
  absl::StatusOr<Json> Select(Json value, const EvalEnv& env) const;
  // As ResultPath: absent (or "$") gives `result`, null gives `input`
  // unchanged, a path gives `input` with `result` placed there.
  absl::StatusOr<Json> Place(Json input, Json result) const;
};

// A number given literally or by its *Path twin (TimeoutSeconds /
// TimeoutSecondsPath, MaxConcurrency / MaxConcurrencyPath, Wait Seconds /
// SecondsPath, ...).
struct NumberField {
  bool present = false;  // either form given
  bool is_path = false;
  Json literal;  // as written (when !is_path)
  // The literal as a whole number, when it is one (validated definitions:
  // always, except ToleratedFailurePercentage).
  std::optional<int64_t> integer;
  double number = 0;  // the literal as a double
  CompiledPath path;  // is_path
};

// Wait Timestamp / TimestampPath.
struct TimestampField {
  bool present = false;
  bool is_path = false;
  std::string text;      // the literal as written
  Timestamp value;       // the literal, parsed
  int64_t value_ms = 0;  // the literal in ms since the epoch
  CompiledPath path;
};

// Fail Error / ErrorPath and Cause / CausePath: a literal string, or a path
// or intrinsic call evaluated against the state input.
struct StringField {
  enum class Kind { kAbsent, kLiteral, kPath, kIntrinsic };
  Kind kind = Kind::kAbsent;
  std::string literal;          // kLiteral
  std::string source;           // kPath/kIntrinsic: the text as written
  CompiledPath path;            // kPath
  CompiledIntrinsic intrinsic;  // kIntrinsic
  // kPath/kIntrinsic: the value (EvalPath / EvalIntrinsic semantics).
  absl::StatusOr<Json> Eval(const Json& input, const EvalEnv& env) const;
};

enum class JitterStrategy { kNone, kFull };

// One Retry element. Defaults as the ASL specification gives them.
struct Retrier {
  std::vector<std::string> error_equals;
  double interval_seconds = 1;
  int64_t max_attempts = 3;
  double backoff_rate = 2.0;
  std::optional<double> max_delay_seconds;
  JitterStrategy jitter = JitterStrategy::kNone;
  const Json* json = nullptr;
};

// One Catch element.
struct Catcher {
  std::vector<std::string> error_equals;
  std::string next;
  const StateSpec* next_state = nullptr;  // in the same machine
  PathField result_path;
  const Json* json = nullptr;
};

// One Choices element.
struct ChoiceBranch {
  CompiledChoiceRule rule;
  std::string next;
  const StateSpec* next_state = nullptr;
  const Json* json = nullptr;
};

// A state with its fields read and compiled. Pointers refer to the owning
// Definition and live as long as it.
struct StateSpec {
  std::string name;
  StateType type = StateType::kPass;
  const Json* json = nullptr;        // the state's object in Definition::doc()
  const Machine* machine = nullptr;  // the machine the state belongs to

  // Next, or End (Succeed and Fail states end; Choice has neither).
  std::string next;
  const StateSpec* next_state = nullptr;
  bool end = false;

  PathField input_path;
  PathField output_path;
  PathField result_path;
  // Parameters (Pass, Task, Parallel; a Map's Parameters is its
  // item_selector), ResultSelector (Task, Parallel, Map), ItemSelector (Map:
  // ItemSelector, or the older Parameters).
  std::optional<CompiledTemplate> parameters;
  std::optional<CompiledTemplate> result_selector;
  std::optional<CompiledTemplate> item_selector;
  // Pass Result (points into the document), null when absent.
  const Json* result = nullptr;

  // Task: Resource as written, and for "dept:<DEPT>/<type>" resources the
  // department and task type.
  std::string resource;
  bool is_dept = false;
  std::string department;
  std::string task_type;
  NumberField timeout_seconds;
  NumberField heartbeat_seconds;

  // Wait.
  NumberField seconds;
  TimestampField timestamp;

  // Fail.
  StringField error;
  StringField cause;

  // Choice.
  std::vector<ChoiceBranch> choices;
  std::string default_next;  // empty: no Default
  const StateSpec* default_state = nullptr;

  // Parallel branches and the Map item processor (ItemProcessor/Iterator).
  std::vector<const Machine*> branches;
  const Machine* processor = nullptr;
  PathField items_path;
  NumberField max_concurrency;
  NumberField tolerated_failure_count;
  NumberField tolerated_failure_percentage;

  std::vector<Retrier> retry;
  std::vector<Catcher> catchers;

  // The state's own fields (not its nested machines) mention "$$": the
  // interpreter must give it a context object.
  bool mentions_context = false;
};

// Reads a state object into a spec (transition targets and nested machines
// are left for the caller to link). The state should be valid; fields of
// the wrong type are read as absent.
StateSpec CompileState(std::string name, const Json& state,
                       const Limits& limits = DefaultLimits());

}  // namespace onewindow::asl

#endif  // ONEWINDOW_ENGINE_ASL_COMPILED_H_
