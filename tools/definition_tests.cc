// Definition tests: parse a test file, check it against its workflow, run
// each case on the local runner and compare what happened with what was
// expected.
#include "tools/definition_tests.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/asl/definition.h"
#include "engine/asl/expr.h"
#include "engine/core/local_runner.h"
#include "tools/definition_file.h"

namespace onewindow::owctl {
namespace {

using Json = nlohmann::json;

constexpr size_t kMaxFileBytes = 4u << 20;
constexpr size_t kMaxCases = 1000;
constexpr size_t kMaxAnswers = 1000;
constexpr size_t kMaxExpectedStates = 10000;
constexpr int64_t kMaxSteps = 100000;
constexpr double kMaxAfterSeconds = 10.0 * 366 * 86400;
constexpr int kMaxDiffDepth = 300;
constexpr size_t kMaxShown = 160;
// Nested machines deeper than this are not searched for states (the loader
// bounds depth already; this bounds our own recursion).
constexpr int kMaxNesting = 100;

struct StateInfo {
  std::string type;
  std::string parent;  // the Parallel/Map state it is inside; "" = top level
};

void CollectStates(const asl::Definition& def, const asl::Machine& m,
                   const std::string& parent, int depth,
                   std::map<std::string, StateInfo, std::less<>>* out) {
  if (depth > kMaxNesting) return;
  for (const auto& [name, state] : m.states) {
    const std::string type = state->value("Type", "");
    (*out)[name] = StateInfo{type, parent};
    for (int i = 0;; ++i) {
      const asl::Machine* nested = def.Nested(state, i);
      if (nested == nullptr) break;
      CollectStates(def, *nested, name, depth + 1, out);
    }
  }
}

// Levenshtein distance, for "did you mean" (names are at most a few dozen
// characters; longer ones are not compared).
size_t Distance(const std::string& a, const std::string& b) {
  if (a.size() > 200 || b.size() > 200) return SIZE_MAX;
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Nearest(const std::string& name,
                    const std::map<std::string, StateInfo, std::less<>>& all,
                    bool top_level_only) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& [candidate, info] : all) {
    if (top_level_only && !info.parent.empty()) continue;
    const size_t d = Distance(name, candidate);
    if (d < best_d) {
      best_d = d;
      best = candidate;
    }
  }
  const size_t allowed = std::max<size_t>(2, name.size() / 3);
  return best_d <= allowed ? best : "";
}

std::string Shown(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > kMaxShown) {
    size_t cut = kMaxShown;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
      --cut;
    }
    s = s.substr(0, cut) + "\xE2\x80\xA6";
  }
  return s;
}

std::string PointerToken(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> Diff(const Json& want, const Json& got,
                                const std::string& ptr, bool subset,
                                int depth) {
  const std::string at = ptr.empty() ? "/" : ptr;
  if (depth > kMaxDiffDepth) {
    return at + ": nested deeper than " + std::to_string(kMaxDiffDepth) +
           " levels; not compared";
  }
  auto mismatch = [&]() -> std::optional<std::string> {
    return at + ": expected " + Shown(want) + ", got " + Shown(got);
  };
  if (want.is_number() && got.is_number()) {
    if (want == got) return std::nullopt;
    return mismatch();
  }
  if (want.type() != got.type()) return mismatch();
  if (want.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : want.items()) keys.insert(k);
    if (!subset) {
      for (const auto& [k, v] : got.items()) keys.insert(k);
    }
    for (const std::string& k : keys) {
      const std::string child = ptr + "/" + PointerToken(k);
      auto w = want.find(k);
      auto g = got.find(k);
      if (g == got.end()) {
        return child + ": expected " + Shown(*w) + ", got nothing";
      }
      if (w == want.end()) {
        return child + ": expected nothing, got " + Shown(*g);
      }
      if (auto d = Diff(*w, *g, child, subset, depth + 1)) return d;
    }
    return std::nullopt;
  }
  if (want.is_array()) {
    const size_t n = std::min(want.size(), got.size());
    for (size_t i = 0; i < n; ++i) {
      if (auto d = Diff(want[i], got[i], ptr + "/" + std::to_string(i), subset,
                        depth + 1)) {
        return d;
      }
    }
    if (want.size() > n) {
      return ptr + "/" + std::to_string(n) + ": expected " + Shown(want[n]) +
             ", got nothing (" + std::to_string(got.size()) + " elements)";
    }
    if (got.size() > n) {
      return ptr + "/" + std::to_string(n) + ": expected nothing (" +
             std::to_string(want.size()) + " elements), got " + Shown(got[n]);
    }
    return std::nullopt;
  }
  if (want == got) return std::nullopt;
  return mismatch();
}

// Reads a whole file of at most kMaxFileBytes.
bool ReadSmallFile(const std::string& path, std::string* text,
                   std::string* why) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    *why = "larger than " + std::to_string(kMaxFileBytes) + " bytes";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *why = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) {
    *why = std::string("cannot read: ") + std::strerror(errno);
    return false;
  }
  *text = out.str();
  if (text->size() > kMaxFileBytes) {
    *why = "larger than " + std::to_string(kMaxFileBytes) + " bytes";
    return false;
  }
  return true;
}

struct Expectation {
  std::string status;         // "SUCCEEDED" or "FAILED"
  std::optional<Json> error;  // a string, or null: no error name
  std::optional<Json> cause;
  std::optional<Json> output;
  bool output_subset = false;
  std::optional<std::vector<std::string>> states;
};

struct Case {
  std::string name;
  Json input = Json::object();
  core::LocalRunOptions options;
  Expectation expect;
};

class FileRunner {
 public:
  explicit FileRunner(std::string path) : path_(std::move(path)) {
    report_.file = path_;
    dir_ = std::filesystem::path(path_).parent_path();
  }

  TestFileReport Run() {
    std::string text, why;
    if (!ReadSmallFile(path_, &text, &why)) {
      FileProblem(why);
      return std::move(report_);
    }
    auto loaded = asl::LoadSource(text, FormatOfPath(path_));
    if (!loaded.ok()) {
      FileProblem("$: " + std::string(loaded.status().message()));
      return std::move(report_);
    }
    lines_ = std::move(loaded->lines);
    const Json& doc = loaded->doc;
    if (!doc.is_object()) {
      FileProblem(At("$", "expected a mapping with workflow: and cases:"));
      return std::move(report_);
    }
    for (const auto& [key, value] : doc.items()) {
      if (key != "workflow" && key != "cases") {
        FileProblem(At(asl::LocationMember("$", key),
                       "unknown field \"" + key +
                           "\" (a test file has workflow: and cases:)"));
        return std::move(report_);
      }
    }
    auto workflow = doc.find("workflow");
    if (workflow == doc.end() || !workflow->is_string() ||
        workflow->get_ref<const std::string&>().empty()) {
      FileProblem(At(workflow == doc.end() ? "$" : "$.workflow",
                     "workflow: must name the definition file (relative to "
                     "this file)"));
      return std::move(report_);
    }
    if (!LoadWorkflow(workflow->get<std::string>())) return std::move(report_);

    auto cases = doc.find("cases");
    if (cases == doc.end() || !cases->is_array() || cases->empty()) {
      FileProblem(At(cases == doc.end() ? "$" : "$.cases",
                     "cases: must be a non-empty list"));
      return std::move(report_);
    }
    if (cases->size() > kMaxCases) {
      FileProblem(At("$.cases", "more than " + std::to_string(kMaxCases) +
                                    " cases in one file"));
      return std::move(report_);
    }
    std::set<std::string> names;
    for (size_t i = 0; i < cases->size(); ++i) {
      const std::string cpath = asl::LocationIndex("$.cases", i);
      TestCaseReport r;
      r.name = "cases[" + std::to_string(i) + "]";
      Case c;
      std::string problem;
      const bool parsed = ParseCase((*cases)[i], cpath, &c, &problem);
      if ((*cases)[i].is_object() &&
          (*cases)[i].value("name", Json()).is_string()) {
        r.name = (*cases)[i]["name"].get<std::string>();
        if (!names.insert(r.name).second && parsed) {
          problem = At(asl::LocationMember(cpath, "name"),
                       "another case is already named \"" + r.name + "\"");
        }
      }
      if (problem.empty()) {
        RunCase(c, &r);
      } else {
        r.failure = problem;
      }
      report_.cases.push_back(std::move(r));
    }
    return std::move(report_);
  }

 private:
  // "path: message (line L); hint: H" (the file is named where it is
  // printed).
  std::string At(const std::string& path, const std::string& message,
                 const std::string& hint = "") const {
    Problem p;
    p.path = path;
    p.message = message;
    p.line = LineOf(lines_, path);
    p.hint = hint;
    std::string line = ProblemLine("", p);
    return line.substr(2);  // without the empty file's ": "
  }

  void FileProblem(std::string line) {
    TestCaseReport r;
    r.failure = std::move(line);
    report_.cases.push_back(std::move(r));
  }

  std::string Resolve(const std::string& rel) const {
    const std::filesystem::path p(rel);
    if (p.is_absolute() || dir_.empty()) return rel;
    return (dir_ / p).string();
  }

  bool LoadWorkflow(const std::string& rel) {
    workflow_name_ = rel;
    const std::string file = Resolve(rel);
    std::string text, why;
    if (!ReadSmallFile(file, &text, &why)) {
      FileProblem(At("$.workflow", "\"" + file + "\": " + why));
      return false;
    }
    DefinitionFile d = LoadDefinitionText(file, text);
    if (!d.valid()) {
      for (std::string& line : d.ErrorLines()) {
        report_.notes.push_back(std::move(line));
      }
      FileProblem(At("$.workflow", "\"" + file +
                                       "\" is not a valid definition (its "
                                       "errors are listed above)"));
      return false;
    }
    def_ = d.definition;
    CollectStates(*def_, def_->root(), "", 0, &states_);
    return true;
  }

  // Checks that `obj` has only `allowed` keys; sets *problem otherwise.
  bool OnlyKeys(const Json& obj, const std::string& path,
                const std::vector<std::string>& allowed,
                std::string* problem) const {
    for (const auto& [key, value] : obj.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) {
        continue;
      }
      std::string list;
      for (const std::string& a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      *problem =
          At(asl::LocationMember(path, key),
             "unknown field \"" + key + "\" (expected one of: " + list + ")");
      return false;
    }
    return true;
  }

  bool ParseCase(const Json& c, const std::string& path, Case* out,
                 std::string* problem) const {
    if (!c.is_object()) {
      *problem = At(path, "a case must be a mapping");
      return false;
    }
    if (!OnlyKeys(
            c, path,
            {"name", "input", "input_file", "start_time", "mocks", "expect"},
            problem)) {
      return false;
    }
    auto name = c.find("name");
    if (name == c.end() || !name->is_string() ||
        name->get_ref<const std::string&>().empty()) {
      *problem = At(name == c.end() ? path : asl::LocationMember(path, "name"),
                    "a case needs a name: (a non-empty string)");
      return false;
    }
    out->name = name->get<std::string>();

    auto input = c.find("input");
    auto input_file = c.find("input_file");
    if (input != c.end() && input_file != c.end()) {
      *problem = At(asl::LocationMember(path, "input_file"),
                    "give input: or input_file:, not both");
      return false;
    }
    if (input != c.end()) out->input = *input;
    if (input_file != c.end()) {
      const std::string ipath = asl::LocationMember(path, "input_file");
      if (!input_file->is_string()) {
        *problem = At(ipath, "input_file: must be a file name");
        return false;
      }
      const std::string file = Resolve(input_file->get<std::string>());
      std::string text, why;
      if (!ReadSmallFile(file, &text, &why)) {
        *problem = At(ipath, "\"" + file + "\": " + why);
        return false;
      }
      auto loaded = asl::LoadSource(text, FormatOfPath(file));
      if (!loaded.ok()) {
        *problem =
            At(ipath,
               "\"" + file + "\": " + std::string(loaded.status().message()));
        return false;
      }
      out->input = std::move(loaded->doc);
    }

    out->options.max_steps = kMaxSteps;
    // The execution id is "local", as with run-local.
    out->options.execution_id = "local";
    if (auto start = c.find("start_time"); start != c.end()) {
      const std::string spath = asl::LocationMember(path, "start_time");
      absl::StatusOr<int64_t> ms =
          start->is_string()
              ? asl::ParseTimestampMs(start->get_ref<const std::string&>())
              : absl::InvalidArgumentError("not a string");
      if (!ms.ok()) {
        *problem = At(spath,
                      "start_time: must be an RFC 3339 timestamp such as "
                      "2026-03-02T09:00:00Z");
        return false;
      }
      out->options.start_ms = *ms;
    }

    if (auto mocks = c.find("mocks"); mocks != c.end()) {
      if (!ParseMocks(*mocks, asl::LocationMember(path, "mocks"), &out->options,
                      problem)) {
        return false;
      }
    }

    auto expect = c.find("expect");
    if (expect == c.end()) {
      *problem = At(path, "a case needs expect: (at least status:)");
      return false;
    }
    return ParseExpect(*expect, asl::LocationMember(path, "expect"),
                       &out->expect, problem);
  }

  bool ParseMocks(const Json& mocks, const std::string& path,
                  core::LocalRunOptions* options, std::string* problem) const {
    if (mocks.is_null()) return true;
    if (!mocks.is_object()) {
      *problem = At(path, "mocks: must map Task state names to answers");
      return false;
    }
    for (const auto& [state, answers] : mocks.items()) {
      const std::string spath = asl::LocationMember(path, state);
      auto it = states_.find(state);
      if (it == states_.end()) {
        const std::string near = Nearest(state, states_, false);
        *problem =
            At(spath, "no state named \"" + state + "\" in " + workflow_name_,
               near.empty() ? "" : "did you mean \"" + near + "\"?");
        return false;
      }
      if (it->second.type != "Task") {
        *problem = At(spath, "state \"" + state + "\" is a " + it->second.type +
                                 " state; only Task states take mocks");
        return false;
      }
      std::vector<core::TaskMock> list;
      if (answers.is_array()) {
        if (answers.empty() || answers.size() > kMaxAnswers) {
          *problem = At(spath, "a list of answers needs 1 to " +
                                   std::to_string(kMaxAnswers) + " entries");
          return false;
        }
        for (size_t i = 0; i < answers.size(); ++i) {
          core::TaskMock m;
          if (!ParseMock(answers[i], asl::LocationIndex(spath, i), &m,
                         problem)) {
            return false;
          }
          list.push_back(std::move(m));
        }
      } else {
        core::TaskMock m;
        if (!ParseMock(answers, spath, &m, problem)) return false;
        list.push_back(std::move(m));
      }
      options->mocks[state] = std::move(list);
    }
    return true;
  }

  bool ParseMock(const Json& m, const std::string& path, core::TaskMock* out,
                 std::string* problem) const {
    if (!m.is_object()) {
      *problem =
          At(path, "a mock is {result: ...} or {error: NAME, cause: TEXT}");
      return false;
    }
    if (!OnlyKeys(m, path, {"result", "error", "cause", "after_seconds"},
                  problem)) {
      return false;
    }
    const bool has_result = m.contains("result");
    const bool has_error = m.contains("error");
    if (has_result == has_error) {
      *problem = At(path,
                    "a mock has either result: or error: (with an optional "
                    "cause:), exactly one of them");
      return false;
    }
    if (has_result) {
      if (m.contains("cause")) {
        *problem = At(asl::LocationMember(path, "cause"),
                      "cause: goes with error:, not with result:");
        return false;
      }
      out->result = m["result"];
    } else {
      const Json& e = m["error"];
      if (!e.is_string() || e.get_ref<const std::string&>().empty()) {
        *problem = At(asl::LocationMember(path, "error"),
                      "error: must be an error name such as Dept.Failure");
        return false;
      }
      out->fails = true;
      out->error = e.get<std::string>();
      if (auto cause = m.find("cause"); cause != m.end()) {
        if (!cause->is_string()) {
          *problem =
              At(asl::LocationMember(path, "cause"), "cause: must be text");
          return false;
        }
        out->cause = cause->get<std::string>();
      }
    }
    if (auto after = m.find("after_seconds"); after != m.end()) {
      if (!after->is_number() || after->get<double>() < 0 ||
          after->get<double>() > kMaxAfterSeconds ||
          !std::isfinite(after->get<double>())) {
        *problem = At(asl::LocationMember(path, "after_seconds"),
                      "after_seconds: must be a number of seconds from 0 to "
                      "ten years");
        return false;
      }
      out->delay_ms =
          static_cast<int64_t>(std::llround(after->get<double>() * 1000.0));
    }
    return true;
  }

  bool ParseExpect(const Json& e, const std::string& path, Expectation* out,
                   std::string* problem) const {
    if (!e.is_object()) {
      *problem = At(path, "expect: must be a mapping (status:, output:, ...)");
      return false;
    }
    if (!OnlyKeys(
            e, path,
            {"status", "error", "cause", "output", "output_contains", "states"},
            problem)) {
      return false;
    }
    auto status = e.find("status");
    if (status == e.end() || !status->is_string() ||
        (*status != "SUCCEEDED" && *status != "FAILED")) {
      *problem =
          At(status == e.end() ? path : asl::LocationMember(path, "status"),
             "expect: needs status: SUCCEEDED or FAILED");
      return false;
    }
    out->status = status->get<std::string>();
    const bool failed = out->status == "FAILED";
    for (const char* key : {"error", "cause"}) {
      auto it = e.find(key);
      if (it == e.end()) continue;
      const std::string kpath = asl::LocationMember(path, key);
      if (!failed) {
        *problem =
            At(kpath, std::string(key) + ": only goes with status: FAILED");
        return false;
      }
      if (!it->is_string() && !it->is_null()) {
        *problem = At(kpath, std::string(key) + ": must be text (or null)");
        return false;
      }
      (std::string(key) == "error" ? out->error : out->cause) = *it;
    }
    auto output = e.find("output");
    auto contains = e.find("output_contains");
    if (output != e.end() && contains != e.end()) {
      *problem = At(asl::LocationMember(path, "output_contains"),
                    "give output: or output_contains:, not both");
      return false;
    }
    if (output != e.end() || contains != e.end()) {
      const bool subset = contains != e.end();
      if (failed) {
        *problem =
            At(asl::LocationMember(path, subset ? "output_contains" : "output"),
               "a FAILED case has no output; expect error:/cause:");
        return false;
      }
      out->output = subset ? *contains : *output;
      out->output_subset = subset;
    }
    if (auto states = e.find("states"); states != e.end()) {
      const std::string spath = asl::LocationMember(path, "states");
      if (!states->is_array() || states->size() > kMaxExpectedStates) {
        *problem = At(spath, "states: must be a list of top-level state names");
        return false;
      }
      std::vector<std::string> list;
      for (size_t i = 0; i < states->size(); ++i) {
        const std::string ipath = asl::LocationIndex(spath, i);
        const Json& s = (*states)[i];
        if (!s.is_string()) {
          *problem = At(ipath, "states: entries must be state names");
          return false;
        }
        const std::string name = s.get<std::string>();
        auto it = states_.find(name);
        if (it == states_.end()) {
          const std::string near = Nearest(name, states_, true);
          *problem =
              At(ipath, "no state named \"" + name + "\" in " + workflow_name_,
                 near.empty() ? "" : "did you mean \"" + near + "\"?");
          return false;
        }
        if (!it->second.parent.empty()) {
          *problem = At(ipath, "state \"" + name + "\" is inside \"" +
                                   it->second.parent +
                                   "\"; states: lists top-level states only");
          return false;
        }
        list.push_back(name);
      }
      out->states = std::move(list);
    }
    return true;
  }

  void RunCase(const Case& c, TestCaseReport* r) const {
    auto run = core::RunLocal(def_, c.input, c.options);
    if (!run.ok()) {
      if (auto state = core::UnansweredTaskState(run.status())) {
        r->failure = "Task state \"" + *state + "\" was reached with no mock";
      } else {
        r->failure = "the run stopped: " + std::string(run.status().message());
      }
      return;
    }
    const std::string got = run->succeeded ? "SUCCEEDED" : "FAILED";
    const Json error = run->has_error ? Json(run->error) : Json(nullptr);
    const Json cause = run->has_cause ? Json(run->cause) : Json(nullptr);
    if (got != c.expect.status) {
      r->failure =
          "/status: expected \"" + c.expect.status + "\", got \"" + got + "\"";
      if (run->succeeded) {
        r->failure += " with output " + Shown(run->output);
      } else {
        r->failure += " with error " + Shown(error) + ", cause " + Shown(cause);
      }
      return;
    }
    if (c.expect.error) {
      if (auto d = Diff(*c.expect.error, error, "/error", false, 0)) {
        r->failure = *d;
        return;
      }
    }
    if (c.expect.cause) {
      if (auto d = Diff(*c.expect.cause, cause, "/cause", false, 0)) {
        r->failure = *d;
        return;
      }
    }
    if (c.expect.states) {
      if (auto d = Diff(Json(*c.expect.states), Json(run->states_entered),
                        "/states", false, 0)) {
        r->failure = *d;
        return;
      }
    }
    if (c.expect.output) {
      if (auto d = Diff(*c.expect.output, run->output, "/output",
                        c.expect.output_subset, 0)) {
        r->failure = *d;
        return;
      }
    }
    r->passed = true;
  }

  std::string path_;
  std::filesystem::path dir_;
  std::map<std::string, int> lines_;
  std::string workflow_name_;
  std::shared_ptr<const asl::Definition> def_;
  std::map<std::string, StateInfo, std::less<>> states_;
  TestFileReport report_;
};

}  // namespace

int TestFileReport::passed() const {
  int n = 0;
  for (const auto& c : cases) n += c.passed ? 1 : 0;
  return n;
}

int TestFileReport::failed() const {
  return static_cast<int>(cases.size()) - passed();
}

TestFileReport RunDefinitionTestFile(const std::string& path) {
  return FileRunner(path).Run();
}

std::optional<std::string> FirstDifference(const Json& expected,
                                           const Json& actual,
                                           const std::string& pointer,
                                           bool subset) {
  return Diff(expected, actual, pointer, subset, 0);
}

}  // namespace onewindow::owctl
