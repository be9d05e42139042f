// The RocksDB store: the embedded default backend.
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/rate_limiter.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <filesystem>
#include <utility>
#include <vector>

#include "engine/store/format.h"
#include "engine/store/store.h"

namespace onewindow::store {
namespace {

rocksdb::Slice S(std::string_view v) { return {v.data(), v.size()}; }
std::string_view V(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

absl::Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = std::string(what) + ": " + s.ToString();
  if (s.IsNotFound()) return absl::NotFoundError(msg);
  if (s.IsCorruption()) return absl::DataLossError(msg);
  if (s.IsBusy() || s.IsTryAgain()) return absl::UnavailableError(msg);
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

// RocksDB counts every key comparison into a thread-local perf context
// unless the thread turns the counters off; in a memtable insert those
// thread-local lookups cost as much as the comparisons themselves. The
// store reads none of the counters.
void QuietPerfCounters() {
  thread_local const bool quiet = [] {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    return true;
  }();
  (void)quiet;
}

// Where a key stops naming a range whose new entries go in next to each
// other, and starts naming a place in it (0: no range worth a hint). The
// memtable keeps the place of the last insert per range and starts the next
// insert's search there rather than at its head:
// - a case's history rows and task rows (case id \0 ...) go in in order;
// - a case record, a counter: each write is a new version next to the last;
// - an index's ranges take new cases newest first, next to the last one;
// - a department's queue takes tasks in order.
// Ranges are bounded by what the memtable holds (cases, counters) or by the
// catalogue (index × status × service or department); applicants are not,
// so their index gets no hints.
class InsertHintPrefix : public rocksdb::SliceTransform {
 public:
  enum class Kind { kThroughSeparator, kWholeKey, kIndex };
  explicit InsertHintPrefix(Kind kind) : kind_(kind) {}
  const char* Name() const override { return "onewindow.InsertHint"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), Length(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return Length(key) > 0;
  }

 private:
  static size_t Through(const rocksdb::Slice& key, size_t from) {
    const std::string_view k(key.data(), key.size());
    const size_t sep = k.find(kSep, from);
    return sep == std::string_view::npos ? 0 : sep + 1;
  }
  size_t Length(const rocksdb::Slice& key) const {
    switch (kind_) {
      case Kind::kThroughSeparator:
        return Through(key, 0);
      case Kind::kWholeKey:
        return key.size();
      case Kind::kIndex:
        break;
    }
    if (key.empty()) return 0;
    switch (key[0]) {
      case kIdxCreated:
      case kIdxDue:
        return 1;
      case kIdxStatus:
        return key.size() >= 2 ? 2 : 0;
      case kIdxService:
      case kIdxDepartment:
        return Through(key, 1);
      case kIdxStatusService:
        return key.size() >= 2 ? Through(key, 2) : 0;
      default:
        return 0;
    }
  }
  Kind kind_;
};

class RocksStore final : public Store {
 public:
  class RocksBatch final : public Batch {
   public:
    explicit RocksBatch(const RocksStore* store) : store_(store) {}
    void Put(int cf, std::string_view key, std::string_view value) override {
      wb_.Put(store_->cf(cf), S(key), S(value));
      ++ops_;
      bytes_ += key.size() + value.size();
    }
    void Delete(int cf, std::string_view key) override {
      wb_.Delete(store_->cf(cf), S(key));
      ++ops_;
      bytes_ += key.size();
    }
    void Clear() override {
      wb_.Clear();
      ops_ = 0;
      bytes_ = 0;
    }
    rocksdb::WriteBatch* wb() { return &wb_; }
    const RocksStore* owner() const { return store_; }

   private:
    const RocksStore* store_;
    rocksdb::WriteBatch wb_;
  };

  ~RocksStore() override {
    if (db_) {
      // A clean stop leaves the WAL empty: the next start then opens the
      // tables instead of replaying every write since the last flush into
      // the memtables (seconds for 100k open cases).
      rocksdb::FlushOptions flush;
      flush.wait = true;
      rocksdb::Status fs = db_->Flush(flush, handles_);
      (void)fs;  // nothing to do about it here: the WAL still has it all
      for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
      db_->Close();
    }
  }

  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir,
                                                     const StoreOptions& opts) {
    rocksdb::Options options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    options.IncreaseParallelism(2);
    options.max_background_jobs = 2;
    // Many small synced batches: let concurrent writers share a WAL sync.
    options.enable_pipelined_write = true;
    // Bounds what a restart after a crash replays from the WAL.
    options.max_total_wal_size = 64 << 20;
    // Flushes and compactions write at most this fast. Every commit syncs
    // the WAL on the same disk, and a sync waits behind whatever the
    // background has queued there: unpaced, a flush's tens of megabytes
    // made commits wait 50-100 ms. The sustained need is about 13 KB per
    // case (32 MB/s at 2,500 cases/s), so the bound only spreads bursts.
    options.rate_limiter.reset(rocksdb::NewGenericRateLimiter(48 << 20));
    options.keep_log_file_num = 5;
    std::shared_ptr<rocksdb::Cache> cache =
        rocksdb::NewLRUCache(opts.block_cache_bytes > 0
                                 ? static_cast<size_t>(opts.block_cache_bytes)
                                 : 32 << 20);
    // All column families share one memtable budget.
    options.write_buffer_manager =
        std::make_shared<rocksdb::WriteBufferManager>(128 << 20);

    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.block_cache = cache;
    rocksdb::ColumnFamilyOptions cf_options(options);
    // Each column family flushes on its own when its memtable reaches this,
    // so flushes come a few megabytes at a time and at different moments.
    // With larger memtables the WAL bound (above) was reached first and
    // flushed every column family at once, some 70 MB in one burst.
    cf_options.write_buffer_size = 8 << 20;
    // Keys of a case are numbered in order (FL-2026-000123-…), so what a
    // memtable flushes overlaps only the newest end of level 1. Compaction
    // rewrites whole files: with RocksDB's 64 MB files, each one from level
    // 0 rewrote up to 64 MB of level 1 that had not changed; with 8 MB files
    // it rewrites about what changed. Measured at 300k stored cases: 42%
    // fewer bytes compacted, and compaction CPU 170 -> 70 us per new case.
    cf_options.target_file_size_base = 8 << 20;
    // Every byte written is flushed to level 0 once and compacted into
    // level 1 soon after: compressing those two small levels cost the
    // flush a sixth of its CPU for files that live minutes. The levels
    // that keep data long stay compressed as before.
    {
      const auto supported = rocksdb::GetSupportedCompressions();
      const bool snappy =
          std::find(supported.begin(), supported.end(),
                    rocksdb::kSnappyCompression) != supported.end();
      cf_options.compression_per_level = {
          rocksdb::kNoCompression, rocksdb::kNoCompression,
          snappy ? rocksdb::kSnappyCompression : rocksdb::kNoCompression};
    }
    cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

    // Timer rows and open-case marks are written (and deleted) by every
    // case and read only by recovery's one scan: an unsorted memtable takes
    // them in O(1) and sorts once per flush or scan, where a skip list paid
    // a search of the whole memtable per key.
    // (That memtable takes one writer at a time; the shards' batches are
    // inserted by the write group's leader in turn.)
    rocksdb::ColumnFamilyOptions write_only = cf_options;
    write_only.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    options.allow_concurrent_memtable_write = false;
    // Inserts start from the last insert into the same range (see
    // InsertHintPrefix; works because writes are not concurrent).
    auto hinted = [&](InsertHintPrefix::Kind kind) {
      rocksdb::ColumnFamilyOptions o = cf_options;
      o.memtable_insert_with_hint_prefix_extractor =
          std::make_shared<InsertHintPrefix>(kind);
      return o;
    };
    using Kind = InsertHintPrefix::Kind;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (int i = 0; i < kNumColumnFamilies; ++i) {
      switch (i) {
        case kCfTimers:
        case kCfOpenCases:
          cfs.emplace_back(kColumnFamilies[i], write_only);
          break;
        case kCfHistory:
        case kCfTasks:
        case kCfTaskQueue:
          cfs.emplace_back(kColumnFamilies[i], hinted(Kind::kThroughSeparator));
          break;
        case kCfCases:
        case kCfCounters:
          cfs.emplace_back(kColumnFamilies[i], hinted(Kind::kWholeKey));
          break;
        case kCfIndexes:
          cfs.emplace_back(kColumnFamilies[i], hinted(Kind::kIndex));
          break;
        default:
          cfs.emplace_back(kColumnFamilies[i], cf_options);
      }
    }
    std::unique_ptr<RocksStore> store(new RocksStore());
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(options), dir, cfs,
                                          &store->handles_, &raw);
    if (!s.ok()) {
      if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
        return absl::FailedPreconditionError(
            "data directory " + dir + " is in use by another process: " +
            s.ToString());
      }
      return FromRocks(s, "opening store at " + dir);
    }
    store->db_.reset(raw);
    store->sync_ = opts.sync;

    std::string meta;
    s = raw->Get(rocksdb::ReadOptions(), store->cf(kCfMeta), S(kMetaKey),
                 &meta);
    if (s.IsNotFound()) {
      store->meta_.set_format_version(kFormatVersion);
      store->meta_.set_shards(opts.shards < 1 ? 1 : opts.shards);
      store->meta_.set_created_at_ms(opts.now_ms);
      rocksdb::WriteOptions wo;
      wo.sync = true;
      s = raw->Put(wo, store->cf(kCfMeta), S(kMetaKey),
                   store->meta_.SerializeAsString());
      if (!s.ok()) return FromRocks(s, "writing store metadata");
    } else if (!s.ok()) {
      return FromRocks(s, "reading store metadata");
    } else {
      if (!store->meta_.ParseFromString(meta)) {
        return absl::DataLossError("cannot decode the store metadata");
      }
      if (store->meta_.format_version() > kFormatVersion) {
        return absl::FailedPreconditionError(
            "store format " + std::to_string(store->meta_.format_version()) +
            " is newer than this build understands (" +
            std::to_string(kFormatVersion) + ")");
      }
      if (store->meta_.format_version() < kFormatVersion) {
        // Layout 1 records are read as they are and rewritten in layout 2
        // as their cases change (FORMAT.md).
        store->meta_.set_format_version(kFormatVersion);
        rocksdb::WriteOptions wo;
        wo.sync = true;
        s = raw->Put(wo, store->cf(kCfMeta), S(kMetaKey),
                     store->meta_.SerializeAsString());
        if (!s.ok()) return FromRocks(s, "writing store metadata");
      }
    }
    return std::unique_ptr<Store>(std::move(store));
  }

  std::unique_ptr<Batch> NewBatch() const override {
    return std::make_unique<RocksBatch>(this);
  }

  absl::Status Commit(Batch* batch) override {
    if (batch->empty()) return absl::OkStatus();
    auto* rb = static_cast<RocksBatch*>(batch);
    if (rb->owner() != this) {
      return absl::InvalidArgumentError("batch of another store");
    }
    QuietPerfCounters();
    rocksdb::WriteOptions wo;
    wo.sync = sync_;
    return FromRocks(db_->Write(wo, rb->wb()), "committing");
  }

  absl::StatusOr<std::string> Get(int cf_id,
                                  std::string_view key) const override {
    QuietPerfCounters();
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(cf_id), S(key), &v);
    if (s.IsNotFound()) return absl::NotFoundError("not found");
    if (!s.ok()) return FromRocks(s, "reading");
    return v;
  }

  absl::Status Scan(int cf_id, std::string_view start, std::string_view end,
                    bool reverse, const ScanFn& fn) const override {
    QuietPerfCounters();
    rocksdb::ReadOptions ro;
    // Bounds let RocksDB skip tombstones outside the range.
    rocksdb::Slice lower = S(start), upper = S(end);
    if (!start.empty()) ro.iterate_lower_bound = &lower;
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(cf_id)));
    if (!reverse) {
      for (it->Seek(S(start)); it->Valid(); it->Next()) {
        if (!fn(V(it->key()), V(it->value()))) break;
      }
    } else {
      // With iterate_upper_bound set, SeekToLast lands on the last key
      // below `end`.
      it->SeekToLast();
      for (; it->Valid(); it->Prev()) {
        if (V(it->key()) < start) break;
        if (!fn(V(it->key()), V(it->value()))) break;
      }
    }
    return FromRocks(it->status(), "scanning");
  }

  absl::Status Checkpoint(const std::string& dir,
                          uint64_t* sequence) override {
    rocksdb::Checkpoint* cp = nullptr;
    rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &cp);
    if (!s.ok()) return FromRocks(s, "starting a checkpoint");
    std::unique_ptr<rocksdb::Checkpoint> owned(cp);
    uint64_t seq = 0;
    s = cp->CreateCheckpoint(dir, /*log_size_for_flush=*/0, &seq);
    if (!s.ok()) return FromRocks(s, "writing a checkpoint to " + dir);
    if (sequence != nullptr) *sequence = seq;
    return absl::OkStatus();
  }

  StoreStats Stats() const override {
    StoreStats st;
    uint64_t v = 0;
    if (db_->GetAggregatedIntProperty("rocksdb.estimate-live-data-size", &v)) {
      st.live_bytes = static_cast<int64_t>(v);
    }
    if (db_->GetAggregatedIntProperty("rocksdb.total-sst-files-size", &v)) {
      st.sst_bytes = static_cast<int64_t>(v);
    }
    if (db_->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables", &v)) {
      st.memtable_bytes = static_cast<int64_t>(v);
    }
    if (db_->GetAggregatedIntProperty(
            "rocksdb.estimate-pending-compaction-bytes", &v)) {
      st.pending_compaction_bytes = static_cast<int64_t>(v);
    }
    return st;
  }

 private:
  RocksStore() = default;
  rocksdb::ColumnFamilyHandle* cf(int id) const { return handles_[id]; }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  bool sync_ = true;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenRocksStore(
    const std::string& dir, const StoreOptions& options) {
  return RocksStore::Open(dir, options);
}

}  // namespace onewindow::store
