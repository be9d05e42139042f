#include "engine/store/store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_batch.h>

#include <utility>

#include "engine/store/format.h"

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
  return absl::InternalError(msg);
}

template <typename M>
absl::Status ParseRecord(std::string_view bytes, M* out, std::string_view what) {
  if (!out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(std::string("cannot decode stored ") +
                               std::string(what));
  }
  return absl::OkStatus();
}

}  // namespace

// ---- Batch ----

Store::Batch::Batch(const Store& store)
    : store_(store), wb_(std::make_unique<rocksdb::WriteBatch>()) {}
Store::Batch::~Batch() = default;

void Store::Batch::Put(int cf, std::string_view key, std::string_view value) {
  wb_->Put(store_.cf(cf), S(key), S(value));
  ++ops_;
}

void Store::Batch::Delete(int cf, std::string_view key) {
  wb_->Delete(store_.cf(cf), S(key));
  ++ops_;
}

void Store::Batch::PutCase(const CaseRecord& c) {
  Put(kCfCases, c.id(), c.SerializeAsString());
}

void Store::Batch::PutTask(const TaskRecord& t) {
  Put(kCfTasks, TaskKey(t.case_id(), t.task_id()), t.SerializeAsString());
}

void Store::Batch::PutHistory(std::string_view case_id,
                              const std::vector<HistoryEvent>& events) {
  if (events.empty()) return;
  HistoryChunk chunk;
  for (const HistoryEvent& e : events) *chunk.add_events() = e;
  Put(kCfHistory, HistoryKey(case_id, events.front().seq()),
      chunk.SerializeAsString());
}

void Store::Batch::PutTimer(int64_t due_ms, std::string_view case_id,
                            std::string_view timer_id) {
  Put(kCfTimers, TimerKey(due_ms, case_id, timer_id), "");
}

void Store::Batch::DeleteTimer(int64_t due_ms, std::string_view case_id,
                               std::string_view timer_id) {
  Delete(kCfTimers, TimerKey(due_ms, case_id, timer_id));
}

void Store::Batch::PutRequest(std::string_view request_id,
                              std::string_view case_id) {
  Put(kCfRequests, request_id, case_id);
}

void Store::Batch::MarkOpen(std::string_view case_id) {
  Put(kCfOpenCases, case_id, "");
}

void Store::Batch::MarkClosed(std::string_view case_id) {
  Delete(kCfOpenCases, case_id);
}

void Store::Batch::PutWorkflow(const WorkflowRecord& w) {
  Put(kCfDefinitions, DefinitionKey(w.name(), w.version()),
      w.SerializeAsString());
}

void Store::Batch::PutNextSeq(int shard, int64_t next_seq) {
  std::string v;
  AppendBe64(&v, static_cast<uint64_t>(next_seq));
  Put(kCfMeta, SeqKey(shard), v);
}

size_t Store::Batch::bytes() const { return wb_->GetDataSize(); }

void Store::Batch::Clear() {
  wb_->Clear();
  ops_ = 0;
}

// ---- Store ----

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir,
                                                   const StoreOptions& opts) {
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.IncreaseParallelism(2);
  options.max_background_jobs = 2;
  // Many small synced batches: let concurrent writers share a WAL sync.
  options.enable_pipelined_write = true;
  options.write_buffer_size = 32 << 20;
  options.max_total_wal_size = 256 << 20;
  options.keep_log_file_num = 5;

  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_options(options);
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (int i = 0; i < kNumColumnFamilies; ++i) {
    cfs.emplace_back(kColumnFamilies[i], cf_options);
  }
  std::unique_ptr<Store> store(new Store());
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
  s = raw->Get(rocksdb::ReadOptions(), store->cf(kCfMeta), S(kMetaKey), &meta);
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
    absl::Status ps = ParseRecord(meta, &store->meta_, "store metadata");
    if (!ps.ok()) return ps;
    if (store->meta_.format_version() > kFormatVersion) {
      return absl::FailedPreconditionError(
          "store format " + std::to_string(store->meta_.format_version()) +
          " is newer than this build understands (" +
          std::to_string(kFormatVersion) + ")");
    }
  }
  return store;
}

Store::~Store() {
  if (db_) {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close();
  }
}

absl::Status Store::Commit(Batch* batch) {
  if (batch->empty()) return absl::OkStatus();
  rocksdb::WriteOptions wo;
  wo.sync = sync_;
  return FromRocks(db_->Write(wo, batch->wb_.get()), "committing");
}

absl::StatusOr<CaseRecord> Store::GetCase(std::string_view case_id) const {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(kCfCases), S(case_id), &v);
  if (s.IsNotFound()) {
    return absl::NotFoundError("no case " + std::string(case_id));
  }
  if (!s.ok()) return FromRocks(s, "reading case");
  CaseRecord c;
  absl::Status ps = ParseRecord(v, &c, "case");
  if (!ps.ok()) return ps;
  return c;
}

absl::StatusOr<TaskRecord> Store::GetTask(std::string_view case_id,
                                          std::string_view task_id) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(kCfTasks),
                               S(TaskKey(case_id, task_id)), &v);
  if (s.IsNotFound()) return absl::NotFoundError("no such task");
  if (!s.ok()) return FromRocks(s, "reading task");
  TaskRecord t;
  absl::Status ps = ParseRecord(v, &t, "task");
  if (!ps.ok()) return ps;
  return t;
}

absl::StatusOr<std::string> Store::GetRequest(
    std::string_view request_id) const {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(kCfRequests), S(request_id), &v);
  if (s.IsNotFound()) return absl::NotFoundError("unknown request id");
  if (!s.ok()) return FromRocks(s, "reading request id");
  return v;
}

absl::StatusOr<int64_t> Store::GetNextSeq(int shard) const {
  std::string v;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(kCfMeta), S(SeqKey(shard)), &v);
  if (s.IsNotFound()) return 0;
  if (!s.ok()) return FromRocks(s, "reading sequence");
  return static_cast<int64_t>(ReadBe64(v));
}

absl::Status Store::ScanPrefix(
    int cf_id, std::string_view prefix,
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(cf_id)));
  for (it->Seek(S(prefix)); it->Valid(); it->Next()) {
    std::string_view k = V(it->key());
    if (k.substr(0, prefix.size()) != prefix) break;
    if (!fn(k, V(it->value()))) break;
  }
  return FromRocks(it->status(), "scanning");
}

absl::Status Store::ForEachOpenCase(
    const std::function<bool(const CaseRecord&)>& fn) const {
  absl::Status inner = absl::OkStatus();
  absl::Status s = ScanPrefix(kCfOpenCases, "", [&](std::string_view k,
                                                    std::string_view) {
    absl::StatusOr<CaseRecord> c = GetCase(k);
    if (!c.ok()) {
      inner = c.status();
      return false;
    }
    return fn(*c);
  });
  return inner.ok() ? s : inner;
}

absl::Status Store::ForEachTaskOfCase(
    std::string_view case_id,
    const std::function<bool(const TaskRecord&)>& fn) const {
  std::string prefix(case_id);
  prefix.push_back(kSep);
  absl::Status inner = absl::OkStatus();
  absl::Status s =
      ScanPrefix(kCfTasks, prefix, [&](std::string_view, std::string_view v) {
        TaskRecord t;
        inner = ParseRecord(v, &t, "task");
        if (!inner.ok()) return false;
        return fn(t);
      });
  return inner.ok() ? s : inner;
}

absl::Status Store::ForEachTimer(
    const std::function<bool(int64_t, std::string_view, std::string_view)>& fn)
    const {
  return ScanPrefix(kCfTimers, "", [&](std::string_view k, std::string_view) {
    if (k.size() < 9) return true;
    int64_t due = static_cast<int64_t>(ReadBe64(k.substr(0, 8)));
    std::string_view rest = k.substr(8);
    size_t sep = rest.find(kSep);
    if (sep == std::string_view::npos) return true;
    return fn(due, rest.substr(0, sep), rest.substr(sep + 1));
  });
}

absl::Status Store::ForEachWorkflow(
    const std::function<bool(const WorkflowRecord&)>& fn) const {
  absl::Status inner = absl::OkStatus();
  absl::Status s = ScanPrefix(kCfDefinitions, "",
                              [&](std::string_view, std::string_view v) {
                                WorkflowRecord w;
                                inner = ParseRecord(v, &w, "workflow");
                                if (!inner.ok()) return false;
                                return fn(w);
                              });
  return inner.ok() ? s : inner;
}

absl::Status Store::ReadHistory(std::string_view case_id, int64_t after_seq,
                                int limit,
                                std::vector<HistoryEvent>* out) const {
  std::string prefix(case_id);
  prefix.push_back(kSep);
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kCfHistory)));
  // The chunk holding after_seq + 1 starts at or before it.
  it->SeekForPrev(S(HistoryKey(case_id, after_seq + 1)));
  if (!it->Valid() || V(it->key()).substr(0, prefix.size()) != prefix) {
    it->Seek(S(prefix));
  }
  for (; it->Valid(); it->Next()) {
    std::string_view k = V(it->key());
    if (k.substr(0, prefix.size()) != prefix) break;
    HistoryChunk chunk;
    absl::Status ps = ParseRecord(V(it->value()), &chunk, "history");
    if (!ps.ok()) return ps;
    for (HistoryEvent& e : *chunk.mutable_events()) {
      if (e.seq() <= after_seq) continue;
      out->push_back(std::move(e));
      if (limit > 0 && static_cast<int>(out->size()) >= limit) {
        return absl::OkStatus();
      }
    }
  }
  return FromRocks(it->status(), "reading history");
}

absl::Status Store::ScanCasesNewestFirst(
    std::string_view before_id,
    const std::function<bool(const CaseRecord&)>& fn) const {
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(kCfCases)));
  if (before_id.empty()) {
    it->SeekToLast();
  } else {
    it->SeekForPrev(S(before_id));
    if (it->Valid() && V(it->key()) == before_id) it->Prev();
  }
  for (; it->Valid(); it->Prev()) {
    CaseRecord c;
    absl::Status ps = ParseRecord(V(it->value()), &c, "case");
    if (!ps.ok()) return ps;
    if (!fn(c)) break;
  }
  return FromRocks(it->status(), "listing cases");
}

}  // namespace onewindow::store
