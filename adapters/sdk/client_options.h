// Client credentials shared by every binary that talks to onewindowd: a
// bearer token (`--token-file F`, else `$ONEWINDOW_TOKEN`) sent as
// `authorization: Bearer <token>` metadata, and TLS (`--tls-ca F`, and for
// mutual TLS `--tls-cert F --tls-key F`).
//
// Plain data and functions, no command-line library: a binary collects the
// four flag values its own way, calls LoadClientCredentials once at start
// (which reads and checks the files), and hands the result to the worker SDK
// (ApplyTo) or to its own stubs (MakeChannelCredentials, AddAuthMetadata).
// The token is never logged and never appears in an error message.
//
//   onewindow::adapter::CredentialFlags flags;   // filled by the parser
//   auto creds = onewindow::adapter::LoadClientCredentials(flags);
//   if (!creds.ok()) { fprintf(stderr, "%s\n", ...); return 2; }
//   onewindow::adapter::WorkerOptions opts;
//   onewindow::adapter::ApplyTo(*creds, &opts);
#ifndef ONEWINDOW_ADAPTERS_SDK_CLIENT_OPTIONS_H_
#define ONEWINDOW_ADAPTERS_SDK_CLIENT_OPTIONS_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace grpc {
class ChannelCredentials;
class ClientContext;
}  // namespace grpc

namespace onewindow::adapter {

struct WorkerOptions;

// TLS towards the engine. Files hold PEM text.
struct TlsOptions {
  bool enabled = false;
  // CA certificates that sign the server's certificate; empty = the
  // system's trust store.
  std::string ca_file;
  // Client certificate chain and key for mutual TLS (both or neither).
  std::string cert_file;
  std::string key_file;
};

// The flag values as given on the command line (empty = not given).
struct CredentialFlags {
  std::string token_file;  // --token-file
  std::string tls_ca;      // --tls-ca
  std::string tls_cert;    // --tls-cert
  std::string tls_key;     // --tls-key
};

// Checked credentials, ready to use.
struct ClientCredentials {
  // Bearer token; empty = none. Never log it.
  std::string bearer_token;
  TlsOptions tls;
};

// Help text for the four flags, one per line, for a binary's --help.
extern const char kCredentialFlagsHelp[];

// Takes `--token-file`, `--tls-ca`, `--tls-cert` or `--tls-key` (with
// `value`) into `flags`; false when `name` is none of them. For binaries
// that parse their flags by hand.
bool TakeCredentialFlag(std::string_view name, std::string value,
                        CredentialFlags* flags);

// Reads and checks the files the flags name. The token comes from
// `flags.token_file` when given, else from `env_token` (pass
// getenv("ONEWINDOW_TOKEN"); null or empty = no token). A token file must
// exist and hold a non-empty token of printable ASCII without spaces; one
// trailing newline (LF or CRLF) is stripped. TLS is on when any TLS flag is
// given; --tls-cert and --tls-key go together; each file must exist and be
// non-empty. Errors: INVALID_ARGUMENT naming the flag and the file (never
// the token), NOT_FOUND for a missing file, PERMISSION_DENIED for an
// unreadable one.
absl::StatusOr<ClientCredentials> LoadClientCredentials(
    const CredentialFlags& flags, const char* env_token);

// Channel credentials for `tls` (insecure when TLS is off). Reads the PEM
// files; errors as for LoadClientCredentials.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const TlsOptions& tls);

// Adds `authorization: Bearer <token>` to a call (nothing when empty).
void AddAuthMetadata(const std::string& bearer_token, grpc::ClientContext* ctx);

// Copies the token and TLS options into a worker's options.
void ApplyTo(const ClientCredentials& creds, WorkerOptions* options);

}  // namespace onewindow::adapter

#endif  // ONEWINDOW_ADAPTERS_SDK_CLIENT_OPTIONS_H_
