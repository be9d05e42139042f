// ASL intrinsic functions: parsing ("States.Name(arg, ...)") and
// evaluation of States.Format, StringToJson, JsonToString, Array,
// ArrayPartition, ArrayContains, ArrayRange, ArrayGetItem, ArrayLength,
// ArrayUnique, Base64Encode, Base64Decode, Hash, JsonMerge, MathRandom,
// MathAdd, StringSplit and UUID, with AWS's argument rules and limits.
//
// Pure functions (randomness comes from EvalEnv::random); thread-safe.
#include "engine/asl/intrinsics.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/asl/compiled.h"
#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "engine/asl/json_parse.h"
#include "engine/asl/json_path.h"

namespace onewindow::asl {
namespace internal {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) ||
         c == '_';
}

// Recursive descent; recursion (a call as an argument) is counted against
// limits.max_expression_depth before it descends.
class IntrinsicParser {
 public:
  IntrinsicParser(std::string_view text, const Limits& limits,
                  bool lenient_paths)
      : text_(text), limits_(limits), lenient_paths_(lenient_paths) {}

  absl::StatusOr<IntrinsicCall> ParseWhole() {
    SkipSpaces();
    auto call = ParseCall();
    if (!call.ok()) return call.status();
    SkipSpaces();
    if (pos_ != text_.size()) return Error("unexpected text after the call");
    return call;
  }

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid intrinsic function '", Av(text_), "': ", Av(what),
                     " at position ", pos_));
  }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void SkipSpaces() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }
  bool StartsWith(std::string_view s) const {
    return text_.substr(pos_, s.size()) == s;
  }

  absl::StatusOr<IntrinsicCall> ParseCall() {
    if (!StartsWith("States.")) return Error("expected 'States.'");
    size_t start = pos_;
    pos_ += 7;
    while (IsIdentChar(Peek())) ++pos_;
    IntrinsicCall call;
    call.name = std::string(text_.substr(start, pos_ - start));
    if (call.name.size() == 7) return Error("missing function name");
    call.function = FindIntrinsic(call.name);
    SkipSpaces();
    if (Peek() != '(') return Error("expected '('");
    ++pos_;
    SkipSpaces();
    if (Peek() == ')') {
      ++pos_;
      return call;
    }
    while (true) {
      SkipSpaces();
      size_t arg_start = pos_;
      auto arg = ParseArg();
      if (!arg.ok()) return arg.status();
      std::string_view arg_text = text_.substr(arg_start, pos_ - arg_start);
      while (!arg_text.empty() && IsSpace(arg_text.back())) {
        arg_text.remove_suffix(1);
      }
      arg->text = std::string(arg_text);
      call.args.push_back(*std::move(arg));
      SkipSpaces();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ')') {
        ++pos_;
        return call;
      }
      return Error("expected ',' or ')'");
    }
  }

  absl::StatusOr<IntrinsicArg> ParseArg() {
    SkipSpaces();
    IntrinsicArg arg;
    char c = Peek();
    if (c == '\'') {
      ++pos_;
      std::string value;
      size_t raw_start = pos_;
      while (true) {
        if (pos_ >= text_.size()) return Error("unterminated string literal");
        char ch = text_[pos_];
        if (ch == '\'') break;
        if (ch == '\\' && pos_ + 1 < text_.size()) {
          char n = text_[pos_ + 1];
          if (n == '\'' || n == '{' || n == '}' || n == '\\') {
            value.push_back(n);
            pos_ += 2;
            continue;
          }
        }
        value.push_back(ch);
        ++pos_;
      }
      arg.raw = std::string(text_.substr(raw_start, pos_ - raw_start));
      ++pos_;  // closing quote
      arg.kind = IntrinsicArg::Kind::kLiteral;
      arg.is_string_literal = true;
      arg.literal = std::move(value);
      return arg;
    }
    if (c == '$') {
      size_t start = pos_;
      int depth = 0;
      char quote = '\0';
      while (pos_ < text_.size()) {
        char ch = text_[pos_];
        if (quote != '\0') {
          if (ch == '\\') {
            ++pos_;
          } else if (ch == quote) {
            quote = '\0';
          }
        } else if (ch == '\'' || ch == '"') {
          if (depth > 0) quote = ch;
        } else if (ch == '[' || ch == '(') {
          ++depth;
        } else if (ch == ']' || ch == ')') {
          if (depth == 0) break;
          --depth;
        } else if (ch == ',' && depth == 0) {
          break;
        }
        ++pos_;
      }
      std::string_view path = text_.substr(start, pos_ - start);
      while (!path.empty() && IsSpace(path.back())) path.remove_suffix(1);
      auto parsed = ParseJsonPath(path, /*allow_current=*/false, limits_);
      arg.kind = IntrinsicArg::Kind::kPath;
      arg.path = std::string(path);
      if (!parsed.ok()) {
        if (!lenient_paths_) return parsed.status();
        arg.path_status = parsed.status();
        return arg;
      }
      arg.parsed_path = *std::move(parsed);
      return arg;
    }
    if (StartsWith("States.")) {
      if (++depth_ > limits_.max_expression_depth) {
        return Error(
            LimitMessage(kLimitExpressionDepth, limits_.max_expression_depth));
      }
      auto call = ParseCall();
      --depth_;
      if (!call.ok()) return call.status();
      arg.kind = IntrinsicArg::Kind::kCall;
      arg.call = std::make_shared<const IntrinsicCall>(*std::move(call));
      return arg;
    }
    if (c == '-' || IsDigit(c)) {
      Json num = ScanNumber(text_, &pos_);
      if (num.is_discarded() || !num.is_number()) {
        return Error("invalid number");
      }
      arg.kind = IntrinsicArg::Kind::kLiteral;
      arg.literal = std::move(num);
      return arg;
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (StartsWith(word) && !IsIdentChar(Peek(word.size()))) {
        pos_ += word.size();
        arg.kind = IntrinsicArg::Kind::kLiteral;
        arg.literal = word == "true"    ? Json(true)
                      : word == "false" ? Json(false)
                                        : Json(nullptr);
        return arg;
      }
    }
    return Error("expected an argument");
  }

  std::string_view text_;
  const Limits& limits_;
  bool lenient_paths_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

absl::StatusOr<IntrinsicCall> ParseIntrinsic(std::string_view expr,
                                             const Limits& limits,
                                             bool lenient_paths) {
  if (expr.size() > limits.max_expression_length) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid intrinsic function of ", expr.size(), " characters: ",
        LimitMessage(kLimitExpressionLength,
                     static_cast<int64_t>(limits.max_expression_length))));
  }
  IntrinsicParser parser(expr, limits, lenient_paths);
  return parser.ParseWhole();
}

bool IsKnownIntrinsic(std::string_view name) {
  return FindIntrinsic(name) != nullptr;
}

std::string FormatArgument(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        absl::StrAppend(&out, it.key(), "=", FormatArgument(it.value()));
      }
      return out + "}";
    }
    case Json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += ", ";
        out += FormatArgument(value[i]);
      }
      return out + "]";
    }
    default:
      return DumpCompact(value);
  }
}

}  // namespace internal

namespace {

using internal::IntrinsicArg;
using internal::IntrinsicCall;

constexpr size_t kMaxStringArgument = 10000;

absl::Status Failure(absl::string_view message) {
  return AslError(kStatesIntrinsicFailure, std::string(message));
}

std::string TypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float:
      return "number";
    default:
      return "unknown";
  }
}

absl::Status ArgTypeError(const IntrinsicCall& call, size_t index,
                          absl::string_view expected, const Json& got) {
  return Failure(absl::StrCat("Invalid argument ", index + 1, " for ",
                              call.name, ": expected ", expected, " but got ",
                              TypeName(got), " ", internal::DumpCompact(got)));
}

// An integral JSON number (1 and 1.0 both qualify).
std::optional<int64_t> AsInteger(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<int64_t>(u);
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e18) {
      return static_cast<int64_t>(d);
    }
  }
  return std::nullopt;
}

absl::StatusOr<int64_t> IntegerArg(const IntrinsicCall& call,
                                   const std::vector<Json>& args,
                                   size_t index) {
  auto v = AsInteger(args[index]);
  if (!v.has_value()) {
    return ArgTypeError(call, index, "an integer", args[index]);
  }
  return *v;
}

// Java's Math.round: the closest integer, ties rounding towards +infinity.
int64_t JavaRound(double d) {
  return static_cast<int64_t>(std::floor(d + 0.5));
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

constexpr char kBase64Chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  while (i + 3 <= in.size()) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) |
                 (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out.push_back(kBase64Chars[(n >> 18) & 63]);
    out.push_back(kBase64Chars[(n >> 12) & 63]);
    out.push_back(kBase64Chars[(n >> 6) & 63]);
    out.push_back(kBase64Chars[n & 63]);
    i += 3;
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t n = static_cast<uint8_t>(in[i]) << 16;
    out.push_back(kBase64Chars[(n >> 18) & 63]);
    out.push_back(kBase64Chars[(n >> 12) & 63]);
    out += "==";
  } else if (rest == 2) {
    uint32_t n = (static_cast<uint8_t>(in[i]) << 16) |
                 (static_cast<uint8_t>(in[i + 1]) << 8);
    out.push_back(kBase64Chars[(n >> 18) & 63]);
    out.push_back(kBase64Chars[(n >> 12) & 63]);
    out.push_back(kBase64Chars[(n >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

// Decodes standard Base64; padding is optional (as Java's decoder allows).
std::optional<std::string> Base64Decode(std::string_view in) {
  size_t len = in.size();
  size_t pad = 0;
  while (len > 0 && in[len - 1] == '=' && pad < 2) {
    --len;
    ++pad;
  }
  if (pad > 0 && (len + pad) % 4 != 0) return std::nullopt;
  if (len % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; ++i) {
    char c = in[i];
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else {
      return std::nullopt;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::optional<std::string> HashHex(std::string_view data,
                                   std::string_view algorithm) {
  const EVP_MD* md = nullptr;
  if (algorithm == "MD5") {
    md = EVP_md5();
  } else if (algorithm == "SHA-1") {
    md = EVP_sha1();
  } else if (algorithm == "SHA-256") {
    md = EVP_sha256();
  } else if (algorithm == "SHA-384") {
    md = EVP_sha384();
  } else if (algorithm == "SHA-512") {
    md = EVP_sha512();
  } else {
    return std::nullopt;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &digest_len, md, nullptr) !=
      1) {
    return std::nullopt;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(digest_len * 2);
  for (unsigned int i = 0; i < digest_len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

// Splits UTF-8 text into code points (each as its byte sequence).
std::vector<std::string_view> CodePoints(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 1;
    if (i + n > s.size()) n = s.size() - i;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

// States.StringSplit as AWS does it (java.util.StringTokenizer): every
// character of `delimiters` separates tokens and empty tokens are dropped.
Json SplitTokens(std::string_view text, std::string_view delimiters) {
  std::vector<std::string_view> delims = CodePoints(delimiters);
  Json out = Json::array();
  std::string token;
  for (std::string_view cp : CodePoints(text)) {
    bool is_delim = false;
    for (std::string_view d : delims) {
      if (d == cp) {
        is_delim = true;
        break;
      }
    }
    if (is_delim) {
      if (!token.empty()) out.push_back(token);
      token.clear();
    } else {
      token.append(cp);
    }
  }
  if (!token.empty()) out.push_back(token);
  return out;
}

std::string UuidV4(uint64_t hi, uint64_t lo) {
  unsigned char b[16];
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
    b[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

absl::StatusOr<Json> EvalCall(const IntrinsicCall& call, const Json& input,
                              const EvalEnv& env);

absl::Status PayloadLimitFailure(std::string_view what, size_t cap) {
  return Failure(absl::StrCat(
      internal::Av(what), ": ",
      LimitMessage(kLimitPayloadBytes, static_cast<int64_t>(cap), "bytes")));
}

absl::StatusOr<Json> EvalFormat(const IntrinsicCall& call,
                                const std::vector<Json>& args, size_t cap) {
  if (!args[0].is_string()) {
    return ArgTypeError(call, 0, "a string", args[0]);
  }
  // A literal template keeps its escapes so that \{ \} stay literal braces.
  const IntrinsicArg& tmpl = call.args[0];
  bool escaped =
      tmpl.kind == IntrinsicArg::Kind::kLiteral && tmpl.is_string_literal;
  std::string_view text =
      escaped ? std::string_view(tmpl.raw)
              : std::string_view(args[0].get_ref<const std::string&>());
  std::string out;
  size_t next_arg = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (escaped && c == '\\' && i + 1 < text.size()) {
      char n = text[i + 1];
      if (n == '\'' || n == '{' || n == '}' || n == '\\') {
        out.push_back(n);
        ++i;
        continue;
      }
    }
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '}') {
      if (next_arg >= args.size()) {
        return Failure(absl::StrCat(
            "Number of arguments in States.Format does not match the number "
            "of placeholders: ",
            args.size() - 1, " argument(s) for more placeholders"));
      }
      out += internal::FormatArgument(args[next_arg++]);
      if (cap > 0 && out.size() > cap) {
        return PayloadLimitFailure("the result of States.Format", cap);
      }
      ++i;
      continue;
    }
    out.push_back(c);
  }
  if (next_arg != args.size()) {
    return Failure(absl::StrCat(
        "Number of arguments in States.Format does not match the number of "
        "placeholders: ",
        args.size() - 1, " argument(s) for ", next_arg - 1, " placeholder(s)"));
  }
  return Json(std::move(out));
}

absl::StatusOr<Json> EvalArrayRange(const IntrinsicCall& call,
                                    const std::vector<Json>& args,
                                    int64_t max_items) {
  int64_t v[3];
  for (size_t i = 0; i < 3; ++i) {
    auto n = IntegerArg(call, args, i);
    if (!n.ok()) return n.status();
    v[i] = *n;
  }
  int64_t start = v[0], end = v[1], step = v[2];
  if (step == 0) {
    return Failure("States.ArrayRange: the step argument cannot be 0");
  }
  __int128 count = 0;
  if (step > 0 && start <= end) {
    count = (static_cast<__int128>(end) - start) / step + 1;
  } else if (step < 0 && start >= end) {
    count =
        (static_cast<__int128>(start) - end) / -static_cast<__int128>(step) + 1;
  }
  if (count > static_cast<__int128>(max_items)) {
    return Failure(
        absl::StrCat("States.ArrayRange: the result would have ",
                     static_cast<int64_t>(std::min<__int128>(count, INT64_MAX)),
                     " elements; the maximum is ", max_items));
  }
  Json out = Json::array();
  __int128 x = start;
  for (__int128 i = 0; i < count; ++i, x += step) {
    out.push_back(static_cast<int64_t>(x));
  }
  return out;
}

absl::StatusOr<Json> EvalMathRandom(const IntrinsicCall& call,
                                    const std::vector<Json>& args,
                                    const EvalEnv& env) {
  auto start = IntegerArg(call, args, 0);
  if (!start.ok()) return start.status();
  auto end = IntegerArg(call, args, 1);
  if (!end.ok()) return end.status();
  if (*end <= *start) {
    return Failure(absl::StrCat("States.MathRandom: the end value (", *end,
                                ") must be greater than the start value (",
                                *start, ")"));
  }
  uint64_t r;
  if (args.size() == 3) {
    auto seed = IntegerArg(call, args, 2);
    if (!seed.ok()) return seed.status();
    r = SplitMix64(static_cast<uint64_t>(*seed));
  } else {
    if (!env.random) {
      return Failure("States.MathRandom: no source of randomness available");
    }
    r = env.random();
  }
  uint64_t span = static_cast<uint64_t>(*end) - static_cast<uint64_t>(*start);
  return Json(static_cast<int64_t>(static_cast<uint64_t>(*start) + r % span));
}

// A hash consistent with Json's operator== for the values ArrayUnique
// compares (numbers hashed by their double value, so 1 and 1.0 agree),
// computed without recursion.
size_t HashJson(const Json& value) {
  size_t h = 0x9E3779B97F4A7C15ULL;
  auto mix = [&h](size_t v) {
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  };
  std::vector<const Json*> stack{&value};
  while (!stack.empty()) {
    const Json* v = stack.back();
    stack.pop_back();
    mix(static_cast<size_t>(v->is_number() ? 100
                                           : static_cast<int>(v->type())));
    switch (v->type()) {
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
      case Json::value_t::number_float: {
        double d = v->get<double>();
        if (d == 0) d = 0;  // -0.0 == 0.0
        mix(std::hash<double>()(d));
        break;
      }
      case Json::value_t::string:
        mix(std::hash<std::string>()(v->get_ref<const std::string&>()));
        break;
      case Json::value_t::boolean:
        mix(v->get<bool>() ? 1 : 2);
        break;
      case Json::value_t::array:
        mix(v->size());
        for (const Json& c : *v) stack.push_back(&c);
        break;
      case Json::value_t::object:
        mix(v->size());
        for (auto it = v->begin(); it != v->end(); ++it) {
          mix(std::hash<std::string>()(it.key()));
          stack.push_back(&it.value());
        }
        break;
      default:
        break;
    }
  }
  return h;
}

// ---- the functions ----
// Each gets its arguments evaluated and counted (arity is checked first).

using Args = std::vector<Json>;

absl::StatusOr<Json> FnFormat(const IntrinsicCall& call, Args& args,
                              const EvalEnv& env) {
  return EvalFormat(call, args, env.limits_or_default().max_payload_bytes);
}

absl::StatusOr<Json> FnStringToJson(const IntrinsicCall& call, Args& args,
                                    const EvalEnv& env) {
  if (!args[0].is_string()) return ArgTypeError(call, 0, "a string", args[0]);
  const std::string& s = args[0].get_ref<const std::string&>();
  if (s.find_first_not_of(" \t\r\n") == std::string::npos) return Json();
  absl::StatusOr<Json> parsed = ParseJson(s, env.limits_or_default());
  if (!parsed.ok()) {
    if (absl::StrContains(parsed.status().message(), "exceeds the limit")) {
      return Failure(
          absl::StrCat("States.StringToJson: ", parsed.status().message()));
    }
    return Failure(absl::StrCat("States.StringToJson: the argument '", s,
                                "' is not valid JSON"));
  }
  return *std::move(parsed);
}

absl::StatusOr<Json> FnJsonToString(const IntrinsicCall&, Args& args,
                                    const EvalEnv&) {
  return Json(internal::DumpCompact(args[0]));
}

absl::StatusOr<Json> FnArray(const IntrinsicCall&, Args& args,
                             const EvalEnv& env) {
  const size_t cap = env.limits_or_default().max_payload_bytes;
  if (cap > 0) {
    size_t total = 2;
    for (const Json& v : args) {
      total += 1 + JsonTextSize(v, cap);
      if (total > cap) {
        return PayloadLimitFailure("the result of States.Array", cap);
      }
    }
  }
  Json out = Json::array();
  for (Json& v : args) out.push_back(std::move(v));
  return out;
}

absl::StatusOr<Json> FnArrayPartition(const IntrinsicCall& call, Args& args,
                                      const EvalEnv&) {
  if (!args[0].is_array()) return ArgTypeError(call, 0, "an array", args[0]);
  auto size = IntegerArg(call, args, 1);
  if (!size.ok()) return size.status();
  if (*size <= 0) {
    return Failure(absl::StrCat(
        "States.ArrayPartition: the chunk size must be greater than 0, but "
        "was ",
        *size));
  }
  Json out = Json::array();
  const Json& arr = args[0];
  const size_t chunk_size = static_cast<size_t>(*size);
  for (size_t i = 0; i < arr.size(); i += std::min(chunk_size, arr.size())) {
    Json chunk = Json::array();
    for (size_t j = i; j < arr.size() && j - i < chunk_size; ++j) {
      chunk.push_back(arr[j]);
    }
    out.push_back(std::move(chunk));
  }
  return out;
}

absl::StatusOr<Json> FnArrayContains(const IntrinsicCall& call, Args& args,
                                     const EvalEnv&) {
  if (!args[0].is_array()) return ArgTypeError(call, 0, "an array", args[0]);
  for (const Json& v : args[0]) {
    if (v == args[1]) return Json(true);
  }
  return Json(false);
}

absl::StatusOr<Json> FnArrayRange(const IntrinsicCall& call, Args& args,
                                  const EvalEnv& env) {
  return EvalArrayRange(call, args, env.limits_or_default().max_array_range);
}

absl::StatusOr<Json> FnArrayGetItem(const IntrinsicCall& call, Args& args,
                                    const EvalEnv&) {
  if (!args[0].is_array()) return ArgTypeError(call, 0, "an array", args[0]);
  auto index = IntegerArg(call, args, 1);
  if (!index.ok()) return index.status();
  if (*index < 0 || static_cast<uint64_t>(*index) >= args[0].size()) {
    return Failure(absl::StrCat("States.ArrayGetItem: index ", *index,
                                " is out of bounds for an array of length ",
                                args[0].size()));
  }
  return std::move(args[0][static_cast<size_t>(*index)]);
}

absl::StatusOr<Json> FnArrayLength(const IntrinsicCall& call, Args& args,
                                   const EvalEnv&) {
  if (!args[0].is_array()) return ArgTypeError(call, 0, "an array", args[0]);
  return Json(args[0].size());
}

absl::StatusOr<Json> FnArrayUnique(const IntrinsicCall& call, Args& args,
                                   const EvalEnv&) {
  if (!args[0].is_array()) return ArgTypeError(call, 0, "an array", args[0]);
  // First occurrences in order; hashed so that the cost stays linear.
  Json out = Json::array();
  std::unordered_multimap<size_t, size_t> seen;  // hash -> index in out
  for (const Json& v : args[0]) {
    size_t h = HashJson(v);
    bool duplicate = false;
    auto [lo, hi] = seen.equal_range(h);
    for (auto it = lo; it != hi; ++it) {
      if (out[it->second] == v) {
        duplicate = true;
        break;
      }
    }
    if (duplicate) continue;
    seen.emplace(h, out.size());
    out.push_back(v);
  }
  return out;
}

absl::StatusOr<Json> Base64(const IntrinsicCall& call, Args& args,
                            bool encode) {
  if (!args[0].is_string()) return ArgTypeError(call, 0, "a string", args[0]);
  const std::string& s = args[0].get_ref<const std::string&>();
  if (s.size() > kMaxStringArgument) {
    return Failure(absl::StrCat(call.name,
                                ": the input exceeds the maximum of ",
                                kMaxStringArgument, " characters"));
  }
  if (encode) return Json(Base64Encode(s));
  auto decoded = Base64Decode(s);
  if (!decoded.has_value()) {
    return Failure(absl::StrCat("States.Base64Decode: the input '", s,
                                "' is not valid Base64"));
  }
  return Json(*std::move(decoded));
}

absl::StatusOr<Json> FnBase64Encode(const IntrinsicCall& call, Args& args,
                                    const EvalEnv&) {
  return Base64(call, args, /*encode=*/true);
}

absl::StatusOr<Json> FnBase64Decode(const IntrinsicCall& call, Args& args,
                                    const EvalEnv&) {
  return Base64(call, args, /*encode=*/false);
}

absl::StatusOr<Json> FnHash(const IntrinsicCall& call, Args& args,
                            const EvalEnv&) {
  if (!args[0].is_string()) return ArgTypeError(call, 0, "a string", args[0]);
  if (!args[1].is_string()) return ArgTypeError(call, 1, "a string", args[1]);
  const std::string& data = args[0].get_ref<const std::string&>();
  if (data.size() > kMaxStringArgument) {
    return Failure(
        absl::StrCat("States.Hash: the input exceeds the maximum of ",
                     kMaxStringArgument, " characters"));
  }
  const std::string& algorithm = args[1].get_ref<const std::string&>();
  auto hex = HashHex(data, algorithm);
  if (!hex.has_value()) {
    return Failure(
        absl::StrCat("States.Hash: unsupported hashing algorithm '", algorithm,
                     "'; supported: MD5, SHA-1, SHA-256, SHA-384, SHA-512"));
  }
  return Json(*std::move(hex));
}

absl::StatusOr<Json> FnJsonMerge(const IntrinsicCall& call, Args& args,
                                 const EvalEnv& env) {
  if (!args[0].is_object()) return ArgTypeError(call, 0, "an object", args[0]);
  if (!args[1].is_object()) return ArgTypeError(call, 1, "an object", args[1]);
  if (!args[2].is_boolean()) return ArgTypeError(call, 2, "a boolean", args[2]);
  if (args[2].get<bool>()) {
    return Failure(
        "States.JsonMerge: deep merging is not supported; the third "
        "argument must be false");
  }
  const size_t cap = env.limits_or_default().max_payload_bytes;
  if (cap > 0 &&
      JsonTextSize(args[0], cap) + JsonTextSize(args[1], cap) > 2 * cap) {
    return PayloadLimitFailure("the result of States.JsonMerge", cap);
  }
  Json out = std::move(args[0]);
  for (auto it = args[1].begin(); it != args[1].end(); ++it) {
    out[it.key()] = std::move(it.value());
  }
  return out;
}

absl::StatusOr<Json> FnMathRandom(const IntrinsicCall& call, Args& args,
                                  const EvalEnv& env) {
  return EvalMathRandom(call, args, env);
}

absl::StatusOr<Json> FnMathAdd(const IntrinsicCall& call, Args& args,
                               const EvalEnv&) {
  int64_t sum = 0;
  for (size_t i = 0; i < 2; ++i) {
    if (!args[i].is_number()) return ArgTypeError(call, i, "a number", args[i]);
    int64_t v;
    if (args[i].is_number_float()) {
      double d = args[i].get<double>();
      if (!std::isfinite(d) || std::fabs(d) > 9.0e18) {
        return Failure("States.MathAdd: argument out of range");
      }
      v = JavaRound(d);
    } else if (auto iv = AsInteger(args[i])) {
      v = *iv;
    } else {
      return Failure("States.MathAdd: argument out of range");
    }
    if (__builtin_add_overflow(sum, v, &sum)) {
      return Failure("States.MathAdd: the result is out of range");
    }
  }
  return Json(sum);
}

absl::StatusOr<Json> FnStringSplit(const IntrinsicCall& call, Args& args,
                                   const EvalEnv&) {
  if (!args[0].is_string()) return ArgTypeError(call, 0, "a string", args[0]);
  if (!args[1].is_string()) return ArgTypeError(call, 1, "a string", args[1]);
  return SplitTokens(args[0].get_ref<const std::string&>(),
                     args[1].get_ref<const std::string&>());
}

absl::StatusOr<Json> FnUuid(const IntrinsicCall&, Args&, const EvalEnv& env) {
  if (!env.random) {
    return Failure("States.UUID: no source of randomness available");
  }
  uint64_t hi = env.random();
  uint64_t lo = env.random();
  return Json(UuidV4(hi, lo));
}

}  // namespace

// ---- the one table of intrinsic functions ----

namespace internal {
namespace {

constexpr uint8_t kS = kLiteralString;
constexpr uint8_t kN = kLiteralNumber;
constexpr uint8_t kB = kLiteralBoolean;
constexpr uint8_t kAny =
    kLiteralString | kLiteralNumber | kLiteralBoolean | kLiteralNull;

// Name, arity (-1: any number), the literals each argument position accepts
// (how many positions are listed, the last one repeating; 0: a path or a
// call only), evaluation.
const IntrinsicFunction kFunctions[] = {
    {"States.Format", 1, -1, 2, {kS, kAny}, FnFormat},
    {"States.StringToJson", 1, 1, 1, {kS}, FnStringToJson},
    {"States.JsonToString", 1, 1, 1, {0}, FnJsonToString},
    {"States.Array", 0, -1, 1, {kAny}, FnArray},
    {"States.ArrayPartition", 2, 2, 2, {0, kN}, FnArrayPartition},
    {"States.ArrayContains", 2, 2, 2, {0, kAny}, FnArrayContains},
    {"States.ArrayRange", 3, 3, 1, {kN}, FnArrayRange},
    {"States.ArrayGetItem", 2, 2, 2, {0, kN}, FnArrayGetItem},
    {"States.ArrayLength", 1, 1, 1, {0}, FnArrayLength},
    {"States.ArrayUnique", 1, 1, 1, {0}, FnArrayUnique},
    {"States.Base64Encode", 1, 1, 1, {kS}, FnBase64Encode},
    {"States.Base64Decode", 1, 1, 1, {kS}, FnBase64Decode},
    {"States.Hash", 2, 2, 1, {kS}, FnHash},
    {"States.JsonMerge", 3, 3, 3, {0, 0, kB}, FnJsonMerge},
    {"States.MathRandom", 2, 3, 1, {kN}, FnMathRandom},
    {"States.MathAdd", 2, 2, 1, {kN}, FnMathAdd},
    {"States.StringSplit", 2, 2, 1, {kS}, FnStringSplit},
    {"States.UUID", 0, 0, 1, {0}, FnUuid},
};

std::string ArityText(const IntrinsicFunction& f) {
  if (f.max_args < 0) return absl::StrCat("at least ", f.min_args);
  if (f.min_args == f.max_args) return absl::StrCat("exactly ", f.min_args);
  return absl::StrCat("between ", f.min_args, " and ", f.max_args);
}

const char* LiteralName(uint8_t kind) {
  switch (kind) {
    case kLiteralString:
      return "a string";
    case kLiteralNumber:
      return "a number";
    case kLiteralBoolean:
      return "a boolean";
    case kLiteralNull:
      return "null";
    default:
      return "a value";
  }
}

uint8_t LiteralKindOf(const IntrinsicArg& arg) {
  if (arg.is_string_literal) return kLiteralString;
  if (arg.literal.is_number()) return kLiteralNumber;
  if (arg.literal.is_boolean()) return kLiteralBoolean;
  return kLiteralNull;
}

}  // namespace

const IntrinsicFunction* FindIntrinsic(std::string_view name) {
  for (const IntrinsicFunction& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::Status CheckIntrinsicArity(const IntrinsicCall& call) {
  const IntrinsicFunction* f = call.function;
  if (f == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown intrinsic function '", call.name, "'"));
  }
  int n = static_cast<int>(call.args.size());
  if (n < f->min_args || (f->max_args >= 0 && n > f->max_args)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Function '", call.name, "' takes ", ArityText(*f),
                     " argument(s) but was given ", n));
  }
  for (const IntrinsicArg& arg : call.args) {
    if (arg.kind == IntrinsicArg::Kind::kCall) {
      OW_ASL_RETURN_IF_ERROR(CheckIntrinsicArity(*arg.call));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckIntrinsicSignature(const IntrinsicCall& call) {
  const IntrinsicFunction* f = call.function;
  if (f == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown intrinsic function ", call.name));
  }
  int n = static_cast<int>(call.args.size());
  if (n < f->min_args || (f->max_args >= 0 && n > f->max_args)) {
    std::string_view s = f->min_args == 1 && f->max_args != 1 ? "" : "s";
    if (f->min_args == f->max_args) {
      return absl::InvalidArgumentError(
          absl::StrCat(call.name, " takes ", f->min_args, " argument",
                       f->min_args == 1 ? "" : "s", ", got ", n));
    }
    if (f->max_args < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(call.name, " takes at least ", f->min_args, " argument",
                       Av(s), ", got ", n));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(call.name, " takes ", f->min_args, " to ", f->max_args,
                     " arguments, got ", n));
  }
  const size_t positions = static_cast<size_t>(f->literal_positions);
  for (size_t i = 0; i < call.args.size(); ++i) {
    const IntrinsicArg& arg = call.args[i];
    if (arg.kind == IntrinsicArg::Kind::kCall) {
      OW_ASL_RETURN_IF_ERROR(CheckIntrinsicSignature(*arg.call));
      continue;
    }
    if (arg.kind == IntrinsicArg::Kind::kPath) continue;
    uint8_t allowed = f->literals[std::min(i, positions - 1)];
    uint8_t kind = LiteralKindOf(arg);
    if ((allowed & kind) == 0) {
      uint8_t first = 0;
      for (uint8_t bit = 1; bit <= kLiteralNull; bit <<= 1) {
        if (allowed & bit) {
          first = bit;
          break;
        }
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "argument ", i + 1, " of ", call.name, " (", arg.text, ") is ",
          LiteralName(kind), "; expected ",
          first == 0 ? std::string("a path")
                     : absl::StrCat(LiteralName(first), " or a path")));
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

namespace {

absl::StatusOr<Json> EvalArg(const IntrinsicArg& arg, const Json& input,
                             const EvalEnv& env) {
  switch (arg.kind) {
    case IntrinsicArg::Kind::kLiteral:
      return arg.literal;
    case IntrinsicArg::Kind::kPath:
      if (arg.parsed_path == nullptr) {
        return AslError(kStatesIntrinsicFailure,
                        std::string(arg.path_status.message()));
      }
      return internal::EvalParsedPath(*arg.parsed_path, input, env);
    case IntrinsicArg::Kind::kCall:
      return EvalCall(*arg.call, input, env);
  }
  return Json();
}

// Evaluates a call and bounds what it built by the payload size limit.
absl::StatusOr<Json> EvalCall(const IntrinsicCall& call, const Json& input,
                              const EvalEnv& env) {
  const internal::IntrinsicFunction* f = call.function;
  if (f == nullptr) {
    return Failure(
        absl::StrCat("Unknown intrinsic function '", call.name, "'"));
  }
  int n = static_cast<int>(call.args.size());
  if (n < f->min_args || (f->max_args >= 0 && n > f->max_args)) {
    return Failure(absl::StrCat("Function '", call.name, "' takes ",
                                internal::ArityText(*f),
                                " argument(s) but was given ", n));
  }
  std::vector<Json> args;
  args.reserve(call.args.size());
  for (const IntrinsicArg& arg : call.args) {
    auto v = EvalArg(arg, input, env);
    if (!v.ok()) return v.status();
    args.push_back(*std::move(v));
  }
  absl::StatusOr<Json> result = f->eval(call, args, env);
  if (!result.ok()) return result;
  size_t cap = env.limits_or_default().max_payload_bytes;
  if (cap > 0 && JsonTextSize(*result, cap) > cap) {
    return PayloadLimitFailure(absl::StrCat("the result of ", call.name), cap);
  }
  return result;
}

}  // namespace

CompiledIntrinsic CompiledIntrinsic::Compile(std::string_view text,
                                             const Limits& limits) {
  CompiledIntrinsic out;
  out.text_ = std::string(text);
  auto call = internal::ParseIntrinsic(text, limits);
  if (!call.ok()) {
    out.parse_status_ = call.status();
    return out;
  }
  out.parse_status_ = absl::OkStatus();
  out.call_ = std::make_shared<const internal::IntrinsicCall>(*std::move(call));
  return out;
}

absl::StatusOr<Json> CompiledIntrinsic::Eval(const Json& input,
                                             const EvalEnv& env) const {
  if (call_ == nullptr) {
    return AslError(kStatesIntrinsicFailure,
                    std::string(parse_status_.message()));
  }
  try {
    return EvalCall(*call_, input, env);
  } catch (const Json::exception& e) {
    return AslError(kStatesIntrinsicFailure,
                    absl::StrCat("Error evaluating '", text_, "': ", e.what()));
  }
}

absl::StatusOr<Json> EvalIntrinsic(std::string_view expr, const Json& input,
                                   const EvalEnv& env) {
  return CompiledIntrinsic::Compile(expr, env.limits_or_default())
      .Eval(input, env);
}

bool IsValidIntrinsic(std::string_view expr, std::string* why) {
  auto call = internal::ParseIntrinsic(expr);
  absl::Status status =
      call.ok() ? internal::CheckIntrinsicArity(*call) : call.status();
  if (!status.ok()) {
    if (why != nullptr) *why = std::string(status.message());
    return false;
  }
  return true;
}

}  // namespace onewindow::asl
