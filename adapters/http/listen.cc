#include "adapters/http/listen.h"

#include <httplib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace onewindow::http_bridge {

int BindServer(httplib::Server* server, const std::string& host, int port,
               int backlog) {
  auto listening = std::make_shared<std::atomic<int>>(-1);
  server->set_socket_options([listening](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listening->store(sock);
  });
  int bound = -1;
  if (port == 0) {
    bound = server->bind_to_any_port(host);
  } else if (server->bind_to_port(host, port)) {
    bound = port;
  }
  // Listening again on a listening socket only changes its backlog.
  if (bound > 0 && listening->load() >= 0) ::listen(listening->load(), backlog);
  return bound > 0 ? bound : -1;
}

bool WaitUntilListening(httplib::Server* server) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server->is_running()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace onewindow::http_bridge
