// Service manifests (NAME.service.yaml): what a service declares beside its
// workflow definition - titles, case number prefix, statutory deadline,
// calendar, the JSON Schema its case data must meet, the applicant field
// used for search, and per-task deadlines.
//
//   title: {zh-Hant: 飲食場所牌照, pt: Licença ..., en: Food establishment
//   licence} case_prefix: FL                   # 2-4 capital letters; default
//   OW deadline: {working_days: 30}      # 1..3650, counted from submission
//   calendar: macau                   # NAME.yaml in the calendar dir
//   input_schema: {type: object, ...} # JSON Schema 2020-12
//   applicant_field: /applicant/name  # JSON pointer into the case data
//   tasks:
//     IACM/hygiene-inspection: {deadline: {working_days: 10}}
//
// Every field is optional. YAML or JSON text; unknown keys and wrong types
// are errors naming the key and its line; a missing title language is a
// warning. engine/manifest/schema/service.schema.json describes the same
// format for editors. ServiceManifest is an immutable value once built
// (the compiled schema is shared and thread-safe).
#ifndef ONEWINDOW_ENGINE_MANIFEST_SERVICE_MANIFEST_H_
#define ONEWINDOW_ENGINE_MANIFEST_SERVICE_MANIFEST_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/manifest/document.h"
#include "engine/manifest/json_schema.h"
#include "nlohmann/json.hpp"
#include "onewindow/v1/workflows.pb.h"

namespace onewindow::manifest {

// Largest manifest text, in bytes.
inline constexpr size_t kMaxManifestBytes = 256 * 1024;
// Deepest nesting in a manifest (its input_schema included).
inline constexpr int kMaxManifestDepth = 64;
// Title languages: Traditional Chinese, Portuguese, English.
inline constexpr std::string_view kTitleLanguages[] = {"zh-Hant", "pt", "en"};

struct ServiceManifest {
  // Language tag -> title.
  std::map<std::string, std::string> title;
  std::string case_prefix = "OW";
  // Statutory deadline in working days; 0 = none.
  int deadline_working_days = 0;
  // Calendar name; empty = the default calendar (Sat/Sun off, no holidays).
  std::string calendar;
  // The input schema as written; null = none (any data is accepted).
  Json input_schema;
  // input_schema compiled; null when there is none.
  std::shared_ptr<const JsonSchema> compiled_schema;
  // JSON pointer of the applicant's name in the case data; empty = none.
  std::string applicant_field;
  // "DEPT/type" -> working-day limit for tasks of that type.
  std::map<std::string, int> task_deadline_working_days;
  // The text this manifest was read from (empty when built otherwise).
  std::string source;

  // The deadline for tasks of `task` ("DEPT/type", or a Task resource such
  // as "dept:DEPT/type"); nullopt when the manifest sets none.
  std::optional<int> TaskDeadline(std::string_view task) const;

  // Validates case data against input_schema: OK without a schema; else
  // INVALID_ARGUMENT listing every failing field by JSON pointer (or
  // RESOURCE_EXHAUSTED when a validation bound was hit).
  absl::Status CheckCaseData(const Json& data) const;
};

struct ManifestCheck {
  // Set when there are no errors.
  std::optional<ServiceManifest> manifest;
  std::vector<Problem> errors;
  std::vector<Problem> warnings;
  // What the errors amount to: OK, INVALID_ARGUMENT, or RESOURCE_EXHAUSTED
  // when a size or depth limit was hit.
  absl::StatusCode code = absl::StatusCode::kOk;
};

// Reads and checks a manifest, returning every error and warning. Empty
// text gives the defaults.
ManifestCheck CheckServiceManifest(std::string_view text);

// The same, as a status: the errors joined, prefixed "service manifest: ".
// Warnings are dropped.
absl::StatusOr<ServiceManifest> ParseServiceManifest(std::string_view text);

// Fills `out` (every field; defaults included: case_prefix "OW").
void ToProto(const ServiceManifest& manifest, v1::ServiceManifest* out);

// Rebuilds a manifest from its stored form: from `source` when set (the
// deployed text), else from the fields. INVALID_ARGUMENT when invalid.
absl::StatusOr<ServiceManifest> ServiceManifestFromProto(
    const v1::ServiceManifest& proto);

// "DEPT/type" from "DEPT/type" or a resource "dept:DEPT/type" (or
// "...:dept:DEPT/type"); nullopt when it is neither. DEPT is [A-Z0-9_-]+,
// type [A-Za-z0-9_.-]+.
std::optional<std::string> NormalizeTaskKey(std::string_view task);

}  // namespace onewindow::manifest

#endif  // ONEWINDOW_ENGINE_MANIFEST_SERVICE_MANIFEST_H_
