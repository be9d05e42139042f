// gRPC front of the engine: CaseService, WorkflowService, AdapterService.
//
// Thin on purpose: each handler converts the request, calls the Engine and
// converts its absl::Status into a grpc::Status with the same code. Uses the
// callback API; the task stream is one reactor per worker connection.
#ifndef ONEWINDOW_ENGINE_SERVICE_SERVICES_H_
#define ONEWINDOW_ENGINE_SERVICE_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "onewindow/v1/adapters.grpc.pb.h"
#include "onewindow/v1/cases.grpc.pb.h"
#include "onewindow/v1/workflows.grpc.pb.h"
#include "scheduler/engine.h"

namespace onewindow::service {

grpc::Status ToGrpc(const absl::Status& s);

class CaseServiceImpl final : public onewindow::v1::CaseService::CallbackService {
 public:
  explicit CaseServiceImpl(scheduler::Engine* engine) : engine_(engine) {}

  grpc::ServerUnaryReactor* SubmitCase(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::SubmitCaseRequest* req,
      onewindow::v1::SubmitCaseResponse* resp) override;
  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* ctx,
                                    const onewindow::v1::GetCaseRequest* req,
                                    onewindow::v1::GetCaseResponse* resp) override;
  grpc::ServerUnaryReactor* ListCases(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::ListCasesRequest* req,
      onewindow::v1::ListCasesResponse* resp) override;
  grpc::ServerUnaryReactor* CancelCase(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::CancelCaseRequest* req,
      onewindow::v1::CancelCaseResponse* resp) override;
  grpc::ServerUnaryReactor* GetCaseHistory(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::GetCaseHistoryRequest* req,
      onewindow::v1::GetCaseHistoryResponse* resp) override;

 private:
  scheduler::Engine* const engine_;
};

class WorkflowServiceImpl final
    : public onewindow::v1::WorkflowService::CallbackService {
 public:
  explicit WorkflowServiceImpl(scheduler::Engine* engine) : engine_(engine) {}

  grpc::ServerUnaryReactor* ValidateWorkflow(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::ValidateWorkflowRequest* req,
      onewindow::v1::ValidateWorkflowResponse* resp) override;
  grpc::ServerUnaryReactor* DeployWorkflow(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::DeployWorkflowRequest* req,
      onewindow::v1::DeployWorkflowResponse* resp) override;
  grpc::ServerUnaryReactor* ListWorkflows(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::ListWorkflowsRequest* req,
      onewindow::v1::ListWorkflowsResponse* resp) override;
  grpc::ServerUnaryReactor* GetWorkflow(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::GetWorkflowRequest* req,
      onewindow::v1::GetWorkflowResponse* resp) override;

 private:
  scheduler::Engine* const engine_;
};

class AdapterServiceImpl final
    : public onewindow::v1::AdapterService::CallbackService {
 public:
  explicit AdapterServiceImpl(scheduler::Engine* engine) : engine_(engine) {}

  grpc::ServerBidiReactor<onewindow::v1::WorkerMessage,
                          onewindow::v1::EngineMessage>*
  TaskStream(grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* ActivateTasks(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::ActivateTasksRequest* req,
      onewindow::v1::ActivateTasksResponse* resp) override;
  grpc::ServerUnaryReactor* CompleteTask(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::CompleteTaskRequest* req,
      onewindow::v1::CompleteTaskResponse* resp) override;
  grpc::ServerUnaryReactor* FailTask(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::FailTaskRequest* req,
      onewindow::v1::FailTaskResponse* resp) override;
  grpc::ServerUnaryReactor* Heartbeat(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::HeartbeatRequest* req,
      onewindow::v1::HeartbeatResponse* resp) override;

 private:
  scheduler::Engine* const engine_;
};

}  // namespace onewindow::service

#endif  // ONEWINDOW_ENGINE_SERVICE_SERVICES_H_
