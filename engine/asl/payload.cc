// Payload templates (Parameters, ResultSelector, ItemSelector): copies the
// template, replacing each "key.$" member by "key" bound to the value of a
// path, a context path ("$$...") or an intrinsic function call.
//
// Pure function; thread-safe.
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "engine/asl/json_path.h"

namespace onewindow::asl {
namespace {

constexpr std::string_view kDynamicSuffix = ".$";

std::string TypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "NULL";
    case Json::value_t::boolean:
      return "BOOLEAN";
    case Json::value_t::array:
      return "ARRAY";
    case Json::value_t::object:
      return "OBJECT";
    case Json::value_t::string:
      return "STRING";
    default:
      return "NUMBER";
  }
}

absl::StatusOr<Json> EvalDynamicValue(std::string_view key, const Json& value,
                                      const Json& input, const EvalEnv& env) {
  if (!value.is_string()) {
    return AslError(
        kStatesRuntime,
        absl::StrCat("The value for the field '", internal::Av(key),
                     "' must be a STRING that contains a JSONPath or an "
                     "intrinsic function call, but was ",
                     TypeName(value)));
  }
  const std::string& expr = value.get_ref<const std::string&>();
  if (expr.starts_with("States.")) {
    return EvalIntrinsic(expr, input, env);
  }
  if (!expr.starts_with("$")) {
    return AslError(kStatesRuntime,
                    absl::StrCat("The value for the field '", internal::Av(key),
                                 "' must be a valid JSONPath or an intrinsic "
                                 "function call, but was '",
                                 expr, "'"));
  }
  bool found = false;
  auto result = EvalPathOptional(expr, input, env, &found);
  if (!result.ok()) return result.status();
  if (!found) {
    bool context = expr.starts_with("$$");
    const Json empty = Json::object();
    const Json& source =
        context ? (env.context != nullptr ? *env.context : empty) : input;
    return AslError(
        kStatesRuntime,
        absl::StrCat("The JSONPath '", expr, "' specified for the field '",
                     internal::Av(key), "' could not be found in the ",
                     context ? "context object" : "input", " '",
                     internal::DumpCompact(source), "'"));
  }
  return result;
}

absl::StatusOr<Json> EvalTemplate(const Json& tmpl, const Json& input,
                                  const EvalEnv& env, int depth) {
  const int max_depth = env.limits_or_default().max_json_depth;
  if (depth > max_depth && tmpl.is_structured()) {
    return AslError(kStatesRuntime,
                    absl::StrCat("payload template ",
                                 LimitMessage(kLimitJsonDepth, max_depth)));
  }
  if (tmpl.is_object()) {
    Json out = Json::object();
    for (auto it = tmpl.begin(); it != tmpl.end(); ++it) {
      const std::string& key = it.key();
      if (key.size() > kDynamicSuffix.size() && key.ends_with(kDynamicSuffix)) {
        auto v = EvalDynamicValue(key, it.value(), input, env);
        if (!v.ok()) return v.status();
        out[key.substr(0, key.size() - kDynamicSuffix.size())] = *std::move(v);
      } else {
        auto v = EvalTemplate(it.value(), input, env, depth + 1);
        if (!v.ok()) return v.status();
        out[key] = *std::move(v);
      }
    }
    return out;
  }
  if (tmpl.is_array()) {
    Json out = Json::array();
    for (const Json& item : tmpl) {
      auto v = EvalTemplate(item, input, env, depth + 1);
      if (!v.ok()) return v.status();
      out.push_back(*std::move(v));
    }
    return out;
  }
  return tmpl;
}

}  // namespace

absl::StatusOr<Json> EvalPayloadTemplate(const Json& tmpl, const Json& input,
                                         const EvalEnv& env) {
  try {
    return EvalTemplate(tmpl, input, env, 0);
  } catch (const Json::exception& e) {
    return AslError(
        kStatesRuntime,
        absl::StrCat("Error evaluating a payload template: ", e.what()));
  }
}

}  // namespace onewindow::asl
