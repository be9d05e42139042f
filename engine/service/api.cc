#include "engine/service/api.h"

#include <spdlog/spdlog.h>

#include "engine/asl/definition.h"

namespace onewindow::service {

namespace v1 = onewindow::v1;

namespace {

// Runs `done` with the refusal and returns true when access is denied.
template <typename T>
bool Deny(const absl::Status& s, Done<T>& done) {
  if (s.ok()) return false;
  done(s);
  return true;
}

}  // namespace

scheduler::Actor Api::ActorOf(const Caller& c) {
  return scheduler::Actor{c.principal, std::string(RoleName(c.role))};
}

void Api::ToApi(const scheduler::DeployedWorkflow& w, v1::Workflow* out,
                bool with_sources) {
  out->set_name(w.record->name());
  out->set_version(w.record->version());
  if (with_sources) out->set_definition(w.record->definition());
  out->set_format(w.record->format());
  out->set_description(w.record->description());
  out->set_deployed_at_ms(w.record->deployed_at_ms());
  for (const auto& d : w.record->departments()) out->add_departments(d);
  out->set_digest(w.record->digest());
  *out->mutable_manifest() = w.rules->manifest;
  if (with_sources) {
    out->mutable_manifest()->set_source(w.record->manifest_source());
  } else {
    out->mutable_manifest()->clear_source();
    out->mutable_manifest()->clear_input_schema_json();
  }
  out->set_deployed_by(w.record->deployed_by());
}

// ---- cases ----------------------------------------------------------------

void Api::SubmitCase(const Caller& c, const v1::SubmitCaseRequest& r,
                     Done<v1::SubmitCaseResponse> done) {
  if (Deny(Authorize(c, Op::kSubmitCase), done)) return;
  engine_->SubmitCase(
      r, ActorOf(c),
      [done = std::move(done)](absl::StatusOr<scheduler::SubmitResult> res) {
        if (!res.ok()) {
          done(res.status());
          return;
        }
        v1::SubmitCaseResponse out;
        out.set_case_id(res->case_id);
        out.set_version(res->version);
        out.set_deduplicated(res->deduplicated);
        out.set_due_date(res->due_date);
        out.set_created_at_ms(res->created_at_ms);
        done(std::move(out));
      });
}

void Api::GetCase(const Caller& c, const v1::GetCaseRequest& r,
                  Done<v1::GetCaseResponse> done) {
  if (Deny(Authorize(c, Op::kReadCases), done)) return;
  engine_->GetCase(r.case_id(),
                   [done = std::move(done)](absl::StatusOr<v1::Case> res) {
                     if (!res.ok()) {
                       done(res.status());
                       return;
                     }
                     v1::GetCaseResponse out;
                     *out.mutable_case_() = std::move(*res);
                     done(std::move(out));
                   });
}

void Api::ListCases(const Caller& c, const v1::ListCasesRequest& r,
                    Done<v1::ListCasesResponse> done) {
  if (Deny(Authorize(c, Op::kReadCases), done)) return;
  engine_->ListCases(r, std::move(done));
}

void Api::CancelCase(const Caller& c, const v1::CancelCaseRequest& r,
                     Done<v1::CancelCaseResponse> done) {
  if (Deny(Authorize(c, Op::kCancelCase), done)) return;
  engine_->CancelCase(r.case_id(), r.reason(), ActorOf(c),
                      [done = std::move(done)](absl::StatusOr<v1::Case> res) {
                        if (!res.ok()) {
                          done(res.status());
                          return;
                        }
                        v1::CancelCaseResponse out;
                        *out.mutable_case_() = std::move(*res);
                        done(std::move(out));
                      });
}

void Api::GetCaseHistory(const Caller& c, const v1::GetCaseHistoryRequest& r,
                         Done<v1::GetCaseHistoryResponse> done) {
  if (Deny(Authorize(c, Op::kReadCases), done)) return;
  engine_->GetHistory(r.case_id(), r.after_seq(), r.limit(), std::move(done));
}

void Api::VerifyCase(const Caller& c, const v1::VerifyCaseRequest& r,
                     Done<v1::VerifyCaseResponse> done) {
  if (Deny(Authorize(c, Op::kReadCases), done)) return;
  engine_->VerifyCase(r.case_id(), std::move(done));
}

void Api::AddDocuments(const Caller& c, const v1::AddDocumentsRequest& r,
                       Done<v1::AddDocumentsResponse> done) {
  if (Deny(Authorize(c, Op::kAddDocuments), done)) return;
  std::vector<v1::DocumentRef> docs(r.documents().begin(), r.documents().end());
  engine_->AddDocuments(r.case_id(), std::move(docs), ActorOf(c),
                        [done = std::move(done)](absl::StatusOr<v1::Case> res) {
                          if (!res.ok()) {
                            done(res.status());
                            return;
                          }
                          v1::AddDocumentsResponse out;
                          *out.mutable_case_() = std::move(*res);
                          done(std::move(out));
                        });
}

void Api::MigrateCase(const Caller& c, const v1::MigrateCaseRequest& r,
                      Done<v1::MigrateCaseResponse> done) {
  if (Deny(Authorize(c, Op::kMigrateCase), done)) return;
  engine_->MigrateCase(r.case_id(), r.to_version(), ActorOf(c),
                       [done = std::move(done)](absl::StatusOr<v1::Case> res) {
                         if (!res.ok()) {
                           done(res.status());
                           return;
                         }
                         v1::MigrateCaseResponse out;
                         *out.mutable_case_() = std::move(*res);
                         done(std::move(out));
                       });
}

void Api::GetBoard(const Caller& c, const v1::GetBoardRequest&,
                   Done<v1::GetBoardResponse> done) {
  if (Deny(Authorize(c, Op::kGetBoard), done)) return;
  engine_->GetBoard([done = std::move(done)](absl::StatusOr<v1::Board> res) {
    if (!res.ok()) {
      done(res.status());
      return;
    }
    v1::GetBoardResponse out;
    *out.mutable_board() = std::move(*res);
    done(std::move(out));
  });
}

absl::Status Api::CanWatch(const Caller& c, const v1::WatchCaseRequest& r) {
  if (absl::Status s = Authorize(c, Op::kReadCases); !s.ok()) return s;
  if (!r.case_id().empty()) {
    absl::StatusOr<std::string> id =
        scheduler::Engine::CheckCaseId(r.case_id());
    if (!id.ok()) return id.status();
  }
  return absl::OkStatus();
}

// ---- workflows ------------------------------------------------------------

void Api::ValidateWorkflow(const Caller& c,
                           const v1::ValidateWorkflowRequest& r,
                           Done<v1::ValidateWorkflowResponse> done) {
  if (Deny(Authorize(c, Op::kValidateWorkflow), done)) return;
  if (r.definition().empty()) {
    done(absl::InvalidArgumentError("definition: required"));
    return;
  }
  engine_->RunOnReader([this, r, done = std::move(done)] {
    v1::ValidateWorkflowResponse resp;
    const asl::Limits& limits = engine_->options().asl_limits;
    auto loaded = asl::LoadSource(
        r.definition(), scheduler::SourceFormatFromProto(r.format()), limits);
    if (!loaded.ok()) {
      resp.set_valid(false);
      auto* e = resp.add_errors();
      e->set_path("$");
      e->set_message(std::string(loaded.status().message()));
      done(std::move(resp));
      return;
    }
    std::vector<asl::ValidationError> errors = asl::Validate(*loaded, limits);
    bool valid = errors.empty();
    for (const auto& err : errors) {
      auto* e = resp.add_errors();
      e->set_path(err.path);
      e->set_message(err.message);
      e->set_line(err.line);
    }
    if (!r.service_manifest().empty()) {
      const auto& factory = engine_->options().rules_factory;
      if (!factory) {
        valid = false;
        auto* e = resp.add_errors();
        e->set_file("manifest");
        e->set_path("$");
        e->set_message("this server does not accept service manifests");
      } else if (auto rules = factory(r.service_manifest()); !rules.ok()) {
        valid = false;
        auto* e = resp.add_errors();
        e->set_file("manifest");
        e->set_path("$");
        e->set_message(std::string(rules.status().message()));
      }
    }
    resp.set_valid(valid);
    done(std::move(resp));
  });
}

void Api::DeployWorkflow(const Caller& c, const v1::DeployWorkflowRequest& r,
                         Done<v1::DeployWorkflowResponse> done) {
  if (Deny(Authorize(c, Op::kDeployWorkflow), done)) return;
  engine_->RunOnReader([this, c, r, done = std::move(done)] {
    auto res = engine_->registry().Deploy(
        r.name(), r.definition(), scheduler::SourceFormatFromProto(r.format()),
        r.description(), engine_->clock().NowMs(), r.service_manifest(),
        c.principal, std::string(RoleName(c.role)));
    if (!res.ok()) {
      done(res.status());
      return;
    }
    spdlog::info("workflow {}@{} {} by {}", res->name, res->version,
                 res->created ? "deployed" : "unchanged", c.principal);
    v1::DeployWorkflowResponse out;
    out.set_name(res->name);
    out.set_version(res->version);
    out.set_created(res->created);
    done(std::move(out));
  });
}

void Api::ListWorkflows(const Caller& c, const v1::ListWorkflowsRequest& r,
                        Done<v1::ListWorkflowsResponse> done) {
  if (Deny(Authorize(c, Op::kReadWorkflows), done)) return;
  v1::ListWorkflowsResponse out;
  auto list = r.name().empty() ? engine_->registry().ListLatest()
                               : engine_->registry().ListVersions(r.name());
  for (const auto& w : list) ToApi(w, out.add_workflows(), false);
  done(std::move(out));
}

void Api::GetWorkflow(const Caller& c, const v1::GetWorkflowRequest& r,
                      Done<v1::GetWorkflowResponse> done) {
  if (Deny(Authorize(c, Op::kReadWorkflows), done)) return;
  if (r.name().empty()) {
    done(absl::InvalidArgumentError("name: required"));
    return;
  }
  if (r.version() < 0) {
    done(absl::InvalidArgumentError("version: must be >= 0"));
    return;
  }
  auto w = engine_->registry().Get(r.name(), r.version());
  if (!w.ok()) {
    done(w.status());
    return;
  }
  v1::GetWorkflowResponse out;
  ToApi(*w, out.mutable_workflow(), true);
  done(std::move(out));
}

// ---- tasks ----------------------------------------------------------------

void Api::ActivateTasks(const Caller& c, const v1::ActivateTasksRequest& r,
                        Done<v1::ActivateTasksResponse> done) {
  if (r.department().empty()) {
    done(absl::InvalidArgumentError("department: required"));
    return;
  }
  if (Deny(Authorize(c, Op::kTasks, r.department()), done)) return;
  engine_->ActivateTasks(
      r.department(), r.max_tasks(), r.lease_ms(),
      r.worker().empty() ? c.principal : r.worker(),
      [done = std::move(done)](absl::StatusOr<std::vector<v1::Task>> res) {
        if (!res.ok()) {
          done(res.status());
          return;
        }
        v1::ActivateTasksResponse out;
        for (auto& t : *res) *out.add_tasks() = std::move(t);
        done(std::move(out));
      });
}

void Api::ListTasks(const Caller& c, const v1::ListTasksRequest& r,
                    Done<v1::ListTasksResponse> done) {
  if (r.department().empty()) {
    done(absl::InvalidArgumentError("department: required"));
    return;
  }
  if (Deny(Authorize(c, Op::kTasks, r.department()), done)) return;
  engine_->ListTasks(r.department(), r.limit(), r.page_token(),
                     std::move(done));
}

void Api::CompleteTask(const Caller& c, const v1::CompleteTaskRequest& r,
                       Done<v1::CompleteTaskResponse> done) {
  const std::string scope = AnswerScope(c);
  if (Deny(Authorize(c, Op::kTasks, scope), done)) return;
  engine_->CompleteTask(r.token(), r.result_json(), scope, ActorOf(c),
                        [done = std::move(done)](absl::StatusOr<bool> res) {
                          if (!res.ok()) {
                            done(res.status());
                            return;
                          }
                          done(v1::CompleteTaskResponse());
                        });
}

void Api::FailTask(const Caller& c, const v1::FailTaskRequest& r,
                   Done<v1::FailTaskResponse> done) {
  const std::string scope = AnswerScope(c);
  if (Deny(Authorize(c, Op::kTasks, scope), done)) return;
  engine_->FailTask(r.token(), r.error(), r.cause(), scope, ActorOf(c),
                    [done = std::move(done)](absl::StatusOr<bool> res) {
                      if (!res.ok()) {
                        done(res.status());
                        return;
                      }
                      done(v1::FailTaskResponse());
                    });
}

void Api::Heartbeat(const Caller& c, const v1::HeartbeatRequest& r,
                    Done<v1::HeartbeatResponse> done) {
  const std::string scope = AnswerScope(c);
  if (Deny(Authorize(c, Op::kTasks, scope), done)) return;
  engine_->Heartbeat(r.token(), r.extend_ms(), scope, ActorOf(c),
                     [done = std::move(done)](absl::StatusOr<int64_t> res) {
                       if (!res.ok()) {
                         done(res.status());
                         return;
                       }
                       v1::HeartbeatResponse out;
                       out.set_lease_expires_at_ms(*res);
                       done(std::move(out));
                     });
}

absl::Status Api::CanSubscribe(const Caller& c, const v1::Subscribe& s) {
  if (s.department().empty()) {
    return absl::InvalidArgumentError("subscribe.department: required");
  }
  return Authorize(c, Op::kTasks, s.department());
}

// ---- admin ----------------------------------------------------------------

void Api::WhoAmI(const Caller& c, const v1::WhoAmIRequest&,
                 Done<v1::WhoAmIResponse> done) {
  if (Deny(Authorize(c, Op::kWhoAmI), done)) return;
  v1::WhoAmIResponse out;
  out.set_principal(c.principal);
  out.set_role(std::string(RoleName(c.role)));
  out.set_department(c.department);
  done(std::move(out));
}

void Api::Backup(const Caller& c, const v1::BackupRequest& r,
                 Done<v1::BackupResponse> done) {
  if (Deny(Authorize(c, Op::kBackup), done)) return;
  engine_->Backup(r.to_dir(), std::move(done));
}

}  // namespace onewindow::service
