#include "adapters/sdk/client_options.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "adapters/sdk/worker.h"

namespace onewindow::adapter {

const char kCredentialFlagsHelp[] =
    "  --token-file F     bearer token for the engine (default "
    "$ONEWINDOW_TOKEN)\n"
    "  --tls-ca F         TLS to the engine; CA certificates (PEM) that "
    "sign its certificate\n"
    "  --tls-cert F       client certificate (PEM) for mutual TLS, with "
    "--tls-key\n"
    "  --tls-key F        client private key (PEM) for mutual TLS\n";

namespace {

// Credential files are small; anything larger is a mistake.
constexpr std::streamsize kMaxCredentialFileBytes = 1 << 20;

// Reads `path` for `flag`; the content is never put in a message.
absl::StatusOr<std::string> ReadCredentialFile(std::string_view flag,
                                               const std::string& path) {
  const std::string what = std::string(flag) + " " + path;
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return absl::NotFoundError(what + ": no such file");
    }
    if (errno == EACCES) {
      return absl::PermissionDeniedError(what + ": permission denied");
    }
    return absl::InvalidArgumentError(what + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(what + ": not a regular file");
  }
  if (st.st_size > kMaxCredentialFileBytes) {
    return absl::InvalidArgumentError(what + ": " + std::to_string(st.st_size) +
                                      " bytes, more than the limit of " +
                                      std::to_string(kMaxCredentialFileBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::PermissionDeniedError(what + ": cannot be read");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  if (text.empty()) return absl::InvalidArgumentError(what + ": empty");
  return text;
}

// Checks a token's characters; `source` names where it came from.
absl::Status CheckToken(const std::string& token, const std::string& source) {
  if (token.empty()) return absl::InvalidArgumentError(source + ": empty");
  for (unsigned char c : token) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(
          source +
          ": the token holds a space, a control character or non-ASCII "
          "(one line of printable ASCII is expected)");
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool TakeCredentialFlag(std::string_view name, std::string value,
                        CredentialFlags* flags) {
  if (name == "--token-file") {
    flags->token_file = std::move(value);
  } else if (name == "--tls-ca") {
    flags->tls_ca = std::move(value);
  } else if (name == "--tls-cert") {
    flags->tls_cert = std::move(value);
  } else if (name == "--tls-key") {
    flags->tls_key = std::move(value);
  } else {
    return false;
  }
  return true;
}

absl::StatusOr<ClientCredentials> LoadClientCredentials(
    const CredentialFlags& flags, const char* env_token) {
  ClientCredentials creds;
  if (!flags.token_file.empty()) {
    absl::StatusOr<std::string> text =
        ReadCredentialFile("--token-file", flags.token_file);
    if (!text.ok()) return text.status();
    std::string token = std::move(*text);
    if (!token.empty() && token.back() == '\n') token.pop_back();
    if (!token.empty() && token.back() == '\r') token.pop_back();
    absl::Status s = CheckToken(token, "--token-file " + flags.token_file);
    if (!s.ok()) return s;
    creds.bearer_token = std::move(token);
  } else if (env_token != nullptr && *env_token != '\0') {
    absl::Status s = CheckToken(env_token, "$ONEWINDOW_TOKEN");
    if (!s.ok()) return s;
    creds.bearer_token = env_token;
  }

  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    return absl::InvalidArgumentError(flags.tls_cert.empty()
                                          ? "--tls-key needs --tls-cert"
                                          : "--tls-cert needs --tls-key");
  }
  creds.tls.enabled = !flags.tls_ca.empty() || !flags.tls_cert.empty();
  creds.tls.ca_file = flags.tls_ca;
  creds.tls.cert_file = flags.tls_cert;
  creds.tls.key_file = flags.tls_key;
  // Check the files now, so a bad path stops the binary at start.
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> channel =
      MakeChannelCredentials(creds.tls);
  if (!channel.ok()) return channel.status();
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MakeChannelCredentials(const TlsOptions& tls) {
  if (!tls.enabled) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  if (!tls.ca_file.empty()) {
    auto ca = ReadCredentialFile("--tls-ca", tls.ca_file);
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = std::move(*ca);
  }
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return absl::InvalidArgumentError(
        "TLS: a client certificate and key go together");
  }
  if (!tls.cert_file.empty()) {
    auto cert = ReadCredentialFile("--tls-cert", tls.cert_file);
    if (!cert.ok()) return cert.status();
    auto key = ReadCredentialFile("--tls-key", tls.key_file);
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = std::move(*cert);
    ssl.pem_private_key = std::move(*key);
  }
  return grpc::SslCredentials(ssl);
}

void AddAuthMetadata(const std::string& bearer_token,
                     grpc::ClientContext* ctx) {
  if (bearer_token.empty()) return;
  ctx->AddMetadata("authorization", "Bearer " + bearer_token);
}

void ApplyTo(const ClientCredentials& creds, WorkerOptions* options) {
  options->bearer_token = creds.bearer_token;
  options->tls = creds.tls;
}

}  // namespace onewindow::adapter
