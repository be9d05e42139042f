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
#include <memory>
#include <optional>
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

}  // namespace

namespace internal {

// A compiled rule. Checks the evaluation makes in order (rule shape,
// Variable, operator, operand) are kept as deferred errors at the node where
// they arise, so that a compiled rule fails exactly where and how the rule
// would when read at evaluation time.
struct RuleNode {
  enum class Kind { kAnd, kOr, kNot, kCompare, kError };
  Kind kind = Kind::kError;
  absl::Status error;              // kError
  std::vector<RuleNode> children;  // kAnd, kOr, kNot
  // kCompare.
  const Operator* op = nullptr;
  std::string variable_text;
  CompiledPath variable;
  absl::Status variable_status;  // a Variable that does not parse
  Json operand;                  // the literal operand
  absl::Status operand_status;   // an operand of the wrong kind
  // ...Path operators: the other path.
  std::string other_text;
  CompiledPath other;
  absl::Status other_status;
  // Timestamp* with a literal: the operand, read once (nullopt: invalid).
  std::optional<Timestamp> operand_timestamp;
};

}  // namespace internal

namespace {

using internal::RuleNode;

RuleNode ErrorRule(absl::Status status) {
  RuleNode n;
  n.kind = RuleNode::Kind::kError;
  n.error = std::move(status);
  return n;
}

std::string_view Name(const Operator& op) { return op.name; }

RuleNode CompileComparison(const Json& rule, const Limits& limits) {
  const Json& variable = rule["Variable"];
  if (!variable.is_string()) {
    return ErrorRule(
        RuleError("The Variable field of a Choice rule must be a string"));
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
    return ErrorRule(RuleError(absl::StrCat("The Choice rule for '", var_path,
                                            "' has no comparison operator")));
  }
  RuleNode n;
  n.kind = RuleNode::Kind::kCompare;
  n.op = op;
  n.variable_text = var_path;
  auto parsed = CompiledPath::Parse(var_path, limits);
  if (parsed.ok()) {
    n.variable = *std::move(parsed);
  } else {
    n.variable_status =
        AslError(kStatesRuntime, std::string(parsed.status().message()));
  }
  const Json& operand = rule[std::string(op->name)];
  std::string_view name = Name(*op);
  if (op->family == Family::kTest) {
    if (!operand.is_boolean()) {
      n.operand_status = RuleError(absl::StrCat(
          "The value of ", absl::string_view(name.data(), name.size()),
          " must be a boolean"));
    }
    n.operand = operand;
    return n;
  }
  if (op->path) {
    if (!operand.is_string()) {
      n.operand_status = RuleError(absl::StrCat(
          "The value of ", absl::string_view(name.data(), name.size()),
          " must be a path string"));
      return n;
    }
    n.other_text = operand.get<std::string>();
    auto other = CompiledPath::Parse(n.other_text, limits);
    if (other.ok()) {
      n.other = *std::move(other);
    } else {
      n.other_status =
          AslError(kStatesRuntime, std::string(other.status().message()));
    }
    return n;
  }
  n.operand = operand;
  if (op->family == Family::kTimestamp && operand.is_string()) {
    auto ts = ParseTimestamp(operand.get_ref<const std::string&>());
    if (ts.ok()) n.operand_timestamp = *ts;
  }
  return n;
}

RuleNode CompileRule(const Json& rule, const Limits& limits, int depth) {
  if (!rule.is_object()) {
    return ErrorRule(RuleError("A Choice rule must be an object"));
  }
  if (depth > limits.max_expression_depth) {
    return ErrorRule(RuleError(absl::StrCat(
        "Choice rule ",
        LimitMessage(kLimitExpressionDepth, limits.max_expression_depth))));
  }
  if (rule.contains("And") || rule.contains("Or")) {
    bool is_and = rule.contains("And");
    const Json& list = rule[is_and ? "And" : "Or"];
    if (!list.is_array() || list.empty()) {
      return ErrorRule(
          RuleError(absl::StrCat("The value of ", is_and ? "And" : "Or",
                                 " must be a non-empty array of rules")));
    }
    RuleNode n;
    n.kind = is_and ? RuleNode::Kind::kAnd : RuleNode::Kind::kOr;
    for (const Json& sub : list) {
      n.children.push_back(CompileRule(sub, limits, depth + 1));
    }
    return n;
  }
  if (rule.contains("Not")) {
    RuleNode n;
    n.kind = RuleNode::Kind::kNot;
    n.children.push_back(CompileRule(rule["Not"], limits, depth + 1));
    return n;
  }
  if (rule.contains("Variable")) return CompileComparison(rule, limits);
  return ErrorRule(
      RuleError("A Choice rule must contain And, Or, Not or a Variable with "
                "a comparison operator"));
}

absl::StatusOr<bool> EvalComparison(const RuleNode& n, const Json& input,
                                    const EvalEnv& env) {
  const Operator* op = n.op;
  if (!n.variable_status.ok()) return n.variable_status;
  bool found = false;
  auto value = n.variable.EvalOptional(input, env, &found);
  if (!value.ok()) return value.status();

  if (op->family == Family::kTest) {
    if (!n.operand_status.ok()) return n.operand_status;
    bool expected = n.operand.get<bool>();
    if (op->name == "IsPresent") return found == expected;
    if (!found) return InvalidPath(n.variable_text);
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

  if (!found) return InvalidPath(n.variable_text);

  Json other_value;
  const Json* expected_value = &n.operand;
  if (op->path) {
    if (!n.operand_status.ok()) return n.operand_status;
    if (!n.other_status.ok()) return n.other_status;
    bool other_found = false;
    auto other = n.other.EvalOptional(input, env, &other_found);
    if (!other.ok()) return other.status();
    if (!other_found) return InvalidPath(n.other_text);
    other_value = *std::move(other);
    expected_value = &other_value;
  }
  const Json& actual = *value;
  const Json& expected = *expected_value;

  switch (op->family) {
    case Family::kString: {
      if (!actual.is_string() || !expected.is_string()) return false;
      int c = actual.get_ref<const std::string&>().compare(
          expected.get_ref<const std::string&>());
      return Holds(op->relation, c < 0 ? -1 : (c > 0 ? 1 : 0));
    }
    case Family::kMatches:
      if (!actual.is_string() || !expected.is_string()) return false;
      return WildcardMatch(actual.get_ref<const std::string&>(),
                           expected.get_ref<const std::string&>());
    case Family::kNumeric:
      if (!actual.is_number() || !expected.is_number()) return false;
      return Holds(op->relation, CompareNumbers(actual, expected));
    case Family::kBoolean:
      if (!actual.is_boolean() || !expected.is_boolean()) return false;
      return actual.get<bool>() == expected.get<bool>();
    case Family::kTimestamp: {
      if (!actual.is_string() || !expected.is_string()) return false;
      auto a = ParseTimestamp(actual.get_ref<const std::string&>());
      if (!a.ok()) return false;
      Timestamp b;
      if (op->path) {
        auto parsed = ParseTimestamp(expected.get_ref<const std::string&>());
        if (!parsed.ok()) return false;
        b = *parsed;
      } else {
        if (!n.operand_timestamp.has_value()) return false;
        b = *n.operand_timestamp;
      }
      return Holds(op->relation, *a < b ? -1 : (b < *a ? 1 : 0));
    }
    case Family::kTest:
      break;
  }
  return false;
}

absl::StatusOr<bool> EvalNode(const RuleNode& n, const Json& input,
                              const EvalEnv& env) {
  switch (n.kind) {
    case RuleNode::Kind::kError:
      return n.error;
    case RuleNode::Kind::kAnd:
    case RuleNode::Kind::kOr: {
      bool is_and = n.kind == RuleNode::Kind::kAnd;
      for (const RuleNode& sub : n.children) {
        auto r = EvalNode(sub, input, env);
        if (!r.ok()) return r;
        if (is_and && !*r) return false;
        if (!is_and && *r) return true;
      }
      return is_and;
    }
    case RuleNode::Kind::kNot: {
      auto r = EvalNode(n.children[0], input, env);
      if (!r.ok()) return r;
      return !*r;
    }
    case RuleNode::Kind::kCompare:
      return EvalComparison(n, input, env);
  }
  return false;
}

}  // namespace

CompiledChoiceRule CompiledChoiceRule::Compile(const Json& rule,
                                               const Limits& limits) {
  CompiledChoiceRule out;
  try {
    out.root_ = std::make_shared<const RuleNode>(CompileRule(rule, limits, 0));
  } catch (const Json::exception& e) {
    out.root_ = std::make_shared<const RuleNode>(ErrorRule(
        AslError(kStatesRuntime,
                 absl::StrCat("Error evaluating a Choice rule: ", e.what()))));
  }
  return out;
}

absl::StatusOr<bool> CompiledChoiceRule::Eval(const Json& input,
                                              const EvalEnv& env) const {
  if (root_ == nullptr) return RuleError("empty Choice rule");
  try {
    return EvalNode(*root_, input, env);
  } catch (const Json::exception& e) {
    return AslError(kStatesRuntime,
                    absl::StrCat("Error evaluating a Choice rule: ", e.what()));
  }
}

absl::StatusOr<bool> EvalChoiceRule(const Json& rule, const Json& input,
                                    const EvalEnv& env) {
  return CompiledChoiceRule::Compile(rule, env.limits_or_default())
      .Eval(input, env);
}

}  // namespace onewindow::asl
