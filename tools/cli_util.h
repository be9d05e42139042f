// Small helpers shared by owctl's commands: files, JSON, time formatting.
// Stateless and thread-safe.
#ifndef ONEWINDOW_TOOLS_CLI_UTIL_H_
#define ONEWINDOW_TOOLS_CLI_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "nlohmann/json.hpp"

namespace onewindow::owctl {

// Reads a whole file ("-" = stdin). On failure prints
// "owctl: PATH: cannot read: REASON" on stderr and returns nullopt.
std::optional<std::string> ReadFileOrReport(const std::string& path);

// Parses JSON text read from `what` (a file name, or a flag name). On
// failure prints "owctl: WHAT: invalid JSON: REASON" on stderr.
std::optional<nlohmann::json> ParseJsonOrReport(const std::string& text,
                                                const std::string& what);

// Reads and parses a JSON file ("-" = stdin), reporting as above.
std::optional<nlohmann::json> ReadJsonFileOrReport(const std::string& path);

// Compact one-line JSON; invalid UTF-8 is replaced, never thrown on.
std::string Dump(const nlohmann::json& j);

// Parses JSON text from the engine; keeps the raw text as a string when it
// does not parse (and null for empty text).
nlohmann::json JsonOrRaw(const std::string& text);

// "2026-01-01T00:00:00.000Z"; "-" for 0.
std::string FormatTimeMs(int64_t ms);

// Lower-cased file extension with the dot (".yaml"), or "".
std::string Extension(const std::string& path);

}  // namespace onewindow::owctl

#endif  // ONEWINDOW_TOOLS_CLI_UTIL_H_
