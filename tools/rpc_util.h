// What owctl's online commands share: the connection (address, TLS, bearer
// token), error reporting with the CLI's exit codes, and how cases, events
// and workflows are printed. Stateless apart from Client, which is
// thread-compatible.
#ifndef ONEWINDOW_TOOLS_RPC_UTIL_H_
#define ONEWINDOW_TOOLS_RPC_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "onewindow/v1/cases.grpc.pb.h"
#include "onewindow/v1/workflows.pb.h"
#include "tools/commands.h"

namespace onewindow::owctl {

// A channel to the engine with the caller's credentials.
class Client {
 public:
  // Reads the token (--token-file, else $ONEWINDOW_TOKEN) and the TLS files.
  // Prints "owctl: ..." and returns nullopt when one cannot be used (the
  // command then exits 2).
  static std::optional<Client> Open(const GlobalOptions& g);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // Sets the deadline (--timeout-ms) and the authorization header.
  void Prepare(grpc::ClientContext* ctx) const;
  // The authorization header only (long-lived streams).
  void PrepareStream(grpc::ClientContext* ctx) const;

 private:
  Client() = default;
  std::shared_ptr<grpc::Channel> channel_;
  std::string authorization_;  // "Bearer ..." or ""
  int64_t timeout_ms_ = 0;
};

// The bearer token to send: the first line of --token-file, else
// $ONEWINDOW_TOKEN, trimmed; "" when neither is set. Sets *error (and returns
// "") when the file cannot be read or the token is not printable ASCII.
std::string ReadToken(const std::string& token_file, std::string* error);

const char* CodeName(grpc::StatusCode code);

// Prints "owctl: CODE: message" on stderr and maps the code to an exit
// status: refused requests (invalid, not found, precondition...) -> 1;
// UNAUTHENTICATED, PERMISSION_DENIED and transport trouble -> 3.
int ReportRpcError(const grpc::Status& s);

void Print(const nlohmann::json& j);
// Left-aligned columns separated by two spaces.
void PrintTable(const std::vector<std::vector<std::string>>& rows);

const char* StatusName(v1::CaseStatus s);
bool Terminal(v1::CaseStatus s);
nlohmann::json DocumentJson(const v1::DocumentRef& d);
nlohmann::json CaseJson(const v1::Case& c);
void PrintCaseSummary(const v1::Case& c);
nlohmann::json EventJson(const v1::HistoryEvent& e);
std::string EventLine(const v1::HistoryEvent& e);

// Reads a case's history after `after_seq`, every page.
grpc::Status FetchHistory(const Client& client, v1::CaseService::Stub* stub,
                          const std::string& id, int64_t after_seq,
                          std::vector<v1::HistoryEvent>* out);

// Splits "NAME" or "NAME@VERSION" (version 0 = latest). False when the
// version is not a positive integer.
bool ParseNameVersion(const std::string& text, std::string* name,
                      int64_t* version);

}  // namespace onewindow::owctl

#endif  // ONEWINDOW_TOOLS_RPC_UTIL_H_
