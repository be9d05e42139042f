// Bounded YAML/JSON loading: a flat nesting scan, then yaml-cpp, then a
// counted conversion to nlohmann::json with positions.
#include "engine/manifest/document.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/manifest/json_pointer.h"
#include "yaml-cpp/yaml.h"

namespace onewindow::manifest {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

absl::Status DepthError(int line, int max_depth) {
  return absl::ResourceExhaustedError(
      absl::StrCat("line ", line, ": nesting deeper than ", max_depth,
                   " levels (the limit)"));
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Resolves a plain scalar by the YAML 1.2 core schema. Values JSON cannot
// hold (.inf, .nan) and anything else stay strings.
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
  if (AllDigits(body)) {
    errno = 0;
    if (negative) {
      long long v = std::strtoll(s.c_str(), nullptr, 10);
      if (errno == 0) return static_cast<int64_t>(v);
    } else {
      unsigned long long v =
          std::strtoull(std::string(body).c_str(), nullptr, 10);
      if (errno == 0) {
        if (v <= static_cast<unsigned long long>(INT64_MAX)) {
          return static_cast<int64_t>(v);
        }
        return static_cast<uint64_t>(v);
      }
    }
    double d = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(d)) return d;
    return s;
  }
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    std::string_view digits = std::string_view(s).substr(2);
    bool hex = s[1] == 'x';
    bool ok = !digits.empty() && digits.size() <= 15;
    for (char c : digits) {
      bool digit = hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0
                       : (c >= '0' && c <= '7');
      ok = ok && digit;
    }
    if (ok) {
      return static_cast<int64_t>(
          std::strtoll(std::string(digits).c_str(), nullptr, hex ? 16 : 8));
    }
    return s;
  }
  // [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
  size_t i = 0;
  size_t n = body.size();
  size_t digits = 0;
  while (i < n && body[i] >= '0' && body[i] <= '9') {
    ++i;
    ++digits;
  }
  if (i < n && body[i] == '.') {
    ++i;
    while (i < n && body[i] >= '0' && body[i] <= '9') {
      ++i;
      ++digits;
    }
  }
  if (digits == 0) return s;
  if (i < n && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < n && (body[i] == '-' || body[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < n && body[i] >= '0' && body[i] <= '9') {
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

SourcePosition PositionOfMark(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

absl::Status NodeError(const YAML::Node& node, std::string_view message) {
  std::string where = FormatPosition(PositionOfMark(node.Mark()));
  return absl::InvalidArgumentError(
      absl::StrCat(where.empty() ? "" : where + ": ", std::string(message)));
}

class Converter {
 public:
  Converter(const LoadLimits& limits, LoadedDocument* out)
      : limits_(limits), out_(out) {}

  absl::Status Convert(const YAML::Node& node, std::string* pointer, int depth,
                       Json* value) {
    if (depth > limits_.max_depth) {
      return absl::ResourceExhaustedError(absl::StrCat(
          FormatPosition(PositionOfMark(node.Mark())), ": nesting deeper than ",
          limits_.max_depth, " levels (the limit)"));
    }
    if (++nodes_ > limits_.max_nodes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "more than ", limits_.max_nodes,
          " values (the limit; each use of an alias counts again)"));
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        *value = nullptr;
        return absl::OkStatus();
      case YAML::NodeType::Scalar:
        scalar_bytes_ += node.Scalar().size();
        if (scalar_bytes_ > limits_.max_scalar_bytes) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "more than ", limits_.max_scalar_bytes,
              " bytes of text values (the limit; each use of an alias counts "
              "again)"));
        }
        return Scalar(node, value);
      case YAML::NodeType::Sequence: {
        *value = Json::array();
        size_t index = 0;
        for (const YAML::Node& item : node) {
          size_t mark = pointer->size();
          AppendPointerIndex(pointer, index++);
          out_->positions.emplace(*pointer, PositionOfMark(item.Mark()));
          Json child;
          absl::Status s = Convert(item, pointer, depth + 1, &child);
          pointer->resize(mark);
          if (!s.ok()) return s;
          value->push_back(std::move(child));
        }
        return absl::OkStatus();
      }
      case YAML::NodeType::Map: {
        *value = Json::object();
        for (const auto& entry : node) {
          const YAML::Node& key = entry.first;
          if (!key.IsScalar()) {
            return NodeError(key, "keys must be plain text, not collections");
          }
          const std::string& name = key.Scalar();
          if (value->contains(name)) {
            return NodeError(key, absl::StrCat("duplicate key \"", name, "\""));
          }
          size_t mark = pointer->size();
          AppendPointerToken(pointer, name);
          out_->positions.emplace(*pointer, PositionOfMark(key.Mark()));
          Json child;
          absl::Status s = Convert(entry.second, pointer, depth + 1, &child);
          pointer->resize(mark);
          if (!s.ok()) return s;
          (*value)[name] = std::move(child);
        }
        return absl::OkStatus();
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Scalar(const YAML::Node& node, Json* value) {
    const std::string& tag = node.Tag();
    const std::string& text = node.Scalar();
    if (tag == "?") {
      *value = ResolvePlainScalar(text);
      return absl::OkStatus();
    }
    if (tag == "!" || tag == "tag:yaml.org,2002:str") {
      *value = text;
      return absl::OkStatus();
    }
    Json resolved = ResolvePlainScalar(text);
    if ((tag == "tag:yaml.org,2002:null" && resolved.is_null()) ||
        (tag == "tag:yaml.org,2002:bool" && resolved.is_boolean()) ||
        (tag == "tag:yaml.org,2002:int" && resolved.is_number_integer())) {
      *value = std::move(resolved);
      return absl::OkStatus();
    }
    if (tag == "tag:yaml.org,2002:float" && resolved.is_number()) {
      *value = resolved.get<double>();
      return absl::OkStatus();
    }
    return NodeError(node, absl::StrCat("\"", text.substr(0, 40),
                                        "\" cannot be read with tag ", tag));
  }

  const LoadLimits& limits_;
  LoadedDocument* out_;
  size_t nodes_ = 0;
  size_t scalar_bytes_ = 0;
};

}  // namespace

std::string FormatPosition(const SourcePosition& position) {
  if (position.line <= 0) return "";
  if (position.column <= 0) return absl::StrCat("line ", position.line);
  return absl::StrCat("line ", position.line, ", column ", position.column);
}

std::string KeyPath(const Json& doc, std::string_view pointer) {
  absl::StatusOr<std::vector<std::string>> tokens = ParsePointer(pointer);
  if (!tokens.ok()) return std::string(pointer);
  if (tokens->empty()) return "(top level)";
  std::string out;
  const Json* at = &doc;
  for (const std::string& token : *tokens) {
    if (at != nullptr && at->is_array()) {
      absl::StrAppend(&out, "[", token, "]");
      size_t index = std::strtoul(token.c_str(), nullptr, 10);
      at = index < at->size() ? &(*at)[index] : nullptr;
      continue;
    }
    if (!out.empty()) out.push_back('.');
    bool plain =
        !token.empty() && token.find_first_of(".[]\" \t") == std::string::npos;
    if (plain) {
      out.append(token);
    } else {
      out.append(Json(token).dump());
    }
    if (at != nullptr && at->is_object()) {
      auto it = at->find(token);
      at = it == at->end() ? nullptr : &*it;
    } else {
      at = nullptr;
    }
  }
  return out;
}

std::string Problem::ToString() const {
  std::string where = FormatPosition(position);
  std::string out = where.empty() ? "" : where + ": ";
  if (!path.empty()) absl::StrAppend(&out, path, ": ");
  out.append(message);
  return out;
}

Problem MakeProblem(const LoadedDocument& doc, std::string pointer,
                    std::string message) {
  Problem p;
  p.path = KeyPath(doc.value, pointer);
  p.position = doc.PositionOf(pointer);
  p.pointer = std::move(pointer);
  p.message = std::move(message);
  return p;
}

std::string JoinProblems(const std::vector<Problem>& problems,
                         size_t max_shown) {
  std::string out;
  for (size_t i = 0; i < problems.size() && i < max_shown; ++i) {
    if (i > 0) out.append("; ");
    out.append(problems[i].ToString());
  }
  if (problems.size() > max_shown) {
    absl::StrAppend(&out, "; and ", problems.size() - max_shown, " more");
  }
  return out;
}

SourcePosition LoadedDocument::PositionOf(std::string_view pointer) const {
  std::string_view at = pointer;
  while (true) {
    auto it = positions.find(at);
    if (it != positions.end()) return it->second;
    if (at.empty()) return {};
    size_t slash = at.rfind('/');
    if (slash == std::string_view::npos) return {};
    at = at.substr(0, slash);
  }
}

// A line-by-line scan that bounds how deeply yaml-cpp will recurse. It keeps
// the indentation columns of open block collections (each "- ", "? " or ": "
// that starts an entry opens one more, at the column of what follows it),
// the count of open flow brackets, and whether it is inside a quoted scalar
// or a block scalar (whose lines are text, not structure). Brackets and
// quotes count only where a value can start, as in YAML: a plain scalar
// like "see [1" or "don't" opens nothing. Every estimate errs on the deep
// side, so any text refused by it is deep or nearly so.
absl::Status CheckNestingDepth(std::string_view text, int max_depth) {
  enum class Quote { kNone, kSingle, kDouble };
  std::vector<size_t> block;
  int flow = 0;
  Quote quote = Quote::kNone;
  bool at_node_start = true;
  // Inside a block scalar: lines indented more than this are its text.
  long block_scalar_parent = -1;
  int line_no = 0;
  size_t pos = 0;
  auto too_deep = [&]() {
    return static_cast<long>(block.size()) + flow > max_depth;
  };
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t i = 0;
    if (quote == Quote::kNone && flow == 0) {
      size_t indent = 0;
      while (indent < line.size() && IsBlank(line[indent])) ++indent;
      bool blank = indent == line.size();
      if (block_scalar_parent >= 0) {
        if (blank || static_cast<long>(indent) > block_scalar_parent) continue;
        block_scalar_parent = -1;
      }
      if (blank || line[indent] == '#') continue;
      while (!block.empty() && block.back() >= indent) block.pop_back();
      block.push_back(indent);
      if (too_deep()) return DepthError(line_no, max_depth);
      at_node_start = true;
      i = indent;
    }
    while (i < line.size()) {
      char c = line[i];
      if (quote == Quote::kDouble) {
        if (c == '\\') {
          i += 2;
          continue;
        }
        if (c == '"') {
          quote = Quote::kNone;
          at_node_start = false;
        }
        ++i;
        continue;
      }
      if (quote == Quote::kSingle) {
        if (c == '\'') {
          if (i + 1 < line.size() && line[i + 1] == '\'') {
            i += 2;
            continue;
          }
          quote = Quote::kNone;
          at_node_start = false;
        }
        ++i;
        continue;
      }
      if (IsBlank(c)) {
        ++i;
        continue;
      }
      if (c == '#' && (i == 0 || IsBlank(line[i - 1]))) break;
      bool next_blank = i + 1 >= line.size() || IsBlank(line[i + 1]);
      if (flow == 0 && at_node_start && (c == '-' || c == '?' || c == ':') &&
          next_blank) {
        size_t j = i + 1;
        while (j < line.size() && IsBlank(line[j])) ++j;
        block.push_back(j < line.size() ? j : i + 1);
        if (too_deep()) return DepthError(line_no, max_depth);
        i = j;
        continue;
      }
      if (at_node_start && (c == '&' || c == '!')) {
        while (
            i < line.size() && !IsBlank(line[i]) &&
            !(flow > 0 && (line[i] == ',' || line[i] == '[' || line[i] == ']' ||
                           line[i] == '{' || line[i] == '}'))) {
          ++i;
        }
        continue;
      }
      if (at_node_start && c == '"') {
        quote = Quote::kDouble;
        ++i;
        continue;
      }
      if (at_node_start && c == '\'') {
        quote = Quote::kSingle;
        ++i;
        continue;
      }
      if ((c == '[' || c == '{') && (at_node_start || flow > 0)) {
        ++flow;
        if (too_deep()) return DepthError(line_no, max_depth);
        at_node_start = true;
        ++i;
        continue;
      }
      if (flow > 0 && (c == ']' || c == '}')) {
        --flow;
        at_node_start = false;
        ++i;
        continue;
      }
      if (flow > 0 && c == ',') {
        at_node_start = true;
        ++i;
        continue;
      }
      if (c == ':' && (next_blank || flow > 0)) {
        at_node_start = true;
        ++i;
        continue;
      }
      if (flow == 0 && at_node_start && (c == '|' || c == '>')) {
        block_scalar_parent = static_cast<long>(block.back());
        break;
      }
      at_node_start = false;
      ++i;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LoadedDocument> LoadDocument(std::string_view text,
                                            const LoadLimits& limits) {
  if (text.size() > limits.max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "text is ", text.size(), " bytes; the limit is ", limits.max_bytes));
  }
  if (text.find('\0') != std::string_view::npos) {
    return absl::InvalidArgumentError("text contains a NUL byte");
  }
  absl::Status depth = CheckNestingDepth(text, limits.max_depth);
  if (!depth.ok()) return depth;
  LoadedDocument out;
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.size() > 1) {
      return NodeError(
          docs[1], absl::StrCat("expected one document, found ", docs.size()));
    }
    if (docs.empty()) return out;
    out.positions.emplace("", PositionOfMark(docs[0].Mark()));
    std::string pointer;
    Converter converter(limits, &out);
    absl::Status s = converter.Convert(docs[0], &pointer, 1, &out.value);
    if (!s.ok()) return s;
  } catch (const YAML::Exception& e) {
    std::string where = FormatPosition(PositionOfMark(e.mark));
    return absl::InvalidArgumentError(absl::StrCat(
        "syntax error", where.empty() ? "" : " at " + where, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("syntax error: ", e.what()));
  }
  return out;
}

absl::StatusOr<std::string> ReadFileBounded(const std::string& path,
                                            size_t max_bytes) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    int err = errno;
    std::string message = absl::StrCat(path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::UnknownError(message);
  }
  std::string out;
  char buf[16384];
  while (true) {
    size_t n = std::fread(buf, 1, sizeof buf, f);
    out.append(buf, n);
    if (out.size() > max_bytes) {
      std::fclose(f);
      return absl::ResourceExhaustedError(absl::StrCat(
          path, ": larger than ", max_bytes, " bytes (the limit)"));
    }
    if (n < sizeof buf) break;
  }
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return absl::UnknownError(absl::StrCat(path, ": read error"));
  return out;
}

}  // namespace onewindow::manifest
