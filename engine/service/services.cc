#include "engine/service/services.h"

#include <spdlog/spdlog.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/asl/limits.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "onewindow/v1/adapters.grpc.pb.h"
#include "onewindow/v1/admin.grpc.pb.h"
#include "onewindow/v1/cases.grpc.pb.h"
#include "onewindow/v1/workflows.grpc.pb.h"
#include "scheduler/cork.h"
#include "scheduler/thread_name.h"

namespace onewindow::service {

namespace v1 = onewindow::v1;

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  // gRPC sends the message in a header, which clients refuse past a few
  // kilobytes (and then fail the connection's next call too): a message
  // quoting a huge input is cut in the middle.
  return grpc::Status(
      static_cast<grpc::StatusCode>(s.code()),
      asl::ElideMiddle(std::string_view(s.message().data(), s.message().size()),
                       4 * asl::kMaxMessageBytes));
}

namespace {

absl::StatusOr<Caller> Authenticate(ServiceContext* sc,
                                    grpc::ServerContextBase* ctx,
                                    std::string_view method) {
  std::string_view authorization;
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it != md.end()) {
    authorization = std::string_view(it->second.data(), it->second.size());
  }
  std::string cn;
  std::shared_ptr<const grpc::AuthContext> ac = ctx->auth_context();
  if (ac != nullptr && ac->IsPeerAuthenticated()) {
    std::vector<grpc::string_ref> v =
        ac->FindPropertyValues("x509_common_name");
    if (!v.empty()) cn.assign(v.front().data(), v.front().size());
  }
  return sc->auth->Authenticate(authorization, cn, ctx->peer(), method);
}

void Count(ServiceContext* sc, std::string_view method, const absl::Status& s,
           const std::string& principal) {
  if (s.code() == absl::StatusCode::kPermissionDenied) {
    spdlog::warn("{} by {} refused: {}", method, principal,
                 std::string(s.message()));
  }
  if (sc->count) sc->count(method, static_cast<int>(s.code()));
}

// ---- Calls on the completion queue ----

// A completion the queue's thread runs: each operation a call starts
// carries one of its tags.
class CqTag {
 public:
  virtual void Run(bool ok) = 0;

 protected:
  ~CqTag() = default;
};

// What gRPC is given as the tag: the CqTag itself, as the queue's thread
// reads it back.
inline void* AsTag(CqTag* tag) { return tag; }

template <typename T, void (T::*F)(bool)>
class Tag final : public CqTag {
 public:
  explicit Tag(T* owner) : owner_(owner) {}
  void Run(bool ok) override { (owner_->*F)(ok); }

 private:
  T* const owner_;
};

// A streaming call on the queue, with the callback API's reactor contract
// (grpc::ServerBidiReactor), so a call reads like one:
// - StartRead, StartWrite and Finish may be called from any thread, with at
//   most one read and one write outstanding;
// - OnReadDone, OnWriteDone and OnCancel run on the queue's thread;
// - OnDone runs once, after Finish and every operation have completed, and
//   is where the call deletes itself.
// A Finish asked for while a write is outstanding starts when that write
// completes (gRPC allows one at a time); writes asked for after Finish are
// dropped.
//
// `Stream` is grpc::ServerAsyncReaderWriter<W, R> or grpc::ServerAsyncWriter<W>
// (then R is unused).
template <typename Stream, typename W, typename R>
class StreamCall {
 public:
  StreamCall() : stream_(&ctx_) { ctx_.AsyncNotifyWhenDone(AsTag(&done_tag_)); }
  virtual ~StreamCall() = default;
  StreamCall(const StreamCall&) = delete;
  StreamCall& operator=(const StreamCall&) = delete;

 protected:
  // Once the call has arrived (and another object waits for the next).
  virtual void OnStart() = 0;
  virtual void OnReadDone(bool /*ok*/) {}
  virtual void OnWriteDone(bool /*ok*/) {}
  virtual void OnCancel() {}
  virtual void OnDone() = 0;

  void StartRead(R* msg) {
    {
      std::lock_guard lock(ops_mu_);
      ++pending_;
    }
    stream_.Read(msg, AsTag(&read_tag_));
  }

  // `msg` is serialized before this returns.
  void StartWrite(const W* msg) {
    {
      std::lock_guard lock(ops_mu_);
      if (finish_asked_ || writing_) return;
      writing_ = true;
      ++pending_;
    }
    stream_.Write(*msg, AsTag(&write_tag_));
  }

  void Finish(grpc::Status status) {
    {
      std::lock_guard lock(ops_mu_);
      if (finish_asked_) return;
      finish_asked_ = true;
      if (writing_) {
        deferred_finish_ = std::move(status);
        return;
      }
      ++pending_;
    }
    stream_.Finish(status, AsTag(&finish_tag_));
  }

  grpc::ServerContext ctx_;
  Stream stream_;
  // What the object waiting for a call gives gRPC's Request method.
  CqTag* request_tag() { return &request_tag_; }

 private:
  using Self = StreamCall<Stream, W, R>;

  // The call arrived (ok), or the server is shutting down (!ok: the done tag
  // never comes then).
  void Arrived(bool ok) {
    if (!ok) {
      delete this;
      return;
    }
    OnStart();
    Release();  // the arrival's own count (the done tag's is separate)
  }

  void ReadDone(bool ok) {
    OnReadDone(ok);
    Release();
  }

  void WriteDone(bool ok) {
    std::optional<grpc::Status> finish;
    {
      std::lock_guard lock(ops_mu_);
      writing_ = false;
      if (deferred_finish_) {
        finish = std::move(deferred_finish_);
        deferred_finish_.reset();
        ++pending_;
      }
    }
    if (finish) stream_.Finish(*finish, AsTag(&finish_tag_));
    OnWriteDone(ok);
    Release();
  }

  void FinishDone(bool /*ok*/) {
    {
      std::lock_guard lock(ops_mu_);
      finished_ = true;
    }
    Release();
  }

  void CallDone(bool /*ok*/) {
    if (ctx_.IsCancelled()) OnCancel();
    Release();
  }

  void Release() {
    bool last;
    {
      std::lock_guard lock(ops_mu_);
      last = --pending_ == 0 && finished_;
    }
    if (last) OnDone();
  }

  std::mutex ops_mu_;
  // Completions still to come: the arrival, the done tag, and each read,
  // write and finish started.
  int pending_ = 2;                              // GUARDED_BY(ops_mu_)
  bool writing_ = false;                         // GUARDED_BY(ops_mu_)
  bool finish_asked_ = false;                    // GUARDED_BY(ops_mu_)
  bool finished_ = false;                        // GUARDED_BY(ops_mu_)
  std::optional<grpc::Status> deferred_finish_;  // GUARDED_BY(ops_mu_)

  Tag<Self, &Self::Arrived> request_tag_{this};
  Tag<Self, &Self::ReadDone> read_tag_{this};
  Tag<Self, &Self::WriteDone> write_tag_{this};
  Tag<Self, &Self::FinishDone> finish_tag_{this};
  Tag<Self, &Self::CallDone> done_tag_{this};
};

// One unary method: its name (as metrics and refusals give it), how many
// objects wait for its calls, how to ask gRPC for the next call, and what
// serves a call: an Api method (after authentication and the principal's
// bound on calls in flight), or `plain` (gRPC health: no caller).
template <typename Req, typename Resp>
struct UnaryMethod {
  using Writer = grpc::ServerAsyncResponseWriter<Resp>;
  ServiceContext* sc = nullptr;
  const char* name = "";
  int listeners = 1;
  std::function<void(grpc::ServerContext*, Req*, Writer*, void* tag)> request;
  void (Api::*fn)(const Caller&, const Req&, Done<Resp>) = nullptr;
  std::function<absl::StatusOr<Resp>(const Req&)> plain;
};

// One unary call, from its arrival to its reply, which the thread that has
// it sends (a shard's after its commit, a reader's after its read).
template <typename Req, typename Resp>
class UnaryCall {
 public:
  using Method = UnaryMethod<Req, Resp>;

  // Leaves an object waiting for the method's next call.
  static void Listen(const Method* m) {
    auto* call = new UnaryCall(m);
    m->request(&call->ctx_, &call->req_, &call->writer_,
               AsTag(&call->arrived_));
  }

 private:
  explicit UnaryCall(const Method* m) : m_(m), writer_(&ctx_) {}

  void Arrived(bool ok) {
    if (!ok) {  // the server is shutting down
      delete this;
      return;
    }
    Listen(m_);
    if (m_->plain) {
      absl::StatusOr<Resp> res = m_->plain(req_);
      if (res.ok()) {
        Reply(*res, absl::OkStatus());
      } else {
        Reply(Resp(), res.status());
      }
      return;
    }
    ServiceContext* sc = m_->sc;
    absl::StatusOr<Caller> caller = Authenticate(sc, &ctx_, m_->name);
    if (!caller.ok()) {
      Count(sc, m_->name, caller.status(), "");
      Reply(Resp(), caller.status());
      return;
    }
    if (absl::Status s = sc->auth->AdmitCall(caller->principal); !s.ok()) {
      Count(sc, m_->name, s, caller->principal);
      Reply(Resp(), s);
      return;
    }
    principal_ = caller->principal;
    (sc->api->*(m_->fn))(*caller, req_, [this](absl::StatusOr<Resp> res) {
      ServiceContext* sc = m_->sc;
      sc->auth->ReleaseCall(principal_);
      Count(sc, m_->name, res.status(), principal_);
      if (res.ok()) {
        Reply(*res, absl::OkStatus());
      } else {
        Reply(Resp(), res.status());
      }
    });
  }

  void Reply(const Resp& resp, const absl::Status& s) {
    writer_.Finish(resp, ToGrpc(s), AsTag(&finished_));
  }

  void Finished(bool /*ok*/) { delete this; }

  const Method* const m_;
  grpc::ServerContext ctx_;
  Req req_;
  typename Method::Writer writer_;
  std::string principal_;
  Tag<UnaryCall, &UnaryCall::Arrived> arrived_{this};
  Tag<UnaryCall, &UnaryCall::Finished> finished_{this};
};

// What starts a method's listeners, whatever its types.
class Listener {
 public:
  virtual ~Listener() = default;
  virtual void Listen() const = 0;
};

template <typename Req, typename Resp>
class UnaryListener final : public Listener {
 public:
  explicit UnaryListener(UnaryMethod<Req, Resp> m) : m_(std::move(m)) {}
  void Listen() const override {
    for (int i = 0; i < m_.listeners; ++i) UnaryCall<Req, Resp>::Listen(&m_);
  }

 private:
  const UnaryMethod<Req, Resp> m_;
};

class HealthWatch;

}  // namespace

struct GrpcServices::Shared {
  ServiceContext* sc = nullptr;
  grpc::ServerCompletionQueue* cq = nullptr;
  v1::CaseService::AsyncService cases;
  v1::WorkflowService::AsyncService workflows;
  v1::AdapterService::AsyncService adapters;
  v1::AdminService::AsyncService admin;
  grpc::health::v1::Health::AsyncService health;
  std::vector<std::unique_ptr<Listener>> unary;
  // gRPC health: whether the server serves, and who watches that.
  std::mutex health_mu;
  bool serving = true;                     // GUARDED_BY(health_mu)
  std::set<HealthWatch*> health_watchers;  // GUARDED_BY(health_mu)
  int health_watch_streams = 0;            // GUARDED_BY(health_mu)
};

namespace {
using Shared = GrpcServices::Shared;
}  // namespace

namespace {

bool IsTerminalEvent(const std::string& type) {
  return type == "ExecutionSucceeded" || type == "ExecutionFailed" ||
         type == "ExecutionCancelled";
}

// On a thread that corks its writes (a shard sending what it committed),
// puts off a stream's next write to the cork's end and returns true: what
// the commit queued for the stream then leaves together. `holder` is the
// stream's shared {mu, reactor} record, which outlives the reactor, so a
// stream that ends meanwhile is skipped.
template <typename Holder>
bool DeferToCork(const std::shared_ptr<Holder>& holder) {
  return scheduler::WriteCork::Defer(holder.get(), [holder] {
    std::lock_guard holder_lock(holder->mu);
    if (holder->reactor != nullptr) holder->reactor->WriteQueued();
  });
}

// One WatchCase stream: a case's history (stored, then live), or the
// status changes a filter selects.
class WatchReactor final
    : public StreamCall<grpc::ServerAsyncWriter<v1::WatchCaseResponse>,
                        v1::WatchCaseResponse, v1::WatchCaseResponse>,
      public scheduler::WatchSink {
 public:
  // Most responses waiting to be written before the watcher is cut off.
  static constexpr size_t kMaxQueued = 20000;
  // Responses per frame when several are waiting (batch_frames).
  static constexpr int kMaxPerFrame = 256;

  // Leaves an object waiting for the next WatchCase call.
  static void Listen(Shared* shared) {
    auto* call = new WatchReactor(shared);
    shared->cases.RequestWatchCase(&call->ctx_, &call->req_, &call->stream_,
                                   shared->cq, shared->cq,
                                   AsTag(call->request_tag()));
  }

  void OnStart() override {
    Listen(shared_);
    ServiceContext* sc = sc_;
    const v1::WatchCaseRequest& req = req_;
    absl::StatusOr<Caller> caller = Authenticate(sc, &ctx_, "WatchCase");
    absl::Status s = caller.status();
    if (s.ok()) s = sc->api->CanWatch(*caller, req);
    if (s.ok()) {
      auto id = sc->auth->OpenStream(*caller, [this] { ctx_.TryCancel(); });
      s = id.status();
      if (id.ok()) stream_id_ = *id;
    }
    if (!s.ok()) {
      Count(sc, "WatchCase", s, caller.ok() ? caller->principal : "");
      std::lock_guard lock(mu_);
      FinishLocked(ToGrpc(s));
      return;
    }
    ++sc_->watch_streams;
    batch_frames_ = req.batch_frames();
    scheduler::WatchHub& hub = sc->api->engine().watch();
    if (req.case_id().empty()) {
      catching_up_ = false;
      scheduler::WatchFilter f;
      f.service = req.service();
      f.status = req.status();
      f.department = req.department();
      watch_id_ = hub.WatchChanges(f, this);
      return;
    }
    case_id_ = *scheduler::Engine::CheckCaseId(req.case_id());
    last_seq_ = req.after_seq();
    // Watch first, then read what is stored: nothing falls in between.
    watch_id_ = hub.WatchCase(case_id_, this);
    ReadStored(alive_, last_seq_);
  }

  void OnEvents(const std::string&,
                const std::vector<v1::HistoryEvent>& events) override {
    std::lock_guard lock(mu_);
    if (catching_up_) {
      for (const auto& e : events) held_.push_back(e);
      return;
    }
    for (const auto& e : events) QueueEventLocked(e);
    WriteSoonLocked();
  }

  void OnChange(const v1::CaseChange& change) override {
    std::lock_guard lock(mu_);
    v1::WatchCaseResponse r;
    *r.mutable_change() = change;
    QueueLocked(std::move(r));
    WriteSoonLocked();
  }

  // What a cork's flush calls (DeferToCork).
  void WriteQueued() {
    std::lock_guard lock(mu_);
    WriteLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status::OK);
      return;
    }
    WriteLocked();
  }

  void OnCancel() override {
    std::lock_guard lock(mu_);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    // No hub callback or history read reaches this object after these.
    if (watch_id_ != 0) sc_->api->engine().watch().Unwatch(watch_id_);
    {
      std::lock_guard lock(alive_->mu);
      alive_->reactor = nullptr;
    }
    if (stream_id_ != 0) {
      sc_->auth->CloseStream(stream_id_);
      --sc_->watch_streams;
    }
    delete this;
  }

 private:
  // Lets reads in flight find out whether the stream is still there.
  struct Alive {
    std::mutex mu;
    WatchReactor* reactor = nullptr;
  };

  explicit WatchReactor(Shared* shared)
      : shared_(shared), sc_(shared->sc), alive_(std::make_shared<Alive>()) {
    alive_->reactor = this;
  }

  static void ReadStored(std::shared_ptr<Alive> alive, int64_t after) {
    WatchReactor* self;
    {
      std::lock_guard lock(alive->mu);
      self = alive->reactor;
      if (self == nullptr) return;
    }
    self->sc_->api->engine().GetHistory(
        self->case_id_, after, 1000,
        [alive](absl::StatusOr<v1::GetCaseHistoryResponse> r) {
          std::lock_guard alive_lock(alive->mu);
          WatchReactor* me = alive->reactor;
          if (me == nullptr) return;
          std::lock_guard lock(me->mu_);
          if (me->done_) return;
          if (!r.ok()) {
            me->FinishLocked(ToGrpc(r.status()));
            return;
          }
          for (const auto& e : r->events()) me->QueueEventLocked(e);
          if (r->more()) {
            const int64_t next = me->last_seq_;
            me->WriteLocked();
            // The next page comes from a reader thread again.
            me->sc_->api->engine().RunOnReader(
                [alive, next] { ReadStored(alive, next); });
            return;
          }
          me->catching_up_ = false;
          for (const auto& e : me->held_) me->QueueEventLocked(e);
          me->held_.clear();
          me->WriteLocked();
        });
  }

  // REQUIRES: mu_ held.
  void QueueEventLocked(const v1::HistoryEvent& e) {
    if (e.seq() <= last_seq_) return;  // already sent
    last_seq_ = e.seq();
    v1::WatchCaseResponse r;
    *r.mutable_event() = e;
    QueueLocked(std::move(r));
    if (IsTerminalEvent(e.type())) ended_ = true;
  }

  void QueueLocked(v1::WatchCaseResponse r) {
    if (done_) return;
    if (queue_.size() >= kMaxQueued) {
      FinishLocked(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          "the watcher fell behind by " + std::to_string(kMaxQueued) +
              " responses; watch again" +
              (case_id_.empty()
                   ? std::string()
                   : " with after_seq=" + std::to_string(sent_seq_))));
      return;
    }
    queue_.push_back(std::move(r));
  }

  // Starts a write now, or when the thread's cork ends (DeferToCork).
  // REQUIRES: mu_ held.
  void WriteSoonLocked() {
    if (done_ || writing_) return;
    if (batch_frames_ && DeferToCork(alive_)) return;
    WriteLocked();
  }

  // Takes the next frame from the queue: for a client that reads batched
  // frames, consecutive events (or changes) travel together.
  // REQUIRES: mu_ held.
  void WriteLocked() {
    if (done_ || writing_) return;
    if (queue_.empty()) {
      if (ended_ && !catching_up_) FinishLocked(grpc::Status::OK);
      return;
    }
    writing_ = true;
    if (queue_.front().has_event()) {
      sent_seq_ = queue_.front().event().seq() - 1;
    }
    const auto kind = queue_.front().kind_case();
    const bool several =
        batch_frames_ && queue_.size() > 1 && queue_[1].kind_case() == kind;
    frame_.Clear();
    if (several && kind == v1::WatchCaseResponse::kEvent) {
      auto* batch = frame_.mutable_events();
      for (int n = 0; n < kMaxPerFrame && !queue_.empty() &&
                      queue_.front().kind_case() == kind;
           ++n) {
        *batch->add_events() = std::move(*queue_.front().mutable_event());
        queue_.pop_front();
      }
    } else if (several && kind == v1::WatchCaseResponse::kChange) {
      auto* batch = frame_.mutable_changes();
      for (int n = 0; n < kMaxPerFrame && !queue_.empty() &&
                      queue_.front().kind_case() == kind;
           ++n) {
        *batch->add_changes() = std::move(*queue_.front().mutable_change());
        queue_.pop_front();
      }
    } else {
      frame_ = std::move(queue_.front());
      queue_.pop_front();
    }
    StartWrite(&frame_);
  }

  void FinishLocked(grpc::Status s) {
    if (done_) return;
    done_ = true;
    Finish(std::move(s));
  }

  Shared* const shared_;
  ServiceContext* const sc_;
  v1::WatchCaseRequest req_;
  std::shared_ptr<Alive> alive_;
  std::string case_id_;
  uint64_t watch_id_ = 0;
  uint64_t stream_id_ = 0;
  std::mutex mu_;
  std::deque<v1::WatchCaseResponse> queue_;  // waiting to be written
  v1::WatchCaseResponse frame_;              // being written
  std::vector<v1::HistoryEvent> held_;       // live events while catching up
  bool batch_frames_ = false;
  bool catching_up_ = true;
  bool writing_ = false;
  bool ended_ = false;
  bool done_ = false;
  int64_t last_seq_ = 0;
  int64_t sent_seq_ = 0;
};

}  // namespace

// ---- AdapterService ----

namespace {

// One worker's task stream. The call object lives until OnDone; the
// Outbox outlives it for engine callbacks that answer late.
class TaskStreamReactor final
    : public StreamCall<
          grpc::ServerAsyncReaderWriter<v1::EngineMessage, v1::WorkerMessage>,
          v1::EngineMessage, v1::WorkerMessage>,
      public scheduler::WorkerSession {
 public:
  struct Outbox {
    std::mutex mu;
    TaskStreamReactor* reactor = nullptr;  // null once the stream is done
  };
  // Items per frame when several are waiting.
  static constexpr int kMaxPerFrame = 256;

  // Leaves an object waiting for the next TaskStream call.
  static void Listen(Shared* shared) {
    auto* call = new TaskStreamReactor(shared);
    shared->adapters.RequestTaskStream(&call->ctx_, &call->stream_, shared->cq,
                                       shared->cq, AsTag(call->request_tag()));
  }

  void OnStart() override {
    Listen(shared_);
    ServiceContext* sc = sc_;
    absl::StatusOr<Caller> caller = Authenticate(sc, &ctx_, "TaskStream");
    absl::Status s = caller.status();
    if (s.ok()) {
      caller_ = *caller;
      auto id = sc->auth->OpenStream(caller_, [this] { ctx_.TryCancel(); });
      s = id.status();
      if (id.ok()) stream_id_ = *id;
    }
    if (!s.ok()) {
      Count(sc, "TaskStream", s, caller.ok() ? caller->principal : "");
      std::lock_guard lock(mu_);
      finishing_ = finished_ = true;
      Finish(ToGrpc(s));
      return;
    }
    ++sc_->task_streams;
    StartRead(&in_);
  }

  // WorkerSession. Called under the dispatcher's lock.
  void Push(std::vector<v1::Task> tasks) override {
    std::lock_guard lock(mu_);
    for (auto& t : tasks) {
      v1::EngineMessage m;
      *m.mutable_task() = std::move(t);
      out_.push_back(std::move(m));
    }
    WriteSoonLocked();
  }

  void Cancelled(const v1::TaskCancelled& notice) override {
    std::lock_guard lock(mu_);
    if (!batch_frames_) return;  // a worker that would not understand it
    v1::EngineMessage m;
    *m.mutable_cancelled() = notice;
    out_.push_back(std::move(m));
    WriteSoonLocked();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      EndStream(grpc::Status::OK);
      return;
    }
    Handle(in_, /*top=*/true);
    {
      std::lock_guard lock(mu_);
      if (finishing_) return;
    }
    StartRead(&in_);
  }

  // What a cork's flush calls (DeferToCork).
  void WriteQueued() {
    std::lock_guard lock(mu_);
    WriteLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      out_.clear();
      return;  // the read side sees the break and ends the stream
    }
    WriteLocked();
  }

  void OnDone() override {
    Detach();
    {
      std::lock_guard lock(outbox_->mu);
      outbox_->reactor = nullptr;
    }
    if (stream_id_ != 0) {
      sc_->auth->CloseStream(stream_id_);
      --sc_->task_streams;
    }
    delete this;
  }

  void OnCancel() override { Detach(); }

 private:
  // Starts a write now, or when the thread's cork ends (DeferToCork).
  // REQUIRES: mu_ held.
  void WriteSoonLocked() {
    if (writing_ || finished_) return;
    if (DeferToCork(outbox_)) return;
    WriteLocked();
  }

  // Takes the next frame from the queue: consecutive tasks (or acks)
  // travel together. REQUIRES: mu_ held.
  void WriteLocked() {
    if (writing_ || finished_) return;
    if (out_.empty()) {
      if (finishing_) {
        finished_ = true;
        Finish(final_status_);
      }
      return;
    }
    frame_.Clear();
    const auto kind = out_.front().kind_case();
    int n = 0;
    if (!batch_frames_) {
      frame_ = std::move(out_.front());
      out_.pop_front();
    } else if (kind == v1::EngineMessage::kTask && out_.size() > 1 &&
               out_[1].kind_case() == v1::EngineMessage::kTask) {
      while (!out_.empty() && n < kMaxPerFrame &&
             out_.front().kind_case() == v1::EngineMessage::kTask) {
        *frame_.mutable_tasks()->add_tasks() =
            std::move(*out_.front().mutable_task());
        out_.pop_front();
        ++n;
      }
    } else if (kind == v1::EngineMessage::kAck && out_.size() > 1 &&
               out_[1].kind_case() == v1::EngineMessage::kAck) {
      while (!out_.empty() && n < kMaxPerFrame &&
             out_.front().kind_case() == v1::EngineMessage::kAck) {
        *frame_.mutable_acks()->add_acks() =
            std::move(*out_.front().mutable_ack());
        out_.pop_front();
        ++n;
      }
    } else {
      frame_ = std::move(out_.front());
      out_.pop_front();
    }
    writing_ = true;
    StartWrite(&frame_);
  }

  // Sends an Ack if the stream is still there.
  static void AckLater(const std::shared_ptr<Outbox>& outbox, uint64_t ref,
                       const absl::Status& s, int64_t lease = 0) {
    if (ref == 0 && s.ok()) return;
    v1::EngineMessage m;
    m.mutable_ack()->set_ref(ref);
    m.mutable_ack()->set_code(static_cast<int>(s.code()));
    m.mutable_ack()->set_message(std::string(s.message()));
    m.mutable_ack()->set_lease_expires_at_ms(lease);
    std::lock_guard lock(outbox->mu);
    if (outbox->reactor) outbox->reactor->QueueAck(std::move(m));
  }

  void QueueAck(v1::EngineMessage m) {
    std::lock_guard lock(mu_);
    if (finishing_) return;
    out_.push_back(std::move(m));
    WriteSoonLocked();
  }

  void Handle(const v1::WorkerMessage& msg, bool top) {
    const uint64_t ref = msg.ref();
    auto outbox = outbox_;
    Api* api = sc_->api;
    switch (msg.kind_case()) {
      case v1::WorkerMessage::kSubscribe: {
        const auto& sub = msg.subscribe();
        if (!top) {
          AckLater(outbox, ref,
                   absl::InvalidArgumentError(
                       "batch: a subscribe cannot travel in a batch"));
          return;
        }
        if (subscribed_) {
          AckLater(outbox, ref,
                   absl::FailedPreconditionError(
                       "subscribe: this stream is already subscribed"));
          return;
        }
        if (absl::Status s = api->CanSubscribe(caller_, sub); !s.ok()) {
          Count(sc_, "TaskStream.Subscribe", s, caller_.principal);
          AckLater(outbox, ref, s);
          return;
        }
        scheduler::SessionOptions o;
        o.department = sub.department();
        o.worker = sub.worker().empty() ? caller_.principal : sub.worker();
        o.max_in_flight =
            sub.max_in_flight() <= 0 ? 32 : std::min(sub.max_in_flight(), 1024);
        o.lease_ms = sub.lease_ms() <= 0 ? 30000 : sub.lease_ms();
        for (const auto& t : sub.task_types()) o.task_types.insert(t);
        subscribed_ = true;
        department_ = o.department;
        {
          std::lock_guard lock(mu_);
          batch_frames_ = sub.batch_frames();
        }
        spdlog::info("worker {} ({}) subscribed for {} (max {} in flight)",
                     o.worker, caller_.principal, o.department,
                     o.max_in_flight);
        AckLater(outbox, ref, absl::OkStatus());
        api->engine().dispatcher().Attach(this, o);
        {
          std::lock_guard lock(mu_);
          attached_ = true;
        }
        return;
      }
      case v1::WorkerMessage::kComplete:
        api->CompleteTask(
            caller_, msg.complete(),
            [outbox, ref](absl::StatusOr<v1::CompleteTaskResponse> r) {
              AckLater(outbox, ref, r.status());
            });
        return;
      case v1::WorkerMessage::kFail:
        api->FailTask(caller_, msg.fail(),
                      [outbox, ref](absl::StatusOr<v1::FailTaskResponse> r) {
                        AckLater(outbox, ref, r.status());
                      });
        return;
      case v1::WorkerMessage::kHeartbeat:
        api->Heartbeat(caller_, msg.heartbeat(),
                       [outbox, ref](absl::StatusOr<v1::HeartbeatResponse> r) {
                         AckLater(outbox, ref, r.status(),
                                  r.ok() ? r->lease_expires_at_ms() : 0);
                       });
        return;
      case v1::WorkerMessage::kCredit:
        AckLater(outbox, ref, absl::OkStatus());
        return;
      case v1::WorkerMessage::kBatch:
        if (!top) {
          AckLater(outbox, ref,
                   absl::InvalidArgumentError("batch: batches do not nest"));
          return;
        }
        if (msg.batch().messages_size() > 1024) {
          AckLater(outbox, ref,
                   absl::InvalidArgumentError(
                       "batch: more than 1024 messages in one frame"));
          return;
        }
        for (const auto& inner : msg.batch().messages()) Handle(inner, false);
        return;
      default:
        AckLater(outbox, ref,
                 absl::InvalidArgumentError("message: empty worker message"));
        return;
    }
  }

  void Detach() {
    bool attached;
    {
      std::lock_guard lock(mu_);
      attached = attached_;
      attached_ = false;
    }
    if (attached) {
      sc_->api->engine().dispatcher().Detach(this);
      spdlog::info("worker stream for {} ({}) closed", department_,
                   caller_.principal);
    }
  }

  void EndStream(grpc::Status status) {
    Detach();
    std::lock_guard lock(mu_);
    if (finishing_) return;
    finishing_ = true;
    final_status_ = std::move(status);
    if (!writing_) {
      out_.clear();
      finished_ = true;
      Finish(final_status_);
    }
  }

  explicit TaskStreamReactor(Shared* shared)
      : shared_(shared), sc_(shared->sc), outbox_(std::make_shared<Outbox>()) {
    outbox_->reactor = this;
  }

  Shared* const shared_;
  ServiceContext* const sc_;
  std::shared_ptr<Outbox> outbox_;
  Caller caller_;
  uint64_t stream_id_ = 0;
  v1::WorkerMessage in_;
  bool subscribed_ = false;  // read side only
  std::string department_;

  std::mutex mu_;
  std::deque<v1::EngineMessage> out_;  // GUARDED_BY(mu_)
  v1::EngineMessage frame_;            // being written
  bool writing_ = false;               // GUARDED_BY(mu_)
  bool finishing_ = false;             // GUARDED_BY(mu_)
  bool finished_ = false;              // GUARDED_BY(mu_)
  bool attached_ = false;              // GUARDED_BY(mu_)
  bool batch_frames_ = false;          // GUARDED_BY(mu_)
  grpc::Status final_status_;
};

}  // namespace

// ---- gRPC health ----

namespace {

// The services gRPC health answers for, besides the server ("").
bool KnownService(const std::string& name) {
  return name.empty() || name == "onewindow.v1.CaseService" ||
         name == "onewindow.v1.WorkflowService" ||
         name == "onewindow.v1.AdapterService" ||
         name == "onewindow.v1.AdminService" || name == "grpc.health.v1.Health";
}

using HealthStatus = grpc::health::v1::HealthCheckResponse;

// Health.Watch streams open at once. The health service answers without
// authentication (probes carry no token), so this bounds what anyone who
// can reach the port may hold open; probes use Check.
constexpr int kMaxHealthWatchStreams = 64;

absl::StatusOr<HealthStatus> HealthCheck(
    Shared* shared, const grpc::health::v1::HealthCheckRequest& req) {
  if (!KnownService(req.service())) {
    return absl::NotFoundError("health: unknown service '" +
                               asl::ElideMiddle(req.service(), 200) + "'");
  }
  HealthStatus r;
  std::lock_guard lock(shared->health_mu);
  r.set_status(shared->serving ? HealthStatus::SERVING
                               : HealthStatus::NOT_SERVING);
  return r;
}

// One Health.Watch stream: the status now, then each change.
class HealthWatch final
    : public StreamCall<grpc::ServerAsyncWriter<HealthStatus>, HealthStatus,
                        HealthStatus> {
 public:
  static void Listen(Shared* shared) {
    auto* call = new HealthWatch(shared);
    shared->health.RequestWatch(&call->ctx_, &call->req_, &call->stream_,
                                shared->cq, shared->cq,
                                AsTag(call->request_tag()));
  }

  // Under the shared health lock.
  void Changed(bool serving) {
    std::lock_guard lock(mu_);
    Send(serving ? HealthStatus::SERVING : HealthStatus::NOT_SERVING);
  }

  void OnStart() override {
    Listen(shared_);
    std::lock_guard health_lock(shared_->health_mu);
    std::lock_guard lock(mu_);
    if (shared_->health_watch_streams >= kMaxHealthWatchStreams) {
      Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "health: " + std::to_string(kMaxHealthWatchStreams) +
                              " Watch streams are open already, the most at "
                              "once; use Check, or watch again later"));
      return;
    }
    ++shared_->health_watch_streams;
    counted_ = true;
    if (!KnownService(req_.service())) {
      Send(HealthStatus::SERVICE_UNKNOWN);
      return;  // no change will come; the caller ends the stream
    }
    shared_->health_watchers.insert(this);
    watching_ = true;
    Send(shared_->serving ? HealthStatus::SERVING : HealthStatus::NOT_SERVING);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      Finish(grpc::Status::OK);
      return;
    }
    if (next_) {
      const auto s = *next_;
      next_.reset();
      Send(s);
    }
  }

  void OnCancel() override {
    Unwatch();
    Finish(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    Unwatch();
    delete this;
  }

 private:
  explicit HealthWatch(Shared* shared) : shared_(shared) {}

  void Unwatch() {
    std::lock_guard health_lock(shared_->health_mu);
    if (watching_) shared_->health_watchers.erase(this);
    if (counted_) --shared_->health_watch_streams;
    watching_ = counted_ = false;
  }

  // Writes `s` now, or after the write in flight (only the latest waits).
  // REQUIRES: mu_ held.
  void Send(HealthStatus::ServingStatus s) {
    if (writing_) {
      next_ = s;
      return;
    }
    writing_ = true;
    frame_.set_status(s);
    StartWrite(&frame_);
  }

  Shared* const shared_;
  grpc::health::v1::HealthCheckRequest req_;
  bool watching_ = false;  // GUARDED_BY(shared_->health_mu)
  bool counted_ = false;   // GUARDED_BY(shared_->health_mu)
  std::mutex mu_;
  HealthStatus frame_;                               // being written
  bool writing_ = false;                             // GUARDED_BY(mu_)
  std::optional<HealthStatus::ServingStatus> next_;  // GUARDED_BY(mu_)
};

}  // namespace

// ---- GrpcServices ----

namespace {

// Adds a unary method of `svc` served by Api::`name`.
#define OW_UNARY(svc, name, n)                                               \
  AddUnary<v1::name##Request, v1::name##Response>(                           \
      shared, #name, n, &Api::name,                                          \
      [shared](grpc::ServerContext* ctx, v1::name##Request* req,             \
               grpc::ServerAsyncResponseWriter<v1::name##Response>* w,       \
               void* tag) {                                                  \
        shared->svc.Request##name(ctx, req, w, shared->cq, shared->cq, tag); \
      })

template <typename Req, typename Resp>
void AddUnary(Shared* shared, const char* name, int listeners,
              void (Api::*fn)(const Caller&, const Req&, Done<Resp>),
              std::function<void(grpc::ServerContext*, Req*,
                                 grpc::ServerAsyncResponseWriter<Resp>*, void*)>
                  request) {
  UnaryMethod<Req, Resp> m;
  m.sc = shared->sc;
  m.name = name;
  m.listeners = listeners;
  m.request = std::move(request);
  m.fn = fn;
  shared->unary.push_back(
      std::make_unique<UnaryListener<Req, Resp>>(std::move(m)));
}

// Objects waiting for the calls of a method every case makes, so a burst
// of arrivals is matched without waiting for the queue's thread.
constexpr int kHot = 4;

}  // namespace

GrpcServices::GrpcServices(ServiceContext* sc, grpc::ServerBuilder* builder)
    : shared_(std::make_unique<Shared>()) {
  Shared* shared = shared_.get();
  shared->sc = sc;
  builder->RegisterService(&shared->cases);
  builder->RegisterService(&shared->workflows);
  builder->RegisterService(&shared->adapters);
  builder->RegisterService(&shared->admin);
  builder->RegisterService(&shared->health);
  cq_ = builder->AddCompletionQueue();
  shared->cq = cq_.get();

  OW_UNARY(cases, SubmitCase, kHot);
  OW_UNARY(cases, GetCase, kHot);
  OW_UNARY(cases, ListCases, 1);
  OW_UNARY(cases, CancelCase, 1);
  OW_UNARY(cases, GetCaseHistory, 1);
  OW_UNARY(cases, VerifyCase, 1);
  OW_UNARY(cases, AddDocuments, 1);
  OW_UNARY(cases, MigrateCase, 1);
  OW_UNARY(cases, GetBoard, 1);
  OW_UNARY(workflows, ValidateWorkflow, 1);
  OW_UNARY(workflows, DeployWorkflow, 1);
  OW_UNARY(workflows, ListWorkflows, 1);
  OW_UNARY(workflows, GetWorkflow, 1);
  OW_UNARY(adapters, ActivateTasks, kHot);
  OW_UNARY(adapters, CompleteTask, kHot);
  OW_UNARY(adapters, FailTask, kHot);
  OW_UNARY(adapters, Heartbeat, kHot);
  OW_UNARY(adapters, ListTasks, 1);
  OW_UNARY(admin, WhoAmI, 1);
  OW_UNARY(admin, Backup, 1);

  using HealthReq = grpc::health::v1::HealthCheckRequest;
  UnaryMethod<HealthReq, HealthStatus> check;
  check.name = "Health.Check";
  check.request = [shared](grpc::ServerContext* ctx, HealthReq* req,
                           grpc::ServerAsyncResponseWriter<HealthStatus>* w,
                           void* tag) {
    shared->health.RequestCheck(ctx, req, w, shared->cq, shared->cq, tag);
  };
  check.plain = [shared](const HealthReq& req) {
    return HealthCheck(shared, req);
  };
  shared->unary.push_back(
      std::make_unique<UnaryListener<HealthReq, HealthStatus>>(
          std::move(check)));
}

#undef OW_UNARY

GrpcServices::~GrpcServices() { Stop(); }

void GrpcServices::Start() {
  if (started_) return;
  started_ = true;
  Shared* shared = shared_.get();
  for (const auto& m : shared->unary) m->Listen();
  for (int i = 0; i < kHot; ++i) {
    WatchReactor::Listen(shared);
    TaskStreamReactor::Listen(shared);
  }
  HealthWatch::Listen(shared);
  poller_ = std::thread([cq = cq_.get()] {
    scheduler::NameThisThread("ow-grpc");
    void* tag;
    bool ok;
    while (cq->Next(&tag, &ok)) static_cast<CqTag*>(tag)->Run(ok);
  });
}

void GrpcServices::SetServing(bool serving) {
  Shared* shared = shared_.get();
  std::lock_guard lock(shared->health_mu);
  if (shared->serving == serving) return;
  shared->serving = serving;
  for (HealthWatch* w : shared->health_watchers) w->Changed(serving);
}

void GrpcServices::Stop() {
  if (stopped_) return;
  stopped_ = true;
  cq_->Shutdown();
  if (poller_.joinable()) {
    poller_.join();
  } else {  // never started: what is queued is the listeners' refusals
    void* tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) static_cast<CqTag*>(tag)->Run(ok);
  }
}

}  // namespace onewindow::service
