// Static validation of ASL definitions (JSONPath query language).
//
// One pass over the document checks each machine (the top level, Parallel
// branches, Map item processors) and each state against the Amazon States
// Language specification (states-language.net), collecting every problem
// with its location instead of stopping at the first. Path syntax comes from
// expr.h (the evaluator's own parsers), as do timestamp literals, so a path
// or timestamp that validates also evaluates. Intrinsic function calls go
// through the evaluator's parser and its function table: syntax, known
// function names, arity and the types of literal arguments.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/asl/definition.h"
#include "engine/asl/expr.h"
#include "engine/asl/intrinsics.h"
#include "engine/asl/json_parse.h"
#include "engine/asl/json_path.h"
#include "engine/asl/limits.h"
#include "nlohmann/json.hpp"

namespace onewindow::asl {
namespace {

constexpr size_t kMaxStateNameLength = 80;
constexpr int64_t kMaxSeconds = 99999999;

// What a state (or machine) may contain, by field name.
using FieldSet = std::set<std::string_view>;

const FieldSet& CommonFields(std::string_view type) {
  static const auto* kFields = new std::map<std::string_view, FieldSet>{
      {"Pass",
       {"Type", "Comment", "InputPath", "OutputPath", "Parameters", "Result",
        "ResultPath", "Next", "End"}},
      {"Task",
       {"Type", "Comment", "InputPath", "OutputPath", "Parameters",
        "ResultSelector", "ResultPath", "Retry", "Catch", "Next", "End",
        "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds",
        "HeartbeatSecondsPath", "Credentials"}},
      {"Choice",
       {"Type", "Comment", "InputPath", "OutputPath", "Choices", "Default"}},
      {"Wait",
       {"Type", "Comment", "InputPath", "OutputPath", "Next", "End", "Seconds",
        "Timestamp", "SecondsPath", "TimestampPath"}},
      {"Succeed", {"Type", "Comment", "InputPath", "OutputPath"}},
      {"Fail", {"Type", "Comment", "Error", "ErrorPath", "Cause", "CausePath"}},
      {"Parallel",
       {"Type", "Comment", "InputPath", "OutputPath", "Parameters",
        "ResultSelector", "ResultPath", "Retry", "Catch", "Next", "End",
        "Branches"}},
      {"Map",
       {"Type",
        "Comment",
        "InputPath",
        "OutputPath",
        "Parameters",
        "ResultSelector",
        "ResultPath",
        "Retry",
        "Catch",
        "Next",
        "End",
        "ItemProcessor",
        "Iterator",
        "ItemsPath",
        "ItemSelector",
        "MaxConcurrency",
        "MaxConcurrencyPath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "Label"}},
  };
  static const FieldSet kEmpty;
  auto it = kFields->find(type);
  return it == kFields->end() ? kEmpty : it->second;
}

// Fields that belong to the JSONata query language.
bool IsJsonataOnlyField(std::string_view field) {
  return field == "Arguments" || field == "Output" || field == "Items" ||
         field == "Condition";
}

// Fields that belong to the JSONPath query language.
bool IsJsonPathOnlyField(std::string_view field) {
  return field == "InputPath" || field == "OutputPath" ||
         field == "Parameters" || field == "ResultSelector" ||
         field == "ResultPath" || field == "Result" || field == "ItemsPath" ||
         field == "Iterator" ||
         (field.size() > 4 && field.ends_with("Path"));
}

// The fields of each state type in the JSONata query language.
const FieldSet& JsonataFields(std::string_view type) {
  static const auto* kFields = new std::map<std::string_view, FieldSet>{
      {"Pass", {"Type", "Comment", "Output", "Assign", "Next", "End"}},
      {"Task",
       {"Type", "Comment", "Arguments", "Output", "Assign", "Retry", "Catch",
        "Next", "End", "Resource", "TimeoutSeconds", "HeartbeatSeconds",
        "Credentials"}},
      {"Choice",
       {"Type", "Comment", "Choices", "Default", "Output", "Assign"}},
      {"Wait",
       {"Type", "Comment", "Output", "Assign", "Next", "End", "Seconds",
        "Timestamp"}},
      {"Succeed", {"Type", "Comment", "Output"}},
      {"Fail", {"Type", "Comment", "Error", "Cause"}},
      {"Parallel",
       {"Type", "Comment", "Arguments", "Output", "Assign", "Retry", "Catch",
        "Next", "End", "Branches"}},
      {"Map",
       {"Type", "Comment", "Output", "Assign", "Retry", "Catch", "Next",
        "End", "ItemProcessor", "Items", "ItemSelector", "MaxConcurrency",
        "ToleratedFailureCount", "ToleratedFailurePercentage", "ItemReader",
        "ItemBatcher", "ResultWriter", "Label"}},
  };
  static const FieldSet kEmpty;
  auto it = kFields->find(type);
  return it == kFields->end() ? kEmpty : it->second;
}

// State types whose JSONPath form accepts Assign.
bool AssignsVariables(std::string_view type) {
  return type != "Succeed" && type != "Fail";
}

// Choice comparison operators and the JSON type of their operand.
enum class Operand { kString, kNumber, kBoolean, kTimestamp, kPath };

const std::map<std::string, Operand, std::less<>>& ComparisonOperators() {
  static const auto* kOps = [] {
    auto* ops = new std::map<std::string, Operand, std::less<>>();
    auto add = [&](std::string name, Operand operand) {
      ops->emplace(name + "Path", Operand::kPath);
      ops->emplace(std::move(name), operand);
    };
    for (const char* cmp : {"Equals", "LessThan", "GreaterThan",
                            "LessThanEquals", "GreaterThanEquals"}) {
      add(absl::StrCat("String", cmp), Operand::kString);
      add(absl::StrCat("Numeric", cmp), Operand::kNumber);
      add(absl::StrCat("Timestamp", cmp), Operand::kTimestamp);
    }
    add("BooleanEquals", Operand::kBoolean);
    ops->emplace("StringMatches", Operand::kString);
    for (const char* op : {"IsNull", "IsPresent", "IsNumeric", "IsString",
                           "IsBoolean", "IsTimestamp"}) {
      ops->emplace(op, Operand::kBoolean);
    }
    return ops;
  }();
  return *kOps;
}

bool IsInteger(const Json& v) {
  if (v.is_number_integer()) return true;
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15;
  }
  return false;
}

int64_t AsInt(const Json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    return u > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX
                                                : static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  return static_cast<int64_t>(v.get<double>());
}

std::string TypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "a number";
    default:
      return "an unsupported value";
  }
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// A path as used in templates, InputPath etc.; "$$..." addresses the context
// object and is checked as the same path applied to "$".
// Why `path` is not acceptable (empty when it is), in words for a hint.
std::string PathProblem(std::string_view path, bool allow_context,
                        const Limits& limits, bool reference = false) {
  if (path.substr(0, 2) == "$$") {
    if (!allow_context) return "the context object ($$) cannot be used here";
    path.remove_prefix(1);
  }
  auto parsed = internal::ParseJsonPath(path, /*allow_current=*/false, limits);
  if (!parsed.ok()) {
    std::string why(parsed.status().message());
    // "invalid JSONPath '...': <what> at position N" -> "<what> at ..."
    size_t colon = why.find("': ");
    if (why.rfind("invalid JSONPath", 0) == 0 && colon != std::string::npos) {
      why.erase(0, colon + 3);
    }
    return why;
  }
  if (reference && !(*parsed)->reference) {
    return "a reference path names one value: only .name and [index] "
           "steps, no wildcards, slices, filters or '..'";
  }
  return std::string();
}

// An intrinsic call, parsed by the evaluator's parser and checked against
// the same function table (arity, literal argument kinds). Path arguments
// are checked only for shape (a '$' and balanced brackets, parentheses and
// quotes): definitions in the wild use forms such as "$field" that tools
// accept; a path that does not resolve fails the call at run time.
bool IntrinsicOk(std::string_view text, const Limits& limits,
                 std::string* why) {
  auto call = internal::ParseIntrinsic(text, limits, /*lenient_paths=*/true);
  absl::Status status =
      call.ok() ? internal::CheckIntrinsicSignature(*call) : call.status();
  if (status.ok()) return true;
  std::string message(status.message());
  // The parser names the whole call; the validator's message already does.
  std::string prefix =
      absl::StrCat("invalid intrinsic function '", std::string(text), "': ");
  if (message.rfind(prefix, 0) == 0) message.erase(0, prefix.size());
  *why = std::move(message);
  return false;
}

bool IsIntrinsicCall(std::string_view text) {
  size_t i = text.find_first_not_of(" \t");
  return i != std::string_view::npos && text.substr(i, 7) == "States.";
}

// Levenshtein distance, ignoring ASCII case (a case slip counts as nothing
// only when it is the sole difference: ties go to the exact spelling).
size_t EditDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = up;
    }
  }
  return row[b.size()];
}

// The candidate closest to `name` when it is close enough to be a likely
// typo (or the same but for case); empty otherwise.
template <typename Names>
std::string Nearest(std::string_view name, const Names& candidates) {
  if (name.size() > 200) return std::string();
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& candidate : candidates) {
    std::string_view c(candidate);
    if (c == name || c.size() > 200) continue;
    size_t d = EditDistance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(c);
    }
  }
  size_t allowed = std::max<size_t>(2, name.size() / 3);
  if (best.empty() || best_distance > allowed) return std::string();
  return best;
}

std::string DidYouMean(std::string_view name, const std::string& nearest) {
  if (nearest.empty()) return std::string();
  return absl::StrCat("did you mean \"", nearest, "\"?");
}

constexpr char kDeptResourceHint[] =
    "a department task is written dept:<DEPT>/<task-type>, e.g. "
    "dept:DSF/tax-check (DEPT in capitals, digits, '_' or '-')";

// A resource that looks like a department task written another way
// ("DSF/check", "dept:dsf/check", "dept/DSF/check"): the form meant.
std::string DeptResourceGuess(std::string_view s) {
  std::string_view rest = s;
  if (rest.rfind("dept:", 0) == 0) {
    rest.remove_prefix(5);
  } else if (rest.rfind("dept/", 0) == 0) {
    rest.remove_prefix(5);
  } else if (rest.find(':') != std::string_view::npos) {
    return std::string();
  }
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 ||
      slash + 1 >= rest.size()) {
    return std::string();
  }
  std::string dept(rest.substr(0, slash));
  for (char& c : dept) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  std::string guess =
      absl::StrCat("dept:", dept, "/", std::string(rest.substr(slash + 1)));
  if (!ParseDeptResource(guess, nullptr, nullptr) || guess == s) {
    return std::string();
  }
  return guess;
}

// ---------------------------------------------------------------------------

class Validator {
 public:
  Validator(const LoadedSource& source, const Limits& limits)
      : source_(source), limits_(limits) {}

  // Checks the whole definition; Finish() gives what was found.
  void Run() {
    const Json& doc = source_.doc;
    if (!doc.is_object()) {
      Error("$", absl::StrCat("a definition must be a JSON object, not ",
                              TypeName(doc)));
      return;
    }
    static const FieldSet kTopFields = {"Comment",        "StartAt",
                                        "States",         "Version",
                                        "TimeoutSeconds", "QueryLanguage"};
    for (const auto& [key, value] : doc.items()) {
      std::string path = LocationMember("$", key);
      if (key == "Comment" || key == "Version") {
        ExpectString(value, path);
      } else if (key == "TimeoutSeconds") {
        ExpectSeconds(value, path, /*min=*/1);
      } else if (key == "QueryLanguage") {
        CheckQueryLanguage(value, path);
        jsonata_default_ = value.is_string() && value == "JSONata";
      } else if (!kTopFields.count(key)) {
        UnknownField(key, path, "the top level of a definition", &kTopFields);
      }
    }
    ValidateMachine(doc, "$", /*processor=*/false, 0);
  }

 private:
  void Error(std::string path, std::string message, std::string hint = {}) {
    ValidationError e;
    // Messages quote what the definition says, which may be huge.
    path = ElideMiddle(path, kMaxMessageBytes);
    message = ElideMiddle(message, kMaxMessageBytes);
    hint = ElideMiddle(hint, kMaxMessageBytes);
    e.path = std::move(path);
    e.message = std::move(message);
    e.hint = std::move(hint);
    errors_.push_back(std::move(e));
  }

 public:
  void Warning(std::string path, std::string message, std::string hint) {
    ValidationError e;
    // Messages quote what the definition says, which may be huge.
    path = ElideMiddle(path, kMaxMessageBytes);
    message = ElideMiddle(message, kMaxMessageBytes);
    hint = ElideMiddle(hint, kMaxMessageBytes);
    e.path = std::move(path);
    e.message = std::move(message);
    e.hint = std::move(hint);
    e.severity = Severity::kWarning;
    errors_.push_back(std::move(e));
  }

  // Fills in source positions and orders the problems by position (those
  // without a known position keep their traversal order).
  std::vector<ValidationError> Finish() {
    for (ValidationError& e : errors_) PositionOf(e.path, &e.line, &e.column);
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ValidationError& a, const ValidationError& b) {
                       return std::tie(a.line, a.column) <
                              std::tie(b.line, b.column);
                     });
    return std::move(errors_);
  }

 private:
  // The position of `path`, or of its nearest ancestor that has one.
  void PositionOf(const std::string& path, int* line, int* column) const {
    *line = 0;
    *column = 0;
    if (source_.lines.empty()) return;
    std::string p = path;
    while (!p.empty()) {
      auto it = source_.lines.find(p);
      if (it != source_.lines.end()) {
        *line = it->second;
        auto col = source_.columns.find(p);
        if (col != source_.columns.end()) *column = col->second;
        return;
      }
      size_t cut = p.find_last_of(".[");
      if (cut == std::string::npos || cut == 0) break;
      p.resize(cut);
    }
    auto root = source_.lines.find("$");
    if (root == source_.lines.end()) return;
    *line = root->second;
    auto col = source_.columns.find("$");
    if (col != source_.columns.end()) *column = col->second;
  }

  // `allowed`: the fields the place accepts, for the hint.
  void UnknownField(const std::string& key, const std::string& path,
                    const std::string& where, const FieldSet* allowed = nullptr,
                    bool list = true) {
    if (IsJsonataOnlyField(key)) {
      Error(path, absl::StrCat("field \"", key,
                               "\" belongs to the JSONata query language; "
                               "this state uses JSONPath"),
            "set \"QueryLanguage\": \"JSONata\" on the state or the "
            "definition");
    } else {
      std::string hint;
      if (allowed != nullptr) {
        hint = DidYouMean(key, Nearest(key, *allowed));
        if (list) {
          std::vector<std::string> names(allowed->begin(), allowed->end());
          std::string sentence =
              absl::StrCat(where, " allows: ", absl::StrJoin(names, ", "));
          sentence[0] = static_cast<char>(
              std::toupper(static_cast<unsigned char>(sentence[0])));
          absl::StrAppend(&hint, hint.empty() ? "" : " ", sentence);
        }
      }
      Error(path, absl::StrCat("unknown field \"", key, "\" in ", where),
            std::move(hint));
    }
  }

  void CheckQueryLanguage(const Json& value, const std::string& path) {
    if (!value.is_string()) {
      Error(path, absl::StrCat("QueryLanguage must be a string, not ",
                               TypeName(value)));
    } else if (value != "JSONPath" && value != "JSONata") {
      Error(path, absl::StrCat(
                      "QueryLanguage must be \"JSONPath\" or \"JSONata\", "
                      "not \"",
                      value.get<std::string>(), "\""));
    }
  }

  bool ExpectString(const Json& value, const std::string& path) {
    if (value.is_string()) return true;
    Error(path, absl::StrCat("must be a string, not ", TypeName(value)));
    return false;
  }

  bool ExpectNonEmptyString(const Json& value, const std::string& path) {
    if (!ExpectString(value, path)) return false;
    if (!value.get_ref<const std::string&>().empty()) return true;
    Error(path, "must not be empty");
    return false;
  }

  bool ExpectSeconds(const Json& value, const std::string& path, int64_t min) {
    if (!IsInteger(value)) {
      Error(path, absl::StrCat("must be an integer, not ", TypeName(value)));
      return false;
    }
    int64_t v = AsInt(value);
    if (v < min || v > kMaxSeconds) {
      Error(path, absl::StrCat("must be between ", min, " and ", kMaxSeconds,
                               ", got ", value.dump()));
      return false;
    }
    return true;
  }

  void ExpectNonNegativeInt(const Json& value, const std::string& path) {
    if (!IsInteger(value)) {
      Error(path, absl::StrCat("must be an integer, not ", TypeName(value)));
    } else if (AsInt(value) < 0) {
      Error(path, absl::StrCat("must not be negative, got ", value.dump()));
    }
  }

  // Path fields that may read the context object: InputPath, ItemsPath...
  void ExpectPath(const Json& value, const std::string& path, bool allow_null) {
    if (value.is_null() && allow_null) return;
    if (!value.is_string()) {
      Error(path,
            absl::StrCat("must be a path string", allow_null ? " or null" : "",
                         ", not ", TypeName(value)));
      return;
    }
    const std::string& s = value.get_ref<const std::string&>();
    if (std::string why = PathProblem(s, true, limits_); !why.empty()) {
      Error(path, absl::StrCat("\"", s, "\" is not a valid path"), why);
    }
  }

  // *Path fields naming a single value (Reference Paths).
  void ExpectReferencePath(const Json& value, const std::string& path) {
    if (!value.is_string()) {
      Error(path, absl::StrCat("must be a reference path string, not ",
                               TypeName(value)));
      return;
    }
    const std::string& s = value.get_ref<const std::string&>();
    if (std::string why = PathProblem(s, true, limits_, true); !why.empty()) {
      Error(path, absl::StrCat("\"", s, "\" is not a valid reference path"),
            why);
    }
  }

  void ExpectResultPath(const Json& value, const std::string& path) {
    if (value.is_null()) return;
    if (!value.is_string()) {
      Error(path, absl::StrCat("ResultPath must be a reference path or null, "
                               "not ",
                               TypeName(value)));
      return;
    }
    const std::string& s = value.get_ref<const std::string&>();
    if (s.substr(0, 2) == "$$") {
      Error(path, "ResultPath cannot write to the context object ($$)");
    } else if (s.size() > 1 && s[0] == '$' &&
               (std::isalpha(static_cast<unsigned char>(s[1])) ||
                s[1] == '_')) {
      Error(path, absl::StrCat("ResultPath \"", s,
                               "\" cannot write to a variable; use Assign"));
    } else if (std::string why = PathProblem(s, false, limits_, true);
               !why.empty()) {
      Error(path, absl::StrCat("\"", s, "\" is not a valid reference path"),
            why);
    }
  }

  // A path or an intrinsic function call (".$" values, ErrorPath...).
  void ExpectPathOrIntrinsic(const Json& value, const std::string& path) {
    if (!value.is_string()) {
      Error(path, absl::StrCat("must be a path or intrinsic function call "
                               "string, not ",
                               TypeName(value)));
      return;
    }
    const std::string& s = value.get_ref<const std::string&>();
    if (IsIntrinsicCall(s)) {
      std::string why;
      if (!IntrinsicOk(s, limits_, &why)) {
        Error(path, absl::StrCat("invalid intrinsic function call \"", s,
                                 "\": ", why));
      }
    } else if (std::string why = PathProblem(s, true, limits_); !why.empty()) {
      Error(path,
            absl::StrCat("\"", s,
                         "\" is neither a valid path nor an intrinsic "
                         "function call"),
            s.starts_with("$") ? why
                               : std::string("a path starts with '$' ($ the "
                                             "input, $$ the context object); "
                                             "an intrinsic call with "
                                             "'States.'"));
    }
  }

  // Payload templates: Parameters, ResultSelector, ItemSelector, Credentials.
  void ValidateTemplate(const Json& value, const std::string& path,
                        int depth = 0) {
    if (depth > limits_.max_json_depth) return;
    if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        ValidateTemplate(value[i], LocationIndex(path, i), depth + 1);
      }
      return;
    }
    if (!value.is_object()) return;
    for (const auto& [key, field] : value.items()) {
      std::string child = LocationMember(path, key);
      if (key.size() >= 2 && key.compare(key.size() - 2, 2, ".$") == 0) {
        std::string plain = key.substr(0, key.size() - 2);
        if (value.contains(plain)) {
          Error(child,
                absl::StrCat("field \"", plain, "\" is given twice: as \"",
                             plain, "\" and as \"", key, "\""));
        }
        ExpectPathOrIntrinsic(field, child);
      } else {
        ValidateTemplate(field, child, depth + 1);
      }
    }
  }

  void ValidateObjectTemplate(const Json& value, const std::string& path,
                              const std::string& field) {
    if (!value.is_object()) {
      Error(path,
            absl::StrCat(field, " must be an object, not ", TypeName(value)));
      return;
    }
    ValidateTemplate(value, path);
  }

  // ---- machines ---------------------------------------------------------

  struct MachineInfo {
    std::string path;
    const Json* states = nullptr;
    // Transitions to check once all states are known: (path, target).
    std::vector<std::pair<std::string, std::string>> targets;
    std::map<std::string, std::vector<std::string>> edges;
    std::set<std::string> terminal;
  };

  void ValidateMachine(const Json& machine, const std::string& path,
                       bool processor, int depth) {
    if (depth > limits_.max_machine_depth) {
      Error(path, LimitMessage(kLimitMachineDepth, limits_.max_machine_depth));
      return;
    }
    machine_depth_ = depth;
    if (!machine.is_object()) {
      Error(path, absl::StrCat("a state machine must be an object with "
                               "StartAt and States, not ",
                               TypeName(machine)));
      return;
    }
    if (path != "$") {
      for (const auto& [key, value] : machine.items()) {
        std::string child = LocationMember(path, key);
        if (key == "StartAt" || key == "States") continue;
        if (key == "Comment") {
          ExpectString(value, child);
        } else if (key == "ProcessorConfig" && processor) {
          ValidateProcessorConfig(value, child);
        } else if (key == "QueryLanguage") {
          CheckQueryLanguage(value, child);
        } else {
          UnknownField(key, child,
                       processor ? "a Map item processor" : "a branch");
        }
      }
    }
    MachineInfo info;
    info.path = path;
    const Json* start = nullptr;
    if (auto it = machine.find("StartAt"); it == machine.end()) {
      Error(path, "missing required field \"StartAt\"");
    } else if (ExpectNonEmptyString(*it, LocationMember(path, "StartAt"))) {
      start = &*it;
    }
    std::string states_path = LocationMember(path, "States");
    auto states = machine.find("States");
    if (states == machine.end()) {
      Error(path, "missing required field \"States\"");
      return;
    }
    if (!states->is_object()) {
      Error(states_path,
            absl::StrCat("States must be an object, not ", TypeName(*states)));
      return;
    }
    if (states->empty()) {
      Error(states_path, "States must contain at least one state");
      return;
    }
    info.states = &*states;
    for (const auto& [name, state] : states->items()) {
      if (++state_count_ > limits_.max_states) {
        if (state_count_ == limits_.max_states + 1) {
          Error(LocationMember(states_path, name),
                LimitMessage(kLimitStates, limits_.max_states));
        }
        return;
      }
      machine_depth_ = depth;
      ValidateState(name, state, LocationMember(states_path, name), &info);
    }
    // Transition targets.
    std::vector<std::string> names;
    for (const auto& [name, state] : states->items()) names.push_back(name);
    auto near = [&](const std::string& target) {
      return DidYouMean(target, Nearest(target, names));
    };
    for (const auto& [where, target] : info.targets) {
      if (states->contains(target)) continue;
      auto elsewhere = all_states_.find(target);
      if (elsewhere != all_states_.end()) {
        Error(where,
              absl::StrCat("\"", target,
                           "\" is not a state of this state machine (it is "
                           "defined at ",
                           elsewhere->second,
                           "); transitions cannot cross into or out of "
                           "Parallel branches and Map processors"));
      } else {
        Error(where, absl::StrCat("there is no state named \"", target, "\""),
              near(target));
      }
    }
    if (start == nullptr) return;
    const std::string& start_name = start->get_ref<const std::string&>();
    if (!states->contains(start_name)) {
      Error(LocationMember(path, "StartAt"),
            absl::StrCat("StartAt names \"", start_name,
                         "\", which is not a state of this state machine"),
            near(start_name));
      return;
    }
    // Reachability from StartAt.
    std::set<std::string> reached = {start_name};
    std::vector<std::string> work = {start_name};
    while (!work.empty()) {
      std::string name = std::move(work.back());
      work.pop_back();
      for (const std::string& next : info.edges[name]) {
        if (states->contains(next) && reached.insert(next).second) {
          work.push_back(next);
        }
      }
    }
    bool reachable_terminal = false;
    for (const auto& [name, state] : states->items()) {
      if (!reached.count(name)) {
        Error(
            LocationMember(states_path, name),
            absl::StrCat("state \"", name, "\" is unreachable from StartAt \"",
                         start_name, "\""),
            "no Next, Default, Choices rule or Catch leads to it: add a "
            "transition to it or remove it");
      } else if (info.terminal.count(name)) {
        reachable_terminal = true;
      }
    }
    if (!reachable_terminal) {
      Error(states_path,
            "state machine has no terminal state reachable from StartAt "
            "(a state with \"End\": true, a Succeed or a Fail state)");
    }
  }

  void ValidateProcessorConfig(const Json& value, const std::string& path) {
    if (!value.is_object()) {
      Error(path, absl::StrCat("ProcessorConfig must be an object, not ",
                               TypeName(value)));
      return;
    }
    for (const auto& [key, field] : value.items()) {
      std::string child = LocationMember(path, key);
      if (key == "Mode") {
        if (field != "INLINE" && field != "DISTRIBUTED") {
          Error(child, "Mode must be \"INLINE\" or \"DISTRIBUTED\"");
        }
      } else if (key == "ExecutionType") {
        if (field != "STANDARD" && field != "EXPRESS") {
          Error(child, "ExecutionType must be \"STANDARD\" or \"EXPRESS\"");
        }
      } else {
        UnknownField(key, child, "ProcessorConfig");
      }
    }
  }

  // ---- states -----------------------------------------------------------

  void ValidateState(const std::string& name, const Json& state,
                     const std::string& path, MachineInfo* machine) {
    if (name.empty()) {
      Error(path, "state names must not be empty");
    } else if (Utf8Length(name) > kMaxStateNameLength) {
      Error(path, absl::StrCat(
                      "state name \"", name, "\" is ", Utf8Length(name),
                      " characters long; the limit is ", kMaxStateNameLength));
    }
    auto [previous, inserted] = all_states_.emplace(name, path);
    if (!inserted) {
      Error(path, absl::StrCat("duplicate state name \"", name,
                               "\" (also defined at ", previous->second,
                               "); state names must be unique across the "
                               "whole definition, including Parallel "
                               "branches and Map processors"));
    }
    if (!state.is_object()) {
      Error(path,
            absl::StrCat("a state must be an object, not ", TypeName(state)));
      return;
    }
    auto type_it = state.find("Type");
    if (type_it == state.end()) {
      Error(path, "missing required field \"Type\"");
      return;
    }
    std::string type_path = LocationMember(path, "Type");
    if (!ExpectString(*type_it, type_path)) return;
    const std::string& type = type_it->get_ref<const std::string&>();
    const FieldSet& allowed = CommonFields(type);
    if (allowed.empty()) {
      Error(type_path,
            absl::StrCat("unknown state type \"", type,
                         "\"; expected Pass, Task, Choice, Wait, Succeed, "
                         "Fail, Parallel or Map"),
            DidYouMean(type, Nearest(type, std::vector<std::string_view>{
                                               "Pass", "Task", "Choice", "Wait",
                                               "Succeed", "Fail", "Parallel",
                                               "Map"})));
      return;
    }
    const bool jsonata = StateIsJsonata(state, jsonata_default_);
    if (jsonata) return ValidateJsonataState(name, type, state, path, machine);
    for (const auto& [key, value] : state.items()) {
      std::string child = LocationMember(path, key);
      if (key == "QueryLanguage") {
        CheckQueryLanguage(value, child);
        if (jsonata_default_ && value == "JSONPath") {
          Error(child,
                "a state cannot use JSONPath when the definition's "
                "QueryLanguage is JSONata");
        }
        continue;
      }
      if (key == "Assign" && AssignsVariables(type)) {
        ValidateAssign(value, child, /*jsonata=*/false);
        continue;
      }
      if (!allowed.count(key)) {
        UnknownField(key, child, absl::StrCat("a ", type, " state"), &allowed);
        continue;
      }
      ValidateCommonField(key, value, child);
    }
    if (type == "Pass" || type == "Task" || type == "Wait" ||
        type == "Parallel" || type == "Map") {
      ValidateTransition(name, state, path, machine);
    } else if (type == "Succeed" || type == "Fail") {
      machine->terminal.insert(name);
    }
    if (type == "Task") {
      ValidateTask(state, path);
    } else if (type == "Choice") {
      ValidateChoice(name, state, path, machine);
    } else if (type == "Wait") {
      ValidateWait(state, path);
    } else if (type == "Fail") {
      ValidateFail(state, path);
    } else if (type == "Parallel") {
      ValidateParallel(state, path);
    } else if (type == "Map") {
      ValidateMap(state, path);
    }
    if (auto it = state.find("Catch"); it != state.end()) {
      ValidateCatch(name, *it, LocationMember(path, "Catch"), machine);
    }
    if (auto it = state.find("Retry"); it != state.end()) {
      ValidateRetry(*it, LocationMember(path, "Retry"));
    }
  }

  // A state in the JSONata query language: its fields, its expressions
  // (parsed, errors with their position), transitions and nested machines.
  void ValidateJsonataState(const std::string& name, const std::string& type,
                            const Json& state, const std::string& path,
                            MachineInfo* machine) {
    const FieldSet& allowed = JsonataFields(type);
    for (const auto& [key, value] : state.items()) {
      std::string child = LocationMember(path, key);
      if (key == "QueryLanguage") {
        CheckQueryLanguage(value, child);
        if (jsonata_default_ && value == "JSONPath") {
          Error(child,
                "a state cannot use JSONPath when the definition's "
                "QueryLanguage is JSONata");
        }
        continue;
      }
      if (!allowed.count(key)) {
        if (IsJsonPathOnlyField(key) || CommonFields(type).count(key)) {
          Error(child,
                absl::StrCat("field \"", key,
                             "\" belongs to the JSONPath query language; "
                             "this state uses JSONata"),
                JsonataHint(key));
        } else {
          UnknownField(key, child, absl::StrCat("a JSONata ", type, " state"),
                       &allowed);
        }
        continue;
      }
      if (key == "Comment") {
        ExpectString(value, child);
      } else if (key == "Assign") {
        ValidateAssign(value, child, /*jsonata=*/true);
      } else if (key == "Output" || key == "Arguments" ||
                 key == "ItemSelector" || key == "Items") {
        CheckExpressions(value, child);
      } else if (key == "Seconds" || key == "TimeoutSeconds" ||
                 key == "HeartbeatSeconds" || key == "MaxConcurrency" ||
                 key == "ToleratedFailureCount") {
        if (!value.is_string()) {
          if (key == "Seconds" || key == "MaxConcurrency" ||
              key == "ToleratedFailureCount") {
            ExpectNonNegativeInt(value, child);
          } else {
            ExpectSeconds(value, child, 1);
          }
        } else {
          ExpectExpression(value, child);
        }
      } else if (key == "ToleratedFailurePercentage") {
        if (value.is_string()) {
          ExpectExpression(value, child);
        } else if (!value.is_number() || value.get<double>() < 0 ||
                   value.get<double>() > 100) {
          Error(child, "must be a number between 0 and 100");
        }
      } else if (key == "Timestamp" || key == "Error" || key == "Cause") {
        if (ExpectString(value, child)) {
          const std::string& text = value.get_ref<const std::string&>();
          if (IsJsonataExpression(text)) {
            CheckExpressions(value, child);
          } else if (key == "Timestamp" && !IsTimestamp(text)) {
            Error(child, absl::StrCat("\"", text,
                                      "\" is not an RFC 3339 timestamp"));
          }
        }
      } else if (key == "Resource") {
        ValidateResource(value, child);
      } else if (key == "Label") {
        ExpectString(value, child);
      } else if (key == "ItemReader") {
        ValidateItemReader(value, child);
      } else if (key == "ItemBatcher") {
        ValidateItemBatcher(value, child);
      } else if (key == "ResultWriter") {
        ValidateResultWriter(value, child);
      }
    }
    if (type == "Pass" || type == "Task" || type == "Wait" ||
        type == "Parallel" || type == "Map") {
      ValidateTransition(name, state, path, machine);
    } else if (type == "Succeed" || type == "Fail") {
      machine->terminal.insert(name);
    }
    if (type == "Task" && !state.contains("Resource")) {
      Error(path, "missing required field \"Resource\"");
    } else if (type == "Wait" && state.contains("Seconds") ==
                                     state.contains("Timestamp")) {
      Error(path, "a JSONata Wait state needs exactly one of Seconds or "
                  "Timestamp");
    } else if (type == "Choice") {
      ValidateJsonataChoice(name, state, path, machine);
    } else if (type == "Parallel") {
      ValidateParallel(state, path);
    } else if (type == "Map") {
      const int depth = machine_depth_;
      if (auto it = state.find("ItemProcessor"); it != state.end()) {
        ValidateMachine(*it, LocationMember(path, "ItemProcessor"),
                        /*processor=*/true, depth + 1);
      } else {
        Error(path, "missing required field \"ItemProcessor\"");
      }
      machine_depth_ = depth;
    }
    if (auto it = state.find("Catch"); it != state.end()) {
      ValidateCatch(name, *it, LocationMember(path, "Catch"), machine,
                    /*jsonata=*/true);
    }
    if (auto it = state.find("Retry"); it != state.end()) {
      ValidateRetry(*it, LocationMember(path, "Retry"));
    }
  }

  static std::string JsonataHint(const std::string& key) {
    if (key == "Parameters") return "use \"Arguments\" in JSONata states";
    if (key == "ResultSelector" || key == "ResultPath" ||
        key == "OutputPath" || key == "Result") {
      return "use \"Output\" (with $states.result) in JSONata states";
    }
    if (key == "InputPath") return "read $states.input in an expression";
    if (key == "ItemsPath") return "use \"Items\" in JSONata states";
    if (key == "Iterator") return "use \"ItemProcessor\"";
    if (key.ends_with("Path")) {
      return absl::StrCat("use \"", key.substr(0, key.size() - 4),
                          "\" with a {% %} expression in JSONata states");
    }
    return {};
  }

  void ValidateJsonataChoice(const std::string& name, const Json& state,
                             const std::string& path, MachineInfo* machine) {
    auto choices = state.find("Choices");
    std::string choices_path = LocationMember(path, "Choices");
    if (choices == state.end()) {
      Error(path, "missing required field \"Choices\"");
    } else if (!choices->is_array() || choices->empty()) {
      Error(choices_path, "Choices must be a non-empty array of rules");
    } else {
      static const FieldSet kRuleFields = {"Condition", "Next", "Assign",
                                           "Output", "Comment"};
      for (size_t i = 0; i < choices->size(); ++i) {
        std::string rp = LocationIndex(choices_path, i);
        const Json& rule = (*choices)[i];
        if (!ExpectObject(rule, rp, "a Choice rule")) continue;
        if (!rule.contains("Condition")) {
          Error(rp, "missing required field \"Condition\"");
        }
        for (const auto& [key, value] : rule.items()) {
          std::string p = LocationMember(rp, key);
          if (key == "Condition") {
            if (!value.is_boolean()) ExpectExpression(value, p);
          } else if (key == "Next") {
            if (ExpectNonEmptyString(value, p)) {
              machine->targets.emplace_back(p, value.get<std::string>());
              machine->edges[name].push_back(value.get<std::string>());
            }
          } else if (key == "Assign") {
            ValidateAssign(value, p, /*jsonata=*/true);
          } else if (key == "Output") {
            CheckExpressions(value, p);
          } else if (key == "Comment") {
            ExpectString(value, p);
          } else if (IsJsonPathOnlyField(key) || key == "Variable" ||
                     key == "And" || key == "Or" || key == "Not" ||
                     ComparisonOperators().count(key)) {
            Error(p, absl::StrCat("field \"", key,
                                  "\" belongs to the JSONPath query "
                                  "language; JSONata rules use "
                                  "\"Condition\""));
          } else {
            UnknownField(key, p, "a JSONata Choice rule", &kRuleFields);
          }
        }
        if (!rule.contains("Next")) Error(rp, "missing required field \"Next\"");
      }
    }
    if (auto def = state.find("Default"); def != state.end()) {
      std::string p = LocationMember(path, "Default");
      if (ExpectNonEmptyString(*def, p)) {
        machine->targets.emplace_back(p, def->get<std::string>());
        machine->edges[name].push_back(def->get<std::string>());
      }
    }
  }

  // A field that must be a whole "{% %}" expression.
  void ExpectExpression(const Json& value, const std::string& path) {
    if (!value.is_string() ||
        !IsJsonataExpression(value.get_ref<const std::string&>())) {
      Error(path, "must be a JSONata expression \"{% ... %}\"");
      return;
    }
    CheckExpressions(value, path);
  }

  // Parses every "{% %}" string inside `value`; a syntax error is reported
  // at its location with JSONata's code and position.
  void CheckExpressions(const Json& value, const std::string& path) {
    if (value.is_string()) {
      const std::string& text = value.get_ref<const std::string&>();
      const bool opens = text.starts_with("{%");
      const bool closes = text.size() >= 2 && text.ends_with("%}");
      if (opens != closes || (opens && text.size() < 4)) {
        Error(path, absl::StrCat("\"", text,
                                 "\" is not a JSONata expression: write "
                                 "\"{% <expression> %}\""));
        return;
      }
      if (!IsJsonataExpression(text)) return;
      std::string_view body = JsonataBody(text);
      auto space_run = [](std::string_view b, bool) {
        size_t n = 0;
        while (n < b.size() && std::isspace(static_cast<unsigned char>(b[n]))) {
          ++n;
        }
        return n;
      };
      if (space_run(body, true) > 1) {
        Error(path, absl::StrCat("JSONata expression \"", text,
                                 "\" has extra white space after \"{%\"; "
                                 "write \"{% <expression> %}\""));
        return;
      }
      absl::Status s = CheckJsonataSyntax(text);
      if (!s.ok()) {
        Error(path, absl::StrCat("JSONata expression ", text,
                                 " does not parse: ", s.message()));
      }
    } else if (value.is_object()) {
      for (const auto& [k, v] : value.items()) {
        CheckExpressions(v, LocationMember(path, k));
      }
    } else if (value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        CheckExpressions(value[i], LocationIndex(path, i));
      }
    }
  }

  // Assign: an object of variable names. JSONPath: a payload template
  // ("name.$" members); JSONata: values with "{% %}" expressions.
  void ValidateAssign(const Json& value, const std::string& path,
                      bool jsonata) {
    if (!value.is_object()) {
      Error(path, absl::StrCat("Assign must be an object, not ",
                               TypeName(value)));
      return;
    }
    for (const auto& [key, v] : value.items()) {
      std::string name = key;
      if (!jsonata && name.ends_with(".$")) name.resize(name.size() - 2);
      bool ok = !name.empty() &&
                !std::isdigit(static_cast<unsigned char>(name[0]));
      for (char c : name) {
        if (std::isspace(static_cast<unsigned char>(c)) || c == '.' ||
            c == '$' || c == '[' || c == ']') {
          ok = false;
        }
      }
      if (!ok) {
        Error(LocationMember(path, key),
              absl::StrCat("\"", name, "\" is not a valid variable name "
                                        "(it must not start with a digit "
                                        "nor hold spaces, '.', '$' or "
                                        "brackets)"));
      }
    }
    if (jsonata) {
      CheckExpressions(value, path);
    } else {
      ValidateTemplate(value, path);
    }
  }

  // Fields whose meaning is the same in every state type that allows them.
  void ValidateCommonField(const std::string& key, const Json& value,
                           const std::string& path) {
    if (key == "Comment") {
      ExpectString(value, path);
    } else if (key == "InputPath" || key == "OutputPath") {
      ExpectPath(value, path, /*allow_null=*/true);
    } else if (key == "ResultPath") {
      ExpectResultPath(value, path);
    } else if (key == "Parameters") {
      ValidateTemplate(value, path);
    } else if (key == "ResultSelector") {
      ValidateObjectTemplate(value, path, "ResultSelector");
    }
  }

  void ValidateTransition(const std::string& name, const Json& state,
                          const std::string& path, MachineInfo* machine) {
    auto next = state.find("Next");
    auto end = state.find("End");
    bool is_end = false;
    if (end != state.end()) {
      if (!end->is_boolean()) {
        Error(LocationMember(path, "End"),
              absl::StrCat("End must be a boolean, not ", TypeName(*end)));
      } else {
        is_end = end->get<bool>();
      }
    }
    if (next != state.end()) {
      std::string next_path = LocationMember(path, "Next");
      if (ExpectNonEmptyString(*next, next_path)) {
        machine->targets.emplace_back(next_path, next->get<std::string>());
        machine->edges[name].push_back(next->get<std::string>());
      }
      if (is_end) {
        Error(path, "a state cannot have both \"Next\" and \"End\": true");
        // Already reported; do not also report a missing terminal state.
        machine->terminal.insert(name);
      }
    } else if (is_end) {
      machine->terminal.insert(name);
    } else if (end == state.end() || end->is_boolean()) {
      Error(path,
            "missing \"Next\" or \"End\": true (exactly one is "
            "required)",
            "add \"Next\": \"<the state that follows>\", or \"End\": true "
            "when the machine ends here");
    }
  }

  void ValidateResource(const Json& value, const std::string& path) {
    if (value.is_object()) {
      // CloudFormation intrinsics ({"Ref": ...}, {"Fn::GetAtt": [...]}) that
      // a deployment tool substitutes.
      if (value.size() == 1 && (value.begin().key() == "Ref" ||
                                value.begin().key().rfind("Fn::", 0) == 0)) {
        return;
      }
      Error(path, "Resource must be a URI string");
      return;
    }
    if (!ExpectNonEmptyString(value, path)) return;
    const std::string& s = value.get_ref<const std::string&>();
    if (s.find_first_of(" \t\r\n") != std::string::npos) {
      Error(path, absl::StrCat("Resource \"", s, "\" contains whitespace"));
      return;
    }
    // Template substitutions such as "${LambdaArn}" are filled in at deploy
    // time; they must at least be well-formed.
    if (s.find("${") != std::string::npos) {
      for (size_t at = s.find("${"); at != std::string::npos;
           at = s.find("${", at + 2)) {
        size_t close = s.find('}', at + 2);
        if (close == std::string::npos || close == at + 2) {
          Error(path, absl::StrCat("Resource \"", s,
                                   "\" has an unterminated or empty ${...} "
                                   "substitution"));
          return;
        }
      }
      return;
    }
    size_t colon = s.find(':');
    bool scheme_ok = colon != std::string::npos && colon > 0 &&
                     std::isalpha(static_cast<unsigned char>(s[0]));
    for (size_t i = 0; scheme_ok && i < colon; ++i) {
      char c = s[i];
      scheme_ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' ||
                  c == '-' || c == '.';
    }
    if (!scheme_ok || colon + 1 >= s.size()) {
      std::string guess = DeptResourceGuess(s);
      Error(path,
            absl::StrCat("Resource \"", s,
                         "\" is not a URI (expected e.g. "
                         "dept:<DEPT>/<type> or an ARN)"),
            guess.empty() ? std::string(kDeptResourceHint)
                          : absl::StrCat("did you mean \"", guess, "\"? ",
                                         kDeptResourceHint));
      return;
    }
    std::string_view scheme = std::string_view(s).substr(0, colon);
    if (scheme == "dept") {
      if (!ParseDeptResource(s, nullptr, nullptr)) {
        std::string guess = DeptResourceGuess(s);
        Error(path,
              absl::StrCat("Resource \"", s,
                           "\" must have the form dept:<DEPT>/<type> "
                           "with DEPT made of upper-case letters, "
                           "digits, '_' or '-'"),
              guess.empty() ? std::string(kDeptResourceHint)
                            : absl::StrCat("did you mean \"", guess, "\"? ",
                                           kDeptResourceHint));
      }
      return;
    }
    if (scheme != "arn") return;
    std::vector<std::string_view> parts;
    std::string_view rest = s;
    while (true) {
      size_t c = rest.find(':');
      parts.push_back(rest.substr(0, c));
      if (c == std::string_view::npos) break;
      rest.remove_prefix(c + 1);
    }
    if (parts.size() < 6 || parts[1].empty() || parts[2].empty() ||
        parts.back().empty()) {
      Error(path, absl::StrCat("Resource \"", s,
                               "\" is not a valid ARN "
                               "(arn:partition:service:region:account:"
                               "resource)"));
      return;
    }
    if (parts[2] == "lambda" && parts[5] == "function") {
      auto name_ok = [](std::string_view v, bool qualifier) {
        if (v.empty()) return false;
        if (qualifier && v == "$LATEST") return true;
        for (char c : v) {
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' &&
              c != '_' && (qualifier || c != '.')) {
            return false;
          }
        }
        return true;
      };
      if (parts.size() < 7 || parts.size() > 8 || !name_ok(parts[6], false) ||
          (parts.size() == 8 && !name_ok(parts[7], true))) {
        Error(path, absl::StrCat("Resource \"", s,
                                 "\" is not a valid Lambda function ARN "
                                 "(function name and optional version or "
                                 "alias)"));
      }
    }
  }

  void ValidateTask(const Json& state, const std::string& path) {
    auto resource = state.find("Resource");
    if (resource == state.end()) {
      Error(path, "missing required field \"Resource\"");
    } else {
      ValidateResource(*resource, LocationMember(path, "Resource"));
    }
    int64_t timeout = 0;
    int64_t heartbeat = 0;
    auto seconds_pair = [&](const std::string& field, int64_t* out) {
      std::string path_field = absl::StrCat(field, "Path");
      auto value = state.find(field);
      auto value_path = state.find(path_field);
      if (value != state.end()) {
        std::string p = LocationMember(path, field);
        if (ExpectSeconds(*value, p, 1)) *out = AsInt(*value);
        if (value_path != state.end()) {
          Error(p, absl::StrCat("\"", field, "\" and \"", path_field,
                                "\" are mutually exclusive"));
        }
      }
      if (value_path != state.end()) {
        ExpectReferencePath(*value_path, LocationMember(path, path_field));
      }
    };
    seconds_pair("TimeoutSeconds", &timeout);
    seconds_pair("HeartbeatSeconds", &heartbeat);
    if (heartbeat > 0 && timeout > 0 && heartbeat >= timeout) {
      Error(LocationMember(path, "HeartbeatSeconds"),
            absl::StrCat("HeartbeatSeconds (", heartbeat,
                         ") must be smaller than TimeoutSeconds (", timeout,
                         ")"));
    }
    if (auto it = state.find("Credentials"); it != state.end()) {
      ValidateObjectTemplate(*it, LocationMember(path, "Credentials"),
                             "Credentials");
    }
  }

  void ValidateWait(const Json& state, const std::string& path) {
    std::vector<std::string> present;
    for (const char* field :
         {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"}) {
      auto it = state.find(field);
      if (it == state.end()) continue;
      present.push_back(field);
      std::string p = LocationMember(path, field);
      std::string_view f = field;
      if (f == "Seconds") {
        ExpectSeconds(*it, p, 0);
      } else if (f == "Timestamp") {
        if (ExpectString(*it, p) &&
            !IsTimestamp(it->get_ref<const std::string&>())) {
          Error(p, absl::StrCat("\"", it->get<std::string>(),
                                "\" is not an RFC 3339 timestamp"));
        }
      } else {
        ExpectReferencePath(*it, p);
      }
    }
    if (present.empty()) {
      Error(path,
            "a Wait state needs exactly one of Seconds, Timestamp, "
            "SecondsPath or TimestampPath");
    } else if (present.size() > 1) {
      Error(path, absl::StrCat("a Wait state needs exactly one of Seconds, "
                               "Timestamp, SecondsPath or TimestampPath; "
                               "found ",
                               absl::StrJoin(present, ", ")));
    }
  }

  void ValidateFail(const Json& state, const std::string& path) {
    for (const char* field : {"Error", "Cause"}) {
      std::string path_field = absl::StrCat(field, "Path");
      auto value = state.find(field);
      auto value_path = state.find(path_field);
      if (value != state.end()) {
        ExpectString(*value, LocationMember(path, field));
        if (value_path != state.end()) {
          Error(LocationMember(path, field),
                absl::StrCat("\"", field, "\" and \"", path_field,
                             "\" are mutually exclusive"));
        }
      }
      if (value_path != state.end()) {
        ExpectPathOrIntrinsic(*value_path, LocationMember(path, path_field));
      }
    }
  }

  void ValidateParallel(const Json& state, const std::string& path) {
    auto branches = state.find("Branches");
    std::string branches_path = LocationMember(path, "Branches");
    if (branches == state.end()) {
      Error(path, "missing required field \"Branches\"");
      return;
    }
    if (!branches->is_array() || branches->empty()) {
      Error(branches_path,
            absl::StrCat(
                "Branches must be a non-empty array of state "
                "machines, not ",
                branches->is_array() ? "an empty array" : TypeName(*branches)));
      return;
    }
    const int depth = machine_depth_;
    for (size_t i = 0; i < branches->size(); ++i) {
      ValidateMachine((*branches)[i], LocationIndex(branches_path, i),
                      /*processor=*/false, depth + 1);
    }
    machine_depth_ = depth;
  }

  void ValidateMap(const Json& state, const std::string& path) {
    auto processor = state.find("ItemProcessor");
    auto iterator = state.find("Iterator");
    if (processor != state.end() && iterator != state.end()) {
      Error(LocationMember(path, "Iterator"),
            "\"ItemProcessor\" and \"Iterator\" are mutually exclusive");
    } else if (processor == state.end() && iterator == state.end()) {
      Error(path,
            "missing required field \"ItemProcessor\" (or the older "
            "\"Iterator\")");
    }
    const int depth = machine_depth_;
    if (processor != state.end()) {
      ValidateMachine(*processor, LocationMember(path, "ItemProcessor"),
                      /*processor=*/true, depth + 1);
    }
    machine_depth_ = depth;
    if (iterator != state.end()) {
      ValidateMachine(*iterator, LocationMember(path, "Iterator"),
                      /*processor=*/true, depth + 1);
    }
    machine_depth_ = depth;
    if (state.contains("ItemSelector") && state.contains("Parameters")) {
      Error(LocationMember(path, "Parameters"),
            "\"ItemSelector\" and \"Parameters\" are mutually exclusive "
            "(Parameters is the older name of ItemSelector)");
    }
    if (auto it = state.find("ItemSelector"); it != state.end()) {
      ValidateObjectTemplate(*it, LocationMember(path, "ItemSelector"),
                             "ItemSelector");
    }
    if (auto it = state.find("ItemsPath"); it != state.end()) {
      ExpectReferencePath(*it, LocationMember(path, "ItemsPath"));
    }
    if (auto it = state.find("Label"); it != state.end()) {
      ExpectString(*it, LocationMember(path, "Label"));
    }
    ExclusivePair(state, path, "MaxConcurrency",
                  [&](const Json& v, const std::string& p) {
                    ExpectNonNegativeInt(v, p);
                  });
    ExclusivePair(state, path, "ToleratedFailureCount",
                  [&](const Json& v, const std::string& p) {
                    ExpectNonNegativeInt(v, p);
                  });
    ExclusivePair(
        state, path, "ToleratedFailurePercentage",
        [&](const Json& v, const std::string& p) {
          if (!v.is_number()) {
            Error(p, absl::StrCat("must be a number, not ", TypeName(v)));
          } else if (v.get<double>() < 0 || v.get<double>() > 100) {
            Error(p, "must be between 0 and 100");
          }
        });
    if (auto it = state.find("ItemReader"); it != state.end()) {
      ValidateItemReader(*it, LocationMember(path, "ItemReader"));
    }
    if (auto it = state.find("ItemBatcher"); it != state.end()) {
      ValidateItemBatcher(*it, LocationMember(path, "ItemBatcher"));
    }
    if (auto it = state.find("ResultWriter"); it != state.end()) {
      ValidateResultWriter(*it, LocationMember(path, "ResultWriter"));
    }
  }

  // `field` and `field`Path: at most one; the Path a reference path.
  template <typename CheckValue>
  void ExclusivePair(const Json& object, const std::string& path,
                     const std::string& field, CheckValue check) {
    std::string path_field = absl::StrCat(field, "Path");
    auto value = object.find(field);
    auto value_path = object.find(path_field);
    if (value != object.end()) {
      check(*value, LocationMember(path, field));
      if (value_path != object.end()) {
        Error(LocationMember(path, field),
              absl::StrCat("\"", field, "\" and \"", path_field,
                           "\" are mutually exclusive"));
      }
    }
    if (value_path != object.end()) {
      ExpectReferencePath(*value_path, LocationMember(path, path_field));
    }
  }

  bool ExpectObject(const Json& value, const std::string& path,
                    const std::string& what) {
    if (value.is_object()) return true;
    Error(path,
          absl::StrCat(what, " must be an object, not ", TypeName(value)));
    return false;
  }

  void ValidateItemReader(const Json& value, const std::string& path) {
    if (!ExpectObject(value, path, "ItemReader")) return;
    for (const auto& [key, field] : value.items()) {
      std::string child = LocationMember(path, key);
      if (key == "Resource") {
        ValidateResource(field, child);
      } else if (key == "Parameters") {
        ValidateObjectTemplate(field, child, "Parameters");
      } else if (key == "ReaderConfig") {
        if (!ExpectObject(field, child, "ReaderConfig")) continue;
        ExclusivePair(field, child, "MaxItems",
                      [&](const Json& v, const std::string& p) {
                        ExpectNonNegativeInt(v, p);
                      });
      } else {
        UnknownField(key, child, "ItemReader");
      }
    }
    if (!value.contains("Resource")) {
      Error(path, "missing required field \"Resource\"");
    }
  }

  void ValidateItemBatcher(const Json& value, const std::string& path) {
    if (!ExpectObject(value, path, "ItemBatcher")) return;
    static const FieldSet kFields = {"MaxItemsPerBatch", "MaxItemsPerBatchPath",
                                     "MaxInputBytesPerBatch",
                                     "MaxInputBytesPerBatchPath", "BatchInput"};
    for (const auto& [key, field] : value.items()) {
      if (!kFields.count(key)) {
        UnknownField(key, LocationMember(path, key), "ItemBatcher");
      } else if (key == "BatchInput") {
        ValidateObjectTemplate(field, LocationMember(path, key), "BatchInput");
      }
    }
    auto positive = [&](const Json& v, const std::string& p) {
      if (!IsInteger(v) || AsInt(v) < 1) {
        Error(p, "must be a positive integer");
      }
    };
    ExclusivePair(value, path, "MaxItemsPerBatch", positive);
    ExclusivePair(value, path, "MaxInputBytesPerBatch", positive);
  }

  void ValidateResultWriter(const Json& value, const std::string& path) {
    if (!ExpectObject(value, path, "ResultWriter")) return;
    for (const auto& [key, field] : value.items()) {
      std::string child = LocationMember(path, key);
      if (key == "Resource") {
        ValidateResource(field, child);
      } else if (key == "Parameters") {
        ValidateObjectTemplate(field, child, "Parameters");
      } else {
        UnknownField(key, child, "ResultWriter");
      }
    }
  }

  // ---- Retry / Catch ----------------------------------------------------

  // ErrorEquals of a retrier or catcher; returns true when it is States.ALL.
  bool ValidateErrorEquals(const Json& entry, const std::string& path) {
    auto it = entry.find("ErrorEquals");
    if (it == entry.end()) {
      Error(path, "missing required field \"ErrorEquals\"");
      return false;
    }
    std::string p = LocationMember(path, "ErrorEquals");
    if (!it->is_array() || it->empty()) {
      Error(p, "ErrorEquals must be a non-empty array of error names");
      return false;
    }
    bool has_all = false;
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& name = (*it)[i];
      if (!name.is_string() || name.get_ref<const std::string&>().empty()) {
        Error(LocationIndex(p, i),
              absl::StrCat("error names must be non-empty strings, not ",
                           TypeName(name)));
      } else if (name == "States.ALL") {
        has_all = true;
      }
    }
    if (has_all && it->size() > 1) {
      Error(p, "\"States.ALL\" must appear alone in ErrorEquals");
    }
    return has_all;
  }

  void ValidateRetry(const Json& retry, const std::string& path) {
    if (!retry.is_array()) {
      Error(path, absl::StrCat("Retry must be an array of retriers, not ",
                               TypeName(retry)));
      return;
    }
    for (size_t i = 0; i < retry.size(); ++i) {
      const Json& r = retry[i];
      std::string rp = LocationIndex(path, i);
      if (!ExpectObject(r, rp, "a retrier")) continue;
      if (ValidateErrorEquals(r, rp) && i + 1 != retry.size()) {
        Error(LocationMember(rp, "ErrorEquals"),
              "a retrier matching \"States.ALL\" must be the last one");
      }
      for (const auto& [key, value] : r.items()) {
        std::string p = LocationMember(rp, key);
        if (key == "ErrorEquals") continue;
        if (key == "Comment") {
          ExpectString(value, p);
        } else if (key == "IntervalSeconds" || key == "MaxDelaySeconds") {
          ExpectSeconds(value, p, 1);
        } else if (key == "MaxAttempts") {
          ExpectNonNegativeInt(value, p);
        } else if (key == "BackoffRate") {
          if (!value.is_number()) {
            Error(p, absl::StrCat("BackoffRate must be a number, not ",
                                  TypeName(value)));
          } else if (value.get<double>() < 1.0) {
            Error(p, absl::StrCat("BackoffRate must be at least 1.0, got ",
                                  value.dump()));
          }
        } else if (key == "JitterStrategy") {
          if (value != "FULL" && value != "NONE") {
            Error(p, "JitterStrategy must be \"FULL\" or \"NONE\"");
          }
        } else {
          static const FieldSet kRetrierFields = {
              "ErrorEquals", "IntervalSeconds", "MaxAttempts",
              "BackoffRate", "MaxDelaySeconds", "JitterStrategy",
              "Comment"};
          UnknownField(key, p, "a retrier", &kRetrierFields);
        }
      }
    }
  }

  void ValidateCatch(const std::string& name, const Json& catchers,
                     const std::string& path, MachineInfo* machine,
                     bool jsonata = false) {
    if (!catchers.is_array()) {
      Error(path, absl::StrCat("Catch must be an array of catchers, not ",
                               TypeName(catchers)));
      return;
    }
    for (size_t i = 0; i < catchers.size(); ++i) {
      const Json& c = catchers[i];
      std::string cp = LocationIndex(path, i);
      if (!ExpectObject(c, cp, "a catcher")) continue;
      if (ValidateErrorEquals(c, cp) && i + 1 != catchers.size()) {
        Error(LocationMember(cp, "ErrorEquals"),
              "a catcher matching \"States.ALL\" must be the last one");
      }
      if (!c.contains("Next")) {
        Error(cp, "missing required field \"Next\"");
      }
      for (const auto& [key, value] : c.items()) {
        std::string p = LocationMember(cp, key);
        if (key == "ErrorEquals") continue;
        if (key == "Comment") {
          ExpectString(value, p);
        } else if (key == "Next") {
          if (ExpectNonEmptyString(value, p)) {
            machine->targets.emplace_back(p, value.get<std::string>());
            machine->edges[name].push_back(value.get<std::string>());
          }
        } else if (key == "ResultPath" && !jsonata) {
          ExpectResultPath(value, p);
        } else if (key == "Assign") {
          ValidateAssign(value, p, jsonata);
        } else if (key == "Output" && jsonata) {
          CheckExpressions(value, p);
        } else if (jsonata && key == "ResultPath") {
          Error(p, "field \"ResultPath\" belongs to the JSONPath query "
                   "language; this state uses JSONata");
        } else {
          static const FieldSet kCatcherFields = {"ErrorEquals", "Next",
                                                  "ResultPath", "Comment"};
          UnknownField(key, p, "a catcher", &kCatcherFields);
        }
      }
    }
  }

  // ---- Choice -----------------------------------------------------------

  void ValidateChoice(const std::string& name, const Json& state,
                      const std::string& path, MachineInfo* machine) {
    auto choices = state.find("Choices");
    std::string choices_path = LocationMember(path, "Choices");
    if (choices == state.end()) {
      Error(path, "missing required field \"Choices\"");
    } else if (!choices->is_array() || choices->empty()) {
      Error(choices_path, "Choices must be a non-empty array of rules");
    } else {
      for (size_t i = 0; i < choices->size(); ++i) {
        std::string rp = LocationIndex(choices_path, i);
        const Json& rule = (*choices)[i];
        ValidateRule(rule, rp, /*top=*/true, 0);
        if (rule.is_object()) {
          auto next = rule.find("Next");
          if (next == rule.end()) {
            Error(rp, "missing required field \"Next\"");
          } else if (ExpectNonEmptyString(*next, LocationMember(rp, "Next"))) {
            machine->targets.emplace_back(LocationMember(rp, "Next"),
                                          next->get<std::string>());
            machine->edges[name].push_back(next->get<std::string>());
          }
        }
      }
    }
    if (auto def = state.find("Default"); def != state.end()) {
      std::string p = LocationMember(path, "Default");
      if (ExpectNonEmptyString(*def, p)) {
        machine->targets.emplace_back(p, def->get<std::string>());
        machine->edges[name].push_back(def->get<std::string>());
      }
    }
  }

  void ValidateRule(const Json& rule, const std::string& path, bool top,
                    int depth) {
    if (!rule.is_object()) {
      Error(path, absl::StrCat("a Choice rule must be an object, not ",
                               TypeName(rule)));
      return;
    }
    if (depth > limits_.max_expression_depth) {
      Error(path, absl::StrCat("Choice rule ",
                               LimitMessage(kLimitExpressionDepth,
                                            limits_.max_expression_depth)));
      return;
    }
    const auto& ops = ComparisonOperators();
    std::vector<std::string> comparisons;
    std::vector<std::string> booleans;
    for (const auto& [key, value] : rule.items()) {
      std::string p = LocationMember(path, key);
      if (key == "Comment") {
        ExpectString(value, p);
      } else if (key == "Next") {
        if (!top) {
          Error(p,
                "\"Next\" is only allowed on top-level Choice rules, not "
                "inside And, Or or Not");
        }
      } else if (key == "Variable") {
        ExpectPath(value, p, /*allow_null=*/false);
      } else if (key == "Assign" && top) {
        ValidateAssign(value, p, /*jsonata=*/false);
      } else if (key == "And" || key == "Or" || key == "Not") {
        booleans.push_back(key);
      } else if (auto op = ops.find(key); op != ops.end()) {
        comparisons.push_back(key);
        ValidateOperand(key, op->second, value, p);
      } else {
        static const FieldSet* kRuleFields = [] {
          auto* fields =
              new FieldSet{"Variable", "And", "Or", "Not", "Next", "Comment"};
          for (const auto& [name, operand] : ComparisonOperators()) {
            fields->insert(name);
          }
          return fields;
        }();
        UnknownField(key, p, "a Choice rule", kRuleFields, /*list=*/false);
      }
    }
    if (!booleans.empty()) {
      if (booleans.size() > 1) {
        Error(path, absl::StrCat("a Choice rule can have only one of And, Or "
                                 "and Not; found ",
                                 absl::StrJoin(booleans, ", ")));
      }
      if (rule.contains("Variable") || !comparisons.empty()) {
        Error(path,
              "a Choice rule with And, Or or Not cannot also have "
              "Variable or a comparison operator");
      }
      for (const std::string& key : booleans) {
        const Json& operand = rule[key];
        std::string p = LocationMember(path, key);
        if (key == "Not") {
          ValidateRule(operand, p, false, depth + 1);
        } else if (!operand.is_array() || operand.empty()) {
          Error(p, absl::StrCat(key,
                                " must be a non-empty array of Choice "
                                "rules"));
        } else {
          for (size_t i = 0; i < operand.size(); ++i) {
            ValidateRule(operand[i], LocationIndex(p, i), false, depth + 1);
          }
        }
      }
      return;
    }
    if (rule.contains("Condition")) return;  // JSONata; reported above.
    if (!rule.contains("Variable")) {
      Error(path,
            "a Choice rule needs \"Variable\" and a comparison "
            "operator, or one of And, Or, Not");
    }
    if (comparisons.empty()) {
      Error(path,
            "a Choice rule needs exactly one comparison operator "
            "(e.g. StringEquals, NumericLessThan, IsPresent)");
    } else if (comparisons.size() > 1) {
      Error(path, absl::StrCat("a Choice rule can have only one comparison "
                               "operator; found ",
                               absl::StrJoin(comparisons, ", ")));
    }
  }

  void ValidateOperand(const std::string& op, Operand operand,
                       const Json& value, const std::string& path) {
    switch (operand) {
      case Operand::kString:
        if (!value.is_string()) {
          Error(path,
                absl::StrCat(op, " needs a string, not ", TypeName(value)));
        }
        break;
      case Operand::kNumber:
        if (!value.is_number()) {
          Error(path,
                absl::StrCat(op, " needs a number, not ", TypeName(value)));
        }
        break;
      case Operand::kBoolean:
        if (!value.is_boolean()) {
          Error(path,
                absl::StrCat(op, " needs a boolean, not ", TypeName(value)));
        }
        break;
      case Operand::kTimestamp:
        if (!value.is_string()) {
          Error(path, absl::StrCat(op, " needs a timestamp string, not ",
                                   TypeName(value)));
        } else if (!IsTimestamp(value.get_ref<const std::string&>())) {
          Error(path, absl::StrCat(op, ": \"", value.get<std::string>(),
                                   "\" is not an RFC 3339 timestamp"));
        }
        break;
      case Operand::kPath:
        ExpectReferencePath(value, path);
        break;
    }
  }

  const LoadedSource& source_;
  const Limits& limits_;
  std::vector<ValidationError> errors_;
  // States seen so far (all machines) and the nesting of the machine whose
  // states are being checked.
  int state_count_ = 0;
  int machine_depth_ = 0;
  // The definition declares "QueryLanguage": "JSONata".
  bool jsonata_default_ = false;
  // Every state name seen so far -> its location.
  std::map<std::string, std::string> all_states_;
};

// ---------------------------------------------------------------------------
// Warnings: legal, but likely wrong. Read leniently (the definition may
// also have errors); nesting bounded like validation.

bool RetryCoversUnavailable(const Json& state) {
  auto retry = state.find("Retry");
  if (retry == state.end() || !retry->is_array()) return false;
  for (const Json& r : *retry) {
    if (!r.is_object()) continue;
    auto attempts = r.find("MaxAttempts");
    if (attempts != r.end() && attempts->is_number() &&
        attempts->get<double>() <= 0) {
      continue;  // a retrier that never retries
    }
    auto names = r.find("ErrorEquals");
    if (names == r.end() || !names->is_array()) continue;
    for (const Json& n : *names) {
      if (n == "Dept.Unavailable" || n == "States.ALL" ||
          n == "States.TaskFailed") {
        return true;
      }
    }
  }
  return false;
}

const Json* ProcessorOf(const Json& map_state) {
  auto it = map_state.find("ItemProcessor");
  if (it == map_state.end()) it = map_state.find("Iterator");
  return it == map_state.end() ? nullptr : &*it;
}

// Departments that Task states anywhere in `machine` call.
void CollectDepartments(const Json& machine, int depth, int max_depth,
                        std::set<std::string>* out) {
  if (depth > max_depth || !machine.is_object()) return;
  auto states = machine.find("States");
  if (states == machine.end() || !states->is_object()) return;
  for (const auto& [name, state] : states->items()) {
    if (!state.is_object()) continue;
    auto resource = state.find("Resource");
    std::string dept;
    if (resource != state.end() && resource->is_string() &&
        ParseDeptResource(resource->get_ref<const std::string&>(), &dept,
                          nullptr)) {
      out->insert(dept);
    }
    if (auto b = state.find("Branches"); b != state.end() && b->is_array()) {
      for (const Json& branch : *b) {
        CollectDepartments(branch, depth + 1, max_depth, out);
      }
    }
    if (const Json* p = ProcessorOf(state)) {
      CollectDepartments(*p, depth + 1, max_depth, out);
    }
  }
}

void AddWarnings(const Json& machine, const std::string& path, int depth,
                 const Limits& limits, Validator* v) {
  if (depth > limits.max_machine_depth || !machine.is_object()) return;
  auto states = machine.find("States");
  if (states == machine.end() || !states->is_object()) return;
  std::string states_path = LocationMember(path, "States");
  for (const auto& [name, state] : states->items()) {
    if (!state.is_object()) continue;
    auto type = state.find("Type");
    if (type == state.end() || !type->is_string()) continue;
    std::string sp = LocationMember(states_path, name);
    if (*type == "Task") {
      auto resource = state.find("Resource");
      std::string dept;
      if (resource != state.end() && resource->is_string() &&
          ParseDeptResource(resource->get_ref<const std::string&>(), &dept,
                            nullptr) &&
          !RetryCoversUnavailable(state)) {
        v->Warning(sp,
                   absl::StrCat("Task \"", name, "\" calls department ", dept,
                                ", but no Retry covers Dept.Unavailable: one "
                                "outage of ",
                                dept, " fails the case"),
                   "add \"Retry\": [{\"ErrorEquals\": [\"Dept.Unavailable\"], "
                   "\"IntervalSeconds\": 30, \"MaxAttempts\": 5, "
                   "\"BackoffRate\": 2}] (States.ALL or States.TaskFailed "
                   "cover it too)");
      }
    } else if (*type == "Choice") {
      if (!state.contains("Default")) {
        v->Warning(sp,
                   absl::StrCat("Choice \"", name,
                                "\" has no Default: input that matches no "
                                "rule fails the case with "
                                "States.NoChoiceMatched"),
                   "add \"Default\": \"<state>\" naming where such input "
                   "should go");
      }
    } else if (*type == "Parallel") {
      auto branches = state.find("Branches");
      if (branches != state.end() && branches->is_array()) {
        for (size_t i = 0; i < branches->size(); ++i) {
          AddWarnings((*branches)[i],
                      LocationIndex(LocationMember(sp, "Branches"), i),
                      depth + 1, limits, v);
        }
      }
    } else if (*type == "Map") {
      const Json* processor = ProcessorOf(state);
      if (processor == nullptr) continue;
      std::set<std::string> depts;
      CollectDepartments(*processor, depth + 1, limits.max_machine_depth,
                         &depts);
      auto max = state.find("MaxConcurrency");
      bool bounded =
          state.contains("MaxConcurrencyPath") ||
          (max != state.end() && max->is_number() && max->get<double>() > 0);
      if (!depts.empty() && !bounded) {
        v->Warning(sp,
                   absl::StrCat("Map \"", name, "\" gives every item to ",
                                absl::StrJoin(depts, ", "),
                                " at once: it has no MaxConcurrency"),
                   "set \"MaxConcurrency\" (e.g. 10) so that one case with "
                   "many items cannot flood a department with tasks");
      }
      AddWarnings(
          *processor,
          LocationMember(sp, state.contains("ItemProcessor") ? "ItemProcessor"
                                                             : "Iterator"),
          depth + 1, limits, v);
    }
  }
}

}  // namespace

bool HasErrors(const std::vector<ValidationError>& problems) {
  for (const ValidationError& p : problems) {
    if (p.severity == Severity::kError) return true;
  }
  return false;
}

std::vector<ValidationError> Validate(const LoadedSource& source) {
  return Validate(source, DefaultLimits());
}

std::vector<ValidationError> Validate(const LoadedSource& source,
                                      const Limits& limits) {
  ValidateOptions options;
  options.limits = limits;
  return Validate(source, options);
}

std::vector<ValidationError> Validate(const LoadedSource& source,
                                      const ValidateOptions& options) {
  const Limits& limits = options.limits;
  if (JsonDepth(source.doc, limits.max_json_depth) > limits.max_json_depth) {
    return {ValidationError{
        "$", LimitMessage(kLimitJsonDepth, limits.max_json_depth), 0}};
  }
  Validator validator(source, limits);
  validator.Run();
  if (options.warnings) AddWarnings(source.doc, "$", 0, limits, &validator);
  return validator.Finish();
}

}  // namespace onewindow::asl
