// FaultStore: wraps a store and makes chosen commits fail or stall, for
// tests of the engine's commit-failure paths. Reads pass through.
//
//   auto faulty = std::make_unique<FaultStore>(NewMemStore(opts));
//   FaultStore* f = faulty.get();
//   f->FailCommit(3);          // the 3rd commit from now fails
//   f->StallCommits(true);     // commits block until StallCommits(false)
#ifndef ONEWINDOW_ENGINE_STORE_FAULT_STORE_H_
#define ONEWINDOW_ENGINE_STORE_FAULT_STORE_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "engine/store/store.h"

namespace onewindow::store {

class FaultStore final : public Store {
 public:
  explicit FaultStore(std::unique_ptr<Store> inner);

  // The nth commit from now (1 = the next one) fails with `status` and
  // writes nothing.
  void FailCommit(int nth, absl::Status status = absl::InternalError(
                               "injected commit failure"));
  // While on, Commit blocks (until turned off).
  void StallCommits(bool on);
  // Commits seen (attempted), failed by injection.
  int64_t commits() const { return commits_.load(); }
  int64_t failed() const { return failed_.load(); }
  // True while some Commit call is blocked by StallCommits.
  bool stalled() const { return stalled_now_.load() > 0; }

  std::unique_ptr<Batch> NewBatch() const override;
  absl::Status Commit(Batch* batch) override;
  absl::StatusOr<std::string> Get(int cf, std::string_view key) const override;
  absl::Status Scan(int cf, std::string_view start, std::string_view end,
                    bool reverse, const ScanFn& fn) const override;
  absl::Status Checkpoint(const std::string& dir, uint64_t* sequence) override;
  StoreStats Stats() const override;

 private:
  std::unique_ptr<Store> inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  int fail_in_ = 0;  // GUARDED_BY(mu_): 0 = none
  absl::Status fail_status_;
  bool stall_ = false;  // GUARDED_BY(mu_)
  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int> stalled_now_{0};
};

}  // namespace onewindow::store

#endif  // ONEWINDOW_ENGINE_STORE_FAULT_STORE_H_
