#include "engine/asl/query.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/asl/errors.h"
#include "engine/asl/jsonata/step_functions.h"
#include "openssl/evp.h"

namespace onewindow::asl {

namespace {

absl::StatusOr<std::string> HashHex(std::string_view data,
                                    std::string_view algorithm) {
  const EVP_MD* md = algorithm == "MD5"       ? EVP_md5()
                     : algorithm == "SHA-1"   ? EVP_sha1()
                     : algorithm == "SHA-256" ? EVP_sha256()
                     : algorithm == "SHA-384" ? EVP_sha384()
                     : algorithm == "SHA-512" ? EVP_sha512()
                                              : nullptr;
  if (md == nullptr) {
    return absl::InvalidArgumentError("unknown hash algorithm " +
                                      std::string(algorithm));
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
    return absl::InternalError("digest failed");
  }
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

std::string Shorten(std::string_view s) {
  return s.size() <= 200 ? std::string(s)
                         : std::string(s.substr(0, 197)) + "...";
}

absl::Status QueryError(const JsonataScope& scope, std::string_view text,
                        std::string_view what) {
  std::string cause = "The JSONata expression '" + Shorten(text) + "'";
  if (!scope.field.empty()) {
    cause += " specified for the field '" + scope.field + "'";
  }
  cause += " ";
  cause += what;
  return AslError(kStatesQueryEvaluationError, cause);
}

}  // namespace

bool IsJsonataExpression(std::string_view s) {
  return s.size() >= 4 && s.starts_with("{%") && s.ends_with("%}");
}

std::string_view JsonataBody(std::string_view s) {
  return s.substr(2, s.size() - 4);
}

bool StateIsJsonata(const Json& state, bool top_level) {
  if (state.is_object()) {
    auto it = state.find("QueryLanguage");
    if (it != state.end() && it->is_string()) return *it == "JSONata";
  }
  return top_level;
}

bool DefinitionIsJsonata(const Json& doc) {
  if (!doc.is_object()) return false;
  auto it = doc.find("QueryLanguage");
  return it != doc.end() && it->is_string() && *it == "JSONata";
}

const jsonata::FunctionTable& StepFunctionsTable() {
  static const jsonata::FunctionTable* const kTable = [] {
    auto* table = new jsonata::FunctionTable();
    (void)jsonata::AddStepFunctionsFunctions(table, HashHex);
    return table;
  }();
  return *kTable;
}

void JsonataForms::AddAll(const Json& doc) {
  std::vector<const Json*> stack{&doc};
  while (!stack.empty()) {
    const Json* v = stack.back();
    stack.pop_back();
    if (v->is_object() || v->is_array()) {
      for (const Json& c : *v) stack.push_back(&c);
    } else if (v->is_string()) {
      const std::string& s = v->get_ref<const std::string&>();
      if (IsJsonataExpression(s) && exprs_.find(s) == exprs_.end()) {
        exprs_.emplace(s, jsonata::Compile(JsonataBody(s)));
      }
    }
  }
}

const absl::StatusOr<std::shared_ptr<const jsonata::Expression>>*
JsonataForms::Find(std::string_view text) const {
  auto it = exprs_.find(text);
  return it == exprs_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::optional<Json>> EvalJsonataOptional(
    std::string_view text, const JsonataScope& scope) {
  absl::StatusOr<std::shared_ptr<const jsonata::Expression>> local;
  const absl::StatusOr<std::shared_ptr<const jsonata::Expression>>* expr =
      scope.forms != nullptr ? scope.forms->Find(text) : nullptr;
  if (expr == nullptr) {
    local = jsonata::Compile(JsonataBody(text));
    expr = &local;
  }
  if (!expr->ok()) {
    return QueryError(scope, text,
                      "does not compile: " +
                          std::string(expr->status().message()));
  }
  jsonata::Bindings bindings;
  bindings.functions = &StepFunctionsTable();
  bindings.random = scope.random;
  bindings.clock = scope.clock;
  if (scope.variables != nullptr && scope.variables->is_object()) {
    for (const auto& [name, value] : scope.variables->items()) {
      bindings.SetRef(name, value);
    }
  }
  static const Json* const kEmpty = new Json(Json::object());
  bindings.SetRef("states", scope.states != nullptr ? *scope.states : *kEmpty);
  const Json* input = nullptr;
  if (scope.states != nullptr) {
    auto it = scope.states->find("input");
    if (it != scope.states->end()) input = &*it;
  }
  auto result = jsonata::Evaluate(***expr, input, bindings);
  if (!result.ok()) {
    return QueryError(scope, text,
                      "failed: " + std::string(result.status().message()));
  }
  return *std::move(result);
}

absl::StatusOr<Json> EvalJsonata(std::string_view text,
                                 const JsonataScope& scope) {
  auto v = EvalJsonataOptional(text, scope);
  if (!v.ok()) return v.status();
  if (!v->has_value()) {
    return QueryError(scope, text, "returned nothing (undefined)");
  }
  return std::move(**v);
}

absl::StatusOr<Json> EvalJsonataTemplate(const Json& tmpl,
                                         const JsonataScope& scope) {
  if (tmpl.is_string()) {
    const std::string& s = tmpl.get_ref<const std::string&>();
    if (IsJsonataExpression(s)) return EvalJsonata(s, scope);
    return tmpl;
  }
  if (tmpl.is_object()) {
    Json out = Json::object();
    for (const auto& [k, v] : tmpl.items()) {
      auto r = EvalJsonataTemplate(v, scope);
      if (!r.ok()) return r.status();
      out[k] = std::move(*r);
    }
    return out;
  }
  if (tmpl.is_array()) {
    Json out = Json::array();
    for (const Json& v : tmpl) {
      auto r = EvalJsonataTemplate(v, scope);
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    return out;
  }
  return tmpl;
}

absl::Status CheckJsonataSyntax(std::string_view text) {
  auto expr = jsonata::Compile(JsonataBody(text));
  return expr.ok() ? absl::OkStatus() : expr.status();
}

}  // namespace onewindow::asl
