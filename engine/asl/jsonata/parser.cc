// JSONata parser: tokenizer, Pratt parser and tree rewriting.
//
// The grammar, binding powers and error codes follow the JSONata 2.x
// reference implementation. Recursion is bounded: Expression() counts its
// nesting and every node records the height of its subtree, both checked
// against Limits::max_depth before going deeper, so the rewriting passes
// and the evaluator only ever see trees of bounded height.
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/ast.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/functions.h"

namespace onewindow::asl::jsonata::internal {

namespace {

struct Token {
  enum class Kind : uint8_t {
    kEnd,
    kOperator,
    kString,
    kNumber,
    kLiteral,
    kName,
    kVariable,
    kRegex
  };
  Kind kind = Kind::kEnd;
  std::string value;
  double number = 0;
  Literal literal = Literal::kNull;
  std::string flags;
  int64_t offset = 0;  // just past the token
};

bool IsOperatorChar(char c) {
  switch (c) {
    case '.':
    case '[':
    case ']':
    case '{':
    case '}':
    case '(':
    case ')':
    case ',':
    case '@':
    case '#':
    case ';':
    case ':':
    case '?':
    case '+':
    case '-':
    case '*':
    case '/':
    case '%':
    case '|':
    case '=':
    case '<':
    case '>':
    case '^':
    case '&':
    case '!':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v';
}

// Left binding power of infix operators (0: not infix).
int InfixPower(std::string_view op) {
  static const std::pair<std::string_view, int> kTable[] = {
      {".", 75},  {"[", 80},  {"{", 70},  {"(", 80},  {"@", 80},  {"#", 80},
      {"?", 20},  {"+", 50},  {"-", 50},  {"*", 60},  {"/", 60},  {"%", 60},
      {"=", 40},  {"<", 40},  {">", 40},  {"^", 40},  {":=", 10}, {"!=", 40},
      {"<=", 40}, {">=", 40}, {"~>", 40}, {"?:", 40}, {"??", 40}, {"and", 30},
      {"or", 25}, {"in", 40}, {"&", 50},
  };
  for (const auto& [name, bp] : kTable) {
    if (name == op) return bp;
  }
  return 0;
}

bool IsKnownOperator(std::string_view op) { return op != "!" && op != "~"; }

std::optional<BinaryOp> BinaryOpOf(std::string_view op) {
  static const std::pair<std::string_view, BinaryOp> kTable[] = {
      {"+", BinaryOp::kAdd},   {"-", BinaryOp::kSub}, {"*", BinaryOp::kMul},
      {"/", BinaryOp::kDiv},   {"%", BinaryOp::kMod}, {"=", BinaryOp::kEq},
      {"!=", BinaryOp::kNe},   {"<", BinaryOp::kLt},  {"<=", BinaryOp::kLe},
      {">", BinaryOp::kGt},    {">=", BinaryOp::kGe}, {"&", BinaryOp::kConcat},
      {"and", BinaryOp::kAnd}, {"or", BinaryOp::kOr}, {"in", BinaryOp::kIn},
  };
  for (const auto& [name, bop] : kTable) {
    if (name == op) return bop;
  }
  return std::nullopt;
}

NodePtr NewNode(NodeType type, int64_t offset) {
  auto n = std::make_unique<Node>();
  n->type = type;
  n->offset = offset;
  return n;
}

int Height(const NodePtr& n) { return n ? n->depth : 0; }

// Height of a node from its children's recorded heights (no recursion).
int ComputeDepth(const Node& n) {
  int d = 0;
  auto take = [&d](const NodePtr& c) { d = std::max(d, Height(c)); };
  take(n.lhs);
  take(n.rhs);
  take(n.expr);
  take(n.procedure);
  take(n.condition);
  take(n.then_branch);
  take(n.else_branch);
  take(n.body);
  take(n.pattern);
  take(n.update);
  take(n.deletion);
  for (const auto& c : n.items) take(c);
  for (const auto& [k, v] : n.pairs) {
    take(k);
    take(v);
  }
  for (const auto& t : n.terms) take(t.expr);
  return d + 1;
}

std::string TokenText(const Token& t) {
  switch (t.kind) {
    case Token::Kind::kEnd:
      return "(end)";
    case Token::Kind::kNumber:
      return FormatJsNumber(t.number);
    case Token::Kind::kLiteral:
      return t.literal == Literal::kNull   ? "null"
             : t.literal == Literal::kTrue ? "true"
                                           : "false";
    case Token::Kind::kVariable:
      return "$" + t.value;
    default:
      return t.value;
  }
}

class Parser {
 public:
  Parser(std::string_view text, const Limits& limits, Program* program)
      : text_(text), limits_(limits), program_(program) {}

  absl::StatusOr<NodePtr> ParseAll() {
    OW_JSONATA_RETURN_IF_ERROR(Advance("", false));
    OW_JSONATA_ASSIGN_OR_RETURN(NodePtr raw, Expression(0));
    if (node_.kind != Token::Kind::kEnd) {
      return Error("S0201",
                   absl::StrCat("Syntax error: ", Quote(TokenText(node_))),
                   node_.offset, TokenText(node_));
    }
    OW_JSONATA_ASSIGN_OR_RETURN(NodePtr ast, Process(std::move(raw)));
    if (ast->type == NodeType::kParent || !ast->seeking_parent.empty()) {
      return Error("S0217",
                   "The object representing the 'parent' cannot be derived "
                   "from this expression",
                   ast->offset);
    }
    return ast;
  }

 private:
  // ---- Tokenizer -------------------------------------------------------

  absl::StatusOr<Token> Lex(bool infix) {
    const size_t n = text_.size();
    for (;;) {
      while (pos_ < n && IsSpace(text_[pos_])) ++pos_;
      if (pos_ + 1 < n && text_[pos_] == '/' && text_[pos_ + 1] == '*') {
        size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) {
          pos_ = n;
          return Error("S0106", "Comment has no closing tag",
                       static_cast<int64_t>(n));
        }
        pos_ = end + 2;
        continue;
      }
      break;
    }
    Token t;
    if (pos_ >= n) {
      t.kind = Token::Kind::kEnd;
      t.offset = static_cast<int64_t>(n);
      return t;
    }
    char c = text_[pos_];
    if (!infix && c == '/') {
      ++pos_;
      return ScanRegex();
    }
    static const std::string_view kTwoChar[] = {
        "..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"};
    for (std::string_view op : kTwoChar) {
      if (text_.substr(pos_, 2) == op) {
        pos_ += 2;
        t.kind = Token::Kind::kOperator;
        t.value = std::string(op);
        t.offset = static_cast<int64_t>(pos_);
        return t;
      }
    }
    if (IsOperatorChar(c)) {
      ++pos_;
      t.kind = Token::Kind::kOperator;
      t.value = std::string(1, c);
      t.offset = static_cast<int64_t>(pos_);
      return t;
    }
    if (c == '"' || c == '\'') return ScanString(c);
    if (c >= '0' && c <= '9') return ScanNumber();
    if (c == '`') {
      size_t end = text_.find('`', pos_ + 1);
      if (end == std::string_view::npos) {
        pos_ = n;
        return Error(
            "S0105",
            "Quoted property name must be terminated with a backquote (`)",
            static_cast<int64_t>(n));
      }
      t.kind = Token::Kind::kName;
      t.value = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
      pos_ = end + 1;
      t.offset = static_cast<int64_t>(pos_);
      return t;
    }
    size_t i = pos_;
    while (i < n && !IsSpace(text_[i]) && !IsOperatorChar(text_[i])) ++i;
    std::string_view word = text_.substr(pos_, i - pos_);
    pos_ = i;
    t.offset = static_cast<int64_t>(i);
    if (word[0] == '$') {
      t.kind = Token::Kind::kVariable;
      t.value = std::string(word.substr(1));
      return t;
    }
    if (word == "and" || word == "or" || word == "in") {
      t.kind = Token::Kind::kOperator;
      t.value = std::string(word);
    } else if (word == "true" || word == "false" || word == "null") {
      t.kind = Token::Kind::kLiteral;
      t.literal = word == "true"    ? Literal::kTrue
                  : word == "false" ? Literal::kFalse
                                    : Literal::kNull;
    } else {
      t.kind = Token::Kind::kName;
      t.value = std::string(word);
    }
    return t;
  }

  absl::StatusOr<Token> ScanRegex() {
    const size_t n = text_.size();
    size_t start = pos_;
    int depth = 0;
    while (pos_ < n) {
      char c = text_[pos_];
      if (c == '/' && depth == 0) {
        size_t backslashes = 0;
        while (pos_ >= backslashes + 1 && text_[pos_ - backslashes - 1] == '\\')
          ++backslashes;
        if (backslashes % 2 == 0) {
          std::string_view pattern = text_.substr(start, pos_ - start);
          if (pattern.empty()) {
            return Error("S0301", "Empty regular expressions are not allowed",
                         static_cast<int64_t>(pos_ + 1));
          }
          ++pos_;
          size_t fstart = pos_;
          while (pos_ < n && (text_[pos_] == 'i' || text_[pos_] == 'm')) ++pos_;
          Token t;
          t.kind = Token::Kind::kRegex;
          t.value = std::string(pattern);
          t.flags = std::string(text_.substr(fstart, pos_ - fstart));
          t.offset = static_cast<int64_t>(pos_);
          return t;
        }
      }
      bool escaped = pos_ > 0 && text_[pos_ - 1] == '\\';
      if ((c == '(' || c == '[' || c == '{') && !escaped) ++depth;
      if ((c == ')' || c == ']' || c == '}') && !escaped) --depth;
      ++pos_;
    }
    return Error("S0302", "No terminating / in regular expression",
                 static_cast<int64_t>(n));
  }

  absl::StatusOr<Token> ScanString(char quote) {
    const size_t n = text_.size();
    ++pos_;
    std::string s;
    while (pos_ < n) {
      char c = text_[pos_];
      if (c == '\\') {
        ++pos_;
        char e = pos_ < n ? text_[pos_] : '\0';
        switch (e) {
          case '"':
            s.push_back('"');
            break;
          case '\\':
            s.push_back('\\');
            break;
          case '/':
            s.push_back('/');
            break;
          case 'b':
            s.push_back('\b');
            break;
          case 'f':
            s.push_back('\f');
            break;
          case 'n':
            s.push_back('\n');
            break;
          case 'r':
            s.push_back('\r');
            break;
          case 't':
            s.push_back('\t');
            break;
          case 'u': {
            auto hex4 = [&](size_t at, uint32_t* out) {
              if (at + 4 > n) return false;
              uint32_t v = 0;
              for (size_t k = 0; k < 4; ++k) {
                char h = text_[at + k];
                v <<= 4;
                if (h >= '0' && h <= '9')
                  v |= static_cast<uint32_t>(h - '0');
                else if (h >= 'a' && h <= 'f')
                  v |= static_cast<uint32_t>(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F')
                  v |= static_cast<uint32_t>(h - 'A' + 10);
                else
                  return false;
              }
              *out = v;
              return true;
            };
            uint32_t cp = 0;
            if (!hex4(pos_ + 1, &cp)) {
              return Error(
                  "S0104",
                  "The escape sequence \\u must be followed by 4 hex digits",
                  static_cast<int64_t>(pos_));
            }
            pos_ += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 2 < n &&
                text_[pos_ + 1] == '\\' && text_[pos_ + 2] == 'u') {
              uint32_t lo = 0;
              if (hex4(pos_ + 3, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                pos_ += 6;
              }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
            AppendUtf8(cp, &s);
            break;
          }
          default:
            return Error("S0103",
                         absl::StrCat("Unsupported escape sequence: \\",
                                      std::string(1, e)),
                         static_cast<int64_t>(pos_), std::string(1, e));
        }
        ++pos_;
        continue;
      }
      if (c == quote) {
        ++pos_;
        Token t;
        t.kind = Token::Kind::kString;
        t.value = std::move(s);
        t.offset = static_cast<int64_t>(pos_);
        return t;
      }
      s.push_back(c);
      ++pos_;
    }
    return Error("S0101",
                 "String literal must be terminated by a matching quote",
                 static_cast<int64_t>(n));
  }

  absl::StatusOr<Token> ScanNumber() {
    const size_t n = text_.size();
    size_t i = pos_;
    auto digits = [&]() {
      size_t s = i;
      while (i < n && text_[i] >= '0' && text_[i] <= '9') ++i;
      return i > s;
    };
    if (text_[i] == '0') {
      ++i;
    } else {
      digits();
    }
    if (i + 1 < n && text_[i] == '.' && text_[i + 1] >= '0' &&
        text_[i + 1] <= '9') {
      ++i;
      digits();
    }
    if (i < n && (text_[i] == 'e' || text_[i] == 'E')) {
      size_t save = i;
      ++i;
      if (i < n && (text_[i] == '+' || text_[i] == '-')) ++i;
      if (!digits()) i = save;
    }
    std::string lit(text_.substr(pos_, i - pos_));
    double d = std::strtod(lit.c_str(), nullptr);
    pos_ = i;
    if (!std::isfinite(d)) {
      return Error("S0102", absl::StrCat("Number out of range: ", Quote(lit)),
                   static_cast<int64_t>(i), lit);
    }
    Token t;
    t.kind = Token::Kind::kNumber;
    t.number = d;
    t.offset = static_cast<int64_t>(i);
    return t;
  }

  // ---- Parser ----------------------------------------------------------

  bool At(std::string_view op) const {
    return node_.kind == Token::Kind::kOperator && node_.value == op;
  }

  // Checks that the current token is `expected` (if given) and moves on.
  absl::Status Advance(std::string_view expected, bool infix) {
    if (!expected.empty() && !At(expected)) {
      if (node_.kind == Token::Kind::kEnd) {
        return Error("S0203",
                     absl::StrCat("Expected ", Quote(expected),
                                  " before end of expression"),
                     node_.offset);
      }
      return Error("S0202",
                   absl::StrCat("Expected ", Quote(expected), ", got ",
                                Quote(TokenText(node_))),
                   node_.offset, TokenText(node_));
    }
    OW_JSONATA_ASSIGN_OR_RETURN(Token t, Lex(infix));
    if (t.kind == Token::Kind::kOperator && !IsKnownOperator(t.value)) {
      return Error("S0204", absl::StrCat("Unknown operator: ", Quote(t.value)),
                   t.offset, t.value);
    }
    node_ = std::move(t);
    return absl::OkStatus();
  }

  int Lbp(const Token& t) const {
    return t.kind == Token::Kind::kOperator ? InfixPower(t.value) : 0;
  }

  static bool EndsOperand(const Token& t) {
    switch (t.kind) {
      case Token::Kind::kOperator:
        return t.value == "*" || t.value == "**" || t.value == "%";
      case Token::Kind::kEnd:
        return false;
      default:
        return true;
    }
  }

  absl::Status Seal(const NodePtr& n) {
    // A chain a.b.c grows one operand at a time; Led() keeps its height.
    if (n->type != NodeType::kRawDot) n->depth = ComputeDepth(*n);
    if (n->depth > limits_.max_depth) return DepthError(n->offset);
    return absl::OkStatus();
  }

  absl::Status DepthError(int64_t offset) const {
    return Error("U1001",
                 absl::StrCat("Expression nesting exceeds the limit of ",
                              limits_.max_depth),
                 offset);
  }

  absl::StatusOr<NodePtr> Expression(int rbp) {
    if (++nesting_ > limits_.max_depth) return DepthError(node_.offset);
    Token t = std::move(node_);
    OW_JSONATA_RETURN_IF_ERROR(Advance("", EndsOperand(t)));
    OW_JSONATA_ASSIGN_OR_RETURN(NodePtr left, Nud(std::move(t)));
    while (rbp < Lbp(node_)) {
      Token op = std::move(node_);
      OW_JSONATA_RETURN_IF_ERROR(Advance("", false));
      OW_JSONATA_ASSIGN_OR_RETURN(left, Led(std::move(op), std::move(left)));
      OW_JSONATA_RETURN_IF_ERROR(Seal(left));
    }
    --nesting_;
    return left;
  }

  absl::StatusOr<NodePtr> Nud(Token t) {
    NodePtr n;
    switch (t.kind) {
      case Token::Kind::kEnd:
        return Error("S0207", "Unexpected end of expression", t.offset);
      case Token::Kind::kName:
        n = NewNode(NodeType::kName, t.offset);
        n->value = std::move(t.value);
        return n;
      case Token::Kind::kVariable:
        n = NewNode(NodeType::kVariable, t.offset);
        n->value = std::move(t.value);
        return n;
      case Token::Kind::kString:
        n = NewNode(NodeType::kString, t.offset);
        n->value = std::move(t.value);
        return n;
      case Token::Kind::kNumber:
        n = NewNode(NodeType::kNumber, t.offset);
        n->number = t.number;
        return n;
      case Token::Kind::kLiteral:
        n = NewNode(NodeType::kLiteral, t.offset);
        n->literal = t.literal;
        return n;
      case Token::Kind::kRegex: {
        n = NewNode(NodeType::kRegex, t.offset);
        OW_JSONATA_ASSIGN_OR_RETURN(n->regex,
                                    Regex::Compile(t.value, t.flags, t.offset));
        n->value = "/" + t.value + "/" + t.flags;
        return n;
      }
      case Token::Kind::kOperator:
        break;
    }
    const std::string& op = t.value;
    if (op == "-") {
      n = NewNode(NodeType::kNegate, t.offset);
      n->value = "-";
      OW_JSONATA_ASSIGN_OR_RETURN(n->expr, Expression(70));
    } else if (op == "*") {
      n = NewNode(NodeType::kWildcard, t.offset);
    } else if (op == "**") {
      n = NewNode(NodeType::kDescendant, t.offset);
    } else if (op == "%") {
      n = NewNode(NodeType::kParent, t.offset);
    } else if (op == "and" || op == "or" || op == "in") {
      n = NewNode(NodeType::kRawOperator, t.offset);
      n->value = op;
    } else if (op == "(") {
      n = NewNode(NodeType::kBlock, t.offset);
      while (!At(")")) {
        OW_JSONATA_ASSIGN_OR_RETURN(NodePtr e, Expression(0));
        n->items.push_back(std::move(e));
        if (!At(";")) break;
        OW_JSONATA_RETURN_IF_ERROR(Advance(";", false));
      }
      OW_JSONATA_RETURN_IF_ERROR(Advance(")", true));
    } else if (op == "[") {
      n = NewNode(NodeType::kArray, t.offset);
      if (!At("]")) {
        for (;;) {
          OW_JSONATA_ASSIGN_OR_RETURN(NodePtr item, Expression(0));
          if (At("..")) {
            NodePtr range = NewNode(NodeType::kBinary, node_.offset);
            range->op = BinaryOp::kRange;
            range->value = "..";
            range->lhs = std::move(item);
            OW_JSONATA_RETURN_IF_ERROR(Advance("..", false));
            OW_JSONATA_ASSIGN_OR_RETURN(range->rhs, Expression(0));
            OW_JSONATA_RETURN_IF_ERROR(Seal(range));
            item = std::move(range);
          }
          n->items.push_back(std::move(item));
          if (!At(",")) break;
          OW_JSONATA_RETURN_IF_ERROR(Advance(",", false));
        }
      }
      OW_JSONATA_RETURN_IF_ERROR(Advance("]", true));
    } else if (op == "{") {
      n = NewNode(NodeType::kObject, t.offset);
      OW_JSONATA_RETURN_IF_ERROR(ParsePairs(&n->pairs));
    } else if (op == "|") {
      n = NewNode(NodeType::kTransform, t.offset);
      OW_JSONATA_ASSIGN_OR_RETURN(n->pattern, Expression(0));
      OW_JSONATA_RETURN_IF_ERROR(Advance("|", false));
      OW_JSONATA_ASSIGN_OR_RETURN(n->update, Expression(0));
      if (At(",")) {
        OW_JSONATA_RETURN_IF_ERROR(Advance(",", false));
        OW_JSONATA_ASSIGN_OR_RETURN(n->deletion, Expression(0));
      }
      OW_JSONATA_RETURN_IF_ERROR(Advance("|", true));
    } else {
      return Error("S0211",
                   absl::StrCat("The symbol ", Quote(op),
                                " cannot be used as a unary operator"),
                   t.offset, op);
    }
    OW_JSONATA_RETURN_IF_ERROR(Seal(n));
    return n;
  }

  absl::Status ParsePairs(std::vector<std::pair<NodePtr, NodePtr>>* pairs) {
    if (!At("}")) {
      for (;;) {
        OW_JSONATA_ASSIGN_OR_RETURN(NodePtr k, Expression(0));
        OW_JSONATA_RETURN_IF_ERROR(Advance(":", false));
        OW_JSONATA_ASSIGN_OR_RETURN(NodePtr v, Expression(0));
        pairs->emplace_back(std::move(k), std::move(v));
        if (!At(",")) break;
        OW_JSONATA_RETURN_IF_ERROR(Advance(",", false));
      }
    }
    return Advance("}", true);
  }

  absl::StatusOr<NodePtr> Led(Token t, NodePtr left) {
    const std::string& op = t.value;
    NodePtr n;
    if (op == ".") {
      OW_JSONATA_ASSIGN_OR_RETURN(NodePtr rhs, Expression(75));
      if (left->type == NodeType::kRawDot) {
        left->depth = std::max(left->depth, rhs->depth + 1);
        left->items.push_back(std::move(rhs));
        return left;
      }
      n = NewNode(NodeType::kRawDot, t.offset);
      n->value = ".";
      n->items.push_back(std::move(left));
      n->items.push_back(std::move(rhs));
      n->depth = ComputeDepth(*n);
      return n;
    }
    if (auto bop = BinaryOpOf(op)) {
      n = NewNode(NodeType::kBinary, t.offset);
      n->op = *bop;
      n->value = op;
      n->lhs = std::move(left);
      OW_JSONATA_ASSIGN_OR_RETURN(n->rhs, Expression(InfixPower(op)));
      return n;
    }
    if (op == "~>") {
      n = NewNode(NodeType::kApply, t.offset);
      n->value = op;
      n->lhs = std::move(left);
      OW_JSONATA_ASSIGN_OR_RETURN(n->rhs, Expression(InfixPower(op)));
      return n;
    }
    if (op == "??" || op == "?:") {
      n = NewNode(op == "??" ? NodeType::kCoalesce : NodeType::kElvis,
                  t.offset);
      n->value = op;
      n->lhs = std::move(left);
      OW_JSONATA_ASSIGN_OR_RETURN(n->rhs, Expression(0));
      return n;
    }
    if (op == "(") return ParseCall(std::move(t), std::move(left));
    if (op == "[") {
      if (At("]")) {
        Node* step = left.get();
        while (step->type == NodeType::kRawPredicate) step = step->lhs.get();
        step->keep_array = true;
        OW_JSONATA_RETURN_IF_ERROR(Advance("]", true));
        return left;
      }
      n = NewNode(NodeType::kRawPredicate, t.offset);
      n->lhs = std::move(left);
      OW_JSONATA_ASSIGN_OR_RETURN(n->rhs, Expression(0));
      OW_JSONATA_RETURN_IF_ERROR(Advance("]", true));
      return n;
    }
    if (op == "^") {
      n = NewNode(NodeType::kRawSortBy, t.offset);
      n->lhs = std::move(left);
      OW_JSONATA_RETURN_IF_ERROR(Advance("(", false));
      for (;;) {
        SortTerm term;
        if (At("<")) {
          OW_JSONATA_RETURN_IF_ERROR(Advance("<", false));
        } else if (At(">")) {
          term.descending = true;
          OW_JSONATA_RETURN_IF_ERROR(Advance(">", false));
        }
        OW_JSONATA_ASSIGN_OR_RETURN(term.expr, Expression(0));
        n->terms.push_back(std::move(term));
        if (!At(",")) break;
        OW_JSONATA_RETURN_IF_ERROR(Advance(",", false));
      }
      OW_JSONATA_RETURN_IF_ERROR(Advance(")", true));
      return n;
    }
    if (op == "{") {
      n = NewNode(NodeType::kRawGroup, t.offset);
      n->lhs = std::move(left);
      OW_JSONATA_RETURN_IF_ERROR(ParsePairs(&n->pairs));
      return n;
    }
    if (op == ":=") {
      if (left->type != NodeType::kVariable) {
        return Error(
            "S0212",
            "The left side of := must be a variable name (start with $)",
            left->offset, left->value);
      }
      n = NewNode(NodeType::kBind, t.offset);
      n->value = left->value;
      n->lhs = std::move(left);
      OW_JSONATA_ASSIGN_OR_RETURN(n->rhs, Expression(InfixPower(op) - 1));
      return n;
    }
    if (op == "@" || op == "#") {
      n = NewNode(op == "@" ? NodeType::kRawFocus : NodeType::kRawIndex,
                  t.offset);
      n->lhs = std::move(left);
      OW_JSONATA_ASSIGN_OR_RETURN(n->rhs, Expression(InfixPower(op)));
      if (n->rhs->type != NodeType::kVariable) {
        return Error("S0214",
                     absl::StrCat("The right side of ", Quote(op),
                                  " must be a variable name (start with $)"),
                     n->rhs->offset, op);
      }
      return n;
    }
    if (op == "?") {
      n = NewNode(NodeType::kCondition, t.offset);
      n->condition = std::move(left);
      OW_JSONATA_ASSIGN_OR_RETURN(n->then_branch, Expression(0));
      if (At(":")) {
        OW_JSONATA_RETURN_IF_ERROR(Advance(":", false));
        OW_JSONATA_ASSIGN_OR_RETURN(n->else_branch, Expression(0));
      }
      return n;
    }
    return Error("S0201", absl::StrCat("Syntax error: ", Quote(op)), t.offset,
                 op);
  }

  absl::StatusOr<NodePtr> ParseCall(Token t, NodePtr left) {
    NodePtr n = NewNode(NodeType::kCall, t.offset);
    if (!At(")")) {
      for (;;) {
        if (At("?")) {
          n->type = NodeType::kPartial;
          n->items.push_back(NewNode(NodeType::kPlaceholder, node_.offset));
          OW_JSONATA_RETURN_IF_ERROR(Advance("?", false));
        } else {
          OW_JSONATA_ASSIGN_OR_RETURN(NodePtr arg, Expression(0));
          n->items.push_back(std::move(arg));
        }
        if (!At(",")) break;
        OW_JSONATA_RETURN_IF_ERROR(Advance(",", false));
      }
    }
    OW_JSONATA_RETURN_IF_ERROR(Advance(")", true));
    if (left->type == NodeType::kName &&
        (left->value == "function" || left->value == "\u03BB")) {
      NodePtr lambda = NewNode(NodeType::kLambda, t.offset);
      for (size_t i = 0; i < n->items.size(); ++i) {
        const NodePtr& arg = n->items[i];
        if (arg->type != NodeType::kVariable) {
          return Error("S0208",
                       absl::StrCat("Parameter ", i + 1,
                                    " of function definition must be a "
                                    "variable name (start with $)"),
                       arg->offset, arg->value);
        }
        lambda->params.push_back(arg->value);
      }
      if (At("<")) {
        // The signature is read as raw text: from '<' to the matching '>'.
        size_t start = static_cast<size_t>(node_.offset) - 1;
        int depth = 1;
        size_t i = start + 1;
        while (i < text_.size() && depth > 0) {
          if (text_[i] == '<') ++depth;
          if (text_[i] == '>') --depth;
          ++i;
        }
        if (depth > 0) {
          return Error("S0203", "Expected \">\" before end of expression",
                       static_cast<int64_t>(text_.size()));
        }
        std::string sig;
        for (size_t k = start; k < i; ++k) {
          if (!IsSpace(text_[k])) sig.push_back(text_[k]);
        }
        OW_JSONATA_ASSIGN_OR_RETURN(
            Signature parsed,
            Signature::Parse(sig, static_cast<int64_t>(start)));
        lambda->signature = std::move(parsed);
        pos_ = i;
        OW_JSONATA_RETURN_IF_ERROR(Advance("", false));
      }
      OW_JSONATA_RETURN_IF_ERROR(Advance("{", false));
      OW_JSONATA_ASSIGN_OR_RETURN(lambda->body, Expression(0));
      OW_JSONATA_RETURN_IF_ERROR(Advance("}", true));
      return lambda;
    }
    n->procedure = std::move(left);
    return n;
  }

  // ---- Rewriting (JSONata's processAST) --------------------------------

  static void PushAncestry(Node* result, Node* value) {
    if (!value->seeking_parent.empty() || value->type == NodeType::kParent) {
      std::vector<Slot*> slots = value->seeking_parent;
      if (value->type == NodeType::kParent) slots.push_back(value->slot);
      result->seeking_parent.insert(result->seeking_parent.end(), slots.begin(),
                                    slots.end());
    }
  }

  absl::Status SeekParent(Node* node, Slot* slot) {
    switch (node->type) {
      case NodeType::kName:
      case NodeType::kWildcard:
        --slot->level;
        if (slot->level == 0) {
          if (node->ancestor != nullptr) slot->label = node->ancestor->label;
          node->ancestor = slot;
          node->tuple = true;
        }
        return absl::OkStatus();
      case NodeType::kParent:
        ++slot->level;
        return absl::OkStatus();
      case NodeType::kBlock:
        if (!node->items.empty()) {
          node->tuple = true;
          return SeekParent(node->items.back().get(), slot);
        }
        return absl::OkStatus();
      case NodeType::kPath: {
        node->tuple = true;
        int64_t index = static_cast<int64_t>(node->items.size()) - 1;
        OW_JSONATA_RETURN_IF_ERROR(
            SeekParent(node->items[static_cast<size_t>(index--)].get(), slot));
        while (slot->level > 0 && index >= 0) {
          OW_JSONATA_RETURN_IF_ERROR(SeekParent(
              node->items[static_cast<size_t>(index--)].get(), slot));
        }
        return absl::OkStatus();
      }
      default:
        return Error("S0217",
                     "The object representing the 'parent' cannot be derived "
                     "from this expression",
                     node->offset);
    }
  }

  absl::Status ResolveAncestry(Node* path) {
    auto& steps = path->items;
    Node* last = steps.back().get();
    std::vector<Slot*> slots = last->seeking_parent;
    if (last->type == NodeType::kParent) slots.push_back(last->slot);
    for (Slot* slot : slots) {
      int64_t index = static_cast<int64_t>(steps.size()) - 2;
      while (slot->level > 0) {
        if (index < 0) {
          path->seeking_parent.push_back(slot);
          break;
        }
        Node* step = steps[static_cast<size_t>(index--)].get();
        while (index >= 0 && !step->focus.empty() &&
               !steps[static_cast<size_t>(index)]->focus.empty()) {
          step = steps[static_cast<size_t>(index--)].get();
        }
        OW_JSONATA_RETURN_IF_ERROR(SeekParent(step, slot));
      }
    }
    return absl::OkStatus();
  }

  static NodePtr WrapInPath(NodePtr n) {
    NodePtr path = NewNode(NodeType::kPath, n->offset);
    path->items.push_back(std::move(n));
    return path;
  }

  absl::StatusOr<NodePtr> Process(NodePtr e) {
    NodePtr result;
    switch (e->type) {
      case NodeType::kRawDot: {
        OW_JSONATA_ASSIGN_OR_RETURN(NodePtr lstep,
                                    Process(std::move(e->items[0])));
        if (lstep->type == NodeType::kPath) {
          result = std::move(lstep);
        } else {
          bool parent = lstep->type == NodeType::kParent;
          Slot* slot = lstep->slot;
          result = WrapInPath(std::move(lstep));
          if (parent) result->seeking_parent = {slot};
        }
        size_t checked = 0;  // steps already checked for literals
        for (size_t k = 1; k < e->items.size(); ++k) {
          OW_JSONATA_ASSIGN_OR_RETURN(NodePtr rest,
                                      Process(std::move(e->items[k])));
          if (rest->type == NodeType::kPath) {
            for (auto& s : rest->items) result->items.push_back(std::move(s));
          } else {
            if (!rest->predicates.empty()) {
              rest->stages = std::move(rest->predicates);
              rest->predicates.clear();
            }
            result->items.push_back(std::move(rest));
          }
          for (; checked < result->items.size(); ++checked) {
            Node* step = result->items[checked].get();
            if (step->keep_array) result->keep_singleton_array = true;
            if (step->type == NodeType::kNumber ||
                step->type == NodeType::kLiteral) {
              std::string v = step->type == NodeType::kNumber
                                  ? FormatJsNumber(step->number)
                              : step->literal == Literal::kNull ? "null"
                              : step->literal == Literal::kTrue ? "true"
                                                                : "false";
              return Error(
                  "S0213",
                  absl::StrCat(
                      "The literal value ", v,
                      " cannot be used as a step within a path expression"),
                  step->offset, v);
            }
            if (step->type == NodeType::kString) step->type = NodeType::kName;
          }
          if (result->items.front()->type == NodeType::kArray)
            result->items.front()->cons_array = true;
          if (result->items.back()->type == NodeType::kArray)
            result->items.back()->cons_array = true;
          OW_JSONATA_RETURN_IF_ERROR(ResolveAncestry(result.get()));
        }
        break;
      }
      case NodeType::kRawPredicate: {
        int64_t offset = e->offset;
        OW_JSONATA_ASSIGN_OR_RETURN(result, Process(std::move(e->lhs)));
        Node* step = result.get();
        bool in_path = false;
        if (result->type == NodeType::kPath) {
          step = result->items.back().get();
          in_path = true;
        }
        if (step->group) {
          return Error(
              "S0209",
              "A predicate cannot follow a grouping expression in a step",
              offset);
        }
        OW_JSONATA_ASSIGN_OR_RETURN(NodePtr predicate,
                                    Process(std::move(e->rhs)));
        if (!predicate->seeking_parent.empty()) {
          for (Slot* slot : predicate->seeking_parent) {
            if (slot->level == 1) {
              OW_JSONATA_RETURN_IF_ERROR(SeekParent(step, slot));
            } else {
              --slot->level;
            }
          }
          PushAncestry(step, predicate.get());
        }
        Stage stage;
        stage.kind = Stage::Kind::kFilter;
        stage.expr = std::move(predicate);
        stage.offset = offset;
        (in_path ? step->stages : step->predicates).push_back(std::move(stage));
        break;
      }
      case NodeType::kRawGroup: {
        int64_t offset = e->offset;
        OW_JSONATA_ASSIGN_OR_RETURN(result, Process(std::move(e->lhs)));
        if (result->group) {
          return Error("S0210",
                       "Each step can only have one grouping expression",
                       offset);
        }
        auto group = std::make_unique<Group>();
        group->offset = offset;
        for (auto& [k, v] : e->pairs) {
          OW_JSONATA_ASSIGN_OR_RETURN(NodePtr pk, Process(std::move(k)));
          OW_JSONATA_ASSIGN_OR_RETURN(NodePtr pv, Process(std::move(v)));
          group->pairs.emplace_back(std::move(pk), std::move(pv));
        }
        result->group = std::move(group);
        break;
      }
      case NodeType::kRawSortBy: {
        OW_JSONATA_ASSIGN_OR_RETURN(result, Process(std::move(e->lhs)));
        if (result->type != NodeType::kPath)
          result = WrapInPath(std::move(result));
        NodePtr sort = NewNode(NodeType::kSort, e->offset);
        for (auto& term : e->terms) {
          SortTerm st;
          st.descending = term.descending;
          OW_JSONATA_ASSIGN_OR_RETURN(st.expr, Process(std::move(term.expr)));
          PushAncestry(sort.get(), st.expr.get());
          sort->terms.push_back(std::move(st));
        }
        result->items.push_back(std::move(sort));
        OW_JSONATA_RETURN_IF_ERROR(ResolveAncestry(result.get()));
        break;
      }
      case NodeType::kRawFocus: {
        OW_JSONATA_ASSIGN_OR_RETURN(result, Process(std::move(e->lhs)));
        Node* step = result.get();
        if (result->type == NodeType::kPath) step = result->items.back().get();
        if (!step->stages.empty() || !step->predicates.empty()) {
          return Error("S0215",
                       "A context variable binding must precede any predicates "
                       "on a step",
                       e->offset);
        }
        if (step->type == NodeType::kSort) {
          return Error("S0216",
                       "A context variable binding must precede the 'order-by' "
                       "clause on a step",
                       e->offset);
        }
        if (e->keep_array) step->keep_array = true;
        step->focus = e->rhs->value;
        step->tuple = true;
        break;
      }
      case NodeType::kRawIndex: {
        OW_JSONATA_ASSIGN_OR_RETURN(result, Process(std::move(e->lhs)));
        Node* step = result.get();
        if (result->type == NodeType::kPath) {
          step = result->items.back().get();
        } else {
          result = WrapInPath(std::move(result));
          if (!step->predicates.empty()) {
            step->stages = std::move(step->predicates);
            step->predicates.clear();
          }
        }
        if (step->stages.empty()) {
          step->index_var = e->rhs->value;
        } else {
          Stage stage;
          stage.kind = Stage::Kind::kIndex;
          stage.var = e->rhs->value;
          stage.offset = e->offset;
          step->stages.push_back(std::move(stage));
        }
        step->tuple = true;
        break;
      }
      case NodeType::kApply: {
        result = NewNode(NodeType::kApply, e->offset);
        result->value = e->value;
        OW_JSONATA_ASSIGN_OR_RETURN(result->lhs, Process(std::move(e->lhs)));
        OW_JSONATA_ASSIGN_OR_RETURN(result->rhs, Process(std::move(e->rhs)));
        result->keep_array = result->lhs->keep_array || result->rhs->keep_array;
        break;
      }
      case NodeType::kBinary:
      case NodeType::kElvis:
      case NodeType::kCoalesce: {
        result = std::move(e);
        OW_JSONATA_ASSIGN_OR_RETURN(result->lhs,
                                    Process(std::move(result->lhs)));
        OW_JSONATA_ASSIGN_OR_RETURN(result->rhs,
                                    Process(std::move(result->rhs)));
        PushAncestry(result.get(), result->lhs.get());
        PushAncestry(result.get(), result->rhs.get());
        return Finish(std::move(result), false);
      }
      case NodeType::kBind: {
        result = std::move(e);
        OW_JSONATA_ASSIGN_OR_RETURN(result->rhs,
                                    Process(std::move(result->rhs)));
        PushAncestry(result.get(), result->rhs.get());
        return Finish(std::move(result), false);
      }
      case NodeType::kNegate: {
        result = std::move(e);
        OW_JSONATA_ASSIGN_OR_RETURN(result->expr,
                                    Process(std::move(result->expr)));
        if (result->expr->type == NodeType::kNumber) {
          bool keep = result->keep_array;
          NodePtr num = std::move(result->expr);
          num->number = -num->number;
          if (keep) num->keep_array = true;
          return num;
        }
        PushAncestry(result.get(), result->expr.get());
        return Finish(std::move(result), false);
      }
      case NodeType::kArray:
      case NodeType::kBlock: {
        result = std::move(e);
        for (auto& item : result->items) {
          OW_JSONATA_ASSIGN_OR_RETURN(item, Process(std::move(item)));
          PushAncestry(result.get(), item.get());
          if (result->type == NodeType::kBlock &&
              (item->cons_array || (item->type == NodeType::kPath &&
                                    item->items.front()->cons_array))) {
            result->cons_array = true;
          }
        }
        return Finish(std::move(result), false);
      }
      case NodeType::kObject: {
        result = std::move(e);
        for (auto& [k, v] : result->pairs) {
          OW_JSONATA_ASSIGN_OR_RETURN(k, Process(std::move(k)));
          PushAncestry(result.get(), k.get());
          OW_JSONATA_ASSIGN_OR_RETURN(v, Process(std::move(v)));
          PushAncestry(result.get(), v.get());
        }
        return Finish(std::move(result), false);
      }
      case NodeType::kCall:
      case NodeType::kPartial: {
        result = std::move(e);
        for (auto& arg : result->items) {
          OW_JSONATA_ASSIGN_OR_RETURN(arg, Process(std::move(arg)));
          PushAncestry(result.get(), arg.get());
        }
        OW_JSONATA_ASSIGN_OR_RETURN(result->procedure,
                                    Process(std::move(result->procedure)));
        return Finish(std::move(result), false);
      }
      case NodeType::kLambda: {
        result = std::move(e);
        OW_JSONATA_ASSIGN_OR_RETURN(result->body,
                                    Process(std::move(result->body)));
        result->body = TailCallOptimize(std::move(result->body));
        return Finish(std::move(result), false);
      }
      case NodeType::kCondition: {
        result = std::move(e);
        OW_JSONATA_ASSIGN_OR_RETURN(result->condition,
                                    Process(std::move(result->condition)));
        PushAncestry(result.get(), result->condition.get());
        OW_JSONATA_ASSIGN_OR_RETURN(result->then_branch,
                                    Process(std::move(result->then_branch)));
        PushAncestry(result.get(), result->then_branch.get());
        if (result->else_branch) {
          OW_JSONATA_ASSIGN_OR_RETURN(result->else_branch,
                                      Process(std::move(result->else_branch)));
          PushAncestry(result.get(), result->else_branch.get());
        }
        return Finish(std::move(result), false);
      }
      case NodeType::kTransform: {
        result = std::move(e);
        OW_JSONATA_ASSIGN_OR_RETURN(result->pattern,
                                    Process(std::move(result->pattern)));
        OW_JSONATA_ASSIGN_OR_RETURN(result->update,
                                    Process(std::move(result->update)));
        if (result->deletion) {
          OW_JSONATA_ASSIGN_OR_RETURN(result->deletion,
                                      Process(std::move(result->deletion)));
        }
        return Finish(std::move(result), false);
      }
      case NodeType::kName: {
        bool keep = e->keep_array;
        result = WrapInPath(std::move(e));
        if (keep) result->keep_singleton_array = true;
        return Finish(std::move(result), keep);
      }
      case NodeType::kRawOperator: {
        e->type = NodeType::kName;
        return Process(std::move(e));
      }
      case NodeType::kParent: {
        auto slot = std::make_unique<Slot>();
        slot->label = "!" + std::to_string(next_label_++);
        slot->level = 1;
        slot->index = static_cast<int>(program_->slots.size());
        e->slot = slot.get();
        program_->slots.push_back(std::move(slot));
        return Finish(std::move(e), false);
      }
      default:
        return e;
    }
    if (e->keep_array) result->keep_array = true;
    return result;
  }

  static NodePtr Finish(NodePtr result, bool keep_array) {
    if (keep_array) result->keep_array = true;
    return result;
  }

  static NodePtr TailCallOptimize(NodePtr expr) {
    if (expr->type == NodeType::kCall && expr->predicates.empty() &&
        !expr->group) {
      NodePtr thunk = NewNode(NodeType::kLambda, expr->offset);
      thunk->thunk = true;
      thunk->depth = expr->depth + 1;
      thunk->body = std::move(expr);
      return thunk;
    }
    if (expr->type == NodeType::kCondition) {
      expr->then_branch = TailCallOptimize(std::move(expr->then_branch));
      if (expr->else_branch)
        expr->else_branch = TailCallOptimize(std::move(expr->else_branch));
      return expr;
    }
    if (expr->type == NodeType::kBlock && !expr->items.empty()) {
      expr->items.back() = TailCallOptimize(std::move(expr->items.back()));
    }
    return expr;
  }

  std::string_view text_;
  const Limits& limits_;
  Program* program_;
  size_t pos_ = 0;
  Token node_;
  int nesting_ = 0;
  int next_label_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Program>> Parse(std::string_view text,
                                               const Limits& limits) {
  auto program = std::make_unique<Program>();
  program->text = std::string(text);
  if (text.size() > limits.max_expression_bytes) {
    return Error("U1000", absl::StrCat("Expression of ", text.size(),
                                       " bytes exceeds the limit of ",
                                       limits.max_expression_bytes, " bytes"));
  }
  Parser parser(program->text, limits, program.get());
  auto root = parser.ParseAll();
  if (!root.ok()) return Finalize(root.status(), text);
  program->root = std::move(root).value();
  FindFreeVariables(program.get());
  return program;
}

}  // namespace onewindow::asl::jsonata::internal
