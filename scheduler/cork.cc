#include "scheduler/cork.h"

#include <algorithm>

namespace onewindow::scheduler {

namespace {
thread_local WriteCork* active_cork = nullptr;
}  // namespace

WriteCork::WriteCork() : outermost_(active_cork == nullptr) {
  if (outermost_) active_cork = this;
}

WriteCork::~WriteCork() {
  if (!outermost_) return;
  // A flush may start writes that complete inline and queue more: those go
  // out at once, as the cork is gone.
  active_cork = nullptr;
  for (auto& [key, flush] : pending_) flush();
}

bool WriteCork::Defer(const void* key, std::function<void()> flush) {
  WriteCork* cork = active_cork;
  if (cork == nullptr) return false;
  auto& p = cork->pending_;
  // A commit usually reaches a few streams: a scan; past that, a set.
  constexpr size_t kScan = 16;
  if (p.size() < kScan) {
    if (std::any_of(p.begin(), p.end(),
                    [key](const auto& e) { return e.first == key; })) {
      return true;
    }
  } else {
    if (cork->keys_.empty()) {
      for (const auto& e : p) cork->keys_.insert(e.first);
    }
    if (!cork->keys_.insert(key).second) return true;
  }
  p.emplace_back(key, std::move(flush));
  return true;
}

bool WriteCork::Active() { return active_cork != nullptr; }

}  // namespace onewindow::scheduler
