// Loading definition source text (JSON or YAML) into JSON, remembering the
// source line of every location so validation errors can point at it.
//
// JSON is parsed by nlohmann::json; a small second pass over the (then known
// to be well-formed) text records lines and rejects duplicate keys. YAML is
// parsed by yaml-cpp and converted node by node: quoted and block scalars stay
// strings, plain scalars become null, booleans or numbers when they spell one
// (YAML 1.2 core schema), else strings.
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/asl/definition.h"
#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace onewindow::asl {
namespace {

// Deeper documents are rejected: everything downstream (dump, validation,
// evaluation) recurses over the document.
constexpr int kMaxDepth = 256;

// Line and column (1-based) of byte offset `pos` in `text`.
std::pair<int, int> LineColumn(std::string_view text, size_t pos) {
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

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

// Walks JSON text that nlohmann has already accepted, recording the line of
// each location and failing on duplicate object keys or excessive nesting.
class JsonLineScanner {
 public:
  JsonLineScanner(std::string_view text, std::map<std::string, int>* lines)
      : text_(text), lines_(lines) {}

  absl::Status Run() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    SkipSpace();
    Value("$", 0);
    return status_;
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }

  void SkipSpace() {
    while (!AtEnd()) {
      char c = text_[pos_];
      if (c == '\n') {
        ++line_;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return;
      }
      ++pos_;
    }
  }

  void Fail(std::string message) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          absl::StrCat("line ", line_, ": ", message));
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

  void Value(const std::string& path, int depth) {
    if (!status_.ok() || AtEnd()) return;
    lines_->emplace(path, line_);
    if (depth > kMaxDepth) {
      Fail(absl::StrCat("nesting deeper than ", kMaxDepth, " levels"));
      return;
    }
    char c = text_[pos_];
    if (c == '{') {
      Object(path, depth);
    } else if (c == '[') {
      Array(path, depth);
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

  void Object(const std::string& path, int depth) {
    ++pos_;
    std::set<std::string> seen;
    SkipSpace();
    if (!AtEnd() && text_[pos_] == '}') {
      ++pos_;
      return;
    }
    while (status_.ok() && !AtEnd()) {
      SkipSpace();
      int key_line = line_;
      std::string key;
      String(&key);
      if (!seen.insert(key).second) {
        Fail(absl::StrCat("duplicate key \"", key, "\" in object at ", path));
        return;
      }
      std::string child = LocationMember(path, key);
      lines_->emplace(child, key_line);
      SkipSpace();
      if (!AtEnd() && text_[pos_] == ':') ++pos_;
      SkipSpace();
      Value(child, depth + 1);
      SkipSpace();
      if (AtEnd()) return;
      char c = text_[pos_++];
      if (c == '}') return;
    }
  }

  void Array(const std::string& path, int depth) {
    ++pos_;
    SkipSpace();
    if (!AtEnd() && text_[pos_] == ']') {
      ++pos_;
      return;
    }
    for (size_t index = 0; status_.ok() && !AtEnd(); ++index) {
      SkipSpace();
      Value(LocationIndex(path, index), depth + 1);
      SkipSpace();
      if (AtEnd()) return;
      char c = text_[pos_++];
      if (c == ']') return;
    }
  }

  std::string_view text_;
  std::map<std::string, int>* lines_;
  size_t pos_ = 0;
  int line_ = 1;
  absl::Status status_;
};

absl::StatusOr<LoadedSource> LoadJson(std::string_view text) {
  LoadedSource out;
  try {
    out.doc = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.byte is the 1-based offset of the last character read.
    auto [line, column] = LineColumn(text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.N] parse error at line L,
    // column C: " prefix; the position is reported in our own format.
    size_t colon = what.find(": ");
    if (what.find("parse error") != std::string::npos &&
        colon != std::string::npos) {
      what = what.substr(colon + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "JSON syntax error at line ", line, ", column ", column, ": ", what));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON syntax error: ", e.what()));
  }
  JsonLineScanner scanner(text, &out.lines);
  absl::Status s = scanner.Run();
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON: ", s.message()));
  }
  return out;
}

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

std::string YamlPosition(const YAML::Mark& mark) {
  return absl::StrCat("line ", mark.line + 1, ", column ", mark.column + 1);
}

absl::Status YamlError(const YAML::Node& node, std::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(
      "YAML error at ", YamlPosition(node.Mark()), ": ", std::string(message)));
}

absl::Status ConvertScalar(const YAML::Node& node, Json* out) {
  const std::string& tag = node.Tag();
  const std::string& value = node.Scalar();
  if (tag == "?") {
    *out = ResolvePlainScalar(value);
    return absl::OkStatus();
  }
  if (tag == "!" || tag == "tag:yaml.org,2002:str") {
    *out = value;
    return absl::OkStatus();
  }
  Json resolved = ResolvePlainScalar(value);
  if ((tag == "tag:yaml.org,2002:null" && resolved.is_null()) ||
      (tag == "tag:yaml.org,2002:bool" && resolved.is_boolean()) ||
      (tag == "tag:yaml.org,2002:int" && resolved.is_number_integer()) ||
      (tag == "tag:yaml.org,2002:float" && resolved.is_number())) {
    *out = tag == "tag:yaml.org,2002:float" ? Json(resolved.get<double>())
                                            : resolved;
    return absl::OkStatus();
  }
  return YamlError(node, absl::StrCat("scalar \"", value,
                                      "\" cannot be read with tag ", tag));
}

absl::Status ConvertYaml(const YAML::Node& node, const std::string& path,
                         int depth, Json* out,
                         std::map<std::string, int>* lines) {
  if (depth > kMaxDepth) {
    return YamlError(
        node, absl::StrCat("nesting deeper than ", kMaxDepth, " levels"));
  }
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      *out = nullptr;
      return absl::OkStatus();
    case YAML::NodeType::Scalar:
      return ConvertScalar(node, out);
    case YAML::NodeType::Sequence: {
      *out = Json::array();
      size_t index = 0;
      for (const YAML::Node& item : node) {
        std::string child = LocationIndex(path, index++);
        lines->emplace(child, item.Mark().line + 1);
        Json value;
        absl::Status s = ConvertYaml(item, child, depth + 1, &value, lines);
        if (!s.ok()) return s;
        out->push_back(std::move(value));
      }
      return absl::OkStatus();
    }
    case YAML::NodeType::Map: {
      *out = Json::object();
      for (const auto& entry : node) {
        const YAML::Node& key = entry.first;
        if (!key.IsScalar()) {
          return YamlError(key, "mapping keys must be scalars");
        }
        const std::string& name = key.Scalar();
        if (out->contains(name)) {
          return YamlError(key, absl::StrCat("duplicate key \"", name, "\""));
        }
        std::string child = LocationMember(path, name);
        lines->emplace(child, key.Mark().line + 1);
        Json value;
        absl::Status s =
            ConvertYaml(entry.second, child, depth + 1, &value, lines);
        if (!s.ok()) return s;
        (*out)[name] = std::move(value);
      }
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadedSource> LoadYaml(std::string_view text) {
  LoadedSource out;
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.size() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("YAML error at ", YamlPosition(docs[1].Mark()),
                       ": expected a single document, found ", docs.size()));
    }
    if (docs.empty()) {
      out.doc = nullptr;
      return out;
    }
    out.lines.emplace("$", docs[0].Mark().line + 1);
    absl::Status s = ConvertYaml(docs[0], "$", 0, &out.doc, &out.lines);
    if (!s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "YAML syntax error at ", YamlPosition(e.mark), ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("YAML syntax error: ", e.what()));
  }
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

absl::StatusOr<LoadedSource> LoadSource(std::string_view text,
                                        SourceFormat format) {
  if (format == SourceFormat::kAuto) {
    std::string_view rest = text;
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") rest.remove_prefix(3);
    size_t first = rest.find_first_not_of(" \t\r\n");
    format = (first != std::string_view::npos && rest[first] == '{')
                 ? SourceFormat::kJson
                 : SourceFormat::kYaml;
  }
  if (format == SourceFormat::kJson) return LoadJson(text);
  return LoadYaml(text);
}

}  // namespace onewindow::asl
