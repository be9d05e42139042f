// Service manifest reading, checking and conversion to and from the API's
// ServiceManifest message.
#include "engine/manifest/service_manifest.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/manifest/calendar.h"
#include "engine/manifest/case_number.h"
#include "engine/manifest/json_pointer.h"

namespace onewindow::manifest {
namespace {

constexpr const char* kTopKeys =
    "title, case_prefix, deadline, calendar, input_schema, applicant_field, "
    "tasks";

std::string LanguageName(std::string_view tag) {
  if (tag == "zh-Hant") return "Chinese";
  if (tag == "pt") return "Portuguese";
  return "English";
}

bool IsDeptChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

bool IsTypeChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

std::string Brief(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 60) {
    s.resize(60);
    s.append("...");
  }
  return s;
}

class ManifestChecker {
 public:
  ManifestChecker(const LoadedDocument& doc, ManifestCheck* out)
      : doc_(doc), out_(out) {}

  void Run(ServiceManifest* m) {
    const Json& root = doc_.value;
    if (root.is_null()) {
      Warn("", "empty manifest: defaults apply");
      return;
    }
    if (!root.is_object()) {
      Error("", absl::StrCat("expected a mapping of ", kTopKeys, ", got ",
                             Brief(root)));
      return;
    }
    for (const auto& [key, value] : root.items()) {
      std::string at;
      AppendPointerToken(&at, key);
      if (key == "title") {
        Title(value, at, m);
      } else if (key == "case_prefix") {
        if (!value.is_string() ||
            !IsValidCasePrefix(value.get_ref<const std::string&>())) {
          Error(at, absl::StrCat("must be 2-4 capital letters A-Z (e.g. FL), "
                                 "got ",
                                 Brief(value)));
        } else {
          m->case_prefix = value.get<std::string>();
        }
      } else if (key == "deadline") {
        std::optional<int> days = Deadline(value, at);
        if (days.has_value()) m->deadline_working_days = *days;
      } else if (key == "calendar") {
        if (!value.is_string() ||
            !IsValidCalendarName(value.get_ref<const std::string&>())) {
          Error(at, absl::StrCat("must be a calendar name: 1-64 of a-z, 0-9 "
                                 "and '-' (e.g. macau), got ",
                                 Brief(value)));
        } else {
          m->calendar = value.get<std::string>();
        }
      } else if (key == "input_schema") {
        InputSchema(value, at, m);
      } else if (key == "applicant_field") {
        if (!value.is_string()) {
          Error(at, absl::StrCat("must be a JSON pointer such as "
                                 "/applicant/name, got ",
                                 Brief(value)));
        } else if (value.get_ref<const std::string&>().empty()) {
          Error(at, "must point into the case data, e.g. /applicant/name");
        } else if (auto parsed = ParsePointer(value.get<std::string>());
                   !parsed.ok()) {
          Error(at, std::string(parsed.status().message()));
        } else {
          m->applicant_field = value.get<std::string>();
        }
      } else if (key == "tasks") {
        Tasks(value, at, m);
      } else {
        Error(at, absl::StrCat("unknown key \"", key, "\" (expected ", kTopKeys,
                               ")"));
      }
    }
    if (!root.contains("title")) {
      Warn("", "no title: people will see the service code instead");
    }
    if (!m->applicant_field.empty() && m->input_schema.is_object()) {
      CheckApplicantDeclared(m->input_schema, m->applicant_field);
    }
  }

 private:
  void Error(const std::string& pointer, std::string message) {
    out_->errors.push_back(MakeProblem(doc_, pointer, std::move(message)));
  }
  void Warn(const std::string& pointer, std::string message) {
    out_->warnings.push_back(MakeProblem(doc_, pointer, std::move(message)));
  }

  void Title(const Json& value, const std::string& at, ServiceManifest* m) {
    if (!value.is_object()) {
      Error(at, absl::StrCat("must be a mapping of zh-Hant, pt and en titles, "
                             "got ",
                             Brief(value)));
      return;
    }
    for (const auto& [lang, text] : value.items()) {
      std::string where = at;
      AppendPointerToken(&where, lang);
      bool known = false;
      for (std::string_view tag : kTitleLanguages) known |= lang == tag;
      if (!known) {
        Error(where, absl::StrCat("unknown language \"", lang,
                                  "\" (expected zh-Hant, pt, en)"));
        continue;
      }
      if (!text.is_string() || text.get_ref<const std::string&>().empty()) {
        Error(where, absl::StrCat("must be non-empty text, got ", Brief(text)));
        continue;
      }
      size_t chars = 0;
      for (char c : text.get_ref<const std::string&>()) {
        chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      }
      if (chars > 500) {
        Error(where, absl::StrCat("longer than 500 characters (", chars, ")"));
        continue;
      }
      m->title[lang] = text.get<std::string>();
    }
    for (std::string_view tag : kTitleLanguages) {
      if (!value.contains(tag)) {
        Warn(at, absl::StrCat("no ", LanguageName(tag), " title (",
                              std::string(tag), ")"));
      }
    }
  }

  // {working_days: N}; returns N when valid.
  std::optional<int> Deadline(const Json& value, const std::string& at) {
    if (!value.is_object()) {
      Error(at, absl::StrCat("must be a mapping such as {working_days: 30}, "
                             "got ",
                             Brief(value)));
      return std::nullopt;
    }
    std::optional<int> days;
    for (const auto& [key, v] : value.items()) {
      std::string where = at;
      AppendPointerToken(&where, key);
      if (key != "working_days") {
        Error(where, absl::StrCat("unknown key \"", key,
                                  "\" (expected working_days)"));
        continue;
      }
      bool integral =
          v.is_number_integer() ||
          (v.is_number_float() &&
           v.get<double>() ==
               static_cast<double>(static_cast<int64_t>(v.get<double>())));
      double d = v.is_number() ? v.get<double>() : 0;
      if (!integral || d < 1 || d > kMaxWorkingDays) {
        Error(where, absl::StrCat("must be a whole number of working days "
                                  "from 1 to ",
                                  kMaxWorkingDays, ", got ", Brief(v)));
        continue;
      }
      days = static_cast<int>(d);
    }
    if (!value.contains("working_days")) {
      Error(at, "working_days is required");
    }
    return days;
  }

  void InputSchema(const Json& value, const std::string& at,
                   ServiceManifest* m) {
    if (!value.is_object() && !value.is_boolean()) {
      Error(at, absl::StrCat("must be a JSON Schema (an object), got ",
                             Brief(value)));
      return;
    }
    std::vector<SchemaProblem> problems;
    absl::StatusOr<std::shared_ptr<const JsonSchema>> compiled =
        JsonSchema::Compile(value, SchemaLimits{}, &problems);
    if (!compiled.ok()) {
      if (compiled.status().code() == absl::StatusCode::kResourceExhausted) {
        out_->code = absl::StatusCode::kResourceExhausted;
      }
      for (const SchemaProblem& p : problems) {
        Error(at + p.schema_pointer, p.message);
      }
      if (problems.empty()) {
        Error(at, std::string(compiled.status().message()));
      }
      return;
    }
    m->input_schema = value;
    m->compiled_schema = *std::move(compiled);
  }

  void Tasks(const Json& value, const std::string& at, ServiceManifest* m) {
    if (!value.is_object()) {
      Error(at, absl::StrCat("must be a mapping of \"DEPT/type\" to "
                             "{deadline: {working_days: N}}, got ",
                             Brief(value)));
      return;
    }
    for (const auto& [task, spec] : value.items()) {
      std::string where = at;
      AppendPointerToken(&where, task);
      std::optional<std::string> key = NormalizeTaskKey(task);
      if (!key.has_value()) {
        Error(where, absl::StrCat("\"", task,
                                  "\" is not a department task type: "
                                  "expected DEPT/type (DEPT in A-Z, 0-9, _ "
                                  "and -), e.g. IACM/hygiene-inspection"));
        continue;
      }
      if (m->task_deadline_working_days.count(*key) > 0) {
        Error(where, absl::StrCat("task type ", *key, " is listed twice"));
        continue;
      }
      if (!spec.is_object()) {
        Error(where, absl::StrCat("must be a mapping such as {deadline: "
                                  "{working_days: 10}}, got ",
                                  Brief(spec)));
        continue;
      }
      for (const auto& [field, v] : spec.items()) {
        std::string field_at = where;
        AppendPointerToken(&field_at, field);
        if (field != "deadline") {
          Error(field_at, absl::StrCat("unknown key \"", field,
                                       "\" (expected deadline)"));
          continue;
        }
        std::optional<int> days = Deadline(v, field_at);
        if (days.has_value()) m->task_deadline_working_days[*key] = *days;
      }
      if (!spec.contains("deadline")) Error(where, "deadline is required");
    }
  }

  // Warns when the pointer names a member input_schema's "properties" do
  // not declare (following plain properties only).
  void CheckApplicantDeclared(const Json& schema, const std::string& pointer) {
    absl::StatusOr<std::vector<std::string>> tokens = ParsePointer(pointer);
    if (!tokens.ok()) return;
    const Json* at = &schema;
    for (const std::string& token : *tokens) {
      if (!at->is_object()) return;
      auto props = at->find("properties");
      if (props == at->end() || !props->is_object()) return;
      auto next = props->find(token);
      if (next == props->end()) {
        Warn("/applicant_field",
             absl::StrCat("input_schema does not declare ", pointer,
                          " (no property \"", token, "\")"));
        return;
      }
      at = &*next;
    }
  }

  const LoadedDocument& doc_;
  ManifestCheck* out_;
};

}  // namespace

std::optional<std::string> NormalizeTaskKey(std::string_view task) {
  constexpr std::string_view kScheme = "dept:";
  std::string_view rest = task;
  if (rest.substr(0, kScheme.size()) == kScheme) {
    rest.remove_prefix(kScheme.size());
  } else if (size_t at = rest.rfind(":dept:"); at != std::string_view::npos) {
    rest.remove_prefix(at + 1 + kScheme.size());
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 ||
      slash + 1 == rest.size() || rest.size() > 200) {
    return std::nullopt;
  }
  for (char c : rest.substr(0, slash)) {
    if (!IsDeptChar(c)) return std::nullopt;
  }
  for (char c : rest.substr(slash + 1)) {
    if (!IsTypeChar(c)) return std::nullopt;
  }
  return std::string(rest);
}

std::optional<int> ServiceManifest::TaskDeadline(std::string_view task) const {
  std::optional<std::string> key = NormalizeTaskKey(task);
  if (!key.has_value()) return std::nullopt;
  auto it = task_deadline_working_days.find(*key);
  if (it == task_deadline_working_days.end()) return std::nullopt;
  return it->second;
}

absl::Status ServiceManifest::CheckCaseData(const Json& data) const {
  if (compiled_schema == nullptr) return absl::OkStatus();
  return ValidationStatus(compiled_schema->Validate(data), "case data");
}

ManifestCheck CheckServiceManifest(std::string_view text) {
  ManifestCheck out;
  LoadLimits limits;
  limits.max_bytes = kMaxManifestBytes;
  limits.max_depth = kMaxManifestDepth;
  absl::StatusOr<LoadedDocument> doc = LoadDocument(text, limits);
  if (!doc.ok()) {
    Problem p;
    p.message = std::string(doc.status().message());
    out.errors.push_back(std::move(p));
    out.code = doc.status().code();
    return out;
  }
  ServiceManifest m;
  m.source = std::string(text);
  ManifestChecker checker(*doc, &out);
  checker.Run(&m);
  if (out.errors.empty()) {
    out.manifest = std::move(m);
  } else if (out.code == absl::StatusCode::kOk) {
    out.code = absl::StatusCode::kInvalidArgument;
  }
  return out;
}

absl::StatusOr<ServiceManifest> ParseServiceManifest(std::string_view text) {
  ManifestCheck check = CheckServiceManifest(text);
  if (check.manifest.has_value()) return *std::move(check.manifest);
  return absl::Status(check.code, absl::StrCat("service manifest: ",
                                               JoinProblems(check.errors)));
}

void ToProto(const ServiceManifest& manifest, v1::ServiceManifest* out) {
  out->Clear();
  for (const auto& [lang, text] : manifest.title) {
    (*out->mutable_title())[lang] = text;
  }
  out->set_case_prefix(manifest.case_prefix);
  out->set_deadline_working_days(manifest.deadline_working_days);
  out->set_calendar(manifest.calendar);
  if (!manifest.input_schema.is_null()) {
    out->set_input_schema_json(manifest.input_schema.dump(
        -1, ' ', false, Json::error_handler_t::replace));
  }
  for (const auto& [task, days] : manifest.task_deadline_working_days) {
    (*out->mutable_task_deadline_working_days())[task] = days;
  }
  out->set_applicant_field(manifest.applicant_field);
  out->set_source(manifest.source);
}

absl::StatusOr<ServiceManifest> ServiceManifestFromProto(
    const v1::ServiceManifest& proto) {
  if (!proto.source().empty()) return ParseServiceManifest(proto.source());
  // No source: rebuild a manifest text from the fields and check it the same
  // way, so both paths enforce the same rules.
  Json doc = Json::object();
  if (!proto.title().empty()) {
    Json title = Json::object();
    for (const auto& [lang, text] : proto.title()) title[lang] = text;
    doc["title"] = std::move(title);
  }
  if (!proto.case_prefix().empty()) doc["case_prefix"] = proto.case_prefix();
  if (proto.deadline_working_days() != 0) {
    doc["deadline"] = {{"working_days", proto.deadline_working_days()}};
  }
  if (!proto.calendar().empty()) doc["calendar"] = proto.calendar();
  if (proto.input_schema_json().size() > kMaxManifestBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("service manifest: input_schema_json is ",
                     proto.input_schema_json().size(), " bytes; the limit is ",
                     kMaxManifestBytes));
  }
  if (!proto.input_schema_json().empty()) {
    Json schema = Json::parse(proto.input_schema_json(), nullptr, false);
    if (schema.is_discarded()) {
      return absl::InvalidArgumentError(
          "service manifest: input_schema_json is not valid JSON");
    }
    doc["input_schema"] = std::move(schema);
  }
  if (!proto.applicant_field().empty()) {
    doc["applicant_field"] = proto.applicant_field();
  }
  if (!proto.task_deadline_working_days().empty()) {
    Json tasks = Json::object();
    for (const auto& [task, days] : proto.task_deadline_working_days()) {
      tasks[task] = {{"deadline", {{"working_days", days}}}};
    }
    doc["tasks"] = std::move(tasks);
  }
  absl::StatusOr<ServiceManifest> m = ParseServiceManifest(doc.dump());
  if (m.ok()) m->source.clear();
  return m;
}

}  // namespace onewindow::manifest
