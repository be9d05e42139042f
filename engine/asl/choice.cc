// Choice rule evaluation: And/Or/Not, the data-test comparison operators
// (String*, Numeric*, Boolean*, Timestamp*, each with its ...Path form),
// StringMatches and the type tests (IsNull, IsPresent, IsNumeric, IsString,
// IsBoolean, IsTimestamp).
//
// As in AWS Step Functions, a comparison whose operands have the wrong type
// is simply false; a Variable (or ...Path operand) that selects nothing is a
// States.Runtime error, except under IsPresent. Pure functions; thread-safe.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/asl/errors.h"
#include "engine/asl/expr.h"

namespace onewindow::asl {
namespace {

enum class Family { kString, kNumeric, kBoolean, kTimestamp, kMatches, kTest };
enum class Relation { kEq, kLt, kGt, kLe, kGe };

struct Operator {
  std::string_view name;
  Family family;
  Relation relation;
  bool path;  // operand is a path to the comparison value
};

constexpr Operator kOperators[] = {
    {"StringEquals", Family::kString, Relation::kEq, false},
    {"StringEqualsPath", Family::kString, Relation::kEq, true},
    {"StringLessThan", Family::kString, Relation::kLt, false},
    {"StringLessThanPath", Family::kString, Relation::kLt, true},
    {"StringGreaterThan", Family::kString, Relation::kGt, false},
    {"StringGreaterThanPath", Family::kString, Relation::kGt, true},
    {"StringLessThanEquals", Family::kString, Relation::kLe, false},
    {"StringLessThanEqualsPath", Family::kString, Relation::kLe, true},
    {"StringGreaterThanEquals", Family::kString, Relation::kGe, false},
    {"StringGreaterThanEqualsPath", Family::kString, Relation::kGe, true},
    {"StringMatches", Family::kMatches, Relation::kEq, false},
    {"NumericEquals", Family::kNumeric, Relation::kEq, false},
    {"NumericEqualsPath", Family::kNumeric, Relation::kEq, true},
    {"NumericLessThan", Family::kNumeric, Relation::kLt, false},
    {"NumericLessThanPath", Family::kNumeric, Relation::kLt, true},
    {"NumericGreaterThan", Family::kNumeric, Relation::kGt, false},
    {"NumericGreaterThanPath", Family::kNumeric, Relation::kGt, true},
    {"NumericLessThanEquals", Family::kNumeric, Relation::kLe, false},
    {"NumericLessThanEqualsPath", Family::kNumeric, Relation::kLe, true},
    {"NumericGreaterThanEquals", Family::kNumeric, Relation::kGe, false},
    {"NumericGreaterThanEqualsPath", Family::kNumeric, Relation::kGe, true},
    {"BooleanEquals", Family::kBoolean, Relation::kEq, false},
    {"BooleanEqualsPath", Family::kBoolean, Relation::kEq, true},
    {"TimestampEquals", Family::kTimestamp, Relation::kEq, false},
    {"TimestampEqualsPath", Family::kTimestamp, Relation::kEq, true},
    {"TimestampLessThan", Family::kTimestamp, Relation::kLt, false},
    {"TimestampLessThanPath", Family::kTimestamp, Relation::kLt, true},
    {"TimestampGreaterThan", Family::kTimestamp, Relation::kGt, false},
    {"TimestampGreaterThanPath", Family::kTimestamp, Relation::kGt, true},
    {"TimestampLessThanEquals", Family::kTimestamp, Relation::kLe, false},
    {"TimestampLessThanEqualsPath", Family::kTimestamp, Relation::kLe, true},
    {"TimestampGreaterThanEquals", Family::kTimestamp, Relation::kGe, false},
    {"TimestampGreaterThanEqualsPath", Family::kTimestamp, Relation::kGe, true},
    {"IsNull", Family::kTest, Relation::kEq, false},
    {"IsPresent", Family::kTest, Relation::kEq, false},
    {"IsNumeric", Family::kTest, Relation::kEq, false},
    {"IsString", Family::kTest, Relation::kEq, false},
    {"IsBoolean", Family::kTest, Relation::kEq, false},
    {"IsTimestamp", Family::kTest, Relation::kEq, false},
};

absl::Status RuleError(absl::string_view message) {
  return AslError(kStatesRuntime, std::string(message));
}

absl::Status InvalidPath(absl::string_view path) {
  return AslError(kStatesRuntime,
                  absl::StrCat("Invalid path '", path,
                               "': The choice state's condition path "
                               "references an invalid value."));
}

bool Holds(Relation r, int cmp) {
  switch (r) {
    case Relation::kEq:
      return cmp == 0;
    case Relation::kLt:
      return cmp < 0;
    case Relation::kGt:
      return cmp > 0;
    case Relation::kLe:
      return cmp <= 0;
    case Relation::kGe:
      return cmp >= 0;
  }
  return false;
}

template <typename T>
int Sign(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Exact comparison of two JSON numbers (integers compared as integers).
int CompareNumbers(const Json& a, const Json& b) {
  if (a.is_number_float() || b.is_number_float()) {
    return Sign(a.get<long double>(), b.get<long double>());
  }
  bool a_unsigned = a.is_number_unsigned();
  bool b_unsigned = b.is_number_unsigned();
  if (a_unsigned && b_unsigned)
    return Sign(a.get<uint64_t>(), b.get<uint64_t>());
  if (!a_unsigned && !b_unsigned)
    return Sign(a.get<int64_t>(), b.get<int64_t>());
  // One unsigned, one signed.
  if (a_unsigned) {
    int64_t bv = b.get<int64_t>();
    if (bv < 0) return 1;
    return Sign(a.get<uint64_t>(), static_cast<uint64_t>(bv));
  }
  int64_t av = a.get<int64_t>();
  if (av < 0) return -1;
  return Sign(static_cast<uint64_t>(av), b.get<uint64_t>());
}

// First index >= `from` where `needle` occurs in `text` (Knuth-Morris-
// Pratt: linear in both), or npos.
size_t FindFrom(std::string_view text, std::string_view needle, size_t from) {
  if (needle.empty()) return from <= text.size() ? from : std::string::npos;
  std::vector<size_t> fail(needle.size(), 0);
  for (size_t i = 1, k = 0; i < needle.size(); ++i) {
    while (k > 0 && needle[i] != needle[k]) k = fail[k - 1];
    if (needle[i] == needle[k]) ++k;
    fail[i] = k;
  }
  for (size_t i = from, k = 0; i < text.size(); ++i) {
    while (k > 0 && text[i] != needle[k]) k = fail[k - 1];
    if (text[i] == needle[k]) ++k;
    if (k == needle.size()) return i + 1 - needle.size();
  }
  return std::string::npos;
}

// StringMatches: '*' matches any run of characters; "\*" is a literal '*'
// and "\\" a literal backslash. The literal pieces between stars are
// matched leftmost-first, which decides a glob in linear time.
bool WildcardMatch(std::string_view text, std::string_view pattern) {
  std::vector<std::string> pieces(1);
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      pieces.back().push_back(pattern[++i]);
    } else if (c == '*') {
      pieces.emplace_back();
    } else {
      pieces.back().push_back(c);
    }
  }
  if (pieces.size() == 1) return text == pieces[0];
  const std::string& first = pieces.front();
  const std::string& last = pieces.back();
  if (text.size() < first.size() + last.size()) return false;
  if (!text.starts_with(first) || !text.ends_with(last)) return false;
  std::string_view middle = text.substr(0, text.size() - last.size());
  size_t pos = first.size();
  for (size_t k = 1; k + 1 < pieces.size(); ++k) {
    size_t found = FindFrom(middle, pieces[k], pos);
    if (found == std::string::npos) return false;
    pos = found + pieces[k].size();
  }
  return true;
}

absl::StatusOr<bool> EvalRule(const Json& rule, const Json& input,
                              const EvalEnv& env, int depth);

absl::StatusOr<bool> EvalComparison(const Json& rule, const Json& input,
                                    const EvalEnv& env) {
  const Json& variable = rule["Variable"];
  if (!variable.is_string()) {
    return RuleError("The Variable field of a Choice rule must be a string");
  }
  const std::string& var_path = variable.get_ref<const std::string&>();
  const Operator* op = nullptr;
  for (const Operator& candidate : kOperators) {
    if (rule.contains(candidate.name)) {
      op = &candidate;
      break;
    }
  }
  if (op == nullptr) {
    return RuleError(absl::StrCat("The Choice rule for '", var_path,
                                  "' has no comparison operator"));
  }
  const Json& operand = rule[std::string(op->name)];

  bool found = false;
  auto value = EvalPathOptional(var_path, input, env, &found);
  if (!value.ok()) return value.status();

  if (op->family == Family::kTest) {
    if (!operand.is_boolean()) {
      return RuleError(absl::StrCat(
          "The value of ", absl::string_view(op->name.data(), op->name.size()),
          " must be a boolean"));
    }
    bool expected = operand.get<bool>();
    if (op->name == "IsPresent") return found == expected;
    if (!found) return InvalidPath(var_path);
    bool actual = false;
    if (op->name == "IsNull") {
      actual = value->is_null();
    } else if (op->name == "IsNumeric") {
      actual = value->is_number();
    } else if (op->name == "IsString") {
      actual = value->is_string();
    } else if (op->name == "IsBoolean") {
      actual = value->is_boolean();
    } else if (op->name == "IsTimestamp") {
      actual = value->is_string() &&
               IsTimestamp(value->get_ref<const std::string&>());
    }
    return actual == expected;
  }

  if (!found) return InvalidPath(var_path);

  Json expected_value;
  if (op->path) {
    if (!operand.is_string()) {
      return RuleError(absl::StrCat(
          "The value of ", absl::string_view(op->name.data(), op->name.size()),
          " must be a path string"));
    }
    const std::string& other_path = operand.get_ref<const std::string&>();
    bool other_found = false;
    auto other = EvalPathOptional(other_path, input, env, &other_found);
    if (!other.ok()) return other.status();
    if (!other_found) return InvalidPath(other_path);
    expected_value = *std::move(other);
  } else {
    expected_value = operand;
  }
  const Json& actual = *value;

  switch (op->family) {
    case Family::kString: {
      if (!actual.is_string() || !expected_value.is_string()) return false;
      int c = actual.get_ref<const std::string&>().compare(
          expected_value.get_ref<const std::string&>());
      return Holds(op->relation, c < 0 ? -1 : (c > 0 ? 1 : 0));
    }
    case Family::kMatches:
      if (!actual.is_string() || !expected_value.is_string()) return false;
      return WildcardMatch(actual.get_ref<const std::string&>(),
                           expected_value.get_ref<const std::string&>());
    case Family::kNumeric:
      if (!actual.is_number() || !expected_value.is_number()) return false;
      return Holds(op->relation, CompareNumbers(actual, expected_value));
    case Family::kBoolean:
      if (!actual.is_boolean() || !expected_value.is_boolean()) return false;
      return actual.get<bool>() == expected_value.get<bool>();
    case Family::kTimestamp: {
      if (!actual.is_string() || !expected_value.is_string()) return false;
      auto a = ParseTimestamp(actual.get_ref<const std::string&>());
      auto b = ParseTimestamp(expected_value.get_ref<const std::string&>());
      if (!a.ok() || !b.ok()) return false;
      return Holds(op->relation, *a < *b ? -1 : (*b < *a ? 1 : 0));
    }
    case Family::kTest:
      break;
  }
  return false;
}

absl::StatusOr<bool> EvalRule(const Json& rule, const Json& input,
                              const EvalEnv& env, int depth) {
  if (!rule.is_object()) return RuleError("A Choice rule must be an object");
  const int max_depth = env.limits_or_default().max_expression_depth;
  if (depth > max_depth) {
    return RuleError(absl::StrCat("Choice rule ",
                                  LimitMessage(kLimitExpressionDepth, max_depth)));
  }
  if (rule.contains("And") || rule.contains("Or")) {
    bool is_and = rule.contains("And");
    const Json& list = rule[is_and ? "And" : "Or"];
    if (!list.is_array() || list.empty()) {
      return RuleError(absl::StrCat("The value of ", is_and ? "And" : "Or",
                                    " must be a non-empty array of rules"));
    }
    for (const Json& sub : list) {
      auto r = EvalRule(sub, input, env, depth + 1);
      if (!r.ok()) return r;
      if (is_and && !*r) return false;
      if (!is_and && *r) return true;
    }
    return is_and;
  }
  if (rule.contains("Not")) {
    auto r = EvalRule(rule["Not"], input, env, depth + 1);
    if (!r.ok()) return r;
    return !*r;
  }
  if (rule.contains("Variable")) return EvalComparison(rule, input, env);
  return RuleError(
      "A Choice rule must contain And, Or, Not or a Variable with a "
      "comparison operator");
}

}  // namespace

absl::StatusOr<bool> EvalChoiceRule(const Json& rule, const Json& input,
                                    const EvalEnv& env) {
  try {
    return EvalRule(rule, input, env, 0);
  } catch (const Json::exception& e) {
    return AslError(kStatesRuntime,
                    absl::StrCat("Error evaluating a Choice rule: ", e.what()));
  }
}

}  // namespace onewindow::asl
