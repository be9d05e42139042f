// Test harness for end-to-end tests: real onewindowd / ow-adapter-sim
// processes on 127.0.0.1, a temp data directory, gRPC stubs, and helpers to
// wait for conditions. Loopback only; every wait is bounded.
#ifndef ONEWINDOW_TESTS_HARNESS_H_
#define ONEWINDOW_TESTS_HARNESS_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "onewindow/v1/adapters.grpc.pb.h"
#include "onewindow/v1/cases.grpc.pb.h"
#include "onewindow/v1/workflows.grpc.pb.h"

namespace onewindow::testing {

// A child process; killed (SIGKILL) on destruction if still running.
class Process {
 public:
  // Starts `argv` with stdout and stderr appended to `log_path`.
  Process(std::vector<std::string> argv, const std::string& log_path);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int sig);
  // Waits up to `timeout` for exit; returns the exit code, 128+signal for a
  // signal, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  void Kill() {
    Signal(9);
    Wait(std::chrono::seconds(10));
  }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool exited_ = false;
};

// A free TCP port on 127.0.0.1 (bound, read, released), below the kernel's
// ephemeral range when one is free there.
int FreePort();

// Whether something accepts TCP connections on 127.0.0.1:port.
bool PortOpen(int port);

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Polls `cond` every 20 ms until it is true or `timeout` passes.
bool WaitFor(const std::function<bool()>& cond,
             std::chrono::milliseconds timeout);

// A running server with stubs to talk to it.
class Server {
 public:
  Server(const std::filesystem::path& data_dir, const std::string& log_path,
         std::vector<std::string> extra_args = {});
  // Starts (again) on the same data dir and port; waits until it serves.
  bool Start();
  void Kill();                // SIGKILL
  int Terminate();            // SIGTERM, returns exit code
  const std::string& addr() const { return addr_; }

  onewindow::v1::CaseService::Stub& cases() { return *cases_; }
  onewindow::v1::WorkflowService::Stub& workflows() { return *workflows_; }
  onewindow::v1::AdapterService::Stub& adapters() { return *adapters_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  void Connect();

  std::filesystem::path data_dir_;
  std::string log_path_;
  std::vector<std::string> extra_args_;
  std::string addr_;
  std::unique_ptr<Process> proc_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<onewindow::v1::CaseService::Stub> cases_;
  std::unique_ptr<onewindow::v1::WorkflowService::Stub> workflows_;
  std::unique_ptr<onewindow::v1::AdapterService::Stub> adapters_;
};

// A context with a deadline of `ms` milliseconds.
std::unique_ptr<grpc::ClientContext> Ctx(int ms = 10000);

std::string ReadFile(const std::filesystem::path& p);

}  // namespace onewindow::testing

#endif  // ONEWINDOW_TESTS_HARNESS_H_
