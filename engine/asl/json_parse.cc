// Strict, non-recursive JSON parsing and measuring (json_parse.h).
//
// ParseJson first scans the bytes once (raw NUL bytes, nesting depth), then
// lets nlohmann's iterative SAX parser drive a DOM builder that keeps its
// own stack, so no step recurses on the input's depth. nlohmann treats a
// NUL byte as the end of the input, which is why NUL is refused up front.
#include "engine/asl/json_parse.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace onewindow::asl {
namespace {

absl::string_view Av(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// Builds the document from SAX events with an explicit stack of open
// containers. Pointers on the stack stay valid: only the innermost open
// container ever grows.
class DomBuilder {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  explicit DomBuilder(int max_depth) : max_depth_(max_depth) {}

  bool null() { return Put(Json(nullptr)) != nullptr; }
  bool boolean(bool v) { return Put(Json(v)) != nullptr; }
  bool number_integer(number_integer_t v) { return Put(Json(v)) != nullptr; }
  bool number_unsigned(number_unsigned_t v) { return Put(Json(v)) != nullptr; }
  bool number_float(number_float_t v, const string_t&) {
    return Put(Json(v)) != nullptr;
  }
  bool string(string_t& v) { return Put(Json(std::move(v))) != nullptr; }
  bool binary(binary_t& v) {
    return Put(Json::binary(std::move(v))) != nullptr;
  }
  bool start_object(std::size_t) { return Open(Json::object()); }
  bool key(string_t& k) {
    key_ = std::move(k);
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) { return Open(Json::array()); }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string& last_token,
                   const Json::exception& ex) {
    error_position_ = position;
    error_token_ = last_token;
    error_id_ = ex.id;
    error_what_ = ex.what();
    return false;
  }

  Json& root() { return root_; }
  bool depth_exceeded() const { return depth_exceeded_; }
  size_t error_position() const { return error_position_; }
  const std::string& error_token() const { return error_token_; }
  int error_id() const { return error_id_; }
  const std::string& error_what() const { return error_what_; }

 private:
  Json* Put(Json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(std::move(v));
      return &top.back();
    }
    Json& slot = top[key_];
    slot = std::move(v);
    return &slot;
  }

  bool Open(Json&& container) {
    if (static_cast<int>(stack_.size()) >= max_depth_) {
      depth_exceeded_ = true;
      return false;
    }
    stack_.push_back(Put(std::move(container)));
    return true;
  }

  int max_depth_;
  Json root_;
  std::vector<Json*> stack_;
  string_t key_;
  bool depth_exceeded_ = false;
  size_t error_position_ = 0;
  std::string error_token_;
  int error_id_ = 0;
  std::string error_what_;
};

// nlohmann's "[json.exception.parse_error.101] parse error at line 1,
// column 2: syntax error while parsing value - ..." without the prefix up to
// and including the position (reported in our own words).
std::string ParserDetail(const std::string& what) {
  size_t at = what.find("parse error");
  if (at == std::string::npos) return what;
  size_t colon = what.find(": ", at);
  if (colon == std::string::npos) return what;
  return what.substr(colon + 2);
}

absl::Status SyntaxError(std::string_view text, size_t offset,
                         std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("JSON syntax error at ",
                   DescribePosition(PositionAt(text, offset)), ": ", Av(what)));
}

// One pass over the bytes: NUL bytes anywhere, and the nesting depth of
// brackets outside strings.
absl::Status ScanBytes(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escape = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("JSON text contains a NUL byte at ",
                       DescribePosition(PositionAt(text, i))));
    }
    if (in_string) {
      if (escape) {
        escape = false;
      } else if (c == '\\') {
        escape = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return absl::InvalidArgumentError(
            absl::StrCat(LimitMessage(kLimitJsonDepth, max_depth), " at ",
                         DescribePosition(PositionAt(text, i))));
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return absl::OkStatus();
}

void AddDecimalDigits(uint64_t v, size_t* size) {
  do {
    ++*size;
    v /= 10;
  } while (v != 0);
}

size_t StringTextSize(const std::string& s) {
  size_t n = 2;
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' ||
        c == '\r' || c == '\t') {
      n += 2;
    } else if (c < 0x20) {
      n += 6;
    } else {
      n += 1;
    }
  }
  return n;
}

}  // namespace

TextPosition PositionAt(std::string_view text, size_t offset) {
  TextPosition p{1, 1};
  if (offset > text.size()) offset = text.size();
  for (size_t i = 0; i < offset; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++p.line;
      p.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++p.column;
    }
  }
  return p;
}

std::string DescribePosition(const TextPosition& position) {
  return absl::StrCat("line ", position.line, ", column ", position.column);
}

absl::StatusOr<Json> ParseJson(std::string_view text, const Limits& limits) {
  if (limits.max_payload_bytes > 0 && text.size() > limits.max_payload_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "JSON text of ", text.size(), " bytes: ",
        LimitMessage(kLimitPayloadBytes,
                     static_cast<int64_t>(limits.max_payload_bytes), "bytes")));
  }
  absl::Status scanned = ScanBytes(text, limits.max_json_depth);
  if (!scanned.ok()) return scanned;
  DomBuilder builder(limits.max_json_depth);
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &builder,
                         Json::input_format_t::json, /*strict=*/true);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON syntax error: ", e.what()));
  }
  if (ok) return std::move(builder.root());
  if (builder.depth_exceeded()) {
    // The byte scan counts the same brackets; kept as a second guard.
    return absl::InvalidArgumentError(
        LimitMessage(kLimitJsonDepth, limits.max_json_depth));
  }
  size_t end = builder.error_position();
  if (builder.error_id() == 406) {
    size_t token = builder.error_token().size();
    size_t start = end >= token ? end - token : 0;
    return absl::InvalidArgumentError(absl::StrCat(
        "number out of range at ", DescribePosition(PositionAt(text, start)),
        ": ", builder.error_token()));
  }
  std::string detail = ParserDetail(builder.error_what());
  size_t at = end > 0 ? end - 1 : 0;
  if (detail.find("expected end of input") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected bytes after the JSON value at ",
                     DescribePosition(PositionAt(text, at))));
  }
  return SyntaxError(text, at, detail);
}

int JsonDepth(const Json& value, int stop_above) {
  int deepest = 0;
  std::vector<std::pair<const Json*, int>> stack{{&value, 0}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    if (depth + 1 > deepest) {
      deepest = depth + 1;
      if (deepest > stop_above) return deepest;
    }
    for (const Json& child : *v) {
      if (child.is_structured()) stack.emplace_back(&child, depth + 1);
    }
  }
  return deepest;
}

size_t JsonTextSize(const Json& value, size_t stop_above) {
  size_t size = 0;
  std::vector<const Json*> stack{&value};
  while (!stack.empty()) {
    const Json* v = stack.back();
    stack.pop_back();
    switch (v->type()) {
      case Json::value_t::null:
        size += 4;
        break;
      case Json::value_t::boolean:
        size += v->get<bool>() ? 4 : 5;
        break;
      case Json::value_t::number_integer: {
        int64_t i = v->get<int64_t>();
        if (i < 0) ++size;
        AddDecimalDigits(
            i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i),
            &size);
        break;
      }
      case Json::value_t::number_unsigned:
        AddDecimalDigits(v->get<uint64_t>(), &size);
        break;
      case Json::value_t::number_float:
        size += v->dump().size();
        break;
      case Json::value_t::string:
        size += StringTextSize(v->get_ref<const std::string&>());
        break;
      case Json::value_t::array:
        size += 2 + (v->empty() ? 0 : v->size() - 1);
        for (const Json& child : *v) stack.push_back(&child);
        break;
      case Json::value_t::object:
        size += 2 + (v->empty() ? 0 : v->size() - 1);
        for (auto it = v->begin(); it != v->end(); ++it) {
          size += StringTextSize(it.key()) + 1;
          stack.push_back(&it.value());
        }
        break;
      case Json::value_t::binary:
        size += v->get_binary().size() * 4 + 32;
        break;
      case Json::value_t::discarded:
        size += 9;
        break;
    }
    if (size > stop_above) return size;
  }
  return size;
}

}  // namespace onewindow::asl
