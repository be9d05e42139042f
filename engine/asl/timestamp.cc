// RFC 3339 timestamps as ASL accepts them (IsTimestamp, Timestamp*
// comparisons, Wait Timestamp/TimestampPath):
//   YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
// with an uppercase 'T' and 'Z', as the ASL specification requires.
//
// Pure functions; thread-safe.
#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "engine/asl/errors.h"
#include "engine/asl/expr.h"

namespace onewindow::asl {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at *pos.
std::optional<int> Digits(std::string_view s, size_t* pos, size_t n) {
  if (*pos + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (!IsDigit(c)) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  return v;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::optional<Timestamp> Parse(std::string_view s) {
  size_t pos = 0;
  auto year = Digits(s, &pos, 4);
  if (!year || !Expect(s, &pos, '-')) return std::nullopt;
  auto month = Digits(s, &pos, 2);
  if (!month || !Expect(s, &pos, '-')) return std::nullopt;
  auto day = Digits(s, &pos, 2);
  if (!day || !Expect(s, &pos, 'T')) return std::nullopt;
  auto hour = Digits(s, &pos, 2);
  if (!hour || !Expect(s, &pos, ':')) return std::nullopt;
  auto minute = Digits(s, &pos, 2);
  if (!minute || !Expect(s, &pos, ':')) return std::nullopt;
  auto second = Digits(s, &pos, 2);
  if (!second) return std::nullopt;
  int32_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < s.size() && IsDigit(s[pos])) {
      if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (size_t i = digits; i < 9; ++i) nanos *= 10;
  }
  int offset_minutes = 0;
  if (pos >= s.size()) return std::nullopt;
  char zone = s[pos++];
  if (zone == '+' || zone == '-') {
    auto oh = Digits(s, &pos, 2);
    if (!oh || !Expect(s, &pos, ':')) return std::nullopt;
    auto om = Digits(s, &pos, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = (*oh * 60 + *om) * (zone == '-' ? -1 : 1);
  } else if (zone != 'Z') {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 ||
      *day > DaysInMonth(*year, *month) || *hour > 23 || *minute > 59 ||
      *second > 59) {
    return std::nullopt;
  }
  int64_t seconds = DaysFromCivil(*year, *month, *day) * 86400 + *hour * 3600 +
                    *minute * 60 + *second -
                    static_cast<int64_t>(offset_minutes) * 60;
  return Timestamp{seconds, nanos};
}

}  // namespace

bool IsTimestamp(std::string_view text) { return Parse(text).has_value(); }

absl::StatusOr<Timestamp> ParseTimestamp(std::string_view text) {
  auto ts = Parse(text);
  if (!ts.has_value()) {
    return AslError(
        kStatesRuntime,
        absl::StrCat("The value '", absl::string_view(text.data(), text.size()),
                     "' is not a valid RFC 3339 timestamp"));
  }
  return *ts;
}

absl::StatusOr<int64_t> ParseTimestampMs(std::string_view text) {
  auto ts = ParseTimestamp(text);
  if (!ts.ok()) return ts.status();
  return ts->seconds * 1000 + ts->nanos / 1000000;
}

}  // namespace onewindow::asl
