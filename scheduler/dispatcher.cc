#include "scheduler/dispatcher.h"

#include <algorithm>

namespace onewindow::scheduler {

using core::TaskLifecycle;
using onewindow::v1::Task;

Dispatcher::Dispatcher(const Clock* clock, ExpiredFn on_expired)
    : clock_(clock), on_expired_(std::move(on_expired)) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  expiry_thread_ = std::thread([this] { ExpiryLoop(); });
}

void Dispatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (expiry_thread_.joinable()) expiry_thread_.join();
}

void Dispatcher::Offer(Task task) {
  std::lock_guard lock(mu_);
  const std::string token = task.token();
  const std::string dept = task.department();
  auto [it, inserted] = entries_.try_emplace(token);
  if (!inserted) return;  // offered twice (recovery racing a commit): once
  it->second.task = std::move(task);
  ready_[dept].push_back(token);
  PumpLocked(dept);
}

void Dispatcher::Withdraw(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  const std::string dept = e.task.department();
  if (e.life.state() == TaskLifecycle::State::kLeased) {
    auto range = leases_.equal_range(e.expires_ms);
    for (auto l = range.first; l != range.second; ++l) {
      if (l->second == token) {
        leases_.erase(l);
        break;
      }
    }
    if (e.holder != nullptr) {
      for (Session& s : sessions_[dept]) {
        if (s.session == e.holder) --s.in_flight;
      }
    }
  } else {
    auto& q = ready_[dept];
    q.erase(std::remove(q.begin(), q.end(), token), q.end());
  }
  entries_.erase(it);
  PumpLocked(dept);
}

void Dispatcher::Attach(WorkerSession* session, const SessionOptions& options) {
  std::lock_guard lock(mu_);
  sessions_[options.department].push_back(Session{session, options, 0});
  PumpLocked(options.department);
}

void Dispatcher::Detach(WorkerSession* session) {
  std::lock_guard lock(mu_);
  std::string dept;
  for (auto& [d, list] : sessions_) {
    auto it = std::find_if(list.begin(), list.end(), [&](const Session& s) {
      return s.session == session;
    });
    if (it != list.end()) {
      dept = d;
      list.erase(it);
      break;
    }
  }
  if (dept.empty()) return;
  // Its deliveries go back to the front of the queue, tokens unchanged.
  for (auto& [token, e] : entries_) {
    if (e.holder != session) continue;
    auto range = leases_.equal_range(e.expires_ms);
    for (auto l = range.first; l != range.second; ++l) {
      if (l->second == token) {
        leases_.erase(l);
        break;
      }
    }
    (void)e.life.Fire(TaskLifecycle::Event::kRelease);
    e.holder = nullptr;
    ready_[dept].push_front(token);
  }
  PumpLocked(dept);
}

void Dispatcher::LeaseLocked(Entry* e, WorkerSession* holder,
                             int64_t lease_ms) {
  lease_ms = std::clamp(lease_ms, kMinLeaseMs, kMaxLeaseMs);
  (void)e->life.Fire(TaskLifecycle::Event::kLease);
  e->holder = holder;
  e->lease_ms = lease_ms;
  e->expires_ms = clock_->NowMs() + lease_ms;
  e->task.set_lease_expires_at_ms(e->expires_ms);
  leases_.emplace(e->expires_ms, e->task.token());
  cv_.notify_all();
}

void Dispatcher::PumpLocked(const std::string& department) {
  auto q_it = ready_.find(department);
  auto s_it = sessions_.find(department);
  if (q_it == ready_.end() || s_it == sessions_.end()) return;
  std::deque<std::string>& q = q_it->second;
  std::vector<Session>& sessions = s_it->second;
  if (sessions.empty()) return;
  size_t& rr = round_robin_[department];
  // Hand out tasks round-robin to sessions with credit that take the type.
  size_t skipped = 0;
  while (!q.empty() && skipped < q.size()) {
    const std::string token = q.front();
    auto e_it = entries_.find(token);
    if (e_it == entries_.end()) {
      q.pop_front();
      continue;
    }
    Entry& e = e_it->second;
    Session* chosen = nullptr;
    for (size_t i = 0; i < sessions.size(); ++i) {
      Session& s = sessions[(rr + i) % sessions.size()];
      if (s.in_flight >= s.options.max_in_flight) continue;
      if (!s.options.task_types.empty() &&
          !s.options.task_types.count(e.task.task_type())) {
        continue;
      }
      chosen = &s;
      rr = (rr + i + 1) % sessions.size();
      break;
    }
    if (chosen == nullptr) {
      // Nobody can take this one now; maybe another type fits someone.
      bool anyone_free = false;
      for (const Session& s : sessions) {
        if (s.in_flight < s.options.max_in_flight) anyone_free = true;
      }
      if (!anyone_free) return;
      q.pop_front();
      q.push_back(token);
      ++skipped;
      continue;
    }
    q.pop_front();
    skipped = 0;
    ++chosen->in_flight;
    LeaseLocked(&e, chosen->session, chosen->options.lease_ms);
    chosen->session->Push(e.task);
  }
}

std::vector<Task> Dispatcher::Activate(const std::string& department, int max,
                                       int64_t lease_ms,
                                       const std::string& worker) {
  std::vector<Task> out;
  std::lock_guard lock(mu_);
  auto q_it = ready_.find(department);
  if (q_it == ready_.end()) return out;
  auto& q = q_it->second;
  while (!q.empty() && static_cast<int>(out.size()) < max) {
    std::string token = q.front();
    q.pop_front();
    auto e_it = entries_.find(token);
    if (e_it == entries_.end()) continue;
    LeaseLocked(&e_it->second, nullptr, lease_ms);
    out.push_back(e_it->second.task);
  }
  return out;
}

absl::StatusOr<int64_t> Dispatcher::Heartbeat(const std::string& token,
                                              int64_t extend_ms,
                                              int* heartbeat_seconds) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) {
    return absl::NotFoundError("token: no open delivery with this token");
  }
  Entry& e = it->second;
  *heartbeat_seconds = e.task.heartbeat_seconds();
  if (e.life.state() != TaskLifecycle::State::kLeased) {
    return absl::FailedPreconditionError(
        "token: the task is not leased (its lease ended; it is being "
        "offered again)");
  }
  auto range = leases_.equal_range(e.expires_ms);
  for (auto l = range.first; l != range.second; ++l) {
    if (l->second == token) {
      leases_.erase(l);
      break;
    }
  }
  int64_t len = extend_ms > 0 ? std::clamp(extend_ms, kMinLeaseMs, kMaxLeaseMs)
                              : e.lease_ms;
  e.expires_ms = clock_->NowMs() + len;
  e.task.set_lease_expires_at_ms(e.expires_ms);
  leases_.emplace(e.expires_ms, token);
  return e.expires_ms;
}

size_t Dispatcher::ReadyCount(const std::string& department) const {
  std::lock_guard lock(mu_);
  auto it = ready_.find(department);
  return it == ready_.end() ? 0 : it->second.size();
}

size_t Dispatcher::LeasedCount() const {
  std::lock_guard lock(mu_);
  return leases_.size();
}

void Dispatcher::ExpiryLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const int64_t now = clock_->NowMs();
    std::vector<Task> expired;
    while (!leases_.empty() && leases_.begin()->first <= now) {
      const std::string token = leases_.begin()->second;
      leases_.erase(leases_.begin());
      auto it = entries_.find(token);
      if (it == entries_.end()) continue;
      Entry& e = it->second;
      if (e.holder != nullptr) {
        for (Session& s : sessions_[e.task.department()]) {
          if (s.session == e.holder) --s.in_flight;
        }
      }
      (void)e.life.Fire(TaskLifecycle::Event::kRelease);
      expired.push_back(e.task);
      // The engine re-offers it under a new token; this token stays
      // answerable until that commit withdraws it.
      e.holder = nullptr;
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
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms));
  }
}

}  // namespace onewindow::scheduler
