// The on-disk layout of the RocksDB store: column family names and ids, and
// key encodings. See FORMAT.md. DO NOT CHANGE these names, ids or encodings:
// stores written by earlier builds must still open. Add, never renumber.
#ifndef ONEWINDOW_ENGINE_STORE_FORMAT_H_
#define ONEWINDOW_ENGINE_STORE_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace onewindow::store {

// Layout version written in StoreMeta.format_version.
inline constexpr int kFormatVersion = 1;

// Column families. The id is the index in kColumnFamilies.
enum ColumnFamilyId : int {
  kCfDefault = 0,      // unused (RocksDB requires it)
  kCfMeta = 1,         // "store" -> StoreMeta; "seq/<shard>" -> be64 next seq
  kCfDefinitions = 2,  // name \0 be64(version) -> WorkflowRecord
  kCfCases = 3,        // case id -> CaseRecord
  kCfHistory = 4,      // case id \0 be64(seq) -> onewindow.v1.HistoryEvent
  kCfTasks = 5,        // case id \0 task id -> TaskRecord
  kCfTimers = 6,       // be64(due ms) case id \0 timer id -> empty
  kCfRequests = 7,     // request id -> case id
  kCfOpenCases = 8,    // case id -> empty: the cases recovery must load
  kNumColumnFamilies = 9,
};

inline constexpr const char* kColumnFamilies[kNumColumnFamilies] = {
    "default", "meta",   "definitions", "cases",     "history",
    "tasks",   "timers", "requests",    "open_cases"};

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

inline std::string SeqKey(int shard) {
  return "seq/" + std::to_string(shard);
}

inline constexpr std::string_view kMetaKey = "store";

}  // namespace onewindow::store

#endif  // ONEWINDOW_ENGINE_STORE_FORMAT_H_
