// gRPC front of the engine: CaseService, WorkflowService, AdapterService,
// AdminService, and gRPC health (grpc.health.v1).
//
// Thin on purpose: each handler authenticates the call (auth.h), converts
// the request, calls the Api (which decides access and calls the engine)
// and converts its absl::Status into a grpc::Status with the same code.
//
// Every method uses gRPC's asynchronous API on one completion queue that
// one thread (ow-grpc) polls. gRPC's callback API serves its reactors from a
// shared queue polled by two threads of its own, which wake each other for
// each message: at moderate load those threads took a third of the server's
// CPU per case. And any callback service on the server (gRPC's built-in
// health service is one) brings them back, as they poll every connection.
// The Api never blocks that thread: reads and compilation run on the
// engine's reader threads, commands on its shards.
#ifndef ONEWINDOW_ENGINE_SERVICE_SERVICES_H_
#define ONEWINDOW_ENGINE_SERVICE_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "engine/service/api.h"
#include "engine/service/auth.h"

namespace onewindow::service {

grpc::Status ToGrpc(const absl::Status& s);

// What every service needs: the Api, the authenticator, and a hook counting
// replies (method, status code) for metrics.
struct ServiceContext {
  Api* api;
  Authenticator* auth;
  std::function<void(std::string_view method, int code)> count;
  // Streams open now (task streams and watchers), for metrics.
  std::atomic<int64_t> task_streams{0};
  std::atomic<int64_t> watch_streams{0};
};

// The services on one completion queue and its thread.
//
//   grpc::ServerBuilder builder;
//   GrpcServices services(&sctx, &builder);  // registers them, adds the queue
//   auto server = builder.BuildAndStart();
//   services.Start();
//   ...
//   services.SetServing(false);  // health reports NOT_SERVING
//   server->Shutdown(deadline);
//   services.Stop();             // also what the destructor does
//
// Completions (a call arriving, a read, a write done, a call ending) run on
// the queue's thread; writes and replies start on whichever thread has them
// ready, usually a shard's after its commit. The object must outlive the
// server.
class GrpcServices {
 public:
  GrpcServices(ServiceContext* sc, grpc::ServerBuilder* builder);
  ~GrpcServices();
  GrpcServices(const GrpcServices&) = delete;
  GrpcServices& operator=(const GrpcServices&) = delete;

  // After the server has started: waits for calls and starts the thread.
  void Start();
  // What gRPC health reports for the server and each service.
  void SetServing(bool serving);
  // After the server's Shutdown has returned: ends the queue, runs what is
  // left in it and joins the thread. Idempotent.
  void Stop();

  // The services and what the call objects share (services.cc).
  struct Shared;

 private:
  std::unique_ptr<Shared> shared_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::thread poller_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace onewindow::service

#endif  // ONEWINDOW_ENGINE_SERVICE_SERVICES_H_
