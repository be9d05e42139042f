#include "engine/service/http/static_files.h"

#include <map>

#include "engine/service/http/http_util.h"
#include "engine/service/http/server.h"

namespace onewindow::service::http {

// console_files.cc, generated from console/dist.
const std::map<std::string_view, std::string_view>& EmbeddedConsoleFiles();

namespace {

constexpr std::string_view kNotBuiltPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>OneWindow</title>
</head>
<body>
<h1>OneWindow</h1>
<p>The web console was not built into this server: console/dist did not
exist when onewindowd was compiled. Build the console, then rebuild
onewindowd.</p>
<p>The JSON API is served under <code>/api/v1/</code>; metrics at
<a href="/metrics">/metrics</a>.</p>
</body>
</html>
)html";

}  // namespace

bool ConsoleEmbedded() {
  return EmbeddedConsoleFiles().count("index.html") > 0;
}

std::optional<StaticFile> FindStaticFile(std::string_view path) {
  const auto& files = EmbeddedConsoleFiles();
  auto it = files.find(path);
  if (it == files.end()) return std::nullopt;
  StaticFile f;
  f.body = it->second;
  f.content_type = ContentTypeFor(path);
  f.immutable = IsHashedAssetName(path);
  return f;
}

StaticFile IndexPage() {
  if (auto f = FindStaticFile("index.html")) {
    f->immutable = false;
    return *f;
  }
  return StaticFile{kNotBuiltPage, "text/html; charset=utf-8", false};
}

}  // namespace onewindow::service::http
