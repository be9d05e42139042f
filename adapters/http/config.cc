#include "adapters/http/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/status/status.h"

namespace onewindow::http_bridge {
namespace {

// Builds "FILE:LINE: message" errors.
class Errors {
 public:
  explicit Errors(const std::string& file) : file_(file) {}
  absl::Status At(int line, const std::string& message) const {
    return absl::InvalidArgumentError(file_ + ":" + std::to_string(line) +
                                      ": " + message);
  }
  absl::Status At(const YAML::Node& node, const std::string& message) const {
    return At(node.Mark().line + 1, message);
  }

 private:
  const std::string& file_;
};

bool IsVarStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}
bool IsVarChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Replaces every ${VAR} in `in`. `what` names the field in messages.
absl::StatusOr<std::string> Expand(const std::string& in,
                                   const std::string& what, int line,
                                   const Errors& err, const EnvLookup& env) {
  std::string out;
  size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '$' || i + 1 >= in.size() || in[i + 1] != '{') {
      out += in[i++];
      continue;
    }
    const size_t close = in.find('}', i + 2);
    if (close == std::string::npos) {
      return err.At(line, what + ": '${' without a closing '}'");
    }
    const std::string name = in.substr(i + 2, close - i - 2);
    bool valid = !name.empty() && IsVarStart(name[0]);
    for (char c : name) valid = valid && IsVarChar(c);
    if (!valid) {
      return err.At(line, what + ": '${" + name +
                              "}' is not a variable name (letters, digits "
                              "and '_', not starting with a digit)");
    }
    const char* value = env(name);
    if (value == nullptr || *value == '\0') {
      return err.At(line, what + ": ${" + name +
                              "} is not set in the environment (or is empty)");
    }
    out += value;
    i = close + 1;
  }
  return out;
}

// Splits and checks an expanded URL. `written` is the URL as written, for
// messages (the expanded one may hold secrets).
absl::Status ParseUrl(const std::string& url, const std::string& written,
                      int line, const Errors& err, Route* route) {
  const std::string what = "url '" + written + "'";
  if (url.size() > kMaxUrlBytes) {
    return err.At(line, what + ": " + std::to_string(url.size()) +
                            " bytes, more than the limit of " +
                            std::to_string(kMaxUrlBytes));
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) {
      return err.At(line, what +
                              ": holds a space, a control character or "
                              "non-ASCII (percent-encode it)");
    }
  }
  std::string scheme;
  if (url.rfind("http://", 0) == 0) {
    scheme = "http";
  } else if (url.rfind("https://", 0) == 0) {
    scheme = "https";
  } else {
    return err.At(line, what + ": must start with http:// or https://");
  }
  if (url.find('#') != std::string::npos) {
    return err.At(line, what + ": a fragment ('#') is not allowed");
  }
  const size_t start = scheme.size() + 3;
  size_t end = url.find_first_of("/?", start);
  if (end == std::string::npos) end = url.size();
  const std::string authority = url.substr(start, end - start);
  if (authority.find('@') != std::string::npos) {
    return err.At(line, what +
                            ": credentials in the URL are not supported "
                            "(send them in a header)");
  }
  std::string host;
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) {
      return err.At(line, what + ": '[' without ']' in the host");
    }
    host = authority.substr(0, close + 1);
    const std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return err.At(line, what + ": bad host");
      port = rest.substr(1);
    }
    if (host.size() <= 2) return err.At(line, what + ": no host");
  } else {
    const size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
    if (host.empty()) return err.At(line, what + ": no host");
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' &&
          c != '.' && c != '_') {
        return err.At(line, what + ": bad character '" + std::string(1, c) +
                                "' in the host");
      }
    }
  }
  if (!port.empty() || authority.find(':') != std::string::npos) {
    bool digits = !port.empty() && port.size() <= 5;
    for (char c : port)
      digits = digits && std::isdigit(static_cast<unsigned char>(c));
    const long n = digits ? std::strtol(port.c_str(), nullptr, 10) : 0;
    if (!digits || n < 1 || n > 65535) {
      return err.At(line, what + ": port must be a number in 1..65535");
    }
  }
  route->origin = scheme + "://" + authority;
  std::string path = url.substr(end);
  if (path.empty() || path[0] == '?') path = "/" + path;
  route->path = path;
  route->url = url;
  return absl::OkStatus();
}

bool IsTokenChar(char c) {
  // RFC 9110 token characters.
  static const std::string kExtra = "!#$%&'*+-.^_`|~";
  return std::isalnum(static_cast<unsigned char>(c)) ||
         kExtra.find(c) != std::string::npos;
}

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

absl::Status ParseHeaders(const YAML::Node& node, const std::string& where,
                          const Errors& err, const EnvLookup& env,
                          Route* route) {
  if (!node.IsMap()) {
    return err.At(node, where + ".headers: expected a map of name: value");
  }
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const YAML::Node& key = entry.first;
    const YAML::Node& value = entry.second;
    if (!key.IsScalar() || key.Scalar().empty()) {
      return err.At(key, where + ".headers: a header name must be text");
    }
    const std::string name = key.Scalar();
    const std::string what = where + ".headers." + name;
    for (char c : name) {
      if (!IsTokenChar(c)) {
        return err.At(key, what + ": not a valid header name");
      }
    }
    const std::string lower = Lower(name);
    if (lower == "content-length" || lower == "transfer-encoding" ||
        lower == "host" || lower == "connection" ||
        lower == "idempotency-key") {
      return err.At(key, what + ": set by the bridge, cannot be configured");
    }
    if (!seen.insert(lower).second) {
      return err.At(key, what + ": duplicate header");
    }
    if (seen.size() > kMaxHeaders) {
      return err.At(key, where + ".headers: more than " +
                             std::to_string(kMaxHeaders) + " headers");
    }
    if (!value.IsScalar()) {
      return err.At(value, what + ": the value must be text");
    }
    absl::StatusOr<std::string> v =
        Expand(value.Scalar(), what, value.Mark().line + 1, err, env);
    if (!v.ok()) return v.status();
    if (v->size() > kMaxHeaderValueBytes) {
      return err.At(value, what + ": the value is over " +
                               std::to_string(kMaxHeaderValueBytes) + " bytes");
    }
    for (unsigned char c : *v) {
      if (c == '\r' || c == '\n' || c == 0 || (c < 0x20 && c != '\t') ||
          c == 0x7f) {
        return err.At(value, what + ": the value holds a control character");
      }
    }
    route->headers.emplace_back(name, std::move(*v));
  }
  return absl::OkStatus();
}

absl::Status ParseRoute(const YAML::Node& key, const YAML::Node& body,
                        const Errors& err, const EnvLookup& env, Route* route) {
  const std::string where = "tasks." + route->task_type;
  if (!body.IsMap()) {
    return err.At(body.IsNull() ? key : body,
                  where + ": expected a map with url, timeout_ms, headers");
  }
  std::set<std::string> seen;
  bool has_url = false;
  for (const auto& entry : body) {
    const YAML::Node& k = entry.first;
    const YAML::Node& v = entry.second;
    const std::string name = k.IsScalar() ? k.Scalar() : "";
    if (!seen.insert(name).second) {
      return err.At(k, where + ": duplicate key '" + name + "'");
    }
    if (name == "url") {
      if (!v.IsScalar() || v.Scalar().empty()) {
        return err.At(v.IsNull() ? k : v, where + ".url: expected a URL");
      }
      route->url_template = v.Scalar();
      absl::StatusOr<std::string> url = Expand(
          route->url_template, where + ".url", v.Mark().line + 1, err, env);
      if (!url.ok()) return url.status();
      absl::Status s =
          ParseUrl(*url, route->url_template, v.Mark().line + 1, err, route);
      if (!s.ok()) return s;
      has_url = true;
    } else if (name == "timeout_ms") {
      int64_t ms = 0;
      bool ok = v.IsScalar();
      if (ok) {
        try {
          ms = v.as<int64_t>();
        } catch (const YAML::Exception&) {
          ok = false;
        }
      }
      if (!ok || ms < 1 || ms > kMaxTimeoutMs) {
        return err.At(v.IsNull() ? k : v,
                      where + ".timeout_ms: expected an integer in 1.." +
                          std::to_string(kMaxTimeoutMs));
      }
      route->timeout = std::chrono::milliseconds(ms);
    } else if (name == "headers") {
      if (!v.IsNull()) {
        absl::Status s = ParseHeaders(v, where, err, env, route);
        if (!s.ok()) return s;
      }
    } else {
      return err.At(k, where + ": unknown key '" + name +
                           "' (expected url, timeout_ms, headers)");
    }
  }
  if (!has_url) return err.At(key, where + ": url is required");
  return absl::OkStatus();
}

}  // namespace

const Route* BridgeConfig::Find(const std::string& task_type) const {
  auto it = routes.find(task_type);
  if (it != routes.end()) return &it->second;
  it = routes.find("*");
  return it == routes.end() ? nullptr : &it->second;
}

std::vector<std::string> BridgeConfig::SubscribedTypes() const {
  std::vector<std::string> types;
  if (routes.count("*") != 0) return types;
  for (const auto& [type, route] : routes) types.push_back(type);
  return types;
}

absl::StatusOr<BridgeConfig> ParseBridgeConfig(std::string_view text,
                                               const std::string& file,
                                               const EnvLookup& env) {
  const Errors err(file);
  if (text.size() > kMaxConfigBytes) {
    return absl::InvalidArgumentError(
        file + ": " + std::to_string(text.size()) +
        " bytes, more than the limit of " + std::to_string(kMaxConfigBytes));
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::ParserException& e) {
    return err.At(e.mark.line + 1, "YAML syntax: " + e.msg);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(file + ": YAML: " + e.what());
  }
  if (!root.IsMap()) {
    return err.At(root.IsNull() ? 1 : root.Mark().line + 1,
                  "expected a map with the key 'tasks'");
  }
  BridgeConfig config;
  YAML::Node tasks;
  bool has_tasks = false;
  for (const auto& entry : root) {
    const YAML::Node& k = entry.first;
    const std::string name = k.IsScalar() ? k.Scalar() : "";
    if (name != "tasks") {
      return err.At(k, "unknown key '" + name + "' (expected tasks)");
    }
    if (has_tasks) return err.At(k, "duplicate key 'tasks'");
    has_tasks = true;
    tasks = entry.second;
    if (!tasks.IsMap() || tasks.size() == 0) {
      return err.At(tasks.IsNull() ? k : tasks,
                    "tasks: expected a map of task type: {url, timeout_ms, "
                    "headers}");
    }
  }
  if (!has_tasks) {
    return err.At(root, "the key 'tasks' is required");
  }
  for (const auto& entry : tasks) {
    const YAML::Node& k = entry.first;
    if (!k.IsScalar() || k.Scalar().empty()) {
      return err.At(k, "tasks: a task type must be text");
    }
    const std::string type = k.Scalar();
    if (type.size() > 128) {
      return err.At(k, "tasks: task type longer than 128 characters");
    }
    for (unsigned char c : type) {
      if (c <= 0x20 || c >= 0x7f) {
        return err.At(k, "tasks: task type '" + type +
                             "' holds a space or a character that is not "
                             "printable ASCII");
      }
    }
    if (config.routes.count(type) != 0) {
      return err.At(k, "tasks: duplicate task type '" + type + "'");
    }
    if (config.routes.size() >= kMaxRoutes) {
      return err.At(
          k, "tasks: more than " + std::to_string(kMaxRoutes) + " task types");
    }
    Route route;
    route.task_type = type;
    route.line = k.Mark().line + 1;
    absl::Status s = ParseRoute(k, entry.second, err, env, &route);
    if (!s.ok()) return s;
    config.routes.emplace(type, std::move(route));
  }
  return config;
}

absl::StatusOr<BridgeConfig> LoadBridgeConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(path + ": cannot be opened");
  std::string text;
  text.resize(kMaxConfigBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return ParseBridgeConfig(text, path, [](const std::string& name) {
    return static_cast<const char*>(std::getenv(name.c_str()));
  });
}

std::string RouteSummary(const Route& route) {
  return route.task_type + " -> " + route.url_template + " (timeout " +
         std::to_string(route.timeout.count()) + " ms, " +
         std::to_string(route.headers.size()) + " header(s))";
}

}  // namespace onewindow::http_bridge
