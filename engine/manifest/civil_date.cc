// CivilDate arithmetic on std::chrono's calendar types.
#include "engine/manifest/civil_date.h"

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace onewindow::manifest {
namespace {

namespace chr = std::chrono;

constexpr std::string_view kWeekdayNames[] = {"mon", "tue", "wed", "thu",
                                              "fri", "sat", "sun"};

int64_t DaysOf(const chr::year_month_day& ymd) {
  return chr::sys_days(ymd).time_since_epoch().count();
}

chr::year_month_day YmdOf(int64_t days) {
  return chr::year_month_day(
      chr::sys_days(chr::days(static_cast<chr::days::rep>(days))));
}

const int64_t kMinDays = DaysOf(chr::year(1) / chr::January / chr::day(1));
const int64_t kMaxDays = DaysOf(chr::year(9999) / chr::December / chr::day(31));

}  // namespace

std::string_view WeekdayName(Weekday day) {
  int i = static_cast<int>(day);
  if (i < 1 || i > 7) return "?";
  return kWeekdayNames[i - 1];
}

absl::StatusOr<CivilDate> CivilDate::Parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(text.substr(0, 40)),
                     "\" is not a date: ", std::string(why)));
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
    return bad("expected YYYY-MM-DD");
  }
  int parts[3] = {0, 0, 0};
  const size_t starts[3] = {0, 5, 8};
  const size_t lengths[3] = {4, 2, 2};
  for (int p = 0; p < 3; ++p) {
    for (size_t i = starts[p]; i < starts[p] + lengths[p]; ++i) {
      char c = text[i];
      if (c < '0' || c > '9') return bad("expected YYYY-MM-DD");
      parts[p] = parts[p] * 10 + (c - '0');
    }
  }
  if (parts[0] < 1) return bad("year 0000 is out of range");
  if (parts[1] < 1 || parts[1] > 12) return bad("month must be 01..12");
  std::optional<CivilDate> date = FromYmd(parts[0], parts[1], parts[2]);
  if (!date.has_value()) {
    return bad(absl::StrCat(
        "day must be 01..",
        static_cast<unsigned>(chr::year_month_day_last(
                                  chr::year(parts[0]) /
                                  chr::month(static_cast<unsigned>(parts[1])) /
                                  chr::last)
                                  .day()),
        " in that month"));
  }
  return *date;
}

std::optional<CivilDate> CivilDate::FromYmd(int year, int month, int day) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > 31) {
    return std::nullopt;
  }
  chr::year_month_day ymd(chr::year(year),
                          chr::month(static_cast<unsigned>(month)),
                          chr::day(static_cast<unsigned>(day)));
  if (!ymd.ok()) return std::nullopt;
  return CivilDate(DaysOf(ymd));
}

std::optional<CivilDate> CivilDate::FromDays(int64_t days) {
  if (days < kMinDays || days > kMaxDays) return std::nullopt;
  return CivilDate(days);
}

CivilDate CivilDate::Min() { return CivilDate(kMinDays); }
CivilDate CivilDate::Max() { return CivilDate(kMaxDays); }

int CivilDate::year() const { return static_cast<int>(YmdOf(days_).year()); }

int CivilDate::month() const {
  return static_cast<int>(static_cast<unsigned>(YmdOf(days_).month()));
}

int CivilDate::day() const {
  return static_cast<int>(static_cast<unsigned>(YmdOf(days_).day()));
}

Weekday CivilDate::weekday() const {
  chr::weekday wd{chr::sys_days(chr::days(days_))};
  return static_cast<Weekday>(wd.iso_encoding());
}

std::optional<CivilDate> CivilDate::AddDays(int64_t n) const {
  if (n > kMaxDays - kMinDays || n < kMinDays - kMaxDays) return std::nullopt;
  return FromDays(days_ + n);
}

std::string CivilDate::ToString() const {
  chr::year_month_day ymd = YmdOf(days_);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

}  // namespace onewindow::manifest
