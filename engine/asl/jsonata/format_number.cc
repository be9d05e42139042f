// $formatNumber: decimal picture strings (XPath F&O 3.1 format-number, as
// JSONata implements it), with the decimal-format properties that the
// optional third argument may override.
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/evaluator.h"
#include "engine/asl/jsonata/functions.h"

namespace onewindow::asl::jsonata::internal {

namespace {

// Pictures are handled as sequences of code points (one string each).
using Chars = std::vector<std::string>;

Chars ToChars(std::string_view s) {
  Chars out;
  for (std::string_view cp : CodePoints(s)) out.emplace_back(cp);
  return out;
}

std::string Join(const Chars& c, size_t from = 0,
                 size_t to = std::string::npos) {
  std::string out;
  to = std::min(to, c.size());
  for (size_t i = from; i < to; ++i) out += c[i];
  return out;
}

int64_t Find(const Chars& c, const std::string& x, size_t from = 0) {
  for (size_t i = from; i < c.size(); ++i) {
    if (c[i] == x) return static_cast<int64_t>(i);
  }
  return -1;
}

int64_t FindLast(const Chars& c, const std::string& x) {
  for (size_t i = c.size(); i > 0; --i) {
    if (c[i - 1] == x) return static_cast<int64_t>(i - 1);
  }
  return -1;
}

// Positions of a property value (which may be several characters, as
// "pm") in the picture text, as String.prototype.indexOf finds them.
int64_t FindText(const Chars& c, const std::string& x) {
  size_t at = Join(c).find(x);
  return at == std::string::npos ? -1 : static_cast<int64_t>(at);
}

int64_t FindLastText(const Chars& c, const std::string& x) {
  size_t at = Join(c).rfind(x);
  return at == std::string::npos ? -1 : static_cast<int64_t>(at);
}

struct Props {
  std::string decimal = ".", grouping = ",", exponent = "e",
              infinity = "Infinity", minus = "-", nan = "NaN", percent = "%",
              per_mille = "\u2030", zero = "0", digit = "#", pattern = ";";
  std::vector<std::string> family;  // the ten decimal digits

  bool IsDigit(const std::string& c) const {
    for (const auto& d : family) {
      if (d == c) return true;
    }
    return false;
  }
  bool IsActive(const std::string& c) const {
    return IsDigit(c) || c == decimal || c == exponent || c == grouping ||
           c == digit || c == pattern;
  }
};

struct Parts {
  Chars prefix, suffix, active, mantissa, integer, fractional, sub;
  bool has_exponent = false;
  Chars exponent;
};

Parts SplitParts(const Chars& sub, const Props& p) {
  Parts parts;
  parts.sub = sub;
  size_t pre = sub.size();
  for (size_t i = 0; i < sub.size(); ++i) {
    if (p.IsActive(sub[i]) && sub[i] != p.exponent) {
      pre = i;
      break;
    }
  }
  size_t suf_start = sub.size();
  for (size_t i = sub.size(); i > 0; --i) {
    if (p.IsActive(sub[i - 1]) && sub[i - 1] != p.exponent) {
      suf_start = i;
      break;
    }
  }
  // Without any active character the whole sub-picture is the active part
  // (and fails validation with D3086).
  if (pre == sub.size()) {
    pre = 0;
    suf_start = sub.size();
  }
  parts.prefix = Chars(sub.begin(), sub.begin() + static_cast<ptrdiff_t>(pre));
  parts.suffix =
      Chars(sub.begin() + static_cast<ptrdiff_t>(std::max(pre, suf_start)),
            sub.end());
  parts.active =
      Chars(sub.begin() + static_cast<ptrdiff_t>(pre),
            sub.begin() + static_cast<ptrdiff_t>(std::max(pre, suf_start)));
  int64_t epos = Find(sub, p.exponent, pre);
  if (epos == -1 || epos > static_cast<int64_t>(suf_start)) {
    parts.mantissa = parts.active;
  } else {
    size_t rel = static_cast<size_t>(epos) - pre;
    parts.mantissa = Chars(parts.active.begin(),
                           parts.active.begin() + static_cast<ptrdiff_t>(rel));
    parts.exponent =
        Chars(parts.active.begin() + static_cast<ptrdiff_t>(rel + 1),
              parts.active.end());
    parts.has_exponent = true;
  }
  int64_t dpos = Find(parts.mantissa, p.decimal);
  if (dpos == -1) {
    parts.integer = parts.mantissa;
    parts.fractional = parts.suffix;
  } else {
    parts.integer =
        Chars(parts.mantissa.begin(), parts.mantissa.begin() + dpos);
    parts.fractional =
        Chars(parts.mantissa.begin() + dpos + 1, parts.mantissa.end());
  }
  return parts;
}

absl::Status Validate(const Parts& parts, const Props& p) {
  const Chars& sub = parts.sub;
  const char* code = nullptr;
  const char* msg = nullptr;
  auto fail = [&](const char* c, const char* m) {
    code = c;
    msg = m;
  };
  int64_t dpos = Find(sub, p.decimal);
  if (dpos != FindLast(sub, p.decimal)) {
    fail("D3081",
         "The sub-picture must not contain more than one instance of the "
         "'decimal-separator' character");
  }
  if (FindText(sub, p.percent) != FindLastText(sub, p.percent)) {
    fail("D3082",
         "The sub-picture must not contain more than one instance of the "
         "'percent' character");
  }
  if (FindText(sub, p.per_mille) != FindLastText(sub, p.per_mille)) {
    fail("D3083",
         "The sub-picture must not contain more than one instance of the "
         "'per-mille' character");
  }
  if (FindText(sub, p.percent) != -1 && FindText(sub, p.per_mille) != -1) {
    fail("D3084",
         "The sub-picture must not contain both a 'percent' and a 'per-mille' "
         "character");
  }
  bool valid = false;
  for (const auto& c : parts.mantissa)
    valid = valid || p.IsDigit(c) || c == p.digit;
  if (!valid) {
    fail("D3085",
         "The mantissa part of a sub-picture must contain at least one "
         "character that is "
         "either an 'optional digit character' or a member of the 'decimal "
         "digit family'");
  }
  for (const auto& c : parts.active) {
    if (!p.IsActive(c)) {
      fail("D3086",
           "The sub-picture must not contain a passive character that is "
           "preceded by an "
           "active character and that is followed by another active character");
    }
  }
  if (dpos != -1) {
    if ((dpos > 0 && sub[static_cast<size_t>(dpos - 1)] == p.grouping) ||
        (static_cast<size_t>(dpos + 1) < sub.size() &&
         sub[static_cast<size_t>(dpos + 1)] == p.grouping)) {
      fail("D3087",
           "The sub-picture must not contain a 'grouping-separator' character "
           "that appears "
           "adjacent to a 'decimal-separator' character");
    }
  } else if (!parts.integer.empty() && parts.integer.back() == p.grouping) {
    fail("D3088",
         "The sub-picture must not contain a 'grouping-separator' at the end "
         "of the integer part");
  }
  for (size_t i = 0; i + 1 < sub.size(); ++i) {
    if (sub[i] == p.grouping && sub[i + 1] == p.grouping) {
      fail("D3089",
           "The sub-picture must not contain two adjacent instances of the "
           "'grouping-separator' character");
    }
  }
  int64_t opt = Find(parts.integer, p.digit);
  if (opt != -1) {
    for (int64_t i = 0; i < opt; ++i) {
      if (p.IsDigit(parts.integer[static_cast<size_t>(i)])) {
        fail("D3090",
             "The integer part of the sub-picture must not contain a member of "
             "the 'decimal "
             "digit family' that is followed by an instance of the 'optional "
             "digit character'");
      }
    }
  }
  opt = FindLast(parts.fractional, p.digit);
  if (opt != -1) {
    for (size_t i = static_cast<size_t>(opt); i < parts.fractional.size();
         ++i) {
      if (p.IsDigit(parts.fractional[i])) {
        fail("D3091",
             "The fractional part of the sub-picture must not contain an "
             "instance of the "
             "'optional digit character' that is followed by a member of the "
             "'decimal digit family'");
      }
    }
  }
  if (parts.has_exponent && !parts.exponent.empty() &&
      (FindText(sub, p.percent) != -1 || FindText(sub, p.per_mille) != -1)) {
    fail("D3092",
         "A sub-picture that contains a 'percent' or 'per-mille' character "
         "must not contain "
         "a character treated as an 'exponent-separator'");
  }
  if (parts.has_exponent) {
    bool bad = parts.exponent.empty();
    for (const auto& c : parts.exponent) bad = bad || !p.IsDigit(c);
    if (bad) {
      fail("D3093",
           "The exponent part of the sub-picture must comprise only of one or "
           "more "
           "characters that are members of the 'decimal digit family'");
    }
  }
  if (code != nullptr) return Error(code, msg);
  return absl::OkStatus();
}

struct Pic {
  std::vector<int64_t> integer_groups;
  int64_t regular = 0;
  std::vector<int64_t> fraction_groups;
  int64_t min_int = 0, scaling = 0, min_frac = 0, max_frac = 0, min_exp = 0;
  bool has_exponent = false;
  std::string prefix, suffix;
  Chars picture;
};

int64_t Gcd(int64_t a, int64_t b) { return b == 0 ? a : Gcd(b, a % b); }

Pic Analyse(const Parts& parts, const Props& p) {
  Pic pic;
  auto digits_or_optional = [&](const Chars& c, size_t from, size_t to) {
    int64_t n = 0;
    for (size_t i = from; i < to && i < c.size(); ++i)
      n += (p.IsDigit(c[i]) || c[i] == p.digit) ? 1 : 0;
    return n;
  };
  // Grouping positions in the integer part (counted from the right) and in
  // the fractional part (counted from the left).
  for (int64_t g = Find(parts.integer, p.grouping); g != -1;
       g = Find(parts.integer, p.grouping, static_cast<size_t>(g) + 1)) {
    pic.integer_groups.push_back(digits_or_optional(
        parts.integer, static_cast<size_t>(g), parts.integer.size()));
  }
  for (int64_t g = Find(parts.fractional, p.grouping); g != -1;
       g = Find(parts.fractional, p.grouping, static_cast<size_t>(g) + 1)) {
    pic.fraction_groups.push_back(
        digits_or_optional(parts.fractional, 0, static_cast<size_t>(g)));
  }
  if (!pic.integer_groups.empty()) {
    int64_t f = pic.integer_groups[0];
    for (int64_t x : pic.integer_groups) f = Gcd(f, x);
    bool regular = f > 0;
    for (size_t k = 1; k <= pic.integer_groups.size() && regular; ++k) {
      bool found = false;
      for (int64_t x : pic.integer_groups)
        found = found || x == static_cast<int64_t>(k) * f;
      regular = found;
    }
    pic.regular = regular ? f : 0;
  }
  for (const auto& c : parts.integer) pic.min_int += p.IsDigit(c) ? 1 : 0;
  pic.scaling = pic.min_int;
  for (const auto& c : parts.fractional) {
    pic.min_frac += p.IsDigit(c) ? 1 : 0;
    pic.max_frac += (p.IsDigit(c) || c == p.digit) ? 1 : 0;
  }
  pic.has_exponent = parts.has_exponent;
  if (pic.min_int == 0 && pic.max_frac == 0) {
    if (pic.has_exponent) {
      pic.min_frac = 1;
      pic.max_frac = 1;
    } else {
      pic.min_int = 1;
    }
  }
  if (pic.has_exponent && pic.min_int == 0 &&
      Find(parts.integer, p.digit) != -1)
    pic.min_int = 1;
  if (pic.min_int == 0 && pic.min_frac == 0) pic.min_frac = 1;
  if (pic.has_exponent) {
    for (const auto& c : parts.exponent) pic.min_exp += p.IsDigit(c) ? 1 : 0;
  }
  pic.prefix = Join(parts.prefix);
  pic.suffix = Join(parts.suffix);
  pic.picture = parts.sub;
  return pic;
}

// $round's half-to-even rounding to `dp` decimal places.
double RoundHalfEven(double x, int64_t dp) {
  auto shift = [](double v, int64_t places) {
    std::string s = FormatJsNumber(v);
    size_t e = s.find('e');
    std::string mant = e == std::string::npos ? s : s.substr(0, e);
    int64_t exp = e == std::string::npos ? 0 : std::atoll(s.c_str() + e + 1);
    return std::strtod((mant + "e" + std::to_string(exp + places)).c_str(),
                       nullptr);
  };
  double v = dp != 0 ? shift(x, dp) : x;
  double r = std::floor(v + 0.5);
  if (std::fabs(r - v) == 0.5 && std::fabs(std::fmod(r, 2)) == 1) r -= 1;
  if (dp != 0) r = shift(r, -dp);
  return r == 0 ? 0 : r;
}

}  // namespace

absl::StatusOr<Value> FnFormatNumber(Evaluator& ev,
                                     const std::vector<Value>& args,
                                     const Value&) {
  Value value = args.size() > 0 ? args[0] : Value();
  if (value.IsUndefined()) return Value();
  Props p;
  if (args.size() > 2 && args[2].IsObject()) {
    absl::Status bad;
    args[2].ForEachMember([&](std::string_view k, const Value& v) {
      if (!v.IsString()) return;
      std::string s = v.str();
      if (k == "decimal-separator")
        p.decimal = s;
      else if (k == "grouping-separator")
        p.grouping = s;
      else if (k == "exponent-separator")
        p.exponent = s;
      else if (k == "infinity")
        p.infinity = s;
      else if (k == "minus-sign")
        p.minus = s;
      else if (k == "NaN")
        p.nan = s;
      else if (k == "percent")
        p.percent = s;
      else if (k == "per-mille")
        p.per_mille = s;
      else if (k == "zero-digit")
        p.zero = s;
      else if (k == "digit")
        p.digit = s;
      else if (k == "pattern-separator")
        p.pattern = s;
    });
  }
  size_t zi = 0;
  uint32_t zero_cp = p.zero.empty() ? '0' : DecodeUtf8(p.zero, &zi);
  for (uint32_t d = 0; d < 10; ++d) {
    std::string s;
    AppendUtf8(zero_cp + d, &s);
    p.family.push_back(s);
  }
  Chars picture =
      ToChars(args.size() > 1 && args[1].IsString() ? args[1].str() : "");
  std::vector<Chars> subs(1);
  for (const auto& c : picture) {
    if (c == p.pattern) {
      subs.emplace_back();
    } else {
      subs.back().push_back(c);
    }
  }
  if (subs.size() > 2) {
    return Error(
        "D3080",
        "The picture string must only contain a maximum of two sub-pictures");
  }
  std::vector<Parts> parts;
  for (const auto& s : subs) parts.push_back(SplitParts(s, p));
  for (const auto& pt : parts) OW_JSONATA_RETURN_IF_ERROR(Validate(pt, p));
  std::vector<Pic> pics;
  for (const auto& pt : parts) pics.push_back(Analyse(pt, p));
  if (pics.size() == 1) {
    pics.push_back(pics[0]);
    pics[1].prefix = p.minus + pics[1].prefix;
  }
  double x = value.number();
  const Pic& pic = x >= 0 ? pics[0] : pics[1];
  double adjusted = x;
  if (FindText(pic.picture, p.percent) != -1) {
    adjusted = x * 100;
  } else if (FindText(pic.picture, p.per_mille) != -1) {
    adjusted = x * 1000;
  }
  double mantissa = adjusted;
  std::optional<int64_t> exponent;
  if (pic.min_exp != 0) {
    double max_m = std::pow(10, pic.scaling);
    double min_m = std::pow(10, pic.scaling - 1);
    int64_t e = 0;
    if (mantissa != 0) {
      for (int guard = 0; std::fabs(mantissa) < min_m && guard < 400; ++guard) {
        mantissa *= 10;
        --e;
      }
      for (int guard = 0; std::fabs(mantissa) > max_m && guard < 400; ++guard) {
        mantissa /= 10;
        ++e;
      }
    }
    exponent = e;
  }
  if (pic.max_frac > 100 || pic.min_int > 1000) {
    return Error("U1005", "The picture string asks for too many digits");
  }
  double rounded = RoundHalfEven(mantissa, pic.max_frac);
  auto make_string = [&](double v, int64_t dp) {
    char buf[512];
    double a = std::fabs(v);
    std::string s;
    if (a >= 1e21) {
      s = FormatJsNumber(a);
    } else {
      std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(dp), a);
      s = buf;
    }
    if (p.zero != "0") {
      std::string mapped;
      for (char c : s) {
        if (c >= '0' && c <= '9') {
          mapped += p.family[static_cast<size_t>(c - '0')];
        } else {
          mapped.push_back(c);
        }
      }
      s = mapped;
    }
    return ToChars(s);
  };
  Chars str = make_string(rounded, pic.max_frac);
  int64_t dot = Find(str, ".");
  if (dot == -1) {
    str.push_back(p.decimal);
  } else {
    str[static_cast<size_t>(dot)] = p.decimal;
  }
  while (!str.empty() && str.front() == p.zero) str.erase(str.begin());
  while (!str.empty() && str.back() == p.zero) str.pop_back();
  int64_t dpos = Find(str, p.decimal);
  int64_t pad_left = pic.min_int - dpos;
  int64_t pad_right =
      pic.min_frac - (static_cast<int64_t>(str.size()) - dpos - 1);
  if (pad_left > 0)
    str.insert(str.begin(), static_cast<size_t>(pad_left), p.zero);
  if (pad_right > 0)
    str.insert(str.end(), static_cast<size_t>(pad_right), p.zero);
  dpos = Find(str, p.decimal);
  if (pic.regular > 0) {
    int64_t groups = (dpos - 1) / pic.regular;
    for (int64_t g = 1; g <= groups; ++g) {
      str.insert(str.begin() + (dpos - g * pic.regular), p.grouping);
    }
  } else {
    for (int64_t pos : pic.integer_groups) {
      if (pos <= dpos) {
        str.insert(str.begin() + (dpos - pos), p.grouping);
        ++dpos;
      }
    }
  }
  dpos = Find(str, p.decimal);
  for (int64_t pos : pic.fraction_groups) {
    size_t at = static_cast<size_t>(pos + dpos + 1);
    if (at <= str.size())
      str.insert(str.begin() + static_cast<ptrdiff_t>(at), p.grouping);
  }
  dpos = Find(str, p.decimal);
  if (pic.max_frac == 0 || dpos == static_cast<int64_t>(str.size()) - 1) {
    if (dpos != -1) str.erase(str.begin() + dpos);
  }
  std::string out = Join(str);
  if (exponent.has_value()) {
    Chars e = make_string(static_cast<double>(*exponent), 0);
    int64_t pad = pic.min_exp - static_cast<int64_t>(e.size());
    std::string es;
    for (int64_t i = 0; i < pad; ++i) es += p.zero;
    es += Join(e);
    out += p.exponent + (*exponent < 0 ? p.minus : "") + es;
  }
  out = pic.prefix + out + pic.suffix;
  OW_JSONATA_RETURN_IF_ERROR(ev.CheckString(out.size()));
  return Value::String(std::move(out));
}

}  // namespace onewindow::asl::jsonata::internal
