// CivilDate: a calendar day with no time of day and no time zone.
//
// Proleptic Gregorian calendar, years 0001..9999 (what YYYY-MM-DD can
// spell). Stored as a day count from 1970-01-01, so arithmetic and
// comparison are cheap. A value type; thread-compatible.
#ifndef ONEWINDOW_ENGINE_MANIFEST_CIVIL_DATE_H_
#define ONEWINDOW_ENGINE_MANIFEST_CIVIL_DATE_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace onewindow::manifest {

// ISO weekday numbers.
enum class Weekday : int {
  kMonday = 1,
  kTuesday = 2,
  kWednesday = 3,
  kThursday = 4,
  kFriday = 5,
  kSaturday = 6,
  kSunday = 7,
};

// "mon".."sun".
std::string_view WeekdayName(Weekday day);

class CivilDate {
 public:
  // 1970-01-01.
  constexpr CivilDate() = default;

  // Parses exactly "YYYY-MM-DD" (ASCII digits, a real day of that month).
  // INVALID_ARGUMENT naming the text and what is wrong.
  static absl::StatusOr<CivilDate> Parse(std::string_view text);

  // nullopt when the triple is not a real date in 0001..9999.
  static std::optional<CivilDate> FromYmd(int year, int month, int day);

  // Day `days` counted from 1970-01-01 (= 0); nullopt outside 0001..9999.
  static std::optional<CivilDate> FromDays(int64_t days);

  // Earliest and latest representable dates.
  static CivilDate Min();
  static CivilDate Max();

  int year() const;
  int month() const;  // 1..12
  int day() const;    // 1..31
  Weekday weekday() const;
  int64_t days_since_epoch() const { return days_; }

  // The date `n` days later (earlier when negative); nullopt when that
  // leaves 0001..9999.
  std::optional<CivilDate> AddDays(int64_t n) const;

  // "YYYY-MM-DD".
  std::string ToString() const;

  friend auto operator<=>(const CivilDate&, const CivilDate&) = default;

 private:
  explicit constexpr CivilDate(int64_t days) : days_(days) {}

  int64_t days_ = 0;
};

}  // namespace onewindow::manifest

#endif  // ONEWINDOW_ENGINE_MANIFEST_CIVIL_DATE_H_
