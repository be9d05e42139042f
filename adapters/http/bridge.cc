#include "adapters/http/bridge.h"

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "adapters/http/http_util.h"
#include "adapters/http/listen.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace onewindow::http_bridge {
namespace {

namespace v1 = ::onewindow::v1;
using Clock = std::chrono::steady_clock;
using nlohmann::json;
using std::chrono::milliseconds;

// How much of a department's error body goes into a cause.
constexpr size_t kCauseBodyBytes = 1024;
// Longest error name and cause a callback may give.
constexpr size_t kMaxErrorNameBytes = 256;
constexpr size_t kMaxCauseBytes = 32 * 1024;
// Answers remembered after they are given, so a repeated callback gets the
// same outcome: at most this many, for at most this long.
constexpr size_t kMaxRemembered = 100000;
constexpr auto kRememberFor = std::chrono::minutes(15);

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t).count();
}

// The outcome of one POST to a department.
struct PostResult {
  enum Kind { kComplete, kPark, kFail };
  Kind kind = kFail;
  std::string body;   // kComplete: the result JSON
  std::string error;  // kFail
  std::string cause;
  int status = 0;  // HTTP status, 0 when none came back
};

PostResult Fail(const char* error, std::string cause, int status = 0) {
  PostResult r;
  r.kind = PostResult::kFail;
  r.error = error;
  r.cause = std::move(cause);
  r.status = status;
  return r;
}

std::string TransportReason(httplib::Error err, int64_t elapsed_ms,
                            int64_t timeout_ms, const std::string& origin) {
  switch (err) {
    case httplib::Error::Connection:
      return "cannot connect to " + origin +
             " (connection refused or host "
             "unreachable)";
    case httplib::Error::ConnectionTimeout:
      return "timed out after " + std::to_string(elapsed_ms) +
             " ms connecting to " + origin;
    case httplib::Error::Read:
      if (elapsed_ms + 50 >= timeout_ms) {
        return "timed out after " + std::to_string(elapsed_ms) +
               " ms waiting for " + origin + " to answer (timeout_ms " +
               std::to_string(timeout_ms) + ")";
      }
      return "the connection to " + origin + " closed before a complete answer";
    case httplib::Error::Write:
      return "sending the request to " + origin + " failed";
    case httplib::Error::SSLConnection:
      return "TLS connection to " + origin + " failed";
    case httplib::Error::SSLServerVerification:
      return "TLS: the certificate of " + origin + " is not trusted";
    case httplib::Error::SSLLoadingCerts:
      return "TLS: cannot load the trusted certificates";
    default:
      return "request to " + origin + " failed: " + httplib::to_string(err);
  }
}

// "host:port" or "[v6]:port" -> host, port.
bool SplitHostPort(const std::string& addr, std::string* host, int* port) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos || colon + 1 >= addr.size()) return false;
  *host = addr.substr(0, colon);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  const std::string p = addr.substr(colon + 1);
  for (char c : p) {
    if (c < '0' || c > '9') return false;
  }
  if (p.size() > 5) return false;
  *port = std::stoi(p);
  return !host->empty() && *port <= 65535;
}

// One HTTP client per department origin, kept alive between requests.
// Used by one request thread only.
class ClientCache {
 public:
  httplib::Client* Get(const std::string& origin, bool fresh) {
    auto& slot = clients_[origin];
    if (!slot || fresh) {
      slot = std::make_unique<httplib::Client>(origin);
      slot->set_keep_alive(true);
      slot->set_follow_location(false);
      // Headers and body go in separate writes: without this, Nagle's
      // algorithm and the peer's delayed ACK stall every request ~40 ms.
      slot->set_tcp_nodelay(true);
      uses_[origin] = 0;
    }
    return slot.get();
  }
  // Requests already made on the client of `origin`.
  int& uses(const std::string& origin) { return uses_[origin]; }

 private:
  std::map<std::string, std::unique_ptr<httplib::Client>> clients_;
  std::map<std::string, int> uses_;
};

std::string StatusName(int code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN";
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

}  // namespace

class Bridge::Impl {
 public:
  explicit Impl(BridgeOptions options) : opts_(std::move(options)) {
    opts_.concurrency = std::max(1, opts_.concurrency);
    opts_.callback_threads = std::max(1, opts_.callback_threads);
  }

  ~Impl() { Stop(); }

  absl::Status Start() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (started_) return absl::FailedPreconditionError("already started");
      started_ = true;
    }
    if (opts_.config.routes.empty()) {
      return absl::InvalidArgumentError("config: no task routes");
    }
    if (!opts_.callback_listen.empty()) {
      absl::Status s = StartCallbackServer();
      if (!s.ok()) return s;
    }
    adapter::WorkerOptions wopts = opts_.worker;
    wopts.task_types = opts_.config.SubscribedTypes();
    worker_ = std::make_unique<adapter::Worker>(
        wopts,
        [this](std::shared_ptr<adapter::TaskContext> ctx,
               adapter::Responder r) { OnTask(std::move(ctx), std::move(r)); },
        [this](const std::string& token, const std::string& reason) {
          OnCancel(token, reason);
        });
    if (!worker_->Start()) {
      StopCallbackServer();
      return absl::InvalidArgumentError(
          "the worker did not start (see the log)");
    }
    for (int i = 0; i < opts_.concurrency; ++i) {
      pool_.emplace_back([this] { RequestLoop(); });
    }
    for (const auto& [type, route] : opts_.config.routes) {
      spdlog::info("bridge {}: {}", opts_.worker.department,
                   RouteSummary(route));
    }
    return absl::OkStatus();
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!started_ || stopped_) return;
      stopped_ = true;
    }
    cv_.notify_all();
    StopCallbackServer();
    for (auto& t : pool_) t.join();
    pool_.clear();
    if (worker_) worker_->Stop();
    std::lock_guard<std::mutex> lock(mu_);
    held_.clear();
    queue_.clear();
  }

  int callback_port() const { return callback_port_; }
  std::string callback_url() const { return callback_base_; }

  BridgeStats stats() const {
    BridgeStats s;
    s.posts = posts_;
    s.completed = completed_;
    s.parked = parked_;
    s.rejected = rejected_;
    s.unavailable = unavailable_;
    s.callbacks_accepted = callbacks_accepted_;
    s.callbacks_refused = callbacks_refused_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& [token, h] : held_) {
        if (h.phase == Phase::kQueued) ++s.queued;
        if (h.phase == Phase::kPosting) ++s.posting;
        if (h.phase == Phase::kParked) ++s.waiting;
      }
    }
    if (worker_) s.worker = worker_->stats();
    return s;
  }

 private:
  enum class Phase { kQueued, kPosting, kParked };
  // A task the bridge holds unanswered.
  struct Held {
    std::shared_ptr<adapter::TaskContext> ctx;
    adapter::Responder responder;
    const Route* route;
    Phase phase;
  };
  // A task answered (or withdrawn): what a later callback is told.
  struct Answered {
    std::shared_future<adapter::AnswerOutcome> outcome;
    bool via_callback;
    Clock::time_point at;
  };

  absl::Status StartCallbackServer() {
    std::string host;
    int port = 0;
    if (!SplitHostPort(opts_.callback_listen, &host, &port)) {
      return absl::InvalidArgumentError(
          "--callback-listen '" + opts_.callback_listen +
          "': expected HOST:PORT (PORT 0 picks a free one)");
    }
    const bool wildcard = host == "0.0.0.0" || host == "::";
    if (wildcard && opts_.callback_url.empty()) {
      return absl::InvalidArgumentError(
          "--callback-listen on a wildcard address needs --callback-url "
          "(the URL departments use to reach this bridge)");
    }
    server_ = std::make_unique<httplib::Server>();
    server_->set_payload_max_length(opts_.max_body_bytes);
    server_->set_tcp_nodelay(true);
    const int threads = opts_.callback_threads;
    server_->new_task_queue = [threads] {
      return new httplib::ThreadPool(static_cast<size_t>(threads));
    };
    server_->Post(R"(/tasks/(.+)/(complete|fail))",
                  [this](const httplib::Request& req, httplib::Response& res) {
                    OnCallback(req, res);
                  });
    server_->set_error_handler(
        [](const httplib::Request&, httplib::Response& res) {
          if (res.status == 404) {
            Reply(res, 404,
                  {{"error",
                    "not found: POST /tasks/TOKEN/complete or "
                    "/tasks/TOKEN/fail"}});
          } else if (res.status == 413) {
            Reply(res, 413, {{"error", "body too large"}});
          }
        });
    const int bound = BindServer(server_.get(), host, port);
    if (bound < 0) {
      server_.reset();
      return absl::FailedPreconditionError(
          "--callback-listen " + opts_.callback_listen +
          ": cannot bind (address in use or not local?)");
    }
    port = bound;
    callback_port_ = port;
    if (!opts_.callback_url.empty()) {
      callback_base_ = opts_.callback_url;
      while (!callback_base_.empty() && callback_base_.back() == '/') {
        callback_base_.pop_back();
      }
    } else {
      const std::string h =
          host.find(':') != std::string::npos ? "[" + host + "]" : host;
      callback_base_ = "http://" + h + ":" + std::to_string(port);
    }
    server_thread_ = std::thread([this] { server_->listen_after_bind(); });
    WaitUntilListening(server_.get());
    spdlog::info("bridge {}: callbacks on {} ({})", opts_.worker.department,
                 opts_.callback_listen, callback_base_);
    return absl::OkStatus();
  }

  void StopCallbackServer() {
    if (!server_) return;
    server_->stop();
    if (server_thread_.joinable()) server_thread_.join();
  }

  // ---- tasks from the engine ----

  void OnTask(std::shared_ptr<adapter::TaskContext> ctx,
              adapter::Responder responder) {
    const v1::Task& task = ctx->task();
    const Route* route = opts_.config.Find(task.task_type());
    if (route == nullptr) {
      responder.Fail(kUnavailableError,
                     "the HTTP bridge has no URL for task type '" +
                         task.task_type() + "'");
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      // A new delivery of a token answered before: forget the old answer.
      answered_.erase(task.token());
      held_[task.token()] =
          Held{std::move(ctx), std::move(responder), route, Phase::kQueued};
      queue_.push_back(task.token());
    }
    cv_.notify_one();
  }

  void OnCancel(const std::string& token, const std::string& reason) {
    std::promise<adapter::AnswerOutcome> gone;
    gone.set_value(adapter::AnswerOutcome{
        9, "task withdrawn by the engine: " + reason, false});
    std::lock_guard<std::mutex> lock(mu_);
    held_.erase(token);
    RememberLocked(token, gone.get_future().share(), true);
  }

  // REQUIRES: mu_ held.
  void RememberLocked(const std::string& token,
                      std::shared_future<adapter::AnswerOutcome> outcome,
                      bool via_callback) {
    const auto now = Clock::now();
    answered_[token] = Answered{std::move(outcome), via_callback, now};
    remembered_.emplace_back(now, token);
    while (!remembered_.empty() &&
           (remembered_.size() > kMaxRemembered ||
            now - remembered_.front().first > kRememberFor)) {
      auto it = answered_.find(remembered_.front().second);
      if (it != answered_.end() && it->second.at == remembered_.front().first) {
        answered_.erase(it);
      }
      remembered_.pop_front();
    }
  }

  // Answers a held task; returns the outcome to come, or an invalid future
  // when the bridge no longer holds the task.
  std::shared_future<adapter::AnswerOutcome> AnswerHeld(
      const std::string& token, adapter::TaskResult result, bool via_callback) {
    adapter::Responder responder;
    auto promise = std::make_shared<std::promise<adapter::AnswerOutcome>>();
    std::shared_future<adapter::AnswerOutcome> outcome =
        promise->get_future().share();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = held_.find(token);
      if (it == held_.end()) return {};
      responder = std::move(it->second.responder);
      held_.erase(it);
      RememberLocked(token, outcome, via_callback);
    }
    responder.Answer(
        std::move(result),
        [promise](const adapter::AnswerOutcome& o) { promise->set_value(o); });
    return outcome;
  }

  void RequestLoop() {
    ClientCache clients;
    for (;;) {
      std::string token;
      std::shared_ptr<adapter::TaskContext> ctx;
      const Route* route = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
        if (stopped_) return;
        token = std::move(queue_.front());
        queue_.pop_front();
        auto it = held_.find(token);
        if (it == held_.end()) continue;  // withdrawn, or answered by callback
        it->second.phase = Phase::kPosting;
        ctx = it->second.ctx;
        route = it->second.route;
      }
      const auto started = Clock::now();
      PostResult r = Post(*route, ctx->task(), &clients);
      const v1::Task& task = ctx->task();
      switch (r.kind) {
        case PostResult::kComplete:
          ++completed_;
          spdlog::debug("bridge: task {} (case {}, {}): HTTP {} in {} ms",
                        token, task.case_id(), task.task_type(), r.status,
                        MsSince(started));
          AnswerHeld(token, adapter::TaskResult::Complete(std::move(r.body)),
                     false);
          break;
        case PostResult::kFail:
          if (r.error == kRejectedError) {
            ++rejected_;
          } else {
            ++unavailable_;
          }
          spdlog::debug("bridge: task {} (case {}, {}): {}: {}", token,
                        task.case_id(), task.task_type(), r.error, r.cause);
          AnswerHeld(
              token,
              adapter::TaskResult::Fail(std::move(r.error), std::move(r.cause)),
              false);
          break;
        case PostResult::kPark: {
          ++parked_;
          if (server_ == nullptr) {
            AnswerHeld(token,
                       adapter::TaskResult::Fail(
                           kUnavailableError,
                           "the department answered 202 (it will answer "
                           "later), but this bridge has no callback endpoint "
                           "(--callback-listen)"),
                       false);
            break;
          }
          std::lock_guard<std::mutex> lock(mu_);
          auto it = held_.find(token);
          if (it != held_.end()) it->second.phase = Phase::kParked;
          spdlog::info(
              "bridge: task {} (case {}, {}) accepted by the "
              "department; waiting for its callback",
              token, task.case_id(), task.task_type());
          break;
        }
      }
    }
  }

  std::string RequestBody(const v1::Task& task) const {
    std::string body = "{\"task_token\":";
    body += json(task.token()).dump();
    body += ",\"case_id\":" + json(task.case_id()).dump();
    body += ",\"task_id\":" + json(task.task_id()).dump();
    body += ",\"task_type\":" + json(task.task_type()).dump();
    body += ",\"state\":" + json(task.state()).dump();
    body += ",\"service\":" + json(task.service()).dump();
    body += ",\"attempt\":" + std::to_string(task.attempt());
    // The engine sends JSON text; it goes in as JSON, not as a string.
    body += ",\"input\":";
    body += task.input_json().empty() ? "null" : task.input_json();
    if (!callback_base_.empty()) {
      body +=
          ",\"callback_url\":" +
          json(callback_base_ + "/tasks/" + PercentEncode(task.token())).dump();
    }
    body += "}";
    return body;
  }

  PostResult Post(const Route& route, const v1::Task& task,
                  ClientCache* clients) {
    ++posts_;
    const std::string body = RequestBody(task);
    const int64_t timeout_ms = route.timeout.count();
    bool fresh = false;
    for (int attempt = 0;; ++attempt) {
      httplib::Client* cli = clients->Get(route.origin, fresh);
      const bool reused = clients->uses(route.origin)++ > 0;
      cli->set_connection_timeout(route.timeout);
      cli->set_read_timeout(route.timeout);
      cli->set_write_timeout(route.timeout);

      const auto started = Clock::now();
      int status = 0;
      std::string received;
      std::string abort_reason;
      httplib::Request req;
      req.method = "POST";
      req.path = route.path;
      req.headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json"},
                     {"Idempotency-Key", task.token()}};
      for (const auto& [name, value] : route.headers) {
        req.headers.erase(name);
        req.headers.emplace(name, value);
      }
      req.body = body;
      req.response_handler = [&](const httplib::Response& res) {
        status = res.status;
        if (res.has_header("Content-Length")) {
          const std::string len = res.get_header_value("Content-Length");
          if (len.size() > 12 ||
              std::strtoull(len.c_str(), nullptr, 10) > opts_.max_body_bytes) {
            abort_reason = "the answer's body (" + len +
                           " bytes) is over the limit of " +
                           std::to_string(opts_.max_body_bytes) + " bytes";
            return false;
          }
        }
        return true;
      };
      req.content_receiver = [&](const char* data, size_t n, uint64_t,
                                 uint64_t) {
        if (received.size() + n > opts_.max_body_bytes) {
          abort_reason = "the answer's body is over the limit of " +
                         std::to_string(opts_.max_body_bytes) + " bytes";
          return false;
        }
        if (MsSince(started) > timeout_ms) {
          abort_reason = "timed out after " + std::to_string(timeout_ms) +
                         " ms reading the answer";
          return false;
        }
        received.append(data, n);
        return true;
      };
      httplib::Response res;
      httplib::Error err = httplib::Error::Success;
      const bool ok = cli->send(req, res, err);
      const int64_t elapsed = MsSince(started);

      if (!ok && status == 0) {
        // A kept-alive connection the department closed meanwhile: once
        // more on a new connection.
        if (reused && attempt == 0 && received.empty() &&
            (err == httplib::Error::Write || err == httplib::Error::Read) &&
            elapsed < timeout_ms / 2) {
          fresh = true;
          continue;
        }
        clients->Get(route.origin, true);  // drop the broken connection
        return Fail(
            kUnavailableError,
            abort_reason.empty()
                ? TransportReason(err, elapsed, timeout_ms, route.origin)
                : abort_reason);
      }
      if (!ok) clients->Get(route.origin, true);
      // A 204 or a HEAD-like answer has no body: the status is only here.
      if (status == 0) status = res.status;
      return Map(status, received, abort_reason);
    }
  }

  // Maps a department's answer.
  static PostResult Map(int status, const std::string& body,
                        const std::string& abort_reason) {
    const std::string head = "HTTP " + std::to_string(status);
    if (status == 200 || status == 201) {
      if (!abort_reason.empty()) {
        return Fail(kUnavailableError, head + ": " + abort_reason, status);
      }
      if (body.empty()) {
        return Fail(kUnavailableError,
                    head + " with an empty body (a JSON result is expected)",
                    status);
      }
      if (!json::accept(body)) {
        return Fail(
            kUnavailableError,
            head + " with a body that is not JSON: " + Utf8Prefix(body, 200),
            status);
      }
      PostResult r;
      r.kind = PostResult::kComplete;
      r.body = body;
      r.status = status;
      return r;
    }
    if (status == 202) {
      PostResult r;
      r.kind = PostResult::kPark;
      r.status = status;
      return r;
    }
    const std::string detail =
        body.empty() ? (abort_reason.empty() ? "(no body)" : abort_reason)
                     : Utf8Prefix(body, kCauseBodyBytes);
    // 408 and 429 say "not now", not "no".
    if (status >= 400 && status < 500 && status != 408 && status != 429) {
      return Fail(kRejectedError, head + ": " + detail, status);
    }
    if (status >= 400) {
      return Fail(kUnavailableError, head + ": " + detail, status);
    }
    return Fail(kUnavailableError,
                "unexpected " + head + " (expected 200, 201 or 202)", status);
  }

  // ---- callbacks from departments ----

  void OnCallback(const httplib::Request& req, httplib::Response& res) {
    std::string raw = req.matches[1];
    const bool complete = req.matches[2] == "complete";
    std::optional<std::string> token = raw.find('%') == std::string::npos
                                           ? std::optional<std::string>(raw)
                                           : PercentDecode(raw);
    if (!token) {
      ++callbacks_refused_;
      Reply(res, 404, {{"error", "malformed token in the path"}});
      return;
    }
    adapter::TaskResult result;
    if (complete) {
      if (!json::accept(req.body)) {
        ++callbacks_refused_;
        Reply(res, 400,
              {{"error", "the body (the task's result) is not JSON"}});
        return;
      }
      result = adapter::TaskResult::Complete(req.body);
    } else {
      json j = json::parse(req.body, nullptr, false);
      std::string problem;
      if (j.is_discarded() || !j.is_object()) {
        problem = "the body must be a JSON object {\"error\", \"cause\"}";
      } else if (!j.contains("error") || !j["error"].is_string() ||
                 j["error"].get<std::string>().empty()) {
        problem = "error: a non-empty string is required";
      } else if (j["error"].get<std::string>().size() > kMaxErrorNameBytes) {
        problem = "error: longer than " + std::to_string(kMaxErrorNameBytes) +
                  " bytes";
      } else if (j.contains("cause") && !j["cause"].is_string() &&
                 !j["cause"].is_null()) {
        problem = "cause: must be a string";
      }
      if (!problem.empty()) {
        ++callbacks_refused_;
        Reply(res, 400, {{"error", problem}});
        return;
      }
      std::string cause;
      if (j.contains("cause") && j["cause"].is_string()) {
        cause = j["cause"].get<std::string>();
      }
      result = adapter::TaskResult::Fail(j["error"].get<std::string>(),
                                         Utf8Prefix(cause, kMaxCauseBytes));
    }

    std::shared_future<adapter::AnswerOutcome> outcome =
        AnswerHeld(*token, std::move(result), true);
    if (!outcome.valid()) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = answered_.find(*token);
      if (it == answered_.end()) {
        ++callbacks_refused_;
        Reply(res, 404,
              {{"error",
                "this bridge holds no task with this token (it may "
                "be handed back after a restart: try again later)"}});
        return;
      }
      if (!it->second.via_callback) {
        ++callbacks_refused_;
        Reply(res, 409,
              {{"error",
                "task already answered by the department's reply to "
                "the request"},
               {"code", "FAILED_PRECONDITION"}});
        return;
      }
      // A callback repeated: the outcome of the first one.
      outcome = it->second.outcome;
    }
    if (outcome.wait_for(opts_.callback_wait) != std::future_status::ready) {
      ++callbacks_refused_;
      res.set_header("Retry-After", "5");
      Reply(res, 503,
            {{"error",
              "the engine has not acknowledged the answer yet; the "
              "bridge keeps it and sends it when it can: call "
              "again to learn the outcome"}});
      return;
    }
    const adapter::AnswerOutcome o = outcome.get();
    if (o.ok() || (o.resent && o.code == 9)) {
      ++callbacks_accepted_;
      json body = {{"status", "accepted"}};
      if (!o.ok()) {
        body["note"] =
            "the answer was sent again after a reconnect and the engine "
            "already had it";
      }
      Reply(res, 200, body);
      spdlog::info("bridge: task {} answered by callback ({})", *token,
                   complete ? "complete" : "fail");
      return;
    }
    ++callbacks_refused_;
    int http = 502;
    switch (o.code) {
      case 3:  // INVALID_ARGUMENT
        http = 400;
        break;
      case 5:  // NOT_FOUND
        http = 410;
        break;
      case 8:  // RESOURCE_EXHAUSTED
        http = 413;
        break;
      case 9:  // FAILED_PRECONDITION
        http = o.message.find("withdrawn") != std::string::npos ||
                       o.message.find("cancel") != std::string::npos
                   ? 410
                   : 409;
        break;
      case 14:  // UNAVAILABLE
        http = 503;
        break;
      default:
        break;
    }
    Reply(res, http, {{"error", o.message}, {"code", StatusName(o.code)}});
  }

  BridgeOptions opts_;
  std::unique_ptr<adapter::Worker> worker_;
  std::unique_ptr<httplib::Server> server_;
  std::thread server_thread_;
  int callback_port_ = 0;
  std::string callback_base_;
  std::vector<std::thread> pool_;

  std::atomic<uint64_t> posts_{0};
  std::atomic<uint64_t> completed_{0};
  std::atomic<uint64_t> parked_{0};
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> unavailable_{0};
  std::atomic<uint64_t> callbacks_accepted_{0};
  std::atomic<uint64_t> callbacks_refused_{0};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;  // GUARDED_BY(mu_)
  bool stopped_ = false;  // GUARDED_BY(mu_)
  // Tokens waiting for a request thread, in arrival order.
  std::deque<std::string> queue_;  // GUARDED_BY(mu_)
  // Tasks held unanswered, by token.
  std::unordered_map<std::string, Held> held_;  // GUARDED_BY(mu_)
  // Tasks answered or withdrawn, by token, and in the order remembered.
  std::unordered_map<std::string, Answered> answered_;  // GUARDED_BY(mu_)
  std::deque<std::pair<Clock::time_point, std::string>>
      remembered_;  // GUARDED_BY(mu_)
};

Bridge::Bridge(BridgeOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Bridge::~Bridge() { impl_->Stop(); }

absl::Status Bridge::Start() { return impl_->Start(); }

void Bridge::Stop() { impl_->Stop(); }

int Bridge::callback_port() const { return impl_->callback_port(); }

std::string Bridge::callback_url() const { return impl_->callback_url(); }

BridgeStats Bridge::stats() const { return impl_->stats(); }

}  // namespace onewindow::http_bridge
