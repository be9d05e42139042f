// Time source for the runtime loops. The deterministic core never reads a
// clock; the scheduler reads this one and passes `now` in. Tests inject a
// manual clock. Implementations are thread-safe.
#ifndef ONEWINDOW_SCHEDULER_CLOCK_H_
#define ONEWINDOW_SCHEDULER_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace onewindow::scheduler {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms) : now_(start_ms) {}
  int64_t NowMs() const override { return now_.load(); }
  void Advance(int64_t ms) { now_ += ms; }
  void Set(int64_t ms) { now_ = ms; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_CLOCK_H_
