// Small text helpers of the HTTP bridge: percent-encoding of task tokens in
// callback paths, and a safe prefix of a department's answer for an error
// cause (proto strings must be valid UTF-8).
#ifndef ONEWINDOW_ADAPTERS_HTTP_HTTP_UTIL_H_
#define ONEWINDOW_ADAPTERS_HTTP_HTTP_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

namespace onewindow::http_bridge {

// Percent-encodes every byte but the unreserved ones (A-Z a-z 0-9 - . _ ~).
std::string PercentEncode(std::string_view in);

// Decodes %XX escapes; nullopt for a malformed escape. '+' stays '+'.
std::optional<std::string> PercentDecode(std::string_view in);

// At most `max_bytes` of `in`, cut on a character boundary, with every
// invalid UTF-8 sequence replaced by U+FFFD; "..." appended when cut.
std::string Utf8Prefix(std::string_view in, size_t max_bytes);

}  // namespace onewindow::http_bridge

#endif  // ONEWINDOW_ADAPTERS_HTTP_HTTP_UTIL_H_
