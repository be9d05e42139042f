// onewindowd: the OneWindow engine server.
//
//   onewindowd [--config FILE] [--check-config] [--listen 127.0.0.1:50051]
//              [--data-dir ./data] [--workflows DIR] [--calendar-dir DIR]
//              [--log-level info] [--log-format text|json] [--shards N]
//              [--max-payload-bytes N] [--auth-file F] [--insecure]
//              [--tls-cert F --tls-key F [--tls-client-ca F]]
//              [--http-listen ADDR] [--backup-dir DIR --backup-every 6h
//              --backup-keep N] [--max-open-cases N] [--max-resident-cases N]
//              [--max-queued-per-shard N] [--commit-window-us N]
//              [--max-calls-per-principal N]
//              [--max-streams-per-principal N] [--max-map-items N]
//              [--max-open-tasks-per-case N] [--max-states-per-call N]
//              [--max-history-events N] [--max-json-depth N]
//              [--max-definition-bytes N] [--max-definition-states N]
//
// Every setting is a key of the YAML config file (engine/service/config.h,
// deploy/onewindow.yaml); flags override the file. --check-config prints
// the effective settings and exits (0, or 2 naming what is wrong).
// SIGTERM or SIGINT drains: the server stops taking calls, finishes what it
// holds, closes the store and exits 0. SIGHUP re-reads the auth file.
#include <grpc/support/log.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/synchronization/mutex.h"
#include "engine/service/auth.h"
#include "engine/service/backup_scheduler.h"
#include "engine/service/config.h"
#include "engine/service/http/server.h"
#include "engine/service/metrics.h"
#include "engine/service/services.h"
#include "scheduler/engine.h"
#include "scheduler/manifest_rules.h"

namespace {

namespace fs = std::filesystem;
using onewindow::scheduler::Engine;
using onewindow::scheduler::EngineOptions;
using onewindow::service::Config;

// Exit codes.
constexpr int kExitFailed = 1;  // the store, the port, a workflow
constexpr int kExitConfig = 2;  // usage, settings, credentials files

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
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
    std::string text;
    ReadFile(p.string(), &text);
    // NAME.service.yaml beside NAME.asl.yaml is its manifest.
    std::string manifest;
    const fs::path mf = p.parent_path() / (WorkflowName(p) + ".service.yaml");
    if (engine->options().rules_factory && fs::exists(mf, ec)) {
      ReadFile(mf.string(), &manifest);
    }
    auto res = engine->registry().Deploy(
        WorkflowName(p), text, onewindow::asl::SourceFormat::kAuto,
        "deployed from " + p.string(), engine->clock().NowMs(), manifest,
        "onewindowd", "admin");
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

// gRPC's own log lines go through spdlog, so that they share its format
// (one JSON object per line with --log-format json).
void GrpcLog(gpr_log_func_args* args) {
  const spdlog::level::level_enum level =
      args->severity == GPR_LOG_SEVERITY_ERROR  ? spdlog::level::err
      : args->severity == GPR_LOG_SEVERITY_INFO ? spdlog::level::info
                                                : spdlog::level::debug;
  spdlog::log(level, "grpc {}:{}: {}", args->file, args->line, args->message);
}

// Reads the command line and the config file into `cfg`. Returns -1 to go
// on, else the exit code.
int LoadSettings(int argc, char** argv, Config* cfg) {
  CLI::App app{"onewindowd: the OneWindow case-routing engine"};
  std::string config_file;
  bool check_config = false;
  app.add_option("--config", config_file,
                 "YAML config file (keys as the flags, dashes or "
                 "underscores); flags override it");
  app.add_flag("--check-config", check_config,
               "print the effective settings as YAML and exit");
  const auto& fields = onewindow::service::Fields();
  std::vector<std::string> values(fields.size());
  std::vector<bool> switches(fields.size(), false);
  std::vector<CLI::Option*> options(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& f = fields[i];
    if (f.value_name.empty()) {
      options[i] = app.add_flag_function(
          f.flag, [&switches, i](int64_t n) { switches[i] = n > 0; }, f.help);
    } else {
      options[i] =
          app.add_option(f.flag, values[i], f.help)->type_name(f.value_name);
    }
  }
  CLI11_PARSE(app, argc, argv);

  if (!config_file.empty()) {
    absl::Status s = onewindow::service::LoadConfigFile(config_file, cfg);
    if (!s.ok()) {
      std::fprintf(stderr, "onewindowd: --config %s\n",
                   std::string(s.message()).c_str());
      return kExitConfig;
    }
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (options[i]->count() == 0) continue;
    const std::string text = fields[i].value_name.empty()
                                 ? (switches[i] ? "true" : "false")
                                 : values[i];
    absl::Status s = onewindow::service::SetField(cfg, fields[i].key, text);
    if (!s.ok()) {
      std::fprintf(stderr, "onewindowd: %s: %s\n", fields[i].flag.c_str(),
                   std::string(s.message()).c_str());
      return kExitConfig;
    }
  }
  if (absl::Status s = onewindow::service::CheckConfig(*cfg); !s.ok()) {
    std::fprintf(stderr, "onewindowd: %s\n", std::string(s.message()).c_str());
    return kExitConfig;
  }
  if (check_config) {
    std::fputs(onewindow::service::ConfigToYaml(*cfg).c_str(), stdout);
    return 0;
  }
  return -1;
}

// Server credentials from the TLS settings (plaintext without them).
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const Config& cfg,
                                                           bool* ok) {
  *ok = true;
  if (cfg.tls_cert.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  if (!ReadFile(cfg.tls_cert, &pair.cert_chain) ||
      !ReadFile(cfg.tls_key, &pair.private_key)) {
    spdlog::critical("cannot read --tls-cert {} or --tls-key {}", cfg.tls_cert,
                     cfg.tls_key);
    *ok = false;
    return nullptr;
  }
  ssl.pem_key_cert_pairs.push_back(pair);
  if (!cfg.tls_client_ca.empty()) {
    if (!ReadFile(cfg.tls_client_ca, &ssl.pem_root_certs)) {
      spdlog::critical("cannot read --tls-client-ca {}", cfg.tls_client_ca);
      *ok = false;
      return nullptr;
    }
    // A client certificate is checked when given; callers without one
    // must present a token.
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

EngineOptions EngineOptionsFrom(const Config& cfg) {
  EngineOptions eo;
  eo.data_dir = cfg.data_dir;
  eo.shards = cfg.shards;
  eo.max_payload_bytes = cfg.max_payload_bytes;
  eo.max_open_cases = cfg.max_open_cases;
  eo.max_resident_cases = cfg.max_resident_cases;
  eo.max_queued_per_shard = static_cast<size_t>(cfg.max_queued_per_shard);
  eo.commit_window_us = cfg.commit_window_us;
  eo.limits.set_max_map_items(cfg.max_map_items);
  eo.limits.set_max_open_tasks(cfg.max_open_tasks_per_case);
  eo.limits.set_max_states_per_call(cfg.max_states_per_call);
  eo.limits.set_max_history_events(cfg.max_history_events);
  eo.asl_limits.max_json_depth = static_cast<int>(cfg.max_json_depth);
  eo.limits.set_max_json_depth(cfg.max_json_depth);
  eo.asl_limits.max_definition_bytes =
      static_cast<size_t>(cfg.max_definition_bytes);
  eo.asl_limits.max_states = static_cast<int>(cfg.max_definition_states);
  eo.rules_factory =
      onewindow::scheduler::MakeManifestRulesFactory(cfg.calendar_dir);
  return eo;
}

}  // namespace

int main(int argc, char** argv) {
  // Abseil's mutex deadlock detection (on in Debian's build) records every
  // lock in a global graph: a few percent of the CPU of every case.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Config cfg;
  if (int code = LoadSettings(argc, argv, &cfg); code >= 0) return code;

  onewindow::service::ConfigureLogging(cfg);
  gpr_set_log_function(GrpcLog);
  if (cfg.insecure && cfg.auth_file.empty() &&
      (!onewindow::service::IsLoopback(cfg.listen) ||
       (!cfg.http_listen.empty() &&
        !onewindow::service::IsLoopback(cfg.http_listen)))) {
    spdlog::warn("serving {} WITHOUT authentication (--insecure)", cfg.listen);
  }

  // Block the signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  onewindow::service::AuthLimits limits;
  limits.max_calls_in_flight = cfg.max_calls_per_principal;
  limits.max_streams = cfg.max_streams_per_principal;
  auto auth = onewindow::service::Authenticator::Create(cfg.auth_file, limits);
  if (!auth.ok()) {
    spdlog::critical("{}", auth.status().ToString());
    return kExitConfig;
  }
  bool creds_ok = false;
  std::shared_ptr<grpc::ServerCredentials> creds =
      ServerCredentials(cfg, &creds_ok);
  if (!creds_ok) return kExitConfig;

  auto engine = Engine::Open(EngineOptionsFrom(cfg));
  if (!engine.ok()) {
    spdlog::critical("cannot open the engine: {}", engine.status().ToString());
    return kExitFailed;
  }
  if (!cfg.workflows.empty() &&
      DeployDirectory(engine->get(), cfg.workflows) < 0) {
    return kExitFailed;
  }

  onewindow::service::Api api(engine->get());
  onewindow::service::Metrics metrics;
  onewindow::service::ServiceContext sctx;
  sctx.api = &api;
  sctx.auth = auth->get();
  sctx.count = [&metrics](std::string_view method, int code) {
    metrics.CountRequest(method, code);
  };
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(cfg.listen, creds, &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::max<int64_t>(
      {4 << 20, cfg.max_payload_bytes * 2, cfg.max_definition_bytes * 2})));
  // Declared before the server: its queue outlives the server.
  onewindow::service::GrpcServices services(&sctx, &builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::critical("cannot listen on {}", cfg.listen);
    return kExitFailed;
  }
  services.Start();
  spdlog::info("onewindowd serving on {} (data {}{}{})", cfg.listen,
               cfg.data_dir, cfg.tls_cert.empty() ? ", plaintext" : ", TLS",
               cfg.auth_file.empty() ? ", no auth" : ", auth on");

  // The web console, its JSON API, /metrics and health checks.
  std::atomic<bool> draining{false};
  std::unique_ptr<onewindow::service::http::HttpServer> http;
  if (!cfg.http_listen.empty()) {
    onewindow::service::http::HttpOptions ho;
    ho.listen = cfg.http_listen;
    ho.max_body_bytes = static_cast<size_t>(
        std::max<int64_t>({1 << 20, cfg.max_payload_bytes + (64 << 10),
                           cfg.max_definition_bytes + (64 << 10)}));
    auto started = onewindow::service::http::HttpServer::Start(
        ho, &sctx, &metrics, [&draining] { return !draining.load(); });
    if (!started.ok()) {
      spdlog::critical("cannot serve HTTP on {}: {}", cfg.http_listen,
                       std::string(started.status().message()));
      server->Shutdown(std::chrono::system_clock::now());
      services.Stop();
      (*engine)->Shutdown();
      return started.status().code() == absl::StatusCode::kInvalidArgument
                 ? kExitConfig
                 : kExitFailed;
    }
    http = std::move(*started);  // it logs where it serves
  }

  std::unique_ptr<onewindow::service::BackupScheduler> backups;
  if (!cfg.backup.dir.empty()) {
    onewindow::service::BackupScheduler::Options bo;
    bo.dir = cfg.backup.dir;
    bo.every_ms = cfg.backup.every_ms;
    bo.keep = cfg.backup.keep;
    backups = std::make_unique<onewindow::service::BackupScheduler>(
        engine->get(), bo);
    if (absl::Status s = backups->Start(); !s.ok()) {
      spdlog::critical("{}", std::string(s.message()));
      if (http) http->Stop();
      server->Shutdown(std::chrono::system_clock::now());
      services.Stop();
      (*engine)->Shutdown();
      return kExitConfig;
    }
  }

  // Wait for a stop signal; meanwhile log the commit figures every 10 s
  // when they moved (commands per synced batch shows group commit at work).
  int sig = 0;
  onewindow::scheduler::EngineStats last = (*engine)->stats();
  for (;;) {
    timespec ten_seconds{10, 0};
    sig = sigtimedwait(&signals, nullptr, &ten_seconds);
    if (sig == SIGHUP) {
      (void)(*auth)->Reload();
      continue;
    }
    if (sig > 0) break;
    onewindow::scheduler::EngineStats now = (*engine)->stats();
    const int64_t commits = now.commits - last.commits;
    if (commits > 0) {
      const int64_t commands = now.committed_commands - last.committed_commands;
      spdlog::info(
          "stats: {} open cases ({} in memory); last 10 s: {} synced commits, "
          "{} commands ({:.1f} per commit); largest batch so far {}",
          now.open_cases, now.resident_cases, commits, commands,
          static_cast<double>(commands) / static_cast<double>(commits),
          now.max_batch_commands);
    }
    last = now;
  }
  spdlog::info("signal {}: draining", sig);
  draining = true;
  services.SetServing(false);
  if (backups) backups->Stop();
  if (http) http->Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  services.Stop();
  (*engine)->Shutdown();
  spdlog::info("stopped");
  return 0;
}
