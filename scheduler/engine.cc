#include "scheduler/engine.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>

#include "engine/store/records.h"
#include "scheduler/payload.h"
#include "scheduler/shard.h"
#include "scheduler/thread_name.h"

namespace onewindow::scheduler {

using nlohmann::json;
namespace sv1 = onewindow::store::v1;

namespace {

std::string Sha256(std::string_view bytes) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         md);
  return std::string(reinterpret_cast<const char*>(md), sizeof(md));
}

// A digest of what a submission asks for: reusing its request id for
// anything else is refused.
std::string RequestDigest(const onewindow::v1::SubmitCaseRequest& r) {
  std::string all = r.service();
  all.push_back('\0');
  all += std::to_string(r.version());
  all.push_back('\0');
  all += r.input_json();
  for (const auto& d : r.documents()) {
    all.push_back('\0');
    all += d.id() + "\n" + d.sha256();
  }
  return Sha256(all);
}

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateDocument(const onewindow::v1::DocumentRef& d,
                              const std::string& at) {
  auto bad = [&](const std::string& field, const std::string& what) {
    return absl::InvalidArgumentError(at + "." + field + ": " + what);
  };
  if (d.id().empty()) return bad("id", "required");
  if (d.id().size() > 256) return bad("id", "at most 256 bytes");
  if (d.name().empty()) return bad("name", "required");
  if (d.name().size() > 256) return bad("name", "at most 256 bytes");
  if (d.media_type().empty() || d.media_type().find('/') == std::string::npos) {
    return bad("media_type", "required, a media type such as application/pdf");
  }
  if (d.media_type().size() > 128) return bad("media_type", "at most 128 bytes");
  if (d.size_bytes() < 0) return bad("size_bytes", "required, >= 0");
  if (d.sha256().empty()) {
    return bad("sha256", "required: the document's SHA-256 (64 hex digits)");
  }
  if (!IsHex64(d.sha256())) {
    return bad("sha256", "must be 64 lower-case hex digits");
  }
  for (const std::string* s : {&d.id(), &d.name(), &d.media_type()}) {
    for (unsigned char c : *s) {
      if (c < 0x20) return bad("id/name/media_type", "control characters");
    }
  }
  return absl::OkStatus();
}

onewindow::v1::Case ToApiCase(const store::CaseRecord& c) {
  onewindow::v1::Case out;
  out.set_id(c.id());
  out.set_service(c.service());
  out.set_version(c.version());
  out.set_status(c.status());
  out.set_input_json(c.input_json());
  out.set_output_json(c.output_json());
  out.set_error(c.error());
  out.set_cause(c.cause());
  out.set_request_id(c.request_id());
  out.set_created_at_ms(c.created_at_ms());
  out.set_updated_at_ms(c.updated_at_ms());
  for (const auto& s : c.current_states()) out.add_current_states(s);
  for (const auto& d : c.open_departments()) out.add_open_departments(d);
  out.set_due_date(c.due_date());
  out.set_due_at_ms(c.due_at_ms());
  out.set_overdue(c.overdue());
  for (const auto& d : c.documents()) *out.add_documents() = d;
  out.set_submitted_by(c.submitted_by());
  out.set_ended_at_ms(c.ended_at_ms());
  out.set_ended_by(c.ended_by());
  out.set_history_seq(c.history_seq());
  return out;
}

Engine::Engine(EngineOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &system_clock_) {}

Engine::~Engine() {
  Shutdown();
  shards_.clear();
  dispatcher_.reset();
}

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(EngineOptions options) {
  std::unique_ptr<Engine> e(new Engine(std::move(options)));
  const auto t0 = std::chrono::steady_clock::now();
  if (e->options_.store != nullptr) {
    e->store_ = std::move(e->options_.store);
  } else {
    store::StoreOptions so;
    so.shards = e->options_.shards;
    so.sync = e->options_.sync;
    so.now_ms = e->clock_->NowMs();
    std::error_code ec;
    std::filesystem::create_directories(e->options_.data_dir, ec);
    auto st = store::OpenRocksStore(e->options_.data_dir, so);
    if (!st.ok()) return st.status();
    e->store_ = std::move(*st);
  }
  e->registry_ = std::make_unique<WorkflowRegistry>(
      e->store_.get(), e->options_.rules_factory, e->options_.asl_limits);
  Engine* raw = e.get();
  e->dispatcher_ = std::make_unique<Dispatcher>(
      e->clock_, [raw](const onewindow::v1::Task& t) { raw->Redeliver(t); },
      [raw](const std::string& dept, int64_t after, int max,
            std::vector<QueuedTask>* out, int64_t* scanned_to) {
        return raw->LoadQueued(dept, after, max, out, scanned_to);
      },
      e->options_.max_ready_per_department);
  const int n = e->store_->meta().shards();
  e->next_queue_seq_ = e->clock_->NowMs() << 12;
  Shard::Deps deps{e->store_.get(),
                   e->registry_.get(),
                   e->dispatcher_.get(),
                   &e->watch_,
                   e->clock_,
                   &e->options_,
                   [raw] { return raw->NextQueueSeq(); },
                   &e->commit_seconds_,
                   &e->commit_commands_};
  for (int i = 0; i < n; ++i) {
    e->shards_.push_back(std::make_unique<Shard>(i, n, deps));
  }
  if (absl::Status s = e->Recover(); !s.ok()) return s;
  e->dispatcher_->Start();
  for (auto& s : e->shards_) s->Start();
  for (int i = 0; i < std::max(1, e->options_.reader_threads); ++i) {
    e->readers_.emplace_back([raw] {
      NameThisThread("ow-reader");
      raw->ReaderLoop();
    });
  }
  e->recovery_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
  // (Cases load when first needed: recovery reads only timers and counts.)
  spdlog::info("store {}: {} shards, {} open cases recovered in {} ms",
               e->options_.data_dir, e->shards_.size(), e->open_at_start_,
               e->recovery_ms_);
  return e;
}

int64_t Engine::NextQueueSeq() {
  const int64_t floor = clock_->NowMs() << 12;
  int64_t cur = next_queue_seq_.load();
  for (;;) {
    const int64_t next = std::max(cur + 1, floor);
    if (next_queue_seq_.compare_exchange_weak(cur, next)) return next;
  }
}

absl::Status Engine::Recover() {
  if (absl::Status s = registry_->Load(); !s.ok()) return s;
  if (absl::Status s = UpgradeQueues(); !s.ok()) return s;
  for (auto& s : shards_) {
    if (absl::Status st = s->LoadCounters(); !st.ok()) return st;
    open_at_start_ += s->open_cases();
  }
  // One scan of the timer rows; each goes to the shard of its case.
  absl::Status s = store::ForEachTimer(
      *store_, [&](int64_t due, std::string_view case_id,
                   std::string_view timer_id) {
        absl::StatusOr<CaseNumber> n = ParseCaseNumber(case_id);
        if (!n.ok()) return true;
        ShardFor(*n)->AddTimer(due, std::string(case_id),
                               std::string(timer_id));
        return true;
      });
  if (!s.ok()) return s;
  // Departments with queued tasks: their tasks come in from the store as
  // workers ask.
  std::vector<std::string> departments;
  std::string from;
  for (;;) {
    std::string found;
    absl::Status st = store_->Scan(store::kCfTaskQueue, from, "", false,
                                   [&](std::string_view k, std::string_view) {
                                     found = std::string(k);
                                     return false;
                                   });
    if (!st.ok()) return st;
    if (found.empty()) break;
    const size_t sep = found.find(store::kSep);
    if (sep == std::string::npos) break;
    departments.push_back(found.substr(0, sep));
    from = store::PrefixEnd(found.substr(0, sep + 1));
    if (from.empty()) break;
  }
  dispatcher_->MarkStored(departments);
  return absl::OkStatus();
}

// Layout 1 kept open tasks without queue rows: give them one, once.
absl::Status Engine::UpgradeQueues() {
  absl::StatusOr<std::string> done =
      store_->Get(store::kCfMeta, store::kQueueUpgradeKey);
  if (done.ok()) return absl::OkStatus();
  if (done.status().code() != absl::StatusCode::kNotFound) return done.status();
  std::unique_ptr<store::Store::Batch> b = store_->NewBatch();
  int64_t n = 0;
  absl::Status inner = absl::OkStatus();
  absl::Status s = store::ForEachOpenCase(*store_, [&](std::string_view id) {
    inner = store::ForEachTaskOfCase(
        *store_, id, [&](const store::TaskRecord& t) {
          if ((t.state() == sv1::TASK_STATE_READY ||
               t.state() == sv1::TASK_STATE_LEASED) &&
              t.queue_seq() == 0) {
            store::TaskRecord u = t;
            u.set_queue_seq(NextQueueSeq());
            store::PutTask(b.get(), u);
            store::PutQueued(b.get(), u.department(), u.queue_seq(),
                             u.case_id(), u.task_id());
            ++n;
          }
          return true;
        });
    return inner.ok();
  });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  b->Put(store::kCfMeta, store::kQueueUpgradeKey, "1");
  if (absl::Status c = store_->Commit(b.get()); !c.ok()) return c;
  if (n > 0) spdlog::info("store upgraded: {} open tasks queued", n);
  return absl::OkStatus();
}

void Engine::Shutdown() {
  if (shut_down_.exchange(true)) return;
  for (auto& s : shards_) s->Stop();
  if (dispatcher_) dispatcher_->Stop();
  {
    std::lock_guard lock(reader_mu_);
    readers_stopping_ = true;
  }
  reader_cv_.notify_all();
  for (auto& t : readers_) {
    if (t.joinable()) t.join();
  }
  // Shards and store stay allocated until the destructor: a late call finds
  // stopped shards (UNAVAILABLE), never freed ones.
}

EngineStats Engine::stats() const {
  EngineStats st;
  for (const auto& s : shards_) {
    st.commits += s->commits();
    st.committed_commands += s->committed_commands();
    st.max_batch_commands =
        std::max(st.max_batch_commands, s->max_batch_commands());
    st.commit_failures += s->commit_failures();
    st.commit_window_waits += s->window_waits();
    st.open_cases += s->open_cases();
    st.resident_cases += s->resident_cases();
    st.loaded_cases += s->loaded_cases();
    st.replayed_commands += s->replayed_commands();
    st.queued_commands += s->queued();
    st.timers += s->timers();
  }
  st.recovery_ms = recovery_ms_;
  st.open_cases_at_start = open_at_start_;
  return st;
}

Shard* Engine::ShardFor(const CaseNumber& n) const {
  return shards_[static_cast<size_t>(
                     ShardOf(n, static_cast<int>(shards_.size())))]
      .get();
}

absl::StatusOr<std::string> Engine::CheckCaseId(const std::string& case_id) {
  if (case_id.empty()) return absl::InvalidArgumentError("case_id: required");
  absl::StatusOr<CaseNumber> n = ParseCaseNumber(case_id);
  if (!n.ok()) return n.status();
  return CanonicalCaseId(*n);
}

absl::StatusOr<Shard*> Engine::ShardForCaseId(const std::string& case_id,
                                              std::string* canonical) const {
  if (case_id.empty()) return absl::InvalidArgumentError("case_id: required");
  absl::StatusOr<CaseNumber> n = ParseCaseNumber(case_id);
  if (!n.ok()) return n.status();
  *canonical = CanonicalCaseId(*n);
  return ShardFor(*n);
}

// ---- readers -----------------------------------------------------------

void Engine::RunOnReader(std::function<void()> fn) {
  {
    std::lock_guard lock(reader_mu_);
    if (!readers_stopping_) {
      reader_queue_.push_back(std::move(fn));
      reader_cv_.notify_one();
      return;
    }
  }
  fn();  // shutting down: run here rather than drop the caller's reply
}

void Engine::ReaderLoop() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(reader_mu_);
      reader_cv_.wait(lock, [&] {
        return readers_stopping_ || !reader_queue_.empty();
      });
      if (reader_queue_.empty()) return;
      fn = std::move(reader_queue_.front());
      reader_queue_.pop_front();
    }
    fn();
  }
}

// ---- cases -------------------------------------------------------------

void Engine::SubmitCase(const onewindow::v1::SubmitCaseRequest& request,
                        const Actor& actor, Done<SubmitResult> done) {
  if (shut_down_) {
    done(absl::UnavailableError("the engine is shutting down"));
    return;
  }
  if (request.service().empty()) {
    done(absl::InvalidArgumentError("service: required"));
    return;
  }
  if (request.request_id().size() > 128) {
    done(absl::InvalidArgumentError(
        "request_id: at most 128 bytes, got " +
        std::to_string(request.request_id().size())));
    return;
  }
  const int64_t size = static_cast<int64_t>(request.input_json().size());
  if (size > options_.max_payload_bytes) {
    done(absl::ResourceExhaustedError(
        "input_json: " + std::to_string(size) + " bytes is over the limit of " +
        std::to_string(options_.max_payload_bytes) + " bytes"));
    return;
  }
  if (request.documents_size() > options_.max_documents) {
    done(absl::ResourceExhaustedError(
        "documents: " + std::to_string(request.documents_size()) +
        " is over the limit of " + std::to_string(options_.max_documents) +
        " documents per case"));
    return;
  }
  for (int i = 0; i < request.documents_size(); ++i) {
    absl::Status s = ValidateDocument(request.documents(i),
                                      "documents[" + std::to_string(i) + "]");
    if (!s.ok()) {
      done(s);
      return;
    }
  }
  absl::StatusOr<json> input =
      ParsePayload(request.input_json(), "input_json",
                   options_.asl_limits.max_json_depth);
  if (!input.ok()) {
    done(input.status());
    return;
  }
  absl::StatusOr<DeployedWorkflow> wf =
      registry_->Get(request.service(), request.version());
  if (!wf.ok()) {
    done(wf.status());
    return;
  }
  if (wf->rules->check_input) {
    std::vector<FieldError> errors = wf->rules->check_input(*input);
    if (!errors.empty()) {
      std::string msg = "input_json does not meet the input schema of " +
                        request.service() + ": ";
      for (size_t i = 0; i < errors.size(); ++i) {
        if (i > 0) msg += "; ";
        msg += (errors[i].pointer.empty() ? "/" : errors[i].pointer) + ": " +
               errors[i].message;
      }
      done(absl::InvalidArgumentError(msg));
      return;
    }
  }
  // A request id goes to one shard, so that repeats meet there.
  Shard* shard;
  if (!request.request_id().empty()) {
    shard = shards_[std::hash<std::string>{}(request.request_id()) %
                    shards_.size()]
                .get();
  } else {
    shard = shards_[round_robin_.fetch_add(1) % shards_.size()].get();
  }
  Shard::SubmitCmd cmd{request,
                       std::move(*input),
                       std::move(*wf),
                       RequestDigest(request),
                       actor,
                       std::move(done)};
  Done<SubmitResult> keep = cmd.done;
  if (!shard->Enqueue(std::move(cmd), /*bounded=*/true)) {
    keep(absl::ResourceExhaustedError(
        "engine is at capacity: " +
        std::to_string(options_.max_queued_per_shard) +
        " commands queued on the shard; retry later with the same "
        "request_id"));
  }
}

absl::StatusOr<onewindow::v1::Case> Engine::ReadCase(
    const std::string& case_id) {
  absl::StatusOr<store::CaseRecord> c = store::GetCase(*store_, case_id);
  if (!c.ok()) {
    if (c.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("case_id: no case " + case_id);
    }
    return c.status();
  }
  onewindow::v1::Case out = ToApiCase(*c);
  if (c->input_json().empty()) {
    absl::StatusOr<store::StoredEvent> first =
        store::GetFirstEvent(*store_, case_id);
    if (first.ok()) out.set_input_json(first->value_json());
  }
  return out;
}

void Engine::GetCase(const std::string& case_id,
                     Done<onewindow::v1::Case> done) {
  absl::StatusOr<std::string> id = CheckCaseId(case_id);
  if (!id.ok()) {
    done(id.status());
    return;
  }
  RunOnReader([this, id = *id, done = std::move(done)] { done(ReadCase(id)); });
}

void Engine::GetHistory(const std::string& case_id, int64_t after_seq,
                        int limit,
                        Done<onewindow::v1::GetCaseHistoryResponse> done) {
  absl::StatusOr<std::string> id = CheckCaseId(case_id);
  if (!id.ok()) {
    done(id.status());
    return;
  }
  if (after_seq < 0) {
    done(absl::InvalidArgumentError("after_seq: must be >= 0"));
    return;
  }
  limit = limit <= 0 ? 1000 : std::min(limit, 10000);
  RunOnReader([this, id = *id, after_seq, limit, done = std::move(done)] {
    absl::StatusOr<store::CaseRecord> c = store::GetCase(*store_, id);
    if (!c.ok()) {
      done(c.status().code() == absl::StatusCode::kNotFound
               ? absl::NotFoundError("case_id: no case " + id)
               : c.status());
      return;
    }
    onewindow::v1::GetCaseHistoryResponse resp;
    std::vector<onewindow::v1::HistoryEvent> events;
    bool more = false;
    absl::Status s =
        store::ReadHistory(*store_, id, after_seq, limit, &events, &more);
    if (!s.ok()) {
      done(s);
      return;
    }
    for (auto& e : events) *resp.add_events() = std::move(e);
    resp.set_more(more);
    done(std::move(resp));
  });
}

void Engine::VerifyCase(const std::string& case_id,
                        Done<onewindow::v1::VerifyCaseResponse> done) {
  absl::StatusOr<std::string> id = CheckCaseId(case_id);
  if (!id.ok()) {
    done(id.status());
    return;
  }
  RunOnReader([this, id = *id, done = std::move(done)] {
    absl::StatusOr<store::CaseRecord> c = store::GetCase(*store_, id);
    if (!c.ok()) {
      done(c.status().code() == absl::StatusCode::kNotFound
               ? absl::NotFoundError("case_id: no case " + id)
               : c.status());
      return;
    }
    onewindow::v1::VerifyCaseResponse resp;
    std::string prev;
    int64_t expect = 1;
    bool bad = false;
    int64_t legacy = 0;
    // Layout 1 events (API form, no hash) come first when a case was
    // upgraded; they are counted, not checked.
    std::vector<onewindow::v1::HistoryEvent> api;
    bool more = false;
    (void)more;
    absl::Status s = store::ForEachStoredEvent(
        *store_, id, 0, [&](store::StoredEvent& e) {
          resp.set_events(resp.events() + 1);
          if (e.seq() != expect && legacy == 0) {
            // Events before the first stored one are layout 1.
            legacy = e.seq() - 1;
            expect = e.seq();
          }
          if (e.seq() != expect) {
            bad = true;
            resp.set_first_bad_seq(expect);
            resp.set_message("event #" + std::to_string(expect) +
                             " is missing (the next stored one is #" +
                             std::to_string(e.seq()) + ")");
            return false;
          }
          const std::string want = store::ChainHash(prev, e);
          if (e.hash() != want) {
            bad = true;
            resp.set_first_bad_seq(e.seq());
            resp.set_message(
                "event #" + std::to_string(e.seq()) + " (" +
                std::string(core::EventTypeName(e.type())) +
                ") does not match its hash: it was changed after it was "
                "written, or an event before it was");
            return false;
          }
          prev = e.hash();
          ++expect;
          return true;
        });
    if (!s.ok()) {
      done(s);
      return;
    }
    if (!bad && expect - 1 != c->history_seq() && legacy == 0) {
      bad = true;
      resp.set_first_bad_seq(expect);
      resp.set_message("the case record says " +
                       std::to_string(c->history_seq()) +
                       " events were written, but the history holds " +
                       std::to_string(expect - 1));
    }
    if (!bad && !c->last_hash().empty() && c->last_hash() != prev) {
      bad = true;
      resp.set_first_bad_seq(c->history_seq());
      resp.set_message("the last event's hash differs from the one the case "
                       "record kept: the end of the history was changed");
    }
    resp.set_intact(!bad);
    if (!bad && legacy > 0) {
      resp.set_message(std::to_string(legacy) +
                       " events written before history hashing were not "
                       "checked");
    }
    done(std::move(resp));
  });
}

void Engine::CancelCase(const std::string& case_id, const std::string& reason,
                        const Actor& actor, Done<onewindow::v1::Case> done) {
  std::string id;
  absl::StatusOr<Shard*> shard = ShardForCaseId(case_id, &id);
  if (!shard.ok()) {
    done(shard.status());
    return;
  }
  if (reason.empty()) {
    done(absl::InvalidArgumentError("reason: required (why the case is "
                                    "cancelled is recorded)"));
    return;
  }
  if (reason.size() > 1024) {
    done(absl::InvalidArgumentError("reason: at most 1024 bytes"));
    return;
  }
  Shard::CancelCmd cmd{id, reason, actor, std::move(done)};
  Done<onewindow::v1::Case> keep = cmd.done;
  if (!(*shard)->Enqueue(std::move(cmd), false)) {
    keep(absl::UnavailableError("the engine is shutting down"));
  }
}

void Engine::AddDocuments(const std::string& case_id,
                          std::vector<onewindow::v1::DocumentRef> documents,
                          const Actor& actor, Done<onewindow::v1::Case> done) {
  std::string id;
  absl::StatusOr<Shard*> shard = ShardForCaseId(case_id, &id);
  if (!shard.ok()) {
    done(shard.status());
    return;
  }
  if (documents.empty()) {
    done(absl::InvalidArgumentError("documents: at least one is required"));
    return;
  }
  if (static_cast<int>(documents.size()) > options_.max_documents) {
    done(absl::ResourceExhaustedError(
        "documents: over the limit of " +
        std::to_string(options_.max_documents) + " documents per case"));
    return;
  }
  for (size_t i = 0; i < documents.size(); ++i) {
    absl::Status s =
        ValidateDocument(documents[i], "documents[" + std::to_string(i) + "]");
    if (!s.ok()) {
      done(s);
      return;
    }
  }
  Shard::DocumentsCmd cmd{id, std::move(documents), actor, std::move(done)};
  Done<onewindow::v1::Case> keep = cmd.done;
  if (!(*shard)->Enqueue(std::move(cmd), false)) {
    keep(absl::UnavailableError("the engine is shutting down"));
  }
}

void Engine::MigrateCase(const std::string& case_id, int64_t to_version,
                         const Actor& actor, Done<onewindow::v1::Case> done) {
  std::string id;
  absl::StatusOr<Shard*> shard = ShardForCaseId(case_id, &id);
  if (!shard.ok()) {
    done(shard.status());
    return;
  }
  if (to_version <= 0) {
    done(absl::InvalidArgumentError("to_version: required (a version >= 1)"));
    return;
  }
  Shard::MigrateCmd cmd{id, to_version, actor, std::move(done)};
  Done<onewindow::v1::Case> keep = cmd.done;
  if (!(*shard)->Enqueue(std::move(cmd), false)) {
    keep(absl::UnavailableError("the engine is shutting down"));
  }
}

// ---- tasks -------------------------------------------------------------

namespace {

template <typename T>
bool ParseTokenOrFail(const std::string& token, TokenParts* parts,
                      Engine::Done<T>& done) {
  if (token.empty()) {
    done(absl::InvalidArgumentError("token: required"));
    return false;
  }
  if (!ParseToken(token, parts)) {
    done(absl::NotFoundError("token: unknown task token"));
    return false;
  }
  return true;
}

}  // namespace

void Engine::CompleteTask(const std::string& token,
                          const std::string& result_json,
                          const std::string& department, const Actor& actor,
                          Done<bool> done) {
  TokenParts parts;
  if (!ParseTokenOrFail(token, &parts, done)) return;
  const int64_t size = static_cast<int64_t>(result_json.size());
  if (size > options_.max_payload_bytes) {
    done(absl::ResourceExhaustedError(
        "result_json: " + std::to_string(size) +
        " bytes is over the limit of " +
        std::to_string(options_.max_payload_bytes) + " bytes"));
    return;
  }
  absl::StatusOr<json> result =
      ParsePayload(result_json, "result_json",
                   options_.asl_limits.max_json_depth);
  if (!result.ok()) {
    done(result.status());
    return;
  }
  absl::StatusOr<CaseNumber> n = ParseCaseNumber(parts.case_id);
  Shard* shard = ShardFor(*n);
  Shard::CompleteCmd cmd{parts,      result_json, std::move(*result),
                         department, actor,       std::move(done)};
  Done<bool> keep = cmd.done;
  if (!shard->Enqueue(std::move(cmd), false)) {
    keep(absl::UnavailableError("the engine is shutting down"));
  }
}

void Engine::FailTask(const std::string& token, const std::string& error,
                      const std::string& cause, const std::string& department,
                      const Actor& actor, Done<bool> done) {
  TokenParts parts;
  if (!ParseTokenOrFail(token, &parts, done)) return;
  if (error.empty()) {
    done(absl::InvalidArgumentError("error: required (an error name)"));
    return;
  }
  if (error.size() > 256) {
    done(absl::InvalidArgumentError("error: at most 256 bytes"));
    return;
  }
  if (cause.size() > 32768) {
    done(absl::InvalidArgumentError("cause: at most 32768 bytes"));
    return;
  }
  absl::StatusOr<CaseNumber> n = ParseCaseNumber(parts.case_id);
  Shard* shard = ShardFor(*n);
  Shard::FailCmd cmd{parts, error, cause, department, actor, std::move(done)};
  Done<bool> keep = cmd.done;
  if (!shard->Enqueue(std::move(cmd), false)) {
    keep(absl::UnavailableError("the engine is shutting down"));
  }
}

void Engine::Heartbeat(const std::string& token, int64_t extend_ms,
                       const std::string& department, const Actor& actor,
                       Done<int64_t> done) {
  TokenParts parts;
  if (!ParseTokenOrFail(token, &parts, done)) return;
  if (extend_ms < 0) {
    done(absl::InvalidArgumentError("extend_ms: must be >= 0"));
    return;
  }
  int heartbeat_seconds = 0;
  std::string task_department;
  absl::StatusOr<int64_t> lease = dispatcher_->Heartbeat(
      token, extend_ms, &heartbeat_seconds, &task_department);
  const bool held = lease.status().code() != absl::StatusCode::kNotFound;
  if (held && !department.empty() && task_department != department) {
    // The lease was not extended: the caller may not touch this task.
    done(absl::PermissionDeniedError("token: the task belongs to department " +
                                     task_department + ", not " + department));
    return;
  }
  if (held && (!lease.ok() || heartbeat_seconds <= 0)) {
    // A heartbeat without HeartbeatSeconds only extends the lease, which
    // lives in memory: nothing to commit.
    done(lease);
    return;
  }
  // Recorded by the case (HeartbeatSeconds), or not held in memory: the
  // shard says whether the token is unknown, stale or another department's.
  absl::StatusOr<CaseNumber> n = ParseCaseNumber(parts.case_id);
  Shard* shard = ShardFor(*n);
  Shard::HeartbeatCmd cmd{parts, held ? *lease : 0, held, department, actor,
                          std::move(done)};
  Done<int64_t> keep = cmd.done;
  if (!shard->Enqueue(std::move(cmd), false)) {
    keep(absl::UnavailableError("the engine is shutting down"));
  }
}

void Engine::ActivateTasks(const std::string& department, int max,
                           int64_t lease_ms, const std::string& worker,
                           Done<std::vector<onewindow::v1::Task>> done) {
  if (department.empty()) {
    done(absl::InvalidArgumentError("department: required"));
    return;
  }
  max = max <= 0 ? 1 : std::min(max, 100);
  lease_ms = lease_ms <= 0 ? 300000 : lease_ms;
  RunOnReader([this, department, max, lease_ms, worker,
               done = std::move(done)] {
    done(dispatcher_->Activate(department, max, lease_ms, worker));
  });
}

absl::Status Engine::LoadQueued(const std::string& department,
                                int64_t after_seq, int max,
                                std::vector<QueuedTask>* out,
                                int64_t* scanned_to) {
  *scanned_to = after_seq;
  absl::Status inner = absl::OkStatus();
  absl::Status s = store::ForEachQueued(
      *store_, department, after_seq,
      [&](int64_t seq, std::string_view case_id, std::string_view task_id) {
        *scanned_to = seq;
        absl::StatusOr<store::TaskRecord> t =
            store::GetTask(*store_, case_id, task_id);
        if (!t.ok()) return true;  // answered meanwhile
        if (t->state() != sv1::TASK_STATE_READY &&
            t->state() != sv1::TASK_STATE_LEASED) {
          return true;
        }
        QueuedTask q;
        q.queue_seq = seq;
        onewindow::v1::Task& m = q.task;
        m.set_token(t->token());
        m.set_case_id(t->case_id());
        m.set_task_id(t->task_id());
        m.set_department(t->department());
        m.set_task_type(t->task_type());
        m.set_state(t->state_name());
        m.set_input_json(t->input_json());
        m.set_service(t->service());
        m.set_version(t->version());
        m.set_attempt(t->attempt());
        m.set_deadline_at_ms(t->deadline_at_ms());
        m.set_heartbeat_seconds(t->heartbeat_seconds());
        m.set_created_at_ms(t->created_at_ms());
        m.set_due_at_ms(t->due_at_ms());
        out->push_back(std::move(q));
        return static_cast<int>(out->size()) < max;
      });
  return s.ok() ? inner : s;
}

void Engine::ListTasks(const std::string& department, int limit,
                       const std::string& page_token,
                       Done<onewindow::v1::ListTasksResponse> done) {
  if (department.empty()) {
    done(absl::InvalidArgumentError("department: required"));
    return;
  }
  int64_t after = 0;
  if (!page_token.empty()) {
    char* end = nullptr;
    after = std::strtoll(page_token.c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || after < 0) {
      done(absl::InvalidArgumentError(
          "page_token: not a token from a ListTasks response"));
      return;
    }
  }
  limit = limit <= 0 ? 100 : std::min(limit, 1000);
  RunOnReader([this, department, limit, after, done = std::move(done)] {
    std::vector<QueuedTask> tasks;
    int64_t scanned = after;
    absl::Status s = LoadQueued(department, after, limit + 1, &tasks, &scanned);
    if (!s.ok()) {
      done(s);
      return;
    }
    onewindow::v1::ListTasksResponse resp;
    for (size_t i = 0; i < tasks.size() && static_cast<int>(i) < limit; ++i) {
      *resp.add_tasks() = std::move(tasks[i].task);
    }
    if (static_cast<int>(tasks.size()) > limit) {
      resp.set_next_page_token(std::to_string(tasks[limit - 1].queue_seq));
    }
    done(std::move(resp));
  });
}

void Engine::Redeliver(const onewindow::v1::Task& task) {
  TokenParts parts;
  if (!ParseToken(task.token(), &parts)) return;
  absl::StatusOr<CaseNumber> n = ParseCaseNumber(parts.case_id);
  if (!n.ok()) return;
  ShardFor(*n)->Enqueue(Shard::RedeliverCmd{parts}, false);
}

// ---- operations --------------------------------------------------------

void Engine::Backup(const std::string& dir,
                    Done<onewindow::v1::BackupResponse> done) {
  if (dir.empty()) {
    done(absl::InvalidArgumentError("to_dir: required"));
    return;
  }
  RunOnReader([this, dir, done = std::move(done)] {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path p = fs::absolute(dir, ec);
    if (fs::exists(p, ec)) {
      if (!fs::is_directory(p, ec) || !fs::is_empty(p, ec)) {
        done(absl::FailedPreconditionError(
            "to_dir: " + p.string() + " exists and is not an empty directory"));
        return;
      }
      fs::remove(p, ec);  // the checkpoint creates it
    }
    const auto t0 = std::chrono::steady_clock::now();
    uint64_t seq = 0;
    absl::Status s = store_->Checkpoint(p.string(), &seq);
    if (!s.ok()) {
      done(s);
      return;
    }
    onewindow::v1::BackupResponse resp;
    resp.set_dir(p.string());
    resp.set_sequence(seq);
    int64_t bytes = 0;
    for (const auto& f : fs::recursive_directory_iterator(p, ec)) {
      if (f.is_regular_file(ec)) bytes += static_cast<int64_t>(f.file_size(ec));
    }
    resp.set_bytes(bytes);
    resp.set_took_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - t0)
                         .count());
    spdlog::info("backup written to {} ({} bytes, sequence {})", p.string(),
                 bytes, seq);
    done(std::move(resp));
  });
}

}  // namespace onewindow::scheduler
