// Crash tests: a real onewindowd under load is killed with SIGKILL at random
// moments and restarted on the same data directory; afterwards every
// acknowledged case must reach a terminal state with a legal history.
//
// CrashTest.SigkillUnderLoad (the default, short CI mode) is tuned by
// environment variables for long runs:
//   OW_CRASH_KILLS        kills (default 5)
//   OW_CRASH_SECONDS      upper bound on the load phase (default 40)
//   OW_CRASH_MIN_MS / OW_CRASH_MAX_MS   interval between kills (300 / 2000)
//   OW_CRASH_SUBMITTERS   submitter threads (default 3)
//   OW_CRASH_GAP_MS       pause between submits of one thread (default 60)
//   OW_CRASH_QUIESCE_SECONDS  bound on cases finishing after the last
//                         restart (default 90)
//   OW_CRASH_SEED         seed of the kill schedule (default random)
//   OW_CRASH_KEEP=1       keep the data and log directory
//
// Recovery.OpenCases measures recovery with many open cases; it runs only
// when OW_RECOVERY_CASES is set (e.g. "10000,100000"; see
// tests/crash/recovery.sh).
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "engine/service/auth.h"
#include "tests/harness.h"

namespace onewindow::testing {
namespace {

namespace fs = std::filesystem;
namespace v1 = onewindow::v1;
using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

const fs::path kCrashDir = CRASH_DIR;
constexpr char kService[] = "crash-flow";
constexpr char kHoldService[] = "hold";
// Retry MaxAttempts of every task state in crash-flow.asl.yaml.
constexpr int kMaxAttempts = 6;

int64_t EnvInt(const char* name, int64_t def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  return std::strtoll(v, nullptr, 10);
}

int64_t MsSince(SteadyClock::time_point t0) {
  return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - t0)
      .count();
}

// With OW_CRASH_AUTH=1 the whole run goes over TLS with an auth file: the
// test's clients as an admin, each simulated department with its own token.
struct Secure {
  bool on = false;
  fs::path dir;
  std::string ca_pem;
  std::string admin_token;
  std::vector<std::string> ServerArgs() const {
    if (!on) return {};
    return {"--auth-file", (dir / "auth.yaml").string(), "--tls-cert",
            (dir / "server.crt").string(), "--tls-key",
            (dir / "server.key").string()};
  }
  std::vector<std::string> SimArgs(const std::string& dept) const {
    if (!on) return {};
    return {"--token-file", (dir / ("token-" + dept)).string(), "--tls-ca",
            (dir / "ca.crt").string()};
  }
};
Secure g_secure;

// Makes the certificates, tokens and auth file of a secure run in `dir`.
bool SetUpSecure(const fs::path& dir) {
  const std::string d = dir.string();
  auto sh = [&](const std::string& cmd) {
    return std::system(("cd " + d + " && " + cmd + " >/dev/null 2>&1").c_str()) ==
           0;
  };
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
  if (!sh("openssl req -x509 " + ec + " -nodes -keyout ca.key -days 2 "
          "-subj /CN=crash-ca -out ca.crt") ||
      !sh("openssl req " + ec + " -nodes -keyout server.key -subj "
          "/CN=localhost -out server.csr") ||
      !sh("printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > server.ext && "
          "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key "
          "-CAcreateserial -days 2 -out server.crt -extfile server.ext")) {
    return false;
  }
  std::string auth = "principals:\n";
  auto add = [&](const std::string& name, const std::string& role,
                 const std::string& dept, const std::string& token) {
    auth += "  - {name: " + name + ", role: " + role +
            (dept.empty() ? "" : ", department: " + dept) +
            ", token_sha256: " + onewindow::service::TokenSha256Hex(token) +
            "}\n";
  };
  g_secure.admin_token = "ow_crash_admin_" + std::to_string(getpid());
  add("crash-admin", "admin", "", g_secure.admin_token);
  for (const char* dept : {"CRA", "CRB", "CRC", "CRD"}) {
    const std::string token = std::string("ow_crash_") + dept + "_" +
                              std::to_string(getpid());
    add(std::string("sim-") + dept, "department", dept, token);
    std::ofstream(dir / ("token-" + std::string(dept))) << token << "\n";
  }
  std::ofstream(dir / "auth.yaml") << auth;
  g_secure.dir = dir;
  g_secure.ca_pem = ReadFile(dir / "ca.crt");
  g_secure.on = true;
  return true;
}

// A channel that reconnects quickly once the server is back.
std::shared_ptr<grpc::Channel> FastChannel(const std::string& addr) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  // Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC takes it as the deadline of
  // each connection attempt, too short for a TLS handshake under load.
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  if (g_secure.on) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = g_secure.ca_pem;
    return grpc::CreateCustomChannel(
        addr,
        grpc::CompositeChannelCredentials(
            grpc::SslCredentials(ssl),
            grpc::AccessTokenCredentials(g_secure.admin_token)),
        args);
  }
  return grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(),
                                   args);
}

bool Retryable(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
      return true;
    default:
      return false;
  }
}

std::string Tail(const std::string& s, size_t n) {
  return s.size() > n ? s.substr(s.size() - n) : s;
}

// ---- onewindowd on a fixed port and data directory, restartable ---------

class Daemon {
 public:
  Daemon(fs::path data_dir, fs::path log_dir, std::string log_level)
      : data_dir_(std::move(data_dir)),
        log_dir_(std::move(log_dir)),
        log_level_(std::move(log_level)),
        port_(FreePort()),
        addr_("127.0.0.1:" + std::to_string(port_)) {}

  // Spawns the process without waiting for it.
  void Spawn() {
    ++starts_;
    log_path_ = (log_dir_ / ("onewindowd-" + std::to_string(starts_) + ".log"))
                    .string();
    std::vector<std::string> argv{ONEWINDOWD_PATH, "--listen", addr_,
                                  "--data-dir", data_dir_.string(),
                                  "--log-level", log_level_,
                                  "--http-listen", ""};
    for (auto& a : g_secure.ServerArgs()) argv.push_back(a);
    proc_ = std::make_unique<Process>(argv, log_path_);
  }

  // Spawns and waits until an RPC is served. Returns the milliseconds from
  // spawn to serving, or -1 if it did not come up within `timeout`.
  int64_t Start(milliseconds timeout = milliseconds(60000)) {
    const auto t0 = SteadyClock::now();
    Spawn();
    const auto until = t0 + timeout;
    while (SteadyClock::now() < until) {
      if (!proc_->running()) return -1;
      if (PortOpen(port_)) break;
      std::this_thread::sleep_for(milliseconds(2));
    }
    auto channel = FastChannel(addr_);
    auto stub = v1::WorkflowService::NewStub(channel);
    while (SteadyClock::now() < until) {
      if (!proc_->running()) return -1;
      v1::ListWorkflowsRequest req;
      v1::ListWorkflowsResponse resp;
      auto ctx = Ctx(1000);
      ctx->set_wait_for_ready(true);
      if (stub->ListWorkflows(ctx.get(), req, &resp).ok()) return MsSince(t0);
    }
    return -1;
  }

  void Kill() {
    if (proc_) proc_->Kill();
  }
  int Terminate() {
    if (!proc_) return -1;
    proc_->Signal(SIGTERM);
    return proc_->Wait(milliseconds(30000));
  }
  bool running() { return proc_ && proc_->running(); }

  // Resident set of the running process, KiB; -1 if unknown.
  int64_t RssKb() const {
    if (!proc_) return -1;
    std::ifstream in("/proc/" + std::to_string(proc_->pid()) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) {
        return std::strtoll(line.c_str() + 6, nullptr, 10);
      }
    }
    return -1;
  }

  // From the current log: "N open cases recovered in X ms".
  bool RecoveryLine(int64_t* cases, int64_t* ms) const {
    static const std::regex re(R"((\d+) open cases recovered in (\d+) ms)");
    std::smatch m;
    const std::string log = ReadFile(log_path_);
    if (!std::regex_search(log, m, re)) return false;
    *cases = std::stoll(m[1]);
    *ms = std::stoll(m[2]);
    return true;
  }

  const std::string& addr() const { return addr_; }
  const std::string& log_path() const { return log_path_; }
  const fs::path& data_dir() const { return data_dir_; }
  int starts() const { return starts_; }

 private:
  fs::path data_dir_;
  fs::path log_dir_;
  std::string log_level_;
  int port_;
  std::string addr_;
  std::string log_path_;
  int starts_ = 0;
  std::unique_ptr<Process> proc_;
};

// ---- group-commit figures read from the RocksDB write-ahead log ---------
//
// The engine keeps commit counts in EngineStats but exports them neither
// over gRPC nor in its log. Each engine group commit is one WriteBatch, i.e.
// one WAL record, and writes every case it changed once to the "cases"
// column family, so the WAL tells how many cases each synced batch carried.

class WalFigures {
 public:
  // Reads every WAL file in `dir`; batches already seen are skipped.
  void Scan(const fs::path& dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".log" && e.is_regular_file()) {
        ScanFile(e.path());
      }
    }
  }

  int64_t batches() const { return batches_; }
  int64_t ops() const { return ops_; }
  int64_t case_writes() const { return case_writes_; }
  int64_t max_cases() const { return max_cases_; }
  const std::map<int64_t, int64_t>& by_cases() const { return by_cases_; }

 private:
  static constexpr size_t kBlock = 32768;
  static constexpr uint32_t kCasesColumnFamily = 3;  // engine/store/format.h

  static bool Varint32(std::string_view* in, uint32_t* v) {
    *v = 0;
    for (int shift = 0; shift <= 28 && !in->empty(); shift += 7) {
      const uint8_t b = static_cast<uint8_t>(in->front());
      in->remove_prefix(1);
      *v |= static_cast<uint32_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  static bool Slice(std::string_view* in) {
    uint32_t n = 0;
    if (!Varint32(in, &n) || in->size() < n) return false;
    in->remove_prefix(n);
    return true;
  }
  static uint64_t Le(std::string_view s, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) {
      v = (v << 8) | static_cast<uint8_t>(s[static_cast<size_t>(i)]);
    }
    return v;
  }

  void ScanBatch(std::string_view b) {
    if (b.size() < 12) return;
    const uint64_t seq = Le(b, 8);
    const uint32_t count = static_cast<uint32_t>(Le(b.substr(8), 4));
    if (!seen_.insert(seq).second) return;
    b.remove_prefix(12);
    int64_t cases = 0;
    while (!b.empty()) {
      const uint8_t tag = static_cast<uint8_t>(b.front());
      b.remove_prefix(1);
      uint32_t cf = 0;
      int slices = 0;
      switch (tag) {
        case 0x1:  // value
        case 0x2:  // merge
        case 0xF:  // range deletion
          slices = 2;
          break;
        case 0x0:  // deletion
        case 0x7:  // single deletion
        case 0x3:  // log data
          slices = 1;
          break;
        case 0x5:  // column family value
        case 0x6:  // column family merge
        case 0xE:  // column family range deletion
          if (!Varint32(&b, &cf)) return;
          slices = 2;
          break;
        case 0x4:  // column family deletion
        case 0x8:  // column family single deletion
          if (!Varint32(&b, &cf)) return;
          slices = 1;
          break;
        default:
          return;  // a record kind the engine does not write
      }
      for (int i = 0; i < slices; ++i) {
        if (!Slice(&b)) return;
      }
      if (tag == 0x5 && cf == kCasesColumnFamily) ++cases;
    }
    ++batches_;
    ops_ += count;
    case_writes_ += cases;
    max_cases_ = std::max(max_cases_, cases);
    ++by_cases_[cases];
  }

  void ScanFile(const fs::path& p) {
    const std::string data = ReadFile(p);
    std::string pending;
    bool fragmented = false;
    size_t pos = 0;
    while (pos + 7 <= data.size()) {
      const size_t left = kBlock - pos % kBlock;
      if (left < 7) {
        pos += left;
        continue;
      }
      const size_t len = static_cast<size_t>(Le(data.substr(pos + 4, 2), 2));
      int type = static_cast<uint8_t>(data[pos + 6]);
      size_t header = 7;
      if (type >= 5 && type <= 8) {  // recyclable record
        header = 11;
        type -= 4;
      }
      if (type == 0 && len == 0) {  // pre-allocated zeros
        pos += left;
        continue;
      }
      if (pos + header + len > data.size()) break;  // torn tail
      const std::string_view payload(data.data() + pos + header, len);
      pos += header + len;
      switch (type) {
        case 1:
          ScanBatch(payload);
          fragmented = false;
          break;
        case 2:
          pending.assign(payload);
          fragmented = true;
          break;
        case 3:
          if (fragmented) pending.append(payload);
          break;
        case 4:
          if (fragmented) {
            pending.append(payload);
            ScanBatch(pending);
          }
          fragmented = false;
          break;
        default:
          break;
      }
    }
  }

  std::set<uint64_t> seen_;
  int64_t batches_ = 0;
  int64_t ops_ = 0;
  int64_t case_writes_ = 0;
  int64_t max_cases_ = 0;
  std::map<int64_t, int64_t> by_cases_;
};

// ---- history legality ---------------------------------------------------

struct HistoryFigures {
  int64_t tasks_scheduled = 0;
  int64_t tasks_succeeded = 0;
  int64_t tasks_failed = 0;
  int64_t tasks_timed_out = 0;
  int64_t redelivered = 0;
  int64_t retries = 0;
  int64_t events = 0;
};

bool IsTerminal(const std::string& type) {
  return type == "ExecutionSucceeded" || type == "ExecutionFailed" ||
         type == "ExecutionCancelled";
}

// Checks one case's history against its final record; appends problems.
void CheckHistory(const v1::Case& c,
                  const std::vector<v1::HistoryEvent>& events,
                  HistoryFigures* fig, std::vector<std::string>* problems) {
  auto bad = [&](const std::string& what) {
    problems->push_back(c.id() + ": " + what);
  };
  if (events.empty()) {
    bad("empty history");
    return;
  }
  fig->events += static_cast<int64_t>(events.size());
  if (events.front().type() != "ExecutionStarted") {
    bad("history starts with " + events.front().type());
  }
  std::map<std::string, std::string> scheduled;  // task id -> state
  std::map<std::string, int> answers;            // task id -> answers
  std::map<std::string, int> succeeded_in;       // state -> TaskSucceeded
  std::map<std::string, int> failed_in;          // state -> TaskFailed
  int terminal = 0;
  int64_t wait_due = -1;
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::HistoryEvent& e = events[i];
    const std::string& type = e.type();
    const std::string at = " (#" + std::to_string(e.seq()) + " " + type + ")";
    if (e.seq() != static_cast<int64_t>(i) + 1) {
      bad("seq " + std::to_string(e.seq()) + " at position " +
          std::to_string(i + 1));
    }
    if (terminal > 0) bad("event after the terminal event" + at);
    if (IsTerminal(type)) ++terminal;
    if (type == "TaskScheduled") {
      ++fig->tasks_scheduled;
      if (e.task_id().empty()) bad("TaskScheduled without task id" + at);
      if (!scheduled.emplace(e.task_id(), e.state()).second) {
        bad("task " + e.task_id() + " scheduled twice" + at);
      }
    } else if (type == "TaskSucceeded" || type == "TaskFailed" ||
               type == "TaskTimedOut") {
      auto it = scheduled.find(e.task_id());
      if (it == scheduled.end()) {
        bad("answer to task " + e.task_id() + " never scheduled" + at);
      } else if (it->second != e.state()) {
        bad("answer to task " + e.task_id() + " in state " + e.state() +
            ", scheduled in " + it->second + at);
      }
      if (++answers[e.task_id()] > 1) {
        bad("task " + e.task_id() + " answered " +
            std::to_string(answers[e.task_id()]) + " times" + at);
      }
      if (type == "TaskSucceeded") {
        ++fig->tasks_succeeded;
        ++succeeded_in[e.state()];
      } else if (type == "TaskFailed") {
        ++fig->tasks_failed;
        ++failed_in[e.state()];
      } else {
        ++fig->tasks_timed_out;
      }
    } else if (type == "TaskRedelivered") {
      ++fig->redelivered;
      if (!scheduled.contains(e.task_id())) {
        bad("redelivery of task " + e.task_id() + " never scheduled" + at);
      } else if (answers[e.task_id()] > 0) {
        bad("redelivery of task " + e.task_id() + " already answered" + at);
      }
    } else if (type == "StateRetryScheduled") {
      ++fig->retries;
    } else if (type == "WaitStarted") {
      json d = json::parse(e.details_json(), nullptr, false);
      if (d.is_object() && d.contains("due_ms")) {
        wait_due = d["due_ms"].get<int64_t>();
      }
    } else if (type == "StateExited" && e.state() == "CoolOff") {
      if (wait_due < 0) {
        bad("CoolOff exited without WaitStarted" + at);
      } else if (e.at_ms() < wait_due) {
        bad("Wait fired " + std::to_string(wait_due - e.at_ms()) +
            " ms early" + at);
      }
    }
  }
  if (terminal != 1) {
    bad(std::to_string(terminal) + " terminal events");
  } else if (!IsTerminal(events.back().type())) {
    bad("last event is " + events.back().type());
  }
  const std::string& last = events.back().type();
  if (c.status() == v1::CASE_STATUS_SUCCEEDED) {
    if (last != "ExecutionSucceeded") bad("SUCCEEDED but last event " + last);
  } else if (c.status() == v1::CASE_STATUS_FAILED) {
    if (last != "ExecutionFailed") bad("FAILED but last event " + last);
  } else if (c.status() == v1::CASE_STATUS_CANCELLED) {
    if (last != "ExecutionCancelled") bad("CANCELLED but last event " + last);
  }
  for (const auto& [state, n] : failed_in) {
    if (n > kMaxAttempts + 1) {
      bad(state + " failed " + std::to_string(n) + " times, more than " +
          "MaxAttempts + 1");
    }
  }
  if (c.service() == kService && c.status() == v1::CASE_STATUS_SUCCEEDED) {
    for (const char* s : {"CheckA", "CheckB", "CheckC", "Issue"}) {
      if (succeeded_in[s] != 1) {
        bad(std::string(s) + " succeeded " +
            std::to_string(succeeded_in[s]) + " times");
      }
    }
  }
}

// ---- clients ----------------------------------------------------------

std::vector<v1::HistoryEvent> ReadHistory(v1::CaseService::Stub* stub,
                                          const std::string& id,
                                          grpc::Status* status) {
  std::vector<v1::HistoryEvent> out;
  for (int page = 0; page < 1000; ++page) {
    v1::GetCaseHistoryRequest req;
    req.set_case_id(id);
    req.set_after_seq(out.empty() ? 0 : out.back().seq());
    req.set_limit(1000);
    v1::GetCaseHistoryResponse resp;
    *status = stub->GetCaseHistory(Ctx(10000).get(), req, &resp);
    if (!status->ok()) return out;
    for (const auto& e : resp.events()) out.push_back(e);
    if (resp.events_size() < 1000) break;
  }
  return out;
}

std::unique_ptr<Process> StartSim(const std::string& addr,
                                  const std::string& dept, int latency_ms,
                                  double fail_rate, int concurrency,
                                  const std::string& log) {
  std::vector<std::string> argv{
      SIM_PATH,         "--department",
      dept,             "--addr",
      addr,             "--latency-ms",
      std::to_string(latency_ms),
      "--fail-rate",    std::to_string(fail_rate),
      "--concurrency",  std::to_string(concurrency),
      "--worker",       "sim-" + dept + "-" + std::to_string(latency_ms),
      "--summary-ms",   "2000"};
  for (auto& a : g_secure.SimArgs(dept)) argv.push_back(a);
  return std::make_unique<Process>(argv, log);
}

// What the submitters learned.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> acked;    // request id -> case id
  std::map<std::string, json> inputs;          // request id -> input sent
  std::set<std::string> unacked;               // gave up (bounded)
  std::vector<std::string> problems;
  std::map<std::string, int64_t> retry_codes;  // status code -> retries
  int64_t retried_ids = 0;                     // ids that needed a retry
};

class CrashTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && daemon_ != nullptr) {
      std::cerr << "---- server log " << daemon_->log_path() << " (tail) ----\n"
                << Tail(ReadFile(daemon_->log_path()), 6000) << "\n";
    }
    if (HasFailure() || EnvInt("OW_CRASH_KEEP", 0) != 0) {
      keep_ = true;
    }
    if (keep_) {
      const fs::path kept = fs::temp_directory_path() /
                            ("ow-crash-kept-" + std::to_string(getpid()));
      std::error_code ec;
      fs::rename(dir_.path(), kept, ec);
      if (!ec) {
        fs::create_directories(dir_.path(), ec);
        std::cerr << "data and logs kept in " << kept << "\n";
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<Daemon> daemon_;
  bool keep_ = false;
};

// One submitter: new request ids until `stop`, each retried with the same
// id until acknowledged or `give_up` passes.
void Submitter(int index, const std::string& addr, const std::string& tag,
               int gap_ms, const std::atomic<bool>* stop,
               const std::atomic<int64_t>* give_up_ms,
               SteadyClock::time_point t0, Ledger* ledger) {
  auto channel = FastChannel(addr);
  auto stub = v1::CaseService::NewStub(channel);
  std::mt19937 rng(static_cast<uint32_t>(index * 7919 + 1));
  for (int n = 0; !stop->load(); ++n) {
    const std::string rid =
        "crash-" + tag + "-" + std::to_string(index) + "-" + std::to_string(n);
    const json input = {{"n", index * 1000000 + n},
                        {"lane", n % 2 == 0 ? "express" : "standard"}};
    bool retried = false;
    for (;;) {
      v1::SubmitCaseRequest req;
      req.set_service(kService);
      req.set_input_json(input.dump());
      req.set_request_id(rid);
      v1::SubmitCaseResponse resp;
      auto ctx = Ctx(3000);
      grpc::Status s = stub->SubmitCase(ctx.get(), req, &resp);
      {
        std::lock_guard lock(ledger->mu);
        if (s.ok()) {
          ledger->acked[rid] = resp.case_id();
          ledger->inputs[rid] = input;
          if (retried) ++ledger->retried_ids;
          if (!retried && resp.deduplicated()) {
            ledger->problems.push_back("first submit of " + rid +
                                       " answered as deduplicated");
          }
          break;
        }
        if (!Retryable(s.error_code())) {
          ledger->problems.push_back("submit " + rid + ": code " +
                                     std::to_string(s.error_code()) + ": " +
                                     s.error_message());
          break;
        }
        ++ledger->retry_codes[std::to_string(s.error_code())];
        retried = true;
        if (MsSince(t0) > give_up_ms->load()) {
          ledger->unacked.insert(rid);
          ledger->inputs[rid] = input;
          return;
        }
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    std::this_thread::sleep_for(
        milliseconds(gap_ms / 2 + static_cast<int>(rng() % (gap_ms + 1))));
  }
}

// A worker that subscribes to CRB with a one-second lease and never answers
// on time: the lease runs out and the engine offers the task again under a
// new token. 1.5 s after taking a task it answers with the old token, which
// the engine must refuse unless that token is still current (no redelivery
// happened, e.g. the server restarted meanwhile).
class Straggler {
 public:
  explicit Straggler(std::string addr) : addr_(std::move(addr)) {
    reader_ = std::thread([this] { ReadLoop(); });
    answerer_ = std::thread([this] { AnswerLoop(); });
  }
  ~Straggler() { Stop(); }

  void Stop() {
    if (stop_.exchange(true)) return;
    {
      std::lock_guard lock(mu_);
      if (ctx_ != nullptr) ctx_->TryCancel();
    }
    reader_.join();
    answerer_.join();
  }

  int64_t taken() const { return taken_; }
  int64_t late_ok() const { return late_ok_; }
  int64_t late_refused() const { return late_refused_; }

 private:
  void ReadLoop() {
    auto channel = FastChannel(addr_);
    auto stub = v1::AdapterService::NewStub(channel);
    while (!stop_) {
      grpc::ClientContext ctx;
      {
        std::lock_guard lock(mu_);
        ctx_ = &ctx;
      }
      auto stream = stub->TaskStream(&ctx);
      v1::WorkerMessage sub;
      sub.mutable_subscribe()->set_department("CRB");
      sub.mutable_subscribe()->set_worker("straggler");
      sub.mutable_subscribe()->set_max_in_flight(2);
      sub.mutable_subscribe()->set_lease_ms(1000);
      v1::EngineMessage m;
      if (stream->Write(sub)) {
        while (!stop_ && stream->Read(&m)) {
          if (!m.has_task()) continue;
          ++taken_;
          std::lock_guard lock(mu_);
          held_.emplace_back(SteadyClock::now(), m.task().token());
        }
      }
      {
        std::lock_guard lock(mu_);
        ctx_ = nullptr;
      }
      ctx.TryCancel();
      stream->Finish();
      if (!stop_) std::this_thread::sleep_for(milliseconds(200));
    }
  }

  void AnswerLoop() {
    auto channel = FastChannel(addr_);
    auto stub = v1::AdapterService::NewStub(channel);
    while (!stop_) {
      std::vector<std::string> due;
      {
        std::lock_guard lock(mu_);
        while (!held_.empty() &&
               SteadyClock::now() - held_.front().first > milliseconds(1500)) {
          due.push_back(held_.front().second);
          held_.pop_front();
        }
      }
      for (const std::string& token : due) {
        v1::CompleteTaskRequest c;
        c.set_token(token);
        c.set_result_json(
            R"({"approved": true, "department": "CRB", "late": true})");
        v1::CompleteTaskResponse cr;
        grpc::Status s = stub->CompleteTask(Ctx(2000).get(), c, &cr);
        if (s.ok()) {
          ++late_ok_;
        } else if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                   s.error_code() == grpc::StatusCode::NOT_FOUND) {
          ++late_refused_;
        }
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
  }

  const std::string addr_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> taken_{0};
  std::atomic<int64_t> late_ok_{0};
  std::atomic<int64_t> late_refused_{0};
  std::mutex mu_;
  grpc::ClientContext* ctx_ = nullptr;  // GUARDED_BY(mu_)
  std::deque<std::pair<SteadyClock::time_point, std::string>>
      held_;  // GUARDED_BY(mu_)
  std::thread reader_;
  std::thread answerer_;
};

TEST_F(CrashTest, SigkillUnderLoad) {
  const int kills = static_cast<int>(EnvInt("OW_CRASH_KILLS", 5));
  const int64_t load_ms = EnvInt("OW_CRASH_SECONDS", 40) * 1000;
  const int min_ms = static_cast<int>(EnvInt("OW_CRASH_MIN_MS", 300));
  const int max_ms =
      std::max(min_ms, static_cast<int>(EnvInt("OW_CRASH_MAX_MS", 2000)));
  const int submitters = static_cast<int>(EnvInt("OW_CRASH_SUBMITTERS", 3));
  const int gap_ms = static_cast<int>(EnvInt("OW_CRASH_GAP_MS", 60));
  const int64_t quiesce_ms = EnvInt("OW_CRASH_QUIESCE_SECONDS", 90) * 1000;
  const uint64_t seed = static_cast<uint64_t>(
      EnvInt("OW_CRASH_SEED", static_cast<int64_t>(std::random_device{}())));
  std::mt19937_64 rng(seed);
  std::cout << "crash test: " << kills << " kills, intervals " << min_ms << "-"
            << max_ms << " ms, " << submitters << " submitters, seed " << seed
            << ", dir " << dir_.path() << std::endl;
  if (EnvInt("OW_CRASH_AUTH", 0) != 0) {
    ASSERT_TRUE(SetUpSecure(dir_.path())) << "openssl failed";
    std::cout << "crash test over TLS with an auth file" << std::endl;
  }
  const auto t0 = SteadyClock::now();

  daemon_ = std::make_unique<Daemon>(dir_.path() / "data", dir_.path(), "info");
  ASSERT_GE(daemon_->Start(), 0) << ReadFile(daemon_->log_path());
  {
    auto channel = FastChannel(daemon_->addr());
    auto wf = v1::WorkflowService::NewStub(channel);
    v1::DeployWorkflowRequest req;
    req.set_name(kService);
    req.set_definition(ReadFile(kCrashDir / "crash-flow.asl.yaml"));
    v1::DeployWorkflowResponse resp;
    grpc::Status s = wf->DeployWorkflow(Ctx().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  const std::string sim_log = (dir_.path() / "sims.log").string();
  std::vector<std::unique_ptr<Process>> sims;
  const std::string addr = daemon_->addr();
  sims.push_back(StartSim(addr, "CRA", 50, 0.2, 8, sim_log));
  sims.push_back(StartSim(addr, "CRB", 200, 0.0, 16, sim_log));
  sims.push_back(StartSim(addr, "CRB", 80, 0.0, 4, sim_log));
  sims.push_back(StartSim(addr, "CRC", 120, 0.2, 8, sim_log));
  sims.push_back(StartSim(addr, "CRD", 20, 0.1, 8, sim_log));

  Ledger ledger;
  std::atomic<bool> stop_new{false};
  std::atomic<int64_t> give_up_ms{INT64_MAX};
  const std::string tag = std::to_string(getpid());
  std::vector<std::thread> threads;
  for (int i = 0; i < submitters; ++i) {
    threads.emplace_back(Submitter, i, addr, tag, gap_ms, &stop_new,
                         &give_up_ms, t0, &ledger);
  }
  Straggler straggler(addr);

  // Kill schedule. One kill in eight strikes during start-up, before the
  // server serves (recovery, or listening not yet open).
  int survived = 0;
  int startup_kills = 0;
  std::vector<int64_t> serve_ms;
  std::vector<int64_t> recovered;
  std::vector<int64_t> recovery_ms;
  WalFigures wal;
  bool failed_start = false;
  for (int k = 0; k < kills && MsSince(t0) < load_ms; ++k) {
    std::this_thread::sleep_for(milliseconds(
        min_ms + static_cast<int>(rng() % static_cast<uint64_t>(
                                              max_ms - min_ms + 1))));
    daemon_->Kill();
    ++survived;
    wal.Scan(daemon_->data_dir());
    if (rng() % 8 == 0) {
      daemon_->Spawn();
      std::this_thread::sleep_for(milliseconds(rng() % 40));
      daemon_->Kill();
      ++startup_kills;
      ++survived;
      wal.Scan(daemon_->data_dir());
    }
    const int64_t up = daemon_->Start();
    if (up < 0) {
      failed_start = true;
      ADD_FAILURE() << "restart " << daemon_->starts() << " failed:\n"
                    << Tail(ReadFile(daemon_->log_path()), 4000);
      break;
    }
    serve_ms.push_back(up);
    int64_t n = 0, ms = 0;
    if (daemon_->RecoveryLine(&n, &ms)) {
      recovered.push_back(n);
      recovery_ms.push_back(ms);
    }
  }
  // Some load on the last server too, then let every pending id finish.
  std::this_thread::sleep_for(milliseconds(1500));
  stop_new = true;
  const int64_t end_of_load = MsSince(t0);
  give_up_ms = end_of_load + 30000;
  for (auto& t : threads) t.join();
  straggler.Stop();
  ASSERT_FALSE(failed_start);
  ASSERT_TRUE(daemon_->running()) << "server died after the last restart:\n"
                                  << Tail(ReadFile(daemon_->log_path()), 4000);

  auto channel = FastChannel(addr);
  auto cases = v1::CaseService::NewStub(channel);
  auto adapters = v1::AdapterService::NewStub(channel);

  // Quiesce: every acknowledged case reaches a terminal state.
  std::map<std::string, v1::Case> final_cases;
  std::set<std::string> pending;
  for (const auto& [rid, id] : ledger.acked) pending.insert(id);
  const auto q0 = SteadyClock::now();
  while (!pending.empty() && MsSince(q0) < quiesce_ms) {
    for (auto it = pending.begin(); it != pending.end();) {
      v1::GetCaseRequest req;
      req.set_case_id(*it);
      v1::GetCaseResponse resp;
      grpc::Status s = cases->GetCase(Ctx(5000).get(), req, &resp);
      if (s.ok() && resp.case_().status() != v1::CASE_STATUS_RUNNING) {
        final_cases[*it] = resp.case_();
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    if (!pending.empty()) std::this_thread::sleep_for(milliseconds(250));
  }
  const int64_t quiesced_in = MsSince(q0);
  std::vector<std::string> problems = ledger.problems;
  for (const std::string& rid : ledger.unacked) {
    problems.push_back("request " + rid + " never acknowledged");
  }
  for (const std::string& id : pending) {
    v1::GetCaseRequest req;
    req.set_case_id(id);
    v1::GetCaseResponse resp;
    grpc::Status s = cases->GetCase(Ctx(5000).get(), req, &resp);
    if (!s.ok()) {
      problems.push_back(id + ": acknowledged but GetCase says " +
                         std::to_string(s.error_code()) + " " +
                         s.error_message());
    } else {
      std::string states, depts;
      for (const auto& st : resp.case_().current_states()) states += st + " ";
      for (const auto& d : resp.case_().open_departments()) depts += d + " ";
      problems.push_back(id + ": not terminal after " +
                         std::to_string(quiesce_ms / 1000) +
                         " s; states [" + states + "] open departments [" +
                         depts + "]");
    }
  }

  for (auto& s : sims) s->Signal(SIGTERM);
  for (auto& s : sims) s->Wait(milliseconds(10000));

  // Final records: status and output legal.
  int64_t succeeded = 0, failed = 0;
  for (const auto& [rid, id] : ledger.acked) {
    auto it = final_cases.find(id);
    if (it == final_cases.end()) continue;
    const v1::Case& c = it->second;
    if (c.request_id() != rid) {
      problems.push_back(id + ": request id " + c.request_id() +
                         ", acknowledged for " + rid);
    }
    if (c.status() == v1::CASE_STATUS_SUCCEEDED) {
      ++succeeded;
      json out = json::parse(c.output_json(), nullptr, false);
      const json& in = ledger.inputs[rid];
      if (!out.is_object() || !out.contains("issued") ||
          out.value("n", json()) != in["n"] ||
          out.contains("stamp") != (in["lane"] == "standard")) {
        problems.push_back(id + ": unexpected output " + c.output_json());
      }
    } else if (c.status() == v1::CASE_STATUS_FAILED &&
               c.error() == "CrashTest.GaveUp") {
      ++failed;
    } else {
      problems.push_back(id + ": ended " + v1::CaseStatus_Name(c.status()) +
                         " " + c.error() + ": " + c.cause());
    }
  }

  // Every request id again: the same case, deduplicated.
  std::set<std::string> acked_ids;
  for (const auto& [rid, id] : ledger.acked) {
    acked_ids.insert(id);
    v1::SubmitCaseRequest req;
    req.set_service(kService);
    req.set_input_json(ledger.inputs[rid].dump());
    req.set_request_id(rid);
    v1::SubmitCaseResponse resp;
    grpc::Status s = cases->SubmitCase(Ctx(5000).get(), req, &resp);
    if (!s.ok()) {
      problems.push_back("resubmit " + rid + ": " + s.error_message());
    } else if (resp.case_id() != id || !resp.deduplicated()) {
      problems.push_back("resubmit " + rid + " gave " + resp.case_id() +
                         (resp.deduplicated() ? "" : " (new)") +
                         ", acknowledged " + id);
    }
  }
  if (acked_ids.size() != ledger.acked.size()) {
    problems.push_back(std::to_string(ledger.acked.size() - acked_ids.size()) +
                       " request ids share a case");
  }

  // The listing holds exactly the acknowledged cases.
  std::set<std::string> listed;
  std::string token;
  for (int page = 0; page < 10000; ++page) {
    v1::ListCasesRequest req;
    req.set_service(kService);
    req.set_limit(1000);
    req.set_page_token(token);
    v1::ListCasesResponse resp;
    grpc::Status s = cases->ListCases(Ctx(10000).get(), req, &resp);
    if (!s.ok()) {
      problems.push_back("ListCases: " + s.error_message());
      break;
    }
    for (const auto& c : resp.cases()) {
      if (!listed.insert(c.id()).second) {
        problems.push_back("ListCases returned " + c.id() + " twice");
      }
      if (!acked_ids.contains(c.id())) {
        problems.push_back(c.id() + " (request " + c.request_id() + ", " +
                           v1::CaseStatus_Name(c.status()) +
                           ") exists but was never acknowledged" +
                           (ledger.acked.contains(c.request_id())
                                ? "; its request id made case " +
                                      ledger.acked[c.request_id()]
                                : ""));
      }
    }
    token = resp.next_page_token();
    if (token.empty()) break;
  }
  for (const std::string& id : acked_ids) {
    if (!listed.contains(id)) problems.push_back(id + " missing from ListCases");
  }

  // Histories.
  HistoryFigures fig;
  for (const auto& [id, c] : final_cases) {
    grpc::Status s;
    std::vector<v1::HistoryEvent> h = ReadHistory(cases.get(), id, &s);
    if (!s.ok()) {
      problems.push_back(id + ": GetCaseHistory: " + s.error_message());
      continue;
    }
    CheckHistory(c, h, &fig, &problems);
  }

  // Nothing is offered for closed cases.
  for (const char* d : {"CRA", "CRB", "CRC", "CRD"}) {
    v1::ActivateTasksRequest req;
    req.set_department(d);
    req.set_max_tasks(100);
    req.set_lease_ms(60000);
    v1::ActivateTasksResponse resp;
    if (adapters->ActivateTasks(Ctx(5000).get(), req, &resp).ok()) {
      for (const auto& t : resp.tasks()) {
        problems.push_back("task " + t.token() + " of department " + d +
                           " offered after every case ended");
      }
    }
  }

  // A clean stop, and a last start that finds no open case.
  EXPECT_EQ(daemon_->Terminate(), 0) << "SIGTERM exit code";
  wal.Scan(daemon_->data_dir());
  const int64_t last_up = daemon_->Start();
  int64_t last_open = -1, last_ms = 0;
  if (last_up >= 0) daemon_->RecoveryLine(&last_open, &last_ms);
  if (pending.empty() && last_open != 0) {
    problems.push_back("every case ended, yet the last start recovered " +
                       std::to_string(last_open) + " open cases");
  }
  daemon_->Terminate();

  // The engine's own commit figures, when it logs them ("stats: ... N synced
  // commits, M commands ..." every 10 s while commits happen).
  int64_t logged_commits = 0, logged_commands = 0;
  {
    static const std::regex re(R"((\d+) synced commits, (\d+) commands)");
    for (int i = 1; i <= daemon_->starts(); ++i) {
      const std::string log = ReadFile(
          dir_.path() / ("onewindowd-" + std::to_string(i) + ".log"));
      for (std::sregex_iterator it(log.begin(), log.end(), re), end;
           it != end; ++it) {
        logged_commits += std::stoll((*it)[1]);
        logged_commands += std::stoll((*it)[2]);
      }
    }
  }
  auto avg = [](const std::vector<int64_t>& v) {
    int64_t s = 0;
    for (int64_t x : v) s += x;
    return v.empty() ? 0 : s / static_cast<int64_t>(v.size());
  };
  auto max = [](const std::vector<int64_t>& v) {
    return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
  };
  std::ostringstream sum;
  sum << "==== crash test summary (seed " << seed << ") ====\n"
      << "kills survived:      " << survived << " (" << startup_kills
      << " during start-up), " << serve_ms.size() << " restarts served\n"
      << "restart to serving:  avg " << avg(serve_ms) << " ms, max "
      << max(serve_ms) << " ms; open cases recovered per restart avg "
      << avg(recovered) << ", max " << max(recovered)
      << "; recovery scan max " << max(recovery_ms) << " ms\n"
      << "load phase:          " << end_of_load / 1000.0 << " s, "
      << ledger.acked.size() << " submits acknowledged, " << ledger.retried_ids
      << " of them after a retry (";
  for (const auto& [code, n] : ledger.retry_codes) {
    sum << "code " << code << ": " << n << " ";
  }
  sum << "failed attempts)\n"
      << "quiesce:             " << quiesced_in / 1000.0 << " s\n"
      << "cases checked:       " << final_cases.size() << " (" << succeeded
      << " succeeded, " << failed << " failed legitimately), " << listed.size()
      << " listed, " << fig.events << " history events\n"
      << "tasks:               " << fig.tasks_scheduled << " scheduled, "
      << fig.tasks_succeeded + fig.tasks_failed + fig.tasks_timed_out
      << " answered (" << fig.tasks_succeeded << " succeeded, "
      << fig.tasks_failed << " failed, " << fig.tasks_timed_out
      << " timed out), " << fig.retries << " retries, " << fig.redelivered
      << " lease-expiry redeliveries\n"
      << "straggler:           " << straggler.taken()
      << " tasks abandoned, late answers " << straggler.late_ok()
      << " accepted (token still current), " << straggler.late_refused()
      << " refused\n";
  if (wal.batches() > 0) {
    sum << "group commits (WAL): " << wal.batches() << " synced batches, "
        << static_cast<double>(wal.ops()) / wal.batches()
        << " keys/batch, " << static_cast<double>(wal.case_writes()) /
                                  wal.batches()
        << " cases/batch avg, max " << wal.max_cases() << "; batches by cases:";
    int shown = 0;
    for (const auto& [n, b] : wal.by_cases()) {
      if (++shown > 12) {
        sum << " ...";
        break;
      }
      sum << " " << n << ":" << b;
    }
    sum << "\n";
  }
  if (logged_commits > 0) {
    sum << "group commits (log): " << logged_commits << " synced commits, "
        << static_cast<double>(logged_commands) / logged_commits
        << " commands/commit (10 s windows the server lived through)\n";
  } else {
    sum << "group commits (log): none logged (the server logs commit figures "
           "every 10 s at most; no window completed)\n";
  }
  sum << "last start:          " << last_open << " open cases recovered\n"
      << "violations:          " << problems.size() << "\n";
  for (size_t i = 0; i < problems.size() && i < 40; ++i) {
    sum << "  " << problems[i] << "\n";
  }
  std::cout << sum.str() << std::flush;
  EXPECT_TRUE(problems.empty()) << problems.size() << " violations";
  EXPECT_FALSE(ledger.acked.empty());
}

// ---- recovery figures ---------------------------------------------------

// Submits `count` hold cases from `threads` threads; returns how many were
// acknowledged.
int64_t SubmitHold(const std::string& addr, int64_t first, int64_t count,
                   int threads) {
  std::atomic<int64_t> next{first};
  std::atomic<int64_t> acked{0};
  const int64_t end = first + count;
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i) {
    ts.emplace_back([&] {
      auto channel = FastChannel(addr);
      auto stub = v1::CaseService::NewStub(channel);
      for (int64_t n = next++; n < end; n = next++) {
        v1::SubmitCaseRequest req;
        req.set_service(kHoldService);
        req.set_input_json(json{{"n", n},
                                {"lane", n % 2 == 0 ? "wait" : "task"}}
                               .dump());
        req.set_request_id("hold-" + std::to_string(n));
        for (int attempt = 0; attempt < 50; ++attempt) {
          v1::SubmitCaseResponse resp;
          grpc::Status s = stub->SubmitCase(Ctx(10000).get(), req, &resp);
          if (s.ok()) {
            ++acked;
            break;
          }
          std::this_thread::sleep_for(milliseconds(100));
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  return acked.load();
}

TEST(Recovery, OpenCases) {
  const char* spec = std::getenv("OW_RECOVERY_CASES");
  if (spec == nullptr || *spec == '\0') {
    GTEST_SKIP() << "set OW_RECOVERY_CASES, e.g. 10000,100000";
  }
  std::vector<int64_t> targets;
  {
    std::stringstream ss(spec);
    std::string item;
    while (std::getline(ss, item, ',')) targets.push_back(std::stoll(item));
    std::sort(targets.begin(), targets.end());
  }
  const int threads = static_cast<int>(EnvInt("OW_RECOVERY_THREADS", 16));
  TempDir dir;
  Daemon d(dir.path() / "data", dir.path(), "info");
  const int64_t first_up = d.Start();
  ASSERT_GE(first_up, 0) << ReadFile(d.log_path());
  {
    auto channel = FastChannel(d.addr());
    auto wf = v1::WorkflowService::NewStub(channel);
    v1::DeployWorkflowRequest req;
    req.set_name(kHoldService);
    req.set_definition(ReadFile(kCrashDir / "hold.asl.yaml"));
    v1::DeployWorkflowResponse resp;
    grpc::Status s = wf->DeployWorkflow(Ctx().get(), req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  std::this_thread::sleep_for(milliseconds(1000));
  const int64_t base_rss = d.RssKb();
  // The same for a restart of the empty store (recovered, nothing open).
  d.Kill();
  const int64_t empty_up = d.Start();
  ASSERT_GE(empty_up, 0);
  std::this_thread::sleep_for(milliseconds(1000));
  const int64_t empty_rss = d.RssKb();
  std::printf(
      "==== recovery figures ====\n"
      "empty store: start to serving %lld ms (first start %lld ms), RSS %lld "
      "KiB (%lld KiB before the restart)\n",
      static_cast<long long>(empty_up), static_cast<long long>(first_up),
      static_cast<long long>(empty_rss), static_cast<long long>(base_rss));
  std::fflush(stdout);

  int64_t open = 0;
  for (int64_t target : targets) {
    const auto s0 = SteadyClock::now();
    const int64_t got = SubmitHold(d.addr(), open, target - open, threads);
    const int64_t submit_ms = MsSince(s0);
    ASSERT_EQ(got, target - open) << "submits not acknowledged";
    open = target;
    std::this_thread::sleep_for(milliseconds(1000));
    const int64_t live_rss = d.RssKb();
    std::printf(
        "%lld open cases: submitted %lld in %.1f s (%.0f/s, %d threads); RSS "
        "while live %lld KiB\n",
        static_cast<long long>(open), static_cast<long long>(got),
        submit_ms / 1000.0, got * 1000.0 / std::max<int64_t>(submit_ms, 1),
        threads, static_cast<long long>(live_rss));
    std::fflush(stdout);
    for (int round = 0; round < 2; ++round) {
      d.Kill();
      const int64_t up = d.Start(milliseconds(600000));
      ASSERT_GE(up, 0) << Tail(ReadFile(d.log_path()), 4000);
      int64_t n = -1, ms = -1;
      d.RecoveryLine(&n, &ms);
      EXPECT_EQ(n, open);
      std::this_thread::sleep_for(milliseconds(1500));
      const int64_t rss = d.RssKb();
      // Recovered tasks are offered again: the department's queue is full.
      auto channel = FastChannel(d.addr());
      auto adapters = v1::AdapterService::NewStub(channel);
      v1::ActivateTasksRequest req;
      req.set_department("NOBODY");
      req.set_max_tasks(100);
      req.set_lease_ms(3600000);
      v1::ActivateTasksResponse resp;
      ASSERT_TRUE(adapters->ActivateTasks(Ctx(10000).get(), req, &resp).ok());
      EXPECT_EQ(resp.tasks_size(), std::min<int64_t>(100, open / 2));
      std::printf(
          "  SIGKILL + restart %d: start to serving %lld ms; engine log: %lld "
          "open cases recovered in %lld ms; RSS %lld KiB; (RSS - empty "
          "restart RSS) / open case = %.2f KiB\n",
          round + 1, static_cast<long long>(up), static_cast<long long>(n),
          static_cast<long long>(ms), static_cast<long long>(rss),
          static_cast<double>(rss - empty_rss) / static_cast<double>(open));
      std::fflush(stdout);
    }
  }
  d.Terminate();
}

}  // namespace
}  // namespace onewindow::testing
