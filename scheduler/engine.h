// Engine: the runtime around the deterministic core. Owns the store, the
// workflow registry, the shard loops, the dispatcher and the watch hub.
//
// Every command on a case runs on the shard loop that owns the case; a loop
// takes the commands that queued while it was committing, runs them, writes
// all their changes in ONE synced batch (group commit), and only then
// replies and hands out tasks. Reads (cases, lists, history) run on a small
// pool of reader threads, never on the caller's thread. Calls are
// asynchronous: `done` runs after the commit (or at once for a rejected
// request) and must be quick. Thread-safe.
#ifndef ONEWINDOW_SCHEDULER_ENGINE_H_
#define ONEWINDOW_SCHEDULER_ENGINE_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/core/execution.h"
#include "engine/store/store.h"
#include "onewindow/v1/adapters.pb.h"
#include "onewindow/v1/admin.pb.h"
#include "onewindow/v1/cases.pb.h"
#include "scheduler/clock.h"
#include "scheduler/dispatcher.h"
#include "scheduler/histogram.h"
#include "scheduler/ids.h"
#include "scheduler/registry.h"
#include "scheduler/watch.h"

namespace onewindow::scheduler {

class Shard;

struct EngineOptions {
  std::string data_dir = "./data";
  // A store to use instead of opening RocksDB in data_dir (tests: the
  // in-memory or fault-injecting store). The engine takes ownership.
  std::unique_ptr<store::Store> store;
  // Shards of a new store (an existing store keeps its count).
  int shards = 2;
  // Cap on a case input or a task result, bytes.
  int64_t max_payload_bytes = 256 * 1024;
  // Bounds on definitions (max_json_depth, max_definition_bytes,
  // max_states) and on the nesting of payloads (max_json_depth).
  asl::Limits asl_limits = asl::DefaultLimits();
  // Commands queued per shard before SubmitCase answers RESOURCE_EXHAUSTED.
  size_t max_queued_per_shard = 20000;
  // Open (running) cases the engine accepts, over all shards; SubmitCase
  // answers RESOURCE_EXHAUSTED beyond it.
  int64_t max_open_cases = 2'000'000;
  // Open cases kept in memory, over all shards; beyond it the least
  // recently used are dropped from memory and rebuilt from the store when
  // they are needed again.
  int64_t max_resident_cases = 200'000;
  // Most commands one group commit takes.
  size_t max_batch = 512;
  // Longest a shard holds a batch of fewer than commit_window_target
  // commands open for more, in µs, when its measured arrival rate says more
  // will come meanwhile (scheduler/commit_window.h); 0 commits at once.
  int64_t commit_window_us = 1000;
  size_t commit_window_target = 16;
  // A case's checkpoint is rewritten after this many commands, so that
  // rebuilding it replays at most that many.
  int checkpoint_every = 32;
  // Ready tasks held in memory per department (the rest wait in the store).
  size_t max_ready_per_department = 10000;
  // Limits of every new case's execution (payload cap included: the
  // max_payload_bytes above overrides its max_payload_bytes).
  core::ExecutionLimits limits = core::DefaultLimits();
  // Documents per case.
  int max_documents = 100;
  // fsync each commit; only logic tests turn this off.
  bool sync = true;
  // Threads serving reads.
  int reader_threads = 2;
  // Builds a service's rules from its manifest (null: manifests are not
  // accepted and every service gets DefaultRules()).
  RulesFactory rules_factory;
  const Clock* clock = nullptr;  // default: the system clock
};

// Who asked: recorded on the events a command causes.
struct Actor {
  std::string name = "anonymous";
  std::string role = "admin";
};

struct SubmitResult {
  std::string case_id;
  int64_t version = 0;
  bool deduplicated = false;
  std::string due_date;
  int64_t created_at_ms = 0;
};

// Figures for logs, metrics, tests and benchmarks.
struct EngineStats {
  int64_t commits = 0;             // synced batches written
  int64_t committed_commands = 0;  // commands in them
  int64_t max_batch_commands = 0;  // most commands one commit carried
  int64_t commit_failures = 0;
  int64_t commit_window_waits = 0;  // batches held open for more commands
  int64_t open_cases = 0;          // running cases (resident or not)
  int64_t resident_cases = 0;      // open cases in memory
  int64_t loaded_cases = 0;        // cases rebuilt from the store
  int64_t replayed_commands = 0;   // commands replayed rebuilding them
  int64_t queued_commands = 0;     // waiting for the shards now
  int64_t timers = 0;              // timers armed
  int64_t recovery_ms = 0;         // start to serving
  int64_t open_cases_at_start = 0;
};

class Engine {
 public:
  template <typename T>
  using Done = std::function<void(absl::StatusOr<T>)>;

  static absl::StatusOr<std::unique_ptr<Engine>> Open(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Stops taking commands, finishes the queued ones, checkpoints the cases
  // in memory, stops the loops.
  void Shutdown();

  WorkflowRegistry& registry() { return *registry_; }
  Dispatcher& dispatcher() { return *dispatcher_; }
  WatchHub& watch() { return watch_; }
  const Histogram& commit_seconds() const { return commit_seconds_; }
  const Histogram& commit_commands() const { return commit_commands_; }
  store::Store& store() { return *store_; }
  const Clock& clock() const { return *clock_; }
  const EngineOptions& options() const { return options_; }
  EngineStats stats() const;

  // ---- cases ----
  void SubmitCase(const onewindow::v1::SubmitCaseRequest& request,
                  const Actor& actor, Done<SubmitResult> done);
  void GetCase(const std::string& case_id, Done<onewindow::v1::Case> done);
  void ListCases(const onewindow::v1::ListCasesRequest& request,
                 Done<onewindow::v1::ListCasesResponse> done);
  void GetHistory(const std::string& case_id, int64_t after_seq, int limit,
                  Done<onewindow::v1::GetCaseHistoryResponse> done);
  void VerifyCase(const std::string& case_id,
                  Done<onewindow::v1::VerifyCaseResponse> done);
  void CancelCase(const std::string& case_id, const std::string& reason,
                  const Actor& actor, Done<onewindow::v1::Case> done);
  void AddDocuments(const std::string& case_id,
                    std::vector<onewindow::v1::DocumentRef> documents,
                    const Actor& actor, Done<onewindow::v1::Case> done);
  void MigrateCase(const std::string& case_id, int64_t to_version,
                   const Actor& actor, Done<onewindow::v1::Case> done);
  void GetBoard(Done<onewindow::v1::Board> done);
  // The same on the calling thread (reads the store: not for gRPC callback
  // threads).
  absl::StatusOr<onewindow::v1::Board> BoardNow() { return DoBoard(); }

  // ---- tasks ----
  // `department`: the department the caller may answer for (empty: any).
  // A token of another department's task is PERMISSION_DENIED and changes
  // nothing. `done` gets OK once the answer is durably applied.
  void CompleteTask(const std::string& token, const std::string& result_json,
                    const std::string& department, const Actor& actor,
                    Done<bool> done);
  void FailTask(const std::string& token, const std::string& error,
                const std::string& cause, const std::string& department,
                const Actor& actor, Done<bool> done);
  void Heartbeat(const std::string& token, int64_t extend_ms,
                 const std::string& department, const Actor& actor,
                 Done<int64_t> done);
  void ActivateTasks(const std::string& department, int max, int64_t lease_ms,
                     const std::string& worker,
                     Done<std::vector<onewindow::v1::Task>> done);
  void ListTasks(const std::string& department, int limit,
                 const std::string& page_token,
                 Done<onewindow::v1::ListTasksResponse> done);

  // ---- operations ----
  // A consistent online copy of the store in `dir`.
  void Backup(const std::string& dir, Done<onewindow::v1::BackupResponse> done);
  // Runs `fn` on a reader thread.
  void RunOnReader(std::function<void()> fn);

  // Checks a case number; INVALID_ARGUMENT naming what is wrong.
  static absl::StatusOr<std::string> CheckCaseId(const std::string& case_id);

 private:
  explicit Engine(EngineOptions options);
  absl::Status Recover();
  absl::Status UpgradeQueues();
  int64_t NextQueueSeq();
  Shard* ShardFor(const CaseNumber& n) const;
  absl::StatusOr<Shard*> ShardForCaseId(const std::string& case_id,
                                        std::string* canonical) const;
  void Redeliver(const onewindow::v1::Task& task);
  absl::Status LoadQueued(const std::string& department, int64_t after_seq,
                          int max, std::vector<QueuedTask>* out,
                          int64_t* scanned_to);
  absl::StatusOr<onewindow::v1::Case> ReadCase(const std::string& case_id);
  absl::StatusOr<onewindow::v1::ListCasesResponse> DoListCases(
      const onewindow::v1::ListCasesRequest& request);
  absl::StatusOr<onewindow::v1::Board> DoBoard();
  void ReaderLoop();

  EngineOptions options_;
  SystemClock system_clock_;
  const Clock* clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WorkflowRegistry> registry_;
  std::unique_ptr<Dispatcher> dispatcher_;
  WatchHub watch_;
  Histogram commit_seconds_{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                             0.1, 0.25, 0.5, 1, 2.5}};
  Histogram commit_commands_{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512}};
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> round_robin_{0};
  std::atomic<int64_t> next_queue_seq_{0};
  std::atomic<bool> shut_down_{false};
  int64_t recovery_ms_ = 0;
  int64_t open_at_start_ = 0;

  std::mutex reader_mu_;
  std::condition_variable reader_cv_;
  std::deque<std::function<void()>> reader_queue_;
  bool readers_stopping_ = false;
  std::vector<std::thread> readers_;
};

// Checks a document reference: every field present and well formed
// (INVALID_ARGUMENT naming `at` and the field).
absl::Status ValidateDocument(const onewindow::v1::DocumentRef& d,
                              const std::string& at);

// The API form of a stored case (input from its first event, read by the
// caller when wanted).
onewindow::v1::Case ToApiCase(const store::CaseRecord& c);

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_ENGINE_H_
