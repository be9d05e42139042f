// Case number formatting, parsing and the Luhn check digit.
#include "engine/manifest/case_number.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace onewindow::manifest {
namespace {

constexpr std::string_view kExpectedForm =
    "expected a case number such as FL-2026-000123-7 (2-4 letters, the "
    "year, a sequence of at least 6 digits and a check digit, separated by "
    "'-')";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

std::string Shown(std::string_view text) {
  constexpr size_t kMaxShown = 40;
  std::string out;
  for (char c : text.substr(0, kMaxShown)) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7F ? '?' : c);
  }
  if (text.size() > kMaxShown) out.append("...");
  return out;
}

absl::Status NotACaseNumber(std::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("\"", Shown(text),
                   "\" is not a case number: ", std::string(kExpectedForm)));
}

// Sum of the Luhn weights of `digits`, doubling every second digit counted
// from the right starting with the rightmost when `double_last`.
int LuhnSum(std::string_view digits, bool double_last) {
  int sum = 0;
  bool twice = double_last;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum;
}

}  // namespace

std::string CaseNumber::ToString() const {
  if (legacy) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%010lld", static_cast<long long>(sequence));
    return absl::StrCat(prefix, "-", buf);
  }
  absl::StatusOr<std::string> s = FormatCaseNumber(prefix, year, sequence);
  return s.ok() ? *s : std::string();
}

bool IsValidCasePrefix(std::string_view prefix) {
  if (prefix.size() < 2 || prefix.size() > 4) return false;
  for (char c : prefix) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

int LuhnCheckDigit(std::string_view digits) {
  if (!AllDigits(digits)) return -1;
  return (10 - LuhnSum(digits, /*double_last=*/true) % 10) % 10;
}

bool LuhnValid(std::string_view digits) {
  if (digits.size() < 2 || !AllDigits(digits)) return false;
  return LuhnSum(digits, /*double_last=*/false) % 10 == 0;
}

absl::StatusOr<std::string> FormatCaseNumber(std::string_view prefix, int year,
                                             int64_t sequence) {
  if (!IsValidCasePrefix(prefix)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "case prefix \"", Shown(prefix), "\" must be 2-4 capital letters A-Z"));
  }
  if (year < 1000 || year > 9999) {
    return absl::InvalidArgumentError(
        absl::StrCat("case number year ", year, " must be 1000..9999"));
  }
  if (sequence < 0 || sequence > kMaxCaseSequence) {
    return absl::InvalidArgumentError(absl::StrCat(
        "case sequence ", sequence, " must be 0..", kMaxCaseSequence));
  }
  // The year's 4 digits, then the sequence's (at least 6, zero-padded).
  char digits[24];
  size_t n = 0;
  for (int div = 1000; div > 0; div /= 10) {
    digits[n++] = static_cast<char>('0' + year / div % 10);
  }
  char seq[20];
  size_t m = 0;
  for (int64_t v = sequence; v > 0 || m < 6; v /= 10) {
    seq[m++] = static_cast<char>('0' + v % 10);
  }
  while (m > 0) digits[n++] = seq[--m];
  const std::string_view all(digits, n);
  std::string out;
  out.reserve(prefix.size() + n + 4);
  out.append(prefix);
  out.push_back('-');
  out.append(all.substr(0, 4));
  out.push_back('-');
  out.append(all.substr(4));
  out.push_back('-');
  out.push_back(static_cast<char>('0' + LuhnCheckDigit(all)));
  return out;
}

absl::StatusOr<CaseNumber> ParseCaseNumber(std::string_view text) {
  std::string_view t = text;
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t' ||
                        t.front() == '\n' || t.front() == '\r')) {
    t.remove_prefix(1);
  }
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t' ||
                        t.back() == '\n' || t.back() == '\r')) {
    t.remove_suffix(1);
  }
  if (t.size() > 64) return NotACaseNumber(text);
  std::string upper(t);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  std::string_view u = upper;
  size_t dash = u.find('-');
  if (dash == std::string_view::npos) return NotACaseNumber(text);
  std::string_view prefix = u.substr(0, dash);
  std::string_view rest = u.substr(dash + 1);
  if (!IsValidCasePrefix(prefix)) return NotACaseNumber(text);

  // Legacy: OW-0000000042.
  if (prefix == "OW" && rest.size() == 10 && AllDigits(rest)) {
    CaseNumber n;
    n.prefix = "OW";
    n.legacy = true;
    for (char c : rest) n.sequence = n.sequence * 10 + (c - '0');
    return n;
  }

  // YYYY-NNNNNN-C
  size_t d1 = rest.find('-');
  if (d1 == std::string_view::npos) return NotACaseNumber(text);
  size_t d2 = rest.find('-', d1 + 1);
  if (d2 == std::string_view::npos) return NotACaseNumber(text);
  std::string_view year = rest.substr(0, d1);
  std::string_view seq = rest.substr(d1 + 1, d2 - d1 - 1);
  std::string_view check = rest.substr(d2 + 1);
  if (year.size() != 4 || !AllDigits(year) || year[0] == '0' ||
      seq.size() < 6 || seq.size() > 15 || !AllDigits(seq) ||
      check.size() != 1 || !IsDigit(check[0])) {
    return NotACaseNumber(text);
  }
  std::string digits = absl::StrCat(std::string(year), std::string(seq));
  if (LuhnCheckDigit(digits) != check[0] - '0') {
    return absl::InvalidArgumentError(absl::StrCat(
        "case number \"", Shown(t),
        "\" has a wrong check digit (the last digit): a digit was probably "
        "mistyped or two neighbouring digits swapped; please check the "
        "number on the receipt"));
  }
  CaseNumber n;
  n.prefix = std::string(prefix);
  for (char c : year) n.year = n.year * 10 + (c - '0');
  for (char c : seq) n.sequence = n.sequence * 10 + (c - '0');
  return n;
}

}  // namespace onewindow::manifest
