// Running Graphviz: posix_spawn with three pipes, one poll loop that feeds
// stdin and drains stdout/stderr (so neither side can block the other), and
// a deadline after which the child is killed.
#include "engine/render/svg.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"

extern char** environ;

namespace onewindow::render {
namespace {

bool Executable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

// Closes a file descriptor once.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  void Reset(int fd) {
    Close();
    fd_ = fd;
  }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

absl::Status MakePipe(Pipe* p) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(std::string("pipe: ") + std::strerror(errno));
  }
  p->read.Reset(fds[0]);
  p->write.Reset(fds[1]);
  return absl::OkStatus();
}

// The first few lines of dot's complaints.
std::string FirstLines(const std::string& text) {
  std::string out;
  int lines = 0;
  for (char c : text) {
    if (c == '\n') {
      if (++lines == 3) break;
      out += "; ";
      continue;
    }
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) {
    out.pop_back();
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> FindDot(std::string_view program) {
  const std::string name(program);
  constexpr char kMissing[] =
      " was not found: SVG needs Graphviz (Debian: apt-get install graphviz)";
  if (name.find('/') != std::string::npos) {
    if (Executable(name)) return name;
    return absl::NotFoundError("Graphviz program " + name + kMissing);
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr && *path != '\0' ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (Executable(candidate)) return candidate;
    start = colon + 1;
  }
  return absl::NotFoundError("Graphviz program '" + name + "'" + kMissing);
}

absl::StatusOr<std::string> DotToSvg(std::string_view dot_text,
                                     const SvgOptions& options) {
  absl::StatusOr<std::string> dot = FindDot(options.dot_program);
  if (!dot.ok()) return dot.status();

  Pipe in, out, err;
  if (absl::Status s = MakePipe(&in); !s.ok()) return s;
  if (absl::Status s = MakePipe(&out); !s.ok()) return s;
  if (absl::Status s = MakePipe(&err); !s.ok()) return s;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2);
  std::string arg0 = *dot;
  std::string arg1 = "-Tsvg";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  const int rc =
      ::posix_spawn(&pid, dot->c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::InternalError("cannot start " + *dot + ": " +
                               std::strerror(rc));
  }
  in.read.Close();
  out.write.Close();
  err.write.Close();
  ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);

  // dot may exit before reading all of its input: SIGPIPE is blocked while
  // we write (the write then fails with EPIPE) and a pending one is consumed
  // before the mask is restored.
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &block, &old);

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(options.timeout_ms);
  std::string svg, diag;
  size_t written = 0;
  absl::Status failure;
  char buf[16384];
  while (out.read.get() >= 0 || err.read.get() >= 0) {
    std::vector<pollfd> fds;
    if (in.write.get() >= 0) fds.push_back({in.write.get(), POLLOUT, 0});
    if (out.read.get() >= 0) fds.push_back({out.read.get(), POLLIN, 0});
    if (err.read.get() >= 0) fds.push_back({err.read.get(), POLLIN, 0});
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      failure = absl::DeadlineExceededError("dot did not finish within " +
                                            std::to_string(options.timeout_ms) +
                                            " ms");
      break;
    }
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(left));
    if (n < 0) {
      if (errno == EINTR) continue;
      failure =
          absl::InternalError(std::string("poll: ") + std::strerror(errno));
      break;
    }
    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == in.write.get()) {
        const ssize_t w =
            ::write(p.fd, dot_text.data() + written, dot_text.size() - written);
        if (w > 0) written += static_cast<size_t>(w);
        if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
            written == dot_text.size()) {
          in.write.Close();
        }
      } else {
        const ssize_t r = ::read(p.fd, buf, sizeof(buf));
        const bool is_out = p.fd == out.read.get();
        if (r > 0) {
          std::string& dst = is_out ? svg : diag;
          if (is_out &&
              svg.size() + static_cast<size_t>(r) > options.max_output_bytes) {
            failure = absl::ResourceExhaustedError(
                "dot wrote more than " +
                std::to_string(options.max_output_bytes) + " bytes of SVG");
            break;
          }
          if (is_out || diag.size() < 64 * 1024) {
            dst.append(buf, static_cast<size_t>(r));
          }
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          (is_out ? out.read : err.read).Close();
        }
      }
    }
    if (!failure.ok()) break;
  }
  in.write.Close();
  out.read.Close();
  err.read.Close();
  if (!failure.ok()) ::kill(pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  // Drop a SIGPIPE raised by our writes before unblocking it.
  sigset_t pending;
  sigpending(&pending);
  if (sigismember(&pending, SIGPIPE)) {
    int sig = 0;
    sigwait(&block, &sig);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);

  if (!failure.ok()) return failure;
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    std::string why = FirstLines(diag);
    if (why.empty()) {
      why = WIFEXITED(wstatus)
                ? "exit status " + std::to_string(WEXITSTATUS(wstatus))
                : "killed by signal " + std::to_string(WTERMSIG(wstatus));
    }
    return absl::InternalError("dot failed: " + why);
  }
  return svg;
}

}  // namespace onewindow::render
