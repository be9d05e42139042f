// The execution's state as a binary checkpoint (ExecutionCheckpoint in
// proto/onewindow/store/v1/execution.proto; JSON values as MessagePack),
// and the JSON snapshot of layout 1 stores, read for upgrades.
#include "engine/core/execution_impl.h"
#include "engine/core/interp_util.h"

namespace onewindow::core {

using onewindow::store::v1::CheckpointJoin;
using onewindow::store::v1::CheckpointThread;
using onewindow::store::v1::ExecutionCheckpoint;

namespace {

constexpr int kCodec = 1;

std::string Pack(const Json& v) {
  if (v.is_null()) return std::string();
  std::string out;
  Json::to_msgpack(v, out);
  return out;
}

absl::Status Unpack(const std::string& bytes, Json* out) {
  if (bytes.empty()) {
    *out = nullptr;
    return absl::OkStatus();
  }
  *out = Json::from_msgpack(bytes, /*strict=*/true,
                            /*allow_exceptions=*/false);
  if (out->is_discarded()) {
    return absl::DataLossError("checkpoint holds a malformed value");
  }
  return absl::OkStatus();
}

int StatusCode(RunStatus s) { return static_cast<int>(s); }

bool StatusFrom(int v, RunStatus* s) {
  if (v < 0 || v > static_cast<int>(RunStatus::kCancelled)) return false;
  *s = static_cast<RunStatus>(v);
  return true;
}

}  // namespace

ExecutionCheckpoint Execution::Impl::ToCheckpoint(int64_t history_seq) const {
  ExecutionCheckpoint cp;
  cp.set_codec(kCodec);
  cp.set_definition_digest(def->digest());
  cp.set_version(version);
  cp.set_execution_id(info.execution_id);
  cp.set_execution_name(info.execution_name);
  cp.set_state_machine_id(info.state_machine_id);
  cp.set_state_machine_name(info.state_machine_name);
  cp.set_start_ms(info.start_ms);
  cp.set_seed(info.seed);
  *cp.mutable_limits() = info.limits;
  cp.set_input(Pack(input));
  cp.set_status(StatusCode(status));
  cp.set_output(Pack(output));
  cp.set_error(error);
  cp.set_cause(cause);
  cp.set_has_error(has_error);
  cp.set_has_cause(has_cause);
  cp.set_rng(rng);
  cp.set_next_task(next_task);
  cp.set_next_timer(next_timer);
  cp.set_events_emitted(events_emitted);
  cp.set_next_thread(next_thread);
  cp.set_next_join(next_join);
  for (const auto& [id, t] : threads) {
    CheckpointThread* ct = cp.add_threads();
    ct->set_id(t.id);
    for (const MachineStep& s : t.mpath) {
      auto* m = ct->add_mpath();
      m->set_state(s.state);
      m->set_index(s.index);
    }
    ct->set_join(t.join);
    ct->set_slot(t.slot);
    ct->set_state(t.state);
    ct->set_phase(static_cast<int>(t.phase));
    ct->set_input(Pack(t.input));
    ct->set_entered_ms(t.entered_ms);
    for (int64_t a : t.attempts) ct->add_attempts(a);
    ct->set_retry_count(t.retry_count);
    ct->set_task_id(t.task_id);
    ct->set_timer(t.timer);
    ct->set_timeout_timer(t.timeout_timer);
    ct->set_heartbeat_timer(t.heartbeat_timer);
    ct->set_heartbeat_s(t.heartbeat_s);
    ct->set_child_join(t.child_join);
    ct->set_held(Pack(t.held));
    // Only threads that have variables carry the field, so checkpoints of
    // cases without variables keep their bytes.
    if (!t.vars.is_null()) ct->set_variables(Pack(t.vars));
  }
  for (const auto& [id, j] : joins) {
    CheckpointJoin* cj = cp.add_joins();
    cj->set_id(j.id);
    cj->set_kind(static_cast<int>(j.kind));
    cj->set_parent(j.parent);
    for (const Json& v : j.inputs) cj->add_inputs(Pack(v));
    for (const Json& v : j.results) cj->add_results(Pack(v));
    cj->set_next(j.next);
    cj->set_done(j.done);
    cj->set_failed(j.failed);
    cj->set_max_concurrency(j.max_concurrency);
    cj->set_tolerated_count(j.tolerated_count);
    cj->set_tolerated_pct(j.tolerated_pct);
    for (int64_t c : j.children) cj->add_children(c);
  }
  for (const auto& [id, thread] : tasks) {
    auto* ct = cp.add_tasks();
    ct->set_task_id(id);
    ct->set_thread(thread);
  }
  for (const auto& [id, tm] : timers) {
    auto* ct = cp.add_timers();
    ct->set_id(id);
    ct->set_due_ms(tm.due_ms);
    ct->set_kind(static_cast<int>(tm.kind));
    ct->set_thread(tm.thread);
  }
  for (int64_t q : queue) cp.add_queue(q);
  for (int64_t j : pending_joins) cp.add_pending_joins(j);
  cp.set_history_seq(history_seq);
  return cp;
}

absl::Status Execution::Impl::FromCheckpoint(const ExecutionCheckpoint& cp) {
  if (cp.codec() != kCodec) {
    return absl::InvalidArgumentError("unsupported checkpoint codec " +
                                      std::to_string(cp.codec()));
  }
  if (cp.definition_digest() != def->digest()) {
    return absl::InvalidArgumentError(
        "checkpoint was taken with a different definition");
  }
  version = cp.version();
  info.execution_id = cp.execution_id();
  info.execution_name = cp.execution_name();
  info.state_machine_id = cp.state_machine_id();
  info.state_machine_name = cp.state_machine_name();
  info.version = cp.version();
  info.start_ms = cp.start_ms();
  info.seed = cp.seed();
  info.limits = cp.limits();
  if (absl::Status s = Unpack(cp.input(), &input); !s.ok()) return s;
  if (!StatusFrom(cp.status(), &status)) {
    return absl::DataLossError("checkpoint has a bad status");
  }
  if (absl::Status s = Unpack(cp.output(), &output); !s.ok()) return s;
  error = cp.error();
  cause = cp.cause();
  has_error = cp.has_error();
  has_cause = cp.has_cause();
  rng = cp.rng();
  next_task = cp.next_task();
  next_timer = cp.next_timer();
  events_emitted = cp.events_emitted();
  next_thread = cp.next_thread();
  next_join = cp.next_join();
  for (const CheckpointThread& ct : cp.threads()) {
    Thread t;
    t.id = ct.id();
    for (const auto& m : ct.mpath()) {
      t.mpath.push_back(MachineStep{m.state(), m.index()});
    }
    t.machine = ResolveMachine(t.mpath, *def);
    if (t.machine == nullptr) {
      return absl::InvalidArgumentError(
          "checkpoint machine path does not fit the definition");
    }
    t.join = ct.join();
    t.slot = ct.slot();
    t.state = ct.state();
    t.sj = StateJson(t.machine, t.state);
    if (t.sj == nullptr) {
      return absl::InvalidArgumentError("checkpoint state '" + t.state +
                                        "' is not in the definition");
    }
    if (ct.phase() < 0 || ct.phase() > static_cast<int>(Phase::kJoin)) {
      return absl::DataLossError("checkpoint has a bad thread phase");
    }
    t.phase = static_cast<Phase>(ct.phase());
    if (absl::Status s = Unpack(ct.input(), &t.input); !s.ok()) return s;
    t.entered_ms = ct.entered_ms();
    t.attempts.assign(ct.attempts().begin(), ct.attempts().end());
    t.retry_count = ct.retry_count();
    t.task_id = ct.task_id();
    t.timer = ct.timer();
    t.timeout_timer = ct.timeout_timer();
    t.heartbeat_timer = ct.heartbeat_timer();
    t.heartbeat_s = ct.heartbeat_s();
    t.child_join = ct.child_join();
    if (absl::Status s = Unpack(ct.held(), &t.held); !s.ok()) return s;
    if (!ct.variables().empty()) {
      if (absl::Status s = Unpack(ct.variables(), &t.vars); !s.ok()) return s;
      if (!t.vars.is_object() && !t.vars.is_null()) {
        return absl::DataLossError("checkpoint variables are not an object");
      }
    }
    threads.emplace(t.id, std::move(t));
  }
  for (const CheckpointJoin& cj : cp.joins()) {
    Join j;
    j.id = cj.id();
    if (cj.kind() != 0 && cj.kind() != 1) {
      return absl::DataLossError("checkpoint has a bad join kind");
    }
    j.kind = static_cast<JoinKind>(cj.kind());
    j.parent = cj.parent();
    for (const std::string& b : cj.inputs()) {
      Json v;
      if (absl::Status s = Unpack(b, &v); !s.ok()) return s;
      j.inputs.push_back(std::move(v));
    }
    for (const std::string& b : cj.results()) {
      Json v;
      if (absl::Status s = Unpack(b, &v); !s.ok()) return s;
      j.results.push_back(std::move(v));
    }
    if (j.inputs.size() != j.results.size()) {
      return absl::DataLossError("checkpoint join sizes differ");
    }
    j.next = cj.next();
    j.done = cj.done();
    j.failed = cj.failed();
    j.max_concurrency = cj.max_concurrency();
    j.tolerated_count = cj.tolerated_count();
    j.tolerated_pct = cj.tolerated_pct();
    j.children.insert(cj.children().begin(), cj.children().end());
    if (!threads.contains(j.parent)) {
      return absl::DataLossError("join without its parent thread");
    }
    for (int64_t c : j.children) {
      if (!threads.contains(c)) {
        return absl::DataLossError("join with a missing child thread");
      }
    }
    joins.emplace(j.id, std::move(j));
  }
  for (const auto& [id, t] : threads) {
    if (t.join != 0 && !joins.contains(t.join)) {
      return absl::DataLossError("thread in a missing join");
    }
    if (t.child_join != 0 && !joins.contains(t.child_join)) {
      return absl::DataLossError("thread waiting on a missing join");
    }
  }
  for (const auto& ct : cp.tasks()) {
    if (!threads.contains(ct.thread())) {
      return absl::DataLossError("task of a missing thread");
    }
    tasks[ct.task_id()] = ct.thread();
  }
  for (const auto& ct : cp.timers()) {
    Timer tm;
    tm.due_ms = ct.due_ms();
    if (ct.kind() < 0 || ct.kind() > static_cast<int>(TimerKind::kExecTimeout)) {
      return absl::DataLossError("checkpoint has a bad timer kind");
    }
    tm.kind = static_cast<TimerKind>(ct.kind());
    tm.thread = ct.thread();
    if (tm.kind != TimerKind::kExecTimeout && !threads.contains(tm.thread)) {
      return absl::DataLossError("timer of a missing thread");
    }
    timers[ct.id()] = tm;
  }
  for (int64_t q : cp.queue()) queue.push_back(q);
  for (int64_t j : cp.pending_joins()) {
    if (!joins.contains(j)) {
      return absl::DataLossError("pending launch of a missing join");
    }
    pending_joins.insert(j);
  }
  BuildBaseContext();
  return absl::OkStatus();
}

// ---- layout 1 ----------------------------------------------------------

namespace {

bool ParseName(const std::string& s,
               std::initializer_list<std::pair<const char*, int>> names,
               int* out) {
  for (const auto& [name, v] : names) {
    if (s == name) {
      *out = v;
      return true;
    }
  }
  return false;
}

}  // namespace

// Reads the JSON snapshot layout 1 stored (format: version "v": 1, keys
// digest, info, input, status, output, error, cause, has_error, has_cause,
// rng, next, threads, joins, tasks, timers, queue). May throw nlohmann
// exceptions on wrong types; the caller turns them into a status.
absl::Status Execution::Impl::FromLayout1Json(const Json& j) {
  if (!j.is_object() || j.value("v", 0) != 1) {
    return absl::InvalidArgumentError("unsupported snapshot version");
  }
  if (j.at("digest").get<std::string>() != def->digest()) {
    return absl::InvalidArgumentError(
        "snapshot was taken with a different definition");
  }
  const Json& in = j.at("info");
  info.execution_id = in.at("execution_id").get<std::string>();
  info.execution_name = in.at("execution_name").get<std::string>();
  info.state_machine_id = in.at("state_machine_id").get<std::string>();
  info.state_machine_name = in.at("state_machine_name").get<std::string>();
  info.start_ms = in.at("start_ms").get<int64_t>();
  info.seed = std::stoull(in.at("seed").get<std::string>());
  info.limits = DefaultLimits();
  info.limits.set_max_payload_bytes(in.at("max_payload_bytes").get<int64_t>());
  info.limits.set_max_states_per_call(
      in.at("max_states_per_call").get<int64_t>());
  // Layout 1 had no fan-out batching: launching stays unbounded for it.
  info.limits.set_launch_batch(0);
  input = j.at("input");
  int st = 0;
  if (!ParseName(j.at("status").get<std::string>(),
                 {{"running", 0}, {"succeeded", 1}, {"failed", 2},
                  {"cancelled", 3}},
                 &st)) {
    return absl::DataLossError("bad status");
  }
  status = static_cast<RunStatus>(st);
  output = j.at("output");
  error = j.at("error").get<std::string>();
  cause = j.at("cause").get<std::string>();
  has_error = j.at("has_error").get<bool>();
  has_cause = j.at("has_cause").get<bool>();
  rng = std::stoull(j.at("rng").get<std::string>());
  const Json& nx = j.at("next");
  next_task = nx.at("task").get<int64_t>();
  next_timer = nx.at("timer").get<int64_t>();
  next_thread = nx.at("thread").get<int64_t>();
  next_join = nx.at("join").get<int64_t>();
  for (const Json& x : j.at("threads")) {
    Thread t;
    t.id = x.at("id").get<int64_t>();
    for (const Json& step : x.at("mpath")) {
      t.mpath.push_back(
          MachineStep{step.at(0).get<std::string>(), step.at(1).get<int>()});
    }
    t.machine = ResolveMachine(t.mpath, *def);
    if (t.machine == nullptr) {
      return absl::InvalidArgumentError(
          "snapshot machine path does not fit the definition");
    }
    t.join = x.at("join").get<int64_t>();
    t.slot = x.at("slot").get<int64_t>();
    t.state = x.at("state").get<std::string>();
    t.sj = StateJson(t.machine, t.state);
    if (t.sj == nullptr) {
      return absl::InvalidArgumentError("snapshot state '" + t.state +
                                        "' is not in the definition");
    }
    int phase = 0;
    if (!ParseName(x.at("phase").get<std::string>(),
                   {{"enter", 0}, {"attempt", 1}, {"task", 2}, {"wait", 3},
                    {"retry", 4}, {"join", 5}},
                   &phase)) {
      return absl::DataLossError("bad thread phase");
    }
    t.phase = static_cast<Phase>(phase);
    t.input = x.at("input");
    t.entered_ms = x.at("entered_ms").get<int64_t>();
    t.attempts = x.at("attempts").get<std::vector<int64_t>>();
    t.retry_count = x.at("retry_count").get<int64_t>();
    t.task_id = x.at("task_id").get<std::string>();
    t.timer = x.at("timer").get<std::string>();
    t.timeout_timer = x.at("timeout_timer").get<std::string>();
    t.heartbeat_timer = x.at("heartbeat_timer").get<std::string>();
    t.heartbeat_s = x.at("heartbeat_s").get<int64_t>();
    t.child_join = x.at("child_join").get<int64_t>();
    t.held = x.at("held");
    threads.emplace(t.id, std::move(t));
  }
  for (const Json& x : j.at("joins")) {
    Join jn;
    jn.id = x.at("id").get<int64_t>();
    jn.kind = x.at("kind").get<std::string>() == "map" ? JoinKind::kMap
                                                       : JoinKind::kParallel;
    jn.parent = x.at("parent").get<int64_t>();
    for (const Json& v : x.at("inputs")) jn.inputs.push_back(v);
    for (const Json& v : x.at("results")) jn.results.push_back(v);
    jn.next = x.at("next").get<int64_t>();
    jn.done = x.at("done").get<int64_t>();
    jn.failed = x.at("failed").get<int64_t>();
    jn.max_concurrency = x.at("max_concurrency").get<int64_t>();
    jn.tolerated_count = x.at("tolerated_count").get<int64_t>();
    jn.tolerated_pct = x.at("tolerated_pct").get<double>();
    jn.children = x.at("children").get<std::set<int64_t>>();
    if (!threads.contains(jn.parent) ||
        jn.inputs.size() != jn.results.size()) {
      return absl::DataLossError("malformed join");
    }
    for (int64_t c : jn.children) {
      if (!threads.contains(c)) {
        return absl::DataLossError("join with a missing child thread");
      }
    }
    joins.emplace(jn.id, std::move(jn));
  }
  for (const auto& [id, th] : j.at("tasks").items()) {
    int64_t tid = th.get<int64_t>();
    if (!threads.contains(tid)) {
      return absl::DataLossError("task of a missing thread");
    }
    tasks[id] = tid;
  }
  for (const auto& [id, x] : j.at("timers").items()) {
    Timer tm;
    tm.due_ms = x.at("due_ms").get<int64_t>();
    int kind = 0;
    if (!ParseName(x.at("kind").get<std::string>(),
                   {{"wait", 0}, {"retry", 1}, {"task_timeout", 2},
                    {"heartbeat", 3}, {"exec_timeout", 4}},
                   &kind)) {
      return absl::DataLossError("bad timer kind");
    }
    tm.kind = static_cast<TimerKind>(kind);
    tm.thread = x.at("thread").get<int64_t>();
    if (tm.kind != TimerKind::kExecTimeout && !threads.contains(tm.thread)) {
      return absl::DataLossError("timer of a missing thread");
    }
    timers[id] = tm;
  }
  for (const Json& q : j.at("queue")) queue.push_back(q.get<int64_t>());
  BuildBaseContext();
  return absl::OkStatus();
}

}  // namespace onewindow::core
