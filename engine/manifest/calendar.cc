// Calendar files, working-day counting and local dates.
#include "engine/manifest/calendar.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/manifest/document.h"
#include "engine/manifest/json_pointer.h"

namespace onewindow::manifest {
namespace {

constexpr int64_t kMsPerDay = 86'400'000;
constexpr int kMaxOffsetMinutes = 14 * 60;

constexpr uint8_t Bit(Weekday day) {
  return static_cast<uint8_t>(1u << (static_cast<int>(day) - 1));
}

// "sat" / "saturday" (any letter case) -> weekday.
bool ParseWeekday(std::string_view text, Weekday* out) {
  static constexpr std::string_view kFull[] = {
      "monday", "tuesday",  "wednesday", "thursday",
      "friday", "saturday", "sunday"};
  std::string lower;
  for (char c : text) {
    lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a')
                                         : c);
  }
  for (int i = 0; i < 7; ++i) {
    if (lower == kFull[i] || lower == kFull[i].substr(0, 3)) {
      *out = static_cast<Weekday>(i + 1);
      return true;
    }
  }
  return false;
}

// "+08:00", "-03:30", "+00:00", "Z".
bool ParseUtcOffset(std::string_view text, int* minutes) {
  if (text == "Z" || text == "z") {
    *minutes = 0;
    return true;
  }
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') ||
      text[3] != ':') {
    return false;
  }
  for (size_t i : {1, 2, 4, 5}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  int hours = (text[1] - '0') * 10 + (text[2] - '0');
  int mins = (text[4] - '0') * 10 + (text[5] - '0');
  if (mins >= 60) return false;
  int total = hours * 60 + mins;
  if (total > kMaxOffsetMinutes) return false;
  *minutes = text[0] == '-' ? -total : total;
  return true;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

Calendar Calendar::Default() {
  Calendar c;
  c.weekend_mask = Bit(Weekday::kSaturday) | Bit(Weekday::kSunday);
  return c;
}

bool Calendar::IsWeekend(CivilDate date) const {
  return (weekend_mask & Bit(date.weekday())) != 0;
}

bool Calendar::HasHolidaysIn(int year) const {
  auto from = CivilDate::FromYmd(year, 1, 1);
  if (!from.has_value()) return false;
  auto it = holidays.lower_bound(*from);
  return it != holidays.end() && it->first.year() == year;
}

bool IsValidCalendarName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

std::string FormatUtcOffset(int minutes) {
  char sign = minutes < 0 ? '-' : '+';
  int m = minutes < 0 ? -minutes : minutes;
  if (m > kMaxOffsetMinutes) m = kMaxOffsetMinutes;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, m / 60, m % 60);
  return buf;
}

absl::StatusOr<Calendar> ParseCalendar(std::string_view text,
                                       std::string_view name) {
  std::string label =
      name.empty() ? "calendar" : absl::StrCat("calendar ", std::string(name));
  LoadLimits limits;
  limits.max_bytes = kMaxCalendarBytes;
  limits.max_depth = 8;
  absl::StatusOr<LoadedDocument> doc = LoadDocument(text, limits);
  if (!doc.ok()) {
    return absl::Status(doc.status().code(),
                        absl::StrCat(label, ": ", doc.status().message()));
  }
  Calendar cal;
  cal.name = std::string(name);
  std::vector<Problem> problems;
  auto problem = [&](std::string pointer, std::string message) {
    problems.push_back(
        MakeProblem(*doc, std::move(pointer), std::move(message)));
  };
  const Json& root = doc->value;
  if (root.is_null()) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": empty; expected weekend: and holidays:"));
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        label,
        ": expected a mapping with weekend:, holidays:, utc_offset: "
        "and source:"));
  }
  bool weekend_given = false;
  for (const auto& [key, value] : root.items()) {
    std::string pointer;
    AppendPointerToken(&pointer, key);
    if (key == "weekend") {
      weekend_given = true;
      if (!value.is_array()) {
        problem(pointer, "expected a list of days, e.g. [sat, sun]");
        continue;
      }
      for (size_t i = 0; i < value.size(); ++i) {
        std::string at = pointer;
        AppendPointerIndex(&at, i);
        Weekday day;
        if (!value[i].is_string() ||
            !ParseWeekday(value[i].get<std::string>(), &day)) {
          problem(at, absl::StrCat(value[i].dump(),
                                   " is not a day of the week (mon, tue, wed, "
                                   "thu, fri, sat, sun)"));
          continue;
        }
        if (cal.weekend_mask & Bit(day)) {
          problem(at, absl::StrCat(std::string(WeekdayName(day)),
                                   " is listed twice"));
        }
        cal.weekend_mask |= Bit(day);
      }
    } else if (key == "holidays") {
      if (!value.is_array()) {
        problem(pointer, "expected a list of dates (YYYY-MM-DD)");
        continue;
      }
      if (value.size() > static_cast<size_t>(kMaxHolidays)) {
        return absl::ResourceExhaustedError(
            absl::StrCat(label, ": ", value.size(), " holidays; the limit is ",
                         kMaxHolidays));
      }
      std::map<CivilDate, std::string> where;
      for (size_t i = 0; i < value.size(); ++i) {
        std::string at = pointer;
        AppendPointerIndex(&at, i);
        const Json& item = value[i];
        std::string date_text;
        std::string holiday_name;
        std::string date_at = at;
        if (item.is_string()) {
          date_text = item.get<std::string>();
        } else if (item.is_object()) {
          bool ok = true;
          for (const auto& [k, v] : item.items()) {
            std::string member = at;
            AppendPointerToken(&member, k);
            if (k == "date" && v.is_string()) {
              date_text = v.get<std::string>();
              date_at = member;
            } else if (k == "name" && v.is_string()) {
              holiday_name = v.get<std::string>();
            } else if (k == "date" || k == "name") {
              problem(member, "expected text");
              ok = false;
            } else {
              problem(member, absl::StrCat("unknown key \"", k,
                                           "\" (expected date and name)"));
              ok = false;
            }
          }
          if (!ok) continue;
          if (date_text.empty()) {
            problem(at, "date is required");
            continue;
          }
        } else {
          problem(at, absl::StrCat("expected a date (YYYY-MM-DD) or "
                                   "{date: YYYY-MM-DD, name: ...}, got ",
                                   item.dump()));
          continue;
        }
        absl::StatusOr<CivilDate> date = CivilDate::Parse(date_text);
        if (!date.ok()) {
          problem(date_at, std::string(date.status().message()));
          continue;
        }
        auto [it, inserted] = where.emplace(*date, at);
        if (!inserted) {
          problem(at, absl::StrCat(date->ToString(),
                                   " is listed twice (also "
                                   "at ",
                                   KeyPath(root, it->second), ")"));
          continue;
        }
        cal.holidays.emplace(*date, std::move(holiday_name));
      }
    } else if (key == "utc_offset") {
      if (!value.is_string() ||
          !ParseUtcOffset(value.get<std::string>(), &cal.utc_offset_minutes)) {
        problem(pointer, absl::StrCat("expected an offset from UTC such as "
                                      "\"+08:00\" (-14:00..+14:00), got ",
                                      value.dump()));
      }
    } else if (key == "source") {
      if (!value.is_string()) {
        problem(pointer, "expected text");
      } else {
        cal.source = value.get<std::string>();
      }
    } else {
      problem(pointer, absl::StrCat("unknown key \"", key,
                                    "\" (expected weekend, holidays, "
                                    "utc_offset, source)"));
    }
  }
  if (!weekend_given) {
    cal.weekend_mask = Bit(Weekday::kSaturday) | Bit(Weekday::kSunday);
  }
  if (!problems.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(label, ": ", JoinProblems(problems)));
  }
  return cal;
}

absl::StatusOr<Calendar> LoadCalendar(const std::string& dir,
                                      std::string_view name) {
  if (!IsValidCalendarName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("calendar name \"", std::string(name.substr(0, 80)),
                     "\" must be 1..64 of a-z, 0-9 and '-'"));
  }
  std::string path =
      absl::StrCat(dir.empty() ? "." : dir, "/", std::string(name), ".yaml");
  absl::StatusOr<std::string> text = ReadFileBounded(path, kMaxCalendarBytes);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("calendar ", std::string(name), ": ",
                                     text.status().message()));
  }
  return ParseCalendar(*text, name);
}

absl::StatusOr<CivilDate> DueDate(CivilDate from, int working_days,
                                  const Calendar& calendar) {
  if (working_days < 1 || working_days > kMaxWorkingDays) {
    return absl::InvalidArgumentError(absl::StrCat(
        "working days must be 1..", kMaxWorkingDays, ", got ", working_days));
  }
  if ((calendar.weekend_mask & 0x7F) == 0x7F) {
    return absl::FailedPreconditionError(absl::StrCat(
        "calendar ", calendar.name.empty() ? "(default)" : calendar.name,
        " has no working days: every day of the week is a weekend day"));
  }
  // At least one weekday in seven works, and each holiday removes at most
  // one day, so the answer lies within this many days.
  const int64_t span = int64_t{working_days} * 7 +
                       static_cast<int64_t>(calendar.holidays.size()) + 7;
  CivilDate day = from;
  int counted = 0;
  for (int64_t step = 1; step <= span; ++step) {
    std::optional<CivilDate> next = day.AddDays(1);
    if (!next.has_value()) {
      return absl::OutOfRangeError(
          absl::StrCat(working_days, " working days after ", from.ToString(),
                       " is past 9999-12-31"));
    }
    day = *next;
    if (calendar.IsWorkingDay(day) && ++counted == working_days) return day;
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "calendar ", calendar.name.empty() ? "(default)" : calendar.name,
      " has fewer than ", working_days, " working days in the ", span,
      " days after ", from.ToString()));
}

CivilDate LocalDate(int64_t instant_ms, const Calendar& calendar) {
  const int64_t offset_ms = int64_t{calendar.utc_offset_minutes} * 60'000;
  int64_t days;
  if (instant_ms > INT64_MAX - kMaxOffsetMinutes * 60'000) {
    days = INT64_MAX / kMsPerDay;
  } else if (instant_ms < INT64_MIN + kMaxOffsetMinutes * 60'000) {
    days = INT64_MIN / kMsPerDay;
  } else {
    days = FloorDiv(instant_ms + offset_ms, kMsPerDay);
  }
  if (days < CivilDate::Min().days_since_epoch()) return CivilDate::Min();
  if (days > CivilDate::Max().days_since_epoch()) return CivilDate::Max();
  return *CivilDate::FromDays(days);
}

int64_t EndOfLocalDate(CivilDate date, const Calendar& calendar) {
  const int64_t offset_ms = int64_t{calendar.utc_offset_minutes} * 60'000;
  return (date.days_since_epoch() + 1) * kMsPerDay - offset_ms;
}

}  // namespace onewindow::manifest
