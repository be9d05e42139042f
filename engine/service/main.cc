// onewindowd: the OneWindow engine server.
//
//   onewindowd [--config FILE] [--listen 127.0.0.1:50051] [--data-dir ./data]
//              [--workflows DIR] [--log-level info] [--shards N]
//              [--max-payload-bytes N]
//
// Flags override the config file (YAML with the same keys, dashes or
// underscores). SIGTERM or SIGINT drains: the server stops taking calls,
// finishes what it holds, closes the store and exits 0.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/service/services.h"
#include "scheduler/engine.h"

namespace {

namespace fs = std::filesystem;
using onewindow::scheduler::Engine;
using onewindow::scheduler::EngineOptions;

struct Config {
  std::string listen = "127.0.0.1:50051";
  std::string data_dir = "./data";
  std::string workflows;
  std::string log_level = "info";
  int shards = 2;
  int64_t max_payload_bytes = 256 * 1024;
};

bool LoadConfigFile(const std::string& path, Config* c, std::string* err) {
  try {
    YAML::Node n = YAML::LoadFile(path);
    auto get = [&](const char* a, const char* b) -> YAML::Node {
      if (n[a]) return n[a];
      return n[b];
    };
    if (auto v = get("listen", "listen")) c->listen = v.as<std::string>();
    if (auto v = get("data-dir", "data_dir")) c->data_dir = v.as<std::string>();
    if (auto v = get("workflows", "workflows")) c->workflows = v.as<std::string>();
    if (auto v = get("log-level", "log_level")) c->log_level = v.as<std::string>();
    if (auto v = get("shards", "shards")) c->shards = v.as<int>();
    if (auto v = get("max-payload-bytes", "max_payload_bytes")) {
      c->max_payload_bytes = v.as<int64_t>();
    }
  } catch (const std::exception& e) {
    *err = e.what();
    return false;
  }
  return true;
}

// "food-licence.asl.yaml" -> "food-licence"; "x.json" -> "x".
std::string WorkflowName(const fs::path& p) {
  std::string name = p.filename().string();
  size_t asl = name.find(".asl");
  if (asl != std::string::npos) return name.substr(0, asl);
  return p.stem().string();
}

int DeployDirectory(Engine* engine, const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    spdlog::error("--workflows {}: not a directory", dir);
    return -1;
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string f = e.path().filename().string();
    if (!e.is_regular_file()) continue;
    if (f.find(".asl.") == std::string::npos) continue;  // inputs, docs...
    const std::string ext = e.path().extension().string();
    if (ext == ".json" || ext == ".yaml" || ext == ".yml") {
      files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  int failed = 0;
  for (const auto& p : files) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    auto res = engine->registry().Deploy(
        WorkflowName(p), ss.str(), onewindow::asl::SourceFormat::kAuto,
        "deployed from " + p.string(), engine->clock().NowMs());
    if (!res.ok()) {
      spdlog::error("workflow {}: {}", p.string(), res.status().ToString());
      ++failed;
      continue;
    }
    spdlog::info("workflow {}@{} {} from {}", res->name, res->version,
                 res->created ? "deployed" : "unchanged", p.string());
  }
  return failed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"onewindowd: the OneWindow case-routing engine"};
  std::string config_file;
  Config cfg;
  Config flags;
  app.add_option("--config", config_file, "YAML config file");
  auto* o_listen = app.add_option("--listen", flags.listen,
                                  "address to serve gRPC on (host:port)");
  auto* o_data = app.add_option("--data-dir", flags.data_dir,
                                "RocksDB data directory");
  auto* o_wf = app.add_option("--workflows", flags.workflows,
                              "deploy every *.asl.{yaml,yml,json} in DIR at start");
  auto* o_log = app.add_option("--log-level", flags.log_level,
                               "trace|debug|info|warn|error");
  auto* o_shards = app.add_option("--shards", flags.shards,
                                  "shards of a NEW store (fixed afterwards)");
  auto* o_cap = app.add_option("--max-payload-bytes", flags.max_payload_bytes,
                               "cap on a case input or task result");
  CLI11_PARSE(app, argc, argv);

  if (!config_file.empty()) {
    std::string err;
    if (!LoadConfigFile(config_file, &cfg, &err)) {
      fprintf(stderr, "onewindowd: --config %s: %s\n", config_file.c_str(),
              err.c_str());
      return 2;
    }
  }
  if (*o_listen) cfg.listen = flags.listen;
  if (*o_data) cfg.data_dir = flags.data_dir;
  if (*o_wf) cfg.workflows = flags.workflows;
  if (*o_log) cfg.log_level = flags.log_level;
  if (*o_shards) cfg.shards = flags.shards;
  if (*o_cap) cfg.max_payload_bytes = flags.max_payload_bytes;

  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  // Block the stop signals in every thread; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::error_code ec;
  fs::create_directories(cfg.data_dir, ec);
  EngineOptions eo;
  eo.data_dir = cfg.data_dir;
  eo.shards = cfg.shards;
  eo.max_payload_bytes = cfg.max_payload_bytes;
  auto engine = Engine::Open(eo);
  if (!engine.ok()) {
    spdlog::critical("cannot open the engine: {}", engine.status().ToString());
    return 1;
  }
  if (!cfg.workflows.empty() && DeployDirectory(engine->get(), cfg.workflows) < 0) {
    return 1;
  }

  onewindow::service::CaseServiceImpl cases(engine->get());
  onewindow::service::WorkflowServiceImpl workflows(engine->get());
  onewindow::service::AdapterServiceImpl adapters(engine->get());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(cfg.listen, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::max<int64_t>(4 << 20, cfg.max_payload_bytes * 2)));
  builder.RegisterService(&cases);
  builder.RegisterService(&workflows);
  builder.RegisterService(&adapters);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::critical("cannot listen on {}", cfg.listen);
    return 1;
  }
  spdlog::info("onewindowd serving on {} (data {})", cfg.listen, cfg.data_dir);

  // Wait for a stop signal; meanwhile log the commit figures every 10 s
  // when they moved (commands per synced batch shows group commit at work).
  int sig = 0;
  onewindow::scheduler::EngineStats last = (*engine)->stats();
  for (;;) {
    timespec ten_seconds{10, 0};
    sig = sigtimedwait(&stop_signals, nullptr, &ten_seconds);
    if (sig > 0) break;
    onewindow::scheduler::EngineStats now = (*engine)->stats();
    const int64_t commits = now.commits - last.commits;
    if (commits > 0) {
      const int64_t commands = now.committed_commands - last.committed_commands;
      spdlog::info(
          "stats: {} open cases; last 10 s: {} synced commits, {} commands "
          "({:.1f} per commit); largest batch so far {}",
          now.open_cases, commits, commands,
          static_cast<double>(commands) / static_cast<double>(commits),
          now.max_batch_commands);
    }
    last = now;
  }
  spdlog::info("signal {}: draining", sig);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  (*engine)->Shutdown();
  spdlog::info("stopped");
  return 0;
}
