// StateSpec: a state object read once into typed, compiled fields
// (compiled.h). Reading is lenient, as the interpreter's reading of the raw
// document was: a field of the wrong type counts as absent (validated
// definitions have none).
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/asl/compiled.h"
#include "engine/asl/definition.h"
#include "engine/asl/errors.h"
#include "engine/asl/expr.h"

namespace onewindow::asl {
namespace {

const std::string* StringAt(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

std::optional<int64_t> WholeNumber(const Json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || std::floor(d) != d || d < -9.2e18 || d > 9.2e18) {
      return std::nullopt;
    }
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

PathField ReadPath(const Json& obj, const char* key, const Limits& limits) {
  PathField f;
  auto it = obj.find(key);
  if (it == obj.end()) return f;
  if (it->is_null()) {
    f.kind = PathField::Kind::kNull;
    return f;
  }
  if (!it->is_string()) return f;
  auto path = CompiledPath::Parse(it->get_ref<const std::string&>(), limits);
  if (!path.ok()) return f;
  f.kind = PathField::Kind::kPath;
  f.path = *std::move(path);
  return f;
}

NumberField ReadNumber(const Json& obj, const char* key, const char* path_key,
                       const Limits& limits) {
  NumberField f;
  auto it = obj.find(key);
  if (it != obj.end() && it->is_number()) {
    f.present = true;
    f.literal = *it;
    f.integer = WholeNumber(*it);
    f.number = it->get<double>();
    return f;
  }
  if (const std::string* p = StringAt(obj, path_key)) {
    auto path = CompiledPath::Parse(*p, limits);
    if (path.ok()) {
      f.present = true;
      f.is_path = true;
      f.path = *std::move(path);
    }
  }
  return f;
}

StringField ReadString(const Json& obj, const char* key, const char* path_key,
                       const Limits& limits) {
  StringField f;
  if (const std::string* lit = StringAt(obj, key)) {
    f.kind = StringField::Kind::kLiteral;
    f.literal = *lit;
    return f;
  }
  const std::string* p = StringAt(obj, path_key);
  if (p == nullptr) return f;
  f.source = *p;
  if (p->starts_with("States.")) {
    f.kind = StringField::Kind::kIntrinsic;
    f.intrinsic = CompiledIntrinsic::Compile(*p, limits);
    return f;
  }
  auto path = CompiledPath::Parse(*p, limits);
  f.kind = StringField::Kind::kPath;
  if (path.ok()) f.path = *std::move(path);
  return f;
}

std::optional<CompiledTemplate> ReadTemplate(const Json& obj, const char* key,
                                             const Limits& limits) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  return CompiledTemplate::Compile(*it, limits);
}

std::vector<std::string> ErrorNames(const Json& obj) {
  std::vector<std::string> out;
  auto it = obj.find("ErrorEquals");
  if (it == obj.end() || !it->is_array()) return out;
  for (const Json& n : *it) {
    if (n.is_string()) out.push_back(n.get<std::string>());
  }
  return out;
}

double NumberAt(const Json& obj, const char* key, double fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return fallback;
  double d = it->get<double>();
  return std::isfinite(d) ? d : fallback;
}

// Whether any key or string below `v` contains "$$"; without recursion.
bool MentionsContext(const Json& v) {
  std::vector<const Json*> stack{&v};
  while (!stack.empty()) {
    const Json* cur = stack.back();
    stack.pop_back();
    if (cur->is_string()) {
      if (cur->get_ref<const std::string&>().find("$$") != std::string::npos) {
        return true;
      }
    } else if (cur->is_object()) {
      for (auto it = cur->begin(); it != cur->end(); ++it) {
        if (it.key().find("$$") != std::string::npos) return true;
        stack.push_back(&it.value());
      }
    } else if (cur->is_array()) {
      for (const Json& e : *cur) stack.push_back(&e);
    }
  }
  return false;
}

std::optional<StateType> TypeOf(std::string_view type) {
  if (type == "Pass") return StateType::kPass;
  if (type == "Task") return StateType::kTask;
  if (type == "Choice") return StateType::kChoice;
  if (type == "Wait") return StateType::kWait;
  if (type == "Succeed") return StateType::kSucceed;
  if (type == "Fail") return StateType::kFail;
  if (type == "Parallel") return StateType::kParallel;
  if (type == "Map") return StateType::kMap;
  return std::nullopt;
}

}  // namespace

std::string_view StateTypeName(StateType type) {
  switch (type) {
    case StateType::kPass:
      return "Pass";
    case StateType::kTask:
      return "Task";
    case StateType::kChoice:
      return "Choice";
    case StateType::kWait:
      return "Wait";
    case StateType::kSucceed:
      return "Succeed";
    case StateType::kFail:
      return "Fail";
    case StateType::kParallel:
      return "Parallel";
    case StateType::kMap:
      return "Map";
  }
  return "";
}

absl::StatusOr<Json> StringField::Eval(const Json& input,
                                       const EvalEnv& env) const {
  switch (kind) {
    case Kind::kAbsent:
      return Json();
    case Kind::kLiteral:
      return Json(literal);
    case Kind::kIntrinsic:
      return intrinsic.Eval(input, env);
    case Kind::kPath:
      if (path.empty()) return EvalPath(source, input, env);
      return path.Eval(input, env);
  }
  return Json();
}

StateSpec CompileState(std::string name, const Json& state,
                       const Limits& limits) {
  StateSpec s;
  s.name = std::move(name);
  s.json = &state;
  if (!state.is_object()) return s;
  if (const std::string* type = StringAt(state, "Type")) {
    if (auto t = TypeOf(*type)) s.type = *t;
  }
  if (const std::string* next = StringAt(state, "Next")) s.next = *next;
  auto end = state.find("End");
  s.end = (end != state.end() && end->is_boolean() && end->get<bool>()) ||
          s.type == StateType::kSucceed || s.type == StateType::kFail;

  s.input_path = ReadPath(state, "InputPath", limits);
  s.output_path = ReadPath(state, "OutputPath", limits);
  s.result_path = ReadPath(state, "ResultPath", limits);
  s.result_selector = ReadTemplate(state, "ResultSelector", limits);
  if (s.type == StateType::kMap) {
    s.item_selector = state.contains("ItemSelector")
                          ? ReadTemplate(state, "ItemSelector", limits)
                          : ReadTemplate(state, "Parameters", limits);
    s.items_path = ReadPath(state, "ItemsPath", limits);
    s.max_concurrency =
        ReadNumber(state, "MaxConcurrency", "MaxConcurrencyPath", limits);
    s.tolerated_failure_count = ReadNumber(state, "ToleratedFailureCount",
                                           "ToleratedFailureCountPath", limits);
    s.tolerated_failure_percentage =
        ReadNumber(state, "ToleratedFailurePercentage",
                   "ToleratedFailurePercentagePath", limits);
  } else {
    s.parameters = ReadTemplate(state, "Parameters", limits);
  }
  if (auto it = state.find("Result"); it != state.end()) s.result = &*it;

  if (const std::string* resource = StringAt(state, "Resource")) {
    s.resource = *resource;
    s.is_dept = ParseDeptResource(*resource, &s.department, &s.task_type);
  }
  s.timeout_seconds =
      ReadNumber(state, "TimeoutSeconds", "TimeoutSecondsPath", limits);
  s.heartbeat_seconds =
      ReadNumber(state, "HeartbeatSeconds", "HeartbeatSecondsPath", limits);

  if (s.type == StateType::kWait) {
    s.seconds = ReadNumber(state, "Seconds", "SecondsPath", limits);
    if (const std::string* ts = StringAt(state, "Timestamp")) {
      auto parsed = ParseTimestamp(*ts);
      if (parsed.ok()) {
        s.timestamp.present = true;
        s.timestamp.text = *ts;
        s.timestamp.value = *parsed;
        s.timestamp.value_ms = parsed->seconds * 1000 + parsed->nanos / 1000000;
      }
    } else if (const std::string* p = StringAt(state, "TimestampPath")) {
      auto path = CompiledPath::Parse(*p, limits);
      if (path.ok()) {
        s.timestamp.present = true;
        s.timestamp.is_path = true;
        s.timestamp.path = *std::move(path);
      }
    }
  }

  s.error = ReadString(state, "Error", "ErrorPath", limits);
  s.cause = ReadString(state, "Cause", "CausePath", limits);

  if (auto it = state.find("Choices"); it != state.end() && it->is_array()) {
    for (const Json& choice : *it) {
      if (!choice.is_object()) continue;
      ChoiceBranch b;
      b.json = &choice;
      Json rule = choice;
      rule.erase("Next");
      rule.erase("Assign");
      b.rule = CompiledChoiceRule::Compile(rule, limits);
      if (const std::string* next = StringAt(choice, "Next")) b.next = *next;
      s.choices.push_back(std::move(b));
    }
  }
  if (const std::string* def = StringAt(state, "Default")) {
    s.default_next = *def;
  }

  if (auto it = state.find("Retry"); it != state.end() && it->is_array()) {
    for (const Json& r : *it) {
      Retrier retrier;
      retrier.json = &r;
      if (r.is_object()) {
        retrier.error_equals = ErrorNames(r);
        retrier.interval_seconds = NumberAt(r, "IntervalSeconds", 1);
        if (auto m = r.find("MaxAttempts"); m != r.end()) {
          if (auto v = WholeNumber(*m)) retrier.max_attempts = *v;
        }
        retrier.backoff_rate = NumberAt(r, "BackoffRate", 2.0);
        if (r.contains("MaxDelaySeconds")) {
          retrier.max_delay_seconds = NumberAt(r, "MaxDelaySeconds", 0);
        }
        const std::string* jitter = StringAt(r, "JitterStrategy");
        if (jitter != nullptr && *jitter == "FULL") {
          retrier.jitter = JitterStrategy::kFull;
        }
      }
      s.retry.push_back(std::move(retrier));
    }
  }
  if (auto it = state.find("Catch"); it != state.end() && it->is_array()) {
    for (const Json& c : *it) {
      Catcher catcher;
      catcher.json = &c;
      if (c.is_object()) {
        catcher.error_equals = ErrorNames(c);
        if (const std::string* next = StringAt(c, "Next")) catcher.next = *next;
        catcher.result_path = ReadPath(c, "ResultPath", limits);
      }
      s.catchers.push_back(std::move(catcher));
    }
  }

  for (auto it = state.begin(); it != state.end(); ++it) {
    const std::string& key = it.key();
    if (key == "Branches" || key == "ItemProcessor" || key == "Iterator") {
      continue;
    }
    if (MentionsContext(it.value())) {
      s.mentions_context = true;
      break;
    }
  }
  return s;
}

}  // namespace onewindow::asl
