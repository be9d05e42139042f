// Working-day calendars: which days are off, and deadlines counted in
// working days.
//
// A calendar file NAME.yaml (see deploy/calendars/README.md):
//   weekend: [sat, sun]            # days of the week that are off
//   holidays:                      # public holidays
//     - 2026-12-20                 #   a date, or
//     - {date: 2026-12-25, name: Christmas Day}
//   utc_offset: "+08:00"           # the calendar's local time; default +00:00
//   source: ...                    # free text: where the holidays come from
// Without a file the default calendar applies: Saturday and Sunday off, no
// holidays, UTC. Everything here is pure: time comes in as arguments.
// Calendar is an immutable value; thread-compatible.
#ifndef ONEWINDOW_ENGINE_MANIFEST_CALENDAR_H_
#define ONEWINDOW_ENGINE_MANIFEST_CALENDAR_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/manifest/civil_date.h"

namespace onewindow::manifest {

// Longest deadline, in working days (about 14 years).
inline constexpr int kMaxWorkingDays = 3650;
// Most holidays one calendar file may list.
inline constexpr int kMaxHolidays = 20000;
// Largest calendar file, in bytes.
inline constexpr size_t kMaxCalendarBytes = 256 * 1024;

struct Calendar {
  // The file's stem ("macau"); empty for the default calendar.
  std::string name;
  // Bit (ISO weekday - 1) set = that day of the week is off.
  uint8_t weekend_mask = 0;
  // Public holidays -> their names ("" when the file gives none).
  std::map<CivilDate, std::string> holidays;
  // Local time = UTC + this many minutes (-14:00..+14:00).
  int utc_offset_minutes = 0;
  // Where the holidays come from (free text).
  std::string source;

  // Saturday and Sunday off, no holidays, UTC.
  static Calendar Default();

  bool IsWeekend(CivilDate date) const;
  bool IsHoliday(CivilDate date) const { return holidays.count(date) > 0; }
  bool IsWorkingDay(CivilDate date) const {
    return !IsWeekend(date) && !IsHoliday(date);
  }
  // True when the file lists at least one holiday in `year`: a deadline that
  // runs into a year with none was counted with weekends only.
  bool HasHolidaysIn(int year) const;
};

// Parses a calendar file's text; `name` is recorded as the calendar's name.
// INVALID_ARGUMENT naming the key and line for unknown keys, wrong types,
// bad dates, unknown weekday names, a malformed offset or a date listed
// twice; RESOURCE_EXHAUSTED over the size or holiday-count limits.
absl::StatusOr<Calendar> ParseCalendar(std::string_view text,
                                       std::string_view name);

// Reads and parses DIR/NAME.yaml. NAME must match [a-z0-9-]+ (INVALID_ARGUMENT
// otherwise); a missing file is NOT_FOUND naming the path.
absl::StatusOr<Calendar> LoadCalendar(const std::string& dir,
                                      std::string_view name);

// True when `name` is a valid calendar name: 1..64 of [a-z0-9-].
bool IsValidCalendarName(std::string_view name);

// The date of the `working_days`-th working day after `from` (`from` itself
// is not counted, whatever it is). INVALID_ARGUMENT unless 1 <= working_days
// <= kMaxWorkingDays; FAILED_PRECONDITION when the calendar has no working
// day at all in the span searched (every weekday off, or holidays covering
// it); OUT_OF_RANGE past 9999-12-31.
absl::StatusOr<CivilDate> DueDate(CivilDate from, int working_days,
                                  const Calendar& calendar);

// The calendar's local date at `instant_ms` (ms since the Unix epoch, UTC).
CivilDate LocalDate(int64_t instant_ms, const Calendar& calendar);

// The instant `date` ends in the calendar's local time, as ms since the
// epoch: 00:00 local of the next day. Something due on `date` is overdue
// from this instant on (now_ms >= EndOfLocalDate(...)).
int64_t EndOfLocalDate(CivilDate date, const Calendar& calendar);

// "+08:00" / "-03:30" / "+00:00".
std::string FormatUtcOffset(int minutes);

}  // namespace onewindow::manifest

#endif  // ONEWINDOW_ENGINE_MANIFEST_CALENDAR_H_
