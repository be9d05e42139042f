// ow-test-department: a department's HTTP service for the bridge's tests,
// scripted by each task's input. Listens on 127.0.0.1 only.
//
//   ow-test-department --listen 127.0.0.1:PORT [--secret S]
//
// POST /check (any path): the bridge's request. With --secret, a request
// without "Authorization: Bearer S" gets 401. The answer depends on
// input.mode (n = input.n is echoed in results):
//   sync        200 {"approved": true, "n": n, "mode": "sync"}
//   async       202, then after input.delay_ms POSTs callback_url/complete
//               {"approved": true, "n": n, "via": "callback"}
//   async-fail  202, then POSTs callback_url/fail
//               {"error": "Dept.Rejected", "cause": "premises too small"}
//   hold        202 and never calls back (the test does)
//   reject      422 {"reason": "missing document"}
//   flaky       503 for the first input.failures requests of the case, then
//               as sync
//   slow        the first input.failures requests of the case sleep
//               input.sleep_ms first, then as sync
//   sleep       sleeps input.sleep_ms, then as sync
//   nonjson     200 "this is not JSON"
//   huge        200 with a 300 KiB JSON string
// A repeated request for a token whose callback is still due answers 202
// again and keeps one callback (to the latest callback_url). Callbacks are
// retried every 200 ms for 30 s on no answer, 404 or 5xx.
//
// GET /stats: {"posts": {token: n}, "cases": {case_id: n},
//              "callbacks": {token: final HTTP status}, "tokens": [..]}
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/listen.h"
#include "nlohmann/json.hpp"

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Callback {
  Clock::time_point due;
  Clock::time_point give_up;
  std::string token;
  bool operator>(const Callback& o) const { return due > o.due; }
};

class Department {
 public:
  explicit Department(std::string secret) : secret_(std::move(secret)) {}

  void Serve(httplib::Server* server) {
    server->Post(".*", [this](const httplib::Request& req,
                              httplib::Response& res) { OnPost(req, res); });
    server->Get("/stats",
                [this](const httplib::Request&, httplib::Response& res) {
                  std::lock_guard<std::mutex> lock(mu_);
                  json s = {{"posts", posts_},
                            {"cases", cases_},
                            {"callbacks", callback_status_},
                            {"tokens", tokens_}};
                  res.set_content(s.dump(), "application/json");
                });
  }

  void RunCallbacks() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      if (due_.empty()) {
        cv_.wait(lock);
        continue;
      }
      // A copy: wait_until reads its deadline again after waking, and a
      // push meanwhile may have moved the queue's storage.
      const Clock::time_point next = due_.top().due;
      if (Clock::now() < next) {
        cv_.wait_until(lock, next);
        continue;
      }
      Callback cb = due_.top();
      due_.pop();
      auto it = pending_.find(cb.token);
      if (it == pending_.end()) continue;
      const std::string url = it->second.url;
      const json body = it->second.body;
      const std::string what = it->second.what;
      lock.unlock();
      const int status = Send(url, what, body);
      lock.lock();
      std::printf("callback %s %s -> %d\n", what.c_str(), cb.token.c_str(),
                  status);
      std::fflush(stdout);
      if ((status == 0 || status == 404 || status >= 500) &&
          Clock::now() < cb.give_up) {
        cb.due = Clock::now() + milliseconds(200);
        due_.push(cb);
        continue;
      }
      callback_status_[cb.token] = status;
      pending_.erase(cb.token);
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
  }

 private:
  struct Pending {
    std::string url;
    std::string what;  // "complete" or "fail"
    json body;
  };

  static int Send(const std::string& url, const std::string& what,
                  const json& body) {
    const size_t scheme = url.find("://");
    const size_t path =
        url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    if (scheme == std::string::npos || path == std::string::npos) return 0;
    httplib::Client cli(url.substr(0, path));
    cli.set_connection_timeout(std::chrono::seconds(2));
    cli.set_read_timeout(std::chrono::seconds(15));
    auto res = cli.Post(url.substr(path) + "/" + what, body.dump(),
                        "application/json");
    return res ? res->status : 0;
  }

  void OnPost(const httplib::Request& req, httplib::Response& res) {
    if (!secret_.empty() &&
        req.get_header_value("Authorization") != "Bearer " + secret_) {
      res.status = 401;
      res.set_content(R"({"reason": "bad credentials"})", "application/json");
      return;
    }
    const json body = json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body["input"].is_object()) {
      res.status = 400;
      res.set_content(R"({"reason": "not a task"})", "application/json");
      return;
    }
    const json& input = body["input"];
    const std::string token = body.value("task_token", "");
    const std::string case_id = body.value("case_id", "");
    const std::string mode = input.value("mode", "sync");
    const json n = input.contains("n") ? input["n"] : json(nullptr);
    int seen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++posts_[token];
      seen = ++cases_[case_id];
      tokens_.push_back(token);
    }
    std::printf("POST %s case %s mode %s (request %d of the case)\n",
                token.c_str(), case_id.c_str(), mode.c_str(), seen);
    std::fflush(stdout);
    const int failures = input.value("failures", 0);
    const int sleep_ms = input.value("sleep_ms", 0);
    const json ok = {{"approved", true}, {"n", n}, {"mode", mode}};

    if (mode == "async" || mode == "async-fail" || mode == "hold") {
      res.status = 202;
      res.set_content(R"({"queued": true})", "application/json");
      if (mode == "hold") return;
      Pending p;
      p.url = body.value("callback_url", "");
      if (mode == "async") {
        p.what = "complete";
        p.body = {{"approved", true}, {"n", n}, {"via", "callback"}};
      } else {
        p.what = "fail";
        p.body = {{"error", "Dept.Rejected"}, {"cause", "premises too small"}};
      }
      std::lock_guard<std::mutex> lock(mu_);
      const bool scheduled = pending_.count(token) != 0;
      pending_[token] = p;
      if (!scheduled) {
        const auto due =
            Clock::now() + milliseconds(input.value("delay_ms", 0));
        due_.push(Callback{due, due + std::chrono::seconds(30), token});
        cv_.notify_all();
      }
      return;
    }
    if (mode == "reject") {
      res.status = 422;
      res.set_content(R"({"reason": "missing document"})", "application/json");
      return;
    }
    if (mode == "flaky" && seen <= failures) {
      res.status = 503;
      res.set_content("busy, try later", "text/plain");
      return;
    }
    if ((mode == "slow" && seen <= failures) || mode == "sleep") {
      std::this_thread::sleep_for(milliseconds(sleep_ms));
    }
    if (mode == "nonjson") {
      res.status = 200;
      res.set_content("this is not JSON", "text/plain");
      return;
    }
    if (mode == "huge") {
      res.status = 200;
      res.set_content("\"" + std::string(300 * 1024, 'x') + "\"",
                      "application/json");
      return;
    }
    res.status = 200;
    res.set_content(ok.dump(), "application/json");
  }

  const std::string secret_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, int> posts_;
  std::map<std::string, int> cases_;
  std::vector<std::string> tokens_;
  std::map<std::string, int> callback_status_;
  std::map<std::string, Pending> pending_;
  std::priority_queue<Callback, std::vector<Callback>, std::greater<Callback>>
      due_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  std::string secret;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--listen") {
      listen = argv[i + 1];
    } else if (flag == "--secret") {
      secret = argv[i + 1];
    } else {
      std::fprintf(stderr, "ow-test-department: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::fprintf(stderr, "ow-test-department: --listen HOST:PORT\n");
    return 2;
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  Department dept(secret);
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(32); };
  server.set_keep_alive_max_count(100000);
  server.set_tcp_nodelay(true);
  dept.Serve(&server);
  const int port = onewindow::http_bridge::BindServer(
      &server, listen.substr(0, colon), std::stoi(listen.substr(colon + 1)));
  if (port < 0) {
    std::fprintf(stderr, "ow-test-department: cannot listen on %s\n",
                 listen.c_str());
    return 1;
  }
  std::printf("listening on port %d\n", port);
  std::fflush(stdout);
  std::thread callbacks([&] { dept.RunCallbacks(); });
  std::thread serving([&] { server.listen_after_bind(); });
  onewindow::http_bridge::WaitUntilListening(&server);
  int sig = 0;
  sigwait(&sigs, &sig);
  server.stop();
  serving.join();
  dept.Stop();
  callbacks.join();
  return 0;
}
