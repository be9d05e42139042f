// JSONata's built-in functions: strings, numbers, booleans, arrays,
// objects, higher-order functions, encoding; and the table of them all.
#include "engine/asl/jsonata/functions.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/evaluator.h"

namespace onewindow::asl::jsonata::internal {

namespace {

using Args = std::vector<Value>;

Value Arg(const Args& args, size_t i) {
  return i < args.size() ? args[i] : Value();
}

Value Str(std::string s) { return Value::String(std::move(s)); }

Value Num(double d) { return Value::Number(d); }

std::string NumberText(double d) { return FormatNumberForString(d); }

// ---- Numbers ----------------------------------------------------------------

absl::StatusOr<Value> FnSum(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  double total = 0;
  for (size_t i = 0; i < a.size(); ++i) total += a.at(i).number();
  return Num(total);
}

absl::StatusOr<Value> FnCount(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Num(0);
  return Num(static_cast<double>(a.size()));
}

absl::StatusOr<Value> MinMax(Evaluator& ev, const Args& args, bool max) {
  Value a = Arg(args, 0);
  if (a.IsUndefined() || a.size() == 0) return Value();
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  double r = a.at(0).number();
  for (size_t i = 1; i < a.size(); ++i) {
    double d = a.at(i).number();
    r = max ? std::max(r, d) : std::min(r, d);
  }
  return Num(r);
}

absl::StatusOr<Value> FnMax(Evaluator& ev, const Args& args, const Value&) {
  return MinMax(ev, args, true);
}

absl::StatusOr<Value> FnMin(Evaluator& ev, const Args& args, const Value&) {
  return MinMax(ev, args, false);
}

absl::StatusOr<Value> FnAverage(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined() || a.size() == 0) return Value();
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  double total = 0;
  for (size_t i = 0; i < a.size(); ++i) total += a.at(i).number();
  return Num(total / static_cast<double>(a.size()));
}

bool FullMatchDecimal(const std::string& s) {
  size_t i = 0, n = s.size();
  if (i < n && s[i] == '-') ++i;
  size_t start = i;
  while (i < n && isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == start) return false;
  if (i < n && s[i] == '.') {
    ++i;
    size_t f = i;
    while (i < n && isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == f) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t e = i;
    while (i < n && isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == e) return false;
  }
  return i == n;
}

std::optional<double> ParseRadixLiteral(const std::string& s) {
  if (s.size() < 3 || s[0] != '0') return std::nullopt;
  int base = 0;
  char p = static_cast<char>(tolower(static_cast<unsigned char>(s[1])));
  if (p == 'x') base = 16;
  if (p == 'o') base = 8;
  if (p == 'b') base = 2;
  if (base == 0) return std::nullopt;
  double v = 0;
  for (size_t i = 2; i < s.size(); ++i) {
    int d;
    char c = static_cast<char>(tolower(static_cast<unsigned char>(s[i])));
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else
      return std::nullopt;
    if (d >= base) return std::nullopt;
    v = v * base + d;
  }
  return v;
}

absl::StatusOr<Value> FnNumber(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (a.IsNumber()) return a;
  if (a.IsBool()) return Num(a.boolean() ? 1 : 0);
  if (a.IsString()) {
    const std::string& s = a.str();
    if (FullMatchDecimal(s)) {
      double d = std::strtod(s.c_str(), nullptr);
      if (std::isfinite(d)) return Num(d);
    }
    if (auto r = ParseRadixLiteral(s)) return Num(*r);
  }
  OW_JSONATA_ASSIGN_OR_RETURN(std::string text, ev.Stringify(a, false));
  if (a.IsString()) text = Quote(text);
  return Error("D3030",
               absl::StrCat("Unable to cast value to a number: ", text));
}

absl::StatusOr<Value> FnFloor(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  return Num(std::floor(a.number()) + 0.0);
}

absl::StatusOr<Value> FnCeil(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  return Num(std::ceil(a.number()) + 0.0);
}

absl::StatusOr<Value> FnAbs(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  return Num(std::fabs(a.number()));
}

double ShiftDecimal(double x, int places) {
  std::string s = FormatJsNumber(x);
  size_t e = s.find('e');
  std::string mant = e == std::string::npos ? s : s.substr(0, e);
  int exp = e == std::string::npos ? 0 : std::atoi(s.c_str() + e + 1);
  std::string shifted = mant + "e" + std::to_string(exp + places);
  return std::strtod(shifted.c_str(), nullptr);
}

absl::StatusOr<Value> FnRound(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  double x = a.number();
  int precision = 0;
  Value p = Arg(args, 1);
  if (p.IsNumber()) precision = static_cast<int>(std::trunc(p.number()));
  if (precision != 0) x = ShiftDecimal(x, precision);
  double r = std::floor(x + 0.5);
  double diff = r - x;
  if (std::fabs(diff) == 0.5 && std::fabs(std::fmod(r, 2)) == 1) r -= 1;
  if (precision != 0) r = ShiftDecimal(r, -precision);
  if (r == 0) r = 0;  // no negative zero
  return Num(r);
}

absl::StatusOr<Value> FnSqrt(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (a.number() < 0) {
    return Error(
        "D3060",
        absl::StrCat(
            "The sqrt function cannot be applied to a negative number: ",
            NumberText(a.number())));
  }
  return Num(std::sqrt(a.number()));
}

absl::StatusOr<Value> FnPower(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  double r = std::pow(a.number(), Arg(args, 1).number());
  if (!std::isfinite(r)) {
    return Error(
        "D3061",
        absl::StrCat(
            "The power function has resulted in a value that cannot be "
            "represented as a JSON number: base=",
            NumberText(a.number()),
            ", exponent=", NumberText(Arg(args, 1).number())));
  }
  return Num(r);
}

absl::StatusOr<Value> FnRandom(Evaluator& ev, const Args&, const Value&) {
  OW_JSONATA_ASSIGN_OR_RETURN(double r, ev.Random());
  return Num(r);
}

absl::StatusOr<Value> FnFormatBase(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  double value = a.number();
  // JSONata rounds half to even first.
  double r = std::floor(value + 0.5);
  if (std::fabs(r - value) == 0.5 && std::fabs(std::fmod(r, 2)) == 1) r -= 1;
  int radix = 10;
  Value b = Arg(args, 1);
  if (b.IsNumber()) radix = static_cast<int>(b.number());
  if (radix < 2 || radix > 36) {
    return Error(
        "D3100",
        absl::StrCat(
            "The radix of the formatBase function must be between 2 and 36.  "
            "It was given ",
            b.IsNumber() ? NumberText(b.number()) : "undefined"));
  }
  bool negative = r < 0;
  double m = std::fabs(r);
  std::string digits;
  if (m < 1) digits = "0";
  while (m >= 1 && digits.size() < 1100) {
    double q = std::floor(m / radix);
    int d = static_cast<int>(m - q * radix);
    digits.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[d]);
    m = q;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return Str(digits);
}

// ---- Booleans
// ----------------------------------------------------------------

absl::StatusOr<Value> FnBoolean(Evaluator&, const Args& args, const Value&) {
  auto b = ToBoolean(Arg(args, 0));
  return b.has_value() ? Value::Bool(*b) : Value();
}

absl::StatusOr<Value> FnNot(Evaluator&, const Args& args, const Value&) {
  auto b = ToBoolean(Arg(args, 0));
  return b.has_value() ? Value::Bool(!*b) : Value();
}

absl::StatusOr<Value> FnExists(Evaluator&, const Args& args, const Value&) {
  return Value::Bool(!Arg(args, 0).IsUndefined());
}

// ---- Strings
// -----------------------------------------------------------------

absl::StatusOr<Value> FnString(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  bool pretty = Arg(args, 1).IsBool() && Arg(args, 1).boolean();
  if (a.IsString()) return a;
  OW_JSONATA_ASSIGN_OR_RETURN(std::string s, ev.Stringify(a, pretty));
  return Str(std::move(s));
}

absl::StatusOr<Value> FnLength(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  return Num(static_cast<double>(CodePointCount(a.str())));
}

// JavaScript's ToIntegerOrInfinity clamped into [0, len] after negative
// offsets are counted from the end (Array.prototype.slice).
int64_t SliceIndex(double v, int64_t len) {
  if (std::isnan(v)) return 0;
  double t = std::trunc(v);
  if (t < 0) t += static_cast<double>(len);
  if (t < 0) return 0;
  if (t > static_cast<double>(len)) return len;
  return static_cast<int64_t>(t);
}

absl::StatusOr<Value> FnSubstring(Evaluator&, const Args& args, const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  std::vector<std::string_view> cps = CodePoints(s.str());
  int64_t len = static_cast<int64_t>(cps.size());
  double start = Arg(args, 1).number();
  if (static_cast<double>(len) + start < 0) start = 0;
  int64_t end = len;
  Value l = Arg(args, 2);
  if (l.IsNumber()) {
    if (l.number() <= 0) return Str("");
    double e = start >= 0 ? start + l.number()
                          : static_cast<double>(len) + start + l.number();
    end = SliceIndex(e, len);
  }
  int64_t b = SliceIndex(start, len);
  std::string out;
  for (int64_t i = b; i < end; ++i) out += cps[static_cast<size_t>(i)];
  return Str(std::move(out));
}

absl::StatusOr<Value> FnSubstringBefore(Evaluator&, const Args& args,
                                        const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  const std::string& str = s.str();
  size_t pos = str.find(Arg(args, 1).str());
  if (pos == std::string::npos) return s;
  return Str(str.substr(0, pos));
}

absl::StatusOr<Value> FnSubstringAfter(Evaluator&, const Args& args,
                                       const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  const std::string& str = s.str();
  const std::string& chars = Arg(args, 1).str();
  size_t pos = str.find(chars);
  if (pos == std::string::npos) return s;
  return Str(str.substr(pos + chars.size()));
}

// Case mapping for the common alphabets (Latin, Greek, Cyrillic, Armenian).
uint32_t MapCase(uint32_t c, bool upper) {
  if (upper) {
    if (c >= 'a' && c <= 'z') return c - 32;
    if (c < 0x80) return c;
    if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
    if (c == 0xFF) return 0x178;
    if (c >= 0x100 && c <= 0x17F) {
      if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
        return (c % 2 == 0) ? c - 1 : c;
      if (c == 0x131) return 'I';
      return (c % 2 == 1 && c != 0x138 && c != 0x149) ? c - 1 : c;
    }
    if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
    if (c == 0x3C2) return 0x3A3;
    if (c >= 0x430 && c <= 0x44F) return c - 32;
    if (c >= 0x450 && c <= 0x45F) return c - 80;
    if (c >= 0x461 && c <= 0x4FF && c % 2 == 1) return c - 1;
    if (c >= 0x561 && c <= 0x586) return c - 48;
    return c;
  }
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0x80) return c;
  if ((c >= 0xC0 && c <= 0xDE && c != 0xD7)) return c + 32;
  if (c == 0x178) return 0xFF;
  if (c >= 0x100 && c <= 0x17F) {
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
      return (c % 2 == 1) ? c + 1 : c;
    if (c == 0x130) return 'i';
    return (c % 2 == 0 && c != 0x138) ? c + 1 : c;
  }
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0x460 && c <= 0x4FF && c % 2 == 0) return c + 1;
  if (c >= 0x531 && c <= 0x556) return c + 48;
  return c;
}

Value ChangeCase(const Value& s, bool upper) {
  if (s.IsUndefined()) return Value();
  const std::string& in = s.str();
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size();) {
    uint32_t c = DecodeUtf8(in, &i);
    if (upper && c == 0xDF) {
      out += "SS";
      continue;
    }
    AppendUtf8(MapCase(c, upper), &out);
  }
  return Str(std::move(out));
}

absl::StatusOr<Value> FnUppercase(Evaluator&, const Args& args, const Value&) {
  return ChangeCase(Arg(args, 0), true);
}

absl::StatusOr<Value> FnLowercase(Evaluator&, const Args& args, const Value&) {
  return ChangeCase(Arg(args, 0), false);
}

absl::StatusOr<Value> FnTrim(Evaluator&, const Args& args, const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  std::string out;
  bool in_space = false;
  for (char c : s.str()) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  if (in_space) out.push_back(' ');
  if (!out.empty() && out.front() == ' ') out.erase(0, 1);
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return Str(std::move(out));
}

absl::StatusOr<Value> FnPad(Evaluator& ev, const Args& args, const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  double width = Arg(args, 1).number();
  std::string ch = Arg(args, 2).IsString() ? Arg(args, 2).str() : " ";
  if (ch.empty()) ch = " ";
  double pad = std::fabs(std::trunc(width)) -
               static_cast<double>(CodePointCount(s.str()));
  if (pad <= 0) return s;
  std::vector<std::string_view> pc = CodePoints(ch);
  size_t max_bytes = ev.limits().max_string_bytes;
  if (pad * static_cast<double>(ch.size()) / static_cast<double>(pc.size()) +
          static_cast<double>(s.str().size()) >
      static_cast<double>(max_bytes)) {
    return Error("U1005",
                 absl::StrCat("String built by $pad exceeds the limit of ",
                              max_bytes, " bytes"));
  }
  size_t count = static_cast<size_t>(pad);
  std::string padding;
  for (size_t i = 0; i < count; ++i) padding += pc[i % pc.size()];
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(count / 64));
  return Str(width > 0 ? s.str() + padding : padding + s.str());
}

// Iterates the matches of a regular expression the way JSONata's matcher
// does: a zero-length match after the first is an error (D1004).
absl::Status ForEachMatch(
    Evaluator& ev, const Regex& re, std::string_view s,
    std::optional<size_t> limit,
    const std::function<absl::Status(const RegexMatchResult&)>& f) {
  size_t from = 0;
  size_t count = 0;
  bool first = true;
  while (!limit.has_value() || count < *limit) {
    if (!first && from >= s.size()) break;
    OW_JSONATA_ASSIGN_OR_RETURN(auto m, ev.MatchRegex(re, s, from));
    if (!m.has_value()) break;
    if (!first && m->match.empty()) {
      return Error("D1004", "Regular expression matches zero length string");
    }
    first = false;
    OW_JSONATA_RETURN_IF_ERROR(f(*m));
    ++count;
    from = m->end;
  }
  return absl::OkStatus();
}

const Regex* RegexOf(const Value& v) {
  if (!v.IsFunction()) return nullptr;
  const Function* f = v.function();
  return f->kind == Function::Kind::kRegex ? f->regex.get() : nullptr;
}

absl::Status NotAMatcher(std::string_view fn) {
  return Error(
      "T1010",
      absl::StrCat("The matcher function argument passed to function ",
                   Quote(fn), " does not return the correct object structure"));
}

absl::StatusOr<Value> FnContains(Evaluator& ev, const Args& args,
                                 const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  Value token = Arg(args, 1);
  if (token.IsString())
    return Value::Bool(s.str().find(token.str()) != std::string::npos);
  const Regex* re = RegexOf(token);
  if (re == nullptr) return NotAMatcher("contains");
  OW_JSONATA_ASSIGN_OR_RETURN(auto m, ev.MatchRegex(*re, s.str(), 0));
  return Value::Bool(m.has_value());
}

std::optional<size_t> LimitArg(const Value& v) {
  if (!v.IsNumber()) return std::nullopt;
  double d = v.number();
  if (d > 1e15) return static_cast<size_t>(1e15);
  return static_cast<size_t>(std::max(0.0, std::ceil(d)));
}

absl::StatusOr<Value> FnSplit(Evaluator& ev, const Args& args, const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  Value lim = Arg(args, 2);
  if (lim.IsNumber() && lim.number() < 0) {
    return Error(
        "D3020",
        "Third argument of split function must evaluate to a positive number");
  }
  std::optional<size_t> limit = LimitArg(lim);
  auto out = std::make_shared<ArrayData>();
  const std::string& str = s.str();
  auto push = [&](std::string piece) -> absl::Status {
    out->items.push_back(Str(std::move(piece)));
    OW_JSONATA_RETURN_IF_ERROR(ev.CheckLength(out->items.size()));
    return ev.Charge(1);
  };
  if (limit.has_value() && *limit == 0) return Value::Array(std::move(out));
  Value sep = Arg(args, 1);
  if (sep.IsString()) {
    const std::string& d = sep.str();
    if (d.empty()) {
      for (std::string_view cp : CodePoints(str)) {
        if (limit.has_value() && out->items.size() >= *limit) break;
        OW_JSONATA_RETURN_IF_ERROR(push(std::string(cp)));
      }
    } else {
      size_t start = 0;
      for (;;) {
        if (limit.has_value() && out->items.size() >= *limit) break;
        size_t pos = str.find(d, start);
        if (pos == std::string::npos) {
          OW_JSONATA_RETURN_IF_ERROR(push(str.substr(start)));
          break;
        }
        OW_JSONATA_RETURN_IF_ERROR(push(str.substr(start, pos - start)));
        start = pos + d.size();
      }
    }
    return Value::Array(std::move(out));
  }
  const Regex* re = RegexOf(sep);
  if (re == nullptr) return NotAMatcher("split");
  size_t start = 0;
  size_t count = 0;
  OW_JSONATA_RETURN_IF_ERROR(
      ForEachMatch(ev, *re, str, limit, [&](const RegexMatchResult& m) {
        ++count;
        OW_JSONATA_RETURN_IF_ERROR(push(str.substr(start, m.start - start)));
        start = m.end;
        return absl::OkStatus();
      }));
  if (!limit.has_value() || count < *limit)
    OW_JSONATA_RETURN_IF_ERROR(push(str.substr(start)));
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnJoin(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  std::string sep = Arg(args, 1).IsString() ? Arg(args, 1).str() : "";
  std::string out;
  for (size_t i = 0; i < a.size(); ++i) {
    if (i > 0) out += sep;
    out += a.at(i).str();
    OW_JSONATA_RETURN_IF_ERROR(ev.CheckString(out.size()));
  }
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  return Str(std::move(out));
}

absl::StatusOr<Value> FnMatch(Evaluator& ev, const Args& args, const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  Value lim = Arg(args, 2);
  if (lim.IsNumber() && lim.number() < 0) {
    return Error(
        "D3040",
        "Third argument of match function must evaluate to a positive number");
  }
  const Regex* re = RegexOf(Arg(args, 1));
  if (re == nullptr) return NotAMatcher("match");
  auto out = NewSequence();
  const std::string& str = s.str();
  OW_JSONATA_RETURN_IF_ERROR(
      ForEachMatch(ev, *re, str, LimitArg(lim), [&](const RegexMatchResult& m) {
        auto obj = std::make_shared<ObjectData>();
        obj->Set("match", Str(m.match));
        obj->Set("index", Num(static_cast<double>(CodePointCount(
                              std::string_view(str).substr(0, m.start)))));
        auto groups = std::make_shared<ArrayData>();
        for (const auto& g : m.groups)
          groups->items.push_back(Str(g.value_or("")));
        obj->Set("groups", Value::Array(std::move(groups)));
        out->items.push_back(Value::Object(std::move(obj)));
        return ev.CheckLength(out->items.size());
      }));
  return Value::Array(std::move(out));
}

// Expands $0, $1.. and $$ in a replacement string.
std::string Substitute(const std::string& replacement,
                       const RegexMatchResult& m) {
  std::string out;
  size_t pos = 0;
  size_t n = replacement.size();
  size_t groups = m.groups.size();
  while (pos < n) {
    size_t dollar = replacement.find('$', pos);
    if (dollar == std::string::npos) break;
    out.append(replacement, pos, dollar - pos);
    pos = dollar + 1;
    if (pos >= n) {
      out.push_back('$');
      break;
    }
    char c = replacement[pos];
    if (c == '$') {
      out.push_back('$');
      ++pos;
    } else if (c == '0') {
      out += m.match;
      ++pos;
    } else {
      size_t max_digits =
          groups == 0 ? 1
                      : static_cast<size_t>(std::floor(std::log10(groups))) + 1;
      auto parse = [&](size_t digits,
                       size_t* consumed) -> std::optional<size_t> {
        size_t k = 0;
        size_t v = 0;
        while (k < digits && pos + k < n &&
               isdigit(static_cast<unsigned char>(replacement[pos + k]))) {
          v = v * 10 + static_cast<size_t>(replacement[pos + k] - '0');
          ++k;
        }
        *consumed = k;
        if (k == 0) return std::nullopt;
        return v;
      };
      size_t consumed = 0;
      auto index = parse(max_digits, &consumed);
      if (index.has_value() && max_digits > 1 && *index > groups) {
        index = parse(max_digits - 1, &consumed);
      }
      if (index.has_value()) {
        if (groups > 0 && *index >= 1 && *index <= groups &&
            m.groups[*index - 1].has_value()) {
          out += *m.groups[*index - 1];
        }
        pos += std::to_string(*index).size();
      } else {
        out.push_back('$');
      }
    }
  }
  if (pos < n) out.append(replacement, pos, std::string::npos);
  return out;
}

absl::StatusOr<Value> FnReplace(Evaluator& ev, const Args& args, const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  Value pattern = Arg(args, 1);
  Value replacement = Arg(args, 2);
  if (pattern.IsString() && pattern.str().empty()) {
    return Error(
        "D3010",
        "Second argument of replace function cannot be an empty string");
  }
  Value lim = Arg(args, 3);
  if (lim.IsNumber() && lim.number() < 0) {
    return Error("D3011",
                 "Fourth argument of replace function must evaluate to a "
                 "positive number");
  }
  std::optional<size_t> limit = LimitArg(lim);
  const std::string& str = s.str();
  std::string out;
  if (pattern.IsString()) {
    const std::string& p = pattern.str();
    std::string rep = replacement.IsString() ? replacement.str() : "";
    size_t pos = 0;
    size_t count = 0;
    while (!limit.has_value() || count < *limit) {
      size_t idx = str.find(p, pos);
      if (idx == std::string::npos) break;
      out.append(str, pos, idx - pos);
      out += rep;
      pos = idx + p.size();
      ++count;
      OW_JSONATA_RETURN_IF_ERROR(ev.CheckString(out.size()));
    }
    out.append(str, pos, std::string::npos);
    return Str(std::move(out));
  }
  const Regex* re = RegexOf(pattern);
  if (re == nullptr) return NotAMatcher("replace");
  size_t pos = 0;
  OW_JSONATA_RETURN_IF_ERROR(
      ForEachMatch(ev, *re, str, limit, [&](const RegexMatchResult& m) {
        out.append(str, pos, m.start - pos);
        if (replacement.IsString()) {
          out += Substitute(replacement.str(), m);
        } else {
          auto obj = std::make_shared<ObjectData>();
          obj->Set("match", Str(m.match));
          obj->Set("index", Num(static_cast<double>(CodePointCount(
                                std::string_view(str).substr(0, m.start)))));
          auto groups = std::make_shared<ArrayData>();
          for (const auto& g : m.groups)
            groups->items.push_back(Str(g.value_or("")));
          obj->Set("groups", Value::Array(std::move(groups)));
          std::vector<Value> call_args;
          call_args.push_back(Value::Object(std::move(obj)));
          OW_JSONATA_ASSIGN_OR_RETURN(
              Value r,
              ev.Apply(replacement, std::move(call_args), Value::Null()));
          if (!r.IsString()) {
            OW_JSONATA_ASSIGN_OR_RETURN(std::string text,
                                        ev.Stringify(r, false));
            return Error("D3012",
                         absl::StrCat("Attempted to replace a matched string "
                                      "with a non-string value: ",
                                      text));
          }
          out += r.str();
        }
        pos = m.end;
        return ev.CheckString(out.size());
      }));
  out.append(str, pos, std::string::npos);
  return Str(std::move(out));
}

// ---- Encoding
// ----------------------------------------------------------------

const char kBase64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

absl::StatusOr<Value> FnBase64Encode(Evaluator& ev, const Args& args,
                                     const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  const std::string& in = s.str();
  OW_JSONATA_RETURN_IF_ERROR(ev.CheckString(in.size() / 3 * 4 + 4));
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) |
                 (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(kBase64[(v >> 6) & 63]);
    out.push_back(kBase64[v & 63]);
  }
  if (i < in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(kBase64[(v >> 18) & 63]);
    out.push_back(kBase64[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kBase64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return Str(std::move(out));
}

bool ValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t before = i;
    uint32_t cp = DecodeUtf8(s, &i);
    if (cp == 0xFFFD &&
        !(i - before == 3 && static_cast<unsigned char>(s[before]) == 0xEF)) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<Value> FnBase64Decode(Evaluator&, const Args& args,
                                     const Value&) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  std::string bytes;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s.str()) {
    const char* p = std::strchr(kBase64, c);
    if (c == '=' || c == '\0' || p == nullptr) continue;
    acc = (acc << 6) | static_cast<uint32_t>(p - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (ValidUtf8(bytes)) return Str(std::move(bytes));
  std::string latin1;
  for (char c : bytes) AppendUtf8(static_cast<uint8_t>(c), &latin1);
  return Str(std::move(latin1));
}

absl::StatusOr<Value> EncodeUri(Evaluator& ev, const Args& args, bool component,
                                std::string_view name) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  const std::string& in = s.str();
  if (!ValidUtf8(in)) {
    return Error("D3140", absl::StrCat("Malformed URL passed to $",
                                       std::string(name), "(): ", Quote(in)));
  }
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : in) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool keep = isalnum(c) || std::strchr("-_.!~*'()", c) != nullptr;
    if (!component && std::strchr(";,/?:@&=+$#", c) != nullptr) keep = true;
    if (c == 0) keep = false;
    if (keep) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  OW_JSONATA_RETURN_IF_ERROR(ev.CheckString(out.size()));
  return Str(std::move(out));
}

absl::StatusOr<Value> DecodeUri(const Args& args, bool component,
                                std::string_view name) {
  Value s = Arg(args, 0);
  if (s.IsUndefined()) return Value();
  const std::string& in = s.str();
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  auto malformed = [&]() {
    return Error("D3140", absl::StrCat("Malformed URL passed to $",
                                       std::string(name), "(): ", Quote(in)));
  };
  std::string out;
  for (size_t i = 0; i < in.size();) {
    if (in[i] != '%') {
      out.push_back(in[i++]);
      continue;
    }
    // A run of escapes forming one UTF-8 sequence.
    std::string bytes;
    size_t start = i;
    auto read = [&]() -> int {  // one %XX at i
      if (i + 2 >= in.size()) return -1;
      int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
      if (h < 0 || l < 0) return -1;
      i += 3;
      return h * 16 + l;
    };
    int b = read();
    if (b < 0) return malformed();
    bytes.push_back(static_cast<char>(b));
    int extra = b < 0x80             ? 0
                : (b & 0xE0) == 0xC0 ? 1
                : (b & 0xF0) == 0xE0 ? 2
                : (b & 0xF8) == 0xF0 ? 3
                                     : -1;
    if (extra < 0) return malformed();
    for (int k = 0; k < extra; ++k) {
      if (i >= in.size() || in[i] != '%') return malformed();
      int c = read();
      if (c < 0 || (c & 0xC0) != 0x80) return malformed();
      bytes.push_back(static_cast<char>(c));
    }
    if (!ValidUtf8(bytes)) return malformed();
    if (!component && bytes.size() == 1 &&
        std::strchr(";/?:@&=+$,#", bytes[0]) != nullptr) {
      out.append(in, start, i - start);
    } else {
      out += bytes;
    }
  }
  return Str(std::move(out));
}

absl::StatusOr<Value> FnEncodeUrlComponent(Evaluator& ev, const Args& args,
                                           const Value&) {
  return EncodeUri(ev, args, true, "encodeUrlComponent");
}
absl::StatusOr<Value> FnEncodeUrl(Evaluator& ev, const Args& args,
                                  const Value&) {
  return EncodeUri(ev, args, false, "encodeUrl");
}
absl::StatusOr<Value> FnDecodeUrlComponent(Evaluator&, const Args& args,
                                           const Value&) {
  return DecodeUri(args, true, "decodeUrlComponent");
}
absl::StatusOr<Value> FnDecodeUrl(Evaluator&, const Args& args, const Value&) {
  return DecodeUri(args, false, "decodeUrl");
}

// ---- Arrays
// ------------------------------------------------------------------

absl::StatusOr<Value> FnAppend(Evaluator& ev, const Args& args, const Value&) {
  return ev.Append(Arg(args, 0), Arg(args, 1));
}

absl::StatusOr<Value> FnReverse(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (a.size() <= 1) return a;
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  auto out = std::make_shared<ArrayData>();
  for (size_t i = a.size(); i > 0; --i) out->items.push_back(a.at(i - 1));
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnShuffle(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (a.size() <= 1) return a;
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  auto out = std::make_shared<ArrayData>();
  for (size_t i = 0; i < a.size(); ++i) out->items.push_back(a.at(i));
  for (size_t i = out->items.size() - 1; i > 0; --i) {
    OW_JSONATA_ASSIGN_OR_RETURN(double r, ev.Random());
    size_t j = static_cast<size_t>(std::floor(r * static_cast<double>(i + 1)));
    if (j > i) j = i;
    std::swap(out->items[i], out->items[j]);
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnDistinct(Evaluator& ev, const Args& args,
                                 const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (!a.IsArray() || a.size() <= 1) return a;
  auto out = a.IsSequence() ? NewSequence() : std::make_shared<ArrayData>();
  std::unordered_set<std::string> seen;  // primitives, keyed by type and value
  std::vector<Value> structured;
  for (size_t i = 0; i < a.size(); ++i) {
    OW_JSONATA_RETURN_IF_ERROR(ev.Charge(1));
    Value v = a.at(i);
    std::string key;
    switch (v.type()) {
      case Value::Type::kNull:
        key = "l";
        break;
      case Value::Type::kBool:
        key = v.boolean() ? "b1" : "b0";
        break;
      case Value::Type::kNumber:
        key = "n" + FormatJsNumber(v.number());
        break;
      case Value::Type::kString:
        key = "s" + v.str();
        break;
      default:
        break;
    }
    if (!key.empty()) {
      if (seen.insert(key).second) out->items.push_back(v);
      continue;
    }
    bool dup = false;
    for (const Value& s : structured) {
      OW_JSONATA_ASSIGN_OR_RETURN(bool eq, ev.DeepEqual(v, s));
      if (eq) {
        dup = true;
        break;
      }
    }
    if (!dup) {
      structured.push_back(v);
      out->items.push_back(v);
    }
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnZip(Evaluator& ev, const Args& args, const Value&) {
  size_t len = args.empty() ? 0 : SIZE_MAX;
  for (const Value& a : args) len = std::min(len, a.IsArray() ? a.size() : 0);
  auto out = std::make_shared<ArrayData>();
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(len * args.size()));
  for (size_t i = 0; i < len; ++i) {
    auto tuple = std::make_shared<ArrayData>();
    for (const Value& a : args) tuple->items.push_back(a.at(i));
    out->items.push_back(Value::Array(std::move(tuple)));
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnSort(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (a.size() <= 1) return a;
  std::vector<Value> items;
  items.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) items.push_back(a.at(i));
  Value fn = Arg(args, 1);
  std::vector<Value> sorted;
  if (fn.IsUndefined()) {
    bool numbers = true, strings = true;
    for (const Value& v : items) {
      numbers = numbers && v.IsNumber();
      strings = strings && v.IsString();
    }
    if (!numbers && !strings) {
      return Error("D3070",
                   "The single argument form of the sort function can only be "
                   "applied to an array "
                   "of strings or an array of numbers.  Use the second "
                   "argument to specify a "
                   "comparison function");
    }
    OW_JSONATA_RETURN_IF_ERROR(ev.Charge(items.size() * 8));
    std::stable_sort(
        items.begin(), items.end(), [&](const Value& x, const Value& y) {
          return numbers ? x.number() < y.number() : x.str() < y.str();
        });
    sorted = std::move(items);
  } else {
    // Bottom-up merge sort; the comparator answers "swap?" as in JSONata.
    std::vector<Value> buf(items.size());
    for (size_t width = 1; width < items.size(); width *= 2) {
      for (size_t lo = 0; lo < items.size(); lo += 2 * width) {
        size_t mid = std::min(lo + width, items.size());
        size_t hi = std::min(lo + 2 * width, items.size());
        size_t i = lo, j = mid, k = lo;
        while (i < mid && j < hi) {
          std::vector<Value> cargs{items[i], items[j]};
          OW_JSONATA_ASSIGN_OR_RETURN(
              Value r, ev.Apply(fn, std::move(cargs), Value::Null()));
          if (ToBoolean(r).value_or(false)) {
            buf[k++] = items[j++];
          } else {
            buf[k++] = items[i++];
          }
        }
        while (i < mid) buf[k++] = items[i++];
        while (j < hi) buf[k++] = items[j++];
      }
      std::swap(items, buf);
    }
    sorted = std::move(items);
  }
  auto out = std::make_shared<ArrayData>();
  out->items = std::move(sorted);
  return Value::Array(std::move(out));
}

// ---- Objects
// -----------------------------------------------------------------

absl::Status CollectKeys(Evaluator& ev, const Value& v,
                         std::vector<std::string>* keys,
                         std::unordered_set<std::string>* seen) {
  if (v.IsArray()) {
    OW_JSONATA_RETURN_IF_ERROR(ev.CheckStack());
    for (size_t i = 0; i < v.size(); ++i)
      OW_JSONATA_RETURN_IF_ERROR(CollectKeys(ev, v.at(i), keys, seen));
  } else if (v.IsObject()) {
    v.ForEachMember([&](std::string_view k, const Value&) {
      if (seen->insert(std::string(k)).second) keys->emplace_back(k);
    });
  }
  return ev.Charge(1);
}

absl::StatusOr<Value> FnKeys(Evaluator& ev, const Args& args, const Value&) {
  std::vector<std::string> keys;
  std::unordered_set<std::string> seen;
  OW_JSONATA_RETURN_IF_ERROR(CollectKeys(ev, Arg(args, 0), &keys, &seen));
  auto out = NewSequence();
  for (auto& k : keys) out->items.push_back(Str(std::move(k)));
  if (out->items.empty()) return Value();
  if (out->items.size() == 1) return out->items[0];
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> LookupIn(Evaluator& ev, const Value& input,
                               const std::string& key) {
  if (input.IsObject()) return input.Get(key);
  if (!input.IsArray()) return Value();
  OW_JSONATA_RETURN_IF_ERROR(ev.CheckStack());
  auto out = NewSequence();
  for (size_t i = 0; i < input.size(); ++i) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value r, LookupIn(ev, input.at(i), key));
    if (r.IsUndefined()) continue;
    if (r.IsArray()) {
      for (size_t k = 0; k < r.size(); ++k) out->items.push_back(r.at(k));
    } else {
      out->items.push_back(std::move(r));
    }
  }
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(out->items.size()));
  if (out->items.empty()) return Value();
  if (out->items.size() == 1) return out->items[0];
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnLookup(Evaluator& ev, const Args& args, const Value&) {
  return LookupIn(ev, Arg(args, 0), Arg(args, 1).str());
}

absl::Status SpreadInto(Evaluator& ev, const Value& v,
                        std::vector<Value>* out) {
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(1));
  if (v.IsArray()) {
    OW_JSONATA_RETURN_IF_ERROR(ev.CheckStack());
    for (size_t i = 0; i < v.size(); ++i)
      OW_JSONATA_RETURN_IF_ERROR(SpreadInto(ev, v.at(i), out));
  } else if (v.IsObject()) {
    v.ForEachMember([&](std::string_view k, const Value& m) {
      auto o = std::make_shared<ObjectData>();
      o->Set(k, m);
      out->push_back(Value::Object(std::move(o)));
    });
  } else if (!v.IsUndefined()) {
    out->push_back(v);
  }
  return ev.CheckLength(out->size());
}

absl::StatusOr<Value> FnSpread(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (!a.IsArray() && !a.IsObject()) return a;
  auto out = NewSequence();
  OW_JSONATA_RETURN_IF_ERROR(SpreadInto(ev, a, &out->items));
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnMerge(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  auto out = std::make_shared<ObjectData>();
  for (size_t i = 0; i < a.size(); ++i) {
    Value o = a.at(i);
    if (!o.IsObject()) continue;
    OW_JSONATA_RETURN_IF_ERROR(ev.Charge(o.ObjectSize()));
    o.ForEachMember(
        [&](std::string_view k, const Value& v) { out->Set(k, v); });
  }
  return Value::Object(std::move(out));
}

absl::StatusOr<Value> FnEach(Evaluator& ev, const Args& args, const Value&) {
  Value o = Arg(args, 0);
  Value fn = Arg(args, 1);
  auto out = NewSequence();
  if (!o.IsObject()) return Value();
  std::vector<std::pair<std::string, Value>> members;
  o.ForEachMember([&](std::string_view k, const Value& v) {
    members.emplace_back(std::string(k), v);
  });
  for (auto& [k, v] : members) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value r, ev.ApplyHof(fn, v, Str(k), o));
    if (!r.IsUndefined()) out->items.push_back(std::move(r));
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnSift(Evaluator& ev, const Args& args, const Value&) {
  Value o = Arg(args, 0);
  Value fn = Arg(args, 1);
  if (!o.IsObject()) return Value();
  std::vector<std::pair<std::string, Value>> members;
  o.ForEachMember([&](std::string_view k, const Value& v) {
    members.emplace_back(std::string(k), v);
  });
  auto out = std::make_shared<ObjectData>();
  for (auto& [k, v] : members) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value r, ev.ApplyHof(fn, v, Str(k), o));
    if (ToBoolean(r).value_or(false)) out->Set(k, v);
  }
  if (out->entries.empty()) return Value();
  return Value::Object(std::move(out));
}

absl::StatusOr<Value> FnError(Evaluator&, const Args& args, const Value&) {
  Value m = Arg(args, 0);
  return Error("D3137", m.IsString() ? m.str() : "$error() function evaluated");
}

absl::StatusOr<Value> FnAssert(Evaluator&, const Args& args, const Value&) {
  if (!Arg(args, 0).boolean()) {
    Value m = Arg(args, 1);
    return Error("D3141",
                 m.IsString() ? m.str() : "$assert() statement failed");
  }
  return Value();
}

absl::StatusOr<Value> FnType(Evaluator&, const Args& args, const Value&) {
  switch (Arg(args, 0).type()) {
    case Value::Type::kUndefined:
      return Value();
    case Value::Type::kNull:
      return Str("null");
    case Value::Type::kBool:
      return Str("boolean");
    case Value::Type::kNumber:
      return Str("number");
    case Value::Type::kString:
      return Str("string");
    case Value::Type::kArray:
      return Str("array");
    case Value::Type::kObject:
      return Str("object");
    case Value::Type::kFunction:
      return Str("function");
  }
  return Value();
}

absl::StatusOr<Value> FnClone(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  return ev.Clone(a);
}

absl::StatusOr<Value> FnEval(Evaluator& ev, const Args& args,
                             const Value& input) {
  Value text = Arg(args, 0);
  if (text.IsUndefined()) return Value();
  if (!ev.bindings().allow_eval) {
    return Error("U1011", "$eval is not allowed in this context");
  }
  Value context = Arg(args, 1).IsUndefined() ? input : Arg(args, 1);
  return ev.EvalText(text.str(), context);
}

// ---- Higher-order
// ------------------------------------------------------------

absl::StatusOr<Value> FnMap(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  Value fn = Arg(args, 1);
  auto out = NewSequence();
  for (size_t i = 0; i < a.size(); ++i) {
    OW_JSONATA_ASSIGN_OR_RETURN(
        Value r, ev.ApplyHof(fn, a.at(i), Num(static_cast<double>(i)), a));
    if (!r.IsUndefined()) out->items.push_back(std::move(r));
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnFilter(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  Value fn = Arg(args, 1);
  auto out = NewSequence();
  for (size_t i = 0; i < a.size(); ++i) {
    Value item = a.at(i);
    OW_JSONATA_ASSIGN_OR_RETURN(
        Value r, ev.ApplyHof(fn, item, Num(static_cast<double>(i)), a));
    if (ToBoolean(r).value_or(false)) out->items.push_back(std::move(item));
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnSingle(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  Value fn = Arg(args, 1);
  bool found = false;
  Value result;
  for (size_t i = 0; i < a.size(); ++i) {
    Value item = a.at(i);
    bool ok = true;
    if (!fn.IsUndefined()) {
      OW_JSONATA_ASSIGN_OR_RETURN(
          Value r, ev.ApplyHof(fn, item, Num(static_cast<double>(i)), a));
      ok = ToBoolean(r).value_or(false);
    }
    if (ok) {
      if (found) {
        return Error("D3138",
                     "The $single() function expected exactly 1 matching "
                     "result.  Instead it "
                     "matched more.");
      }
      found = true;
      result = item;
    }
  }
  if (!found) {
    return Error("D3139",
                 "The $single() function expected exactly 1 matching result.  "
                 "Instead it matched 0.");
  }
  return result;
}

absl::StatusOr<Value> FnReduce(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  Value fn = Arg(args, 1);
  size_t arity = fn.IsFunction() ? fn.function()->Arity() : 0;
  if (arity < 2) {
    return Error("D3050",
                 "The second argument of reduce function must be a function "
                 "with at least two "
                 "arguments");
  }
  Value init = Arg(args, 2);
  Value result;
  size_t i = 0;
  if (init.IsUndefined() && a.size() > 0) {
    result = a.at(0);
    i = 1;
  } else {
    result = init;
  }
  for (; i < a.size(); ++i) {
    std::vector<Value> call{result, a.at(i)};
    if (arity >= 3) call.push_back(Num(static_cast<double>(i)));
    if (arity >= 4) call.push_back(a);
    OW_JSONATA_ASSIGN_OR_RETURN(result,
                                ev.Apply(fn, std::move(call), Value::Null()));
  }
  return result;
}

// ---- The table
// ---------------------------------------------------------------

struct Def {
  std::string_view name;
  std::string_view signature;
  BuiltinFn fn;
};

const Def kDefs[] = {
    {"sum", "<a<n>:n>", FnSum},
    {"count", "<a:n>", FnCount},
    {"max", "<a<n>:n>", FnMax},
    {"min", "<a<n>:n>", FnMin},
    {"average", "<a<n>:n>", FnAverage},
    {"string", "<x-b?:s>", FnString},
    {"substring", "<s-nn?:s>", FnSubstring},
    {"substringBefore", "<s-s:s>", FnSubstringBefore},
    {"substringAfter", "<s-s:s>", FnSubstringAfter},
    {"lowercase", "<s-:s>", FnLowercase},
    {"uppercase", "<s-:s>", FnUppercase},
    {"length", "<s-:n>", FnLength},
    {"trim", "<s-:s>", FnTrim},
    {"pad", "<s-ns?:s>", FnPad},
    {"match", "<s-f<s:o>n?:a<o>>", FnMatch},
    {"contains", "<s-(sf):b>", FnContains},
    {"replace", "<s-(sf)(sf)n?:s>", FnReplace},
    {"split", "<s-(sf)n?:a<s>>", FnSplit},
    {"join", "<a<s>s?:s>", FnJoin},
    {"formatNumber", "<n-so?:s>", FnFormatNumber},
    {"formatBase", "<n-n?:s>", FnFormatBase},
    {"formatInteger", "<n-s:s>", FnFormatInteger},
    {"parseInteger", "<s-s:n>", FnParseInteger},
    {"number", "<(nsb)-:n>", FnNumber},
    {"floor", "<n-:n>", FnFloor},
    {"ceil", "<n-:n>", FnCeil},
    {"round", "<n-n?:n>", FnRound},
    {"abs", "<n-:n>", FnAbs},
    {"sqrt", "<n-:n>", FnSqrt},
    {"power", "<n-n:n>", FnPower},
    {"random", "<:n>", FnRandom},
    {"boolean", "<x-:b>", FnBoolean},
    {"not", "<x-:b>", FnNot},
    {"map", "<af>", FnMap},
    {"zip", "<a+>", FnZip},
    {"filter", "<af>", FnFilter},
    {"single", "<af?>", FnSingle},
    {"reduce", "<afj?:j>", FnReduce},
    {"sift", "<o-f?:o>", FnSift},
    {"keys", "<x-:a<s>>", FnKeys},
    {"lookup", "<x-s:x>", FnLookup},
    {"append", "<xx:a>", FnAppend},
    {"exists", "<x:b>", FnExists},
    {"spread", "<x-:a<o>>", FnSpread},
    {"merge", "<a<o>:o>", FnMerge},
    {"reverse", "<a:a>", FnReverse},
    {"each", "<o-f:a>", FnEach},
    {"error", "<s?:x>", FnError},
    {"assert", "<bs?:x>", FnAssert},
    {"type", "<x:s>", FnType},
    {"sort", "<af?:a>", FnSort},
    {"shuffle", "<a:a>", FnShuffle},
    {"distinct", "<x:x>", FnDistinct},
    {"base64encode", "<s-:s>", FnBase64Encode},
    {"base64decode", "<s-:s>", FnBase64Decode},
    {"encodeUrlComponent", "<s-:s>", FnEncodeUrlComponent},
    {"encodeUrl", "<s-:s>", FnEncodeUrl},
    {"decodeUrlComponent", "<s-:s>", FnDecodeUrlComponent},
    {"decodeUrl", "<s-:s>", FnDecodeUrl},
    {"eval", "<sx?:x>", FnEval},
    {"toMillis", "<s-s?:n>", FnToMillis},
    {"fromMillis", "<n-s?s?:s>", FnFromMillis},
    {"now", "<s?s?:s>", FnNow},
    {"millis", "<:n>", FnMillis},
    {"clone", "<(oa)-:o>", FnClone},
};

struct Table {
  std::vector<std::unique_ptr<Builtin>> builtins;
  std::unordered_map<std::string_view, const Builtin*> by_name;
};

const Table& GetTable() {
  static const Table* table = [] {
    auto* t = new Table();
    for (const Def& d : kDefs) {
      auto b = std::make_unique<Builtin>();
      b->name = d.name;
      b->signature_text = d.signature;
      b->fn = d.fn;
      auto sig = Signature::Parse(d.signature, 0);
      if (sig.ok()) b->signature = std::move(sig).value();
      auto f = std::make_shared<Function>();
      f->kind = Function::Kind::kBuiltin;
      f->builtin = b.get();
      b->function = std::move(f);
      t->by_name.emplace(b->name, b.get());
      t->builtins.push_back(std::move(b));
    }
    return t;
  }();
  return *table;
}

}  // namespace

const Builtin* FindBuiltin(std::string_view name) {
  const Table& t = GetTable();
  auto it = t.by_name.find(name);
  return it == t.by_name.end() ? nullptr : it->second;
}

bool IsBuiltinFunctionName(std::string_view name) {
  return FindBuiltin(name) != nullptr;
}

std::optional<bool> ToBoolean(const Value& v) {
  switch (v.type()) {
    case Value::Type::kUndefined:
      return std::nullopt;
    case Value::Type::kNull:
      return false;
    case Value::Type::kBool:
      return v.boolean();
    case Value::Type::kNumber:
      return v.number() != 0;
    case Value::Type::kString:
      return !v.str().empty();
    case Value::Type::kObject:
      return v.ObjectSize() > 0;
    case Value::Type::kFunction:
      return false;
    case Value::Type::kArray: {
      // An array is true when any value nested in it is; walked with an
      // explicit stack, since input arrays may nest deeply.
      std::vector<std::pair<Value, size_t>> stack;
      stack.emplace_back(v, 0);
      while (!stack.empty()) {
        auto& [a, next] = stack.back();
        if (next >= a.size()) {
          stack.pop_back();
          continue;
        }
        Value item = a.at(next++);
        if (item.IsArray()) {
          stack.emplace_back(std::move(item), 0);
        } else if (ToBoolean(item).value_or(false)) {
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

}  // namespace onewindow::asl::jsonata::internal
