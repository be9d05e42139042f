// Case numbers a person can read aloud: PREFIX-YYYY-NNNNNN-C.
//
// PREFIX is 2-4 capital letters (the service's case_prefix, "OW" by
// default), YYYY the year of submission, NNNNNN a sequence per prefix and
// year (six digits, more once it passes 999999) and C a Luhn check digit
// over the digits YYYYNNNNNN, e.g. FL-2026-000123-7. The check digit catches
// every single mistyped digit and every swap of two neighbouring digits
// except 0<->9, so a mistyped number is answered "wrong check digit", not
// "not found". Ids of the older form "OW-" + ten digits (OW-0000000042)
// still parse, flagged as legacy. Stateless; thread-safe.
#ifndef ONEWINDOW_ENGINE_MANIFEST_CASE_NUMBER_H_
#define ONEWINDOW_ENGINE_MANIFEST_CASE_NUMBER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace onewindow::manifest {

inline constexpr std::string_view kDefaultCasePrefix = "OW";
// Largest sequence number (15 digits; YYYY + sequence stays below 2^63).
inline constexpr int64_t kMaxCaseSequence = 999'999'999'999'999;

struct CaseNumber {
  std::string prefix;    // upper case
  int year = 0;          // 1000..9999; 0 for a legacy id
  int64_t sequence = 0;  // the legacy id's number for a legacy id
  bool legacy = false;   // "OW-" + ten digits, no check digit

  // The canonical text: "FL-2026-000123-7", or "OW-0000000042" for a legacy
  // id.
  std::string ToString() const;
};

// True for 2..4 capital letters A-Z.
bool IsValidCasePrefix(std::string_view prefix);

// The Luhn check digit (0..9) to append to `digits` (ASCII digits only; -1
// otherwise or when empty).
int LuhnCheckDigit(std::string_view digits);

// True when the last digit of `digits` is the Luhn check digit of the rest.
bool LuhnValid(std::string_view digits);

// "FL-2026-000123-7". INVALID_ARGUMENT for a bad prefix, a year outside
// 1000..9999 or a sequence outside 0..kMaxCaseSequence.
absl::StatusOr<std::string> FormatCaseNumber(std::string_view prefix, int year,
                                             int64_t sequence);

// Reads a case number as typed at a counter: letter case and surrounding
// spaces are ignored. INVALID_ARGUMENT when the check digit is wrong (saying
// so: a mistyped or swapped digit) or when the text is not a case number at
// all (naming the expected form).
absl::StatusOr<CaseNumber> ParseCaseNumber(std::string_view text);

}  // namespace onewindow::manifest

#endif  // ONEWINDOW_ENGINE_MANIFEST_CASE_NUMBER_H_
