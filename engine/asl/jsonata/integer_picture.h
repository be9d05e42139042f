// Integer picture strings of XPath F&O 3.1 as JSONata implements them
// ($formatInteger, $parseInteger, and the numeric parts of date/time
// pictures): decimal digit patterns with grouping, letters, roman numerals
// and English words, cardinal or ordinal (internal to engine/asl/jsonata).
// Stateless; thread-safe.
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_INTEGER_PICTURE_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_INTEGER_PICTURE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace onewindow::asl::jsonata::internal {

enum class Primary { kDecimal, kLetters, kRoman, kWords, kSequence };
enum class Case { kLower, kUpper, kTitle };

struct Separator {
  size_t position;
  std::string character;
};

struct IntegerFormat {
  Primary primary = Primary::kDecimal;
  Case text_case = Case::kLower;
  bool ordinal = false;
  uint32_t zero_code = '0';
  int mandatory_digits = 0;
  int optional_digits = 0;
  bool regular = false;
  std::vector<Separator> separators;  // irregular, or one entry when regular
  std::string token;
};

// Reads a picture such as "#,##0", "w;o", "I" (D3130/D3131 on errors).
absl::StatusOr<IntegerFormat> AnalyseIntegerPicture(const std::string& picture);
// Formats `value` (an integer value) with `f`.
absl::StatusOr<std::string> FormatIntegerWith(double value,
                                              const IntegerFormat& f);
// A PCRE2 pattern that matches integers formatted with `f`; `fixed_width`
// asks for exactly that many digits (for adjacent date/time components).
std::string IntegerRegex(const IntegerFormat& f,
                         std::optional<int> fixed_width);
// Parses text matched by IntegerRegex().
std::optional<double> ParseIntegerText(std::string text,
                                       const IntegerFormat& f);

std::string EscapeRegex(std::string_view s);
std::string ToUpperAscii(std::string s);
std::string ToLowerAscii(std::string s);

}  // namespace onewindow::asl::jsonata::internal

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_INTEGER_PICTURE_H_
