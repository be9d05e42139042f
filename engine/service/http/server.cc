#include "engine/service/http/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "engine/render/render.h"
#include "engine/render/svg.h"
#include "engine/service/http/http_util.h"
#include "engine/service/http/static_files.h"
#include "scheduler/thread_name.h"

namespace onewindow::service::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
namespace v1 = onewindow::v1;

namespace {

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kCsp =
    "default-src 'self'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'; object-src 'none'";
// Pages of history (1000 events each) read to highlight a case's path.
constexpr int kMaxHistoryPages = 100;
// Event stream frames written in one go.
constexpr size_t kMaxWriteBytes = 64 << 10;
// A case stream reads stored history a page at a time, the next page once
// fewer frames than a page wait: never more than the queue may hold.
size_t HistoryPage(size_t max_queued) {
  return std::clamp<size_t>(max_queued / 2, 1, 1000);
}

bool IsTerminalEvent(const std::string& type) {
  return type == "ExecutionSucceeded" || type == "ExecutionFailed" ||
         type == "ExecutionCancelled";
}

// Something Stop() must close.
class Connection {
 public:
  virtual ~Connection() = default;
  // Closes at once. Called with no I/O thread running.
  virtual void Abort() = 0;
};

// The door between engine threads and the I/O side: while the server runs,
// work from elsewhere reaches a connection through here; after Stop()
// closes it, nothing does (and no executor of a destroyed io_context is
// touched). Recursive: work done under it may post.
class Gate {
 public:
  // Runs fn(c) on c's strand if the server runs and c is still there.
  template <class C, class F>
  void Post(const std::weak_ptr<C>& wc, F fn) {
    std::lock_guard lock(mu_);
    if (!open_) return;
    std::shared_ptr<C> c = wc.lock();
    if (!c) return;
    auto ex = c->executor();
    net::post(ex, [c = std::move(c), fn = std::move(fn)]() mutable { fn(*c); });
  }
  // Runs fn() now, under the gate, if the server runs. False otherwise.
  template <class F>
  bool IfOpen(F&& fn) {
    std::lock_guard lock(mu_);
    if (!open_) return false;
    fn();
    return true;
  }
  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }

 private:
  std::recursive_mutex mu_;
  bool open_ = true;
};

// One admitted call of a principal (Authenticator::AdmitCall); released
// when the last holder lets go, wherever the reply ends up.
class CallSlot {
 public:
  CallSlot(Authenticator* auth, std::string principal)
      : auth_(auth), principal_(std::move(principal)) {}
  ~CallSlot() { auth_->ReleaseCall(principal_); }
  CallSlot(const CallSlot&) = delete;
  CallSlot& operator=(const CallSlot&) = delete;

 private:
  Authenticator* const auth_;
  const std::string principal_;
};

// Runs drawings (graphviz, which blocks) off the I/O and engine threads.
class DrawingPool {
 public:
  explicit DrawingPool(size_t max_jobs) : max_jobs_(max_jobs) {}
  ~DrawingPool() { Stop(); }

  void Start(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        scheduler::NameThisThread("ow-http-draw");
        Loop();
      });
    }
  }
  // False when max_jobs are queued or running.
  bool TrySubmit(std::function<void()> job) {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() + running_ >= max_jobs_) return false;
    queue_.push_back(std::move(job));
    cv_.notify_one();
    return true;
  }
  // Waits for the running drawings; drops the queued ones.
  void Stop() {
    std::deque<std::function<void()>> dropped;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      dropped.swap(queue_);
      cv_.notify_all();
    }
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        ++running_;
      }
      job();
      job = nullptr;
      std::lock_guard lock(mu_);
      --running_;
    }
  }

  const size_t max_jobs_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class HttpSession;
class EventStream;

// Shared between an event stream and the Authenticator's `end` callback
// (called when the principal leaves or changes on reload).
struct StreamSlot {
  std::mutex mu;
  std::weak_ptr<EventStream> stream;
  bool ended = false;
};

}  // namespace

struct HttpServer::Impl {
  HttpOptions opt;
  ServiceContext* sc = nullptr;
  Metrics* metrics = nullptr;
  std::function<bool()> ready;

  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
  std::vector<std::thread> threads;
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();
  DrawingPool drawings{8};
  int port = 0;

  std::mutex mu;
  bool stopped = false;                                        // GUARDED_BY(mu)
  uint64_t next_conn = 1;                                      // GUARDED_BY(mu)
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> conns;  // GUARDED_BY(mu)
  // Connections over the limit being answered 503.
  static constexpr int kMaxRefusing = 64;
  std::atomic<int> refusing{0};

  explicit Impl(const HttpOptions& o)
      : opt(o), drawings(static_cast<size_t>(std::max(1, o.max_drawings))) {}

  // Registers a connection; 0 when the server is full or stopped.
  uint64_t Register(std::shared_ptr<Connection> c, bool count_limit) {
    std::lock_guard lock(mu);
    if (stopped) return 0;
    if (count_limit && conns.size() >= opt.max_connections) return 0;
    const uint64_t id = next_conn++;
    conns.emplace(id, std::move(c));
    return id;
  }
  void Unregister(uint64_t id) {
    std::shared_ptr<Connection> c;
    {
      std::lock_guard lock(mu);
      auto it = conns.find(id);
      if (it == conns.end()) return;
      c = std::move(it->second);
      conns.erase(it);
    }
    // c is released here, outside the lock.
  }

  void Count(std::string_view route, int status) {
    if (metrics != nullptr) metrics->CountHttp(route, status);
  }

  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
};

namespace {

// Headers every reply carries.
void SecurityHeaders(Response& res) {
  res.set("Content-Security-Policy", kCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
}

std::string RemoteOf(const tcp::socket& s) {
  beast::error_code ec;
  tcp::endpoint ep = s.remote_endpoint(ec);
  if (ec) return "unknown";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// What a route takes in its query string.
struct RouteInfo {
  const char* name;  // for metrics and logs: "/api/v1/cases/{id}"
  std::vector<std::string_view> params;
  bool token_in_query = false;  // ?access_token= accepted (event streams)
};

// ---- event streams --------------------------------------------------------

// One Server-Sent Events stream: a case's history (stored, then live), or
// the status changes a filter selects. Owns the socket once the headers
// are due. Engine threads hand it events (WatchSink) under its mutex; the
// socket is used on its strand only.
class EventStream final : public Connection,
                          public scheduler::WatchSink,
                          public std::enable_shared_from_this<EventStream> {
 public:
  struct Params {
    std::string route;
    std::string case_id;  // empty: changes
    int64_t after_seq = 0;
    scheduler::WatchFilter filter;
    uint64_t stream_id = 0;  // Authenticator stream
    std::shared_ptr<StreamSlot> slot;
  };

  EventStream(HttpServer::Impl* s, tcp::socket socket, Params p)
      : s_(s),
        socket_(std::move(socket)),
        keepalive_(socket_.get_executor()),
        write_deadline_(socket_.get_executor()),
        p_(std::move(p)),
        last_seq_(p_.after_seq) {}

  ~EventStream() override {
    // Finish() ran before the last reference went (Stop() or the stream's
    // own end); the hub no longer knows this object.
  }

  net::any_io_executor executor() { return socket_.get_executor(); }

  // On the strand: registers, writes the headers, starts following.
  void Start() {
    conn_id_ = s_->Register(shared_from_this(), /*count_limit=*/false);
    if (conn_id_ == 0) {
      CloseSocket();
      s_->sc->auth->CloseStream(p_.stream_id);
      return;
    }
    {
      std::lock_guard lock(p_.slot->mu);
      p_.slot->stream = weak_from_this();
      if (p_.slot->ended) {
        std::lock_guard l(mu_);
        FailLocked(absl::UnauthenticatedError(
            "the principal's credentials changed; sign in again"));
      }
    }
    ++s_->sc->watch_streams;
    watching_ = true;
    s_->Count(p_.route, 200);
    std::string head =
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream; charset=utf-8\r\n"
        "Cache-Control: no-store\r\n"
        "X-Accel-Buffering: no\r\n"
        "Connection: close\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Referrer-Policy: no-referrer\r\n"
        "X-Frame-Options: DENY\r\n"
        "Content-Security-Policy: " +
        std::string(kCsp) +
        "\r\n\r\n"
        "retry: 3000\n\n";
    scheduler::WatchHub& hub = s_->sc->api->engine().watch();
    {
      std::lock_guard lock(mu_);
      queue_.push_front(std::move(head));
    }
    if (p_.case_id.empty()) {
      catching_up_ = false;
      watch_id_ = hub.WatchChanges(p_.filter, this);
    } else {
      // Watch first, then read what is stored: nothing falls in between.
      watch_id_ = hub.WatchCase(p_.case_id, this);
      {
        std::lock_guard lock(mu_);
        page_pending_ = true;
        next_page_after_ = p_.after_seq;
      }
    }
    ReadForClose();
    ArmKeepalive();
    Pump();
  }

  // WatchSink: shard threads, under the hub's lock.
  void OnEvents(const std::string&,
                const std::vector<v1::HistoryEvent>& events) override {
    bool pump;
    {
      std::lock_guard lock(mu_);
      if (catching_up_) {
        for (const auto& e : events) {
          if (held_.size() >= s_->opt.sse_max_queued) {
            FailLocked(Behind());
            break;
          }
          held_.push_back(e);
        }
      } else {
        for (const auto& e : events) QueueEventLocked(e);
      }
      pump = WantPumpLocked();
    }
    if (pump) SchedulePump();
  }

  void OnChange(const v1::CaseChange& change) override {
    bool pump;
    {
      std::lock_guard lock(mu_);
      QueueLocked(SseFrame("change", "", ToJson(change)));
      pump = WantPumpLocked();
    }
    if (pump) SchedulePump();
  }

  // The principal left or changed (auth reload).
  void EndByAuth() {
    {
      std::lock_guard lock(mu_);
      FailLocked(absl::UnauthenticatedError(
          "the principal's credentials changed; sign in again"));
    }
    Pump();
  }

  void Abort() override { Finish(); }

 private:
  absl::Status Behind() const {
    std::string msg = "the stream fell behind by " +
                      std::to_string(s_->opt.sse_max_queued) +
                      " events and was cut off; reconnect";
    if (!p_.case_id.empty()) msg += " (Last-Event-ID resumes it)";
    return absl::ResourceExhaustedError(msg);
  }

  // REQUIRES: mu_ held.
  void QueueEventLocked(const v1::HistoryEvent& e) {
    if (e.seq() <= last_seq_) return;  // already queued
    last_seq_ = e.seq();
    QueueLocked(SseFrame("history", std::to_string(e.seq()), ToJson(e)));
    if (IsTerminalEvent(e.type())) closing_ = true;
  }

  // REQUIRES: mu_ held.
  void QueueLocked(std::string frame) {
    if (closing_ || finished_) return;
    if (queue_.size() >= s_->opt.sse_max_queued) {
      FailLocked(Behind());
      return;
    }
    queue_.push_back(std::move(frame));
  }

  // Drops what waits and sends the error as the last event.
  // REQUIRES: mu_ held.
  void FailLocked(const absl::Status& s) {
    if (closing_ || finished_) return;
    queue_.clear();
    held_.clear();
    queue_.push_back(SseFrame("error", "", ErrorJson(s)));
    closing_ = true;
  }

  // REQUIRES: mu_ held.
  bool WantPumpLocked() {
    if (pump_posted_ || finished_) return false;
    pump_posted_ = true;
    return true;
  }

  void SchedulePump() {
    s_->gate->Post(weak_from_this(), [](EventStream& e) { e.Pump(); });
  }

  // On the strand: writes what waits, reads more stored history when the
  // queue runs low, ends the stream once it is drained and closing.
  void Pump() {
    bool read_page = false;
    bool start_write = false;
    bool end_now = false;
    int64_t page_after = 0;
    {
      std::lock_guard lock(mu_);
      pump_posted_ = false;
      if (finished_) return;
      if (page_pending_ && !closing_ &&
          queue_.size() < HistoryPage(s_->opt.sse_max_queued)) {
        page_pending_ = false;
        read_page = true;
        page_after = next_page_after_;
      }
      if (!writing_) {
        if (queue_.empty()) {
          end_now = closing_;
        } else {
          out_.clear();
          while (!queue_.empty() &&
                 (out_.empty() || out_.size() + queue_.front().size() <=
                                      kMaxWriteBytes)) {
            out_ += queue_.front();
            queue_.pop_front();
          }
          writing_ = true;
          start_write = true;
        }
      }
    }
    if (read_page) ReadStored(weak_from_this(), s_, p_.case_id, page_after);
    if (end_now) {
      Finish();
      return;
    }
    if (start_write) {
      write_deadline_.expires_after(s_->opt.write_timeout);
      write_deadline_.async_wait(
          [self = shared_from_this()](beast::error_code ec) {
            if (!ec) self->Finish();  // the reader stopped reading
          });
      net::async_write(socket_, net::buffer(out_),
                       [self = shared_from_this()](beast::error_code ec,
                                                   size_t) {
                         self->OnWritten(ec);
                       });
    }
  }

  void OnWritten(beast::error_code ec) {
    write_deadline_.cancel();
    {
      std::lock_guard lock(mu_);
      writing_ = false;
    }
    if (ec) {
      Finish();
      return;
    }
    Pump();
  }

  // Reads one page of stored history on a reader thread.
  static void ReadStored(std::weak_ptr<EventStream> weak,
                         HttpServer::Impl* s, const std::string& case_id,
                         int64_t after) {
    std::shared_ptr<Gate> gate = s->gate;
    s->sc->api->engine().GetHistory(
        case_id, after, static_cast<int>(HistoryPage(s->opt.sse_max_queued)),
        [weak, gate](absl::StatusOr<v1::GetCaseHistoryResponse> r) {
          bool pump = false;
          std::shared_ptr<EventStream> keep;
          gate->IfOpen([&] {
            keep = weak.lock();
            if (!keep) return;
            EventStream& me = *keep;
            std::lock_guard lock(me.mu_);
            if (me.finished_) return;
            if (!r.ok()) {
              me.FailLocked(r.status());
            } else {
              for (const auto& e : r->events()) me.QueueEventLocked(e);
              if (r->more()) {
                me.page_pending_ = true;
                me.next_page_after_ = me.last_seq_;
              } else {
                me.catching_up_ = false;
                for (const auto& e : me.held_) me.QueueEventLocked(e);
                me.held_.clear();
              }
            }
            pump = me.WantPumpLocked();
            if (pump) {
              gate->Post(weak, [](EventStream& e) { e.Pump(); });
            }
            keep.reset();  // released under the gate
          });
        });
  }

  // Reads (and drops) what the client sends, to notice when it goes.
  void ReadForClose() {
    socket_.async_read_some(
        net::buffer(sink_),
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) {
            self->Finish();
            return;
          }
          self->ReadForClose();
        });
  }

  void ArmKeepalive() {
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
    }
    keepalive_.expires_after(s_->opt.sse_keepalive);
    keepalive_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      {
        std::lock_guard lock(self->mu_);
        if (self->finished_) return;
        if (self->queue_.empty() && !self->writing_ && !self->closing_) {
          self->queue_.push_back(": keep-alive\n\n");
        }
      }
      self->Pump();
      self->ArmKeepalive();
    });
  }

  void CloseSocket() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  // On the strand (or at Stop): ends the stream. Idempotent.
  void Finish() {
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      finished_ = true;
      queue_.clear();
      held_.clear();
    }
    if (watch_id_ != 0) {
      s_->sc->api->engine().watch().Unwatch(watch_id_);
      watch_id_ = 0;
    }
    if (watching_) {
      --s_->sc->watch_streams;
      watching_ = false;
    }
    s_->sc->auth->CloseStream(p_.stream_id);
    keepalive_.cancel();
    write_deadline_.cancel();
    CloseSocket();
    s_->Unregister(conn_id_);
  }

  HttpServer::Impl* const s_;
  tcp::socket socket_;
  net::steady_timer keepalive_;
  net::steady_timer write_deadline_;
  const Params p_;
  uint64_t conn_id_ = 0;
  uint64_t watch_id_ = 0;
  bool watching_ = false;
  std::array<char, 1024> sink_;
  std::string out_;  // being written (strand)

  std::mutex mu_;
  std::deque<std::string> queue_;            // GUARDED_BY(mu_)
  std::vector<v1::HistoryEvent> held_;       // live events while catching up
  bool catching_up_ = true;                  // GUARDED_BY(mu_)
  bool page_pending_ = false;                // GUARDED_BY(mu_)
  int64_t next_page_after_ = 0;              // GUARDED_BY(mu_)
  bool writing_ = false;                     // GUARDED_BY(mu_)
  bool closing_ = false;  // drain the queue, then end   GUARDED_BY(mu_)
  bool finished_ = false;                    // GUARDED_BY(mu_)
  bool pump_posted_ = false;                 // GUARDED_BY(mu_)
  int64_t last_seq_ = 0;                     // GUARDED_BY(mu_)
};

// ---- request/response connections -----------------------------------------

class HttpSession final : public Connection,
                          public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(HttpServer::Impl* s, tcp::socket socket)
      : s_(s), stream_(std::move(socket)) {
    peer_ = RemoteOf(stream_.socket());
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

  void Start(uint64_t id) {
    id_ = id;
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->WaitForRequest(); });
  }

  void Abort() override {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  // ---- replies (on the strand) ----

  void SendJson(int status, std::string body) {
    Response res{static_cast<bhttp::status>(status), req_.version()};
    res.set(bhttp::field::content_type, kJson);
    res.set(bhttp::field::cache_control, "no-store");
    res.body() = std::move(body);
    Send(std::move(res));
  }

  void SendStatus(const absl::Status& s) {
    SendError(HttpStatusOf(s.code()), s);
  }

  // An error with its own HTTP status (413, 405...). API paths get the JSON
  // body; other paths plain text.
  void SendError(int status, const absl::Status& s) {
    if (s.code() == absl::StatusCode::kPermissionDenied) {
      spdlog::warn("{} by {} refused: {}", route_, principal_,
                   std::string(s.message()));
    }
    Response res{static_cast<bhttp::status>(status), req_.version()};
    if (api_path_) {
      res.set(bhttp::field::content_type, kJson);
      res.body() = ErrorJson(s);
    } else {
      res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
      res.body() = std::string(s.message()) + "\n";
    }
    res.set(bhttp::field::cache_control, "no-store");
    if (status == 401) res.set(bhttp::field::www_authenticate, "Bearer");
    if (status == 429 || status == 503) res.set(bhttp::field::retry_after, "1");
    if (status == 405 && !allow_.empty()) res.set(bhttp::field::allow, allow_);
    Send(std::move(res));
  }

  void SendText(int status, std::string_view content_type, std::string body,
                std::string_view cache_control) {
    Response res{static_cast<bhttp::status>(status), req_.version()};
    res.set(bhttp::field::content_type, content_type);
    res.set(bhttp::field::cache_control, cache_control);
    res.body() = std::move(body);
    Send(std::move(res));
  }

  // Hands the connection to an event stream (its headers not yet sent).
  void StartEventStream(EventStream::Params p) {
    if (closed_) {
      s_->sc->auth->CloseStream(p.stream_id);
      return;
    }
    closed_ = true;
    stream_.expires_never();
    tcp::socket socket = stream_.release_socket();
    auto es = std::make_shared<EventStream>(s_, std::move(socket), std::move(p));
    es->Start();
    s_->Unregister(id_);
  }

  // This connection is over the limit: its request gets a 503.
  void Refuse() {
    refuse_ = true;
    ++s_->refusing;
  }

 private:
  // ---- reading ----

  void WaitForRequest() {
    if (buffer_.size() > 0) {
      ReadRequest();
      return;
    }
    stream_.expires_after(refuse_ ? std::min(s_->opt.idle_timeout, kRefuseWait)
                                  : s_->opt.idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(4096),
        [self = shared_from_this()](beast::error_code ec, size_t n) {
          if (ec) {
            self->Close();
            return;
          }
          self->buffer_.commit(n);
          self->ReadRequest();
        });
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(s_->opt.max_header_bytes));
    parser_->body_limit(s_->opt.max_body_bytes);
    stream_.expires_after(refuse_
                              ? std::min(s_->opt.request_timeout, kRefuseWait)
                              : s_->opt.request_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          self->OnHeader(ec);
        });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    const auto& h = parser_->get();
    if (beast::iequals(h[bhttp::field::expect], "100-continue") &&
        !parser_->is_done()) {
      // The body comes only when asked for (curl waits for this).
      net::async_write(stream_, net::buffer(kContinue),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec) {
                           self->Close();
                           return;
                         }
                         self->ReadBody();
                       });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        self->OnRead(ec);
                      });
  }

  void OnReadError(beast::error_code ec) {
    route_ = "(request)";
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::eof ||
        ec == net::error::connection_reset) {
      Close();
      return;
    }
    keep_alive_ = false;
    req_ = {};
    if (ec == bhttp::error::header_limit) {
      SendError(431, absl::ResourceExhaustedError(
                         "request headers: more than " +
                         std::to_string(s_->opt.max_header_bytes) +
                         " bytes, the limit"));
      return;
    }
    if (ec == bhttp::error::body_limit) {
      api_path_ = parser_ && parser_->get().target().substr(0, 5) == "/api/";
      SendError(413, absl::ResourceExhaustedError(
                         "request body: more than " +
                         std::to_string(s_->opt.max_body_bytes) +
                         " bytes, the limit"));
      return;
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target)
                             .category()) {
      SendError(400, absl::InvalidArgumentError("malformed request: " +
                                                ec.message()));
      return;
    }
    Close();
  }

  void OnRead(beast::error_code ec) {
    if (ec) {
      OnReadError(ec);
      return;
    }
    stream_.expires_never();  // the reply may wait for a commit
    req_ = parser_->release();
    parser_.reset();
    keep_alive_ = req_.keep_alive();
    Dispatch();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    if (refuse_) --s_->refusing;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
    s_->Unregister(id_);
  }

  void Send(Response res) {
    if (closed_) return;
    SecurityHeaders(res);
    res.keep_alive(keep_alive_);
    const int status = static_cast<int>(res.result_int());
    if (req_.method() == bhttp::verb::head) {
      const size_t n = res.body().size();
      res.body().clear();
      res.content_length(n);
    } else {
      res.prepare_payload();
    }
    s_->Count(route_, status);
    spdlog::debug("http {} {} {} -> {}", peer_, req_.method_string(), path_,
                  status);
    res_ = std::move(res);
    stream_.expires_after(s_->opt.write_timeout);
    bhttp::async_write(stream_, res_,
                       [self = shared_from_this()](beast::error_code ec,
                                                   size_t) {
                         self->OnWritten(ec);
                       });
  }

  void OnWritten(beast::error_code ec) {
    if (ec || !keep_alive_ || res_.need_eof()) {
      Close();
      return;
    }
    res_ = {};
    req_ = {};
    route_.clear();
    principal_.clear();
    allow_.clear();
    api_path_ = false;
    WaitForRequest();
  }

  // ---- routing ----

  void Dispatch();
  bool CheckQuery(const RouteInfo& r);
  bool Allow(std::initializer_list<bhttp::verb> verbs, const char* allow);
  std::optional<Caller> Authenticate(bool token_in_query);
  std::optional<std::string> Param(std::string_view name) const;
  bool IntParam(std::string_view name, int64_t min, int64_t max, int64_t* out);
  template <typename M>
  bool ParseBody(M* m);

  template <typename Req, typename Resp>
  void Unary(const Req& req,
             void (Api::*fn)(const Caller&, const Req&, Done<Resp>));
  // A POST on /cases/{id}/...: the body's case_id, if any, must be `id`.
  template <typename Req, typename Resp>
  void UnaryForCase(const std::string& id,
                    void (Api::*fn)(const Caller&, const Req&, Done<Resp>));

  void ServeApi(const std::vector<std::string>& rest);
  void ServeStatic();
  void ServeMetrics();
  void ServeGraph(const std::string& name);
  void ServeCaseEvents(const std::string& case_id);
  void ServeChanges();

  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  static constexpr std::chrono::seconds kRefuseWait{5};

  HttpServer::Impl* const s_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request req_;
  Response res_;
  Target target_;
  uint64_t id_ = 0;
  std::string peer_;
  std::string path_;       // for logs: the path, never the query
  std::string route_;      // for metrics and logs
  std::string principal_;  // for logs
  std::string allow_;      // Allow header of a 405
  bool api_path_ = false;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool refuse_ = false;
};

bool HttpSession::Allow(std::initializer_list<bhttp::verb> verbs,
                        const char* allow) {
  for (bhttp::verb v : verbs) {
    if (req_.method() == v) return true;
  }
  allow_ = allow;
  SendError(405, absl::UnimplementedError(
                     std::string(req_.method_string()) + " " + route_ +
                     ": method not allowed (allowed: " + allow + ")"));
  return false;
}

std::optional<std::string> HttpSession::Param(std::string_view name) const {
  for (const auto& [k, v] : target_.query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

bool HttpSession::CheckQuery(const RouteInfo& r) {
  for (const auto& [k, v] : target_.query) {
    if (k == "access_token") {
      if (r.token_in_query) continue;
      SendStatus(absl::InvalidArgumentError(
          "query parameter \"access_token\": accepted only on the event "
          "stream routes; send the header Authorization: Bearer <token>"));
      return false;
    }
    bool known = false;
    for (std::string_view p : r.params) known = known || p == k;
    if (!known) {
      std::string list;
      for (std::string_view p : r.params) {
        if (!list.empty()) list += ", ";
        list += p;
      }
      SendStatus(absl::InvalidArgumentError(
          "query parameter \"" + k.substr(0, 64) + "\": not known on " +
          r.name + (list.empty() ? " (it takes none)" : " (known: " + list + ")")));
      return false;
    }
  }
  return true;
}

bool HttpSession::IntParam(std::string_view name, int64_t min, int64_t max,
                           int64_t* out) {
  std::optional<std::string> v = Param(name);
  if (!v || v->empty()) return true;
  std::optional<int64_t> n = ParseInt(*v);
  if (!n || *n < min || *n > max) {
    SendStatus(absl::InvalidArgumentError(
        "query parameter \"" + std::string(name) + "\": expected an integer " +
        std::to_string(min) + ".." + std::to_string(max)));
    return false;
  }
  *out = *n;
  return true;
}

template <typename M>
bool HttpSession::ParseBody(M* m) {
  const std::string_view ct = req_[bhttp::field::content_type];
  if (!req_.body().empty()) {
    std::string_view media = ct.substr(0, ct.find(';'));
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    if (!beast::iequals(media, kJson)) {
      SendError(415, absl::InvalidArgumentError(
                         "request body: Content-Type must be application/json"));
      return false;
    }
  }
  if (absl::Status s = FromJson(req_.body(), m); !s.ok()) {
    SendStatus(s);
    return false;
  }
  return true;
}

std::optional<Caller> HttpSession::Authenticate(bool token_in_query) {
  std::string authorization(req_[bhttp::field::authorization]);
  if (authorization.empty() && token_in_query) {
    if (std::optional<std::string> t = Param("access_token"); t && !t->empty()) {
      authorization = "Bearer " + *t;
    }
  }
  absl::StatusOr<Caller> c =
      s_->sc->auth->Authenticate(authorization, "", peer_, route_);
  if (!c.ok()) {
    SendStatus(c.status());
    return std::nullopt;
  }
  principal_ = c->principal;
  return *c;
}

template <typename Req, typename Resp>
void HttpSession::UnaryForCase(
    const std::string& id,
    void (Api::*fn)(const Caller&, const Req&, Done<Resp>)) {
  Req req;
  if (!ParseBody(&req)) return;
  if (!req.case_id().empty() && req.case_id() != id) {
    SendStatus(absl::InvalidArgumentError(
        "case_id: the body names another case than the path"));
    return;
  }
  req.set_case_id(id);
  Unary(req, fn);
}

template <typename Req, typename Resp>
void HttpSession::Unary(const Req& req,
                        void (Api::*fn)(const Caller&, const Req&, Done<Resp>)) {
  std::optional<Caller> caller = Authenticate(false);
  if (!caller) return;
  if (absl::Status s = s_->sc->auth->AdmitCall(caller->principal); !s.ok()) {
    SendStatus(s);
    return;
  }
  auto slot = std::make_shared<CallSlot>(s_->sc->auth, caller->principal);
  std::shared_ptr<Gate> gate = s_->gate;
  std::weak_ptr<HttpSession> weak = weak_from_this();
  (s_->sc->api->*fn)(
      *caller, req, [gate, weak, slot](absl::StatusOr<Resp> res) mutable {
        std::string body;
        absl::Status st = res.status();
        if (res.ok()) body = ToJson(*res);
        slot.reset();
        gate->Post(weak, [st, body = std::move(body)](HttpSession& s) mutable {
          if (st.ok()) {
            s.SendJson(200, std::move(body));
          } else {
            s.SendStatus(st);
          }
        });
      });
}

void HttpSession::Dispatch() {
  absl::StatusOr<Target> t = ParseTarget(req_.target());
  const std::string_view raw = req_.target();
  path_ = std::string(raw.substr(0, std::min(raw.find('?'), size_t{256})));
  api_path_ = raw.substr(0, 5) == "/api/" || raw == "/api";
  if (!t.ok()) {
    route_ = "(bad target)";
    const bool too_long = raw.size() > kMaxTargetBytes;
    SendError(too_long ? 414 : 400, t.status());
    return;
  }
  target_ = std::move(*t);
  if (refuse_) {
    keep_alive_ = false;
    route_ = "(over connection limit)";
    SendError(503, absl::UnavailableError(
                       "the server holds its limit of " +
                       std::to_string(s_->opt.max_connections) +
                       " open connections; try again"));
    return;
  }
  const auto& segs = target_.segments;
  if (!segs.empty() && segs[0] == "api") {
    api_path_ = true;
    if (segs.size() < 2 || segs[1] != "v1") {
      route_ = "(unknown)";
      SendStatus(absl::NotFoundError("no route " + path_ +
                                     " (the API is under /api/v1/)"));
      return;
    }
    ServeApi(std::vector<std::string>(segs.begin() + 2, segs.end()));
    return;
  }
  if (segs.size() == 1 && segs[0] == "metrics") {
    route_ = "/metrics";
    if (!Allow({bhttp::verb::get, bhttp::verb::head}, "GET, HEAD")) return;
    ServeMetrics();
    return;
  }
  if (segs.size() == 1 && segs[0] == "healthz") {
    route_ = "/healthz";
    if (!Allow({bhttp::verb::get, bhttp::verb::head}, "GET, HEAD")) return;
    SendText(200, "text/plain; charset=utf-8", "ok\n", "no-store");
    return;
  }
  if (segs.size() == 1 && segs[0] == "readyz") {
    route_ = "/readyz";
    if (!Allow({bhttp::verb::get, bhttp::verb::head}, "GET, HEAD")) return;
    const bool ready = !s_->ready || s_->ready();
    SendText(ready ? 200 : 503, "text/plain; charset=utf-8",
             ready ? "ready\n" : "not ready\n", "no-store");
    return;
  }
  ServeStatic();
}

void HttpSession::ServeStatic() {
  route_ = "(static)";
  if (!Allow({bhttp::verb::get, bhttp::verb::head}, "GET, HEAD")) return;
  std::string path;
  for (const auto& s : target_.segments) {
    if (!path.empty()) path += '/';
    path += s;
  }
  std::optional<StaticFile> f;
  if (!path.empty()) f = FindStaticFile(path);
  if (!f) {
    if (!target_.segments.empty() && target_.segments[0] == "assets") {
      SendError(404, absl::NotFoundError("no file /" + path));
      return;
    }
    // The console's own routes (/counter, /board...) and "/".
    f = IndexPage();
  }
  SendText(200, f->content_type, std::string(f->body),
           f->immutable ? "public, max-age=31536000, immutable" : "no-cache");
}

void HttpSession::ServeMetrics() {
  if (s_->metrics == nullptr) {
    SendError(404, absl::NotFoundError("metrics are not kept by this server"));
    return;
  }
  std::shared_ptr<Gate> gate = s_->gate;
  std::weak_ptr<HttpSession> weak = weak_from_this();
  Metrics* metrics = s_->metrics;
  ServiceContext* sc = s_->sc;
  // The figures come from the store: a reader thread renders them.
  sc->api->engine().RunOnReader([gate, weak, metrics, sc] {
    std::string text = metrics->Render(sc->api->engine(), sc);
    gate->Post(weak, [text = std::move(text)](HttpSession& s) mutable {
      s.SendText(200, "text/plain; version=0.0.4; charset=utf-8",
                 std::move(text), "no-store");
    });
  });
}

void HttpSession::ServeApi(const std::vector<std::string>& rest) {
  using V = bhttp::verb;
  const size_t n = rest.size();
  auto is = [&](size_t i, std::string_view s) { return n > i && rest[i] == s; };

  if (n == 1 && is(0, "whoami")) {
    static const RouteInfo r{"/api/v1/whoami", {}};
    route_ = r.name;
    if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
    Unary(v1::WhoAmIRequest(), &Api::WhoAmI);
    return;
  }
  if (is(0, "workflows")) {
    if (n == 1) {
      static const RouteInfo r{"/api/v1/workflows", {"name"}};
      route_ = r.name;
      if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
      v1::ListWorkflowsRequest req;
      req.set_name(Param("name").value_or(""));
      Unary(req, &Api::ListWorkflows);
      return;
    }
    if (n == 2 && is(1, "validate") && req_.method() == V::post) {
      static const RouteInfo r{"/api/v1/workflows/validate", {}};
      route_ = r.name;
      if (!CheckQuery(r)) return;
      v1::ValidateWorkflowRequest req;
      if (!ParseBody(&req)) return;
      Unary(req, &Api::ValidateWorkflow);
      return;
    }
    if (n == 2) {
      static const RouteInfo r{"/api/v1/workflows/{name}", {"version"}};
      route_ = r.name;
      if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
      v1::GetWorkflowRequest req;
      req.set_name(rest[1]);
      int64_t version = 0;
      if (!IntParam("version", 0, INT64_MAX, &version)) return;
      req.set_version(version);
      Unary(req, &Api::GetWorkflow);
      return;
    }
    if (n == 3 && is(2, "graph.svg")) {
      static const RouteInfo r{"/api/v1/workflows/{name}/graph.svg",
                               {"version", "case"}};
      route_ = r.name;
      if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
      ServeGraph(rest[1]);
      return;
    }
  }
  if (is(0, "cases")) {
    if (n == 1 && req_.method() == V::post) {
      static const RouteInfo r{"/api/v1/cases (POST)", {}};
      route_ = r.name;
      if (!CheckQuery(r)) return;
      v1::SubmitCaseRequest req;
      if (!ParseBody(&req)) return;
      Unary(req, &Api::SubmitCase);
      return;
    }
    if (n == 1) {
      static const RouteInfo r{
          "/api/v1/cases",
          {"status", "service", "department", "overdue", "applicant",
           "submitted_after_ms", "submitted_before_ms", "version", "limit",
           "page_token"}};
      route_ = r.name;
      if (!Allow({V::get, V::post}, "GET, POST") || !CheckQuery(r)) return;
      v1::ListCasesRequest req;
      if (auto s = Param("status"); s && !s->empty()) {
        std::optional<v1::CaseStatus> st = ParseCaseStatus(*s);
        if (!st) {
          SendStatus(absl::InvalidArgumentError(
              "query parameter \"status\": expected RUNNING, SUCCEEDED, "
              "FAILED or CANCELLED"));
          return;
        }
        req.set_status(*st);
      }
      req.set_service(Param("service").value_or(""));
      req.set_department(Param("department").value_or(""));
      req.set_applicant(Param("applicant").value_or(""));
      req.set_page_token(Param("page_token").value_or(""));
      if (auto o = Param("overdue"); o && !o->empty()) {
        std::optional<bool> b = ParseBool(*o);
        if (!b) {
          SendStatus(absl::InvalidArgumentError(
              "query parameter \"overdue\": expected true or false"));
          return;
        }
        req.set_overdue(*b);
      }
      int64_t after = 0, before = 0, version = 0, limit = 0;
      if (!IntParam("submitted_after_ms", 0, INT64_MAX, &after) ||
          !IntParam("submitted_before_ms", 0, INT64_MAX, &before) ||
          !IntParam("version", 0, INT64_MAX, &version) ||
          !IntParam("limit", 0, INT32_MAX, &limit)) {
        return;
      }
      req.set_submitted_after_ms(after);
      req.set_submitted_before_ms(before);
      req.set_version(version);
      req.set_limit(static_cast<int32_t>(limit));
      Unary(req, &Api::ListCases);
      return;
    }
    const std::string& id = n > 1 ? rest[1] : std::string();
    if (n == 2) {
      static const RouteInfo r{"/api/v1/cases/{id}", {}};
      route_ = r.name;
      if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
      v1::GetCaseRequest req;
      req.set_case_id(id);
      Unary(req, &Api::GetCase);
      return;
    }
    if (n == 3 && is(2, "history")) {
      static const RouteInfo r{"/api/v1/cases/{id}/history",
                               {"after_seq", "limit"}};
      route_ = r.name;
      if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
      v1::GetCaseHistoryRequest req;
      req.set_case_id(id);
      int64_t after = 0, limit = 0;
      if (!IntParam("after_seq", 0, INT64_MAX, &after) ||
          !IntParam("limit", 0, INT32_MAX, &limit)) {
        return;
      }
      req.set_after_seq(after);
      req.set_limit(static_cast<int32_t>(limit));
      Unary(req, &Api::GetCaseHistory);
      return;
    }
    if (n == 3 && is(2, "verify")) {
      static const RouteInfo r{"/api/v1/cases/{id}/verify", {}};
      route_ = r.name;
      if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
      v1::VerifyCaseRequest req;
      req.set_case_id(id);
      Unary(req, &Api::VerifyCase);
      return;
    }
    if (n == 3 && is(2, "cancel")) {
      static const RouteInfo r{"/api/v1/cases/{id}/cancel", {}};
      route_ = r.name;
      if (!Allow({V::post}, "POST") || !CheckQuery(r)) return;
      UnaryForCase(id, &Api::CancelCase);
      return;
    }
    if (n == 3 && is(2, "documents")) {
      static const RouteInfo r{"/api/v1/cases/{id}/documents", {}};
      route_ = r.name;
      if (!Allow({V::post}, "POST") || !CheckQuery(r)) return;
      UnaryForCase(id, &Api::AddDocuments);
      return;
    }
    if (n == 3 && is(2, "events")) {
      static const RouteInfo r{"/api/v1/cases/{id}/events", {"after_seq"}, true};
      route_ = r.name;
      if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
      ServeCaseEvents(id);
      return;
    }
  }
  if (n == 1 && is(0, "changes")) {
    static const RouteInfo r{"/api/v1/changes",
                             {"service", "status", "department"}, true};
    route_ = r.name;
    if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
    ServeChanges();
    return;
  }
  if (n == 1 && is(0, "board")) {
    static const RouteInfo r{"/api/v1/board", {}};
    route_ = r.name;
    if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
    Unary(v1::GetBoardRequest(), &Api::GetBoard);
    return;
  }
  if (is(0, "tasks")) {
    if (n == 1) {
      static const RouteInfo r{"/api/v1/tasks",
                               {"department", "limit", "page_token"}};
      route_ = r.name;
      if (!Allow({V::get}, "GET") || !CheckQuery(r)) return;
      v1::ListTasksRequest req;
      req.set_department(Param("department").value_or(""));
      req.set_page_token(Param("page_token").value_or(""));
      int64_t limit = 0;
      if (!IntParam("limit", 0, INT32_MAX, &limit)) return;
      req.set_limit(static_cast<int32_t>(limit));
      Unary(req, &Api::ListTasks);
      return;
    }
    if (n == 2 && is(1, "complete")) {
      static const RouteInfo r{"/api/v1/tasks/complete", {}};
      route_ = r.name;
      if (!Allow({V::post}, "POST") || !CheckQuery(r)) return;
      v1::CompleteTaskRequest req;
      if (!ParseBody(&req)) return;
      Unary(req, &Api::CompleteTask);
      return;
    }
    if (n == 2 && is(1, "fail")) {
      static const RouteInfo r{"/api/v1/tasks/fail", {}};
      route_ = r.name;
      if (!Allow({V::post}, "POST") || !CheckQuery(r)) return;
      v1::FailTaskRequest req;
      if (!ParseBody(&req)) return;
      Unary(req, &Api::FailTask);
      return;
    }
  }
  route_ = "(unknown)";
  SendStatus(absl::NotFoundError("no route " +
                                 std::string(req_.method_string()) + " " +
                                 path_));
}

// ---- graph.svg -------------------------------------------------------------

struct GraphJob {
  HttpServer::Impl* s;  // used under the gate only
  std::shared_ptr<Gate> gate;
  std::weak_ptr<HttpSession> session;
  std::shared_ptr<CallSlot> slot;
  std::string name;
  int64_t version = 0;
  std::string case_id;
  std::optional<v1::Case> the_case;
  std::vector<render::HistoryStep> steps;
  int pages = 0;
  HttpOptions opt;
};

void ReplyGraph(const std::shared_ptr<GraphJob>& job,
                absl::StatusOr<std::string> svg, bool cacheable) {
  job->slot.reset();
  job->gate->Post(job->session,
                  [svg = std::move(svg), cacheable](HttpSession& s) mutable {
                    if (!svg.ok()) {
                      s.SendStatus(svg.status());
                      return;
                    }
                    s.SendText(200, "image/svg+xml", std::move(*svg),
                               cacheable ? "private, max-age=3600" : "no-store");
                  });
}

void DrawNow(const std::shared_ptr<GraphJob>& job,
             scheduler::WorkflowRegistry& registry) {
  absl::StatusOr<scheduler::DeployedWorkflow> wf =
      registry.Get(job->name, job->version);
  if (!wf.ok()) {
    ReplyGraph(job, wf.status(), false);
    return;
  }
  render::RenderOptions options;
  options.title = job->name + "@" + std::to_string(wf->record->version());
  render::Highlight highlight;
  if (job->the_case) {
    highlight = render::HighlightFromHistory(
        job->steps,
        std::vector<std::string>(job->the_case->current_states().begin(),
                                 job->the_case->current_states().end()));
    options.highlight = &highlight;
    std::string status = v1::CaseStatus_Name(job->the_case->status());
    if (status.rfind("CASE_STATUS_", 0) == 0) status = status.substr(12);
    options.title += " \xE2\x80\x94 case " + job->the_case->id() + " (" +
                     status + ")";
  }
  const std::string dot = render::ToDot(*wf->definition, options);
  render::SvgOptions so;
  so.dot_program = job->opt.dot_program;
  so.timeout_ms = job->opt.drawing_timeout.count();
  so.max_output_bytes = job->opt.max_drawing_bytes;
  absl::StatusOr<std::string> svg = render::DotToSvg(dot, so);
  if (!svg.ok() && svg.status().code() == absl::StatusCode::kNotFound) {
    svg = absl::UnavailableError("graph.svg: " +
                                 std::string(svg.status().message()));
  } else if (!svg.ok()) {
    svg = absl::Status(svg.status().code(),
                       "graph.svg: " + std::string(svg.status().message()));
  }
  // A fixed version drawn without a case never changes.
  ReplyGraph(job, std::move(svg), job->version != 0 && !job->the_case);
}

void QueueDrawing(const std::shared_ptr<GraphJob>& job) {
  job->gate->IfOpen([&] {
    HttpServer::Impl* s = job->s;
    scheduler::WorkflowRegistry* registry = &s->sc->api->engine().registry();
    if (!s->drawings.TrySubmit([job, registry] { DrawNow(job, *registry); })) {
      ReplyGraph(job,
                 absl::ResourceExhaustedError(
                     "graph.svg: " + std::to_string(s->opt.max_drawings) +
                     " drawings are under way, the limit; try again"),
                 false);
    }
  });
}

void FetchHistory(const std::shared_ptr<GraphJob>& job, int64_t after,
                  scheduler::Engine* engine) {
  engine->GetHistory(
      job->the_case->id(), after, 1000,
      [job, engine](absl::StatusOr<v1::GetCaseHistoryResponse> r) {
        if (!r.ok()) {
          ReplyGraph(job, r.status(), false);
          return;
        }
        int64_t last = 0;
        for (const auto& e : r->events()) {
          job->steps.push_back({e.type(), e.state()});
          last = e.seq();
        }
        if (r->more() && ++job->pages < kMaxHistoryPages) {
          engine->RunOnReader(
              [job, last, engine] { FetchHistory(job, last, engine); });
          return;
        }
        QueueDrawing(job);
      });
}

void HttpSession::ServeGraph(const std::string& name) {
  std::optional<Caller> caller = Authenticate(false);
  if (!caller) return;
  if (absl::Status s = Authorize(*caller, Op::kValidateWorkflow); !s.ok()) {
    SendStatus(s);
    return;
  }
  auto job = std::make_shared<GraphJob>();
  job->s = s_;
  job->gate = s_->gate;
  job->session = weak_from_this();
  job->name = name;
  job->opt = s_->opt;
  if (!IntParam("version", 0, INT64_MAX, &job->version)) return;
  job->case_id = Param("case").value_or("");
  if (!job->case_id.empty()) {
    if (absl::Status s = Authorize(*caller, Op::kReadCases); !s.ok()) {
      SendStatus(s);
      return;
    }
  }
  if (absl::Status s = s_->sc->auth->AdmitCall(caller->principal); !s.ok()) {
    SendStatus(s);
    return;
  }
  job->slot = std::make_shared<CallSlot>(s_->sc->auth, caller->principal);
  if (job->case_id.empty()) {
    QueueDrawing(job);
    return;
  }
  scheduler::Engine* engine = &s_->sc->api->engine();
  v1::GetCaseRequest req;
  req.set_case_id(job->case_id);
  s_->sc->api->GetCase(
      *caller, req, [job, engine](absl::StatusOr<v1::GetCaseResponse> r) {
        if (!r.ok()) {
          ReplyGraph(job, r.status(), false);
          return;
        }
        if (r->case_().service() != job->name) {
          ReplyGraph(job,
                     absl::InvalidArgumentError(
                         "case: " + r->case_().id() + " runs service " +
                         r->case_().service() + ", not " + job->name),
                     false);
          return;
        }
        if (job->version == 0) job->version = r->case_().version();
        job->the_case = r->case_();
        FetchHistory(job, 0, engine);
      });
}

// ---- event stream routes ---------------------------------------------------

void HttpSession::ServeCaseEvents(const std::string& case_id) {
  int64_t after = 0;
  if (!IntParam("after_seq", 0, INT64_MAX, &after)) return;
  const std::string_view last_id = req_["Last-Event-ID"];
  if (!last_id.empty()) {
    std::optional<int64_t> n = ParseInt(last_id);
    if (!n || *n < 0) {
      SendStatus(absl::InvalidArgumentError(
          "Last-Event-ID: expected the seq of a history event"));
      return;
    }
    after = *n;
  }
  std::optional<Caller> caller = Authenticate(true);
  if (!caller) return;
  v1::WatchCaseRequest wreq;
  wreq.set_case_id(case_id);
  wreq.set_after_seq(after);
  if (absl::Status s = s_->sc->api->CanWatch(*caller, wreq); !s.ok()) {
    SendStatus(s);
    return;
  }
  auto slot = std::make_shared<StreamSlot>();
  std::shared_ptr<Gate> gate = s_->gate;
  absl::StatusOr<uint64_t> sid =
      s_->sc->auth->OpenStream(*caller, [slot, gate] {
        std::lock_guard lock(slot->mu);
        slot->ended = true;
        gate->Post(slot->stream, [](EventStream& e) { e.EndByAuth(); });
      });
  if (!sid.ok()) {
    SendStatus(sid.status());
    return;
  }
  EventStream::Params p;
  p.route = route_;
  p.case_id = *scheduler::Engine::CheckCaseId(case_id);
  p.after_seq = after;
  p.stream_id = *sid;
  p.slot = slot;
  std::weak_ptr<HttpSession> weak = weak_from_this();
  Authenticator* auth = s_->sc->auth;
  v1::GetCaseRequest greq;
  greq.set_case_id(case_id);
  // The case first: unknown is a 404, and an ended case with nothing after
  // after_seq is a 204 (which tells EventSource not to reconnect).
  s_->sc->api->GetCase(
      *caller, greq,
      [gate, weak, auth, p = std::move(p)](
          absl::StatusOr<v1::GetCaseResponse> r) mutable {
        const uint64_t sid = p.stream_id;
        bool delivered = false;
        gate->IfOpen([&] {
          if (weak.expired()) return;
          delivered = true;
          gate->Post(weak, [r = std::move(r), p = std::move(p),
                            auth](HttpSession& s) mutable {
            if (!r.ok()) {
              auth->CloseStream(p.stream_id);
              s.SendStatus(r.status());
              return;
            }
            const v1::Case& c = r->case_();
            if (c.status() != v1::CASE_STATUS_RUNNING &&
                p.after_seq >= c.history_seq()) {
              auth->CloseStream(p.stream_id);
              s.SendText(204, "text/plain; charset=utf-8", "", "no-store");
              return;
            }
            s.StartEventStream(std::move(p));
          });
        });
        if (!delivered) auth->CloseStream(sid);
      });
}

void HttpSession::ServeChanges() {
  scheduler::WatchFilter f;
  f.service = Param("service").value_or("");
  f.department = Param("department").value_or("");
  if (auto s = Param("status"); s && !s->empty()) {
    std::optional<v1::CaseStatus> st = ParseCaseStatus(*s);
    if (!st) {
      SendStatus(absl::InvalidArgumentError(
          "query parameter \"status\": expected RUNNING, SUCCEEDED, FAILED or "
          "CANCELLED"));
      return;
    }
    f.status = *st;
  }
  std::optional<Caller> caller = Authenticate(true);
  if (!caller) return;
  if (absl::Status s = s_->sc->api->CanWatch(*caller, v1::WatchCaseRequest());
      !s.ok()) {
    SendStatus(s);
    return;
  }
  auto slot = std::make_shared<StreamSlot>();
  std::shared_ptr<Gate> gate = s_->gate;
  absl::StatusOr<uint64_t> sid =
      s_->sc->auth->OpenStream(*caller, [slot, gate] {
        std::lock_guard lock(slot->mu);
        slot->ended = true;
        gate->Post(slot->stream, [](EventStream& e) { e.EndByAuth(); });
      });
  if (!sid.ok()) {
    SendStatus(sid.status());
    return;
  }
  EventStream::Params p;
  p.route = route_;
  p.filter = f;
  p.stream_id = *sid;
  p.slot = slot;
  StartEventStream(std::move(p));
}

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(
      net::make_strand(ioc),
      [this](beast::error_code ec, tcp::socket socket) {
        OnAccept(ec, std::move(socket));
      });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Out of descriptors and the like: try again shortly, do not spin.
    spdlog::warn("http: accept failed: {}", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(100));
    accept_retry.async_wait([this](beast::error_code e) {
      if (!e) Accept();
    });
    return;
  }
  auto session = std::make_shared<HttpSession>(this, std::move(socket));
  uint64_t id = Register(session, /*count_limit=*/true);
  if (id == 0 && refusing.load() < kMaxRefusing) {
    // Over the limit: the client still gets a 503 for its request (read
    // under a short deadline), as long as few such refusals are under way.
    id = Register(session, /*count_limit=*/false);
    if (id != 0) session->Refuse();
  }
  if (id == 0) {
    session->Abort();
    Count("(over connection limit)", 503);
  } else {
    session->Start(id);
  }
  Accept();
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port; }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    HttpOptions options, ServiceContext* ctx, Metrics* metrics,
    std::function<bool()> ready) {
  if (ctx == nullptr || ctx->api == nullptr || ctx->auth == nullptr) {
    return absl::InvalidArgumentError("http: a service context is required");
  }
  if (options.threads < 1 || options.threads > 64) {
    return absl::InvalidArgumentError("http threads: expected 1..64");
  }
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("http max_connections: at least 1");
  }
  if (options.sse_max_queued < 1) {
    return absl::InvalidArgumentError("http sse_max_queued: at least 1");
  }
  absl::StatusOr<ListenAddress> la = ParseListen(options.listen);
  if (!la.ok()) return la.status();

  auto impl = std::make_shared<Impl>(options);
  impl->sc = ctx;
  impl->metrics = metrics;
  impl->ready = std::move(ready);

  beast::error_code ec;
  net::ip::address address = net::ip::make_address(la->host, ec);
  if (ec) {
    tcp::resolver resolver(impl->ioc);
    auto results = resolver.resolve(la->host, std::to_string(la->port), ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError("listen address \"" + options.listen +
                                        "\": cannot resolve the host: " +
                                        ec.message());
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(address, la->port);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError("http: cannot listen on " + options.listen +
                                  ": " + ec.message());
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->drawings.Start(1);
  impl->Accept();
  for (int i = 0; i < options.threads; ++i) {
    impl->threads.emplace_back([raw = impl.get()] {
      scheduler::NameThisThread("ow-http");
      raw->ioc.run();
    });
  }
  spdlog::info("http: serving on {} (console {})", options.listen,
               ConsoleEmbedded() ? "embedded" : "not built");
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  {
    std::lock_guard lock(s.mu);
    if (s.stopped) return;
    s.stopped = true;
  }
  s.gate->Close();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
  beast::error_code ec;
  s.acceptor.close(ec);
  s.accept_retry.cancel();
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> conns;
  {
    std::lock_guard lock(s.mu);
    conns.swap(s.conns);
  }
  for (auto& [id, c] : conns) c->Abort();
  conns.clear();
  s.drawings.Stop();
  // What the closed sockets and timers complete runs now, on this thread,
  // and lets go of the connections.
  s.ioc.restart();
  while (s.ioc.poll() > 0) {
  }
}

}  // namespace onewindow::service::http
