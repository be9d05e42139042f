#include "engine/service/services.h"

#include <spdlog/spdlog.h>

#include <deque>
#include <memory>
#include <mutex>

#include "engine/asl/limits.h"
#include "scheduler/cork.h"

namespace onewindow::service {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;
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
                                    CallbackServerContext* ctx,
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
    std::vector<grpc::string_ref> v = ac->FindPropertyValues("x509_common_name");
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

// Authenticates, bounds the principal's calls in flight, runs the Api
// method and finishes the call with its reply.
template <typename Req, typename Resp>
ServerUnaryReactor* Unary(ServiceContext* sc, CallbackServerContext* ctx,
                          const char* method, const Req* req, Resp* resp,
                          void (Api::*fn)(const Caller&, const Req&,
                                          Done<Resp>)) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  absl::StatusOr<Caller> caller = Authenticate(sc, ctx, method);
  if (!caller.ok()) {
    Count(sc, method, caller.status(), "");
    r->Finish(ToGrpc(caller.status()));
    return r;
  }
  if (absl::Status s = sc->auth->AdmitCall(caller->principal); !s.ok()) {
    Count(sc, method, s, caller->principal);
    r->Finish(ToGrpc(s));
    return r;
  }
  const std::string principal = caller->principal;
  (sc->api->*fn)(*caller, *req,
                 [sc, r, resp, method, principal](absl::StatusOr<Resp> res) {
                   if (res.ok()) *resp = std::move(*res);
                   sc->auth->ReleaseCall(principal);
                   Count(sc, method, res.status(), principal);
                   r->Finish(ToGrpc(res.status()));
                 });
  return r;
}

}  // namespace

// ---- CaseService ----

ServerUnaryReactor* CaseServiceImpl::SubmitCase(
    CallbackServerContext* ctx, const v1::SubmitCaseRequest* req,
    v1::SubmitCaseResponse* resp) {
  return Unary(ctx_, ctx, "SubmitCase", req, resp, &Api::SubmitCase);
}

ServerUnaryReactor* CaseServiceImpl::GetCase(CallbackServerContext* ctx,
                                             const v1::GetCaseRequest* req,
                                             v1::GetCaseResponse* resp) {
  return Unary(ctx_, ctx, "GetCase", req, resp, &Api::GetCase);
}

ServerUnaryReactor* CaseServiceImpl::ListCases(
    CallbackServerContext* ctx, const v1::ListCasesRequest* req,
    v1::ListCasesResponse* resp) {
  return Unary(ctx_, ctx, "ListCases", req, resp, &Api::ListCases);
}

ServerUnaryReactor* CaseServiceImpl::CancelCase(
    CallbackServerContext* ctx, const v1::CancelCaseRequest* req,
    v1::CancelCaseResponse* resp) {
  return Unary(ctx_, ctx, "CancelCase", req, resp, &Api::CancelCase);
}

ServerUnaryReactor* CaseServiceImpl::GetCaseHistory(
    CallbackServerContext* ctx, const v1::GetCaseHistoryRequest* req,
    v1::GetCaseHistoryResponse* resp) {
  return Unary(ctx_, ctx, "GetCaseHistory", req, resp, &Api::GetCaseHistory);
}

ServerUnaryReactor* CaseServiceImpl::VerifyCase(
    CallbackServerContext* ctx, const v1::VerifyCaseRequest* req,
    v1::VerifyCaseResponse* resp) {
  return Unary(ctx_, ctx, "VerifyCase", req, resp, &Api::VerifyCase);
}

ServerUnaryReactor* CaseServiceImpl::AddDocuments(
    CallbackServerContext* ctx, const v1::AddDocumentsRequest* req,
    v1::AddDocumentsResponse* resp) {
  return Unary(ctx_, ctx, "AddDocuments", req, resp, &Api::AddDocuments);
}

ServerUnaryReactor* CaseServiceImpl::MigrateCase(
    CallbackServerContext* ctx, const v1::MigrateCaseRequest* req,
    v1::MigrateCaseResponse* resp) {
  return Unary(ctx_, ctx, "MigrateCase", req, resp, &Api::MigrateCase);
}

ServerUnaryReactor* CaseServiceImpl::GetBoard(CallbackServerContext* ctx,
                                              const v1::GetBoardRequest* req,
                                              v1::GetBoardResponse* resp) {
  return Unary(ctx_, ctx, "GetBoard", req, resp, &Api::GetBoard);
}

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
class WatchReactor final : public grpc::ServerWriteReactor<v1::WatchCaseResponse>,
                           public scheduler::WatchSink {
 public:
  // Most responses waiting to be written before the watcher is cut off.
  static constexpr size_t kMaxQueued = 20000;
  // Responses per frame when several are waiting (batch_frames).
  static constexpr int kMaxPerFrame = 256;

  WatchReactor(ServiceContext* sc, CallbackServerContext* ctx,
               const v1::WatchCaseRequest& req)
      : sc_(sc), alive_(std::make_shared<Alive>()) {
    alive_->reactor = this;
    absl::StatusOr<Caller> caller = Authenticate(sc, ctx, "WatchCase");
    absl::Status s = caller.status();
    if (s.ok()) s = sc->api->CanWatch(*caller, req);
    if (s.ok()) {
      auto id = sc->auth->OpenStream(*caller, [ctx] { ctx->TryCancel(); });
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
              (case_id_.empty() ? std::string()
                                : " with after_seq=" +
                                      std::to_string(sent_seq_))));
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
    const bool several = batch_frames_ && queue_.size() > 1 &&
                         queue_[1].kind_case() == kind;
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

  ServiceContext* const sc_;
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

grpc::ServerWriteReactor<v1::WatchCaseResponse>* CaseServiceImpl::WatchCase(
    CallbackServerContext* ctx, const v1::WatchCaseRequest* req) {
  return new WatchReactor(ctx_, ctx, *req);
}

// ---- WorkflowService ----

ServerUnaryReactor* WorkflowServiceImpl::ValidateWorkflow(
    CallbackServerContext* ctx, const v1::ValidateWorkflowRequest* req,
    v1::ValidateWorkflowResponse* resp) {
  return Unary(ctx_, ctx, "ValidateWorkflow", req, resp,
               &Api::ValidateWorkflow);
}

ServerUnaryReactor* WorkflowServiceImpl::DeployWorkflow(
    CallbackServerContext* ctx, const v1::DeployWorkflowRequest* req,
    v1::DeployWorkflowResponse* resp) {
  return Unary(ctx_, ctx, "DeployWorkflow", req, resp, &Api::DeployWorkflow);
}

ServerUnaryReactor* WorkflowServiceImpl::ListWorkflows(
    CallbackServerContext* ctx, const v1::ListWorkflowsRequest* req,
    v1::ListWorkflowsResponse* resp) {
  return Unary(ctx_, ctx, "ListWorkflows", req, resp, &Api::ListWorkflows);
}

ServerUnaryReactor* WorkflowServiceImpl::GetWorkflow(
    CallbackServerContext* ctx, const v1::GetWorkflowRequest* req,
    v1::GetWorkflowResponse* resp) {
  return Unary(ctx_, ctx, "GetWorkflow", req, resp, &Api::GetWorkflow);
}

// ---- AdapterService ----

namespace {

// One worker's task stream. The reactor object lives until OnDone; the
// Outbox outlives it for engine callbacks that answer late.
class TaskStreamReactor final
    : public grpc::ServerBidiReactor<v1::WorkerMessage, v1::EngineMessage>,
      public scheduler::WorkerSession {
 public:
  struct Outbox {
    std::mutex mu;
    TaskStreamReactor* reactor = nullptr;  // null once the stream is done
  };
  // Items per frame when several are waiting.
  static constexpr int kMaxPerFrame = 256;

  TaskStreamReactor(ServiceContext* sc, CallbackServerContext* ctx)
      : sc_(sc), outbox_(std::make_shared<Outbox>()) {
    outbox_->reactor = this;
    absl::StatusOr<Caller> caller = Authenticate(sc, ctx, "TaskStream");
    absl::Status s = caller.status();
    if (s.ok()) {
      caller_ = *caller;
      auto id = sc->auth->OpenStream(caller_, [ctx] { ctx->TryCancel(); });
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
        o.max_in_flight = sub.max_in_flight() <= 0
                              ? 32
                              : std::min(sub.max_in_flight(), 1024);
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
        api->Heartbeat(
            caller_, msg.heartbeat(),
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

grpc::ServerBidiReactor<v1::WorkerMessage, v1::EngineMessage>*
AdapterServiceImpl::TaskStream(CallbackServerContext* ctx) {
  return new TaskStreamReactor(ctx_, ctx);
}

ServerUnaryReactor* AdapterServiceImpl::ActivateTasks(
    CallbackServerContext* ctx, const v1::ActivateTasksRequest* req,
    v1::ActivateTasksResponse* resp) {
  return Unary(ctx_, ctx, "ActivateTasks", req, resp, &Api::ActivateTasks);
}

ServerUnaryReactor* AdapterServiceImpl::CompleteTask(
    CallbackServerContext* ctx, const v1::CompleteTaskRequest* req,
    v1::CompleteTaskResponse* resp) {
  return Unary(ctx_, ctx, "CompleteTask", req, resp, &Api::CompleteTask);
}

ServerUnaryReactor* AdapterServiceImpl::FailTask(
    CallbackServerContext* ctx, const v1::FailTaskRequest* req,
    v1::FailTaskResponse* resp) {
  return Unary(ctx_, ctx, "FailTask", req, resp, &Api::FailTask);
}

ServerUnaryReactor* AdapterServiceImpl::Heartbeat(
    CallbackServerContext* ctx, const v1::HeartbeatRequest* req,
    v1::HeartbeatResponse* resp) {
  return Unary(ctx_, ctx, "Heartbeat", req, resp, &Api::Heartbeat);
}

ServerUnaryReactor* AdapterServiceImpl::ListTasks(
    CallbackServerContext* ctx, const v1::ListTasksRequest* req,
    v1::ListTasksResponse* resp) {
  return Unary(ctx_, ctx, "ListTasks", req, resp, &Api::ListTasks);
}

// ---- AdminService ----

ServerUnaryReactor* AdminServiceImpl::WhoAmI(CallbackServerContext* ctx,
                                             const v1::WhoAmIRequest* req,
                                             v1::WhoAmIResponse* resp) {
  return Unary(ctx_, ctx, "WhoAmI", req, resp, &Api::WhoAmI);
}

ServerUnaryReactor* AdminServiceImpl::Backup(CallbackServerContext* ctx,
                                             const v1::BackupRequest* req,
                                             v1::BackupResponse* resp) {
  return Unary(ctx_, ctx, "Backup", req, resp, &Api::Backup);
}

}  // namespace onewindow::service
