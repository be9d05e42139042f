// Binding a cpp-httplib server the way the bridge needs: SO_REUSEADDR only
// (the library's default adds SO_REUSEPORT, which lets two processes share
// a port silently) and a listen backlog that absorbs bursts (the library
// listens with a backlog of 5: a burst of new connections beyond it has
// its SYNs dropped and waits a second for the retransmission).
#ifndef ONEWINDOW_ADAPTERS_HTTP_LISTEN_H_
#define ONEWINDOW_ADAPTERS_HTTP_LISTEN_H_

#include <string>

namespace httplib {
class Server;
}  // namespace httplib

namespace onewindow::http_bridge {

// Binds `server` to host:port (port 0: a free port) and returns the port,
// or -1 when the address cannot be bound. Call before listen_after_bind.
int BindServer(httplib::Server* server, const std::string& host, int port,
               int backlog = 512);

// Waits (up to 5 s) until the thread running listen_after_bind has
// started: a stop() before that is lost, and the server then runs on.
bool WaitUntilListening(httplib::Server* server);

}  // namespace onewindow::http_bridge

#endif  // ONEWINDOW_ADAPTERS_HTTP_LISTEN_H_
