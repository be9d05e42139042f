#include "adapters/sdk/worker.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <thread>
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

int64_t EpochMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One task stream: the call, its context, and serialised writes.
// Read/Finish are used only by the reader thread; Write from any thread.
class Session {
 public:
  explicit Session(uint64_t id) : id_(id) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  uint64_t id() const { return id_; }
  grpc::ClientContext* context() { return &ctx_; }
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

 private:
  const uint64_t id_;
  grpc::ClientContext ctx_;
  std::unique_ptr<Stream> stream_;
  std::mutex write_mu_;
  bool closed_ = false;  // GUARDED_BY(write_mu_)
};

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

}  // namespace

class Worker::Impl {
 public:
  Impl(WorkerOptions options, TaskHandler handler)
      : opts_(Normalize(std::move(options))), handler_(std::move(handler)) {}

  ~Impl() { Stop(); }

  bool Start() {
    if (opts_.department.empty() || !handler_) {
      spdlog::error("adapter: a department and a handler are required");
      return false;
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
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                static_cast<int>(opts_.initial_backoff.count()));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                static_cast<int>(opts_.max_backoff.count()));
    auto creds = opts_.credentials ? opts_.credentials
                                   : grpc::InsecureChannelCredentials();
    channel_ = grpc::CreateCustomChannel(opts_.address, creds, args);
    stub_ = v1::AdapterService::NewStub(channel_);

    auto* sub = subscribe_.mutable_subscribe();
    sub->set_department(opts_.department);
    sub->set_worker(opts_.worker);
    sub->set_max_in_flight(opts_.max_in_flight);
    sub->set_lease_ms(opts_.lease_ms);
    for (const auto& t : opts_.task_types) sub->add_task_types(t);

    for (int i = 0; i < opts_.concurrency; ++i) {
      pool_.emplace_back([this] { PoolLoop(); });
    }
    reader_ = std::thread([this] { ReaderLoop(); });
    ticker_ = std::thread([this] { TickerLoop(); });
    return true;
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!started_ || stopped_) return;
      stopped_ = true;
      stopping_ = true;
      queue_.clear();
    }
    cv_.notify_all();
    // Running handlers finish and send their answers.
    for (auto& t : pool_) t.join();
    pool_.clear();

    const auto deadline = Clock::now() + opts_.stop_grace;
    std::shared_ptr<Session> active;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_until(lock, deadline, [this] {
        return unacked_.empty() || current_ == nullptr;
      });
      active = active_;
    }
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
    ticker_.join();
    FlushUnackedByUnary(Clock::now() + opts_.stop_grace);
    connected_ = false;
  }

  WorkerStats stats() const {
    WorkerStats s;
    s.tasks_received = tasks_received_;
    s.tasks_completed = tasks_completed_;
    s.tasks_failed = tasks_failed_;
    s.answers_acked = answers_acked_;
    s.answers_rejected = answers_rejected_;
    s.heartbeats_sent = heartbeats_sent_;
    s.sessions = sessions_;
    s.connected = connected_;
    return s;
  }

  bool stopping() const { return stopping_; }

  // Sends a heartbeat for `token` on the current stream.
  bool SendHeartbeat(const std::string& token, int64_t extend_ms) {
    std::shared_ptr<Session> s;
    v1::WorkerMessage msg;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (current_ == nullptr) return false;
      s = current_;
      const uint64_t ref = next_ref_++;
      heartbeat_refs_[ref] = HeartbeatRef{token, Clock::now()};
      msg.set_ref(ref);
      auto it = running_.find(token);
      if (it != running_.end()) it->second.last_beat = Clock::now();
    }
    auto* hb = msg.mutable_heartbeat();
    hb->set_token(token);
    hb->set_extend_ms(extend_ms);
    if (!s->Write(msg)) {
      std::lock_guard<std::mutex> lock(mu_);
      heartbeat_refs_.erase(msg.ref());
      return false;
    }
    ++heartbeats_sent_;
    return true;
  }

 private:
  struct PendingAnswer {
    v1::WorkerMessage msg;
    uint64_t session_id = 0;  // stream it was last written to; 0 = none
    Clock::time_point created;
    int sends = 0;
  };
  struct HeartbeatRef {
    std::string token;
    Clock::time_point sent;
  };
  struct Running {
    Clock::time_point last_beat;
    milliseconds interval;
  };

  class Context final : public TaskContext {
   public:
    Context(Impl* impl, const v1::Task& task) : impl_(impl), task_(task) {}
    const v1::Task& task() const override { return task_; }
    bool Heartbeat(int64_t extend_ms) override {
      return impl_->SendHeartbeat(task_.token(), extend_ms);
    }
    bool stopping() const override { return impl_->stopping(); }

   private:
    Impl* const impl_;
    const v1::Task& task_;
  };

  static WorkerOptions Normalize(WorkerOptions o) {
    if (o.worker.empty()) o.worker = o.department + "-worker";
    o.concurrency = std::max(1, o.concurrency);
    if (o.max_in_flight <= 0) o.max_in_flight = o.concurrency;
    if (o.initial_backoff.count() <= 0) o.initial_backoff = milliseconds(100);
    if (o.max_backoff < o.initial_backoff) o.max_backoff = o.initial_backoff;
    return o;
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
        s = std::make_shared<Session>(++session_seq_);
        active_ = s;
      }
      s->Open(stub_.get());
      ++sessions_;
      const auto started = Clock::now();
      bool got_any = false;
      bool ok = s->Write(subscribe_);
      if (ok) ok = Resend(s);
      v1::EngineMessage msg;
      while (ok && s->stream()->Read(&msg)) {
        got_any = true;
        Dispatch(msg);
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
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, wait, [this] { return stopping_.load(); });
      }
      backoff = std::min(backoff * 2, opts_.max_backoff);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      reader_done_ = true;
    }
    cv_.notify_all();
  }

  // Makes `s` the stream for answers and writes there every answer not yet
  // acknowledged that was last sent on another stream (or never sent).
  bool Resend(const std::shared_ptr<Session>& s) {
    std::vector<v1::WorkerMessage> resend;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return true;
      current_ = s;
      connected_ = true;
      for (auto& [ref, p] : unacked_) {
        if (p.session_id == s->id()) continue;
        p.session_id = s->id();
        ++p.sends;
        resend.push_back(p.msg);
      }
    }
    if (!resend.empty()) {
      spdlog::info("adapter {}: resending {} unacknowledged answer(s)",
                   opts_.department, resend.size());
    }
    for (const auto& m : resend) {
      if (!s->Write(m)) return false;
    }
    spdlog::info("adapter {}: task stream open to {}", opts_.department,
                 opts_.address);
    return true;
  }

  void Dispatch(const v1::EngineMessage& msg) {
    if (msg.has_task()) {
      ++tasks_received_;
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        spdlog::debug("adapter {}: stopping, task {} left for redelivery",
                      opts_.department, msg.task().token());
        return;
      }
      queue_.push_back(msg.task());
      // cv_ has waiters with other predicates too (reconnect, stop):
      // notify_one could wake one of them instead of an idle pool thread.
      cv_.notify_all();
      return;
    }
    if (msg.has_ack()) HandleAck(msg.ack());
  }

  void HandleAck(const v1::Ack& ack) {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = unacked_.find(ack.ref());
    if (it != unacked_.end()) {
      const PendingAnswer p = std::move(it->second);
      unacked_.erase(it);
      lock.unlock();
      cv_.notify_all();
      const bool complete = p.msg.has_complete();
      const std::string& token =
          complete ? p.msg.complete().token() : p.msg.fail().token();
      if (ack.code() == 0) {
        ++answers_acked_;
        return;
      }
      ++answers_rejected_;
      if (p.sends > 1) {
        // A resent answer the engine had already taken is expected here.
        spdlog::info("adapter {}: resent {} of task {} rejected: {}: {}",
                     opts_.department, complete ? "completion" : "failure",
                     token, CodeName(ack.code()), ack.message());
      } else {
        spdlog::warn("adapter {}: {} of task {} rejected: {}: {}",
                     opts_.department, complete ? "completion" : "failure",
                     token, CodeName(ack.code()), ack.message());
      }
      return;
    }
    auto hb = heartbeat_refs_.find(ack.ref());
    if (hb == heartbeat_refs_.end()) return;  // not ours, or pruned
    const std::string token = hb->second.token;
    heartbeat_refs_.erase(hb);
    lock.unlock();
    if (ack.code() != 0) {
      spdlog::warn("adapter {}: heartbeat of task {} rejected: {}: {}",
                   opts_.department, token, CodeName(ack.code()),
                   ack.message());
    }
  }

  void PoolLoop() {
    for (;;) {
      v1::Task task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_.load() || !queue_.empty(); });
        if (stopping_) return;
        task = std::move(queue_.front());
        queue_.pop_front();
        Running r;
        r.last_beat = Clock::now();
        r.interval = HeartbeatInterval(task);
        running_[task.token()] = r;
      }
      TaskResult result = RunHandler(task);
      {
        std::lock_guard<std::mutex> lock(mu_);
        running_.erase(task.token());
      }
      v1::WorkerMessage answer;
      if (result.ok) {
        ++tasks_completed_;
        auto* c = answer.mutable_complete();
        c->set_token(task.token());
        c->set_result_json(std::move(result.result_json));
      } else {
        ++tasks_failed_;
        auto* f = answer.mutable_fail();
        f->set_token(task.token());
        f->set_error(std::move(result.error));
        f->set_cause(std::move(result.cause));
      }
      SendAnswer(std::move(answer));
    }
  }

  TaskResult RunHandler(const v1::Task& task) {
    Context ctx(this, task);
    TaskResult result;
    try {
      result = handler_(ctx);
    } catch (const std::exception& e) {
      return TaskResult::Fail(kHandlerExceptionError,
                              std::string("handler threw: ") + e.what());
    } catch (...) {
      return TaskResult::Fail(kHandlerExceptionError, "handler threw");
    }
    if (result.ok && !nlohmann::json::accept(result.result_json)) {
      spdlog::error("adapter {}: handler result for task {} is not JSON",
                    opts_.department, task.token());
      return TaskResult::Fail(kInvalidResultError,
                              "the adapter's result is not valid JSON");
    }
    if (!result.ok && result.error.empty()) {
      result.error = "Adapter.Error";
    }
    return result;
  }

  milliseconds HeartbeatInterval(const v1::Task& task) const {
    if (task.heartbeat_seconds() > 0) {
      return milliseconds(int64_t{task.heartbeat_seconds()} * 1000 / 2);
    }
    int64_t lease = task.lease_expires_at_ms() > 0
                        ? task.lease_expires_at_ms() - EpochMs()
                        : opts_.lease_ms;
    if (lease <= 0) lease = opts_.lease_ms > 0 ? opts_.lease_ms : 30000;
    return milliseconds(std::max<int64_t>(lease / 2, 200));
  }

  void SendAnswer(v1::WorkerMessage msg) {
    std::shared_ptr<Session> s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      msg.set_ref(next_ref_++);
      s = current_;
      PendingAnswer& p = unacked_[msg.ref()];
      p.msg = msg;
      p.session_id = s ? s->id() : 0;
      p.created = Clock::now();
      p.sends = s ? 1 : 0;
    }
    // When this fails, the answer stays pending and goes out on the next
    // stream.
    if (s) s->Write(msg);
  }

  void TickerLoop() {
    for (;;) {
      std::vector<std::string> beat;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, milliseconds(200), [this] { return reader_done_; });
        if (reader_done_) return;
        const auto now = Clock::now();
        if (opts_.auto_heartbeat && current_ != nullptr) {
          for (auto& [token, r] : running_) {
            if (now - r.last_beat >= r.interval) beat.push_back(token);
          }
        }
        for (auto it = unacked_.begin(); it != unacked_.end();) {
          if (now - it->second.created > opts_.answer_retention) {
            spdlog::warn("adapter {}: giving up on an unacknowledged answer",
                         opts_.department);
            it = unacked_.erase(it);
          } else {
            ++it;
          }
        }
        for (auto it = heartbeat_refs_.begin(); it != heartbeat_refs_.end();) {
          if (now - it->second.sent > std::chrono::minutes(1)) {
            it = heartbeat_refs_.erase(it);
          } else {
            ++it;
          }
        }
      }
      for (const auto& token : beat) SendHeartbeat(token, 0);
    }
  }

  // After the stream is gone: tries the unary calls for answers the engine
  // never acknowledged, until `deadline`.
  void FlushUnackedByUnary(Clock::time_point deadline) {
    std::map<uint64_t, PendingAnswer> pending;
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending.swap(unacked_);
    }
    for (const auto& [ref, p] : pending) {
      if (Clock::now() >= deadline) break;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       (deadline - Clock::now()));
      grpc::Status st;
      if (p.msg.has_complete()) {
        v1::CompleteTaskResponse resp;
        st = stub_->CompleteTask(&ctx, p.msg.complete(), &resp);
      } else if (p.msg.has_fail()) {
        v1::FailTaskResponse resp;
        st = stub_->FailTask(&ctx, p.msg.fail(), &resp);
      } else {
        continue;
      }
      if (st.ok()) {
        ++answers_acked_;
      } else {
        ++answers_rejected_;
        spdlog::warn("adapter {}: answer sent on stop not taken: {}: {}",
                     opts_.department, CodeName(st.error_code()),
                     st.error_message());
      }
    }
  }

  const WorkerOptions opts_;
  const TaskHandler handler_;
  v1::WorkerMessage subscribe_;  // constant after Start
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AdapterService::Stub> stub_;

  std::thread reader_;
  std::thread ticker_;
  std::vector<std::thread> pool_;

  std::atomic<uint64_t> tasks_received_{0};
  std::atomic<uint64_t> tasks_completed_{0};
  std::atomic<uint64_t> tasks_failed_{0};
  std::atomic<uint64_t> answers_acked_{0};
  std::atomic<uint64_t> answers_rejected_{0};
  std::atomic<uint64_t> heartbeats_sent_{0};
  std::atomic<uint64_t> sessions_{0};
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};  // written under mu_

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;      // GUARDED_BY(mu_)
  bool stopped_ = false;      // GUARDED_BY(mu_)
  bool reader_done_ = false;  // GUARDED_BY(mu_)
  uint64_t session_seq_ = 0;  // GUARDED_BY(mu_)
  uint64_t next_ref_ = 1;     // GUARDED_BY(mu_)
  // The session the reader runs (possibly still subscribing).
  std::shared_ptr<Session> active_;  // GUARDED_BY(mu_)
  // The subscribed session answers go to; null while disconnected.
  std::shared_ptr<Session> current_;                 // GUARDED_BY(mu_)
  std::deque<v1::Task> queue_;                       // GUARDED_BY(mu_)
  std::map<std::string, Running> running_;           // GUARDED_BY(mu_)
  std::map<uint64_t, PendingAnswer> unacked_;        // GUARDED_BY(mu_)
  std::map<uint64_t, HeartbeatRef> heartbeat_refs_;  // GUARDED_BY(mu_)
};

Worker::Worker(WorkerOptions options, TaskHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Worker::~Worker() = default;

bool Worker::Start() { return impl_->Start(); }

void Worker::Stop() { impl_->Stop(); }

WorkerStats Worker::stats() const { return impl_->stats(); }

}  // namespace onewindow::adapter
