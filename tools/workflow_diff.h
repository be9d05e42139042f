// What changed between two definitions (`owctl workflow diff A B`): states
// added, removed and changed (which fields), and whether a running case could
// move from A to B. State names are unique across a whole definition, so
// states are matched by name at every level; a state that moved into or out
// of a Parallel/Map shows its new place as a changed "(place)". Pure;
// thread-safe.
#ifndef ONEWINDOW_TOOLS_WORKFLOW_DIFF_H_
#define ONEWINDOW_TOOLS_WORKFLOW_DIFF_H_

#include <optional>
#include <string>
#include <vector>

#include "engine/asl/definition.h"
#include "nlohmann/json.hpp"

namespace onewindow::owctl {

struct DiffState {
  std::string name;
  std::string type;
  std::string place;  // "" = top level, else e.g. "Opinions branch 2"
};

struct ChangedState {
  std::string name;
  std::string type;  // in B
  // Top-level fields of the state that differ, sorted ("Next", "Retry",
  // "Type"...). A Parallel's Branches or a Map's ItemProcessor counts as
  // changed only when its machines' StartAt, state names or own fields
  // differ; changes inside nested states are reported on those states.
  // "(place)" when the state moved between machines.
  std::vector<std::string> fields;
};

struct DefinitionDiff {
  std::vector<DiffState> added;
  std::vector<DiffState> removed;
  std::vector<ChangedState> changed;
  // Changed fields of the definition itself (StartAt, TimeoutSeconds,
  // Comment...).
  std::vector<std::string> top_fields;

  bool same() const {
    return added.empty() && removed.empty() && changed.empty() &&
           top_fields.empty();
  }
  nlohmann::json ToJson() const;
};

DefinitionDiff DiffDefinitions(const asl::Definition& a,
                               const asl::Definition& b);

// The first of `current_states` that `b` has no state of that name for, or
// nullopt when a case waiting at them could move to `b`.
std::optional<std::string> MissingState(
    const std::vector<std::string>& current_states, const asl::Definition& b);

// Human-readable lines: "+ Name (Type)", "- Name (Type)",
// "~ Name (Type): Field, Field", "~ (definition): StartAt".
std::vector<std::string> DiffLines(const DefinitionDiff& d);

}  // namespace onewindow::owctl

#endif  // ONEWINDOW_TOOLS_WORKFLOW_DIFF_H_
