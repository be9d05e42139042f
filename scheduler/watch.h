// WatchHub: hands committed history events and case status changes to the
// streams that follow them (CaseService.WatchCase). Shards publish after
// each commit; publishing costs nothing when nobody watches. Thread-safe.
#ifndef ONEWINDOW_SCHEDULER_WATCH_H_
#define ONEWINDOW_SCHEDULER_WATCH_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "onewindow/v1/cases.pb.h"

namespace onewindow::scheduler {

// A subscriber. Called on shard threads, after the commit: must be quick
// and must not call back into the hub.
class WatchSink {
 public:
  virtual ~WatchSink() = default;
  virtual void OnEvents(const std::string& case_id,
                        const std::vector<onewindow::v1::HistoryEvent>& events) {
  }
  virtual void OnChange(const onewindow::v1::CaseChange& change) {}
};

struct WatchFilter {
  std::string service;
  onewindow::v1::CaseStatus status = onewindow::v1::CASE_STATUS_UNSPECIFIED;
  std::string department;
  bool Matches(const onewindow::v1::CaseChange& c) const;
};

class WatchHub {
 public:
  uint64_t WatchCase(const std::string& case_id, WatchSink* sink);
  uint64_t WatchChanges(const WatchFilter& filter, WatchSink* sink);
  void Unwatch(uint64_t id);

  // True when someone follows this case (then the shard converts its events).
  bool WantsEvents(const std::string& case_id) const;
  bool WantsChanges() const { return filters_.load() > 0; }
  void PublishEvents(const std::string& case_id,
                     const std::vector<onewindow::v1::HistoryEvent>& events);
  void PublishChange(const onewindow::v1::CaseChange& change);

  size_t watchers() const;

 private:
  struct Sub {
    std::string case_id;  // empty: a filter
    WatchFilter filter;
    WatchSink* sink;
  };
  mutable std::shared_mutex mu_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Sub> subs_;
  std::multimap<std::string, uint64_t> by_case_;
  std::atomic<int64_t> cases_{0};
  std::atomic<int64_t> filters_{0};
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_WATCH_H_
