// Tests for case numbers: formatting, parsing, the Luhn check digit and the
// typing mistakes it catches.
#include "engine/manifest/case_number.h"

#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::manifest {
namespace {

using ::testing::HasSubstr;

TEST(LuhnTest, KnownValues) {
  // The classic example: 7992739871 -> 3 (79927398713 is valid).
  EXPECT_EQ(LuhnCheckDigit("7992739871"), 3);
  EXPECT_TRUE(LuhnValid("79927398713"));
  EXPECT_FALSE(LuhnValid("79927398710"));
  // A well-known test card number, 4532015112830366.
  EXPECT_EQ(LuhnCheckDigit("453201511283036"), 6);
  EXPECT_TRUE(LuhnValid("4532015112830366"));
  EXPECT_EQ(LuhnCheckDigit("0"), 0);
  EXPECT_EQ(LuhnCheckDigit("2026000123"), 3);
  EXPECT_EQ(LuhnCheckDigit(""), -1);
  EXPECT_EQ(LuhnCheckDigit("12a"), -1);
}

TEST(CaseNumberTest, FormatsWithCheckDigitOverYearAndSequence) {
  EXPECT_EQ(*FormatCaseNumber("FL", 2026, 123), "FL-2026-000123-3");
  EXPECT_EQ(*FormatCaseNumber("OW", 2027, 1),
            "OW-2027-000001-" + std::to_string(LuhnCheckDigit("2027000001")));
  // More digits once the sequence passes 999999.
  absl::StatusOr<std::string> big = FormatCaseNumber("ABCD", 2026, 1234567);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(*big, "ABCD-2026-1234567-" +
                      std::to_string(LuhnCheckDigit("20261234567")));
}

TEST(CaseNumberTest, FormatsTheEdgesOfTheRanges) {
  EXPECT_EQ(*FormatCaseNumber("OW", 2026, 0),
            "OW-2026-000000-" + std::to_string(LuhnCheckDigit("2026000000")));
  EXPECT_EQ(*FormatCaseNumber("OW", 1000, 999999),
            "OW-1000-999999-" + std::to_string(LuhnCheckDigit("1000999999")));
  EXPECT_EQ(*FormatCaseNumber("OW", 9999, 1000000),
            "OW-9999-1000000-" + std::to_string(LuhnCheckDigit("99991000000")));
  EXPECT_EQ(*FormatCaseNumber("OW", 2026, kMaxCaseSequence),
            "OW-2026-999999999999999-" +
                std::to_string(LuhnCheckDigit("2026999999999999999")));
  // Every number formatted reads back as itself.
  for (int64_t seq : {int64_t{7}, int64_t{10}, int64_t{123456},
                      int64_t{100000000}, kMaxCaseSequence - 1}) {
    absl::StatusOr<std::string> text = FormatCaseNumber("FL", 2031, seq);
    ASSERT_TRUE(text.ok());
    absl::StatusOr<CaseNumber> back = ParseCaseNumber(*text);
    ASSERT_TRUE(back.ok()) << *text;
    EXPECT_EQ(back->sequence, seq);
    EXPECT_EQ(back->year, 2031);
    EXPECT_EQ(back->ToString(), *text);
  }
}

TEST(CaseNumberTest, FormatRefusesBadParts) {
  EXPECT_EQ(FormatCaseNumber("F", 2026, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatCaseNumber("FOODS", 2026, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatCaseNumber("fl", 2026, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatCaseNumber("FL", 999, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatCaseNumber("FL", 2026, -1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FormatCaseNumber("FL", 2026, kMaxCaseSequence + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CaseNumberTest, ParsesIgnoringCaseAndSpaces) {
  absl::StatusOr<CaseNumber> n = ParseCaseNumber("  fl-2026-000123-3\n");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->prefix, "FL");
  EXPECT_EQ(n->year, 2026);
  EXPECT_EQ(n->sequence, 123);
  EXPECT_FALSE(n->legacy);
  EXPECT_EQ(n->ToString(), "FL-2026-000123-3");
}

TEST(CaseNumberTest, RoundTripsLongSequences) {
  for (int64_t seq : {int64_t{0}, int64_t{999999}, int64_t{1000000},
                      int64_t{98765432101}, kMaxCaseSequence}) {
    std::string text = *FormatCaseNumber("IACM", 2031, seq);
    absl::StatusOr<CaseNumber> n = ParseCaseNumber(text);
    ASSERT_TRUE(n.ok()) << text << ": " << n.status();
    EXPECT_EQ(n->sequence, seq);
    EXPECT_EQ(n->ToString(), text);
  }
}

TEST(CaseNumberTest, LegacyIdsStillParse) {
  absl::StatusOr<CaseNumber> n = ParseCaseNumber("ow-0000000042");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_TRUE(n->legacy);
  EXPECT_EQ(n->prefix, "OW");
  EXPECT_EQ(n->sequence, 42);
  EXPECT_EQ(n->ToString(), "OW-0000000042");
}

TEST(CaseNumberTest, WrongCheckDigitSaysSo) {
  absl::StatusOr<CaseNumber> n = ParseCaseNumber("FL-2026-000123-7");
  ASSERT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(n.status().message(), HasSubstr("wrong check digit"));
  EXPECT_THAT(n.status().message(), HasSubstr("mistyped"));
  EXPECT_THAT(n.status().message(), HasSubstr("swapped"));
  // The right digit is not revealed.
  EXPECT_THAT(n.status().message(), ::testing::Not(HasSubstr("-3")));
}

TEST(CaseNumberTest, NotACaseNumberNamesTheForm) {
  for (const char* text :
       {"", "hello", "FL-2026-00012-3", "FL-26-000123-3", "FL-2026-000123",
        "FL-2026-000123-33", "F-2026-000123-3", "FLXYZ-2026-000123-3",
        "FL_2026_000123_3", "FL-2026-0001x3-3", "OW-000000004", "XX-0000000042",
        "FL-0026-000123-3", "FL -2026-000123-3", "FL-2026-000123-3-1"}) {
    absl::StatusOr<CaseNumber> n = ParseCaseNumber(text);
    ASSERT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(n.status().message(), HasSubstr("not a case number")) << text;
    EXPECT_THAT(n.status().message(), HasSubstr("FL-2026-000123-7")) << text;
  }
  // Control characters are not echoed back raw.
  absl::StatusOr<CaseNumber> n = ParseCaseNumber("a\x01z");
  EXPECT_THAT(n.status().message(), HasSubstr("a?z"));
}

// The digits of a number as typed: YYYY, the sequence, then the check digit.
std::string DigitsOf(const std::string& number) {
  std::string out;
  for (char c : number) {
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  return out;
}

// Puts `digits` back into the layout of `number` (same positions).
std::string WithDigits(const std::string& number, const std::string& digits) {
  std::string out = number;
  size_t k = 0;
  for (char& c : out) {
    if (c >= '0' && c <= '9') c = digits[k++];
  }
  return out;
}

TEST(CaseNumberTest, CatchesEverySingleDigitTypo) {
  int tried = 0;
  for (int64_t seq : {1, 123, 450017, 999999}) {
    std::string good = *FormatCaseNumber("FL", 2026, seq);
    std::string digits = DigitsOf(good);
    for (size_t i = 0; i < digits.size(); ++i) {
      for (char d = '0'; d <= '9'; ++d) {
        if (d == digits[i]) continue;
        std::string typo = digits;
        typo[i] = d;
        std::string text = WithDigits(good, typo);
        absl::StatusOr<CaseNumber> n = ParseCaseNumber(text);
        ++tried;
        if (i == 0 && d == '0') {
          // A year starting with 0 is not a case number at all.
          EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
          continue;
        }
        ASSERT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument)
            << good << " -> " << text;
        EXPECT_THAT(n.status().message(), HasSubstr("check digit")) << text;
      }
    }
  }
  EXPECT_EQ(tried, 4 * 11 * 9);
}

TEST(CaseNumberTest, CatchesAdjacentTranspositionsExceptZeroNine) {
  int caught = 0;
  int missed = 0;
  for (int64_t seq = 0; seq < 1000000; seq += 7919) {
    std::string good = *FormatCaseNumber("FL", 2026, seq);
    std::string digits = DigitsOf(good);
    // Every neighbouring pair, including the last sequence digit and the
    // check digit (written across a dash).
    for (size_t i = 0; i + 1 < digits.size(); ++i) {
      if (digits[i] == digits[i + 1]) continue;
      std::string swapped = digits;
      std::swap(swapped[i], swapped[i + 1]);
      if (swapped[0] == '0') continue;
      absl::StatusOr<CaseNumber> n = ParseCaseNumber(WithDigits(good, swapped));
      bool zero_nine = (digits[i] == '0' && digits[i + 1] == '9') ||
                       (digits[i] == '9' && digits[i + 1] == '0');
      if (n.ok()) {
        ++missed;
        EXPECT_TRUE(zero_nine) << good << " swap at " << i;
      } else {
        ++caught;
        EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
      }
    }
  }
  EXPECT_GT(caught, 500);
  EXPECT_LT(missed * 20, caught);  // "most": only 0<->9 swaps slip through
}

TEST(CaseNumberTest, PrefixValidity) {
  EXPECT_TRUE(IsValidCasePrefix("OW"));
  EXPECT_TRUE(IsValidCasePrefix("IACM"));
  EXPECT_FALSE(IsValidCasePrefix("O"));
  EXPECT_FALSE(IsValidCasePrefix("ABCDE"));
  EXPECT_FALSE(IsValidCasePrefix("Ow"));
  EXPECT_FALSE(IsValidCasePrefix("O1"));
  EXPECT_FALSE(IsValidCasePrefix("ÉÉ"));
}

}  // namespace
}  // namespace onewindow::manifest
