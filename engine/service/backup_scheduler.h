// Scheduled online backups: every `every`, a consistent copy of the store
// (Engine::Backup, a RocksDB checkpoint) in DIR/<UTC timestamp>, e.g.
// DIR/20260314T092653Z; the newest `keep` are kept and older ones deleted.
// Only directories named like that are ever deleted (and the `.tmp`
// leftovers of such a name), so DIR may hold other things.
//
// The first backup is due `every` after the newest one already in DIR, or
// at once when there is none, so restarts do not postpone backups forever.
// A failed backup is logged and tried again at the next due time; nothing
// is deleted after a failure. Thread-safe.
#ifndef ONEWINDOW_ENGINE_SERVICE_BACKUP_SCHEDULER_H_
#define ONEWINDOW_ENGINE_SERVICE_BACKUP_SCHEDULER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "scheduler/clock.h"
#include "scheduler/engine.h"

namespace onewindow::service {

class BackupScheduler {
 public:
  struct Options {
    std::string dir;
    int64_t every_ms = 6 * 3600 * 1000;
    int keep = 8;
    // Time source for names and due times; default the system clock.
    const scheduler::Clock* clock = nullptr;
    // Called after each attempt with the directory made or the failure
    // (on the thread that made it; keep it quick).
    std::function<void(const absl::StatusOr<std::string>&)> on_backup;
  };

  struct Stats {
    int64_t made = 0;
    int64_t failed = 0;
    int64_t deleted = 0;
    std::string last_dir;    // of the last backup made
    std::string last_error;  // of the last failure
    int64_t next_due_ms = 0;
  };

  BackupScheduler(scheduler::Engine* engine, Options options);
  ~BackupScheduler();  // Stop()s
  BackupScheduler(const BackupScheduler&) = delete;
  BackupScheduler& operator=(const BackupScheduler&) = delete;

  // Creates DIR when missing and starts the thread that makes the backups.
  absl::Status Start();
  // Stops the thread (a backup under way finishes first).
  void Stop();

  // Makes a backup at the next chance, whatever the schedule says.
  void Trigger();
  // Makes the thread look at the clock again (tests advancing a manual
  // clock).
  void Wake();

  // Runs the schedule once on the calling thread: a backup (and the
  // pruning after it) when one is due or triggered. True when it tried.
  bool Tick();

  // Makes one backup now on the calling thread and prunes; returns its
  // directory.
  absl::StatusOr<std::string> BackupNow();

  Stats stats() const;

  // "20260314T092653Z" for that instant; and back (nullopt for any other
  // name).
  static std::string NameFor(int64_t ms);
  static std::optional<int64_t> TimeOf(const std::string& name);

  // Backups in DIR, oldest first (names only).
  std::vector<std::string> List() const;

 private:
  void Loop();
  void Prune();

  scheduler::Engine* const engine_;
  const Options options_;
  scheduler::SystemClock system_clock_;
  const scheduler::Clock* const clock_;

  std::mutex run_mu_;  // one backup at a time

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;      // GUARDED_BY(mu_)
  bool triggered_ = false;     // GUARDED_BY(mu_)
  bool wake_ = false;          // GUARDED_BY(mu_)
  Stats stats_;                // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace onewindow::service

#endif  // ONEWINDOW_ENGINE_SERVICE_BACKUP_SCHEDULER_H_
