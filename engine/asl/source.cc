// Loading definition source text (JSON or YAML) into JSON, remembering the
// source line and column of every location so validation errors can point
// at it.
//
// JSON goes through ParseJson (strict, depth-checked, no recursion); a
// second pass over the then well-formed text records positions and rejects
// duplicate keys. YAML is first scanned for its nesting depth (yaml-cpp's
// parser recurses on it), parsed by yaml-cpp and converted node by node
// under a budget of nodes and bytes, so aliases cannot expand without
// bound; quoted and block scalars stay strings, plain scalars become null,
// booleans or numbers when they spell one (YAML 1.2 core schema), else
// strings.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/asl/definition.h"
#include "engine/asl/json_parse.h"
#include "engine/asl/limits.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace onewindow::asl {
namespace {

absl::string_view Av(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// Line and column of byte offsets, cheap when the offsets asked for mostly
// increase (a cursor moves forward; going back restarts at the line).
class PositionIndex {
 public:
  explicit PositionIndex(std::string_view text) : text_(text) {}

  TextPosition At(size_t offset) {
    if (offset > text_.size()) offset = text_.size();
    if (offset < offset_) {
      // Back to the start of the line holding `offset`.
      size_t start = offset;
      while (start > 0 && text_[start - 1] != '\n') --start;
      int line = position_.line;
      for (size_t i = start; i < offset_; ++i) {
        if (text_[i] == '\n') --line;
      }
      offset_ = start;
      position_ = TextPosition{line, 1};
    }
    for (; offset_ < offset; ++offset_) {
      unsigned char c = static_cast<unsigned char>(text_[offset_]);
      if (c == '\n') {
        ++position_.line;
        position_.column = 1;
      } else if ((c & 0xC0) != 0x80) {
        ++position_.column;
      }
    }
    return position_;
  }

 private:
  std::string_view text_;
  size_t offset_ = 0;
  TextPosition position_{1, 1};
};

void Record(LoadedSource* out, const std::string& path, const TextPosition& p) {
  if (out->lines.emplace(path, p.line).second) {
    out->columns.emplace(path, p.column);
  }
}

absl::Status SizeError(std::string_view text, const Limits& limits) {
  return absl::ResourceExhaustedError(absl::StrCat(
      "definition of ", text.size(), " bytes: ",
      LimitMessage(kLimitDefinitionBytes,
                   static_cast<int64_t>(limits.max_definition_bytes),
                   "bytes")));
}

// ---------------------------------------------------------------------------
// JSON

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Walks JSON text that ParseJson has already accepted (so its depth is
// bounded), recording the position of each location and failing on
// duplicate object keys.
class JsonPositionScanner {
 public:
  JsonPositionScanner(std::string_view text, LoadedSource* out)
      : text_(text), out_(out), index_(text) {}

  absl::Status Run() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    SkipSpace();
    Value("$");
    return status_;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }

  void SkipSpace() {
    while (!AtEnd()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return;
      ++pos_;
    }
  }

  void Fail(size_t at, std::string message) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(absl::StrCat(
          "JSON error at ", DescribePosition(index_.At(at)), ": ", message));
    }
  }

  uint32_t Hex4() {
    uint32_t v = 0;
    for (int k = 0; k < 4 && !AtEnd(); ++k, ++pos_) {
      char c = text_[pos_];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
    }
    return v;
  }

  // At the opening quote; decodes the string into *out.
  void String(std::string* out) {
    ++pos_;
    while (!AtEnd()) {
      char c = text_[pos_++];
      if (c == '"') return;
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (AtEnd()) return;
      char e = text_[pos_++];
      switch (e) {
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = Hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 1 < text_.size() &&
              text_[pos_] == '\\' && text_[pos_ + 1] == 'u') {
            pos_ += 2;
            uint32_t low = Hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          out->push_back(e);
          break;
      }
    }
  }

  // Recursion is bounded: ParseJson has checked the depth.
  void Value(const std::string& path) {
    if (!status_.ok() || AtEnd()) return;
    Record(out_, path, index_.At(pos_));
    char c = text_[pos_];
    if (c == '{') {
      Object(path);
    } else if (c == '[') {
      Array(path);
    } else if (c == '"') {
      std::string ignored;
      String(&ignored);
    } else {
      while (!AtEnd()) {
        char d = text_[pos_];
        if (d == ',' || d == ']' || d == '}' || d == ' ' || d == '\t' ||
            d == '\r' || d == '\n') {
          break;
        }
        ++pos_;
      }
    }
  }

  void Object(const std::string& path) {
    ++pos_;
    std::set<std::string> seen;
    SkipSpace();
    if (!AtEnd() && text_[pos_] == '}') {
      ++pos_;
      return;
    }
    while (status_.ok() && !AtEnd()) {
      SkipSpace();
      size_t key_at = pos_;
      std::string key;
      String(&key);
      if (!seen.insert(key).second) {
        Fail(key_at,
             absl::StrCat("duplicate key \"", key, "\" in object at ", path));
        return;
      }
      std::string child = LocationMember(path, key);
      Record(out_, child, index_.At(key_at));
      SkipSpace();
      if (!AtEnd() && text_[pos_] == ':') ++pos_;
      SkipSpace();
      Value(child);
      SkipSpace();
      if (AtEnd()) return;
      char c = text_[pos_++];
      if (c == '}') return;
    }
  }

  void Array(const std::string& path) {
    ++pos_;
    SkipSpace();
    if (!AtEnd() && text_[pos_] == ']') {
      ++pos_;
      return;
    }
    for (size_t index = 0; status_.ok() && !AtEnd(); ++index) {
      SkipSpace();
      Value(LocationIndex(path, index));
      SkipSpace();
      if (AtEnd()) return;
      char c = text_[pos_++];
      if (c == ']') return;
    }
  }

  std::string_view text_;
  LoadedSource* out_;
  PositionIndex index_;
  size_t pos_ = 0;
  absl::Status status_;
};

absl::StatusOr<LoadedSource> LoadJson(std::string_view text,
                                      const Limits& limits) {
  Limits parse_limits = limits;
  parse_limits.max_payload_bytes = 0;  // the definition size is checked
  absl::StatusOr<Json> doc = ParseJson(text, parse_limits);
  if (!doc.ok()) return doc.status();
  LoadedSource out;
  out.doc = *std::move(doc);
  JsonPositionScanner scanner(text, &out);
  absl::Status s = scanner.Run();
  if (!s.ok()) return s;
  return out;
}

// ---------------------------------------------------------------------------
// YAML

// Estimates the nesting depth of YAML text line by line, before yaml-cpp
// (whose parser recurses on it) sees the text: block nesting from an
// indentation stack plus the "- ", "? " and ": " indicators that open a
// node on the same line, flow nesting from brackets outside quotes and
// comments. Block scalars (| and >) are skipped. The estimate errs on the
// high side; yaml-cpp's own recursion guard stays as a second line.
class YamlDepthScanner {
 public:
  YamlDepthScanner(std::string_view text, int max_depth)
      : text_(text), max_depth_(max_depth), index_(text) {}

  absl::Status Run() {
    size_t start = 0;
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") start = 3;
    while (start <= text_.size() && status_.ok()) {
      size_t end = text_.find('\n', start);
      if (end == std::string_view::npos) end = text_.size();
      Line(start, end);
      if (end == text_.size()) break;
      start = end + 1;
    }
    return status_;
  }

 private:
  static bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

  void Check(int depth, size_t at) {
    if (depth > max_depth_ && status_.ok()) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat("YAML error at ", DescribePosition(index_.At(at)), ": ",
                       LimitMessage(kLimitJsonDepth, max_depth_)));
    }
  }

  // The position just past the spaces at `i` (not beyond `end`).
  size_t SkipBlanks(size_t i, size_t end) const {
    while (i < end && IsBlank(text_[i])) ++i;
    return i;
  }

  void Line(size_t start, size_t end) {
    size_t first = SkipBlanks(start, end);
    if (block_scalar_indent_ >= 0) {
      if (first == end) return;  // blank lines belong to the scalar
      if (static_cast<int>(first - start) > block_scalar_indent_) return;
      block_scalar_indent_ = -1;
    }
    if (quote_ != 0) {
      size_t i = Quoted(start, end, quote_);
      if (quote_ != 0) return;
      if (flow_ > 0) {
        Flow(i, end);
      } else {
        Inline(i, end, flow_base_ + 1, start);
      }
      return;
    }
    if (flow_ > 0) {
      Flow(start, end);
      return;
    }
    if (first == end || text_[first] == '#') return;
    if (text_[first] == '%') return;  // directive
    if (text_.substr(first, 3) == "---" || text_.substr(first, 3) == "...") {
      size_t after = first + 3;
      if (after == end || IsBlank(text_[after])) {
        first = SkipBlanks(after, end);
        if (first == end || text_[first] == '#') return;
        indents_.clear();
      }
    }
    int indent = static_cast<int>(first - start);
    while (!indents_.empty() && indents_.back() >= indent) indents_.pop_back();
    indents_.push_back(indent);
    int depth = static_cast<int>(indents_.size());
    size_t i = first;
    size_t owner = first;
    // "- ", "? " and ": " each open one more level on this line.
    while (i < end && (text_[i] == '-' || text_[i] == '?' || text_[i] == ':') &&
           (i + 1 == end || IsBlank(text_[i + 1]))) {
      owner = i;
      i = SkipBlanks(i + 1, end);
      ++depth;
      indents_.push_back(static_cast<int>(i - start));
    }
    Check(depth, first);
    if (i < end && text_[i] != '#') {
      if (i != first) owner = i;
      Node(i, end, depth, static_cast<int>(owner - start), start);
    }
  }

  // A node that starts at `i` on a line, at `depth`; `owner_col` is the
  // column of the structure it belongs to (for block scalars).
  void Node(size_t i, size_t end, int depth, int owner_col, size_t line_start) {
    // Anchors and tags before the node.
    while (i < end && (text_[i] == '&' || text_[i] == '!')) {
      while (i < end && !IsBlank(text_[i])) ++i;
      i = SkipBlanks(i, end);
    }
    if (i >= end || text_[i] == '#') return;
    char c = text_[i];
    if (c == '[' || c == '{') {
      flow_base_ = depth;
      Flow(i, end);
      return;
    }
    if (c == '|' || c == '>') {
      block_scalar_indent_ = owner_col;
      return;
    }
    if (c == '"' || c == '\'') {
      quote_ = c;
      flow_base_ = depth;
      size_t after = Quoted(i + 1, end, c);
      if (quote_ != 0) return;
      Inline(after, end, depth + 1, line_start);
      return;
    }
    // A plain scalar, or a key followed by ": " and a value.
    for (size_t k = i; k < end; ++k) {
      if (text_[k] == '#' && k > i && IsBlank(text_[k - 1])) return;
      if (text_[k] == ':' && (k + 1 == end || IsBlank(text_[k + 1]))) {
        size_t v = SkipBlanks(k + 1, end);
        if (v < end) {
          Check(depth + 1, v);
          Node(v, end, depth + 1, static_cast<int>(i - line_start), line_start);
        }
        return;
      }
    }
  }

  // After a quoted key or scalar closes: ": value" may follow.
  void Inline(size_t i, size_t end, int depth, size_t line_start) {
    i = SkipBlanks(i, end);
    if (i < end && text_[i] == ':') {
      size_t v = SkipBlanks(i + 1, end);
      if (v < end) {
        Check(depth, v);
        Node(v, end, depth, static_cast<int>(i - line_start), line_start);
      }
    }
  }

  // Inside a quoted scalar from `i`; returns the position after the closing
  // quote, or `end` with quote_ still set when it runs on.
  size_t Quoted(size_t i, size_t end, char quote) {
    while (i < end) {
      char c = text_[i];
      if (quote == '"' && c == '\\') {
        i += 2;
        continue;
      }
      if (c == quote) {
        if (quote == '\'' && i + 1 < end && text_[i + 1] == '\'') {
          i += 2;
          continue;
        }
        quote_ = 0;
        return i + 1;
      }
      ++i;
    }
    quote_ = quote;
    return end;
  }

  // Flow context from `i` to the end of the line: brackets outside quotes
  // and comments. A quote opens a quoted scalar only where a scalar starts.
  void Flow(size_t i, size_t end) {
    bool token_start = true;
    while (i < end && status_.ok()) {
      char c = text_[i];
      if (c == '#' &&
          (i == 0 || IsBlank(text_[i - 1]) || text_[i - 1] == '\n')) {
        return;
      }
      if ((c == '"' || c == '\'') && token_start) {
        i = Quoted(i + 1, end, c);
        if (quote_ != 0) return;
        token_start = false;
        continue;
      }
      if (c == '[' || c == '{') {
        ++flow_;
        Check(flow_base_ + flow_, i);
        token_start = true;
      } else if (c == ']' || c == '}') {
        if (flow_ > 0) --flow_;
        token_start = false;
      } else if (c == ',' || c == ':' || c == '?' || c == '-') {
        token_start = true;
      } else if (!IsBlank(c)) {
        token_start = false;
      }
      ++i;
    }
  }

  std::string_view text_;
  int max_depth_;
  PositionIndex index_;
  std::vector<int> indents_;
  int flow_ = 0;
  int flow_base_ = 0;
  char quote_ = 0;
  int block_scalar_indent_ = -1;
  absl::Status status_;
};

bool AllOf(std::string_view s, int (*pred)(int)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int IsOctal(int c) { return c >= '0' && c <= '7'; }

// Resolves a plain YAML scalar by the YAML 1.2 core schema.
Json ResolvePlainScalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return nullptr;
  }
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  std::string_view body = s;
  bool negative = false;
  if (body[0] == '-' || body[0] == '+') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  if (AllOf(body, [](int c) { return std::isdigit(c); })) {
    errno = 0;
    char* end = nullptr;
    if (negative) {
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (errno == 0) return static_cast<int64_t>(v);
    } else {
      unsigned long long v = std::strtoull(std::string(body).c_str(), &end, 10);
      if (errno == 0) {
        if (v <= static_cast<unsigned long long>(INT64_MAX)) {
          return static_cast<int64_t>(v);
        }
        return static_cast<uint64_t>(v);
      }
    }
    return std::strtod(s.c_str(), nullptr);
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    std::string_view digits = std::string_view(s).substr(2);
    bool hex = s[1] == 'x';
    if (AllOf(digits,
              hex ? +[](int c) { return std::isxdigit(c); } : IsOctal)) {
      errno = 0;
      unsigned long long v =
          std::strtoull(std::string(digits).c_str(), nullptr, hex ? 16 : 8);
      if (errno == 0 && v <= static_cast<unsigned long long>(INT64_MAX)) {
        return static_cast<int64_t>(v);
      }
    }
    return s;
  }
  // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  size_t i = 0;
  size_t n = body.size();
  size_t int_digits = 0;
  size_t frac_digits = 0;
  while (i < n && std::isdigit(static_cast<unsigned char>(body[i]))) {
    ++i;
    ++int_digits;
  }
  if (i < n && body[i] == '.') {
    ++i;
    while (i < n && std::isdigit(static_cast<unsigned char>(body[i]))) {
      ++i;
      ++frac_digits;
    }
  }
  if (int_digits + frac_digits == 0) return s;
  if (i < n && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < n && (body[i] == '-' || body[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < n && std::isdigit(static_cast<unsigned char>(body[i]))) {
      ++i;
      ++exp_digits;
    }
    if (exp_digits == 0) return s;
  }
  if (i != n) return s;
  double d = std::strtod(s.c_str(), nullptr);
  if (!std::isfinite(d)) return s;
  return d;
}

// Builds JSON from yaml-cpp's parser events (not its node graph) under a
// budget of nodes and bytes: every node, key and alias copy is paid for
// before it is built, so neither aliases nor a parser that keeps producing
// events (yaml-cpp 0.7 does on some malformed input) can grow memory or
// time without bound. Positions are recorded once per source node; the
// nodes an alias repeats carry none.
class YamlBuilder : public YAML::EventHandler {
 public:
  YamlBuilder(std::string_view text, const Limits& limits, LoadedSource* out)
      : text_(text), limits_(limits), out_(out), index_(text) {}

  // Thrown out of yaml-cpp's parser to stop it.
  struct Stop {
    absl::Status status;
  };

  bool has_root() const { return has_root_; }
  Json& root() { return root_; }
  TextPosition PositionOf(const YAML::Mark& mark) {
    if (mark.pos >= 0 && static_cast<size_t>(mark.pos) <= text_.size()) {
      return index_.At(static_cast<size_t>(mark.pos));
    }
    return TextPosition{mark.line + 1, mark.column + 1};
  }
  [[noreturn]] void Fail(const YAML::Mark& mark, std::string_view message) {
    throw Stop{absl::InvalidArgumentError(
        absl::StrCat("YAML error at ", DescribePosition(PositionOf(mark)), ": ",
                     Av(message)))};
  }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (documents_++ > 0) {
      Fail(mark, "expected a single document, found more than one");
    }
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (TakeKey(mark, nullptr)) return;
    Spend(mark, 1, 4);
    Place(mark, Json(nullptr), anchor, 1, 4, nullptr, /*item=*/true);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      Fail(mark, "an alias refers to a node that is not complete yet");
    }
    const Anchored& a = it->second;
    if (TakeKey(mark, a.scalar ? &a.text : nullptr)) return;
    Spend(mark, a.nodes, a.bytes);
    Place(mark, a.value, 0, 0, 0, nullptr, /*item=*/true);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag,
                YAML::anchor_t anchor, const std::string& value) override {
    if (TakeKey(mark, &value)) {
      if (anchor != 0) {
        anchors_[anchor] =
            Anchored{tag == "?" ? ResolvePlainScalar(value) : Json(value), 1,
                     value.size() + 3, true, value};
      }
      return;
    }
    size_t bytes = value.size() + 2;
    Spend(mark, 1, bytes);
    Json resolved = Resolve(mark, tag, value);
    Place(mark, std::move(resolved), anchor, 1, bytes, &value, /*item=*/true);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&,
                       YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, Json::array(), anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&,
                  YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    Open(mark, Json::object(), anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    Json value;
    bool is_map = false;
    bool expecting_key = true;
    std::string key;
    std::string path;  // location; empty when positions are not recorded
    size_t index = 0;
    YAML::anchor_t anchor = 0;
    YAML::Mark mark;
    size_t nodes_at_start = 0;
    size_t bytes_at_start = 0;
  };
  struct Anchored {
    Json value;
    size_t nodes = 0;
    size_t bytes = 0;
    bool scalar = false;
    std::string text;  // a scalar's text (it may be used as a key)
  };

  void Spend(const YAML::Mark& mark, size_t nodes, size_t bytes) {
    nodes_ += nodes;
    if (nodes_ > limits_.max_yaml_nodes) {
      Fail(mark, LimitMessage(kLimitYamlNodes,
                              static_cast<int64_t>(limits_.max_yaml_nodes)));
    }
    bytes_ += bytes;
    if (bytes_ > limits_.max_yaml_bytes) {
      Fail(mark,
           LimitMessage(kLimitYamlBytes,
                        static_cast<int64_t>(limits_.max_yaml_bytes), "bytes"));
    }
  }

  Json Resolve(const YAML::Mark& mark, const std::string& tag,
               const std::string& value) {
    if (tag == "?") return ResolvePlainScalar(value);
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return Json(value);
    Json resolved = ResolvePlainScalar(value);
    if ((tag == "tag:yaml.org,2002:null" && resolved.is_null()) ||
        (tag == "tag:yaml.org,2002:bool" && resolved.is_boolean()) ||
        (tag == "tag:yaml.org,2002:int" && resolved.is_number_integer()) ||
        (tag == "tag:yaml.org,2002:float" && resolved.is_number())) {
      return tag == "tag:yaml.org,2002:float" ? Json(resolved.get<double>())
                                              : resolved;
    }
    Fail(mark,
         absl::StrCat("scalar \"", value, "\" cannot be read with tag ", tag));
  }

  // When the innermost open node is a mapping waiting for a key, takes
  // `key` (null: not a scalar, refused) and returns true.
  bool TakeKey(const YAML::Mark& mark, const std::string* key) {
    if (stack_.empty() || !stack_.back().is_map ||
        !stack_.back().expecting_key) {
      return false;
    }
    if (key == nullptr) Fail(mark, "mapping keys must be scalars");
    Frame& f = stack_.back();
    Spend(mark, 0, key->size() + 3);
    if (f.value.contains(*key)) {
      Fail(mark, absl::StrCat("duplicate key \"", *key, "\""));
    }
    f.key = *key;
    f.expecting_key = false;
    if (!f.path.empty()) {
      Record(out_, LocationMember(f.path, f.key), PositionOf(mark));
    }
    return true;
  }

  // The location of the node about to start in the innermost open node,
  // recording the position of a sequence item; empty when not recorded.
  std::string ChildPath(const YAML::Mark& mark) {
    if (stack_.empty()) {
      if (!has_root_position_) {
        has_root_position_ = true;
        Record(out_, "$", PositionOf(mark));
      }
      return "$";
    }
    Frame& f = stack_.back();
    if (f.path.empty()) return std::string();
    if (f.is_map) return LocationMember(f.path, f.key);
    std::string child = LocationIndex(f.path, f.index);
    Record(out_, child, PositionOf(mark));
    return child;
  }

  // Puts a finished value into the innermost open node (or makes it the
  // document), remembering it under its anchor. `item`: a node that had no
  // Open (scalar, null, alias), whose position is recorded here.
  void Place(const YAML::Mark& mark, Json value, YAML::anchor_t anchor,
             size_t nodes, size_t bytes, const std::string* scalar, bool item) {
    if (item) ChildPath(mark);
    if (anchor != 0) {
      // Remembering costs what an alias copy would.
      Spend(mark, nodes, bytes);
      anchors_[anchor] = Anchored{value, nodes, bytes, scalar != nullptr,
                                  scalar != nullptr ? *scalar : std::string()};
    }
    if (stack_.empty()) {
      root_ = std::move(value);
      has_root_ = true;
      return;
    }
    Frame& f = stack_.back();
    if (f.is_map) {
      f.value[f.key] = std::move(value);
      f.expecting_key = true;
    } else {
      f.value.push_back(std::move(value));
      ++f.index;
    }
  }

  void Open(const YAML::Mark& mark, Json container, YAML::anchor_t anchor) {
    if (TakeKey(mark, nullptr)) return;  // (throws: not a scalar key)
    if (static_cast<int>(stack_.size()) >= limits_.max_json_depth) {
      Fail(mark, LimitMessage(kLimitJsonDepth, limits_.max_json_depth));
    }
    Spend(mark, 1, 2);
    Frame f;
    f.path = ChildPath(mark);
    f.is_map = container.is_object();
    f.value = std::move(container);
    f.anchor = anchor;
    f.mark = mark;
    f.nodes_at_start = nodes_ - 1;
    f.bytes_at_start = bytes_ - 2;
    stack_.push_back(std::move(f));
  }

  void Close() {
    if (stack_.empty()) return;
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    size_t nodes = nodes_ - f.nodes_at_start;
    size_t bytes = bytes_ - f.bytes_at_start;
    Place(f.mark, std::move(f.value), f.anchor, nodes, bytes, nullptr,
          /*item=*/false);
  }

  std::string_view text_;
  const Limits& limits_;
  LoadedSource* out_;
  PositionIndex index_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  Json root_;
  bool has_root_ = false;
  bool has_root_position_ = false;
  int documents_ = 0;
  size_t nodes_ = 0;
  size_t bytes_ = 0;
};

absl::StatusOr<LoadedSource> LoadYaml(std::string_view text,
                                      const Limits& limits) {
  absl::Status scanned = YamlDepthScanner(text, limits.max_json_depth).Run();
  if (!scanned.ok()) return scanned;
  LoadedSource out;
  YamlBuilder builder(text, limits, &out);
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(builder)) {
    }
  } catch (const YamlBuilder::Stop& stop) {
    return stop.status;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "YAML syntax error at ", DescribePosition(builder.PositionOf(e.mark)),
        ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("YAML syntax error: ", e.what()));
  }
  out.doc = builder.has_root() ? std::move(builder.root()) : Json(nullptr);
  return out;
}

bool IsPlainKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (c == '.' || c == '[' || c == ']' || c == '\'' || c == '"' ||
        c == '\\') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string LocationMember(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (IsPlainKey(key)) {
    out.push_back('.');
    out.append(key);
    return out;
  }
  out.append("['");
  for (char c : key) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.append("']");
  return out;
}

std::string LocationIndex(std::string_view parent, size_t index) {
  std::string out(parent);
  absl::StrAppend(&out, "[", index, "]");
  return out;
}

ValidationError LoadFailure(const absl::Status& status) {
  ValidationError e;
  e.path = "$";
  e.message = std::string(status.message());
  // Every loader message with a position says "line L, column C".
  std::string_view m = e.message;
  size_t at = m.find("line ");
  while (at != std::string_view::npos) {
    int line = 0;
    int column = 0;
    size_t i = at + 5;
    while (i < m.size() && m[i] >= '0' && m[i] <= '9') {
      line = line * 10 + (m[i++] - '0');
      if (line > 100000000) break;
    }
    if (line > 0 && m.substr(i, 9) == ", column ") {
      i += 9;
      while (i < m.size() && m[i] >= '0' && m[i] <= '9') {
        column = column * 10 + (m[i++] - '0');
        if (column > 100000000) break;
      }
      e.line = line;
      e.column = column;
      break;
    }
    at = m.find("line ", at + 5);
  }
  return e;
}

absl::StatusOr<LoadedSource> LoadSource(std::string_view text,
                                        SourceFormat format,
                                        const Limits& limits) {
  if (text.size() > limits.max_definition_bytes) {
    return SizeError(text, limits);
  }
  if (format == SourceFormat::kAuto) {
    std::string_view rest = text;
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
    size_t first = rest.find_first_not_of(" \t\r\n");
    format = (first != std::string_view::npos && rest[first] == '{')
                 ? SourceFormat::kJson
                 : SourceFormat::kYaml;
  }
  if (format == SourceFormat::kJson) return LoadJson(text, limits);
  return LoadYaml(text, limits);
}

}  // namespace onewindow::asl
