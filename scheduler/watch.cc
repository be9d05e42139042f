#include "scheduler/watch.h"

#include <algorithm>

namespace onewindow::scheduler {

bool WatchFilter::Matches(const onewindow::v1::CaseChange& c) const {
  if (!service.empty() && c.service() != service) return false;
  if (status != onewindow::v1::CASE_STATUS_UNSPECIFIED &&
      c.status() != status) {
    return false;
  }
  if (!department.empty() &&
      std::find(c.open_departments().begin(), c.open_departments().end(),
                department) == c.open_departments().end()) {
    return false;
  }
  return true;
}

uint64_t WatchHub::WatchCase(const std::string& case_id, WatchSink* sink) {
  std::unique_lock lock(mu_);
  const uint64_t id = next_id_++;
  subs_[id] = Sub{case_id, {}, sink};
  by_case_.emplace(case_id, id);
  ++cases_;
  return id;
}

uint64_t WatchHub::WatchChanges(const WatchFilter& filter, WatchSink* sink) {
  std::unique_lock lock(mu_);
  const uint64_t id = next_id_++;
  subs_[id] = Sub{"", filter, sink};
  ++filters_;
  return id;
}

void WatchHub::Unwatch(uint64_t id) {
  std::unique_lock lock(mu_);
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  if (it->second.case_id.empty()) {
    --filters_;
  } else {
    auto range = by_case_.equal_range(it->second.case_id);
    for (auto b = range.first; b != range.second; ++b) {
      if (b->second == id) {
        by_case_.erase(b);
        break;
      }
    }
    --cases_;
  }
  subs_.erase(it);
}

bool WatchHub::WantsEvents(const std::string& case_id) const {
  if (cases_.load(std::memory_order_relaxed) == 0) return false;
  std::shared_lock lock(mu_);
  return by_case_.count(case_id) > 0;
}

void WatchHub::PublishEvents(
    const std::string& case_id,
    const std::vector<onewindow::v1::HistoryEvent>& events) {
  if (cases_.load(std::memory_order_relaxed) == 0) return;
  std::shared_lock lock(mu_);
  auto range = by_case_.equal_range(case_id);
  for (auto it = range.first; it != range.second; ++it) {
    auto s = subs_.find(it->second);
    if (s != subs_.end()) s->second.sink->OnEvents(case_id, events);
  }
}

void WatchHub::PublishChange(const onewindow::v1::CaseChange& change) {
  if (filters_.load(std::memory_order_relaxed) == 0) return;
  std::shared_lock lock(mu_);
  for (const auto& [id, s] : subs_) {
    if (s.case_id.empty() && s.filter.Matches(change)) {
      s.sink->OnChange(change);
    }
  }
}

size_t WatchHub::watchers() const {
  std::shared_lock lock(mu_);
  return subs_.size();
}

}  // namespace onewindow::scheduler
