#include "tools/cli_util.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/asl/json_parse.h"

namespace onewindow::owctl {

std::optional<std::string> ReadFileOrReport(const std::string& path) {
  std::ostringstream out;
  if (path == "-") {
    out << std::cin.rdbuf();
    if (std::cin.bad()) {
      std::fprintf(stderr, "owctl: -: cannot read standard input\n");
      return std::nullopt;
    }
    return out.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "owctl: %s: cannot read: %s\n", path.c_str(),
                 std::strerror(errno));
    return std::nullopt;
  }
  out << in.rdbuf();
  if (in.bad()) {
    std::fprintf(stderr, "owctl: %s: cannot read: %s\n", path.c_str(),
                 std::strerror(errno));
    return std::nullopt;
  }
  // An empty file leaves the stream's failbit set by operator<<; that is
  // still a successful read.
  return out.str();
}

std::optional<nlohmann::json> ParseJsonOrReport(const std::string& text,
                                                const std::string& what) {
  // Checked without recursion first: depth, size, NUL, trailing bytes.
  auto parsed = asl::ParseJson(text);
  if (!parsed.ok()) {
    std::fprintf(stderr, "owctl: %s: invalid JSON: %s\n", what.c_str(),
                 std::string(parsed.status().message()).c_str());
    return std::nullopt;
  }
  return *std::move(parsed);
}

std::optional<nlohmann::json> ReadJsonFileOrReport(const std::string& path) {
  auto text = ReadFileOrReport(path);
  if (!text) return std::nullopt;
  return ParseJsonOrReport(*text, path == "-" ? "standard input" : path);
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json JsonOrRaw(const std::string& text) {
  if (text.empty()) return nullptr;
  auto j = asl::ParseJson(text);
  if (!j.ok()) return text;
  return *std::move(j);
}

std::string FormatTimeMs(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string Extension(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    return "";
  }
  std::string ext = path.substr(dot);
  for (char& c : ext) c = static_cast<char>(std::tolower(c));
  return ext;
}

}  // namespace onewindow::owctl
