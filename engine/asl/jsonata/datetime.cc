// Date/time functions of JSONata: $now, $millis, $fromMillis, $toMillis
// (XPath F&O 3.1 date/time picture strings as JSONata implements them). Dates
// are proleptic Gregorian in UTC, shifted by an optional "+hhmm" timezone.
#include <cmath>
#include <cstdlib>
#include <map>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/evaluator.h"
#include "engine/asl/jsonata/functions.h"
#include "engine/asl/jsonata/integer_picture.h"
#include "engine/asl/jsonata/regex.h"

namespace onewindow::asl::jsonata::internal {

namespace {

using Args = std::vector<Value>;

Value Arg(const Args& args, size_t i) {
  return i < args.size() ? args[i] : Value();
}

constexpr int64_t kDayMs = 86400000;
// JavaScript dates cover +-8.64e15 ms around the epoch.
constexpr double kMaxMillis = 8.64e15;

// ---- Civil calendar
// ----------------------------------------------------------

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int64_t* m, int64_t* d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yy + (*m <= 2 ? 1 : 0);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

// Date.UTC with month 0-based and overflow normalised like JavaScript.
int64_t UtcMillis(int64_t y, int64_t mon0, int64_t d, int64_t h, int64_t mi,
                  int64_t s, int64_t ms) {
  y += FloorDiv(mon0, 12);
  mon0 -= FloorDiv(mon0, 12) * 12;
  int64_t days = DaysFromCivil(y, mon0 + 1, 1) + d - 1;
  return days * kDayMs + h * 3600000 + mi * 60000 + s * 1000 + ms;
}

struct DateParts {
  int64_t year, month, day;  // month 1-12
  int64_t hour, minute, second, millis;
  int64_t weekday;  // 1 = Monday .. 7 = Sunday
  int64_t epoch_day;
};

DateParts Split(int64_t ms) {
  DateParts p;
  int64_t day = FloorDiv(ms, kDayMs);
  int64_t rem = ms - day * kDayMs;
  CivilFromDays(day, &p.year, &p.month, &p.day);
  p.hour = rem / 3600000;
  p.minute = rem / 60000 % 60;
  p.second = rem / 1000 % 60;
  p.millis = rem % 1000;
  int64_t wd = (day % 7 + 7 + 3) % 7;  // 1970-01-01 was a Thursday; 0 = Monday
  p.weekday = wd + 1;
  p.epoch_day = day;
  return p;
}

// Start (epoch day) of week 1 of the period starting at epoch day `first`:
// the week (Monday first) that contains the first Thursday.
int64_t StartOfFirstWeek(int64_t first) {
  int64_t wd = (first % 7 + 7 + 3) % 7 + 1;
  return wd > 4 ? first + (8 - wd) : first - (wd - 1);
}

// Week number within a year (month < 0) or month, and the period it falls
// into, following JSONata's rules for W/X and w/x.
void WeekIn(const DateParts& p, bool of_month, int64_t* week,
            int64_t* period_year, int64_t* period_month) {
  int64_t y = p.year, m = of_month ? p.month : 1;
  auto first_day = [](int64_t yy, int64_t mm) {
    return DaysFromCivil(yy, mm, 1);
  };
  int64_t start = StartOfFirstWeek(first_day(y, m));
  int64_t w = FloorDiv(p.epoch_day - start, 7) + 1;
  *period_year = y;
  *period_month = m;
  int64_t ny = of_month ? (m == 12 ? y + 1 : y) : y + 1;
  int64_t nm = of_month ? (m == 12 ? 1 : m + 1) : 1;
  int64_t next_start = StartOfFirstWeek(first_day(ny, nm));
  if (p.epoch_day >= next_start) {
    w = 1;
    *period_year = ny;
    *period_month = nm;
  } else if (w < 1) {
    int64_t py = of_month ? (m == 1 ? y - 1 : y) : y - 1;
    int64_t pm = of_month ? (m == 1 ? 12 : m - 1) : 1;
    int64_t prev_start = StartOfFirstWeek(first_day(py, pm));
    w = FloorDiv(p.epoch_day - prev_start, 7) + 1;
    *period_year = py;
    *period_month = pm;
  }
  *week = w;
}

const char* const kMonths[] = {"January",   "February", "March",    "April",
                               "May",       "June",     "July",     "August",
                               "September", "October",  "November", "December"};
const char* const kDays[] = {"",         "Monday", "Tuesday",  "Wednesday",
                             "Thursday", "Friday", "Saturday", "Sunday"};

// ---- Date/time pictures
// ----------------------------------------------------------

struct Marker {
  bool literal = false;
  std::string text;  // literal text
  char component = 0;
  std::string presentation1, presentation2;
  std::optional<int> width_min, width_max;
  std::optional<Case> names;
  std::optional<IntegerFormat> integer;
  int n = -1;  // year digits kept
};

std::optional<std::string> DefaultPresentation(char c) {
  switch (c) {
    case 'Y':
    case 'M':
    case 'D':
    case 'd':
    case 'W':
    case 'w':
    case 'X':
    case 'x':
    case 'H':
    case 'h':
    case 'f':
      return "1";
    case 'F':
    case 'P':
    case 'C':
    case 'E':
      return "n";
    case 'm':
    case 's':
      return "01";
    case 'Z':
    case 'z':
      return "01:01";
    default:
      return std::nullopt;
  }
}

absl::StatusOr<std::vector<Marker>> AnalyseDateTimePicture(
    const std::string& picture) {
  std::vector<Marker> spec;
  auto add_literal = [&](size_t start, size_t end) {
    if (end <= start) return;
    std::string lit = picture.substr(start, end - start);
    std::string clean;
    for (size_t i = 0; i < lit.size(); ++i) {
      clean.push_back(lit[i]);
      if (lit[i] == ']' && i + 1 < lit.size() && lit[i + 1] == ']') ++i;
    }
    Marker m;
    m.literal = true;
    m.text = clean;
    spec.push_back(std::move(m));
  };
  size_t start = 0, pos = 0;
  while (pos < picture.size()) {
    if (picture[pos] == '[') {
      if (pos + 1 < picture.size() && picture[pos + 1] == '[') {
        add_literal(start, pos);
        Marker m;
        m.literal = true;
        m.text = "[";
        spec.push_back(std::move(m));
        pos += 2;
        start = pos;
        continue;
      }
      add_literal(start, pos);
      start = pos;
      pos = picture.find(']', start);
      if (pos == std::string::npos) {
        return Error(
            "D3135",
            "No matching closing bracket ']' in date/time picture string");
      }
      std::string marker;
      for (size_t i = start + 1; i < pos; ++i) {
        if (!isspace(static_cast<unsigned char>(picture[i])))
          marker.push_back(picture[i]);
      }
      Marker def;
      def.component = marker.empty() ? '\0' : marker[0];
      std::string pres;
      size_t comma = marker.rfind(',');
      if (comma != std::string::npos) {
        std::string wm = marker.substr(comma + 1);
        size_t dash = wm.find('-');
        std::string mn = dash == std::string::npos ? wm : wm.substr(0, dash);
        std::string mx = dash == std::string::npos ? "" : wm.substr(dash + 1);
        auto parse_width = [](const std::string& w) -> std::optional<int> {
          if (w.empty() || w == "*") return std::nullopt;
          return std::atoi(w.c_str());
        };
        def.width_min = parse_width(mn);
        if (dash != std::string::npos) def.width_max = parse_width(mx);
        pres = marker.substr(1, comma - 1);
      } else {
        pres = marker.size() > 1 ? marker.substr(1) : "";
      }
      if (pres.size() == 1) {
        def.presentation1 = pres;
      } else if (pres.size() > 1) {
        char last = pres.back();
        if (std::strchr("atco", last) != nullptr) {
          def.presentation2 = std::string(1, last);
          def.presentation1 = pres.substr(0, pres.size() - 1);
        } else {
          def.presentation1 = pres;
        }
      } else {
        auto d = DefaultPresentation(def.component);
        if (!d.has_value()) {
          return Error("D3132",
                       absl::StrCat("Unknown component specifier ",
                                    Quote(std::string(1, def.component)),
                                    " in date/time picture string"));
        }
        def.presentation1 = *d;
      }
      if (def.presentation1[0] == 'n') {
        def.names = Case::kLower;
      } else if (def.presentation1[0] == 'N') {
        def.names = def.presentation1.size() > 1 && def.presentation1[1] == 'n'
                        ? Case::kTitle
                        : Case::kUpper;
      } else if (std::strchr("YMDdFWwXxHhmsf", def.component) != nullptr) {
        std::string ip = def.presentation1;
        if (!def.presentation2.empty()) ip += ";" + def.presentation2;
        OW_JSONATA_ASSIGN_OR_RETURN(IntegerFormat f, AnalyseIntegerPicture(ip));
        if (def.width_min.has_value() && f.mandatory_digits < *def.width_min) {
          f.mandatory_digits = *def.width_min;
        }
        if (std::strchr("YMD", def.component) != nullptr) {
          def.n = -1;
          if (def.width_max.has_value()) {
            def.n = *def.width_max;
            f.mandatory_digits = def.n;
          } else {
            int w = f.mandatory_digits + f.optional_digits;
            if (w >= 2) def.n = w;
          }
        }
        def.integer = std::move(f);
      }
      if (def.component == 'Z' || def.component == 'z') {
        OW_JSONATA_ASSIGN_OR_RETURN(IntegerFormat f,
                                    AnalyseIntegerPicture(def.presentation1));
        def.integer = std::move(f);
      }
      spec.push_back(std::move(def));
      start = pos + 1;
    }
    ++pos;
  }
  add_literal(start, pos);
  return spec;
}

absl::StatusOr<std::string> FormatDateTime(
    double millis, const std::optional<std::string>& picture,
    const std::optional<std::string>& timezone) {
  if (!std::isfinite(millis) || std::fabs(millis) > kMaxMillis) {
    return Error("D1001",
                 absl::StrCat("Number out of range: ", FormatJsNumber(millis)));
  }
  int64_t offset_minutes = 0;
  int64_t offset_hhmm = 0;
  if (timezone.has_value()) {
    const std::string& tz = *timezone;
    offset_hhmm = std::strtoll(tz.c_str(), nullptr, 10);
    int64_t sign = offset_hhmm < 0 ? -1 : 1;
    int64_t a = std::llabs(offset_hhmm);
    offset_minutes = sign * ((a / 100) * 60 + a % 100);
  }
  static const char kIso[] =
      "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";
  OW_JSONATA_ASSIGN_OR_RETURN(std::vector<Marker> spec,
                              AnalyseDateTimePicture(picture.value_or(kIso)));
  int64_t ms =
      static_cast<int64_t>(std::floor(millis)) + offset_minutes * 60000;
  DateParts p = Split(ms);
  std::string out;
  for (const Marker& m : spec) {
    if (m.literal) {
      out += m.text;
      continue;
    }
    double value = 0;
    std::string text;
    bool is_text = false;
    switch (m.component) {
      case 'Y':
        value = static_cast<double>(p.year);
        break;
      case 'M':
        value = static_cast<double>(p.month);
        break;
      case 'D':
        value = static_cast<double>(p.day);
        break;
      case 'd':
        value =
            static_cast<double>(p.epoch_day - DaysFromCivil(p.year, 1, 1) + 1);
        break;
      case 'F':
        value = static_cast<double>(p.weekday);
        break;
      case 'W':
      case 'X':
      case 'w':
      case 'x': {
        int64_t week, py, pm;
        WeekIn(p, m.component == 'w' || m.component == 'x', &week, &py, &pm);
        value =
            static_cast<double>(m.component == 'W' || m.component == 'w' ? week
                                : m.component == 'X'                     ? py
                                                                         : pm);
        break;
      }
      case 'H':
        value = static_cast<double>(p.hour);
        break;
      case 'h':
        value = static_cast<double>(p.hour % 12 == 0 ? 12 : p.hour % 12);
        break;
      case 'P':
        text = p.hour >= 12 ? "pm" : "am";
        is_text = true;
        break;
      case 'm':
        value = static_cast<double>(p.minute);
        break;
      case 's':
        value = static_cast<double>(p.second);
        break;
      case 'f':
        value = static_cast<double>(p.millis);
        break;
      case 'C':
      case 'E':
        text = "ISO";
        is_text = true;
        break;
      case 'Z':
      case 'z':
        break;
      default:
        return Error("D3132", absl::StrCat("Unknown component specifier ",
                                           Quote(std::string(1, m.component)),
                                           " in date/time picture string"));
    }
    if (std::strchr("YMDdFWwXxHhms", m.component) != nullptr) {
      if (m.component == 'Y' && m.n != -1)
        value = std::fmod(value, std::pow(10, m.n));
      if (m.names.has_value()) {
        if (m.component == 'M' || m.component == 'x') {
          text = kMonths[static_cast<int>(value) - 1];
        } else if (m.component == 'F') {
          text = kDays[static_cast<int>(value)];
        } else {
          return Error(
              "D3133",
              absl::StrCat(
                  "The 'name' modifier can only be applied to months and "
                  "days in the date/time picture string, not ",
                  Quote(std::string(1, m.component))));
        }
        if (*m.names == Case::kUpper) text = ToUpperAscii(text);
        if (*m.names == Case::kLower) text = ToLowerAscii(text);
        if (m.width_max.has_value() &&
            static_cast<int>(text.size()) > *m.width_max) {
          text.resize(static_cast<size_t>(*m.width_max));
        }
        out += text;
      } else if (m.integer.has_value()) {
        OW_JSONATA_ASSIGN_OR_RETURN(std::string s,
                                    FormatIntegerWith(value, *m.integer));
        out += s;
      }
    } else if (m.component == 'f') {
      if (m.integer.has_value()) {
        OW_JSONATA_ASSIGN_OR_RETURN(std::string s,
                                    FormatIntegerWith(value, *m.integer));
        out += s;
      }
    } else if (m.component == 'Z' || m.component == 'z') {
      int64_t hours = offset_minutes / 60;
      int64_t mins = std::llabs(offset_minutes % 60);
      int64_t offset = hours * 100 + (offset_minutes < 0 ? -mins : mins);
      std::string s;
      const IntegerFormat& f = *m.integer;
      if (f.regular) {
        OW_JSONATA_ASSIGN_OR_RETURN(
            s, FormatIntegerWith(static_cast<double>(offset), f));
      } else if (f.mandatory_digits == 1 || f.mandatory_digits == 2) {
        OW_JSONATA_ASSIGN_OR_RETURN(
            s, FormatIntegerWith(static_cast<double>(hours), f));
        if (mins != 0)
          s += ":" + std::string(mins < 10 ? "0" : "") + std::to_string(mins);
      } else if (f.mandatory_digits == 3 || f.mandatory_digits == 4) {
        OW_JSONATA_ASSIGN_OR_RETURN(
            s, FormatIntegerWith(static_cast<double>(offset), f));
      } else {
        return Error("D3134",
                     "The timezone integer format specifier cannot have more "
                     "than four digits");
      }
      if (offset >= 0) s = "+" + s;
      if (m.component == 'z') s = "GMT" + s;
      if (offset == 0 && m.presentation2 == "t") s = "Z";
      out += s;
    } else if (m.component == 'P') {
      if (m.names.has_value() && *m.names == Case::kUpper)
        text = ToUpperAscii(text);
      out += text;
    } else if (is_text) {
      out += text;
    }
  }
  (void)offset_hhmm;
  return out;
}

// $toMillis without a picture: ISO 8601 as JavaScript's Date.parse reads it.
std::optional<int64_t> ParseIso8601(const std::string& s) {
  size_t i = 0, n = s.size();
  auto digits = [&](size_t count, int64_t* out) {
    if (i + count > n) return false;
    int64_t v = 0;
    for (size_t k = 0; k < count; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += count;
    *out = v;
    return true;
  };
  int64_t y = 0, mo = 1, d = 1, h = 0, mi = 0, sec = 0, ms = 0;
  if (!digits(4, &y)) return std::nullopt;
  bool has_time = false;
  if (i < n && s[i] == '-') {
    ++i;
    if (!digits(2, &mo)) return std::nullopt;
    if (i < n && s[i] == '-') {
      ++i;
      if (!digits(2, &d)) return std::nullopt;
    }
  }
  if (i < n && s[i] == 'T') {
    ++i;
    has_time = true;
    if (!digits(2, &h) || i >= n || s[i] != ':') return std::nullopt;
    ++i;
    if (!digits(2, &mi) || i >= n || s[i] != ':') return std::nullopt;
    ++i;
    if (!digits(2, &sec)) return std::nullopt;
  }
  if (i < n && s[i] == '.') {
    ++i;
    size_t start = i;
    int64_t frac = 0;
    int count = 0;
    while (i < n && isdigit(static_cast<unsigned char>(s[i]))) {
      if (count < 3) {
        frac = frac * 10 + (s[i] - '0');
        ++count;
      }
      ++i;
    }
    if (i == start) return std::nullopt;
    while (count < 3) {
      frac *= 10;
      ++count;
    }
    ms = frac;
  }
  int64_t offset = 0;
  if (i < n) {
    if (s[i] == 'Z') {
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int sign = s[i] == '-' ? -1 : 1;
      ++i;
      int64_t oh = 0, om = 0;
      if (!digits(2, &oh)) return std::nullopt;
      if (i < n && s[i] == ':') ++i;
      if (!digits(2, &om)) return std::nullopt;
      if (oh > 23 || om > 59) return std::nullopt;
      offset = sign * (oh * 60 + om);
    } else {
      return std::nullopt;
    }
  }
  if (i != n) return std::nullopt;
  auto days_in_month = [](int64_t yy, int64_t mm) {
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (yy % 4 == 0 && yy % 100 != 0) || yy % 400 == 0;
    return mm == 2 && leap ? 29 : kDays[mm - 1];
  };
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
    return std::nullopt;
  if (has_time) {
    bool midnight24 = h == 24 && mi == 0 && sec == 0 && ms == 0;
    if ((h > 23 && !midnight24) || mi > 59 || sec > 59) return std::nullopt;
  }
  return UtcMillis(y, mo - 1, d, h, mi, sec, ms) - offset * 60000;
}

absl::StatusOr<Value> ParseDateTime(Evaluator& ev, const std::string& timestamp,
                                    const std::string& picture) {
  OW_JSONATA_ASSIGN_OR_RETURN(std::vector<Marker> spec,
                              AnalyseDateTimePicture(picture));
  bool any_marker = false;
  for (const Marker& m : spec) any_marker = any_marker || !m.literal;
  if (!any_marker) return Value();
  struct Part {
    char component;
    std::function<std::optional<double>(const std::string&)> parse;
  };
  std::vector<Part> parts;
  std::string regex;
  for (size_t k = 0; k < spec.size(); ++k) {
    const Marker& m = spec[k];
    if (m.literal) {
      regex += EscapeRegex(m.text);
      continue;
    }
    Part part;
    part.component = m.component;
    std::string r;
    if (m.component == 'Z' || m.component == 'z') {
      const IntegerFormat& f = *m.integer;
      std::optional<std::string> sep;
      if (f.regular && !f.separators.empty()) sep = f.separators[0].character;
      r = m.component == 'z' ? "GMT" : "";
      r += "[-+][0-9]+";
      if (sep.has_value()) r += EscapeRegex(*sep) + "[0-9]+";
      bool gmt = m.component == 'z';
      part.parse = [sep, gmt](const std::string& v) -> std::optional<double> {
        std::string value = gmt ? v.substr(3) : v;
        int64_t hours = 0, minutes = 0;
        if (sep.has_value()) {
          size_t at = value.find(*sep);
          hours = std::strtoll(value.substr(0, at).c_str(), nullptr, 10);
          minutes =
              std::strtoll(value.substr(at + sep->size()).c_str(), nullptr, 10);
        } else if (value.size() - 1 <= 2) {
          hours = std::strtoll(value.c_str(), nullptr, 10);
        } else {
          hours = std::strtoll(value.substr(0, 3).c_str(), nullptr, 10);
          minutes = std::strtoll(value.substr(3).c_str(), nullptr, 10);
        }
        return static_cast<double>(
            hours * 60 + (hours < 0 || value[0] == '-' ? -minutes : minutes));
      };
    } else if (m.integer.has_value()) {
      std::optional<int> fixed;
      bool next_is_marker = k + 1 < spec.size() && !spec[k + 1].literal;
      if (next_is_marker && m.integer->mandatory_digits > 0)
        fixed = m.integer->mandatory_digits;
      r = IntegerRegex(*m.integer, fixed);
      IntegerFormat f = *m.integer;
      if (m.component == 'f') {
        // Fractional seconds: the digits are a fraction of a second.
        part.parse = [](const std::string& v) -> std::optional<double> {
          std::string ms;
          for (char c : v) {
            if (c >= '0' && c <= '9' && ms.size() < 3) ms.push_back(c);
          }
          if (ms.empty()) return std::nullopt;
          while (ms.size() < 3) ms.push_back('0');
          return std::strtod(ms.c_str(), nullptr);
        };
      } else {
        part.parse = [f](const std::string& v) {
          return ParseIntegerText(v, f);
        };
      }
    } else {
      r = "[a-zA-Z]+";
      std::map<std::string, int> lookup;
      if (m.component == 'M' || m.component == 'x') {
        for (int i = 0; i < 12; ++i) {
          std::string name = kMonths[i];
          if (m.width_max.has_value())
            name = name.substr(0, static_cast<size_t>(*m.width_max));
          lookup[ToLowerAscii(name)] = i + 1;
        }
      } else if (m.component == 'F') {
        for (int i = 1; i < 8; ++i) {
          std::string name = kDays[i];
          if (m.width_max.has_value())
            name = name.substr(0, static_cast<size_t>(*m.width_max));
          lookup[ToLowerAscii(name)] = i;
        }
      } else if (m.component == 'P') {
        lookup = {{"am", 0}, {"pm", 1}};
      } else {
        return Error(
            "D3133",
            absl::StrCat(
                "The 'name' modifier can only be applied to months and "
                "days in the date/time picture string, not ",
                Quote(std::string(1, m.component))));
      }
      part.parse = [lookup](const std::string& v) -> std::optional<double> {
        auto it = lookup.find(ToLowerAscii(v));
        if (it == lookup.end()) return std::nullopt;
        return static_cast<double>(it->second);
      };
    }
    regex += "(" + r + ")";
    parts.push_back(std::move(part));
  }
  OW_JSONATA_ASSIGN_OR_RETURN(
      auto re, Regex::Compile("^" + regex + "$", "i", kNoOffset));
  OW_JSONATA_ASSIGN_OR_RETURN(auto match, ev.MatchRegex(*re, timestamp, 0));
  if (!match.has_value()) return Value();
  std::map<char, double> c;
  for (size_t k = 0; k < parts.size() && k < match->groups.size(); ++k) {
    if (!match->groups[k].has_value()) continue;
    auto v = parts[k].parse(*match->groups[k]);
    if (v.has_value()) c[parts[k].component] = *v;
  }
  auto has = [&](char k) { return c.count(k) > 0; };
  auto mask = [&](const char* comps) {
    int bits = 0;
    for (const char* p = comps; *p; ++p) bits = (bits << 1) | (has(*p) ? 1 : 0);
    return bits;
  };
  int date_mask = mask("YXMxWwdD");
  int time_mask = mask("PHhmsf");
  auto is_type = [](int type, int m) {
    return ((~type & m) == 0) && (type & m) != 0;
  };
  bool date_a = is_type(161, date_mask);
  bool date_b = !date_a && is_type(130, date_mask);
  bool date_c = !date_a && !date_b && is_type(84, date_mask);
  bool date_d = !date_a && !date_b && !date_c && is_type(72, date_mask);
  bool time_a = is_type(23, time_mask);
  bool time_b = !time_a && is_type(47, time_mask);
  std::string comps = date_b ? "Yd" : date_c ? "XxwF" : date_d ? "XWF" : "YMD";
  comps += time_b ? "Phmsf" : "Hmsf";
  bool start_specified = false, end_specified = false;
  std::optional<DateParts> now;
  for (char part : comps) {
    if (!has(part)) {
      if (start_specified) {
        c[part] = std::strchr("MDd", part) != nullptr ? 1 : 0;
        end_specified = true;
      } else {
        if (!now.has_value()) {
          OW_JSONATA_ASSIGN_OR_RETURN(int64_t ms, ev.NowMillis());
          now = Split(ms);
        }
        switch (part) {
          case 'Y':
            c[part] = static_cast<double>(now->year);
            break;
          case 'M':
            c[part] = static_cast<double>(now->month);
            break;
          case 'D':
            c[part] = static_cast<double>(now->day);
            break;
          case 'd':
            c[part] = static_cast<double>(now->epoch_day -
                                          DaysFromCivil(now->year, 1, 1) + 1);
            break;
          case 'H':
            c[part] = static_cast<double>(now->hour);
            break;
          case 'h':
            c[part] =
                static_cast<double>(now->hour % 12 == 0 ? 12 : now->hour % 12);
            break;
          case 'P':
            c[part] = now->hour >= 12 ? 1 : 0;
            break;
          case 'm':
            c[part] = static_cast<double>(now->minute);
            break;
          case 's':
            c[part] = static_cast<double>(now->second);
            break;
          case 'f':
            c[part] = static_cast<double>(now->millis);
            break;
          default:
            c[part] = 0;
            break;
        }
      }
    } else {
      start_specified = true;
      if (end_specified) {
        return Error("D3136",
                     "The date/time picture string is missing specifiers "
                     "required to parse the timestamp");
      }
    }
  }
  if (date_c || date_d) {
    return Error("D3136",
                 "The date/time picture string is missing specifiers required "
                 "to parse the timestamp");
  }
  int64_t month0 = c['M'] > 0 ? static_cast<int64_t>(c['M']) - 1 : 0;
  int64_t day = static_cast<int64_t>(c['D']);
  if (date_b) {
    int64_t days = DaysFromCivil(static_cast<int64_t>(c['Y']), 1, 1) +
                   static_cast<int64_t>(c['d']) - 1;
    int64_t yy, mm, dd;
    CivilFromDays(days, &yy, &mm, &dd);
    month0 = mm - 1;
    day = dd;
  }
  int64_t hour = static_cast<int64_t>(c['H']);
  if (time_b) {
    hour =
        static_cast<int64_t>(c['h']) == 12 ? 0 : static_cast<int64_t>(c['h']);
    if (c['P'] == 1) hour += 12;
  }
  double year = c['Y'];
  if (std::fabs(year) > 275000) return Value();
  int64_t millis =
      UtcMillis(static_cast<int64_t>(year), month0, day, hour,
                static_cast<int64_t>(c['m']), static_cast<int64_t>(c['s']),
                static_cast<int64_t>(c['f']));
  double tz = has('Z') ? c['Z'] : has('z') ? c['z'] : 0;
  millis -= static_cast<int64_t>(tz) * 60000;
  return Value::Number(static_cast<double>(millis));
}

std::optional<std::string> OptString(const Value& v) {
  if (v.IsString()) return v.str();
  return std::nullopt;
}

}  // namespace

absl::StatusOr<Value> FnNow(Evaluator& ev, const Args& args, const Value&) {
  OW_JSONATA_ASSIGN_OR_RETURN(int64_t now, ev.NowMillis());
  OW_JSONATA_ASSIGN_OR_RETURN(
      std::string s,
      FormatDateTime(static_cast<double>(now), OptString(Arg(args, 0)),
                     OptString(Arg(args, 1))));
  return Value::String(std::move(s));
}

absl::StatusOr<Value> FnMillis(Evaluator& ev, const Args&, const Value&) {
  OW_JSONATA_ASSIGN_OR_RETURN(int64_t now, ev.NowMillis());
  return Value::Number(static_cast<double>(now));
}

absl::StatusOr<Value> FnFromMillis(Evaluator&, const Args& args, const Value&) {
  Value ms = Arg(args, 0);
  if (ms.IsUndefined()) return Value();
  OW_JSONATA_ASSIGN_OR_RETURN(
      std::string s, FormatDateTime(ms.number(), OptString(Arg(args, 1)),
                                    OptString(Arg(args, 2))));
  return Value::String(std::move(s));
}

absl::StatusOr<Value> FnToMillis(Evaluator& ev, const Args& args,
                                 const Value&) {
  Value ts = Arg(args, 0);
  if (ts.IsUndefined()) return Value();
  Value picture = Arg(args, 1);
  if (picture.IsString()) return ParseDateTime(ev, ts.str(), picture.str());
  auto ms = ParseIso8601(ts.str());
  if (!ms.has_value()) {
    return Error(
        "D3110",
        absl::StrCat(
            "The argument of the toMillis function must be an ISO 8601 "
            "formatted timestamp. Given ",
            Quote(ts.str())));
  }
  return Value::Number(static_cast<double>(*ms));
}

}  // namespace onewindow::asl::jsonata::internal
