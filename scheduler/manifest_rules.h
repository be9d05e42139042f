// Service rules from a service manifest (engine/manifest): the registry's
// RulesFactory for a server with a calendar directory.
#ifndef ONEWINDOW_SCHEDULER_MANIFEST_RULES_H_
#define ONEWINDOW_SCHEDULER_MANIFEST_RULES_H_

#include <string>

#include "engine/manifest/calendar.h"
#include "scheduler/registry.h"

namespace onewindow::scheduler {

// Parses manifests and loads the calendars they name from `calendar_dir`
// (NAME.yaml), else from the calendars built into the server (those of
// deploy/calendars); each is read once and kept. An empty manifest gives
// DefaultRules().
RulesFactory MakeManifestRulesFactory(std::string calendar_dir);

// A WorkingCalendar over a manifest calendar.
std::shared_ptr<const WorkingCalendar> WrapCalendar(manifest::Calendar cal);

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_MANIFEST_RULES_H_
