#include "scheduler/ids.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstdio>

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

bool ValidPrefix(std::string_view prefix) {
  if (prefix.size() < 2 || prefix.size() > 4) return false;
  for (char c : prefix) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

int LuhnDigit(std::string_view digits) {
  // Double every second digit from the right, starting with the rightmost
  // (the check digit goes after it).
  int sum = 0;
  bool dbl = true;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return (10 - sum % 10) % 10;
}

std::string FormatCaseNumber(std::string_view prefix, int year, int64_t seq) {
  char num[32];
  std::snprintf(num, sizeof(num), "%06lld", static_cast<long long>(seq));
  std::string digits = std::to_string(year) + num;
  return std::string(prefix) + "-" + std::to_string(year) + "-" + num + "-" +
         std::to_string(LuhnDigit(digits));
}

absl::StatusOr<CaseNumber> ParseCaseNumber(std::string_view text) {
  std::string t;
  t.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '\t') continue;
    t.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  auto bad = [&]() {
    return absl::InvalidArgumentError(
        "case_id: \"" + std::string(text.substr(0, 64)) +
        "\" is not a case number (expected PREFIX-YYYY-NNNNNN-C, e.g. "
        "FL-2026-000123-7)");
  };
  if (t.size() > 40) return bad();
  // Layout 1: OW-nnnnnnnnnn.
  if (t.size() == 13 && t.compare(0, 3, "OW-") == 0 &&
      AllDigits(std::string_view(t).substr(3))) {
    CaseNumber n;
    n.prefix = "OW";
    n.seq = Digits(std::string_view(t).substr(3));
    n.legacy = true;
    if (n.seq <= 0) return bad();
    return n;
  }
  size_t a = t.find('-');
  if (a == std::string::npos) return bad();
  size_t b = t.find('-', a + 1);
  if (b == std::string::npos) return bad();
  size_t c = t.find('-', b + 1);
  if (c == std::string::npos || t.find('-', c + 1) != std::string::npos) {
    return bad();
  }
  std::string_view prefix = std::string_view(t).substr(0, a);
  std::string_view year = std::string_view(t).substr(a + 1, b - a - 1);
  std::string_view seq = std::string_view(t).substr(b + 1, c - b - 1);
  std::string_view check = std::string_view(t).substr(c + 1);
  if (!ValidPrefix(prefix) || year.size() != 4 || !AllDigits(year) ||
      seq.size() < 6 || seq.size() > 12 || !AllDigits(seq) ||
      check.size() != 1 || !AllDigits(check)) {
    return bad();
  }
  const std::string digits = std::string(year) + std::string(seq);
  if (LuhnDigit(digits) != check[0] - '0') {
    return absl::InvalidArgumentError(
        "case_id: \"" + std::string(text.substr(0, 64)) +
        "\" has a wrong check digit (the last digit): a digit of the number "
        "is probably mistyped or two digits are swapped");
  }
  CaseNumber n;
  n.prefix = std::string(prefix);
  n.year = static_cast<int>(Digits(year));
  n.seq = Digits(seq);
  if (n.seq <= 0) return bad();
  return n;
}

std::string CanonicalCaseId(const CaseNumber& n) {
  if (n.legacy) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "OW-%010lld", static_cast<long long>(n.seq));
    return buf;
  }
  return FormatCaseNumber(n.prefix, n.year, n.seq);
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

std::string NewNonce() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    // The generator failed (no entropy source): refuse to hand out guessable
    // tokens.
    std::abort();
  }
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
