// What a deployed service's manifest asks of the engine when a case is
// submitted and run: the case number prefix, the statutory deadline in
// working days and its calendar, the input check, per-task-type deadlines
// and where the applicant's name is. Built by the registry at deploy time;
// immutable and shared afterwards.
#ifndef ONEWINDOW_SCHEDULER_SERVICE_RULES_H_
#define ONEWINDOW_SCHEDULER_SERVICE_RULES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "onewindow/v1/workflows.pb.h"

namespace onewindow::scheduler {

// One failing field of a case's data.
struct FieldError {
  std::string pointer;  // JSON pointer, e.g. "/applicant/name"
  std::string message;
};

// Working-day arithmetic of one calendar.
class WorkingCalendar {
 public:
  virtual ~WorkingCalendar() = default;
  // The local date (YYYY-MM-DD) of an instant, and the date `days` working
  // days after it (the day itself not counted).
  virtual std::string LocalDate(int64_t ms) const = 0;
  virtual absl::StatusOr<std::string> AddWorkingDays(const std::string& date,
                                                     int days) const = 0;
  // The instant the local date ends (the first ms of the next day).
  virtual absl::StatusOr<int64_t> EndOfDay(const std::string& date) const = 0;
  // The local year of an instant (case numbers count per year).
  virtual int LocalYear(int64_t ms) const = 0;
};

struct ServiceRules {
  std::string case_prefix = "OW";
  int deadline_working_days = 0;  // 0 = none
  std::shared_ptr<const WorkingCalendar> calendar;  // never null
  // Checks the case data; every failing field.
  std::function<std::vector<FieldError>(const nlohmann::json&)> check_input;
  // "DEPT/type" -> working days.
  std::map<std::string, int> task_deadlines;
  // JSON pointer of the applicant field ("" = none).
  std::string applicant_field;
  onewindow::v1::ServiceManifest manifest;
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_SERVICE_RULES_H_
