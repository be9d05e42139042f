// A linear-time regular expression matcher (regex.h): the pattern is parsed
// into a small tree (groups nest a bounded number of levels), compiled into
// a Thompson NFA program, and run as a set of threads advanced one subject
// byte at a time. Work is O(subject length x program size) and counted.
#include "engine/asl/regex.h"

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace onewindow::asl::internal {
namespace {

using CharSet = std::bitset<256>;

struct Node {
  enum class Kind { kEmpty, kSet, kAssert, kConcat, kAlt, kRepeat };
  Kind kind = Kind::kEmpty;
  CharSet set;
  uint32_t assertion = 0;
  std::vector<std::unique_ptr<Node>> children;
  int min = 0;
  int max = 0;  // -1: unbounded
};

using NodePtr = std::unique_ptr<Node>;

constexpr int kMaxCount = 1000;  // largest n or m in {n,m}

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

CharSet RangeSet(unsigned char lo, unsigned char hi) {
  CharSet s;
  for (int c = lo; c <= hi; ++c) s.set(static_cast<size_t>(c));
  return s;
}

CharSet DigitSet() { return RangeSet('0', '9'); }
CharSet WordSet() {
  return RangeSet('a', 'z') | RangeSet('A', 'Z') | RangeSet('0', '9') |
         RangeSet('_', '_');
}
CharSet SpaceSet() {
  CharSet s;
  for (unsigned char c : {' ', '\t', '\n', '\v', '\f', '\r'}) s.set(c);
  return s;
}

void FoldCase(CharSet* s) {
  for (int c = 'a'; c <= 'z'; ++c) {
    size_t lower = static_cast<size_t>(c);
    size_t upper = static_cast<size_t>(c - 'a' + 'A');
    if ((*s)[lower] || (*s)[upper]) {
      s->set(lower);
      s->set(upper);
    }
  }
}

NodePtr SetNode(const CharSet& set) {
  auto n = std::make_unique<Node>();
  n->kind = Node::Kind::kSet;
  n->set = set;
  return n;
}

}  // namespace

class RegexCompiler {
 public:
  RegexCompiler(std::string_view pattern, bool icase, int max_depth,
                size_t max_size)
      : text_(pattern),
        icase_(icase),
        max_depth_(max_depth),
        max_size_(max_size) {}

  absl::Status Compile(LinearRegex* out) {
    out_ = out;
    auto root = ParseAlt(0);
    if (!root.ok()) return root.status();
    if (pos_ != text_.size()) return Error("unmatched ')'");
    if (!Emit(**root)) {
      return Error(absl::StrCat("the compiled pattern exceeds ", max_size_,
                                " instructions"));
    }
    if (!Push({LinearRegex::Inst::Op::kMatch, 0, 0, 0})) {
      return Error("the compiled pattern is too large");
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(
        "regular expression: ", absl::string_view(what.data(), what.size()),
        " at position ", pos_));
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }

  absl::StatusOr<NodePtr> ParseAlt(int depth) {
    if (depth > max_depth_) {
      return Error(absl::StrCat("groups nest deeper than ", max_depth_));
    }
    auto alt = std::make_unique<Node>();
    alt->kind = Node::Kind::kAlt;
    while (true) {
      auto branch = ParseConcat(depth);
      if (!branch.ok()) return branch.status();
      alt->children.push_back(*std::move(branch));
      if (Peek() != '|' || AtEnd()) break;
      ++pos_;
    }
    if (alt->children.size() == 1) return std::move(alt->children[0]);
    return alt;
  }

  absl::StatusOr<NodePtr> ParseConcat(int depth) {
    auto seq = std::make_unique<Node>();
    seq->kind = Node::Kind::kConcat;
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      auto item = ParseRepeat(depth);
      if (!item.ok()) return item.status();
      seq->children.push_back(*std::move(item));
    }
    if (seq->children.empty()) {
      seq->kind = Node::Kind::kEmpty;
    } else if (seq->children.size() == 1) {
      return std::move(seq->children[0]);
    }
    return seq;
  }

  // Reads "{n}", "{n,}" or "{n,m}" at pos_; false (pos_ unchanged) when the
  // text there is not a quantifier (then '{' is a literal, as in browsers).
  bool ParseBraces(int* min, int* max) {
    size_t p = pos_ + 1;
    auto number = [&](int* v) {
      size_t start = p;
      long long n = 0;
      while (p < text_.size() && text_[p] >= '0' && text_[p] <= '9') {
        n = n * 10 + (text_[p] - '0');
        if (n > 1000000) n = 1000000;
        ++p;
      }
      *v = static_cast<int>(n);
      return p > start;
    };
    if (!number(min)) return false;
    if (p < text_.size() && text_[p] == '}') {
      *max = *min;
    } else if (p < text_.size() && text_[p] == ',') {
      ++p;
      if (p < text_.size() && text_[p] == '}') {
        *max = -1;
      } else if (!number(max) || p >= text_.size() || text_[p] != '}') {
        return false;
      }
    } else {
      return false;
    }
    pos_ = p + 1;
    return true;
  }

  absl::StatusOr<NodePtr> ParseRepeat(int depth) {
    auto atom = ParseAtom(depth);
    if (!atom.ok()) return atom.status();
    NodePtr node = *std::move(atom);
    int min = 0;
    int max = 0;
    char c = Peek();
    if (c == '*') {
      min = 0, max = -1;
      ++pos_;
    } else if (c == '+') {
      min = 1, max = -1;
      ++pos_;
    } else if (c == '?') {
      min = 0, max = 1;
      ++pos_;
    } else if (c == '{' && ParseBraces(&min, &max)) {
      if (max >= 0 && max < min) return Error("numbers out of order in {}");
      if (min > kMaxCount || max > kMaxCount) {
        return Error(absl::StrCat("a repeat count exceeds ", kMaxCount));
      }
    } else {
      return node;
    }
    if (Peek() == '?') ++pos_;  // lazy: the same for a whole-string match
    char next = Peek();
    if (next == '*' || next == '+' || next == '?' ||
        (next == '{' && !AtEnd())) {
      int a = 0, b = 0;
      size_t save = pos_;
      if (next != '{' || ParseBraces(&a, &b)) {
        pos_ = save;
        return Error("nothing to repeat");
      }
    }
    auto rep = std::make_unique<Node>();
    rep->kind = Node::Kind::kRepeat;
    rep->min = min;
    rep->max = max;
    rep->children.push_back(std::move(node));
    return rep;
  }

  absl::StatusOr<NodePtr> ParseAtom(int depth) {
    char c = text_[pos_];
    switch (c) {
      case '(': {
        ++pos_;
        if (Peek() == '?') {
          if (Peek(1) != ':') {
            return Error("look-around and named groups are not supported");
          }
          pos_ += 2;
        }
        auto inner = ParseAlt(depth + 1);
        if (!inner.ok()) return inner.status();
        if (Peek() != ')' || AtEnd()) return Error("missing ')'");
        ++pos_;
        return inner;
      }
      case '[':
        return ParseClass();
      case '.': {
        ++pos_;
        CharSet s;
        s.set();
        s.reset('\n');
        s.reset('\r');
        return SetNode(s);
      }
      case '^':
      case '$': {
        ++pos_;
        auto n = std::make_unique<Node>();
        n->kind = Node::Kind::kAssert;
        n->assertion = c == '^' ? LinearRegex::kBol : LinearRegex::kEol;
        return n;
      }
      case '*':
      case '+':
      case '?':
        return Error("nothing to repeat");
      case '\\':
        return ParseEscape();
      default: {
        ++pos_;
        return Literal(static_cast<unsigned char>(c));
      }
    }
  }

  NodePtr Literal(unsigned char c) {
    CharSet s;
    s.set(c);
    if (icase_) FoldCase(&s);
    return SetNode(s);
  }

  // A code point from \u or \x as its UTF-8 bytes in sequence.
  NodePtr CodePoint(uint32_t cp) {
    if (cp < 0x80) return Literal(static_cast<unsigned char>(cp));
    std::string bytes;
    if (cp < 0x800) {
      bytes.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      bytes.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      bytes.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      bytes.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      bytes.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
    auto seq = std::make_unique<Node>();
    seq->kind = Node::Kind::kConcat;
    for (char b : bytes) {
      CharSet s;
      s.set(static_cast<unsigned char>(b));
      seq->children.push_back(SetNode(s));
    }
    return seq;
  }

  // Reads \xHH or \uHHHH after the letter; -1 when malformed.
  int64_t HexEscape(int digits) {
    int64_t v = 0;
    for (int i = 0; i < digits; ++i) {
      int h = HexValue(Peek());
      if (h < 0) return -1;
      v = v * 16 + h;
      ++pos_;
    }
    return v;
  }

  // The set a class escape stands for (\d \w \s and their negations), or
  // false when `e` is not one.
  static bool ClassEscape(char e, CharSet* out) {
    switch (e) {
      case 'd':
        *out = DigitSet();
        return true;
      case 'D':
        *out = ~DigitSet();
        return true;
      case 'w':
        *out = WordSet();
        return true;
      case 'W':
        *out = ~WordSet();
        return true;
      case 's':
        *out = SpaceSet();
        return true;
      case 'S':
        *out = ~SpaceSet();
        return true;
      default:
        return false;
    }
  }

  // A single-character escape (\n, \t, \xHH, \cX, identity); -1 when
  // invalid. Leaves \uHHHH >= 0x80 to the caller through *code_point.
  int64_t CharEscape(char e, bool in_class) {
    switch (e) {
      case 't':
        return '\t';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 'f':
        return '\f';
      case 'v':
        return '\v';
      case '0':
        return '\0';
      case 'b':
        return in_class ? '\b' : -1;
      case 'x':
        return HexEscape(2);
      case 'u':
        return HexEscape(4);
      case 'c': {
        char l = Peek();
        if ((l >= 'a' && l <= 'z') || (l >= 'A' && l <= 'Z')) {
          ++pos_;
          return l % 32;
        }
        return '\\';
      }
      default:
        if (e >= '1' && e <= '9') return -1;  // back-references
        return static_cast<unsigned char>(e);
    }
  }

  absl::StatusOr<NodePtr> ParseEscape() {
    ++pos_;  // '\'
    if (AtEnd()) return Error("'\\' at the end of the pattern");
    char e = text_[pos_++];
    CharSet set;
    if (ClassEscape(e, &set)) return SetNode(set);
    if (e == 'b' || e == 'B') {
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::kAssert;
      n->assertion =
          e == 'b' ? LinearRegex::kWordBoundary : LinearRegex::kNotWordBoundary;
      return n;
    }
    int64_t v = CharEscape(e, /*in_class=*/false);
    if (v < 0) return Error("unsupported escape");
    return CodePoint(static_cast<uint32_t>(v));
  }

  // One class member: a byte (into *lo) or a class escape (into *set).
  absl::Status ClassAtom(int* lo, CharSet* set, bool* is_set) {
    *is_set = false;
    char c = text_[pos_++];
    if (c != '\\') {
      *lo = static_cast<unsigned char>(c);
      return absl::OkStatus();
    }
    if (AtEnd()) return Error("'\\' at the end of the pattern");
    char e = text_[pos_++];
    if (ClassEscape(e, set)) {
      *is_set = true;
      return absl::OkStatus();
    }
    int64_t v = CharEscape(e, /*in_class=*/true);
    if (v < 0 || v > 0x7F) {
      return Error("unsupported escape in a character class");
    }
    *lo = static_cast<int>(v);
    return absl::OkStatus();
  }

  absl::StatusOr<NodePtr> ParseClass() {
    ++pos_;  // '['
    bool negate = false;
    if (Peek() == '^' && !AtEnd()) {
      negate = true;
      ++pos_;
    }
    CharSet set;
    while (true) {
      if (AtEnd()) return Error("missing ']'");
      if (Peek() == ']') {
        ++pos_;
        break;
      }
      int lo = 0;
      CharSet member;
      bool is_set = false;
      absl::Status s = ClassAtom(&lo, &member, &is_set);
      if (!s.ok()) return s;
      if (is_set) {
        set |= member;
        continue;
      }
      if (Peek() == '-' && pos_ + 1 < text_.size() && Peek(1) != ']') {
        ++pos_;  // '-'
        int hi = 0;
        CharSet hi_set;
        bool hi_is_set = false;
        s = ClassAtom(&hi, &hi_set, &hi_is_set);
        if (!s.ok()) return s;
        if (hi_is_set) {
          // [a-\d]: '-' taken literally, as browsers do.
          set.set(static_cast<size_t>(lo));
          set.set('-');
          set |= hi_set;
          continue;
        }
        if (hi < lo) return Error("range out of order in a character class");
        set |= RangeSet(static_cast<unsigned char>(lo),
                        static_cast<unsigned char>(hi));
        continue;
      }
      set.set(static_cast<size_t>(lo));
    }
    if (icase_) FoldCase(&set);
    if (negate) set = ~set;
    return SetNode(set);
  }

  bool Push(LinearRegex::Inst inst) {
    if (out_->program_.size() >= max_size_) return false;
    out_->program_.push_back(inst);
    return true;
  }

  bool Emit(const Node& n) {
    using Op = LinearRegex::Inst::Op;
    auto& prog = out_->program_;
    switch (n.kind) {
      case Node::Kind::kEmpty:
        return true;
      case Node::Kind::kSet:
        out_->sets_.push_back(n.set);
        return Push(
            {Op::kSet, static_cast<uint32_t>(out_->sets_.size() - 1), 0, 0});
      case Node::Kind::kAssert:
        return Push({Op::kAssert, n.assertion, 0, 0});
      case Node::Kind::kConcat:
        for (const NodePtr& c : n.children) {
          if (!Emit(*c)) return false;
        }
        return true;
      case Node::Kind::kAlt: {
        std::vector<size_t> jumps;
        for (size_t i = 0; i < n.children.size(); ++i) {
          if (i + 1 == n.children.size()) {
            if (!Emit(*n.children[i])) return false;
            break;
          }
          size_t split = prog.size();
          if (!Push({Op::kSplit, 0, static_cast<uint32_t>(split + 1), 0})) {
            return false;
          }
          if (!Emit(*n.children[i])) return false;
          jumps.push_back(prog.size());
          if (!Push({Op::kJump, 0, 0, 0})) return false;
          prog[split].y = static_cast<uint32_t>(prog.size());
        }
        for (size_t j : jumps) prog[j].x = static_cast<uint32_t>(prog.size());
        return true;
      }
      case Node::Kind::kRepeat: {
        const Node& body = *n.children[0];
        for (int i = 0; i < n.min; ++i) {
          if (!Emit(body)) return false;
        }
        if (n.max < 0) {
          size_t split = prog.size();
          if (!Push({Op::kSplit, 0, static_cast<uint32_t>(split + 1), 0})) {
            return false;
          }
          if (!Emit(body)) return false;
          if (!Push({Op::kJump, 0, static_cast<uint32_t>(split), 0})) {
            return false;
          }
          prog[split].y = static_cast<uint32_t>(prog.size());
          return true;
        }
        std::vector<size_t> splits;
        for (int i = n.min; i < n.max; ++i) {
          splits.push_back(prog.size());
          if (!Push(
                  {Op::kSplit, 0, static_cast<uint32_t>(prog.size() + 1), 0})) {
            return false;
          }
          if (!Emit(body)) return false;
        }
        for (size_t s : splits) prog[s].y = static_cast<uint32_t>(prog.size());
        return true;
      }
    }
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
  bool icase_;
  int max_depth_;
  size_t max_size_;
  LinearRegex* out_ = nullptr;
};

absl::StatusOr<std::shared_ptr<const LinearRegex>> LinearRegex::Compile(
    std::string_view pattern, std::string_view flags, int max_depth,
    size_t max_size) {
  std::shared_ptr<LinearRegex> re(new LinearRegex());
  re->multiline_ = flags.find('m') != std::string_view::npos;
  RegexCompiler compiler(pattern, flags.find('i') != std::string_view::npos,
                         max_depth, max_size);
  absl::Status s = compiler.Compile(re.get());
  if (!s.ok()) return s;
  return std::shared_ptr<const LinearRegex>(std::move(re));
}

bool LinearRegex::AssertionHolds(uint32_t kind, std::string_view subject,
                                 size_t pos) const {
  auto line_break = [](char c) { return c == '\n' || c == '\r'; };
  switch (kind) {
    case kBol:
      return pos == 0 || (multiline_ && line_break(subject[pos - 1]));
    case kEol:
      return pos == subject.size() || (multiline_ && line_break(subject[pos]));
    case kWordBoundary:
    case kNotWordBoundary: {
      bool before =
          pos > 0 && IsWordByte(static_cast<unsigned char>(subject[pos - 1]));
      bool after = pos < subject.size() &&
                   IsWordByte(static_cast<unsigned char>(subject[pos]));
      return (before != after) == (kind == kWordBoundary);
    }
  }
  return false;
}

LinearRegex::Result LinearRegex::FullMatch(std::string_view subject,
                                           int64_t* steps,
                                           int64_t max_steps) const {
  const size_t n = program_.size();
  std::vector<uint32_t> mark(n, 0);
  uint32_t generation = 0;
  std::vector<uint32_t> current;
  std::vector<uint32_t> next;
  std::vector<uint32_t> stack;
  // Adds the threads reachable from `pc` without consuming input at `pos`.
  auto add = [&](std::vector<uint32_t>* list, uint32_t pc, size_t pos) {
    stack.clear();
    stack.push_back(pc);
    while (!stack.empty()) {
      uint32_t at = stack.back();
      stack.pop_back();
      if (mark[at] == generation) continue;
      mark[at] = generation;
      ++*steps;
      const Inst& inst = program_[at];
      switch (inst.op) {
        case Inst::Op::kJump:
          stack.push_back(inst.x);
          break;
        case Inst::Op::kSplit:
          stack.push_back(inst.y);
          stack.push_back(inst.x);
          break;
        case Inst::Op::kAssert:
          if (AssertionHolds(inst.arg, subject, pos)) stack.push_back(at + 1);
          break;
        case Inst::Op::kSet:
        case Inst::Op::kMatch:
          list->push_back(at);
          break;
      }
    }
  };
  ++generation;
  add(&current, 0, 0);
  for (size_t pos = 0;; ++pos) {
    if (*steps > max_steps) return Result::kOutOfSteps;
    if (pos == subject.size()) {
      for (uint32_t pc : current) {
        if (program_[pc].op == Inst::Op::kMatch) return Result::kMatch;
      }
      return Result::kNoMatch;
    }
    if (current.empty()) return Result::kNoMatch;
    ++generation;
    next.clear();
    unsigned char c = static_cast<unsigned char>(subject[pos]);
    for (uint32_t pc : current) {
      ++*steps;
      const Inst& inst = program_[pc];
      if (inst.op == Inst::Op::kSet && sets_[inst.arg][c]) {
        add(&next, pc + 1, pos + 1);
      }
    }
    current.swap(next);
  }
}

}  // namespace onewindow::asl::internal
