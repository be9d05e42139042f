// Payload templates (Parameters, ResultSelector, ItemSelector): compiled
// once into a tree whose constant parts are pre-built and whose "key.$"
// members carry their output key and a compiled path or intrinsic call;
// evaluation copies the template, binding each such member to its value.
//
// Immutable compiled forms; evaluation is pure and thread-safe.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/asl/compiled.h"
#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "engine/asl/json_parse.h"
#include "engine/asl/json_path.h"

namespace onewindow::asl {
namespace internal {

struct TemplateNode {
  enum class Kind { kConstant, kObject, kArray, kPath, kIntrinsic, kError };
  Kind kind = Kind::kConstant;
  Json constant;  // kConstant
  // kObject: output keys and values, in the template's key order (a later
  // member with the same output key wins, as in the evaluation it mirrors).
  std::vector<std::string> keys;
  std::vector<TemplateNode> values;
  std::vector<TemplateNode> items;  // kArray
  // kPath / kIntrinsic: the field name as written ("key.$") and the value.
  std::string field;
  CompiledPath path;
  CompiledIntrinsic intrinsic;
  absl::Status error;  // kError (also a kPath whose text does not parse)
};

}  // namespace internal

namespace {

using internal::TemplateNode;

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

TemplateNode ErrorNode(absl::Status status) {
  TemplateNode n;
  n.kind = TemplateNode::Kind::kError;
  n.error = std::move(status);
  return n;
}

// The value of a "key.$" member.
TemplateNode CompileDynamic(const std::string& key, const Json& value,
                            const Limits& limits) {
  if (!value.is_string()) {
    return ErrorNode(AslError(
        kStatesRuntime,
        absl::StrCat("The value for the field '", key,
                     "' must be a STRING that contains a JSONPath or an "
                     "intrinsic function call, but was ",
                     TypeName(value))));
  }
  const std::string& expr = value.get_ref<const std::string&>();
  TemplateNode n;
  n.field = key;
  if (expr.starts_with("States.")) {
    n.kind = TemplateNode::Kind::kIntrinsic;
    n.intrinsic = CompiledIntrinsic::Compile(expr, limits);
    return n;
  }
  if (!expr.starts_with("$")) {
    return ErrorNode(
        AslError(kStatesRuntime,
                 absl::StrCat("The value for the field '", key,
                              "' must be a valid JSONPath or an intrinsic "
                              "function call, but was '",
                              expr, "'")));
  }
  auto path = CompiledPath::Parse(expr, limits);
  if (!path.ok()) {
    return ErrorNode(
        AslError(kStatesRuntime, std::string(path.status().message())));
  }
  n.kind = TemplateNode::Kind::kPath;
  n.path = *std::move(path);
  return n;
}

TemplateNode CompileNode(const Json& tmpl, const Limits& limits, int depth) {
  if (depth > limits.max_json_depth && tmpl.is_structured()) {
    return ErrorNode(AslError(
        kStatesRuntime,
        absl::StrCat("payload template ",
                     LimitMessage(kLimitJsonDepth, limits.max_json_depth))));
  }
  TemplateNode n;
  if (tmpl.is_object()) {
    n.kind = TemplateNode::Kind::kObject;
    bool constant = true;
    for (auto it = tmpl.begin(); it != tmpl.end(); ++it) {
      const std::string& key = it.key();
      if (key.size() > kDynamicSuffix.size() && key.ends_with(kDynamicSuffix)) {
        n.keys.push_back(key.substr(0, key.size() - kDynamicSuffix.size()));
        n.values.push_back(CompileDynamic(key, it.value(), limits));
      } else {
        n.keys.push_back(key);
        n.values.push_back(CompileNode(it.value(), limits, depth + 1));
      }
      if (n.values.back().kind != TemplateNode::Kind::kConstant) {
        constant = false;
      }
    }
    if (constant) {
      TemplateNode c;
      c.constant = Json::object();
      for (size_t i = 0; i < n.keys.size(); ++i) {
        c.constant[n.keys[i]] = std::move(n.values[i].constant);
      }
      return c;
    }
    return n;
  }
  if (tmpl.is_array()) {
    n.kind = TemplateNode::Kind::kArray;
    bool constant = true;
    for (const Json& item : tmpl) {
      n.items.push_back(CompileNode(item, limits, depth + 1));
      if (n.items.back().kind != TemplateNode::Kind::kConstant) {
        constant = false;
      }
    }
    if (constant) {
      TemplateNode c;
      c.constant = Json::array();
      for (TemplateNode& item : n.items) {
        c.constant.push_back(std::move(item.constant));
      }
      return c;
    }
    return n;
  }
  n.constant = tmpl;
  return n;
}

absl::StatusOr<Json> EvalNode(const TemplateNode& n, const Json& input,
                              const EvalEnv& env) {
  switch (n.kind) {
    case TemplateNode::Kind::kConstant:
      return n.constant;
    case TemplateNode::Kind::kError:
      return n.error;
    case TemplateNode::Kind::kIntrinsic:
      return n.intrinsic.Eval(input, env);
    case TemplateNode::Kind::kPath: {
      bool found = false;
      auto result = n.path.EvalOptional(input, env, &found);
      if (!result.ok()) return result.status();
      if (!found) {
        bool context = n.path.is_context();
        const Json empty = Json::object();
        const Json& source =
            context ? (env.context != nullptr ? *env.context : empty) : input;
        return AslError(kStatesRuntime,
                        absl::StrCat("The JSONPath '", n.path.text(),
                                     "' specified for the field '", n.field,
                                     "' could not be found in the ",
                                     context ? "context object" : "input", " '",
                                     internal::DumpCompact(source), "'"));
      }
      return result;
    }
    case TemplateNode::Kind::kObject: {
      Json out = Json::object();
      for (size_t i = 0; i < n.keys.size(); ++i) {
        auto v = EvalNode(n.values[i], input, env);
        if (!v.ok()) return v.status();
        out[n.keys[i]] = *std::move(v);
      }
      return out;
    }
    case TemplateNode::Kind::kArray: {
      Json out = Json::array();
      for (const TemplateNode& item : n.items) {
        auto v = EvalNode(item, input, env);
        if (!v.ok()) return v.status();
        out.push_back(*std::move(v));
      }
      return out;
    }
  }
  return Json();
}

}  // namespace

CompiledTemplate CompiledTemplate::Compile(const Json& tmpl,
                                           const Limits& limits) {
  CompiledTemplate out;
  out.root_ =
      std::make_shared<const TemplateNode>(CompileNode(tmpl, limits, 0));
  return out;
}

bool CompiledTemplate::constant() const {
  return root_ == nullptr || root_->kind == TemplateNode::Kind::kConstant;
}

absl::StatusOr<Json> CompiledTemplate::Eval(const Json& input,
                                            const EvalEnv& env) const {
  if (root_ == nullptr) return Json();
  try {
    return EvalNode(*root_, input, env);
  } catch (const Json::exception& e) {
    return AslError(
        kStatesRuntime,
        absl::StrCat("Error evaluating a payload template: ", e.what()));
  }
}

absl::StatusOr<Json> EvalPayloadTemplate(const Json& tmpl, const Json& input,
                                         const EvalEnv& env) {
  return CompiledTemplate::Compile(tmpl, env.limits_or_default())
      .Eval(input, env);
}

}  // namespace onewindow::asl
