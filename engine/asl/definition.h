// A parsed and validated ASL state machine definition.
//
// Definitions are immutable once compiled and shared (std::shared_ptr) by
// every case that runs them; all const methods are thread-safe.
#ifndef ONEWINDOW_ENGINE_ASL_DEFINITION_H_
#define ONEWINDOW_ENGINE_ASL_DEFINITION_H_

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/asl/compiled.h"
#include "engine/asl/query.h"
#include "engine/asl/limits.h"
#include "nlohmann/json.hpp"

namespace onewindow::asl {

using Json = nlohmann::json;

enum class SourceFormat { kAuto, kJson, kYaml };

enum class Severity {
  kError,    // the definition is invalid
  kWarning,  // legal, but likely wrong; never makes a definition invalid
};

// One problem in a definition: where (a JSONPath-like location such as
// "$.States.Check.Next", and the 1-based source line and column when
// known), what, how serious, and a hint where one helps (the state name a
// typo most likely meant, the fields a state allows, the form expected).
struct ValidationError {
  ValidationError() = default;
  ValidationError(std::string path, std::string message, int line = 0,
                  int column = 0, Severity severity = Severity::kError,
                  std::string hint = {})
      : path(std::move(path)),
        message(std::move(message)),
        line(line),
        column(column),
        severity(severity),
        hint(std::move(hint)) {}

  std::string path;
  std::string message;
  int line = 0;
  int column = 0;  // in Unicode code points; 0 when unknown
  Severity severity = Severity::kError;
  std::string hint;  // empty when there is none
};

// True when any entry is an error (not a warning).
bool HasErrors(const std::vector<ValidationError>& problems);

// The problem a failed LoadSource reports, as a ValidationError at "$" with
// the line and column its message names (0 when it names none).
ValidationError LoadFailure(const absl::Status& status);

// Source text loaded into JSON, with the position of each location when
// known. A member's position is that of its key; an array element's that of
// the element.
struct LoadedSource {
  Json doc;
  // Location path (same form as ValidationError::path) -> 1-based line.
  std::map<std::string, int> lines;
  // Location path -> 1-based column (in Unicode code points) on that line.
  std::map<std::string, int> columns;
};

// Parses JSON or YAML text (kAuto: JSON if the first non-space character is
// '{', else YAML). Fails with INVALID_ARGUMENT naming the line and column of
// a syntax error, a duplicate key or a limit passed (JSON nesting depth,
// YAML nodes or bytes after alias expansion), RESOURCE_EXHAUSTED when the
// text is longer than limits.max_definition_bytes. JSON is read as strictly
// as ParseJson (json_parse.h) reads payloads.
absl::StatusOr<LoadedSource> LoadSource(std::string_view text,
                                        SourceFormat format,
                                        const Limits& limits = DefaultLimits());

// Checks a loaded definition against the ASL specification: structure,
// field types, unknown fields, StartAt/Next targets, reachability, terminal
// states, paths, intrinsic functions, Retry/Catch, nested machines (Parallel
// branches, Map ItemProcessor/Iterator), duplicate state names, and the
// limits (states, Parallel/Map nesting, expression length and nesting).
// Returns every error found (empty = valid). Fills ValidationError::line
// from source.lines where it can.
std::vector<ValidationError> Validate(const LoadedSource& source);
std::vector<ValidationError> Validate(const LoadedSource& source,
                                      const Limits& limits);

struct ValidateOptions {
  Limits limits;
  // Also report warnings (Severity::kWarning) for what is legal but likely
  // wrong: a Task on a dept: resource with no Retry covering
  // Dept.Unavailable, a Choice without Default, a Map whose item processor
  // calls departments with no MaxConcurrency. Errors come first in source
  // order, then warnings.
  bool warnings = false;
};
// Validate with options; without warnings it returns what Validate does.
std::vector<ValidationError> Validate(const LoadedSource& source,
                                      const ValidateOptions& options);

// A state machine (top-level, a Parallel branch, or a Map item processor).
struct Machine {
  std::string start_at;
  // State name -> the state's JSON object (points into Definition::doc()).
  std::map<std::string, const Json*, std::less<>> states;
  // State name -> the compiled state (owned by the Definition).
  std::map<std::string, const StateSpec*, std::less<>> specs;
  // The StartAt state, compiled.
  const StateSpec* start = nullptr;

  // The compiled state named `name` in this machine, or null.
  const StateSpec* Find(std::string_view name) const {
    auto it = specs.find(name);
    return it == specs.end() ? nullptr : it->second;
  }
};

class Definition {
 public:
  // Loads, validates and indexes a definition. INVALID_ARGUMENT with the
  // errors (one per line, "path: message") when it is not valid.
  static absl::StatusOr<std::shared_ptr<const Definition>> Compile(
      std::string_view text, SourceFormat format = SourceFormat::kAuto,
      const Limits& limits = DefaultLimits());
  // Same, from an already-loaded document (whose depth is checked first,
  // without recursion).
  static absl::StatusOr<std::shared_ptr<const Definition>> FromJson(
      Json doc, const Limits& limits = DefaultLimits());

  Definition(const Definition&) = delete;
  Definition& operator=(const Definition&) = delete;

  // The whole definition document.
  const Json& doc() const { return doc_; }
  // The top-level machine.
  const Machine& root() const { return *root_; }
  // The machine a Parallel branch or Map processor state owns:
  // for a Parallel state, `index` is the branch index; for Map, 0.
  // Returns nullptr if `state` has no such nested machine.
  const Machine* Nested(const Json* state, int index) const;
  // The compiled form of a state object of doc() (as Machine::states
  // holds them), or null.
  const StateSpec* Spec(const Json* state) const {
    auto it = spec_by_json_.find(state);
    return it == spec_by_json_.end() ? nullptr : it->second;
  }
  // Departments addressed by Task Resources "dept:<DEPT>/<type>", sorted.
  const std::vector<std::string>& departments() const { return departments_; }
  // Every "{% ... %}" expression of the document, compiled.
  const JsonataForms& jsonata() const { return jsonata_; }
  // The top level declares "QueryLanguage": "JSONata" (the default of its
  // states, nested machines included).
  bool jsonata_default() const { return jsonata_default_; }

  // Hex SHA-256 of the canonical JSON serialisation (doc().dump()).
  const std::string& digest() const { return digest_; }

 private:
  friend class DefinitionIndexer;

  Definition() = default;
  // Indexes and compiles a validated document.
  static std::shared_ptr<const Definition> Build(Json doc,
                                                 const Limits& limits);

  Json doc_;
  std::unique_ptr<Machine> root_;
  // Keyed by (state object address, index).
  std::map<std::pair<const Json*, int>, std::unique_ptr<Machine>> nested_;
  std::vector<std::unique_ptr<StateSpec>> specs_;
  std::unordered_map<const Json*, const StateSpec*> spec_by_json_;
  std::vector<std::string> departments_;
  std::string digest_;
  JsonataForms jsonata_;
  bool jsonata_default_ = false;
};

// Location paths (the form of ValidationError::path and LoadedSource::lines).
// A member is appended as ".Key" when the key is a plain name (not empty, no
// '.', '[', ']', quotes or backslashes), else as "['Key']" with quotes and
// backslashes in the key escaped by a backslash; an array element as
// "[index]". Example: "$.States.Check.Next", "$.States.P.Parameters['x.$']".
std::string LocationMember(std::string_view parent, std::string_view key);
std::string LocationIndex(std::string_view parent, size_t index);

// Splits a Task Resource "dept:<DEPT>/<type>" (optionally with a prefix ending
// in ':' such as "arn:aws:states:::dept:DSF/check") into department and task
// type. Returns false when the resource is not of that form.
bool ParseDeptResource(std::string_view resource, std::string* department,
                       std::string* task_type);

}  // namespace onewindow::asl

#endif  // ONEWINDOW_ENGINE_ASL_DEFINITION_H_
