// Store: every durable fact of the engine, behind one narrow interface.
//
// A store is a set of column families (format.h), each an ordered map from
// byte keys to byte values, and atomic batches of puts and deletes. That is
// all the engine needs of a backend: the RocksDB store (the embedded
// default), an in-memory store (fast deterministic tests) and a
// fault-injecting wrapper (commit failure paths) implement it, and a
// PostgreSQL-wire backend can (one table per column family, bytea keys).
// The typed records on top (cases, tasks, history, indexes...) are in
// records.h.
//
// Thread-safe: any thread may read or commit; callers order their own
// commits (each shard loop commits only its own cases).
#ifndef ONEWINDOW_ENGINE_STORE_STORE_H_
#define ONEWINDOW_ENGINE_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "onewindow/store/v1/records.pb.h"

namespace onewindow::store {

using onewindow::store::v1::StoreMeta;

struct StoreOptions {
  // Shards of a new store; an existing store keeps its own count.
  int shards = 2;
  // fsync every commit (the engine's durability promise). Tests of pure
  // logic may turn it off; the server never does.
  bool sync = true;
  int64_t now_ms = 0;  // creation time recorded in a new store
  // RocksDB block cache, bytes (0: RocksDB's default).
  int64_t block_cache_bytes = 64 << 20;
};

// Figures for metrics.
struct StoreStats {
  int64_t live_bytes = 0;                  // estimated live data
  int64_t sst_bytes = 0;                   // files on disk
  int64_t memtable_bytes = 0;
  int64_t pending_compaction_bytes = 0;
};

class Store {
 public:
  // A set of changes committed atomically. Made by NewBatch().
  class Batch {
   public:
    virtual ~Batch() = default;
    virtual void Put(int cf, std::string_view key, std::string_view value) = 0;
    virtual void Delete(int cf, std::string_view key) = 0;
    virtual void Clear() = 0;

    bool empty() const { return ops_ == 0; }
    size_t ops() const { return ops_; }
    size_t bytes() const { return bytes_; }

   protected:
    size_t ops_ = 0;
    size_t bytes_ = 0;
  };

  // Visits (key, value) pairs; returns false to stop.
  using ScanFn = std::function<bool(std::string_view, std::string_view)>;

  virtual ~Store() = default;

  const StoreMeta& meta() const { return meta_; }

  virtual std::unique_ptr<Batch> NewBatch() const = 0;
  // Writes the batch atomically; durable on return when sync is on. A
  // failed commit changed nothing.
  virtual absl::Status Commit(Batch* batch) = 0;

  // NOT_FOUND when absent.
  virtual absl::StatusOr<std::string> Get(int cf,
                                          std::string_view key) const = 0;
  // Keys in [start, end) in order (end empty: to the end of the family);
  // with `reverse`, from the last key below `end` (or the last key) down to
  // `start`.
  virtual absl::Status Scan(int cf, std::string_view start,
                            std::string_view end, bool reverse,
                            const ScanFn& fn) const = 0;

  // A consistent copy of the whole store in `dir` (must not exist) that
  // can be opened as a store. UNIMPLEMENTED where the backend cannot.
  virtual absl::Status Checkpoint(const std::string& dir,
                                  uint64_t* sequence) {
    return absl::UnimplementedError("this store cannot make a checkpoint");
  }
  virtual StoreStats Stats() const { return {}; }

  // Scans every key starting with `prefix`.
  absl::Status ScanPrefix(int cf, std::string_view prefix, bool reverse,
                          const ScanFn& fn) const;

 protected:
  StoreMeta meta_;
};

// Opens (creating if needed) the RocksDB store in `dir`.
absl::StatusOr<std::unique_ptr<Store>> OpenRocksStore(
    const std::string& dir, const StoreOptions& options);

// A new empty in-memory store (contents vanish with it).
std::unique_ptr<Store> NewMemStore(const StoreOptions& options);

// The smallest key greater than every key starting with `prefix` (empty when
// there is none: the prefix is all 0xff).
std::string PrefixEnd(std::string_view prefix);

}  // namespace onewindow::store

#endif  // ONEWINDOW_ENGINE_STORE_STORE_H_
