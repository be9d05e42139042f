#include "tools/workflow_diff.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace onewindow::owctl {
namespace {

using Json = nlohmann::json;

// Nested machines deeper than this are not compared (the loader bounds
// depth; this bounds our own recursion).
constexpr int kMaxNesting = 100;

struct Found {
  std::string type;
  std::string place;
  const Json* state = nullptr;
};

using StateMap = std::map<std::string, Found, std::less<>>;

void Collect(const asl::Definition& def, const asl::Machine& m,
             const std::string& place, int depth, StateMap* out) {
  if (depth > kMaxNesting) return;
  for (const auto& [name, state] : m.states) {
    const std::string type = state->value("Type", "");
    (*out)[name] = Found{type, place, state};
    for (int i = 0;; ++i) {
      const asl::Machine* nested = def.Nested(state, i);
      if (nested == nullptr) break;
      const std::string where = type == "Parallel"
                                    ? name + " branch " + std::to_string(i + 1)
                                    : name + " items";
      Collect(def, *nested, where, depth + 1, out);
    }
  }
}

StateMap StatesOf(const asl::Definition& def) {
  StateMap out;
  Collect(def, def.root(), "", 0, &out);
  return out;
}

// A nested machine reduced to what belongs to its owning state: StartAt,
// the names of its states, and its other fields.
Json MachineShape(const Json& machine) {
  if (!machine.is_object()) return machine;
  Json out = Json::object();
  for (const auto& [key, value] : machine.items()) {
    if (key == "States" && value.is_object()) {
      Json names = Json::array();
      for (const auto& [name, s] : value.items()) names.push_back(name);
      out[key] = std::move(names);
    } else {
      out[key] = value;
    }
  }
  return out;
}

Json StateShape(const Json& state) {
  if (!state.is_object()) return state;
  Json out = state;
  if (auto b = out.find("Branches"); b != out.end() && b->is_array()) {
    for (Json& branch : *b) branch = MachineShape(branch);
  }
  for (const char* key : {"ItemProcessor", "Iterator"}) {
    if (auto p = out.find(key); p != out.end()) *p = MachineShape(*p);
  }
  return out;
}

std::vector<std::string> ChangedFields(const Json& a, const Json& b) {
  std::set<std::string> keys;
  if (a.is_object()) {
    for (const auto& [k, v] : a.items()) keys.insert(k);
  }
  if (b.is_object()) {
    for (const auto& [k, v] : b.items()) keys.insert(k);
  }
  std::vector<std::string> out;
  for (const std::string& k : keys) {
    auto ia = a.find(k);
    auto ib = b.find(k);
    const bool in_a = ia != a.end();
    const bool in_b = ib != b.end();
    if (in_a != in_b || (in_a && *ia != *ib)) out.push_back(k);
  }
  return out;
}

std::string Where(const DiffState& s) {
  std::string out = s.name + " (" + s.type + ")";
  if (!s.place.empty()) out += " in " + s.place;
  return out;
}

}  // namespace

DefinitionDiff DiffDefinitions(const asl::Definition& a,
                               const asl::Definition& b) {
  DefinitionDiff d;
  const StateMap sa = StatesOf(a);
  const StateMap sb = StatesOf(b);
  for (const auto& [name, f] : sa) {
    auto it = sb.find(name);
    if (it == sb.end()) {
      d.removed.push_back({name, f.type, f.place});
      continue;
    }
    std::vector<std::string> fields =
        ChangedFields(StateShape(*f.state), StateShape(*it->second.state));
    if (f.place != it->second.place) fields.insert(fields.begin(), "(place)");
    if (!fields.empty()) {
      d.changed.push_back({name, it->second.type, std::move(fields)});
    }
  }
  for (const auto& [name, f] : sb) {
    if (sa.count(name) == 0) d.added.push_back({name, f.type, f.place});
  }
  Json top_a = a.doc();
  Json top_b = b.doc();
  if (top_a.is_object()) top_a.erase("States");
  if (top_b.is_object()) top_b.erase("States");
  d.top_fields = ChangedFields(top_a, top_b);
  return d;
}

std::optional<std::string> MissingState(
    const std::vector<std::string>& current_states, const asl::Definition& b) {
  const StateMap sb = StatesOf(b);
  for (const std::string& s : current_states) {
    if (sb.count(s) == 0) return s;
  }
  return std::nullopt;
}

std::vector<std::string> DiffLines(const DefinitionDiff& d) {
  std::vector<std::string> out;
  if (!d.top_fields.empty()) {
    std::string line = "~ (definition): ";
    for (size_t i = 0; i < d.top_fields.size(); ++i) {
      if (i > 0) line += ", ";
      line += d.top_fields[i];
    }
    out.push_back(std::move(line));
  }
  for (const DiffState& s : d.removed) out.push_back("- " + Where(s));
  for (const DiffState& s : d.added) out.push_back("+ " + Where(s));
  for (const ChangedState& c : d.changed) {
    std::string line = "~ " + c.name + " (" + c.type + "): ";
    for (size_t i = 0; i < c.fields.size(); ++i) {
      if (i > 0) line += ", ";
      line += c.fields[i];
    }
    out.push_back(std::move(line));
  }
  return out;
}

nlohmann::json DefinitionDiff::ToJson() const {
  auto states = [](const std::vector<DiffState>& v) {
    Json a = Json::array();
    for (const DiffState& s : v) {
      a.push_back({{"state", s.name}, {"type", s.type}, {"place", s.place}});
    }
    return a;
  };
  Json changed_json = Json::array();
  for (const ChangedState& c : changed) {
    changed_json.push_back(
        {{"state", c.name}, {"type", c.type}, {"fields", c.fields}});
  }
  return {{"same", same()},
          {"definition_fields", top_fields},
          {"added", states(added)},
          {"removed", states(removed)},
          {"changed", std::move(changed_json)}};
}

}  // namespace onewindow::owctl
