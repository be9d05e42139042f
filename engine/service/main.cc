// onewindowd: the OneWindow engine server.
//
//   onewindowd [--config FILE] [--listen 127.0.0.1:50051] [--data-dir ./data]
//              [--workflows DIR] [--log-level info] [--shards N]
//              [--max-payload-bytes N] [--auth-file F] [--insecure]
//              [--tls-cert F --tls-key F [--tls-client-ca F]]
//
// Flags override the config file (YAML with the same keys, dashes or
// underscores). SIGTERM or SIGINT drains: the server stops taking calls,
// finishes what it holds, closes the store and exits 0. SIGHUP re-reads the
// auth file.
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

#include "engine/service/auth.h"
#include "engine/service/metrics.h"
#include "engine/service/services.h"
#include "scheduler/engine.h"
#include "scheduler/manifest_rules.h"

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
  std::string auth_file;
  bool insecure = false;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string calendar_dir;
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
    if (auto v = get("auth-file", "auth_file")) c->auth_file = v.as<std::string>();
    if (auto v = get("insecure", "insecure")) c->insecure = v.as<bool>();
    if (auto v = get("tls-cert", "tls_cert")) c->tls_cert = v.as<std::string>();
    if (auto v = get("tls-key", "tls_key")) c->tls_key = v.as<std::string>();
    if (auto v = get("tls-client-ca", "tls_client_ca")) {
      c->tls_client_ca = v.as<std::string>();
    }
    if (auto v = get("calendar-dir", "calendar_dir")) {
      c->calendar_dir = v.as<std::string>();
    }
  } catch (const std::exception& e) {
    *err = e.what();
    return false;
  }
  return true;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// True for addresses only this machine can reach.
bool IsLoopback(const std::string& listen) {
  std::string host = listen;
  if (host.rfind("unix:", 0) == 0) return true;
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos) host = host.substr(0, colon);
  if (!host.empty() && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "127.0.0.1" || host == "::1" || host == "localhost" ||
         host.rfind("127.", 0) == 0;
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
  auto* o_auth = app.add_option("--auth-file", flags.auth_file,
                                "YAML list of principals (SIGHUP reloads it)");
  auto* o_insecure = app.add_flag(
      "--insecure", flags.insecure,
      "allow a non-loopback address without --auth-file");
  auto* o_cert = app.add_option("--tls-cert", flags.tls_cert,
                                "server certificate (PEM): serve TLS");
  auto* o_key = app.add_option("--tls-key", flags.tls_key,
                               "server private key (PEM)");
  auto* o_ca = app.add_option(
      "--tls-client-ca", flags.tls_client_ca,
      "CA (PEM) client certificates must chain to: mutual TLS");
  auto* o_cal = app.add_option(
      "--calendar-dir", flags.calendar_dir,
      "directory of working-day calendars (NAME.yaml) manifests name");
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
  if (*o_auth) cfg.auth_file = flags.auth_file;
  if (*o_insecure) cfg.insecure = flags.insecure;
  if (*o_cert) cfg.tls_cert = flags.tls_cert;
  if (*o_key) cfg.tls_key = flags.tls_key;
  if (*o_ca) cfg.tls_client_ca = flags.tls_client_ca;
  if (*o_cal) cfg.calendar_dir = flags.calendar_dir;

  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  if (cfg.auth_file.empty() && cfg.tls_client_ca.empty() &&
      !IsLoopback(cfg.listen)) {
    if (!cfg.insecure) {
      spdlog::critical(
          "--listen {} is not a loopback address and there is no "
          "--auth-file: anyone who reaches the port could act as anyone. "
          "Give --auth-file, or --insecure to accept that.",
          cfg.listen);
      return 2;
    }
    spdlog::warn("serving {} WITHOUT authentication (--insecure)", cfg.listen);
  }
  if (cfg.tls_cert.empty() != cfg.tls_key.empty()) {
    spdlog::critical("--tls-cert and --tls-key go together");
    return 2;
  }
  if (!cfg.tls_client_ca.empty() && cfg.tls_cert.empty()) {
    spdlog::critical("--tls-client-ca needs --tls-cert and --tls-key");
    return 2;
  }

  // Block the signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto auth = onewindow::service::Authenticator::Create(
      cfg.auth_file, onewindow::service::AuthLimits());
  if (!auth.ok()) {
    spdlog::critical("{}", auth.status().ToString());
    return 2;
  }

  EngineOptions eo;
  eo.data_dir = cfg.data_dir;
  eo.shards = cfg.shards;
  eo.max_payload_bytes = cfg.max_payload_bytes;
  eo.rules_factory =
      onewindow::scheduler::MakeManifestRulesFactory(cfg.calendar_dir);
  auto engine = Engine::Open(std::move(eo));
  if (!engine.ok()) {
    spdlog::critical("cannot open the engine: {}", engine.status().ToString());
    return 1;
  }
  if (!cfg.workflows.empty() &&
      DeployDirectory(engine->get(), cfg.workflows) < 0) {
    return 1;
  }

  onewindow::service::Api api(engine->get());
  onewindow::service::Metrics metrics;
  onewindow::service::ServiceContext sctx;
  sctx.api = &api;
  sctx.auth = auth->get();
  sctx.count = [&metrics](std::string_view method, int code) {
    metrics.CountRequest(method, code);
  };
  onewindow::service::CaseServiceImpl cases(&sctx);
  onewindow::service::WorkflowServiceImpl workflows(&sctx);
  onewindow::service::AdapterServiceImpl adapters(&sctx);
  onewindow::service::AdminServiceImpl admin(&sctx);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::shared_ptr<grpc::ServerCredentials> creds =
      grpc::InsecureServerCredentials();
  if (!cfg.tls_cert.empty()) {
    grpc::SslServerCredentialsOptions ssl;
    grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
    if (!ReadFile(cfg.tls_cert, &pair.cert_chain) ||
        !ReadFile(cfg.tls_key, &pair.private_key)) {
      spdlog::critical("cannot read --tls-cert {} or --tls-key {}",
                       cfg.tls_cert, cfg.tls_key);
      return 2;
    }
    ssl.pem_key_cert_pairs.push_back(pair);
    if (!cfg.tls_client_ca.empty()) {
      if (!ReadFile(cfg.tls_client_ca, &ssl.pem_root_certs)) {
        spdlog::critical("cannot read --tls-client-ca {}", cfg.tls_client_ca);
        return 2;
      }
      // A client certificate is checked when given; callers without one
      // must present a token.
      ssl.client_certificate_request =
          GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    creds = grpc::SslServerCredentials(ssl);
  }

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(cfg.listen, creds, &port);
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::max<int64_t>(4 << 20, cfg.max_payload_bytes * 2)));
  builder.RegisterService(&cases);
  builder.RegisterService(&workflows);
  builder.RegisterService(&adapters);
  builder.RegisterService(&admin);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    spdlog::critical("cannot listen on {}", cfg.listen);
    return 1;
  }
  spdlog::info("onewindowd serving on {} (data {}{}{})", cfg.listen,
               cfg.data_dir, cfg.tls_cert.empty() ? ", plaintext" : ", TLS",
               cfg.auth_file.empty() ? ", no auth" : ", auth on");

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
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  (*engine)->Shutdown();
  spdlog::info("stopped");
  return 0;
}
