// Engine: the runtime around the deterministic core. Owns the store, the
// workflow registry, the shard loops and the dispatcher.
//
// Every command on a case runs on the shard loop that owns the case; a loop
// takes the commands that queued while it was committing, runs them, writes
// all their changes in ONE synced RocksDB batch (group commit), and only
// then replies and hands out tasks. Calls are asynchronous: `done` runs on a
// shard thread after the commit (or at once for a rejected request) and must
// be quick. Thread-safe.
#ifndef ONEWINDOW_SCHEDULER_ENGINE_H_
#define ONEWINDOW_SCHEDULER_ENGINE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/store/store.h"
#include "onewindow/v1/adapters.pb.h"
#include "onewindow/v1/cases.pb.h"
#include "scheduler/clock.h"
#include "scheduler/dispatcher.h"
#include "scheduler/registry.h"

namespace onewindow::scheduler {

class Shard;

struct EngineOptions {
  std::string data_dir = "./data";
  // Shards of a new store (an existing store keeps its count).
  int shards = 2;
  // Cap on a case input or a task result, bytes.
  int64_t max_payload_bytes = 256 * 1024;
  // Commands queued per shard before SubmitCase answers RESOURCE_EXHAUSTED.
  size_t max_queued_per_shard = 20000;
  // Open (running) cases the engine holds, over all shards; SubmitCase
  // answers RESOURCE_EXHAUSTED beyond it. Each open case lives in memory.
  int64_t max_open_cases = 2'000'000;
  // Most commands one group commit takes.
  size_t max_batch = 512;
  // fsync each commit; only logic tests turn this off.
  bool sync = true;
  const Clock* clock = nullptr;  // default: the system clock
};

struct SubmitResult {
  std::string case_id;
  int64_t version = 0;
  bool deduplicated = false;
};

// Figures for logs, tests and benchmarks.
struct EngineStats {
  int64_t commits = 0;             // synced batches written
  int64_t committed_commands = 0;  // commands in them
  int64_t max_batch_commands = 0;  // most commands one commit carried
  int64_t open_cases = 0;
  int64_t recovered_cases = 0;
  int64_t recovery_ms = 0;
};

class Engine {
 public:
  template <typename T>
  using Done = std::function<void(absl::StatusOr<T>)>;

  static absl::StatusOr<std::unique_ptr<Engine>> Open(EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Stops taking commands, finishes the queued ones, stops the loops.
  void Shutdown();

  WorkflowRegistry& registry() { return *registry_; }
  Dispatcher& dispatcher() { return *dispatcher_; }
  const Clock& clock() const { return *clock_; }
  const EngineOptions& options() const { return options_; }
  EngineStats stats() const;

  // Cases.
  void SubmitCase(const onewindow::v1::SubmitCaseRequest& request,
                  Done<SubmitResult> done);
  absl::StatusOr<onewindow::v1::Case> GetCase(const std::string& case_id) const;
  absl::StatusOr<onewindow::v1::ListCasesResponse> ListCases(
      const onewindow::v1::ListCasesRequest& request) const;
  absl::StatusOr<std::vector<onewindow::v1::HistoryEvent>> GetHistory(
      const std::string& case_id, int64_t after_seq, int limit) const;
  void CancelCase(const std::string& case_id, const std::string& reason,
                  Done<onewindow::v1::Case> done);

  // Tasks. `done` gets OK once the answer is durably applied.
  void CompleteTask(const std::string& token, const std::string& result_json,
                    Done<bool> done);
  void FailTask(const std::string& token, const std::string& error,
                const std::string& cause, Done<bool> done);
  void Heartbeat(const std::string& token, int64_t extend_ms,
                 Done<int64_t> done);

  // Converts a stored case to its API form.
  static onewindow::v1::Case ToApi(const store::CaseRecord& c);

 private:
  explicit Engine(EngineOptions options);
  absl::Status Recover();
  Shard* ShardForCase(const std::string& case_id) const;
  void Redeliver(const onewindow::v1::Task& task);

  EngineOptions options_;
  SystemClock system_clock_;
  const Clock* clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WorkflowRegistry> registry_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<uint64_t> round_robin_{0};
  std::atomic<bool> shut_down_{false};
  int64_t recovered_cases_ = 0;
  int64_t recovery_ms_ = 0;
};

// Case numbers: "OW-" and ten digits. Shard i of n hands out the numbers
// k*n + i + 1, so a case number names its shard.
std::string FormatCaseId(int64_t seq);
// The sequence number of a case id; -1 if it is not one.
int64_t ParseCaseId(const std::string& case_id);

// Task tokens: "<case id>/<task id>/<attempt>/<nonce>".
struct TokenParts {
  std::string case_id;
  std::string task_id;
  int attempt = 0;
  uint64_t nonce = 0;
};
std::string FormatToken(const TokenParts& parts);
bool ParseToken(const std::string& token, TokenParts* parts);

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_ENGINE_H_
