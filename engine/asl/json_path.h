// JSONPath parsing and selection shared by the ASL expression evaluators
// (paths, ResultPath, payload templates, intrinsic arguments, Choice rules).
//
// A path is parsed once into a JsonPath (an immutable tree) and then applied
// to documents. Semantics follow the Jayway JSONPath implementation that AWS
// Step Functions uses: a definite path (only single names and single
// indexes) yields one value or nothing; an indefinite one (wildcards,
// slices, unions, deep scan, filters) yields every match, silently skipping
// members that are absent. Internal header of engine/asl; all functions are
// pure and thread-safe, parsed paths may be shared across threads.
#ifndef ONEWINDOW_ENGINE_ASL_JSON_PATH_H_
#define ONEWINDOW_ENGINE_ASL_JSON_PATH_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/asl/expr.h"
#include "engine/asl/limits.h"
#include "engine/asl/regex.h"
#include "nlohmann/json.hpp"

// Propagates a failed absl::Status from an expression (internal use).
#define OW_ASL_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status ow_asl_status_ = (expr);          \
    if (!ow_asl_status_.ok()) return ow_asl_status_; \
  } while (false)

namespace onewindow::asl::internal {

using Json = nlohmann::json;

struct FilterExpr;

// What a path starts from.
enum class PathRoot {
  kInput,    // "$": the document the path is applied to
  kContext,  // "$$": the context object
  kCurrent,  // "@": the element under test inside a filter expression
  kVariable,  // "$name": a workflow variable (JsonPath::variable)
};

// One step of a path: a selector, optionally applied to every descendant
// ("..") instead of only to the current value.
struct PathSegment {
  enum class Kind {
    kName,      // .name or ['name']
    kNames,     // ['a','b'] (union of names)
    kIndex,     // [n], negative counts from the end
    kIndexes,   // [n,m,...]
    kSlice,     // [start:end:step]
    kWildcard,  // .* or [*]
    kFilter,    // [?(expr)]
  };
  Kind kind = Kind::kName;
  bool deep = false;
  std::vector<std::string> names;
  std::vector<int64_t> indexes;
  std::optional<int64_t> slice_start;
  std::optional<int64_t> slice_end;
  int64_t slice_step = 1;
  std::shared_ptr<const FilterExpr> filter;
};

// A parsed JSONPath.
struct JsonPath {
  std::string text;
  PathRoot root = PathRoot::kInput;
  std::string variable;  // kVariable: the name without '$'
  std::vector<PathSegment> segments;
  // True when the path addresses at most one value (a Reference Path).
  bool definite = true;
  // True when the path only uses single names and non-negative or negative
  // single indexes and no deep scan (what ResultPath accepts).
  bool reference = true;
};

// Operand of a filter comparison: a literal or a path.
struct FilterOperand {
  bool is_path = false;
  Json literal;
  std::shared_ptr<const JsonPath> path;
  // The right side of =~, compiled when the path is parsed; null when the
  // pattern does not compile (the comparison is then false).
  std::shared_ptr<const LinearRegex> regex;
};

// A filter expression tree, e.g. @.price < 10 && @.category == 'fiction'.
struct FilterExpr {
  enum class Kind { kOr, kAnd, kNot, kExists, kCompare };
  Kind kind = Kind::kExists;
  std::vector<std::shared_ptr<const FilterExpr>> children;  // kOr/kAnd/kNot
  std::string op;  // kCompare: == != < <= > >= =~
  FilterOperand lhs;
  FilterOperand rhs;  // kCompare only
};

// Parses `text` ("$...", "$$..." or, when allow_current, "@..."). Fails with
// INVALID_ARGUMENT describing the syntax error, or naming the limit when the
// text is longer than limits.max_expression_length, nests filters deeper
// than limits.max_expression_depth or has more segments than
// limits.max_json_depth.
absl::StatusOr<std::shared_ptr<const JsonPath>> ParseJsonPath(
    std::string_view text, bool allow_current = false,
    const Limits& limits = DefaultLimits());

// Work allowed to one evaluation (values visited, filter tests, regular
// expression steps); shared by the nested selections of filters.
struct PathBudget {
  int64_t used = 0;
  int64_t max = DefaultLimits().max_path_steps;
  // Adds `n` steps; false once the budget is spent.
  bool Spend(int64_t n) {
    used += n;
    return used <= max;
  }
  bool exhausted() const { return used > max; }
};

// The documents a path may read.
struct SelectRoots {
  const Json* input = nullptr;    // "$"
  const Json* context = nullptr;  // "$$" (may be null: treated as {})
  const Json* current = nullptr;  // "@"
  const Json* variables = nullptr;  // object of workflow variables ("$name")
  // Counts the work; must be set.
  PathBudget* budget = nullptr;
};

// Appends the values `path` selects to *out (pointers into the roots).
// Absent members are skipped. Stops early, with roots.budget exhausted,
// when the work exceeds the budget; otherwise never fails.
void SelectJsonPath(const JsonPath& path, const SelectRoots& roots,
                    std::vector<const Json*>* out);

// Evaluates a parsed path against `input` (and env.context for "$$") with
// the semantics of EvalPathOptional (expr.h): *found is false when a
// definite path matches nothing; an indefinite path gives an array. Fails
// with States.Runtime when the work exceeds limits.max_path_steps, with
// States.DataLimitExceeded when the array of matches would exceed
// limits.max_payload_bytes.
absl::StatusOr<Json> EvalParsedPathOptional(const JsonPath& path,
                                            const Json& input,
                                            const EvalEnv& env, bool* found);
// As EvalPath (expr.h): a definite path that matches nothing is a
// States.Runtime error naming the path.
absl::StatusOr<Json> EvalParsedPath(const JsonPath& path, const Json& input,
                                    const EvalEnv& env);

// ApplyResultPath (expr.h) with a parsed path, consuming its arguments.
absl::StatusOr<Json> ApplyParsedResultPath(const JsonPath& path, Json input,
                                           Json result);

// Jayway-style normalized form of a path for messages: $['a']['b'][0].
std::string NormalizedPath(const JsonPath& path);

// Compact JSON text of `value`; never throws (invalid UTF-8 is replaced).
std::string DumpCompact(const Json& value);

// Scans a JSON number literal at text[*pos] (optional '-', digits, '.',
// exponent), advancing *pos past it. Null (a discarded value) when the
// characters scanned are not a number.
Json ScanNumber(std::string_view text, size_t* pos);

// absl::string_view of a std::string_view (the two differ in this Abseil
// build), for absl::StrCat and friends.
inline absl::string_view Av(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace onewindow::asl::internal

#endif  // ONEWINDOW_ENGINE_ASL_JSON_PATH_H_
