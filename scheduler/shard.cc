#include "scheduler/shard.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "engine/asl/definition.h"
#include "engine/core/replay.h"
#include "scheduler/cork.h"
#include "scheduler/thread_name.h"

namespace onewindow::scheduler {

using core::CaseLifecycle;
using core::RunStatus;
using core::TaskLifecycle;
using nlohmann::json;
using store::StoredEvent;
using store::TaskRecord;
namespace sv1 = onewindow::store::v1;

namespace {

constexpr char kOverdueTimer[] = "~overdue";
constexpr char kContinueTimer[] = "~continue";
constexpr char kTaskDuePrefix[] = "~due/";
constexpr int kMaxPreviousNonces = 16;

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

sv1::TaskState ToStored(TaskLifecycle::State s) {
  switch (s) {
    case TaskLifecycle::State::kReady:
    case TaskLifecycle::State::kLeased:
      return sv1::TASK_STATE_READY;
    case TaskLifecycle::State::kCompleted:
      return sv1::TASK_STATE_COMPLETED;
    case TaskLifecycle::State::kFailed:
      return sv1::TASK_STATE_FAILED;
    case TaskLifecycle::State::kTimedOut:
      return sv1::TASK_STATE_TIMED_OUT;
    case TaskLifecycle::State::kCancelled:
      return sv1::TASK_STATE_CANCELLED;
  }
  return sv1::TASK_STATE_UNSPECIFIED;
}

std::string_view StoredName(sv1::TaskState s) {
  switch (s) {
    case sv1::TASK_STATE_COMPLETED:
      return "completed";
    case sv1::TASK_STATE_FAILED:
      return "failed";
    case sv1::TASK_STATE_TIMED_OUT:
      return "timed out";
    case sv1::TASK_STATE_CANCELLED:
      return "withdrawn";
    default:
      return "open";
  }
}

bool IsOpen(sv1::TaskState s) {
  return s == sv1::TASK_STATE_READY || s == sv1::TASK_STATE_LEASED;
}

// Which delivery of a task a token's nonce names: 0 = none, 1 = the
// current one, 2 = an earlier one.
int MatchDelivery(const TokenParts& token, const TaskRecord& t) {
  int attempt = 0;
  std::string_view nonce;
  TokenParts current;
  if (IssuedTail(t.token(), &attempt, &nonce)) {
    if (SameNonce(token.nonce, nonce) && token.attempt == attempt) return 1;
  } else if (ParseToken(t.token(), &current) &&
             SameNonce(token.nonce, current.nonce) &&
             token.attempt == current.attempt) {
    return 1;
  }
  for (const std::string& n : t.previous_nonces()) {
    if (SameNonce(token.nonce, n)) return 2;
  }
  return 0;
}

std::string Dump(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The applicant's value at a JSON pointer, lower-cased and bounded, for the
// applicant index; "" when absent.
std::string ApplicantOf(const json& input, const std::string& pointer) {
  if (pointer.empty()) return "";
  try {
    const json& v = input.at(json::json_pointer(pointer));
    std::string s = v.is_string() ? v.get<std::string>() : Dump(v);
    std::string out;
    for (unsigned char c : s) {
      if (c < 0x20) continue;
      out.push_back(static_cast<char>(c < 0x80 ? std::tolower(c) : c));
      if (out.size() >= 128) break;
    }
    return out;
  } catch (const std::exception&) {
    return "";
  }
}

bool Terminal(onewindow::v1::CaseStatus s) {
  return s == onewindow::v1::CASE_STATUS_SUCCEEDED ||
         s == onewindow::v1::CASE_STATUS_FAILED ||
         s == onewindow::v1::CASE_STATUS_CANCELLED;
}

}  // namespace

Shard::Shard(int index, int count, Deps deps)
    : index_(index),
      count_(count),
      deps_(std::move(deps)),
      rng_(std::random_device{}() ^
           (static_cast<uint64_t>(index) << 32 | deps_.clock->NowMs())),
      window_(deps_.options->commit_window_us,
              deps_.options->commit_window_target) {}

Shard::~Shard() { Stop(); }

absl::Status Shard::LoadCounters() {
  counters_.clear();
  int64_t open = 0;
  absl::Status s = deps_.store->Scan(
      store::kCfCounters, "", "", false,
      [&](std::string_view k, std::string_view v) {
        if (k.empty() || static_cast<unsigned char>(k.back()) != index_) {
          return true;
        }
        const int64_t n = static_cast<int64_t>(store::ReadBe64(v));
        counters_[std::string(k)] = n;
        if (k[0] == store::kCtrCases && k.size() >= 3 &&
            k[k.size() - 2] ==
                static_cast<char>(onewindow::v1::CASE_STATUS_RUNNING)) {
          open += n;
        }
        return true;
      });
  open_count_ = open;
  return s;
}

void Shard::AddTimer(int64_t due_ms, const std::string& case_id,
                     const std::string& timer_id) {
  timers_.insert(TimerEntry{due_ms, case_id, timer_id});
  timer_count_ = static_cast<int64_t>(timers_.size());
}

void Shard::Start() {
  thread_ = std::thread([this] {
    NameThisThread("ow-shard-" + std::to_string(index_));
    Loop();
  });
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

int64_t Shard::queued() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

bool Shard::Enqueue(Command cmd, bool bounded) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    if (bounded && queue_.size() >= deps_.options->max_queued_per_shard) {
      return false;
    }
    queue_.push_back(std::move(cmd));
    arrived_.fetch_add(1, std::memory_order_relaxed);
    wake = queue_.size() >= wake_at_;
  }
  if (wake) cv_.notify_one();
  return true;
}

void Shard::Loop() {
  using SteadyClock = std::chrono::steady_clock;
  const bool windowed = deps_.options->commit_window_us > 0;
  std::deque<Command> batch;
  for (;;) {
    bool stop = false;
    // When the batch began (its first command taken, before any wait) and
    // the arrivals counted then: the window's observation of this batch.
    SteadyClock::time_point began;
    int64_t arrived_before = 0;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (!queue_.empty()) break;
        const int64_t now = deps_.clock->NowMs();
        if (!timers_.empty() && timers_.begin()->due_ms <= now) break;
        if (stopping_) {
          stop = true;
          break;
        }
        int64_t wait_ms = 100;
        if (!timers_.empty()) {
          wait_ms = std::clamp<int64_t>(timers_.begin()->due_ms - now, 1, 100);
        }
        cv_.wait_for(lock, std::chrono::milliseconds(wait_ms));
      }
      if (windowed && !stop) {
        began = SteadyClock::now();
        arrived_before = arrived_.load(std::memory_order_relaxed);
        if (!queue_.empty()) HoldOpen(&lock, began);
      }
      const size_t n = std::min(queue_.size(), deps_.options->max_batch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (stop) break;
    committed_at_ = SteadyClock::time_point{};
    RunBatch(&batch);
    batch.clear();
    if (windowed && committed_at_ != SteadyClock::time_point{}) {
      window_.Observe(std::chrono::duration_cast<std::chrono::microseconds>(
                          committed_at_ - began)
                          .count(),
                      arrived_at_commit_ - arrived_before);
    }
  }
  // Cases in memory that replayed commands since their checkpoint get a new
  // one, so that the next start (maybe a new build) replays nothing.
  std::unique_ptr<store::Store::Batch> b = deps_.store->NewBatch();
  for (auto& [id, c] : cases_) {
    if (c->life.terminal() || c->exec == nullptr ||
        c->rec.commands_since_checkpoint() == 0) {
      continue;
    }
    store::PutCheckpoint(b.get(), id,
                         c->exec->Checkpoint(c->rec.history_seq()));
    c->rec.set_checkpoint_seq(c->rec.history_seq());
    c->rec.set_commands_since_checkpoint(0);
    store::PutCase(b.get(), c->rec);
  }
  if (!b->empty()) {
    if (absl::Status s = deps_.store->Commit(b.get()); !s.ok()) {
      spdlog::warn("shard {}: final checkpoints not written: {}", index_,
                   s.ToString());
    }
  }
}

// Holds the batch in the queue open while the commit window says more
// commands will come (see commit_window.h): gap by gap while they keep
// coming, up to the longest wait, or until the batch reaches its target.
void Shard::HoldOpen(std::unique_lock<std::mutex>* lock,
                     std::chrono::steady_clock::time_point began) {
  using SteadyClock = std::chrono::steady_clock;
  const int64_t gap_us = window_.WaitUs(queue_.size());
  if (gap_us <= 0) return;
  window_waits_.fetch_add(1, std::memory_order_relaxed);
  const size_t target = deps_.options->commit_window_target;
  const auto gap = std::chrono::microseconds(gap_us);
  const auto cap =
      began + std::chrono::microseconds(deps_.options->commit_window_us);
  const size_t had = queue_.size();
  size_t seen = had;
  auto deadline = std::min(cap, began + gap);
  wake_at_ = target;  // Enqueue wakes this thread only for a full batch
  for (;;) {
    if (cv_.wait_until(*lock, deadline,
                       [&] { return queue_.size() >= target || stopping_; })) {
      break;
    }
    const auto now = SteadyClock::now();
    if (now >= cap || queue_.size() == seen) break;  // none came in a gap
    seen = queue_.size();
    deadline = std::min(cap, now + gap);
  }
  wake_at_ = 1;
  window_.ObserveWait(std::chrono::duration_cast<std::chrono::microseconds>(
                          SteadyClock::now() - began)
                          .count(),
                      static_cast<int64_t>(queue_.size() - had));
}

void Shard::RunBatch(std::deque<Command>* cmds) {
  // One time for the whole batch: every command and event of it has it, so
  // that a replay sees the times the execution saw.
  now_ = std::max(now_, deps_.clock->NowMs());
  Txn txn;
  txn.batch = deps_.store->NewBatch();
  for (Command& cmd : *cmds) {
    ++txn.commands;
    Process(cmd, &txn);
  }
  // Timers that came due (a restart fires overdue ones at once), bounded
  // per turn so that commands keep flowing.
  const int64_t now = now_;
  size_t fired = 0;
  while (!timers_.empty() && timers_.begin()->due_ms <= now &&
         fired < deps_.options->max_batch) {
    TimerEntry t = std::move(timers_.extract(timers_.begin()).value());
    txn.fired.push_back(t);
    ProcessTimer(t, &txn);
    ++fired;
  }
  Commit(&txn);
}

void Shard::Commit(Txn* txn) {
  for (OpenCase* c : txn->dirty) WriteCase(c, txn);
  for (const auto& [id, ce] : txn->history) {
    store::PutSealedHistory(txn->batch.get(), id, ce.events, ce.wire);
  }
  for (const std::string& k : txn->counters) {
    store::PutBe64(txn->batch.get(), store::kCfCounters, k, counters_[k]);
  }
  if (!txn->batch->empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    absl::Status s = deps_.store->Commit(txn->batch.get());
    // Commands queued up to here cannot be answers to this batch.
    committed_at_ = std::chrono::steady_clock::now();
    arrived_at_commit_ = arrived_.load(std::memory_order_relaxed);
    if (deps_.commit_seconds != nullptr) {
      deps_.commit_seconds->Record(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
              .count());
      deps_.commit_commands->Record(static_cast<double>(txn->commands));
    }
    if (!s.ok()) {
      // Memory is ahead of the store: forget every case this batch touched
      // (they are rebuilt from what was committed when next needed), tell
      // the callers, and take up the engine's own work again.
      ++commit_failures_;
      spdlog::error("shard {}: commit of {} commands failed: {}", index_,
                    txn->commands, s.ToString());
      for (OpenCase* c : txn->dirty) {
        auto it = cases_.find(c->rec.id());
        if (it == cases_.end()) continue;
        lru_.erase(it->second->lru);
        cases_.erase(it);
      }
      resident_count_ = static_cast<int64_t>(cases_.size());
      (void)LoadCounters();
      const absl::Status reply = absl::UnavailableError(
          "the engine could not store the change (" +
          std::string(s.message()) + "); nothing was changed, try again");
      for (auto& f : txn->on_failure) f(reply);
      for (const TimerEntry& t : txn->fired) timers_.insert(t);
      timer_count_ = static_cast<int64_t>(timers_.size());
      for (const TokenParts& tp : txn->redeliveries) {
        std::lock_guard lock(mu_);
        queue_.push_back(RedeliverCmd{tp});
      }
      return;
    }
    commits_.fetch_add(1, std::memory_order_relaxed);
    committed_commands_.fetch_add(static_cast<int64_t>(txn->commands),
                                  std::memory_order_relaxed);
    if (static_cast<int64_t>(txn->commands) > max_batch_commands_.load()) {
      max_batch_commands_ = static_cast<int64_t>(txn->commands);
    }
  }
  // Closed cases leave memory; the rest are now as committed.
  for (OpenCase* c : txn->dirty) {
    c->is_new = false;
    if (c->life.terminal()) {
      auto it = cases_.find(c->rec.id());
      if (it != cases_.end()) {
        lru_.erase(it->second->lru);
        cases_.erase(it);
      }
    }
  }
  Evict();
  resident_count_ = static_cast<int64_t>(cases_.size());
  // What this commit sends to one stream leaves in one frame.
  WriteCork cork;
  for (auto& action : txn->after_commit) action();
  timer_count_ = static_cast<int64_t>(timers_.size());
  Publish(txn);  // watchers' frames leave with the rest, at the cork's end
}

void Shard::Publish(Txn* txn) {
  WatchHub* hub = deps_.watch;
  for (const auto& [id, ce] : txn->history) {
    if (!hub->WantsEvents(id)) continue;
    std::vector<onewindow::v1::HistoryEvent> api;
    api.reserve(ce.events.size());
    for (const StoredEvent& e : ce.events) api.push_back(store::ToApiEvent(e));
    hub->PublishEvents(id, api);
  }
}

void Shard::Process(Command& cmd, Txn* txn) {
  static constexpr Processor kProcessors[] = {
      &Shard::ProcessSubmit,    &Shard::ProcessComplete,
      &Shard::ProcessFail,      &Shard::ProcessHeartbeat,
      &Shard::ProcessCancel,    &Shard::ProcessRedeliver,
      &Shard::ProcessDocuments, &Shard::ProcessMigrate,
  };
  static_assert(std::size(kProcessors) == std::variant_size_v<Command>);
  (this->*kProcessors[cmd.index()])(cmd, txn);
}

// ---- residency ---------------------------------------------------------

void Shard::Touch(OpenCase* c) {
  lru_.splice(lru_.begin(), lru_, c->lru);
}

void Shard::Evict() {
  const int64_t per_shard =
      std::max<int64_t>(1, deps_.options->max_resident_cases / count_);
  while (static_cast<int64_t>(cases_.size()) > per_shard && !lru_.empty()) {
    const std::string id = lru_.back();
    lru_.pop_back();
    cases_.erase(id);
  }
}

void Shard::MarkDirty(OpenCase* c, Txn* txn) {
  if (txn->dirty_set.insert(c).second) txn->dirty.push_back(c);
  Touch(c);
}

absl::StatusOr<Shard::OpenCase*> Shard::Resident(const std::string& case_id,
                                                 store::CaseRecord* ended) {
  auto it = cases_.find(case_id);
  if (it != cases_.end()) {
    Touch(it->second.get());
    return it->second.get();
  }
  absl::StatusOr<store::CaseRecord> rec = store::GetCase(*deps_.store, case_id);
  if (!rec.ok()) {
    if (rec.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("case_id: no case " + case_id);
    }
    return rec.status();
  }
  if (Terminal(rec->status())) {
    if (ended != nullptr) *ended = *rec;
    return absl::FailedPreconditionError(
        "case " + case_id + " has already ended (" +
        onewindow::v1::CaseStatus_Name(rec->status()) + ")");
  }
  absl::StatusOr<std::unique_ptr<OpenCase>> loaded = Load(*rec);
  if (!loaded.ok()) {
    spdlog::error("case {}: cannot be loaded: {}", case_id,
                  loaded.status().ToString());
    return absl::DataLossError("case " + case_id + " cannot be loaded: " +
                               std::string(loaded.status().message()));
  }
  OpenCase* c = loaded->get();
  lru_.push_front(case_id);
  c->lru = lru_.begin();
  cases_[case_id] = std::move(*loaded);
  ++loaded_cases_;
  return c;
}

absl::StatusOr<std::unique_ptr<Shard::OpenCase>> Shard::Load(
    const store::CaseRecord& rec) {
  auto c = std::make_unique<OpenCase>();
  c->rec = rec;
  const int64_t first_version =
      rec.first_version() != 0 ? rec.first_version() : rec.version();
  absl::StatusOr<DeployedWorkflow> wf =
      deps_.registry->Get(rec.service(), rec.version());
  if (!wf.ok()) return wf.status();
  c->rules = wf->rules;
  if (!rec.execution().empty()) {
    // Layout 1: the state is JSON in the record. It is rewritten in layout
    // 2 (a checkpoint) with the case's next commit.
    auto exec = core::Execution::FromLayout1Json(wf->definition,
                                                 rec.execution());
    if (!exec.ok()) return exec.status();
    c->exec = std::move(*exec);
    c->rec.clear_execution();
    c->rec.set_layout(2);
    c->rec.set_first_version(rec.version());
    c->rec.set_commands_since_checkpoint(deps_.options->checkpoint_every);
  } else {
    core::StartInfo ids;
    ids.execution_id = rec.id();
    ids.execution_name = rec.id();
    ids.state_machine_name = rec.service();
    ids.state_machine_id = rec.service() + "@" + std::to_string(first_version);
    ids.version = first_version;
    WorkflowRegistry* registry = deps_.registry;
    const std::string service = rec.service();
    core::Replayer replay(
        [registry, service](int64_t v)
            -> absl::StatusOr<std::shared_ptr<const asl::Definition>> {
          auto w = registry->Get(service, v);
          if (!w.ok()) return w.status();
          return w->definition;
        },
        ids);
    int64_t after = 0;
    if (rec.checkpoint_seq() > 0) {
      absl::StatusOr<sv1::ExecutionCheckpoint> cp =
          store::GetCheckpoint(*deps_.store, rec.id());
      if (!cp.ok()) return cp.status();
      if (absl::Status s = replay.Begin(&*cp); !s.ok()) return s;
      after = cp->history_seq();
    } else if (absl::Status s = replay.Begin(nullptr); !s.ok()) {
      return s;
    }
    absl::Status inner = absl::OkStatus();
    absl::Status s = store::ForEachStoredEvent(
        *deps_.store, rec.id(), after, [&](StoredEvent& e) {
          inner = replay.Add(e);
          return inner.ok();
        });
    if (!s.ok()) return s;
    if (!inner.ok()) return inner;
    auto exec = replay.Finish();
    if (!exec.ok()) return exec.status();
    c->exec = std::move(*exec);
    replayed_commands_ += replay.commands();
  }
  c->life = CaseLifecycle::At(CaseLifecycle::State::kRunning);
  absl::Status s = store::ForEachTaskOfCase(
      *deps_.store, rec.id(), [&](const TaskRecord& t) {
        if (!IsOpen(t.state())) return true;
        c->tasks.emplace(t.task_id(), OpenTask{t, TaskLifecycle()});
        return true;
      });
  if (!s.ok()) return s;
  for (const std::string& id : c->exec->OutstandingTasks()) {
    if (!c->tasks.contains(id)) {
      return absl::DataLossError("case " + rec.id() + " waits on task " + id +
                                 " that has no open task row");
    }
  }
  c->written = c->rec;
  return c;
}

// ---- tokens and answers ------------------------------------------------

absl::StatusOr<std::pair<Shard::OpenCase*, Shard::OpenTask*>>
Shard::ResolveToken(const TokenParts& token, const std::string& department) {
  auto unknown = [] {
    return absl::NotFoundError("token: unknown task token");
  };
  store::CaseRecord ended;
  absl::StatusOr<OpenCase*> rc = Resident(token.case_id, &ended);
  if (!rc.ok() && rc.status().code() == absl::StatusCode::kNotFound) {
    return unknown();
  }
  if (!rc.ok() && rc.status().code() != absl::StatusCode::kFailedPrecondition) {
    return rc.status();
  }
  OpenCase* c = rc.ok() ? *rc : nullptr;
  OpenTask* open = nullptr;
  TaskRecord stored;
  if (c != nullptr) {
    auto t_it = c->tasks.find(token.task_id);
    if (t_it != c->tasks.end()) open = &t_it->second;
  }
  const TaskRecord* rec = open != nullptr ? &open->rec : nullptr;
  if (rec == nullptr) {
    absl::StatusOr<TaskRecord> t =
        store::GetTask(*deps_.store, token.case_id, token.task_id);
    if (!t.ok()) return unknown();
    stored = std::move(*t);
    rec = &stored;
  }
  const int match = MatchDelivery(token, *rec);
  if (match == 0) return unknown();
  if (!department.empty() && rec->department() != department) {
    return absl::PermissionDeniedError(
        "token: the task belongs to department " + rec->department() +
        ", not " + department);
  }
  if (c == nullptr) {
    if (ended.status() == onewindow::v1::CASE_STATUS_CANCELLED) {
      return absl::FailedPreconditionError(
          "case cancelled: case " + token.case_id + " was cancelled (" +
          ended.cause() + ")");
    }
    return absl::FailedPreconditionError(
        "token: case " + token.case_id + " has already ended (" +
        onewindow::v1::CaseStatus_Name(ended.status()) + ")");
  }
  if (open == nullptr) {
    return absl::FailedPreconditionError(
        "token: task " + token.task_id + " of case " + token.case_id +
        " is already " + std::string(StoredName(rec->state())));
  }
  if (match == 2) {
    return absl::FailedPreconditionError(
        "token: stale — the lease of attempt " +
        std::to_string(token.attempt) +
        " ended and the task was offered again (attempt " +
        std::to_string(rec->attempt()) + ")");
  }
  return std::make_pair(c, open);
}

void Shard::CloseTask(OpenCase* c, OpenTask* t, TaskLifecycle::Event event,
                      const std::string& withdraw_reason, Txn* txn) {
  const int64_t now = now_;
  if (absl::Status s = t->life.Fire(event); !s.ok()) {
    spdlog::error("case {} task {}: {}", c->rec.id(), t->rec.task_id(),
                  s.ToString());
  }
  TaskRecord& r = t->rec;
  r.set_state(ToStored(t->life.state()));
  r.set_closed_at_ms(now);
  r.clear_input_json();  // the TaskScheduled event keeps it
  store::PutTask(txn->batch.get(), r);
  store::DeleteQueued(txn->batch.get(), r.department(), r.queue_seq());
  if (r.due_at_ms() > 0 && r.due_at_ms() > now) {
    DisarmTimer(r.due_at_ms(), c->rec.id(), kTaskDuePrefix + r.task_id(),
                txn);
  }
  AddCounter(store::OpenTasksCounterKey(r.department(), index_), -1, txn);
  txn->after_commit.push_back([d = deps_.dispatcher, tok = r.token(),
                               reason = withdraw_reason] {
    d->Withdraw(tok, reason);
  });
}

absl::Status Shard::AnswerTask(
    const TokenParts& token, const std::string& department,
    TaskLifecycle::Event event, const Actor& actor,
    const std::function<absl::Status(OpenCase*, OpenTask*, int64_t,
                                     core::StepOutput*)>& answer,
    const std::string* command_value, Txn* txn) {
  auto resolved = ResolveToken(token, department);
  if (!resolved.ok()) return resolved.status();
  auto [c, t] = *resolved;
  const int64_t now = now_;
  core::StepOutput out;
  if (absl::Status s = answer(c, t, now, &out); !s.ok()) return s;
  t->rec.set_answered_by(actor.name);
  CloseTask(c, t, event, "", txn);
  spdlog::debug("case {} task {} {} by {}", c->rec.id(), token.task_id,
                StoredName(t->rec.state()), actor.name);
  c->tasks.erase(token.task_id);
  ApplyStep(c, &out, actor, command_value, txn);
  return absl::OkStatus();
}

void Shard::ProcessComplete(Command& command, Txn* txn) {
  auto& cmd = std::get<CompleteCmd>(command);
  std::vector<onewindow::v1::DocumentRef> docs;
  absl::Status s = AnswerTask(
      cmd.token, cmd.department, TaskLifecycle::Event::kComplete, cmd.actor,
      [&](OpenCase* c, OpenTask* t, int64_t now, core::StepOutput* out) {
        // Documents the citizen brought back, on a counter task's result.
        if (t->rec.department() == "COUNTER" && cmd.result.is_object() &&
            cmd.result.contains("documents")) {
          const json& list = cmd.result["documents"];
          if (!list.is_array()) {
            return absl::InvalidArgumentError(
                "result_json.documents: must be an array of document "
                "references");
          }
          for (size_t i = 0; i < list.size(); ++i) {
            const json& d = list[i];
            const std::string at =
                "result_json.documents[" + std::to_string(i) + "]";
            if (!d.is_object()) {
              return absl::InvalidArgumentError(at + ": must be an object");
            }
            onewindow::v1::DocumentRef ref;
            auto str = [&](const char* k) -> std::string {
              auto it = d.find(k);
              return it != d.end() && it->is_string() ? it->get<std::string>()
                                                      : "";
            };
            ref.set_id(str("id"));
            ref.set_name(str("name"));
            ref.set_media_type(str("media_type"));
            ref.set_sha256(str("sha256"));
            auto sz = d.find("size_bytes");
            if (sz != d.end() && sz->is_number_integer()) {
              ref.set_size_bytes(sz->get<int64_t>());
            } else {
              ref.set_size_bytes(-1);
            }
            if (absl::Status v = ValidateDocument(ref, at); !v.ok()) return v;
            docs.push_back(std::move(ref));
          }
          if (static_cast<int>(c->rec.documents_size() + docs.size()) >
              deps_.options->max_documents) {
            return absl::ResourceExhaustedError(
                "result_json.documents: the case would hold more than " +
                std::to_string(deps_.options->max_documents) + " documents");
          }
        }
        return c->exec->CompleteTask(cmd.token.task_id, std::move(cmd.result),
                                     now, out);
      },
      &cmd.result_text, txn);
  if (s.ok() && !docs.empty()) {
    auto it = cases_.find(cmd.token.case_id);
    if (it != cases_.end()) {
      OpenCase* c = it->second.get();
      StoredEvent note;
      note.set_type(sv1::DOCUMENTS_ADDED);
      note.set_task_id(cmd.token.task_id);
      const int64_t now = now_;
      for (auto& d : docs) {
        d.set_added_at_ms(now);
        d.set_added_by(cmd.actor.name);
        *note.add_documents() = d;
        *c->rec.add_documents() = d;
      }
      AddNote(c, std::move(note), &cmd.actor, txn);
    }
  }
  ReplyAfterCommit(txn, std::move(cmd.done),
                   s.ok() ? absl::StatusOr<bool>(true) : s);
}

void Shard::ProcessFail(Command& command, Txn* txn) {
  auto& cmd = std::get<FailCmd>(command);
  absl::Status s = AnswerTask(
      cmd.token, cmd.department, TaskLifecycle::Event::kFail, cmd.actor,
      [&](OpenCase* c, OpenTask*, int64_t now, core::StepOutput* out) {
        return c->exec->FailTask(cmd.token.task_id, cmd.error, cmd.cause, now,
                                 out);
      },
      nullptr, txn);
  ReplyAfterCommit(txn, std::move(cmd.done),
                   s.ok() ? absl::StatusOr<bool>(true) : s);
}

void Shard::ProcessHeartbeat(Command& command, Txn* txn) {
  auto& cmd = std::get<HeartbeatCmd>(command);
  auto reply = [&](absl::StatusOr<int64_t> r) {
    ReplyAfterCommit(txn, std::move(cmd.done), std::move(r));
  };
  auto resolved = ResolveToken(cmd.token, cmd.department);
  if (!resolved.ok()) {
    reply(resolved.status());
    return;
  }
  auto [c, t] = *resolved;
  if (!cmd.leased) {
    reply(absl::FailedPreconditionError(
        "token: the task is not leased (its lease ended or the engine "
        "restarted); it is offered again"));
    return;
  }
  core::StepOutput out;
  absl::Status s =
      c->exec->HeartbeatTask(cmd.token.task_id, now_, &out);
  if (!s.ok()) {
    // Without HeartbeatSeconds the lease extension is all there is.
    reply(s.code() == absl::StatusCode::kFailedPrecondition
              ? absl::StatusOr<int64_t>(cmd.lease_expires_ms)
              : absl::StatusOr<int64_t>(s));
    return;
  }
  ApplyStep(c, &out, cmd.actor, nullptr, txn);
  reply(cmd.lease_expires_ms);
}

void Shard::ProcessCancel(Command& command, Txn* txn) {
  auto& cmd = std::get<CancelCmd>(command);
  auto reply = [&](absl::StatusOr<onewindow::v1::Case> r) {
    ReplyAfterCommit(txn, std::move(cmd.done), std::move(r));
  };
  absl::StatusOr<OpenCase*> rc = Resident(cmd.case_id, nullptr);
  if (!rc.ok()) {
    reply(rc.status());
    return;
  }
  OpenCase* c = *rc;
  core::StepOutput out;
  absl::Status s = c->exec->Cancel(cmd.reason, now_, &out);
  if (!s.ok()) {
    reply(s);
    return;
  }
  c->rec.set_ended_by(cmd.actor.name);
  ApplyStep(c, &out, cmd.actor, nullptr, txn);
  spdlog::info("case {} cancelled by {}: {}", c->rec.id(), cmd.actor.name,
               cmd.reason);
  reply(ToApiCase(c->rec));
}

void Shard::ProcessRedeliver(Command& command, Txn* txn) {
  auto& cmd = std::get<RedeliverCmd>(command);
  txn->redeliveries.push_back(cmd.token);
  const std::string raw = FormatToken(cmd.token);
  auto resolved = ResolveToken(cmd.token, "");
  if (!resolved.ok()) {
    // Answered, withdrawn or superseded meanwhile: just forget the delivery.
    txn->after_commit.push_back(
        [d = deps_.dispatcher, raw] { d->Withdraw(raw); });
    return;
  }
  auto [c, t] = *resolved;
  TokenParts current;
  ParseToken(t->rec.token(), &current);
  if (current.attempt != cmd.token.attempt) {
    txn->after_commit.push_back(
        [d = deps_.dispatcher, raw] { d->Withdraw(raw); });
    return;
  }
  const std::string old_token = t->rec.token();
  t->rec.add_previous_nonces(current.nonce);
  while (t->rec.previous_nonces_size() > kMaxPreviousNonces) {
    t->rec.mutable_previous_nonces()->erase(
        t->rec.mutable_previous_nonces()->begin());
  }
  TokenParts next = current;
  next.attempt = current.attempt + 1;
  next.nonce = NewNonce();
  t->rec.set_token(FormatToken(next));
  t->rec.set_attempt(next.attempt);
  store::PutTask(txn->batch.get(), t->rec);
  MarkDirty(c, txn);
  StoredEvent note;
  note.set_type(sv1::TASK_REDELIVERED);
  note.set_state(t->rec.state_name());
  note.set_task_id(t->rec.task_id());
  note.set_attempt(t->rec.attempt());
  note.set_text("lease expired");
  AddNote(c, std::move(note), nullptr, txn);
  onewindow::v1::Task msg = ToTaskMessage(*c, t->rec);
  txn->after_commit.push_back([d = deps_.dispatcher, old_token,
                               seq = t->rec.queue_seq(),
                               msg = std::move(msg)]() mutable {
    d->Withdraw(old_token);
    d->Offer(std::move(msg), seq);
  });
}

void Shard::ProcessDocuments(Command& command, Txn* txn) {
  auto& cmd = std::get<DocumentsCmd>(command);
  auto reply = [&](absl::StatusOr<onewindow::v1::Case> r) {
    ReplyAfterCommit(txn, std::move(cmd.done), std::move(r));
  };
  absl::StatusOr<OpenCase*> rc = Resident(cmd.case_id, nullptr);
  if (!rc.ok()) {
    reply(rc.status());
    return;
  }
  OpenCase* c = *rc;
  if (static_cast<int>(c->rec.documents_size() + cmd.documents.size()) >
      deps_.options->max_documents) {
    reply(absl::ResourceExhaustedError(
        "documents: the case would hold more than " +
        std::to_string(deps_.options->max_documents) + " documents"));
    return;
  }
  const int64_t now = now_;
  StoredEvent note;
  note.set_type(sv1::DOCUMENTS_ADDED);
  for (auto& d : cmd.documents) {
    d.set_added_at_ms(now);
    d.set_added_by(cmd.actor.name);
    *note.add_documents() = d;
    *c->rec.add_documents() = d;
  }
  AddNote(c, std::move(note), &cmd.actor, txn);
  reply(ToApiCase(c->rec));
}

void Shard::ProcessMigrate(Command& command, Txn* txn) {
  auto& cmd = std::get<MigrateCmd>(command);
  auto reply = [&](absl::StatusOr<onewindow::v1::Case> r) {
    ReplyAfterCommit(txn, std::move(cmd.done), std::move(r));
  };
  absl::StatusOr<OpenCase*> rc = Resident(cmd.case_id, nullptr);
  if (!rc.ok()) {
    reply(rc.status());
    return;
  }
  OpenCase* c = *rc;
  if (cmd.to_version == c->rec.version()) {
    reply(absl::FailedPreconditionError(
        "to_version: case " + c->rec.id() + " already runs version " +
        std::to_string(cmd.to_version)));
    return;
  }
  absl::StatusOr<DeployedWorkflow> wf =
      deps_.registry->Get(c->rec.service(), cmd.to_version);
  if (!wf.ok()) {
    reply(wf.status());
    return;
  }
  core::StepOutput out;
  absl::Status s = c->exec->Migrate(wf->definition, cmd.to_version,
                                    now_, &out);
  if (!s.ok()) {
    reply(absl::FailedPreconditionError(
        "case " + c->rec.id() + " cannot move to version " +
        std::to_string(cmd.to_version) + ": " + std::string(s.message())));
    return;
  }
  c->rec.set_version(cmd.to_version);
  c->rules = wf->rules;
  ApplyStep(c, &out, cmd.actor, nullptr, txn);
  spdlog::info("case {} moved to {}@{} by {}", c->rec.id(), c->rec.service(),
               cmd.to_version, cmd.actor.name);
  reply(ToApiCase(c->rec));
}

// ---- submit ------------------------------------------------------------

absl::StatusOr<std::string> Shard::NextCaseNumber(const std::string& prefix,
                                                  int year, Txn* txn) {
  auto key = std::make_pair(prefix, year);
  auto it = next_k_.find(key);
  if (it == next_k_.end()) {
    absl::StatusOr<int64_t> k =
        store::GetBe64(*deps_.store, store::kCfMeta,
                       store::NumberKey(prefix, year, index_), 0);
    if (!k.ok()) return k.status();
    it = next_k_.emplace(key, *k).first;
  }
  const int64_t seq = it->second * count_ + index_ + 1;
  absl::StatusOr<std::string> id = FormatCaseNumber(prefix, year, seq);
  if (!id.ok()) return id.status();
  ++it->second;
  store::PutBe64(txn->batch.get(), store::kCfMeta,
                 store::NumberKey(prefix, year, index_), it->second);
  return id;
}

void Shard::ProcessSubmit(Command& command, Txn* txn) {
  auto& cmd = std::get<SubmitCmd>(command);
  const std::string& request_id = cmd.request.request_id();
  auto reply = [&](absl::StatusOr<SubmitResult> r) {
    ReplyAfterCommit(txn, std::move(cmd.done), std::move(r));
  };
  if (!request_id.empty()) {
    std::string existing, existing_digest, existing_service;
    bool known = false;
    if (auto it = txn->new_requests.find(request_id);
        it != txn->new_requests.end()) {
      known = true;
      existing = it->second.case_id();
      existing_digest = it->second.digest();
      existing_service = it->second.service();
    } else {
      absl::StatusOr<store::RequestRecord> r =
          store::GetRequest(*deps_.store, request_id);
      if (r.ok()) {
        known = true;
        existing = r->case_id();
        existing_digest = r->digest();
        existing_service = r->service();
      } else if (r.status().code() != absl::StatusCode::kNotFound) {
        reply(r.status());
        return;
      }
    }
    if (known) {
      store::CaseRecord first;
      if (auto c = cases_.find(existing); c != cases_.end()) {
        first = c->second->rec;
      } else if (auto r = store::GetCase(*deps_.store, existing); r.ok()) {
        first = std::move(*r);
      }
      // Layout 1 kept no digest: the service must match at least.
      const bool same = existing_digest.empty()
                            ? first.service() == cmd.request.service()
                            : existing_digest == cmd.digest;
      if (!same) {
        reply(absl::AlreadyExistsError(
            "request_id: \"" + request_id + "\" was already used for case " +
            existing + " (service " + first.service() +
            ") with other data; use a new request id for a new case"));
        return;
      }
      reply(SubmitResult{existing, first.version(), true, first.due_date(),
                         first.created_at_ms()});
      return;
    }
  }
  if (open_count_.load() * count_ >= deps_.options->max_open_cases) {
    reply(absl::ResourceExhaustedError(
        "the engine holds its limit of " +
        std::to_string(deps_.options->max_open_cases) +
        " open cases; retry later with the same request_id"));
    return;
  }
  const int64_t now = now_;
  const ServiceRules& rules = *cmd.workflow.rules;
  absl::StatusOr<std::string> number = NextCaseNumber(
      rules.case_prefix, rules.calendar->LocalYear(now), txn);
  if (!number.ok()) {
    reply(number.status());
    return;
  }
  const std::string case_id = *number;
  std::string due_date;
  int64_t due_at = 0;
  if (rules.deadline_working_days > 0) {
    absl::StatusOr<std::string> d = rules.calendar->AddWorkingDays(
        rules.calendar->LocalDate(now), rules.deadline_working_days);
    absl::StatusOr<int64_t> end =
        d.ok() ? rules.calendar->EndOfDay(*d) : absl::StatusOr<int64_t>(0);
    if (!d.ok() || !end.ok()) {
      reply(absl::FailedPreconditionError(
          "service " + cmd.workflow.record->name() +
          ": its deadline cannot be computed: " +
          std::string((d.ok() ? end.status() : d.status()).message())));
      return;
    }
    due_date = *d;
    due_at = *end;
  }

  auto c = std::make_unique<OpenCase>();
  c->is_new = true;
  c->rules = cmd.workflow.rules;
  store::CaseRecord& rec = c->rec;
  rec.set_id(case_id);
  rec.set_layout(2);
  rec.set_service(cmd.workflow.record->name());
  rec.set_version(cmd.workflow.record->version());
  rec.set_first_version(cmd.workflow.record->version());
  rec.set_status(onewindow::v1::CASE_STATUS_RUNNING);
  rec.set_request_id(request_id);
  rec.set_created_at_ms(now);
  rec.set_updated_at_ms(now);
  rec.set_submitted_by(cmd.actor.name);
  rec.set_submitted_role(cmd.actor.role);
  rec.set_due_date(due_date);
  rec.set_due_at_ms(due_at);
  rec.set_applicant(ApplicantOf(cmd.input, rules.applicant_field));
  for (const auto& d : cmd.request.documents()) {
    auto* doc = rec.add_documents();
    *doc = d;
    doc->set_added_at_ms(now);
    doc->set_added_by(cmd.actor.name);
  }

  core::StartInfo info;
  info.execution_id = case_id;
  info.execution_name = case_id;
  info.state_machine_id = rec.service() + "@" + std::to_string(rec.version());
  info.state_machine_name = rec.service();
  info.version = rec.version();
  info.start_ms = now;
  info.seed = rng_();
  info.limits = deps_.options->limits;
  info.limits.set_max_payload_bytes(deps_.options->max_payload_bytes);

  core::StepOutput out;
  c->exec = core::Execution::Start(cmd.workflow.definition,
                                   std::move(cmd.input), info, &out);
  OpenCase* cp = c.get();
  lru_.push_front(case_id);
  c->lru = lru_.begin();
  cases_[case_id] = std::move(c);
  store::MarkOpen(txn->batch.get(), case_id);
  if (!request_id.empty()) {
    store::RequestRecord r;
    r.set_case_id(case_id);
    r.set_digest(cmd.digest);
    r.set_service(rec.service());
    store::PutRequest(txn->batch.get(), request_id, r);
    txn->new_requests[request_id] = r;
  }
  open_count_.fetch_add(1);
  AddCounter(store::CaseCounterKey(rec.service(),
                                   onewindow::v1::CASE_STATUS_RUNNING, index_),
             1, txn);
  ApplyStep(cp, &out, cmd.actor, &cmd.request.input_json(), txn);
  if (cp->rec.documents_size() > 0 && !cp->life.terminal()) {
    StoredEvent note;
    note.set_type(sv1::DOCUMENTS_ADDED);
    for (const auto& d : cp->rec.documents()) *note.add_documents() = d;
    AddNote(cp, std::move(note), &cmd.actor, txn);
  }
  if (due_at > 0 && !cp->life.terminal()) {
    ArmShardTimer(cp, due_at, kOverdueTimer, txn);
    cp->rec.set_overdue_timer_ms(due_at);
  }
  spdlog::info("case {} submitted by {}: service {}@{}{}", case_id,
               cmd.actor.name, cp->rec.service(), cp->rec.version(),
               request_id.empty() ? "" : " request " + request_id);
  reply(SubmitResult{case_id, cp->rec.version(), false, due_date, now});
}

// ---- timers ------------------------------------------------------------

void Shard::ArmShardTimer(OpenCase* c, int64_t due_ms, const std::string& id,
                          Txn* txn) {
  store::PutTimer(txn->batch.get(), due_ms, c->rec.id(), id);
  txn->after_commit.push_back([this, due_ms, case_id = c->rec.id(), id] {
    timers_.insert(TimerEntry{due_ms, case_id, id});
  });
}

void Shard::DisarmTimer(int64_t due_ms, const std::string& case_id,
                        const std::string& timer_id, Txn* txn) {
  store::DeleteTimer(txn->batch.get(), due_ms, case_id, timer_id);
  txn->after_commit.push_back([this, due_ms, case_id, timer_id] {
    timers_.erase(TimerEntry{due_ms, case_id, timer_id});
  });
}

void Shard::ProcessTimer(const TimerEntry& t, Txn* txn) {
  auto it = cases_.find(t.case_id);
  OpenCase* c = nullptr;
  if (it != cases_.end()) {
    c = it->second.get();
    Touch(c);
  } else {
    absl::StatusOr<OpenCase*> rc = Resident(t.case_id, nullptr);
    if (!rc.ok()) {
      if (rc.status().code() == absl::StatusCode::kDataLoss) {
        // Try again later rather than lose the timer.
        timers_.insert(TimerEntry{t.due_ms + 60000, t.case_id, t.timer_id});
      }
      return;  // ended or unknown: a stale row is removed by its end
    }
    c = *rc;
  }
  if (!t.timer_id.empty() && t.timer_id[0] == '~') {
    ProcessShardTimer(c, t, txn);
    return;
  }
  int64_t due = 0;
  if (!c->exec->TimerDue(t.timer_id, &due) || due != t.due_ms) {
    spdlog::debug("case {} timer {} due {}: stale (armed: {})", t.case_id,
                  t.timer_id, t.due_ms, due);
    return;
  }
  ++txn->commands;
  store::DeleteTimer(txn->batch.get(), t.due_ms, t.case_id, t.timer_id);
  MarkDirty(c, txn);
  core::StepOutput out;
  absl::Status s = c->exec->FireTimer(t.timer_id, now_, &out);
  if (!s.ok()) {
    spdlog::debug("case {} timer {}: {}", t.case_id, t.timer_id, s.ToString());
    return;
  }
  ApplyStep(c, &out, Actor{"engine", "engine"}, nullptr, txn);
}

void Shard::ProcessShardTimer(OpenCase* c, const TimerEntry& t, Txn* txn) {
  const int64_t now = now_;
  if (t.timer_id == kContinueTimer) {
    store::DeleteTimer(txn->batch.get(), t.due_ms, t.case_id, t.timer_id);
    c->continue_armed = false;
    MarkDirty(c, txn);
    if (!c->exec->has_pending_launch()) return;
    ++txn->commands;
    core::StepOutput out;
    absl::Status s = c->exec->Continue(now, &out);
    if (!s.ok()) return;
    ApplyStep(c, &out, Actor{"engine", "engine"}, nullptr, txn);
    return;
  }
  if (t.timer_id == kOverdueTimer) {
    if (c->rec.overdue_timer_ms() != t.due_ms || c->rec.overdue()) return;
    store::DeleteTimer(txn->batch.get(), t.due_ms, t.case_id, t.timer_id);
    c->rec.set_overdue(true);
    c->rec.set_overdue_timer_ms(0);
    StoredEvent note;
    note.set_type(sv1::CASE_OVERDUE);
    note.set_text(c->rec.due_date());
    note.set_number(c->rec.due_at_ms());
    AddNote(c, std::move(note), nullptr, txn);
    AddCounter(store::OverdueCounterKey(c->rec.service(), index_), 1, txn);
    spdlog::info("case {} is overdue (due {})", c->rec.id(),
                 c->rec.due_date());
    return;
  }
  if (t.timer_id.rfind(kTaskDuePrefix, 0) == 0) {
    const std::string task_id = t.timer_id.substr(sizeof(kTaskDuePrefix) - 1);
    auto it = c->tasks.find(task_id);
    if (it == c->tasks.end() || it->second.rec.due_at_ms() != t.due_ms) return;
    store::DeleteTimer(txn->batch.get(), t.due_ms, t.case_id, t.timer_id);
    StoredEvent note;
    note.set_type(sv1::TASK_OVERDUE);
    note.set_state(it->second.rec.state_name());
    note.set_task_id(task_id);
    note.set_number(t.due_ms);
    note.set_text(it->second.rec.department());
    AddNote(c, std::move(note), nullptr, txn);
  }
}

// ---- applying a step ---------------------------------------------------

void Shard::AppendEvent(OpenCase* c, StoredEvent* e, Txn* txn) {
  e->set_seq(c->rec.history_seq() + 1);
  c->rec.set_history_seq(e->seq());
  if (e->at_ms() == 0) e->set_at_ms(now_);
  Txn::CaseEvents& ce = txn->history[c->rec.id()];
  ce.wire.push_back(store::SealEvent(c->rec.last_hash(), e));
  c->rec.set_last_hash(e->hash());
  ce.events.push_back(std::move(*e));
}

void Shard::AddNote(OpenCase* c, StoredEvent e, const Actor* actor,
                    Txn* txn) {
  if (actor != nullptr) {
    e.set_actor(actor->name);
    e.set_actor_role(actor->role);
  }
  AppendEvent(c, &e, txn);
  MarkDirty(c, txn);
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
  m.set_created_at_ms(t.created_at_ms());
  m.set_due_at_ms(t.due_at_ms());
  return m;
}

void Shard::AddCounter(const std::string& key, int64_t delta, Txn* txn) {
  counters_[key] += delta;
  txn->counters.insert(key);
}

void Shard::ApplyStep(OpenCase* c, core::StepOutput* out, const Actor& actor,
                      const std::string* command_value, Txn* txn) {
  const int64_t now = now_;
  const std::string& case_id = c->rec.id();
  MarkDirty(c, txn);

  // Task inputs are serialized once: for the task row and its event.
  std::map<std::string, std::string> inputs;
  for (core::TaskSpec& spec : out->dispatch) {
    inputs[spec.task_id] = Dump(spec.input);
  }
  int64_t commands = 0;
  for (core::Event& e : out->events) {
    StoredEvent se;
    se.set_at_ms(now);
    se.set_type(e.type);
    se.set_state(std::move(e.state));
    se.set_task_id(std::move(e.task_id));
    if (e.command) {
      se.set_command(true);
      se.set_actor(actor.name);
      se.set_actor_role(actor.role);
      ++commands;
    }
    if (e.command && command_value != nullptr) {
      // The payload exactly as the caller sent it (already checked).
      se.set_value_json(*command_value);
    } else if (e.has_value) {
      se.set_value_json(Dump(e.value));
    } else if (e.type == sv1::TASK_SCHEDULED) {
      auto it = inputs.find(se.task_id());
      if (it != inputs.end()) se.set_value_json(it->second);
    } else if (e.type == sv1::EXECUTION_SUCCEEDED) {
      c->rec.set_output_json(Dump(c->exec->output()));
      se.set_value_json(c->rec.output_json());
    }
    if (!e.error.empty() || e.has_error) se.set_error(std::move(e.error));
    if (!e.cause.empty() || e.has_cause) se.set_cause(std::move(e.cause));
    se.set_has_error(e.has_error);
    se.set_has_cause(e.has_cause);
    se.set_index(e.index);
    se.set_attempt(e.attempt);
    se.set_number(e.number);
    se.set_text(std::move(e.text));
    if (e.type == sv1::EXECUTION_STARTED) {
      se.set_seed(e.seed);
      *se.mutable_limits() = e.limits;
    }
    se.set_version(e.version);
    AppendEvent(c, &se, txn);
  }
  c->rec.set_commands_since_checkpoint(c->rec.commands_since_checkpoint() +
                                       commands);

  const std::string withdraw_reason =
      c->exec->status() == RunStatus::kCancelled
          ? "case cancelled: " + c->exec->cause()
      : c->exec->status() == RunStatus::kRunning ? "its branch ended"
                                                 : "the case ended";
  std::set<std::string> timed_out;
  for (const core::Event& e : out->events) {
    if (e.type == sv1::TASK_TIMED_OUT) timed_out.insert(e.task_id);
  }
  for (const std::string& task_id : out->cancel_tasks) {
    auto it = c->tasks.find(task_id);
    if (it == c->tasks.end()) continue;
    const bool to = timed_out.count(task_id) > 0;
    CloseTask(c, &it->second,
              to ? TaskLifecycle::Event::kTimeout
                 : TaskLifecycle::Event::kCancel,
              to ? "the task timed out" : withdraw_reason, txn);
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
    t.set_input_json(std::move(inputs[spec.task_id]));
    t.set_state(sv1::TASK_STATE_READY);
    t.set_attempt(1);
    t.set_created_at_ms(now);
    if (spec.timeout_seconds > 0) {
      t.set_deadline_at_ms(now + spec.timeout_seconds * 1000);
    }
    t.set_heartbeat_seconds(static_cast<int32_t>(spec.heartbeat_seconds));
    t.set_service(c->rec.service());
    t.set_version(c->rec.version());
    t.set_queue_seq(deps_.next_queue_seq());
    TokenParts tp{case_id, spec.task_id, 1, NewNonce()};
    t.set_token(FormatToken(tp));
    // The department's own working-day limit for this task type.
    auto dl = c->rules->task_deadlines.find(dept + "/" + type);
    if (dl != c->rules->task_deadlines.end() && dl->second > 0) {
      const WorkingCalendar& cal = *c->rules->calendar;
      absl::StatusOr<std::string> d =
          cal.AddWorkingDays(cal.LocalDate(now), dl->second);
      if (d.ok()) {
        absl::StatusOr<int64_t> end = cal.EndOfDay(*d);
        if (end.ok()) {
          t.set_due_at_ms(*end);
          ArmShardTimer(c, *end, kTaskDuePrefix + spec.task_id, txn);
        }
      }
    }
    store::PutTask(txn->batch.get(), t);
    store::PutQueued(txn->batch.get(), dept, t.queue_seq(), case_id,
                     spec.task_id);
    AddCounter(store::OpenTasksCounterKey(dept, index_), 1, txn);
    onewindow::v1::Task msg = ToTaskMessage(*c, t);
    txn->after_commit.push_back(
        [d = deps_.dispatcher, seq = t.queue_seq(),
         msg = std::move(msg)]() mutable { d->Offer(std::move(msg), seq); });
    c->tasks.emplace(spec.task_id, OpenTask{std::move(t), TaskLifecycle()});
  }
  for (const core::TimerSpec& t : out->cancel_timers) {
    DisarmTimer(t.due_ms, case_id, t.timer_id, txn);
  }
  for (const core::TimerSpec& t : out->set_timers) {
    store::PutTimer(txn->batch.get(), t.due_ms, case_id, t.timer_id);
    txn->after_commit.push_back([this, t, case_id] {
      timers_.insert(TimerEntry{t.due_ms, case_id, t.timer_id});
    });
  }
  // A wide fan-out continues in a later turn (and after a restart).
  if (c->exec->has_pending_launch() && !c->continue_armed) {
    c->continue_armed = true;
    ArmShardTimer(c, now, kContinueTimer, txn);
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
  if (status != RunStatus::kSucceeded) {
    c->rec.set_error(c->exec->error());
    c->rec.set_cause(c->exec->cause());
  }
  for (auto& [task_id, t] : c->tasks) {
    CloseTask(c, &t, TaskLifecycle::Event::kCancel, withdraw_reason, txn);
  }
  c->tasks.clear();
  CaseEnded(c, txn);
  spdlog::info("case {} {}", case_id,
               onewindow::v1::CaseStatus_Name(c->rec.status()));
}

void Shard::CaseEnded(OpenCase* c, Txn* txn) {
  const int64_t now = now_;
  const std::string& id = c->rec.id();
  c->rec.set_ended_at_ms(now);
  store::MarkClosed(txn->batch.get(), id);
  if (c->rec.checkpoint_seq() > 0) store::DeleteCheckpoint(txn->batch.get(), id);
  if (c->rec.overdue_timer_ms() > 0) {
    DisarmTimer(c->rec.overdue_timer_ms(), id, kOverdueTimer, txn);
    c->rec.set_overdue_timer_ms(0);
  }
  open_count_.fetch_sub(1);
  AddCounter(store::CaseCounterKey(c->rec.service(),
                                   onewindow::v1::CASE_STATUS_RUNNING, index_),
             -1, txn);
  AddCounter(store::CaseCounterKey(c->rec.service(), c->rec.status(), index_),
             1, txn);
  if (c->rec.overdue()) {
    AddCounter(store::OverdueCounterKey(c->rec.service(), index_), -1, txn);
  }
  if (c->rec.status() == onewindow::v1::CASE_STATUS_SUCCEEDED) {
    const int64_t hour = now - now % 3600000;
    AddCounter(store::CompletedCounterKey(hour, index_), 1, txn);
  }
}

void Shard::WriteCase(OpenCase* c, Txn* txn) {
  store::CaseRecord& rec = c->rec;
  rec.set_updated_at_ms(now_);
  rec.clear_current_states();
  rec.clear_open_departments();
  if (!c->life.terminal()) {
    for (const std::string& s : c->exec->ActiveStates()) {
      rec.add_current_states(s);
    }
    std::set<std::string> depts;
    for (const auto& [id, t] : c->tasks) depts.insert(t.rec.department());
    for (const std::string& d : depts) rec.add_open_departments(d);
    if (rec.commands_since_checkpoint() >= deps_.options->checkpoint_every) {
      store::PutCheckpoint(txn->batch.get(), rec.id(),
                           c->exec->Checkpoint(rec.history_seq()));
      rec.set_checkpoint_seq(rec.history_seq());
      rec.set_commands_since_checkpoint(0);
    }
  }
  store::PutCase(txn->batch.get(), rec);
  store::UpdateIndexes(txn->batch.get(), c->is_new ? nullptr : &c->written,
                       rec);
  // Watchers of status changes.
  WatchHub* hub = deps_.watch;
  const bool changed =
      c->is_new || c->written.status() != rec.status() ||
      c->written.overdue() != rec.overdue() ||
      !std::equal(c->written.open_departments().begin(),
                  c->written.open_departments().end(),
                  rec.open_departments().begin(),
                  rec.open_departments().end());
  if (changed && hub->WantsChanges()) {
    onewindow::v1::CaseChange ch;
    ch.set_case_id(rec.id());
    ch.set_service(rec.service());
    ch.set_status(rec.status());
    for (const auto& d : rec.open_departments()) ch.add_open_departments(d);
    ch.set_overdue(rec.overdue());
    ch.set_at_ms(rec.updated_at_ms());
    txn->after_commit.push_back(
        [hub, ch = std::move(ch)] { hub->PublishChange(ch); });
  }
  c->written = rec;
}

}  // namespace onewindow::scheduler
