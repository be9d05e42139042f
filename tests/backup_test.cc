// Online backup and restore with real processes: counters submit cases
// continuously to onewindowd while simulated departments answer tasks;
// `owctl admin backup --to DIR` copies the store mid-run; the original
// store is then destroyed, and a fresh onewindowd started on a copy of the
// backup must hold every case acknowledged before the backup began and
// finish each one once the departments answer it there.
//
// OW_BACKUP_LOAD_MS (default 1500) is the load before and after the backup.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/harness.h"

namespace onewindow::testing {
namespace {

namespace fs = std::filesystem;
namespace v1 = onewindow::v1;
using json = nlohmann::json;

const fs::path kWorkflows = WORKFLOWS_DIR;
constexpr char kApplication[] = R"({
  "applicant": {"name": "Chan Tai Man", "taxpayer_no": "TX-1"},
  "premises": {"address": "Rua da Felicidade 12", "floor_area_m2": 84,
               "seats": 36}})";

int64_t EnvInt(const char* name, int64_t def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  return std::strtoll(v, nullptr, 10);
}

std::string Tail(const std::string& s, size_t n) {
  return s.size() > n ? s.substr(s.size() - n) : s;
}

// Simulated departments of food-licence against `addr`. A short lease, so
// tasks leased in the original store but unanswered at backup time are
// offered again soon in the restored one.
std::vector<std::unique_ptr<Process>> StartSims(const std::string& addr,
                                                const std::string& log) {
  std::vector<std::unique_ptr<Process>> sims;
  for (const char* d : {"DSF", "CB", "IAM"}) {
    sims.push_back(std::make_unique<Process>(
        std::vector<std::string>{SIM_PATH, "--department", d, "--addr", addr,
                                 "--latency-ms", "30", "--concurrency", "8",
                                 "--lease-ms", "2000"},
        log));
  }
  return sims;
}

void StopSims(std::vector<std::unique_ptr<Process>>& sims) {
  for (auto& s : sims) {
    s->Signal(SIGTERM);
    EXPECT_EQ(s->Wait(std::chrono::seconds(10)), 0);
  }
  sims.clear();
}

v1::Case GetCase(Server& server, const std::string& id, grpc::Status* st) {
  v1::GetCaseRequest req;
  req.set_case_id(id);
  v1::GetCaseResponse resp;
  *st = server.cases().GetCase(Ctx().get(), req, &resp);
  return resp.case_();
}

TEST(BackupTest, AcknowledgedCasesResumeFromABackupTakenUnderLoad) {
  TempDir dir;
  const std::string log = (dir.path() / "run.log").string();
  const fs::path original = dir.path() / "data";
  const fs::path backup = dir.path() / "backups" / "b1";
  const fs::path restored = dir.path() / "restored";
  const std::vector<std::string> no_http = {"--http-listen", ""};
  const auto load = std::chrono::milliseconds(EnvInt("OW_BACKUP_LOAD_MS", 1500));

  auto a = std::make_unique<Server>(original, log, no_http);
  ASSERT_TRUE(a->Start()) << Tail(ReadFile(log), 4000);
  {
    v1::DeployWorkflowRequest req;
    req.set_name("food-licence");
    req.set_definition(ReadFile(kWorkflows / "food-licence.asl.yaml"));
    req.set_service_manifest(ReadFile(kWorkflows / "food-licence.service.yaml"));
    v1::DeployWorkflowResponse resp;
    grpc::Status s = a->workflows().DeployWorkflow(Ctx().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  auto sims = StartSims(a->addr(), log);

  // Counters: two threads submitting without pause; each acknowledgement is
  // recorded after SubmitCase returns.
  std::mutex mu;
  std::map<std::string, std::string> acked;  // request id -> case id
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> counters;
  for (int t = 0; t < 2; ++t) {
    counters.emplace_back([&, t] {
      auto channel =
          grpc::CreateChannel(a->addr(), grpc::InsecureChannelCredentials());
      auto stub = v1::CaseService::NewStub(channel);
      for (int i = 0; !stop.load(); ++i) {
        const std::string rid =
            "counter-" + std::to_string(t) + "-" + std::to_string(i);
        v1::SubmitCaseRequest req;
        req.set_service("food-licence");
        req.set_input_json(kApplication);
        req.set_request_id(rid);
        v1::SubmitCaseResponse resp;
        if (stub->SubmitCase(Ctx().get(), req, &resp).ok()) {
          std::lock_guard<std::mutex> l(mu);
          acked[rid] = resp.case_id();
        } else {
          ++failures;
        }
      }
    });
  }

  std::this_thread::sleep_for(load);
  // The cases acknowledged before the backup begins.
  std::map<std::string, std::string> before;
  {
    std::lock_guard<std::mutex> l(mu);
    before = acked;
  }
  fs::create_directories(backup.parent_path());
  const std::string cmd = std::string(OWCTL_PATH) + " --addr " + a->addr() +
                          " --json admin backup --to " + backup.string() +
                          " > " + (dir.path() / "backup.json").string() +
                          " 2>> " + log;
  const int rc = std::system(cmd.c_str());
  size_t during;
  {
    std::lock_guard<std::mutex> l(mu);
    during = acked.size() - before.size();
  }
  std::this_thread::sleep_for(load);  // load goes on after the backup
  stop = true;
  for (auto& t : counters) t.join();
  ASSERT_EQ(rc, 0) << Tail(ReadFile(log), 4000);
  const json out = json::parse(ReadFile(dir.path() / "backup.json"));
  EXPECT_EQ(out["dir"], backup.string());
  EXPECT_GT(out["bytes"].get<int64_t>(), 0);
  std::cerr << "cases acknowledged: " << before.size() << " before the backup, "
            << during << " while it ran, " << acked.size() << " in all; "
            << failures.load() << " submissions failed; backup took "
            << out["took_ms"] << " ms\n";
  ASSERT_GE(before.size(), 10u) << "too little load before the backup";
  EXPECT_EQ(failures.load(), 0);

  // The original store goes away entirely: the copy must stand alone.
  StopSims(sims);
  EXPECT_EQ(a->Terminate(), 0);
  a.reset();
  fs::remove_all(original);

  // Restore: copy the backup to a fresh data directory and start there.
  fs::copy(backup, restored, fs::copy_options::recursive);
  auto b = std::make_unique<Server>(restored, log, no_http);
  ASSERT_TRUE(b->Start()) << Tail(ReadFile(log), 4000);

  for (const auto& [rid, id] : before) {
    grpc::Status st;
    GetCase(*b, id, &st);
    ASSERT_TRUE(st.ok()) << rid << " -> " << id
                         << " acknowledged before the backup is missing: "
                         << st.error_message();
  }
  // A counter retrying an earlier submission gets the same case back.
  {
    const auto& [rid, id] = *before.begin();
    v1::SubmitCaseRequest req;
    req.set_service("food-licence");
    req.set_input_json(kApplication);
    req.set_request_id(rid);
    v1::SubmitCaseResponse resp;
    ASSERT_TRUE(b->cases().SubmitCase(Ctx().get(), req, &resp).ok());
    EXPECT_EQ(resp.case_id(), id);
    EXPECT_TRUE(resp.deduplicated());
  }
  size_t running = 0;
  for (const auto& [rid, id] : before) {
    grpc::Status st;
    if (GetCase(*b, id, &st).status() == v1::CASE_STATUS_RUNNING) ++running;
  }
  std::cerr << running << " of them still running in the restored store\n";

  // The departments answer the restored engine; every case finishes once.
  sims = StartSims(b->addr(), log);
  for (const auto& [rid, id] : before) {
    grpc::Status st;
    ASSERT_TRUE(WaitFor(
        [&] {
          return GetCase(*b, id, &st).status() != v1::CASE_STATUS_RUNNING &&
                 st.ok();
        },
        std::chrono::seconds(90)))
        << id << " did not finish in the restored store";
    v1::Case c = GetCase(*b, id, &st);
    EXPECT_EQ(c.status(), v1::CASE_STATUS_SUCCEEDED) << id << " " << c.cause();
    EXPECT_EQ(json::parse(c.output_json())["decision"], "granted") << id;

    v1::GetCaseHistoryRequest hreq;
    hreq.set_case_id(id);
    v1::GetCaseHistoryResponse hresp;
    ASSERT_TRUE(b->cases().GetCaseHistory(Ctx().get(), hreq, &hresp).ok());
    std::map<std::string, int> succeeded;
    int64_t seq = 0;
    for (const auto& e : hresp.events()) {
      EXPECT_EQ(e.seq(), ++seq) << id;
      if (e.type() == "TaskSucceeded") ++succeeded[e.task_id()];
    }
    for (const auto& [task, n] : succeeded) {
      EXPECT_EQ(n, 1) << id << " task " << task << " completed " << n
                      << " times";
    }
  }
  StopSims(sims);
  EXPECT_EQ(b->Terminate(), 0);
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- log (tail) ----\n" << Tail(ReadFile(log), 6000) << "\n";
  }
}

// A backup refuses a directory that already holds something, naming it,
// and leaves that directory alone.
TEST(BackupTest, RefusesANonEmptyDirectory) {
  TempDir dir;
  const std::string log = (dir.path() / "run.log").string();
  Server a(dir.path() / "data", log, {"--http-listen", ""});
  ASSERT_TRUE(a.Start()) << Tail(ReadFile(log), 4000);
  const fs::path target = dir.path() / "full";
  fs::create_directories(target);
  { std::ofstream(target / "keep.txt") << "x"; }
  const std::string cmd = std::string(OWCTL_PATH) + " --addr " + a.addr() +
                          " admin backup --to " + target.string() + " 2> " +
                          (dir.path() / "err.txt").string();
  const int rc = std::system(cmd.c_str());
  EXPECT_NE(rc, 0);
  const std::string err = ReadFile(dir.path() / "err.txt");
  EXPECT_NE(err.find(target.string()), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(target / "keep.txt"));
  EXPECT_EQ(a.Terminate(), 0);
}

}  // namespace
}  // namespace onewindow::testing
