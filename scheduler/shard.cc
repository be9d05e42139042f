#include "scheduler/shard.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <utility>

#include "engine/asl/definition.h"

namespace onewindow::scheduler {

using core::CaseLifecycle;
using core::RunStatus;
using core::TaskLifecycle;
using nlohmann::json;
using store::TaskRecord;

namespace {

onewindow::v1::CaseStatus ToProtoStatus(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning:
      return onewindow::v1::CASE_STATUS_RUNNING;
    case RunStatus::kSucceeded:
      return onewindow::v1::CASE_STATUS_SUCCEEDED;
    case RunStatus::kFailed:
      return onewindow::v1::CASE_STATUS_FAILED;
    case RunStatus::kCancelled:
      return onewindow::v1::CASE_STATUS_CANCELLED;
  }
  return onewindow::v1::CASE_STATUS_UNSPECIFIED;
}

CaseLifecycle::State ToLifecycle(onewindow::v1::CaseStatus s) {
  switch (s) {
    case onewindow::v1::CASE_STATUS_SUCCEEDED:
      return CaseLifecycle::State::kSucceeded;
    case onewindow::v1::CASE_STATUS_FAILED:
      return CaseLifecycle::State::kFailed;
    case onewindow::v1::CASE_STATUS_CANCELLED:
      return CaseLifecycle::State::kCancelled;
    default:
      return CaseLifecycle::State::kRunning;
  }
}

store::v1::TaskState ToStored(TaskLifecycle::State s) {
  switch (s) {
    case TaskLifecycle::State::kReady:
    case TaskLifecycle::State::kLeased:
      return store::v1::TASK_STATE_READY;
    case TaskLifecycle::State::kCompleted:
      return store::v1::TASK_STATE_COMPLETED;
    case TaskLifecycle::State::kFailed:
      return store::v1::TASK_STATE_FAILED;
    case TaskLifecycle::State::kTimedOut:
      return store::v1::TASK_STATE_TIMED_OUT;
    case TaskLifecycle::State::kCancelled:
      return store::v1::TASK_STATE_CANCELLED;
  }
  return store::v1::TASK_STATE_UNSPECIFIED;
}

std::string_view StoredName(store::v1::TaskState s) {
  switch (s) {
    case store::v1::TASK_STATE_COMPLETED:
      return "completed";
    case store::v1::TASK_STATE_FAILED:
      return "failed";
    case store::v1::TASK_STATE_TIMED_OUT:
      return "timed out";
    case store::v1::TASK_STATE_CANCELLED:
      return "cancelled";
    default:
      return "open";
  }
}

// True when `token` is the delivery `stored_token` names, or an earlier
// delivery of the same task (earlier nonces are not kept, so any is taken).
bool SameOrEarlierDelivery(const TokenParts& token,
                           const std::string& stored_token) {
  TokenParts stored;
  if (!ParseToken(stored_token, &stored)) return false;
  if (token.attempt < stored.attempt) return true;
  return token.attempt == stored.attempt && token.nonce == stored.nonce;
}

}  // namespace

Shard::Shard(int index, int count, Deps deps)
    : index_(index),
      count_(count),
      deps_(deps),
      rng_(std::random_device{}() ^
           (static_cast<uint64_t>(index) << 32 | deps.clock->NowMs())) {}

Shard::~Shard() { Stop(); }

absl::Status Shard::LoadSequence() {
  absl::StatusOr<int64_t> k = deps_.store->GetNextSeq(index_);
  if (!k.ok()) return k.status();
  next_k_ = *k;
  return absl::OkStatus();
}

absl::Status Shard::Recover(const store::CaseRecord& record) {
  absl::StatusOr<DeployedWorkflow> wf =
      deps_.registry->Get(record.service(), record.version());
  if (!wf.ok()) {
    return absl::DataLossError("case " + record.id() + ": " +
                               std::string(wf.status().message()));
  }
  auto exec = core::Execution::Restore(wf->definition, record.execution());
  if (!exec.ok()) {
    return absl::DataLossError("case " + record.id() +
                               ": cannot restore its execution: " +
                               std::string(exec.status().message()));
  }
  auto c = std::make_unique<OpenCase>();
  c->rec = record;
  c->def = wf->definition;
  c->exec = std::move(*exec);
  c->life = CaseLifecycle::At(ToLifecycle(record.status()));
  c->rec.clear_execution();  // restored into c->exec
  absl::Status s = deps_.store->ForEachTaskOfCase(
      record.id(), [&](const TaskRecord& t) {
        if (t.state() != store::v1::TASK_STATE_READY) return true;
        OpenTask ot{t, TaskLifecycle()};
        c->tasks.emplace(t.task_id(), std::move(ot));
        return true;
      });
  if (!s.ok()) return s;
  for (const auto& [id, t] : c->tasks) {
    deps_.dispatcher->Offer(ToTaskMessage(*c, t.rec));
  }
  cases_[record.id()] = std::move(c);
  open_count_ = static_cast<int64_t>(cases_.size());
  return absl::OkStatus();
}

void Shard::RecoverTimer(int64_t due_ms, const std::string& case_id,
                         const std::string& timer_id) {
  auto it = cases_.find(case_id);
  if (it == cases_.end()) return;
  it->second->timers[timer_id] = due_ms;
  timer_heap_.push(TimerEntry{due_ms, case_id, timer_id});
}

void Shard::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void Shard::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Shard::Enqueue(Command cmd, bool bounded) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    if (bounded && queue_.size() >= deps_.options->max_queued_per_shard) {
      return false;
    }
    queue_.push_back(std::move(cmd));
  }
  cv_.notify_one();
  return true;
}

void Shard::Loop() {
  std::deque<Command> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (!queue_.empty()) break;
        const int64_t now = deps_.clock->NowMs();
        if (!timer_heap_.empty() && timer_heap_.top().due_ms <= now) break;
        if (stopping_) return;
        int64_t wait_ms = 100;
        if (!timer_heap_.empty()) {
          wait_ms = std::clamp<int64_t>(timer_heap_.top().due_ms - now, 1, 100);
        }
        cv_.wait_for(lock, std::chrono::milliseconds(wait_ms));
      }
      const size_t n = std::min(queue_.size(), deps_.options->max_batch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunBatch(&batch);
    batch.clear();
  }
}

void Shard::RunBatch(std::deque<Command>* cmds) {
  Txn txn(*deps_.store);
  for (Command& cmd : *cmds) {
    Process(cmd, &txn);
  }
  // Timers that came due (a restart fires overdue ones at once).
  const int64_t now = deps_.clock->NowMs();
  size_t fired = 0;
  while (!timer_heap_.empty() && timer_heap_.top().due_ms <= now &&
         fired < deps_.options->max_batch) {
    TimerEntry t = timer_heap_.top();
    timer_heap_.pop();
    ProcessTimer(t, &txn);
    ++fired;
  }
  for (const std::string& id : txn.dirty) {
    auto it = cases_.find(id);
    if (it != cases_.end()) WriteCase(it->second.get(), &txn);
  }
  for (const auto& [id, events] : txn.history) {
    txn.batch.PutHistory(id, events);
  }
  if (!txn.batch.empty()) {
    absl::Status s = deps_.store->Commit(&txn.batch);
    if (!s.ok()) {
      // Memory is now ahead of the disk: the only safe move is to stop and
      // let recovery rebuild from what was committed.
      spdlog::critical("shard {}: commit failed, stopping: {}", index_,
                       s.ToString());
      std::abort();
    }
    commits_.fetch_add(1, std::memory_order_relaxed);
    committed_commands_.fetch_add(static_cast<int64_t>(txn.commands),
                                  std::memory_order_relaxed);
    if (static_cast<int64_t>(txn.commands) > max_batch_commands_.load()) {
      max_batch_commands_ = static_cast<int64_t>(txn.commands);
    }
  }
  // Closed cases leave memory.
  for (const std::string& id : txn.dirty) {
    auto it = cases_.find(id);
    if (it != cases_.end() && it->second->life.terminal()) cases_.erase(it);
  }
  open_count_ = static_cast<int64_t>(cases_.size());
  for (auto& action : txn.after_commit) action();
}

void Shard::Process(Command& cmd, Txn* txn) {
  ++txn->commands;
  std::visit(
      [&](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, SubmitCmd>) {
          ProcessSubmit(c, txn);
        } else if constexpr (std::is_same_v<T, CompleteCmd>) {
          ProcessComplete(c, txn);
        } else if constexpr (std::is_same_v<T, FailCmd>) {
          ProcessFail(c, txn);
        } else if constexpr (std::is_same_v<T, HeartbeatCmd>) {
          ProcessHeartbeat(c, txn);
        } else if constexpr (std::is_same_v<T, CancelCmd>) {
          ProcessCancel(c, txn);
        } else if constexpr (std::is_same_v<T, RedeliverCmd>) {
          ProcessRedeliver(c, txn);
        }
      },
      cmd);
}

void Shard::ProcessSubmit(SubmitCmd& cmd, Txn* txn) {
  const std::string& request_id = cmd.request.request_id();
  auto reply = [&](absl::StatusOr<SubmitResult> r) {
    ReplyAfterCommit(txn, std::move(cmd.done), std::move(r));
  };
  if (!request_id.empty()) {
    std::string existing;
    if (auto it = txn->new_requests.find(request_id);
        it != txn->new_requests.end()) {
      existing = it->second;
    } else if (auto r = deps_.store->GetRequest(request_id); r.ok()) {
      existing = *r;
    } else if (r.status().code() != absl::StatusCode::kNotFound) {
      reply(r.status());
      return;
    }
    if (!existing.empty()) {
      int64_t version = 0;
      if (auto it = cases_.find(existing); it != cases_.end()) {
        version = it->second->rec.version();
      } else if (auto c = deps_.store->GetCase(existing); c.ok()) {
        version = c->version();
      }
      if (auto it = cases_.find(existing);
          it != cases_.end() && it->second->rec.service() !=
                                    cmd.request.service()) {
        reply(absl::AlreadyExistsError(
            "request_id: \"" + request_id + "\" was already used for case " +
            existing + " of service " + it->second->rec.service()));
        return;
      }
      reply(SubmitResult{existing, version, true});
      return;
    }
  }

  const int64_t per_shard_limit =
      std::max<int64_t>(1, deps_.options->max_open_cases / count_);
  if (static_cast<int64_t>(cases_.size()) >= per_shard_limit) {
    reply(absl::ResourceExhaustedError(
        "engine is at capacity: " + std::to_string(cases_.size()) +
        " open cases on shard " + std::to_string(index_) + " (limit " +
        std::to_string(per_shard_limit) +
        "); retry later with the same request_id"));
    return;
  }
  const int64_t now = deps_.clock->NowMs();
  const int64_t seq = next_k_ * count_ + index_ + 1;
  ++next_k_;
  txn->batch.PutNextSeq(index_, next_k_);
  const std::string case_id = FormatCaseId(seq);

  auto c = std::make_unique<OpenCase>();
  c->def = cmd.workflow.definition;
  store::CaseRecord& rec = c->rec;
  rec.set_id(case_id);
  rec.set_service(cmd.workflow.record.name());
  rec.set_version(cmd.workflow.record.version());
  rec.set_status(onewindow::v1::CASE_STATUS_RUNNING);
  rec.set_input_json(cmd.request.input_json());
  rec.set_request_id(request_id);
  rec.set_created_at_ms(now);
  rec.set_updated_at_ms(now);

  core::StartInfo info;
  info.execution_id = case_id;
  info.execution_name = case_id;
  info.state_machine_id = rec.service() + "@" + std::to_string(rec.version());
  info.state_machine_name = rec.service();
  info.start_ms = now;
  info.seed = rng_();
  info.max_payload_bytes = deps_.options->max_payload_bytes;

  core::StepOutput out;
  c->exec = core::Execution::Start(c->def, std::move(cmd.input), info, &out);
  OpenCase* cp = c.get();
  cases_[case_id] = std::move(c);
  txn->batch.MarkOpen(case_id);
  if (!request_id.empty()) {
    txn->batch.PutRequest(request_id, case_id);
    txn->new_requests[request_id] = case_id;
  }
  ApplyStep(cp, &out, txn);
  spdlog::info("case {} submitted: service {}@{}{}", case_id, rec.service(),
               rec.version(),
               request_id.empty() ? "" : " request " + request_id);
  reply(SubmitResult{case_id, rec.version(), false});
}

absl::StatusOr<std::pair<Shard::OpenCase*, Shard::OpenTask*>>
Shard::ResolveToken(const TokenParts& token) {
  auto it = cases_.find(token.case_id);
  if (it == cases_.end()) {
    absl::StatusOr<store::CaseRecord> rec = deps_.store->GetCase(token.case_id);
    if (!rec.ok()) {
      return absl::NotFoundError("token: unknown task token (no case " +
                                 token.case_id + ")");
    }
    absl::StatusOr<TaskRecord> t =
        deps_.store->GetTask(token.case_id, token.task_id);
    if (!t.ok() || !SameOrEarlierDelivery(token, t->token())) {
      return absl::NotFoundError("token: unknown task token");
    }
    return absl::FailedPreconditionError(
        "token: case " + token.case_id + " has already ended (" +
        std::string(onewindow::v1::CaseStatus_Name(rec->status())) + ")");
  }
  OpenCase* c = it->second.get();
  auto t_it = c->tasks.find(token.task_id);
  if (t_it == c->tasks.end()) {
    absl::StatusOr<TaskRecord> t =
        deps_.store->GetTask(token.case_id, token.task_id);
    if (!t.ok() || !SameOrEarlierDelivery(token, t->token())) {
      return absl::NotFoundError("token: unknown task token");
    }
    return absl::FailedPreconditionError(
        "token: task " + token.task_id + " of case " + token.case_id +
        " is already " + std::string(StoredName(t->state())));
  }
  OpenTask* t = &t_it->second;
  TokenParts current;
  ParseToken(t->rec.token(), &current);
  if (token.attempt < current.attempt) {
    return absl::FailedPreconditionError(
        "token: stale — the lease of attempt " +
        std::to_string(token.attempt) +
        " ended and the task was offered again (attempt " +
        std::to_string(current.attempt) + ")");
  }
  if (token.attempt != current.attempt || token.nonce != current.nonce) {
    return absl::NotFoundError("token: unknown task token");
  }
  return std::make_pair(c, t);
}

absl::Status Shard::AnswerTask(
    const TokenParts& token, TaskLifecycle::Event event,
    const std::function<absl::Status(core::Execution*, int64_t,
                                      core::StepOutput*)>& answer,
    Txn* txn) {
  auto resolved = ResolveToken(token);
  if (!resolved.ok()) return resolved.status();
  auto [c, t] = *resolved;
  const int64_t now = deps_.clock->NowMs();
  core::StepOutput out;
  if (absl::Status s = answer(c->exec.get(), now, &out); !s.ok()) return s;
  (void)t->life.Fire(event);
  t->rec.set_state(ToStored(t->life.state()));
  t->rec.set_closed_at_ms(now);
  txn->batch.PutTask(t->rec);
  spdlog::debug("case {} task {} {} by {}", c->rec.id(), token.task_id,
                StoredName(t->rec.state()), t->rec.department());
  txn->after_commit.push_back(
      [d = deps_.dispatcher, tok = t->rec.token()] { d->Withdraw(tok); });
  c->tasks.erase(token.task_id);
  ApplyStep(c, &out, txn);
  return absl::OkStatus();
}

void Shard::ProcessComplete(CompleteCmd& cmd, Txn* txn) {
  absl::Status s = AnswerTask(
      cmd.token, TaskLifecycle::Event::kComplete,
      [&](core::Execution* exec, int64_t now, core::StepOutput* out) {
        return exec->CompleteTask(cmd.token.task_id, std::move(cmd.result),
                                  now, out);
      },
      txn);
  ReplyAfterCommit(txn, std::move(cmd.done),
                   s.ok() ? absl::StatusOr<bool>(true) : s);
}

void Shard::ProcessFail(FailCmd& cmd, Txn* txn) {
  absl::Status s = AnswerTask(
      cmd.token, TaskLifecycle::Event::kFail,
      [&](core::Execution* exec, int64_t now, core::StepOutput* out) {
        return exec->FailTask(cmd.token.task_id, cmd.error, cmd.cause, now,
                              out);
      },
      txn);
  ReplyAfterCommit(txn, std::move(cmd.done),
                   s.ok() ? absl::StatusOr<bool>(true) : s);
}

void Shard::ProcessHeartbeat(HeartbeatCmd& cmd, Txn* txn) {
  auto reply = [&](absl::StatusOr<int64_t> r) {
    ReplyAfterCommit(txn, std::move(cmd.done), std::move(r));
  };
  auto resolved = ResolveToken(cmd.token);
  if (!resolved.ok()) {
    reply(resolved.status());
    return;
  }
  auto [c, t] = *resolved;
  core::StepOutput out;
  absl::Status s = c->exec->HeartbeatTask(cmd.token.task_id,
                                          deps_.clock->NowMs(), &out);
  if (!s.ok()) {
    reply(s);
    return;
  }
  ApplyStep(c, &out, txn);
  reply(cmd.lease_expires_ms);
}

void Shard::ProcessCancel(CancelCmd& cmd, Txn* txn) {
  auto reply = [&](absl::StatusOr<onewindow::v1::Case> r) {
    ReplyAfterCommit(txn, std::move(cmd.done), std::move(r));
  };
  auto it = cases_.find(cmd.case_id);
  if (it == cases_.end()) {
    absl::StatusOr<store::CaseRecord> rec = deps_.store->GetCase(cmd.case_id);
    if (!rec.ok()) {
      reply(absl::NotFoundError("case_id: no case " + cmd.case_id));
    } else {
      reply(absl::FailedPreconditionError(
          "case " + cmd.case_id + " has already ended (" +
          std::string(onewindow::v1::CaseStatus_Name(rec->status())) + ")"));
    }
    return;
  }
  OpenCase* c = it->second.get();
  core::StepOutput out;
  absl::Status s = c->exec->Cancel(cmd.reason, deps_.clock->NowMs(), &out);
  if (!s.ok()) {
    reply(s);
    return;
  }
  ApplyStep(c, &out, txn);
  spdlog::info("case {} cancelled: {}", c->rec.id(), cmd.reason);
  // Reply with the case as committed.
  WriteCase(c, txn);
  reply(Engine::ToApi(c->rec));
}

void Shard::ProcessRedeliver(RedeliverCmd& cmd, Txn* txn) {
  auto resolved = ResolveToken(cmd.token);
  if (!resolved.ok()) {
    // Answered, withdrawn or superseded meanwhile: just forget the delivery.
    txn->after_commit.push_back(
        [d = deps_.dispatcher, tok = cmd.raw_token] { d->Withdraw(tok); });
    return;
  }
  auto [c, t] = *resolved;
  const std::string old_token = t->rec.token();
  t->rec.set_attempt(t->rec.attempt() + 1);
  NewToken(c, &t->rec);
  txn->batch.PutTask(t->rec);
  txn->dirty.insert(c->rec.id());
  AppendHistory(c, "TaskRedelivered", t->rec.state_name(), t->rec.task_id(),
                json{{"attempt", t->rec.attempt()},
                     {"reason", "lease expired"}},
                txn);
  onewindow::v1::Task msg = ToTaskMessage(*c, t->rec);
  txn->after_commit.push_back([d = deps_.dispatcher, old_token,
                               msg = std::move(msg)]() mutable {
    d->Withdraw(old_token);
    d->Offer(std::move(msg));
  });
}

void Shard::ProcessTimer(const TimerEntry& t, Txn* txn) {
  auto it = cases_.find(t.case_id);
  if (it == cases_.end()) return;
  OpenCase* c = it->second.get();
  auto armed = c->timers.find(t.timer_id);
  if (armed == c->timers.end() || armed->second != t.due_ms) return;  // stale
  ++txn->commands;
  c->timers.erase(armed);
  txn->batch.DeleteTimer(t.due_ms, t.case_id, t.timer_id);
  txn->dirty.insert(c->rec.id());
  core::StepOutput out;
  absl::Status s =
      c->exec->FireTimer(t.timer_id, deps_.clock->NowMs(), &out);
  if (!s.ok()) {
    spdlog::debug("case {} timer {}: {}", t.case_id, t.timer_id, s.ToString());
    return;
  }
  ApplyStep(c, &out, txn);
}

std::string Shard::NewToken(OpenCase* c, TaskRecord* t) {
  TokenParts p;
  p.case_id = t->case_id();
  p.task_id = t->task_id();
  p.attempt = t->attempt();
  p.nonce = rng_() & 0xffffffffffffULL;
  t->set_token(FormatToken(p));
  c->rec.set_next_nonce(c->rec.next_nonce() + 1);
  return t->token();
}

void Shard::AppendHistory(OpenCase* c, const std::string& type,
                          const std::string& state, const std::string& task_id,
                          const json& details, Txn* txn) {
  onewindow::v1::HistoryEvent e;
  e.set_seq(c->rec.history_seq() + 1);
  c->rec.set_history_seq(e.seq());
  e.set_at_ms(deps_.clock->NowMs());
  e.set_type(type);
  e.set_state(state);
  e.set_task_id(task_id);
  if (!details.is_null()) {
    e.set_details_json(details.dump(-1, ' ', false,
                                    json::error_handler_t::replace));
  }
  spdlog::debug("case {} #{} {} {}", c->rec.id(), e.seq(), type, state);
  txn->history[c->rec.id()].push_back(std::move(e));
}

onewindow::v1::Task Shard::ToTaskMessage(const OpenCase& c,
                                         const TaskRecord& t) const {
  onewindow::v1::Task m;
  m.set_token(t.token());
  m.set_case_id(t.case_id());
  m.set_task_id(t.task_id());
  m.set_department(t.department());
  m.set_task_type(t.task_type());
  m.set_state(t.state_name());
  m.set_input_json(t.input_json());
  m.set_service(c.rec.service());
  m.set_version(c.rec.version());
  m.set_attempt(t.attempt());
  m.set_deadline_at_ms(t.deadline_at_ms());
  m.set_heartbeat_seconds(t.heartbeat_seconds());
  return m;
}

void Shard::ApplyStep(OpenCase* c, core::StepOutput* out, Txn* txn) {
  const int64_t now = deps_.clock->NowMs();
  const std::string& case_id = c->rec.id();
  txn->dirty.insert(case_id);

  std::set<std::string> timed_out;
  for (const core::Event& e : out->events) {
    if (e.type == "TaskTimedOut") timed_out.insert(e.task_id);
    AppendHistory(c, e.type, e.state, e.task_id, e.details, txn);
  }
  for (const std::string& task_id : out->cancel_tasks) {
    auto it = c->tasks.find(task_id);
    if (it == c->tasks.end()) continue;
    OpenTask& t = it->second;
    (void)t.life.Fire(timed_out.count(task_id) ? TaskLifecycle::Event::kTimeout
                                               : TaskLifecycle::Event::kCancel);
    t.rec.set_state(ToStored(t.life.state()));
    t.rec.set_closed_at_ms(now);
    txn->batch.PutTask(t.rec);
    txn->after_commit.push_back(
        [d = deps_.dispatcher, tok = t.rec.token()] { d->Withdraw(tok); });
    c->tasks.erase(it);
  }
  for (core::TaskSpec& spec : out->dispatch) {
    TaskRecord t;
    t.set_case_id(case_id);
    t.set_task_id(spec.task_id);
    std::string dept, type;
    if (!asl::ParseDeptResource(spec.resource, &dept, &type)) {
      dept = spec.resource;  // deploy refuses these; keep them addressable
    }
    t.set_department(dept);
    t.set_task_type(type);
    t.set_state_name(spec.state);
    t.set_resource(spec.resource);
    t.set_input_json(spec.input.dump(-1, ' ', false,
                                     json::error_handler_t::replace));
    t.set_state(store::v1::TASK_STATE_READY);
    t.set_attempt(1);
    t.set_created_at_ms(now);
    if (spec.timeout_seconds > 0) {
      t.set_deadline_at_ms(now + spec.timeout_seconds * 1000);
    }
    t.set_heartbeat_seconds(static_cast<int32_t>(spec.heartbeat_seconds));
    t.set_service(c->rec.service());
    t.set_version(c->rec.version());
    NewToken(c, &t);
    txn->batch.PutTask(t);
    onewindow::v1::Task msg = ToTaskMessage(*c, t);
    c->tasks.emplace(spec.task_id, OpenTask{std::move(t), TaskLifecycle()});
    txn->after_commit.push_back([d = deps_.dispatcher, msg = std::move(msg)]() mutable {
      d->Offer(std::move(msg));
    });
  }
  for (const core::TimerSpec& t : out->cancel_timers) {
    auto it = c->timers.find(t.timer_id);
    if (it == c->timers.end()) continue;
    txn->batch.DeleteTimer(it->second, case_id, t.timer_id);
    c->timers.erase(it);
  }
  for (const core::TimerSpec& t : out->set_timers) {
    auto it = c->timers.find(t.timer_id);
    if (it != c->timers.end()) {
      txn->batch.DeleteTimer(it->second, case_id, t.timer_id);
    }
    c->timers[t.timer_id] = t.due_ms;
    txn->batch.PutTimer(t.due_ms, case_id, t.timer_id);
    timer_heap_.push(TimerEntry{t.due_ms, case_id, t.timer_id});
  }

  const RunStatus status = c->exec->status();
  if (status == RunStatus::kRunning) return;

  // The case ended.
  CaseLifecycle::Event ev = status == RunStatus::kSucceeded
                                ? CaseLifecycle::Event::kSucceed
                            : status == RunStatus::kFailed
                                ? CaseLifecycle::Event::kFail
                                : CaseLifecycle::Event::kCancel;
  if (absl::Status s = c->life.Fire(ev); !s.ok()) {
    spdlog::error("case {}: {}", case_id, s.ToString());
    return;
  }
  c->rec.set_status(ToProtoStatus(status));
  if (status == RunStatus::kSucceeded) {
    c->rec.set_output_json(c->exec->output().dump(
        -1, ' ', false, json::error_handler_t::replace));
  } else {
    c->rec.set_error(c->exec->error());
    c->rec.set_cause(c->exec->cause());
  }
  for (auto& [task_id, t] : c->tasks) {
    (void)t.life.Fire(TaskLifecycle::Event::kCancel);
    t.rec.set_state(ToStored(t.life.state()));
    t.rec.set_closed_at_ms(now);
    txn->batch.PutTask(t.rec);
    txn->after_commit.push_back(
        [d = deps_.dispatcher, tok = t.rec.token()] { d->Withdraw(tok); });
  }
  c->tasks.clear();
  for (const auto& [timer_id, due] : c->timers) {
    txn->batch.DeleteTimer(due, case_id, timer_id);
  }
  c->timers.clear();
  txn->batch.MarkClosed(case_id);
  spdlog::info("case {} {}", case_id,
               onewindow::v1::CaseStatus_Name(c->rec.status()));
}

void Shard::WriteCase(OpenCase* c, Txn* txn) {
  c->rec.set_updated_at_ms(deps_.clock->NowMs());
  if (c->life.terminal()) {
    c->rec.clear_execution();
    c->rec.clear_current_states();
    c->rec.clear_open_departments();
  } else {
    c->rec.set_execution(c->exec->Snapshot());
    c->rec.clear_current_states();
    for (const std::string& s : c->exec->ActiveStates()) {
      c->rec.add_current_states(s);
    }
    std::set<std::string> depts;
    for (const auto& [id, t] : c->tasks) depts.insert(t.rec.department());
    c->rec.clear_open_departments();
    for (const std::string& d : depts) c->rec.add_open_departments(d);
  }
  txn->batch.PutCase(c->rec);
  // The live Execution is the state in memory; the snapshot text is only
  // for the store.
  c->rec.clear_execution();
}

}  // namespace onewindow::scheduler
