// CommitWindow: how long a shard holds a small batch open for more commands
// before it commits (a group-commit delay that opens only under load).
//
// Every commit costs the same fixed work whatever it carries: the synced
// write, a wake-up of the network thread, one frame per stream it answers.
// Under moderate load a shard wakes for every few commands and pays that
// work for each. Waiting a little lets more commands share one commit, but
// a wait that gathers nothing only adds latency: a lone case's next command
// cannot arrive before this commit answers it (PostgreSQL's commit_delay
// has the same trap, and gates it on commit_siblings).
//
// So the window measures the arrivals that cannot depend on the batch in
// hand: the commands queued while the shard was busy with a batch (taking,
// running, committing it). Their rate, an exponentially weighted average
// over recent batches, estimates what a wait would gather. The shard holds
// a batch open only when at least one more command is expected within the
// longest wait, and then only while commands keep coming: the wait ends
// when no command came for a gap of two mean inter-arrival times, when the
// batch reaches its target, or at the longest wait.
//
// Arrivals while busy can still mislead: the branches of one case's
// Parallel answer close together, then nothing comes. So the window also
// keeps the yield of its own waits (commands gathered per µs waited); when
// that says a wait would gather less than one command, it stops waiting,
// and tries one wait in kProbeEvery to notice when the load has changed.
//
//   rate  = min(rate while busy, yield of waits)
//   wait  = gap = min(max_wait, 2 / rate)     when rate * max_wait >= 1
//   wait  = 0                                 otherwise (but for probes)
//
// A closed loop of one case never waits for long; a steady stream of
// independent cases does; a full queue never needs to. Not thread-safe:
// one per shard, used by its thread.
#ifndef ONEWINDOW_SCHEDULER_COMMIT_WINDOW_H_
#define ONEWINDOW_SCHEDULER_COMMIT_WINDOW_H_

#include <cstddef>
#include <cstdint>

namespace onewindow::scheduler {

class CommitWindow {
 public:
  // max_wait_us 0 turns the window off. `target`: commands a batch should
  // hold before it is worth committing without waiting.
  CommitWindow(int64_t max_wait_us, size_t target);

  // The shard spent `busy_us` on one batch (from taking its first command
  // to the end of its write, any wait included), and `arrived` commands
  // were queued meanwhile.
  void Observe(int64_t busy_us, int64_t arrived);

  // The shard held a batch open for `waited_us` and gathered `gathered`
  // more commands.
  void ObserveWait(int64_t waited_us, int64_t gathered);

  // The gap to wait for one more command with `have` in hand, in µs; 0
  // commits at once. The caller waits again after each gap that brought
  // a command, up to max_wait_us in all.
  int64_t WaitUs(size_t have);

  // Commands per second the window expects now (for tests).
  double rate_per_s() const;

  // Out of this many waits the yield rules out, one is tried anyway.
  static constexpr int kProbeEvery = 32;

 private:
  int64_t max_wait_us_;
  size_t target_;
  // Weighted sums of arrivals and of busy time (µs); their ratio is the rate.
  double arrived_ = 0;
  double busy_us_ = 0;
  // The same for waits: commands gathered and time waited.
  double gathered_ = 0;
  double waited_us_ = 0;
  bool waited_ = false;  // the yield has been measured
  int skipped_ = 0;      // waits ruled out by the yield since the last probe
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_COMMIT_WINDOW_H_
