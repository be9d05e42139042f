// The rules of a service without a manifest, and a plain working-day
// calendar (weekend days, holidays, a fixed UTC offset).
#include <cstdio>
#include <set>

#include "scheduler/registry.h"

namespace onewindow::scheduler {
namespace {

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02u",
                static_cast<long long>(y), m, d);
  return buf;
}

bool ParseDate(const std::string& s, int64_t* days) {
  int y, m, d;
  char tail;
  if (s.size() != 10 ||
      std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3) {
    return false;
  }
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  *days = DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return FormatDate(*days) == s;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

class PlainCalendar final : public WorkingCalendar {
 public:
  PlainCalendar(std::vector<int> weekend, std::vector<std::string> holidays,
                int offset_minutes)
      : offset_ms_(static_cast<int64_t>(offset_minutes) * 60000) {
    for (int w : weekend) weekend_.insert(((w % 7) + 7) % 7);
    for (const std::string& h : holidays) {
      int64_t days;
      if (ParseDate(h, &days)) holidays_.insert(days);
    }
  }

  std::string LocalDate(int64_t ms) const override {
    return FormatDate(FloorDiv(ms + offset_ms_, 86400000));
  }

  int LocalYear(int64_t ms) const override {
    int64_t y;
    unsigned m, d;
    CivilFromDays(FloorDiv(ms + offset_ms_, 86400000), &y, &m, &d);
    return static_cast<int>(y);
  }

  absl::StatusOr<std::string> AddWorkingDays(const std::string& date,
                                             int days) const override {
    int64_t day;
    if (!ParseDate(date, &day)) {
      return absl::InvalidArgumentError("not a date (YYYY-MM-DD): " + date);
    }
    if (days < 0 || days > 3650) {
      return absl::InvalidArgumentError(
          "working days must be 0..3650, got " + std::to_string(days));
    }
    int counted = 0;
    // A calendar with almost no working days must not loop forever.
    const int64_t limit = day + static_cast<int64_t>(days) * 7 + 3660;
    while (counted < days) {
      ++day;
      if (day > limit) {
        return absl::FailedPreconditionError(
            "the calendar has too few working days to count " +
            std::to_string(days) + " from " + date);
      }
      if (IsWorkingDay(day)) ++counted;
    }
    return FormatDate(day);
  }

  absl::StatusOr<int64_t> EndOfDay(const std::string& date) const override {
    int64_t day;
    if (!ParseDate(date, &day)) {
      return absl::InvalidArgumentError("not a date (YYYY-MM-DD): " + date);
    }
    return (day + 1) * 86400000 - offset_ms_;
  }

 private:
  bool IsWorkingDay(int64_t day) const {
    const int weekday = static_cast<int>(((day % 7) + 11) % 7);  // 0 = Sun
    return !weekend_.count(weekday) && !holidays_.count(day);
  }

  int64_t offset_ms_;
  std::set<int> weekend_;
  std::set<int64_t> holidays_;
};

}  // namespace

std::shared_ptr<const WorkingCalendar> MakeCalendar(
    std::vector<int> weekend, std::vector<std::string> holidays,
    int utc_offset_minutes) {
  return std::make_shared<PlainCalendar>(std::move(weekend),
                                         std::move(holidays),
                                         utc_offset_minutes);
}

std::shared_ptr<const ServiceRules> DefaultRules() {
  static const std::shared_ptr<const ServiceRules> rules = [] {
    auto r = std::make_shared<ServiceRules>();
    r->calendar = MakeCalendar({0, 6}, {}, 0);
    return r;
  }();
  return rules;
}

}  // namespace onewindow::scheduler
