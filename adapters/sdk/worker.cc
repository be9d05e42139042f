#include "adapters/sdk/worker.h"

#include <grpcpp/grpcpp.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <utility>

#include "nlohmann/json.hpp"
#include "onewindow/v1/adapters.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace onewindow::adapter {
namespace {

namespace v1 = ::onewindow::v1;
using Clock = std::chrono::steady_clock;
using Stream = grpc::ClientReaderWriter<v1::WorkerMessage, v1::EngineMessage>;
using std::chrono::milliseconds;

// google.rpc.Code values used here.
constexpr int kCodeOk = 0;
constexpr int kCodeInvalidArgument = 3;
constexpr int kCodeDeadlineExceeded = 4;
constexpr int kCodeResourceExhausted = 8;
constexpr int kCodeFailedPrecondition = 9;
constexpr int kCodeAborted = 10;
constexpr int kCodeUnavailable = 14;

// A batch frame stays well under gRPC's default 4 MiB message limit.
constexpr size_t kMaxFrameBytes = 1 << 20;
// A refused-for-now answer (engine busy or shutting down) is sent again
// after this long.
constexpr milliseconds kTransientRetry{500};
// Heartbeat and frame bookkeeping older than this is forgotten.
constexpr auto kRefRetention = std::chrono::minutes(1);
// The ticker's period: heartbeats, retries, retention.
constexpr milliseconds kTick{100};

int64_t EpochMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* CodeName(int code) {
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
  if (code < 0 || code > 16) return "UNKNOWN";
  return kNames[code];
}

// Codes after which the same answer is worth sending again.
bool Transient(int code) {
  return code == kCodeUnavailable || code == kCodeAborted ||
         code == kCodeDeadlineExceeded;
}

const std::string& AnswerToken(const v1::WorkerMessage& m) {
  return m.has_complete() ? m.complete().token() : m.fail().token();
}

// Names the calling thread as top -H, perf and /proc show it (15 bytes).
void NameThisThread(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

// Set on a worker's reader thread while it hands one engine frame to the
// handlers: answers they give that worker meanwhile are sent by the reader
// afterwards.
thread_local const void* t_reader_dispatching = nullptr;

// One task stream: the call, its context, and serialised writes.
// Read/Finish are used only by the reader thread; Write from the writer
// thread and the reader (the subscription, and answers its handlers gave
// inline), serialised here.
class Session {
 public:
  Session(uint64_t id, const std::string& bearer_token) : id_(id) {
    AddAuthMetadata(bearer_token, &ctx_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  uint64_t id() const { return id_; }
  // REQUIRES: called once, by the reader thread, before any other use.
  void Open(v1::AdapterService::Stub* stub) {
    stream_ = stub->TaskStream(&ctx_);
  }
  Stream* stream() { return stream_.get(); }

  // False when the session is closed or the stream broke.
  bool Write(const v1::WorkerMessage& msg) {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (closed_) return false;
    if (!stream_->Write(msg)) {
      closed_ = true;
      return false;
    }
    return true;
  }

  // Tells the engine no more messages follow; later writes fail.
  void HalfClose() {
    std::lock_guard<std::mutex> lock(write_mu_);
    if (closed_) return;
    closed_ = true;
    stream_->WritesDone();
  }

  // Forbids further writes (before Finish).
  void Close() {
    std::lock_guard<std::mutex> lock(write_mu_);
    closed_ = true;
  }

  void Cancel() { ctx_.TryCancel(); }

  // Whether answers may go as batch frames on this stream; turned off when
  // the engine refuses one. Guarded by the worker's mutex.
  bool batching = false;

 private:
  const uint64_t id_;
  grpc::ClientContext ctx_;
  std::unique_ptr<Stream> stream_;
  std::mutex write_mu_;
  bool closed_ = false;  // GUARDED_BY(write_mu_)
};

}  // namespace

namespace internal {

class WorkerCore;

// One task the worker holds: what the handler sees through TaskContext.
class TaskState final : public TaskContext {
 public:
  TaskState(std::weak_ptr<WorkerCore> core, v1::Task task)
      : core_(std::move(core)), task_(std::move(task)) {}

  const v1::Task& task() const override { return task_; }
  bool Heartbeat(int64_t extend_ms) override;
  bool stopping() const override;
  bool cancelled() const override { return cancelled_.load(); }
  std::string cancel_reason() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return cancel_reason_;
  }

  void MarkCancelled(const std::string& reason) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancel_reason_ = reason;
    }
    cancelled_ = true;
  }
  const std::weak_ptr<WorkerCore>& core() const { return core_; }

  // Set once, under the core's mutex, when the task is answered.
  bool answered = false;

 private:
  const std::weak_ptr<WorkerCore> core_;
  const v1::Task task_;
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mu_;
  std::string cancel_reason_;  // GUARDED_BY(mu_)
};

class WorkerCore : public std::enable_shared_from_this<WorkerCore> {
 public:
  WorkerCore(WorkerOptions options, TaskHandler sync_handler,
             AsyncTaskHandler async_handler, CancelHandler on_cancel)
      : opts_(Normalize(std::move(options))),
        sync_handler_(std::move(sync_handler)),
        async_handler_(std::move(async_handler)),
        on_cancel_(std::move(on_cancel)) {}

  bool Start() {
    if (opts_.department.empty() || (!sync_handler_ && !async_handler_)) {
      spdlog::error("adapter: a department and a handler are required");
      return false;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (started_) return false;
    }
    std::shared_ptr<grpc::ChannelCredentials> creds = opts_.credentials;
    if (!creds) {
      auto made = MakeChannelCredentials(opts_.tls);
      if (!made.ok()) {
        spdlog::error("adapter {}: {}", opts_.department,
                      made.status().ToString());
        return false;
      }
      creds = *made;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (started_) return false;
      started_ = true;
    }
    grpc::ChannelArguments args;
    // The channel's own reconnect backoff must not outgrow ours, or a
    // restarted engine is noticed only after up to two minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                static_cast<int>(opts_.initial_backoff.count()));
    // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC takes it as the deadline of
    // a connection attempt too, and a TLS handshake to an engine that has
    // just restarted needs longer than our first backoff step.
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                static_cast<int>(opts_.max_backoff.count()));
    channel_ = grpc::CreateCustomChannel(opts_.address, creds, args);
    stub_ = v1::AdapterService::NewStub(channel_);

    auto* sub = subscribe_.mutable_subscribe();
    sub->set_department(opts_.department);
    sub->set_worker(opts_.worker);
    sub->set_max_in_flight(opts_.max_in_flight);
    sub->set_lease_ms(opts_.lease_ms);
    sub->set_batch_frames(true);  // TaskBatch, Acks and TaskCancelled understood
    for (const auto& t : opts_.task_types) sub->add_task_types(t);

    if (sync_handler_) {
      for (int i = 0; i < opts_.concurrency; ++i) {
        pool_.emplace_back([this] {
          NameThisThread("ow-sdk-pool");
          PoolLoop();
        });
      }
    }
    reader_ = std::thread([this] {
      NameThisThread("ow-sdk-reader");
      ReaderLoop();
    });
    writer_ = std::thread([this] {
      NameThisThread("ow-sdk-writer");
      WriterLoop();
    });
    ticker_ = std::thread([this] {
      NameThisThread("ow-sdk-ticker");
      TickerLoop();
    });
    return true;
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!started_ || stop_called_) return;
      stop_called_ = true;
      stopping_ = true;
      sync_queue_.clear();
    }
    cv_.notify_all();
    pool_cv_.notify_all();
    // Running synchronous handlers finish and give their answers.
    for (auto& t : pool_) t.join();
    pool_.clear();

    const auto deadline = Clock::now() + opts_.stop_grace;
    std::shared_ptr<Session> active;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, deadline, [this] {
        return unacked_.empty() || current_ == nullptr;
      });
      writer_stop_ = true;
      active = active_;
    }
    writer_cv_.notify_all();
    {
      // A write blocked by a stalled engine (the writer's, or the reader's
      // own) ends when the call is cancelled.
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_until(lock, deadline + opts_.stop_grace,
                          [this] { return writer_done_ && !writing_; })) {
        if (active_) active_->Cancel();
      }
    }
    writer_.join();
    if (active) active->HalfClose();
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_until(lock, deadline + opts_.stop_grace,
                          [this] { return reader_done_; })) {
        // The engine did not end the stream: cancel it.
        if (active_) active_->Cancel();
      }
    }
    reader_.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ticker_stop_ = true;
    }
    ticker_cv_.notify_all();
    ticker_.join();
    FlushUnackedByUnary(Clock::now() + opts_.stop_grace);
    connected_ = false;
  }

  WorkerStats stats() const {
    WorkerStats s;
    s.tasks_received = tasks_received_;
    s.tasks_completed = tasks_completed_;
    s.tasks_failed = tasks_failed_;
    s.tasks_reoffered = tasks_reoffered_;
    s.tasks_cancelled = tasks_cancelled_;
    s.answers_acked = answers_acked_;
    s.answers_rejected = answers_rejected_;
    s.answers_resent = answers_resent_;
    s.heartbeats_sent = heartbeats_sent_;
    s.batches_sent = batches_sent_;
    s.messages_sent = messages_sent_;
    s.sessions = sessions_;
    s.connected = connected_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s.tasks_held = held_.size();
    }
    return s;
  }

  bool stopping() const { return stopping_; }

  // Queues a heartbeat for a held task.
  bool SendHeartbeat(const std::string& token, int64_t extend_ms) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = held_.find(token);
      if (it == held_.end() || current_ == nullptr) return false;
      it->second.last_beat = Clock::now();
      QueueHeartbeatLocked(token, extend_ms);
    }
    writer_cv_.notify_one();
    return true;
  }

  // Gives the answer of `st`. See Responder::Answer.
  bool Answer(const std::shared_ptr<TaskState>& st, TaskResult result,
              AnswerCallback done) {
    const v1::Task& task = st->task();
    if (result.ok && !nlohmann::json::accept(result.result_json)) {
      spdlog::error("adapter {}: result for task {} is not JSON",
                    opts_.department, task.token());
      result = TaskResult::Fail(kInvalidResultError,
                                "the adapter's result is not valid JSON");
    }
    if (!result.ok && result.error.empty()) result.error = "Adapter.Error";

    AnswerOutcome refused;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (st->answered) {
        refused = {kCodeFailedPrecondition, "task already answered", false};
      } else if (st->cancelled()) {
        st->answered = true;
        refused = {kCodeFailedPrecondition,
                   "task withdrawn by the engine: " + st->cancel_reason(),
                   false};
      } else if (finished_) {
        st->answered = true;
        refused = {kCodeUnavailable, "the worker has stopped", false};
      } else {
        st->answered = true;
        auto h = held_.find(task.token());
        if (h != held_.end() && h->second.state == st) held_.erase(h);
        v1::WorkerMessage msg;
        if (result.ok) {
          ++tasks_completed_;
          auto* c = msg.mutable_complete();
          c->set_token(task.token());
          c->set_result_json(std::move(result.result_json));
        } else {
          ++tasks_failed_;
          auto* f = msg.mutable_fail();
          f->set_token(task.token());
          f->set_error(std::move(result.error));
          f->set_cause(std::move(result.cause));
        }
        QueueAnswerLocked(std::move(msg), std::move(done));
        done = nullptr;
      }
    }
    if (done == nullptr) {
      // On the reader, in the middle of a frame: it sends what the frame's
      // handlers answered itself once the frame is handled.
      if (t_reader_dispatching != this) writer_cv_.notify_one();
      return true;
    }
    done(refused);
    return false;
  }

 private:
  struct Held {
    std::shared_ptr<TaskState> state;
    Clock::time_point last_beat;
    milliseconds interval;
  };
  struct Pending {
    v1::WorkerMessage msg;
    AnswerCallback done;
    uint64_t session_id = 0;  // stream it was last written to; 0 = none
    bool queued = false;      // waiting in outq_
    Clock::time_point created;
    Clock::time_point retry_at{};  // set: waiting to be sent again
    int sends = 0;
  };
  struct Out {
    uint64_t ref = 0;
    bool answer = false;  // else a heartbeat, in `heartbeat`
    v1::WorkerMessage heartbeat;
  };
  struct HeartbeatRef {
    std::string token;
    Clock::time_point sent;
  };
  struct Frame {
    uint64_t session_id = 0;
    std::vector<uint64_t> answers;
    std::vector<v1::WorkerMessage> heartbeats;  // copies, to send again
    Clock::time_point sent;
  };

  static WorkerOptions Normalize(WorkerOptions o) {
    if (o.worker.empty()) o.worker = o.department + "-worker";
    o.concurrency = std::max(1, o.concurrency);
    if (o.max_in_flight <= 0) o.max_in_flight = o.concurrency;
    if (o.initial_backoff.count() <= 0) o.initial_backoff = milliseconds(100);
    if (o.max_backoff < o.initial_backoff) o.max_backoff = o.initial_backoff;
    o.max_batch = std::clamp(o.max_batch, 1, 4096);
    return o;
  }

  // REQUIRES: mu_ held.
  void QueueAnswerLocked(v1::WorkerMessage msg, AnswerCallback done) {
    const uint64_t ref = next_ref_++;
    msg.set_ref(ref);
    pending_tokens_[AnswerToken(msg)] = ref;
    Pending& p = unacked_[ref];
    p.msg = std::move(msg);
    p.done = std::move(done);
    p.created = Clock::now();
    p.queued = true;
    outq_.push_back(Out{ref, true, {}});
  }

  // REQUIRES: mu_ held.
  void QueueHeartbeatLocked(const std::string& token, int64_t extend_ms) {
    Out o;
    o.ref = next_ref_++;
    o.heartbeat.set_ref(o.ref);
    o.heartbeat.mutable_heartbeat()->set_token(token);
    o.heartbeat.mutable_heartbeat()->set_extend_ms(extend_ms);
    heartbeat_refs_[o.ref] = HeartbeatRef{token, Clock::now()};
    outq_.push_back(std::move(o));
    ++heartbeats_sent_;
  }

  // REQUIRES: mu_ held. Removes a finished answer.
  Pending TakePendingLocked(std::map<uint64_t, Pending>::iterator it) {
    Pending p = std::move(it->second);
    auto t = pending_tokens_.find(AnswerToken(p.msg));
    if (t != pending_tokens_.end() && t->second == it->first) {
      pending_tokens_.erase(t);
    }
    unacked_.erase(it);
    return p;
  }

  void ReaderLoop() {
    std::minstd_rand rng(std::random_device{}());
    milliseconds backoff = opts_.initial_backoff;
    int failures = 0;  // attempts in a row that got nowhere
    for (;;) {
      std::shared_ptr<Session> s;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) break;
        s = std::make_shared<Session>(++session_seq_, opts_.bearer_token);
        active_ = s;
      }
      s->Open(stub_.get());
      ++sessions_;
      const auto started = Clock::now();
      bool got_any = false;
      bool ok = s->Write(subscribe_);
      if (ok) Attach(s);
      v1::EngineMessage msg;
      while (ok && s->stream()->Read(&msg)) {
        got_any = true;
        t_reader_dispatching = this;
        Dispatch(msg);
        t_reader_dispatching = nullptr;
        FlushFromReader();
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (current_ == s) current_.reset();
        connected_ = false;
      }
      s->Close();
      const grpc::Status status = s->stream()->Finish();
      {
        std::lock_guard<std::mutex> lock(mu_);
        active_.reset();
      }
      cv_.notify_all();
      if (stopping_) break;
      // A stream the engine ends at once (e.g. it rejects the subscription)
      // counts as a failed attempt, so the backoff still grows.
      const bool was_up =
          got_any || Clock::now() - started >= std::chrono::seconds(1);
      if (was_up) {
        backoff = opts_.initial_backoff;
        failures = 0;
      } else {
        ++failures;
      }
      std::uniform_real_distribution<double> jitter(0.8, 1.2);
      const auto wait = milliseconds(static_cast<int64_t>(
          static_cast<double>(backoff.count()) * jitter(rng)));
      // One warning when the stream is lost, then one every ten attempts.
      const auto level = was_up || failures % 10 == 1 ? spdlog::level::warn
                                                      : spdlog::level::debug;
      spdlog::log(
          level,
          "adapter {}: task stream to {} {} ({}: {}); reconnecting in "
          "{} ms",
          opts_.department, opts_.address, was_up ? "ended" : "not available",
          CodeName(status.error_code()), status.error_message(), wait.count());
      WaitBeforeRetry(wait);
      backoff = std::min(backoff * 2, opts_.max_backoff);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      reader_done_ = true;
    }
    cv_.notify_all();
  }

  // Sleeps `wait` (or until stop) while keeping the channel's connection
  // attempt going: a TLS handshake progresses only while someone polls the
  // channel, and between attempts nobody else does.
  void WaitBeforeRetry(milliseconds wait) {
    const auto until = Clock::now() + wait;
    bool ready = false;
    while (!stopping_ && Clock::now() < until) {
      if (!ready) {
        const auto step = std::min<Clock::duration>(until - Clock::now(),
                                                    milliseconds(100));
        ready = channel_->WaitForConnected(std::chrono::system_clock::now() +
                                           step);
        continue;
      }
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, until, [this] { return stopping_.load(); });
    }
  }

  // Makes `s` the stream answers go to, and queues first every answer not
  // yet acknowledged that was last sent on another stream.
  void Attach(const std::shared_ptr<Session>& s) {
    size_t resend = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      current_ = s;
      s->batching = opts_.batch_answers;
      connected_ = true;
      std::vector<Out> front;
      for (auto& [ref, p] : unacked_) {
        if (p.queued || p.session_id == s->id() ||
            p.retry_at != Clock::time_point{}) {
          continue;
        }
        p.queued = true;
        front.push_back(Out{ref, true, {}});
      }
      resend = front.size();
      outq_.insert(outq_.begin(), std::make_move_iterator(front.begin()),
                   std::make_move_iterator(front.end()));
    }
    writer_cv_.notify_one();
    if (resend > 0) {
      spdlog::info("adapter {}: resending {} unacknowledged answer(s)",
                   opts_.department, resend);
    }
    spdlog::info("adapter {}: task stream open to {}", opts_.department,
                 opts_.address);
  }

  void Dispatch(const v1::EngineMessage& msg) {
    switch (msg.kind_case()) {
      case v1::EngineMessage::kTask:
        OnTask(msg.task());
        return;
      case v1::EngineMessage::kTasks:
        for (const auto& t : msg.tasks().tasks()) OnTask(t);
        return;
      case v1::EngineMessage::kAck:
        HandleAck(msg.ack());
        return;
      case v1::EngineMessage::kAcks:
        for (const auto& a : msg.acks().acks()) HandleAck(a);
        return;
      case v1::EngineMessage::kCancelled:
        OnCancelled(msg.cancelled());
        return;
      default:
        spdlog::debug("adapter {}: ignoring an engine message of unknown kind",
                      opts_.department);
        return;
    }
  }

  void OnTask(const v1::Task& task) {
    ++tasks_received_;
    std::shared_ptr<TaskState> st;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        spdlog::debug("adapter {}: stopping, task {} left for redelivery",
                      opts_.department, task.token());
        return;
      }
      // The same delivery again (the stream was re-established or the
      // engine restarted): still working on it, or its answer is on the
      // way. The engine has leased it to this stream anew.
      auto h = held_.find(task.token());
      if (h != held_.end()) {
        ++tasks_reoffered_;
        h->second.last_beat = Clock::now();
        h->second.interval = HeartbeatInterval(task);
        spdlog::debug("adapter {}: task {} offered again while held",
                      opts_.department, task.token());
        return;
      }
      if (pending_tokens_.count(task.token()) != 0) {
        ++tasks_reoffered_;
        spdlog::debug(
            "adapter {}: task {} offered again while its answer is pending",
            opts_.department, task.token());
        return;
      }
      st = std::make_shared<TaskState>(weak_from_this(), task);
      held_[task.token()] = Held{st, Clock::now(), HeartbeatInterval(task)};
      if (sync_handler_) {
        sync_queue_.push_back(st);
        // The pool has a condition variable of its own: one idle thread
        // wakes, not every waiter of the worker.
        pool_cv_.notify_one();
        return;
      }
    }
    Responder responder(std::make_shared<Responder::State>(st));
    try {
      async_handler_(st, responder);
    } catch (const std::exception& e) {
      responder.Fail(kHandlerExceptionError,
                     std::string("handler threw: ") + e.what());
    } catch (...) {
      responder.Fail(kHandlerExceptionError, "handler threw");
    }
  }

  void OnCancelled(const v1::TaskCancelled& c) {
    std::shared_ptr<TaskState> st;
    AnswerCallback dropped_done;
    bool known = false;
    const std::string reason =
        c.reason().empty() ? "withdrawn by the engine" : c.reason();
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto h = held_.find(c.token());
      if (h != held_.end()) {
        st = h->second.state;
        held_.erase(h);
        st->MarkCancelled(reason);
        known = true;
      }
      // An answer not yet written is dropped: the engine would refuse it.
      auto t = pending_tokens_.find(c.token());
      if (t != pending_tokens_.end()) {
        known = true;
        auto p = unacked_.find(t->second);
        if (p != unacked_.end() && p->second.sends == 0) {
          dropped_done = TakePendingLocked(p).done;
        }
      }
      if (known) ++tasks_cancelled_;
    }
    if (!known) {
      spdlog::debug("adapter {}: engine withdrew task {} (not held): {}",
                    opts_.department, c.token(), reason);
      return;
    }
    spdlog::info("adapter {}: task {} of case {} withdrawn: {}",
                 opts_.department, c.token(), c.case_id(), reason);
    if (on_cancel_) {
      try {
        on_cancel_(c.token(), reason);
      } catch (...) {
        spdlog::error("adapter {}: cancel handler threw", opts_.department);
      }
    }
    if (dropped_done) {
      dropped_done(AnswerOutcome{kCodeFailedPrecondition,
                                 "task withdrawn by the engine: " + reason,
                                 false});
    }
  }

  void HandleAck(const v1::Ack& ack) {
    AnswerCallback done;
    AnswerOutcome outcome;
    bool wake_writer = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto it = unacked_.find(ack.ref());
      if (it != unacked_.end()) {
        Pending& p = it->second;
        if (ack.code() != kCodeOk && Transient(ack.code()) &&
            Clock::now() - p.created < opts_.answer_retention) {
          // The engine could not take it now: send it again shortly.
          spdlog::debug(
              "adapter {}: answer for task {} not taken yet ({}: "
              "{}); sending it again",
              opts_.department, AnswerToken(p.msg), CodeName(ack.code()),
              ack.message());
          p.retry_at = Clock::now() + kTransientRetry;
          p.session_id = 0;
          return;
        }
        Pending done_p = TakePendingLocked(it);
        const bool complete = done_p.msg.has_complete();
        const std::string token = AnswerToken(done_p.msg);
        outcome = AnswerOutcome{ack.code(), ack.message(), done_p.sends > 1};
        done = std::move(done_p.done);
        if (ack.code() == kCodeOk) {
          ++answers_acked_;
        } else {
          ++answers_rejected_;
          if (complete && (ack.code() == kCodeInvalidArgument ||
                           ack.code() == kCodeResourceExhausted)) {
            // The result itself is refused: fail the task rather than
            // leave it to be offered, and refused, again.
            v1::WorkerMessage fail;
            fail.mutable_fail()->set_token(token);
            fail.mutable_fail()->set_error(kInvalidResultError);
            fail.mutable_fail()->set_cause("the engine refused the result: " +
                                           ack.message());
            QueueAnswerLocked(std::move(fail), nullptr);
            wake_writer = true;
          }
        }
        lock.unlock();
        cv_.notify_all();  // Stop may wait for the last acknowledgement
        if (wake_writer) writer_cv_.notify_one();
        if (ack.code() != kCodeOk) {
          // A resent answer the engine had already taken is expected.
          spdlog::log(
              outcome.resent ? spdlog::level::info : spdlog::level::warn,
              "adapter {}: {}{} of task {} rejected: {}: {}", opts_.department,
              outcome.resent ? "resent " : "",
              complete ? "completion" : "failure", token, CodeName(ack.code()),
              ack.message());
        }
      } else if (auto f = frames_.find(ack.ref()); f != frames_.end()) {
        Frame frame = std::move(f->second);
        frames_.erase(f);
        if (ack.code() == kCodeOk) return;
        // The engine refused the batch frame as a whole (an engine that
        // does not know batches): its answers and heartbeats go again one
        // by one.
        const bool same_stream =
            current_ != nullptr && current_->id() == frame.session_id;
        if (same_stream) current_->batching = false;
        std::vector<Out> again;
        if (same_stream) {
          for (auto& hb : frame.heartbeats) {
            again.push_back(Out{hb.ref(), false, std::move(hb)});
          }
        }
        for (uint64_t ref : frame.answers) {
          auto p = unacked_.find(ref);
          if (p == unacked_.end() || p->second.queued ||
              p->second.session_id != frame.session_id) {
            continue;
          }
          p->second.queued = true;
          again.push_back(Out{ref, true, {}});
        }
        outq_.insert(outq_.begin(), std::make_move_iterator(again.begin()),
                     std::make_move_iterator(again.end()));
        lock.unlock();
        writer_cv_.notify_one();
        spdlog::warn(
            "adapter {}: the engine refused a batch frame ({}: {}); sending "
            "answers one by one on this stream",
            opts_.department, CodeName(ack.code()), ack.message());
        return;
      } else if (auto hb = heartbeat_refs_.find(ack.ref());
                 hb != heartbeat_refs_.end()) {
        const std::string token = hb->second.token;
        heartbeat_refs_.erase(hb);
        lock.unlock();
        if (ack.code() != kCodeOk) {
          // Right after a reconnect the engine may not have leased the
          // task to this stream yet; the next heartbeat will tell.
          spdlog::debug("adapter {}: heartbeat of task {} refused: {}: {}",
                        opts_.department, token, CodeName(ack.code()),
                        ack.message());
        }
        return;
      } else {
        lock.unlock();
        if (ack.ref() == 0 && ack.code() != kCodeOk) {
          spdlog::warn("adapter {}: the engine refused a message: {}: {}",
                       opts_.department, CodeName(ack.code()), ack.message());
        }
        return;
      }
    }
    if (done) done(outcome);
  }

  void WriterLoop() {
    WriteFrames();
    {
      std::lock_guard<std::mutex> lock(mu_);
      writer_done_ = true;
    }
    cv_.notify_all();
  }

  void WriteFrames() {
    for (;;) {
      std::shared_ptr<Session> s;
      v1::WorkerMessage out;
      size_t count = 0;
      {
        std::unique_lock<std::mutex> lock(mu_);
        writer_cv_.wait(lock, [this] {
          return writer_stop_ ||
                 (current_ != nullptr && !outq_.empty() && !writing_);
        });
        if (writer_stop_) return;
        s = current_;
        count = TakeFrameLocked(*s, &out);
        if (count == 0) continue;
        writing_ = true;
      }
      WriteFrame(s.get(), out, count);
    }
  }

  // On the reader thread, after a frame from the engine is handled: sends
  // the answers its handlers gave at once, saving the writer thread a
  // wake-up per frame. Leaves them to the writer when it is busy writing.
  void FlushFromReader() {
    std::shared_ptr<Session> s;
    v1::WorkerMessage out;
    size_t count = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (outq_.empty()) return;
      if (writing_ || writer_stop_ || current_ == nullptr) {
        writer_cv_.notify_one();
        return;
      }
      s = current_;
      count = TakeFrameLocked(*s, &out);
      if (count == 0) return;
      writing_ = true;
    }
    WriteFrame(s.get(), out, count);
  }

  // Writes a frame taken by TakeFrameLocked (with writing_ set), then hands
  // what was queued meanwhile to the writer.
  void WriteFrame(Session* s, const v1::WorkerMessage& out, size_t count) {
    // When this fails the stream is broken: the reader notices, and the
    // answers go out again on the next stream.
    if (s->Write(out)) {
      messages_sent_ += count;
      if (count > 1) ++batches_sent_;
    }
    bool more;
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      more = !outq_.empty();
      stopping = stop_called_;
    }
    if (more) writer_cv_.notify_one();
    if (stopping) cv_.notify_all();  // Stop waits for the write to end
  }

  // REQUIRES: mu_ held. Moves the next answers and heartbeats of outq_
  // into one message for `s` (a batch frame when several and the stream
  // takes them); returns how many (0: nothing left to send).
  size_t TakeFrameLocked(Session& s, v1::WorkerMessage* out) {
    const size_t cap = s.batching ? opts_.max_batch : 1;
    std::vector<v1::WorkerMessage> frame;
    std::vector<uint64_t> answer_refs;
    std::vector<v1::WorkerMessage> heartbeats;
    size_t bytes = 0;
    while (!outq_.empty() && frame.size() < cap) {
      Out& o = outq_.front();
      if (o.answer) {
        auto it = unacked_.find(o.ref);
        if (it == unacked_.end() || !it->second.queued) {
          outq_.pop_front();  // acknowledged or dropped meanwhile
          continue;
        }
        const size_t size = it->second.msg.ByteSizeLong();
        if (!frame.empty() && bytes + size > kMaxFrameBytes) break;
        Pending& p = it->second;
        p.queued = false;
        p.session_id = s.id();
        if (++p.sends > 1) ++answers_resent_;
        frame.push_back(p.msg);
        answer_refs.push_back(o.ref);
        bytes += size;
      } else {
        const size_t size = o.heartbeat.ByteSizeLong();
        if (!frame.empty() && bytes + size > kMaxFrameBytes) break;
        if (cap > 1) heartbeats.push_back(o.heartbeat);
        frame.push_back(std::move(o.heartbeat));
        bytes += size;
      }
      outq_.pop_front();
    }
    const size_t count = frame.size();
    if (count == 1) {
      *out = std::move(frame[0]);
    } else if (count > 1) {
      const uint64_t ref = next_ref_++;
      out->set_ref(ref);
      auto* batch = out->mutable_batch();
      for (auto& m : frame) *batch->add_messages() = std::move(m);
      frames_[ref] = Frame{s.id(), std::move(answer_refs),
                           std::move(heartbeats), Clock::now()};
    }
    return count;
  }

  void PoolLoop() {
    for (;;) {
      std::shared_ptr<TaskState> st;
      {
        std::unique_lock<std::mutex> lock(mu_);
        pool_cv_.wait(
            lock, [this] { return stopping_.load() || !sync_queue_.empty(); });
        if (stopping_) return;
        st = std::move(sync_queue_.front());
        sync_queue_.pop_front();
      }
      if (st->cancelled()) continue;
      TaskResult result;
      try {
        result = sync_handler_(*st);
      } catch (const std::exception& e) {
        result = TaskResult::Fail(kHandlerExceptionError,
                                  std::string("handler threw: ") + e.what());
      } catch (...) {
        result = TaskResult::Fail(kHandlerExceptionError, "handler threw");
      }
      Answer(st, std::move(result), nullptr);
    }
  }

  // A third of the state's HeartbeatSeconds, else of the lease: a late or
  // lost heartbeat still leaves another before the limit.
  milliseconds HeartbeatInterval(const v1::Task& task) const {
    if (task.heartbeat_seconds() > 0) {
      return milliseconds(
          std::max<int64_t>(int64_t{task.heartbeat_seconds()} * 1000 / 3, 200));
    }
    int64_t lease = task.lease_expires_at_ms() > 0
                        ? task.lease_expires_at_ms() - EpochMs()
                        : opts_.lease_ms;
    if (lease <= 0) lease = opts_.lease_ms > 0 ? opts_.lease_ms : 30000;
    return milliseconds(std::max<int64_t>(lease / 3, 200));
  }

  void TickerLoop() {
    for (;;) {
      std::vector<AnswerCallback> expired;
      bool wake_writer = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        ticker_cv_.wait_for(lock, kTick, [this] { return ticker_stop_; });
        if (ticker_stop_) return;
        const auto now = Clock::now();
        if (opts_.auto_heartbeat && current_ != nullptr) {
          for (auto& [token, h] : held_) {
            if (now - h.last_beat < h.interval) continue;
            h.last_beat = now;
            QueueHeartbeatLocked(token, 0);
            wake_writer = true;
          }
        }
        for (auto it = unacked_.begin(); it != unacked_.end();) {
          Pending& p = it->second;
          if (now - p.created > opts_.answer_retention) {
            spdlog::warn(
                "adapter {}: giving up on the unacknowledged answer of task "
                "{}",
                opts_.department, AnswerToken(p.msg));
            Pending gone = TakePendingLocked(it++);
            if (gone.done) expired.push_back(std::move(gone.done));
            continue;
          }
          if (p.retry_at != Clock::time_point{} && p.retry_at <= now &&
              !p.queued) {
            p.retry_at = {};
            p.queued = true;
            outq_.push_back(Out{it->first, true, {}});
            wake_writer = true;
          }
          ++it;
        }
        for (auto it = heartbeat_refs_.begin(); it != heartbeat_refs_.end();) {
          if (now - it->second.sent > kRefRetention) {
            it = heartbeat_refs_.erase(it);
          } else {
            ++it;
          }
        }
        for (auto it = frames_.begin(); it != frames_.end();) {
          if (now - it->second.sent > kRefRetention) {
            it = frames_.erase(it);
          } else {
            ++it;
          }
        }
      }
      if (wake_writer) writer_cv_.notify_one();
      for (auto& done : expired) {
        done(AnswerOutcome{kCodeUnavailable,
                           "not acknowledged by the engine in time", false});
      }
    }
  }

  // After the stream is gone: tries the unary calls for answers the engine
  // never acknowledged, until `deadline`.
  void FlushUnackedByUnary(Clock::time_point deadline) {
    std::map<uint64_t, Pending> pending;
    {
      // From here on answers are refused: nothing would send them.
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = true;
      held_.clear();
      pending.swap(unacked_);
      pending_tokens_.clear();
      outq_.clear();
    }
    for (auto& [ref, p] : pending) {
      AnswerOutcome outcome{kCodeUnavailable,
                            "the worker stopped before the engine "
                            "acknowledged the answer",
                            p.sends > 0};
      if (Clock::now() < deadline) {
        grpc::ClientContext ctx;
        AddAuthMetadata(opts_.bearer_token, &ctx);
        ctx.set_deadline(std::chrono::system_clock::now() +
                         (deadline - Clock::now()));
        grpc::Status st;
        if (p.msg.has_complete()) {
          v1::CompleteTaskResponse resp;
          st = stub_->CompleteTask(&ctx, p.msg.complete(), &resp);
        } else {
          v1::FailTaskResponse resp;
          st = stub_->FailTask(&ctx, p.msg.fail(), &resp);
        }
        outcome = AnswerOutcome{static_cast<int>(st.error_code()),
                                st.error_message(), p.sends > 0};
        if (st.ok()) {
          ++answers_acked_;
        } else {
          ++answers_rejected_;
          spdlog::log(p.sends > 0 ? spdlog::level::info : spdlog::level::warn,
                      "adapter {}: answer sent on stop not taken: {}: {}",
                      opts_.department, CodeName(st.error_code()),
                      st.error_message());
        }
      }
      if (p.done) p.done(outcome);
    }
  }

  const WorkerOptions opts_;
  const TaskHandler sync_handler_;
  const AsyncTaskHandler async_handler_;
  const CancelHandler on_cancel_;
  v1::WorkerMessage subscribe_;  // constant after Start
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AdapterService::Stub> stub_;

  std::thread reader_;
  std::thread writer_;
  std::thread ticker_;
  std::vector<std::thread> pool_;

  std::atomic<uint64_t> tasks_received_{0};
  std::atomic<uint64_t> tasks_completed_{0};
  std::atomic<uint64_t> tasks_failed_{0};
  std::atomic<uint64_t> tasks_reoffered_{0};
  std::atomic<uint64_t> tasks_cancelled_{0};
  std::atomic<uint64_t> answers_acked_{0};
  std::atomic<uint64_t> answers_rejected_{0};
  std::atomic<uint64_t> answers_resent_{0};
  std::atomic<uint64_t> heartbeats_sent_{0};
  std::atomic<uint64_t> batches_sent_{0};
  std::atomic<uint64_t> messages_sent_{0};
  std::atomic<uint64_t> sessions_{0};
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};  // written under mu_

  mutable std::mutex mu_;
  // Each kind of waiter has its own: a notification wakes only the threads
  // that wait for what changed.
  std::condition_variable cv_;         // stop and reconnect waits
  std::condition_variable pool_cv_;    // the synchronous handlers' threads
  std::condition_variable ticker_cv_;  // the ticker's wait
  std::condition_variable writer_cv_;  // the writer's wait
  bool started_ = false;               // GUARDED_BY(mu_)
  bool stop_called_ = false;           // GUARDED_BY(mu_)
  bool finished_ = false;              // GUARDED_BY(mu_)
  bool reader_done_ = false;           // GUARDED_BY(mu_)
  bool writer_stop_ = false;           // GUARDED_BY(mu_)
  bool writer_done_ = false;           // GUARDED_BY(mu_)
  // A frame is being written (by the writer or the reader): the other
  // waits, so that frames leave in the order they were taken.
  bool writing_ = false;               // GUARDED_BY(mu_)
  bool ticker_stop_ = false;           // GUARDED_BY(mu_)
  uint64_t session_seq_ = 0;           // GUARDED_BY(mu_)
  uint64_t next_ref_ = 1;              // GUARDED_BY(mu_)
  // The session the reader runs (possibly still subscribing).
  std::shared_ptr<Session> active_;  // GUARDED_BY(mu_)
  // The subscribed session answers go to; null while disconnected.
  std::shared_ptr<Session> current_;  // GUARDED_BY(mu_)
  // Unanswered tasks, by token.
  std::unordered_map<std::string, Held> held_;  // GUARDED_BY(mu_)
  // Tasks waiting for a synchronous handler thread.
  std::deque<std::shared_ptr<TaskState>> sync_queue_;  // GUARDED_BY(mu_)
  // Answers given and not yet acknowledged, by ref; and their tokens.
  std::map<uint64_t, Pending> unacked_;                       // GUARDED_BY(mu_)
  std::unordered_map<std::string, uint64_t> pending_tokens_;  // GUARDED_BY(mu_)
  // What the writer sends next.
  std::deque<Out> outq_;                             // GUARDED_BY(mu_)
  std::map<uint64_t, HeartbeatRef> heartbeat_refs_;  // GUARDED_BY(mu_)
  std::map<uint64_t, Frame> frames_;                 // GUARDED_BY(mu_)
};

bool TaskState::Heartbeat(int64_t extend_ms) {
  auto core = core_.lock();
  return core != nullptr && core->SendHeartbeat(task_.token(), extend_ms);
}

bool TaskState::stopping() const {
  auto core = core_.lock();
  return core == nullptr || core->stopping();
}

}  // namespace internal

// ---- Responder ----

class Responder::State {
 public:
  explicit State(std::shared_ptr<internal::TaskState> task)
      : task_(std::move(task)) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // The last Responder copy is gone: a task never answered is failed, so
  // the workflow does not wait for a lease to run out. Not when the worker
  // is stopping (the engine offers the task again) or the task was
  // withdrawn.
  ~State() {
    if (answered_.load() || task_->cancelled()) return;
    auto core = task_->core().lock();
    if (core == nullptr || core->stopping()) return;
    spdlog::error("adapter: task {} dropped without an answer",
                  task_->task().token());
    core->Answer(task_,
                 TaskResult::Fail(kAbandonedError,
                                  "the adapter dropped the task without "
                                  "answering it"),
                 nullptr);
  }

  bool Answer(TaskResult result, AnswerCallback done) {
    answered_ = true;
    auto core = task_->core().lock();
    if (core == nullptr) {
      if (done) {
        done(AnswerOutcome{kCodeUnavailable, "the worker is gone", false});
      }
      return false;
    }
    return core->Answer(task_, std::move(result), std::move(done));
  }

  const v1::Task& task() const { return task_->task(); }
  bool answered() const { return answered_.load(); }

 private:
  const std::shared_ptr<internal::TaskState> task_;
  std::atomic<bool> answered_{false};
};

Responder::Responder(std::shared_ptr<State> state) : state_(std::move(state)) {}

bool Responder::Complete(std::string result_json, AnswerCallback done) const {
  return Answer(TaskResult::Complete(std::move(result_json)), std::move(done));
}

bool Responder::Fail(std::string error, std::string cause,
                     AnswerCallback done) const {
  return Answer(TaskResult::Fail(std::move(error), std::move(cause)),
                std::move(done));
}

bool Responder::Answer(TaskResult result, AnswerCallback done) const {
  if (!state_) {
    if (done) {
      done(AnswerOutcome{kCodeFailedPrecondition, "no task to answer", false});
    }
    return false;
  }
  return state_->Answer(std::move(result), std::move(done));
}

const v1::Task* Responder::task() const {
  return state_ ? &state_->task() : nullptr;
}

bool Responder::done() const { return state_ && state_->answered(); }

// ---- Worker ----

Worker::Worker(WorkerOptions options, TaskHandler handler,
               CancelHandler on_cancel)
    : core_(std::make_shared<internal::WorkerCore>(std::move(options),
                                                   std::move(handler), nullptr,
                                                   std::move(on_cancel))) {}

Worker::Worker(WorkerOptions options, AsyncTaskHandler handler,
               CancelHandler on_cancel)
    : core_(std::make_shared<internal::WorkerCore>(std::move(options), nullptr,
                                                   std::move(handler),
                                                   std::move(on_cancel))) {}

Worker::~Worker() { core_->Stop(); }

bool Worker::Start() { return core_->Start(); }

void Worker::Stop() { core_->Stop(); }

WorkerStats Worker::stats() const { return core_->stats(); }

}  // namespace onewindow::adapter
