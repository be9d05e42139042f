// Pieces of the HTTP front that need no network: listen addresses, request
// targets and query strings, status mapping, the JSON forms of messages and
// errors, Server-Sent Event frames, media types of static files. Pure
// functions, thread-safe.
#ifndef ONEWINDOW_ENGINE_SERVICE_HTTP_HTTP_UTIL_H_
#define ONEWINDOW_ENGINE_SERVICE_HTTP_HTTP_UTIL_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "onewindow/v1/cases.pb.h"

namespace onewindow::service::http {

struct ListenAddress {
  std::string host;  // without brackets for IPv6
  uint16_t port = 0;
};
// "127.0.0.1:8080", "[::1]:0", "localhost:80". INVALID_ARGUMENT naming the
// address and what is wrong.
absl::StatusOr<ListenAddress> ParseListen(std::string_view listen);

// Limits of a request target.
inline constexpr size_t kMaxTargetBytes = 4096;
inline constexpr size_t kMaxQueryParams = 32;

// A request target split into its path segments (percent-decoded) and
// query parameters (decoded, '+' as space), in order.
struct Target {
  std::string path;                   // raw, as sent
  std::vector<std::string> segments;  // decoded, without empty ones
  std::vector<std::pair<std::string, std::string>> query;
};
// INVALID_ARGUMENT naming the limit or the bad escape; a target that is not
// an absolute path is INVALID_ARGUMENT too.
absl::StatusOr<Target> ParseTarget(std::string_view target);

// Percent-decoding; INVALID_ARGUMENT for a bad or NUL escape.
absl::StatusOr<std::string> PercentDecode(std::string_view s,
                                          bool plus_is_space);

// The HTTP status of a status code (API.md's table) and the code's name.
int HttpStatusOf(absl::StatusCode code);
std::string_view CodeName(absl::StatusCode code);

// {"code": "INVALID_ARGUMENT", "message": "..."}; a rejection of case data
// by the service's input schema also lists
// "field_errors": [{"pointer": "/a/b", "message": "..."}].
std::string ErrorJson(const absl::Status& s);
// The `pointer: reason` pairs of a schema rejection's message (empty when
// the message is not one).
std::vector<std::pair<std::string, std::string>> SchemaFieldErrors(
    std::string_view message);

// Protobuf's JSON mapping with the proto field names and every primitive
// field printed (defaults too: the console never meets a missing key).
std::string ToJson(const google::protobuf::Message& m);
// Arrays and objects nested deeper than this in a request body are refused
// before parsing.
inline constexpr int kMaxJsonDepth = 64;
// The deepest nesting of arrays and objects in `json` (strings skipped), or
// -1 once it exceeds `limit`.
int JsonDepth(std::string_view json, int limit = kMaxJsonDepth);
// Parses a request body (empty = {}). Unknown fields are refused, and so
// is nesting beyond kMaxJsonDepth. INVALID_ARGUMENT starting
// "request body: ".
absl::Status FromJson(std::string_view body, google::protobuf::Message* m);

// A CaseStatus from "RUNNING" or "CASE_STATUS_RUNNING" (any letter case).
std::optional<onewindow::v1::CaseStatus> ParseCaseStatus(std::string_view s);
// A decimal integer, the whole text; nullopt otherwise.
std::optional<int64_t> ParseInt(std::string_view s);
// "true"/"1" and "false"/"0".
std::optional<bool> ParseBool(std::string_view s);

// One Server-Sent Event: optional id and event lines, then the data split
// at line breaks (each line its own data: field), then a blank line.
std::string SseFrame(std::string_view event, std::string_view id,
                     std::string_view data);

// Media type of a static file by its extension (with charset for text);
// application/octet-stream when unknown.
std::string_view ContentTypeFor(std::string_view path);
// True for bundler-hashed names ("index-BvJ3Lx9q.js"): before the
// extension, a last dash- or dot-separated part of 8 or more letters,
// digits or '_' that mixes digits and letters or upper and lower case.
bool IsHashedAssetName(std::string_view path);

}  // namespace onewindow::service::http

#endif  // ONEWINDOW_ENGINE_SERVICE_HTTP_HTTP_UTIL_H_
