// JSONPath parsing and selection, and the path-level ASL operations of
// expr.h: EvalPath, EvalPathOptional, IsValidPath, IsValidReferencePath and
// ApplyResultPath.
//
// Pure functions over immutable data; thread-safe.
#include "engine/asl/json_path.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
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
#include "engine/asl/json_parse.h"

namespace onewindow::asl {
namespace internal {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsVarStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsVarChar(char c) { return IsVarStart(c) || (c >= '0' && c <= '9'); }

// Recursive-descent parser over one path or filter expression. Recursion
// goes through ParseOr and '!' only, each counted against
// limits.max_expression_depth before it descends.
class PathParser {
 public:
  PathParser(std::string_view text, const Limits& limits)
      : text_(text), limits_(limits) {}

  // Parses a whole path; fails unless every character is consumed.
  absl::StatusOr<std::shared_ptr<const JsonPath>> ParseWhole(
      bool allow_current) {
    auto path = ParsePath(allow_current, /*in_filter=*/false);
    if (!path.ok()) return path.status();
    if (pos_ != text_.size()) {
      return Error(absl::StrCat("unexpected character '",
                                std::string(1, text_[pos_]), "'"));
    }
    return path;
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSONPath '",
                                                   Av(text_), "': ", Av(what),
                                                   " at position ", pos_));
  }

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void SkipSpaces() {
    while (!AtEnd() && IsSpace(text_[pos_])) ++pos_;
  }
  bool Consume(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }

  // Counts one level of nesting for the lifetime of the guard.
  class DepthGuard {
   public:
    explicit DepthGuard(PathParser* p) : p_(p) { ++p_->depth_; }
    ~DepthGuard() { --p_->depth_; }
    bool exceeded() const {
      return p_->depth_ > p_->limits_.max_expression_depth;
    }

   private:
    PathParser* p_;
  };

  absl::Status DepthError() const {
    return Error(
        LimitMessage(kLimitExpressionDepth, limits_.max_expression_depth));
  }

  // Path: root followed by segments. Inside a filter the path ends at the
  // first character that cannot continue it.
  absl::StatusOr<std::shared_ptr<const JsonPath>> ParsePath(bool allow_current,
                                                            bool in_filter) {
    auto path = std::make_shared<JsonPath>();
    size_t start = pos_;
    if (Peek() == '$' && Peek(1) == '$') {
      path->root = PathRoot::kContext;
      pos_ += 2;
    } else if (Peek() == '$' && IsVarStart(Peek(1))) {
      path->root = PathRoot::kVariable;
      pos_ += 1;
      while (!AtEnd() && IsVarChar(Peek())) path->variable += text_[pos_++];
    } else if (Peek() == '$') {
      path->root = PathRoot::kInput;
      pos_ += 1;
    } else if (Peek() == '@' && allow_current) {
      path->root = PathRoot::kCurrent;
      pos_ += 1;
    } else {
      return Error("a path must start with '$'");
    }
    while (!AtEnd()) {
      char c = Peek();
      if (c == '.') {
        PathSegment seg;
        if (Peek(1) == '.') {
          seg.deep = true;
          pos_ += 2;
          if (Peek() == '[') {
            OW_ASL_RETURN_IF_ERROR(ParseBracket(&seg));
            path->segments.push_back(std::move(seg));
            continue;
          }
        } else {
          pos_ += 1;
        }
        if (Consume('*')) {
          seg.kind = PathSegment::Kind::kWildcard;
        } else {
          std::string name;
          while (!AtEnd() && !EndsDotName(Peek(), in_filter)) {
            name.push_back(text_[pos_++]);
          }
          if (name.empty()) return Error("empty property name");
          seg.kind = PathSegment::Kind::kName;
          seg.names.push_back(std::move(name));
        }
        path->segments.push_back(std::move(seg));
      } else if (c == '[') {
        PathSegment seg;
        OW_ASL_RETURN_IF_ERROR(ParseBracket(&seg));
        path->segments.push_back(std::move(seg));
      } else if (in_filter) {
        break;
      } else {
        return Error(
            absl::StrCat("unexpected character '", std::string(1, c), "'"));
      }
    }
    path->text = std::string(text_.substr(start, pos_ - start));
    if (path->segments.size() > static_cast<size_t>(limits_.max_json_depth)) {
      return Error(
          absl::StrCat("a path of ", path->segments.size(), " segments: ",
                       LimitMessage(kLimitJsonDepth, limits_.max_json_depth)));
    }
    for (const PathSegment& seg : path->segments) {
      bool single = seg.kind == PathSegment::Kind::kName ||
                    seg.kind == PathSegment::Kind::kIndex;
      if (!single || seg.deep) {
        path->definite = false;
        path->reference = false;
      }
    }
    return std::shared_ptr<const JsonPath>(std::move(path));
  }

  static bool EndsDotName(char c, bool in_filter) {
    if (c == '.' || c == '[' || c == ']') return true;
    if (!in_filter) return false;
    return IsSpace(c) || c == ')' || c == '=' || c == '!' || c == '<' ||
           c == '>' || c == '&' || c == '|' || c == ',' || c == ']';
  }

  // A quoted name: '...' or "...". A backslash before the delimiter or
  // another backslash escapes it; any other backslash is kept literally.
  absl::StatusOr<std::string> ParseQuoted() {
    char q = Peek();
    ++pos_;
    std::string out;
    while (true) {
      if (AtEnd()) return Error("unterminated quoted name");
      char c = text_[pos_++];
      if (c == q) break;
      if (c == '\\' && !AtEnd()) {
        char n = text_[pos_];
        if (n == q || n == '\\') {
          out.push_back(n);
          ++pos_;
          continue;
        }
      }
      out.push_back(c);
    }
    return out;
  }

  absl::StatusOr<int64_t> ParseInt() {
    SkipSpaces();
    bool neg = Consume('-');
    if (!IsDigit(Peek())) return Error("expected an integer");
    int64_t v = 0;
    while (IsDigit(Peek())) {
      if (v > (INT64_MAX - 9) / 10) return Error("integer too large");
      v = v * 10 + (text_[pos_++] - '0');
    }
    SkipSpaces();
    return neg ? -v : v;
  }

  absl::Status ParseBracket(PathSegment* seg) {
    ++pos_;  // '['
    SkipSpaces();
    char c = Peek();
    if (c == '*') {
      ++pos_;
      SkipSpaces();
      if (!Consume(']')) return Error("expected ']'");
      seg->kind = PathSegment::Kind::kWildcard;
      return absl::OkStatus();
    }
    if (c == '?') {
      ++pos_;
      SkipSpaces();
      if (!Consume('(')) return Error("expected '(' after '?'");
      auto expr = ParseOr();
      if (!expr.ok()) return expr.status();
      SkipSpaces();
      if (!Consume(')')) return Error("expected ')' closing the filter");
      SkipSpaces();
      if (!Consume(']')) return Error("expected ']'");
      seg->kind = PathSegment::Kind::kFilter;
      seg->filter = *std::move(expr);
      return absl::OkStatus();
    }
    if (c == '\'' || c == '"') {
      while (true) {
        SkipSpaces();
        if (Peek() != '\'' && Peek() != '"') return Error("expected a name");
        auto name = ParseQuoted();
        if (!name.ok()) return name.status();
        seg->names.push_back(*std::move(name));
        SkipSpaces();
        if (Consume(']')) break;
        if (!Consume(',')) return Error("expected ',' or ']'");
      }
      seg->kind = seg->names.size() == 1 ? PathSegment::Kind::kName
                                         : PathSegment::Kind::kNames;
      return absl::OkStatus();
    }
    if (c == '-' || c == ':' || IsDigit(c)) {
      std::optional<int64_t> first;
      if (Peek() != ':') {
        auto v = ParseInt();
        if (!v.ok()) return v.status();
        first = *v;
      }
      if (Peek() == ':') {
        seg->kind = PathSegment::Kind::kSlice;
        seg->slice_start = first;
        ++pos_;
        SkipSpaces();
        if (Peek() != ':' && Peek() != ']') {
          auto v = ParseInt();
          if (!v.ok()) return v.status();
          seg->slice_end = *v;
        }
        if (Consume(':')) {
          SkipSpaces();
          if (Peek() != ']') {
            auto v = ParseInt();
            if (!v.ok()) return v.status();
            if (*v == 0) return Error("slice step cannot be zero");
            seg->slice_step = *v;
          }
        }
        if (!Consume(']')) return Error("expected ']'");
        return absl::OkStatus();
      }
      seg->indexes.push_back(*first);
      while (Consume(',')) {
        auto v = ParseInt();
        if (!v.ok()) return v.status();
        seg->indexes.push_back(*v);
      }
      if (!Consume(']')) return Error("expected ']'");
      seg->kind = seg->indexes.size() == 1 ? PathSegment::Kind::kIndex
                                           : PathSegment::Kind::kIndexes;
      return absl::OkStatus();
    }
    return Error("invalid bracket expression");
  }

  // ---- filter expressions ----

  using ExprPtr = std::shared_ptr<const FilterExpr>;

  absl::StatusOr<ExprPtr> ParseOr() {
    DepthGuard guard(this);
    if (guard.exceeded()) return DepthError();
    auto left = ParseAnd();
    if (!left.ok()) return left;
    std::vector<ExprPtr> items{*left};
    while (true) {
      SkipSpaces();
      if (Peek() == '|' && Peek(1) == '|') {
        pos_ += 2;
        auto next = ParseAnd();
        if (!next.ok()) return next;
        items.push_back(*next);
      } else {
        break;
      }
    }
    if (items.size() == 1) return items[0];
    auto e = std::make_shared<FilterExpr>();
    e->kind = FilterExpr::Kind::kOr;
    e->children = std::move(items);
    return ExprPtr(std::move(e));
  }

  absl::StatusOr<ExprPtr> ParseAnd() {
    auto left = ParseUnary();
    if (!left.ok()) return left;
    std::vector<ExprPtr> items{*left};
    while (true) {
      SkipSpaces();
      if (Peek() == '&' && Peek(1) == '&') {
        pos_ += 2;
        auto next = ParseUnary();
        if (!next.ok()) return next;
        items.push_back(*next);
      } else {
        break;
      }
    }
    if (items.size() == 1) return items[0];
    auto e = std::make_shared<FilterExpr>();
    e->kind = FilterExpr::Kind::kAnd;
    e->children = std::move(items);
    return ExprPtr(std::move(e));
  }

  absl::StatusOr<ExprPtr> ParseUnary() {
    SkipSpaces();
    if (Peek() == '!' && Peek(1) != '=') {
      ++pos_;
      DepthGuard guard(this);
      if (guard.exceeded()) return DepthError();
      auto inner = ParseUnary();
      if (!inner.ok()) return inner;
      auto e = std::make_shared<FilterExpr>();
      e->kind = FilterExpr::Kind::kNot;
      e->children.push_back(*inner);
      return ExprPtr(std::move(e));
    }
    if (Peek() == '(') {
      ++pos_;
      auto inner = ParseOr();
      if (!inner.ok()) return inner;
      SkipSpaces();
      if (!Consume(')')) return Error("expected ')'");
      return inner;
    }
    auto lhs = ParseOperand();
    if (!lhs.ok()) return lhs.status();
    SkipSpaces();
    std::string op;
    static constexpr std::string_view kOps[] = {
        "==", "!=", "<=", ">=", "=~", "<", ">"};
    for (std::string_view candidate : kOps) {
      if (text_.substr(pos_, candidate.size()) == candidate) {
        op = std::string(candidate);
        pos_ += candidate.size();
        break;
      }
    }
    auto e = std::make_shared<FilterExpr>();
    e->lhs = *std::move(lhs);
    if (op.empty()) {
      if (!e->lhs.is_path) return Error("expected a comparison operator");
      e->kind = FilterExpr::Kind::kExists;
      return ExprPtr(std::move(e));
    }
    SkipSpaces();
    absl::StatusOr<FilterOperand> rhs;
    if (op == "=~") {
      rhs = ParseRegex();
    } else {
      rhs = ParseOperand();
    }
    if (!rhs.ok()) return rhs.status();
    e->kind = FilterExpr::Kind::kCompare;
    e->op = std::move(op);
    e->rhs = *std::move(rhs);
    return ExprPtr(std::move(e));
  }

  // A regex literal /pattern/flags, kept as {"regex": pattern, "flags": f}.
  absl::StatusOr<FilterOperand> ParseRegex() {
    if (!Consume('/')) return Error("expected a /regex/");
    std::string pattern;
    while (true) {
      if (AtEnd()) return Error("unterminated regex");
      char c = text_[pos_++];
      if (c == '/') break;
      if (c == '\\' && Peek() == '/') {
        pattern.push_back('/');
        ++pos_;
        continue;
      }
      pattern.push_back(c);
    }
    std::string flags;
    while (Peek() == 'i' || Peek() == 'm' || Peek() == 's' || Peek() == 'x') {
      flags.push_back(text_[pos_++]);
    }
    FilterOperand op;
    auto regex =
        LinearRegex::Compile(pattern, flags, limits_.max_expression_depth);
    if (regex.ok()) op.regex = *std::move(regex);
    op.literal = Json{{"regex", std::move(pattern)}, {"flags", flags}};
    return op;
  }

  absl::StatusOr<FilterOperand> ParseOperand() {
    SkipSpaces();
    FilterOperand op;
    char c = Peek();
    if (c == '@' || c == '$') {
      auto path = ParsePath(/*allow_current=*/true, /*in_filter=*/true);
      if (!path.ok()) return path.status();
      op.is_path = true;
      op.path = *std::move(path);
      return op;
    }
    if (c == '\'' || c == '"') {
      auto s = ParseQuoted();
      if (!s.ok()) return s.status();
      op.literal = *std::move(s);
      return op;
    }
    if (c == '-' || IsDigit(c)) {
      Json num = ScanNumber(text_, &pos_);
      if (num.is_discarded() || !num.is_number()) {
        return Error("invalid number");
      }
      op.literal = std::move(num);
      return op;
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        op.literal = word == "true"    ? Json(true)
                     : word == "false" ? Json(false)
                                       : Json(nullptr);
        return op;
      }
    }
    return Error("expected a filter operand");
  }

  std::string_view text_;
  const Limits& limits_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// ---- selection ----

const Json& EmptyObject() {
  static const Json* const kEmpty = new Json(Json::object());
  return *kEmpty;
}

// `v` and everything below it, parents before children, in document order;
// without recursion. False when the budget runs out.
bool CollectDescendants(const Json& v, PathBudget* budget,
                        std::vector<const Json*>* out) {
  std::vector<const Json*> stack{&v};
  std::vector<const Json*> children;
  while (!stack.empty()) {
    const Json* node = stack.back();
    stack.pop_back();
    if (!budget->Spend(1)) return false;
    out->push_back(node);
    if (node->is_structured()) {
      children.clear();
      for (const Json& child : *node) children.push_back(&child);
      stack.insert(stack.end(), children.rbegin(), children.rend());
    }
  }
  return true;
}

bool EvalFilter(const FilterExpr& e, const Json& current,
                const SelectRoots& roots);

// Resolves a filter operand: absent (nullopt) when a definite path matches
// nothing; an array of matches for an indefinite path.
std::optional<Json> ResolveOperand(const FilterOperand& op, const Json& current,
                                   const SelectRoots& roots) {
  if (!op.is_path) return op.literal;
  SelectRoots sub = roots;
  sub.current = &current;
  std::vector<const Json*> matches;
  SelectJsonPath(*op.path, sub, &matches);
  if (op.path->definite) {
    if (matches.empty()) return std::nullopt;
    return *matches.front();
  }
  Json arr = Json::array();
  for (const Json* m : matches) arr.push_back(*m);
  return arr;
}

bool FilterEquals(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    return a.get<double>() == b.get<double>();
  }
  if (a.type() != b.type()) return false;
  return a == b;
}

bool FilterCompare(const FilterExpr& e, const Json& current,
                   const SelectRoots& roots) {
  std::optional<Json> lhs = ResolveOperand(e.lhs, current, roots);
  if (e.op == "=~") {
    if (!lhs.has_value() || !lhs->is_string() || e.rhs.regex == nullptr) {
      return false;
    }
    return e.rhs.regex->FullMatch(lhs->get_ref<const std::string&>(),
                                  &roots.budget->used, roots.budget->max) ==
           LinearRegex::Result::kMatch;
  }
  std::optional<Json> rhs = ResolveOperand(e.rhs, current, roots);
  if (e.op == "!=") {
    if (!lhs.has_value() || !rhs.has_value()) return true;
    return !FilterEquals(*lhs, *rhs);
  }
  if (!lhs.has_value() || !rhs.has_value()) return false;
  if (e.op == "==") return FilterEquals(*lhs, *rhs);
  int cmp;
  if (lhs->is_number() && rhs->is_number()) {
    double a = lhs->get<double>();
    double b = rhs->get<double>();
    cmp = a < b ? -1 : (a > b ? 1 : 0);
  } else if (lhs->is_string() && rhs->is_string()) {
    int c = lhs->get_ref<const std::string&>().compare(
        rhs->get_ref<const std::string&>());
    cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    return false;
  }
  if (e.op == "<") return cmp < 0;
  if (e.op == "<=") return cmp <= 0;
  if (e.op == ">") return cmp > 0;
  if (e.op == ">=") return cmp >= 0;
  return false;
}

bool EvalFilter(const FilterExpr& e, const Json& current,
                const SelectRoots& roots) {
  if (!roots.budget->Spend(1)) return false;
  switch (e.kind) {
    case FilterExpr::Kind::kOr:
      for (const auto& c : e.children) {
        if (EvalFilter(*c, current, roots)) return true;
      }
      return false;
    case FilterExpr::Kind::kAnd:
      for (const auto& c : e.children) {
        if (!EvalFilter(*c, current, roots)) return false;
      }
      return true;
    case FilterExpr::Kind::kNot:
      return !EvalFilter(*e.children[0], current, roots);
    case FilterExpr::Kind::kExists: {
      SelectRoots sub = roots;
      sub.current = &current;
      std::vector<const Json*> matches;
      SelectJsonPath(*e.lhs.path, sub, &matches);
      return !matches.empty();
    }
    case FilterExpr::Kind::kCompare:
      return FilterCompare(e, current, roots);
  }
  return false;
}

std::optional<size_t> ResolveIndex(int64_t index, size_t size) {
  int64_t n = static_cast<int64_t>(size);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return std::nullopt;
  return static_cast<size_t>(index);
}

void ApplySelector(const PathSegment& seg, const Json& v,
                   const SelectRoots& roots, std::vector<const Json*>* out) {
  switch (seg.kind) {
    case PathSegment::Kind::kName:
    case PathSegment::Kind::kNames:
      if (!roots.budget->Spend(static_cast<int64_t>(seg.names.size()))) return;
      if (!v.is_object()) return;
      for (const std::string& name : seg.names) {
        auto it = v.find(name);
        if (it != v.end()) out->push_back(&*it);
      }
      return;
    case PathSegment::Kind::kIndex:
    case PathSegment::Kind::kIndexes:
      if (!roots.budget->Spend(static_cast<int64_t>(seg.indexes.size()))) {
        return;
      }
      if (!v.is_array()) return;
      for (int64_t index : seg.indexes) {
        if (auto i = ResolveIndex(index, v.size())) out->push_back(&v[*i]);
      }
      return;
    case PathSegment::Kind::kSlice: {
      if (!v.is_array()) return;
      int64_t n = static_cast<int64_t>(v.size());
      int64_t step = seg.slice_step;
      auto norm = [n](int64_t x) { return x < 0 ? x + n : x; };
      if (!roots.budget->Spend(n)) return;
      // Steps may be as large as the parser allows: never step past the end
      // (no overflow).
      if (step > 0) {
        int64_t start = seg.slice_start
                            ? std::clamp<int64_t>(norm(*seg.slice_start), 0, n)
                            : 0;
        int64_t end =
            seg.slice_end ? std::clamp<int64_t>(norm(*seg.slice_end), 0, n) : n;
        for (int64_t i = start; i < end;) {
          out->push_back(&v[i]);
          if (end - i <= step) break;
          i += step;
        }
      } else {
        int64_t start = seg.slice_start ? std::clamp<int64_t>(
                                              norm(*seg.slice_start), -1, n - 1)
                                        : n - 1;
        int64_t end = seg.slice_end
                          ? std::clamp<int64_t>(norm(*seg.slice_end), -1, n - 1)
                          : -1;
        for (int64_t i = start; i > end;) {
          out->push_back(&v[i]);
          if (i - end <= -step) break;
          i += step;
        }
      }
      return;
    }
    case PathSegment::Kind::kWildcard:
      if (!roots.budget->Spend(
              v.is_structured() ? static_cast<int64_t>(v.size()) : 1)) {
        return;
      }
      if (v.is_object() || v.is_array()) {
        for (const Json& child : v) out->push_back(&child);
      }
      return;
    case PathSegment::Kind::kFilter:
      if (v.is_array()) {
        for (const Json& child : v) {
          if (EvalFilter(*seg.filter, child, roots)) out->push_back(&child);
        }
      } else if (v.is_object()) {
        if (EvalFilter(*seg.filter, v, roots)) out->push_back(&v);
      }
      return;
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const JsonPath>> ParseJsonPath(
    std::string_view text, bool allow_current, const Limits& limits) {
  if (text.size() > limits.max_expression_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid JSONPath of ", text.size(), " characters: ",
        LimitMessage(kLimitExpressionLength,
                     static_cast<int64_t>(limits.max_expression_length))));
  }
  PathParser parser(text, limits);
  return parser.ParseWhole(allow_current);
}

void SelectJsonPath(const JsonPath& path, const SelectRoots& roots,
                    std::vector<const Json*>* out) {
  const Json* root = nullptr;
  switch (path.root) {
    case PathRoot::kInput:
      root = roots.input;
      break;
    case PathRoot::kContext:
      root = roots.context != nullptr ? roots.context : &EmptyObject();
      break;
    case PathRoot::kCurrent:
      root = roots.current;
      break;
    case PathRoot::kVariable:
      if (roots.variables != nullptr && roots.variables->is_object()) {
        auto it = roots.variables->find(path.variable);
        if (it != roots.variables->end()) root = &*it;
      }
      break;
  }
  if (root == nullptr) return;
  if (!roots.budget->Spend(1)) return;
  std::vector<const Json*> current{root};
  std::vector<const Json*> next;
  std::vector<const Json*> scope;
  for (const PathSegment& seg : path.segments) {
    next.clear();
    for (const Json* v : current) {
      if (roots.budget->exhausted()) return;
      if (!seg.deep) {
        ApplySelector(seg, *v, roots, &next);
        continue;
      }
      scope.clear();
      if (!CollectDescendants(*v, roots.budget, &scope)) return;
      for (const Json* d : scope) {
        if (roots.budget->exhausted()) return;
        if (seg.kind == PathSegment::Kind::kFilter) {
          // Deep scan with a filter tests every object node once.
          if (d->is_object() && EvalFilter(*seg.filter, *d, roots)) {
            next.push_back(d);
          }
        } else {
          ApplySelector(seg, *d, roots, &next);
        }
      }
    }
    current.swap(next);
    if (current.empty() || roots.budget->exhausted()) return;
  }
  out->insert(out->end(), current.begin(), current.end());
}

std::string NormalizedPath(const JsonPath& path) {
  std::string out = path.root == PathRoot::kContext    ? "$$"
                    : path.root == PathRoot::kCurrent  ? "@"
                    : path.root == PathRoot::kVariable ? "$" + path.variable
                                                       : "$";
  for (const PathSegment& seg : path.segments) {
    if (seg.deep) out += "..";
    switch (seg.kind) {
      case PathSegment::Kind::kName:
      case PathSegment::Kind::kNames: {
        out += "[";
        for (size_t i = 0; i < seg.names.size(); ++i) {
          if (i > 0) out += ",";
          absl::StrAppend(&out, "'", seg.names[i], "'");
        }
        out += "]";
        break;
      }
      case PathSegment::Kind::kIndex:
      case PathSegment::Kind::kIndexes: {
        out += "[";
        for (size_t i = 0; i < seg.indexes.size(); ++i) {
          if (i > 0) out += ",";
          absl::StrAppend(&out, seg.indexes[i]);
        }
        out += "]";
        break;
      }
      case PathSegment::Kind::kSlice:
        out += "[";
        if (seg.slice_start) absl::StrAppend(&out, *seg.slice_start);
        out += ":";
        if (seg.slice_end) absl::StrAppend(&out, *seg.slice_end);
        if (seg.slice_step != 1) absl::StrAppend(&out, ":", seg.slice_step);
        out += "]";
        break;
      case PathSegment::Kind::kWildcard:
        out += "[*]";
        break;
      case PathSegment::Kind::kFilter:
        out += "[?]";
        break;
    }
  }
  return out;
}

Json ScanNumber(std::string_view text, size_t* pos) {
  auto at = [&](size_t i) { return i < text.size() ? text[i] : '\0'; };
  auto digit = [](char ch) { return ch >= '0' && ch <= '9'; };
  const size_t start = *pos;
  if (at(*pos) == '-') ++*pos;
  while (digit(at(*pos)) || at(*pos) == '.' || at(*pos) == 'e' ||
         at(*pos) == 'E' ||
         ((at(*pos) == '+' || at(*pos) == '-') &&
          (text[*pos - 1] == 'e' || text[*pos - 1] == 'E'))) {
    ++*pos;
  }
  return Json::parse(text.substr(start, *pos - start), nullptr,
                     /*allow_exceptions=*/false);
}

std::string DumpCompact(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

absl::StatusOr<Json> EvalParsedPathOptional(const JsonPath& path,
                                            const Json& input,
                                            const EvalEnv& env, bool* found) {
  *found = false;
  const Limits& limits = env.limits_or_default();
  PathBudget budget;
  budget.max = limits.max_path_steps;
  SelectRoots roots;
  roots.input = &input;
  roots.context = env.context;
  roots.variables = env.variables;
  roots.budget = &budget;
  std::vector<const Json*> matches;
  SelectJsonPath(path, roots, &matches);
  if (budget.exhausted()) {
    return AslError(kStatesRuntime,
                    absl::StrCat(LimitMessage(kLimitPathSteps, budget.max),
                                 " evaluating '", path.text, "'"));
  }
  if (path.definite) {
    if (matches.empty()) return Json();
    *found = true;
    return *matches.front();
  }
  if (limits.max_payload_bytes > 0) {
    size_t total = 2;
    for (const Json* m : matches) {
      total += 1 + JsonTextSize(*m, limits.max_payload_bytes);
      if (total > limits.max_payload_bytes) {
        return AslError(
            kStatesDataLimitExceeded,
            absl::StrCat(
                "the matches of '", path.text, "': ",
                LimitMessage(kLimitPayloadBytes,
                             static_cast<int64_t>(limits.max_payload_bytes),
                             "bytes")));
      }
    }
  }
  *found = true;
  Json out = Json::array();
  for (const Json* m : matches) out.push_back(*m);
  return out;
}

absl::StatusOr<Json> EvalParsedPath(const JsonPath& path, const Json& input,
                                    const EvalEnv& env) {
  bool found = false;
  auto value = EvalParsedPathOptional(path, input, env, &found);
  if (!value.ok()) return value.status();
  if (!found) {
    return AslError(kStatesRuntime, absl::StrCat("Invalid path '", path.text,
                                                 "' : No results for path: ",
                                                 NormalizedPath(path)));
  }
  return value;
}

absl::StatusOr<Json> ApplyParsedResultPath(const JsonPath& path, Json input,
                                           Json result) {
  auto failure = [&]() {
    return AslError(
        kStatesResultPathMatchFailure,
        absl::StrCat("Unable to apply ResultPath configuration with "
                     "ResultPath '",
                     path.text, "' on input '", DumpCompact(input), "'"));
  };
  if (!path.reference || path.root != PathRoot::kInput) return failure();
  const auto& segments = path.segments;
  if (segments.empty()) return result;
  // First walk without changing anything, so that a failure reports the
  // input as it came.
  {
    const Json* cur = &input;
    bool creating = false;
    for (size_t i = 0; i < segments.size(); ++i) {
      const PathSegment& seg = segments[i];
      bool last = i + 1 == segments.size();
      if (seg.kind == PathSegment::Kind::kName) {
        if (!creating && !cur->is_object()) return failure();
        if (last || creating) continue;
        auto it = cur->find(seg.names[0]);
        if (it == cur->end()) {
          creating = true;
        } else {
          cur = &*it;
        }
      } else {
        if (creating || !cur->is_array()) return failure();
        int64_t index = seg.indexes[0];
        int64_t n = static_cast<int64_t>(cur->size());
        if (index < 0) index += n;
        if (index < 0 || index >= n) return failure();
        if (!last) cur = &(*cur)[static_cast<size_t>(index)];
      }
    }
  }
  Json* cur = &input;
  for (size_t i = 0; i < segments.size(); ++i) {
    const PathSegment& seg = segments[i];
    bool last = i + 1 == segments.size();
    if (seg.kind == PathSegment::Kind::kName) {
      const std::string& name = seg.names[0];
      if (last) {
        (*cur)[name] = std::move(result);
        break;
      }
      auto it = cur->find(name);
      if (it == cur->end()) {
        cur = &((*cur)[name] = Json::object());
      } else {
        cur = &*it;
      }
    } else {
      int64_t index = seg.indexes[0];
      if (index < 0) index += static_cast<int64_t>(cur->size());
      if (last) {
        (*cur)[static_cast<size_t>(index)] = std::move(result);
        break;
      }
      cur = &(*cur)[static_cast<size_t>(index)];
    }
  }
  return input;
}

}  // namespace internal

namespace {

absl::StatusOr<std::shared_ptr<const internal::JsonPath>> ParseOrRuntime(
    std::string_view path, const EvalEnv& env) {
  auto parsed = internal::ParseJsonPath(path, /*allow_current=*/false,
                                        env.limits_or_default());
  if (!parsed.ok()) {
    return AslError(kStatesRuntime, std::string(parsed.status().message()));
  }
  return parsed;
}

}  // namespace

absl::StatusOr<Json> EvalPathOptional(std::string_view path, const Json& input,
                                      const EvalEnv& env, bool* found) {
  *found = false;
  auto parsed = ParseOrRuntime(path, env);
  if (!parsed.ok()) return parsed.status();
  return internal::EvalParsedPathOptional(**parsed, input, env, found);
}

absl::StatusOr<Json> EvalPath(std::string_view path, const Json& input,
                              const EvalEnv& env) {
  auto parsed = ParseOrRuntime(path, env);
  if (!parsed.ok()) return parsed.status();
  return internal::EvalParsedPath(**parsed, input, env);
}

bool IsValidPath(std::string_view path) {
  return internal::ParseJsonPath(path).ok();
}

bool IsValidReferencePath(std::string_view path) {
  auto parsed = internal::ParseJsonPath(path);
  return parsed.ok() && (*parsed)->reference;
}

absl::StatusOr<Json> ApplyResultPath(std::string_view path, const Json& input,
                                     const Json& result) {
  auto parsed = internal::ParseJsonPath(path);
  if (!parsed.ok()) {
    return AslError(
        kStatesResultPathMatchFailure,
        absl::StrCat("Unable to apply ResultPath configuration with "
                     "ResultPath '",
                     internal::Av(path), "' on input '",
                     internal::DumpCompact(input), "'"));
  }
  return internal::ApplyParsedResultPath(**parsed, input, result);
}

}  // namespace onewindow::asl

// ---- CompiledPath, PathField (compiled.h) ----

namespace onewindow::asl {

absl::StatusOr<CompiledPath> CompiledPath::Parse(std::string_view text,
                                                 const Limits& limits) {
  auto parsed = internal::ParseJsonPath(text, /*allow_current=*/false, limits);
  if (!parsed.ok()) return parsed.status();
  CompiledPath out;
  out.path_ = *std::move(parsed);
  return out;
}

const std::string& CompiledPath::text() const {
  static const std::string* const kEmpty = new std::string();
  return path_ != nullptr ? path_->text : *kEmpty;
}

bool CompiledPath::is_context() const {
  return path_ != nullptr && path_->root == internal::PathRoot::kContext;
}

bool CompiledPath::definite() const {
  return path_ != nullptr && path_->definite;
}

bool CompiledPath::is_root() const {
  return path_ != nullptr && path_->root == internal::PathRoot::kInput &&
         path_->segments.empty();
}

absl::StatusOr<Json> CompiledPath::Eval(const Json& input,
                                        const EvalEnv& env) const {
  if (path_ == nullptr) return AslError(kStatesRuntime, "empty path");
  return internal::EvalParsedPath(*path_, input, env);
}

absl::StatusOr<Json> CompiledPath::EvalOptional(const Json& input,
                                                const EvalEnv& env,
                                                bool* found) const {
  *found = false;
  if (path_ == nullptr) return AslError(kStatesRuntime, "empty path");
  return internal::EvalParsedPathOptional(*path_, input, env, found);
}

absl::StatusOr<Json> CompiledPath::ApplyResult(Json input, Json result) const {
  if (path_ == nullptr) {
    return AslError(kStatesResultPathMatchFailure, "empty ResultPath");
  }
  return internal::ApplyParsedResultPath(*path_, std::move(input),
                                         std::move(result));
}

absl::StatusOr<Json> PathField::Select(Json value, const EvalEnv& env) const {
  switch (kind) {
    case Kind::kAbsent:
      return value;
    case Kind::kNull:
      return Json::object();
    case Kind::kPath:
      return path.Eval(value, env);
  }
  return value;
}

absl::StatusOr<Json> PathField::Place(Json input, Json result) const {
  switch (kind) {
    case Kind::kAbsent:
      return result;
    case Kind::kNull:
      return input;
    case Kind::kPath:
      if (path.is_root()) return result;
      return path.ApplyResult(std::move(input), std::move(result));
  }
  return result;
}

}  // namespace onewindow::asl
