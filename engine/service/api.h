// Api: the engine's operations as a caller sees them, one method per RPC,
// each taking the Caller and deciding access (caller.h) before it touches
// the engine. The gRPC services and the web console's HTTP API are thin
// transports over this class: they convert requests and statuses, nothing
// more. Replies arrive through `done`, on an engine thread, once the change
// is durable. Thread-safe.
#ifndef ONEWINDOW_ENGINE_SERVICE_API_H_
#define ONEWINDOW_ENGINE_SERVICE_API_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/service/caller.h"
#include "onewindow/v1/adapters.pb.h"
#include "onewindow/v1/admin.pb.h"
#include "onewindow/v1/cases.pb.h"
#include "onewindow/v1/workflows.pb.h"
#include "scheduler/engine.h"

namespace onewindow::service {

template <typename T>
using Done = std::function<void(absl::StatusOr<T>)>;

class Api {
 public:
  explicit Api(scheduler::Engine* engine) : engine_(engine) {}

  scheduler::Engine& engine() { return *engine_; }

  // ---- cases ----
  void SubmitCase(const Caller& c, const onewindow::v1::SubmitCaseRequest& r,
                  Done<onewindow::v1::SubmitCaseResponse> done);
  void GetCase(const Caller& c, const onewindow::v1::GetCaseRequest& r,
               Done<onewindow::v1::GetCaseResponse> done);
  void ListCases(const Caller& c, const onewindow::v1::ListCasesRequest& r,
                 Done<onewindow::v1::ListCasesResponse> done);
  void CancelCase(const Caller& c, const onewindow::v1::CancelCaseRequest& r,
                  Done<onewindow::v1::CancelCaseResponse> done);
  void GetCaseHistory(const Caller& c,
                      const onewindow::v1::GetCaseHistoryRequest& r,
                      Done<onewindow::v1::GetCaseHistoryResponse> done);
  void VerifyCase(const Caller& c, const onewindow::v1::VerifyCaseRequest& r,
                  Done<onewindow::v1::VerifyCaseResponse> done);
  void AddDocuments(const Caller& c,
                    const onewindow::v1::AddDocumentsRequest& r,
                    Done<onewindow::v1::AddDocumentsResponse> done);
  void MigrateCase(const Caller& c, const onewindow::v1::MigrateCaseRequest& r,
                   Done<onewindow::v1::MigrateCaseResponse> done);
  void GetBoard(const Caller& c, const onewindow::v1::GetBoardRequest& r,
                Done<onewindow::v1::GetBoardResponse> done);
  // Access check of WatchCase (the stream itself is transport work).
  absl::Status CanWatch(const Caller& c,
                        const onewindow::v1::WatchCaseRequest& r);

  // ---- workflows ----
  void ValidateWorkflow(const Caller& c,
                        const onewindow::v1::ValidateWorkflowRequest& r,
                        Done<onewindow::v1::ValidateWorkflowResponse> done);
  void DeployWorkflow(const Caller& c,
                      const onewindow::v1::DeployWorkflowRequest& r,
                      Done<onewindow::v1::DeployWorkflowResponse> done);
  void ListWorkflows(const Caller& c,
                     const onewindow::v1::ListWorkflowsRequest& r,
                     Done<onewindow::v1::ListWorkflowsResponse> done);
  void GetWorkflow(const Caller& c, const onewindow::v1::GetWorkflowRequest& r,
                   Done<onewindow::v1::GetWorkflowResponse> done);

  // ---- tasks ----
  void ActivateTasks(const Caller& c,
                     const onewindow::v1::ActivateTasksRequest& r,
                     Done<onewindow::v1::ActivateTasksResponse> done);
  void ListTasks(const Caller& c, const onewindow::v1::ListTasksRequest& r,
                 Done<onewindow::v1::ListTasksResponse> done);
  void CompleteTask(const Caller& c,
                    const onewindow::v1::CompleteTaskRequest& r,
                    Done<onewindow::v1::CompleteTaskResponse> done);
  void FailTask(const Caller& c, const onewindow::v1::FailTaskRequest& r,
                Done<onewindow::v1::FailTaskResponse> done);
  void Heartbeat(const Caller& c, const onewindow::v1::HeartbeatRequest& r,
                 Done<onewindow::v1::HeartbeatResponse> done);
  // Access check of a task stream's Subscribe.
  absl::Status CanSubscribe(const Caller& c,
                            const onewindow::v1::Subscribe& s);

  // ---- admin ----
  void WhoAmI(const Caller& c, const onewindow::v1::WhoAmIRequest& r,
              Done<onewindow::v1::WhoAmIResponse> done);
  void Backup(const Caller& c, const onewindow::v1::BackupRequest& r,
              Done<onewindow::v1::BackupResponse> done);

  // The API form of a deployed workflow.
  static void ToApi(const scheduler::DeployedWorkflow& w,
                    onewindow::v1::Workflow* out, bool with_sources);
  static scheduler::Actor ActorOf(const Caller& c);

 private:
  scheduler::Engine* const engine_;
};

}  // namespace onewindow::service

#endif  // ONEWINDOW_ENGINE_SERVICE_API_H_
