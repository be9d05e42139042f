// The HTTP bridge in one process against a scripted engine (real gRPC on
// 127.0.0.1) and an HTTP department (cpp-httplib on 127.0.0.1): the request
// it sends, how each kind of answer maps, callbacks and their outcomes,
// bounded concurrency, a parked task across an engine restart.
#include "adapters/http/bridge.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/http_util.h"
#include "adapters/http/listen.h"
#include "adapters/sdk/testing/scripted_engine.h"
#include "nlohmann/json.hpp"

namespace onewindow::http_bridge {
namespace {

namespace v1 = ::onewindow::v1;
using adapter::testing::EngineServer;
using adapter::testing::MakeTask;
using adapter::testing::ScriptedEngine;
using adapter::testing::WaitFor;
using nlohmann::json;
using std::chrono::milliseconds;

// A department's HTTP service on 127.0.0.1; the test supplies the handler
// of POST /tasks.
class Department {
 public:
  using Handler = std::function<void(
      const json& body, const httplib::Request& req, httplib::Response& res)>;

  explicit Department(Handler handler) : handler_(std::move(handler)) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
    server_.Post("/tasks",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   json body = json::parse(req.body, nullptr, false);
                   {
                     std::lock_guard<std::mutex> lock(mu_);
                     posts_.push_back(body);
                     requests_.push_back(req);
                   }
                   handler_(body, req, res);
                 });
    port_ = BindServer(&server_, "127.0.0.1", 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    WaitUntilListening(&server_);
  }
  ~Department() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<json> posts() {
    std::lock_guard<std::mutex> lock(mu_);
    return posts_;
  }
  std::vector<httplib::Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int posts_for(const std::string& token) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& p : posts_) {
      if (p.is_object() && p.value("task_token", "") == token) ++n;
    }
    return n;
  }

 private:
  Handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<json> posts_;
  std::vector<httplib::Request> requests_;
};

BridgeConfig Config(int port, int timeout_ms = 2000) {
  const std::string yaml =
      "tasks:\n  \"*\":\n    url: http://127.0.0.1:" + std::to_string(port) +
      "/tasks\n    timeout_ms: " + std::to_string(timeout_ms) +
      "\n    headers: {Authorization: \"Bearer "
      "${DEPT_SECRET}\", X-Dept: DSF}\n";
  auto c = ParseBridgeConfig(yaml, "test.yaml", [](const std::string& n) {
    return n == "DEPT_SECRET" ? "s3cr3t" : nullptr;
  });
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

BridgeOptions Options(const std::string& engine, int dept_port) {
  BridgeOptions o;
  o.worker.address = engine;
  o.worker.department = "DSF";
  o.worker.worker = "bridge-test";
  o.worker.max_in_flight = 64;
  o.worker.lease_ms = 1000;
  o.worker.initial_backoff = milliseconds(50);
  o.worker.max_backoff = milliseconds(300);
  o.worker.stop_grace = milliseconds(500);
  o.config = Config(dept_port);
  o.callback_listen = "127.0.0.1:0";
  o.concurrency = 4;
  o.callback_wait = milliseconds(3000);
  return o;
}

v1::Task TaskWith(const std::string& token, const json& input) {
  v1::Task t = MakeTask(token);
  t.set_input_json(input.dump());
  t.set_service("licence");
  return t;
}

// The engine's answer for `token` (the last one), or an empty message.
v1::WorkerMessage AnswerFor(ScriptedEngine& e, const std::string& token) {
  v1::WorkerMessage found;
  for (const auto& a : e.answers()) {
    const auto& t = a.has_complete() ? a.complete().token() : a.fail().token();
    if (t == token) found = a;
  }
  return found;
}

struct CallbackReply {
  int status = 0;
  json body;
};

CallbackReply Callback(const std::string& base, const std::string& token,
                       const std::string& what, const std::string& body) {
  httplib::Client cli(base);
  cli.set_read_timeout(std::chrono::seconds(10));
  auto res = cli.Post("/tasks/" + PercentEncode(token) + "/" + what, body,
                      "application/json");
  CallbackReply r;
  if (!res) return r;
  r.status = res->status;
  r.body = json::parse(res->body, nullptr, false);
  return r;
}

TEST(BridgeTest, PostsTheTaskAndCompletesWithTheBody) {
  EngineServer engine;
  ASSERT_TRUE(engine.ok());
  Department dept([](const json&, const httplib::Request&,
                     httplib::Response& res) {
    res.status = 200;
    res.set_content(R"({"approved": true, "fee": 120})", "application/json");
  });
  Bridge bridge(Options(engine.address(), dept.port()));
  ASSERT_TRUE(bridge.Start().ok());
  const std::string token = "OW-2026-000001-5/t1/1/00000000abcd";
  ASSERT_TRUE(engine.engine().PushTask(TaskWith(token, {{"n", 7}})));
  ASSERT_TRUE(WaitFor([&] { return engine.engine().answers().size() == 1; }));

  const v1::WorkerMessage a = AnswerFor(engine.engine(), token);
  ASSERT_TRUE(a.has_complete());
  EXPECT_EQ(json::parse(a.complete().result_json()),
            json({{"approved", true}, {"fee", 120}}));

  ASSERT_EQ(dept.posts().size(), 1u);
  const json p = dept.posts()[0];
  EXPECT_EQ(p["task_token"], token);
  EXPECT_EQ(p["case_id"], "OW-2026-000001-5");
  EXPECT_EQ(p["task_type"], "check");
  EXPECT_EQ(p["state"], "Check");
  EXPECT_EQ(p["service"], "licence");
  EXPECT_EQ(p["attempt"], 1);
  EXPECT_EQ(p["input"], json({{"n", 7}}));  // JSON, not a string
  EXPECT_EQ(p["callback_url"], bridge.callback_url() + "/tasks/" +
                                   "OW-2026-000001-5%2Ft1%2F1%2F00000000abcd");
  const httplib::Request req = dept.requests()[0];
  EXPECT_EQ(req.get_header_value("Authorization"), "Bearer s3cr3t");
  EXPECT_EQ(req.get_header_value("X-Dept"), "DSF");
  EXPECT_EQ(req.get_header_value("Idempotency-Key"), token);
  EXPECT_EQ(req.get_header_value("Content-Type"), "application/json");
  bridge.Stop();
  EXPECT_EQ(bridge.stats().completed, 1u);
}

TEST(BridgeTest, MapsEveryKindOfAnswer) {
  EngineServer engine;
  ASSERT_TRUE(engine.ok());
  Department dept([](const json& body, const httplib::Request&,
                     httplib::Response& res) {
    const std::string mode = body["input"].value("mode", "");
    if (mode == "reject") {
      res.status = 422;
      res.set_content(R"({"reason": "missing document"})", "application/json");
    } else if (mode == "long-reject") {
      res.status = 400;
      res.set_content(std::string(5000, 'x'), "text/plain");
    } else if (mode == "bad-utf8") {
      res.status = 409;
      res.set_content("caf\xC3 \xFF end", "text/plain");
    } else if (mode == "busy") {
      res.status = 503;
      res.set_content("try later", "text/plain");
    } else if (mode == "slow-down") {
      res.status = 429;
    } else if (mode == "no-content") {
      res.status = 204;
    } else if (mode == "redirect") {
      res.status = 302;
      res.set_header("Location", "http://127.0.0.1:1/");
    } else if (mode == "not-json") {
      res.status = 200;
      res.set_content("<html>ok</html>", "text/html");
    } else if (mode == "empty") {
      res.status = 200;
    } else if (mode == "huge") {
      res.status = 200;
      res.set_content("\"" + std::string(300 * 1024, 'a') + "\"",
                      "application/json");
    } else if (mode == "huge-chunked") {
      res.status = 200;
      res.set_chunked_content_provider(
          "application/json", [](size_t offset, httplib::DataSink& sink) {
            if (offset > 400 * 1024) {
              sink.done();
              return true;
            }
            const std::string chunk(16 * 1024, ' ');
            sink.write(chunk.data(), chunk.size());
            return true;
          });
    } else if (mode == "slow") {
      std::this_thread::sleep_for(milliseconds(1500));
      res.status = 200;
      res.set_content("{}", "application/json");
    } else {
      res.status = 201;
      res.set_content("[1, 2]", "application/json");
    }
  });
  BridgeOptions opts = Options(engine.address(), dept.port());
  opts.config = Config(dept.port(), /*timeout_ms=*/400);
  opts.concurrency = 16;
  // A second type whose department is not listening.
  auto closed = ParseBridgeConfig(
      "tasks:\n  closed:\n    url: http://127.0.0.1:1/x\n", "closed.yaml",
      [](const std::string&) { return nullptr; });
  ASSERT_TRUE(closed.ok());
  opts.config.routes.emplace("closed", closed->routes.at("closed"));
  Bridge bridge(std::move(opts));
  ASSERT_TRUE(bridge.Start().ok());

  const std::vector<std::string> modes = {
      "reject",       "long-reject", "bad-utf8", "busy",  "slow-down",
      "no-content",   "redirect",    "not-json", "empty", "huge",
      "huge-chunked", "slow",        "created"};
  v1::EngineMessage batch;
  for (const auto& m : modes) {
    *batch.mutable_tasks()->add_tasks() = TaskWith(m, {{"mode", m}});
  }
  v1::Task closed_task = TaskWith("closed", json::object());
  closed_task.set_task_type("closed");
  *batch.mutable_tasks()->add_tasks() = closed_task;
  ASSERT_TRUE(engine.engine().Push(batch));
  ASSERT_TRUE(WaitFor(
      [&] { return engine.engine().answers().size() == modes.size() + 1; }));

  auto fail = [&](const std::string& token) {
    const v1::WorkerMessage a = AnswerFor(engine.engine(), token);
    EXPECT_TRUE(a.has_fail()) << token << ": " << a.ShortDebugString();
    return a.fail();
  };
  EXPECT_EQ(fail("reject").error(), kRejectedError);
  EXPECT_EQ(fail("reject").cause(),
            R"(HTTP 422: {"reason": "missing document"})");
  EXPECT_EQ(fail("long-reject").error(), kRejectedError);
  EXPECT_LE(fail("long-reject").cause().size(), 1024u + 16u);
  EXPECT_EQ(fail("long-reject").cause().rfind("HTTP 400: xxx", 0), 0u);
  EXPECT_EQ(fail("bad-utf8").error(), kRejectedError);
  EXPECT_EQ(fail("bad-utf8").cause(),
            "HTTP 409: caf\xEF\xBF\xBD \xEF\xBF\xBD end");
  EXPECT_EQ(fail("busy").error(), kUnavailableError);
  EXPECT_EQ(fail("busy").cause(), "HTTP 503: try later");
  EXPECT_EQ(fail("slow-down").error(), kUnavailableError);
  EXPECT_EQ(fail("no-content").error(), kUnavailableError);
  EXPECT_NE(fail("no-content").cause().find("unexpected HTTP 204"),
            std::string::npos);
  EXPECT_NE(fail("redirect").cause().find("unexpected HTTP 302"),
            std::string::npos);
  EXPECT_EQ(fail("not-json").error(), kUnavailableError);
  EXPECT_NE(fail("not-json").cause().find("not JSON: <html>ok</html>"),
            std::string::npos);
  EXPECT_NE(fail("empty").cause().find("empty body"), std::string::npos);
  EXPECT_EQ(fail("huge").error(), kUnavailableError);
  EXPECT_NE(fail("huge").cause().find("over the limit of 262144 bytes"),
            std::string::npos);
  EXPECT_NE(fail("huge-chunked").cause().find("over the limit"),
            std::string::npos);
  EXPECT_EQ(fail("slow").error(), kUnavailableError);
  EXPECT_NE(fail("slow").cause().find("timed out after"), std::string::npos)
      << fail("slow").cause();
  EXPECT_EQ(fail("closed").error(), kUnavailableError);
  EXPECT_NE(fail("closed").cause().find("cannot connect to "
                                        "http://127.0.0.1:1"),
            std::string::npos)
      << fail("closed").cause();
  const v1::WorkerMessage created = AnswerFor(engine.engine(), "created");
  ASSERT_TRUE(created.has_complete());
  EXPECT_EQ(created.complete().result_json(), "[1, 2]");
  const BridgeStats s = bridge.stats();
  EXPECT_EQ(s.rejected, 3u);
  EXPECT_EQ(s.unavailable, modes.size() + 1 - 4);
  EXPECT_EQ(s.completed, 1u);
  bridge.Stop();
}

TEST(BridgeTest, AcceptedTasksAreKeptAliveAndAnsweredByCallback) {
  EngineServer engine;
  ASSERT_TRUE(engine.ok());
  Department dept(
      [](const json&, const httplib::Request&, httplib::Response& res) {
        res.status = 202;
        res.set_content(R"({"queued": true})", "application/json");
      });
  Bridge bridge(Options(engine.address(), dept.port()));
  ASSERT_TRUE(bridge.Start().ok());
  const std::string t1 = "C-1/t1/1/00000000aaaa";
  const std::string t2 = "C-1/t2/1/00000000bbbb";
  ASSERT_TRUE(engine.engine().PushTask(TaskWith(t1, {{"n", 1}})));
  ASSERT_TRUE(engine.engine().PushTask(TaskWith(t2, {{"n", 2}})));
  ASSERT_TRUE(WaitFor([&] { return bridge.stats().waiting == 2; }));

  // Parked, the leases are renewed (every third of the lease).
  ASSERT_TRUE(WaitFor([&] {
    int beats = 0;
    for (const auto& h : engine.engine().heartbeats()) {
      if (h.heartbeat().token() == t1) ++beats;
    }
    return beats >= 3;
  }));
  EXPECT_TRUE(engine.engine().answers().empty());

  const std::string base = bridge.callback_url();
  EXPECT_EQ(Callback(base, "C-9/t1/1/0000000000ff", "complete", "{}").status,
            404);
  EXPECT_EQ(Callback(base, t1, "complete", "{not json").status, 400);
  EXPECT_EQ(Callback(base, t2, "fail", R"({"cause": "no error"})").status, 400);
  EXPECT_EQ(Callback(base, t2, "fail", R"({"error": 5})").status, 400);
  EXPECT_TRUE(engine.engine().answers().empty());

  CallbackReply r = Callback(base, t1, "complete", R"({"licence": "L-1"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["status"], "accepted");
  // Repeated: the same outcome, nothing sent again.
  EXPECT_EQ(Callback(base, t1, "complete", R"({"licence": "L-1"})").status,
            200);
  r = Callback(base, t2, "fail",
               R"({"error": "Dept.Rejected", "cause": "premises too small"})");
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(WaitFor([&] { return engine.engine().answers().size() == 2; }));
  const v1::WorkerMessage a1 = AnswerFor(engine.engine(), t1);
  ASSERT_TRUE(a1.has_complete());
  EXPECT_EQ(a1.complete().result_json(), R"({"licence": "L-1"})");
  const v1::WorkerMessage a2 = AnswerFor(engine.engine(), t2);
  ASSERT_TRUE(a2.has_fail());
  EXPECT_EQ(a2.fail().error(), "Dept.Rejected");
  EXPECT_EQ(a2.fail().cause(), "premises too small");
  EXPECT_EQ(dept.posts_for(t1), 1);
  const BridgeStats s = bridge.stats();
  EXPECT_EQ(s.parked, 2u);
  EXPECT_EQ(s.waiting, 0u);
  EXPECT_EQ(s.callbacks_accepted, 3u);
  bridge.Stop();
}

TEST(BridgeTest, CallbackGetsTheEnginesVerdict) {
  EngineServer engine;
  ASSERT_TRUE(engine.ok());
  std::string base;  // set before any task is pushed
  Department dept([&](const json& body, const httplib::Request&,
                      httplib::Response& res) {
    const std::string mode = body["input"].value("mode", "");
    if (mode == "sync") {
      res.status = 200;
      res.set_content("{}", "application/json");
      return;
    }
    if (mode == "early") {
      // The department answers before it even replies 202.
      EXPECT_EQ(
          Callback(base, body["task_token"], "complete", R"({"early": true})")
              .status,
          200);
    }
    res.status = 202;
  });
  BridgeOptions opts = Options(engine.address(), dept.port());
  opts.callback_wait = milliseconds(300);
  Bridge bridge(std::move(opts));
  ASSERT_TRUE(bridge.Start().ok());
  base = bridge.callback_url();

  engine.engine().RefuseNext("stale", 1, grpc::StatusCode::FAILED_PRECONDITION);
  for (const char* t : {"stale", "cancelled", "sync", "early", "quiet"}) {
    ASSERT_TRUE(engine.engine().PushTask(TaskWith(t, {{"mode", t}})));
  }
  ASSERT_TRUE(WaitFor([&] { return bridge.stats().waiting == 3; }));
  ASSERT_TRUE(WaitFor([&] { return engine.engine().answers().size() == 2; }));
  EXPECT_TRUE(AnswerFor(engine.engine(), "early").has_complete());

  // The engine refuses the answer: 409 with its reason.
  CallbackReply r = Callback(base, "stale", "complete", "{}");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["code"], "FAILED_PRECONDITION");
  EXPECT_EQ(r.body["error"], "refused by the test");
  // The engine withdrew the task: 410.
  ASSERT_TRUE(engine.engine().PushCancel("cancelled", "case cancelled: moved"));
  ASSERT_TRUE(WaitFor([&] { return bridge.stats().waiting == 1; }));
  r = Callback(base, "cancelled", "complete", "{}");
  EXPECT_EQ(r.status, 410);
  EXPECT_NE(r.body["error"].get<std::string>().find("case cancelled: moved"),
            std::string::npos);
  // Answered by the department's own reply: 409.
  r = Callback(base, "sync", "complete", "{}");
  EXPECT_EQ(r.status, 409);
  // The engine does not acknowledge in time: 503 with Retry-After.
  engine.engine().set_ack_mode(ScriptedEngine::AckMode::kNone);
  r = Callback(base, "quiet", "complete", "{}");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(engine.engine().answers_for("cancelled"), 0);
  bridge.Stop();
}

TEST(BridgeTest, ConcurrencyIsBounded) {
  EngineServer engine;
  ASSERT_TRUE(engine.ok());
  std::mutex mu;
  std::condition_variable cv;
  int active = 0;
  int peak = 0;
  bool release = false;
  Department dept(
      [&](const json&, const httplib::Request&, httplib::Response& res) {
        {
          std::unique_lock<std::mutex> lock(mu);
          peak = std::max(peak, ++active);
          cv.wait_for(lock, std::chrono::seconds(10), [&] { return release; });
          --active;
        }
        res.status = 200;
        res.set_content("{}", "application/json");
      });
  BridgeOptions opts = Options(engine.address(), dept.port());
  opts.concurrency = 3;
  Bridge bridge(std::move(opts));
  ASSERT_TRUE(bridge.Start().ok());
  v1::EngineMessage batch;
  for (int i = 0; i < 10; ++i) {
    *batch.mutable_tasks()->add_tasks() =
        TaskWith(adapter::testing::Tok("c", i), json::object());
  }
  ASSERT_TRUE(engine.engine().Push(batch));
  // Three requests reach the department and hold there while seven wait
  // (the bridge can count a request as posting before the department's
  // handler runs, so both sides are awaited before the release).
  ASSERT_TRUE(WaitFor([&] {
    const BridgeStats s = bridge.stats();
    std::lock_guard<std::mutex> lock(mu);
    return s.posting == 3 && s.queued == 7 && active == 3;
  }));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(WaitFor([&] { return engine.engine().answers().size() == 10; }));
  EXPECT_EQ(peak, 3);
  bridge.Stop();
}

TEST(BridgeTest, ParkedTaskSurvivesAnEngineRestartWithoutASecondRequest) {
  auto engine = std::make_unique<EngineServer>();
  ASSERT_TRUE(engine->ok());
  const int port = engine->port();
  Department dept([](const json&, const httplib::Request&,
                     httplib::Response& res) { res.status = 202; });
  Bridge bridge(Options(engine->address(), dept.port()));
  ASSERT_TRUE(bridge.Start().ok());
  const v1::Task task = TaskWith("C-1/t1/1/00000000cccc", {{"n", 1}});
  ASSERT_TRUE(engine->engine().PushTask(task));
  ASSERT_TRUE(WaitFor([&] { return bridge.stats().waiting == 1; }));
  engine->Kill();
  ASSERT_TRUE(WaitFor([&] { return !bridge.stats().worker.connected; }));
  // Back, with the same token (the engine keeps tokens across restarts).
  engine = std::make_unique<EngineServer>(
      port, [&](ScriptedEngine& e) { e.PushOnSubscribe({task}); });
  ASSERT_TRUE(engine->ok());
  ASSERT_TRUE(
      WaitFor([&] { return bridge.stats().worker.tasks_reoffered == 1; }));
  const CallbackReply r =
      Callback(bridge.callback_url(), task.token(), "complete", R"({"a": 1})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(dept.posts_for(task.token()), 1);
  EXPECT_EQ(engine->engine().answers_for(task.token()), 1);
  bridge.Stop();
}

TEST(BridgeTest, StartRefusesABusyCallbackAddress) {
  EngineServer engine;
  ASSERT_TRUE(engine.ok());
  Department dept([](const json&, const httplib::Request&,
                     httplib::Response& res) { res.status = 200; });
  BridgeOptions opts = Options(engine.address(), dept.port());
  opts.callback_listen = "127.0.0.1:" + std::to_string(dept.port());
  Bridge busy(opts);
  EXPECT_EQ(busy.Start().code(), absl::StatusCode::kFailedPrecondition);
  opts.callback_listen = "0.0.0.0:0";
  Bridge wildcard(opts);
  EXPECT_EQ(wildcard.Start().code(), absl::StatusCode::kInvalidArgument);
  opts.callback_listen = "nonsense";
  Bridge bad(opts);
  EXPECT_EQ(bad.Start().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace onewindow::http_bridge
