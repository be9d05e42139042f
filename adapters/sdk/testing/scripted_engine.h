// A scriptable AdapterService for tests of department workers: on
// 127.0.0.1, real gRPC. It pushes what the test asks (tasks, task batches,
// cancellations), records every worker message (batch frames unpacked) and
// the callers' metadata, and acknowledges as configured (one Ack per
// message, grouped Acks, none, or as an engine that refuses batch frames).
// Test-only; header-only.
#ifndef ONEWINDOW_ADAPTERS_SDK_TESTING_SCRIPTED_ENGINE_H_
#define ONEWINDOW_ADAPTERS_SDK_TESTING_SCRIPTED_ENGINE_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_context.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "onewindow/v1/adapters.grpc.pb.h"

namespace onewindow::adapter::testing {

namespace v1 = ::onewindow::v1;
using Rw = grpc::ServerReaderWriter<v1::EngineMessage, v1::WorkerMessage>;
using std::chrono::milliseconds;

// Polls `pred` every 5 ms until true or `timeout`.
inline bool WaitFor(const std::function<bool()>& pred,
                    milliseconds timeout = milliseconds(10000)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return pred();
}

// "<prefix><i>" (operator+ on a literal trips a GCC 12 -Wrestrict false
// positive).
inline std::string Tok(const char* prefix, int i) {
  std::string s = prefix;
  s += std::to_string(i);
  return s;
}

inline v1::Task MakeTask(const std::string& token, int heartbeat_seconds = 0) {
  v1::Task t;
  t.set_token(token);
  t.set_case_id("OW-2026-000001-5");
  t.set_task_id(token + "-id");
  t.set_department("DSF");
  t.set_task_type("check");
  t.set_state("Check");
  t.set_input_json(R"({"n": 1})");
  t.set_attempt(1);
  t.set_heartbeat_seconds(heartbeat_seconds);
  return t;
}

// An engine the test drives: it pushes what the test asks, records every
// worker message (batch frames unpacked) and acknowledges as configured.
class ScriptedEngine final : public v1::AdapterService::Service {
 public:
  enum class AckMode {
    kEach,       // one Ack frame per message
    kGrouped,    // one Acks frame per incoming frame
    kNone,       // acknowledge nothing
    kOldEngine,  // an engine without batches: refuses a batch frame whole
  };

  void set_ack_mode(AckMode m) {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = m;
  }
  // The next `n` answers for `token` get `code` instead of OK.
  void RefuseNext(const std::string& token, int n, grpc::StatusCode code) {
    std::lock_guard<std::mutex> lock(mu_);
    refuse_[token] = {n, code};
  }

  // Feeds `total` tasks named "f<i>" with `input_json`: as many as the
  // subscription's max_in_flight at once, then one more per answer taken
  // (a steady load for throughput measurements).
  void Feed(int total, std::string input_json) {
    std::lock_guard<std::mutex> lock(mu_);
    feed_total_ = total;
    feed_input_ = std::move(input_json);
  }
  // Answers taken so far (complete or fail, on streams).
  int answered() {
    std::lock_guard<std::mutex> lock(mu_);
    return answered_;
  }
  // Keep copies of answers and heartbeats (on by default).
  void set_record(bool on) {
    std::lock_guard<std::mutex> lock(mu_);
    record_ = on;
  }

  // Tasks written as soon as the next stream subscribes, before any other
  // message of the worker is read (as the engine does on attach).
  void PushOnSubscribe(std::vector<v1::Task> tasks) {
    std::lock_guard<std::mutex> lock(mu_);
    on_subscribe_ = std::move(tasks);
  }

  grpc::Status TaskStream(grpc::ServerContext* ctx, Rw* stream) override {
    v1::WorkerMessage msg;
    if (!stream->Read(&msg) || !msg.has_subscribe()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no subscribe");
    }
    std::vector<v1::Task> push;
    {
      std::lock_guard<std::mutex> lock(mu_);
      subscribes_.push_back(msg.subscribe());
      RecordPeer(ctx);
      push.swap(on_subscribe_);
      const int credit = std::max(1, msg.subscribe().max_in_flight());
      while (fed_ < feed_total_ && static_cast<int>(push.size()) < credit) {
        push.push_back(NextFeedLocked());
      }
      std::lock_guard<std::mutex> wlock(write_mu_);
      for (const auto& t : push) {
        v1::EngineMessage m;
        *m.mutable_task() = t;
        stream->Write(m);
      }
      stream_ = stream;
    }
    cv_.notify_all();
    while (stream->Read(&msg)) {
      std::vector<v1::Ack> acks;
      std::vector<v1::Task> feed;
      {
        std::lock_guard<std::mutex> lock(mu_);
        const int before = answered_;
        ++frames_;
        if (msg.has_batch()) {
          ++batch_frames_;
          if (mode_ == AckMode::kOldEngine) {
            v1::Ack a;
            a.set_ref(msg.ref());
            a.set_code(static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
            a.set_message("message: empty worker message");
            acks.push_back(a);
          } else {
            for (const auto& m : msg.batch().messages()) Take(m, &acks);
          }
        } else {
          Take(msg, &acks);
        }
        for (int i = before; i < answered_ && fed_ < feed_total_; ++i) {
          feed.push_back(NextFeedLocked());
        }
      }
      if (!SendAcks(acks)) break;
      if (!feed.empty()) {
        v1::EngineMessage m;
        for (auto& t : feed) *m.mutable_tasks()->add_tasks() = std::move(t);
        std::lock_guard<std::mutex> wlock(write_mu_);
        if (!stream->Write(m)) break;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      stream_ = nullptr;
    }
    cv_.notify_all();
    return grpc::Status::OK;
  }

  grpc::Status CompleteTask(grpc::ServerContext* ctx,
                            const v1::CompleteTaskRequest* req,
                            v1::CompleteTaskResponse*) override {
    std::lock_guard<std::mutex> lock(mu_);
    RecordPeer(ctx);
    v1::WorkerMessage m;
    *m.mutable_complete() = *req;
    unary_.push_back(m);
    return grpc::Status::OK;
  }

  // Pushes to the subscribed stream; false when there is none.
  bool Push(const v1::EngineMessage& m) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::seconds(10),
                      [this] { return stream_ != nullptr; })) {
      return false;
    }
    std::lock_guard<std::mutex> wlock(write_mu_);
    return stream_->Write(m);
  }
  bool PushTask(const v1::Task& t) {
    v1::EngineMessage m;
    *m.mutable_task() = t;
    return Push(m);
  }
  bool PushCancel(const std::string& token, const std::string& reason) {
    v1::EngineMessage m;
    m.mutable_cancelled()->set_token(token);
    m.mutable_cancelled()->set_case_id("OW-2026-000001-5");
    m.mutable_cancelled()->set_reason(reason);
    return Push(m);
  }

  // Answers (complete/fail) received on streams, in order.
  std::vector<v1::WorkerMessage> answers() {
    std::lock_guard<std::mutex> lock(mu_);
    return answers_;
  }
  std::vector<v1::WorkerMessage> heartbeats() {
    std::lock_guard<std::mutex> lock(mu_);
    return heartbeats_;
  }
  std::vector<v1::WorkerMessage> unary() {
    std::lock_guard<std::mutex> lock(mu_);
    return unary_;
  }
  int answers_for(const std::string& token) {
    std::lock_guard<std::mutex> lock(mu_);
    int n = 0;
    for (const auto& a : answers_) {
      const auto& t =
          a.has_complete() ? a.complete().token() : a.fail().token();
      if (t == token) ++n;
    }
    return n;
  }
  int frames() {
    std::lock_guard<std::mutex> lock(mu_);
    return frames_;
  }
  int batch_frames() {
    std::lock_guard<std::mutex> lock(mu_);
    return batch_frames_;
  }
  int subscribes() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(subscribes_.size());
  }
  std::vector<std::string> authorizations() {
    std::lock_guard<std::mutex> lock(mu_);
    return authorizations_;
  }
  std::vector<std::string> peer_names() {
    std::lock_guard<std::mutex> lock(mu_);
    return peer_names_;
  }
  bool connected() {
    std::lock_guard<std::mutex> lock(mu_);
    return stream_ != nullptr;
  }

 private:
  // REQUIRES: mu_ held.
  void RecordPeer(grpc::ServerContext* ctx) {
    const auto& md = ctx->client_metadata();
    auto it = md.find("authorization");
    authorizations_.push_back(
        it == md.end() ? ""
                       : std::string(it->second.data(), it->second.size()));
    auto auth = ctx->auth_context();
    if (auth) {
      for (const auto& v : auth->FindPropertyValues("x509_common_name")) {
        peer_names_.emplace_back(v.data(), v.size());
      }
    }
  }

  // REQUIRES: mu_ held.
  v1::Task NextFeedLocked() {
    v1::Task t = MakeTask(Tok("f", fed_++));
    t.set_input_json(feed_input_);
    return t;
  }

  // REQUIRES: mu_ held. Records one message and its Ack (when wanted).
  void Take(const v1::WorkerMessage& m, std::vector<v1::Ack>* acks) {
    std::string token;
    if (m.has_complete() || m.has_fail()) {
      ++answered_;
      if (record_) answers_.push_back(m);
      token = m.has_complete() ? m.complete().token() : m.fail().token();
    } else if (m.has_heartbeat()) {
      if (record_) heartbeats_.push_back(m);
    }
    if (m.ref() == 0 || mode_ == AckMode::kNone) return;
    v1::Ack a;
    a.set_ref(m.ref());
    auto r = refuse_.find(token);
    if (!token.empty() && r != refuse_.end() && r->second.first > 0) {
      --r->second.first;
      a.set_code(static_cast<int>(r->second.second));
      a.set_message("refused by the test");
    }
    acks->push_back(a);
  }

  bool SendAcks(const std::vector<v1::Ack>& acks) {
    if (acks.empty()) return true;
    AckMode mode;
    Rw* s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      mode = mode_;
      s = stream_;
    }
    if (s == nullptr) return false;
    std::lock_guard<std::mutex> wlock(write_mu_);
    if (mode == AckMode::kGrouped) {
      v1::EngineMessage out;
      for (const auto& a : acks) *out.mutable_acks()->add_acks() = a;
      return s->Write(out);
    }
    for (const auto& a : acks) {
      v1::EngineMessage out;
      *out.mutable_ack() = a;
      if (!s->Write(out)) return false;
    }
    return true;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::mutex write_mu_;  // one writer at a time on the stream
  AckMode mode_ = AckMode::kEach;
  Rw* stream_ = nullptr;
  std::map<std::string, std::pair<int, grpc::StatusCode>> refuse_;
  std::vector<v1::Task> on_subscribe_;
  std::vector<v1::Subscribe> subscribes_;
  std::vector<v1::WorkerMessage> answers_;
  std::vector<v1::WorkerMessage> heartbeats_;
  std::vector<v1::WorkerMessage> unary_;
  std::vector<std::string> authorizations_;
  std::vector<std::string> peer_names_;
  int frames_ = 0;
  int batch_frames_ = 0;
  int answered_ = 0;
  bool record_ = true;
  int feed_total_ = 0;
  int fed_ = 0;
  std::string feed_input_;
};

// A ScriptedEngine serving on 127.0.0.1 (port 0: a free port).
class EngineServer {
 public:
  // `setup` prepares the engine before it accepts calls.
  explicit EngineServer(int port = 0,
                        const std::function<void(ScriptedEngine&)>& setup = {},
                        std::shared_ptr<grpc::ServerCredentials> creds =
                            grpc::InsecureServerCredentials(),
                        const std::string& host = "127.0.0.1") {
    if (setup) setup(engine_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(host + ":" + std::to_string(port), creds, &port_);
    builder.RegisterService(&engine_);
    server_ = builder.BuildAndStart();
  }
  ~EngineServer() { Kill(); }
  bool ok() const { return server_ != nullptr && port_ > 0; }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  ScriptedEngine& engine() { return engine_; }
  void Kill() {
    if (!server_) return;
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    server_.reset();
  }

 private:
  ScriptedEngine engine_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace onewindow::adapter::testing

#endif  // ONEWINDOW_ADAPTERS_SDK_TESTING_SCRIPTED_ENGINE_H_
