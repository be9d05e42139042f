// Typed records on top of the Store: cases, tasks, history, timers, request
// ids, workflows, checkpoints, the department task queues, the secondary
// indexes and the counters. Keys come from format.h; values are the
// messages of proto/onewindow/store/v1. See FORMAT.md for the rules.
//
// Write functions add to a batch; read functions read a store. All are
// plain functions: the store decides nothing about the engine's logic.
#ifndef ONEWINDOW_ENGINE_STORE_RECORDS_H_
#define ONEWINDOW_ENGINE_STORE_RECORDS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/store/format.h"
#include "engine/store/store.h"
#include "onewindow/store/v1/execution.pb.h"
#include "onewindow/store/v1/records.pb.h"
#include "onewindow/v1/cases.pb.h"

namespace onewindow::store {

using onewindow::store::v1::CaseRecord;
using onewindow::store::v1::EventType;
using onewindow::store::v1::ExecutionCheckpoint;
using onewindow::store::v1::HistoryChunk;
using onewindow::store::v1::RequestRecord;
using onewindow::store::v1::StoredEvent;
using onewindow::store::v1::TaskRecord;
using onewindow::store::v1::WorkflowRecord;
using onewindow::v1::HistoryEvent;

// Events per history row: a commit that writes more (a wide Map) spreads
// them over several rows so that readers page by event.
inline constexpr int kEventsPerRow = 256;

// ---- writes ----

void PutCase(Store::Batch* b, const CaseRecord& c);
void PutTask(Store::Batch* b, const TaskRecord& t);
// Events of one case, seq ascending and contiguous; one row per
// kEventsPerRow events.
void PutHistory(Store::Batch* b, std::string_view case_id,
                const std::vector<StoredEvent>& events);
// The same rows, from each event's bytes as SealEvent returned them.
void PutSealedHistory(Store::Batch* b, std::string_view case_id,
                      const std::vector<StoredEvent>& events,
                      const std::vector<std::string>& wire);
void PutTimer(Store::Batch* b, int64_t due_ms, std::string_view case_id,
              std::string_view timer_id);
void DeleteTimer(Store::Batch* b, int64_t due_ms, std::string_view case_id,
                 std::string_view timer_id);
void PutRequest(Store::Batch* b, std::string_view request_id,
                const RequestRecord& r);
void MarkOpen(Store::Batch* b, std::string_view case_id);
void MarkClosed(Store::Batch* b, std::string_view case_id);
void PutWorkflow(Store::Batch* b, const WorkflowRecord& w);
void PutCheckpoint(Store::Batch* b, std::string_view case_id,
                   const ExecutionCheckpoint& cp);
void DeleteCheckpoint(Store::Batch* b, std::string_view case_id);
void PutQueued(Store::Batch* b, std::string_view department, int64_t seq,
               std::string_view case_id, std::string_view task_id);
void DeleteQueued(Store::Batch* b, std::string_view department, int64_t seq);
void PutBe64(Store::Batch* b, int cf, std::string_view key, int64_t value);

// ---- reads (NOT_FOUND when absent; DATA_LOSS when a value does not
// decode) ----

absl::StatusOr<CaseRecord> GetCase(const Store& s, std::string_view case_id);
absl::StatusOr<TaskRecord> GetTask(const Store& s, std::string_view case_id,
                                   std::string_view task_id);
// Layout 1 rows (plain case id text) come back with only case_id set.
absl::StatusOr<RequestRecord> GetRequest(const Store& s,
                                         std::string_view request_id);
absl::StatusOr<ExecutionCheckpoint> GetCheckpoint(const Store& s,
                                                  std::string_view case_id);
// A be64 value; `dflt` when absent.
absl::StatusOr<int64_t> GetBe64(const Store& s, int cf, std::string_view key,
                                int64_t dflt);

absl::Status ForEachOpenCase(
    const Store& s, const std::function<bool(std::string_view)>& fn);
absl::Status ForEachTaskOfCase(const Store& s, std::string_view case_id,
                               const std::function<bool(const TaskRecord&)>& fn);
// Timers in due order: (due_ms, case id, timer id).
absl::Status ForEachTimer(
    const Store& s,
    const std::function<bool(int64_t, std::string_view, std::string_view)>& fn);
absl::Status ForEachWorkflow(
    const Store& s, const std::function<bool(const WorkflowRecord&)>& fn);
// A department's queued tasks in queue order after `after_seq`:
// (seq, case id, task id).
absl::Status ForEachQueued(
    const Store& s, std::string_view department, int64_t after_seq,
    const std::function<bool(int64_t, std::string_view, std::string_view)>& fn);

// Layout 2 events of a case with seq > after_seq, in order. Layout 1 rows
// are skipped (they hold API events; see ReadHistory).
absl::Status ForEachStoredEvent(const Store& s, std::string_view case_id,
                                int64_t after_seq,
                                const std::function<bool(StoredEvent&)>& fn);
// The API form of a case's events with seq > after_seq, at most `limit`
// (whatever the layout); *more says whether events follow.
absl::Status ReadHistory(const Store& s, std::string_view case_id,
                         int64_t after_seq, int limit,
                         std::vector<HistoryEvent>* out, bool* more);
// The case's first event (layout 2): EXECUTION_STARTED, holding the input.
absl::StatusOr<StoredEvent> GetFirstEvent(const Store& s,
                                          std::string_view case_id);

// ---- events ----

HistoryEvent ToApiEvent(const StoredEvent& e);
// SHA-256(prev || e serialized without its hash). `prev` is empty (32 zero
// bytes) for the first event.
std::string ChainHash(std::string_view prev, const StoredEvent& e);
// Sets e's hash, chained on `prev`, and returns e's serialized bytes (hash
// included), serializing it once for both.
std::string SealEvent(std::string_view prev, StoredEvent* e);
inline constexpr size_t kHashBytes = 32;

// ---- indexes ----

// Every index entry a case has in its current state (format.h, IndexId).
std::vector<std::string> IndexKeys(const CaseRecord& c);
// Writes the difference between the entries of `before` and `after`
// (`before` null: a new case).
void UpdateIndexes(Store::Batch* b, const CaseRecord* before,
                   const CaseRecord& after);
// The case id at the end of an index key (the bytes after the index's
// fixed part); empty when the key is malformed.
std::string CaseIdOfIndexKey(std::string_view key);

// Counter keys (format.h, CounterId).
std::string CaseCounterKey(std::string_view service, int status, int shard);
std::string CompletedCounterKey(int64_t hour_start_ms, int shard);
std::string OverdueCounterKey(std::string_view service, int shard);
std::string OpenTasksCounterKey(std::string_view department, int shard);

// Hex of bytes, lower case.
std::string Hex(std::string_view bytes);

}  // namespace onewindow::store

#endif  // ONEWINDOW_ENGINE_STORE_RECORDS_H_
