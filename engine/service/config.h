// onewindowd's settings: one struct, read from a YAML file and overridden by
// command-line flags, and the logging they choose (text or JSON lines).
//
// The file holds the keys of Fields() (dashes or underscores alike):
//
//   listen: 127.0.0.1:50051
//   data-dir: /var/lib/onewindow/data
//   backup: {dir: /var/lib/onewindow/backups, every: 6h, keep: 8}
//
// Anything wrong refuses the whole file with INVALID_ARGUMENT naming the
// file, the line and the key: an unknown or repeated key, a value of the
// wrong type (a list where a number belongs, quoted text where a number or
// a boolean belongs), a value out of range. A flag's value is checked by
// the same rules and a refusal names the flag.
#ifndef ONEWINDOW_ENGINE_SERVICE_CONFIG_H_
#define ONEWINDOW_ENGINE_SERVICE_CONFIG_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace spdlog {
class formatter;
}

namespace onewindow::service {

// Bounds on a config file.
inline constexpr size_t kMaxConfigFileBytes = 1 << 20;

// Scheduled online backups (off while `dir` is empty).
struct BackupConfig {
  std::string dir;                      // where <UTC timestamp> dirs go
  int64_t every_ms = 6 * 3600 * 1000;   // "every": 30m, 6h, 1d, 1h30m
  int keep = 8;                         // newest backups kept
};

struct Config {
  std::string listen = "127.0.0.1:50051";
  std::string data_dir = "./data";
  std::string workflows;     // deploy every definition in it at start
  std::string calendar_dir;  // working-day calendars manifests name
  std::string log_level = "info";
  std::string log_format = "text";  // text | json
  int shards = 2;
  int64_t max_payload_bytes = 256 * 1024;
  std::string auth_file;
  bool insecure = false;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // Web console, HTTP API and /metrics; empty: no HTTP.
  std::string http_listen = "127.0.0.1:8080";
  BackupConfig backup;
  // Engine and caller limits.
  int64_t max_open_cases = 2'000'000;
  int64_t max_resident_cases = 200'000;
  int64_t max_queued_per_shard = 20'000;
  // Longest a shard holds a small batch open for more commands, µs (0: off).
  int64_t commit_window_us = 1000;
  int max_calls_per_principal = 512;
  int max_streams_per_principal = 64;
  // Limits of each new case's execution (a running case keeps those it
  // started with).
  int64_t max_map_items = 10'000;
  int64_t max_open_tasks_per_case = 10'000;
  int64_t max_states_per_call = 250'000;
  int64_t max_history_events = 100'000;
  // Bounds on what callers send: JSON nesting (case data, task results,
  // definitions), definition size and state count.
  int64_t max_json_depth = 128;
  int64_t max_definition_bytes = 1 << 20;
  int64_t max_definition_states = 10'000;
};

// One setting: its key in the file ("data_dir", "backup.every"), its flag
// ("--data-dir", "--backup-every"), what its value looks like and what it
// does (for --help and the documentation).
struct ConfigField {
  std::string key;
  std::string flag;
  std::string value_name;  // "ADDR", "DIR", "N", ...; empty for a switch
  std::string help;
};
const std::vector<ConfigField>& Fields();

// Sets the field `key` (a Fields() key, or its form with dashes) from text
// as given on a command line ("true"/"false" for a switch). The message of
// a refusal is about the value only; the caller says where it came from.
absl::Status SetField(Config* config, std::string_view key,
                      std::string_view text);

// Applies the settings in YAML `text` over `config`; `file` names it in
// messages ("FILE:LINE: key: ...").
absl::Status ParseConfig(std::string_view text, const std::string& file,
                         Config* config);

// Reads `path` (NOT_FOUND when missing) and applies it over `config`.
absl::Status LoadConfigFile(const std::string& path, Config* config);

// Checks settings that only make sense together (a TLS key without its
// certificate, backups inside the data directory, ...), naming the keys.
absl::Status CheckConfig(const Config& config);

// The effective settings as a YAML file onewindowd would read back.
std::string ConfigToYaml(const Config& config);

// "30s", "15m", "6h", "1d", "1h30m" -> milliseconds. A number needs a unit.
absl::StatusOr<int64_t> ParseDuration(std::string_view text);
// Milliseconds -> the shortest of those forms ("1h30m", "6h", "500ms").
std::string FormatDuration(int64_t ms);

// True for addresses only this machine can reach (127.x, ::1, localhost,
// unix:).
bool IsLoopback(const std::string& listen);

// A log formatter writing one JSON object per line:
//   {"ts":"2026-03-14T09:26:53.589Z","level":"info","msg":"...","thread":N}
std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter();

// Sets the default logger's level and format from `config`.
void ConfigureLogging(const Config& config);

}  // namespace onewindow::service

#endif  // ONEWINDOW_ENGINE_SERVICE_CONFIG_H_
