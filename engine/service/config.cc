#include "engine/service/config.h"

#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>
#include <time.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace onewindow::service {
namespace {

namespace fs = std::filesystem;

// What a value must look like in the file.
enum class Kind { kText, kNumber, kBool };

struct FieldDef {
  ConfigField doc;
  Kind kind;
  std::function<absl::Status(Config*, std::string_view)> set;
};

std::string Dashed(std::string s) {
  for (char& c : s) {
    if (c == '_' || c == '.') c = '-';
  }
  return s;
}

std::string Underscored(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '-') c = '_';
  }
  return out;
}

absl::Status Bad(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

absl::StatusOr<int64_t> ParseInt(std::string_view text, int64_t lo,
                                 int64_t hi) {
  const std::string range =
      "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end) {
    if (ec == std::errc::result_out_of_range) {
      return Bad(std::string(text) + " is out of range: expected " + range);
    }
    return Bad("expected " + range + ", got '" + std::string(text) + "'");
  }
  if (v < lo || v > hi) {
    return Bad(std::to_string(v) + " is out of range: expected " + range);
  }
  return v;
}

absl::StatusOr<bool> ParseBool(std::string_view text) {
  static const std::map<std::string, bool, std::less<>> kWords = {
      {"true", true}, {"false", false}, {"yes", true},  {"no", false},
      {"on", true},   {"off", false},   {"1", true},    {"0", false},
      {"True", true}, {"False", false}, {"TRUE", true}, {"FALSE", false}};
  auto it = kWords.find(text);
  if (it == kWords.end()) {
    return Bad("expected true or false, got '" + std::string(text) + "'");
  }
  return it->second;
}

// host:port, [v6]:port or unix:PATH.
absl::Status CheckAddress(std::string_view text) {
  const std::string a(text);
  if (a.rfind("unix:", 0) == 0) {
    if (a.size() == 5) return Bad("'unix:' needs a socket path");
    return absl::OkStatus();
  }
  const size_t colon = a.rfind(':');
  if (colon == std::string::npos) {
    return Bad("'" + a + "' is not HOST:PORT (e.g. 127.0.0.1:50051)");
  }
  std::string host = a.substr(0, colon);
  const std::string port = a.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) {
      return Bad("'" + a +
                 "': an IPv6 host goes in brackets, e.g. [::1]:50051");
    }
  } else {
    if (host.empty()) {
      return Bad("'" + a + "' has no host (use 0.0.0.0 for every interface)");
    }
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' &&
          c != '-' && c != '_') {
        return Bad("'" + a + "': bad character '" + std::string(1, c) +
                   "' in the host (an IPv6 host goes in brackets)");
      }
    }
  }
  if (absl::StatusOr<int64_t> p = ParseInt(port, 1, 65535); !p.ok()) {
    return Bad("'" + a + "': the port must be a number from 1 to 65535");
  }
  return absl::OkStatus();
}

using Setter = std::function<absl::Status(Config*, std::string_view)>;

Setter Text(std::string Config::*member, bool may_be_empty) {
  return [member, may_be_empty](Config* c, std::string_view v) -> absl::Status {
    if (!may_be_empty && v.empty()) return Bad("must not be empty");
    if (v.find('\0') != std::string_view::npos) {
      return Bad("holds a NUL character");
    }
    c->*member = std::string(v);
    return absl::OkStatus();
  };
}

Setter Address(std::string Config::*member, bool may_be_empty) {
  return [member, may_be_empty](Config* c, std::string_view v) -> absl::Status {
    if (v.empty()) {
      if (!may_be_empty) return Bad("must not be empty");
    } else if (absl::Status s = CheckAddress(v); !s.ok()) {
      return s;
    }
    c->*member = std::string(v);
    return absl::OkStatus();
  };
}

template <typename T>
Setter Number(T Config::*member, int64_t lo, int64_t hi) {
  return [member, lo, hi](Config* c, std::string_view v) -> absl::Status {
    absl::StatusOr<int64_t> n = ParseInt(v, lo, hi);
    if (!n.ok()) return n.status();
    c->*member = static_cast<T>(*n);
    return absl::OkStatus();
  };
}

Setter OneOf(std::string Config::*member, std::vector<std::string> allowed) {
  return [member, allowed](Config* c, std::string_view v) -> absl::Status {
    for (const auto& a : allowed) {
      if (v == a) {
        c->*member = a;
        return absl::OkStatus();
      }
    }
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    return Bad("expected one of " + list + ", got '" + std::string(v) + "'");
  };
}

const std::vector<FieldDef>& Defs() {
  static const std::vector<FieldDef>* defs = [] {
    auto* d = new std::vector<FieldDef>;
    auto add = [d](std::string key, std::string value_name, std::string help,
                   Kind kind, Setter set) {
      ConfigField f;
      f.flag = "--" + Dashed(key);
      f.key = std::move(key);
      f.value_name = std::move(value_name);
      f.help = std::move(help);
      d->push_back({std::move(f), kind, std::move(set)});
    };
    add("listen", "ADDR",
        "address the gRPC API listens on (HOST:PORT, [V6]:PORT or unix:PATH)",
        Kind::kText, Address(&Config::listen, false));
    add("data_dir", "DIR", "the store (RocksDB) directory", Kind::kText,
        Text(&Config::data_dir, false));
    add("workflows", "DIR",
        "deploy every *.asl.{yaml,yml,json} in DIR at start (with its "
        "NAME.service.yaml); unchanged definitions are not re-versioned",
        Kind::kText, Text(&Config::workflows, true));
    add("calendar_dir", "DIR",
        "working-day calendars (NAME.yaml) that service manifests name",
        Kind::kText, Text(&Config::calendar_dir, true));
    add("log_level", "LEVEL", "trace, debug, info, warn, error, critical, off",
        Kind::kText,
        OneOf(&Config::log_level,
              {"trace", "debug", "info", "warn", "error", "critical", "off"}));
    add("log_format", "FORMAT",
        "text (one readable line per entry) or json (one JSON object per "
        "line: ts, level, msg, thread)",
        Kind::kText, OneOf(&Config::log_format, {"text", "json"}));
    add("shards", "N",
        "shards of a NEW store (1-256); an existing store keeps its count",
        Kind::kNumber, Number(&Config::shards, 1, 256));
    add("max_payload_bytes", "N",
        "cap on a case input or a task result, bytes (1024-16777216)",
        Kind::kNumber, Number(&Config::max_payload_bytes, 1024, 16 << 20));
    add("auth_file", "FILE",
        "principals and their token hashes (YAML); SIGHUP re-reads it. "
        "Empty: no authentication (loopback only, unless insecure)",
        Kind::kText, Text(&Config::auth_file, true));
    add("insecure", "", "allow a non-loopback address without an auth file",
        Kind::kBool, [](Config* c, std::string_view v) -> absl::Status {
          absl::StatusOr<bool> b = ParseBool(v);
          if (!b.ok()) return b.status();
          c->insecure = *b;
          return absl::OkStatus();
        });
    add("tls_cert", "FILE", "server certificate chain (PEM): serve TLS",
        Kind::kText, Text(&Config::tls_cert, true));
    add("tls_key", "FILE", "the server certificate's private key (PEM)",
        Kind::kText, Text(&Config::tls_key, true));
    add("tls_client_ca", "FILE",
        "CA (PEM) client certificates must chain to: mutual TLS", Kind::kText,
        Text(&Config::tls_client_ca, true));
    add("http_listen", "ADDR",
        "address of the web console, HTTP API and /metrics (HOST:PORT); "
        "empty: no HTTP",
        Kind::kText, Address(&Config::http_listen, true));
    add("backup.dir", "DIR",
        "scheduled backups go to DIR/<UTC timestamp>; empty: none", Kind::kText,
        [](Config* c, std::string_view v) -> absl::Status {
          if (v.find('\0') != std::string_view::npos) {
            return Bad("holds a NUL character");
          }
          c->backup.dir = std::string(v);
          return absl::OkStatus();
        });
    add("backup.every", "DURATION",
        "time between scheduled backups (1m to 30d: 30m, 6h, 1d, 1h30m)",
        Kind::kText, [](Config* c, std::string_view v) -> absl::Status {
          absl::StatusOr<int64_t> ms = ParseDuration(v);
          if (!ms.ok()) return ms.status();
          constexpr int64_t kMin = 60'000, kMax = 30LL * 86'400'000;
          if (*ms < kMin || *ms > kMax) {
            return Bad(std::string(v) + " is out of range: from 1m to 30d");
          }
          c->backup.every_ms = *ms;
          return absl::OkStatus();
        });
    add("backup.keep", "N",
        "scheduled backups kept (1-1000); older ones are deleted",
        Kind::kNumber, [](Config* c, std::string_view v) -> absl::Status {
          absl::StatusOr<int64_t> n = ParseInt(v, 1, 1000);
          if (!n.ok()) return n.status();
          c->backup.keep = static_cast<int>(*n);
          return absl::OkStatus();
        });
    add("max_open_cases", "N",
        "running cases accepted; beyond it submissions get "
        "RESOURCE_EXHAUSTED",
        Kind::kNumber, Number(&Config::max_open_cases, 1, 1'000'000'000));
    add("max_map_items", "N",
        "items one Map state of a new case may have; beyond it the state "
        "fails with States.LimitExceeded (1-1000000)",
        Kind::kNumber, Number(&Config::max_map_items, 1, 1'000'000));
    add("max_open_tasks_per_case", "N",
        "tasks one new case may have outstanding at once; beyond it the "
        "state fails with States.LimitExceeded (1-1000000)",
        Kind::kNumber, Number(&Config::max_open_tasks_per_case, 1, 1'000'000));
    add("max_states_per_call", "N",
        "states a new case may run without waiting on a task or timer; "
        "beyond it the case fails with States.Runtime (100-10000000)",
        Kind::kNumber, Number(&Config::max_states_per_call, 100, 10'000'000));
    add("max_history_events", "N",
        "history events one new case may have; beyond it the case fails "
        "with States.Runtime (1000-100000000)",
        Kind::kNumber, Number(&Config::max_history_events, 1000, 100'000'000));
    add("max_json_depth", "N",
        "nesting depth of case data, task results and definitions; deeper "
        "is INVALID_ARGUMENT naming the limit (8-1000)",
        Kind::kNumber, Number(&Config::max_json_depth, 8, 1000));
    add("max_definition_bytes", "N",
        "size of a definition deployed or validated, bytes (1024-16777216)",
        Kind::kNumber,
        Number(&Config::max_definition_bytes, 1024, 16 << 20));
    add("max_definition_states", "N",
        "states in one definition, all branches and Map processors "
        "together (1-100000)",
        Kind::kNumber, Number(&Config::max_definition_states, 1, 100'000));
    add("max_resident_cases", "N",
        "running cases kept in memory; the least recently used others are "
        "rebuilt from the store when needed",
        Kind::kNumber, Number(&Config::max_resident_cases, 1, 100'000'000));
    add("max_queued_per_shard", "N",
        "commands waiting per shard before submissions get "
        "RESOURCE_EXHAUSTED",
        Kind::kNumber, Number(&Config::max_queued_per_shard, 1, 10'000'000));
    add("commit_window_us", "N",
        "longest a shard holds a small batch open for more commands to "
        "share its synced write, microseconds; it waits only while its "
        "measured arrival rate says more will come (0 commits at once, "
        "0-100000)",
        Kind::kNumber, Number(&Config::commit_window_us, 0, 100'000));
    add("max_calls_per_principal", "N",
        "calls one principal may have in flight at once", Kind::kNumber,
        Number(&Config::max_calls_per_principal, 1, 1'000'000));
    add("max_streams_per_principal", "N",
        "task streams one principal may hold open", Kind::kNumber,
        Number(&Config::max_streams_per_principal, 1, 100'000));
    return d;
  }();
  return *defs;
}

const FieldDef* FindDef(std::string_view key) {
  const std::string k = Underscored(key);
  for (const auto& d : Defs()) {
    if (d.doc.key == k) return &d;
  }
  return nullptr;
}

const char* Describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a value";
  }
}

class FileErrors {
 public:
  explicit FileErrors(const std::string& file) : file_(file) {}
  absl::Status At(const YAML::Mark& mark, const std::string& msg) const {
    return absl::InvalidArgumentError(
        file_ + ":" + std::to_string(mark.line + 1) + ": " + msg);
  }

 private:
  const std::string& file_;
};

// Applies one mapping: top level (prefix "") or `backup` (prefix
// "backup.").
absl::Status ApplyMap(const YAML::Node& map, const std::string& prefix,
                      const FileErrors& err, Config* config) {
  std::map<std::string, int> seen;  // normalised key -> line
  for (const auto& entry : map) {
    const YAML::Node& k = entry.first;
    const YAML::Node& v = entry.second;
    if (!k.IsScalar()) {
      return err.At(k.Mark(), "a key must be plain text");
    }
    const std::string written = prefix + k.Scalar();
    const std::string key = Underscored(written);
    const int line = k.Mark().line + 1;
    if (auto [it, fresh] = seen.emplace(key, line); !fresh) {
      return err.At(k.Mark(), written + ": given twice (first on line " +
                                  std::to_string(it->second) + ")");
    }
    if (prefix.empty() && key == "backup") {
      if (v.IsNull()) continue;
      if (!v.IsMap()) {
        return err.At(v.Mark(),
                      "backup: expected a map {dir, every, keep}, "
                      "got " +
                          std::string(Describe(v)));
      }
      if (absl::Status s = ApplyMap(v, "backup.", err, config); !s.ok()) {
        return s;
      }
      continue;
    }
    const FieldDef* def = FindDef(key);
    if (def == nullptr) {
      std::string known;
      for (const auto& d : Defs()) {
        if (!prefix.empty() && d.doc.key.rfind(prefix, 0) != 0) continue;
        if (prefix.empty() && d.doc.key.rfind("backup.", 0) == 0) continue;
        known += (known.empty() ? "" : ", ") +
                 Dashed(d.doc.key.substr(prefix.size()));
      }
      if (prefix.empty()) known += ", backup";
      return err.At(k.Mark(),
                    "unknown key '" + written + "' (known: " + known + ")");
    }
    std::string text;
    if (v.IsNull()) {
      if (def->kind != Kind::kText) {
        return err.At(k.Mark(), written + ": needs a value");
      }
    } else if (!v.IsScalar()) {
      return err.At(v.Mark(), written + ": expected " +
                                  (def->kind == Kind::kNumber ? "a number"
                                   : def->kind == Kind::kBool ? "true or false"
                                                              : "text") +
                                  ", got " + Describe(v));
    } else {
      text = v.Scalar();
      // Quoted text where a number or a boolean belongs is a wrong type.
      if (def->kind != Kind::kText && v.Tag() == "!") {
        return err.At(
            v.Mark(),
            written + ": expected " +
                (def->kind == Kind::kNumber ? "a number" : "true or false") +
                ", got quoted text \"" + text + "\"");
      }
    }
    if (absl::Status s = def->set(config, text); !s.ok()) {
      return err.At(v.IsNull() ? k.Mark() : v.Mark(),
                    written + ": " + std::string(s.message()));
    }
  }
  return absl::OkStatus();
}

// The path `p` made absolute and normal, for comparisons.
fs::path Normal(const std::string& p) {
  std::error_code ec;
  fs::path a = fs::absolute(p, ec);
  if (ec) a = p;
  fs::path w = fs::weakly_canonical(a, ec);
  if (ec) w = a;
  w = w.lexically_normal();
  if (!w.empty() && w.filename().empty()) w = w.parent_path();
  return w;
}

bool Inside(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    using namespace std::chrono;
    const auto since = msg.time.time_since_epoch();
    const time_t secs = duration_cast<seconds>(since).count();
    const int ms =
        static_cast<int>(duration_cast<milliseconds>(since).count() % 1000);
    tm t{};
    gmtime_r(&secs, &t);
    char ts[96];
    std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour,
                  t.tm_min, t.tm_sec, ms < 0 ? 0 : ms);
    nlohmann::ordered_json j;
    j["ts"] = ts;
    const auto level = spdlog::level::to_string_view(msg.level);
    j["level"] = std::string(level.data(), level.size());
    j["msg"] = std::string(msg.payload.data(), msg.payload.size());
    if (msg.logger_name.size() > 0) {
      j["logger"] = std::string(msg.logger_name.data(), msg.logger_name.size());
    }
    j["thread"] = msg.thread_id;
    const std::string line =
        j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

}  // namespace

const std::vector<ConfigField>& Fields() {
  static const std::vector<ConfigField>* fields = [] {
    auto* f = new std::vector<ConfigField>;
    for (const auto& d : Defs()) f->push_back(d.doc);
    return f;
  }();
  return *fields;
}

absl::Status SetField(Config* config, std::string_view key,
                      std::string_view text) {
  const FieldDef* def = FindDef(key);
  if (def == nullptr) {
    return absl::InvalidArgumentError("unknown setting '" + std::string(key) +
                                      "'");
  }
  return def->set(config, text);
}

absl::Status ParseConfig(std::string_view text, const std::string& file,
                         Config* config) {
  const FileErrors err(file);
  if (text.size() > kMaxConfigFileBytes) {
    return absl::InvalidArgumentError(file + ": " +
                                      std::to_string(text.size()) +
                                      " bytes, more than the limit of " +
                                      std::to_string(kMaxConfigFileBytes));
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return err.At(e.mark, "not valid YAML: " + e.msg);
  }
  if (!root.IsDefined() || root.IsNull()) return absl::OkStatus();
  if (!root.IsMap()) {
    return err.At(root.Mark(), std::string("expected a map of settings, got ") +
                                   Describe(root));
  }
  // Apply to a copy: a refused file changes nothing.
  Config c = *config;
  try {
    if (absl::Status s = ApplyMap(root, "", err, &c); !s.ok()) return s;
  } catch (const YAML::Exception& e) {
    return err.At(e.mark, e.msg);
  }
  *config = std::move(c);
  return absl::OkStatus();
}

absl::Status LoadConfigFile(const std::string& path, Config* config) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return absl::NotFoundError(path + ": no such file");
  }
  if (fs::is_directory(path, ec)) {
    return absl::InvalidArgumentError(path + ": is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::PermissionDeniedError(path + ": cannot be read");
  std::string text;
  text.resize(kMaxConfigFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return ParseConfig(text, path, config);
}

absl::Status CheckConfig(const Config& c) {
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return absl::InvalidArgumentError("tls-cert and tls-key go together");
  }
  if (!c.tls_client_ca.empty() && c.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        "tls-client-ca needs tls-cert and tls-key");
  }
  if (c.auth_file.empty() && !c.insecure) {
    if (c.tls_client_ca.empty() && !IsLoopback(c.listen)) {
      return absl::FailedPreconditionError(
          "listen " + c.listen +
          " is not a loopback address and there is no auth-file: anyone "
          "who reaches the port could act as anyone. Give auth-file "
          "(--auth-file), or insecure: true (--insecure) to accept that.");
    }
    if (!c.http_listen.empty() && !IsLoopback(c.http_listen)) {
      return absl::FailedPreconditionError(
          "http-listen " + c.http_listen +
          " is not a loopback address and there is no auth-file: anyone "
          "who reaches the port could act as anyone. Give auth-file "
          "(--auth-file), or insecure: true (--insecure) to accept that.");
    }
  }
  if (!c.http_listen.empty() && c.http_listen == c.listen) {
    return absl::InvalidArgumentError("http-listen and listen are both " +
                                      c.listen);
  }
  if (!c.backup.dir.empty()) {
    const fs::path data = Normal(c.data_dir), backups = Normal(c.backup.dir);
    if (Inside(backups, data)) {
      return absl::InvalidArgumentError("backup.dir " + c.backup.dir +
                                        " is inside data-dir " + c.data_dir +
                                        ": give them separate directories");
    }
    if (Inside(data, backups)) {
      return absl::InvalidArgumentError(
          "data-dir " + c.data_dir + " is inside backup.dir " + c.backup.dir +
          ": give them separate directories");
    }
  }
  return absl::OkStatus();
}

std::string ConfigToYaml(const Config& c) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  auto str = [&](const char* k, const std::string& v) {
    out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
  };
  auto num = [&](const char* k, int64_t v) {
    out << YAML::Key << k << YAML::Value << v;
  };
  str("listen", c.listen);
  str("data-dir", c.data_dir);
  str("workflows", c.workflows);
  str("calendar-dir", c.calendar_dir);
  str("log-level", c.log_level);
  str("log-format", c.log_format);
  num("shards", c.shards);
  num("max-payload-bytes", c.max_payload_bytes);
  str("auth-file", c.auth_file);
  out << YAML::Key << "insecure" << YAML::Value << YAML::TrueFalseBool
      << c.insecure;
  str("tls-cert", c.tls_cert);
  str("tls-key", c.tls_key);
  str("tls-client-ca", c.tls_client_ca);
  str("http-listen", c.http_listen);
  out << YAML::Key << "backup" << YAML::Value << YAML::BeginMap;
  str("dir", c.backup.dir);
  str("every", FormatDuration(c.backup.every_ms));
  num("keep", c.backup.keep);
  out << YAML::EndMap;
  num("max-open-cases", c.max_open_cases);
  num("max-resident-cases", c.max_resident_cases);
  num("max-queued-per-shard", c.max_queued_per_shard);
  num("commit-window-us", c.commit_window_us);
  num("max-calls-per-principal", c.max_calls_per_principal);
  num("max-streams-per-principal", c.max_streams_per_principal);
  num("max-map-items", c.max_map_items);
  num("max-open-tasks-per-case", c.max_open_tasks_per_case);
  num("max-states-per-call", c.max_states_per_call);
  num("max-history-events", c.max_history_events);
  num("max-json-depth", c.max_json_depth);
  num("max-definition-bytes", c.max_definition_bytes);
  num("max-definition-states", c.max_definition_states);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

absl::StatusOr<int64_t> ParseDuration(std::string_view text) {
  const std::string shape =
      "expected a duration with units (ms, s, m, h, d), e.g. 30m, 6h, 1d or "
      "1h30m, got '" +
      std::string(text) + "'";
  if (text.empty() || text.size() > 32) return Bad(shape);
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j - i > 9) return Bad(shape);
    int64_t n = 0;
    std::from_chars(text.data() + i, text.data() + j, n);
    size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k])))
      ++k;
    const std::string_view unit = text.substr(j, k - j);
    int64_t scale = 0;
    if (unit == "ms") scale = 1;
    if (unit == "s") scale = 1000;
    if (unit == "m") scale = 60'000;
    if (unit == "h") scale = 3'600'000;
    if (unit == "d") scale = 86'400'000;
    if (scale == 0) return Bad(shape);
    total += n * scale;  // at most 9 digits × 32/2 parts: no overflow
    i = k;
  }
  return total;
}

std::string FormatDuration(int64_t ms) {
  if (ms <= 0) return "0s";
  std::string out;
  const std::pair<int64_t, const char*> units[] = {{86'400'000, "d"},
                                                   {3'600'000, "h"},
                                                   {60'000, "m"},
                                                   {1000, "s"},
                                                   {1, "ms"}};
  for (const auto& [scale, name] : units) {
    if (ms >= scale) {
      out += std::to_string(ms / scale) + name;
      ms %= scale;
    }
  }
  return out;
}

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

std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter() {
  return std::make_unique<JsonFormatter>();
}

void ConfigureLogging(const Config& config) {
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  if (config.log_format == "json") {
    spdlog::set_formatter(MakeJsonLogFormatter());
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
}

}  // namespace onewindow::service
