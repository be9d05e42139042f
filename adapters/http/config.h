// The HTTP bridge's configuration file: which URL answers which task type.
//
//   tasks:
//     business-tax-registration:
//       url: https://tax.example.gov.mo/onewindow/tasks
//       timeout_ms: 5000
//       headers: {Authorization: "Bearer ${DSF_API_TOKEN}"}
//     "*":
//       url: http://127.0.0.1:8090/tasks
//
// `${VAR}` in a URL or header value is replaced by the environment variable
// VAR when the file is loaded; a variable that is not set (or empty) refuses
// the file. Every refusal names the file and the line. Expanded values hold
// secrets: RouteSummary shows a route without them.
#ifndef ONEWINDOW_ADAPTERS_HTTP_CONFIG_H_
#define ONEWINDOW_ADAPTERS_HTTP_CONFIG_H_

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace onewindow::http_bridge {

// Bounds on a configuration file.
inline constexpr size_t kMaxConfigBytes = 1 << 20;
inline constexpr size_t kMaxRoutes = 1000;
inline constexpr size_t kMaxHeaders = 64;
inline constexpr size_t kMaxUrlBytes = 8192;
inline constexpr size_t kMaxHeaderValueBytes = 8192;
inline constexpr int64_t kMaxTimeoutMs = 600000;
inline constexpr int64_t kDefaultTimeoutMs = 10000;

// Where and how tasks of one type are posted.
struct Route {
  std::string task_type;     // or "*": every type without its own route
  std::string url_template;  // as written, ${VAR} unexpanded: safe to log
  std::string url;           // expanded
  std::string origin;        // scheme://host[:port]
  std::string path;          // path and query, at least "/"
  std::chrono::milliseconds timeout{kDefaultTimeoutMs};
  std::vector<std::pair<std::string, std::string>> headers;  // expanded
  int line = 0;  // of the task type's key in the file
};

struct BridgeConfig {
  std::map<std::string, Route> routes;  // by task type

  // The route for `task_type`: its own, else "*", else null.
  const Route* Find(const std::string& task_type) const;
  // The task types to subscribe to: empty (all) when "*" has a route.
  std::vector<std::string> SubscribedTypes() const;
};

// Looks up an environment variable; null when unset.
using EnvLookup = std::function<const char*(const std::string& name)>;

// Parses `text`; `file` names it in messages ("FILE:LINE: ...").
// INVALID_ARGUMENT for anything wrong: YAML syntax, an unknown key, a
// duplicate key, a bad or missing URL, a bad header, a timeout out of
// range, an unset ${VAR}, a bound exceeded.
absl::StatusOr<BridgeConfig> ParseBridgeConfig(std::string_view text,
                                               const std::string& file,
                                               const EnvLookup& env);

// Reads and parses `path` with the process environment. NOT_FOUND when
// the file is missing.
absl::StatusOr<BridgeConfig> LoadBridgeConfig(const std::string& path);

// One line about a route, without secrets: "type -> url template (timeout,
// N headers)".
std::string RouteSummary(const Route& route);

}  // namespace onewindow::http_bridge

#endif  // ONEWINDOW_ADAPTERS_HTTP_CONFIG_H_
