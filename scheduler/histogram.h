// A fixed-bucket histogram for metrics: lock-free to record, cheap to read.
#ifndef ONEWINDOW_SCHEDULER_HISTOGRAM_H_
#define ONEWINDOW_SCHEDULER_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace onewindow::scheduler {

class Histogram {
 public:
  // Upper bounds of the buckets, ascending (an implicit +Inf follows).
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
    for (auto& c : counts_) c.store(0);
  }

  void Record(double v) {
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    // The sum in micro-units keeps it an integer.
    sum_micros_.fetch_add(static_cast<int64_t>(v * 1e6),
                          std::memory_order_relaxed);
  }

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Read() const {
    Snapshot s;
    s.bounds = bounds_;
    uint64_t run = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      run += counts_[i].load(std::memory_order_relaxed);
      s.cumulative.push_back(run);
    }
    s.count = run;
    s.sum = static_cast<double>(sum_micros_.load()) / 1e6;
    return s;
  }

 private:
  static constexpr size_t kMaxBuckets = 32;
  std::vector<double> bounds_;
  std::array<std::atomic<uint64_t>, kMaxBuckets> counts_;
  std::atomic<int64_t> sum_micros_{0};
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_HISTOGRAM_H_
