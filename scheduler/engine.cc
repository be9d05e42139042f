#include "scheduler/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "scheduler/shard.h"

namespace onewindow::scheduler {

using nlohmann::json;

std::string FormatCaseId(int64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "OW-%010lld", static_cast<long long>(seq));
  return buf;
}

int64_t ParseCaseId(const std::string& case_id) {
  if (case_id.size() < 4 || case_id.compare(0, 3, "OW-") != 0) return -1;
  int64_t v = 0;
  for (size_t i = 3; i < case_id.size(); ++i) {
    char c = case_id[i];
    if (c < '0' || c > '9' || v > (INT64_MAX - 9) / 10) return -1;
    v = v * 10 + (c - '0');
  }
  return v > 0 ? v : -1;
}

std::string FormatToken(const TokenParts& p) {
  char nonce[24];
  std::snprintf(nonce, sizeof(nonce), "%012llx",
                static_cast<unsigned long long>(p.nonce));
  return p.case_id + "/" + p.task_id + "/" + std::to_string(p.attempt) + "/" +
         nonce;
}

bool ParseToken(const std::string& token, TokenParts* p) {
  size_t a = token.find('/');
  if (a == std::string::npos) return false;
  size_t b = token.find('/', a + 1);
  if (b == std::string::npos) return false;
  size_t c = token.find('/', b + 1);
  if (c == std::string::npos || token.find('/', c + 1) != std::string::npos) {
    return false;
  }
  p->case_id = token.substr(0, a);
  p->task_id = token.substr(a + 1, b - a - 1);
  if (ParseCaseId(p->case_id) < 0 || p->task_id.empty()) return false;
  const std::string attempt = token.substr(b + 1, c - b - 1);
  const std::string nonce = token.substr(c + 1);
  if (attempt.empty() || attempt.size() > 9 || nonce.empty() ||
      nonce.size() > 16) {
    return false;
  }
  for (char ch : attempt) {
    if (ch < '0' || ch > '9') return false;
  }
  for (char ch : nonce) {
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
  }
  p->attempt = std::stoi(attempt);
  p->nonce = std::stoull(nonce, nullptr, 16);
  return true;
}

Engine::Engine(EngineOptions options)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &system_clock_) {}

Engine::~Engine() { Shutdown(); }

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(EngineOptions options) {
  std::unique_ptr<Engine> e(new Engine(std::move(options)));
  store::StoreOptions so;
  so.shards = e->options_.shards;
  so.sync = e->options_.sync;
  so.now_ms = e->clock_->NowMs();
  auto st = store::Store::Open(e->options_.data_dir, so);
  if (!st.ok()) return st.status();
  e->store_ = std::move(*st);
  e->registry_ = std::make_unique<WorkflowRegistry>(e->store_.get());
  Engine* raw = e.get();
  e->dispatcher_ = std::make_unique<Dispatcher>(
      e->clock_, [raw](const onewindow::v1::Task& t) { raw->Redeliver(t); });
  const int n = e->store_->meta().shards();
  Shard::Deps deps{e->store_.get(), e->registry_.get(), e->dispatcher_.get(),
                   e->clock_, &e->options_};
  for (int i = 0; i < n; ++i) {
    e->shards_.push_back(std::make_unique<Shard>(i, n, deps));
  }
  if (absl::Status s = e->Recover(); !s.ok()) return s;
  e->dispatcher_->Start();
  for (auto& s : e->shards_) s->Start();
  return e;
}

absl::Status Engine::Recover() {
  const auto t0 = std::chrono::steady_clock::now();
  if (absl::Status s = registry_->Load(); !s.ok()) return s;
  for (auto& s : shards_) {
    if (absl::Status st = s->LoadSequence(); !st.ok()) return st;
  }
  int64_t n = 0;
  absl::Status inner = absl::OkStatus();
  absl::Status s = store_->ForEachOpenCase([&](const store::CaseRecord& c) {
    Shard* shard = ShardForCase(c.id());
    if (shard == nullptr) {
      inner = absl::DataLossError("open case with a malformed id: " + c.id());
      return false;
    }
    inner = shard->Recover(c);
    if (!inner.ok()) return false;
    ++n;
    return true;
  });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  s = store_->ForEachTimer([&](int64_t due, std::string_view case_id,
                               std::string_view timer_id) {
    Shard* shard = ShardForCase(std::string(case_id));
    if (shard) shard->RecoverTimer(due, std::string(case_id),
                                   std::string(timer_id));
    return true;
  });
  if (!s.ok()) return s;
  recovered_cases_ = n;
  recovery_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count();
  spdlog::info("store {}: {} shards, {} open cases recovered in {} ms",
               options_.data_dir, shards_.size(), n, recovery_ms_);
  return absl::OkStatus();
}

void Engine::Shutdown() {
  if (shut_down_.exchange(true)) return;
  for (auto& s : shards_) s->Stop();
  if (dispatcher_) dispatcher_->Stop();
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
    st.open_cases += s->open_cases();
  }
  st.recovered_cases = recovered_cases_;
  st.recovery_ms = recovery_ms_;
  return st;
}

Shard* Engine::ShardForCase(const std::string& case_id) const {
  int64_t seq = ParseCaseId(case_id);
  if (seq <= 0 || shards_.empty()) return nullptr;
  return shards_[static_cast<size_t>((seq - 1) % shards_.size())].get();
}

void Engine::SubmitCase(const onewindow::v1::SubmitCaseRequest& request,
                        Done<SubmitResult> done) {
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
  if (request.input_json().empty()) {
    done(absl::InvalidArgumentError(
        "input_json: required (a JSON value, e.g. {})"));
    return;
  }
  json input = json::parse(request.input_json(), nullptr, false);
  if (input.is_discarded()) {
    // Find where: parse again with exceptions for the position.
    std::string where;
    try {
      json again = json::parse(request.input_json());
      (void)again;
    } catch (const json::parse_error& e) {
      where = std::string(": ") + e.what();
    }
    done(absl::InvalidArgumentError("input_json: not valid JSON" + where));
    return;
  }
  absl::StatusOr<DeployedWorkflow> wf =
      registry_->Get(request.service(), request.version());
  if (!wf.ok()) {
    done(wf.status());
    return;
  }
  Shard* shard;
  if (!request.request_id().empty()) {
    shard = shards_[std::hash<std::string>{}(request.request_id()) %
                    shards_.size()]
                .get();
  } else {
    shard = shards_[round_robin_.fetch_add(1) % shards_.size()].get();
  }
  Shard::SubmitCmd cmd{request, std::move(input), *wf, std::move(done)};
  Done<SubmitResult> keep = cmd.done;
  if (!shard->Enqueue(std::move(cmd), /*bounded=*/true)) {
    keep(absl::ResourceExhaustedError(
        "engine is at capacity: " +
        std::to_string(options_.max_queued_per_shard) +
        " commands queued on the shard; retry later with the same "
        "request_id"));
  }
}

onewindow::v1::Case Engine::ToApi(const store::CaseRecord& c) {
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
  return out;
}

absl::StatusOr<onewindow::v1::Case> Engine::GetCase(
    const std::string& case_id) const {
  if (case_id.empty()) return absl::InvalidArgumentError("case_id: required");
  if (ParseCaseId(case_id) < 0) {
    return absl::InvalidArgumentError("case_id: \"" + case_id +
                                      "\" is not a case number (OW-nnnnnnnnnn)");
  }
  absl::StatusOr<store::CaseRecord> c = store_->GetCase(case_id);
  if (!c.ok()) {
    if (c.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError("case_id: no case " + case_id);
    }
    return c.status();
  }
  return ToApi(*c);
}

absl::StatusOr<onewindow::v1::ListCasesResponse> Engine::ListCases(
    const onewindow::v1::ListCasesRequest& request) const {
  int limit = request.limit() <= 0 ? 100 : std::min(request.limit(), 1000);
  onewindow::v1::ListCasesResponse resp;
  std::string last;
  bool more = false;
  absl::Status s = store_->ScanCasesNewestFirst(
      request.page_token(), [&](const store::CaseRecord& c) {
        if (request.status() != onewindow::v1::CASE_STATUS_UNSPECIFIED &&
            c.status() != request.status()) {
          return true;
        }
        if (!request.service().empty() && c.service() != request.service()) {
          return true;
        }
        if (!request.department().empty()) {
          bool has = false;
          for (const auto& d : c.open_departments()) {
            if (d == request.department()) has = true;
          }
          if (!has) return true;
        }
        if (resp.cases_size() >= limit) {
          more = true;
          return false;
        }
        *resp.add_cases() = ToApi(c);
        last = c.id();
        return true;
      });
  if (!s.ok()) return s;
  if (more) resp.set_next_page_token(last);
  return resp;
}

absl::StatusOr<std::vector<onewindow::v1::HistoryEvent>> Engine::GetHistory(
    const std::string& case_id, int64_t after_seq, int limit) const {
  absl::StatusOr<onewindow::v1::Case> c = GetCase(case_id);
  if (!c.ok()) return c.status();
  std::vector<onewindow::v1::HistoryEvent> out;
  absl::Status s = store_->ReadHistory(case_id, after_seq,
                                       limit <= 0 ? 1000 : limit, &out);
  if (!s.ok()) return s;
  return out;
}

void Engine::CancelCase(const std::string& case_id, const std::string& reason,
                        Done<onewindow::v1::Case> done) {
  Shard* shard = ShardForCase(case_id);
  if (shard == nullptr) {
    done(absl::InvalidArgumentError("case_id: \"" + case_id +
                                    "\" is not a case number"));
    return;
  }
  Shard::CancelCmd cmd{case_id, reason.empty() ? "cancelled" : reason,
                       std::move(done)};
  Done<onewindow::v1::Case> keep = cmd.done;
  if (!shard->Enqueue(std::move(cmd), false)) {
    keep(absl::UnavailableError("the engine is shutting down"));
  }
}

namespace {

template <typename T>
bool ParseTokenOrFail(const std::string& token, TokenParts* parts,
                      Engine::Done<T>& done) {
  if (token.empty()) {
    done(absl::InvalidArgumentError("token: required"));
    return false;
  }
  if (!ParseToken(token, parts)) {
    done(absl::NotFoundError("token: \"" + token +
                             "\" is not a task token this engine issued"));
    return false;
  }
  return true;
}

}  // namespace

void Engine::CompleteTask(const std::string& token,
                          const std::string& result_json, Done<bool> done) {
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
  json result = json::parse(result_json, nullptr, false);
  if (result_json.empty() || result.is_discarded()) {
    done(absl::InvalidArgumentError("result_json: not valid JSON"));
    return;
  }
  Shard* shard = ShardForCase(parts.case_id);
  Shard::CompleteCmd cmd{parts, token, std::move(result), std::move(done)};
  Done<bool> keep = cmd.done;
  if (!shard->Enqueue(std::move(cmd), false)) {
    keep(absl::UnavailableError("the engine is shutting down"));
  }
}

void Engine::FailTask(const std::string& token, const std::string& error,
                      const std::string& cause, Done<bool> done) {
  TokenParts parts;
  if (!ParseTokenOrFail(token, &parts, done)) return;
  if (error.empty()) {
    done(absl::InvalidArgumentError("error: required (an error name)"));
    return;
  }
  if (error.size() > 256 || cause.size() > 32768) {
    done(absl::InvalidArgumentError(
        "error/cause: too long (at most 256 / 32768 bytes)"));
    return;
  }
  Shard* shard = ShardForCase(parts.case_id);
  Shard::FailCmd cmd{parts, token, error, cause, std::move(done)};
  Done<bool> keep = cmd.done;
  if (!shard->Enqueue(std::move(cmd), false)) {
    keep(absl::UnavailableError("the engine is shutting down"));
  }
}

void Engine::Heartbeat(const std::string& token, int64_t extend_ms,
                       Done<int64_t> done) {
  TokenParts parts;
  if (!ParseTokenOrFail(token, &parts, done)) return;
  int heartbeat_seconds = 0;
  absl::StatusOr<int64_t> lease =
      dispatcher_->Heartbeat(token, extend_ms, &heartbeat_seconds);
  if (!lease.ok() || heartbeat_seconds <= 0) {
    // Without HeartbeatSeconds a heartbeat only extends the lease, which
    // lives in memory: nothing to commit.
    done(lease);
    return;
  }
  Shard* shard = ShardForCase(parts.case_id);
  Shard::HeartbeatCmd cmd{parts, token, *lease, std::move(done)};
  Done<int64_t> keep = cmd.done;
  if (!shard->Enqueue(std::move(cmd), false)) {
    keep(absl::UnavailableError("the engine is shutting down"));
  }
}

void Engine::Redeliver(const onewindow::v1::Task& task) {
  TokenParts parts;
  if (!ParseToken(task.token(), &parts)) return;
  Shard* shard = ShardForCase(parts.case_id);
  if (shard == nullptr) return;
  shard->Enqueue(Shard::RedeliverCmd{parts, task.token()}, false);
}

}  // namespace onewindow::scheduler
