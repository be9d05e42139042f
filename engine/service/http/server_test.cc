// The HTTP front against a real engine (in-memory store), the real Api and
// Authenticator (an auth file in a temp directory), on 127.0.0.1: every
// route, the role matrix, the event streams and the bounds of each door.
#include "engine/service/http/server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_replace.h"
#include "engine/manifest/case_number.h"
#include "engine/render/svg.h"
#include "engine/service/api.h"
#include "engine/service/auth.h"
#include "engine/service/metrics.h"
#include "engine/store/store.h"
#include "nlohmann/json.hpp"
#include "scheduler/engine.h"
#include "scheduler/manifest_rules.h"

namespace onewindow::service::http {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

constexpr char kPermit[] = R"({
  "StartAt": "Review",
  "States": {
    "Review": {"Type": "Task", "Resource": "dept:DSF/review", "Next": "Done"},
    "Done": {"Type": "Succeed"}
  }
})";
constexpr char kPermitManifest[] = R"(title: {en: Permit, pt: Licença}
input_schema:
  type: object
  required: [applicant]
  properties:
    applicant: {type: string}
    area: {type: integer, minimum: 1}
)";
constexpr char kFire[] = R"({
  "StartAt": "Check",
  "States": {"Check": {"Type": "Task", "Resource": "dept:CB/check", "End": true}}
})";

constexpr char kCounterToken[] = "counter-token-0001";
constexpr char kDsfToken[] = "dsf-token-0001";
constexpr char kAnalystToken[] = "analyst-token-0001";
constexpr char kSupervisorToken[] = "supervisor-token-0001";
constexpr char kAdminToken[] = "admin-token-0001";

struct Reply {
  int status = 0;
  std::string body;
  httplib::Headers headers;
  json j() const {
    return json::parse(body, nullptr, /*allow_exceptions=*/false);
  }
  std::string header(const std::string& k) const {
    auto it = headers.find(k);
    return it == headers.end() ? "" : it->second;
  }
};

// A plain TCP connection for what an HTTP library will not send.
class Raw {
 public:
  explicit Raw(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  ~Raw() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until the peer closes, `until` appears, or the time is up.
  std::string Read(std::chrono::milliseconds timeout,
                   std::string_view until = {}) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (!until.empty() && got_.find(until) != std::string::npos) break;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[8192];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        eof_ = true;
        break;
      }
      got_.append(buf, static_cast<size_t>(n));
    }
    return got_;
  }
  bool eof() const { return eof_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string got_;
};

int StatusOf(const std::string& response) {
  // "HTTP/1.1 413 Payload Too Large"
  if (response.size() < 12 || response.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::atoi(response.substr(9, 3).c_str());
}

std::string BodyOf(const std::string& response) {
  const size_t p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

// Server-Sent Events, as the client sees them.
struct Sse {
  std::string event;
  std::string id;
  std::string data;
};

std::vector<Sse> ParseSse(const std::string& text) {
  std::vector<Sse> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string::npos) break;
    std::string block = text.substr(pos, end - pos);
    pos = end + 2;
    Sse e;
    bool any = false;
    size_t lp = 0;
    while (lp <= block.size()) {
      size_t nl = block.find('\n', lp);
      std::string line = block.substr(lp, nl == std::string::npos
                                              ? std::string::npos
                                              : nl - lp);
      if (line.rfind("event: ", 0) == 0) e.event = line.substr(7), any = true;
      if (line.rfind("id: ", 0) == 0) e.id = line.substr(4), any = true;
      if (line.rfind("data: ", 0) == 0) e.data += line.substr(6), any = true;
      if (nl == std::string::npos) break;
      lp = nl + 1;
    }
    if (any && !e.data.empty()) out.push_back(e);
  }
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ow-http-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    auth_path_ = (dir_ / "auth.yaml").string();
    std::ofstream(auth_path_)
        << "principals:\n"
        << "  - {name: clerk-1, role: counter, token_sha256: "
        << TokenSha256Hex(kCounterToken) << "}\n"
        << "  - {name: dsf-officer, role: department, department: DSF, "
           "token_sha256: "
        << TokenSha256Hex(kDsfToken) << "}\n"
        << "  - {name: ana, role: analyst, token_sha256: "
        << TokenSha256Hex(kAnalystToken) << "}\n"
        << "  - {name: sup, role: supervisor, token_sha256: "
        << TokenSha256Hex(kSupervisorToken) << "}\n"
        << "  - {name: root, role: admin, token_sha256: "
        << TokenSha256Hex(kAdminToken) << "}\n";
    AuthLimits limits;
    limits.max_streams = 3;
    auto auth = Authenticator::Create(auth_path_, limits);
    ASSERT_TRUE(auth.ok()) << auth.status();
    auth_ = std::move(*auth);

    scheduler::EngineOptions o;
    o.store = store::NewMemStore(store::StoreOptions());
    o.rules_factory = scheduler::MakeManifestRulesFactory("");
    o.sync = false;
    auto e = scheduler::Engine::Open(std::move(o));
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
    api_ = std::make_unique<Api>(engine_.get());
    sc_.api = api_.get();
    sc_.auth = auth_.get();
    Deploy("permit", kPermit, kPermitManifest);
    Deploy("fire", kFire, "");

    options_.listen = "127.0.0.1:0";
    options_.request_timeout = std::chrono::seconds(1);
    options_.sse_keepalive = std::chrono::milliseconds(200);
    StartServer();
  }

  void TearDown() override {
    for (auto& s : servers_) s->Stop();
    servers_.clear();
    if (engine_) engine_->Shutdown();
    engine_.reset();
    fs::remove_all(dir_);
  }

  void StartServer() {
    auto s = HttpServer::Start(options_, &sc_, &metrics_,
                               [this] { return ready_.load(); });
    ASSERT_TRUE(s.ok()) << s.status();
    port_ = (*s)->port();
    servers_.push_back(std::move(*s));
  }

  void Deploy(const std::string& name, const std::string& text,
              const std::string& manifest) {
    auto r = engine_->registry().Deploy(name, text, asl::SourceFormat::kAuto,
                                        "test", engine_->clock().NowMs(),
                                        manifest, "test", "admin");
    ASSERT_TRUE(r.ok()) << r.status();
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(10, 0);
    c.set_connection_timeout(5, 0);
    return c;
  }

  static httplib::Headers Auth(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }

  Reply Get(const std::string& path, const std::string& token) {
    auto c = Client();
    auto r = c.Get(path.c_str(), Auth(token));
    if (!r) return Reply{};
    return Reply{r->status, r->body, r->headers};
  }

  Reply Post(const std::string& path, const std::string& token,
             const std::string& body) {
    auto c = Client();
    auto r = c.Post(path.c_str(), Auth(token), body, "application/json");
    if (!r) return Reply{};
    return Reply{r->status, r->body, r->headers};
  }

  // Submits a permit case as the counter; returns its number.
  std::string SubmitPermit(const std::string& applicant = "A. Chan") {
    json body = {{"service", "permit"},
                 {"input_json", json{{"applicant", applicant}}.dump()}};
    Reply r = Post("/api/v1/cases", kCounterToken, body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return r.j().value("case_id", "");
  }

  // The open tasks of a department, as admin, once there are `n`.
  json WaitForTasks(const std::string& dept, size_t n) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    json tasks;
    while (std::chrono::steady_clock::now() < end) {
      Reply r = Get("/api/v1/tasks?department=" + dept, kAdminToken);
      EXPECT_EQ(r.status, 200) << r.body;
      tasks = r.j()["tasks"];
      if (tasks.size() >= n) return tasks;
      std::this_thread::yield();
    }
    ADD_FAILURE() << "no " << n << " tasks at " << dept;
    return tasks;
  }

  json WaitForStatus(const std::string& case_id, const std::string& status) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    json c;
    while (std::chrono::steady_clock::now() < end) {
      Reply r = Get("/api/v1/cases/" + case_id, kSupervisorToken);
      c = r.j()["case"];
      if (c.value("status", "") == status) return c;
      std::this_thread::yield();
    }
    ADD_FAILURE() << case_id << " never reached " << status << ": " << c;
    return c;
  }

  fs::path dir_;
  std::string auth_path_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<scheduler::Engine> engine_;
  std::unique_ptr<Api> api_;
  ServiceContext sc_;
  Metrics metrics_;
  std::atomic<bool> ready_{true};
  HttpOptions options_;
  std::vector<std::unique_ptr<HttpServer>> servers_;
  int port_ = 0;
};

// ---- happy paths -----------------------------------------------------------

TEST_F(HttpServerTest, WhoAmIForEachRole) {
  Reply r = Get("/api/v1/whoami", kDsfToken);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.j()["principal"], "dsf-officer");
  EXPECT_EQ(r.j()["role"], "department");
  EXPECT_EQ(r.j()["department"], "DSF");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.header("Cache-Control"), "no-store");
  EXPECT_EQ(Get("/api/v1/whoami", kCounterToken).j()["role"], "counter");
  // Defaults are printed: the console never meets a missing key.
  EXPECT_EQ(Get("/api/v1/whoami", kAdminToken).j()["department"], "");
}

TEST_F(HttpServerTest, WorkflowsListGetAndValidate) {
  Reply list = Get("/api/v1/workflows", kCounterToken);
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.j()["workflows"].size(), 2u);
  Reply one = Get("/api/v1/workflows?name=permit", kCounterToken);
  ASSERT_EQ(one.j()["workflows"].size(), 1u);
  EXPECT_EQ(one.j()["workflows"][0]["manifest"]["title"]["pt"], "Licença");

  Reply get = Get("/api/v1/workflows/permit", kCounterToken);
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.j()["workflow"]["version"], "1");
  EXPECT_THAT(get.j()["workflow"]["manifest"]["input_schema_json"]
                  .get<std::string>(),
              HasSubstr("applicant"));
  EXPECT_EQ(Get("/api/v1/workflows/permit?version=1", kCounterToken).status,
            200);
  Reply missing = Get("/api/v1/workflows/permit?version=7", kCounterToken);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.j()["code"], "NOT_FOUND");

  Reply valid = Post("/api/v1/workflows/validate", kAnalystToken,
                     json{{"definition", kPermit}}.dump());
  ASSERT_EQ(valid.status, 200) << valid.body;
  EXPECT_EQ(valid.j()["valid"], true);
  EXPECT_TRUE(valid.j()["errors"].empty());
  Reply invalid = Post("/api/v1/workflows/validate", kAnalystToken,
                       json{{"definition", R"({"StartAt": "Nowhere",
                              "States": {}})"}}
                           .dump());
  ASSERT_EQ(invalid.status, 200) << invalid.body;
  EXPECT_EQ(invalid.j()["valid"], false);
  EXPECT_FALSE(invalid.j()["errors"].empty());
}

TEST_F(HttpServerTest, CaseLifecycleOverHttp) {
  const std::string id = SubmitPermit("Lee");
  ASSERT_FALSE(id.empty());

  Reply get = Get("/api/v1/cases/" + id, kCounterToken);
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(get.j()["case"]["id"], id);
  EXPECT_EQ(get.j()["case"]["status"], "CASE_STATUS_RUNNING");
  EXPECT_EQ(json::parse(get.j()["case"]["input_json"].get<std::string>())
                ["applicant"],
            "Lee");

  Reply list = Get("/api/v1/cases?status=RUNNING&service=permit&limit=10",
                   kCounterToken);
  ASSERT_EQ(list.status, 200) << list.body;
  ASSERT_EQ(list.j()["cases"].size(), 1u);
  EXPECT_EQ(list.j()["next_page_token"], "");
  EXPECT_TRUE(Get("/api/v1/cases?status=SUCCEEDED", kCounterToken)
                  .j()["cases"]
                  .empty());

  Reply hist = Get("/api/v1/cases/" + id + "/history?limit=2", kCounterToken);
  ASSERT_EQ(hist.status, 200) << hist.body;
  ASSERT_EQ(hist.j()["events"].size(), 2u);
  EXPECT_EQ(hist.j()["events"][0]["seq"], "1");
  EXPECT_EQ(hist.j()["more"], true);
  Reply rest = Get("/api/v1/cases/" + id + "/history?after_seq=2",
                   kCounterToken);
  EXPECT_EQ(rest.j()["events"][0]["seq"], "3");

  Reply verify = Get("/api/v1/cases/" + id + "/verify", kSupervisorToken);
  ASSERT_EQ(verify.status, 200) << verify.body;
  EXPECT_EQ(verify.j()["intact"], true);

  json doc = {{"documents",
               {{{"id", "doc-1"},
                 {"name", "plan.pdf"},
                 {"media_type", "application/pdf"},
                 {"size_bytes", "1200"},
                 {"sha256", std::string(64, 'a')}}}}};
  Reply docs = Post("/api/v1/cases/" + id + "/documents", kCounterToken,
                    doc.dump());
  ASSERT_EQ(docs.status, 200) << docs.body;
  ASSERT_EQ(docs.j()["case"]["documents"].size(), 1u);
  EXPECT_EQ(docs.j()["case"]["documents"][0]["added_by"], "clerk-1");

  Reply cancel = Post("/api/v1/cases/" + id + "/cancel", kSupervisorToken,
                      R"({"reason": "withdrawn by the applicant"})");
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(cancel.j()["case"]["status"], "CASE_STATUS_CANCELLED");
  Reply again = Post("/api/v1/cases/" + id + "/cancel", kSupervisorToken,
                     R"({"reason": "twice"})");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(again.j()["code"], "FAILED_PRECONDITION");
  Reply other = Post("/api/v1/cases/" + id + "/cancel", kSupervisorToken,
                     R"({"case_id": "OW-2026-000099-1", "reason": "x"})");
  EXPECT_EQ(other.status, 400);
  EXPECT_THAT(other.j()["message"].get<std::string>(), HasSubstr("case_id"));
}

TEST_F(HttpServerTest, TasksListCompleteAndFail) {
  const std::string a = SubmitPermit("A");
  const std::string b = SubmitPermit("B");
  json tasks = WaitForTasks("DSF", 2);
  ASSERT_EQ(tasks.size(), 2u);
  std::map<std::string, std::string> token_of;
  for (const auto& t : tasks) {
    token_of[t["case_id"]] = t["token"];
    EXPECT_EQ(t["department"], "DSF");
    EXPECT_EQ(t["task_type"], "review");
  }
  Reply listed = Get("/api/v1/tasks?department=DSF&limit=1", kDsfToken);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.j()["tasks"].size(), 1u);
  EXPECT_NE(listed.j()["next_page_token"], "");

  Reply done = Post("/api/v1/tasks/complete", kDsfToken,
                    json{{"token", token_of[a]},
                         {"result_json", R"({"approved": true})"}}
                        .dump());
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.body, "{}");
  WaitForStatus(a, "CASE_STATUS_SUCCEEDED");

  Reply failed = Post("/api/v1/tasks/fail", kDsfToken,
                      json{{"token", token_of[b]},
                           {"error", "Dept.Rejected"},
                           {"cause", "incomplete"}}
                          .dump());
  ASSERT_EQ(failed.status, 200) << failed.body;
  json c = WaitForStatus(b, "CASE_STATUS_FAILED");
  EXPECT_EQ(c["error"], "Dept.Rejected");

  Reply stale = Post("/api/v1/tasks/complete", kDsfToken,
                     json{{"token", token_of[a]}, {"result_json", "{}"}}.dump());
  EXPECT_GE(stale.status, 400) << stale.body;
  EXPECT_LT(stale.status, 500) << stale.body;
}

TEST_F(HttpServerTest, BoardForTheSupervisor) {
  SubmitPermit();
  Reply r = Get("/api/v1/board", kSupervisorToken);
  ASSERT_EQ(r.status, 200) << r.body;
  bool found = false;
  const json board = r.j();  // range-for over a temporary's part dangles
  for (const auto& c : board["board"]["cases"]) {
    if (c["service"].get<std::string>() == "permit" &&
        c["status"].get<std::string>() == "CASE_STATUS_RUNNING") {
      EXPECT_EQ(c["count"].get<std::string>(), "1");
      found = true;
    }
  }
  EXPECT_TRUE(found) << r.body;
}

TEST_F(HttpServerTest, HealthReadinessAndMetrics) {
  Reply h = Get("/healthz", "");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  EXPECT_EQ(Get("/readyz", "").status, 200);
  ready_ = false;
  EXPECT_EQ(Get("/readyz", "").status, 503);
  ready_ = true;

  SubmitPermit();
  Reply m = Get("/metrics", "");
  ASSERT_EQ(m.status, 200);
  EXPECT_THAT(m.header("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(m.body, HasSubstr("onewindow_cases_submitted_total{service=\"permit\"} 1"));
  // This server's own replies are counted by route, not by path.
  EXPECT_THAT(m.body, HasSubstr("onewindow_http_requests_total{route=\"/api/v1/cases (POST)\",status=\"200\"} 1"));
  EXPECT_THAT(m.body, HasSubstr("route=\"/readyz\",status=\"503\""));
}

// ---- the role matrix over HTTP --------------------------------------------

TEST_F(HttpServerTest, RoleMatrix) {
  // A counter may submit but not validate workflows.
  const std::string id = SubmitPermit();
  Reply v = Post("/api/v1/workflows/validate", kCounterToken,
                 json{{"definition", kPermit}}.dump());
  EXPECT_EQ(v.status, 403) << v.body;
  EXPECT_EQ(v.j()["code"], "PERMISSION_DENIED");

  // A department lists only its own tasks and reads no cases.
  EXPECT_EQ(Get("/api/v1/tasks?department=DSF", kDsfToken).status, 200);
  Reply cb = Get("/api/v1/tasks?department=CB", kDsfToken);
  EXPECT_EQ(cb.status, 403) << cb.body;
  EXPECT_EQ(Get("/api/v1/cases/" + id, kDsfToken).status, 403);
  EXPECT_EQ(Post("/api/v1/cases", kDsfToken,
                 json{{"service", "permit"},
                      {"input_json", R"({"applicant": "x"})"}}
                     .dump())
                .status,
            403);

  // An analyst may not read cases, but may validate.
  EXPECT_EQ(Get("/api/v1/cases/" + id, kAnalystToken).status, 403);
  EXPECT_EQ(Get("/api/v1/cases", kAnalystToken).status, 403);
  EXPECT_EQ(Get("/api/v1/board", kAnalystToken).status, 403);

  // A supervisor reads the board and the cases, submits nothing.
  EXPECT_EQ(Get("/api/v1/board", kSupervisorToken).status, 200);
  EXPECT_EQ(Get("/api/v1/cases/" + id, kSupervisorToken).status, 200);
  EXPECT_EQ(Get("/api/v1/board", kCounterToken).status, 403);

  // Unknown and missing tokens.
  Reply unknown = Get("/api/v1/whoami", "not-a-token");
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(unknown.j()["code"], "UNAUTHENTICATED");
  EXPECT_EQ(unknown.header("WWW-Authenticate"), "Bearer");
  Reply missing = Get("/api/v1/cases/" + id, "");
  EXPECT_EQ(missing.status, 401);
  EXPECT_THAT(missing.j()["message"].get<std::string>(),
              HasSubstr("no credentials"));
  auto c = Client();
  auto malformed = c.Get("/api/v1/whoami", {{"Authorization", "Basic eDp5"}});
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 401);
}

TEST_F(HttpServerTest, AnotherDepartmentsTaskIsRefusedAndNothingChanges) {
  Reply sub = Post("/api/v1/cases", kCounterToken,
                   json{{"service", "fire"}, {"input_json", "{}"}}.dump());
  ASSERT_EQ(sub.status, 200) << sub.body;
  const std::string id = sub.j()["case_id"];
  json tasks = WaitForTasks("CB", 1);
  ASSERT_EQ(tasks.size(), 1u);
  const std::string token = tasks[0]["token"];

  Reply r = Post("/api/v1/tasks/complete", kDsfToken,
                 json{{"token", token}, {"result_json", "{}"}}.dump());
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.j()["code"], "PERMISSION_DENIED");
  Reply f = Post("/api/v1/tasks/fail", kDsfToken,
                 json{{"token", token}, {"error", "X"}}.dump());
  EXPECT_EQ(f.status, 403) << f.body;

  Reply c = Get("/api/v1/cases/" + id, kAdminToken);
  EXPECT_EQ(c.j()["case"]["status"], "CASE_STATUS_RUNNING");
  json after = WaitForTasks("CB", 1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0]["token"], token);
  // The admin may answer it.
  EXPECT_EQ(Post("/api/v1/tasks/complete", kAdminToken,
                 json{{"token", token}, {"result_json", "{}"}}.dump())
                .status,
            200);
}

// ---- input rejected --------------------------------------------------------

TEST_F(HttpServerTest, SchemaRejectionNamesTheField) {
  Reply r = Post("/api/v1/cases", kCounterToken,
                 json{{"service", "permit"},
                      {"input_json", R"({"applicant": 5, "area": 0})"}}
                     .dump());
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.j()["code"], "INVALID_ARGUMENT");
  EXPECT_THAT(r.j()["message"].get<std::string>(),
              HasSubstr("input_json does not meet the input schema of permit"));
  std::set<std::string> pointers;
  const json body = r.j();
  for (const auto& e : body["field_errors"]) {
    pointers.insert(e["pointer"].get<std::string>());
  }
  EXPECT_TRUE(pointers.count("/applicant")) << r.body;
  EXPECT_TRUE(pointers.count("/area")) << r.body;

  Reply missing = Post("/api/v1/cases", kCounterToken,
                       json{{"service", "permit"}, {"input_json", "{}"}}.dump());
  ASSERT_EQ(missing.status, 400);
  EXPECT_THAT(missing.j()["message"].get<std::string>(), HasSubstr("applicant"));
}

TEST_F(HttpServerTest, BadJsonAndBadParametersNameTheProblem) {
  Reply truncated = Post("/api/v1/cases", kCounterToken, R"({"service": )");
  EXPECT_EQ(truncated.status, 400);
  EXPECT_THAT(truncated.j()["message"].get<std::string>(),
              HasSubstr("request body"));
  Reply unknown = Post("/api/v1/cases", kCounterToken,
                       R"({"service": "permit", "colour": "red"})");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(unknown.j()["message"].get<std::string>(), HasSubstr("colour"));
  Reply array = Post("/api/v1/cases", kCounterToken, "[]");
  EXPECT_EQ(array.status, 400);
  EXPECT_THAT(array.j()["message"].get<std::string>(),
              HasSubstr("a JSON object"));
  Reply not_json_input =
      Post("/api/v1/cases", kCounterToken,
           json{{"service", "permit"}, {"input_json", "{oops"}}.dump());
  EXPECT_EQ(not_json_input.status, 400);
  EXPECT_THAT(not_json_input.j()["message"].get<std::string>(),
              HasSubstr("input_json"));

  Reply bad_status = Get("/api/v1/cases?status=SLEEPING", kCounterToken);
  EXPECT_EQ(bad_status.status, 400);
  EXPECT_THAT(bad_status.j()["message"].get<std::string>(), HasSubstr("status"));
  Reply bad_limit = Get("/api/v1/cases?limit=ten", kCounterToken);
  EXPECT_EQ(bad_limit.status, 400);
  EXPECT_THAT(bad_limit.j()["message"].get<std::string>(), HasSubstr("limit"));
  Reply unknown_param = Get("/api/v1/cases?colour=red", kCounterToken);
  EXPECT_EQ(unknown_param.status, 400);
  EXPECT_THAT(unknown_param.j()["message"].get<std::string>(),
              HasSubstr("\"colour\""));
  Reply token_in_url = Get("/api/v1/whoami?access_token=x", "");
  EXPECT_EQ(token_in_url.status, 400);
  EXPECT_THAT(token_in_url.j()["message"].get<std::string>(),
              HasSubstr("only on the event stream routes"));
  Reply bad_id = Get("/api/v1/cases/OW-2026-000001-0", kCounterToken);
  EXPECT_EQ(bad_id.status, 400) << bad_id.body;

  auto c = Client();
  auto form = c.Post("/api/v1/cases", Auth(kCounterToken), "service=permit",
                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415);
}

TEST_F(HttpServerTest, UnknownRouteAndMethodNotAllowed) {
  Reply r = Get("/api/v1/nothing", kAdminToken);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.j()["code"], "NOT_FOUND");
  EXPECT_THAT(r.j()["message"].get<std::string>(), HasSubstr("/api/v1/nothing"));
  EXPECT_EQ(Get("/api/v2/cases", kAdminToken).j()["code"], "NOT_FOUND");

  auto c = Client();
  auto del = c.Delete("/api/v1/cases/OW-2026-000001-3", Auth(kAdminToken));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  EXPECT_EQ(del->get_header_value("Allow"), "GET");
  EXPECT_EQ(json::parse(del->body)["code"], "UNIMPLEMENTED");
  auto put = c.Put("/api/v1/tasks/complete", Auth(kAdminToken), "{}",
                   "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  EXPECT_EQ(put->get_header_value("Allow"), "POST");
  auto post_metrics = c.Post("/metrics", "", "text/plain");
  ASSERT_TRUE(post_metrics);
  EXPECT_EQ(post_metrics->status, 405);
}

// ---- the doors -------------------------------------------------------------

TEST_F(HttpServerTest, HugeBodyIs413) {
  Raw raw(port_);
  ASSERT_TRUE(raw.connected());
  raw.Send(std::string("POST /api/v1/cases HTTP/1.1\r\nHost: x\r\n"
                       "Authorization: Bearer ") +
           kCounterToken +
           "\r\nContent-Type: application/json\r\n"
           "Content-Length: 2000000\r\n\r\n{\"service\": \"");
  std::string resp = raw.Read(std::chrono::seconds(5), "\r\n\r\n");
  resp = raw.Read(std::chrono::seconds(5), "}");
  EXPECT_EQ(StatusOf(resp), 413) << resp;
  EXPECT_THAT(BodyOf(resp), HasSubstr("1048576 bytes, the limit"));
  EXPECT_THAT(BodyOf(resp), HasSubstr("RESOURCE_EXHAUSTED"));

  // A chunked body over the limit is cut off as well.
  Raw chunked(port_);
  std::string req =
      "POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: "
      "application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  chunked.Send(req);
  const std::string chunk(64 << 10, ' ');
  char size[16];
  std::snprintf(size, sizeof(size), "%zx\r\n", chunk.size());
  for (int i = 0; i < 20 && chunked.Send(std::string(size) + chunk + "\r\n");
       ++i) {
  }
  std::string r2 = chunked.Read(std::chrono::seconds(5), "}");
  EXPECT_EQ(StatusOf(r2), 413) << r2.substr(0, 200);
}

TEST_F(HttpServerTest, TooDeepJsonIs400NamingTheLimit) {
  std::string deep = R"({"service": "permit", "input_json": "{}", "x": )";
  deep += std::string(100, '[') + std::string(100, ']') + "}";
  Reply r = Post("/api/v1/cases", kCounterToken, deep);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.j()["code"].get<std::string>(), "INVALID_ARGUMENT");
  EXPECT_THAT(r.j()["message"].get<std::string>(),
              HasSubstr("nested deeper than 64 levels"));
}

TEST_F(HttpServerTest, OversizeHeaderIs431) {
  Raw raw(port_);
  raw.Send("GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\nX-Big: " +
           std::string(20000, 'a') + "\r\n\r\n");
  std::string resp = raw.Read(std::chrono::seconds(5), "limit");
  EXPECT_EQ(StatusOf(resp), 431) << resp.substr(0, 200);
  EXPECT_THAT(resp, HasSubstr("request headers: more than 16384 bytes"));
}

TEST_F(HttpServerTest, LongPathAndManyParameters) {
  Reply path = Get("/api/v1/cases/" + std::string(5000, 'A'), kAdminToken);
  EXPECT_EQ(path.status, 414);
  std::string q = "/api/v1/cases?";
  for (int i = 0; i < 40; ++i) q += "p" + std::to_string(i) + "=1&";
  Reply many = Get(q, kAdminToken);
  EXPECT_EQ(many.status, 400);
  EXPECT_THAT(many.j()["message"].get<std::string>(),
              HasSubstr("more than 32 parameters"));
}

TEST_F(HttpServerTest, SlowSenderIsCutOff) {
  Raw raw(port_);
  ASSERT_TRUE(raw.connected());
  raw.Send("GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n");  // never ends
  const auto start = std::chrono::steady_clock::now();
  raw.Read(std::chrono::seconds(10));
  EXPECT_TRUE(raw.eof());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitGet503) {
  options_.max_connections = 2;
  StartServer();  // a second server with the small limit
  Raw a(port_), b(port_);
  ASSERT_TRUE(a.connected() && b.connected());
  // Both held: each sends one request and keeps the connection.
  a.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  b.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(a.Read(std::chrono::seconds(5), "ok\n")), 200);
  EXPECT_EQ(StatusOf(b.Read(std::chrono::seconds(5), "ok\n")), 200);
  Raw c(port_);
  c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string resp = c.Read(std::chrono::seconds(5));
  EXPECT_EQ(StatusOf(resp), 503) << resp;
  EXPECT_THAT(resp, HasSubstr("limit of 2 open connections"));
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequests) {
  Raw raw(port_);
  raw.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string resp = raw.Read(std::chrono::seconds(5), "ready\n");
  EXPECT_THAT(resp, HasSubstr("ok\n"));
  EXPECT_THAT(resp, HasSubstr("ready\n"));
}

TEST_F(HttpServerTest, ExpectContinueIsAnswered) {
  Raw raw(port_);
  const std::string body = json{{"service", "permit"},
                                {"input_json", R"({"applicant": "E"})"}}
                               .dump();
  raw.Send("POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
           std::string(kCounterToken) +
           "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n");
  std::string cont = raw.Read(std::chrono::seconds(5), "\r\n\r\n");
  EXPECT_THAT(cont, HasSubstr("100 Continue"));
  raw.Send(body);
  std::string resp = raw.Read(std::chrono::seconds(5), "case_id");
  EXPECT_THAT(resp, HasSubstr("200 OK"));
}

// ---- event streams ---------------------------------------------------------

// Follows an event stream on its own thread, collecting what arrives.
class StreamReader {
 public:
  StreamReader(int port, std::string path, httplib::Headers headers)
      : thread_([this, port, path = std::move(path),
                 headers = std::move(headers)] {
          httplib::Client c("127.0.0.1", port);
          c.set_read_timeout(15, 0);
          auto r = c.Get(path.c_str(), headers,
                         [this](const httplib::Response& res) {
                           std::lock_guard lock(mu_);
                           status_ = res.status;
                           content_type_ = res.get_header_value("Content-Type");
                           cv_.notify_all();
                           return true;
                         },
                         [this](const char* data, size_t n) {
                           std::lock_guard lock(mu_);
                           text_.append(data, n);
                           cv_.notify_all();
                           return !stop_;
                         });
          std::lock_guard lock(mu_);
          if (r) status_ = r->status;
          done_ = true;
          cv_.notify_all();
        }) {}
  ~StreamReader() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    thread_.join();
  }
  // Waits until the text holds `s` (or the stream ended).
  bool WaitFor(const std::string& s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      return text_.find(s) != std::string::npos || done_;
    }) && text_.find(s) != std::string::npos;
  }
  bool WaitDone() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return done_; });
  }
  std::string text() {
    std::lock_guard lock(mu_);
    return text_;
  }
  int status() {
    std::lock_guard lock(mu_);
    return status_;
  }
  std::string content_type() {
    std::lock_guard lock(mu_);
    return content_type_;
  }
  void Stop() {
    std::lock_guard lock(mu_);
    stop_ = true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;
  std::string content_type_;
  int status_ = 0;
  bool done_ = false;
  bool stop_ = false;
  std::thread thread_;
};

TEST_F(HttpServerTest, CaseEventsFromSubmissionToCompletion) {
  const std::string id = SubmitPermit("Stream");
  StreamReader sse(port_, "/api/v1/cases/" + id + "/events",
                   Auth(kCounterToken));
  ASSERT_TRUE(sse.WaitFor("event: history")) << sse.text();
  EXPECT_EQ(sse.status(), 200);
  EXPECT_EQ(sse.content_type(), "text/event-stream; charset=utf-8");

  json tasks = WaitForTasks("DSF", 1);
  ASSERT_EQ(tasks.size(), 1u);
  ASSERT_EQ(Post("/api/v1/tasks/complete", kDsfToken,
                 json{{"token", tasks[0]["token"]}, {"result_json", "{}"}}
                     .dump())
                .status,
            200);
  // The stream ends by itself after the case's last event.
  ASSERT_TRUE(sse.WaitDone()) << sse.text();
  std::vector<Sse> events = ParseSse(sse.text());
  ASSERT_GE(events.size(), 3u) << sse.text();
  int64_t prev = 0;
  for (const auto& e : events) {
    EXPECT_EQ(e.event, "history");
    json d = json::parse(e.data);
    EXPECT_EQ(std::to_string(prev + 1), d["seq"]) << e.data;
    EXPECT_EQ(e.id, d["seq"]);
    prev = std::stoll(e.id);
  }
  EXPECT_EQ(json::parse(events.front().data)["type"], "ExecutionStarted");
  EXPECT_EQ(json::parse(events.back().data)["type"], "ExecutionSucceeded");

  // The stored history equals what was streamed.
  Reply hist = Get("/api/v1/cases/" + id + "/history", kCounterToken);
  EXPECT_EQ(hist.j()["events"].size(), events.size());

  // Resuming after the last event of an ended case: 204 (EventSource stops).
  auto c = Client();
  httplib::Headers h = Auth(kCounterToken);
  h.emplace("Last-Event-ID", std::to_string(prev));
  auto resumed = c.Get(("/api/v1/cases/" + id + "/events").c_str(), h);
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->status, 204);

  // Resuming from the middle gives the rest, then ends.
  StreamReader tail(port_,
                    "/api/v1/cases/" + id + "/events?after_seq=" +
                        std::to_string(prev - 2) + "&access_token=" +
                        kCounterToken,
                    {});
  ASSERT_TRUE(tail.WaitDone());
  std::vector<Sse> rest = ParseSse(tail.text());
  ASSERT_EQ(rest.size(), 2u) << tail.text();
  EXPECT_EQ(rest[0].id, std::to_string(prev - 1));
}

TEST_F(HttpServerTest, CaseEventsRefusals) {
  const std::string id = SubmitPermit();
  EXPECT_EQ(Get("/api/v1/cases/" + id + "/events", "").status, 401);
  EXPECT_EQ(Get("/api/v1/cases/" + id + "/events?access_token=wrong", "")
                .status,
            401);
  EXPECT_EQ(Get("/api/v1/cases/" + id + "/events", kAnalystToken).status, 403);
  // A wrong check digit, then a well-formed number nobody was given.
  std::string typo = id;
  typo.back() = typo.back() == '9' ? '0' : static_cast<char>(typo.back() + 1);
  Reply bad_digit = Get("/api/v1/cases/" + typo + "/events", kCounterToken);
  EXPECT_EQ(bad_digit.status, 400) << bad_digit.body;
  auto unknown = manifest::FormatCaseNumber("OW", 2026, 999999);
  ASSERT_TRUE(unknown.ok());
  Reply nobody = Get("/api/v1/cases/" + *unknown + "/events", kCounterToken);
  EXPECT_EQ(nobody.status, 404) << nobody.body;
  EXPECT_EQ(nobody.j()["code"], "NOT_FOUND");
  auto c = Client();
  httplib::Headers h = Auth(kCounterToken);
  h.emplace("Last-Event-ID", "abc");
  auto bad = c.Get(("/api/v1/cases/" + id + "/events").c_str(), h);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(HttpServerTest, ChangesStreamAndTheStreamLimit) {
  StreamReader changes(port_, "/api/v1/changes?service=permit",
                       Auth(kSupervisorToken));
  ASSERT_TRUE(changes.WaitFor("retry:")) << changes.text();
  const std::string id = SubmitPermit("Changes");
  ASSERT_TRUE(changes.WaitFor(id)) << changes.text();
  std::vector<Sse> events = ParseSse(changes.text());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].event, "change");
  json d = json::parse(events[0].data);
  EXPECT_EQ(d["case_id"], id);
  EXPECT_EQ(d["service"], "permit");
  EXPECT_EQ(d["status"], "CASE_STATUS_RUNNING");
  // Keep-alive comments flow while nothing happens.
  EXPECT_TRUE(changes.WaitFor(": keep-alive"));

  // Another service's cases do not show.
  Post("/api/v1/cases", kCounterToken,
       json{{"service", "fire"}, {"input_json", "{}"}}.dump());
  EXPECT_TRUE(changes.WaitFor(": keep-alive\n\n: keep-alive"));
  EXPECT_THAT(changes.text(), Not(HasSubstr("\"fire\"")));

  // Three streams per principal (the test's limit): the fourth is 429.
  StreamReader s2(port_, "/api/v1/changes", Auth(kSupervisorToken));
  StreamReader s3(port_, "/api/v1/changes", Auth(kSupervisorToken));
  ASSERT_TRUE(s2.WaitFor("retry:"));
  ASSERT_TRUE(s3.WaitFor("retry:"));
  Reply fourth = Get("/api/v1/changes", kSupervisorToken);
  EXPECT_EQ(fourth.status, 429) << fourth.body;
  EXPECT_EQ(fourth.j()["code"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(Get("/api/v1/changes?status=NOPE", kSupervisorToken).status, 400);
  EXPECT_EQ(Get("/api/v1/changes", kDsfToken).status, 403);

  // A stream that closes gives its slot back.
  s3.Stop();
  SubmitPermit("wake s3");  // s3's next write fails: the server sees it go
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    auto c = Client();
    c.set_read_timeout(0, 300000);
    status = 0;
    auto r = c.Get("/api/v1/changes", Auth(kSupervisorToken),
                   [&](const httplib::Response& res) {
                     status = res.status;
                     return false;
                   },
                   [](const char*, size_t) { return false; });
    if (status == 200) break;
    std::this_thread::yield();
  }
  EXPECT_EQ(status, 200);
}

TEST_F(HttpServerTest, AuthReloadEndsTheStreamsOfAChangedPrincipal) {
  StreamReader s(port_, "/api/v1/changes", Auth(kSupervisorToken));
  ASSERT_TRUE(s.WaitFor("retry:"));
  // The supervisor is gone from the file.
  std::ofstream(auth_path_) << "principals:\n"
                            << "  - {name: root, role: admin, token_sha256: "
                            << TokenSha256Hex(kAdminToken) << "}\n";
  ASSERT_TRUE(auth_->Reload().ok());
  ASSERT_TRUE(s.WaitDone()) << s.text();
  EXPECT_THAT(s.text(), HasSubstr("event: error"));
  EXPECT_THAT(s.text(), HasSubstr("UNAUTHENTICATED"));
}

TEST_F(HttpServerTest, AStreamThatFallsBehindIsCutOffWithAnErrorEvent) {
  for (auto& srv : servers_) srv->Stop();
  servers_.clear();
  options_.sse_max_queued = 3;
  StartServer();
  const std::string id = SubmitPermit("slow");
  StreamReader sse(port_, "/api/v1/cases/" + id + "/events",
                   Auth(kCounterToken));
  ASSERT_TRUE(sse.WaitFor("TaskScheduled")) << sse.text();
  // Completing the task commits more events at once than the stream may
  // hold waiting: it ends with an error event instead of buffering them.
  json tasks = WaitForTasks("DSF", 1);
  ASSERT_EQ(Post("/api/v1/tasks/complete", kDsfToken,
                 json{{"token", tasks[0]["token"]}, {"result_json", "{}"}}
                     .dump())
                .status,
            200);
  ASSERT_TRUE(sse.WaitDone());
  std::vector<Sse> events = ParseSse(sse.text());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "error") << sse.text();
  json err = json::parse(events.back().data);
  EXPECT_EQ(err["code"], "RESOURCE_EXHAUSTED");
  EXPECT_THAT(err["message"].get<std::string>(),
              HasSubstr("fell behind by 3 events"));
  EXPECT_THAT(err["message"].get<std::string>(), HasSubstr("Last-Event-ID"));
  // Reconnecting with Last-Event-ID delivers the rest (a page at a time:
  // stored history never overruns the queue).
  const std::string last = [&] {
    std::string l;
    for (const auto& e : events) {
      if (!e.id.empty()) l = e.id;
    }
    return l;
  }();
  httplib::Headers h = Auth(kCounterToken);
  h.emplace("Last-Event-ID", last);
  StreamReader rest(port_, "/api/v1/cases/" + id + "/events", h);
  ASSERT_TRUE(rest.WaitDone());
  std::vector<Sse> tail = ParseSse(rest.text());
  ASSERT_FALSE(tail.empty()) << rest.text();
  EXPECT_EQ(std::stoll(tail.front().id), std::stoll(last) + 1);
  EXPECT_EQ(json::parse(tail.back().data)["type"], "ExecutionSucceeded");
}

// ---- drawings, static files ------------------------------------------------

TEST_F(HttpServerTest, GraphSvgWithTheCasePath) {
  if (!render::FindDot().ok()) GTEST_SKIP() << "graphviz dot is not installed";
  const std::string id = SubmitPermit("Drawn");
  Reply plain = Get("/api/v1/workflows/permit/graph.svg", kAnalystToken);
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.header("Content-Type"), "image/svg+xml");
  EXPECT_THAT(plain.body, HasSubstr("<svg"));
  EXPECT_THAT(plain.body, HasSubstr("state&#45;Review"));
  EXPECT_THAT(plain.body, Not(HasSubstr("current")));
  EXPECT_EQ(Get("/api/v1/workflows/permit/graph.svg?version=1", kAnalystToken)
                .header("Cache-Control"),
            "private, max-age=3600");

  Reply marked = Get("/api/v1/workflows/permit/graph.svg?case=" + id,
                     kSupervisorToken);
  ASSERT_EQ(marked.status, 200) << marked.body;
  EXPECT_THAT(marked.body, HasSubstr("current"));
  // Graphviz writes the title's '-' as "&#45;".
  EXPECT_THAT(marked.body,
              HasSubstr(absl::StrReplaceAll(id, {{"-", "&#45;"}})));
  EXPECT_EQ(marked.header("Cache-Control"), "no-store");

  // The analyst may draw, but not look into a case; the counter may not draw.
  EXPECT_EQ(Get("/api/v1/workflows/permit/graph.svg?case=" + id, kAnalystToken)
                .status,
            403);
  EXPECT_EQ(Get("/api/v1/workflows/permit/graph.svg", kCounterToken).status,
            403);
  EXPECT_EQ(Get("/api/v1/workflows/fire/graph.svg?case=" + id, kAdminToken)
                .status,
            400);
  EXPECT_EQ(Get("/api/v1/workflows/nope/graph.svg", kAdminToken).status, 404);
}

TEST_F(HttpServerTest, GraphSvgWithoutDotIs503) {
  for (auto& srv : servers_) srv->Stop();
  servers_.clear();
  options_.dot_program = (dir_ / "no-such-dot").string();
  StartServer();
  Reply r = Get("/api/v1/workflows/permit/graph.svg", kAnalystToken);
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.j()["code"], "UNAVAILABLE");
}

TEST_F(HttpServerTest, StaticPagesAndSecurityHeaders) {
  Reply root = Get("/", "");
  ASSERT_EQ(root.status, 200);
  EXPECT_EQ(root.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(root.header("Content-Security-Policy").rfind("default-src 'self'", 0),
            0u);
  EXPECT_EQ(root.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(root.header("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(root.header("X-Frame-Options"), "DENY");
  EXPECT_EQ(root.header("Cache-Control"), "no-cache");
  // No inline script (the CSP would refuse it): every <script> has a src.
  for (size_t at = root.body.find("<script"); at != std::string::npos;
       at = root.body.find("<script", at + 1)) {
    const size_t end = root.body.find('>', at);
    ASSERT_NE(end, std::string::npos);
    EXPECT_THAT(root.body.substr(at, end - at), HasSubstr(" src=\"/"))
        << "inline script in the index page";
  }
  if (!ConsoleEmbedded()) {
    EXPECT_THAT(root.body, HasSubstr("console was not built"));
  }
  // Client-side routes get the index page; unknown assets do not.
  Reply route = Get("/counter/new", "");
  EXPECT_EQ(route.status, 200);
  EXPECT_EQ(route.body, root.body);
  EXPECT_EQ(Get("/assets/missing-1a2b3c4d.js", "").status, 404);
  // The API's replies carry the same headers.
  EXPECT_EQ(Get("/api/v1/whoami", kAdminToken).header("X-Frame-Options"),
            "DENY");
  auto c = Client();
  auto head = c.Head("/");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_EQ(head->get_header_value("Content-Length"),
            std::to_string(root.body.size()));
}

TEST_F(HttpServerTest, StartRefusesBadAddressesAndBusyPorts) {
  HttpOptions o;
  o.listen = "nonsense";
  auto bad = HttpServer::Start(o, &sc_, &metrics_, nullptr);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  o.listen = "127.0.0.1:" + std::to_string(port_);
  auto busy = HttpServer::Start(o, &sc_, &metrics_, nullptr);
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kUnavailable)
      << busy.status();
  EXPECT_THAT(busy.status().message(), HasSubstr(o.listen));
}

TEST_F(HttpServerTest, StopEndsStreamsAndIsIdempotent) {
  const std::string id = SubmitPermit();
  StreamReader s(port_, "/api/v1/cases/" + id + "/events",
                 Auth(kCounterToken));
  ASSERT_TRUE(s.WaitFor("event: history"));
  EXPECT_EQ(sc_.watch_streams.load(), 1);
  servers_[0]->Stop();
  servers_[0]->Stop();
  EXPECT_TRUE(s.WaitDone());
  EXPECT_EQ(sc_.watch_streams.load(), 0);
  EXPECT_EQ(engine_->watch().watchers(), 0u);
}

}  // namespace
}  // namespace onewindow::service::http
