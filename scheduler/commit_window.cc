#include "scheduler/commit_window.h"

#include <algorithm>
#include <cmath>

namespace onewindow::scheduler {
namespace {

// Weight of the newest batch in the averages: about the last 16 batches
// count, so the window follows a change of load within a few milliseconds.
constexpr double kAlpha = 1.0 / 16;
// Waits are fewer than batches: their yield weighs the newest more.
constexpr double kWaitAlpha = 1.0 / 8;

}  // namespace

CommitWindow::CommitWindow(int64_t max_wait_us, size_t target)
    : max_wait_us_(std::max<int64_t>(max_wait_us, 0)),
      target_(std::max<size_t>(target, 1)) {}

void CommitWindow::Observe(int64_t busy_us, int64_t arrived) {
  if (max_wait_us_ == 0) return;
  busy_us = std::max<int64_t>(busy_us, 1);
  arrived = std::max<int64_t>(arrived, 0);
  arrived_ += kAlpha * (static_cast<double>(arrived) - arrived_);
  busy_us_ += kAlpha * (static_cast<double>(busy_us) - busy_us_);
}

void CommitWindow::ObserveWait(int64_t waited_us, int64_t gathered) {
  if (max_wait_us_ == 0) return;
  waited_us = std::max<int64_t>(waited_us, 1);
  gathered = std::max<int64_t>(gathered, 0);
  if (!waited_) {
    gathered_ = static_cast<double>(gathered);
    waited_us_ = static_cast<double>(waited_us);
    waited_ = true;
    return;
  }
  gathered_ += kWaitAlpha * (static_cast<double>(gathered) - gathered_);
  waited_us_ += kWaitAlpha * (static_cast<double>(waited_us) - waited_us_);
}

double CommitWindow::rate_per_s() const {
  if (busy_us_ <= 0) return 0;
  double per_us = arrived_ / busy_us_;
  if (waited_ && waited_us_ > 0) {
    per_us = std::min(per_us, gathered_ / waited_us_);
  }
  return per_us * 1e6;
}

int64_t CommitWindow::WaitUs(size_t have) {
  if (max_wait_us_ == 0 || have >= target_ || busy_us_ <= 0) return 0;
  const double max_wait = static_cast<double>(max_wait_us_);
  const double busy_rate = arrived_ / busy_us_;
  if (busy_rate * max_wait < 1.0) return 0;
  double rate = busy_rate;
  if (waited_ && waited_us_ > 0) {
    const double yield = gathered_ / waited_us_;
    if (yield * max_wait < 1.0) {
      // Waits have not paid lately: try one now and then.
      if (++skipped_ < kProbeEvery) return 0;
      skipped_ = 0;
    } else {
      rate = std::min(rate, yield);
    }
  }
  const double gap = 2.0 / rate;
  return std::min<int64_t>(max_wait_us_, static_cast<int64_t>(std::ceil(gap)));
}

}  // namespace onewindow::scheduler
