#include "tests/harness.h"

#include <algorithm>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace onewindow::testing {

Process::Process(std::vector<std::string> argv, const std::string& log_path) {
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    // Let signals through even if the test runner blocks some.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
}

Process::~Process() {
  if (running()) Kill();
}

bool Process::running() {
  if (pid_ <= 0 || exited_) return false;
  int st = 0;
  pid_t r = waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = st;
    return false;
  }
  return true;
}

void Process::Signal(int sig) {
  if (running()) kill(pid_, sig);
}

int Process::Wait(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > until) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return 128 + WTERMSIG(status_);
  return -1;
}

namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

}  // namespace

bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a = Loopback(port);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

// A port below the kernel's ephemeral range that binds now. Ports from the
// ephemeral range (what binding port 0 returns) are also handed to outgoing
// connections, so under a parallel run another test's client could take one
// between this pick and the server's bind; below the range only another
// pick can, and picks are random over thousands of ports and never repeat
// within a process.
int FreePort() {
  static std::mutex mu;
  static std::set<int> given;
  static std::mt19937 rng(std::random_device{}());
  int low = 32768;
  if (std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range"); in) {
    in >> low;
  }
  const int hi = std::max(low - 1, 10001);
  const int lo = std::max(10000, hi - 12000);
  std::lock_guard<std::mutex> lock(mu);
  for (int attempt = 0; attempt < 200; ++attempt) {
    const int port = std::uniform_int_distribution<int>(lo, hi)(rng);
    if (given.count(port) > 0) continue;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) break;
    sockaddr_in a = Loopback(port);
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (ok) {
      given.insert(port);
      return port;
    }
  }
  // Nothing free below the range: let the kernel choose.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = Loopback(0);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

TempDir::TempDir() {
  path_ = std::filesystem::temp_directory_path() /
          ("ow-test-" + std::to_string(getpid()) + "-" +
           std::to_string(std::random_device{}()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool WaitFor(const std::function<bool()>& cond,
             std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return cond();
}

Server::Server(const std::filesystem::path& data_dir,
               const std::string& log_path,
               std::vector<std::string> extra_args)
    : data_dir_(data_dir),
      log_path_(log_path),
      extra_args_(std::move(extra_args)),
      addr_("127.0.0.1:" + std::to_string(FreePort())) {
}

void Server::Connect() {
  channel_ = grpc::CreateChannel(addr_, grpc::InsecureChannelCredentials());
  cases_ = onewindow::v1::CaseService::NewStub(channel_);
  workflows_ = onewindow::v1::WorkflowService::NewStub(channel_);
  adapters_ = onewindow::v1::AdapterService::NewStub(channel_);
}

bool Server::Start() {
  std::vector<std::string> argv = {ONEWINDOWD_PATH, "--listen", addr_,
                                   "--data-dir", data_dir_.string(),
                                   "--log-level", "debug"};
  // No HTTP unless a test asks for it: tests run in parallel, and the
  // default HTTP port is one fixed port.
  if (std::find(extra_args_.begin(), extra_args_.end(), "--http-listen") ==
      extra_args_.end()) {
    argv.push_back("--http-listen");
    argv.push_back("");
  }
  for (const auto& a : extra_args_) argv.push_back(a);
  proc_ = std::make_unique<Process>(argv, log_path_);
  // Wait for the port to accept, then connect a fresh channel (a channel
  // that saw the port closed would sit in reconnect back-off).
  const int port = std::stoi(addr_.substr(addr_.rfind(':') + 1));
  bool up = WaitFor([&] { return !proc_->running() || PortOpen(port); },
                    std::chrono::seconds(30));
  if (!up || !proc_->running()) return false;
  Connect();
  // A TLS server does not answer this plaintext channel: the open port is
  // the sign it serves (the test makes its own channels).
  if (std::find(extra_args_.begin(), extra_args_.end(), "--tls-cert") !=
      extra_args_.end()) {
    return true;
  }
  onewindow::v1::ListWorkflowsRequest req;
  onewindow::v1::ListWorkflowsResponse resp;
  auto ctx = Ctx(10000);
  ctx->set_wait_for_ready(true);
  return workflows_->ListWorkflows(ctx.get(), req, &resp).ok();
}

void Server::Kill() {
  if (proc_) proc_->Kill();
}

int Server::Terminate() {
  if (!proc_) return -1;
  proc_->Signal(SIGTERM);
  return proc_->Wait(std::chrono::seconds(20));
}

std::unique_ptr<grpc::ClientContext> Ctx(int ms) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(ms));
  return ctx;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace onewindow::testing
