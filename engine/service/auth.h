// Authentication: turns a call's credentials into a Caller.
//
// The auth file (`onewindowd --auth-file F`, YAML) lists the principals:
//
//   principals:
//     - {name: counter-1, role: counter, token_sha256: <64 hex>}
//     - {name: dsf-adapter, role: department, department: DSF,
//        token_sha256: <64 hex>}
//     - {name: cb-adapter, role: department, department: CB}  # mTLS only
//
// A call presents `authorization: Bearer <token>`; the server keeps only
// SHA-256 hashes of tokens and compares them in constant time; tokens are
// never logged. With mutual TLS a call without a token is the principal
// its client certificate's common name names. Without an auth file every
// caller is the anonymous admin (the server then listens on loopback only,
// unless told --insecure). Reload() (SIGHUP) swaps the table; streams of
// principals that are gone or changed are ended, the others stay.
// Thread-safe.
#ifndef ONEWINDOW_ENGINE_SERVICE_AUTH_H_
#define ONEWINDOW_ENGINE_SERVICE_AUTH_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/service/caller.h"

namespace onewindow::service {

struct Principal {
  std::string name;
  Role role = Role::kCounter;
  std::string department;
  std::string token_sha256;  // 32 raw bytes; empty: certificate only
};

class AuthTable {
 public:
  // Parses an auth file's text. INVALID_ARGUMENT naming the entry and
  // field at fault (duplicate names or hashes, unknown roles, a department
  // principal without a department...).
  static absl::StatusOr<std::shared_ptr<const AuthTable>> Parse(
      std::string_view text);
  static absl::StatusOr<std::shared_ptr<const AuthTable>> Load(
      const std::string& path);

  // The principal whose token hashes to `token`'s SHA-256, or null.
  // Compares every entry in constant time.
  const Principal* ByToken(std::string_view token) const;
  const Principal* ByName(std::string_view name) const;
  size_t size() const { return principals_.size(); }

 private:
  std::vector<Principal> principals_;
};

struct AuthLimits {
  // Calls one principal may have in flight at once.
  int max_calls_in_flight = 512;
  // Task streams one principal may hold open.
  int max_streams = 64;
};

class Authenticator {
 public:
  // Without an auth file (empty path): everyone is the anonymous admin.
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(
      const std::string& auth_file, AuthLimits limits);

  bool enabled() const { return !path_.empty(); }

  // UNAUTHENTICATED with a message saying what is wrong (no credentials, a
  // malformed header, an unknown token or certificate name). `bearer` is
  // the authorization header value ("" when none), `cert_cn` the client
  // certificate's common name ("" when none). `peer` and `method` are for
  // the log line a refusal writes.
  absl::StatusOr<Caller> Authenticate(std::string_view authorization,
                                      std::string_view cert_cn,
                                      std::string_view peer,
                                      std::string_view method) const;

  // Re-reads the auth file. On error the old table stays.
  absl::Status Reload();

  // Bounds a principal's calls: Admit() RESOURCE_EXHAUSTED naming the limit,
  // else the caller holds a slot until Release().
  absl::Status AdmitCall(const std::string& principal);
  void ReleaseCall(const std::string& principal);

  // Task streams: admitted like calls, and ended when their principal
  // leaves or changes on Reload (`end` is called then).
  absl::StatusOr<uint64_t> OpenStream(const Caller& caller,
                                      std::function<void()> end);
  void CloseStream(uint64_t id);

 private:
  Authenticator(std::string path, AuthLimits limits)
      : path_(std::move(path)), limits_(limits) {}

  const std::string path_;
  const AuthLimits limits_;
  mutable std::mutex mu_;
  std::shared_ptr<const AuthTable> table_;  // GUARDED_BY(mu_)
  std::map<std::string, int> calls_;        // GUARDED_BY(mu_)
  std::map<std::string, int> streams_;      // GUARDED_BY(mu_)
  struct Stream {
    Caller caller;
    std::function<void()> end;
  };
  std::map<uint64_t, Stream> open_streams_;  // GUARDED_BY(mu_)
  uint64_t next_stream_ = 1;
};

// Hex SHA-256 of a token (what the auth file stores).
std::string TokenSha256Hex(std::string_view token);

}  // namespace onewindow::service

#endif  // ONEWINDOW_ENGINE_SERVICE_AUTH_H_
