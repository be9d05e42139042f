#include "engine/service/services.h"

#include <spdlog/spdlog.h>

#include <deque>
#include <memory>
#include <mutex>

#include "engine/asl/definition.h"

namespace onewindow::service {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;
using onewindow::v1::EngineMessage;
using onewindow::v1::WorkerMessage;

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

namespace {

ServerUnaryReactor* Reply(CallbackServerContext* ctx, const absl::Status& s) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  r->Finish(ToGrpc(s));
  return r;
}

void ToApi(const scheduler::DeployedWorkflow& w, onewindow::v1::Workflow* out,
           bool with_definition) {
  out->set_name(w.record.name());
  out->set_version(w.record.version());
  if (with_definition) out->set_definition(w.record.definition());
  out->set_format(w.record.format());
  out->set_description(w.record.description());
  out->set_deployed_at_ms(w.record.deployed_at_ms());
  for (const auto& d : w.record.departments()) out->add_departments(d);
  out->set_digest(w.record.digest());
}

}  // namespace

// ---- CaseService ----

ServerUnaryReactor* CaseServiceImpl::SubmitCase(
    CallbackServerContext* ctx, const onewindow::v1::SubmitCaseRequest* req,
    onewindow::v1::SubmitCaseResponse* resp) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  engine_->SubmitCase(*req, [r, resp](absl::StatusOr<scheduler::SubmitResult> res) {
    if (res.ok()) {
      resp->set_case_id(res->case_id);
      resp->set_version(res->version);
      resp->set_deduplicated(res->deduplicated);
    }
    r->Finish(ToGrpc(res.status()));
  });
  return r;
}

ServerUnaryReactor* CaseServiceImpl::GetCase(
    CallbackServerContext* ctx, const onewindow::v1::GetCaseRequest* req,
    onewindow::v1::GetCaseResponse* resp) {
  absl::StatusOr<onewindow::v1::Case> c = engine_->GetCase(req->case_id());
  if (c.ok()) *resp->mutable_case_() = std::move(*c);
  return Reply(ctx, c.status());
}

ServerUnaryReactor* CaseServiceImpl::ListCases(
    CallbackServerContext* ctx, const onewindow::v1::ListCasesRequest* req,
    onewindow::v1::ListCasesResponse* resp) {
  auto list = engine_->ListCases(*req);
  if (list.ok()) *resp = std::move(*list);
  return Reply(ctx, list.status());
}

ServerUnaryReactor* CaseServiceImpl::CancelCase(
    CallbackServerContext* ctx, const onewindow::v1::CancelCaseRequest* req,
    onewindow::v1::CancelCaseResponse* resp) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  engine_->CancelCase(req->case_id(), req->reason(),
                      [r, resp](absl::StatusOr<onewindow::v1::Case> c) {
                        if (c.ok()) *resp->mutable_case_() = std::move(*c);
                        r->Finish(ToGrpc(c.status()));
                      });
  return r;
}

ServerUnaryReactor* CaseServiceImpl::GetCaseHistory(
    CallbackServerContext* ctx,
    const onewindow::v1::GetCaseHistoryRequest* req,
    onewindow::v1::GetCaseHistoryResponse* resp) {
  auto events =
      engine_->GetHistory(req->case_id(), req->after_seq(), req->limit());
  if (events.ok()) {
    for (auto& e : *events) *resp->add_events() = std::move(e);
  }
  return Reply(ctx, events.status());
}

// ---- WorkflowService ----

ServerUnaryReactor* WorkflowServiceImpl::ValidateWorkflow(
    CallbackServerContext* ctx,
    const onewindow::v1::ValidateWorkflowRequest* req,
    onewindow::v1::ValidateWorkflowResponse* resp) {
  if (req->definition().empty()) {
    return Reply(ctx, absl::InvalidArgumentError("definition: required"));
  }
  auto loaded = asl::LoadSource(req->definition(), scheduler::SourceFormatFromProto(req->format()));
  if (!loaded.ok()) {
    resp->set_valid(false);
    auto* e = resp->add_errors();
    e->set_path("$");
    e->set_message(std::string(loaded.status().message()));
    return Reply(ctx, absl::OkStatus());
  }
  std::vector<asl::ValidationError> errors = asl::Validate(*loaded);
  resp->set_valid(errors.empty());
  for (const auto& err : errors) {
    auto* e = resp->add_errors();
    e->set_path(err.path);
    e->set_message(err.message);
    e->set_line(err.line);
  }
  return Reply(ctx, absl::OkStatus());
}

ServerUnaryReactor* WorkflowServiceImpl::DeployWorkflow(
    CallbackServerContext* ctx, const onewindow::v1::DeployWorkflowRequest* req,
    onewindow::v1::DeployWorkflowResponse* resp) {
  auto res = engine_->registry().Deploy(req->name(), req->definition(),
                                        scheduler::SourceFormatFromProto(req->format()),
                                        req->description(),
                                        engine_->clock().NowMs());
  if (res.ok()) {
    resp->set_name(res->name);
    resp->set_version(res->version);
    resp->set_created(res->created);
    spdlog::info("workflow {}@{} {}", res->name, res->version,
                 res->created ? "deployed" : "unchanged");
  }
  return Reply(ctx, res.status());
}

ServerUnaryReactor* WorkflowServiceImpl::ListWorkflows(
    CallbackServerContext* ctx, const onewindow::v1::ListWorkflowsRequest*,
    onewindow::v1::ListWorkflowsResponse* resp) {
  for (const auto& w : engine_->registry().ListLatest()) {
    ToApi(w, resp->add_workflows(), /*with_definition=*/false);
  }
  return Reply(ctx, absl::OkStatus());
}

ServerUnaryReactor* WorkflowServiceImpl::GetWorkflow(
    CallbackServerContext* ctx, const onewindow::v1::GetWorkflowRequest* req,
    onewindow::v1::GetWorkflowResponse* resp) {
  if (req->name().empty()) {
    return Reply(ctx, absl::InvalidArgumentError("name: required"));
  }
  auto w = engine_->registry().Get(req->name(), req->version());
  if (w.ok()) ToApi(*w, resp->mutable_workflow(), /*with_definition=*/true);
  return Reply(ctx, w.status());
}

// ---- AdapterService ----

namespace {

// One worker's task stream. The reactor object lives until OnDone; the
// Outbox outlives it for engine callbacks that answer late.
class TaskStreamReactor final
    : public grpc::ServerBidiReactor<WorkerMessage, EngineMessage>,
      public scheduler::WorkerSession {
 public:
  struct Outbox {
    std::mutex mu;
    TaskStreamReactor* reactor = nullptr;  // null once the stream is done
  };

  explicit TaskStreamReactor(scheduler::Engine* engine)
      : engine_(engine), outbox_(std::make_shared<Outbox>()) {
    outbox_->reactor = this;
    StartRead(&in_);
  }

  // WorkerSession. Called under the dispatcher's lock.
  void Push(const onewindow::v1::Task& task) override {
    EngineMessage m;
    *m.mutable_task() = task;
    Send(std::move(m));
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      EndStream(grpc::Status::OK);
      return;
    }
    Handle(in_);
    {
      std::lock_guard lock(mu_);
      if (finishing_) return;
    }
    StartRead(&in_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    if (!out_.empty()) out_.pop_front();
    if (!ok) {
      out_.clear();
      writing_ = false;
      return;  // the read side sees the break and ends the stream
    }
    if (!out_.empty() && !finishing_) {
      StartWrite(&out_.front());
      return;
    }
    writing_ = false;
    if (finishing_ && !finished_) {
      finished_ = true;
      Finish(final_status_);
    }
  }

  void OnDone() override {
    Detach();
    {
      std::lock_guard lock(outbox_->mu);
      outbox_->reactor = nullptr;
    }
    delete this;
  }

  void OnCancel() override { Detach(); }

 private:
  void Send(EngineMessage m) {
    std::lock_guard lock(mu_);
    if (finishing_) return;
    out_.push_back(std::move(m));
    if (!writing_) {
      writing_ = true;
      StartWrite(&out_.front());
    }
  }

  // Sends an Ack if the stream is still there.
  static void AckLater(const std::shared_ptr<Outbox>& outbox, uint64_t ref,
                       const absl::Status& s, int64_t lease = 0) {
    if (ref == 0 && s.ok()) return;
    EngineMessage m;
    m.mutable_ack()->set_ref(ref);
    m.mutable_ack()->set_code(static_cast<int>(s.code()));
    m.mutable_ack()->set_message(std::string(s.message()));
    m.mutable_ack()->set_lease_expires_at_ms(lease);
    std::lock_guard lock(outbox->mu);
    if (outbox->reactor) outbox->reactor->Send(std::move(m));
  }

  void Handle(const WorkerMessage& msg) {
    const uint64_t ref = msg.ref();
    auto outbox = outbox_;
    switch (msg.kind_case()) {
      case WorkerMessage::kSubscribe: {
        const auto& sub = msg.subscribe();
        if (subscribed_) {
          AckLater(outbox, ref,
                   absl::FailedPreconditionError(
                       "subscribe: this stream is already subscribed"));
          return;
        }
        if (sub.department().empty()) {
          AckLater(outbox, ref,
                   absl::InvalidArgumentError("subscribe.department: required"));
          return;
        }
        scheduler::SessionOptions o;
        o.department = sub.department();
        o.worker = sub.worker();
        o.max_in_flight = sub.max_in_flight() <= 0
                              ? 32
                              : std::min(sub.max_in_flight(), 1024);
        o.lease_ms = sub.lease_ms() <= 0 ? 30000 : sub.lease_ms();
        for (const auto& t : sub.task_types()) o.task_types.insert(t);
        subscribed_ = true;
        department_ = o.department;
        spdlog::info("worker {} subscribed for {} (max {} in flight)",
                     o.worker.empty() ? "(unnamed)" : o.worker, o.department,
                     o.max_in_flight);
        AckLater(outbox, ref, absl::OkStatus());
        engine_->dispatcher().Attach(this, o);
        {
          std::lock_guard lock(mu_);
          attached_ = true;
        }
        return;
      }
      case WorkerMessage::kComplete:
        engine_->CompleteTask(
            msg.complete().token(), msg.complete().result_json(),
            [outbox, ref](absl::StatusOr<bool> r) {
              AckLater(outbox, ref, r.status());
            });
        return;
      case WorkerMessage::kFail:
        engine_->FailTask(msg.fail().token(), msg.fail().error(),
                          msg.fail().cause(),
                          [outbox, ref](absl::StatusOr<bool> r) {
                            AckLater(outbox, ref, r.status());
                          });
        return;
      case WorkerMessage::kHeartbeat:
        engine_->Heartbeat(msg.heartbeat().token(),
                           msg.heartbeat().extend_ms(),
                           [outbox, ref](absl::StatusOr<int64_t> r) {
                             AckLater(outbox, ref, r.status(),
                                      r.ok() ? *r : 0);
                           });
        return;
      case WorkerMessage::kCredit:
        AckLater(outbox, ref, absl::OkStatus());
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
      engine_->dispatcher().Detach(this);
      spdlog::info("worker stream for {} closed", department_);
    }
  }

  void EndStream(grpc::Status status) {
    Detach();
    std::lock_guard lock(mu_);
    if (finishing_) return;
    finishing_ = true;
    final_status_ = std::move(status);
    if (!writing_) {
      finished_ = true;
      Finish(final_status_);
    }
  }

  scheduler::Engine* const engine_;
  std::shared_ptr<Outbox> outbox_;
  WorkerMessage in_;
  bool subscribed_ = false;  // read side only
  std::string department_;

  std::mutex mu_;
  std::deque<EngineMessage> out_;  // GUARDED_BY(mu_); front is being written
  bool writing_ = false;           // GUARDED_BY(mu_)
  bool finishing_ = false;         // GUARDED_BY(mu_)
  bool finished_ = false;          // GUARDED_BY(mu_)
  bool attached_ = false;          // GUARDED_BY(mu_)
  grpc::Status final_status_;
};

}  // namespace

grpc::ServerBidiReactor<WorkerMessage, EngineMessage>*
AdapterServiceImpl::TaskStream(CallbackServerContext*) {
  return new TaskStreamReactor(engine_);
}

ServerUnaryReactor* AdapterServiceImpl::ActivateTasks(
    CallbackServerContext* ctx, const onewindow::v1::ActivateTasksRequest* req,
    onewindow::v1::ActivateTasksResponse* resp) {
  if (req->department().empty()) {
    return Reply(ctx, absl::InvalidArgumentError("department: required"));
  }
  int max = req->max_tasks() <= 0 ? 1 : std::min(req->max_tasks(), 100);
  int64_t lease = req->lease_ms() <= 0 ? 300000 : req->lease_ms();
  for (auto& t : engine_->dispatcher().Activate(req->department(), max, lease,
                                                req->worker())) {
    *resp->add_tasks() = std::move(t);
  }
  return Reply(ctx, absl::OkStatus());
}

ServerUnaryReactor* AdapterServiceImpl::CompleteTask(
    CallbackServerContext* ctx, const onewindow::v1::CompleteTaskRequest* req,
    onewindow::v1::CompleteTaskResponse*) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  engine_->CompleteTask(req->token(), req->result_json(),
                        [r](absl::StatusOr<bool> res) {
                          r->Finish(ToGrpc(res.status()));
                        });
  return r;
}

ServerUnaryReactor* AdapterServiceImpl::FailTask(
    CallbackServerContext* ctx, const onewindow::v1::FailTaskRequest* req,
    onewindow::v1::FailTaskResponse*) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  engine_->FailTask(req->token(), req->error(), req->cause(),
                    [r](absl::StatusOr<bool> res) {
                      r->Finish(ToGrpc(res.status()));
                    });
  return r;
}

ServerUnaryReactor* AdapterServiceImpl::Heartbeat(
    CallbackServerContext* ctx, const onewindow::v1::HeartbeatRequest* req,
    onewindow::v1::HeartbeatResponse* resp) {
  ServerUnaryReactor* r = ctx->DefaultReactor();
  engine_->Heartbeat(req->token(), req->extend_ms(),
                     [r, resp](absl::StatusOr<int64_t> res) {
                       if (res.ok()) resp->set_lease_expires_at_ms(*res);
                       r->Finish(ToGrpc(res.status()));
                     });
  return r;
}

}  // namespace onewindow::service
