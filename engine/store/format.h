// The on-disk layout of the store: column family names and ids, and key
// encodings. See FORMAT.md. DO NOT CHANGE these names, ids or encodings:
// stores written by earlier builds must still open. Add, never renumber.
#ifndef ONEWINDOW_ENGINE_STORE_FORMAT_H_
#define ONEWINDOW_ENGINE_STORE_FORMAT_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace onewindow::store {

// Layout version written in StoreMeta.format_version. Layout 1 stores open
// and are upgraded case by case (FORMAT.md, "Layouts").
inline constexpr int kFormatVersion = 2;

// Column families. The id is the index in kColumnFamilies.
enum ColumnFamilyId : int {
  kCfDefault = 0,      // unused (RocksDB requires it)
  kCfMeta = 1,         // "store" -> StoreMeta; sequences (SeqKey, NumberKey)
  kCfDefinitions = 2,  // name \0 be64(version) -> WorkflowRecord
  kCfCases = 3,        // case id -> CaseRecord
  kCfHistory = 4,      // case id \0 be64(first seq) -> HistoryChunk
  kCfTasks = 5,        // case id \0 task id -> TaskRecord
  kCfTimers = 6,       // be64(due ms) case id \0 timer id -> empty
  kCfRequests = 7,     // request id -> RequestRecord (layout 1: case id)
  kCfOpenCases = 8,    // case id -> empty: the cases recovery must know
  kCfCheckpoints = 9,  // case id -> ExecutionCheckpoint
  kCfTaskQueue = 10,   // dept \0 be64(queue seq) -> case id \0 task id
  kCfIndexes = 11,     // index byte + index key -> empty (see below)
  kCfCounters = 12,    // counter key -> be64 count (see below)
  kNumColumnFamilies = 13,
};

inline constexpr const char* kColumnFamilies[kNumColumnFamilies] = {
    "default", "meta",        "definitions", "cases",     "history",
    "tasks",   "timers",      "requests",    "open_cases", "checkpoints",
    "task_queue", "indexes",  "counters"};

inline constexpr char kSep = '\0';

// Appends `v` big-endian, so byte order equals numeric order.
inline void AppendBe64(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>(v >> (8 * i)));
}

inline uint64_t ReadBe64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8 && i < static_cast<int>(in.size()); ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

inline std::string Be64(uint64_t v) {
  std::string s;
  AppendBe64(&s, v);
  return s;
}

// Newest first: the bitwise complement of a time sorts later times first.
inline uint64_t Newest(int64_t ms) {
  return std::numeric_limits<uint64_t>::max() -
         static_cast<uint64_t>(ms < 0 ? 0 : ms);
}

inline std::string DefinitionKey(std::string_view name, int64_t version) {
  std::string k(name);
  k.push_back(kSep);
  AppendBe64(&k, static_cast<uint64_t>(version));
  return k;
}

inline std::string HistoryKey(std::string_view case_id, int64_t seq) {
  std::string k(case_id);
  k.push_back(kSep);
  AppendBe64(&k, static_cast<uint64_t>(seq));
  return k;
}

inline std::string CasePrefix(std::string_view case_id) {
  std::string k(case_id);
  k.push_back(kSep);
  return k;
}

inline std::string TaskKey(std::string_view case_id, std::string_view task_id) {
  std::string k(case_id);
  k.push_back(kSep);
  k.append(task_id);
  return k;
}

inline std::string TimerKey(int64_t due_ms, std::string_view case_id,
                            std::string_view timer_id) {
  std::string k;
  AppendBe64(&k, static_cast<uint64_t>(due_ms < 0 ? 0 : due_ms));
  k.append(case_id);
  k.push_back(kSep);
  k.append(timer_id);
  return k;
}

inline std::string TaskQueueKey(std::string_view department,
                                 int64_t queue_seq) {
  std::string k(department);
  k.push_back(kSep);
  AppendBe64(&k, static_cast<uint64_t>(queue_seq));
  return k;
}

// Layout 1 case sequence of a shard (OW-nnnnnnnnnn numbers).
inline std::string SeqKey(int shard) {
  return "seq/" + std::to_string(shard);
}

// Next sequence slot of a shard for case numbers PREFIX-YEAR-...
inline std::string NumberKey(std::string_view prefix, int year, int shard) {
  return "cn/" + std::string(prefix) + "/" + std::to_string(year) + "/" +
         std::to_string(shard);
}

inline constexpr std::string_view kMetaKey = "store";
// Present once layout 1 open tasks have task_queue rows (FORMAT.md).
inline constexpr std::string_view kQueueUpgradeKey = "upgrade/task-queue";

// ---- Secondary indexes (column family `indexes`) ----
// Every key starts with one byte naming the index and ends with the case id;
// values are empty. "newest" is be64(Newest(created ms)).
enum IndexId : char {
  kIdxCreated = 'C',        // newest, case id: every case
  kIdxStatus = 'S',         // status byte, newest, case id
  kIdxService = 'V',        // service \0 newest, case id
  kIdxStatusService = 'W',  // status byte, service \0 newest, case id
  kIdxDepartment = 'D',     // dept \0 newest, case id: running cases with an
                            // open task at dept
  kIdxDue = 'U',            // be64(due ms), case id: running cases with a
                            // statutory deadline
  kIdxApplicant = 'A',      // applicant \0 status byte, newest, case id
};

// ---- Counters (column family `counters`) ----
// Each shard owns its own keys and writes their absolute values; readers
// sum over shards. Values are be64.
enum CounterId : char {
  kCtrCases = 'S',      // service \0 status byte, shard byte: cases
  kCtrCompleted = 'H',  // be64(hour start ms), shard byte: cases that
                        // ended SUCCEEDED in that hour
  kCtrOverdue = 'O',    // service \0 shard byte: running overdue cases
  kCtrOpenTasks = 'Q',  // dept \0 shard byte: open tasks
};

}  // namespace onewindow::store

#endif  // ONEWINDOW_ENGINE_STORE_FORMAT_H_
