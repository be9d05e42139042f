// End-to-end: real onewindowd processes on 127.0.0.1 over gRPC, real RocksDB
// in temp directories, SIGKILL for crashes, ow-adapter-sim for departments.
#include <signal.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/harness.h"

namespace onewindow::testing {
namespace {

using nlohmann::json;
namespace v1 = onewindow::v1;

const std::filesystem::path kWorkflows = WORKFLOWS_DIR;

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    log_ = (dir_.path() / (std::string(info->name()) + ".log")).string();
    server_ = std::make_unique<Server>(dir_.path() / "data", log_);
    ASSERT_TRUE(server_->Start()) << ReadFile(log_);
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "---- server log (tail) ----\n";
      std::string log = ReadFile(log_);
      std::cerr << (log.size() > 6000 ? log.substr(log.size() - 6000) : log)
                << "\n";
    }
  }

  void DeployFoodLicence() {
    v1::DeployWorkflowRequest req;
    req.set_name("food-licence");
    req.set_definition(ReadFile(kWorkflows / "food-licence.asl.yaml"));
    v1::DeployWorkflowResponse resp;
    grpc::Status s = server_->workflows().DeployWorkflow(Ctx().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.version(), 1);
  }

  // A Parallel of three DSF tasks: "three-checks".
  void DeployThreeChecks() {
    v1::DeployWorkflowRequest req;
    req.set_name("three-checks");
    req.set_definition(R"({"StartAt": "Checks", "States": {"Checks": {
        "Type": "Parallel", "End": true, "Branches": [
          {"StartAt": "A", "States": {"A": {"Type": "Task",
            "Resource": "dept:DSF/check-a", "End": true}}},
          {"StartAt": "B", "States": {"B": {"Type": "Task",
            "Resource": "dept:DSF/check-b", "End": true}}},
          {"StartAt": "C", "States": {"C": {"Type": "Task",
            "Resource": "dept:DSF/check-c", "End": true}}}]}}})");
    v1::DeployWorkflowResponse resp;
    grpc::Status s =
        server_->workflows().DeployWorkflow(Ctx().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Submit(const std::string& input, const std::string& request_id,
                      v1::SubmitCaseResponse* resp,
                      const std::string& service = "food-licence") {
    v1::SubmitCaseRequest req;
    req.set_service(service);
    req.set_input_json(input);
    req.set_request_id(request_id);
    return server_->cases().SubmitCase(Ctx().get(), req, resp);
  }

  // Leases tasks of `dept` until `n` arrive or 10 s pass.
  std::vector<v1::Task> Activate(const std::string& dept, int n,
                                 int wait_ms = 10000) {
    std::vector<v1::Task> got;
    WaitFor(
        [&] {
          v1::ActivateTasksRequest req;
          req.set_department(dept);
          req.set_max_tasks(n - static_cast<int>(got.size()));
          req.set_lease_ms(60000);
          v1::ActivateTasksResponse resp;
          if (server_->adapters().ActivateTasks(Ctx().get(), req, &resp).ok()) {
            for (const auto& t : resp.tasks()) got.push_back(t);
          }
          return static_cast<int>(got.size()) >= n;
        },
        std::chrono::milliseconds(wait_ms));
    return got;
  }

  grpc::Status Complete(const std::string& token, const std::string& result) {
    v1::CompleteTaskRequest req;
    req.set_token(token);
    req.set_result_json(result);
    v1::CompleteTaskResponse resp;
    return server_->adapters().CompleteTask(Ctx().get(), req, &resp);
  }

  v1::Case GetCase(const std::string& id) {
    v1::GetCaseRequest req;
    req.set_case_id(id);
    v1::GetCaseResponse resp;
    server_->cases().GetCase(Ctx().get(), req, &resp);
    return resp.case_();
  }

  std::vector<v1::HistoryEvent> History(const std::string& id) {
    v1::GetCaseHistoryRequest req;
    req.set_case_id(id);
    v1::GetCaseHistoryResponse resp;
    server_->cases().GetCaseHistory(Ctx().get(), req, &resp);
    return {resp.events().begin(), resp.events().end()};
  }

  bool WaitForEnd(const std::string& id, int seconds = 30) {
    return WaitFor(
        [&] { return GetCase(id).status() != v1::CASE_STATUS_RUNNING; },
        std::chrono::seconds(seconds));
  }

  // Every task completed at most once, and the history is numbered 1..n.
  void ExpectCleanHistory(const std::string& id) {
    std::map<std::string, int> succeeded;
    int64_t seq = 0;
    for (const auto& e : History(id)) {
      EXPECT_EQ(e.seq(), ++seq) << id;
      if (e.type() == "TaskSucceeded") ++succeeded[e.task_id()];
    }
    EXPECT_GT(seq, 0);
    for (const auto& [task, n] : succeeded) {
      EXPECT_EQ(n, 1) << id << " task " << task << " completed " << n
                      << " times";
    }
  }

  TempDir dir_;
  std::string log_;
  std::unique_ptr<Server> server_;
};

const char kApplication[] = R"({
  "applicant": {"name": "Chan Tai Man", "taxpayer_no": "TX-1"},
  "premises": {"address": "Rua da Felicidade 12", "floor_area_m2": 84,
               "seats": 36}})";

TEST_F(E2eTest, CaseFansOutToThreeDepartmentsAndSurvivesSigkill) {
  DeployFoodLicence();
  v1::SubmitCaseResponse sub;
  ASSERT_TRUE(Submit(kApplication, "counter-1-0001", &sub).ok());
  ASSERT_FALSE(sub.case_id().empty());

  // All three departments get their task at once (Parallel).
  auto dsf = Activate("DSF", 1);
  auto cb = Activate("CB", 1);
  auto iam = Activate("IAM", 1);
  ASSERT_EQ(dsf.size(), 1u);
  ASSERT_EQ(cb.size(), 1u);
  ASSERT_EQ(iam.size(), 1u);
  EXPECT_EQ(json::parse(dsf[0].input_json()),
            json::parse(R"({"applicant": "Chan Tai Man",
                            "taxpayer_no": "TX-1"})"));
  EXPECT_EQ(cb[0].task_type(), "fire-safety-inspection");
  ASSERT_TRUE(Complete(dsf[0].token(), R"({"approved": true, "by": "DSF"})").ok());
  {
    v1::Case c = GetCase(sub.case_id());
    EXPECT_EQ(c.status(), v1::CASE_STATUS_RUNNING);
    EXPECT_EQ(std::set<std::string>(c.open_departments().begin(),
                                    c.open_departments().end()),
              (std::set<std::string>{"CB", "IAM"}));
  }

  // Crash mid-case: the acknowledged completion must survive; the two
  // leased tasks are offered again.
  server_->Kill();
  ASSERT_TRUE(server_->Start());
  EXPECT_EQ(GetCase(sub.case_id()).status(), v1::CASE_STATUS_RUNNING);
  EXPECT_TRUE(Activate("DSF", 1, 500).empty()) << "completed task re-offered";
  cb = Activate("CB", 1);
  iam = Activate("IAM", 1);
  ASSERT_EQ(cb.size(), 1u);
  ASSERT_EQ(iam.size(), 1u);
  ASSERT_TRUE(Complete(cb[0].token(), R"({"approved": true, "by": "CB"})").ok());
  ASSERT_TRUE(Complete(iam[0].token(), R"({"approved": true, "by": "IAM"})").ok());
  // All approved: the licence is issued by IAM.
  auto issue = Activate("IAM", 1);
  ASSERT_EQ(issue.size(), 1u);
  EXPECT_EQ(issue[0].state(), "IssueLicence");
  ASSERT_TRUE(Complete(issue[0].token(),
                       R"({"approved": true, "department": "IAM"})")
                  .ok());

  ASSERT_TRUE(WaitForEnd(sub.case_id()));
  v1::Case c = GetCase(sub.case_id());
  ASSERT_EQ(c.status(), v1::CASE_STATUS_SUCCEEDED) << c.error() << c.cause();
  json out = json::parse(c.output_json());
  EXPECT_EQ(out["decision"], "granted");
  EXPECT_EQ(out["applicant"], "Chan Tai Man");
  ASSERT_EQ(out["opinions"].size(), 3u);
  EXPECT_EQ(out["opinions"][0]["by"], "DSF");
  EXPECT_EQ(out["opinions"][1]["by"], "CB");
  EXPECT_EQ(out["opinions"][2]["by"], "IAM");
  EXPECT_EQ(out["licence"]["issued_by"], "IAM");
  ExpectCleanHistory(sub.case_id());

  // The same request id after the crash: the same case, not a new one.
  v1::SubmitCaseResponse again;
  ASSERT_TRUE(Submit(kApplication, "counter-1-0001", &again).ok());
  EXPECT_EQ(again.case_id(), sub.case_id());
  EXPECT_TRUE(again.deduplicated());
}

TEST_F(E2eTest, SimulatedDepartmentsFinishEveryCaseAcrossACrash) {
  DeployFoodLicence();
  std::vector<std::unique_ptr<Process>> sims;
  for (const char* d : {"DSF", "CB", "IAM"}) {
    sims.push_back(std::make_unique<Process>(
        std::vector<std::string>{SIM_PATH, "--department", d, "--addr",
                                 server_->addr(), "--latency-ms", "20",
                                 "--concurrency", "4"},
        log_));
  }
  constexpr int kCases = 30;
  std::map<std::string, std::string> acked;  // request id -> case id
  for (int i = 0; i < kCases; ++i) {
    if (i == kCases / 2) {
      server_->Kill();
      ASSERT_TRUE(server_->Start());
    }
    const std::string rid = "sim-" + std::to_string(i);
    v1::SubmitCaseResponse resp;
    if (Submit(kApplication, rid, &resp).ok()) acked[rid] = resp.case_id();
  }
  EXPECT_EQ(acked.size(), static_cast<size_t>(kCases));
  // Counters retry: every request id again gives the case it gave before.
  std::set<std::string> ids;
  for (const auto& [rid, id] : acked) {
    v1::SubmitCaseResponse resp;
    ASSERT_TRUE(Submit(kApplication, rid, &resp).ok());
    EXPECT_EQ(resp.case_id(), id);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), acked.size()) << "a request id made two cases";
  for (const std::string& id : ids) {
    ASSERT_TRUE(WaitForEnd(id, 60)) << id;
    v1::Case c = GetCase(id);
    EXPECT_EQ(c.status(), v1::CASE_STATUS_SUCCEEDED) << id << c.cause();
    EXPECT_EQ(json::parse(c.output_json())["decision"], "granted");
    ExpectCleanHistory(id);
  }
  for (auto& s : sims) {
    s->Signal(SIGTERM);
    EXPECT_EQ(s->Wait(std::chrono::seconds(10)), 0);
  }
}

// What one commit hands to one worker stream leaves as one frame: the
// three tasks a Parallel opens at submit arrive together.
TEST_F(E2eTest, TasksOneCommitOpensReachAStreamInOneFrame) {
  DeployThreeChecks();

  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = server_->adapters().TaskStream(&ctx);
  v1::WorkerMessage sub;
  sub.set_ref(1);
  sub.mutable_subscribe()->set_department("DSF");
  sub.mutable_subscribe()->set_batch_frames(true);
  ASSERT_TRUE(stream->Write(sub));
  v1::EngineMessage m;
  ASSERT_TRUE(stream->Read(&m));
  ASSERT_TRUE(m.has_ack()) << m.DebugString();
  EXPECT_EQ(m.ack().code(), 0);

  v1::SubmitCaseResponse resp;
  ASSERT_TRUE(Submit("{}", "frame-1", &resp, "three-checks").ok());
  ASSERT_TRUE(stream->Read(&m));
  ASSERT_TRUE(m.has_tasks()) << "one task per frame: " << m.DebugString();
  ASSERT_EQ(m.tasks().tasks_size(), 3);
  std::set<std::string> types;
  v1::WorkerMessage answers;
  for (const v1::Task& t : m.tasks().tasks()) {
    EXPECT_EQ(t.case_id(), resp.case_id());
    types.insert(t.task_type());
    v1::WorkerMessage* a = answers.mutable_batch()->add_messages();
    a->set_ref(10 + answers.batch().messages_size());
    a->mutable_complete()->set_token(t.token());
    a->mutable_complete()->set_result_json("{}");
  }
  EXPECT_EQ(types, (std::set<std::string>{"check-a", "check-b", "check-c"}));
  // The answers are taken, and the case ends.
  ASSERT_TRUE(stream->Write(answers));
  int acked = 0;
  while (acked < 3 && stream->Read(&m)) {
    if (m.has_ack()) {
      EXPECT_EQ(m.ack().code(), 0) << m.ack().message();
      ++acked;
    }
    for (const auto& a : m.acks().acks()) {
      EXPECT_EQ(a.code(), 0) << a.message();
      ++acked;
    }
  }
  EXPECT_EQ(acked, 3);
  EXPECT_TRUE(WaitForEnd(resp.case_id()));
  EXPECT_EQ(GetCase(resp.case_id()).status(), v1::CASE_STATUS_SUCCEEDED);
  stream->WritesDone();
  ctx.TryCancel();
  (void)stream->Finish();
}

// A watcher that reads batched frames gets a case's stored history in one
// frame; one that does not gets one event per frame. Both get every event,
// in order, and the stream ends after the last.
TEST_F(E2eTest, CaseWatchersGetTheHistoryBatchedOnlyWhenTheyAsk) {
  DeployThreeChecks();
  v1::SubmitCaseResponse resp;
  ASSERT_TRUE(Submit("{}", "watch-1", &resp, "three-checks").ok());
  for (const v1::Task& t : Activate("DSF", 3)) {
    ASSERT_TRUE(Complete(t.token(), R"({"ok": true})").ok());
  }
  ASSERT_TRUE(WaitForEnd(resp.case_id()));
  const size_t stored = History(resp.case_id()).size();
  ASSERT_GT(stored, 6u);

  for (const bool batched : {true, false}) {
    SCOPED_TRACE(batched ? "batched" : "one per frame");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(20));
    v1::WatchCaseRequest req;
    req.set_case_id(resp.case_id());
    req.set_batch_frames(batched);
    auto reader = server_->cases().WatchCase(&ctx, req);
    v1::WatchCaseResponse m;
    std::vector<int64_t> seqs;
    int frames = 0;
    while (reader->Read(&m)) {
      ++frames;
      if (m.has_event()) seqs.push_back(m.event().seq());
      for (const auto& e : m.events().events()) seqs.push_back(e.seq());
      EXPECT_FALSE(m.has_change() || m.has_changes()) << m.DebugString();
      if (!batched) EXPECT_TRUE(m.has_event()) << m.DebugString();
    }
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(seqs.size(), stored);
    for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], int64_t(i + 1));
    EXPECT_EQ(frames, batched ? 1 : static_cast<int>(stored));
  }
}

// A status watcher that reads batched frames sees every case's changes in
// commit order, each terminal change once, whatever frames carried them.
TEST_F(E2eTest, BatchedStatusWatchersMissNoChange) {
  DeployThreeChecks();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::WatchCaseRequest req;
  req.set_service("three-checks");
  req.set_batch_frames(true);
  auto reader = server_->cases().WatchCase(&ctx, req);
  std::mutex mu;
  std::map<std::string, std::vector<v1::CaseStatus>> seen;
  int batches = 0;
  std::thread read([&] {
    v1::WatchCaseResponse m;
    while (reader->Read(&m)) {
      std::lock_guard lock(mu);
      if (m.has_changes()) ++batches;
      if (m.has_change()) seen[m.change().case_id()].push_back(m.change().status());
      for (const auto& c : m.changes().changes()) {
        seen[c.case_id()].push_back(c.status());
      }
    }
  });
  auto seen_count = [&] {
    std::lock_guard lock(mu);
    return seen.size();
  };
  // The watch is in place once it reports a case submitted after it.
  int probes = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        v1::SubmitCaseResponse r;
        EXPECT_TRUE(Submit("{}", "probe-" + std::to_string(probes++), &r,
                           "three-checks")
                        .ok());
        return WaitFor([&] { return seen_count() > 0; },
                       std::chrono::milliseconds(200));
      },
      std::chrono::seconds(15)));

  constexpr int kCases = 20;
  std::set<std::string> ids;
  for (int i = 0; i < kCases; ++i) {
    v1::SubmitCaseResponse r;
    ASSERT_TRUE(Submit("{}", "batch-" + std::to_string(i), &r,
                       "three-checks").ok());
    ids.insert(r.case_id());
  }
  // Every task of every case (probes included) reaches one worker stream,
  // which answers them all in one frame: the engine takes many answers
  // per commit, and a commit's changes reach the watcher together.
  const int tasks = 3 * (kCases + probes);
  grpc::ClientContext wctx;
  wctx.set_deadline(std::chrono::system_clock::now() +
                    std::chrono::seconds(60));
  auto worker = server_->adapters().TaskStream(&wctx);
  v1::WorkerMessage sub;
  sub.set_ref(1);
  sub.mutable_subscribe()->set_department("DSF");
  sub.mutable_subscribe()->set_max_in_flight(1024);
  sub.mutable_subscribe()->set_batch_frames(true);
  ASSERT_TRUE(worker->Write(sub));
  v1::WorkerMessage answers;
  v1::EngineMessage em;
  while (answers.batch().messages_size() < tasks && worker->Read(&em)) {
    std::vector<v1::Task> got;
    if (em.has_task()) got.push_back(em.task());
    for (const auto& t : em.tasks().tasks()) got.push_back(t);
    for (const v1::Task& t : got) {
      v1::WorkerMessage* a = answers.mutable_batch()->add_messages();
      a->mutable_complete()->set_token(t.token());
      a->mutable_complete()->set_result_json("{}");
    }
  }
  ASSERT_EQ(answers.batch().messages_size(), tasks);
  ASSERT_TRUE(worker->Write(answers));
  auto all_ended = [&] {
    std::lock_guard lock(mu);
    for (const std::string& id : ids) {
      auto it = seen.find(id);
      if (it == seen.end() || it->second.empty() ||
          it->second.back() != v1::CASE_STATUS_SUCCEEDED) {
        return false;
      }
    }
    return true;
  };
  EXPECT_TRUE(WaitFor(all_ended, std::chrono::seconds(20)));
  worker->WritesDone();
  wctx.TryCancel();
  (void)worker->Finish();
  ctx.TryCancel();
  read.join();
  (void)reader->Finish();
  std::lock_guard lock(mu);
  for (const std::string& id : ids) {
    const auto& st = seen[id];
    ASSERT_FALSE(st.empty()) << id;
    EXPECT_EQ(st.front(), v1::CASE_STATUS_RUNNING) << id;
    EXPECT_EQ(std::count(st.begin(), st.end(), v1::CASE_STATUS_SUCCEEDED), 1)
        << id;
    EXPECT_EQ(st.back(), v1::CASE_STATUS_SUCCEEDED) << id;
  }
  // Sixty answers in one frame commit in a few batches, and each batch's
  // terminal changes reach the watcher as one frame.
  EXPECT_GT(batches, 0);
}

TEST_F(E2eTest, BadInputGetsTheRightCodeAndNamesTheFault) {
  DeployFoodLicence();
  v1::SubmitCaseResponse resp;
  grpc::Status s = Submit("{\"applicant\": ", "", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("input_json"), std::string::npos)
      << s.error_message();

  s = Submit("{}", "", &resp, "no-such-service");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("no-such-service"), std::string::npos);

  s = Submit("\"" + std::string(300 * 1024, 'x') + "\"", "", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("262144"), std::string::npos)
      << s.error_message();

  v1::DeployWorkflowRequest dreq;
  dreq.set_name("broken");
  dreq.set_definition(R"({"StartAt": "A", "States": {"A": {"Type": "Pass",
      "Next": "Nowhere"}}})");
  v1::DeployWorkflowResponse dresp;
  s = server_->workflows().DeployWorkflow(Ctx().get(), dreq, &dresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("$.States.A.Next"), std::string::npos)
      << s.error_message();

  dreq.set_name("not-a-department");
  dreq.set_definition(R"({"StartAt": "A", "States": {"A": {"Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:1:function:f", "End": true}}})");
  s = server_->workflows().DeployWorkflow(Ctx().get(), dreq, &dresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("$.States.A.Resource"), std::string::npos)
      << s.error_message();

  dreq.set_name("bad name!");
  s = server_->workflows().DeployWorkflow(Ctx().get(), dreq, &dresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("name"), std::string::npos);

  v1::GetCaseRequest greq;
  greq.set_case_id("OW-0000999999");
  v1::GetCaseResponse gresp;
  s = server_->cases().GetCase(Ctx().get(), greq, &gresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);

  // Tokens: unknown, answered twice, bad result.
  EXPECT_EQ(Complete("OW-0000000001/t1/1/abc", "{}").error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Submit(kApplication, "", &resp).ok());
  auto dsf = Activate("DSF", 1);
  ASSERT_EQ(dsf.size(), 1u);
  s = Complete(dsf[0].token(), "{not json");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("result_json"), std::string::npos);
  ASSERT_TRUE(Complete(dsf[0].token(), R"({"approved": true})").ok());
  s = Complete(dsf[0].token(), R"({"approved": false})");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(s.error_message().find("already completed"), std::string::npos)
      << s.error_message();
  v1::FailTaskRequest freq;
  freq.set_token(dsf[0].token());
  freq.set_error("Dept.Failure");
  v1::FailTaskResponse fresp;
  s = server_->adapters().FailTask(Ctx().get(), freq, &fresp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ExpectCleanHistory(resp.case_id());
  // The case is still running, untouched by the rejected answers.
  EXPECT_EQ(GetCase(resp.case_id()).status(), v1::CASE_STATUS_RUNNING);
}

TEST_F(E2eTest, SigtermDrainsAndExitsZero) {
  DeployFoodLicence();
  v1::SubmitCaseResponse resp;
  ASSERT_TRUE(Submit(kApplication, "drain-1", &resp).ok());
  EXPECT_EQ(server_->Terminate(), 0);
  ASSERT_TRUE(server_->Start());
  EXPECT_EQ(GetCase(resp.case_id()).status(), v1::CASE_STATUS_RUNNING);
}

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

TEST_F(E2eTest, HealthAnswersForTheServerAndEachServiceOnly) {
  auto health = Health::NewStub(server_->channel());
  for (const char* name :
       {"", "onewindow.v1.CaseService", "onewindow.v1.WorkflowService",
        "onewindow.v1.AdapterService", "onewindow.v1.AdminService"}) {
    HealthCheckRequest req;
    req.set_service(name);
    HealthCheckResponse resp;
    grpc::Status s = health->Check(Ctx().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << "'" << name << "': " << s.error_message();
    EXPECT_EQ(resp.status(), HealthCheckResponse::SERVING) << name;
  }
  HealthCheckRequest req;
  req.set_service("no.such.Service");
  HealthCheckResponse resp;
  grpc::Status s = health->Check(Ctx().get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(s.error_message().find("'no.such.Service'"), std::string::npos)
      << s.error_message();
  // A name of a megabyte is refused with a message short enough to travel.
  req.set_service(std::string(1 << 20, 'x'));
  s = health->Check(Ctx().get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LT(s.error_message().size(), 1000u);
  // And the server still serves.
  req.set_service("");
  ASSERT_TRUE(health->Check(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.status(), HealthCheckResponse::SERVING);
}

TEST_F(E2eTest, HealthWatchersSeeTheServerDrain) {
  auto health = Health::NewStub(server_->channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  HealthCheckRequest req;
  auto watch = health->Watch(&ctx, req);
  HealthCheckResponse r;
  ASSERT_TRUE(watch->Read(&r));
  EXPECT_EQ(r.status(), HealthCheckResponse::SERVING);

  // A service the server does not know: said once, on a stream that stays.
  grpc::ClientContext unknown_ctx;
  HealthCheckRequest unknown;
  unknown.set_service("no.such.Service");
  auto unknown_watch = health->Watch(&unknown_ctx, unknown);
  ASSERT_TRUE(unknown_watch->Read(&r));
  EXPECT_EQ(r.status(), HealthCheckResponse::SERVICE_UNKNOWN);
  unknown_ctx.TryCancel();
  EXPECT_FALSE(unknown_watch->Read(&r));
  EXPECT_EQ(unknown_watch->Finish().error_code(), grpc::StatusCode::CANCELLED);

  int code = -1;
  std::thread term([&] { code = server_->Terminate(); });
  ASSERT_TRUE(watch->Read(&r));
  EXPECT_EQ(r.status(), HealthCheckResponse::NOT_SERVING);
  while (watch->Read(&r)) {
  }
  watch->Finish();
  term.join();
  EXPECT_EQ(code, 0);
}

TEST_F(E2eTest, HealthWatchStreamsAreBounded) {
  // The health service needs no token: what one caller may hold open is
  // bounded (64 Watch streams), and the bound is named in the refusal.
  auto health = Health::NewStub(server_->channel());
  constexpr int kBound = 64;
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::vector<std::unique_ptr<grpc::ClientReader<HealthCheckResponse>>> open;
  HealthCheckRequest req;
  HealthCheckResponse r;
  for (int i = 0; i < kBound; ++i) {
    ctxs.push_back(Ctx(30000));
    open.push_back(health->Watch(ctxs.back().get(), req));
    ASSERT_TRUE(open.back()->Read(&r)) << "watcher " << i;
    EXPECT_EQ(r.status(), HealthCheckResponse::SERVING);
  }
  auto extra_ctx = Ctx();
  auto extra = health->Watch(extra_ctx.get(), req);
  EXPECT_FALSE(extra->Read(&r));
  grpc::Status s = extra->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(s.error_message().find("64 Watch streams"), std::string::npos)
      << s.error_message();
  // Check still answers, and a watcher that leaves makes room.
  ASSERT_TRUE(health->Check(Ctx().get(), req, &r).ok());
  ctxs.front()->TryCancel();
  EXPECT_FALSE(open.front()->Read(&r));
  open.front()->Finish();
  bool admitted = WaitFor(
      [&] {
        auto ctx = Ctx(2000);
        auto w = health->Watch(ctx.get(), req);
        if (!w->Read(&r)) {
          w->Finish();
          return false;
        }
        ctx->TryCancel();
        while (w->Read(&r)) {
        }
        w->Finish();
        return true;
      },
      std::chrono::seconds(10));
  EXPECT_TRUE(admitted);
  for (size_t i = 1; i < ctxs.size(); ++i) ctxs[i]->TryCancel();
  for (size_t i = 1; i < open.size(); ++i) {
    while (open[i]->Read(&r)) {
    }
    open[i]->Finish();
  }
}

TEST_F(E2eTest, WorkflowsFlagDeploysOnceAndKeepsVersions) {
  server_->Kill();
  server_ = std::make_unique<Server>(
      dir_.path() / "data2", log_,
      std::vector<std::string>{"--workflows", kWorkflows.string()});
  ASSERT_TRUE(server_->Start());
  ASSERT_EQ(server_->Terminate(), 0);
  ASSERT_TRUE(server_->Start());  // unchanged files: no new version
  v1::GetWorkflowRequest req;
  req.set_name("food-licence");
  v1::GetWorkflowResponse resp;
  ASSERT_TRUE(server_->workflows().GetWorkflow(Ctx().get(), req, &resp).ok());
  EXPECT_EQ(resp.workflow().version(), 1);
  EXPECT_EQ(std::set<std::string>(resp.workflow().departments().begin(),
                                  resp.workflow().departments().end()),
            (std::set<std::string>{"CB", "DSF", "IAM"}));
}

}  // namespace
}  // namespace onewindow::testing
