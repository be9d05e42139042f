#include "engine/store/fault_store.h"

namespace onewindow::store {

FaultStore::FaultStore(std::unique_ptr<Store> inner)
    : inner_(std::move(inner)) {
  meta_ = inner_->meta();
}

void FaultStore::FailCommit(int nth, absl::Status status) {
  std::lock_guard lock(mu_);
  fail_in_ = nth;
  fail_status_ = std::move(status);
}

void FaultStore::StallCommits(bool on) {
  {
    std::lock_guard lock(mu_);
    stall_ = on;
  }
  cv_.notify_all();
}

std::unique_ptr<Store::Batch> FaultStore::NewBatch() const {
  return inner_->NewBatch();
}

absl::Status FaultStore::Commit(Batch* batch) {
  ++commits_;
  {
    std::unique_lock lock(mu_);
    if (stall_) {
      ++stalled_now_;
      cv_.wait(lock, [&] { return !stall_; });
      --stalled_now_;
    }
    if (fail_in_ > 0 && --fail_in_ == 0) {
      ++failed_;
      return fail_status_;
    }
  }
  return inner_->Commit(batch);
}

absl::StatusOr<std::string> FaultStore::Get(int cf,
                                            std::string_view key) const {
  return inner_->Get(cf, key);
}

absl::Status FaultStore::Scan(int cf, std::string_view start,
                              std::string_view end, bool reverse,
                              const ScanFn& fn) const {
  return inner_->Scan(cf, start, end, reverse, fn);
}

absl::Status FaultStore::Checkpoint(const std::string& dir,
                                    uint64_t* sequence) {
  return inner_->Checkpoint(dir, sequence);
}

StoreStats FaultStore::Stats() const { return inner_->Stats(); }

}  // namespace onewindow::store
