// JSON Schema (2020-12) for case data: compile a schema once, validate many
// instances, and report every failure by JSON pointer.
//
// Supported keywords:
//   any type   type (incl. integer), enum, const, allOf, anyOf, oneOf, not,
//              if/then/else, $ref (local only: "#", "#/json/pointer",
//              "#anchor"), $defs (and draft-07 "definitions"), $anchor
//   numbers    minimum, maximum, exclusiveMinimum, exclusiveMaximum,
//              multipleOf
//   strings    minLength, maxLength (in Unicode code points), pattern
//              (ECMA-262 dialect through PCRE2, with match limits), format
//   arrays     prefixItems, items, contains, minContains, maxContains,
//              minItems, maxItems, uniqueItems
//   objects    properties, patternProperties, additionalProperties,
//              required, propertyNames, minProperties, maxProperties,
//              dependentRequired, dependentSchemas
//   annotations (kept in the document, not checked against data): title,
//              description, default, examples, deprecated, readOnly,
//              writeOnly, $comment, content*
// "format" asserts date, date-time, email and uri (see formats.h); other
// formats are annotations. Unknown keywords are ignored, as the
// specification says. Refused at compile time with a message: a malformed
// keyword value ("type": 5, a bad regex, "minLength": -1), a $ref that is
// not local or leads nowhere, a $ref cycle that never descends into the
// data, an embedded $id, and keywords this validator does not implement
// (unevaluatedProperties, unevaluatedItems, $dynamicRef, $dynamicAnchor,
// $recursiveRef, $recursiveAnchor) or that changed meaning in 2020-12
// (array-form items, additionalItems, dependencies) - so a schema never
// appears to check what it does not.
//
// A compiled JsonSchema is immutable; Validate is thread-safe.
#ifndef ONEWINDOW_ENGINE_MANIFEST_JSON_SCHEMA_H_
#define ONEWINDOW_ENGINE_MANIFEST_JSON_SCHEMA_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace onewindow::manifest {

using Json = nlohmann::json;

struct SchemaLimits {
  // Subschemas in one schema.
  size_t max_subschemas = 10000;
  // Nesting of the schema document (JSON levels).
  int max_schema_depth = 128;
  // Bytes of one "pattern" or "patternProperties" regular expression.
  size_t max_pattern_bytes = 1000;
  // Nesting of the validated data (JSON levels).
  int max_instance_depth = 128;
  // Subschemas applied one inside another while validating ($ref chains).
  int max_eval_depth = 256;
  // Subschema applications in one validation.
  uint64_t max_steps = 1'000'000;
  // Errors reported; later ones are counted as truncated.
  size_t max_errors = 100;
  // PCRE2 limits for one regex match (backtracking steps; nested
  // backtracking depth).
  uint32_t regex_match_limit = 1'000'000;
  uint32_t regex_depth_limit = 10'000;
};

// One failure of the data against the schema.
struct SchemaError {
  // RFC 6901 pointer into the data: "" is the whole document,
  // "/applicant/name" a member. For "required" (and dependentRequired) it
  // points at the missing member itself.
  std::string instance_pointer;
  // The keyword that failed: "type", "required", "pattern", "format", ...
  std::string keyword;
  // RFC 6901 pointer of that keyword in the schema.
  std::string schema_pointer;
  std::string message;
};

// "/applicant/name: is required" (the whole document shows as "/").
std::string FormatSchemaError(const SchemaError& error);

// Something wrong with the schema itself.
struct SchemaProblem {
  std::string schema_pointer;
  std::string message;
};

struct ValidationResult {
  std::vector<SchemaError> errors;
  // More than max_errors failures: only the first max_errors are listed.
  bool truncated = false;
  // Not OK (RESOURCE_EXHAUSTED naming the limit) when a bound stopped the
  // validation; the data is then not valid.
  absl::Status status;

  bool valid() const { return status.ok() && errors.empty(); }
};

// OK when valid. Otherwise `result.status` when a bound stopped it, else
// INVALID_ARGUMENT "<what> does not meet its schema: /a: message; /b: ..."
// listing every reported error (and how many more when truncated).
absl::Status ValidationStatus(const ValidationResult& result,
                              std::string_view what);

class JsonSchema {
 public:
  // Compiles `schema` (an object or a boolean). On failure returns
  // INVALID_ARGUMENT listing the problems ("<schema pointer>: message";
  // RESOURCE_EXHAUSTED when a limit is the problem) and, when `problems` is
  // given, appends them there one by one.
  static absl::StatusOr<std::shared_ptr<const JsonSchema>> Compile(
      const Json& schema, const SchemaLimits& limits = {},
      std::vector<SchemaProblem>* problems = nullptr);

  ~JsonSchema();
  JsonSchema(const JsonSchema&) = delete;
  JsonSchema& operator=(const JsonSchema&) = delete;

  // Validates `instance`, collecting every failure (up to max_errors).
  ValidationResult Validate(const Json& instance) const;

  // The schema as given (annotations included).
  const Json& document() const;

  // Number of compiled subschemas.
  size_t size() const;

  struct Impl;

 private:
  explicit JsonSchema(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace onewindow::manifest

#endif  // ONEWINDOW_ENGINE_MANIFEST_JSON_SCHEMA_H_
