// gRPC front of the engine: CaseService, WorkflowService, AdapterService,
// AdminService.
//
// Thin on purpose: each handler authenticates the call (auth.h), converts
// the request, calls the Api (which decides access and calls the engine)
// and converts its absl::Status into a grpc::Status with the same code.
// Uses the callback API; the task stream is one reactor per worker
// connection, WatchCase one reactor per watcher.
#ifndef ONEWINDOW_ENGINE_SERVICE_SERVICES_H_
#define ONEWINDOW_ENGINE_SERVICE_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "engine/service/api.h"
#include "engine/service/auth.h"
#include "onewindow/v1/adapters.grpc.pb.h"
#include "onewindow/v1/admin.grpc.pb.h"
#include "onewindow/v1/cases.grpc.pb.h"
#include "onewindow/v1/workflows.grpc.pb.h"

namespace onewindow::service {

grpc::Status ToGrpc(const absl::Status& s);

// What every service needs: the Api, the authenticator, and a hook counting
// replies (method, status code) for metrics.
struct ServiceContext {
  Api* api;
  Authenticator* auth;
  std::function<void(std::string_view method, int code)> count;
  // Streams open now (task streams and watchers), for metrics.
  std::atomic<int64_t> task_streams{0};
  std::atomic<int64_t> watch_streams{0};
};

class CaseServiceImpl final : public onewindow::v1::CaseService::CallbackService {
 public:
  explicit CaseServiceImpl(ServiceContext* ctx) : ctx_(ctx) {}

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
  grpc::ServerWriteReactor<onewindow::v1::WatchCaseResponse>* WatchCase(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::WatchCaseRequest* req) override;
  grpc::ServerUnaryReactor* VerifyCase(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::VerifyCaseRequest* req,
      onewindow::v1::VerifyCaseResponse* resp) override;
  grpc::ServerUnaryReactor* AddDocuments(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::AddDocumentsRequest* req,
      onewindow::v1::AddDocumentsResponse* resp) override;
  grpc::ServerUnaryReactor* MigrateCase(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::MigrateCaseRequest* req,
      onewindow::v1::MigrateCaseResponse* resp) override;
  grpc::ServerUnaryReactor* GetBoard(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::GetBoardRequest* req,
      onewindow::v1::GetBoardResponse* resp) override;

 private:
  ServiceContext* const ctx_;
};

class WorkflowServiceImpl final
    : public onewindow::v1::WorkflowService::CallbackService {
 public:
  explicit WorkflowServiceImpl(ServiceContext* ctx) : ctx_(ctx) {}

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
  ServiceContext* const ctx_;
};

class AdapterServiceImpl final
    : public onewindow::v1::AdapterService::CallbackService {
 public:
  explicit AdapterServiceImpl(ServiceContext* ctx) : ctx_(ctx) {}

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
  grpc::ServerUnaryReactor* ListTasks(
      grpc::CallbackServerContext* ctx,
      const onewindow::v1::ListTasksRequest* req,
      onewindow::v1::ListTasksResponse* resp) override;

 private:
  ServiceContext* const ctx_;
};

class AdminServiceImpl final
    : public onewindow::v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(ServiceContext* ctx) : ctx_(ctx) {}

  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* ctx,
                                   const onewindow::v1::WhoAmIRequest* req,
                                   onewindow::v1::WhoAmIResponse* resp) override;
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* ctx,
                                   const onewindow::v1::BackupRequest* req,
                                   onewindow::v1::BackupResponse* resp) override;

 private:
  ServiceContext* const ctx_;
};

}  // namespace onewindow::service

#endif  // ONEWINDOW_ENGINE_SERVICE_SERVICES_H_
