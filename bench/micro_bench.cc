// ow-micro-bench: the CPU cost of the interpreter's building blocks and of
// encoding a case for the store, on the demo workflow (food-licence).

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/asl/definition.h"
#include "engine/asl/expr.h"
#include "engine/core/execution.h"
#include "nlohmann/json.hpp"
#include "onewindow/store/v1/records.pb.h"

namespace {

using onewindow::asl::EvalEnv;
using onewindow::core::Execution;
using onewindow::core::StartInfo;
using onewindow::core::StepOutput;
using Json = nlohmann::json;

std::string ReadFile(const std::string& rel) {
  const std::string path = std::string(OW_SOURCE_DIR) + "/" + rel;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "ow-micro-bench: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The demo case's input once the three opinions are in.
const Json& CaseDocument() {
  static const Json doc = [] {
    Json d = Json::parse(ReadFile("workflows/food-licence.input.json"));
    d["opinions"] = Json::array();
    for (const char* dept : {"DSF", "CB", "IAM"}) {
      d["opinions"].push_back({{"approved", true}, {"department", dept}});
    }
    return d;
  }();
  return doc;
}

const Json& Context() {
  static const Json ctx = {
      {"Execution",
       {{"Id", "OW-0000000042"},
        {"Name", "OW-0000000042"},
        {"StartTime", "2024-05-01T09:00:00.000Z"}}},
      {"StateMachine", {{"Id", "food-licence@1"}, {"Name", "food-licence"}}},
      {"State", {{"Name", "Granted"}, {"EnteredTime", "2024-05-01T09:00:01Z"}}},
  };
  return ctx;
}

EvalEnv Env() {
  EvalEnv env;
  env.context = &Context();
  env.random = [] { return uint64_t{42}; };
  return env;
}

std::shared_ptr<const onewindow::asl::Definition> Demo() {
  static const auto def = [] {
    auto d = onewindow::asl::Definition::Compile(
        ReadFile("workflows/food-licence.asl.yaml"));
    if (!d.ok()) {
      std::fprintf(stderr, "ow-micro-bench: %s\n",
                   d.status().ToString().c_str());
      std::exit(1);
    }
    return *d;
  }();
  return def;
}

StartInfo Info() {
  StartInfo info;
  info.execution_id = "OW-0000000042";
  info.execution_name = "OW-0000000042";
  info.state_machine_id = "food-licence@1";
  info.state_machine_name = "food-licence";
  info.start_ms = 1714554000000;
  info.seed = 7;
  return info;
}

const Json& Input() {
  static const Json in =
      Json::parse(ReadFile("workflows/food-licence.input.json"));
  return in;
}

Json DeptResult(const std::string& resource) {
  const std::string dept = resource.substr(5, resource.find('/') - 5);
  return {{"approved", true}, {"department", dept}};
}

void BM_EvalPath(benchmark::State& state, const char* path) {
  const Json& doc = CaseDocument();
  const EvalEnv env = Env();
  for (auto _ : state) {
    auto v = onewindow::asl::EvalPath(path, doc, env);
    if (!v.ok()) state.SkipWithError(v.status().ToString().c_str());
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK_CAPTURE(BM_EvalPath, simple, "$.applicant.name");
BENCHMARK_CAPTURE(BM_EvalPath, indexed, "$.opinions[2].approved");
BENCHMARK_CAPTURE(BM_EvalPath, context, "$$.Execution.Id");

// The same paths parsed once (what the interpreter does with StateSpec).
void BM_CompiledPath(benchmark::State& state, const char* path) {
  const Json& doc = CaseDocument();
  const EvalEnv env = Env();
  auto compiled = onewindow::asl::CompiledPath::Parse(path);
  if (!compiled.ok()) state.SkipWithError("path does not parse");
  for (auto _ : state) {
    auto v = compiled->Eval(doc, env);
    if (!v.ok()) state.SkipWithError(v.status().ToString().c_str());
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK_CAPTURE(BM_CompiledPath, simple, "$.applicant.name");
BENCHMARK_CAPTURE(BM_CompiledPath, indexed, "$.opinions[2].approved");
BENCHMARK_CAPTURE(BM_CompiledPath, context, "$$.Execution.Id");

const Json& DemoTemplate() {
  static const Json tmpl = {
      {"decision", "granted"},
      {"applicant.$", "$.applicant.name"},
      {"address.$", "$.premises.address"},
      {"seats.$", "$.premises.seats"},
      {"case.$", "$$.Execution.Id"},
      {"summary.$",
       "States.Format('Licence for {} at {}', $.applicant.name, "
       "$.premises.address)"},
  };
  return tmpl;
}

void BM_PayloadTemplate(benchmark::State& state) {
  const Json& tmpl = DemoTemplate();
  const Json& doc = CaseDocument();
  const EvalEnv env = Env();
  for (auto _ : state) {
    auto v = onewindow::asl::EvalPayloadTemplate(tmpl, doc, env);
    if (!v.ok()) state.SkipWithError(v.status().ToString().c_str());
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_PayloadTemplate);

void BM_CompiledTemplate(benchmark::State& state) {
  const auto tmpl = onewindow::asl::CompiledTemplate::Compile(DemoTemplate());
  const Json& doc = CaseDocument();
  const EvalEnv env = Env();
  for (auto _ : state) {
    auto v = tmpl.Eval(doc, env);
    if (!v.ok()) state.SkipWithError(v.status().ToString().c_str());
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_CompiledTemplate);

// A Choice state of 20 rules of mixed kinds, evaluated in order; only the
// last one matches.
std::vector<Json> Choice20Rules() {
  std::vector<Json> rules;
  for (int i = 0; i < 19; ++i) {
    switch (i % 4) {
      case 0:
        rules.push_back({{"Variable", "$.channel"},
                         {"StringEquals", "kiosk-" + std::to_string(i)}});
        break;
      case 1:
        rules.push_back({{"Variable", "$.premises.seats"},
                         {"NumericGreaterThan", 1000 + i}});
        break;
      case 2:
        rules.push_back(
            {{"And",
              Json::array({{{"Variable", "$.opinions[0].approved"},
                            {"BooleanEquals", true}},
                           {{"Variable", "$.premises.floor_area_m2"},
                            {"NumericLessThan", i}}})}});
        break;
      default:
        rules.push_back({{"Not",
                          {{"Variable", "$.applicant.taxpayer_no"},
                           {"IsPresent", true}}}});
        break;
    }
  }
  rules.push_back({{"Variable", "$.channel"}, {"StringEquals", "counter"}});
  return rules;
}

void BM_Choice20(benchmark::State& state) {
  const std::vector<Json> rules = Choice20Rules();
  const Json& doc = CaseDocument();
  const EvalEnv env = Env();
  for (auto _ : state) {
    int matched = -1;
    for (size_t i = 0; i < rules.size(); ++i) {
      auto r = onewindow::asl::EvalChoiceRule(rules[i], doc, env);
      if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
      if (r.ok() && *r) {
        matched = static_cast<int>(i);
        break;
      }
    }
    if (matched != 19) state.SkipWithError("wrong rule matched");
    benchmark::DoNotOptimize(matched);
  }
}
BENCHMARK(BM_Choice20);

void BM_CompiledChoice20(benchmark::State& state) {
  std::vector<onewindow::asl::CompiledChoiceRule> rules;
  for (const Json& rule : Choice20Rules()) {
    rules.push_back(onewindow::asl::CompiledChoiceRule::Compile(rule));
  }
  const Json& doc = CaseDocument();
  const EvalEnv env = Env();
  for (auto _ : state) {
    int matched = -1;
    for (size_t i = 0; i < rules.size(); ++i) {
      auto r = rules[i].Eval(doc, env);
      if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
      if (r.ok() && *r) {
        matched = static_cast<int>(i);
        break;
      }
    }
    if (matched != 19) state.SkipWithError("wrong rule matched");
    benchmark::DoNotOptimize(matched);
  }
}
BENCHMARK(BM_CompiledChoice20);

// Start (enters the 3-branch Parallel, dispatches 3 tasks) and complete one.
void BM_ExecutionStartCompleteOne(benchmark::State& state) {
  auto def = Demo();
  const StartInfo info = Info();
  for (auto _ : state) {
    StepOutput out;
    auto exec = Execution::Start(def, Input(), info, &out);
    const auto& t = out.dispatch.front();
    StepOutput out2;
    auto s = exec->CompleteTask(t.task_id, DeptResult(t.resource),
                                info.start_ms + 5, &out2);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out2);
  }
}
BENCHMARK(BM_ExecutionStartCompleteOne);

// A whole case in memory: Start, three opinions, the licence (5 commands).
void BM_ExecutionWholeCase(benchmark::State& state) {
  auto def = Demo();
  const StartInfo info = Info();
  for (auto _ : state) {
    StepOutput out;
    auto exec = Execution::Start(def, Input(), info, &out);
    std::vector<onewindow::core::TaskSpec> tasks = std::move(out.dispatch);
    int64_t now = info.start_ms;
    while (!tasks.empty()) {
      auto t = std::move(tasks.back());
      tasks.pop_back();
      StepOutput o;
      auto s = exec->CompleteTask(t.task_id, DeptResult(t.resource), ++now, &o);
      if (!s.ok()) state.SkipWithError(s.ToString().c_str());
      for (auto& d : o.dispatch) tasks.push_back(std::move(d));
    }
    if (exec->status() != onewindow::core::RunStatus::kSucceeded) {
      state.SkipWithError("case did not succeed");
    }
  }
}
BENCHMARK(BM_ExecutionWholeCase);


// One Pass state shaping the case data, in each query language: the cost of
// a typical JSONata state against its JSONPath twin (a whole execution:
// start, the Pass, succeed).
constexpr char kPassJsonPath[] = R"json({"StartAt": "Shape", "States": {
  "Shape": {"Type": "Pass", "End": true,
    "Parameters": {"name.$": "$.applicant.name",
                   "seats.$": "$.premises.seats",
                   "area.$": "$.premises.floor_area_m2",
                   "tags.$": "States.Array($.applicant.name, 'food')"}}}})json";
constexpr char kPassJsonata[] = R"json({"QueryLanguage": "JSONata",
  "StartAt": "Shape", "States": {
  "Shape": {"Type": "Pass", "End": true,
    "Output": {"name": "{% $states.input.applicant.name %}",
               "seats": "{% $states.input.premises.seats %}",
               "area": "{% $states.input.premises.floor_area_m2 %}",
               "tags": "{% [$states.input.applicant.name, 'food'] %}"}}}})json";

void BM_PassState(benchmark::State& state, const char* text) {
  auto def = onewindow::asl::Definition::Compile(text);
  if (!def.ok()) {
    state.SkipWithError(def.status().ToString().c_str());
    return;
  }
  const StartInfo info = Info();
  for (auto _ : state) {
    StepOutput out;
    auto exec = Execution::Start(*def, Input(), info, &out);
    if (exec->status() != onewindow::core::RunStatus::kSucceeded) {
      state.SkipWithError("did not succeed");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK_CAPTURE(BM_PassState, jsonpath, kPassJsonPath);
BENCHMARK_CAPTURE(BM_PassState, jsonata, kPassJsonata);

// A Map over 1,000 premises whose ItemSelector reads the item from the
// context, each iteration a Pass (a whole execution), in each language.
constexpr char kMapJsonPath[] = R"json({
  "StartAt": "Each", "States": {"Each": {"Type": "Map", "End": true,
    "ItemsPath": "$.premises",
    "ItemSelector": {"no.$": "$$.Map.Item.Index",
                     "address.$": "$$.Map.Item.Value.address",
                     "owner.$": "$.owner"},
    "ItemProcessor": {"StartAt": "Note", "States": {
      "Note": {"Type": "Pass", "End": true}}}}}})json";
constexpr char kMapJsonata[] = R"json({"QueryLanguage": "JSONata",
  "StartAt": "Each", "States": {"Each": {"Type": "Map", "End": true,
    "Items": "{% $states.input.premises %}",
    "ItemSelector": {"no": "{% $states.context.Map.Item.Index %}",
                     "address": "{% $states.context.Map.Item.Value.address %}",
                     "owner": "{% $states.input.owner %}"},
    "ItemProcessor": {"StartAt": "Note", "States": {
      "Note": {"Type": "Pass", "End": true}}}}}})json";

void BM_MapItemSelector(benchmark::State& state, const char* text) {
  auto def = onewindow::asl::Definition::Compile(text);
  if (!def.ok()) {
    state.SkipWithError(def.status().ToString().c_str());
    return;
  }
  Json input = {{"owner", "Chan Tai Man"}, {"premises", Json::array()}};
  for (int i = 0; i < 1000; ++i) {
    input["premises"].push_back(
        {{"address", "Rua da Felicidade " + std::to_string(i)}});
  }
  const StartInfo info = Info();
  for (auto _ : state) {
    StepOutput out;
    auto exec = Execution::Start(*def, input, info, &out);
    if (exec->status() != onewindow::core::RunStatus::kSucceeded) {
      state.SkipWithError("did not succeed");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK_CAPTURE(BM_MapItemSelector, jsonpath, kMapJsonPath);
BENCHMARK_CAPTURE(BM_MapItemSelector, jsonata, kMapJsonata);

// An execution waiting on the last two opinions (the common open state).
std::unique_ptr<Execution> MidCase() {
  StepOutput out;
  auto exec = Execution::Start(Demo(), Input(), Info(), &out);
  const auto& t = out.dispatch.front();
  StepOutput out2;
  (void)exec->CompleteTask(t.task_id, DeptResult(t.resource), Info().start_ms,
                           &out2);
  return exec;
}

onewindow::store::v1::CaseRecord MidCaseRecord() {
  auto exec = MidCase();
  onewindow::store::v1::CaseRecord rec;
  rec.set_id("OW-0000000042");
  rec.set_service("food-licence");
  rec.set_version(1);
  rec.set_status(onewindow::v1::CASE_STATUS_RUNNING);
  rec.set_input_json(Input().dump());
  rec.set_request_id("counter-7-000123");
  rec.set_created_at_ms(1714554000000);
  rec.set_updated_at_ms(1714554000005);
  rec.set_execution(exec->Snapshot());
  rec.set_history_seq(9);
  for (const auto& s : exec->ActiveStates()) rec.add_current_states(s);
  rec.add_open_departments("CB");
  rec.add_open_departments("IAM");
  rec.set_next_nonce(3);
  return rec;
}

void BM_EncodeCaseRecord(benchmark::State& state) {
  const auto rec = MidCaseRecord();
  for (auto _ : state) {
    std::string bytes = rec.SerializeAsString();
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["bytes"] = static_cast<double>(rec.ByteSizeLong());
}
BENCHMARK(BM_EncodeCaseRecord);

// The whole of what WriteCase does per transition: snapshot + encode.
void BM_SnapshotAndEncodeCaseRecord(benchmark::State& state) {
  auto exec = MidCase();
  auto rec = MidCaseRecord();
  for (auto _ : state) {
    rec.set_execution(exec->Snapshot());
    std::string bytes = rec.SerializeAsString();
    benchmark::DoNotOptimize(bytes);
  }
}
BENCHMARK(BM_SnapshotAndEncodeCaseRecord);

void BM_DecodeCaseRecord(benchmark::State& state) {
  const std::string bytes = MidCaseRecord().SerializeAsString();
  for (auto _ : state) {
    onewindow::store::v1::CaseRecord rec;
    if (!rec.ParseFromString(bytes)) state.SkipWithError("parse");
    benchmark::DoNotOptimize(rec);
  }
}
BENCHMARK(BM_DecodeCaseRecord);

void BM_Snapshot(benchmark::State& state) {
  auto exec = MidCase();
  for (auto _ : state) {
    std::string snap = exec->Snapshot();
    benchmark::DoNotOptimize(snap);
  }
  state.counters["bytes"] = static_cast<double>(exec->Snapshot().size());
}
BENCHMARK(BM_Snapshot);

void BM_Restore(benchmark::State& state) {
  auto def = Demo();
  onewindow::store::v1::ExecutionCheckpoint cp;
  cp.ParseFromString(MidCase()->Snapshot());
  for (auto _ : state) {
    auto exec = Execution::FromCheckpoint(def, cp);
    if (!exec.ok()) state.SkipWithError(exec.status().ToString().c_str());
    benchmark::DoNotOptimize(exec);
  }
}
BENCHMARK(BM_Restore);

}  // namespace

BENCHMARK_MAIN();
