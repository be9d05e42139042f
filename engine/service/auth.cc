#include "engine/service/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace onewindow::service {
namespace {

constexpr size_t kMaxAuthFileBytes = 1 << 20;
constexpr size_t kMaxPrincipals = 10000;

std::string Sha256(std::string_view s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
  return std::string(reinterpret_cast<const char*>(md), sizeof(md));
}

bool FromHex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int a = nibble(hex[i]), b = nibble(hex[i + 1]);
    if (a < 0 || b < 0) return false;
    out->push_back(static_cast<char>(a * 16 + b));
  }
  return true;
}

bool ValidDepartment(const std::string& d) {
  if (d.empty() || d.size() > 32) return false;
  for (char c : d) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string TokenSha256Hex(std::string_view token) {
  static const char* kDigits = "0123456789abcdef";
  std::string raw = Sha256(token), out;
  for (unsigned char c : raw) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const AuthTable>> AuthTable::Parse(
    std::string_view text) {
  if (text.size() > kMaxAuthFileBytes) {
    return absl::InvalidArgumentError("auth file: larger than 1 MiB");
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(std::string("auth file: ") + e.what());
  }
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        "auth file: expected a mapping with a `principals:` list");
  }
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>("");
    if (key != "principals") {
      return absl::InvalidArgumentError("auth file: line " +
                                        std::to_string(kv.first.Mark().line + 1) +
                                        ": unknown key `" + key + "`");
    }
  }
  YAML::Node list = root["principals"];
  if (!list || !list.IsSequence()) {
    return absl::InvalidArgumentError(
        "auth file: `principals` must be a list");
  }
  if (list.size() > kMaxPrincipals) {
    return absl::InvalidArgumentError("auth file: more than 10000 principals");
  }
  auto table = std::make_shared<AuthTable>();
  std::set<std::string> names, hashes;
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node& n = list[i];
    const std::string at = "auth file: principals[" + std::to_string(i) +
                           "] (line " + std::to_string(n.Mark().line + 1) +
                           ")";
    if (!n.IsMap()) return absl::InvalidArgumentError(at + ": not a mapping");
    Principal p;
    std::string role, hash;
    try {
      for (const auto& kv : n) {
        const std::string key = kv.first.as<std::string>();
        if (key == "name") {
          p.name = kv.second.as<std::string>();
        } else if (key == "role") {
          role = kv.second.as<std::string>();
        } else if (key == "department") {
          p.department = kv.second.as<std::string>();
        } else if (key == "token_sha256") {
          hash = kv.second.as<std::string>();
        } else {
          return absl::InvalidArgumentError(at + ": unknown field `" + key +
                                            "`");
        }
      }
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(at + ": " + e.what());
    }
    if (p.name.empty() || p.name.size() > 128) {
      return absl::InvalidArgumentError(at + ": name: required, 1..128 bytes");
    }
    std::optional<Role> r = ParseRole(role);
    if (!r) {
      return absl::InvalidArgumentError(
          at + ": role: \"" + role +
          "\" is not one of counter, department, analyst, supervisor, admin");
    }
    p.role = *r;
    if (p.role == Role::kDepartment && !ValidDepartment(p.department)) {
      return absl::InvalidArgumentError(
          at + ": department: required for the department role (capital "
               "letters, digits, '-', '_')");
    }
    if (p.role != Role::kDepartment && !p.department.empty()) {
      return absl::InvalidArgumentError(
          at + ": department: only the department role has one");
    }
    if (!hash.empty()) {
      if (hash.size() != 64 || !FromHex(hash, &p.token_sha256)) {
        return absl::InvalidArgumentError(
            at + ": token_sha256: must be 64 hex digits (the SHA-256 of the "
                 "token)");
      }
      if (!hashes.insert(p.token_sha256).second) {
        return absl::InvalidArgumentError(
            at + ": token_sha256: the same token as another principal");
      }
    }
    if (!names.insert(p.name).second) {
      return absl::InvalidArgumentError(at + ": name: \"" + p.name +
                                        "\" appears twice");
    }
    table->principals_.push_back(std::move(p));
  }
  return std::shared_ptr<const AuthTable>(std::move(table));
}

absl::StatusOr<std::shared_ptr<const AuthTable>> AuthTable::Load(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError("auth file " + path +
                                         ": cannot be read");
  }
  std::string text;
  text.resize(kMaxAuthFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  auto t = Parse(text);
  if (!t.ok()) {
    return absl::InvalidArgumentError(path + ": " +
                                      std::string(t.status().message()));
  }
  return t;
}

const Principal* AuthTable::ByToken(std::string_view token) const {
  const std::string h = Sha256(token);
  const Principal* found = nullptr;
  for (const Principal& p : principals_) {
    if (p.token_sha256.size() == h.size() &&
        CRYPTO_memcmp(p.token_sha256.data(), h.data(), h.size()) == 0) {
      found = &p;  // keep going: the time does not depend on the match
    }
  }
  return found;
}

const Principal* AuthTable::ByName(std::string_view name) const {
  for (const Principal& p : principals_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(
    const std::string& auth_file, AuthLimits limits) {
  std::unique_ptr<Authenticator> a(new Authenticator(auth_file, limits));
  if (!auth_file.empty()) {
    auto t = AuthTable::Load(auth_file);
    if (!t.ok()) return t.status();
    a->table_ = *t;
  }
  return a;
}

absl::StatusOr<Caller> Authenticator::Authenticate(
    std::string_view authorization, std::string_view cert_cn,
    std::string_view peer, std::string_view method) const {
  if (!enabled()) return Caller{};
  std::shared_ptr<const AuthTable> table;
  {
    std::lock_guard lock(mu_);
    table = table_;
  }
  auto refuse = [&](const std::string& why) {
    spdlog::warn("unauthenticated call {} from {}: {}", method, peer, why);
    return absl::UnauthenticatedError(why);
  };
  const Principal* p = nullptr;
  if (!authorization.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() <= kBearer.size() ||
        authorization.substr(0, kBearer.size()) != kBearer) {
      return refuse(
          "authorization: expected \"Bearer <token>\" (the header is "
          "malformed)");
    }
    std::string_view token = authorization.substr(kBearer.size());
    if (token.size() > 512) {
      return refuse("authorization: the token is longer than 512 bytes");
    }
    p = table->ByToken(token);
    if (p == nullptr) return refuse("authorization: unknown token");
  } else if (!cert_cn.empty()) {
    p = table->ByName(cert_cn);
    if (p == nullptr) {
      return refuse("client certificate: common name \"" +
                    std::string(cert_cn.substr(0, 128)) +
                    "\" names no principal");
    }
  } else {
    return refuse(
        "no credentials: send authorization: Bearer <token> (owctl "
        "--token-file) or a client certificate");
  }
  Caller c;
  c.principal = p->name;
  c.role = p->role;
  c.department = p->department;
  return c;
}

absl::Status Authenticator::Reload() {
  if (!enabled()) return absl::OkStatus();
  auto t = AuthTable::Load(path_);
  if (!t.ok()) {
    spdlog::error("reload of {} failed, keeping the old principals: {}", path_,
                  t.status().ToString());
    return t.status();
  }
  int ended = 0;
  {
    // Ended under the lock: a stream that closes meanwhile waits in
    // CloseStream, so `end` never runs for a stream that is gone.
    std::lock_guard lock(mu_);
    table_ = *t;
    for (auto& [id, s] : open_streams_) {
      const Principal* p = table_->ByName(s.caller.principal);
      if (p == nullptr || p->role != s.caller.role ||
          p->department != s.caller.department) {
        s.end();
        ++ended;
      }
    }
  }
  spdlog::info("auth file {} reloaded: {} principals; {} streams ended", path_,
               (*t)->size(), ended);
  return absl::OkStatus();
}

absl::Status Authenticator::AdmitCall(const std::string& principal) {
  std::lock_guard lock(mu_);
  int& n = calls_[principal];
  if (n >= limits_.max_calls_in_flight) {
    return absl::ResourceExhaustedError(
        "principal " + principal + " already has " + std::to_string(n) +
        " calls in flight, the limit per principal");
  }
  ++n;
  return absl::OkStatus();
}

void Authenticator::ReleaseCall(const std::string& principal) {
  std::lock_guard lock(mu_);
  auto it = calls_.find(principal);
  if (it != calls_.end() && --it->second <= 0) calls_.erase(it);
}

absl::StatusOr<uint64_t> Authenticator::OpenStream(const Caller& caller,
                                                   std::function<void()> end) {
  std::lock_guard lock(mu_);
  int& n = streams_[caller.principal];
  if (n >= limits_.max_streams) {
    return absl::ResourceExhaustedError(
        "principal " + caller.principal + " already holds " +
        std::to_string(n) + " streams open, the limit per principal");
  }
  ++n;
  const uint64_t id = next_stream_++;
  open_streams_[id] = Stream{caller, std::move(end)};
  return id;
}

void Authenticator::CloseStream(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = open_streams_.find(id);
  if (it == open_streams_.end()) return;
  auto s = streams_.find(it->second.caller.principal);
  if (s != streams_.end() && --s->second <= 0) streams_.erase(s);
  open_streams_.erase(it);
}

}  // namespace onewindow::service
