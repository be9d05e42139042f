// Drawings of ASL definitions: Mermaid flowcharts and Graphviz dot graphs.
//
// Every state is a node showing its name and type (a Task also its
// department and task type from "dept:<DEPT>/<type>"); Choice rules, the
// Default, Catch and Retry are labelled edges; Parallel branches and Map item
// processors are nested clusters; Start and End are marked. A state's node
// has a stable id, so a page showing the SVG can find a state by name (see
// StateDomId). States of a case can be highlighted (passed, waiting now,
// failed).
//
// Pure functions: no I/O, no clock. Thread-safe. Running Graphviz to get SVG
// is separate (svg.h).
#ifndef ONEWINDOW_ENGINE_RENDER_RENDER_H_
#define ONEWINDOW_ENGINE_RENDER_RENDER_H_

#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/asl/definition.h"
#include "nlohmann/json.hpp"

namespace onewindow::render {

// States of one case to mark. A state in several sets is drawn by the
// strongest: failed, then current, then passed.
struct Highlight {
  std::set<std::string, std::less<>> passed;   // entered at some point
  std::set<std::string, std::less<>> current;  // where the case waits now
  std::set<std::string, std::less<>> failed;   // where it failed
  bool empty() const {
    return passed.empty() && current.empty() && failed.empty();
  }
};

// One history event, as far as highlighting needs it.
struct HistoryStep {
  std::string type;   // "StateEntered", "StateFailed", ...
  std::string state;  // the state it concerns ("" for execution events)
};

// The marks for a case: every state entered is passed; `current` (the
// case's current states) is where it waits; a state is failed when its last
// StateFailed event was not followed by a retry, a catch or a new entry.
Highlight HighlightFromHistory(const std::vector<HistoryStep>& events,
                               const std::vector<std::string>& current);

struct RenderOptions {
  // Marks states; nullptr = none.
  const Highlight* highlight = nullptr;
  // A caption for the whole drawing (e.g. "food-licence@3"); empty = none.
  std::string title;
  // Edge and node label lines longer than this many characters are cut and
  // end with "…" (the whole text stays in the dot tooltip).
  size_t max_label_chars = 72;
};

// A Mermaid flowchart ("flowchart TD ..."). A state's node id is
// "s_<escaped name>"; its class is its type in lower case (task, choice...)
// plus passed, current or failed when highlighted.
std::string ToMermaid(const asl::Definition& def,
                      const RenderOptions& options = {});

// A Graphviz digraph. Each state's node has id="state-<escaped name>" and
// class="state <type in lower case>[ passed|current|failed]"; the Start and
// End markers have ids "start" and "end"; a Parallel or Map state's cluster
// has id "cluster-<escaped name>" (its branches "…-branch-<N>", a Map's
// item processor "…-items"). Edges have class next, choice, default, catch,
// retry or branch. In the SVG, Graphviz writes '-' in ids as "&#45;" (the
// same id once parsed) and prefixes the classes with node/edge/cluster.
std::string ToDot(const asl::Definition& def,
                  const RenderOptions& options = {});

// A short readable form of one Choice rule (a Choices element, or a rule
// nested in And/Or/Not): "$.premises.area > 100", "$.name == \"Lee\"",
// "$.x is present", "And($.a == true, Not($.b < 3))". The Next field is
// ignored. Uncut; bounded in depth (deeper rules show as "…").
std::string RuleText(const nlohmann::json& rule);

// A state name as an id fragment: ASCII letters and digits are kept, every
// other byte (including '_') becomes '_' and two upper-case hex digits
// ("Issue licence" -> "Issue_20licence"). Distinct names give distinct
// fragments.
std::string EscapeStateName(std::string_view name);

// "state-" + EscapeStateName(name): the SVG id of the state's node.
std::string StateDomId(std::string_view name);

}  // namespace onewindow::render

#endif  // ONEWINDOW_ENGINE_RENDER_RENDER_H_
