// owctl calendar due: the due date of a deadline in working days, counted
// the way the engine counts it at submission (engine/manifest/calendar.h).
// Offline: the calendar is a file.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "engine/manifest/calendar.h"
#include "engine/manifest/civil_date.h"
#include "nlohmann/json.hpp"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace onewindow::owctl {
namespace {

using nlohmann::json;

// The calendar's name: the file's base name before its extension.
std::string CalendarName(const std::string& path) {
  std::string base = path;
  if (const auto slash = base.find_last_of('/'); slash != std::string::npos) {
    base = base.substr(slash + 1);
  }
  if (const auto dot = base.find('.'); dot != std::string::npos && dot > 0) {
    base = base.substr(0, dot);
  }
  return base;
}

// Reads at most the largest calendar file plus one byte, so that an
// oversized file is refused by the parser instead of read whole.
std::optional<std::string> ReadCalendarFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "owctl: --calendar %s: cannot read\n", path.c_str());
    return std::nullopt;
  }
  std::string text(manifest::kMaxCalendarBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    std::fprintf(stderr, "owctl: --calendar %s: cannot read\n", path.c_str());
    return std::nullopt;
  }
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

}  // namespace

int CalendarDue(const GlobalOptions& g, const CalendarDueArgs& args) {
  manifest::Calendar calendar = manifest::Calendar::Default();
  if (!args.calendar_file.empty()) {
    std::optional<std::string> text = ReadCalendarFile(args.calendar_file);
    if (!text) return kExitFailed;
    auto parsed =
        manifest::ParseCalendar(*text, CalendarName(args.calendar_file));
    if (!parsed.ok()) {
      std::fprintf(stderr, "owctl: --calendar %s: %s\n",
                   args.calendar_file.c_str(),
                   std::string(parsed.status().message()).c_str());
      return kExitFailed;
    }
    calendar = std::move(*parsed);
  }

  manifest::CivilDate from;
  if (args.from.empty()) {
    // Today in the calendar's local time, as the engine would take it.
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count();
    from = manifest::LocalDate(now_ms, calendar);
  } else {
    auto parsed = manifest::CivilDate::Parse(args.from);
    if (!parsed.ok()) {
      std::fprintf(stderr, "owctl: --from %s: %s\n", args.from.c_str(),
                   std::string(parsed.status().message()).c_str());
      return kExitUsage;
    }
    from = *parsed;
  }
  if (args.working_days < 1 || args.working_days > manifest::kMaxWorkingDays) {
    std::fprintf(stderr, "owctl: --working-days %d: expected 1..%d\n",
                 args.working_days, manifest::kMaxWorkingDays);
    return kExitUsage;
  }

  auto due = manifest::DueDate(from, args.working_days, calendar);
  if (!due.ok()) {
    std::fprintf(stderr, "owctl: calendar due: %s\n",
                 std::string(due.status().message()).c_str());
    return kExitFailed;
  }

  // The days not counted, and the years the file says nothing about.
  json days_off = json::array();
  json years_without_holidays = json::array();
  const bool has_file = !args.calendar_file.empty();
  for (auto d = from.AddDays(1); d && *d < *due; d = d->AddDays(1)) {
    if (calendar.IsWorkingDay(*d)) continue;
    std::string why;
    if (auto h = calendar.holidays.find(*d); h != calendar.holidays.end()) {
      why = h->second.empty() ? "holiday" : h->second;
    } else {
      why = std::string("weekend (") +
            std::string(manifest::WeekdayName(d->weekday())) + ")";
    }
    days_off.push_back({{"date", d->ToString()}, {"why", why}});
  }
  if (has_file) {
    const int first_year = from.AddDays(1).value_or(*due).year();
    for (int y = first_year; y <= due->year(); ++y) {
      if (!calendar.HasHolidaysIn(y)) years_without_holidays.push_back(y);
    }
  }

  if (g.json) {
    json out = {{"from", from.ToString()},
                {"working_days", args.working_days},
                {"calendar", calendar.name.empty() ? "default" : calendar.name},
                {"due_date", due->ToString()},
                {"days_off", std::move(days_off)}};
    if (has_file) out["years_without_holidays"] = years_without_holidays;
    std::printf("%s\n", Dump(out).c_str());
  } else {
    std::printf("%s\n", due->ToString().c_str());
  }
  for (const auto& y : years_without_holidays) {
    std::fprintf(stderr,
                 "owctl: note: %s lists no holidays in %d; that year was "
                 "counted with weekends only\n",
                 args.calendar_file.c_str(), y.get<int>());
  }
  return kExitOk;
}

}  // namespace onewindow::owctl
