#include "engine/store/records.h"

#include <google/protobuf/io/coded_stream.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <set>

#include "engine/core/execution.h"
#include "nlohmann/json.hpp"

namespace onewindow::store {
namespace {

template <typename M>
absl::Status Parse(std::string_view bytes, M* out, std::string_view what) {
  if (!out->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(std::string("cannot decode stored ") +
                               std::string(what));
  }
  return absl::OkStatus();
}

template <typename M>
absl::StatusOr<M> GetRecord(const Store& s, int cf, std::string_view key,
                            std::string_view what) {
  absl::StatusOr<std::string> v = s.Get(cf, key);
  if (!v.ok()) {
    if (v.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("no " + std::string(what) + " " +
                                 std::string(key));
    }
    return v.status();
  }
  M m;
  if (absl::Status ps = Parse(*v, &m, what); !ps.ok()) return ps;
  return m;
}

std::string Quote(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Builds {"k": raw, ...} from already-serialized JSON values.
class ObjectText {
 public:
  ObjectText& Raw(std::string_view key, std::string_view raw_json) {
    out_ += out_.empty() ? "{" : ",";
    out_ += Quote(key);
    out_ += ':';
    out_ += raw_json.empty() ? "null" : raw_json;
    return *this;
  }
  ObjectText& Str(std::string_view key, std::string_view value) {
    return Raw(key, Quote(value));
  }
  ObjectText& Num(std::string_view key, int64_t v) {
    return Raw(key, std::to_string(v));
  }
  std::string Done() { return out_.empty() ? "{}" : out_ + "}"; }

 private:
  std::string out_;
};

std::string ErrorText(const StoredEvent& e) {
  ObjectText o;
  if (e.has_error()) o.Str("Error", e.error());
  if (e.has_cause()) o.Str("Cause", e.cause());
  return o.Done();
}

void AppendNewest(std::string* k, int64_t created_ms) {
  AppendBe64(k, Newest(created_ms));
}

}  // namespace

// ---- writes ----

void PutCase(Store::Batch* b, const CaseRecord& c) {
  b->Put(kCfCases, c.id(), c.SerializeAsString());
}

void PutTask(Store::Batch* b, const TaskRecord& t) {
  b->Put(kCfTasks, TaskKey(t.case_id(), t.task_id()), t.SerializeAsString());
}

void PutHistory(Store::Batch* b, std::string_view case_id,
                const std::vector<StoredEvent>& events) {
  std::vector<std::string> wire;
  wire.reserve(events.size());
  for (const StoredEvent& e : events) wire.push_back(e.SerializeAsString());
  PutSealedHistory(b, case_id, events, wire);
}

void PutSealedHistory(Store::Batch* b, std::string_view case_id,
                      const std::vector<StoredEvent>& events,
                      const std::vector<std::string>& wire) {
  // Each row is written as HistoryChunk's wire form (field `stored`, one
  // length-delimited entry per event) straight from the events' bytes,
  // without copying them into a chunk first: the same bytes.
  constexpr uint8_t kStoredTag = (2 << 3) | 2;
  std::string row;
  for (size_t i = 0; i < events.size(); i += kEventsPerRow) {
    row.clear();
    const size_t end = std::min(events.size(), i + kEventsPerRow);
    for (size_t j = i; j < end; ++j) {
      uint8_t head[1 + 10];
      head[0] = kStoredTag;
      uint8_t* p =
          google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
              static_cast<uint32_t>(wire[j].size()), head + 1);
      row.append(reinterpret_cast<const char*>(head),
                 static_cast<size_t>(p - head));
      row += wire[j];
    }
    b->Put(kCfHistory, HistoryKey(case_id, events[i].seq()), row);
  }
}

void PutTimer(Store::Batch* b, int64_t due_ms, std::string_view case_id,
              std::string_view timer_id) {
  b->Put(kCfTimers, TimerKey(due_ms, case_id, timer_id), "");
}

void DeleteTimer(Store::Batch* b, int64_t due_ms, std::string_view case_id,
                 std::string_view timer_id) {
  b->Delete(kCfTimers, TimerKey(due_ms, case_id, timer_id));
}

void PutRequest(Store::Batch* b, std::string_view request_id,
                const RequestRecord& r) {
  b->Put(kCfRequests, request_id, r.SerializeAsString());
}

void MarkOpen(Store::Batch* b, std::string_view case_id) {
  b->Put(kCfOpenCases, case_id, "");
}

void MarkClosed(Store::Batch* b, std::string_view case_id) {
  b->Delete(kCfOpenCases, case_id);
}

void PutWorkflow(Store::Batch* b, const WorkflowRecord& w) {
  b->Put(kCfDefinitions, DefinitionKey(w.name(), w.version()),
         w.SerializeAsString());
}

void PutCheckpoint(Store::Batch* b, std::string_view case_id,
                   const ExecutionCheckpoint& cp) {
  b->Put(kCfCheckpoints, case_id, cp.SerializeAsString());
}

void DeleteCheckpoint(Store::Batch* b, std::string_view case_id) {
  b->Delete(kCfCheckpoints, case_id);
}

void PutQueued(Store::Batch* b, std::string_view department, int64_t seq,
               std::string_view case_id, std::string_view task_id) {
  b->Put(kCfTaskQueue, TaskQueueKey(department, seq),
         TaskKey(case_id, task_id));
}

void DeleteQueued(Store::Batch* b, std::string_view department, int64_t seq) {
  b->Delete(kCfTaskQueue, TaskQueueKey(department, seq));
}

void PutBe64(Store::Batch* b, int cf, std::string_view key, int64_t value) {
  b->Put(cf, key, Be64(static_cast<uint64_t>(value)));
}

// ---- reads ----

absl::StatusOr<CaseRecord> GetCase(const Store& s, std::string_view case_id) {
  return GetRecord<CaseRecord>(s, kCfCases, case_id, "case");
}

absl::StatusOr<TaskRecord> GetTask(const Store& s, std::string_view case_id,
                                   std::string_view task_id) {
  return GetRecord<TaskRecord>(s, kCfTasks, TaskKey(case_id, task_id),
                               "task");
}

absl::StatusOr<RequestRecord> GetRequest(const Store& s,
                                         std::string_view request_id) {
  absl::StatusOr<std::string> v = s.Get(kCfRequests, request_id);
  if (!v.ok()) return v.status();
  RequestRecord r;
  // Layout 1 stored the case id as text ("OW-..."): 'O' is not a valid
  // protobuf tag byte, so such a row never parses as a record.
  if (!r.ParseFromString(*v) || r.case_id().empty()) {
    r.Clear();
    r.set_case_id(*v);
  }
  return r;
}

absl::StatusOr<ExecutionCheckpoint> GetCheckpoint(const Store& s,
                                                  std::string_view case_id) {
  return GetRecord<ExecutionCheckpoint>(s, kCfCheckpoints, case_id,
                                        "checkpoint");
}

absl::StatusOr<int64_t> GetBe64(const Store& s, int cf, std::string_view key,
                                int64_t dflt) {
  absl::StatusOr<std::string> v = s.Get(cf, key);
  if (!v.ok()) {
    if (v.status().code() == absl::StatusCode::kNotFound) return dflt;
    return v.status();
  }
  return static_cast<int64_t>(ReadBe64(*v));
}

absl::Status ForEachOpenCase(const Store& s,
                             const std::function<bool(std::string_view)>& fn) {
  return s.Scan(kCfOpenCases, "", "", false,
                [&](std::string_view k, std::string_view) { return fn(k); });
}

absl::Status ForEachTaskOfCase(
    const Store& s, std::string_view case_id,
    const std::function<bool(const TaskRecord&)>& fn) {
  absl::Status inner = absl::OkStatus();
  absl::Status st = s.ScanPrefix(
      kCfTasks, CasePrefix(case_id), false,
      [&](std::string_view, std::string_view v) {
        TaskRecord t;
        inner = Parse(v, &t, "task");
        if (!inner.ok()) return false;
        return fn(t);
      });
  return inner.ok() ? st : inner;
}

absl::Status ForEachTimer(
    const Store& s,
    const std::function<bool(int64_t, std::string_view, std::string_view)>&
        fn) {
  return s.Scan(kCfTimers, "", "", false,
                [&](std::string_view k, std::string_view) {
                  if (k.size() < 9) return true;
                  int64_t due = static_cast<int64_t>(ReadBe64(k.substr(0, 8)));
                  std::string_view rest = k.substr(8);
                  size_t sep = rest.find(kSep);
                  if (sep == std::string_view::npos) return true;
                  return fn(due, rest.substr(0, sep), rest.substr(sep + 1));
                });
}

absl::Status ForEachWorkflow(
    const Store& s, const std::function<bool(const WorkflowRecord&)>& fn) {
  absl::Status inner = absl::OkStatus();
  absl::Status st = s.Scan(kCfDefinitions, "", "", false,
                           [&](std::string_view, std::string_view v) {
                             WorkflowRecord w;
                             inner = Parse(v, &w, "workflow");
                             if (!inner.ok()) return false;
                             return fn(w);
                           });
  return inner.ok() ? st : inner;
}

absl::Status ForEachQueued(
    const Store& s, std::string_view department, int64_t after_seq,
    const std::function<bool(int64_t, std::string_view, std::string_view)>&
        fn) {
  std::string prefix(department);
  prefix.push_back(kSep);
  std::string start = TaskQueueKey(department, after_seq + 1);
  return s.Scan(kCfTaskQueue, start, PrefixEnd(prefix), false,
                [&](std::string_view k, std::string_view v) {
                  if (k.size() != prefix.size() + 8) return true;
                  int64_t seq =
                      static_cast<int64_t>(ReadBe64(k.substr(prefix.size())));
                  size_t sep = v.find(kSep);
                  if (sep == std::string_view::npos) return true;
                  return fn(seq, v.substr(0, sep), v.substr(sep + 1));
                });
}

namespace {

// Visits the history rows of a case that may hold events after `after_seq`.
absl::Status ForEachRow(
    const Store& s, std::string_view case_id, int64_t after_seq,
    const std::function<bool(HistoryChunk&)>& fn) {
  const std::string prefix = CasePrefix(case_id);
  // The row holding after_seq + 1 starts at or before it: find the last
  // row key <= HistoryKey(after_seq + 1).
  std::string start = prefix;
  if (after_seq > 0) {
    const std::string target = HistoryKey(case_id, after_seq + 1);
    std::string found;
    absl::Status st = s.Scan(kCfHistory, prefix, target + '\x01', true,
                             [&](std::string_view k, std::string_view) {
                               found = std::string(k);
                               return false;
                             });
    if (!st.ok()) return st;
    if (!found.empty()) start = found;
  }
  absl::Status inner = absl::OkStatus();
  absl::Status st = s.Scan(kCfHistory, start, PrefixEnd(prefix), false,
                           [&](std::string_view, std::string_view v) {
                             HistoryChunk chunk;
                             inner = Parse(v, &chunk, "history");
                             if (!inner.ok()) return false;
                             return fn(chunk);
                           });
  return inner.ok() ? st : inner;
}

}  // namespace

absl::Status ForEachStoredEvent(const Store& s, std::string_view case_id,
                                int64_t after_seq,
                                const std::function<bool(StoredEvent&)>& fn) {
  bool stop = false;
  return ForEachRow(s, case_id, after_seq, [&](HistoryChunk& chunk) {
    for (StoredEvent& e : *chunk.mutable_stored()) {
      if (e.seq() <= after_seq) continue;
      if (!fn(e)) {
        stop = true;
        break;
      }
    }
    return !stop;
  });
}

absl::Status ReadHistory(const Store& s, std::string_view case_id,
                         int64_t after_seq, int limit,
                         std::vector<HistoryEvent>* out, bool* more) {
  *more = false;
  const size_t want = limit <= 0 ? SIZE_MAX : static_cast<size_t>(limit);
  size_t got = 0;
  return ForEachRow(s, case_id, after_seq, [&](HistoryChunk& chunk) {
    for (HistoryEvent& e : *chunk.mutable_events()) {
      if (e.seq() <= after_seq) continue;
      if (got == want) {
        *more = true;
        return false;
      }
      out->push_back(std::move(e));
      ++got;
    }
    for (const StoredEvent& e : chunk.stored()) {
      if (e.seq() <= after_seq) continue;
      if (got == want) {
        *more = true;
        return false;
      }
      out->push_back(ToApiEvent(e));
      ++got;
    }
    return true;
  });
}

absl::StatusOr<StoredEvent> GetFirstEvent(const Store& s,
                                          std::string_view case_id) {
  absl::StatusOr<std::string> v = s.Get(kCfHistory, HistoryKey(case_id, 1));
  if (!v.ok()) return v.status();
  HistoryChunk chunk;
  if (absl::Status ps = Parse(*v, &chunk, "history"); !ps.ok()) return ps;
  if (chunk.stored_size() == 0) {
    return absl::NotFoundError("case " + std::string(case_id) +
                               " has no layout 2 history");
  }
  return chunk.stored(0);
}

// ---- events ----

HistoryEvent ToApiEvent(const StoredEvent& e) {
  using namespace onewindow::store::v1;
  HistoryEvent out;
  out.set_seq(e.seq());
  out.set_at_ms(e.at_ms());
  out.set_type(std::string(core::EventTypeName(e.type())));
  out.set_state(e.state());
  out.set_task_id(e.task_id());
  out.set_actor(e.actor().empty() ? "engine" : e.actor());
  out.set_actor_role(e.actor_role().empty() ? "engine" : e.actor_role());
  out.set_hash(Hex(e.hash()));
  ObjectText d;
  bool has = true;
  switch (e.type()) {
    case EXECUTION_STARTED:
      d.Raw("input", e.value_json());
      break;
    case EXECUTION_SUCCEEDED:
      d.Raw("output", e.value_json());
      break;
    case TASK_SUCCEEDED:
      d.Raw("output", e.value_json());
      break;
    case EXECUTION_FAILED:
    case STATE_FAILED:
    case TASK_FAILED:
    case TASK_TIMED_OUT:
      d.Raw("error", ErrorText(e));
      break;
    case EXECUTION_CANCELLED:
      d.Str("reason", e.cause());
      break;
    case STATE_RETRY_SCHEDULED:
      d.Num("retrier", e.index()).Num("attempt", e.attempt()).Num("delay_ms",
                                                                  e.number());
      break;
    case STATE_CAUGHT:
      d.Num("catcher", e.index()).Str("next", e.text());
      break;
    case TASK_SCHEDULED:
      d.Str("resource", e.text()).Raw("input", e.value_json());
      break;
    case TASK_REDELIVERED:
      d.Num("attempt", e.attempt()).Str("reason", e.text());
      break;
    case WAIT_STARTED:
      d.Num("due_ms", e.number());
      break;
    case PARALLEL_STARTED:
      d.Num("branches", e.number());
      break;
    case MAP_STARTED:
      d.Num("items", e.number());
      break;
    case PARALLEL_BRANCH_STARTED:
    case PARALLEL_BRANCH_SUCCEEDED:
    case MAP_ITERATION_STARTED:
    case MAP_ITERATION_SUCCEEDED:
      d.Num("index", e.index());
      break;
    case PARALLEL_BRANCH_FAILED:
    case MAP_ITERATION_FAILED:
      d.Num("index", e.index()).Raw("error", ErrorText(e));
      break;
    case TIMER_FIRED:
      d.Str("timer", e.text());
      break;
    case CASE_OVERDUE:
      d.Str("due_date", e.text()).Num("due_ms", e.number());
      break;
    case TASK_OVERDUE:
      d.Num("due_ms", e.number());
      break;
    case DOCUMENTS_ADDED: {
      std::string arr = "[";
      for (int i = 0; i < e.documents_size(); ++i) {
        const auto& doc = e.documents(i);
        if (i > 0) arr += ",";
        arr += ObjectText()
                   .Str("id", doc.id())
                   .Str("name", doc.name())
                   .Str("media_type", doc.media_type())
                   .Num("size_bytes", doc.size_bytes())
                   .Str("sha256", doc.sha256())
                   .Done();
      }
      arr += "]";
      d.Raw("documents", arr);
      break;
    }
    case CASE_MIGRATED:
      d.Num("from_version", e.number()).Num("to_version", e.version());
      break;
    case EXECUTION_CONTINUED:
      d.Num("launched", e.number());
      break;
    case VARIABLES_ASSIGNED:
      d.Raw("variables", e.value_json());
      break;
    default:
      has = false;
      break;
  }
  if (has) out.set_details_json(d.Done());
  return out;
}

namespace {

// SHA-256 through one fetched algorithm and one context per thread: the
// one-shot SHA256() looks the algorithm up again on every call, which cost
// more than hashing an event.
class Sha256 {
 public:
  Sha256()
      : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {}
  ~Sha256() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Hash of a || b; false when the library refuses (never expected).
  bool Digest(std::string_view a, std::string_view b,
              unsigned char out[kHashBytes]) {
    unsigned int n = 0;
    return md_ != nullptr && ctx_ != nullptr &&
           EVP_DigestInit_ex(ctx_, md_, nullptr) == 1 &&
           EVP_DigestUpdate(ctx_, a.data(), a.size()) == 1 &&
           EVP_DigestUpdate(ctx_, b.data(), b.size()) == 1 &&
           EVP_DigestFinal_ex(ctx_, out, &n) == 1 && n == kHashBytes;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

// SHA-256(prev || body), prev being 32 zero bytes when empty.
std::string DigestAfter(std::string_view prev, std::string_view body) {
  static const std::string kZero(kHashBytes, '\0');
  thread_local Sha256 sha;
  unsigned char md[kHashBytes];
  const std::string_view head =
      prev.size() == kHashBytes ? prev : std::string_view(kZero);
  if (!sha.Digest(head, body, md)) {
    // Fall back on the one-shot call rather than chain a wrong hash.
    std::string buf(head);
    buf += body;
    SHA256(reinterpret_cast<const unsigned char*>(buf.data()), buf.size(), md);
  }
  return std::string(reinterpret_cast<const char*>(md), sizeof(md));
}

}  // namespace

std::string ChainHash(std::string_view prev, const StoredEvent& e) {
  thread_local std::string body;
  body.clear();
  if (e.hash().empty()) {
    e.AppendToString(&body);
  } else {
    StoredEvent copy = e;
    copy.clear_hash();
    copy.AppendToString(&body);
  }
  std::string hash = DigestAfter(prev, body);
  if (body.capacity() > (1 << 20)) std::string().swap(body);
  return hash;
}

std::string SealEvent(std::string_view prev, StoredEvent* e) {
  e->clear_hash();
  constexpr size_t kHashFieldBytes = 3 + kHashBytes;
  const size_t n = e->ByteSizeLong();
  std::string wire;
  wire.reserve(n + kHashFieldBytes);
  wire.resize(n);
  e->SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(wire.data()));
  e->set_hash(DigestAfter(prev, wire));
  // `hash` has the highest field number, so protobuf writes it last: the
  // event's bytes are the bytes hashed followed by that one field.
  // (StoreTest.SealedEventsAreTheBytesAndHashOfTheEvent holds it to that.)
  constexpr uint32_t kTag = (StoredEvent::kHashFieldNumber << 3) | 2;
  static_assert(kTag >= 0x80 && kTag < 0x4000, "a two-byte tag");
  constexpr uint8_t kHashField[] = {(kTag & 0x7f) | 0x80, kTag >> 7,
                                    kHashBytes};
  wire.append(reinterpret_cast<const char*>(kHashField), sizeof(kHashField));
  wire += e->hash();
  return wire;
}

// ---- indexes ----

namespace {

// The keys that depend on the case's status, service, applicant and
// creation time: they change only when its status does.
void StatusIndexKeys(const CaseRecord& c, std::vector<std::string>* keys) {
  const char status = static_cast<char>(c.status());
  const int64_t created = c.created_at_ms();
  {
    std::string k(1, kIdxCreated);
    AppendNewest(&k, created);
    k += c.id();
    keys->push_back(std::move(k));
  }
  {
    std::string k(1, kIdxStatus);
    k.push_back(status);
    AppendNewest(&k, created);
    k += c.id();
    keys->push_back(std::move(k));
  }
  {
    std::string k(1, kIdxService);
    k += c.service();
    k.push_back(kSep);
    AppendNewest(&k, created);
    k += c.id();
    keys->push_back(std::move(k));
  }
  {
    std::string k(1, kIdxStatusService);
    k.push_back(status);
    k += c.service();
    k.push_back(kSep);
    AppendNewest(&k, created);
    k += c.id();
    keys->push_back(std::move(k));
  }
  if (!c.applicant().empty()) {
    std::string k(1, kIdxApplicant);
    k += c.applicant();
    k.push_back(kSep);
    k.push_back(status);
    AppendNewest(&k, created);
    k += c.id();
    keys->push_back(std::move(k));
  }
}

// The keys of a running case's open departments and deadline: they change
// as its tasks open and close.
void RunningIndexKeys(const CaseRecord& c, std::vector<std::string>* keys) {
  if (c.status() != onewindow::v1::CASE_STATUS_RUNNING) return;
  const int64_t created = c.created_at_ms();
  for (const std::string& d : c.open_departments()) {
    std::string k(1, kIdxDepartment);
    k += d;
    k.push_back(kSep);
    AppendNewest(&k, created);
    k += c.id();
    keys->push_back(std::move(k));
  }
  if (c.due_at_ms() > 0) {
    std::string k(1, kIdxDue);
    AppendBe64(&k, static_cast<uint64_t>(c.due_at_ms()));
    k += c.id();
    keys->push_back(std::move(k));
  }
}

bool SameStatusKeys(const CaseRecord& a, const CaseRecord& b) {
  return a.status() == b.status() && a.created_at_ms() == b.created_at_ms() &&
         a.id() == b.id() && a.service() == b.service() &&
         a.applicant() == b.applicant();
}

bool SameRunningKeys(const CaseRecord& a, const CaseRecord& b) {
  const bool ra = a.status() == onewindow::v1::CASE_STATUS_RUNNING;
  const bool rb = b.status() == onewindow::v1::CASE_STATUS_RUNNING;
  if (!ra && !rb) return true;
  return ra == rb && a.created_at_ms() == b.created_at_ms() &&
         a.id() == b.id() && a.due_at_ms() == b.due_at_ms() &&
         std::equal(a.open_departments().begin(), a.open_departments().end(),
                    b.open_departments().begin(), b.open_departments().end());
}

void WriteKeyChanges(Store::Batch* b, std::vector<std::string> was,
                     std::vector<std::string> now) {
  std::sort(now.begin(), now.end());
  std::sort(was.begin(), was.end());
  std::vector<std::string> gone, added;
  std::set_difference(was.begin(), was.end(), now.begin(), now.end(),
                      std::back_inserter(gone));
  std::set_difference(now.begin(), now.end(), was.begin(), was.end(),
                      std::back_inserter(added));
  for (const std::string& k : gone) b->Delete(kCfIndexes, k);
  for (const std::string& k : added) b->Put(kCfIndexes, k, "");
}

}  // namespace

std::vector<std::string> IndexKeys(const CaseRecord& c) {
  std::vector<std::string> keys;
  StatusIndexKeys(c, &keys);
  RunningIndexKeys(c, &keys);
  return keys;
}

void UpdateIndexes(Store::Batch* b, const CaseRecord* before,
                   const CaseRecord& after) {
  if (before == nullptr) {
    for (const std::string& k : IndexKeys(after)) b->Put(kCfIndexes, k, "");
    return;
  }
  // Most writes of a running case change only its open departments, or
  // nothing an index holds: only the keys that can differ are built.
  if (!SameStatusKeys(*before, after)) {
    std::vector<std::string> was, now;
    StatusIndexKeys(*before, &was);
    StatusIndexKeys(after, &now);
    WriteKeyChanges(b, std::move(was), std::move(now));
  }
  if (!SameRunningKeys(*before, after)) {
    std::vector<std::string> was, now;
    RunningIndexKeys(*before, &was);
    RunningIndexKeys(after, &now);
    WriteKeyChanges(b, std::move(was), std::move(now));
  }
}

std::string CaseIdOfIndexKey(std::string_view key) {
  if (key.empty()) return "";
  size_t pos = 0;
  switch (key[0]) {
    case kIdxCreated:
      pos = 1 + 8;
      break;
    case kIdxStatus:
      pos = 1 + 1 + 8;
      break;
    case kIdxDue:
      pos = 1 + 8;
      break;
    case kIdxService:
    case kIdxDepartment: {
      size_t sep = key.find(kSep, 1);
      if (sep == std::string_view::npos) return "";
      pos = sep + 1 + 8;
      break;
    }
    case kIdxStatusService: {
      size_t sep = key.find(kSep, 2);
      if (sep == std::string_view::npos) return "";
      pos = sep + 1 + 8;
      break;
    }
    case kIdxApplicant: {
      size_t sep = key.find(kSep, 1);
      if (sep == std::string_view::npos) return "";
      pos = sep + 1 + 1 + 8;
      break;
    }
    default:
      return "";
  }
  if (pos >= key.size()) return "";
  return std::string(key.substr(pos));
}

std::string CaseCounterKey(std::string_view service, int status, int shard) {
  std::string k(1, kCtrCases);
  k += service;
  k.push_back(kSep);
  k.push_back(static_cast<char>(status));
  k.push_back(static_cast<char>(shard));
  return k;
}

std::string CompletedCounterKey(int64_t hour_start_ms, int shard) {
  std::string k(1, kCtrCompleted);
  AppendBe64(&k, static_cast<uint64_t>(hour_start_ms));
  k.push_back(static_cast<char>(shard));
  return k;
}

std::string OverdueCounterKey(std::string_view service, int shard) {
  std::string k(1, kCtrOverdue);
  k += service;
  k.push_back(kSep);
  k.push_back(static_cast<char>(shard));
  return k;
}

std::string OpenTasksCounterKey(std::string_view department, int shard) {
  std::string k(1, kCtrOpenTasks);
  k += department;
  k.push_back(kSep);
  k.push_back(static_cast<char>(shard));
  return k;
}

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace onewindow::store
