// ow-engine-bench: the engine's own cost per case, without the network.
//
// Opens an engine on a fresh RocksDB store (synced commits, as in
// production), deploys one workflow with its service manifest, and runs
// cases through it in a closed loop: `--concurrency` cases in flight, each
// task answered as soon as the dispatcher offers it, by in-process workers.
// Prints cases/s and the process's CPU per case (user + system, from
// getrusage), which here is the shards, the dispatcher, the store and its
// background threads: the part of onewindowd's cost that gRPC does not
// add. Measured over `--cases` after a `--warmup`.
//
//   ow-engine-bench --workflows workflows --service food-licence --cases 20000

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "scheduler/engine.h"
#include "scheduler/manifest_rules.h"
#include "scheduler/watch.h"
#include "spdlog/spdlog.h"

namespace {

namespace fs = std::filesystem;
using onewindow::scheduler::Actor;
using onewindow::scheduler::Engine;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

// Tokens the dispatcher offered, answered by a few worker threads.
class Answers {
 public:
  void Add(std::vector<onewindow::v1::Task> tasks) {
    {
      std::lock_guard<std::mutex> l(mu_);
      for (auto& t : tasks) {
        queue_.push_back({t.token(), t.department()});
      }
    }
    cv_.notify_one();
  }

  // Blocks for the next token; false once stopped.
  bool Next(std::string* token, std::string* dept) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return false;
    *token = std::move(queue_.front().first);
    *dept = std::move(queue_.front().second);
    queue_.pop_front();
    return true;
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;
  bool stop_ = false;
};

// One department's worker stream.
class Session : public onewindow::scheduler::WorkerSession {
 public:
  explicit Session(Answers* answers) : answers_(answers) {}
  void Push(std::vector<onewindow::v1::Task> tasks) override {
    answers_->Add(std::move(tasks));
  }
  void Cancelled(const onewindow::v1::TaskCancelled&) override {}

 private:
  Answers* answers_;
};

// Counts cases that reached an end, and lets the submitter refill.
class Ends : public onewindow::scheduler::WatchSink {
 public:
  void OnChange(const onewindow::v1::CaseChange& c) override {
    if (c.status() == onewindow::v1::CASE_STATUS_RUNNING) return;
    {
      std::lock_guard<std::mutex> l(mu_);
      ++ended_;
      if (c.status() != onewindow::v1::CASE_STATUS_SUCCEEDED) ++failed_;
    }
    cv_.notify_all();
  }
  // Waits until fewer than `in_flight` of `submitted` cases are running.
  void WaitBelow(int64_t submitted, int in_flight) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return submitted - ended_ < in_flight; });
  }
  // A submit the engine refused: no change will come for it.
  void Refused() {
    {
      std::lock_guard<std::mutex> l(mu_);
      ++ended_;
    }
    cv_.notify_all();
  }
  int64_t ended() {
    std::lock_guard<std::mutex> l(mu_);
    return ended_;
  }
  int64_t failed() {
    std::lock_guard<std::mutex> l(mu_);
    return failed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t ended_ = 0;
  int64_t failed_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{"ow-engine-bench: engine CPU per case, in process"};
  std::string workflows = "workflows";
  std::string service = "food-licence";
  std::string input_path;
  std::string data_dir;
  int64_t cases = 20000;
  int64_t warmup = 2000;
  int concurrency = 64;
  int shards = 2;
  int workers = 1;
  bool no_sync = false;
  std::vector<std::string> departments = {"DSF", "CB", "IAM"};
  std::string result;  // default: as ow-adapter-sim answers
  app.add_option("--workflows", workflows, "directory of NAME.asl.yaml");
  app.add_option("--service", service, "workflow to run");
  app.add_option("--input", input_path, "case input (default NAME.input.json)");
  app.add_option("--data-dir", data_dir, "store (default: a temp dir)");
  app.add_option("--cases", cases, "cases measured")
      ->check(CLI::Range(1, 10'000'000));
  app.add_option("--warmup", warmup, "cases before measuring")
      ->check(CLI::Range(0, 1'000'000));
  app.add_option("--concurrency", concurrency, "cases in flight")
      ->check(CLI::Range(1, 100000));
  app.add_option("--shards", shards, "shards of the new store")
      ->check(CLI::Range(1, 64));
  app.add_option("--workers", workers, "threads answering tasks")
      ->check(CLI::Range(1, 64));
  app.add_option("--departments", departments, "departments answered")
      ->delimiter(',');
  app.add_option("--result-json", result, "every task's result");
  app.add_flag("--no-sync", no_sync, "commits not synced");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  const fs::path asl = fs::path(workflows) / (service + ".asl.yaml");
  const fs::path manifest = fs::path(workflows) / (service + ".service.yaml");
  if (input_path.empty()) {
    input_path = (fs::path(workflows) / (service + ".input.json")).string();
  }
  if (!fs::exists(asl) || !fs::exists(input_path)) {
    std::fprintf(stderr, "no %s or %s\n", asl.c_str(), input_path.c_str());
    return 2;
  }
  const bool temp = data_dir.empty();
  if (temp) {
    data_dir = (fs::temp_directory_path() /
                ("ow-engine-bench-" + std::to_string(std::random_device{}())))
                   .string();
  }

  onewindow::scheduler::EngineOptions eo;
  eo.data_dir = data_dir;
  eo.shards = shards;
  eo.sync = !no_sync;
  eo.rules_factory = onewindow::scheduler::MakeManifestRulesFactory("");
  auto opened = Engine::Open(std::move(eo));
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<Engine> engine = std::move(*opened);
  auto deployed = engine->registry().Deploy(
      service, ReadFile(asl.string()), onewindow::asl::SourceFormat::kAuto,
      "bench", engine->clock().NowMs(),
      fs::exists(manifest) ? ReadFile(manifest.string()) : "", "bench",
      "admin");
  if (!deployed.ok()) {
    std::fprintf(stderr, "%s\n", deployed.status().ToString().c_str());
    return 1;
  }

  std::map<std::string, std::string> results;
  for (const std::string& d : departments) {
    results[d] = !result.empty()
                     ? result
                     : R"({"approved": true, "department": ")" + d + "\"}";
  }
  // One worker stream per department.
  Answers answers;
  std::vector<std::unique_ptr<Session>> sessions;
  for (const std::string& d : departments) {
    onewindow::scheduler::SessionOptions so;
    so.department = d;
    so.worker = "bench-" + d;
    so.max_in_flight = 1 << 20;
    so.lease_ms = 600'000;
    sessions.push_back(std::make_unique<Session>(&answers));
    engine->dispatcher().Attach(sessions.back().get(), so);
  }
  std::atomic<int64_t> answer_errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i) {
    threads.emplace_back([&] {
      std::string token, dept;
      while (answers.Next(&token, &dept)) {
        engine->CompleteTask(token, results.at(dept), dept,
                             Actor{"bench", "department"},
                             [&](absl::StatusOr<bool> r) {
                               if (!r.ok()) ++answer_errors;
                             });
      }
    });
  }

  Ends ends;
  onewindow::scheduler::WatchFilter filter;
  filter.service = service;
  const uint64_t watch = engine->watch().WatchChanges(filter, &ends);

  const std::string input = ReadFile(input_path);
  std::atomic<int64_t> submit_errors{0};
  int64_t submitted = 0;
  auto run = [&](int64_t n) {
    const int64_t target = submitted + n;
    while (submitted < target) {
      ends.WaitBelow(submitted, concurrency);
      onewindow::v1::SubmitCaseRequest req;
      req.set_service(service);
      req.set_input_json(input);
      engine->SubmitCase(
          req, Actor{"bench", "counter"},
          [&](absl::StatusOr<onewindow::scheduler::SubmitResult> r) {
            if (!r.ok()) {
              ++submit_errors;
              ends.Refused();
            }
          });
      ++submitted;
    }
    ends.WaitBelow(submitted, 1);
  };

  run(warmup);
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  run(cases);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  const double cpu = CpuSeconds() - cpu0;
  const auto stats = engine->stats();

  engine->watch().Unwatch(watch);
  answers.Stop();
  for (auto& t : threads) t.join();
  for (auto& s : sessions) engine->dispatcher().Detach(s.get());
  engine.reset();
  if (temp) fs::remove_all(data_dir);

  std::printf(
      "%lld cases, concurrency %d, %d shards, %s: %.1f cases/s, "
      "%.0f us CPU/case, %.2f commands/commit\n",
      static_cast<long long>(cases), concurrency, shards,
      no_sync ? "unsynced" : "synced", cases / wall, cpu * 1e6 / cases,
      stats.commits > 0
          ? static_cast<double>(stats.committed_commands) / stats.commits
          : 0.0);
  if (submit_errors > 0 || answer_errors > 0 || ends.failed() > 0) {
    std::fprintf(stderr,
                 "errors: %lld submits, %lld answers, %lld cases failed\n",
                 static_cast<long long>(submit_errors.load()),
                 static_cast<long long>(answer_errors.load()),
                 static_cast<long long>(ends.failed()));
    return 1;
  }
  return 0;
}
