// Replay: the command events of a history, applied again on a fresh
// execution or a checkpoint, give the same state; a changed history is
// named. And the checkpoint codec's bytes are pinned.
#include "engine/core/replay.h"

#include <map>

#include "engine/core/execution.h"
#include "gtest/gtest.h"

namespace onewindow::core {
namespace {

using onewindow::store::v1::StoredEvent;
namespace sv1 = onewindow::store::v1;

constexpr int64_t kT0 = 1767225600000;

std::shared_ptr<const asl::Definition> Def(const char* text) {
  auto d = asl::Definition::Compile(text);
  EXPECT_TRUE(d.ok()) << d.status();
  return *d;
}

StartInfo Info() {
  StartInfo info;
  info.execution_id = "C-1";
  info.execution_name = "C-1";
  info.state_machine_id = "svc@1";
  info.state_machine_name = "svc";
  info.version = 1;
  info.start_ms = kT0;
  info.seed = 99;
  return info;
}

// Records a run the way the engine stores it: every event, the commands
// carrying their payloads.
struct Recorder {
  std::vector<StoredEvent> events;
  void Add(const StepOutput& out, int64_t at, const std::string& payload) {
    for (const Event& e : out.events) {
      StoredEvent s;
      s.set_seq(static_cast<int64_t>(events.size()) + 1);
      s.set_at_ms(at);
      s.set_type(e.type);
      s.set_state(e.state);
      s.set_task_id(e.task_id);
      s.set_command(e.command);
      if (e.command) s.set_value_json(payload);
      s.set_error(e.error);
      s.set_cause(e.cause);
      s.set_text(e.text);
      s.set_seed(e.seed);
      *s.mutable_limits() = e.limits;
      s.set_version(e.version);
      events.push_back(s);
    }
  }
};

constexpr char kDef[] = R"json({"StartAt":"P","States":{
  "P":{"Type":"Parallel","Next":"W","Branches":[
    {"StartAt":"A","States":{"A":{"Type":"Task","Resource":"dept:A/a",
       "Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":1,
                 "JitterStrategy":"FULL"}],"End":true}}},
    {"StartAt":"B","States":{"B":{"Type":"Task","Resource":"dept:B/b",
       "HeartbeatSeconds":30,"End":true}}}]},
  "W":{"Type":"Wait","Seconds":5,"Next":"U"},
  "U":{"Type":"Pass","Parameters":{"id.$":"States.UUID()"},"End":true}}})json";

struct Traced {
  std::unique_ptr<Execution> exec;
  Recorder rec;
};

Traced Drive(std::shared_ptr<const asl::Definition> def, int commands) {
  Traced r;
  StepOutput out;
  r.exec = Execution::Start(def, {{"k", 1}}, Info(), &out);
  r.rec.Add(out, kT0, R"({"k":1})");
  int64_t now = kT0;
  std::map<std::string, std::string> tasks;  // id -> state
  auto note = [&](const StepOutput& o) {
    for (const TaskSpec& t : o.dispatch) tasks[t.task_id] = t.state;
  };
  note(out);
  for (int i = 0; i < commands && r.exec->status() == RunStatus::kRunning;
       ++i) {
    now += 1000;
    StepOutput o;
    std::string payload;
    if (i == 0) {  // A fails once and is retried
      auto it = std::find_if(tasks.begin(), tasks.end(),
                             [](auto& t) { return t.second == "A"; });
      EXPECT_TRUE(r.exec->FailTask(it->first, "Flaky", "x", now, &o).ok());
      tasks.erase(it);
    } else if (i == 1) {
      auto it = std::find_if(tasks.begin(), tasks.end(),
                             [](auto& t) { return t.second == "B"; });
      EXPECT_TRUE(r.exec->HeartbeatTask(it->first, now, &o).ok());
    } else if (!tasks.empty()) {
      auto it = tasks.begin();
      payload = R"({"n":)" + std::to_string(i) + "}";
      EXPECT_TRUE(r.exec->CompleteTask(it->first, Json::parse(payload), now,
                                       &o)
                      .ok());
      tasks.erase(it);
    } else {
      // Fire the earliest armed timer.
      auto timers = r.exec->ArmedTimers();
      auto t = std::min_element(timers.begin(), timers.end(),
                                [](auto& a, auto& b) { return a.due_ms < b.due_ms; });
      if (t == timers.end()) break;
      now = std::max(now, t->due_ms);
      EXPECT_TRUE(r.exec->FireTimer(t->timer_id, now, &o).ok());
    }
    note(o);
    r.rec.Add(o, now, payload);
  }
  return r;
}

Replayer NewReplayer(std::shared_ptr<const asl::Definition> def) {
  return Replayer(
      [def](int64_t) -> absl::StatusOr<std::shared_ptr<const asl::Definition>> {
        return def;
      },
      Info());
}

TEST(ReplayTest, ReplayingEveryPrefixGivesTheSameState) {
  auto def = Def(kDef);
  for (int n = 0; n <= 12; ++n) {
    Traced run = Drive(def, n);
    Replayer r = NewReplayer(def);
    ASSERT_TRUE(r.Begin(nullptr).ok());
    for (const auto& e : run.rec.events) ASSERT_TRUE(r.Add(e).ok()) << n;
    auto exec = r.Finish();
    ASSERT_TRUE(exec.ok()) << exec.status();
    EXPECT_EQ((*exec)->Snapshot(), run.exec->Snapshot()) << "after " << n;
  }
  Traced done = Drive(def, 12);
  EXPECT_EQ(done.exec->status(), RunStatus::kSucceeded);
}

TEST(ReplayTest, ReplayFromACheckpointGivesTheSameState) {
  auto def = Def(kDef);
  Traced half = Drive(def, 3);
  const int64_t seq = static_cast<int64_t>(half.rec.events.size());
  sv1::ExecutionCheckpoint cp = half.exec->Checkpoint(seq);
  Traced full = Drive(def, 12);
  Replayer r = NewReplayer(def);
  ASSERT_TRUE(r.Begin(&cp).ok());
  for (const auto& e : full.rec.events) ASSERT_TRUE(r.Add(e).ok());
  auto exec = r.Finish();
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_EQ((*exec)->Snapshot(), full.exec->Snapshot());
  EXPECT_LT(r.commands(), 12);
}

TEST(ReplayTest, AChangedHistoryIsNamed) {
  auto def = Def(kDef);
  Traced run = Drive(def, 12);
  // A derived event renamed.
  {
    auto events = run.rec.events;
    events[3].set_state("Elsewhere");
    Replayer r = NewReplayer(def);
    ASSERT_TRUE(r.Begin(nullptr).ok());
    absl::Status s;
    for (const auto& e : events) {
      s = r.Add(e);
      if (!s.ok()) break;
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(s.message().find("#4"), absl::string_view::npos) << s;
  }
  // An event removed.
  {
    auto events = run.rec.events;
    events.erase(events.begin() + 5);
    Replayer r = NewReplayer(def);
    ASSERT_TRUE(r.Begin(nullptr).ok());
    absl::Status s;
    for (const auto& e : events) {
      s = r.Add(e);
      if (!s.ok()) break;
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  }
  // A command that no longer applies (answering a task that is not there).
  {
    auto events = run.rec.events;
    for (auto& e : events) {
      if (e.command() && e.type() == sv1::TASK_SUCCEEDED) {
        e.set_task_id("t999");
        break;
      }
    }
    Replayer r = NewReplayer(def);
    ASSERT_TRUE(r.Begin(nullptr).ok());
    absl::Status s;
    for (const auto& e : events) {
      s = r.Add(e);
      if (!s.ok()) break;
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  }
}

TEST(ReplayTest, CheckpointBytesArePinned) {
  auto def = Def(R"({"StartAt":"T","States":{
    "T":{"Type":"Task","Resource":"dept:A/a","End":true}}})");
  StepOutput out;
  StartInfo info = Info();
  auto exec = Execution::Start(def, {{"k", 1}}, info, &out);
  sv1::ExecutionCheckpoint cp = exec->Checkpoint(4);
  cp.set_definition_digest("d");  // the digest is pinned elsewhere
  std::string hex;
  static const char* kDigits = "0123456789abcdef";
  for (unsigned char c : cp.SerializeAsString()) {
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  EXPECT_EQ(hex,
            "08011201641a03432d312203432d312a05737663403132037376633880d0eab6b7"
            "3340634a1e088080101090a10f18904e20904e28e8073080e4e4960138a08d0640"
            "80015a0481a16b01900163980102a00101a80102b00101ba011808012a01543002"
            "3a0481a16b014080d0eab6b7335a027431ca01060a0274311001e00104f00101f8"
            "0103");
}

}  // namespace
}  // namespace onewindow::core
