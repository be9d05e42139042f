// The JSONata query language of ASL: "{% ... %}" expressions in state
// fields and templates, compiled once per definition and evaluated with the
// $states binding and the workflow variables.
//
// Failures are States.QueryEvaluationError (errors.h) with a cause naming
// the field and the expression, catchable by Retry/Catch.
#ifndef ONEWINDOW_ENGINE_ASL_QUERY_H_
#define ONEWINDOW_ENGINE_ASL_QUERY_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/asl/jsonata/jsonata.h"
#include "nlohmann/json.hpp"

namespace onewindow::asl {

using Json = nlohmann::json;

// True when `s` is a whole JSONata expression: "{%" ... "%}" with nothing
// before or after.
bool IsJsonataExpression(std::string_view s);
// The text between "{%" and "%}" (requires IsJsonataExpression(s)).
std::string_view JsonataBody(std::string_view s);

// True when the state object uses the JSONata query language: its own
// QueryLanguage, else the definition's (`top_level`).
bool StateIsJsonata(const Json& state, bool top_level);
// True when the definition document declares "QueryLanguage": "JSONata".
bool DefinitionIsJsonata(const Json& doc);

// The JSONata functions Step Functions adds ($partition, $range, $hash...),
// built once and shared.
const jsonata::FunctionTable& StepFunctionsTable();

// Every expression of a definition, compiled once. Immutable once built.
class JsonataForms {
 public:
  // Compiles every "{% %}" string found in `doc` (keys are not
  // expressions). Expressions that do not compile are remembered with their
  // error, which evaluation then reports.
  void AddAll(const Json& doc);
  // The compiled form of the whole string `text` ("{% ... %}"), or null when
  // it was not seen (the caller compiles it then).
  const absl::StatusOr<std::shared_ptr<const jsonata::Expression>>* Find(
      std::string_view text) const;
  size_t size() const { return exprs_.size(); }

 private:
  std::map<std::string,
           absl::StatusOr<std::shared_ptr<const jsonata::Expression>>,
           std::less<>>
      exprs_;
};

// What a JSONata expression of a state can see.
struct JsonataScope {
  // $states: {"input", "context", and "result" / "errorOutput" when set}.
  const Json* states = nullptr;
  // Workflow variables, an object (null: none).
  const Json* variables = nullptr;
  // Uniform numbers in [0, 1) for $random(), $uuid() and $shuffle().
  std::function<double()> random;
  // Milliseconds since the epoch for $now() and $millis().
  std::function<int64_t()> clock;
  // Compiled forms of the definition; null: compiled on each evaluation.
  const JsonataForms* forms = nullptr;
  // The field being evaluated, for messages ("Output", "Arguments"...).
  std::string field;
};

// Evaluates the whole-string expression `text` ("{% ... %}"); nullopt when
// its value is undefined.
absl::StatusOr<std::optional<Json>> EvalJsonataOptional(
    std::string_view text, const JsonataScope& scope);
// As above, but an undefined value is a States.QueryEvaluationError.
absl::StatusOr<Json> EvalJsonata(std::string_view text,
                                 const JsonataScope& scope);
// Evaluates a JSON template: every string that is a whole expression is
// replaced by its value, recursing into objects and arrays; other values
// are copied as written.
absl::StatusOr<Json> EvalJsonataTemplate(const Json& tmpl,
                                         const JsonataScope& scope);

// The syntax error of a "{% %}" string, with its position, or OK.
absl::Status CheckJsonataSyntax(std::string_view text);

}  // namespace onewindow::asl

#endif  // ONEWINDOW_ENGINE_ASL_QUERY_H_
