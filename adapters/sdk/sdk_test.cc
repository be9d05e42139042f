// Worker against an in-process fake AdapterService on 127.0.0.1 (real gRPC,
// ephemeral port): answers on the stream, rejected acks, reconnect after the
// engine goes away, and answers resent on the new stream.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/sdk/worker.h"
#include "nlohmann/json.hpp"
#include "onewindow/v1/adapters.grpc.pb.h"

namespace onewindow::adapter {
namespace {

namespace v1 = ::onewindow::v1;
using std::chrono::milliseconds;

bool WaitFor(const std::function<bool()>& pred,
             milliseconds timeout = milliseconds(10000)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return pred();
}

v1::Task MakeTask(const std::string& token, const std::string& input) {
  v1::Task t;
  t.set_token(token);
  t.set_case_id("OW-0000000001");
  t.set_task_id(token + "-id");
  t.set_department("DSF");
  t.set_task_type("check");
  t.set_state("Check");
  t.set_input_json(input);
  t.set_attempt(1);
  return t;
}

// Pushes the tasks it was given to the first stream that subscribes, then
// records and acknowledges every answer.
class FakeAdapterService final : public v1::AdapterService::Service {
 public:
  void PushOnSubscribe(std::vector<v1::Task> tasks) {
    std::lock_guard<std::mutex> lock(mu_);
    to_push_ = std::move(tasks);
  }
  // Answers for this token get an Ack with FAILED_PRECONDITION.
  void RejectToken(const std::string& token) {
    std::lock_guard<std::mutex> lock(mu_);
    reject_token_ = token;
  }

  grpc::Status TaskStream(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<v1::EngineMessage, v1::WorkerMessage>* stream)
      override {
    v1::WorkerMessage msg;
    if (!stream->Read(&msg) || !msg.has_subscribe()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no subscribe");
    }
    std::vector<v1::Task> push;
    {
      std::lock_guard<std::mutex> lock(mu_);
      subscribes_.push_back(msg.subscribe());
      push.swap(to_push_);
    }
    for (const auto& t : push) {
      v1::EngineMessage out;
      *out.mutable_task() = t;
      if (!stream->Write(out)) return grpc::Status::OK;
    }
    while (stream->Read(&msg)) {
      // A batch frame carries several messages, each acknowledged alone.
      std::vector<v1::WorkerMessage> items;
      if (msg.has_batch()) {
        items.assign(msg.batch().messages().begin(),
                     msg.batch().messages().end());
      } else {
        items.push_back(msg);
      }
      for (const auto& item : items) {
        if (!Answer(item, stream)) return grpc::Status::OK;
      }
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++half_closed_;
    return grpc::Status::OK;
  }

  // Records one worker message and acknowledges it; false when the stream
  // broke.
  bool Answer(
      const v1::WorkerMessage& msg,
      grpc::ServerReaderWriter<v1::EngineMessage, v1::WorkerMessage>* stream) {
    std::string token;
    {
      std::lock_guard<std::mutex> lock(mu_);
      answers_.push_back(msg);
      if (msg.has_complete()) token = msg.complete().token();
      if (msg.has_fail()) token = msg.fail().token();
      if (!token.empty() && token == reject_token_) token = "reject";
    }
    if (msg.ref() == 0) return true;
    v1::EngineMessage out;
    out.mutable_ack()->set_ref(msg.ref());
    if (token == "reject") {
      out.mutable_ack()->set_code(
          static_cast<int>(grpc::StatusCode::FAILED_PRECONDITION));
      out.mutable_ack()->set_message("token stale");
    }
    return stream->Write(out);
  }

  int subscribes() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(subscribes_.size());
  }
  v1::Subscribe subscribe(int i) {
    std::lock_guard<std::mutex> lock(mu_);
    return subscribes_.at(i);
  }
  std::vector<v1::WorkerMessage> answers() {
    std::lock_guard<std::mutex> lock(mu_);
    return answers_;
  }
  int half_closed() {
    std::lock_guard<std::mutex> lock(mu_);
    return half_closed_;
  }

 private:
  std::mutex mu_;
  std::vector<v1::Task> to_push_;
  std::string reject_token_;
  std::vector<v1::Subscribe> subscribes_;
  std::vector<v1::WorkerMessage> answers_;
  int half_closed_ = 0;
};

// A fake engine listening on 127.0.0.1; port 0 picks a free port.
class FakeEngine {
 public:
  explicit FakeEngine(int port = 0) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~FakeEngine() { Kill(); }

  bool ok() const { return server_ != nullptr && port_ > 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  FakeAdapterService& service() { return service_; }

  // Ends all calls at once, as a dying engine would.
  void Kill() {
    if (!server_) return;
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    server_.reset();
  }

 private:
  FakeAdapterService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

WorkerOptions Options(const std::string& address) {
  WorkerOptions opts;
  opts.address = address;
  opts.department = "DSF";
  opts.worker = "test-worker";
  opts.concurrency = 2;
  opts.lease_ms = 5000;
  opts.initial_backoff = milliseconds(50);
  opts.max_backoff = milliseconds(400);
  opts.stop_grace = milliseconds(1000);
  return opts;
}

// Completes tasks whose input has "ok": true and fails the others.
TaskResult OkOrFail(TaskContext& ctx) {
  const auto input = nlohmann::json::parse(ctx.task().input_json());
  if (input.value("ok", false)) {
    return TaskResult::Complete(nlohmann::json{
        {"approved", true},
        {"token",
         ctx.task().token()}}.dump());
  }
  return TaskResult::Fail("Dept.Failure", "not ok at DSF");
}

TEST(WorkerTest, CompletesOneAndFailsOneOnTheStream) {
  FakeEngine engine;
  ASSERT_TRUE(engine.ok());
  engine.service().PushOnSubscribe(
      {MakeTask("t1", R"({"ok": true})"), MakeTask("t2", R"({"ok": false})")});

  Worker worker(Options(engine.address()), OkOrFail);
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(WaitFor([&] { return engine.service().answers().size() >= 2; }));
  ASSERT_TRUE(WaitFor([&] { return worker.stats().answers_acked == 2; }));

  const v1::Subscribe sub = engine.service().subscribe(0);
  EXPECT_EQ(sub.department(), "DSF");
  EXPECT_EQ(sub.worker(), "test-worker");
  EXPECT_EQ(sub.max_in_flight(), 2);
  EXPECT_EQ(sub.lease_ms(), 5000);

  bool completed = false, failed = false;
  for (const auto& a : engine.service().answers()) {
    EXPECT_NE(a.ref(), 0u);
    if (a.has_complete()) {
      EXPECT_EQ(a.complete().token(), "t1");
      const auto result = nlohmann::json::parse(a.complete().result_json());
      EXPECT_EQ(result["token"], "t1");
      completed = true;
    }
    if (a.has_fail()) {
      EXPECT_EQ(a.fail().token(), "t2");
      EXPECT_EQ(a.fail().error(), "Dept.Failure");
      EXPECT_EQ(a.fail().cause(), "not ok at DSF");
      failed = true;
    }
  }
  EXPECT_TRUE(completed);
  EXPECT_TRUE(failed);
  const WorkerStats stats = worker.stats();
  EXPECT_EQ(stats.tasks_received, 2u);
  EXPECT_EQ(stats.tasks_completed, 1u);
  EXPECT_EQ(stats.tasks_failed, 1u);
  EXPECT_TRUE(stats.connected);

  // Stop half-closes: the engine sees the end of the worker's messages.
  worker.Stop();
  EXPECT_EQ(engine.service().half_closed(), 1);
  EXPECT_EQ(worker.stats().sessions, 1u);
}

TEST(WorkerTest, RejectedAckIsNotFatal) {
  FakeEngine engine;
  ASSERT_TRUE(engine.ok());
  engine.service().RejectToken("t1");
  engine.service().PushOnSubscribe({MakeTask("t1", R"({"ok": true})")});

  Worker worker(Options(engine.address()), OkOrFail);
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(WaitFor([&] { return worker.stats().answers_rejected == 1; }));
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_TRUE(worker.stats().connected);
  EXPECT_EQ(worker.stats().sessions, 1u);
  worker.Stop();
}

TEST(WorkerTest, HandlerExceptionAndBadJsonBecomeFailures) {
  FakeEngine engine;
  ASSERT_TRUE(engine.ok());
  engine.service().PushOnSubscribe(
      {MakeTask("throw", "{}"), MakeTask("badjson", "{}")});
  Worker worker(Options(engine.address()), [](TaskContext& ctx) {
    if (ctx.task().token() == "throw") throw std::runtime_error("boom");
    return TaskResult::Complete("{not json");
  });
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(WaitFor([&] { return engine.service().answers().size() >= 2; }));
  for (const auto& a : engine.service().answers()) {
    ASSERT_TRUE(a.has_fail());
    if (a.fail().token() == "throw") {
      EXPECT_EQ(a.fail().error(), kHandlerExceptionError);
      EXPECT_NE(a.fail().cause().find("boom"), std::string::npos);
    } else {
      EXPECT_EQ(a.fail().error(), kInvalidResultError);
    }
  }
  worker.Stop();
}

TEST(WorkerTest, HeartbeatsWhileAHandlerRuns) {
  FakeEngine engine;
  ASSERT_TRUE(engine.ok());
  v1::Task task = MakeTask("long", R"({"ok": true})");
  task.set_heartbeat_seconds(1);
  engine.service().PushOnSubscribe({task});
  Worker worker(Options(engine.address()), [](TaskContext& ctx) {
    EXPECT_TRUE(ctx.Heartbeat(2000));
    std::this_thread::sleep_for(milliseconds(1300));
    return OkOrFail(ctx);
  });
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& a : engine.service().answers()) {
      if (a.has_complete()) return true;
    }
    return false;
  }));
  int beats = 0;
  for (const auto& a : engine.service().answers()) {
    if (!a.has_heartbeat()) continue;
    EXPECT_EQ(a.heartbeat().token(), "long");
    if (beats++ == 0) {
      EXPECT_EQ(a.heartbeat().extend_ms(), 2000);
    }
  }
  // The handler's own heartbeat, then automatic ones every third of a
  // second.
  EXPECT_GE(beats, 2);
  EXPECT_GE(worker.stats().heartbeats_sent, 2u);
  worker.Stop();
}

TEST(WorkerTest, ReconnectsAfterEngineRestart) {
  auto engine = std::make_unique<FakeEngine>();
  ASSERT_TRUE(engine->ok());
  const int port = engine->port();
  engine->service().PushOnSubscribe({MakeTask("t1", R"({"ok": true})")});

  Worker worker(Options(engine->address()), OkOrFail);
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(WaitFor([&] { return worker.stats().answers_acked == 1; }));

  engine->Kill();
  ASSERT_TRUE(WaitFor([&] { return !worker.stats().connected; }));
  // Down for a while: several reconnect attempts fail.
  std::this_thread::sleep_for(milliseconds(600));
  EXPECT_FALSE(worker.stats().connected);

  engine = std::make_unique<FakeEngine>(port);
  ASSERT_TRUE(engine->ok()) << "port " << port << " not free again";
  engine->service().PushOnSubscribe(
      {MakeTask("t2", R"({"ok": true})"), MakeTask("t3", R"({"ok": false})")});
  ASSERT_TRUE(WaitFor([&] { return engine->service().answers().size() >= 2; }));
  EXPECT_EQ(engine->service().subscribes(), 1);
  EXPECT_EQ(engine->service().subscribe(0).department(), "DSF");
  EXPECT_TRUE(WaitFor([&] { return worker.stats().connected; }));
  EXPECT_GE(worker.stats().sessions, 2u);
  EXPECT_EQ(worker.stats().tasks_completed, 2u);
  EXPECT_EQ(worker.stats().tasks_failed, 1u);
  worker.Stop();
}

TEST(WorkerTest, AnswerOfABrokenStreamIsResentOnTheNextOne) {
  auto engine = std::make_unique<FakeEngine>();
  ASSERT_TRUE(engine->ok());
  const int port = engine->port();
  engine->service().PushOnSubscribe({MakeTask("slow", R"({"ok": true})")});

  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> started{false};
  Worker worker(Options(engine->address()), [&](TaskContext& ctx) {
    started = true;
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return OkOrFail(ctx);
  });
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(WaitFor([&] { return started.load(); }));

  // The engine dies while the task is being worked on; the answer is ready
  // before it is back.
  engine->Kill();
  ASSERT_TRUE(WaitFor([&] { return !worker.stats().connected; }));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(WaitFor([&] { return worker.stats().tasks_completed == 1; }));

  engine = std::make_unique<FakeEngine>(port);
  ASSERT_TRUE(engine->ok());
  ASSERT_TRUE(WaitFor([&] { return !engine->service().answers().empty(); }));
  const auto answers = engine->service().answers();
  ASSERT_EQ(answers.size(), 1u);
  ASSERT_TRUE(answers[0].has_complete());
  EXPECT_EQ(answers[0].complete().token(), "slow");
  EXPECT_TRUE(WaitFor([&] { return worker.stats().answers_acked == 1; }));
  worker.Stop();
}

TEST(WorkerTest, StopsCleanlyWhileTheEngineIsDown) {
  // Nothing listens on this port (taken, then released).
  int port;
  {
    FakeEngine probe;
    ASSERT_TRUE(probe.ok());
    port = probe.port();
  }
  Worker worker(Options("127.0.0.1:" + std::to_string(port)), OkOrFail);
  ASSERT_TRUE(worker.Start());
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_FALSE(worker.stats().connected);
  const auto t0 = std::chrono::steady_clock::now();
  worker.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(3000));
}

TEST(WorkerTest, StartRejectsMissingDepartment) {
  WorkerOptions opts;
  Worker worker(opts, OkOrFail);
  EXPECT_FALSE(worker.Start());
  worker.Stop();
}

}  // namespace
}  // namespace onewindow::adapter
