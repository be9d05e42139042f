#include "scheduler/ids.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstdio>
#include <cstring>

namespace onewindow::scheduler {
namespace {

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int64_t Digits(std::string_view s) {
  int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

}  // namespace

absl::StatusOr<CaseNumber> ParseCaseNumber(std::string_view text) {
  absl::StatusOr<CaseNumber> n = manifest::ParseCaseNumber(text);
  if (!n.ok()) {
    return absl::InvalidArgumentError("case_id: " +
                                      std::string(n.status().message()));
  }
  if (n->sequence <= 0) {
    return absl::InvalidArgumentError("case_id: \"" +
                                      std::string(text.substr(0, 64)) +
                                      "\" has no sequence number");
  }
  return n;
}

std::string FormatToken(const TokenParts& p) {
  return p.case_id + "/" + p.task_id + "/" + std::to_string(p.attempt) + "/" +
         p.nonce;
}

bool ParseToken(std::string_view token, TokenParts* p) {
  if (token.size() > 256) return false;
  size_t a = token.find('/');
  if (a == std::string_view::npos) return false;
  size_t b = token.find('/', a + 1);
  if (b == std::string_view::npos) return false;
  size_t c = token.find('/', b + 1);
  if (c == std::string_view::npos ||
      token.find('/', c + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view case_id = token.substr(0, a);
  std::string_view task_id = token.substr(a + 1, b - a - 1);
  std::string_view attempt = token.substr(b + 1, c - b - 1);
  std::string_view nonce = token.substr(c + 1);
  absl::StatusOr<CaseNumber> n = ParseCaseNumber(case_id);
  if (!n.ok() || task_id.empty() || task_id.size() > 32) return false;
  if (attempt.empty() || attempt.size() > 9 || !AllDigits(attempt)) {
    return false;
  }
  if (nonce.empty() || nonce.size() > 32) return false;
  for (char ch : nonce) {
    if (!std::isxdigit(static_cast<unsigned char>(ch))) return false;
  }
  p->case_id = CanonicalCaseId(*n);
  p->task_id = std::string(task_id);
  p->attempt = static_cast<int>(Digits(attempt));
  p->nonce.clear();
  for (char ch : nonce) {
    p->nonce.push_back(
        static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  return true;
}

bool IssuedTail(std::string_view token, int* attempt, std::string_view* nonce) {
  const size_t c = token.rfind('/');
  if (c == std::string_view::npos || c == 0) return false;
  const size_t b = token.rfind('/', c - 1);
  if (b == std::string_view::npos) return false;
  const std::string_view digits = token.substr(b + 1, c - b - 1);
  *nonce = token.substr(c + 1);
  if (digits.empty() || digits.size() > 9 || nonce->empty()) return false;
  int n = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return false;
    n = n * 10 + (ch - '0');
  }
  for (char ch : *nonce) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  *attempt = n;
  return true;
}

std::string NewNonce() {
  // The generator's bytes are drawn 4 KiB at a time per thread: one call
  // per nonce cost more than the rest of a task's hand-out. Each nonce still
  // takes 16 bytes no other nonce uses.
  constexpr size_t kPool = 4096;
  thread_local unsigned char pool[kPool];
  thread_local size_t used = kPool;
  if (used + 16 > kPool) {
    if (RAND_bytes(pool, kPool) != 1) {
      // The generator failed (no entropy source): refuse to hand out
      // guessable tokens.
      std::abort();
    }
    used = 0;
  }
  unsigned char bytes[16];
  std::memcpy(bytes, pool + used, sizeof(bytes));
  OPENSSL_cleanse(pool + used, sizeof(bytes));
  used += sizeof(bytes);
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool SameNonce(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace onewindow::scheduler
