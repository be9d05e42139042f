// ow-bench: drives a running onewindowd with cases and reports throughput
// and submit-to-terminal latency.
//
//   ow-bench --addr A --service NAME --data FILE --cases N --concurrency C
//            [--rate R] [--warmup N] [--json]
//            [--in-process-departments DSF,CB,IAM]
//
// Closed loop (no --rate): C submitters; each submits a case, waits for it to
// end, then submits the next. Open loop (--rate R): case i is due at
// t0 + i/R whatever completes; at most --max-in-flight cases are out at once
// (a due case waits for room and counts as late). Open-loop latency is taken
// from the time a case was DUE, not from when it could be sent, so a stalled
// engine is not hidden (no coordinated omission).
//
// How completion is detected: one WatchCase stream per phase, filtered on
// the service (batched frames), tells the driver of every case's status
// change as it commits; a case's latency runs from its start (due or sent
// time) to the arrival of its terminal change. No polling, exact to the microsecond of
// arrival; a change that arrives before its submit's reply is kept until
// the reply comes.
//
// Tasks per case are counted once at the end from the history of a sample
// of succeeded cases (TaskScheduled events).

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "adapters/sdk/client_options.h"
#include "adapters/sdk/worker.h"
#include "nlohmann/json.hpp"
#include "onewindow/v1/cases.grpc.pb.h"
#include "onewindow/v1/workflows.grpc.pb.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using onewindow::v1::CaseService;
using onewindow::v1::CaseStatus;

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

bool Terminal(CaseStatus s) {
  return s == onewindow::v1::CASE_STATUS_SUCCEEDED ||
         s == onewindow::v1::CASE_STATUS_FAILED ||
         s == onewindow::v1::CASE_STATUS_CANCELLED;
}

struct Options {
  std::string addr = "127.0.0.1:50051";
  std::string service = "food-licence";
  std::string data;
  int64_t cases = 1000;
  int concurrency = 8;
  double rate = 0;  // 0 = closed loop
  int64_t warmup = 0;
  bool json = false;
  std::string departments;  // in-process workers
  int dept_concurrency = 8;
  int dept_max_in_flight = 256;
  int64_t max_in_flight = 4096;  // open loop bound
  double timeout_s = 300;
  bool request_ids = true;
  bool submit_only = false;
  double wait_ready_s = 0;
  int64_t since_ns = 0;
  std::string label;
  std::string latency_log;
  int64_t list_pages = 0;  // --list: measure ListCases pages instead
  std::string list_filter = "none";
  onewindow::adapter::CredentialFlags cred_flags;
  // Loaded from cred_flags in main().
  onewindow::adapter::ClientCredentials creds;
  std::shared_ptr<grpc::ChannelCredentials> channel_creds;
};

// The channel credentials of every call: TLS when asked for, with the
// bearer token attached to each call (gRPC sends call credentials only over
// TLS; without TLS the token cannot be used and main() refuses it).
std::shared_ptr<grpc::ChannelCredentials> BenchCredentials(const Options& o) {
  if (!o.creds.tls.enabled) return grpc::InsecureChannelCredentials();
  if (o.creds.bearer_token.empty()) return o.channel_creds;
  return grpc::CompositeChannelCredentials(
      o.channel_creds, grpc::AccessTokenCredentials(o.creds.bearer_token));
}

// Results of one phase.
struct PhaseResult {
  int64_t submitted = 0;
  int64_t completed = 0;  // SUCCEEDED
  int64_t failed = 0;     // FAILED / CANCELLED / submit refused
  int64_t unfinished = 0;
  int64_t late_submits = 0;
  int64_t polls = 0;       // ListCases calls
  int64_t poll_cases = 0;  // cases those calls returned
  double elapsed_s = 0;
  double bracket_ms_sum = 0;
  double window_s = 0;  // open loop: t0 .. last case due
  int64_t window_completed = 0;
  std::vector<double> latencies_ms;
  // Each succeeded case's start, in ms since the phase began, beside its
  // latency (latencies_ms in the same order): when the slow ones started.
  std::vector<double> start_offsets_ms;
  // Where the time before the engine runs a case goes, as the driver sees
  // it: open loop, how late each submit left after its due time (the
  // driver itself behind); every case, submit sent to its reply handled.
  std::vector<double> send_delay_ms;
  std::vector<double> submit_reply_ms;
  std::vector<std::string> sample_ids;
  // Cases submitted whose end the watch never showed (first few), and
  // submits never answered, when the phase ended by its timeout.
  std::vector<std::string> unfinished_ids;
  int64_t unanswered_submits = 0;
  std::string first_error;
};

// Drives one phase on one thread; a second thread only drains the
// completion queue into a list the driver reads.
class Driver {
 public:
  Driver(std::shared_ptr<grpc::Channel> channel, const Options& opts,
         std::string input)
      : stub_(CaseService::NewStub(channel)),
        opts_(opts),
        input_(std::move(input)),
        run_nonce_(std::to_string(::getpid()) + "-" +
                   std::to_string(Clock::now().time_since_epoch().count())) {
    cq_thread_ = std::thread([this] { DrainQueue(); });
  }

  ~Driver() {
    cq_.Shutdown();
    cq_thread_.join();
  }

  PhaseResult Run(int64_t n, const std::string& phase) {
    res_ = PhaseResult{};
    phase_ = phase;
    n_ = n;
    next_index_ = 0;
    submits_in_flight_ = 0;
    pending_.clear();
    ended_early_.clear();
    completion_times_.clear();
    if (!opts_.submit_only) {
      // The watch must be in place before the first case is submitted: a
      // case that ends before it would never be seen to end.
      StartWatch();
      const auto until = Clock::now() + std::chrono::seconds(10);
      while (!watch_started_ && watch_ != nullptr && Clock::now() < until) {
        PumpEvents(std::chrono::milliseconds(50));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const bool open = opts_.rate > 0;
    const auto t0 = Clock::now();
    t0_ = t0;
    const auto end_by =
        t0 + std::chrono::duration_cast<Clock::duration>(
                 std::chrono::duration<double>(opts_.timeout_s));
    auto due = [&](int64_t i) {
      return t0 + std::chrono::duration_cast<Clock::duration>(
                      std::chrono::duration<double>(i / opts_.rate));
    };
    if (!open) {
      for (int i = 0; i < opts_.concurrency && next_index_ < n_; ++i) {
        SubmitNext(Clock::now());
      }
    }
    while (true) {
      auto now = Clock::now();
      if (open) {
        while (next_index_ < n_ && due(next_index_) <= now &&
               InFlight() < opts_.max_in_flight) {
          const auto d = due(next_index_);
          if (now - d > std::chrono::milliseconds(1)) ++res_.late_submits;
          SubmitNext(d);
        }
      }
      if (next_index_ >= n_ && submits_in_flight_ == 0 &&
          (pending_.empty() || opts_.submit_only)) {
        break;
      }
      if (now >= end_by) break;
      auto deadline = end_by;
      if (open && next_index_ < n_ && InFlight() < opts_.max_in_flight) {
        deadline = std::min(deadline, due(next_index_));
      }
      std::vector<std::pair<void*, bool>> events;
      {
        std::unique_lock lock(mu_);
        cv_.wait_until(lock, deadline, [&] { return !events_.empty(); });
        events.swap(events_);
      }
      for (auto& [tag, ok] : events) {
        auto* op = static_cast<Op*>(tag);
        op->Done(this, ok);
        delete op;
      }
    }
    const auto t1 = last_completion_ > t0 ? last_completion_ : Clock::now();
    res_.elapsed_s = std::chrono::duration<double>(t1 - t0).count();
    if (open && n_ > 0) {
      // Achieved rate while the schedule ran: completions before the last
      // case was due, over that span (a few stragglers at the end do not
      // dilute it).
      const auto last_due = due(n_ - 1);
      res_.window_s = std::chrono::duration<double>(last_due - t0).count();
      for (const auto& e : completion_times_) {
        if (e <= last_due) ++res_.window_completed;
      }
    }
    res_.unfinished = static_cast<int64_t>(pending_.size()) +
                      submits_in_flight_ + (n_ - next_index_);
    res_.unanswered_submits = submits_in_flight_;
    for (const auto& [id, p] : pending_) {
      if (res_.unfinished_ids.size() >= 20) break;
      res_.unfinished_ids.push_back(id);
    }
    // Outstanding RPCs must finish before the next phase reuses the state.
    StopWatch();
    while (submits_in_flight_ > 0 || watch_ != nullptr) {
      std::vector<std::pair<void*, bool>> events;
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(100),
                     [&] { return !events_.empty(); });
        events.swap(events_);
      }
      for (auto& [tag, ok] : events) {
        auto* op = static_cast<Op*>(tag);
        op->Done(this, ok);
        delete op;
      }
    }
    return std::move(res_);
  }

  // Task executions per case, from the history of up to 20 cases.
  double TasksPerCase(const std::vector<std::string>& ids) {
    int64_t tasks = 0, n = 0;
    for (const std::string& id : ids) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
      onewindow::v1::GetCaseHistoryRequest req;
      req.set_case_id(id);
      req.set_limit(1000);
      onewindow::v1::GetCaseHistoryResponse resp;
      if (!stub_->GetCaseHistory(&ctx, req, &resp).ok()) continue;
      for (const auto& e : resp.events()) {
        if (e.type() == "TaskScheduled") ++tasks;
      }
      ++n;
    }
    return n ? static_cast<double>(tasks) / static_cast<double>(n) : 0;
  }

 private:
  struct Op {
    virtual ~Op() = default;
    virtual void Done(Driver* d, bool ok) = 0;
  };
  struct SubmitOp : Op {
    grpc::ClientContext ctx;
    onewindow::v1::SubmitCaseRequest req;
    onewindow::v1::SubmitCaseResponse resp;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<
        onewindow::v1::SubmitCaseResponse>>
        rpc;
    Clock::time_point start;  // when the case was due (open) or sent
    Clock::time_point sent;
    void Done(Driver* d, bool ok) override { d->OnSubmitted(this, ok); }
  };
  // The phase's WatchCase stream: one op per read.
  struct Watch {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientAsyncReader<onewindow::v1::WatchCaseResponse>>
        rpc;
    onewindow::v1::WatchCaseResponse resp;
    grpc::Status status;
    bool finishing = false;
  };
  struct WatchOp : Op {
    enum Kind { kStarted, kRead, kFinished } kind;
    explicit WatchOp(Kind k) : kind(k) {}
    void Done(Driver* d, bool ok) override { d->OnWatch(this, ok); }
  };
  struct Pending {
    Clock::time_point start;
    Clock::time_point lower;  // the case was still running after this
  };

  void DrainQueue() {
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
      {
        std::lock_guard lock(mu_);
        events_.emplace_back(tag, ok);
      }
      cv_.notify_one();
    }
  }

  int64_t InFlight() const {
    return submits_in_flight_ + static_cast<int64_t>(pending_.size());
  }

  void SubmitNext(Clock::time_point start) {
    const int64_t i = next_index_++;
    auto* op = new SubmitOp;
    op->req.set_service(opts_.service);
    op->req.set_input_json(input_);
    if (opts_.request_ids) {
      op->req.set_request_id("bench-" + run_nonce_ + "-" + phase_ + "-" +
                             std::to_string(i));
    }
    op->ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    op->sent = Clock::now();
    op->start = opts_.rate > 0 ? start : op->sent;
    if (opts_.rate > 0) res_.send_delay_ms.push_back(Ms(op->sent - start));
    op->rpc = stub_->AsyncSubmitCase(&op->ctx, op->req, &cq_);
    op->rpc->Finish(&op->resp, &op->status, op);
    ++submits_in_flight_;
    ++res_.submitted;
  }

  void OnSubmitted(SubmitOp* op, bool ok) {
    --submits_in_flight_;
    res_.submit_reply_ms.push_back(Ms(Clock::now() - op->sent));
    const std::string id = op->resp.case_id();
    if (!ok || !op->status.ok() || id.empty()) {
      ++res_.failed;
      if (res_.first_error.empty()) {
        res_.first_error = "SubmitCase: " + op->status.error_message();
      }
      last_completion_ = Clock::now();
      if (opts_.rate <= 0 && next_index_ < n_) SubmitNext(Clock::now());
      return;
    }
    if (opts_.submit_only) {
      ++res_.completed;
      last_completion_ = Clock::now();
      if (opts_.rate <= 0 && next_index_ < n_) SubmitNext(Clock::now());
      return;
    }
    auto early = ended_early_.find(id);
    if (early != ended_early_.end()) {
      // Its end arrived before the submit's reply.
      const auto [status, at] = early->second;
      ended_early_.erase(early);
      Finished(id, Pending{op->start, op->sent}, status, at);
      return;
    }
    pending_[id] = Pending{op->start, op->sent};
  }

  void PumpEvents(Clock::duration wait) {
    std::vector<std::pair<void*, bool>> events;
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, wait, [&] { return !events_.empty(); });
      events.swap(events_);
    }
    for (auto& [tag, ok] : events) {
      auto* op = static_cast<Op*>(tag);
      op->Done(this, ok);
      delete op;
    }
  }

  void StartWatch() {
    watch_started_ = false;
    watch_ = std::make_unique<Watch>();
    onewindow::v1::WatchCaseRequest req;
    req.set_service(opts_.service);
    req.set_batch_frames(true);
    watch_->rpc = stub_->AsyncWatchCase(&watch_->ctx, req, &cq_,
                                        new WatchOp(WatchOp::kStarted));
  }

  void StopWatch() {
    if (watch_ != nullptr) watch_->ctx.TryCancel();
  }

  void OnWatch(WatchOp* op, bool ok) {
    if (watch_ == nullptr) return;
    if (op->kind == WatchOp::kFinished) {
      if (!watch_->status.ok() &&
          watch_->status.error_code() != grpc::StatusCode::CANCELLED &&
          res_.first_error.empty()) {
        res_.first_error = "WatchCase: " + watch_->status.error_message();
      }
      watch_.reset();
      return;
    }
    if (!ok) {
      if (!watch_->finishing) {
        watch_->finishing = true;
        watch_->rpc->Finish(&watch_->status, new WatchOp(WatchOp::kFinished));
      }
      return;
    }
    if (op->kind == WatchOp::kStarted) watch_started_ = true;
    if (op->kind == WatchOp::kRead) {
      const auto recv = Clock::now();
      if (watch_->resp.has_change()) Changed(watch_->resp.change(), recv);
      for (const auto& c : watch_->resp.changes().changes()) Changed(c, recv);
    }
    watch_->rpc->Read(&watch_->resp, new WatchOp(WatchOp::kRead));
  }

  void Changed(const onewindow::v1::CaseChange& c, Clock::time_point recv) {
    if (!Terminal(c.status())) return;
    auto it = pending_.find(c.case_id());
    if (it == pending_.end()) {
      ended_early_[c.case_id()] = {c.status(), recv};
    } else {
      Pending p = it->second;
      pending_.erase(it);
      Finished(c.case_id(), p, c.status(), recv);
    }
  }

  void Finished(const std::string& id, const Pending& p, CaseStatus status,
                Clock::time_point end) {
    const double lat = Ms(end - p.start);
    if (status == onewindow::v1::CASE_STATUS_SUCCEEDED) {
      ++res_.completed;
      res_.latencies_ms.push_back(lat);
      res_.start_offsets_ms.push_back(Ms(p.start - t0_));
      if (res_.sample_ids.size() < 20) res_.sample_ids.push_back(id);
    } else {
      ++res_.failed;
      if (res_.first_error.empty()) {
        res_.first_error = "case " + id + " ended " +
                           onewindow::v1::CaseStatus_Name(status);
      }
    }
    last_completion_ = end;
    if (opts_.rate > 0) completion_times_.push_back(end);
    if (opts_.rate <= 0 && next_index_ < n_) SubmitNext(Clock::now());
  }

  std::unique_ptr<CaseService::Stub> stub_;
  Clock::time_point t0_;
  const Options& opts_;
  const std::string input_;
  const std::string run_nonce_;
  grpc::CompletionQueue cq_;
  std::thread cq_thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<void*, bool>> events_;  // GUARDED_BY(mu_)

  // Driver-thread state.
  PhaseResult res_;
  std::string phase_;
  int64_t n_ = 0;
  int64_t next_index_ = 0;
  int64_t submits_in_flight_ = 0;
  std::map<std::string, Pending> pending_;
  std::map<std::string, std::pair<CaseStatus, Clock::time_point>>
      ended_early_;
  std::unique_ptr<Watch> watch_;
  bool watch_started_ = false;
  std::vector<Clock::time_point> completion_times_;
  Clock::time_point last_completion_{};
};

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(rank);
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double f = rank - static_cast<double>(lo);
  return sorted[lo] * (1 - f) + sorted[hi] * f;
}

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// Waits until the server answers; prints ms since --since-ns (wall clock).
int WaitReady(const Options& o) {
  const auto until = Clock::now() +
                     std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(o.wait_ready_s));
  while (Clock::now() < until) {
    // A fresh channel (own subchannel pool) per attempt: a channel that saw
    // the port closed would wait out gRPC's reconnect backoff (about 1 s and
    // growing) and that, not the server, would be measured.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto channel = grpc::CreateCustomChannel(o.addr, BenchCredentials(o), args);
    auto stub = onewindow::v1::WorkflowService::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(200));
    onewindow::v1::ListWorkflowsRequest req;
    onewindow::v1::ListWorkflowsResponse resp;
    if (stub->ListWorkflows(&ctx, req, &resp).ok()) {
      const int64_t now_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
      const double ms =
          o.since_ns > 0 ? static_cast<double>(now_ns - o.since_ns) / 1e6 : 0;
      std::printf("{\"ready\": true, \"ready_ms\": %.1f}\n", ms);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::printf("{\"ready\": false}\n");
  return 1;
}

// Times `o.list_pages` ListCases calls of 50 cases with one filter, walking
// the pages with their tokens (starting over at the end), and prints the
// latency percentiles as JSON.
int ListBench(const Options& o, const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = onewindow::v1::CaseService::NewStub(channel);
  std::vector<double> ms;
  std::string token;
  int64_t returned = 0;
  for (int64_t i = 0; i < o.list_pages; ++i) {
    onewindow::v1::ListCasesRequest req;
    req.set_limit(50);
    req.set_page_token(token);
    if (o.list_filter == "service") req.set_service(o.service);
    if (o.list_filter == "running") {
      req.set_status(onewindow::v1::CASE_STATUS_RUNNING);
    }
    if (o.list_filter == "department") req.set_department("DSF");
    if (o.list_filter == "applicant") req.set_applicant("chan tai man");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    onewindow::v1::ListCasesResponse resp;
    const auto t0 = Clock::now();
    grpc::Status s = stub->ListCases(&ctx, req, &resp);
    ms.push_back(Ms(Clock::now() - t0));
    if (!s.ok()) {
      std::fprintf(stderr, "ow-bench: ListCases: %s\n", s.error_message().c_str());
      return 1;
    }
    returned += resp.cases_size();
    token = resp.next_page_token();
  }
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms.empty() ? 0.0
                      : ms[std::min(ms.size() - 1,
                                    static_cast<size_t>(p * ms.size()))];
  };
  std::printf(
      "{\"label\": \"%s\", \"list_filter\": \"%s\", \"pages\": %lld, "
      "\"cases_returned\": %lld, \"list_p50_ms\": %.3f, \"list_p99_ms\": "
      "%.3f, \"list_max_ms\": %.3f}\n",
      o.label.c_str(), o.list_filter.c_str(),
      static_cast<long long>(o.list_pages), static_cast<long long>(returned),
      pct(0.5), pct(0.99), ms.empty() ? 0.0 : ms.back());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"ow-bench: load driver for a running onewindowd"};
  app.add_option("--addr", o.addr, "engine address host:port");
  app.add_option("--service", o.service, "workflow (service code) to submit");
  app.add_option("--data", o.data, "case input JSON file");
  app.add_option("--cases", o.cases, "cases to measure")->check(
      CLI::NonNegativeNumber);
  app.add_option("--concurrency", o.concurrency,
                 "closed loop: concurrent submitters")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate", o.rate, "open loop: cases/s (0 = closed loop)");
  app.add_option("--warmup", o.warmup, "unmeasured cases first");
  app.add_flag("--json", o.json, "print one JSON object");
  app.add_option("--in-process-departments", o.departments,
                 "comma-separated departments served by in-process workers");
  app.add_option("--dept-concurrency", o.dept_concurrency,
                 "handler threads per in-process department");
  app.add_option("--dept-max-in-flight", o.dept_max_in_flight,
                 "tasks in flight per in-process department");
  app.add_option("--max-in-flight", o.max_in_flight,
                 "open loop: most cases out at once");
  app.add_option("--timeout-s", o.timeout_s, "bound on each phase");
  app.add_flag("!--no-request-ids", o.request_ids,
               "submit without request ids (no dedup lookups)");
  app.add_flag("--submit-only", o.submit_only,
               "submit and do not wait for cases to end");
  app.add_option("--wait-ready", o.wait_ready_s,
                 "only wait (up to S s) until the server answers");
  app.add_option("--since-ns", o.since_ns,
                 "with --wait-ready: report ms since this wall-clock time");
  app.add_option("--label", o.label, "label copied into the JSON");
  app.add_option("--latency-log", o.latency_log,
                 "write each measured case's start (ms into the phase) and "
                 "latency (ms) to this file, one case per line");
  app.add_option("--list", o.list_pages,
                 "only time this many ListCases pages (50 cases each)");
  app.add_option("--list-filter", o.list_filter,
                 "with --list: none, service, running, department or applicant");
  app.add_option("--token-file", o.cred_flags.token_file,
                 "bearer token for the engine (default $ONEWINDOW_TOKEN)");
  app.add_option("--tls-ca", o.cred_flags.tls_ca,
                 "TLS to the engine: CA certificates (PEM)");
  app.add_option("--tls-cert", o.cred_flags.tls_cert,
                 "client certificate (PEM) for mutual TLS");
  app.add_option("--tls-key", o.cred_flags.tls_key,
                 "client private key (PEM) for mutual TLS");
  CLI11_PARSE(app, argc, argv);
  {
    auto creds = onewindow::adapter::LoadClientCredentials(
        o.cred_flags, std::getenv("ONEWINDOW_TOKEN"));
    if (!creds.ok()) {
      std::fprintf(stderr, "ow-bench: %s\n",
                   std::string(creds.status().message()).c_str());
      return 2;
    }
    o.creds = *std::move(creds);
    if (!o.creds.bearer_token.empty() && !o.creds.tls.enabled) {
      std::fprintf(stderr, "ow-bench: a token needs TLS (--tls-ca)\n");
      return 2;
    }
    if (o.creds.tls.enabled) {
      auto made = onewindow::adapter::MakeChannelCredentials(o.creds.tls);
      if (!made.ok()) {
        std::fprintf(stderr, "ow-bench: %s\n",
                     std::string(made.status().message()).c_str());
        return 2;
      }
      o.channel_creds = *made;
    }
  }

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(o.addr, BenchCredentials(o), args);
  if (o.wait_ready_s > 0) return WaitReady(o);
  if (o.list_pages > 0) return ListBench(o, channel);
  // The worker SDK logs through spdlog: keep stdout for the result.
  spdlog::set_default_logger(spdlog::stderr_color_mt("ow-bench"));
  spdlog::set_level(spdlog::level::warn);

  std::string input = R"({"applicant": {"name": "Bench"}, "premises": {}})";
  if (!o.data.empty()) {
    std::ifstream in(o.data);
    if (!in) {
      std::fprintf(stderr, "ow-bench: cannot read %s\n", o.data.c_str());
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    input = ss.str();
  }
  if (!Json::accept(input)) {
    std::fprintf(stderr, "ow-bench: %s is not JSON\n", o.data.c_str());
    return 2;
  }
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(10))) {
    std::fprintf(stderr, "ow-bench: cannot connect to %s\n", o.addr.c_str());
    return 1;
  }

  std::vector<std::unique_ptr<onewindow::adapter::Worker>> workers;
  for (const std::string& dept : SplitComma(o.departments)) {
    onewindow::adapter::WorkerOptions wo;
    wo.address = o.addr;
    wo.department = dept;
    wo.worker = "bench-" + dept;
    onewindow::adapter::ApplyTo(o.creds, &wo);
    wo.concurrency = o.dept_concurrency;
    wo.max_in_flight = o.dept_max_in_flight;
    const std::string result =
        Json{{"approved", true}, {"department", dept}}.dump();
    workers.push_back(std::make_unique<onewindow::adapter::Worker>(
        wo, [result](onewindow::adapter::TaskContext&) {
          return onewindow::adapter::TaskResult::Complete(result);
        }));
    workers.back()->Start();
  }
  for (auto& w : workers) {
    const auto until = Clock::now() + std::chrono::seconds(10);
    while (!w->stats().connected && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  PhaseResult r;
  double tasks_per_case = 0;
  {
    Driver driver(channel, o, input);
    if (o.warmup > 0) {
      PhaseResult w = driver.Run(o.warmup, "w");
      if (!o.json) {
        std::fprintf(stderr, "warm-up: %lld cases, %lld failed, %.2f s\n",
                     static_cast<long long>(w.completed),
                     static_cast<long long>(w.failed), w.elapsed_s);
      }
    }
    r = driver.Run(o.cases, "m");
    if (!o.submit_only) tasks_per_case = driver.TasksPerCase(r.sample_ids);
  }
  for (auto& w : workers) w->Stop();

  if (!o.latency_log.empty()) {
    std::FILE* f = std::fopen(o.latency_log.c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "ow-bench: cannot write %s\n",
                   o.latency_log.c_str());
      return 2;
    }
    std::fprintf(f, "start_ms latency_ms\n");
    for (size_t i = 0; i < r.latencies_ms.size(); ++i) {
      std::fprintf(f, "%.3f %.3f\n", r.start_offsets_ms[i], r.latencies_ms[i]);
    }
    std::fclose(f);
  }
  std::vector<double> lat = r.latencies_ms;
  std::sort(lat.begin(), lat.end());
  std::vector<double> send_delay = r.send_delay_ms;
  std::sort(send_delay.begin(), send_delay.end());
  std::vector<double> submit_reply = r.submit_reply_ms;
  std::sort(submit_reply.begin(), submit_reply.end());
  double mean = 0;
  for (double v : lat) mean += v;
  if (!lat.empty()) mean /= static_cast<double>(lat.size());
  double cps =
      r.elapsed_s > 0 ? static_cast<double>(r.completed) / r.elapsed_s : 0;
  if (o.rate > 0 && r.window_s > 1) {
    cps = static_cast<double>(r.window_completed) / r.window_s;
  }
  const int64_t ended = r.completed + r.failed;
  Json out = {
      {"label", o.label},
      {"mode", o.submit_only ? "submit-only"
                             : (o.rate > 0 ? "open" : "closed")},
      {"cases", o.cases},
      {"concurrency", o.rate > 0 ? 0 : o.concurrency},
      {"rate", o.rate},
      {"warmup", o.warmup},
      {"submitted", r.submitted},
      {"completed", r.completed},
      {"failed", r.failed},
      {"unfinished", r.unfinished},
      {"elapsed_s", r.elapsed_s},
      {"open_window_s", r.window_s},
      {"overall_cases_per_s",
       r.elapsed_s > 0 ? static_cast<double>(r.completed) / r.elapsed_s : 0},
      {"completed_cases_per_s", cps},
      {"tasks_per_case", tasks_per_case},
      {"tasks_per_s", cps * tasks_per_case},
      {"p50_ms", Percentile(lat, 0.50)},
      {"p90_ms", Percentile(lat, 0.90)},
      {"p99_ms", Percentile(lat, 0.99)},
      {"p999_ms", Percentile(lat, 0.999)},
      {"mean_ms", mean},
      {"max_ms", lat.empty() ? 0.0 : lat.back()},
      {"late_submits", r.late_submits},
      {"send_delay_p99_ms", Percentile(send_delay, 0.99)},
      {"submit_reply_p99_ms", Percentile(submit_reply, 0.99)},
      {"polls", r.polls},
      {"polls_per_case",
       ended ? static_cast<double>(r.polls) / static_cast<double>(ended) : 0},
      {"cases_per_poll", r.polls ? static_cast<double>(r.poll_cases) /
                                       static_cast<double>(r.polls)
                                 : 0},
      {"latency_resolution_ms",
       ended ? r.bracket_ms_sum / static_cast<double>(ended) : 0},
      {"in_process_departments", o.departments},
      {"first_error", r.first_error},
      {"unfinished_ids", r.unfinished_ids},
      {"unanswered_submits", r.unanswered_submits},
  };
  if (o.json) {
    std::printf("%s\n", out.dump().c_str());
  } else {
    std::printf(
        "%s loop: %lld cases (%lld failed, %lld unfinished) in %.2f s\n"
        "  %.1f cases/s, %.1f tasks/s (%.2f tasks/case)\n"
        "  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n"
        "  p99 ms before the engine: submit sent late %.2f (open loop), "
        "submit reply %.2f\n"
        "  (completion seen on a WatchCase stream)%s%s\n",
        o.rate > 0 ? "open" : "closed", static_cast<long long>(r.completed),
        static_cast<long long>(r.failed),
        static_cast<long long>(r.unfinished), r.elapsed_s, cps,
        cps * tasks_per_case, tasks_per_case, Percentile(lat, 0.5),
        Percentile(lat, 0.9), Percentile(lat, 0.99), Percentile(lat, 0.999),
        lat.empty() ? 0.0 : lat.back(), Percentile(send_delay, 0.99),
        Percentile(submit_reply, 0.99),
        r.first_error.empty() ? "" : "\n  first error: ",
        r.first_error.c_str());
  }
  if (r.unfinished > 0) {
    std::string ids;
    for (const auto& id : r.unfinished_ids) ids += " " + id;
    std::fprintf(stderr,
                 "ow-bench: %lld unfinished: %lld submits unanswered; no end "
                 "seen for:%s\n",
                 static_cast<long long>(r.unfinished),
                 static_cast<long long>(r.unanswered_submits), ids.c_str());
  }
  return r.failed > 0 || r.unfinished > 0 ? 3 : 0;
}
