#include "scheduler/manifest_rules.h"

#include <map>
#include <mutex>

#include "engine/manifest/json_schema.h"
#include "engine/manifest/service_manifest.h"

namespace onewindow::scheduler {

const std::map<std::string, std::string>& BuiltinCalendars();

namespace {

class ManifestCalendar final : public WorkingCalendar {
 public:
  explicit ManifestCalendar(manifest::Calendar cal) : cal_(std::move(cal)) {}

  std::string LocalDate(int64_t ms) const override {
    return manifest::LocalDate(ms, cal_).ToString();
  }
  int LocalYear(int64_t ms) const override {
    return manifest::LocalDate(ms, cal_).year();
  }
  absl::StatusOr<std::string> AddWorkingDays(const std::string& date,
                                             int days) const override {
    absl::StatusOr<manifest::CivilDate> from = manifest::CivilDate::Parse(date);
    if (!from.ok()) return from.status();
    absl::StatusOr<manifest::CivilDate> due =
        manifest::DueDate(*from, days, cal_);
    if (!due.ok()) return due.status();
    return due->ToString();
  }
  absl::StatusOr<int64_t> EndOfDay(const std::string& date) const override {
    absl::StatusOr<manifest::CivilDate> d = manifest::CivilDate::Parse(date);
    if (!d.ok()) return d.status();
    return manifest::EndOfLocalDate(*d, cal_);
  }

 private:
  const manifest::Calendar cal_;
};

}  // namespace

std::shared_ptr<const WorkingCalendar> WrapCalendar(manifest::Calendar cal) {
  return std::make_shared<ManifestCalendar>(std::move(cal));
}

std::shared_ptr<const ServiceRules> DefaultRules() {
  static const std::shared_ptr<const ServiceRules> rules = [] {
    auto r = std::make_shared<ServiceRules>();
    r->calendar = WrapCalendar(manifest::Calendar::Default());
    manifest::ToProto(manifest::ServiceManifest(), &r->manifest);
    return r;
  }();
  return rules;
}

RulesFactory MakeManifestRulesFactory(std::string calendar_dir) {
  struct Calendars {
    std::mutex mu;
    std::map<std::string, std::shared_ptr<const WorkingCalendar>> loaded;
  };
  auto cache = std::make_shared<Calendars>();
  return [dir = std::move(calendar_dir), cache](const std::string& text)
             -> absl::StatusOr<std::shared_ptr<const ServiceRules>> {
    if (text.empty()) return DefaultRules();
    absl::StatusOr<manifest::ServiceManifest> m =
        manifest::ParseServiceManifest(text);
    if (!m.ok()) return m.status();
    auto rules = std::make_shared<ServiceRules>();
    rules->case_prefix = m->case_prefix;
    rules->deadline_working_days = m->deadline_working_days;
    rules->applicant_field = m->applicant_field;
    rules->task_deadlines = m->task_deadline_working_days;
    manifest::ToProto(*m, &rules->manifest);
    if (m->calendar.empty()) {
      rules->calendar = DefaultRules()->calendar;
    } else {
      std::lock_guard lock(cache->mu);
      auto it = cache->loaded.find(m->calendar);
      if (it == cache->loaded.end()) {
        // --calendar-dir first, then the calendars built into the server.
        absl::StatusOr<manifest::Calendar> cal =
            absl::NotFoundError("no calendar named \"" + m->calendar +
                                "\" (in the server's --calendar-dir or built "
                                "in)");
        if (!dir.empty()) cal = manifest::LoadCalendar(dir, m->calendar);
        if (!cal.ok() && cal.status().code() == absl::StatusCode::kNotFound) {
          auto b = BuiltinCalendars().find(m->calendar);
          if (b != BuiltinCalendars().end()) {
            cal = manifest::ParseCalendar(b->second, m->calendar);
          }
        }
        if (!cal.ok()) {
          return absl::FailedPreconditionError(
              "calendar: \"" + m->calendar + "\": " +
              std::string(cal.status().message()));
        }
        it = cache->loaded.emplace(m->calendar, WrapCalendar(std::move(*cal)))
                 .first;
      }
      rules->calendar = it->second;
    }
    if (m->compiled_schema != nullptr) {
      std::shared_ptr<const manifest::JsonSchema> schema = m->compiled_schema;
      rules->check_input = [schema](const nlohmann::json& data) {
        std::vector<FieldError> out;
        manifest::ValidationResult r = schema->Validate(data);
        for (const auto& e : r.errors) {
          out.push_back(FieldError{e.instance_pointer, e.message});
        }
        if (!r.status.ok()) {
          out.push_back(FieldError{"", std::string(r.status.message())});
        }
        if (r.truncated) {
          out.push_back(FieldError{"", "more errors not listed"});
        }
        return out;
      };
    }
    return std::shared_ptr<const ServiceRules>(std::move(rules));
  };
}

}  // namespace onewindow::scheduler
