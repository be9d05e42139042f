// Store: every durable fact of the engine, in one embedded RocksDB.
//
// Writes go through a Batch that is committed atomically (one WriteBatch,
// WAL on, fsync'd when `sync`); reads are point lookups and ordered scans.
// The interface is narrow on purpose so another backend can stand behind it.
// Thread-safe: any thread may read or commit; callers order their own
// commits (each shard loop commits only its own cases).
#ifndef ONEWINDOW_ENGINE_STORE_STORE_H_
#define ONEWINDOW_ENGINE_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "onewindow/store/v1/records.pb.h"
#include "onewindow/v1/cases.pb.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace onewindow::store {

using onewindow::store::v1::CaseRecord;
using onewindow::store::v1::HistoryChunk;
using onewindow::store::v1::StoreMeta;
using onewindow::store::v1::TaskRecord;
using onewindow::store::v1::WorkflowRecord;
using onewindow::v1::HistoryEvent;

struct StoreOptions {
  // Shards of a new store; an existing store keeps its own count.
  int shards = 2;
  // fsync every commit (the engine's durability promise). Tests of pure
  // logic may turn it off; the server never does.
  bool sync = true;
  int64_t now_ms = 0;  // creation time recorded in a new store
};

class Store {
 public:
  // A set of changes committed atomically.
  class Batch {
   public:
    explicit Batch(const Store& store);
    ~Batch();
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    void PutCase(const CaseRecord& c);
    void PutTask(const TaskRecord& t);
    // Events of one case from one commit, seq ascending and contiguous,
    // stored as one row (fewer keys per transition).
    void PutHistory(std::string_view case_id,
                    const std::vector<HistoryEvent>& events);
    void PutTimer(int64_t due_ms, std::string_view case_id,
                  std::string_view timer_id);
    void DeleteTimer(int64_t due_ms, std::string_view case_id,
                     std::string_view timer_id);
    void PutRequest(std::string_view request_id, std::string_view case_id);
    void MarkOpen(std::string_view case_id);
    void MarkClosed(std::string_view case_id);
    void PutWorkflow(const WorkflowRecord& w);
    void PutNextSeq(int shard, int64_t next_seq);

    bool empty() const { return ops_ == 0; }
    size_t ops() const { return ops_; }
    size_t bytes() const;
    void Clear();

   private:
    friend class Store;
    void Put(int cf, std::string_view key, std::string_view value);
    void Delete(int cf, std::string_view key);
    const Store& store_;
    std::unique_ptr<rocksdb::WriteBatch> wb_;
    size_t ops_ = 0;
  };

  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir,
                                                     const StoreOptions& opts);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const StoreMeta& meta() const { return meta_; }

  // Writes the batch atomically; durable on return when sync is on.
  absl::Status Commit(Batch* batch);

  // Point reads. NOT_FOUND when absent.
  absl::StatusOr<CaseRecord> GetCase(std::string_view case_id) const;
  absl::StatusOr<TaskRecord> GetTask(std::string_view case_id,
                                     std::string_view task_id) const;
  absl::StatusOr<std::string> GetRequest(std::string_view request_id) const;
  // Next case sequence number of a shard (0 if never written).
  absl::StatusOr<int64_t> GetNextSeq(int shard) const;

  // Scans. The callback returns false to stop early.
  absl::Status ForEachOpenCase(
      const std::function<bool(const CaseRecord&)>& fn) const;
  absl::Status ForEachTaskOfCase(
      std::string_view case_id,
      const std::function<bool(const TaskRecord&)>& fn) const;
  // Timers in due order: (due_ms, case id, timer id).
  absl::Status ForEachTimer(
      const std::function<bool(int64_t, std::string_view, std::string_view)>&
          fn) const;
  absl::Status ForEachWorkflow(
      const std::function<bool(const WorkflowRecord&)>& fn) const;
  absl::Status ReadHistory(std::string_view case_id, int64_t after_seq,
                           int limit, std::vector<HistoryEvent>* out) const;
  // Cases newest first, starting below `before_id` when non-empty.
  absl::Status ScanCasesNewestFirst(
      std::string_view before_id,
      const std::function<bool(const CaseRecord&)>& fn) const;

 private:
  Store() = default;
  rocksdb::ColumnFamilyHandle* cf(int id) const { return handles_[id]; }
  absl::Status ScanPrefix(int cf_id, std::string_view prefix,
                          const std::function<bool(std::string_view,
                                                   std::string_view)>& fn) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  StoreMeta meta_;
  bool sync_ = true;
};

}  // namespace onewindow::store

#endif  // ONEWINDOW_ENGINE_STORE_STORE_H_
