#include "engine/service/metrics.h"

#include <cstdio>
#include <map>
#include <sstream>

#include "engine/service/services.h"

namespace onewindow::service {
namespace {

std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

const char* CodeName(int code) {
  static const char* kNames[] = {
      "OK",        "CANCELLED",          "UNKNOWN",        "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND",  "ALREADY_EXISTS", "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",       "UNAVAILABLE",    "DATA_LOSS",
      "UNAUTHENTICATED"};
  return code >= 0 && code <= 16 ? kNames[code] : "UNKNOWN";
}

class Out {
 public:
  void Help(const char* name, const char* type, const char* help) {
    o_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " "
       << type << "\n";
  }
  void Line(const std::string& name_and_labels, double v) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", v);
    o_ << name_and_labels << " " << buf << "\n";
  }
  void Histogram(const char* name, const scheduler::Histogram::Snapshot& s) {
    for (size_t i = 0; i < s.bounds.size(); ++i) {
      char le[32];
      std::snprintf(le, sizeof(le), "%g", s.bounds[i]);
      Line(std::string(name) + "_bucket{le=\"" + le + "\"}",
           static_cast<double>(s.cumulative[i]));
    }
    Line(std::string(name) + "_bucket{le=\"+Inf\"}",
         static_cast<double>(s.count));
    Line(std::string(name) + "_sum", s.sum);
    Line(std::string(name) + "_count", static_cast<double>(s.count));
  }
  std::string str() const { return o_.str(); }

 private:
  std::ostringstream o_;
};

}  // namespace

void Metrics::CountRequest(std::string_view method, int code) {
  std::lock_guard lock(mu_);
  ++grpc_[{std::string(method), code}];
}

void Metrics::CountHttp(std::string_view route, int status) {
  std::lock_guard lock(mu_);
  ++http_[{std::string(route), status}];
}

std::string Metrics::Render(scheduler::Engine& engine,
                            const ServiceContext* sc) {
  namespace v1 = onewindow::v1;
  Out out;
  absl::StatusOr<v1::Board> board = engine.BoardNow();
  if (board.ok()) {
    std::map<std::string, int64_t> submitted, open;
    for (const auto& c : board->cases()) {
      submitted[c.service()] += c.count();
      if (c.status() == v1::CASE_STATUS_RUNNING) open[c.service()] += c.count();
    }
    out.Help("onewindow_cases_submitted_total", "counter",
             "Cases submitted, by service.");
    for (const auto& [s, n] : submitted) {
      out.Line("onewindow_cases_submitted_total{service=\"" + Escape(s) +
                   "\"}",
               static_cast<double>(n));
    }
    out.Help("onewindow_cases_ended_total", "counter",
             "Cases that ended, by service and final status.");
    for (const auto& c : board->cases()) {
      if (c.status() == v1::CASE_STATUS_RUNNING) continue;
      std::string status = v1::CaseStatus_Name(c.status());
      status = status.substr(std::string("CASE_STATUS_").size());
      out.Line("onewindow_cases_ended_total{service=\"" + Escape(c.service()) +
                   "\",status=\"" + status + "\"}",
               static_cast<double>(c.count()));
    }
    out.Help("onewindow_cases_open", "gauge", "Running cases, by service.");
    for (const auto& [s, n] : open) {
      out.Line("onewindow_cases_open{service=\"" + Escape(s) + "\"}",
               static_cast<double>(n));
    }
    out.Help("onewindow_cases_overdue", "gauge",
             "Running cases past their statutory due date, by service.");
    for (const auto& o : board->overdue()) {
      out.Line("onewindow_cases_overdue{service=\"" + Escape(o.service()) +
                   "\"}",
               static_cast<double>(o.count()));
    }
    out.Help("onewindow_tasks_open", "gauge",
             "Open tasks, by department.");
    for (const auto& d : board->departments()) {
      out.Line("onewindow_tasks_open{department=\"" + Escape(d.department()) +
                   "\"}",
               static_cast<double>(d.open_tasks()));
    }
    out.Help("onewindow_task_oldest_age_seconds", "gauge",
             "Age of the oldest open task, by department.");
    for (const auto& d : board->departments()) {
      out.Line("onewindow_task_oldest_age_seconds{department=\"" +
                   Escape(d.department()) + "\"}",
               static_cast<double>(d.oldest_task_age_s()));
    }
  }
  out.Help("onewindow_commit_duration_seconds", "histogram",
           "Time of one synced group commit.");
  out.Histogram("onewindow_commit_duration_seconds",
                engine.commit_seconds().Read());
  out.Help("onewindow_commit_batch_commands", "histogram",
           "Commands carried by one group commit.");
  out.Histogram("onewindow_commit_batch_commands",
                engine.commit_commands().Read());

  const scheduler::EngineStats st = engine.stats();
  out.Help("onewindow_commit_failures_total", "counter",
           "Group commits the store refused (their commands were answered "
           "UNAVAILABLE).");
  out.Line("onewindow_commit_failures_total",
           static_cast<double>(st.commit_failures));
  out.Help("onewindow_commit_window_waits_total", "counter",
           "Group commits held open for more commands because the shard's "
           "arrival rate said more would come.");
  out.Line("onewindow_commit_window_waits_total",
           static_cast<double>(st.commit_window_waits));
  out.Help("onewindow_commands_queued", "gauge",
           "Commands waiting for the shard loops.");
  out.Line("onewindow_commands_queued",
           static_cast<double>(st.queued_commands));
  out.Help("onewindow_cases_resident", "gauge", "Open cases held in memory.");
  out.Line("onewindow_cases_resident", static_cast<double>(st.resident_cases));
  out.Help("onewindow_cases_loaded_total", "counter",
           "Open cases rebuilt from the store (after a restart or eviction).");
  out.Line("onewindow_cases_loaded_total",
           static_cast<double>(st.loaded_cases));
  out.Help("onewindow_commands_replayed_total", "counter",
           "Commands replayed rebuilding cases.");
  out.Line("onewindow_commands_replayed_total",
           static_cast<double>(st.replayed_commands));
  out.Help("onewindow_timers", "gauge", "Durable timers armed.");
  out.Line("onewindow_timers", static_cast<double>(st.timers));
  out.Help("onewindow_recovery_seconds", "gauge",
           "Time from start to serving at the last start.");
  out.Line("onewindow_recovery_seconds",
           static_cast<double>(st.recovery_ms) / 1000.0);
  out.Help("onewindow_tasks_ready_in_memory", "gauge",
           "Tasks waiting for a worker, held in memory, by department.");
  for (const auto& [d, n] : engine.dispatcher().ReadyByDepartment()) {
    out.Line("onewindow_tasks_ready_in_memory{department=\"" + Escape(d) +
                 "\"}",
             static_cast<double>(n));
  }
  out.Help("onewindow_tasks_leased", "gauge", "Tasks leased to workers.");
  out.Line("onewindow_tasks_leased",
           static_cast<double>(engine.dispatcher().LeasedCount()));
  if (sc != nullptr) {
    out.Help("onewindow_task_streams", "gauge", "Open worker task streams.");
    out.Line("onewindow_task_streams", static_cast<double>(sc->task_streams));
    out.Help("onewindow_watch_streams", "gauge", "Open WatchCase streams.");
    out.Line("onewindow_watch_streams", static_cast<double>(sc->watch_streams));
  }
  const store::StoreStats ss = engine.store().Stats();
  out.Help("onewindow_store_live_bytes", "gauge",
           "Estimated live data in the store.");
  out.Line("onewindow_store_live_bytes", static_cast<double>(ss.live_bytes));
  out.Help("onewindow_store_sst_bytes", "gauge", "Store files on disk.");
  out.Line("onewindow_store_sst_bytes", static_cast<double>(ss.sst_bytes));
  out.Help("onewindow_store_memtable_bytes", "gauge",
           "Store write buffers in memory.");
  out.Line("onewindow_store_memtable_bytes",
           static_cast<double>(ss.memtable_bytes));
  out.Help("onewindow_store_pending_compaction_bytes", "gauge",
           "Bytes the store estimates it still has to compact.");
  out.Line("onewindow_store_pending_compaction_bytes",
           static_cast<double>(ss.pending_compaction_bytes));
  {
    std::lock_guard lock(mu_);
    out.Help("onewindow_grpc_requests_total", "counter",
             "gRPC calls answered, by method and status code.");
    for (const auto& [k, n] : grpc_) {
      out.Line("onewindow_grpc_requests_total{method=\"" + Escape(k.first) +
                   "\",code=\"" + CodeName(k.second) + "\"}",
               static_cast<double>(n));
    }
    out.Help("onewindow_http_requests_total", "counter",
             "HTTP requests answered, by route and status.");
    for (const auto& [k, n] : http_) {
      out.Line("onewindow_http_requests_total{route=\"" + Escape(k.first) +
                   "\",status=\"" + std::to_string(k.second) + "\"}",
               static_cast<double>(n));
    }
  }
  return out.str();
}

}  // namespace onewindow::service
