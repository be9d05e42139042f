// Tests for civil dates, calendar files, working-day due dates and local
// dates/instants.
#include "engine/manifest/calendar.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "engine/manifest/civil_date.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::manifest {
namespace {

using ::testing::HasSubstr;

CivilDate D(const char* text) {
  absl::StatusOr<CivilDate> d = CivilDate::Parse(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.status();
  return d.ok() ? *d : CivilDate();
}

TEST(CivilDateTest, ParseFormatAndArithmetic) {
  EXPECT_EQ(D("1970-01-01").days_since_epoch(), 0);
  EXPECT_EQ(D("2026-12-20").ToString(), "2026-12-20");
  EXPECT_EQ(D("2024-02-29").AddDays(1)->ToString(), "2024-03-01");
  EXPECT_EQ(D("2026-12-31").AddDays(1)->ToString(), "2027-01-01");
  EXPECT_EQ(D("2027-03-01").AddDays(-1)->ToString(), "2027-02-28");
  EXPECT_EQ(D("0001-01-01"), CivilDate::Min());
  EXPECT_EQ(D("9999-12-31"), CivilDate::Max());
  EXPECT_FALSE(CivilDate::Max().AddDays(1).has_value());
  EXPECT_FALSE(CivilDate::Min().AddDays(-1).has_value());
  EXPECT_LT(D("2026-01-31"), D("2026-02-01"));
  EXPECT_EQ(D("2026-07-04").year(), 2026);
  EXPECT_EQ(D("2026-07-04").month(), 7);
  EXPECT_EQ(D("2026-07-04").day(), 4);
}

TEST(CivilDateTest, Weekdays) {
  EXPECT_EQ(D("1970-01-01").weekday(), Weekday::kThursday);
  EXPECT_EQ(D("2026-12-20").weekday(), Weekday::kSunday);
  EXPECT_EQ(D("2026-11-30").weekday(), Weekday::kMonday);
  EXPECT_EQ(D("2000-02-29").weekday(), Weekday::kTuesday);
  EXPECT_EQ(WeekdayName(Weekday::kSaturday), "sat");
}

TEST(CivilDateTest, RejectsMalformedDates) {
  for (const char* bad :
       {"2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "0000-01-01",
        "26-01-01", "2026-1-01", "2026/01/01", "2026-01-01T00:00",
        "２０２６-01-01", "", "2026-01-0a"}) {
    absl::StatusOr<CivilDate> d = CivilDate::Parse(bad);
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(CivilDate::Parse("2026-02-30").status().message(),
              HasSubstr("01..28"));
  EXPECT_TRUE(CivilDate::Parse("2028-02-29").ok());
}

TEST(DueDateTest, DefaultCalendarSkipsWeekends) {
  Calendar cal = Calendar::Default();
  // Friday + 1 working day = Monday; FROM is not counted.
  EXPECT_EQ(DueDate(D("2026-11-27"), 1, cal)->ToString(), "2026-11-30");
  // Saturday + 1 = Monday.
  EXPECT_EQ(DueDate(D("2026-11-28"), 1, cal)->ToString(), "2026-11-30");
  // Monday + 5 = next Monday.
  EXPECT_EQ(DueDate(D("2026-11-30"), 5, cal)->ToString(), "2026-12-07");
  // Monday + 30 working days = 6 weeks later (no holidays).
  EXPECT_EQ(DueDate(D("2026-11-30"), 30, cal)->ToString(), "2027-01-11");
}

TEST(DueDateTest, HolidaysAreSkipped) {
  absl::StatusOr<Calendar> cal = ParseCalendar(
      "weekend: [sat, sun]\n"
      "holidays: [2026-12-21, {date: 2026-12-24, name: Christmas Eve}, "
      "2026-12-25]\n",
      "test");
  ASSERT_TRUE(cal.ok()) << cal.status();
  // Fri 18th + 1: Mon 21st is a holiday -> Tue 22nd.
  EXPECT_EQ(DueDate(D("2026-12-18"), 1, *cal)->ToString(), "2026-12-22");
  // Fri 18th + 3: 22, 23, (24, 25 off, 26-27 weekend) 28.
  EXPECT_EQ(DueDate(D("2026-12-18"), 3, *cal)->ToString(), "2026-12-28");
  EXPECT_EQ(cal->holidays.at(D("2026-12-24")), "Christmas Eve");
  EXPECT_TRUE(cal->HasHolidaysIn(2026));
  EXPECT_FALSE(cal->HasHolidaysIn(2027));
}

TEST(DueDateTest, Bounds) {
  Calendar cal = Calendar::Default();
  EXPECT_EQ(DueDate(D("2026-01-01"), 0, cal).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DueDate(D("2026-01-01"), kMaxWorkingDays + 1, cal).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(DueDate(D("2026-01-01"), kMaxWorkingDays, cal).ok());
  EXPECT_EQ(DueDate(D("9999-12-01"), 100, cal).status().code(),
            absl::StatusCode::kOutOfRange);
}

TEST(DueDateTest, CalendarWithoutWorkingDaysIsRefusedNotLooped) {
  absl::StatusOr<Calendar> all_weekend =
      ParseCalendar("weekend: [mon, tue, wed, thu, fri, sat, sun]\n", "closed");
  ASSERT_TRUE(all_weekend.ok());
  absl::StatusOr<CivilDate> due = DueDate(D("2026-01-01"), 5, *all_weekend);
  EXPECT_EQ(due.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(due.status().message(), HasSubstr("no working days"));

  // Every day of two years a holiday: a 5-day deadline in that span fails
  // after a bounded search; past the holidays it succeeds.
  std::string text = "weekend: []\nholidays:\n";
  std::optional<CivilDate> d = D("2026-01-01");
  for (int i = 0; i < 730; ++i) {
    text += "  - " + d->ToString() + "\n";
    d = d->AddDays(1);
  }
  absl::StatusOr<Calendar> holidays = ParseCalendar(text, "busy");
  ASSERT_TRUE(holidays.ok()) << holidays.status();
  EXPECT_EQ(DueDate(D("2025-12-31"), 5, *holidays)->ToString(), "2028-01-05");
  absl::StatusOr<Calendar> one_day_week =
      ParseCalendar("weekend: [mon, tue, wed, thu, fri, sat]\n", "sundays");
  ASSERT_TRUE(one_day_week.ok());
  EXPECT_EQ(DueDate(D("2026-11-30"), 2, *one_day_week)->ToString(),
            "2026-12-13");
}

TEST(CalendarFileTest, ErrorsNameKeyAndLine) {
  absl::StatusOr<Calendar> cal = ParseCalendar(
      "weekend: [sat, sunday, caturday]\n"
      "holidays:\n"
      "  - 2026-12-20\n"
      "  - 2026-13-01\n"
      "  - 2026-12-20\n"
      "utc_offset: \"+8\"\n"
      "colour: red\n",
      "bad");
  ASSERT_EQ(cal.status().code(), absl::StatusCode::kInvalidArgument);
  std::string m(cal.status().message());
  EXPECT_THAT(m, HasSubstr("calendar bad: "));
  EXPECT_THAT(m, HasSubstr("line 1, column 24: weekend[2]: \"caturday\" is not "
                           "a day of the week"));
  EXPECT_THAT(m, HasSubstr("line 4, column 5: holidays[1]: \"2026-13-01\" is "
                           "not a date: month must be 01..12"));
  EXPECT_THAT(m, HasSubstr("line 5, column 5: holidays[2]: 2026-12-20 is "
                           "listed twice (also at holidays[0])"));
  EXPECT_THAT(m, HasSubstr("line 6, column 1: utc_offset: expected an offset"));
  EXPECT_THAT(m, HasSubstr("line 7, column 1: colour: unknown key \"colour\""));
}

TEST(CalendarFileTest, ParsesAllFields) {
  absl::StatusOr<Calendar> cal = ParseCalendar(
      "weekend: [Fri, saturday]\n"
      "holidays: []\n"
      "utc_offset: -03:30\n"
      "source: test data\n",
      "x");
  ASSERT_TRUE(cal.ok()) << cal.status();
  EXPECT_TRUE(cal->IsWeekend(D("2026-11-27")));   // Friday
  EXPECT_TRUE(cal->IsWeekend(D("2026-11-28")));   // Saturday
  EXPECT_FALSE(cal->IsWeekend(D("2026-11-29")));  // Sunday
  EXPECT_EQ(cal->utc_offset_minutes, -210);
  EXPECT_EQ(cal->source, "test data");
  EXPECT_EQ(FormatUtcOffset(cal->utc_offset_minutes), "-03:30");
  // No weekend key: Saturday and Sunday.
  absl::StatusOr<Calendar> plain =
      ParseCalendar("holidays: [2026-01-01]\n", "p");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->weekend_mask, Calendar::Default().weekend_mask);
  EXPECT_EQ(ParseCalendar("", "e").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCalendar("[1, 2]", "e").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseCalendar("utc_offset: \"+14:01\"", "e").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CalendarFileTest, LoadCalendarChecksNameAndFile) {
  EXPECT_EQ(LoadCalendar("/tmp", "../etc/passwd").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadCalendar("/tmp", "Macau").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadCalendar("/nonexistent-dir", "macau").status().code(),
            absl::StatusCode::kNotFound);
  std::string dir = ::testing::TempDir();
  {
    std::ofstream f(dir + "/tiny-test.yaml");
    f << "weekend: [sun]\nholidays: [2026-05-01]\n";
  }
  absl::StatusOr<Calendar> cal = LoadCalendar(dir, "tiny-test");
  ASSERT_TRUE(cal.ok()) << cal.status();
  EXPECT_EQ(cal->name, "tiny-test");
  EXPECT_TRUE(cal->IsHoliday(D("2026-05-01")));
  std::remove((dir + "/tiny-test.yaml").c_str());
}

TEST(LocalTimeTest, LocalDateAndEndOfDayUnderOffset) {
  absl::StatusOr<Calendar> macau =
      ParseCalendar("utc_offset: \"+08:00\"\n", "m");
  ASSERT_TRUE(macau.ok());
  // 2026-12-20T15:59:59.999Z is 23:59:59.999 in Macau; one ms later it is
  // the 21st there.
  const int64_t t = 1797782399999;  // 2026-12-20T15:59:59.999Z
  EXPECT_EQ(LocalDate(t, *macau).ToString(), "2026-12-20");
  EXPECT_EQ(LocalDate(t + 1, *macau).ToString(), "2026-12-21");
  EXPECT_EQ(LocalDate(t, Calendar::Default()).ToString(), "2026-12-20");
  EXPECT_EQ(EndOfLocalDate(D("2026-12-20"), *macau), t + 1);
  EXPECT_EQ(EndOfLocalDate(D("2026-12-20"), Calendar::Default()),
            t + 1 + 8 * 3600 * 1000);
  // Before the epoch, and far out of range, still gives a date.
  EXPECT_EQ(LocalDate(-1, Calendar::Default()).ToString(), "1969-12-31");
  EXPECT_EQ(LocalDate(INT64_MAX, *macau), CivilDate::Max());
  EXPECT_EQ(LocalDate(INT64_MIN, *macau), CivilDate::Min());
  absl::StatusOr<Calendar> west =
      ParseCalendar("utc_offset: \"-05:00\"\n", "w");
  ASSERT_TRUE(west.ok());
  EXPECT_EQ(LocalDate(t, *west).ToString(), "2026-12-20");
  EXPECT_EQ(LocalDate(t - 11 * 3600 * 1000, *west).ToString(), "2026-12-19");
}

}  // namespace
}  // namespace onewindow::manifest
