// The web console's files, served from memory: what console/dist held when
// the server was built (embed_console.cmake), or a small built-in page
// saying the console was not built. Thread-safe.
#ifndef ONEWINDOW_ENGINE_SERVICE_HTTP_STATIC_FILES_H_
#define ONEWINDOW_ENGINE_SERVICE_HTTP_STATIC_FILES_H_

#include <optional>
#include <string_view>

namespace onewindow::service::http {

struct StaticFile {
  std::string_view body;
  std::string_view content_type;
  // A bundler-hashed name: cached for a year as immutable.
  bool immutable = false;
};

// The file at `path` ("index.html", "assets/app-1a2b3c4d.js": the request
// path without its leading '/'), or nullopt.
std::optional<StaticFile> FindStaticFile(std::string_view path);

// The console's index.html, or the built-in page when it was not built.
StaticFile IndexPage();

}  // namespace onewindow::service::http

#endif  // ONEWINDOW_ENGINE_SERVICE_HTTP_STATIC_FILES_H_
