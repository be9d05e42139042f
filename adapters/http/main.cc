// ow-adapter-http: the HTTP bridge for departments whose systems speak HTTP
// and JSON (see bridge.h and README.md). Exits 2 on a usage or
// configuration error (naming the file and line), 1 when it cannot start
// (e.g. the callback address is taken), 0 on SIGTERM/SIGINT after a clean
// stop.

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/http/bridge.h"
#include "adapters/http/config.h"
#include "adapters/sdk/client_options.h"
#include "spdlog/spdlog.h"

namespace {

namespace hb = onewindow::http_bridge;
namespace oa = onewindow::adapter;

constexpr char kUsage[] =
    "usage: ow-adapter-http --addr A --department D --config FILE\n"
    "                       [--token-file F] [--callback-listen ADDR]\n"
    "                       [--tls-ca F [--tls-cert F --tls-key F]]\n"
    "                       [--callback-url URL] [--concurrency N]\n"
    "                       [--max-in-flight N] [--lease-ms MS] [--worker "
    "NAME]\n"
    "                       [--max-body-bytes N] [--log-level LEVEL] "
    "[--summary-ms MS]\n"
    "\n"
    "  --addr A             engine address (default $ONEWINDOW_ADDR or "
    "127.0.0.1:50051)\n"
    "  --department D       department code to serve (required)\n"
    "  --config FILE        YAML: tasks: {TYPE or \"*\": {url, timeout_ms, "
    "headers}} (required)\n"
    "  --callback-listen ADDR  HOST:PORT for department callbacks (POST\n"
    "                       /tasks/TOKEN/complete or /fail); none = 202 "
    "fails the task\n"
    "  --callback-url URL   base URL departments use to call back (default\n"
    "                       http://ADDR; required with a wildcard address)\n"
    "  --concurrency N      HTTP requests in flight at once (default 16)\n"
    "  --max-in-flight N    tasks held at once, waiting callbacks included\n"
    "                       (default 256; the engine caps it at 1024)\n"
    "  --lease-ms MS        lease asked for; heartbeats every third of it "
    "(default 60000)\n"
    "  --worker NAME        worker name (default http-D)\n"
    "  --max-body-bytes N   largest answer or callback body (default "
    "262144)\n"
    "  --log-level LEVEL    trace, debug, info, warn, error (default info)\n"
    "  --summary-ms MS      period of the summary line (default 10000)\n";

struct Flags {
  std::string addr;
  std::string department;
  std::string config;
  std::string callback_listen;
  std::string callback_url;
  int concurrency = 16;
  int max_in_flight = 256;
  int64_t lease_ms = 60000;
  std::string worker;
  int64_t max_body_bytes = 256 * 1024;
  std::string log_level = "info";
  int64_t summary_ms = 10000;
  oa::CredentialFlags credentials;
};

[[noreturn]] void UsageError(const std::string& message) {
  std::fprintf(stderr, "ow-adapter-http: %s\n", message.c_str());
  std::exit(2);
}

int64_t ParseInt(std::string_view flag, const std::string& v, int64_t min,
                 int64_t max) {
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno != 0 || n < min || n > max) {
    UsageError(std::string(flag) + ": expected an integer in " +
               std::to_string(min) + ".." + std::to_string(max) + ", got '" +
               v + "' (see --help)");
  }
  return n;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  const char* env = std::getenv("ONEWINDOW_ADDR");
  f.addr = env != nullptr && *env != '\0' ? env : "127.0.0.1:50051";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::fputs(oa::kCredentialFlagsHelp, stdout);
      std::exit(0);
    }
    if (arg.rfind("--", 0) != 0) {
      UsageError("unexpected argument '" + arg + "' (see --help)");
    }
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
    if (arg == "--addr") {
      f.addr = next();
    } else if (arg == "--department") {
      f.department = next();
    } else if (arg == "--config") {
      f.config = next();
    } else if (arg == "--callback-listen") {
      f.callback_listen = next();
    } else if (arg == "--callback-url") {
      f.callback_url = next();
    } else if (arg == "--concurrency") {
      f.concurrency = static_cast<int>(ParseInt(arg, next(), 1, 4096));
    } else if (arg == "--max-in-flight") {
      f.max_in_flight = static_cast<int>(ParseInt(arg, next(), 1, 1024));
    } else if (arg == "--lease-ms") {
      f.lease_ms = ParseInt(arg, next(), 1000, 3600000);
    } else if (arg == "--worker") {
      f.worker = next();
    } else if (arg == "--max-body-bytes") {
      f.max_body_bytes = ParseInt(arg, next(), 1024, 64 << 20);
    } else if (arg == "--log-level") {
      f.log_level = next();
    } else if (arg == "--summary-ms") {
      f.summary_ms = ParseInt(arg, next(), 100, 86400000);
    } else if (arg == "--token-file" || arg == "--tls-ca" ||
               arg == "--tls-cert" || arg == "--tls-key") {
      oa::TakeCredentialFlag(arg, next(), &f.credentials);
    } else {
      UsageError("unknown flag '" + arg + "' (see --help)");
    }
  }
  if (f.department.empty()) UsageError("--department is required");
  if (f.config.empty()) UsageError("--config is required");
  if (f.worker.empty()) f.worker = "http-" + f.department;
  const auto level = spdlog::level::from_str(f.log_level);
  if (level == spdlog::level::off && f.log_level != "off") {
    UsageError("--log-level: unknown level '" + f.log_level + "'");
  }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = ParseFlags(argc, argv);
  spdlog::set_level(spdlog::level::from_str(flags.log_level));

  auto creds = oa::LoadClientCredentials(flags.credentials,
                                         std::getenv("ONEWINDOW_TOKEN"));
  if (!creds.ok()) UsageError(std::string(creds.status().message()));
  auto config = hb::LoadBridgeConfig(flags.config);
  if (!config.ok()) UsageError(std::string(config.status().message()));

  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  hb::BridgeOptions opts;
  opts.worker.address = flags.addr;
  opts.worker.department = flags.department;
  opts.worker.worker = flags.worker;
  opts.worker.max_in_flight = flags.max_in_flight;
  opts.worker.lease_ms = flags.lease_ms;
  oa::ApplyTo(*creds, &opts.worker);
  opts.config = std::move(*config);
  opts.concurrency = flags.concurrency;
  opts.callback_listen = flags.callback_listen;
  opts.callback_url = flags.callback_url;
  opts.max_body_bytes = static_cast<size_t>(flags.max_body_bytes);

  hb::Bridge bridge(std::move(opts));
  if (absl::Status s = bridge.Start(); !s.ok()) {
    spdlog::error("ow-adapter-http: {}", s.ToString());
    return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  spdlog::info(
      "ow-adapter-http: department {} at {} (concurrency {}, max in flight "
      "{})",
      flags.department, flags.addr, flags.concurrency, flags.max_in_flight);

  auto summary = [&](const char* prefix) {
    const hb::BridgeStats s = bridge.stats();
    spdlog::info(
        "{}department {}: {} requests, {} completed, {} parked, {} rejected, "
        "{} unavailable, {} callbacks taken ({} refused); now {} queued, {} "
        "in flight, {} waiting for a callback{}",
        prefix, flags.department, s.posts, s.completed, s.parked, s.rejected,
        s.unavailable, s.callbacks_accepted, s.callbacks_refused, s.queued,
        s.posting, s.waiting, s.worker.connected ? "" : " (disconnected)");
  };

  timespec period;
  period.tv_sec = flags.summary_ms / 1000;
  period.tv_nsec = (flags.summary_ms % 1000) * 1000000;
  uint64_t last_posts = ~0ull;
  uint64_t last_callbacks = ~0ull;
  for (;;) {
    const int sig = sigtimedwait(&sigs, nullptr, &period);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("ow-adapter-http: {} received, stopping",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
      break;
    }
    const hb::BridgeStats s = bridge.stats();
    const uint64_t callbacks = s.callbacks_accepted + s.callbacks_refused;
    if (s.posts != last_posts || callbacks != last_callbacks) {
      summary("");
      last_posts = s.posts;
      last_callbacks = callbacks;
    }
  }
  bridge.Stop();
  summary("final: ");
  return 0;
}
