// JSON Schema 2020-12: compiling a schema into a table of subschemas, and
// validating data against it.
//
// Compilation walks the schema document once, turning every subschema into
// a Node (keyword values checked and pre-parsed, regular expressions
// compiled, $ref targets resolved to node indexes). Validation walks the
// data and the nodes together; in-place applicators (anyOf, oneOf, not, if)
// run their subschemas in a "quick" mode that stops at the first failure
// and records nothing. Every walk is bounded: schema size and depth at
// compile time; data depth, evaluation depth, total steps and error count
// at validation time.
#include "engine/manifest/json_schema.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/manifest/formats.h"
#include "engine/manifest/json_pointer.h"

namespace onewindow::manifest {
namespace {

enum TypeBit : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kNumber = 16,
  kString = 32,
  kInteger = 64,
};

constexpr std::pair<std::string_view, uint8_t> kTypeNames[] = {
    {"null", kNull},       {"boolean", kBoolean}, {"object", kObject},
    {"array", kArray},     {"number", kNumber},   {"string", kString},
    {"integer", kInteger},
};

bool IsIntegral(const Json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d;
}

long double ToLongDouble(const Json& v) {
  if (v.is_number_unsigned()) {
    return static_cast<long double>(v.get<uint64_t>());
  }
  if (v.is_number_integer()) return static_cast<long double>(v.get<int64_t>());
  return static_cast<long double>(v.get<double>());
}

// A short JSON rendering of a value for messages.
std::string Brief(const Json& v, size_t max = 60) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > max) {
    s.resize(max);
    s.append("...");
  }
  return s;
}

std::string TypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "an integer";
    case Json::value_t::number_float:
      return IsIntegral(v) ? "an integer" : "a number";
    default:
      return "a binary value";
  }
}

bool TypeMatches(uint8_t types, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return types & kNull;
    case Json::value_t::boolean:
      return types & kBoolean;
    case Json::value_t::object:
      return types & kObject;
    case Json::value_t::array:
      return types & kArray;
    case Json::value_t::string:
      return types & kString;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return (types & kNumber) || ((types & kInteger) && IsIntegral(v));
    default:
      return false;
  }
}

std::string TypesText(uint8_t types) {
  std::vector<std::string> names;
  for (const auto& [name, bit] : kTypeNames) {
    if (types & bit) names.push_back(std::string(name));
  }
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out.append(i + 1 == names.size() ? " or " : ", ");
    out.append(names[i] == "integer" || names[i] == "object" ||
                       names[i] == "array"
                   ? "an "
                   : (names[i] == "null" ? "" : "a "));
    out.append(names[i]);
  }
  return out;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// A canonical text of a JSON value: equal values (1 and 1.0 included) give
// equal texts. Used for uniqueItems.
void Canonical(const Json& v, std::string* out) {
  switch (v.type()) {
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      out->append(v.dump());
      return;
    case Json::value_t::number_float: {
      double d = v.get<double>();
      if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.2e18) {
        out->append(std::to_string(static_cast<int64_t>(d)));
      } else {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g", d);
        out->append(buf);
      }
      return;
    }
    case Json::value_t::array:
      out->push_back('[');
      for (const Json& item : v) {
        Canonical(item, out);
        out->push_back(',');
      }
      out->push_back(']');
      return;
    case Json::value_t::object:
      out->push_back('{');
      for (const auto& [key, value] : v.items()) {
        out->append(Json(key).dump());
        out->push_back(':');
        Canonical(value, out);
        out->push_back(',');
      }
      out->push_back('}');
      return;
    default:
      out->append(v.dump(-1, ' ', false, Json::error_handler_t::replace));
      return;
  }
}

// Depth of `v` without recursion; stops counting past `limit`.
int DepthOf(const Json& v, int limit) {
  int max_depth = 0;
  std::vector<std::pair<const Json*, int>> stack{{&v, 1}};
  while (!stack.empty()) {
    auto [at, depth] = stack.back();
    stack.pop_back();
    max_depth = std::max(max_depth, depth);
    if (max_depth > limit) return max_depth;
    if (at->is_structured()) {
      for (const Json& child : *at) stack.emplace_back(&child, depth + 1);
    }
  }
  return max_depth;
}

std::string PercentDecode(std::string_view s, bool* ok) {
  std::string out;
  *ok = true;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    if (i + 2 >= s.size() || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) {
      *ok = false;
      return out;
    }
    out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
    i += 2;
  }
  return out;
}

// Unicode General_Category names and aliases (as ECMA-262 accepts them in
// \p{...}) -> the short names PCRE2 knows.
std::string_view ShortCategory(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"Other", "C"},
      {"Control", "Cc"},
      {"cntrl", "Cc"},
      {"Format", "Cf"},
      {"Unassigned", "Cn"},
      {"Private_Use", "Co"},
      {"Surrogate", "Cs"},
      {"Letter", "L"},
      {"Cased_Letter", "L&"},
      {"LC", "L&"},
      {"Lowercase_Letter", "Ll"},
      {"Modifier_Letter", "Lm"},
      {"Other_Letter", "Lo"},
      {"Titlecase_Letter", "Lt"},
      {"Uppercase_Letter", "Lu"},
      {"Mark", "M"},
      {"Combining_Mark", "M"},
      {"Spacing_Mark", "Mc"},
      {"Enclosing_Mark", "Me"},
      {"Nonspacing_Mark", "Mn"},
      {"Number", "N"},
      {"Decimal_Number", "Nd"},
      {"digit", "Nd"},
      {"Letter_Number", "Nl"},
      {"Other_Number", "No"},
      {"Punctuation", "P"},
      {"punct", "P"},
      {"Connector_Punctuation", "Pc"},
      {"Dash_Punctuation", "Pd"},
      {"Close_Punctuation", "Pe"},
      {"Final_Punctuation", "Pf"},
      {"Initial_Punctuation", "Pi"},
      {"Other_Punctuation", "Po"},
      {"Open_Punctuation", "Ps"},
      {"Symbol", "S"},
      {"Currency_Symbol", "Sc"},
      {"Modifier_Symbol", "Sk"},
      {"Math_Symbol", "Sm"},
      {"Other_Symbol", "So"},
      {"Separator", "Z"},
      {"Line_Separator", "Zl"},
      {"Paragraph_Separator", "Zp"},
      {"Space_Separator", "Zs"},
  };
  for (const auto& [long_name, short_name] : kNames) {
    if (name == long_name) return short_name;
  }
  return name;
}

// The name inside ECMA-262's \p{...} -> PCRE2's.
std::string PropertyForPcre(std::string_view name) {
  size_t eq = name.find('=');
  if (eq == std::string_view::npos) return std::string(ShortCategory(name));
  std::string_view key = name.substr(0, eq);
  std::string_view value = name.substr(eq + 1);
  if (key == "General_Category" || key == "gc") {
    return std::string(ShortCategory(value));
  }
  if (key == "Script" || key == "sc") return std::string(value);
  if (key == "Script_Extensions" || key == "scx") {
    return absl::StrCat("scx:", std::string(value));
  }
  return std::string(name);
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

// ECMA-262 white space and line terminators beyond ASCII (PCRE2's \s
// covers the ASCII ones), for use inside a character class.
constexpr std::string_view kEcmaSpaces =
    "\\s\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}"
    "\\x{205f}\\x{3000}\\x{feff}";

// Rewrites an ECMA-262 pattern (as JSON Schema uses them: Unicode mode)
// into PCRE2 syntax with the same meaning: \s/\S with ECMA's white space,
// '.' excluding ECMA's line terminators, \uXXXX (and surrogate pairs) and
// \u{...}, long Unicode property names. Constructs that are PCRE-only, and
// mean something else (or nothing) in ECMA-262, are refused: on return
// *foreign names the first one, and the result is empty.
std::string EcmaToPcre(std::string_view re, std::string* foreign) {
  static constexpr std::string_view kPcreEscapes = "AZzGhHRXKQEeaglNoCV";
  std::string out;
  bool in_class = false;
  // The previous token was a quantifier (*, +, ?, {n,m}).
  bool prev_quantifier = false;
  auto hex_at = [&](size_t at, size_t count, uint32_t* value) {
    if (at + count > re.size()) return false;
    uint32_t v = 0;
    for (size_t k = 0; k < count; ++k) {
      char h = re[at + k];
      if (!IsHexDigit(h)) return false;
      v = v * 16 +
          static_cast<uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    *value = v;
    return true;
  };
  for (size_t i = 0; i < re.size(); ++i) {
    char c = re[i];
    bool after_quantifier = prev_quantifier;
    prev_quantifier = false;
    if (c == '\\' && i + 1 < re.size()) {
      char e = re[i + 1];
      if (kPcreEscapes.find(e) != std::string_view::npos) {
        *foreign = absl::StrCat("\"\\", std::string(1, e), "\"");
        return "";
      }
      if (e == 's') {
        out.append(in_class ? std::string(kEcmaSpaces)
                            : absl::StrCat("[", std::string(kEcmaSpaces), "]"));
        ++i;
        continue;
      }
      if (e == 'S' && !in_class) {
        out.append(absl::StrCat("[^", std::string(kEcmaSpaces), "]"));
        ++i;
        continue;
      }
      if ((e == 'p' || e == 'P') && i + 2 < re.size() && re[i + 2] == '{') {
        size_t close = re.find('}', i + 3);
        if (close != std::string_view::npos) {
          absl::StrAppend(&out, "\\", std::string(1, e), "{",
                          PropertyForPcre(re.substr(i + 3, close - i - 3)),
                          "}");
          i = close;
          continue;
        }
      }
      if (e == 'u') {
        uint32_t cp = 0;
        if (i + 2 < re.size() && re[i + 2] == '{') {
          size_t close = re.find('}', i + 3);
          if (close != std::string_view::npos && close > i + 3 &&
              close - i - 3 <= 6 && hex_at(i + 3, close - i - 3, &cp)) {
            absl::StrAppend(&out, "\\x{",
                            std::string(re.substr(i + 3, close - i - 3)), "}");
            i = close;
            continue;
          }
        } else if (hex_at(i + 2, 4, &cp)) {
          uint32_t low = 0;
          if (cp >= 0xD800 && cp <= 0xDBFF && i + 7 < re.size() &&
              re[i + 6] == '\\' && re[i + 7] == 'u' && hex_at(i + 8, 4, &low) &&
              low >= 0xDC00 && low <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
          }
          char buf[16];
          std::snprintf(buf, sizeof buf, "\\x{%x}", cp);
          out.append(buf);
          i += 5;
          continue;
        }
      }
      out.push_back(c);
      out.push_back(e);
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      out.push_back(c);
      continue;
    }
    if (c == '[') {
      in_class = true;
      out.push_back(c);
      continue;
    }
    if (c == '.') {
      out.append("[^\\n\\r\\x{2028}\\x{2029}]");
      continue;
    }
    if (c == '(' && i + 2 < re.size() && re[i + 1] == '?') {
      char k = re[i + 2];
      // ECMA-262 groups: (?: (?= (?! (?<= (?<! (?<name>.
      bool ecma = k == ':' || k == '=' || k == '!' ||
                  (k == '<' && i + 3 < re.size() &&
                   (re[i + 3] == '=' || re[i + 3] == '!' ||
                    std::isalpha(static_cast<unsigned char>(re[i + 3])) ||
                    re[i + 3] == '_' || re[i + 3] == '$'));
      if (!ecma) {
        *foreign = absl::StrCat("\"(?", std::string(1, k), "\"");
        return "";
      }
    }
    // A quantifier followed by '+' is possessive in PCRE, an error in
    // ECMA-262; followed by '?' it is lazy in both.
    if (c == '+' && after_quantifier) {
      *foreign = "a possessive quantifier (\"*+\", \"++\", \"?+\", \"{n}+\")";
      return "";
    }
    if (c == '?' && after_quantifier) {
      out.push_back(c);
      continue;
    }
    if (c == '*' || c == '+' || c == '?') {
      out.push_back(c);
      prev_quantifier = true;
      continue;
    }
    if (c == '{') {
      size_t j = i + 1;
      while (j < re.size() &&
             ((re[j] >= '0' && re[j] <= '9') || re[j] == ',')) {
        ++j;
      }
      if (j < re.size() && re[j] == '}' && j > i + 1) {
        out.append(re.substr(i, j - i + 1));
        i = j;
        prev_quantifier = true;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

// A compiled ECMA-262 regular expression.
class Regex {
 public:
  Regex(pcre2_code* code, std::string source)
      : code_(code), source_(std::move(source)) {}
  ~Regex() { pcre2_code_free(code_); }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  const std::string& source() const { return source_; }

  // 1 = found, 0 = not found, -1 = gave up (a limit) or the text is not
  // valid UTF-8.
  int Search(const std::string& subject, pcre2_match_context* context) const {
    pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
    if (data == nullptr) return -1;
    int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(subject.data()),
                         subject.size(), 0, 0, data, context);
    pcre2_match_data_free(data);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    return -1;
  }

 private:
  pcre2_code* code_;
  std::string source_;
};

}  // namespace

namespace json_schema_internal {

// One compiled subschema.
struct Node {
  std::string pointer;
  bool is_bool = false;
  bool bool_value = true;

  int ref = -1;
  std::string ref_text;
  uint8_t types = 0;
  const Json* enum_values = nullptr;
  const Json* const_value = nullptr;

  const Json* minimum = nullptr;
  const Json* maximum = nullptr;
  const Json* exclusive_minimum = nullptr;
  const Json* exclusive_maximum = nullptr;
  const Json* multiple_of = nullptr;

  std::optional<uint64_t> min_length, max_length;
  int pattern = -1;  // index into Impl::regexes
  std::string format;

  std::vector<int> prefix_items;
  int items = -1;
  int contains = -1;
  std::optional<uint64_t> min_contains, max_contains;
  std::optional<uint64_t> min_items, max_items;
  bool unique_items = false;

  std::vector<std::pair<std::string, int>> properties;  // sorted by name
  std::vector<std::pair<int, int>> pattern_properties;  // regex, node
  int additional_properties = -1;
  std::vector<std::string> required;
  int property_names = -1;
  std::optional<uint64_t> min_properties, max_properties;
  std::vector<std::pair<std::string, std::vector<std::string>>>
      dependent_required;
  std::vector<std::pair<std::string, int>> dependent_schemas;

  std::vector<int> all_of, any_of, one_of;
  int not_ = -1;
  int if_ = -1, then_ = -1, else_ = -1;

  // Annotations (point into the document).
  const Json* title = nullptr;
  const Json* description = nullptr;
  const Json* default_value = nullptr;
  const Json* examples = nullptr;
};

}  // namespace json_schema_internal

using json_schema_internal::Node;

struct JsonSchema::Impl {
  Json doc;
  SchemaLimits limits;
  std::vector<Node> nodes;
  std::vector<std::unique_ptr<Regex>> regexes;
  pcre2_match_context* match_context = nullptr;

  ~Impl() {
    if (match_context != nullptr) pcre2_match_context_free(match_context);
  }
};

namespace {

using Impl = JsonSchema::Impl;

class Compiler {
 public:
  Compiler(Impl* impl, std::vector<SchemaProblem>* problems)
      : impl_(impl), problems_(problems) {}

  void Run() {
    const Json& root = impl_->doc;
    if (root.is_object()) {
      auto id = root.find("$id");
      if (id != root.end() && !id->is_string()) {
        Problem("/$id", "must be a string");
      }
      auto dialect = root.find("$schema");
      if (dialect != root.end()) {
        if (!dialect->is_string()) {
          Problem("/$schema", "must be a string");
        } else {
          std::string d = dialect->get<std::string>();
          if (d != "https://json-schema.org/draft/2020-12/schema" &&
              d != "https://json-schema.org/draft/2020-12/schema#") {
            Problem("/$schema",
                    absl::StrCat("\"", d.substr(0, 80),
                                 "\": only JSON Schema 2020-12 "
                                 "(https://json-schema.org/draft/2020-12/"
                                 "schema) is supported"));
          }
        }
      }
    }
    Compile(root, "", 1);
    ResolveRefs();
    if (problems_->empty()) FindInPlaceCycles();
  }

 private:
  void Problem(std::string pointer, std::string message) {
    if (problems_->size() >= 100) return;
    problems_->push_back({std::move(pointer), std::move(message)});
  }

  static std::string Child(const std::string& pointer, std::string_view key) {
    std::string out = pointer;
    AppendPointerToken(&out, key);
    return out;
  }
  static std::string Child(const std::string& pointer, std::string_view key,
                           size_t index) {
    std::string out = Child(pointer, key);
    AppendPointerIndex(&out, index);
    return out;
  }

  std::optional<uint64_t> NonNegative(const Json& v, const std::string& at) {
    if (IsIntegral(v)) {
      long double d = ToLongDouble(v);
      if (d >= 0) {
        return d > 1e18L ? uint64_t{1'000'000'000'000'000'000}
                         : static_cast<uint64_t>(d);
      }
    }
    Problem(at, absl::StrCat("must be a non-negative integer, got ", Brief(v)));
    return std::nullopt;
  }

  const Json* Number(const Json& v, const std::string& at) {
    if (v.is_number()) return &v;
    Problem(at, absl::StrCat("must be a number, got ", Brief(v)));
    return nullptr;
  }

  int CompileRegex(const Json& v, const std::string& at) {
    if (!v.is_string()) {
      Problem(at, absl::StrCat("must be a regular expression (a string), got ",
                               Brief(v)));
      return -1;
    }
    const std::string& source = v.get_ref<const std::string&>();
    return CompileRegexText(source, at);
  }

  int CompileRegexText(const std::string& source, const std::string& at) {
    if (source.size() > impl_->limits.max_pattern_bytes) {
      Problem(at, absl::StrCat("regular expression is ", source.size(),
                               " bytes; the limit is ",
                               impl_->limits.max_pattern_bytes));
      return -1;
    }
    std::string foreign;
    std::string translated = EcmaToPcre(source, &foreign);
    if (!foreign.empty()) {
      Problem(at, absl::StrCat("regular expression \"", source.substr(0, 80),
                               "\": ", foreign,
                               " is not ECMA-262 syntax (JSON Schema patterns "
                               "are ECMA-262 regular expressions)"));
      return -1;
    }
    pcre2_compile_context* ctx = pcre2_compile_context_create(nullptr);
    pcre2_set_parens_nest_limit(ctx, 64);
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(
        reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
        PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALLOW_EMPTY_CLASS |
            PCRE2_MATCH_UNSET_BACKREF,
        &error, &offset, ctx);
    pcre2_compile_context_free(ctx);
    if (code == nullptr) {
      PCRE2_UCHAR buf[256];
      pcre2_get_error_message(error, buf, sizeof buf);
      Problem(at, absl::StrCat("invalid regular expression \"",
                               source.substr(0, 80),
                               "\": ", reinterpret_cast<const char*>(buf)));
      return -1;
    }
    impl_->regexes.push_back(std::make_unique<Regex>(code, source));
    return static_cast<int>(impl_->regexes.size() - 1);
  }

  std::vector<int> SchemaList(const Json& v, const std::string& at,
                              std::string_view key, int depth) {
    std::vector<int> out;
    if (!v.is_array() || v.empty()) {
      Problem(at, absl::StrCat("must be a non-empty array of schemas, got ",
                               Brief(v)));
      return out;
    }
    for (size_t i = 0; i < v.size(); ++i) {
      std::string child = at;
      AppendPointerIndex(&child, i);
      out.push_back(Compile(v[i], child, depth + 2));
    }
    return out;
  }

  std::vector<std::pair<std::string, int>> SchemaMap(const Json& v,
                                                     const std::string& at,
                                                     int depth) {
    std::vector<std::pair<std::string, int>> out;
    if (!v.is_object()) {
      Problem(at, absl::StrCat("must be an object of schemas, got ", Brief(v)));
      return out;
    }
    for (const auto& [name, sub] : v.items()) {
      out.emplace_back(name, Compile(sub, Child(at, name), depth + 2));
    }
    return out;
  }

  std::vector<std::string> StringSet(const Json& v, const std::string& at) {
    std::vector<std::string> out;
    if (!v.is_array()) {
      Problem(at, absl::StrCat("must be an array of strings, got ", Brief(v)));
      return out;
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      std::string child = at;
      AppendPointerIndex(&child, i);
      if (!v[i].is_string()) {
        Problem(child, absl::StrCat("must be a string, got ", Brief(v[i])));
        continue;
      }
      const std::string& s = v[i].get_ref<const std::string&>();
      if (!seen.insert(s).second) {
        Problem(child, absl::StrCat("\"", s, "\" is listed twice"));
        continue;
      }
      out.push_back(s);
    }
    return out;
  }

  // Compiles the subschema `v` found at `pointer`; returns its node index,
  // or -1 (with a problem recorded).
  int Compile(const Json& v, const std::string& pointer, int depth) {
    auto known = by_pointer_.find(pointer);
    if (known != by_pointer_.end()) return known->second;
    if (depth > impl_->limits.max_schema_depth) {
      Problem(pointer, absl::StrCat("schema nests deeper than ",
                                    impl_->limits.max_schema_depth,
                                    " levels (the limit)"));
      return -1;
    }
    if (impl_->nodes.size() >= impl_->limits.max_subschemas) {
      if (!too_many_) {
        too_many_ = true;
        resource_exhausted_ = true;
        Problem(pointer,
                absl::StrCat("more than ", impl_->limits.max_subschemas,
                             " subschemas (the limit)"));
      }
      return -1;
    }
    if (!v.is_object() && !v.is_boolean()) {
      Problem(pointer, absl::StrCat("a schema must be an object or a boolean, "
                                    "got ",
                                    Brief(v)));
      return -1;
    }
    int index = static_cast<int>(impl_->nodes.size());
    impl_->nodes.emplace_back();
    by_pointer_.emplace(pointer, index);
    Node n;
    n.pointer = pointer;
    if (v.is_boolean()) {
      n.is_bool = true;
      n.bool_value = v.get<bool>();
      impl_->nodes[index] = std::move(n);
      return index;
    }
    for (const auto& [key, value] : v.items()) {
      std::string at = Child(pointer, key);
      Keyword(key, value, at, depth, &n);
    }
    impl_->nodes[index] = std::move(n);
    return index;
  }

  void Keyword(const std::string& key, const Json& value, const std::string& at,
               int depth, Node* n) {
    if (key == "type") {
      auto bit = [&](const Json& name, const std::string& where) -> uint8_t {
        if (name.is_string()) {
          for (const auto& [type_name, type_bit] : kTypeNames) {
            if (name.get_ref<const std::string&>() == type_name) {
              return type_bit;
            }
          }
        }
        Problem(where, absl::StrCat(Brief(name),
                                    " is not a type (null, boolean, object, "
                                    "array, number, string, integer)"));
        return 0;
      };
      if (value.is_array()) {
        if (value.empty()) Problem(at, "must not be an empty array");
        for (size_t i = 0; i < value.size(); ++i) {
          std::string where = at;
          AppendPointerIndex(&where, i);
          uint8_t b = bit(value[i], where);
          if (b != 0 && (n->types & b)) {
            Problem(where, absl::StrCat(Brief(value[i]), " is listed twice"));
          }
          n->types |= b;
        }
      } else {
        n->types = bit(value, at);
      }
    } else if (key == "enum") {
      if (!value.is_array()) {
        Problem(at, absl::StrCat("must be an array, got ", Brief(value)));
      } else {
        n->enum_values = &value;
      }
    } else if (key == "const") {
      n->const_value = &value;
    } else if (key == "minimum") {
      n->minimum = Number(value, at);
    } else if (key == "maximum") {
      n->maximum = Number(value, at);
    } else if (key == "exclusiveMinimum") {
      n->exclusive_minimum = Number(value, at);
    } else if (key == "exclusiveMaximum") {
      n->exclusive_maximum = Number(value, at);
    } else if (key == "multipleOf") {
      n->multiple_of = Number(value, at);
      if (n->multiple_of != nullptr && !(ToLongDouble(value) > 0)) {
        Problem(at, absl::StrCat("must be greater than 0, got ", Brief(value)));
        n->multiple_of = nullptr;
      }
    } else if (key == "minLength") {
      n->min_length = NonNegative(value, at);
    } else if (key == "maxLength") {
      n->max_length = NonNegative(value, at);
    } else if (key == "pattern") {
      n->pattern = CompileRegex(value, at);
    } else if (key == "format") {
      if (!value.is_string()) {
        Problem(at, absl::StrCat("must be a string, got ", Brief(value)));
      } else {
        n->format = value.get<std::string>();
      }
    } else if (key == "prefixItems") {
      n->prefix_items = SchemaList(value, at, key, depth);
    } else if (key == "items") {
      if (value.is_array()) {
        Problem(at,
                "an array of schemas is the draft-07 form; in 2020-12 use "
                "prefixItems for the positions and items for the rest");
      } else {
        n->items = Compile(value, at, depth + 1);
      }
    } else if (key == "contains") {
      n->contains = Compile(value, at, depth + 1);
    } else if (key == "minContains") {
      n->min_contains = NonNegative(value, at);
    } else if (key == "maxContains") {
      n->max_contains = NonNegative(value, at);
    } else if (key == "minItems") {
      n->min_items = NonNegative(value, at);
    } else if (key == "maxItems") {
      n->max_items = NonNegative(value, at);
    } else if (key == "uniqueItems") {
      if (!value.is_boolean()) {
        Problem(at, absl::StrCat("must be true or false, got ", Brief(value)));
      } else {
        n->unique_items = value.get<bool>();
      }
    } else if (key == "properties") {
      n->properties = SchemaMap(value, at, depth);
      std::sort(n->properties.begin(), n->properties.end());
    } else if (key == "patternProperties") {
      if (!value.is_object()) {
        Problem(at, absl::StrCat("must be an object of schemas, got ",
                                 Brief(value)));
      } else {
        for (const auto& [source, sub] : value.items()) {
          std::string child = Child(at, source);
          int regex = CompileRegexText(source, child);
          int node = Compile(sub, child, depth + 2);
          if (regex >= 0) n->pattern_properties.emplace_back(regex, node);
        }
      }
    } else if (key == "additionalProperties") {
      n->additional_properties = Compile(value, at, depth + 1);
    } else if (key == "required") {
      n->required = StringSet(value, at);
    } else if (key == "propertyNames") {
      n->property_names = Compile(value, at, depth + 1);
    } else if (key == "minProperties") {
      n->min_properties = NonNegative(value, at);
    } else if (key == "maxProperties") {
      n->max_properties = NonNegative(value, at);
    } else if (key == "dependentRequired") {
      if (!value.is_object()) {
        Problem(at, absl::StrCat("must be an object of string arrays, got ",
                                 Brief(value)));
      } else {
        for (const auto& [name, list] : value.items()) {
          n->dependent_required.emplace_back(name,
                                             StringSet(list, Child(at, name)));
        }
      }
    } else if (key == "dependentSchemas") {
      n->dependent_schemas = SchemaMap(value, at, depth);
    } else if (key == "allOf") {
      n->all_of = SchemaList(value, at, key, depth);
    } else if (key == "anyOf") {
      n->any_of = SchemaList(value, at, key, depth);
    } else if (key == "oneOf") {
      n->one_of = SchemaList(value, at, key, depth);
    } else if (key == "not") {
      n->not_ = Compile(value, at, depth + 1);
    } else if (key == "if") {
      n->if_ = Compile(value, at, depth + 1);
    } else if (key == "then") {
      n->then_ = Compile(value, at, depth + 1);
    } else if (key == "else") {
      n->else_ = Compile(value, at, depth + 1);
    } else if (key == "$ref") {
      if (!value.is_string()) {
        Problem(at, absl::StrCat("must be a string, got ", Brief(value)));
      } else {
        n->ref_text = value.get<std::string>();
        pending_refs_.emplace_back(n->pointer, n->ref_text, at);
      }
    } else if (key == "$defs" || key == "definitions") {
      SchemaMap(value, at, depth);
    } else if (key == "$anchor") {
      static constexpr std::string_view kAnchorStart =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
      if (!value.is_string() || value.get_ref<const std::string&>().empty() ||
          kAnchorStart.find(value.get_ref<const std::string&>()[0]) ==
              std::string_view::npos) {
        Problem(at, absl::StrCat("must be a name (a letter or '_' first), "
                                 "got ",
                                 Brief(value)));
      } else if (!anchors_.emplace(value.get<std::string>(), n->pointer)
                      .second) {
        Problem(at, absl::StrCat("anchor \"", value.get<std::string>(),
                                 "\" is defined twice"));
      }
    } else if (key == "$id") {
      if (!n->pointer.empty()) {
        Problem(at,
                "an embedded $id (a second schema resource) is not "
                "supported; keep one $id at the top");
      }
    } else if (key == "title" || key == "description") {
      if (!value.is_string()) {
        Problem(at, absl::StrCat("must be a string, got ", Brief(value)));
      } else if (key == "title") {
        n->title = &value;
      } else {
        n->description = &value;
      }
    } else if (key == "default") {
      n->default_value = &value;
    } else if (key == "examples") {
      if (!value.is_array()) {
        Problem(at, absl::StrCat("must be an array, got ", Brief(value)));
      } else {
        n->examples = &value;
      }
    } else if (key == "deprecated" || key == "readOnly" || key == "writeOnly") {
      if (!value.is_boolean()) {
        Problem(at, absl::StrCat("must be true or false, got ", Brief(value)));
      }
    } else if (key == "$comment") {
      if (!value.is_string()) {
        Problem(at, absl::StrCat("must be a string, got ", Brief(value)));
      }
    } else if (key == "unevaluatedProperties" || key == "unevaluatedItems" ||
               key == "$dynamicRef" || key == "$dynamicAnchor" ||
               key == "$recursiveRef" || key == "$recursiveAnchor") {
      Problem(at, absl::StrCat(key, " is not supported by this validator"));
    } else if (key == "additionalItems") {
      Problem(at,
              "additionalItems is not a 2020-12 keyword; use prefixItems for "
              "the positions and items for the rest");
    } else if (key == "dependencies") {
      Problem(at,
              "dependencies is not a 2020-12 keyword; use dependentRequired "
              "or dependentSchemas");
    }
    // Any other keyword is unknown and ignored ($schema and $vocabulary are
    // handled at the top; content* are annotations).
  }

  void ResolveRefs() {
    // Compiling a target may add references; loop until none is left.
    while (!pending_refs_.empty()) {
      auto [owner, ref, at] = std::move(pending_refs_.back());
      pending_refs_.pop_back();
      int target = Resolve(ref, at);
      if (target < 0) continue;
      auto it = by_pointer_.find(owner);
      if (it != by_pointer_.end()) impl_->nodes[it->second].ref = target;
    }
  }

  int Resolve(const std::string& ref, const std::string& at) {
    if (ref.empty() || ref[0] != '#') {
      Problem(at,
              absl::StrCat("$ref \"", ref.substr(0, 80),
                           "\": only references within this schema "
                           "(\"#/$defs/name\", \"#anchor\") are supported"));
      return -1;
    }
    bool ok = true;
    std::string fragment = PercentDecode(std::string_view(ref).substr(1), &ok);
    if (!ok) {
      Problem(at, absl::StrCat("$ref \"", ref.substr(0, 80),
                               "\": malformed %-escape"));
      return -1;
    }
    std::string pointer;
    if (fragment.empty() || fragment[0] == '/') {
      pointer = fragment;
      if (!ParsePointer(pointer).ok()) {
        Problem(at, absl::StrCat("$ref \"", ref.substr(0, 80),
                                 "\": malformed JSON pointer"));
        return -1;
      }
    } else {
      auto anchor = anchors_.find(fragment);
      if (anchor == anchors_.end()) {
        Problem(at, absl::StrCat("$ref \"", ref.substr(0, 80),
                                 "\": no $anchor of that name"));
        return -1;
      }
      pointer = anchor->second;
    }
    auto known = by_pointer_.find(pointer);
    if (known != by_pointer_.end()) return known->second;
    const Json* target = FollowPointer(impl_->doc, pointer);
    if (target == nullptr) {
      Problem(at, absl::StrCat("$ref \"", ref.substr(0, 80),
                               "\": nothing at that location in the schema"));
      return -1;
    }
    size_t depth = 1;
    for (char c : pointer) depth += c == '/';
    return Compile(*target, pointer, static_cast<int>(depth));
  }

  // A cycle through $ref, allOf, anyOf, oneOf, not, if/then/else or
  // dependentSchemas would apply the same subschema to the same value
  // forever.
  void FindInPlaceCycles() {
    const std::vector<Node>& nodes = impl_->nodes;
    auto edges = [&](int i) {
      const Node& n = nodes[i];
      std::vector<int> out;
      if (n.ref >= 0) out.push_back(n.ref);
      for (int c : n.all_of) out.push_back(c);
      for (int c : n.any_of) out.push_back(c);
      for (int c : n.one_of) out.push_back(c);
      for (int c : {n.not_, n.if_, n.then_, n.else_}) out.push_back(c);
      for (const auto& [name, c] : n.dependent_schemas) out.push_back(c);
      out.erase(std::remove(out.begin(), out.end(), -1), out.end());
      return out;
    };
    // 0 = unvisited, 1 = on the current path, 2 = done.
    std::vector<uint8_t> state(nodes.size(), 0);
    for (size_t start = 0; start < nodes.size(); ++start) {
      if (state[start] != 0) continue;
      std::vector<std::pair<int, std::vector<int>>> stack;
      stack.emplace_back(static_cast<int>(start),
                         edges(static_cast<int>(start)));
      state[start] = 1;
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next.empty()) {
          state[node] = 2;
          stack.pop_back();
          continue;
        }
        int child = next.back();
        next.pop_back();
        if (state[child] == 1) {
          Problem(nodes[child].pointer.empty() ? "" : nodes[child].pointer,
                  absl::StrCat("reference cycle: the subschema at \"",
                               nodes[node].pointer, "\" leads back to \"",
                               nodes[child].pointer,
                               "\" without descending into the data"));
          return;
        }
        if (state[child] == 0) {
          state[child] = 1;
          stack.emplace_back(child, edges(child));
        }
      }
    }
  }

 public:
  bool resource_exhausted() const { return resource_exhausted_; }

 private:
  Impl* impl_;
  std::vector<SchemaProblem>* problems_;
  std::map<std::string, int> by_pointer_;
  std::map<std::string, std::string> anchors_;
  // (pointer of the node holding the $ref, the reference, the keyword's
  // pointer)
  std::vector<std::tuple<std::string, std::string, std::string>> pending_refs_;
  bool too_many_ = false;
  bool resource_exhausted_ = false;
};

class Evaluator {
 public:
  Evaluator(const Impl& impl, ValidationResult* result)
      : impl_(impl), limits_(impl.limits), result_(result) {}

  void Run(const Json& instance) {
    if (DepthOf(instance, limits_.max_instance_depth) >
        limits_.max_instance_depth) {
      result_->status = absl::ResourceExhaustedError(
          absl::StrCat("data nests deeper than ", limits_.max_instance_depth,
                       " levels (the limit)"));
      return;
    }
    if (impl_.nodes.empty()) return;
    Eval(0, instance, 1, true);
  }

 private:
  void Stop(absl::Status status) {
    if (result_->status.ok()) result_->status = std::move(status);
    stopped_ = true;
  }

  // Records a failure when collecting; always returns false.
  bool Fail(bool collect, const Node& n, std::string_view keyword,
            std::string message, const std::string* at = nullptr) {
    if (!collect || stopped_) return false;
    if (result_->errors.size() >= limits_.max_errors) {
      result_->truncated = true;
      stopped_ = true;
      return false;
    }
    SchemaError e;
    e.instance_pointer = at != nullptr ? *at : path_;
    e.keyword = std::string(keyword);
    e.schema_pointer = n.pointer;
    if (!n.is_bool) AppendPointerToken(&e.schema_pointer, keyword);
    e.message = std::move(message);
    result_->errors.push_back(std::move(e));
    return false;
  }

  // Applies node `index` to `v` (whose pointer is path_). Returns whether
  // it is valid; when `collect`, records every failure, else stops at the
  // first.
  bool Eval(int index, const Json& v, int depth, bool collect) {
    if (stopped_) return false;
    if (++steps_ > limits_.max_steps) {
      Stop(absl::ResourceExhaustedError(absl::StrCat(
          "validation needed more than ", limits_.max_steps,
          " steps (the limit); the schema is too costly for this data")));
      return false;
    }
    if (depth > limits_.max_eval_depth) {
      Stop(absl::ResourceExhaustedError(
          absl::StrCat("subschemas apply one inside another more than ",
                       limits_.max_eval_depth, " levels deep (the limit)")));
      return false;
    }
    if (index < 0) return true;
    const Node& n = impl_.nodes[index];
    if (n.is_bool) {
      if (n.bool_value) return true;
      return Fail(collect, n, "false", "no value is allowed here");
    }
    bool ok = true;
    // After a failure: go on only when collecting.
#define OW_FAILED()                         \
  do {                                      \
    ok = false;                             \
    if (!collect || stopped_) return false; \
  } while (0)

    if (n.ref >= 0 && !Eval(n.ref, v, depth + 1, collect)) OW_FAILED();
    if (n.types != 0 && !TypeMatches(n.types, v)) {
      Fail(collect, n, "type",
           absl::StrCat("must be ", TypesText(n.types), ", got ", TypeName(v)));
      OW_FAILED();
    }
    if (n.enum_values != nullptr) {
      bool found = false;
      for (const Json& allowed : *n.enum_values) {
        if (allowed == v) {
          found = true;
          break;
        }
      }
      if (!found) {
        std::string list;
        for (const Json& allowed : *n.enum_values) {
          if (list.size() > 200) {
            list.append(", ...");
            break;
          }
          if (!list.empty()) list.append(", ");
          list.append(Brief(allowed, 40));
        }
        Fail(collect, n, "enum", absl::StrCat("must be one of: ", list));
        OW_FAILED();
      }
    }
    if (n.const_value != nullptr && !(*n.const_value == v)) {
      Fail(collect, n, "const",
           absl::StrCat("must be ", Brief(*n.const_value)));
      OW_FAILED();
    }
    if (v.is_number()) {
      if (!Numbers(n, v, collect)) OW_FAILED();
    } else if (v.is_string()) {
      if (!Strings(n, v.get_ref<const std::string&>(), collect)) OW_FAILED();
    } else if (v.is_array()) {
      if (!Arrays(n, v, depth, collect)) OW_FAILED();
    } else if (v.is_object()) {
      if (!Objects(n, v, depth, collect)) OW_FAILED();
    }
    for (int sub : n.all_of) {
      if (!Eval(sub, v, depth + 1, collect)) OW_FAILED();
    }
    if (!n.any_of.empty()) {
      bool any = false;
      for (int sub : n.any_of) {
        if (Eval(sub, v, depth + 1, false)) {
          any = true;
          break;
        }
        if (stopped_) return false;
      }
      if (!any) {
        Fail(collect, n, "anyOf",
             absl::StrCat("does not match any of the ", n.any_of.size(),
                          " allowed forms"));
        OW_FAILED();
      }
    }
    if (!n.one_of.empty()) {
      std::vector<size_t> matched;
      for (size_t i = 0; i < n.one_of.size() && matched.size() < 2; ++i) {
        if (Eval(n.one_of[i], v, depth + 1, false)) matched.push_back(i);
        if (stopped_) return false;
      }
      if (matched.size() != 1) {
        Fail(collect, n, "oneOf",
             matched.empty()
                 ? absl::StrCat("does not match any of the ", n.one_of.size(),
                                " allowed forms")
                 : absl::StrCat("matches more than one of the allowed forms "
                                "(",
                                matched[0], " and ", matched[1],
                                "); exactly one must match"));
        OW_FAILED();
      }
    }
    if (n.not_ >= 0) {
      bool matches = Eval(n.not_, v, depth + 1, false);
      if (stopped_) return false;
      if (matches) {
        Fail(collect, n, "not", "must not match the schema under \"not\"");
        OW_FAILED();
      }
    }
    if (n.if_ >= 0 && (n.then_ >= 0 || n.else_ >= 0)) {
      bool cond = Eval(n.if_, v, depth + 1, false);
      if (stopped_) return false;
      int branch = cond ? n.then_ : n.else_;
      if (branch >= 0 && !Eval(branch, v, depth + 1, collect)) OW_FAILED();
    }
    for (const auto& [name, sub] : n.dependent_schemas) {
      if (v.is_object() && v.contains(name) &&
          !Eval(sub, v, depth + 1, collect)) {
        OW_FAILED();
      }
    }
#undef OW_FAILED
    return ok;
  }

  bool Numbers(const Node& n, const Json& v, bool collect) {
    bool ok = true;
    long double x = ToLongDouble(v);
    auto check = [&](const Json* bound, std::string_view keyword,
                     bool (*pass)(long double, long double),
                     std::string_view relation) {
      if (bound == nullptr || (!ok && !collect)) return;
      if (!pass(x, ToLongDouble(*bound))) {
        ok = false;
        Fail(collect, n, keyword,
             absl::StrCat("must be ", std::string(relation), " ", Brief(*bound),
                          ", got ", Brief(v)));
      }
    };
    check(
        n.minimum, "minimum",
        [](long double a, long double b) { return a >= b; }, ">=");
    check(
        n.maximum, "maximum",
        [](long double a, long double b) { return a <= b; }, "<=");
    check(
        n.exclusive_minimum, "exclusiveMinimum",
        [](long double a, long double b) { return a > b; }, ">");
    check(
        n.exclusive_maximum, "exclusiveMaximum",
        [](long double a, long double b) { return a < b; }, "<");
    if (n.multiple_of != nullptr && (ok || collect) &&
        !MultipleOf(v, *n.multiple_of)) {
      ok = false;
      Fail(collect, n, "multipleOf",
           absl::StrCat("must be a multiple of ", Brief(*n.multiple_of),
                        ", got ", Brief(v)));
    }
    return ok;
  }

  static bool MultipleOf(const Json& v, const Json& m) {
    if (v.is_number_integer() && m.is_number_integer()) {
      auto magnitude = [](const Json& j) -> uint64_t {
        if (j.is_number_unsigned()) return j.get<uint64_t>();
        int64_t i = j.get<int64_t>();
        return i < 0 ? uint64_t{0} - static_cast<uint64_t>(i)
                     : static_cast<uint64_t>(i);
      };
      uint64_t d = magnitude(m);
      return d != 0 && magnitude(v) % d == 0;
    }
    double x = v.is_number_float() ? v.get<double>()
                                   : static_cast<double>(ToLongDouble(v));
    double d = m.is_number_float() ? m.get<double>()
                                   : static_cast<double>(ToLongDouble(m));
    double q = x / d;
    if (!std::isfinite(q)) return false;
    double r = std::nearbyint(q);
    return std::fabs(q - r) <= 1e-9 * std::max(1.0, std::fabs(q));
  }

  bool Strings(const Node& n, const std::string& s, bool collect) {
    bool ok = true;
    if (n.min_length || n.max_length) {
      uint64_t length = CodePoints(s);
      if (n.min_length && length < *n.min_length) {
        ok = false;
        Fail(collect, n, "minLength",
             absl::StrCat("must be at least ", *n.min_length,
                          " characters long, got ", length));
        if (!collect) return false;
      }
      if (n.max_length && length > *n.max_length) {
        ok = false;
        Fail(collect, n, "maxLength",
             absl::StrCat("must be at most ", *n.max_length,
                          " characters long, got ", length));
        if (!collect) return false;
      }
    }
    if (n.pattern >= 0) {
      const Regex& re = *impl_.regexes[n.pattern];
      int found = re.Search(s, impl_.match_context);
      if (found != 1) {
        ok = false;
        Fail(collect, n, "pattern",
             found == 0 ? absl::StrCat("must match the pattern ",
                                       Json(re.source()).dump())
                        : absl::StrCat("could not be matched against the "
                                       "pattern ",
                                       Json(re.source()).dump(),
                                       " (matching limit reached or not "
                                       "UTF-8)"));
        if (!collect) return false;
      }
    }
    if (!n.format.empty() && !MatchesFormat(n.format, s)) {
      ok = false;
      const char* hint = n.format == "date" ? " (YYYY-MM-DD)"
                         : n.format == "date-time"
                             ? " (RFC 3339, e.g. "
                               "2026-12-20T09:30:00+08:00)"
                             : "";
      Fail(collect, n, "format",
           absl::StrCat("is not a valid ", n.format, hint));
    }
    return ok;
  }

  bool Arrays(const Node& n, const Json& v, int depth, bool collect) {
    bool ok = true;
    size_t size = v.size();
    if (n.min_items && size < *n.min_items) {
      ok = false;
      Fail(collect, n, "minItems",
           absl::StrCat("must have at least ", *n.min_items, " items, got ",
                        size));
      if (!collect) return false;
    }
    if (n.max_items && size > *n.max_items) {
      ok = false;
      Fail(collect, n, "maxItems",
           absl::StrCat("must have at most ", *n.max_items, " items, got ",
                        size));
      if (!collect) return false;
    }
    for (size_t i = 0; i < size; ++i) {
      int sub = i < n.prefix_items.size() ? n.prefix_items[i] : n.items;
      if (sub < 0) {
        if (i >= n.prefix_items.size()) break;
        continue;
      }
      size_t mark = path_.size();
      AppendPointerIndex(&path_, i);
      bool good = Eval(sub, v[i], depth + 1, collect);
      path_.resize(mark);
      if (!good) {
        ok = false;
        if (!collect || stopped_) return false;
      }
    }
    if (n.contains >= 0) {
      uint64_t matches = 0;
      for (size_t i = 0; i < size; ++i) {
        size_t mark = path_.size();
        AppendPointerIndex(&path_, i);
        if (Eval(n.contains, v[i], depth + 1, false)) ++matches;
        path_.resize(mark);
        if (stopped_) return false;
      }
      uint64_t min = n.min_contains.value_or(1);
      if (matches < min) {
        ok = false;
        Fail(collect, n, n.min_contains ? "minContains" : "contains",
             absl::StrCat("must contain at least ", min,
                          " item(s) matching \"contains\", found ", matches));
        if (!collect) return false;
      }
      if (n.max_contains && matches > *n.max_contains) {
        ok = false;
        Fail(collect, n, "maxContains",
             absl::StrCat("must contain at most ", *n.max_contains,
                          " item(s) matching \"contains\", found ", matches));
        if (!collect) return false;
      }
    }
    if (n.unique_items && size > 1) {
      std::unordered_map<std::string, size_t> seen;
      for (size_t i = 0; i < size; ++i) {
        std::string key;
        Canonical(v[i], &key);
        auto [it, inserted] = seen.emplace(std::move(key), i);
        if (!inserted) {
          ok = false;
          Fail(collect, n, "uniqueItems",
               absl::StrCat("items ", it->second, " and ", i,
                            " are equal; items must be unique"));
          break;
        }
      }
    }
    return ok;
  }

  bool Objects(const Node& n, const Json& v, int depth, bool collect) {
    bool ok = true;
    size_t size = v.size();
    for (const std::string& name : n.required) {
      if (!v.contains(name)) {
        ok = false;
        std::string at = path_;
        AppendPointerToken(&at, name);
        Fail(collect, n, "required", "is required", &at);
        if (!collect || stopped_) return false;
      }
    }
    for (const auto& [name, needs] : n.dependent_required) {
      if (!v.contains(name)) continue;
      for (const std::string& other : needs) {
        if (v.contains(other)) continue;
        ok = false;
        std::string at = path_;
        AppendPointerToken(&at, other);
        Fail(collect, n, "dependentRequired",
             absl::StrCat("is required when \"", name, "\" is present"), &at);
        if (!collect || stopped_) return false;
      }
    }
    if (n.min_properties && size < *n.min_properties) {
      ok = false;
      Fail(collect, n, "minProperties",
           absl::StrCat("must have at least ", *n.min_properties,
                        " properties, got ", size));
      if (!collect) return false;
    }
    if (n.max_properties && size > *n.max_properties) {
      ok = false;
      Fail(collect, n, "maxProperties",
           absl::StrCat("must have at most ", *n.max_properties,
                        " properties, got ", size));
      if (!collect) return false;
    }
    if (n.properties.empty() && n.pattern_properties.empty() &&
        n.additional_properties < 0 && n.property_names < 0) {
      return ok;
    }
    for (const auto& [name, value] : v.items()) {
      size_t mark = path_.size();
      AppendPointerToken(&path_, name);
      bool good = Member(n, name, value, depth, collect);
      path_.resize(mark);
      if (!good) {
        ok = false;
        if (!collect || stopped_) return false;
      }
    }
    return ok;
  }

  // Applies properties, patternProperties, additionalProperties and
  // propertyNames to one member (path_ points at it).
  bool Member(const Node& n, const std::string& name, const Json& value,
              int depth, bool collect) {
    bool ok = true;
    if (n.property_names >= 0 &&
        !Eval(n.property_names, Json(name), depth + 1, false)) {
      if (stopped_) return false;
      ok = false;
      Fail(collect, n, "propertyNames",
           absl::StrCat("property name ", Json(name).dump(),
                        " is not allowed by \"propertyNames\""));
      if (!collect) return false;
    }
    bool matched = false;
    auto it =
        std::lower_bound(n.properties.begin(), n.properties.end(), name,
                         [](const std::pair<std::string, int>& p,
                            const std::string& key) { return p.first < key; });
    if (it != n.properties.end() && it->first == name) {
      matched = true;
      if (!Eval(it->second, value, depth + 1, collect)) {
        ok = false;
        if (!collect || stopped_) return false;
      }
    }
    for (const auto& [regex, sub] : n.pattern_properties) {
      int found = impl_.regexes[regex]->Search(name, impl_.match_context);
      if (found < 0) {
        ok = false;
        Fail(collect, n, "patternProperties",
             absl::StrCat("property name could not be matched against ",
                          Json(impl_.regexes[regex]->source()).dump(),
                          " (matching limit reached)"));
        if (!collect) return false;
        continue;
      }
      if (found == 0) continue;
      matched = true;
      if (!Eval(sub, value, depth + 1, collect)) {
        ok = false;
        if (!collect || stopped_) return false;
      }
    }
    if (!matched && n.additional_properties >= 0) {
      const Node& extra = impl_.nodes[n.additional_properties];
      if (extra.is_bool && !extra.bool_value) {
        ok = false;
        Fail(collect, n, "additionalProperties",
             "is not an allowed property here");
      } else if (!Eval(n.additional_properties, value, depth + 1, collect)) {
        ok = false;
      }
    }
    return ok;
  }

  const Impl& impl_;
  const SchemaLimits& limits_;
  ValidationResult* result_;
  std::string path_;
  uint64_t steps_ = 0;
  bool stopped_ = false;
};

}  // namespace

std::string FormatSchemaError(const SchemaError& error) {
  return absl::StrCat(
      error.instance_pointer.empty() ? "/" : error.instance_pointer, ": ",
      error.message);
}

absl::Status ValidationStatus(const ValidationResult& result,
                              std::string_view what) {
  if (!result.status.ok()) return result.status;
  if (result.errors.empty()) return absl::OkStatus();
  std::string message =
      absl::StrCat(std::string(what), " does not meet its schema: ");
  for (size_t i = 0; i < result.errors.size(); ++i) {
    if (i > 0) message.append("; ");
    message.append(FormatSchemaError(result.errors[i]));
  }
  if (result.truncated) {
    absl::StrAppend(&message, "; and more (only the first ",
                    result.errors.size(), " are listed)");
  }
  return absl::InvalidArgumentError(message);
}

JsonSchema::JsonSchema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

JsonSchema::~JsonSchema() = default;

absl::StatusOr<std::shared_ptr<const JsonSchema>> JsonSchema::Compile(
    const Json& schema, const SchemaLimits& limits,
    std::vector<SchemaProblem>* problems) {
  std::vector<SchemaProblem> found;
  auto impl = std::make_unique<Impl>();
  impl->limits = limits;
  bool exhausted = false;
  if (DepthOf(schema, limits.max_schema_depth) > limits.max_schema_depth) {
    found.push_back(
        {"", absl::StrCat("schema nests deeper than ", limits.max_schema_depth,
                          " levels (the limit)")});
    exhausted = true;
  } else {
    impl->doc = schema;
    Compiler compiler(impl.get(), &found);
    compiler.Run();
    exhausted = compiler.resource_exhausted();
  }
  if (!found.empty()) {
    std::string message = "invalid JSON Schema: ";
    for (size_t i = 0; i < found.size() && i < 20; ++i) {
      if (i > 0) message.append("; ");
      absl::StrAppend(
          &message,
          found[i].schema_pointer.empty() ? "/" : found[i].schema_pointer, ": ",
          found[i].message);
    }
    if (found.size() > 20) {
      absl::StrAppend(&message, "; and ", found.size() - 20, " more");
    }
    if (problems != nullptr) {
      problems->insert(problems->end(), found.begin(), found.end());
    }
    return exhausted ? absl::ResourceExhaustedError(message)
                     : absl::InvalidArgumentError(message);
  }
  impl->match_context = pcre2_match_context_create(nullptr);
  if (impl->match_context == nullptr) {
    return absl::ResourceExhaustedError("out of memory for a match context");
  }
  pcre2_set_match_limit(impl->match_context, limits.regex_match_limit);
  pcre2_set_depth_limit(impl->match_context, limits.regex_depth_limit);
  pcre2_set_heap_limit(impl->match_context, 20 * 1024);  // KiB
  return std::shared_ptr<const JsonSchema>(new JsonSchema(std::move(impl)));
}

ValidationResult JsonSchema::Validate(const Json& instance) const {
  ValidationResult result;
  Evaluator evaluator(*impl_, &result);
  evaluator.Run(instance);
  return result;
}

const Json& JsonSchema::document() const { return impl_->doc; }

size_t JsonSchema::size() const { return impl_->nodes.size(); }

}  // namespace onewindow::manifest
