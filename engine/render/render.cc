// Drawing a Definition: first a small graph model (nodes, edges, nested
// clusters) built from the definition, then that model written as Mermaid or
// as Graphviz dot, so both drawings always show the same thing.
#include "engine/render/render.h"

#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace onewindow::render {
namespace {

using Json = nlohmann::json;

// Nested Parallel/Map machines deeper than this are drawn as one placeholder
// node (the loader bounds JSON depth; this bounds our own recursion).
constexpr int kMaxNesting = 12;
// Rules nested deeper than this show as "…".
constexpr int kMaxRuleDepth = 16;
// Most names listed in one "retry"/"catch" label before "…".
constexpr size_t kMaxErrorNames = 6;

constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // …
constexpr std::string_view kDot = " \xC2\xB7 ";         // " · "
constexpr std::string_view kTimes = "\xC3\x97";         // ×

// ---------------------------------------------------------------------------
// Text helpers.

const std::string* Str(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>()
                                            : nullptr;
}

const Json* Field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::string Compact(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Cuts `s` to at most `max` characters (UTF-8 code points), ending with "…".
std::string Cut(const std::string& s, size_t max) {
  if (max == 0) return s;
  size_t chars = 0;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == max - 1) {
        // Is there more than this last character?
        size_t j = i + 1;
        while (j < s.size() &&
               (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80)
          ++j;
        if (j >= s.size()) return s;
        return s.substr(0, i) + std::string(kEllipsis);
      }
      ++chars;
    }
  }
  return s;
}

// A number of seconds as a short duration: "45 s", "5 min", "2 h", "14 d".
std::string Duration(const Json& seconds) {
  if (!seconds.is_number()) return Compact(seconds);
  if (!seconds.is_number_integer() && !seconds.is_number_unsigned()) {
    return Compact(seconds) + " s";
  }
  const int64_t s = seconds.get<int64_t>();
  if (s > 0 && s % 86400 == 0) return std::to_string(s / 86400) + " d";
  if (s > 0 && s % 3600 == 0) return std::to_string(s / 3600) + " h";
  if (s > 0 && s % 60 == 0) return std::to_string(s / 60) + " min";
  return std::to_string(s) + " s";
}

std::string ErrorNames(const Json& catcher) {
  const Json* names = Field(catcher, "ErrorEquals");
  if (names == nullptr || !names->is_array()) return "?";
  std::string out;
  size_t n = 0;
  for (const Json& e : *names) {
    if (n == kMaxErrorNames) {
      out += ", ";
      out += kEllipsis;
      break;
    }
    if (!out.empty()) out += ", ";
    out += e.is_string() ? e.get<std::string>() : Compact(e);
    ++n;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Choice rules.

struct Comparator {
  std::string_view name;
  std::string_view op;
  bool path;  // the value is a path (…Path variants)
};

constexpr Comparator kComparators[] = {
    {"StringEquals", "==", false},
    {"StringEqualsPath", "==", true},
    {"StringLessThan", "<", false},
    {"StringLessThanPath", "<", true},
    {"StringGreaterThan", ">", false},
    {"StringGreaterThanPath", ">", true},
    {"StringLessThanEquals", "<=", false},
    {"StringLessThanEqualsPath", "<=", true},
    {"StringGreaterThanEquals", ">=", false},
    {"StringGreaterThanEqualsPath", ">=", true},
    {"StringMatches", "matches", false},
    {"NumericEquals", "==", false},
    {"NumericEqualsPath", "==", true},
    {"NumericLessThan", "<", false},
    {"NumericLessThanPath", "<", true},
    {"NumericGreaterThan", ">", false},
    {"NumericGreaterThanPath", ">", true},
    {"NumericLessThanEquals", "<=", false},
    {"NumericLessThanEqualsPath", "<=", true},
    {"NumericGreaterThanEquals", ">=", false},
    {"NumericGreaterThanEqualsPath", ">=", true},
    {"BooleanEquals", "==", false},
    {"BooleanEqualsPath", "==", true},
    {"TimestampEquals", "==", false},
    {"TimestampEqualsPath", "==", true},
    {"TimestampLessThan", "<", false},
    {"TimestampLessThanPath", "<", true},
    {"TimestampGreaterThan", ">", false},
    {"TimestampGreaterThanPath", ">", true},
    {"TimestampLessThanEquals", "<=", false},
    {"TimestampLessThanEqualsPath", "<=", true},
    {"TimestampGreaterThanEquals", ">=", false},
    {"TimestampGreaterThanEqualsPath", ">=", true},
};

struct TypeTest {
  std::string_view name;
  std::string_view yes;
  std::string_view no;
};

constexpr TypeTest kTypeTests[] = {
    {"IsPresent", "is present", "is absent"},
    {"IsNull", "is null", "is not null"},
    {"IsNumeric", "is numeric", "is not numeric"},
    {"IsString", "is a string", "is not a string"},
    {"IsBoolean", "is a boolean", "is not a boolean"},
    {"IsTimestamp", "is a timestamp", "is not a timestamp"},
};

std::string RuleTextAt(const Json& rule, int depth) {
  if (depth > kMaxRuleDepth) return std::string(kEllipsis);
  if (!rule.is_object()) return Compact(rule);
  for (std::string_view op : {"And", "Or"}) {
    const Json* list = Field(rule, op);
    if (list == nullptr) continue;
    std::string out(op);
    out += "(";
    if (list->is_array()) {
      bool first = true;
      for (const Json& r : *list) {
        if (!first) out += ", ";
        first = false;
        out += RuleTextAt(r, depth + 1);
      }
    }
    return out + ")";
  }
  if (const Json* inner = Field(rule, "Not")) {
    return "Not(" + RuleTextAt(*inner, depth + 1) + ")";
  }
  if (const std::string* cond = Str(rule, "Condition")) return *cond;
  const std::string* var = Str(rule, "Variable");
  const std::string subject = var != nullptr ? *var : "?";
  for (const Comparator& c : kComparators) {
    const Json* v = Field(rule, c.name);
    if (v == nullptr) continue;
    std::string value =
        c.path && v->is_string() ? v->get<std::string>() : Compact(*v);
    return subject + " " + std::string(c.op) + " " + value;
  }
  for (const TypeTest& t : kTypeTests) {
    const Json* v = Field(rule, t.name);
    if (v == nullptr) continue;
    const bool yes = v->is_boolean() ? v->get<bool>() : true;
    return subject + " " + std::string(yes ? t.yes : t.no);
  }
  return subject + " ?";
}

// ---------------------------------------------------------------------------
// The graph model.

enum class NodeKind { kState, kStart, kEnd, kJoin, kElided };
enum class EdgeKind { kNext, kChoice, kDefault, kCatch, kRetry, kBranch };

struct Node {
  NodeKind kind = NodeKind::kState;
  std::string name;  // state name (for kJoin and kElided: the owning state)
  std::string type;  // ASL Type of a state
  std::vector<std::string> lines;  // label lines after the name
};

struct Edge {
  size_t from = 0;
  size_t to = 0;
  EdgeKind kind = EdgeKind::kNext;
  std::string label;
};

struct Cluster {
  std::string owner;  // state owning it ("" for the top level)
  int branch = -1;    // Parallel branch index; -1 = the state's own cluster
                      // or a Map's item processor
  std::string label;
  std::string type;  // "parallel", "map", "branch", "items"
  std::vector<size_t> nodes;
  std::vector<Cluster> children;
};

struct Graph {
  std::vector<Node> nodes;
  std::vector<Edge> edges;
  Cluster root;
};

// States of a machine, StartAt first, then in the order their transitions
// reach them, then the unreachable ones by name.
std::vector<std::pair<std::string, const Json*>> OrderStates(
    const asl::Machine& m) {
  std::vector<std::pair<std::string, const Json*>> out;
  std::set<std::string, std::less<>> seen;
  std::deque<std::string> queue;
  auto push = [&](const std::string& name) {
    if (m.states.count(name) != 0 && seen.insert(name).second) {
      queue.push_back(name);
    }
  };
  push(m.start_at);
  while (!queue.empty()) {
    const std::string name = queue.front();
    queue.pop_front();
    const Json* s = m.states.find(name)->second;
    out.emplace_back(name, s);
    if (const Json* choices = Field(*s, "Choices");
        choices != nullptr && choices->is_array()) {
      for (const Json& c : *choices) {
        if (const std::string* n = Str(c, "Next")) push(*n);
      }
    }
    if (const std::string* n = Str(*s, "Default")) push(*n);
    if (const std::string* n = Str(*s, "Next")) push(*n);
    if (const Json* catches = Field(*s, "Catch");
        catches != nullptr && catches->is_array()) {
      for (const Json& c : *catches) {
        if (const std::string* n = Str(c, "Next")) push(*n);
      }
    }
  }
  for (const auto& [name, s] : m.states) {
    if (seen.count(name) == 0) out.emplace_back(name, s);
  }
  return out;
}

class Builder {
 public:
  explicit Builder(const asl::Definition& def) : def_(def) {}

  Graph Build() {
    const size_t start = AddNode({NodeKind::kStart, "", "", {}});
    graph_.root.nodes.push_back(start);
    const size_t end = AddNode({NodeKind::kEnd, "", "", {}});
    BuildMachine(def_.root(), &graph_.root, start, EdgeKind::kNext, end, 0);
    graph_.root.nodes.push_back(end);
    for (const Pending& p : pending_) {
      auto it = by_name_.find(p.to);
      if (it == by_name_.end()) continue;  // not in a valid definition
      graph_.edges.push_back({p.from, it->second, p.kind, p.label});
    }
    return std::move(graph_);
  }

 private:
  struct Pending {
    size_t from;
    std::string to;
    EdgeKind kind;
    std::string label;
  };

  size_t AddNode(Node n) {
    graph_.nodes.push_back(std::move(n));
    return graph_.nodes.size() - 1;
  }

  void Link(size_t from, const std::string& to, EdgeKind kind,
            std::string label = "") {
    pending_.push_back({from, to, kind, std::move(label)});
  }
  void LinkNode(size_t from, size_t to, EdgeKind kind, std::string label = "") {
    graph_.edges.push_back({from, to, kind, std::move(label)});
  }

  // Draws machine `m` inside `into`: `entry` leads to its StartAt; states
  // that end the machine lead to `exit`.
  void BuildMachine(const asl::Machine& m, Cluster* into, size_t entry,
                    EdgeKind entry_kind, size_t exit, int depth) {
    if (depth > kMaxNesting) {
      Node n{NodeKind::kElided, graph_.nodes[entry].name, "", {}};
      n.lines.push_back("(nested too deep to draw)");
      const size_t id = AddNode(std::move(n));
      into->nodes.push_back(id);
      LinkNode(entry, id, entry_kind);
      LinkNode(id, exit, EdgeKind::kNext);
      return;
    }
    Link(entry, m.start_at, entry_kind);
    for (const auto& [name, state] : OrderStates(m)) {
      BuildState(name, *state, into, exit, depth);
    }
  }

  void BuildState(const std::string& name, const Json& s, Cluster* into,
                  size_t exit, int depth) {
    const std::string* type_p = Str(s, "Type");
    const std::string type = type_p != nullptr ? *type_p : "?";
    Node node{NodeKind::kState, name, type, {}};
    node.lines = Describe(type, s);

    Cluster* home = into;
    size_t join = 0;
    const bool nests = type == "Parallel" || type == "Map";
    if (nests) {
      Cluster c;
      c.owner = name;
      c.label = name + std::string(kDot) + type;
      c.type = type == "Parallel" ? "parallel" : "map";
      into->children.push_back(std::move(c));
      home = &into->children.back();
    }
    const size_t id = AddNode(std::move(node));
    by_name_[name] = id;
    home->nodes.push_back(id);

    if (nests) {
      join = AddNode({NodeKind::kJoin, name, "", {}});
      if (type == "Parallel") {
        const Json* branches = Field(s, "Branches");
        const size_t n =
            branches != nullptr && branches->is_array() ? branches->size() : 0;
        for (size_t i = 0; i < n; ++i) {
          const asl::Machine* m = def_.Nested(&s, static_cast<int>(i));
          if (m == nullptr) continue;
          Cluster b;
          b.owner = name;
          b.branch = static_cast<int>(i);
          b.label = "branch " + std::to_string(i + 1);
          b.type = "branch";
          home->children.push_back(std::move(b));
          // `home` stays valid: children of `into` do not move while the
          // children of `home` grow.
          BuildMachine(*m, &home->children.back(), id, EdgeKind::kBranch, join,
                       depth + 1);
        }
      } else if (const asl::Machine* m = def_.Nested(&s, 0)) {
        Cluster b;
        b.owner = name;
        b.label = "each item";
        b.type = "items";
        home->children.push_back(std::move(b));
        BuildMachine(*m, &home->children.back(), id, EdgeKind::kBranch, join,
                     depth + 1);
      }
      home->nodes.push_back(join);
    }
    // Where the state goes on: a Parallel/Map continues from its join.
    const size_t out = nests ? join : id;

    if (const Json* retry = Field(s, "Retry");
        retry != nullptr && retry->is_array()) {
      for (const Json& r : *retry) {
        const Json* max = Field(r, "MaxAttempts");
        const int64_t attempts = max != nullptr && max->is_number_integer()
                                     ? max->get<int64_t>()
                                     : 3;
        if (attempts <= 0) continue;
        LinkNode(id, id, EdgeKind::kRetry,
                 "retry " + ErrorNames(r) + " " + std::string(kTimes) +
                     std::to_string(attempts));
      }
    }
    if (type == "Choice") {
      if (const Json* choices = Field(s, "Choices");
          choices != nullptr && choices->is_array()) {
        for (const Json& c : *choices) {
          if (const std::string* next = Str(c, "Next")) {
            Link(id, *next, EdgeKind::kChoice, RuleText(c));
          }
        }
      }
      if (const std::string* d = Str(s, "Default")) {
        Link(id, *d, EdgeKind::kDefault, "Default");
      }
    }
    if (const Json* catches = Field(s, "Catch");
        catches != nullptr && catches->is_array()) {
      for (const Json& c : *catches) {
        if (const std::string* next = Str(c, "Next")) {
          Link(id, *next, EdgeKind::kCatch, "catch " + ErrorNames(c));
        }
      }
    }
    if (const std::string* next = Str(s, "Next")) {
      Link(out, *next, EdgeKind::kNext);
    }
    const Json* end = Field(s, "End");
    if ((end != nullptr && end->is_boolean() && end->get<bool>()) ||
        type == "Succeed") {
      LinkNode(out, exit, EdgeKind::kNext);
    }
  }

  // The label lines under a state's name.
  static std::vector<std::string> Describe(const std::string& type,
                                           const Json& s) {
    std::vector<std::string> lines;
    std::string head = type;
    if (type == "Task") {
      const std::string* resource = Str(s, "Resource");
      std::string dept, task_type;
      if (resource != nullptr &&
          asl::ParseDeptResource(*resource, &dept, &task_type)) {
        lines.push_back(head + std::string(kDot) + dept);
        lines.push_back(task_type);
      } else {
        lines.push_back(head);
        if (resource != nullptr) lines.push_back(*resource);
      }
      if (const Json* t = Field(s, "TimeoutSeconds")) {
        lines.push_back("timeout " + Duration(*t));
      } else if (const std::string* tp = Str(s, "TimeoutSecondsPath")) {
        lines.push_back("timeout " + *tp);
      }
      if (const Json* h = Field(s, "HeartbeatSeconds")) {
        lines.push_back("heartbeat " + Duration(*h));
      }
      return lines;
    }
    if (type == "Wait") {
      if (const Json* v = Field(s, "Seconds")) {
        head += std::string(kDot) + Duration(*v);
      } else if (const std::string* p = Str(s, "SecondsPath")) {
        head += std::string(kDot) + *p + " seconds";
      } else if (const std::string* t = Str(s, "Timestamp")) {
        head += std::string(kDot) + "until " + *t;
      } else if (const std::string* tp = Str(s, "TimestampPath")) {
        head += std::string(kDot) + "until " + *tp;
      }
    } else if (type == "Parallel") {
      const Json* b = Field(s, "Branches");
      const size_t n = b != nullptr && b->is_array() ? b->size() : 0;
      head += std::string(kDot) + std::to_string(n) +
              (n == 1 ? " branch" : " branches");
    } else if (type == "Map") {
      if (const std::string* items = Str(s, "ItemsPath")) {
        head += std::string(kDot) + "each of " + *items;
      } else if (const Json* items = Field(s, "Items")) {
        head +=
            std::string(kDot) + "each of " +
            (items->is_string() ? items->get<std::string>() : Compact(*items));
      }
      if (const Json* mc = Field(s, "MaxConcurrency");
          mc != nullptr && mc->is_number_integer() && mc->get<int64_t>() > 0) {
        lines.push_back(head);
        lines.push_back("at most " + std::to_string(mc->get<int64_t>()) +
                        " at once");
        return lines;
      }
    } else if (type == "Fail") {
      if (const std::string* e = Str(s, "Error")) {
        head += std::string(kDot) + *e;
      } else if (const std::string* ep = Str(s, "ErrorPath")) {
        head += std::string(kDot) + *ep;
      }
    }
    lines.push_back(head);
    return lines;
  }

  const asl::Definition& def_;
  Graph graph_;
  std::map<std::string, size_t, std::less<>> by_name_;
  std::vector<Pending> pending_;
};

// ---------------------------------------------------------------------------
// Shared presentation.

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// "passed", "current", "failed" or "" for a state.
std::string_view Mark(const Highlight* h, const std::string& name) {
  if (h == nullptr) return "";
  if (h->failed.count(name) != 0) return "failed";
  if (h->current.count(name) != 0) return "current";
  if (h->passed.count(name) != 0) return "passed";
  return "";
}

std::vector<std::string> LabelLines(const Node& n, size_t max) {
  std::vector<std::string> lines;
  switch (n.kind) {
    case NodeKind::kStart:
      return {"Start"};
    case NodeKind::kEnd:
      return {"End"};
    case NodeKind::kJoin:
      return {};
    case NodeKind::kElided:
    case NodeKind::kState:
      lines.push_back(Cut(n.name, max));
      for (const std::string& l : n.lines) lines.push_back(Cut(l, max));
      return lines;
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Mermaid.

// Text inside a quoted Mermaid label: entity codes for what Mermaid or the
// HTML it produces would read as markup.
std::string MermaidText(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "#quot;";
        break;
      case '#':
        out += "#35;";
        break;
      case '<':
        out += "#lt;";
        break;
      case '>':
        out += "#gt;";
        break;
      case '&':
        out += "#amp;";
        break;
      case '`':
        out += "#96;";
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string MermaidId(const Node& n) {
  switch (n.kind) {
    case NodeKind::kStart:
      return "ow_start";
    case NodeKind::kEnd:
      return "ow_end";
    case NodeKind::kJoin:
      return "j_" + EscapeStateName(n.name);
    case NodeKind::kElided:
      return "x_" + EscapeStateName(n.name);
    case NodeKind::kState:
      return "s_" + EscapeStateName(n.name);
  }
  return "";
}

std::string MermaidClusterId(const Cluster& c) {
  std::string id = "c_" + EscapeStateName(c.owner);
  if (c.type == "branch") id += "_b" + std::to_string(c.branch + 1);
  if (c.type == "items") id += "_items";
  return id;
}

std::string MermaidNode(const Node& n, size_t max) {
  std::string label;
  for (const std::string& l : LabelLines(n, max)) {
    if (!label.empty()) label += "<br/>";
    label += MermaidText(l);
  }
  const std::string q = "\"" + label + "\"";
  const std::string id = MermaidId(n);
  switch (n.kind) {
    case NodeKind::kStart:
      return id + "((\"Start\"))";
    case NodeKind::kEnd:
      return id + "(((\"End\")))";
    case NodeKind::kJoin:
      return id + "((\" \"))";
    case NodeKind::kElided:
      return id + "[" + q + "]";
    case NodeKind::kState:
      break;
  }
  if (n.type == "Choice") return id + "{" + q + "}";
  if (n.type == "Task") return id + "(" + q + ")";
  if (n.type == "Parallel" || n.type == "Map") return id + "[[" + q + "]]";
  if (n.type == "Wait") return id + "[/" + q + "/]";
  if (n.type == "Succeed") return id + "([" + q + "])";
  if (n.type == "Fail") return id + "{{" + q + "}}";
  return id + "[" + q + "]";
}

void MermaidCluster(const Graph& g, const Cluster& c, int indent, size_t max,
                    std::string* out) {
  const std::string pad(static_cast<size_t>(indent) * 2, ' ');
  const bool boxed = !c.type.empty();
  std::string inner = pad;
  if (boxed) {
    *out += pad + "subgraph " + MermaidClusterId(c) + " [\"" +
            MermaidText(Cut(c.label, max)) + "\"]\n";
    inner += "  ";
  }
  for (size_t id : c.nodes) {
    *out += inner + MermaidNode(g.nodes[id], max) + "\n";
  }
  for (const Cluster& child : c.children) {
    MermaidCluster(g, child, indent + (boxed ? 1 : 0), max, out);
  }
  if (boxed) *out += pad + "end\n";
}

std::string MermaidEdge(const Graph& g, const Edge& e, size_t max) {
  const std::string from = MermaidId(g.nodes[e.from]);
  const std::string to = MermaidId(g.nodes[e.to]);
  const std::string label =
      e.label.empty() ? "" : "|\"" + MermaidText(Cut(e.label, max)) + "\"|";
  switch (e.kind) {
    case EdgeKind::kCatch:
    case EdgeKind::kRetry:
      return from + " -.->" + label + " " + to;
    case EdgeKind::kBranch:
      return from + " ==>" + label + " " + to;
    default:
      return from + " -->" + label + " " + to;
  }
}

// Mermaid class name of a state type: "task", "choice", ...
std::string TypeClass(const std::string& type) {
  return type.empty() ? "state" : Lower(type);
}

}  // namespace

std::string RuleText(const Json& rule) { return RuleTextAt(rule, 0); }

Highlight HighlightFromHistory(const std::vector<HistoryStep>& events,
                               const std::vector<std::string>& current) {
  Highlight h;
  std::set<std::string, std::less<>> failing;
  for (const HistoryStep& e : events) {
    if (e.state.empty()) continue;
    if (e.type == "StateEntered") {
      h.passed.insert(e.state);
      failing.erase(e.state);
    } else if (e.type == "StateFailed") {
      failing.insert(e.state);
    } else if (e.type == "StateRetryScheduled" || e.type == "StateCaught") {
      failing.erase(e.state);
    }
  }
  h.failed = std::move(failing);
  h.current.insert(current.begin(), current.end());
  return h;
}

std::string EscapeStateName(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(name.size());
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9')) {
      out.push_back(ch);
    } else {
      out.push_back('_');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string StateDomId(std::string_view name) {
  return "state-" + EscapeStateName(name);
}

std::string ToMermaid(const asl::Definition& def,
                      const RenderOptions& options) {
  const Graph g = Builder(def).Build();
  const size_t max = options.max_label_chars;
  std::string out;
  if (!options.title.empty()) {
    // YAML front matter: a double-quoted scalar without escapes.
    std::string title;
    for (char c : options.title) {
      if (c == '"') {
        title += '\'';
      } else if (c == '\\') {
        title += '/';
      } else if (c == '\n' || c == '\r') {
        title += ' ';
      } else {
        title += c;
      }
    }
    out += "---\ntitle: \"" + title + "\"\n---\n";
  }
  out += "flowchart TD\n";
  MermaidCluster(g, g.root, 1, max, &out);
  for (const Edge& e : g.edges) out += "  " + MermaidEdge(g, e, max) + "\n";

  // Classes: one per state type, then the highlight marks (later classDefs
  // win where both set a property).
  static constexpr std::pair<std::string_view, std::string_view> kStyles[] = {
      {"task", "fill:#e8f0fe,stroke:#3367d6"},
      {"choice", "fill:#fff8e1,stroke:#f9a825"},
      {"pass", "fill:#f5f5f5,stroke:#757575"},
      {"wait", "fill:#f3e5f5,stroke:#8e24aa"},
      {"parallel", "fill:#e0f2f1,stroke:#00897b"},
      {"map", "fill:#e0f2f1,stroke:#00897b"},
      {"succeed", "fill:#e8f5e9,stroke:#2e7d32"},
      {"fail", "fill:#ffebee,stroke:#c62828"},
      {"marker", "fill:#424242,stroke:#424242,color:#ffffff"},
      {"passed", "fill:#c8e6c9,stroke:#2e7d32"},
      {"current", "fill:#fff59d,stroke:#f57f17,stroke-width:3px"},
      {"failed", "fill:#ffcdd2,stroke:#c62828,stroke-width:2px"},
  };
  std::map<std::string, std::vector<std::string>> by_class;
  for (const Node& n : g.nodes) {
    if (n.kind == NodeKind::kStart || n.kind == NodeKind::kEnd) {
      by_class["marker"].push_back(MermaidId(n));
    } else if (n.kind == NodeKind::kState) {
      by_class[TypeClass(n.type)].push_back(MermaidId(n));
    }
  }
  std::map<std::string, std::vector<std::string>> marks;
  for (const Node& n : g.nodes) {
    if (n.kind != NodeKind::kState) continue;
    const std::string_view m = Mark(options.highlight, n.name);
    if (!m.empty()) marks[std::string(m)].push_back(MermaidId(n));
  }
  for (const auto& [cls, style] : kStyles) {
    const std::string name(cls);
    auto emit = [&](const std::vector<std::string>& ids) {
      out += "  classDef " + name + " " + std::string(style) + "\n";
      std::string list;
      for (const std::string& id : ids) {
        if (!list.empty()) list += ",";
        list += id;
      }
      out += "  class " + list + " " + name + "\n";
    };
    if (auto it = by_class.find(name); it != by_class.end()) emit(it->second);
    if (auto it = marks.find(name); it != marks.end()) emit(it->second);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Graphviz dot.

namespace {

// A dot double-quoted string.
std::string Q(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      continue;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string DotId(const Node& n) {
  switch (n.kind) {
    case NodeKind::kStart:
      return "start";
    case NodeKind::kEnd:
      return "end";
    case NodeKind::kJoin:
      return "join-" + EscapeStateName(n.name);
    case NodeKind::kElided:
      return "elided-" + EscapeStateName(n.name);
    case NodeKind::kState:
      return StateDomId(n.name);
  }
  return "";
}

std::string DotClusterId(const Cluster& c) {
  std::string id = "cluster-" + EscapeStateName(c.owner);
  if (c.type == "branch") id += "-branch-" + std::to_string(c.branch + 1);
  if (c.type == "items") id += "-items";
  return id;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) {
    if (!out.empty()) out += '\n';
    out += l;
  }
  return out;
}

std::string DotNode(const Node& n, const RenderOptions& o) {
  const std::string id = DotId(n);
  std::string a = Q(id) + " [id=" + Q(id);
  switch (n.kind) {
    case NodeKind::kStart:
      return a +
             ", class=\"marker start\", label=\"Start\", shape=circle, "
             "style=filled, fillcolor=\"#424242\", fontcolor=\"#ffffff\", "
             "width=0.6, fixedsize=true]";
    case NodeKind::kEnd:
      return a +
             ", class=\"marker end\", label=\"End\", shape=doublecircle, "
             "style=filled, fillcolor=\"#424242\", fontcolor=\"#ffffff\", "
             "width=0.55, fixedsize=true]";
    case NodeKind::kJoin:
      return a +
             ", class=\"join\", label=\"\", shape=circle, width=0.18, "
             "fixedsize=true, style=filled, fillcolor=\"#00897b\", "
             "tooltip=" +
             Q(n.name + " joins") + "]";
    case NodeKind::kElided:
      return a + ", class=\"elided\", label=" +
             Q(Joined(LabelLines(n, o.max_label_chars))) + ", style=dashed]";
    case NodeKind::kState:
      break;
  }
  const std::string type = TypeClass(n.type);
  const std::string_view mark = Mark(o.highlight, n.name);
  a += ", class=" +
       Q("state " + type + (mark.empty() ? "" : " " + std::string(mark)));
  a += ", label=" + Q(Joined(LabelLines(n, o.max_label_chars)));
  a += ", tooltip=" + Q(n.name + " (" + n.type + ")");
  std::string shape = "box";
  std::string style = "filled";
  std::string fill = "#f5f5f5";
  std::string color = "#757575";
  if (n.type == "Task") {
    style = "rounded,filled";
    fill = "#e8f0fe";
    color = "#3367d6";
  } else if (n.type == "Choice") {
    shape = "diamond";
    fill = "#fff8e1";
    color = "#f9a825";
  } else if (n.type == "Wait") {
    style = "rounded,filled,dashed";
    fill = "#f3e5f5";
    color = "#8e24aa";
  } else if (n.type == "Parallel" || n.type == "Map") {
    shape = n.type == "Parallel" ? "component" : "box3d";
    fill = "#e0f2f1";
    color = "#00897b";
  } else if (n.type == "Succeed") {
    style = "rounded,filled,bold";
    fill = "#e8f5e9";
    color = "#2e7d32";
  } else if (n.type == "Fail") {
    shape = "octagon";
    fill = "#ffebee";
    color = "#c62828";
  }
  std::string extra;
  if (mark == "passed") {
    fill = "#c8e6c9";
    color = "#2e7d32";
    extra = ", penwidth=2";
  } else if (mark == "current") {
    fill = "#fff59d";
    color = "#f57f17";
    extra = ", penwidth=3";
  } else if (mark == "failed") {
    fill = "#ffcdd2";
    color = "#c62828";
    extra = ", penwidth=3";
  } else if (o.highlight != nullptr && !o.highlight->empty()) {
    // With a case shown, the states it never reached fade.
    extra = ", fontcolor=\"#9e9e9e\"";
    color = "#bdbdbd";
    fill = "#fafafa";
  }
  a += ", shape=" + shape + ", style=" + Q(style) + ", fillcolor=" + Q(fill) +
       ", color=" + Q(color) + extra + "]";
  return a;
}

void DotCluster(const Graph& g, const Cluster& c, int indent,
                const RenderOptions& o, std::string* out) {
  const std::string pad(static_cast<size_t>(indent) * 2, ' ');
  std::string inner = pad;
  const bool boxed = !c.type.empty();
  if (boxed) {
    const std::string id = DotClusterId(c);
    *out += pad + "subgraph " + Q("cluster_" + id.substr(8)) + " {\n";
    inner += "  ";
    *out += inner + "id=" + Q(id) + "; class=" + Q(c.type) +
            "; label=" + Q(Cut(c.label, o.max_label_chars)) + ";\n";
    if (c.type == "branch" || c.type == "items") {
      *out += inner +
              "style=\"rounded,dashed\"; color=\"#80cbc4\"; "
              "fontcolor=\"#00695c\";\n";
    } else {
      *out += inner +
              "style=\"rounded\"; color=\"#00897b\"; fontcolor=\"#004d40\";\n";
    }
  }
  for (size_t id : c.nodes) *out += inner + DotNode(g.nodes[id], o) + ";\n";
  for (const Cluster& child : c.children) {
    DotCluster(g, child, indent + (boxed ? 1 : 0), o, out);
  }
  if (boxed) *out += pad + "}\n";
}

}  // namespace

std::string ToDot(const asl::Definition& def, const RenderOptions& options) {
  const Graph g = Builder(def).Build();
  std::string out = "digraph workflow {\n";
  out +=
      "  graph [fontname=\"Helvetica\", fontsize=11, rankdir=TB, "
      "nodesep=0.35, ranksep=0.45";
  if (!options.title.empty()) {
    out += ", label=" + Q(options.title) + ", labelloc=t";
  }
  out += "];\n";
  out +=
      "  node [fontname=\"Helvetica\", fontsize=10, margin=\"0.15,0.06\"];\n"
      "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#616161\", "
      "fontcolor=\"#424242\"];\n";
  DotCluster(g, g.root, 1, options, &out);
  size_t n = 0;
  for (const Edge& e : g.edges) {
    const Node& from = g.nodes[e.from];
    const Node& to = g.nodes[e.to];
    std::string a = "  " + Q(DotId(from)) + " -> " + Q(DotId(to)) +
                    " [id=" + Q("edge-" + std::to_string(++n));
    std::string cls;
    std::string style;
    switch (e.kind) {
      case EdgeKind::kNext:
        cls = "next";
        break;
      case EdgeKind::kChoice:
        cls = "choice";
        break;
      case EdgeKind::kDefault:
        cls = "default";
        style = ", style=bold";
        break;
      case EdgeKind::kCatch:
        cls = "catch";
        style = ", style=dashed, color=\"#c62828\", fontcolor=\"#c62828\"";
        break;
      case EdgeKind::kRetry:
        cls = "retry";
        style = ", style=dotted, color=\"#ef6c00\", fontcolor=\"#ef6c00\"";
        break;
      case EdgeKind::kBranch:
        cls = "branch";
        style = ", color=\"#00897b\", arrowhead=empty";
        break;
    }
    a += ", class=" + Q(cls) + style;
    if (!e.label.empty()) {
      a += ", label=" + Q(Cut(e.label, options.max_label_chars)) +
           ", tooltip=" + Q(e.label);
    }
    out += a + "];\n";
  }
  out += "}\n";
  return out;
}

}  // namespace onewindow::render
