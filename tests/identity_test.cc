// Identity end to end: a real onewindowd with an auth file, TLS and mutual
// TLS (certificates made with openssl), real bearer tokens, every RPC tried
// by every role, a department trying another department's work, and the
// actors in the history.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>

#include "engine/service/auth.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "onewindow/v1/admin.grpc.pb.h"
#include "tests/harness.h"

namespace onewindow::testing {
namespace {

namespace v1 = onewindow::v1;
using nlohmann::json;

bool Shell(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }

void Write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

constexpr char kTwoDepts[] = R"({"StartAt": "Both", "States": {
  "Both": {"Type": "Parallel", "End": true, "Branches": [
    {"StartAt": "A", "States": {"A": {"Type": "Task",
       "Resource": "dept:DSF/a", "End": true}}},
    {"StartAt": "B", "States": {"B": {"Type": "Task",
       "Resource": "dept:CB/b", "End": true}}}]}}})";

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& d = tmp_.path();
    // A development CA, a server certificate for 127.0.0.1, a client
    // certificate of CB's adapter, and a client certificate of another CA.
    const std::string q = " >/dev/null 2>&1";
    auto cert = [&](const std::string& ca, const std::string& name,
                    const std::string& cn, const std::string& ext) {
      return Shell("cd " + d.string() + " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
                 name + ".key -subj /CN=" + cn + " -out " + name + ".csr" + q) &&
             Shell("cd " + d.string() + " && printf '" + ext + "' > " + name +
                 ".ext && openssl x509 -req -in " + name + ".csr -CA " + ca +
                 ".crt -CAkey " + ca + ".key -CAcreateserial -days 2 -out " +
                 name + ".crt -extfile " + name + ".ext" + q);
    };
    for (const char* ca : {"ca", "other-ca"}) {
      ASSERT_TRUE(Shell("cd " + d.string() +
                      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
                      ca + ".key -days 2 -subj /CN=" + ca + " -out " + ca +
                      ".crt" + q));
    }
    ASSERT_TRUE(cert("ca", "server", "localhost",
                     "subjectAltName=IP:127.0.0.1,DNS:localhost\\n"));
    ASSERT_TRUE(cert("ca", "cb", "cb-adapter", "extendedKeyUsage=clientAuth\\n"));
    ASSERT_TRUE(cert("other-ca", "stranger", "cb-adapter",
                     "extendedKeyUsage=clientAuth\\n"));
    std::string auth = "principals:\n";
    for (const auto& [name, role, dept] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"clerk", "counter", ""},
             {"dsf-adapter", "department", "DSF"},
             {"analyst", "analyst", ""},
             {"supervisor", "supervisor", ""},
             {"admin", "admin", ""}}) {
      tokens_[role + dept] = "ow_test_token_" + name;
      auth += "  - {name: " + name + ", role: " + role +
              (dept.empty() ? "" : ", department: " + dept) +
              ", token_sha256: " +
              service::TokenSha256Hex(tokens_[role + dept]) + "}\n";
    }
    auth += "  - {name: cb-adapter, role: department, department: CB}\n";
    Write(d / "auth.yaml", auth);
    server_ = std::make_unique<Server>(
        d / "data", (d / "server.log").string(),
        std::vector<std::string>{
            "--auth-file", (d / "auth.yaml").string(), "--tls-cert",
            (d / "server.crt").string(), "--tls-key",
            (d / "server.key").string(), "--tls-client-ca",
            (d / "ca.crt").string()});
    ASSERT_TRUE(server_->Start()) << ReadFile(d / "server.log");
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& client = "",
                                         const std::string& ca = "ca") {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = ReadFile(tmp_.path() / (ca + ".crt"));
    if (!client.empty()) {
      o.pem_cert_chain = ReadFile(tmp_.path() / (client + ".crt"));
      o.pem_private_key = ReadFile(tmp_.path() / (client + ".key"));
    }
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(server_->addr(), grpc::SslCredentials(o),
                                     args);
  }
  std::unique_ptr<grpc::ClientContext> As(const std::string& who) {
    auto ctx = Ctx(10000);
    if (!who.empty()) {
      ctx->AddMetadata("authorization", "Bearer " + tokens_.at(who));
    }
    return ctx;
  }

  TempDir tmp_;
  std::map<std::string, std::string> tokens_;  // role+dept -> token
  std::unique_ptr<Server> server_;
};

TEST_F(IdentityTest, EveryRoleGetsWhatTheMatrixSaysOverTls) {
  auto ch = Channel();
  auto cases = v1::CaseService::NewStub(ch);
  auto workflows = v1::WorkflowService::NewStub(ch);
  auto adapters = v1::AdapterService::NewStub(ch);
  auto admin = v1::AdminService::NewStub(ch);

  // Set-up as the admin: a workflow and a case.
  {
    v1::DeployWorkflowRequest req;
    req.set_name("two");
    req.set_definition(kTwoDepts);
    v1::DeployWorkflowResponse resp;
    ASSERT_TRUE(workflows->DeployWorkflow(As("admin").get(), req, &resp).ok());
  }
  auto submit = [&](const std::string& who) {
    v1::SubmitCaseRequest req;
    req.set_service("two");
    req.set_input_json("{}");
    v1::SubmitCaseResponse resp;
    grpc::Status s = cases->SubmitCase(As(who).get(), req, &resp);
    return std::make_pair(s, resp.case_id());
  };
  auto [s0, case_id] = submit("counter");
  ASSERT_TRUE(s0.ok()) << s0.error_message();

  // Each RPC by each role: allowed means anything but PERMISSION_DENIED.
  using Call = std::function<grpc::Status(const std::string&)>;
  std::vector<std::tuple<std::string, Call, std::set<std::string>>> matrix = {
      {"SubmitCase", [&](const std::string& w) { return submit(w).first; },
       {"counter", "admin"}},
      {"GetCase",
       [&](const std::string& w) {
         v1::GetCaseRequest r;
         r.set_case_id(case_id);
         v1::GetCaseResponse o;
         return cases->GetCase(As(w).get(), r, &o);
       },
       {"counter", "supervisor", "admin"}},
      {"ListCases",
       [&](const std::string& w) {
         v1::ListCasesRequest r;
         v1::ListCasesResponse o;
         return cases->ListCases(As(w).get(), r, &o);
       },
       {"counter", "supervisor", "admin"}},
      {"GetCaseHistory",
       [&](const std::string& w) {
         v1::GetCaseHistoryRequest r;
         r.set_case_id(case_id);
         v1::GetCaseHistoryResponse o;
         return cases->GetCaseHistory(As(w).get(), r, &o);
       },
       {"counter", "supervisor", "admin"}},
      {"VerifyCase",
       [&](const std::string& w) {
         v1::VerifyCaseRequest r;
         r.set_case_id(case_id);
         v1::VerifyCaseResponse o;
         return cases->VerifyCase(As(w).get(), r, &o);
       },
       {"counter", "supervisor", "admin"}},
      {"GetBoard",
       [&](const std::string& w) {
         v1::GetBoardRequest r;
         v1::GetBoardResponse o;
         return cases->GetBoard(As(w).get(), r, &o);
       },
       {"supervisor", "admin"}},
      {"AddDocuments",
       [&](const std::string& w) {
         v1::AddDocumentsRequest r;
         r.set_case_id(case_id);
         v1::AddDocumentsResponse o;
         return cases->AddDocuments(As(w).get(), r, &o);
       },
       {"counter", "admin"}},
      {"MigrateCase",
       [&](const std::string& w) {
         v1::MigrateCaseRequest r;
         r.set_case_id(case_id);
         r.set_to_version(9);
         v1::MigrateCaseResponse o;
         return cases->MigrateCase(As(w).get(), r, &o);
       },
       {"analyst", "admin"}},
      {"ValidateWorkflow",
       [&](const std::string& w) {
         v1::ValidateWorkflowRequest r;
         r.set_definition(kTwoDepts);
         v1::ValidateWorkflowResponse o;
         return workflows->ValidateWorkflow(As(w).get(), r, &o);
       },
       {"analyst", "supervisor", "admin"}},
      {"ListWorkflows",
       [&](const std::string& w) {
         v1::ListWorkflowsRequest r;
         v1::ListWorkflowsResponse o;
         return workflows->ListWorkflows(As(w).get(), r, &o);
       },
       {"counter", "analyst", "supervisor", "admin"}},
      {"GetWorkflow",
       [&](const std::string& w) {
         v1::GetWorkflowRequest r;
         r.set_name("two");
         v1::GetWorkflowResponse o;
         return workflows->GetWorkflow(As(w).get(), r, &o);
       },
       {"counter", "analyst", "supervisor", "admin"}},
      {"DeployWorkflow",
       [&](const std::string& w) {
         v1::DeployWorkflowRequest r;
         r.set_name("two");
         r.set_definition(kTwoDepts);
         v1::DeployWorkflowResponse o;
         return workflows->DeployWorkflow(As(w).get(), r, &o);
       },
       {"analyst", "admin"}},
      {"ListTasks(DSF)",
       [&](const std::string& w) {
         v1::ListTasksRequest r;
         r.set_department("DSF");
         v1::ListTasksResponse o;
         return adapters->ListTasks(As(w).get(), r, &o);
       },
       {"departmentDSF", "admin"}},
      {"ListTasks(COUNTER)",
       [&](const std::string& w) {
         v1::ListTasksRequest r;
         r.set_department("COUNTER");
         v1::ListTasksResponse o;
         return adapters->ListTasks(As(w).get(), r, &o);
       },
       {"counter", "admin"}},
      {"Backup",
       [&](const std::string& w) {
         v1::BackupRequest r;  // no directory: INVALID_ARGUMENT when allowed
         v1::BackupResponse o;
         return admin->Backup(As(w).get(), r, &o);
       },
       {"admin"}},
      {"WhoAmI",
       [&](const std::string& w) {
         v1::WhoAmIRequest r;
         v1::WhoAmIResponse o;
         return admin->WhoAmI(As(w).get(), r, &o);
       },
       {"counter", "departmentDSF", "analyst", "supervisor", "admin"}},
  };
  for (const auto& [name, call, allowed] : matrix) {
    for (const std::string who :
         {"counter", "departmentDSF", "analyst", "supervisor", "admin"}) {
      grpc::Status s = call(who);
      if (allowed.count(who)) {
        EXPECT_NE(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << name << " by " << who << ": " << s.error_message();
        EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
      } else {
        EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
            << name << " by " << who;
      }
    }
    // No credentials at all.
    grpc::Status anon = call("") ;
    EXPECT_EQ(anon.error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
  }
}

TEST_F(IdentityTest, DepartmentsSeeOnlyTheirOwnWork) {
  auto ch = Channel();
  auto cases = v1::CaseService::NewStub(ch);
  auto workflows = v1::WorkflowService::NewStub(ch);
  auto adapters = v1::AdapterService::NewStub(ch);
  {
    v1::DeployWorkflowRequest req;
    req.set_name("two");
    req.set_definition(kTwoDepts);
    v1::DeployWorkflowResponse resp;
    ASSERT_TRUE(workflows->DeployWorkflow(As("admin").get(), req, &resp).ok());
  }
  v1::SubmitCaseRequest sreq;
  sreq.set_service("two");
  sreq.set_input_json(R"({"secret": "only for the counter"})");
  v1::SubmitCaseResponse sresp;
  ASSERT_TRUE(cases->SubmitCase(As("counter").get(), sreq, &sresp).ok());

  // DSF may not take CB's tasks.
  v1::ActivateTasksRequest areq;
  areq.set_department("CB");
  v1::ActivateTasksResponse aresp;
  grpc::Status s = adapters->ActivateTasks(As("departmentDSF").get(), areq,
                                           &aresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // ...nor subscribe for them on a stream.
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + tokens_["departmentDSF"]);
    auto stream = adapters->TaskStream(&ctx);
    v1::WorkerMessage sub;
    sub.set_ref(1);
    sub.mutable_subscribe()->set_department("CB");
    ASSERT_TRUE(stream->Write(sub));
    v1::EngineMessage m;
    ASSERT_TRUE(stream->Read(&m));
    ASSERT_TRUE(m.has_ack());
    EXPECT_EQ(m.ack().code(), static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
    stream->WritesDone();
    ctx.TryCancel();
    (void)stream->Finish();
  }
  // The mutual-TLS client is CB's adapter: it takes CB's task by its
  // certificate alone.
  auto cb_ch = Channel("cb");
  auto cb = v1::AdapterService::NewStub(cb_ch);
  auto cb_admin = v1::AdminService::NewStub(cb_ch);
  {
    v1::WhoAmIRequest r;
    v1::WhoAmIResponse o;
    auto ctx = Ctx();
    ASSERT_TRUE(cb_admin->WhoAmI(ctx.get(), r, &o).ok());
    EXPECT_EQ(o.principal(), "cb-adapter");
    EXPECT_EQ(o.department(), "CB");
  }
  v1::Task cb_task;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto ctx = Ctx();
        v1::ActivateTasksResponse got;
        if (!cb->ActivateTasks(ctx.get(), areq, &got).ok() ||
            got.tasks_size() == 0) {
          return false;
        }
        cb_task = got.tasks(0);
        return true;
      },
      std::chrono::seconds(10)));
  // The task input is exactly what the state selected (here: all of it).
  EXPECT_EQ(json::parse(cb_task.input_json())["secret"], "only for the counter");
  // DSF holding CB's token may not answer it, and nothing changes.
  v1::CompleteTaskRequest creq;
  creq.set_token(cb_task.token());
  creq.set_result_json(R"({"by": "dsf"})");
  v1::CompleteTaskResponse cresp;
  s = adapters->CompleteTask(As("departmentDSF").get(), creq, &cresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << s.error_message();
  // A department may not read cases either.
  v1::GetCaseRequest greq;
  greq.set_case_id(sresp.case_id());
  v1::GetCaseResponse gresp;
  EXPECT_EQ(cases->GetCase(As("departmentDSF").get(), greq, &gresp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // CB answers its own; DSF answers its own.
  creq.set_result_json(R"({"by": "cb"})");
  auto ctx = Ctx();
  ASSERT_TRUE(cb->CompleteTask(ctx.get(), creq, &cresp).ok());
  areq.set_department("DSF");
  ASSERT_TRUE(WaitFor(
      [&] {
        v1::ActivateTasksResponse got;
        if (!adapters->ActivateTasks(As("departmentDSF").get(), areq, &got)
                 .ok() ||
            got.tasks_size() == 0) {
          return false;
        }
        v1::CompleteTaskRequest r;
        r.set_token(got.tasks(0).token());
        r.set_result_json(R"({"by": "dsf"})");
        return adapters->CompleteTask(As("departmentDSF").get(), r, &cresp)
            .ok();
      },
      std::chrono::seconds(10)));
  ASSERT_TRUE(WaitFor(
      [&] {
        return cases->GetCase(As("counter").get(), greq, &gresp).ok() &&
               gresp.case_().status() == v1::CASE_STATUS_SUCCEEDED;
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(json::parse(gresp.case_().output_json()),
            json::parse(R"([{"by": "dsf"}, {"by": "cb"}])"));
  // Every event names its actor.
  v1::GetCaseHistoryRequest hreq;
  hreq.set_case_id(sresp.case_id());
  v1::GetCaseHistoryResponse hresp;
  ASSERT_TRUE(cases->GetCaseHistory(As("supervisor").get(), hreq, &hresp).ok());
  std::map<std::string, std::string> answered_by;
  for (const auto& e : hresp.events()) {
    EXPECT_FALSE(e.actor().empty());
    EXPECT_EQ(e.hash().size(), 64u);
    if (e.type() == "ExecutionStarted") EXPECT_EQ(e.actor(), "clerk");
    if (e.type() == "TaskSucceeded") answered_by[e.state()] = e.actor();
  }
  EXPECT_EQ(answered_by["A"], "dsf-adapter");
  EXPECT_EQ(answered_by["B"], "cb-adapter");
  v1::VerifyCaseRequest vreq;
  vreq.set_case_id(sresp.case_id());
  v1::VerifyCaseResponse vresp;
  ASSERT_TRUE(cases->VerifyCase(As("counter").get(), vreq, &vresp).ok());
  EXPECT_TRUE(vresp.intact()) << vresp.message();
}

TEST_F(IdentityTest, WrongCredentialsAreRefusedPrecisely) {
  // An unknown token.
  auto ch = Channel();
  auto admin = v1::AdminService::NewStub(ch);
  v1::WhoAmIRequest r;
  v1::WhoAmIResponse o;
  auto ctx = Ctx();
  ctx->AddMetadata("authorization", "Bearer ow_not_a_known_token");
  grpc::Status s = admin->WhoAmI(ctx.get(), r, &o);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("unknown token"), std::string::npos);
  // A malformed header.
  auto ctx2 = Ctx();
  ctx2->AddMetadata("authorization", "Basic YWxpY2U6cGFzcw==");
  EXPECT_EQ(admin->WhoAmI(ctx2.get(), r, &o).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // A certificate of another CA does not get through the handshake.
  auto stranger = v1::AdminService::NewStub(Channel("stranger"));
  auto ctx3 = Ctx(3000);
  EXPECT_EQ(stranger->WhoAmI(ctx3.get(), r, &o).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // Plaintext to a TLS port does not either.
  auto plain = v1::AdminService::NewStub(grpc::CreateChannel(
      server_->addr(), grpc::InsecureChannelCredentials()));
  auto ctx4 = Ctx(3000);
  EXPECT_EQ(plain->WhoAmI(ctx4.get(), r, &o).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // The refusals are logged with no token in them.
  const std::string log = ReadFile(tmp_.path() / "server.log");
  EXPECT_NE(log.find("unauthenticated call"), std::string::npos);
  EXPECT_EQ(log.find("ow_not_a_known_token"), std::string::npos);
  for (const auto& [who, token] : tokens_) {
    EXPECT_EQ(log.find(token), std::string::npos) << who;
  }
}

}  // namespace
}  // namespace onewindow::testing
