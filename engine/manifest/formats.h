// String formats that JSON Schema "format" asserts here: date, date-time
// (RFC 3339), email (RFC 5321 mailbox) and uri (RFC 3986 absolute URI).
// Other format names are annotations only. Stateless; thread-safe.
#ifndef ONEWINDOW_ENGINE_MANIFEST_FORMATS_H_
#define ONEWINDOW_ENGINE_MANIFEST_FORMATS_H_

#include <string_view>

namespace onewindow::manifest {

// RFC 3339 full-date: YYYY-MM-DD, a real day.
bool IsRfc3339Date(std::string_view s);
// RFC 3339 date-time: full-date "T" time offset; "T"/"Z" in either case,
// fractional seconds allowed, a leap second only at 23:59:60 UTC.
bool IsRfc3339DateTime(std::string_view s);
// RFC 5321 Mailbox: dot-atom or quoted-string local part, "@", a host name
// or an address literal ([192.0.2.1] or [IPv6:...]).
bool IsEmailAddress(std::string_view s);
// RFC 3986 URI (with a scheme; relative references are not URIs).
bool IsUri(std::string_view s);
// Helpers, also used above.
bool IsIpv4Address(std::string_view s);
bool IsIpv6Address(std::string_view s);
// RFC 1123 host name: labels of letters, digits and '-', 1..63 each, not
// starting or ending with '-', at most 253 characters in all.
bool IsHostName(std::string_view s);

// True when `format` is one this library asserts (the four above).
bool IsAssertedFormat(std::string_view format);
// Checks `value` against an asserted format; true for any other format.
bool MatchesFormat(std::string_view format, std::string_view value);

}  // namespace onewindow::manifest

#endif  // ONEWINDOW_ENGINE_MANIFEST_FORMATS_H_
