// Metrics in the Prometheus text format (served at /metrics): what the
// engine counts in its store (cases by service and status, overdue cases,
// open tasks by department), its own figures (commits, queues, memory,
// recovery), the store's size and the gRPC calls by method and code.
// Thread-safe.
#ifndef ONEWINDOW_ENGINE_SERVICE_METRICS_H_
#define ONEWINDOW_ENGINE_SERVICE_METRICS_H_

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "scheduler/engine.h"

namespace onewindow::service {

struct ServiceContext;

class Metrics {
 public:
  // Counts one reply of `method` with gRPC status `code`.
  void CountRequest(std::string_view method, int code);
  // Counts one HTTP reply.
  void CountHttp(std::string_view route, int status);

  // The whole exposition text. Reads the counters from the store (a few
  // hundred keys): cheap enough to scrape every second.
  std::string Render(scheduler::Engine& engine, const ServiceContext* sc);

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> grpc_;  // GUARDED_BY(mu_)
  std::map<std::pair<std::string, int>, uint64_t> http_;  // GUARDED_BY(mu_)
};

}  // namespace onewindow::service

#endif  // ONEWINDOW_ENGINE_SERVICE_METRICS_H_
