// Integer picture strings: analysis, formatting and parsing, and the
// $formatInteger and $parseInteger built-ins.
#include "engine/asl/jsonata/integer_picture.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>

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

}  // namespace

namespace {

const uint32_t kDecimalGroups[] = {
    0x30,   0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6,
    0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0,
    0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900,
    0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10};

int64_t Gcd(int64_t a, int64_t b) { return b == 0 ? a : Gcd(b, a % b); }

}  // namespace

absl::StatusOr<IntegerFormat> AnalyseIntegerPicture(
    const std::string& picture) {
  IntegerFormat f;
  std::string primary = picture;
  size_t semicolon = picture.rfind(';');
  if (semicolon != std::string::npos) {
    primary = picture.substr(0, semicolon);
    std::string modifier = picture.substr(semicolon + 1);
    if (!modifier.empty() && modifier[0] == 'o') f.ordinal = true;
  }
  if (primary == "A" || primary == "a") {
    f.primary = Primary::kLetters;
    f.text_case = primary == "A" ? Case::kUpper : Case::kLower;
    return f;
  }
  if (primary == "I" || primary == "i") {
    f.primary = Primary::kRoman;
    f.text_case = primary == "I" ? Case::kUpper : Case::kLower;
    return f;
  }
  if (primary == "W" || primary == "w" || primary == "Ww") {
    f.primary = Primary::kWords;
    f.text_case = primary == "W"   ? Case::kUpper
                  : primary == "w" ? Case::kLower
                                   : Case::kTitle;
    return f;
  }
  std::vector<uint32_t> cps;
  for (size_t i = 0; i < primary.size();)
    cps.push_back(DecodeUtf8(primary, &i));
  std::optional<uint32_t> zero;
  size_t position = 0;
  std::vector<Separator> seps;
  for (auto it = cps.rbegin(); it != cps.rend(); ++it) {
    uint32_t cp = *it;
    bool digit = false;
    for (uint32_t group : kDecimalGroups) {
      if (cp >= group && cp <= group + 9) {
        digit = true;
        ++f.mandatory_digits;
        ++position;
        if (!zero.has_value()) {
          zero = group;
        } else if (*zero != group) {
          return Error("D3131",
                       "In a decimal digit pattern, all digits must be from "
                       "the same decimal group");
        }
        break;
      }
    }
    if (!digit) {
      if (cp == '#') {
        ++position;
        ++f.optional_digits;
      } else {
        std::string ch;
        AppendUtf8(cp, &ch);
        seps.push_back({position, ch});
      }
    }
  }
  if (f.mandatory_digits == 0) {
    f.primary = Primary::kSequence;
    f.token = primary;
    return f;
  }
  f.primary = Primary::kDecimal;
  f.zero_code = *zero;
  // Regular grouping: one character at multiples of one interval.
  int64_t factor = 0;
  if (!seps.empty()) {
    bool same = true;
    for (const auto& s : seps) same = same && s.character == seps[0].character;
    if (same) {
      int64_t g = static_cast<int64_t>(seps[0].position);
      for (const auto& s : seps) g = Gcd(g, static_cast<int64_t>(s.position));
      factor = g;
      for (size_t k = 1; k <= seps.size() && factor > 0; ++k) {
        bool found = false;
        for (const auto& s : seps)
          found = found || static_cast<int64_t>(s.position) ==
                               static_cast<int64_t>(k) * g;
        if (!found) factor = 0;
      }
    }
  }
  if (factor > 0) {
    f.regular = true;
    f.separators = {{static_cast<size_t>(factor), seps[0].character}};
  } else {
    f.separators = seps;
  }
  return f;
}

namespace {

const char* const kFew[] = {"Zero",    "One",       "Two",      "Three",
                            "Four",    "Five",      "Six",      "Seven",
                            "Eight",   "Nine",      "Ten",      "Eleven",
                            "Twelve",  "Thirteen",  "Fourteen", "Fifteen",
                            "Sixteen", "Seventeen", "Eighteen", "Nineteen"};
const char* const kOrdinals[] = {
    "Zeroth",    "First",     "Second",      "Third",      "Fourth",
    "Fifth",     "Sixth",     "Seventh",     "Eighth",     "Ninth",
    "Tenth",     "Eleventh",  "Twelfth",     "Thirteenth", "Fourteenth",
    "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"};
const char* const kDecades[] = {"Twenty", "Thirty", "Forty",
                                "Fifty",  "Sixty",  "Seventy",
                                "Eighty", "Ninety", "Hundred"};
const char* const kMagnitudes[] = {"Thousand", "Million", "Billion",
                                   "Trillion"};

std::string NumberToWords(double num, bool prev, bool ord) {
  std::string words;
  if (num <= 19) {
    int n = static_cast<int>(num);
    words = std::string(prev ? " and " : "") + (ord ? kOrdinals[n] : kFew[n]);
  } else if (num < 100) {
    int tens = static_cast<int>(num) / 10, rem = static_cast<int>(num) % 10;
    words = std::string(prev ? " and " : "") + kDecades[tens - 2];
    if (rem > 0) {
      words += "-" + NumberToWords(rem, false, ord);
    } else if (ord) {
      words = words.substr(0, words.size() - 1) + "ieth";
    }
  } else if (num < 1000) {
    int hundreds = static_cast<int>(num) / 100,
        rem = static_cast<int>(num) % 100;
    words = std::string(prev ? ", " : "") + kFew[hundreds] + " Hundred";
    if (rem > 0) {
      words += NumberToWords(rem, true, ord);
    } else if (ord) {
      words += "th";
    }
  } else {
    // Beyond trillions the largest word repeats: ten billion trillion...
    int mag = static_cast<int>(std::floor(std::log10(num) / 3));
    if (mag > 4) mag = 4;
    double factor = std::pow(10, mag * 3);
    double mant = std::floor(num / factor);
    double rem = num - mant * factor;
    words = std::string(prev ? ", " : "") + NumberToWords(mant, false, false) +
            " " + kMagnitudes[mag - 1];
    if (rem > 0) {
      words += NumberToWords(rem, true, ord);
    } else if (ord) {
      words += "th";
    }
  }
  return words;
}

}  // namespace

std::string ToUpperAscii(std::string s) {
  for (char& c : s)
    c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string ToLowerAscii(std::string s) {
  for (char& c : s)
    c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  return s;
}

absl::StatusOr<std::string> FormatIntegerWith(double value,
                                              const IntegerFormat& f) {
  if (!std::isfinite(value)) {
    return Error("D1001",
                 absl::StrCat("Number out of range: ", FormatJsNumber(value)));
  }
  bool negative = value < 0;
  double v = std::fabs(value);
  std::string out;
  switch (f.primary) {
    case Primary::kLetters: {
      if (v > 1e12)
        return Error("U1005", "Number too large to format as letters");
      int64_t n = static_cast<int64_t>(v);
      char a = f.text_case == Case::kUpper ? 'A' : 'a';
      while (n > 0) {
        out.insert(out.begin(), static_cast<char>((n - 1) % 26 + a));
        n = (n - 1) / 26;
      }
      break;
    }
    case Primary::kRoman: {
      if (v > 1e6)
        return Error("U1005", "Number too large to format as a roman numeral");
      static const std::pair<int64_t, const char*> kRoman[] = {
          {1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"},
          {90, "xc"},  {50, "l"},   {40, "xl"}, {10, "x"},   {9, "ix"},
          {5, "v"},    {4, "iv"},   {1, "i"}};
      int64_t n = static_cast<int64_t>(v);
      for (const auto& [val, letters] : kRoman) {
        while (n >= val) {
          out += letters;
          n -= val;
        }
      }
      if (f.text_case == Case::kUpper) out = ToUpperAscii(out);
      break;
    }
    case Primary::kWords: {
      out = NumberToWords(std::floor(v), false, f.ordinal);
      if (f.text_case == Case::kUpper) out = ToUpperAscii(out);
      if (f.text_case == Case::kLower) out = ToLowerAscii(out);
      break;
    }
    case Primary::kDecimal: {
      if (f.mandatory_digits > 10000) {
        return Error("U1005",
                     "A picture string asks for more than 10000 digits");
      }
      out = FormatJsNumber(v);
      if (static_cast<int>(out.size()) < f.mandatory_digits) {
        out.insert(0, static_cast<size_t>(f.mandatory_digits) - out.size(),
                   '0');
      }
      if (f.zero_code != '0') {
        std::string mapped;
        for (char c : out) {
          if (c >= '0' && c <= '9') {
            AppendUtf8(f.zero_code + static_cast<uint32_t>(c - '0'), &mapped);
          } else {
            mapped.push_back(c);
          }
        }
        out = mapped;
      }
      std::vector<std::string_view> cps = CodePoints(out);
      std::vector<std::string> chars(cps.begin(), cps.end());
      if (f.regular && !f.separators.empty()) {
        size_t interval = f.separators[0].position;
        size_t groups = (chars.size() - 1) / interval;
        for (size_t g = groups; g > 0; --g) {
          size_t pos = chars.size() - g * interval;
          chars.insert(chars.begin() + static_cast<ptrdiff_t>(pos),
                       f.separators[0].character);
        }
      } else {
        for (auto it = f.separators.rbegin(); it != f.separators.rend(); ++it) {
          if (it->position > chars.size()) continue;
          size_t pos = chars.size() - it->position;
          chars.insert(chars.begin() + static_cast<ptrdiff_t>(pos),
                       it->character);
        }
      }
      out.clear();
      for (const auto& c : chars) out += c;
      if (f.ordinal) {
        char last = out.empty() ? '0' : out.back();
        const char* suffix = last == '1'   ? "st"
                             : last == '2' ? "nd"
                             : last == '3' ? "rd"
                                           : "th";
        if (out.size() > 1 && out[out.size() - 2] == '1') suffix = "th";
        out += suffix;
      }
      break;
    }
    case Primary::kSequence:
      return Error(
          "D3130",
          absl::StrCat(
              "Formatting or parsing an integer as a sequence starting with ",
              Quote(f.token), " is not supported by this implementation"));
  }
  if (negative) out = "-" + out;
  return out;
}

// A regular expression (PCRE2 syntax) matching a formatted integer, and
// its parser.
std::string EscapeRegex(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::strchr(".*+?^${}()|[]\\/", c) != nullptr) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

namespace {

std::map<std::string, int64_t> WordValues() {
  std::map<std::string, int64_t> m;
  for (int i = 0; i < 20; ++i) {
    m[ToLowerAscii(kFew[i])] = i;
    m[ToLowerAscii(kOrdinals[i])] = i;
  }
  for (int i = 0; i < 9; ++i) {
    std::string d = ToLowerAscii(kDecades[i]);
    int64_t v = i == 8 ? 100 : (i + 2) * 10;
    m[d] = v;
    m[d.substr(0, d.size() - 1) + "ieth"] = v;
  }
  m["hundredth"] = 100;
  int64_t mag = 1000;
  for (int i = 0; i < 4; ++i) {
    std::string w = ToLowerAscii(kMagnitudes[i]);
    m[w] = mag;
    m[w + "th"] = mag;
    mag *= 1000;
  }
  return m;
}

}  // namespace

std::string IntegerRegex(const IntegerFormat& f,
                         std::optional<int> fixed_width) {
  switch (f.primary) {
    case Primary::kLetters:
      return "[a-zA-Z]+";
    case Primary::kRoman:
      return "[MDCLXVImdclxvi]+";
    case Primary::kWords: {
      std::string r = "(?:";
      for (const auto& [w, v] : WordValues()) r += w + "|";
      return r + "and|[\\-, ])+";
    }
    default: {
      std::string r;
      if (fixed_width.has_value() && f.separators.empty() &&
          f.zero_code == '0') {
        r = "[0-9]{" + std::to_string(*fixed_width) + "}";
      } else {
        r = "[0-9";
        for (const auto& s : f.separators) r += EscapeRegex(s.character);
        if (f.zero_code != '0') {
          std::string lo, hi;
          AppendUtf8(f.zero_code, &lo);
          AppendUtf8(f.zero_code + 9, &hi);
          r += lo + "-" + hi;
        }
        r += "]+";
      }
      if (f.ordinal) r += "(?:th|st|nd|rd)";
      return r;
    }
  }
}

std::optional<double> ParseIntegerText(std::string text,
                                       const IntegerFormat& f) {
  switch (f.primary) {
    case Primary::kLetters: {
      double v = 0;
      std::string t = ToLowerAscii(text);
      for (size_t i = 0; i < t.size(); ++i) v = v * 26 + (t[i] - 'a' + 1);
      return v;
    }
    case Primary::kRoman: {
      std::string t = ToUpperAscii(text);
      auto val = [](char c) {
        switch (c) {
          case 'M':
            return 1000;
          case 'D':
            return 500;
          case 'C':
            return 100;
          case 'L':
            return 50;
          case 'X':
            return 10;
          case 'V':
            return 5;
          case 'I':
            return 1;
          default:
            return 0;
        }
      };
      double dec = 0;
      int max = 1;
      for (size_t i = t.size(); i > 0; --i) {
        int v = val(t[i - 1]);
        if (v < max) {
          dec -= v;
        } else {
          max = v;
          dec += v;
        }
      }
      return dec;
    }
    case Primary::kWords: {
      static const std::map<std::string, int64_t> kValues = WordValues();
      std::string t = ToLowerAscii(text);
      std::vector<std::string> parts;
      std::string cur;
      for (size_t i = 0; i < t.size(); ++i) {
        if (t.compare(i, 5, " and ") == 0) {
          parts.push_back(cur);
          cur.clear();
          i += 4;
        } else if (t[i] == ' ' || t[i] == '-' || t[i] == ',') {
          parts.push_back(cur);
          cur.clear();
          if (t[i] == ',' && i + 1 < t.size() && t[i + 1] == ' ') ++i;
        } else {
          cur.push_back(t[i]);
        }
      }
      parts.push_back(cur);
      std::vector<double> segs{0};
      for (const auto& p : parts) {
        auto it = kValues.find(p);
        if (it == kValues.end()) continue;
        double value = static_cast<double>(it->second);
        if (value < 100) {
          double top = segs.back();
          segs.pop_back();
          if (top >= 1000) {
            segs.push_back(top);
            top = 0;
          }
          segs.push_back(top + value);
        } else {
          double top = segs.back();
          segs.pop_back();
          segs.push_back(top * value);
        }
      }
      double sum = 0;
      for (double s : segs) sum += s;
      return sum;
    }
    case Primary::kDecimal: {
      if (f.ordinal && text.size() >= 2) text.resize(text.size() - 2);
      std::string digits;
      for (size_t i = 0; i < text.size();) {
        uint32_t cp = DecodeUtf8(text, &i);
        if (cp >= f.zero_code && cp <= f.zero_code + 9) {
          digits.push_back(static_cast<char>('0' + (cp - f.zero_code)));
        } else if (cp >= '0' && cp <= '9') {
          digits.push_back(static_cast<char>(cp));
        }
      }
      if (digits.empty()) return std::nullopt;
      return std::strtod(digits.c_str(), nullptr);
    }
    case Primary::kSequence:
      return std::nullopt;
  }
  return std::nullopt;
}

absl::StatusOr<Value> FnFormatInteger(Evaluator& ev, const Args& args,
                                      const Value&) {
  Value v = Arg(args, 0);
  if (v.IsUndefined()) return Value();
  OW_JSONATA_ASSIGN_OR_RETURN(IntegerFormat f,
                              AnalyseIntegerPicture(Arg(args, 1).str()));
  double x = std::floor(v.number());
  if (f.primary == Primary::kDecimal &&
      static_cast<double>(f.mandatory_digits) >
          static_cast<double>(ev.limits().max_string_bytes)) {
    return Error("U1005",
                 "Picture string asks for more digits than the string limit");
  }
  OW_JSONATA_ASSIGN_OR_RETURN(std::string s, FormatIntegerWith(x, f));
  OW_JSONATA_RETURN_IF_ERROR(ev.CheckString(s.size()));
  return Value::String(std::move(s));
}

absl::StatusOr<Value> FnParseInteger(Evaluator&, const Args& args,
                                     const Value&) {
  Value v = Arg(args, 0);
  if (v.IsUndefined()) return Value();
  OW_JSONATA_ASSIGN_OR_RETURN(IntegerFormat f,
                              AnalyseIntegerPicture(Arg(args, 1).str()));
  if (f.primary == Primary::kSequence) {
    return Error(
        "D3130",
        absl::StrCat(
            "Formatting or parsing an integer as a sequence starting with ",
            Quote(f.token), " is not supported by this implementation"));
  }
  auto r = ParseIntegerText(v.str(), f);
  if (!r.has_value()) return Value();
  return Value::Number(*r);
}

}  // namespace onewindow::asl::jsonata::internal
