#include "scheduler/dispatcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "scheduler/thread_name.h"

namespace onewindow::scheduler {

using core::TaskLifecycle;
using onewindow::v1::Task;

namespace {
constexpr int kLoadBatch = 1000;
}  // namespace

Dispatcher::Dispatcher(const Clock* clock, ExpiredFn on_expired, LoadFn load,
                       size_t max_ready_per_department)
    : clock_(clock),
      on_expired_(std::move(on_expired)),
      load_(std::move(load)),
      max_ready_(std::max<size_t>(max_ready_per_department, 16)) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  expiry_thread_ = std::thread([this] {
    NameThisThread("ow-task-expiry");
    ExpiryLoop();
  });
  loader_thread_ = std::thread([this] {
    NameThisThread("ow-task-loader");
    LoaderLoop();
  });
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  loader_cv_.notify_all();
  if (expiry_thread_.joinable()) expiry_thread_.join();
  if (loader_thread_.joinable()) loader_thread_.join();
}

void Dispatcher::MarkStored(const std::vector<std::string>& departments) {
  std::lock_guard lock(mu_);
  for (const std::string& name : departments) {
    Department& d = departments_[name];
    d.stored = true;
  }
  loader_cv_.notify_all();
}

bool Dispatcher::AddLocked(Department& d, Task task, int64_t queue_seq) {
  const std::string token = task.token();
  auto [it, inserted] = entries_.try_emplace(token);
  if (!inserted) return false;  // offered twice (a reload racing a commit)
  Entry& e = it->second;
  e.task = std::move(task);
  e.queue_seq = queue_seq;
  d.ready.push_back(token);
  ++d.live;
  d.max_seq = std::max(d.max_seq, queue_seq);
  return true;
}

void Dispatcher::Offer(Task task, int64_t queue_seq) {
  std::lock_guard lock(mu_);
  const std::string dept = task.department();
  Department& d = departments_[dept];
  if (d.stored && queue_seq > d.cursor) {
    // The loader finds it in the store, in order. A load running now may
    // have looked past it before it was committed: it must not move the
    // cursor beyond it.
    if (d.loading) d.min_skipped = std::min(d.min_skipped, queue_seq);
    return;
  }
  if (!AddLocked(d, std::move(task), queue_seq)) return;
  if (d.live > max_ready_ && !d.stored) {
    // Full: later tasks stay in the store until the queue drains.
    d.stored = true;
    d.cursor = d.max_seq;
  }
  PumpLocked(dept, d);
}

void Dispatcher::UnleaseLocked(Entry* e) {
  if (e->leased) {
    leases_.erase(e->lease);
    e->leased = false;
  }
  if (e->holder != nullptr) {
    --e->holder->in_flight;
    e->holder->held.erase(e->task.token());
    e->holder = nullptr;
  }
}

void Dispatcher::Withdraw(const std::string& token, const std::string& reason) {
  std::lock_guard lock(mu_);
  for (auto& [name, d] : departments_) {
    if (d.loading) d.withdrawn_during_load.insert(token);
  }
  auto it = entries_.find(token);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  const std::string dept = e.task.department();
  Department& d = departments_[dept];
  if (e.life.state() == TaskLifecycle::State::kLeased) {
    Session* holder = e.holder;
    UnleaseLocked(&e);
    if (holder != nullptr && !reason.empty()) {
      onewindow::v1::TaskCancelled notice;
      notice.set_token(token);
      notice.set_case_id(e.task.case_id());
      notice.set_task_id(e.task.task_id());
      notice.set_reason(reason);
      holder->session->Cancelled(notice);
    }
  } else if (d.live > 0) {
    --d.live;  // its place in the queue is skipped when reached
  }
  entries_.erase(it);
  // Drop skipped places now and then so the queue stays proportional.
  if (d.ready.size() > 2 * d.live + 64) {
    std::deque<std::string> kept;
    for (std::string& t : d.ready) {
      auto e_it = entries_.find(t);
      if (e_it != entries_.end() &&
          e_it->second.life.state() == TaskLifecycle::State::kReady) {
        kept.push_back(std::move(t));
      }
    }
    d.ready.swap(kept);
    d.live = d.ready.size();
  }
  PumpLocked(dept, d);
}

void Dispatcher::RequeueLocked(Department& d, const std::string& token,
                               bool front) {
  if (front) {
    d.ready.push_front(token);
  } else {
    d.ready.push_back(token);
  }
  ++d.live;
}

void Dispatcher::Attach(WorkerSession* session, const SessionOptions& options) {
  std::lock_guard lock(mu_);
  Department& d = departments_[options.department];
  auto s = std::make_unique<Session>();
  s->session = session;
  s->options = options;
  d.sessions.push_back(std::move(s));
  session_dept_[session] = options.department;
  PumpLocked(options.department, d);
  loader_cv_.notify_all();
}

void Dispatcher::Detach(WorkerSession* session) {
  std::lock_guard lock(mu_);
  auto sd = session_dept_.find(session);
  if (sd == session_dept_.end()) return;
  const std::string dept = sd->second;
  session_dept_.erase(sd);
  Department& d = departments_[dept];
  auto it = std::find_if(d.sessions.begin(), d.sessions.end(),
                         [&](const auto& s) { return s->session == session; });
  if (it == d.sessions.end()) return;
  std::unique_ptr<Session> gone = std::move(*it);
  d.sessions.erase(it);
  // Its deliveries go back to the front of the queue, tokens unchanged.
  std::vector<std::string> held(gone->held.begin(), gone->held.end());
  for (const std::string& token : held) {
    auto e_it = entries_.find(token);
    if (e_it == entries_.end()) continue;
    Entry& e = e_it->second;
    UnleaseLocked(&e);
    if (absl::Status s = e.life.Fire(TaskLifecycle::Event::kRelease);
        !s.ok()) {
      spdlog::error("task {}: {}", token, s.ToString());
    }
    RequeueLocked(d, token, /*front=*/true);
  }
  PumpLocked(dept, d);
}

void Dispatcher::LeaseLocked(Entry* e, Session* holder, int64_t lease_ms) {
  lease_ms = std::clamp(lease_ms, kMinLeaseMs, kMaxLeaseMs);
  if (absl::Status s = e->life.Fire(TaskLifecycle::Event::kLease); !s.ok()) {
    spdlog::error("task {}: {}", e->task.token(), s.ToString());
  }
  e->holder = holder;
  if (holder != nullptr) {
    ++holder->in_flight;
    holder->held.insert(e->task.token());
  }
  e->lease_ms = lease_ms;
  e->expires_ms = clock_->NowMs() + lease_ms;
  e->task.set_lease_expires_at_ms(e->expires_ms);
  e->lease = leases_.emplace(e->expires_ms, e->task.token());
  e->leased = true;
  // The expiry thread sleeps until the earliest lease ends (200 ms at
  // most): wake it only when this lease ends before it would wake anyway.
  if (expiry_wake_ms_ != 0 && e->expires_ms < expiry_wake_ms_) {
    cv_.notify_all();
  }
}

void Dispatcher::PumpLocked(const std::string& name, Department& d) {
  if (d.sessions.empty() || d.ready.empty()) {
    if (d.live < max_ready_ / 2 && d.stored) loader_cv_.notify_all();
    return;
  }
  std::vector<std::vector<Task>> out(d.sessions.size());
  // Hand out tasks round-robin to sessions with credit that take the type.
  size_t skipped = 0;
  while (!d.ready.empty() && skipped < d.ready.size()) {
    const std::string token = d.ready.front();
    auto e_it = entries_.find(token);
    if (e_it == entries_.end() ||
        e_it->second.life.state() != TaskLifecycle::State::kReady) {
      d.ready.pop_front();  // withdrawn while queued
      continue;
    }
    Entry& e = e_it->second;
    size_t chosen = d.sessions.size();
    bool anyone_free = false;
    for (size_t i = 0; i < d.sessions.size(); ++i) {
      const size_t k = (d.round_robin + i) % d.sessions.size();
      Session& s = *d.sessions[k];
      if (s.in_flight >= s.options.max_in_flight) continue;
      anyone_free = true;
      if (!s.options.task_types.empty() &&
          !s.options.task_types.count(e.task.task_type())) {
        continue;
      }
      chosen = k;
      d.round_robin = (k + 1) % d.sessions.size();
      break;
    }
    if (chosen == d.sessions.size()) {
      if (!anyone_free) break;
      // Nobody free takes this type; maybe the next one fits someone.
      d.ready.pop_front();
      d.ready.push_back(token);
      ++skipped;
      continue;
    }
    d.ready.pop_front();
    --d.live;
    skipped = 0;
    Session& s = *d.sessions[chosen];
    LeaseLocked(&e, &s, s.options.lease_ms);
    out[chosen].push_back(e.task);
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i].empty()) d.sessions[i]->session->Push(std::move(out[i]));
  }
  if (d.live < max_ready_ / 2 && d.stored) loader_cv_.notify_all();
}

bool Dispatcher::WantsLoadLocked(const Department& d) const {
  return d.stored && !d.loading && d.live < max_ready_ / 2 &&
         !d.sessions.empty();
}

void Dispatcher::LoadSome(const std::string& name,
                          std::unique_lock<std::mutex>& lock) {
  Department& d = departments_[name];
  if (!d.stored || d.loading) return;
  d.loading = true;
  d.min_skipped = INT64_MAX;
  d.withdrawn_during_load.clear();
  const int64_t after = d.cursor;
  const int want = std::max(
      1, static_cast<int>(std::min<size_t>(
             kLoadBatch, max_ready_ - std::min(max_ready_, d.live))));
  std::vector<QueuedTask> loaded;
  int64_t scanned_to = after;
  lock.unlock();
  absl::Status s = load_(name, after, want, &loaded, &scanned_to);
  lock.lock();
  Department& dd = departments_[name];
  dd.loading = false;
  if (!s.ok()) {
    spdlog::error("dispatcher: loading {}'s queued tasks: {}", name,
                  s.ToString());
    return;
  }
  const bool reached_end = static_cast<int>(loaded.size()) < want;
  for (QueuedTask& q : loaded) {
    if (dd.withdrawn_during_load.count(q.task.token())) continue;
    AddLocked(dd, std::move(q.task), q.queue_seq);
  }
  dd.withdrawn_during_load.clear();
  int64_t cursor = std::max(dd.cursor, scanned_to);
  if (dd.min_skipped != INT64_MAX) {
    cursor = std::min(cursor, dd.min_skipped - 1);
  }
  dd.cursor = cursor;
  // At the end of the stored queue with nothing offered meanwhile, memory
  // holds every queued task again.
  if (reached_end && dd.min_skipped == INT64_MAX) dd.stored = false;
  PumpLocked(name, dd);
}

void Dispatcher::LoaderLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    std::string next;
    for (const auto& [name, d] : departments_) {
      if (WantsLoadLocked(d)) {
        next = name;
        break;
      }
    }
    if (next.empty()) {
      loader_cv_.wait_for(lock, std::chrono::milliseconds(500));
      continue;
    }
    LoadSome(next, lock);
  }
}

std::vector<Task> Dispatcher::Activate(const std::string& department, int max,
                                       int64_t lease_ms,
                                       const std::string& worker) {
  std::vector<Task> out;
  std::unique_lock lock(mu_);
  Department& d = departments_[department];
  if (d.live == 0 && d.stored) LoadSome(department, lock);
  Department& dd = departments_[department];
  while (!dd.ready.empty() && static_cast<int>(out.size()) < max) {
    std::string token = dd.ready.front();
    dd.ready.pop_front();
    auto e_it = entries_.find(token);
    if (e_it == entries_.end() ||
        e_it->second.life.state() != TaskLifecycle::State::kReady) {
      continue;
    }
    --dd.live;
    LeaseLocked(&e_it->second, nullptr, lease_ms);
    out.push_back(e_it->second.task);
  }
  if (dd.live < max_ready_ / 2 && dd.stored) loader_cv_.notify_all();
  return out;
}

absl::StatusOr<int64_t> Dispatcher::Heartbeat(const std::string& token,
                                              int64_t extend_ms,
                                              int* heartbeat_seconds,
                                              std::string* department) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) {
    return absl::NotFoundError("token: no open delivery with this token");
  }
  Entry& e = it->second;
  *heartbeat_seconds = e.task.heartbeat_seconds();
  *department = e.task.department();
  if (!e.leased) {
    return absl::FailedPreconditionError(
        "token: the task is not leased (its lease ended; it is being "
        "offered again)");
  }
  leases_.erase(e.lease);
  int64_t len = extend_ms > 0 ? std::clamp(extend_ms, kMinLeaseMs, kMaxLeaseMs)
                              : e.lease_ms;
  e.expires_ms = clock_->NowMs() + len;
  e.task.set_lease_expires_at_ms(e.expires_ms);
  e.lease = leases_.emplace(e.expires_ms, token);
  return e.expires_ms;
}

size_t Dispatcher::ReadyCount(const std::string& department) const {
  std::lock_guard lock(mu_);
  auto it = departments_.find(department);
  return it == departments_.end() ? 0 : it->second.live;
}

size_t Dispatcher::LeasedCount() const {
  std::lock_guard lock(mu_);
  return leases_.size();
}

size_t Dispatcher::QueueSlots(const std::string& department) const {
  std::lock_guard lock(mu_);
  auto it = departments_.find(department);
  return it == departments_.end() ? 0 : it->second.ready.size();
}

size_t Dispatcher::SessionCount() const {
  std::lock_guard lock(mu_);
  return session_dept_.size();
}

std::map<std::string, size_t> Dispatcher::ReadyByDepartment() const {
  std::lock_guard lock(mu_);
  std::map<std::string, size_t> out;
  for (const auto& [name, d] : departments_) out[name] = d.live;
  return out;
}

void Dispatcher::ExpiryLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const int64_t now = clock_->NowMs();
    std::vector<Task> expired;
    while (!leases_.empty() && leases_.begin()->first <= now) {
      const std::string token = leases_.begin()->second;
      auto it = entries_.find(token);
      if (it == entries_.end()) {
        leases_.erase(leases_.begin());
        continue;
      }
      Entry& e = it->second;
      UnleaseLocked(&e);
      if (absl::Status s = e.life.Fire(TaskLifecycle::Event::kRelease);
          !s.ok()) {
        spdlog::error("task {}: {}", token, s.ToString());
      }
      expired.push_back(e.task);
      // The engine re-offers it under a new token; this token stays
      // answerable until that commit withdraws it.
      e.expires_ms = 0;
    }
    if (!expired.empty()) {
      lock.unlock();
      for (const Task& t : expired) on_expired_(t);
      lock.lock();
      continue;
    }
    // Wake at the next expiry, or at least every 200 ms (a manual clock
    // may have moved).
    int64_t wait_ms = 200;
    if (!leases_.empty()) {
      wait_ms = std::clamp<int64_t>(leases_.begin()->first - now, 1, 200);
    }
    expiry_wake_ms_ = now + wait_ms;
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms));
    expiry_wake_ms_ = 0;
  }
}

}  // namespace onewindow::scheduler
