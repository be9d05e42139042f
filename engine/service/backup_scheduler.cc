#include "engine/service/backup_scheduler.h"

#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>

#include "scheduler/thread_name.h"

namespace onewindow::service {
namespace {

namespace fs = std::filesystem;

constexpr size_t kNameSize = 16;  // 20260314T092653Z
constexpr int64_t kMaxWaitMs = 60'000;  // look at the clock at least this often

}  // namespace

BackupScheduler::BackupScheduler(scheduler::Engine* engine, Options options)
    : engine_(engine),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &system_clock_) {
  const int64_t now = clock_->NowMs();
  const std::vector<std::string> existing = List();
  stats_.next_due_ms = now;
  if (!existing.empty()) {
    if (auto t = TimeOf(existing.back())) {
      stats_.next_due_ms =
          std::min(*t + options_.every_ms, now + options_.every_ms);
    }
  }
}

BackupScheduler::~BackupScheduler() { Stop(); }

absl::Status BackupScheduler::Start() {
  std::error_code ec;
  fs::create_directories(options_.dir, ec);
  if (ec || !fs::is_directory(options_.dir, ec)) {
    return absl::FailedPreconditionError(
        "backup.dir " + options_.dir +
        ": cannot create the directory: " + ec.message());
  }
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return absl::OkStatus();
  stopping_ = false;
  thread_ = std::thread([this] {
    scheduler::NameThisThread("ow-backup");
    Loop();
  });
  spdlog::info("scheduled backups: every {} min into {}, keeping {}; next in "
               "{} s",
               options_.every_ms / 60000, options_.dir, options_.keep,
               std::max<int64_t>(0, stats_.next_due_ms - clock_->NowMs()) /
                   1000);
  return absl::OkStatus();
}

void BackupScheduler::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void BackupScheduler::Trigger() {
  {
    std::lock_guard lock(mu_);
    triggered_ = true;
  }
  cv_.notify_all();
}

void BackupScheduler::Wake() {
  {
    std::lock_guard lock(mu_);
    wake_ = true;
  }
  cv_.notify_all();
}

void BackupScheduler::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    Tick();
    lock.lock();
    if (stopping_) break;
    const int64_t wait_ms = std::clamp<int64_t>(
        stats_.next_due_ms - clock_->NowMs(), 0, kMaxWaitMs);
    cv_.wait_for(lock, std::chrono::milliseconds(wait_ms),
                 [this] { return stopping_ || triggered_ || wake_; });
    wake_ = false;
  }
}

bool BackupScheduler::Tick() {
  {
    std::lock_guard lock(mu_);
    const bool due = triggered_ || clock_->NowMs() >= stats_.next_due_ms;
    if (!due) return false;
    triggered_ = false;
  }
  (void)BackupNow();
  return true;
}

absl::StatusOr<std::string> BackupScheduler::BackupNow() {
  std::lock_guard run(run_mu_);
  const int64_t now = clock_->NowMs();
  const std::string path = (fs::path(options_.dir) / NameFor(now)).string();
  absl::StatusOr<onewindow::v1::BackupResponse> result;
  std::error_code ec;
  fs::create_directories(options_.dir, ec);  // again, if it was removed
  if (fs::exists(path, ec)) {
    result = absl::AlreadyExistsError(
        path + " exists already (at most one backup a second)");
  } else {
    std::promise<absl::StatusOr<onewindow::v1::BackupResponse>> promise;
    auto future = promise.get_future();
    engine_->Backup(path,
                    [&promise](absl::StatusOr<onewindow::v1::BackupResponse> r) {
                      promise.set_value(std::move(r));
                    });
    result = future.get();
  }
  {
    std::lock_guard lock(mu_);
    stats_.next_due_ms = now + options_.every_ms;
    if (result.ok()) {
      ++stats_.made;
      stats_.last_dir = result->dir();
    } else {
      ++stats_.failed;
      stats_.last_error = std::string(result.status().message());
    }
  }
  if (!result.ok()) {
    spdlog::error("scheduled backup into {} failed (next try in {} min): {}",
                  path, options_.every_ms / 60000, result.status().ToString());
    if (options_.on_backup) options_.on_backup(result.status());
    return result.status();
  }
  spdlog::info("scheduled backup {} ({} bytes, {} ms)", result->dir(),
               result->bytes(), result->took_ms());
  Prune();
  if (options_.on_backup) options_.on_backup(result->dir());
  return result->dir();
}

void BackupScheduler::Prune() {
  std::vector<std::string> names = List();
  std::error_code ec;
  int64_t deleted = 0;
  const size_t keep = static_cast<size_t>(std::max(1, options_.keep));
  if (names.size() > keep) {
    for (size_t i = 0; i + keep < names.size(); ++i) {
      const fs::path p = fs::path(options_.dir) / names[i];
      fs::remove_all(p, ec);
      if (ec) {
        spdlog::warn("cannot delete old backup {}: {}", p.string(),
                     ec.message());
        continue;
      }
      spdlog::info("deleted old backup {}", p.string());
      ++deleted;
    }
  }
  // Leftovers of checkpoints that did not finish (NAME.tmp).
  for (const auto& e : fs::directory_iterator(options_.dir, ec)) {
    const std::string f = e.path().filename().string();
    if (f.size() == kNameSize + 4 && f.ends_with(".tmp") &&
        TimeOf(f.substr(0, kNameSize))) {
      std::error_code rm;
      fs::remove_all(e.path(), rm);
      if (!rm) spdlog::info("deleted unfinished backup {}", e.path().string());
    }
  }
  std::lock_guard lock(mu_);
  stats_.deleted += deleted;
}

BackupScheduler::Stats BackupScheduler::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::string BackupScheduler::NameFor(int64_t ms) {
  const time_t secs = static_cast<time_t>(ms / 1000);
  tm t{};
  gmtime_r(&secs, &t);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ",
                t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min,
                t.tm_sec);
  return buf;
}

std::optional<int64_t> BackupScheduler::TimeOf(const std::string& name) {
  if (name.size() != kNameSize || name[8] != 'T' || name[15] != 'Z') {
    return std::nullopt;
  }
  for (size_t i = 0; i < kNameSize; ++i) {
    if (i == 8 || i == 15) continue;
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
  }
  auto num = [&](size_t at, size_t n) {
    return std::stoi(name.substr(at, n));
  };
  tm t{};
  t.tm_year = num(0, 4) - 1900;
  t.tm_mon = num(4, 2) - 1;
  t.tm_mday = num(6, 2);
  t.tm_hour = num(9, 2);
  t.tm_min = num(11, 2);
  t.tm_sec = num(13, 2);
  if (t.tm_mon < 0 || t.tm_mon > 11 || t.tm_mday < 1 || t.tm_mday > 31 ||
      t.tm_hour > 23 || t.tm_min > 59 || t.tm_sec > 60) {
    return std::nullopt;
  }
  const time_t secs = timegm(&t);
  // Only the canonical spelling of an instant is ours.
  if (NameFor(static_cast<int64_t>(secs) * 1000) != name) return std::nullopt;
  return static_cast<int64_t>(secs) * 1000;
}

std::vector<std::string> BackupScheduler::List() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.dir, ec)) {
    const std::string f = e.path().filename().string();
    if (TimeOf(f) && e.is_directory(ec)) names.push_back(f);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace onewindow::service
