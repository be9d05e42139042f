// WriteCork: gathers the network writes one thread starts into fewer frames.
//
// While a WriteCork lives on a thread, a stream that would start a write on
// that thread calls Defer instead, and the write starts when the cork ends.
// What one commit sends to one stream (its tasks, its acknowledgements) then
// leaves as one frame instead of one frame each.
//
//   {
//     WriteCork cork;
//     for (auto& action : after_commit) action();  // streams call Defer
//   }                                              // one flush per stream
//
// Corks nest: only the outermost one flushes. Not shared between threads.
#ifndef ONEWINDOW_SCHEDULER_CORK_H_
#define ONEWINDOW_SCHEDULER_CORK_H_

#include <functional>
#include <unordered_set>
#include <utility>
#include <vector>

namespace onewindow::scheduler {

class WriteCork {
 public:
  WriteCork();
  ~WriteCork();
  WriteCork(const WriteCork&) = delete;
  WriteCork& operator=(const WriteCork&) = delete;

  // With a cork active on this thread: keeps `flush` to run when it ends
  // (once per `key`: later calls with the same key are dropped) and returns
  // true. Without one, returns false and the caller writes at once.
  // `flush` must stay safe to run after the stream has gone away.
  static bool Defer(const void* key, std::function<void()> flush);

  // Whether a cork is active on this thread.
  static bool Active();

 private:
  bool outermost_;
  std::vector<std::pair<const void*, std::function<void()>>> pending_;
  std::unordered_set<const void*> keys_;  // filled once pending_ grows
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_CORK_H_
