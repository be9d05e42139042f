// Identifiers the engine hands out: case numbers and task tokens.
//
// Case numbers: PREFIX-YYYY-NNNNNN-C (e.g. FL-2026-000123-3), a sequence per
// prefix and year with a Luhn check digit over the digits YYYYNNNNNN, and
// the layout 1 form OW-nnnnnnnnnn. Shard i of n hands out the sequence
// numbers k*n + i + 1, so a case number names its shard either way.
//
// Task tokens: "<case number>/<task id>/<attempt>/<nonce>", the nonce 128
// random bits in hex (layout 1 tokens have 48-bit nonces).
#ifndef ONEWINDOW_SCHEDULER_IDS_H_
#define ONEWINDOW_SCHEDULER_IDS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/manifest/case_number.h"

namespace onewindow::scheduler {

// Case numbers are engine/manifest's (case_number.h).
using CaseNumber = manifest::CaseNumber;
using manifest::FormatCaseNumber;
// INVALID_ARGUMENT naming case_id and the problem (not a case number, or a
// wrong check digit).
absl::StatusOr<CaseNumber> ParseCaseNumber(std::string_view text);
inline std::string CanonicalCaseId(const CaseNumber& n) { return n.ToString(); }
// The shard of a case number among `shards`: shard i hands out the
// sequence numbers k*n + i + 1.
inline int ShardOf(const CaseNumber& n, int shards) {
  return static_cast<int>((n.sequence - 1) % shards);
}

struct TokenParts {
  std::string case_id;
  std::string task_id;
  int attempt = 0;
  std::string nonce;  // lower-case hex
};
std::string FormatToken(const TokenParts& parts);
bool ParseToken(std::string_view token, TokenParts* parts);
// The attempt and nonce of a token the engine issued (its last two parts),
// read without parsing its case number. False when that tail is not in the
// issued form (up to 9 digits; lower-case hex): then use ParseToken.
bool IssuedTail(std::string_view token, int* attempt, std::string_view* nonce);
// 128 bits from the system's cryptographic generator, as 32 hex digits.
std::string NewNonce();
// Constant-time comparison of two nonces.
bool SameNonce(std::string_view a, std::string_view b);

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_IDS_H_
