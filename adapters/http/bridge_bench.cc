// ow-bridge-bench: tasks per second through ow-adapter-http against a local
// HTTP department that answers at once.
//
//   ow-bridge-bench [--bridge PATH] [--tasks N] [--concurrency 1,8,32,...]
//                   [--max-in-flight N]
//
// In this process: a scripted engine on 127.0.0.1 that keeps the bridge fed
// (one new task per answer taken, up to max-in-flight outstanding) and a
// department (cpp-httplib) that answers 200 {"ok": true} at once. The
// bridge runs as its own process, so its CPU time is measured alone
// (/proc/PID/stat). Prints one line per concurrency: tasks/s, and the
// bridge's CPU per task. Not a test: run it by hand on a quiet machine.
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "adapters/http/listen.h"
#include "adapters/sdk/testing/scripted_engine.h"

extern char** environ;

namespace {

using onewindow::adapter::testing::EngineServer;
using onewindow::adapter::testing::ScriptedEngine;
using Clock = std::chrono::steady_clock;

// utime + stime of `pid`, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) !=
      0) {
    pid = -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bridge_path =
      (std::filesystem::path(argv[0]).parent_path() / "ow-adapter-http")
          .string();
  int tasks = 20000;
  int max_in_flight = 256;
  std::vector<int> levels = {1, 8, 32, 64};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--bridge") {
      bridge_path = value;
    } else if (flag == "--tasks") {
      tasks = std::stoi(value);
    } else if (flag == "--max-in-flight") {
      max_in_flight = std::stoi(value);
    } else if (flag == "--concurrency") {
      levels.clear();
      std::stringstream ss(value);
      for (std::string item; std::getline(ss, item, ',');) {
        levels.push_back(std::stoi(item));
      }
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }

  httplib::Server dept;
  dept.new_task_queue = [] { return new httplib::ThreadPool(80); };
  dept.set_keep_alive_max_count(1000000);
  dept.set_tcp_nodelay(true);
  dept.Post("/tasks", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"ok": true})", "application/json");
  });
  const int dept_port =
      onewindow::http_bridge::BindServer(&dept, "127.0.0.1", 0);
  std::thread dept_thread([&] { dept.listen_after_bind(); });
  onewindow::http_bridge::WaitUntilListening(&dept);

  const auto dir = std::filesystem::temp_directory_path() /
                   ("ow-bridge-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string config = (dir / "bridge.yaml").string();
  std::ofstream(config) << "tasks:\n  \"*\":\n    url: http://127.0.0.1:"
                        << dept_port << "/tasks\n    timeout_ms: 5000\n";
  const std::string log = (dir / "bridge.log").string();

  std::printf("cores: %u, tasks per run: %d, max in flight: %d\n",
              std::thread::hardware_concurrency(), tasks, max_in_flight);
  std::printf("%12s %12s %14s %16s\n", "concurrency", "tasks/s", "bridge CPU %",
              "bridge us/task");
  std::fflush(stdout);
  for (int level : levels) {
    EngineServer engine(0, [&](ScriptedEngine& e) {
      e.set_ack_mode(ScriptedEngine::AckMode::kGrouped);
      e.set_record(false);
      e.Feed(tasks, R"({"applicant": "Chan Tai Man", "seats": 36})");
    });
    const pid_t pid =
        Spawn({bridge_path, "--addr", engine.address(), "--department", "DSF",
               "--config", config, "--concurrency", std::to_string(level),
               "--max-in-flight", std::to_string(max_in_flight), "--log-level",
               "warn"},
              log);
    if (pid < 0) {
      std::fprintf(stderr, "cannot start %s\n", bridge_path.c_str());
      return 1;
    }
    // Time from the first answer, so the bridge's start is not counted.
    const auto deadline = Clock::now() + std::chrono::minutes(5);
    while (engine.engine().answered() == 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const int first = engine.engine().answered();
    const auto t0 = Clock::now();
    const double cpu0 = CpuSeconds(pid);
    while (engine.engine().answered() < tasks && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    const double secs =
        std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = CpuSeconds(pid) - cpu0;
    const int done = engine.engine().answered() - first;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    std::printf("%12d %12.0f %14.0f %16.1f\n", level, done / secs,
                100.0 * cpu / secs, 1e6 * cpu / done);
    std::fflush(stdout);
  }
  dept.stop();
  dept_thread.join();
  std::filesystem::remove_all(dir);
  return 0;
}
