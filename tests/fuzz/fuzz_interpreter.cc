// Fuzzes the interpreter: whole executions, run by the same driver as
// `owctl run-local --echo-tasks`, of definitions that are
//   - the text before the first NUL byte, when it is a valid definition
//     (the seeds are the conformance suites' definitions; the rest of the
//     input is then the execution's input), or else
//   - generated from the bytes: a machine of Pass, Task (with Retry, Catch,
//     timeouts), Choice, Wait, Parallel, Map, Succeed and Fail states in
//     either query language, with paths, templates, intrinsic calls and
//     variables drawn from pools that hit each other's edge cases, over a
//     generated input.
// Properties: no crash, no sanitizer report, no run that outlives its step
// bound; a run ends (SUCCEEDED with JSON output, or FAILED with an error
// name) or stops with a status that has a message; the same definition,
// input and seed give the same result twice (the interpreter is
// deterministic, which replay and the crash test rely on).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/asl/definition.h"
#include "engine/core/local_runner.h"
#include "tests/fuzz/fuzz_common.h"

using namespace onewindow;  // NOLINT

namespace {

using fuzz::Json;

constexpr const char* kPaths[] = {"$",
                                  "$.a",
                                  "$.n",
                                  "$.items",
                                  "$.items[0]",
                                  "$.items[-1:]",
                                  "$.b.c",
                                  "$.missing",
                                  "$$.Execution.Input",
                                  "$$.State.Name",
                                  "$$.Map.Item.Value",
                                  "$.items[?(@ > 1)]",
                                  "$..c",
                                  "$.items[*]",
                                  "$.big"};
constexpr const char* kResultPaths[] = {"$",        "$.r", "$.b.c",  "$.items",
                                        "$.n.deep", "$.a", "$.new.x"};
constexpr const char* kIntrinsics[] = {
    "States.Format('{}-{}', $.a, $.n)",  "States.StringToJson('{\"k\":[1,2]}')",
    "States.JsonToString($.b)",          "States.Array($.a, $.n, 3)",
    "States.ArrayPartition($.items, 2)", "States.ArrayContains($.items, 1)",
    "States.ArrayRange(1, 9, 2)",        "States.ArrayGetItem($.items, 0)",
    "States.ArrayLength($.items)",       "States.ArrayUnique($.items)",
    "States.Base64Encode($.a)",          "States.Base64Decode('aGVsbG8=')",
    "States.Hash($.a, 'SHA-256')",       "States.JsonMerge($.b, $.b, false)",
    "States.MathRandom(1, 100)",         "States.MathAdd($.n, 1)",
    "States.StringSplit($.a, ',')",      "States.UUID()",
    "States.MathAdd($.big, $.big)",      "States.ArrayRange(0, $.n, 1)"};
constexpr const char* kJsonata[] = {
    "{% $states.input %}",
    "{% $states.input.n + 1 %}",
    "{% $states.input.items[0] %}",
    "{% $count($states.input.items) %}",
    "{% $map($states.input.items, function($v) { $v * 2 }) %}",
    "{% $states.input.a & '-' & $string($states.input.n) %}",
    "{% $states.context.State.Name %}",
    "{% $v %}",
    "{% $sum($states.input.items) %}",
    "{% $states.input.missing.x %}",
    "{% $states.input.n > 2 %}",
    "{% $states.input.big * $states.input.big %}",
    "{% [1..($states.input.n)] %}",
    "{% $reduce($states.input.items, function($a, $b) { $a + $b }, 0) %}"};
constexpr const char* kDepartments[] = {"DSF",     "DSAL",    "failX",
                                        "flaky1Y", "flaky3Z", "DSI"};
constexpr const char* kErrors[] = {"States.ALL",
                                   "States.TaskFailed",
                                   "States.Timeout",
                                   "Dept.Failed",
                                   "Dept.Flaky",
                                   "States.Runtime",
                                   "States.QueryEvaluationError"};

class Generator {
 public:
  explicit Generator(FuzzedDataProvider& in) : in_(in) {}

  Json Machine(int depth, bool jsonata) {
    int count = in_.ConsumeIntegralInRange(1, depth == 0 ? 8 : 4);
    Json states = Json::object();
    std::vector<std::string> names;
    std::string prefix = "S" + std::to_string(machines_++) + "_";
    for (int i = 0; i < count; ++i) names.push_back(prefix + std::to_string(i));
    for (int i = 0; i < count; ++i) {
      states[names[i]] = State(names, i, depth, jsonata);
    }
    Json m = {{"StartAt", names[0]}, {"States", std::move(states)}};
    return m;
  }

  Json Input() {
    Json items = Json::array();
    int n = in_.ConsumeIntegralInRange(0, 6);
    for (int i = 0; i < n; ++i) {
      switch (in_.ConsumeIntegralInRange(0, 3)) {
        case 0:
          items.push_back(in_.ConsumeIntegralInRange(-3, 9));
          break;
        case 1:
          items.push_back(in_.ConsumeRandomLengthString(8));
          break;
        case 2:
          items.push_back(Json{{"c", i}});
          break;
        default:
          items.push_back(nullptr);
          break;
      }
    }
    Json input = {{"a", in_.ConsumeRandomLengthString(12)},
                  {"n", in_.ConsumeIntegralInRange(-2, 12)},
                  {"items", std::move(items)},
                  {"b", {{"c", in_.ConsumeBool()}}}};
    if (in_.ConsumeBool()) input["big"] = 9223372036854775807LL;
    if (in_.ConsumeBool()) input["secs"] = Number();
    return input;
  }

 private:
  template <size_t N>
  const char* Pick(const char* const (&pool)[N]) {
    return pool[in_.ConsumeIntegralInRange<size_t>(0, N - 1)];
  }

  Json Number() {
    switch (in_.ConsumeIntegralInRange(0, 5)) {
      case 0:
        return 0;
      case 1:
        return in_.ConsumeIntegralInRange(1, 5);
      case 2:
        return -1;
      case 3:
        return 9223372036854775807LL;
      case 4:
        return 1.5;
      default:
        return 99999999;
    }
  }

  // Next (a later state, or sometimes an earlier one: loops end by the
  // run's step bound) or End.
  void Transition(Json& s, const std::vector<std::string>& names, int i) {
    int n = static_cast<int>(names.size());
    if (i + 1 >= n || in_.ConsumeIntegralInRange(0, 5) == 0) {
      if (in_.ConsumeIntegralInRange(0, 7) == 0 && n > 1) {
        s["Next"] = names[in_.ConsumeIntegralInRange(0, n - 1)];
      } else {
        s["End"] = true;
      }
      return;
    }
    s["Next"] = names[in_.ConsumeIntegralInRange(i + 1, n - 1)];
  }

  Json Template(bool jsonata, int depth = 0) {
    Json t = Json::object();
    int fields = in_.ConsumeIntegralInRange(0, 3);
    for (int f = 0; f < fields; ++f) {
      std::string key = "k" + std::to_string(f);
      switch (in_.ConsumeIntegralInRange(0, 4)) {
        case 0:
          if (jsonata)
            t[key] = Pick(kJsonata);
          else
            t[key + ".$"] = Pick(kPaths);
          break;
        case 1:
          if (jsonata)
            t[key] = Pick(kJsonata);
          else
            t[key + ".$"] = Pick(kIntrinsics);
          break;
        case 2:
          if (depth < 2) t[key] = Template(jsonata, depth + 1);
          break;
        case 3:
          t[key] = Number();
          break;
        default:
          t[key] = in_.ConsumeRandomLengthString(6);
          break;
      }
    }
    return t;
  }

  void IoFields(Json& s, bool jsonata, bool has_result, bool has_params) {
    if (jsonata) {
      if (has_params && in_.ConsumeBool()) s["Arguments"] = Template(true);
      if (in_.ConsumeBool()) {
        s["Output"] = in_.ConsumeBool() ? Json(Pick(kJsonata)) : Template(true);
      }
      if (in_.ConsumeIntegralInRange(0, 3) == 0) {
        s["Assign"] = {{"v", Pick(kJsonata)}};
      }
      return;
    }
    if (in_.ConsumeIntegralInRange(0, 3) == 0) s["InputPath"] = Pick(kPaths);
    if (has_params && in_.ConsumeBool()) s["Parameters"] = Template(false);
    if (has_result && in_.ConsumeIntegralInRange(0, 2) == 0) {
      s["ResultSelector"] = Template(false);
    }
    if (has_result && in_.ConsumeBool()) s["ResultPath"] = Pick(kResultPaths);
    if (in_.ConsumeIntegralInRange(0, 3) == 0) s["OutputPath"] = Pick(kPaths);
    if (in_.ConsumeIntegralInRange(0, 4) == 0) {
      s["Assign"] = {{"v.$", Pick(kPaths)}};
    }
  }

  void RetryCatch(Json& s, const std::vector<std::string>& names, int i) {
    if (in_.ConsumeBool()) {
      Json retry = Json::array();
      int n = in_.ConsumeIntegralInRange(1, 2);
      for (int r = 0; r < n; ++r) {
        Json rule = {{"ErrorEquals", {Pick(kErrors)}},
                     {"MaxAttempts", in_.ConsumeIntegralInRange(0, 4)}};
        if (in_.ConsumeBool())
          rule["IntervalSeconds"] = in_.ConsumeIntegralInRange(1, 5);
        if (in_.ConsumeBool()) rule["BackoffRate"] = 1.5;
        if (in_.ConsumeBool()) rule["MaxDelaySeconds"] = 3;
        if (in_.ConsumeBool()) rule["JitterStrategy"] = "FULL";
        retry.push_back(std::move(rule));
      }
      s["Retry"] = std::move(retry);
    }
    if (in_.ConsumeBool() && i + 1 < static_cast<int>(names.size())) {
      Json c = {{"ErrorEquals", {Pick(kErrors)}},
                {"Next", names[in_.ConsumeIntegralInRange(
                             i + 1, static_cast<int>(names.size()) - 1)]}};
      if (in_.ConsumeBool()) c["ResultPath"] = Pick(kResultPaths);
      s["Catch"] = Json::array({std::move(c)});
    }
  }

  Json Rule(int depth) {
    switch (in_.ConsumeIntegralInRange(0, depth < 2 ? 7 : 5)) {
      case 0:
        return {{"Variable", "$.n"},
                {"NumericGreaterThan", in_.ConsumeIntegralInRange(-1, 8)}};
      case 1:
        return {{"Variable", "$.a"}, {"StringMatches", "*x*"}};
      case 2:
        return {{"Variable", Pick(kPaths)}, {"IsPresent", in_.ConsumeBool()}};
      case 3:
        return {{"Variable", "$.n"}, {"NumericEqualsPath", "$.big"}};
      case 4:
        return {{"Variable", Pick(kPaths)}, {"IsNumeric", true}};
      case 5:
        return {{"Variable", "$.b.c"}, {"BooleanEquals", true}};
      case 6:
        return {{"Not", Rule(depth + 1)}};
      default:
        return {{in_.ConsumeBool() ? "And" : "Or",
                 {Rule(depth + 1), Rule(depth + 1)}}};
    }
  }

  Json State(const std::vector<std::string>& names, int i, int depth,
             bool jsonata) {
    int kinds = depth < 2 ? 8 : 6;
    Json s;
    switch (in_.ConsumeIntegralInRange(0, kinds - 1)) {
      case 0:  // Pass
        s = {{"Type", "Pass"}};
        if (!jsonata && in_.ConsumeBool()) s["Result"] = Template(false);
        IoFields(s, jsonata, true, true);
        Transition(s, names, i);
        break;
      case 1: {  // Task
        s = {{"Type", "Task"},
             {"Resource", std::string("dept:") + Pick(kDepartments) + "/t"}};
        if (in_.ConsumeBool())
          s["TimeoutSeconds"] = in_.ConsumeIntegralInRange(1, 100);
        if (!jsonata && in_.ConsumeIntegralInRange(0, 4) == 0) {
          s["TimeoutSecondsPath"] = "$.secs";
        }
        if (in_.ConsumeIntegralInRange(0, 3) == 0) s["HeartbeatSeconds"] = 1;
        IoFields(s, jsonata, true, true);
        RetryCatch(s, names, i);
        Transition(s, names, i);
        break;
      }
      case 2: {  // Choice
        s = {{"Type", "Choice"}};
        Json choices = Json::array();
        int n = in_.ConsumeIntegralInRange(1, 3);
        for (int c = 0; c < n; ++c) {
          Json rule;
          if (jsonata) {
            rule = {{"Condition", Pick(kJsonata)}};
          } else {
            rule = Rule(0);
          }
          rule["Next"] = names[in_.ConsumeIntegralInRange(
              0, static_cast<int>(names.size()) - 1)];
          choices.push_back(std::move(rule));
        }
        s["Choices"] = std::move(choices);
        if (in_.ConsumeBool() || names.size() == 1) {
          s["Default"] = names[in_.ConsumeIntegralInRange(
              0, static_cast<int>(names.size()) - 1)];
        }
        if (!jsonata && in_.ConsumeIntegralInRange(0, 3) == 0)
          s["InputPath"] = Pick(kPaths);
        break;
      }
      case 3: {  // Wait
        s = {{"Type", "Wait"}};
        switch (in_.ConsumeIntegralInRange(0, 2)) {
          case 0:
            s["Seconds"] = in_.ConsumeIntegralInRange(0, 1000000);
            break;
          case 1:
            if (jsonata)
              s["Seconds"] = "{% $states.input.secs %}";
            else
              s["SecondsPath"] = "$.secs";
            break;
          default:
            s["Timestamp"] = "2026-01-01T00:00:05Z";
            break;
        }
        Transition(s, names, i);
        break;
      }
      case 4:
        s = {{"Type", "Succeed"}};
        break;
      case 5:
        s = {{"Type", "Fail"}};
        if (in_.ConsumeBool()) s["Error"] = "Custom.Error";
        if (!jsonata && in_.ConsumeBool())
          s["CausePath"] = "States.Format('n={}', $.n)";
        break;
      case 6: {  // Parallel
        s = {{"Type", "Parallel"}};
        Json branches = Json::array();
        int n = in_.ConsumeIntegralInRange(1, 3);
        for (int b = 0; b < n; ++b)
          branches.push_back(Machine(depth + 1, jsonata));
        s["Branches"] = std::move(branches);
        IoFields(s, jsonata, true, true);
        RetryCatch(s, names, i);
        Transition(s, names, i);
        break;
      }
      default: {  // Map
        s = {{"Type", "Map"}};
        Json processor = Machine(depth + 1, jsonata);
        processor["ProcessorConfig"] = {{"Mode", "INLINE"}};
        s["ItemProcessor"] = std::move(processor);
        if (jsonata) {
          s["Items"] = in_.ConsumeBool() ? "{% $states.input.items %}"
                                         : "{% [1..($states.input.n)] %}";
        } else {
          s["ItemsPath"] = in_.ConsumeBool() ? "$.items" : Pick(kPaths);
          if (in_.ConsumeBool()) {
            s["ItemSelector"] = {{"v.$", "$$.Map.Item.Value"},
                                 {"i.$", "$$.Map.Item.Index"}};
          }
        }
        if (in_.ConsumeBool())
          s["MaxConcurrency"] = in_.ConsumeIntegralInRange(0, 3);
        if (in_.ConsumeIntegralInRange(0, 3) == 0)
          s["ToleratedFailureCount"] = 1;
        IoFields(s, jsonata, true, false);
        RetryCatch(s, names, i);
        Transition(s, names, i);
        break;
      }
    }
    return s;
  }

  FuzzedDataProvider& in_;
  int machines_ = 0;
};

// What a run came to, for comparing two runs.
std::string Outcome(const absl::StatusOr<core::LocalRunResult>& run) {
  if (!run.ok()) {
    fuzz::Require(!run.status().message().empty(), "a stopped run says why");
    return run.status().ToString();
  }
  if (run->succeeded) {
    // Replacing invalid UTF-8 as the engine does when it writes JSON out
    // (States.Base64Decode may make such strings from valid input).
    return "SUCCEEDED " +
           run->output.dump(-1, ' ', false, Json::error_handler_t::replace) +
           " @" + std::to_string(run->virtual_elapsed_ms);
  }
  fuzz::Require(run->has_error || run->error.empty(),
                "a failed run's error is flagged");
  return "FAILED " + run->error + " / " + run->cause + " @" +
         std::to_string(run->virtual_elapsed_ms);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const asl::Limits& limits = fuzz::FuzzLimits();
  auto [text, rest] = fuzz::SplitAt(fuzz::AsText(data, size), '\0');
  std::shared_ptr<const asl::Definition> def;
  Json input;
  auto loaded = asl::LoadSource(text, asl::SourceFormat::kAuto, limits);
  if (loaded.ok() && asl::Validate(*loaded, limits).empty()) {
    auto compiled = asl::Definition::FromJson(std::move(loaded->doc), limits);
    if (!compiled.ok()) return 0;
    def = *std::move(compiled);
    input = fuzz::DocumentOf(rest);
  } else {
    FuzzedDataProvider in(data, size);
    Generator gen(in);
    bool jsonata = in.ConsumeIntegralInRange(0, 3) == 0;
    Json doc = gen.Machine(0, jsonata);
    if (jsonata) doc["QueryLanguage"] = "JSONata";
    input = gen.Input();
    auto compiled = asl::Definition::FromJson(std::move(doc), limits);
    // The generator aims at valid machines; the ones it misses (a Choice
    // whose every rule leads back, say) are the validator's business.
    if (!compiled.ok()) return 0;
    def = *std::move(compiled);
  }

  if (std::getenv("OW_FUZZ_PRINT") != nullptr) {
    std::fprintf(
        stderr, "definition: %s\ninput: %s\n",
        def->doc().dump(-1, ' ', false, Json::error_handler_t::replace).c_str(),
        input.dump(-1, ' ', false, Json::error_handler_t::replace).c_str());
  }
  core::LocalRunOptions options;
  options.echo_tasks = true;
  options.max_steps = 2000;
  options.seed = size;
  // Tighter than the engine's defaults, which only cost fuzzing time here
  // (the bounds work the same).
  options.limits.set_max_states_per_call(1000);
  options.limits.set_max_history_events(5000);
  options.limits.set_max_map_items(500);
  auto first = core::RunLocal(def, input, options);
  std::string a = Outcome(first);
  auto second = core::RunLocal(def, input, options);
  std::string b = Outcome(second);
  if (a != b) {
    std::fprintf(stderr, "run 1: %s\nrun 2: %s\n", a.c_str(), b.c_str());
    fuzz::Require(false, "the same run twice gives the same result");
  }
  return 0;
}
