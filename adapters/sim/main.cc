// ow-adapter-sim: a simulated department. Takes the department's tasks from
// the engine, waits --latency-ms, and completes each with --result-json, or
// fails a fraction --fail-rate of them with error "Dept.Failure".
// At most --concurrency tasks are worked on at once; the others wait their
// turn in arrival order. Latency is kept by one timer thread (the worker
// SDK's asynchronous handler), not by a sleeping thread per task, so a
// concurrency of thousands costs no threads.
// Exits 0 on SIGTERM/SIGINT after a clean stop; tasks still in progress are
// left to the engine, which offers them again.

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "adapters/sdk/client_options.h"
#include "adapters/sdk/worker.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace {

constexpr char kUsage[] =
    "usage: ow-adapter-sim --department D [--addr A] [--latency-ms N]\n"
    "                      [--fail-rate P] [--concurrency N] [--result-json "
    "JSON]\n"
    "                      [--worker NAME] [--lease-ms MS] [--max-in-flight "
    "N]\n"
    "                      [--seed N] [--log-level LEVEL] [--summary-ms MS]\n"
    "                      [--token-file F] [--tls-ca F [--tls-cert F "
    "--tls-key F]]\n"
    "\n"
    "  --department D     department code to serve (required)\n"
    "  --addr A           engine address (default $ONEWINDOW_ADDR or "
    "127.0.0.1:50051)\n"
    "  --latency-ms N     time each task takes (default 0)\n"
    "  --fail-rate P      fraction of tasks failed with Dept.Failure, 0..1 "
    "(default 0)\n"
    "  --concurrency N    tasks worked on at once (default 4)\n"
    "  --result-json JSON result of every completed task\n"
    "                     (default {\"approved\": true, \"department\": D})\n"
    "  --worker NAME      worker name (default sim-D)\n"
    "  --lease-ms MS      lease asked for (default 30000)\n"
    "  --max-in-flight N  unanswered tasks the engine may push (default "
    "2 x concurrency)\n"
    "  --seed N           seed of the failure draw (default random)\n"
    "  --log-level LEVEL  trace, debug, info, warn, error (default info)\n"
    "  --summary-ms MS    period of the summary line (default 5000)\n";

struct Flags {
  std::string department;
  std::string addr;
  int64_t latency_ms = 0;
  double fail_rate = 0;
  int concurrency = 4;
  std::optional<std::string> result_json;
  std::string worker;
  int64_t lease_ms = 30000;
  int max_in_flight = 0;
  std::optional<uint64_t> seed;
  std::string log_level = "info";
  int64_t summary_ms = 5000;
  onewindow::adapter::CredentialFlags credentials;
};

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "ow-adapter-sim: %s (see --help)\n", message.c_str());
  std::exit(2);
}

int64_t ParseInt(std::string_view flag, const std::string& v, int64_t min) {
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < min) {
    UsageError(std::string(flag) + ": expected an integer >= " +
               std::to_string(min) + ", got '" + v + "'");
  }
  return n;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  if (const char* env = std::getenv("ONEWINDOW_ADDR"); env && *env) {
    f.addr = env;
  } else {
    f.addr = "127.0.0.1:50051";
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::fputs(onewindow::adapter::kCredentialFlagsHelp, stdout);
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0)
      UsageError("unexpected argument '" + arg + "'");
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
      has_value = true;
    }
    auto next = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) UsageError(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--department") {
      f.department = next();
    } else if (arg == "--addr") {
      f.addr = next();
    } else if (arg == "--latency-ms") {
      f.latency_ms = ParseInt(arg, next(), 0);
    } else if (arg == "--fail-rate") {
      const std::string v = next();
      char* end = nullptr;
      f.fail_rate = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' ||
          !(f.fail_rate >= 0 && f.fail_rate <= 1)) {
        UsageError("--fail-rate: expected a number in [0, 1], got '" + v + "'");
      }
    } else if (arg == "--concurrency") {
      f.concurrency = static_cast<int>(ParseInt(arg, next(), 1));
    } else if (arg == "--result-json") {
      f.result_json = next();
    } else if (arg == "--worker") {
      f.worker = next();
    } else if (arg == "--lease-ms") {
      f.lease_ms = ParseInt(arg, next(), 0);
    } else if (arg == "--max-in-flight") {
      f.max_in_flight = static_cast<int>(ParseInt(arg, next(), 0));
    } else if (arg == "--seed") {
      f.seed = static_cast<uint64_t>(ParseInt(arg, next(), 0));
    } else if (arg == "--log-level") {
      f.log_level = next();
    } else if (arg == "--summary-ms") {
      f.summary_ms = ParseInt(arg, next(), 100);
    } else if (arg == "--token-file" || arg == "--tls-ca" ||
               arg == "--tls-cert" || arg == "--tls-key") {
      onewindow::adapter::TakeCredentialFlag(arg, next(), &f.credentials);
    } else {
      UsageError("unknown flag '" + arg + "'");
    }
  }
  if (f.department.empty()) UsageError("--department is required");
  if (f.result_json) {
    if (!nlohmann::json::accept(*f.result_json)) {
      UsageError("--result-json is not valid JSON");
    }
  } else {
    f.result_json =
        nlohmann::json{{"approved", true}, {"department", f.department}}.dump();
  }
  if (f.worker.empty()) f.worker = "sim-" + f.department;
  if (f.max_in_flight == 0) f.max_in_flight = 2 * f.concurrency;
  const auto level = spdlog::level::from_str(f.log_level);
  if (level == spdlog::level::off && f.log_level != "off") {
    UsageError("--log-level: unknown level '" + f.log_level + "'");
  }
  return f;
}

// Draws which tasks fail; shared by the handler threads.
class FailureDraw {
 public:
  FailureDraw(double rate, uint64_t seed) : rate_(rate), rng_(seed) {}
  bool Fail() {
    if (rate_ <= 0) return false;
    std::lock_guard<std::mutex> lock(mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_) < rate_;
  }

 private:
  const double rate_;
  std::mutex mu_;
  std::mt19937_64 rng_;  // GUARDED_BY(mu_)
};

// The simulated department's work: at most `limit` tasks in progress, each
// answered `latency` after it starts, by one timer thread. Tasks beyond the
// limit wait in arrival order. Thread-safe.
class Department {
 public:
  Department(std::string code, std::string result_json,
             std::chrono::milliseconds latency, int limit, FailureDraw* draw)
      : code_(std::move(code)),
        result_json_(std::move(result_json)),
        latency_(latency),
        limit_(limit),
        draw_(draw),
        timer_([this] { TimerLoop(); }) {}

  ~Department() { Stop(); }

  // Takes a task from the worker (called on its stream thread).
  void Take(std::shared_ptr<onewindow::adapter::TaskContext> ctx,
            onewindow::adapter::Responder responder) {
    Job job{std::move(ctx), std::move(responder), {}, 0};
    if (latency_.count() == 0) {
      Answer(job);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      if (active_ >= limit_) {
        waiting_.push_back(std::move(job));
        return;
      }
      StartLocked(std::move(job));
    }
    cv_.notify_one();
  }

  // Ends the timer thread; tasks in progress are dropped (the worker has
  // stopped: the engine offers them again).
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    cv_.notify_one();
    timer_.join();
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::shared_ptr<onewindow::adapter::TaskContext> ctx;
    onewindow::adapter::Responder responder;
    Clock::time_point due;
    uint64_t seq;
  };
  struct Later {
    bool operator()(const Job& a, const Job& b) const {
      return a.due != b.due ? a.due > b.due : a.seq > b.seq;
    }
  };

  // REQUIRES: mu_ held.
  void StartLocked(Job job) {
    ++active_;
    job.due = Clock::now() + latency_;
    job.seq = seq_++;
    timers_.push(std::move(job));
  }

  void Answer(const Job& job) {
    if (job.ctx->cancelled()) return;  // the engine withdrew it
    const auto& task = job.ctx->task();
    if (draw_->Fail()) {
      spdlog::debug("task {} case {} state {} type {} attempt {}: failed",
                    task.token(), task.case_id(), task.state(),
                    task.task_type(), task.attempt());
      job.responder.Fail("Dept.Failure", "simulated failure at department " +
                                             code_ + " (task " +
                                             task.task_type() + " of case " +
                                             task.case_id() + ")");
      return;
    }
    spdlog::debug("task {} case {} state {} type {} attempt {}: completed",
                  task.token(), task.case_id(), task.state(), task.task_type(),
                  task.attempt());
    job.responder.Complete(result_json_);
  }

  void TimerLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (stopped_) break;
      if (timers_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const auto due = timers_.top().due;
      if (Clock::now() < due) {
        cv_.wait_until(lock, due);
        continue;
      }
      std::vector<Job> ready;
      while (!timers_.empty() && timers_.top().due <= Clock::now()) {
        ready.push_back(timers_.top());
        timers_.pop();
        --active_;
      }
      while (active_ < limit_ && !waiting_.empty()) {
        Job next = std::move(waiting_.front());
        waiting_.pop_front();
        if (next.ctx->cancelled()) continue;
        StartLocked(std::move(next));
      }
      lock.unlock();
      for (const auto& job : ready) Answer(job);
      ready.clear();
      lock.lock();
    }
    // Dropped outside the lock: a Responder going away may call back into
    // the worker.
    std::priority_queue<Job, std::vector<Job>, Later> timers;
    std::deque<Job> waiting;
    timers.swap(timers_);
    waiting.swap(waiting_);
    lock.unlock();
  }

  const std::string code_;
  const std::string result_json_;
  const std::chrono::milliseconds latency_;
  const int limit_;
  FailureDraw* const draw_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;                                      // GUARDED_BY(mu_)
  int active_ = 0;                                            // GUARDED_BY(mu_)
  uint64_t seq_ = 0;                                          // GUARDED_BY(mu_)
  std::priority_queue<Job, std::vector<Job>, Later> timers_;  // GUARDED_BY(mu_)
  std::deque<Job> waiting_;                                   // GUARDED_BY(mu_)
  std::thread timer_;  // last: started once the members above exist
};

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  auto creds = onewindow::adapter::LoadClientCredentials(
      flags.credentials, std::getenv("ONEWINDOW_TOKEN"));
  if (!creds.ok()) {
    UsageError(std::string(creds.status().message()));
  }

  // Signals are taken synchronously by the main thread below; every thread
  // started from here on inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  FailureDraw draw(flags.fail_rate,
                   flags.seed ? *flags.seed : std::random_device{}());
  Department department(flags.department, *flags.result_json,
                        std::chrono::milliseconds(flags.latency_ms),
                        flags.concurrency, &draw);

  onewindow::adapter::WorkerOptions opts;
  opts.address = flags.addr;
  opts.department = flags.department;
  opts.worker = flags.worker;
  opts.concurrency = flags.concurrency;
  opts.max_in_flight = flags.max_in_flight;
  opts.lease_ms = flags.lease_ms;
  onewindow::adapter::ApplyTo(*creds, &opts);
  onewindow::adapter::Worker worker(
      opts, [&](std::shared_ptr<onewindow::adapter::TaskContext> ctx,
                onewindow::adapter::Responder responder) {
        department.Take(std::move(ctx), std::move(responder));
      });
  if (!worker.Start()) return 1;
  spdlog::info(
      "ow-adapter-sim: department {} at {} (latency {} ms, fail rate {}, "
      "concurrency {})",
      flags.department, flags.addr, flags.latency_ms, flags.fail_rate,
      flags.concurrency);

  auto summary = [&](const char* prefix) {
    const auto s = worker.stats();
    spdlog::info(
        "{}department {}: {} received, {} completed, {} failed, {} rejected, "
        "{} held, {} stream attempt(s){}",
        prefix, flags.department, s.tasks_received, s.tasks_completed,
        s.tasks_failed, s.answers_rejected, s.tasks_held, s.sessions,
        s.connected ? "" : " (disconnected)");
  };

  timespec period;
  period.tv_sec = flags.summary_ms / 1000;
  period.tv_nsec = (flags.summary_ms % 1000) * 1000000;
  onewindow::adapter::WorkerStats last;
  for (;;) {
    const int sig = sigtimedwait(&sigs, nullptr, &period);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("ow-adapter-sim: {} received, stopping",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    const auto s = worker.stats();
    if (s.tasks_received != last.tasks_received ||
        s.tasks_completed != last.tasks_completed ||
        s.tasks_failed != last.tasks_failed || s.connected != last.connected ||
        s.sessions != last.sessions) {
      summary("");
      last = s;
    }
  }
  worker.Stop();
  department.Stop();
  summary("final: ");
  return 0;
}
