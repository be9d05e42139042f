// JSONata's string built-ins: $string, $length, $substring.., case, $trim,
// $pad, $contains, $split, $join, $match, $replace, and the encodings
// (base64, URL).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/evaluator.h"
#include "engine/asl/jsonata/functions.h"

namespace onewindow::asl::jsonata::internal {

namespace {

using Args = std::vector<Value>;

Value Arg(const Args& args, size_t i) {
  return i < args.size() ? args[i] : Value();
}

Value Str(std::string s) { return Value::String(std::move(s)); }

Value Num(double d) { return Value::Number(d); }

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
  if (token.IsUndefined()) return Value();
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
    // String.prototype.split truncates a fractional limit.
    if (lim.IsNumber())
      limit = static_cast<size_t>(std::min(1e15, std::floor(lim.number())));
    if (limit.has_value() && *limit == 0) return Value::Array(std::move(out));
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

const BuiltinDef kStringDefs[] = {
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
    {"base64encode", "<s-:s>", FnBase64Encode},
    {"base64decode", "<s-:s>", FnBase64Decode},
    {"encodeUrlComponent", "<s-:s>", FnEncodeUrlComponent},
    {"encodeUrl", "<s-:s>", FnEncodeUrl},
    {"decodeUrlComponent", "<s-:s>", FnDecodeUrlComponent},
    {"decodeUrl", "<s-:s>", FnDecodeUrl},
};

}  // namespace

std::span<const BuiltinDef> StringBuiltins() { return kStringDefs; }

}  // namespace onewindow::asl::jsonata::internal
