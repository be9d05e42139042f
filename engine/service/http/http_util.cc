#include "engine/service/http/http_util.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "nlohmann/json.hpp"

namespace onewindow::service::http {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListen(std::string_view listen) {
  const std::string quoted = "listen address \"" + std::string(listen) + "\"";
  if (listen.empty()) {
    return absl::InvalidArgumentError("listen address: empty");
  }
  ListenAddress out;
  std::string_view port;
  if (listen.front() == '[') {
    const size_t close = listen.find(']');
    if (close == std::string_view::npos || close + 1 >= listen.size() ||
        listen[close + 1] != ':') {
      return absl::InvalidArgumentError(
          quoted + ": expected [IPv6 address]:port");
    }
    out.host = std::string(listen.substr(1, close - 1));
    port = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) {
      return absl::InvalidArgumentError(quoted + ": expected host:port");
    }
    out.host = std::string(listen.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(
          quoted + ": an IPv6 address goes in brackets, [::1]:8080");
    }
    port = listen.substr(colon + 1);
  }
  if (out.host.empty()) {
    return absl::InvalidArgumentError(quoted + ": the host is missing");
  }
  std::optional<int64_t> p = ParseInt(port);
  if (!p || *p < 0 || *p > 65535) {
    return absl::InvalidArgumentError(quoted +
                                      ": the port must be a number 0..65535");
  }
  out.port = static_cast<uint16_t>(*p);
  return out;
}

absl::StatusOr<std::string> PercentDecode(std::string_view s,
                                          bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= s.size() || HexValue(s[i + 1]) < 0 ||
          HexValue(s[i + 2]) < 0) {
        return absl::InvalidArgumentError(
            "bad percent escape at offset " + std::to_string(i));
      }
      const char v = static_cast<char>(HexValue(s[i + 1]) * 16 +
                                       HexValue(s[i + 2]));
      if (v == '\0') {
        return absl::InvalidArgumentError("%00 is not allowed");
      }
      out.push_back(v);
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<Target> ParseTarget(std::string_view target) {
  if (target.size() > kMaxTargetBytes) {
    return absl::InvalidArgumentError(
        "request target: " + std::to_string(target.size()) +
        " bytes, more than the limit of " + std::to_string(kMaxTargetBytes));
  }
  if (target.empty() || target.front() != '/') {
    return absl::InvalidArgumentError(
        "request target: expected an absolute path");
  }
  Target out;
  const size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  const size_t hash = path.find('#');
  if (hash != std::string_view::npos) path = path.substr(0, hash);
  out.path = std::string(path);
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (!seg.empty()) {
      absl::StatusOr<std::string> d = PercentDecode(seg, false);
      if (!d.ok()) {
        return absl::InvalidArgumentError("path: " +
                                          std::string(d.status().message()));
      }
      if (*d == "." || *d == ".." || d->find('/') != std::string::npos) {
        return absl::InvalidArgumentError(
            "path: the segment \"" + *d + "\" is not allowed");
      }
      out.segments.push_back(std::move(*d));
    }
    start = end + 1;
  }
  if (q == std::string_view::npos) return out;
  std::string_view query = target.substr(q + 1);
  const size_t qhash = query.find('#');
  if (qhash != std::string_view::npos) query = query.substr(0, qhash);
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    if (!pair.empty()) {
      if (out.query.size() >= kMaxQueryParams) {
        return absl::InvalidArgumentError(
            "query: more than " + std::to_string(kMaxQueryParams) +
            " parameters, the limit");
      }
      const size_t eq = pair.find('=');
      std::string_view k = pair.substr(0, eq);
      std::string_view v =
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      absl::StatusOr<std::string> dk = PercentDecode(k, true);
      absl::StatusOr<std::string> dv = PercentDecode(v, true);
      if (!dk.ok() || !dv.ok()) {
        return absl::InvalidArgumentError(
            "query: " + std::string((!dk.ok() ? dk : dv).status().message()));
      }
      for (const auto& [existing, unused] : out.query) {
        if (existing == *dk) {
          return absl::InvalidArgumentError("query parameter \"" + *dk +
                                            "\": given more than once");
        }
      }
      out.query.emplace_back(std::move(*dk), std::move(*dv));
    }
    pos = amp + 1;
  }
  return out;
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string_view CodeName(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk: return "OK";
    case absl::StatusCode::kCancelled: return "CANCELLED";
    case absl::StatusCode::kUnknown: return "UNKNOWN";
    case absl::StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case absl::StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case absl::StatusCode::kNotFound: return "NOT_FOUND";
    case absl::StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case absl::StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case absl::StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case absl::StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case absl::StatusCode::kAborted: return "ABORTED";
    case absl::StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case absl::StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case absl::StatusCode::kInternal: return "INTERNAL";
    case absl::StatusCode::kUnavailable: return "UNAVAILABLE";
    case absl::StatusCode::kDataLoss: return "DATA_LOSS";
    case absl::StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

std::vector<std::pair<std::string, std::string>> SchemaFieldErrors(
    std::string_view message) {
  std::vector<std::pair<std::string, std::string>> out;
  constexpr std::string_view kPrefix = "input_json does not meet the input schema";
  if (message.substr(0, kPrefix.size()) != kPrefix) return out;
  const size_t first = message.find(": ");
  if (first == std::string_view::npos) return out;
  std::string_view rest = message.substr(first + 2);
  while (!rest.empty()) {
    size_t sep = rest.find("; ");
    std::string_view item = rest.substr(0, sep);
    const size_t colon = item.find(": ");
    if (colon == std::string_view::npos) {
      out.emplace_back("", std::string(item));
    } else {
      out.emplace_back(std::string(item.substr(0, colon)),
                       std::string(item.substr(colon + 2)));
    }
    if (sep == std::string_view::npos) break;
    rest = rest.substr(sep + 2);
  }
  return out;
}

std::string ErrorJson(const absl::Status& s) {
  nlohmann::json j;
  j["code"] = std::string(CodeName(s.code()));
  j["message"] = std::string(s.message());
  if (s.code() == absl::StatusCode::kInvalidArgument) {
    auto fields = SchemaFieldErrors(
        std::string_view(s.message().data(), s.message().size()));
    if (!fields.empty()) {
      nlohmann::json arr = nlohmann::json::array();
      for (auto& [p, m] : fields) {
        nlohmann::json f;
        f["pointer"] = p;
        f["message"] = m;
        arr.push_back(std::move(f));
      }
      j["field_errors"] = std::move(arr);
    }
  }
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  std::string out;
  auto s = google::protobuf::util::MessageToJsonString(m, &out, o);
  if (!s.ok()) {
    // Only invalid UTF-8 in a string field gets here; the store holds
    // checked text, so this is a defect worth a clear reply.
    return ErrorJson(absl::InternalError(
        "the reply could not be written as JSON: " + s.ToString()));
  }
  return out;
}

int JsonDepth(std::string_view json, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return -1;
      deepest = std::max(deepest, depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

absl::Status FromJson(std::string_view body, google::protobuf::Message* m) {
  size_t i = 0;
  while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) {
    ++i;
  }
  if (i == body.size()) return absl::OkStatus();  // empty body: {}
  if (body[i] != '{') {
    return absl::InvalidArgumentError(
        "request body: expected a JSON object");
  }
  if (JsonDepth(body) < 0) {
    return absl::InvalidArgumentError(
        "request body: JSON nested deeper than " +
        std::to_string(kMaxJsonDepth) +
        " levels (the bound on request bodies; case data is text in "
        "input_json and meets max_json_depth)");
  }
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = false;
  auto s = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), m, o);
  if (!s.ok()) {
    return absl::InvalidArgumentError("request body: " +
                                      std::string(s.message()));
  }
  return absl::OkStatus();
}

std::optional<onewindow::v1::CaseStatus> ParseCaseStatus(std::string_view s) {
  std::string upper(s);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper.rfind("CASE_STATUS_", 0) != 0) upper = "CASE_STATUS_" + upper;
  onewindow::v1::CaseStatus v;
  if (!onewindow::v1::CaseStatus_Parse(upper, &v)) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<bool> ParseBool(std::string_view s) {
  if (s == "true" || s == "1") return true;
  if (s == "false" || s == "0") return false;
  return std::nullopt;
}

std::string SseFrame(std::string_view event, std::string_view id,
                     std::string_view data) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 32);
  if (!id.empty()) {
    out += "id: ";
    out += id;
    out += '\n';
  }
  if (!event.empty()) {
    out += "event: ";
    out += event;
    out += '\n';
  }
  size_t start = 0;
  for (;;) {
    size_t nl = data.find_first_of("\r\n", start);
    out += "data: ";
    out += data.substr(start, nl == std::string_view::npos ? std::string_view::npos
                                                           : nl - start);
    out += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
    if (data[nl] == '\r' && start < data.size() && data[start] == '\n') ++start;
  }
  out += '\n';
  return out;
}

std::string_view ContentTypeFor(std::string_view path) {
  const size_t slash = path.rfind('/');
  std::string_view name =
      slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  const std::string ext = Lower(name.substr(dot + 1));
  static const std::pair<const char*, const char*> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"avif", "image/avif"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"ttf", "font/ttf"},
      {"otf", "font/otf"},
      {"wasm", "application/wasm"},
      {"pdf", "application/pdf"},
      {"xml", "application/xml"},
  };
  for (const auto& [e, t] : kTypes) {
    if (ext == e) return t;
  }
  return "application/octet-stream";
}

bool IsHashedAssetName(std::string_view path) {
  const size_t slash = path.rfind('/');
  std::string_view name =
      slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  std::string_view stem = name.substr(0, dot);
  // '-' is not taken as part of a hash: "roboto-regular-400" is a name.
  auto hash_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  // Try every separator position from the end: the hash is what follows it.
  for (size_t k = 8; k < stem.size(); ++k) {
    const char sep = stem[stem.size() - k - 1];
    std::string_view hash = stem.substr(stem.size() - k);
    if (!std::all_of(hash.begin(), hash.end(), hash_char)) break;
    if (sep != '-' && sep != '.') continue;
    const bool digit = std::any_of(hash.begin(), hash.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    const bool upper = std::any_of(hash.begin(), hash.end(), [](char c) {
      return std::isupper(static_cast<unsigned char>(c));
    });
    const bool alpha = std::any_of(hash.begin(), hash.end(), [](char c) {
      return std::isalpha(static_cast<unsigned char>(c));
    });
    if ((digit && alpha) || (upper && std::any_of(hash.begin(), hash.end(), [](char c) {
                               return std::islower(static_cast<unsigned char>(c));
                             }))) {
      return true;
    }
  }
  return false;
}

}  // namespace onewindow::service::http
