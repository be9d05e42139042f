// Worker against a scripted AdapterService on 127.0.0.1 (real gRPC, ephemeral
// port): asynchronous handlers, task batches and grouped acks, batch frames
// (and the fallback for an engine that refuses them), cancellation, tokens
// offered again, transient refusals, credentials (bearer metadata, TLS and
// mutual TLS with certificates made by openssl).
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_context.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "adapters/sdk/client_options.h"
#include "adapters/sdk/testing/scripted_engine.h"
#include "adapters/sdk/worker.h"
#include "nlohmann/json.hpp"
#include "onewindow/v1/adapters.grpc.pb.h"

namespace onewindow::adapter {
namespace {

namespace v1 = ::onewindow::v1;
using std::chrono::milliseconds;
using testing::EngineServer;
using testing::MakeTask;
using testing::ScriptedEngine;
using testing::Tok;
using testing::WaitFor;

WorkerOptions Options(const std::string& address) {
  WorkerOptions opts;
  opts.address = address;
  opts.department = "DSF";
  opts.worker = "test-worker";
  opts.concurrency = 64;
  opts.lease_ms = 5000;
  opts.initial_backoff = milliseconds(50);
  opts.max_backoff = milliseconds(400);
  opts.stop_grace = milliseconds(1000);
  return opts;
}

// Keeps what an asynchronous handler was given.
class Holder {
 public:
  void Take(std::shared_ptr<TaskContext> ctx, Responder r) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_[ctx->task().token()]++;
    held_.push_back({std::move(ctx), std::move(r)});
  }
  AsyncTaskHandler handler() {
    return [this](std::shared_ptr<TaskContext> c, Responder r) {
      Take(std::move(c), std::move(r));
    };
  }
  size_t size() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.size();
  }
  int calls(const std::string& token) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[token];
  }
  std::vector<std::pair<std::shared_ptr<TaskContext>, Responder>> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(held_);
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::shared_ptr<TaskContext>, Responder>> held_;
  std::map<std::string, int> calls_;
};

TEST(WorkerAsyncTest, HoldsManyTasksWithoutThreadsAndBatchesTheAnswers) {
  EngineServer server;
  ASSERT_TRUE(server.ok());
  server.engine().set_ack_mode(ScriptedEngine::AckMode::kGrouped);
  Holder holder;
  WorkerOptions opts = Options(server.address());
  opts.concurrency = 500;
  Worker worker(opts, holder.handler());
  ASSERT_TRUE(worker.Start());

  // 500 tasks in five batch frames; all held at once by one worker.
  for (int b = 0; b < 5; ++b) {
    v1::EngineMessage m;
    for (int i = 0; i < 100; ++i) {
      *m.mutable_tasks()->add_tasks() = MakeTask(Tok("t", b * 100 + i));
    }
    ASSERT_TRUE(server.engine().Push(m));
  }
  ASSERT_TRUE(WaitFor([&] { return holder.size() == 500; }));
  EXPECT_EQ(worker.stats().tasks_held, 500u);
  EXPECT_EQ(worker.stats().tasks_received, 500u);

  // Answered from another thread, all at once.
  std::atomic<int> accepted{0};
  std::thread answerer([&] {
    for (auto& [ctx, r] : holder.Take()) {
      const std::string token = ctx->task().token();
      EXPECT_TRUE(r.Complete(nlohmann::json{{"token", token}}.dump(),
                             [&](const AnswerOutcome& o) {
                               if (o.ok()) ++accepted;
                             }));
    }
  });
  answerer.join();
  ASSERT_TRUE(WaitFor([&] { return accepted.load() == 500; }));
  EXPECT_EQ(server.engine().answers().size(), 500u);
  const WorkerStats s = worker.stats();
  EXPECT_EQ(s.answers_acked, 500u);
  EXPECT_EQ(s.tasks_completed, 500u);
  EXPECT_EQ(s.tasks_held, 0u);
  // Answers queued while a frame was being written went out together.
  EXPECT_GT(s.batches_sent, 0u);
  EXPECT_LT(server.engine().frames(), 500);
  for (const auto& a : server.engine().answers()) {
    ASSERT_TRUE(a.has_complete());
    EXPECT_EQ(nlohmann::json::parse(a.complete().result_json())["token"],
              a.complete().token());
  }
  worker.Stop();
}

// Answers given inside the handler (on the stream's reader thread) are sent
// by that thread once the engine's frame is handled, while answers from
// other threads go by the writer thread: both at once, none lost or sent
// twice, and the inline ones of one engine frame leave together.
TEST(WorkerAsyncTest, InlineAndLaterAnswersAllArriveOnce) {
  EngineServer server;
  ASSERT_TRUE(server.ok());
  server.engine().set_ack_mode(ScriptedEngine::AckMode::kGrouped);
  Holder later;
  std::atomic<int> accepted{0};
  auto count = [&](const AnswerOutcome& o) {
    if (o.ok()) ++accepted;
  };
  WorkerOptions opts = Options(server.address());
  opts.concurrency = 1000;
  Worker worker(opts, [&](std::shared_ptr<TaskContext> ctx, Responder r) {
    const std::string token = ctx->task().token();
    if (token.back() % 2 == 0) {
      EXPECT_TRUE(r.Complete(nlohmann::json{{"token", token}}.dump(), count));
    } else {
      later.Take(std::move(ctx), std::move(r));
    }
  });
  ASSERT_TRUE(worker.Start());
  std::atomic<bool> pushing{true};
  std::thread answerer([&] {
    while (pushing || later.size() > 0) {
      for (auto& [ctx, r] : later.Take()) {
        const std::string token = ctx->task().token();
        EXPECT_TRUE(r.Complete(nlohmann::json{{"token", token}}.dump(), count));
      }
      std::this_thread::sleep_for(milliseconds(1));
    }
  });
  constexpr int kFrames = 20, kPerFrame = 50;
  for (int b = 0; b < kFrames; ++b) {
    v1::EngineMessage m;
    for (int i = 0; i < kPerFrame; ++i) {
      *m.mutable_tasks()->add_tasks() = MakeTask(Tok("t", b * kPerFrame + i));
    }
    ASSERT_TRUE(server.engine().Push(m));
  }
  ASSERT_TRUE(WaitFor([&] { return accepted.load() == kFrames * kPerFrame; }));
  pushing = false;
  answerer.join();
  std::set<std::string> tokens;
  for (const auto& a : server.engine().answers()) {
    ASSERT_TRUE(a.has_complete());
    EXPECT_EQ(nlohmann::json::parse(a.complete().result_json())["token"],
              a.complete().token());
    EXPECT_TRUE(tokens.insert(a.complete().token()).second)
        << a.complete().token() << " answered twice";
  }
  EXPECT_EQ(tokens.size(), static_cast<size_t>(kFrames * kPerFrame));
  const WorkerStats s = worker.stats();
  EXPECT_EQ(s.answers_acked, static_cast<uint64_t>(kFrames * kPerFrame));
  EXPECT_EQ(s.answers_resent, 0u);
  EXPECT_EQ(s.tasks_held, 0u);
  // 1,000 answers in far fewer frames.
  EXPECT_LT(server.engine().frames(), kFrames * kPerFrame / 4);
  worker.Stop();
}

TEST(WorkerAsyncTest, AnEngineWithoutBatchesGetsTheAnswersOneByOne) {
  EngineServer server;
  ASSERT_TRUE(server.ok());
  server.engine().set_ack_mode(ScriptedEngine::AckMode::kOldEngine);
  Holder holder;
  Worker worker(Options(server.address()), holder.handler());
  ASSERT_TRUE(worker.Start());
  v1::EngineMessage m;
  for (int i = 0; i < 40; ++i) {
    *m.mutable_tasks()->add_tasks() = MakeTask(Tok("t", i), 1);
  }
  ASSERT_TRUE(server.engine().Push(m));
  ASSERT_TRUE(WaitFor([&] { return holder.size() == 40; }));
  // Heartbeats of a refused batch frame go again, one by one: every task
  // gets its heartbeats.
  ASSERT_TRUE(WaitFor([&] {
    std::set<std::string> beaten;
    for (const auto& h : server.engine().heartbeats()) {
      beaten.insert(h.heartbeat().token());
    }
    return beaten.size() == 40;
  }));
  EXPECT_EQ(server.engine().batch_frames(), 1);
  for (auto& [ctx, r] : holder.Take()) r.Fail("Dept.Failure", "no");
  ASSERT_TRUE(WaitFor([&] { return worker.stats().answers_acked == 40; }));
  // Each task answered once individually (batched copies were refused).
  for (int i = 0; i < 40; ++i) {
    EXPECT_GE(server.engine().answers_for(Tok("t", i)), 1);
  }
  EXPECT_EQ(worker.stats().answers_rejected, 0u);
  EXPECT_TRUE(worker.stats().connected);
  worker.Stop();
}

TEST(WorkerAsyncTest, CancelledTaskIsFlaggedAndItsAnswerDropped) {
  EngineServer server;
  ASSERT_TRUE(server.ok());
  Holder holder;
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> cancels;
  Worker worker(Options(server.address()), holder.handler(),
                [&](const std::string& token, const std::string& reason) {
                  std::lock_guard<std::mutex> lock(mu);
                  cancels.emplace_back(token, reason);
                });
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(server.engine().PushTask(MakeTask("keep")));
  ASSERT_TRUE(server.engine().PushTask(MakeTask("gone")));
  ASSERT_TRUE(WaitFor([&] { return holder.size() == 2; }));
  ASSERT_TRUE(server.engine().PushCancel("gone", "case cancelled: withdrawn"));
  ASSERT_TRUE(WaitFor([&] { return worker.stats().tasks_cancelled == 1; }));
  // The count goes up just before the callback runs: wait for both.
  ASSERT_TRUE(WaitFor([&] {
    std::lock_guard<std::mutex> lock(mu);
    return !cancels.empty();
  }));
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(cancels.size(), 1u);
    EXPECT_EQ(cancels[0].first, "gone");
    EXPECT_EQ(cancels[0].second, "case cancelled: withdrawn");
  }
  for (auto& [ctx, r] : holder.Take()) {
    if (ctx->task().token() == "gone") {
      EXPECT_TRUE(ctx->cancelled());
      EXPECT_EQ(ctx->cancel_reason(), "case cancelled: withdrawn");
      AnswerOutcome got;
      EXPECT_FALSE(r.Complete("{}", [&](const AnswerOutcome& o) { got = o; }));
      EXPECT_EQ(got.code, 9);
      EXPECT_NE(got.message.find("withdrawn"), std::string::npos);
    } else {
      EXPECT_FALSE(ctx->cancelled());
      EXPECT_TRUE(r.Complete("{}"));
    }
  }
  ASSERT_TRUE(WaitFor([&] { return worker.stats().answers_acked == 1; }));
  EXPECT_EQ(server.engine().answers_for("keep"), 1);
  EXPECT_EQ(server.engine().answers_for("gone"), 0);
  // A cancel for a token the worker never held changes nothing.
  ASSERT_TRUE(server.engine().PushCancel("never", "case cancelled"));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(worker.stats().tasks_cancelled, 1u);
  worker.Stop();
}

TEST(WorkerAsyncTest, SynchronousHandlerSeesTheCancellation) {
  EngineServer server;
  ASSERT_TRUE(server.ok());
  std::atomic<bool> running{false};
  std::atomic<bool> saw_cancel{false};
  WorkerOptions opts = Options(server.address());
  opts.concurrency = 2;
  Worker worker(opts, [&](TaskContext& ctx) {
    running = true;
    const auto until = std::chrono::steady_clock::now() + milliseconds(5000);
    while (!ctx.cancelled() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    saw_cancel = ctx.cancelled();
    return TaskResult::Complete("{}");
  });
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(server.engine().PushTask(MakeTask("long")));
  ASSERT_TRUE(WaitFor([&] { return running.load(); }));
  ASSERT_TRUE(server.engine().PushCancel("long", "branch failed"));
  ASSERT_TRUE(WaitFor([&] { return saw_cancel.load(); }));
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(server.engine().answers_for("long"), 0);
  worker.Stop();
}

TEST(WorkerAsyncTest, TaskOfferedAgainWhileHeldRunsOnce) {
  auto server = std::make_unique<EngineServer>();
  ASSERT_TRUE(server->ok());
  const int port = server->port();
  Holder holder;
  Worker worker(Options(server->address()), holder.handler());
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(server->engine().PushTask(MakeTask("t1")));
  ASSERT_TRUE(WaitFor([&] { return holder.size() == 1; }));
  // Offered again on the same stream, then on a new stream after the
  // engine restarts (the engine keeps tokens across restarts).
  ASSERT_TRUE(server->engine().PushTask(MakeTask("t1")));
  ASSERT_TRUE(WaitFor([&] { return worker.stats().tasks_reoffered == 1; }));
  server->Kill();
  ASSERT_TRUE(WaitFor([&] { return !worker.stats().connected; }));
  server = std::make_unique<EngineServer>(
      port, [](ScriptedEngine& e) { e.PushOnSubscribe({MakeTask("t1")}); });
  ASSERT_TRUE(server->ok());
  ASSERT_TRUE(WaitFor([&] { return worker.stats().tasks_reoffered == 2; }));
  EXPECT_EQ(holder.calls("t1"), 1);

  // Answered while the engine does not acknowledge; the engine restarts,
  // offers the task again, and gets the answer again: the handler is not
  // called a second time, and the outcome says the answer was resent.
  server->engine().set_ack_mode(ScriptedEngine::AckMode::kNone);
  std::promise<AnswerOutcome> outcome;
  auto held = holder.Take();
  ASSERT_EQ(held.size(), 1u);
  held[0].second.Complete(
      R"({"ok": true})", [&](const AnswerOutcome& o) { outcome.set_value(o); });
  ASSERT_TRUE(WaitFor([&] { return server->engine().answers_for("t1") == 1; }));
  server->Kill();
  ASSERT_TRUE(WaitFor([&] { return !worker.stats().connected; }));
  server = std::make_unique<EngineServer>(port, [](ScriptedEngine& e) {
    e.RefuseNext("t1", 1, grpc::StatusCode::FAILED_PRECONDITION);
    e.PushOnSubscribe({MakeTask("t1")});
  });
  ASSERT_TRUE(server->ok());
  auto f = outcome.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const AnswerOutcome o = f.get();
  EXPECT_EQ(o.code, 9);
  EXPECT_TRUE(o.resent);
  EXPECT_EQ(holder.calls("t1"), 1);
  EXPECT_EQ(worker.stats().tasks_reoffered, 3u);
  EXPECT_EQ(server->engine().answers_for("t1"), 1);
  worker.Stop();
}

TEST(WorkerAsyncTest, TransientRefusalIsSentAgain) {
  EngineServer server;
  ASSERT_TRUE(server.ok());
  server.engine().RefuseNext("t1", 2, grpc::StatusCode::UNAVAILABLE);
  Holder holder;
  Worker worker(Options(server.address()), holder.handler());
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(server.engine().PushTask(MakeTask("t1")));
  ASSERT_TRUE(WaitFor([&] { return holder.size() == 1; }));
  std::promise<AnswerOutcome> outcome;
  holder.Take()[0].second.Complete(
      "{}", [&](const AnswerOutcome& o) { outcome.set_value(o); });
  auto f = outcome.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(server.engine().answers_for("t1"), 3);
  worker.Stop();
}

TEST(WorkerAsyncTest, RefusedResultBecomesAFailure) {
  EngineServer server;
  ASSERT_TRUE(server.ok());
  server.engine().RefuseNext("t1", 1, grpc::StatusCode::RESOURCE_EXHAUSTED);
  Holder holder;
  Worker worker(Options(server.address()), holder.handler());
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(server.engine().PushTask(MakeTask("t1")));
  ASSERT_TRUE(WaitFor([&] { return holder.size() == 1; }));
  AnswerOutcome got;
  std::atomic<bool> called{false};
  holder.Take()[0].second.Complete("[1,2,3]", [&](const AnswerOutcome& o) {
    got = o;
    called = true;
  });
  ASSERT_TRUE(WaitFor([&] { return server.engine().answers_for("t1") == 2; }));
  ASSERT_TRUE(called.load());
  EXPECT_EQ(got.code, 8);
  const auto answers = server.engine().answers();
  ASSERT_TRUE(answers.back().has_fail());
  EXPECT_EQ(answers.back().fail().error(), kInvalidResultError);
  EXPECT_NE(answers.back().fail().cause().find("refused by the test"),
            std::string::npos);
  worker.Stop();
}

TEST(WorkerAsyncTest, DroppedResponderFailsTheTaskAndThrowingHandlerToo) {
  EngineServer server;
  ASSERT_TRUE(server.ok());
  Worker worker(Options(server.address()),
                [](std::shared_ptr<TaskContext> ctx, Responder r) {
                  if (ctx->task().token() == "throw") {
                    throw std::runtime_error("boom");
                  }
                  // "drop": neither answered nor kept.
                });
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(server.engine().PushTask(MakeTask("drop")));
  ASSERT_TRUE(server.engine().PushTask(MakeTask("throw")));
  ASSERT_TRUE(WaitFor([&] { return server.engine().answers().size() == 2; }));
  for (const auto& a : server.engine().answers()) {
    ASSERT_TRUE(a.has_fail());
    if (a.fail().token() == "drop") {
      EXPECT_EQ(a.fail().error(), kAbandonedError);
    } else {
      EXPECT_EQ(a.fail().error(), kHandlerExceptionError);
      EXPECT_NE(a.fail().cause().find("boom"), std::string::npos);
    }
  }
  worker.Stop();
}

TEST(WorkerAsyncTest, HeldTasksAreHeartbeatedAndAnswersAfterStopRefused) {
  EngineServer server;
  ASSERT_TRUE(server.ok());
  Holder holder;
  Worker worker(Options(server.address()), holder.handler());
  ASSERT_TRUE(worker.Start());
  v1::EngineMessage m;
  for (int i = 0; i < 20; ++i) {
    *m.mutable_tasks()->add_tasks() = MakeTask(Tok("h", i), 1);
  }
  ASSERT_TRUE(server.engine().Push(m));
  ASSERT_TRUE(WaitFor([&] { return holder.size() == 20; }));
  // Every held task is heartbeated every third of a second, together in
  // frames.
  ASSERT_TRUE(WaitFor([&] {
    std::set<std::string> beaten;
    for (const auto& h : server.engine().heartbeats()) {
      beaten.insert(h.heartbeat().token());
    }
    return beaten.size() == 20 && server.engine().heartbeats().size() >= 40;
  }));
  EXPECT_GT(server.engine().batch_frames(), 0);
  auto held = holder.Take();
  worker.Stop();
  AnswerOutcome got;
  EXPECT_FALSE(
      held[0].second.Complete("{}", [&](const AnswerOutcome& o) { got = o; }));
  EXPECT_EQ(got.code, 14);
  EXPECT_FALSE(held[0].first->Heartbeat());
  EXPECT_TRUE(held[0].first->stopping());
}

TEST(WorkerAsyncTest, AnswersUnacknowledgedAtStopGoByUnaryCallsWithToken) {
  EngineServer server;
  ASSERT_TRUE(server.ok());
  server.engine().set_ack_mode(ScriptedEngine::AckMode::kNone);
  Holder holder;
  WorkerOptions opts = Options(server.address());
  opts.bearer_token = "s3cr3t-token";
  opts.stop_grace = milliseconds(300);
  Worker worker(opts, holder.handler());
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(server.engine().PushTask(MakeTask("t1")));
  ASSERT_TRUE(WaitFor([&] { return holder.size() == 1; }));
  std::promise<AnswerOutcome> outcome;
  holder.Take()[0].second.Complete(
      "{}", [&](const AnswerOutcome& o) { outcome.set_value(o); });
  ASSERT_TRUE(WaitFor([&] { return server.engine().answers().size() == 1; }));
  worker.Stop();
  ASSERT_EQ(server.engine().unary().size(), 1u);
  auto f = outcome.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(1)), std::future_status::ready);
  EXPECT_TRUE(f.get().ok());
  // The stream and the unary call both carried the bearer token.
  const auto auth = server.engine().authorizations();
  ASSERT_EQ(auth.size(), 2u);
  EXPECT_EQ(auth[0], "Bearer s3cr3t-token");
  EXPECT_EQ(auth[1], "Bearer s3cr3t-token");
}

// ---- Credentials ----

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("ow-sdk-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path Write(const std::string& name,
                              const std::string& text) {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return path_ / name;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(ClientOptionsTest, TokenFromFileOrEnvironment) {
  TempDir dir;
  CredentialFlags flags;
  flags.token_file = dir.Write("tok", "abc.DEF-123\n").string();
  auto c = LoadClientCredentials(flags, "from-env");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->bearer_token, "abc.DEF-123");
  EXPECT_FALSE(c->tls.enabled);

  flags.token_file = dir.Write("crlf", "tok\r\n").string();
  c = LoadClientCredentials(flags, nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->bearer_token, "tok");

  flags.token_file.clear();
  c = LoadClientCredentials(flags, "from-env");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->bearer_token, "from-env");
  c = LoadClientCredentials(flags, "");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->bearer_token, "");
}

TEST(ClientOptionsTest, BadTokenFilesAreRefusedWithoutShowingTheToken) {
  TempDir dir;
  CredentialFlags flags;
  flags.token_file = (dir.path() / "missing").string();
  auto c = LoadClientCredentials(flags, nullptr);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("--token-file"), std::string::npos);

  flags.token_file = dir.Write("empty", "").string();
  c = LoadClientCredentials(flags, nullptr);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("empty"), std::string::npos);

  flags.token_file = dir.Write("newline-only", "\n").string();
  c = LoadClientCredentials(flags, nullptr);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);

  flags.token_file =
      dir.Write("two-words", "secretpart1 secretpart2\n").string();
  c = LoadClientCredentials(flags, nullptr);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message().find("secretpart"), std::string::npos);

  flags.token_file = dir.path().string();
  c = LoadClientCredentials(flags, nullptr);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);

  flags.token_file.clear();
  c = LoadClientCredentials(flags, "bad\ttoken");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("ONEWINDOW_TOKEN"), std::string::npos);
}

TEST(ClientOptionsTest, TlsFlags) {
  TempDir dir;
  CredentialFlags flags;
  EXPECT_TRUE(TakeCredentialFlag("--tls-cert", "c.pem", &flags));
  EXPECT_FALSE(TakeCredentialFlag("--addr", "x", &flags));
  auto c = LoadClientCredentials(flags, nullptr);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("--tls-key"), std::string::npos);

  flags = {};
  flags.tls_ca = (dir.path() / "nope.pem").string();
  c = LoadClientCredentials(flags, nullptr);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("--tls-ca"), std::string::npos);

  flags.tls_ca = dir.Write("ca.pem", "-----BEGIN CERTIFICATE-----\n").string();
  c = LoadClientCredentials(flags, nullptr);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tls.enabled);
  WorkerOptions opts;
  ApplyTo(*c, &opts);
  EXPECT_TRUE(opts.tls.enabled);
  EXPECT_EQ(opts.tls.ca_file, flags.tls_ca);
}

// Makes a CA, a server certificate for localhost/127.0.0.1 and a client
// certificate with CN "dept-dsf", with the openssl command.
bool MakeCertificates(const std::filesystem::path& d) {
  const std::string q = "'" + d.string() + "'";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 ";
  const std::string cmd =
      "cd " + q + " && " + "openssl req -x509 -nodes" + ec +
      "-keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca && "
      "openssl req -nodes" +
      ec +
      "-keyout server.key -out server.csr -subj /CN=localhost && "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
      "-CAcreateserial -out server.crt -days 2 -extfile san.ext && "
      "openssl req -nodes" +
      ec +
      "-keyout client.key -out client.csr -subj /CN=dept-dsf && "
      "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key "
      "-CAcreateserial -out client.crt -days 2 && "
      "openssl req -x509 -nodes" +
      ec +
      "-keyout other.key -out other.crt -days 2 -subj /CN=other-ca"
      " > openssl.log 2>&1";
  return std::system(cmd.c_str()) == 0;
}

TEST(WorkerTlsTest, MutualTlsAndBearerTokenReachTheEngine) {
  TempDir dir;
  ASSERT_TRUE(MakeCertificates(dir.path()))
      << Slurp(dir.path() / "openssl.log");
  grpc::SslServerCredentialsOptions sopts(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  sopts.pem_root_certs = Slurp(dir.path() / "ca.crt");
  sopts.pem_key_cert_pairs.push_back(
      {Slurp(dir.path() / "server.key"), Slurp(dir.path() / "server.crt")});
  EngineServer server(0, {}, grpc::SslServerCredentials(sopts));
  ASSERT_TRUE(server.ok());

  CredentialFlags flags;
  flags.tls_ca = (dir.path() / "ca.crt").string();
  flags.tls_cert = (dir.path() / "client.crt").string();
  flags.tls_key = (dir.path() / "client.key").string();
  flags.token_file = dir.Write("token", "tls-token\n").string();
  auto creds = LoadClientCredentials(flags, nullptr);
  ASSERT_TRUE(creds.ok()) << creds.status();

  WorkerOptions opts = Options("localhost:" + std::to_string(server.port()));
  ApplyTo(*creds, &opts);
  Holder holder;
  Worker worker(opts, holder.handler());
  ASSERT_TRUE(worker.Start());
  ASSERT_TRUE(server.engine().PushTask(MakeTask("t1")));
  ASSERT_TRUE(WaitFor([&] { return holder.size() == 1; }));
  holder.Take()[0].second.Complete("{}");
  ASSERT_TRUE(WaitFor([&] { return worker.stats().answers_acked == 1; }));
  ASSERT_EQ(server.engine().peer_names().size(), 1u);
  EXPECT_EQ(server.engine().peer_names()[0], "dept-dsf");
  EXPECT_EQ(server.engine().authorizations()[0], "Bearer tls-token");
  worker.Stop();

  // A worker that trusts another CA never gets a stream.
  flags.tls_ca = (dir.path() / "other.crt").string();
  creds = LoadClientCredentials(flags, nullptr);
  ASSERT_TRUE(creds.ok()) << creds.status();
  WorkerOptions bad = opts;
  ApplyTo(*creds, &bad);
  Worker stranger(bad, holder.handler());
  ASSERT_TRUE(stranger.Start());
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_FALSE(stranger.stats().connected);
  EXPECT_EQ(server.engine().subscribes(), 1);
  stranger.Stop();
}

}  // namespace
}  // namespace onewindow::adapter
