#include "engine/core/execution.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kT0 = 1767225600000;  // 2026-01-01T00:00:00Z

std::shared_ptr<const asl::Definition> Def(const std::string& text) {
  auto def = asl::Definition::Compile(text);
  EXPECT_TRUE(def.ok()) << def.status();
  return def.ok() ? *def : nullptr;
}

StartInfo Info(uint64_t seed = 7) {
  StartInfo info;
  info.execution_id = "C-1";
  info.execution_name = "C-1";
  info.state_machine_id = "svc@1";
  info.state_machine_name = "svc";
  info.start_ms = kT0;
  info.seed = seed;
  return info;
}

std::vector<std::string> EventTypes(const StepOutput& out) {
  std::vector<std::string> types;
  for (const Event& e : out.events) {
    types.push_back(std::string(EventTypeName(e.type)));
  }
  return types;
}

bool HasEvent(const StepOutput& out, const std::string& type) {
  return std::any_of(out.events.begin(), out.events.end(), [&](const Event& e) {
    return EventTypeName(e.type) == type;
  });
}

// ---- Pass / Choice / Succeed / Fail ----------------------------------------

TEST(ExecutionTest, PassResultAndResultPath) {
  auto def = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.r","Next":"B"},
    "B":{"Type":"Pass","Parameters":{"v.$":"$.r.x","in.$":"$$.Execution.Input.k"},
         "OutputPath":"$.v","End":true}}})");
  StepOutput out;
  auto exec = Execution::Start(def, {{"k", "kv"}}, Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_EQ(exec->output(), Json(1));
  EXPECT_THAT(EventTypes(out),
              ElementsAre("ExecutionStarted", "StateEntered", "StateExited",
                          "StateEntered", "StateExited", "ExecutionSucceeded"));
  EXPECT_THAT(out.dispatch, IsEmpty());
  EXPECT_THAT(exec->OutstandingTasks(), IsEmpty());
  EXPECT_THAT(exec->ArmedTimers(), IsEmpty());
}

TEST(ExecutionTest, ContextObjectFields) {
  auto def = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Pass","Parameters":{"c.$":"$$"},"End":true}}})");
  StepOutput out;
  auto exec = Execution::Start(def, {{"a", 1}}, Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded);
  const Json& c = exec->output()["c"];
  EXPECT_EQ(c["Execution"]["Id"], "C-1");
  EXPECT_EQ(c["Execution"]["Input"], Json({{"a", 1}}));
  EXPECT_EQ(c["Execution"]["StartTime"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(c["State"]["Name"], "A");
  EXPECT_EQ(c["State"]["RetryCount"], 0);
  EXPECT_EQ(c["StateMachine"]["Name"], "svc");
}

TEST(ExecutionTest, ChoiceMatchDefaultAndNoMatch) {
  const std::string text = R"({"StartAt":"C","States":{
    "C":{"Type":"Choice","Choices":[
      {"Variable":"$.n","NumericGreaterThan":10,"Next":"Big"}],
      "Default":"Small"},
    "Big":{"Type":"Pass","Result":"big","End":true},
    "Small":{"Type":"Pass","Result":"small","End":true}}})";
  auto def = Def(text);
  StepOutput out;
  EXPECT_EQ(Execution::Start(def, {{"n", 11}}, Info(), &out)->output(), "big");
  EXPECT_EQ(Execution::Start(def, {{"n", 1}}, Info(), &out)->output(), "small");

  auto nodefault = Def(R"({"StartAt":"C","States":{
    "C":{"Type":"Choice","Choices":[
      {"Variable":"$.n","NumericEquals":1,"Next":"D"}]},
    "D":{"Type":"Succeed"}}})");
  auto exec = Execution::Start(nodefault, {{"n", 2}}, Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.NoChoiceMatched");
}

TEST(ExecutionTest, FailWithAndWithoutError) {
  StepOutput out;
  auto exec = Execution::Start(
      Def(R"({"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E",
          "CausePath":"$.why"}}})"),
      {{"why", "because"}}, Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_TRUE(exec->has_error());
  EXPECT_EQ(exec->error(), "E");
  EXPECT_EQ(exec->cause(), "because");

  exec =
      Execution::Start(Def(R"({"StartAt":"F","States":{"F":{"Type":"Fail"}}})"),
                       Json::object(), Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_FALSE(exec->has_error());
  EXPECT_FALSE(exec->has_cause());
}

TEST(ExecutionTest, MissingInputPathIsRuntimeError) {
  StepOutput out;
  auto exec =
      Execution::Start(Def(R"({"StartAt":"A","States":{"A":{"Type":"Pass",
          "InputPath":"$.nope","End":true}}})"),
                       Json::object(), Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.Runtime");
}

TEST(ExecutionTest, OutputOverPayloadCapIsDataLimitExceeded) {
  StartInfo info = Info();
  info.limits.set_max_payload_bytes(64);
  StepOutput out;
  auto exec =
      Execution::Start(Def(R"({"StartAt":"A","States":{"A":{"Type":"Pass",
          "Result":"0123456789012345678901234567890123456789012345678901234567890123456789",
          "End":true}}})"),
                       Json::object(), info, &out);
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.DataLimitExceeded");
}

// ---- Task ------------------------------------------------------------------

const char kTaskDef[] = R"({"StartAt":"T","States":{
  "T":{"Type":"Task","Resource":"dept:DSF/check",
       "Parameters":{"id.$":"$.id","rc.$":"$$.State.RetryCount","tok.$":"$$.Task.Token"},
       "ResultSelector":{"ok.$":"$.approved"},
       "ResultPath":"$.result",
       "Retry":[{"ErrorEquals":["Dept.Flaky"],"IntervalSeconds":2,
                 "BackoffRate":3,"MaxAttempts":3,"MaxDelaySeconds":5}],
       "Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"Caught"}],
       "End":true},
  "Caught":{"Type":"Pass","End":true}}})";

TEST(ExecutionTest, TaskDispatchAndComplete) {
  auto def = Def(kTaskDef);
  StepOutput out;
  auto exec = Execution::Start(def, {{"id", 5}}, Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kRunning);
  ASSERT_THAT(out.dispatch, SizeIs(1));
  const TaskSpec& t = out.dispatch[0];
  EXPECT_EQ(t.task_id, "t1");
  EXPECT_EQ(t.state, "T");
  EXPECT_EQ(t.resource, "dept:DSF/check");
  EXPECT_EQ(t.input, Json({{"id", 5}, {"rc", 0}, {"tok", "t1"}}));
  EXPECT_THAT(exec->OutstandingTasks(), ElementsAre("t1"));
  EXPECT_THAT(exec->ActiveStates(), ElementsAre("T"));

  StepOutput out2;
  ASSERT_TRUE(
      exec->CompleteTask("t1", {{"approved", true}}, kT0 + 5, &out2).ok());
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_EQ(exec->output(), Json({{"id", 5}, {"result", {{"ok", true}}}}));
  EXPECT_TRUE(HasEvent(out2, "TaskSucceeded"));
  EXPECT_THAT(exec->OutstandingTasks(), IsEmpty());
}

TEST(ExecutionTest, RetryBackoffWithCapThenSuccess) {
  auto def = Def(kTaskDef);
  StepOutput out;
  auto exec = Execution::Start(def, {{"id", 5}}, Info(), &out);
  int64_t now = kT0;
  std::vector<int64_t> delays;
  std::string task = "t1";
  for (int i = 0; i < 3; ++i) {
    StepOutput o;
    ASSERT_TRUE(exec->FailTask(task, "Dept.Flaky", "try", now, &o).ok());
    ASSERT_THAT(o.set_timers, SizeIs(1));
    delays.push_back(o.set_timers[0].due_ms - now);
    now = o.set_timers[0].due_ms;
    StepOutput f;
    ASSERT_TRUE(exec->FireTimer(o.set_timers[0].timer_id, now, &f).ok());
    ASSERT_THAT(f.dispatch, SizeIs(1));
    task = f.dispatch[0].task_id;
    EXPECT_EQ(f.dispatch[0].input["rc"], i + 1);
  }
  // Interval 2 s, rate 3, capped at 5 s.
  EXPECT_THAT(delays, ElementsAre(2000, 5000, 5000));
  // The retrier is exhausted: the catcher takes the next failure.
  StepOutput o;
  ASSERT_TRUE(exec->FailTask(task, "Dept.Flaky", "last", now, &o).ok());
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_EQ(
      exec->output(),
      Json({{"id", 5}, {"err", {{"Error", "Dept.Flaky"}, {"Cause", "last"}}}}));
}

TEST(ExecutionTest, CatchDoesNotTakeRuntimeErrorsWithStatesAll) {
  auto def = Def(R"({"StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"dept:X/x","InputPath":"$.missing",
         "Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},
    "C":{"Type":"Pass","End":true}}})");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.Runtime");
}

TEST(ExecutionTest, RetryMaxAttemptsZeroNeverRetries) {
  auto def = Def(R"({"StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"dept:X/x",
         "Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":0}],"End":true}}})");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  StepOutput o;
  ASSERT_TRUE(exec->FailTask("t1", "E", "c", kT0, &o).ok());
  EXPECT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "E");
  EXPECT_EQ(exec->cause(), "c");
}

TEST(ExecutionTest, TaskFailedMatchesEverythingButTimeout) {
  auto def = Def(R"({"StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"dept:X/x","TimeoutSeconds":10,
         "Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"C"}],"End":true},
    "C":{"Type":"Pass","Result":"caught","End":true}}})");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  StepOutput o;
  ASSERT_TRUE(exec->FailTask("t1", "Any.Error", "", kT0, &o).ok());
  EXPECT_EQ(exec->output(), "caught");

  StepOutput out2;
  exec = Execution::Start(def, Json::object(), Info(), &out2);
  ASSERT_THAT(out2.set_timers, SizeIs(1));
  EXPECT_EQ(out2.set_timers[0].due_ms, kT0 + 10000);
  StepOutput f;
  ASSERT_TRUE(
      exec->FireTimer(out2.set_timers[0].timer_id, kT0 + 10000, &f).ok());
  EXPECT_THAT(f.cancel_tasks, ElementsAre("t1"));
  EXPECT_TRUE(HasEvent(f, "TaskTimedOut"));
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.Timeout");
}

TEST(ExecutionTest, HeartbeatReArmsAndTimesOut) {
  auto def = Def(R"({"StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"dept:X/x","HeartbeatSeconds":5,"End":true}}})");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  ASSERT_THAT(out.set_timers, SizeIs(1));
  const TimerSpec first = out.set_timers[0];
  EXPECT_EQ(out.dispatch[0].heartbeat_seconds, 5);

  StepOutput hb;
  ASSERT_TRUE(exec->HeartbeatTask("t1", kT0 + 3000, &hb).ok());
  ASSERT_THAT(hb.cancel_timers, SizeIs(1));
  EXPECT_EQ(hb.cancel_timers[0].timer_id, first.timer_id);
  ASSERT_THAT(hb.set_timers, SizeIs(1));
  EXPECT_EQ(hb.set_timers[0].due_ms, kT0 + 8000);

  // The replaced timer is stale now.
  StepOutput stale;
  EXPECT_EQ(exec->FireTimer(first.timer_id, kT0 + 5000, &stale).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(stale.events, IsEmpty());

  StepOutput f;
  ASSERT_TRUE(exec->FireTimer(hb.set_timers[0].timer_id, kT0 + 8000, &f).ok());
  EXPECT_THAT(f.cancel_tasks, ElementsAre("t1"));
  EXPECT_EQ(exec->error(), "States.HeartbeatTimeout");
}

TEST(ExecutionTest, StaleAndUnknownCommandsChangeNothing) {
  auto def = Def(kTaskDef);
  StepOutput out;
  auto exec = Execution::Start(def, {{"id", 1}}, Info(), &out);
  const std::string before = exec->Snapshot();
  StepOutput o;
  EXPECT_EQ(exec->CompleteTask("t9", Json::object(), kT0, &o).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(exec->FailTask("t9", "E", "", kT0, &o).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(exec->HeartbeatTask("t9", kT0, &o).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(exec->FireTimer("tm99", kT0, &o).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(exec->Snapshot(), before);
  EXPECT_THAT(o.events, IsEmpty());
  EXPECT_THAT(o.dispatch, IsEmpty());

  ASSERT_TRUE(exec->CompleteTask("t1", {{"approved", 1}}, kT0, &o).ok());
  const std::string after = exec->Snapshot();
  StepOutput o2;
  EXPECT_EQ(exec->CompleteTask("t1", Json::object(), kT0, &o2).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(exec->Cancel("late", kT0, &o2).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(exec->Snapshot(), after);
  EXPECT_THAT(o2.events, IsEmpty());
}

TEST(ExecutionTest, CancelWithdrawsTasksAndTimers) {
  auto def = Def(R"({"StartAt":"P","TimeoutSeconds":100,"States":{
    "P":{"Type":"Parallel","End":true,"Branches":[
      {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"dept:X/x","End":true}}},
      {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}}]}}})");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  EXPECT_THAT(exec->OutstandingTasks(), SizeIs(1));
  EXPECT_THAT(exec->ArmedTimers(), SizeIs(2));
  EXPECT_THAT(exec->ActiveStates(), ElementsAre("P", "T", "W"));
  StepOutput o;
  ASSERT_TRUE(exec->Cancel("clerk", kT0 + 1, &o).ok());
  EXPECT_EQ(exec->status(), RunStatus::kCancelled);
  EXPECT_EQ(exec->cause(), "clerk");
  EXPECT_THAT(o.cancel_tasks, ElementsAre("t1"));
  EXPECT_THAT(o.cancel_timers, SizeIs(2));
  EXPECT_THAT(exec->OutstandingTasks(), IsEmpty());
  EXPECT_THAT(exec->ArmedTimers(), IsEmpty());
  EXPECT_THAT(exec->ActiveStates(), IsEmpty());
}

// ---- Wait and execution timeout --------------------------------------------

TEST(ExecutionTest, WaitSecondsArmsTimer) {
  auto def = Def(R"({"StartAt":"W","States":{
    "W":{"Type":"Wait","Seconds":30,"Next":"D"},"D":{"Type":"Succeed"}}})");
  StepOutput out;
  auto exec = Execution::Start(def, {{"a", 1}}, Info(), &out);
  ASSERT_THAT(out.set_timers, SizeIs(1));
  EXPECT_EQ(out.set_timers[0].due_ms, kT0 + 30000);
  EXPECT_TRUE(HasEvent(out, "WaitStarted"));
  StepOutput f;
  ASSERT_TRUE(
      exec->FireTimer(out.set_timers[0].timer_id, kT0 + 30000, &f).ok());
  EXPECT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_EQ(exec->output(), Json({{"a", 1}}));
}

TEST(ExecutionTest, WaitPastTimestampAndBadSecondsPath) {
  StepOutput out;
  auto exec =
      Execution::Start(Def(R"({"StartAt":"W","States":{"W":{"Type":"Wait",
          "Timestamp":"2020-01-01T00:00:00Z","End":true}}})"),
                       Json::object(), Info(), &out);
  EXPECT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_THAT(out.set_timers, IsEmpty());

  auto bad = Def(R"({"StartAt":"W","States":{"W":{"Type":"Wait",
      "SecondsPath":"$.s","End":true}}})");
  for (const Json& s : {Json(-1), Json(1.5), Json("5")}) {
    StepOutput o;
    exec = Execution::Start(bad, {{"s", s}}, Info(), &o);
    EXPECT_EQ(exec->status(), RunStatus::kFailed) << s;
    EXPECT_EQ(exec->error(), "States.Runtime") << s;
  }
}

TEST(ExecutionTest, ExecutionTimeout) {
  auto def = Def(R"({"StartAt":"W","TimeoutSeconds":1,"States":{
    "W":{"Type":"Wait","Seconds":3,"End":true}}})");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  ASSERT_THAT(out.set_timers, SizeIs(2));
  auto timers = exec->ArmedTimers();
  auto first = *std::min_element(timers.begin(), timers.end(),
                                 [](const TimerSpec& a, const TimerSpec& b) {
                                   return a.due_ms < b.due_ms;
                                 });
  EXPECT_EQ(first.due_ms, kT0 + 1000);
  StepOutput f;
  ASSERT_TRUE(exec->FireTimer(first.timer_id, first.due_ms, &f).ok());
  EXPECT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.Timeout");
  EXPECT_THAT(f.cancel_timers, SizeIs(1));  // the Wait's timer
  EXPECT_THAT(exec->ArmedTimers(), IsEmpty());
}

// ---- Parallel ---------------------------------------------------------------

const char kParallelDef[] = R"({"StartAt":"P","States":{
  "P":{"Type":"Parallel","ResultPath":"$.out","End":true,
       "Branches":[
         {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"dept:A/a","End":true}}},
         {"StartAt":"B","States":{"B":{"Type":"Task","Resource":"dept:B/b","Next":"B2"},
                                  "B2":{"Type":"Pass","End":true}}},
         {"StartAt":"C","States":{"C":{"Type":"Pass","Result":"c","End":true}}}]}}})";

TEST(ExecutionTest, ParallelResultsInBranchOrder) {
  auto def = Def(kParallelDef);
  StepOutput out;
  auto exec = Execution::Start(def, {{"x", 1}}, Info(), &out);
  ASSERT_THAT(out.dispatch, SizeIs(2));
  EXPECT_EQ(out.dispatch[0].resource, "dept:A/a");
  EXPECT_EQ(out.dispatch[1].resource, "dept:B/b");
  StepOutput o;
  ASSERT_TRUE(exec->CompleteTask(out.dispatch[1].task_id, "B", kT0, &o).ok());
  EXPECT_EQ(exec->status(), RunStatus::kRunning);
  ASSERT_TRUE(exec->CompleteTask(out.dispatch[0].task_id, "A", kT0, &o).ok());
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_EQ(exec->output(), Json({{"x", 1}, {"out", {"A", "B", "c"}}}));
}

TEST(ExecutionTest, ParallelBranchFailureCancelsTheOthers) {
  auto def = Def(kParallelDef);
  StepOutput out;
  auto exec = Execution::Start(def, {{"x", 1}}, Info(), &out);
  StepOutput o;
  ASSERT_TRUE(
      exec->FailTask(out.dispatch[1].task_id, "Dept.Down", "b", kT0, &o).ok());
  EXPECT_THAT(o.cancel_tasks, ElementsAre(out.dispatch[0].task_id));
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "Dept.Down");
  EXPECT_EQ(exec->cause(), "b");
  EXPECT_THAT(exec->OutstandingTasks(), IsEmpty());
  // The withdrawn task's answer is stale.
  EXPECT_EQ(exec->CompleteTask(out.dispatch[0].task_id, 1, kT0, &o).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ExecutionTest, WorkCreatedAndWithdrawnInOneCallIsNotReported) {
  auto def = Def(R"({"StartAt":"P","TimeoutSeconds":60,"States":{
    "P":{"Type":"Parallel","End":true,"Branches":[
      {"StartAt":"T","States":{"T":{"Type":"Task","Resource":"dept:X/x",
                                    "TimeoutSeconds":9,"End":true}}},
      {"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":30,"End":true}}},
      {"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom"}}}]}}})");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "Boom");
  EXPECT_THAT(out.dispatch, IsEmpty());
  EXPECT_THAT(out.cancel_tasks, IsEmpty());
  EXPECT_THAT(out.set_timers, IsEmpty());
  EXPECT_THAT(out.cancel_timers, IsEmpty());
  EXPECT_TRUE(HasEvent(out, "TaskScheduled"));
}

TEST(ExecutionTest, ParallelRetryRunsAllBranchesAgain) {
  auto def = Def(R"({"StartAt":"P","States":{
    "P":{"Type":"Parallel","End":true,
         "Retry":[{"ErrorEquals":["E"],"IntervalSeconds":1}],
         "Branches":[
           {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"dept:A/a","End":true}}},
           {"StartAt":"B","States":{"B":{"Type":"Task","Resource":"dept:B/b","End":true}}}]}}})");
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), Info(), &out);
  StepOutput o;
  ASSERT_TRUE(exec->FailTask("t2", "E", "", kT0, &o).ok());
  EXPECT_THAT(o.cancel_tasks, ElementsAre("t1"));
  ASSERT_THAT(o.set_timers, SizeIs(1));
  StepOutput f;
  ASSERT_TRUE(exec->FireTimer(o.set_timers[0].timer_id, kT0 + 1000, &f).ok());
  ASSERT_THAT(f.dispatch, SizeIs(2));
  EXPECT_EQ(f.dispatch[0].task_id, "t3");
  EXPECT_EQ(f.dispatch[1].task_id, "t4");
}

// ---- Map --------------------------------------------------------------------

TEST(ExecutionTest, MapMaxConcurrencyWindowAndItemOrder) {
  auto def = Def(R"({"StartAt":"M","States":{
    "M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,
         "ItemSelector":{"v.$":"$$.Map.Item.Value","i.$":"$$.Map.Item.Index"},
         "ItemProcessor":{"StartAt":"T","States":{
           "T":{"Type":"Task","Resource":"dept:X/x","End":true}}},
         "End":true}}})");
  StepOutput out;
  auto exec = Execution::Start(def, {{"items", {"a", "b", "c", "d", "e"}}},
                               Info(), &out);
  ASSERT_THAT(out.dispatch, SizeIs(2));
  EXPECT_EQ(out.dispatch[0].input, Json({{"v", "a"}, {"i", 0}}));
  EXPECT_EQ(out.dispatch[1].input, Json({{"v", "b"}, {"i", 1}}));
  std::vector<TaskSpec> pending = out.dispatch;
  int answered = 0;
  while (!pending.empty()) {
    EXPECT_LE(exec->OutstandingTasks().size(), 2u);
    // Answer the newest first so completion order differs from item order.
    TaskSpec t = pending.back();
    pending.pop_back();
    StepOutput o;
    ASSERT_TRUE(exec->CompleteTask(t.task_id, t.input["v"], kT0, &o).ok());
    ++answered;
    for (const TaskSpec& d : o.dispatch) pending.push_back(d);
  }
  EXPECT_EQ(answered, 5);
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_EQ(exec->output(), Json({"a", "b", "c", "d", "e"}));
}

TEST(ExecutionTest, MapToleratedFailures) {
  auto def = Def(R"({"StartAt":"M","States":{
    "M":{"Type":"Map","ToleratedFailureCount":1,
         "ItemProcessor":{"StartAt":"T","States":{
           "T":{"Type":"Task","Resource":"dept:X/x","End":true}}},
         "End":true}}})");
  StepOutput out;
  auto exec = Execution::Start(def, Json({1, 2, 3}), Info(), &out);
  ASSERT_THAT(out.dispatch, SizeIs(3));
  StepOutput o;
  ASSERT_TRUE(exec->FailTask("t1", "E", "one", kT0, &o).ok());
  EXPECT_EQ(exec->status(), RunStatus::kRunning);
  ASSERT_TRUE(exec->FailTask("t2", "E", "two", kT0, &o).ok());
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.ExceedToleratedFailureThreshold");
  EXPECT_THAT(o.cancel_tasks, ElementsAre("t3"));

  StepOutput out2;
  exec = Execution::Start(def, Json({1, 2}), Info(), &out2);
  ASSERT_TRUE(exec->FailTask("t1", "E", "one", kT0, &o).ok());
  ASSERT_TRUE(exec->CompleteTask("t2", "ok", kT0, &o).ok());
  ASSERT_EQ(exec->status(), RunStatus::kSucceeded);
  EXPECT_EQ(exec->output(), Json({{{"Error", "E"}, {"Cause", "one"}}, "ok"}));
}

TEST(ExecutionTest, MapIterationFailureFailsMapWithItsError) {
  auto def = Def(R"({"StartAt":"M","States":{
    "M":{"Type":"Map",
         "ItemProcessor":{"StartAt":"C","States":{
           "C":{"Type":"Choice","Choices":[
             {"Variable":"$","NumericGreaterThan":2,"Next":"Bad"}],"Default":"Ok"},
           "Ok":{"Type":"Pass","End":true},
           "Bad":{"Type":"Fail","Error":"TooBig","Cause":"big"}}},
         "End":true}}})");
  StepOutput out;
  auto exec = Execution::Start(def, Json({1, 2, 3}), Info(), &out);
  ASSERT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "TooBig");
  exec = Execution::Start(def, Json({1, 2}), Info(), &out);
  EXPECT_EQ(exec->output(), Json({1, 2}));
  exec = Execution::Start(def, "nope", Info(), &out);
  EXPECT_EQ(exec->error(), "States.Runtime");
  exec = Execution::Start(def, Json::array(), Info(), &out);
  EXPECT_EQ(exec->output(), Json::array());
}

// ---- Snapshot / Restore and determinism -------------------------------------

absl::StatusOr<std::unique_ptr<Execution>> Restore(
    std::shared_ptr<const asl::Definition> def, const std::string& snapshot) {
  onewindow::store::v1::ExecutionCheckpoint cp;
  if (!cp.ParseFromString(snapshot)) {
    return absl::DataLossError("not a checkpoint");
  }
  return Execution::FromCheckpoint(std::move(def), cp);
}

// A machine with every kind of wait: tasks in a Map with a window, a Parallel,
// a retry back-off with jitter, a Wait and an intrinsic using randomness.
const char kBigDef[] =
    R"json({"StartAt":"Init","TimeoutSeconds":100000,"States":{
  "Init":{"Type":"Pass","Parameters":{"items.$":"$.items","id.$":"States.UUID()",
          "r.$":"States.MathRandom(1, 1000)"},"Next":"M"},
  "M":{"Type":"Map","ItemsPath":"$.items","MaxConcurrency":2,"ResultPath":"$.m",
       "ItemProcessor":{"StartAt":"T","States":{
         "T":{"Type":"Task","Resource":"dept:DSF/x","HeartbeatSeconds":50,
              "Retry":[{"ErrorEquals":["Flaky"],"JitterStrategy":"FULL",
                        "IntervalSeconds":3}],"Next":"W"},
         "W":{"Type":"Wait","Seconds":2,"End":true}}},
       "Next":"P"},
  "P":{"Type":"Parallel","ResultPath":"$.p","End":true,"Branches":[
       {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"dept:A/a","End":true}}},
       {"StartAt":"B","States":{"B":{"Type":"Wait","Seconds":1,"Next":"B2"},
                                "B2":{"Type":"Task","Resource":"dept:B/b","End":true}}}]}}})json";

struct Trace {
  std::vector<std::string> events;
  Json output;
  RunStatus status = RunStatus::kRunning;
};

// Drives an execution: tasks are answered FIFO (every third, if of state T,
// fails with Flaky), timers fire in due order. With `restore`, the execution is
// snapshotted and rebuilt before every command.
Trace Drive(std::shared_ptr<const asl::Definition> def, bool restore,
            uint64_t seed) {
  Trace trace;
  StepOutput out;
  auto exec =
      Execution::Start(def, {{"items", {1, 2, 3, 4}}}, Info(seed), &out);
  std::vector<TaskSpec> tasks;
  std::map<std::string, int64_t> timers;
  int64_t now = kT0;
  int n = 0;
  auto absorb = [&](StepOutput& o) {
    for (const Event& e : o.events) {
      trace.events.push_back(
          std::string(EventTypeName(e.type)) + "|" + e.state + "|" + e.task_id +
          "|" + e.value.dump() + "|" + e.error + "|" + e.cause + "|" +
          std::to_string(e.index) + "|" + std::to_string(e.attempt) + "|" +
          std::to_string(e.number) + "|" + e.text);
    }
    for (const TaskSpec& t : o.dispatch) tasks.push_back(t);
    for (const std::string& c : o.cancel_tasks) {
      std::erase_if(tasks, [&](const TaskSpec& t) { return t.task_id == c; });
    }
    for (const TimerSpec& t : o.cancel_timers) timers.erase(t.timer_id);
    for (const TimerSpec& t : o.set_timers) timers[t.timer_id] = t.due_ms;
    o = StepOutput();
  };
  absorb(out);
  for (int guard = 0; exec->status() == RunStatus::kRunning && guard < 1000;
       ++guard) {
    if (restore) {
      auto r = Restore(def, exec->Snapshot());
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) break;
      EXPECT_EQ((*r)->Snapshot(), exec->Snapshot());
      exec = std::move(*r);
    }
    StepOutput o;
    if (!tasks.empty()) {
      TaskSpec t = tasks.front();
      tasks.erase(tasks.begin());
      if (++n % 3 == 0 && t.state == "T") {
        EXPECT_TRUE(exec->FailTask(t.task_id, "Flaky", "", now, &o).ok());
      } else {
        // Only T has HeartbeatSeconds; a heartbeat elsewhere records nothing.
        EXPECT_EQ(exec->HeartbeatTask(t.task_id, now, &o).ok(), t.state == "T");
        EXPECT_TRUE(exec->CompleteTask(t.task_id, {{"n", n}}, now, &o).ok());
      }
    } else {
      auto it = std::min_element(
          timers.begin(), timers.end(),
          [](const auto& a, const auto& b) { return a.second < b.second; });
      if (it == timers.end()) break;
      now = std::max(now, it->second);
      std::string id = it->first;
      timers.erase(it);
      EXPECT_TRUE(exec->FireTimer(id, now, &o).ok());
    }
    absorb(o);
  }
  trace.status = exec->status();
  trace.output = exec->output();
  if (trace.status == RunStatus::kFailed) {
    trace.output = {{"Error", exec->error()}, {"Cause", exec->cause()}};
  }
  return trace;
}

TEST(ExecutionTest, SnapshotRestoreAtEveryStepGivesIdenticalRun) {
  auto def = Def(kBigDef);
  Trace plain = Drive(def, false, 42);
  Trace restored = Drive(def, true, 42);
  ASSERT_EQ(plain.status, RunStatus::kSucceeded) << plain.output;
  EXPECT_EQ(restored.status, plain.status);
  EXPECT_EQ(restored.output, plain.output);
  EXPECT_EQ(restored.events, plain.events);
  EXPECT_THAT(plain.output["m"], SizeIs(4));
  EXPECT_THAT(plain.output["p"], SizeIs(2));
  // The run did go through retries, waits and Map windows.
  auto count = [&](const std::string& type) {
    return std::count_if(
        plain.events.begin(), plain.events.end(),
        [&](const std::string& e) { return e.rfind(type + "|", 0) == 0; });
  };
  EXPECT_GT(count("StateRetryScheduled"), 0);
  EXPECT_EQ(count("WaitStarted"), 5);
  EXPECT_EQ(count("MapIterationStarted"), 4);
}

TEST(ExecutionTest, EndedExecutionRestores) {
  auto def = Def(kTaskDef);
  StepOutput out;
  auto exec = Execution::Start(def, {{"id", 1}}, Info(), &out);
  ASSERT_TRUE(exec->CompleteTask("t1", {{"approved", 1}}, kT0, &out).ok());
  auto r = Restore(def, exec->Snapshot());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->status(), RunStatus::kSucceeded);
  EXPECT_EQ((*r)->output(), exec->output());
}

TEST(ExecutionTest, MapToleratedPercentageAndConcurrencyPath) {
  auto def = Def(R"({"StartAt":"M","States":{
    "M":{"Type":"Map","ToleratedFailurePercentage":50,
         "MaxConcurrencyPath":"$.c","ItemsPath":"$.items",
         "ItemProcessor":{"StartAt":"T","States":{
           "T":{"Type":"Task","Resource":"dept:X/x","End":true}}},
         "End":true}}})");
  StepOutput out;
  auto exec =
      Execution::Start(def, {{"c", 1}, {"items", {1, 2, 3, 4}}}, Info(), &out);
  ASSERT_THAT(out.dispatch, SizeIs(1));
  StepOutput o;
  ASSERT_TRUE(exec->FailTask("t1", "E", "", kT0, &o).ok());  // 25%
  ASSERT_THAT(o.dispatch, SizeIs(1));
  ASSERT_TRUE(exec->FailTask("t2", "E", "", kT0, &o).ok());  // 50%
  EXPECT_EQ(exec->status(), RunStatus::kRunning);
  ASSERT_TRUE(exec->FailTask("t3", "E", "", kT0, &o).ok());  // 75%
  EXPECT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.ExceedToleratedFailureThreshold");

  StepOutput bad;
  exec = Execution::Start(def, {{"c", "x"}, {"items", {1}}}, Info(), &bad);
  EXPECT_EQ(exec->error(), "States.Runtime");
}

TEST(ExecutionTest, SameSeedSameRunDifferentSeedDifferentRandomness) {
  auto def = Def(kBigDef);
  Trace a = Drive(def, false, 42);
  Trace b = Drive(def, false, 42);
  Trace c = Drive(def, false, 43);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.output, b.output);
  EXPECT_NE(a.output["id"], c.output["id"]);
}

TEST(ExecutionTest, RestoreRejectsBadSnapshots) {
  auto def = Def(kTaskDef);
  StepOutput out;
  auto exec = Execution::Start(def, {{"id", 1}}, Info(), &out);
  // Not a checkpoint of this codec.
  EXPECT_EQ(Restore(def, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto other = Def(R"({"StartAt":"X","States":{"X":{"Type":"Succeed"}}})");
  EXPECT_EQ(Restore(other, exec->Snapshot()).status().code(),
            absl::StatusCode::kInvalidArgument);
  onewindow::store::v1::ExecutionCheckpoint cp = exec->Checkpoint(0);
  cp.mutable_threads(0)->set_state("Nowhere");
  EXPECT_EQ(Execution::FromCheckpoint(def, cp).status().code(),
            absl::StatusCode::kInvalidArgument);
  cp = exec->Checkpoint(0);
  cp.mutable_threads(0)->set_phase(99);
  EXPECT_EQ(Execution::FromCheckpoint(def, cp).status().code(),
            absl::StatusCode::kDataLoss);
  cp = exec->Checkpoint(0);
  cp.mutable_tasks(0)->set_thread(12345);
  EXPECT_EQ(Execution::FromCheckpoint(def, cp).status().code(),
            absl::StatusCode::kDataLoss);
  cp = exec->Checkpoint(0);
  cp.set_input("\xc1");  // not MessagePack
  EXPECT_EQ(Execution::FromCheckpoint(def, cp).status().code(),
            absl::StatusCode::kDataLoss);
  auto ok = Restore(def, exec->Snapshot());
  ASSERT_TRUE(ok.ok());
  EXPECT_THAT((*ok)->OutstandingTasks(), ElementsAre("t1"));
}

TEST(ExecutionTest, LoopWithoutWaitingIsStopped) {
  auto def = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Pass","Next":"C"},
    "C":{"Type":"Choice","Choices":[
      {"Variable":"$.stop","IsPresent":true,"Next":"D"}],"Default":"A"},
    "D":{"Type":"Succeed"}}})");
  StartInfo info = Info();
  info.limits.set_max_states_per_call(1000);
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), info, &out);
  EXPECT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.Runtime");
}

// ---- history bound
// -----------------------------------------------------------

TEST(ExecutionTest, ChoiceLoopStopsAtTheHistoryLimit) {
  // Two Choice states sending each other round: no task or timer ever ends
  // the call, so only the bounds do.
  auto def = Def(R"({"StartAt":"A","States":{
    "A":{"Type":"Choice","Choices":[
      {"Variable":"$.go","BooleanEquals":true,"Next":"B"}],"Default":"E"},
    "B":{"Type":"Choice","Choices":[
      {"Variable":"$.go","BooleanEquals":true,"Next":"A"}],"Default":"E"},
    "E":{"Type":"Succeed"}}})");
  StartInfo info = Info();
  info.limits.set_max_history_events(1000);
  StepOutput out;
  auto exec = Execution::Start(def, {{"go", true}}, info, &out);
  EXPECT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.Runtime");
  EXPECT_THAT(exec->cause(),
              ::testing::HasSubstr("more than max_history_events (1000)"));
  // Stopped at the bound (plus the failure's own events), not later.
  EXPECT_LE(out.events.size(), 1005u);
  EXPECT_GE(out.events.size(), 1000u);
  EXPECT_EQ(EventTypes(out).back(), "ExecutionFailed");
}

TEST(ExecutionTest, HistoryLimitCountsAcrossCallsAndCheckpoints) {
  // A loop that waits each round: every call is short, the history grows.
  auto def = Def(R"({"StartAt":"W","States":{
    "W":{"Type":"Wait","Seconds":1,"Next":"P"},
    "P":{"Type":"Choice","Choices":[
      {"Variable":"$.stop","IsPresent":true,"Next":"E"}],"Default":"W"},
    "E":{"Type":"Succeed"}}})");
  StartInfo info = Info();
  info.limits.set_max_history_events(200);
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), info, &out);
  int64_t now = kT0;
  int64_t events = static_cast<int64_t>(out.events.size());
  int rounds = 0;
  while (exec->status() == RunStatus::kRunning && rounds < 1000) {
    ASSERT_THAT(out.set_timers, SizeIs(1));
    std::string timer = out.set_timers[0].timer_id;
    now += 1000;
    if (rounds == 20) {
      // Rebuilt from its checkpoint half-way: the count goes on from there.
      auto again = Execution::FromCheckpoint(def, exec->Checkpoint(events));
      ASSERT_TRUE(again.ok()) << again.status();
      exec = *std::move(again);
    }
    out = StepOutput();
    ASSERT_TRUE(exec->FireTimer(timer, now, &out).ok());
    events += static_cast<int64_t>(out.events.size());
    ++rounds;
  }
  EXPECT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.Runtime");
  EXPECT_THAT(exec->cause(), ::testing::HasSubstr("max_history_events (200)"));
  EXPECT_GT(events, 200);
  EXPECT_LE(events, 210);
  EXPECT_THAT(out.set_timers, IsEmpty());
}

TEST(ExecutionTest, EndlessHeartbeatsMeetTheHistoryLimit) {
  auto def = Def(R"({"StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"dept:A/a","HeartbeatSeconds":60,
         "End":true}}})");
  StartInfo info = Info();
  info.limits.set_max_history_events(100);
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), info, &out);
  ASSERT_THAT(out.dispatch, SizeIs(1));
  const std::string task = out.dispatch[0].task_id;
  int beats = 0;
  while (exec->status() == RunStatus::kRunning && beats < 1000) {
    StepOutput o;
    ASSERT_TRUE(exec->HeartbeatTask(task, kT0 + beats, &o).ok());
    ++beats;
    if (exec->status() != RunStatus::kRunning) {
      EXPECT_THAT(o.cancel_tasks, ::testing::Contains(task));
    }
  }
  EXPECT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_THAT(exec->cause(), ::testing::HasSubstr("max_history_events (100)"));
  EXPECT_LT(beats, 100);
}

TEST(ExecutionTest, ValueGrownDeepByResultPathMeetsTheDepthBound) {
  // Each round places the input inside itself one level deeper; without a
  // depth bound the value reaches tens of thousands of levels before the
  // size bound, and every copy and dump of it recurses that deep.
  auto def = Def(R"({"StartAt":"W","States":{
    "W":{"Type":"Wait","Seconds":1,"Next":"P"},
    "P":{"Type":"Pass","ResultPath":"$.new.x","Next":"C"},
    "C":{"Type":"Choice","Choices":[
      {"Variable":"$.stop","IsPresent":true,"Next":"E"}],"Default":"W"},
    "E":{"Type":"Succeed"}}})");
  StepOutput out;
  auto exec = Execution::Start(def, {{"a", 1}}, Info(), &out);
  int64_t now = kT0;
  int rounds = 0;
  while (exec->status() == RunStatus::kRunning && rounds < 1000) {
    ASSERT_THAT(out.set_timers, SizeIs(1));
    std::string timer = out.set_timers[0].timer_id;
    out = StepOutput();
    now += 1000;
    ASSERT_TRUE(exec->FireTimer(timer, now, &out).ok());
    ++rounds;
  }
  EXPECT_EQ(exec->status(), RunStatus::kFailed);
  EXPECT_EQ(exec->error(), "States.DataLimitExceeded");
  EXPECT_THAT(exec->cause(), ::testing::HasSubstr("max_json_depth"));
  EXPECT_LE(rounds, 70);  // two levels a round, 128 levels allowed
}

TEST(ExecutionTest, NoHistoryLimitWhenZero) {
  auto def = Def(R"({"StartAt":"W","States":{
    "W":{"Type":"Wait","Seconds":1,"Next":"P"},
    "P":{"Type":"Choice","Choices":[
      {"Variable":"$.stop","IsPresent":true,"Next":"E"}],"Default":"W"},
    "E":{"Type":"Succeed"}}})");
  StartInfo info = Info();
  info.limits.set_max_history_events(0);
  StepOutput out;
  auto exec = Execution::Start(def, Json::object(), info, &out);
  int64_t now = kT0;
  for (int i = 0; i < 300; ++i) {
    ASSERT_THAT(out.set_timers, SizeIs(1));
    std::string timer = out.set_timers[0].timer_id;
    out = StepOutput();
    now += 1000;
    ASSERT_TRUE(exec->FireTimer(timer, now, &out).ok());
  }
  EXPECT_EQ(exec->status(), RunStatus::kRunning);
}

}  // namespace
}  // namespace onewindow::core
