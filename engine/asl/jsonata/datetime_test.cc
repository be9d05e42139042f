// Date/time functions and picture strings: $now, $millis, $fromMillis,
// $toMillis, $formatNumber, $formatInteger, $parseInteger.
#include "engine/asl/jsonata/test_util.h"

namespace onewindow::asl::jsonata::testing {
namespace {

TEST(DateTimeTest, NowAndMillisComeFromTheCallersClock) {
  EXPECT_EQ(EvalShow("$now()"), "error U1010");
  EXPECT_EQ(EvalShow("$millis()"), "error U1010");
  Bindings b;
  int reads = 0;
  b.clock = [&reads] {
    ++reads;
    return int64_t{1510067557121};
  };
  CheckAll(
      {
          {"$millis()", "1510067557121"},
          {"$now()", R"("2017-11-07T15:12:37.121Z")"},
          {"$now('[Y0001]-[M01]-[D01]')", R"("2017-11-07")"},
          {"$now('[H01]:[m01]', '+0100')", R"("16:12")"},
          {"[$millis(), $millis()] ~> $distinct()", "[1510067557121]"},
      },
      nullptr, b);
  EXPECT_EQ(reads, 5);  // once per evaluation, however often it is called
}

TEST(DateTimeTest, FromMillis) {
  CheckAll(
      {
          {"$fromMillis(1510067557121)", R"("2017-11-07T15:12:37.121Z")"},
          {"$fromMillis(0)", R"("1970-01-01T00:00:00.000Z")"},
          {"$fromMillis(-1)", R"("1969-12-31T23:59:59.999Z")"},
          {"$fromMillis(1510067557121, '[M01]/[D01]/[Y0001] [h#1]:[m01][P]')",
           R"("11/07/2017 3:12pm")"},
          {"$fromMillis(1510067557121, '[H01]:[m01]:[s01] [z]', '-0500')",
           R"("10:12:37 GMT-05:00")"},
          {"$fromMillis(1510067557121, '[H01]:[m01] [Z]', '+0530')",
           R"("20:42 +05:30")"},
          {"$fromMillis(1510067557121, "
           "'[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01][Z0101]', '+0100')",
           R"("2017-11-07T16:12:37+0100")"},
          {"$fromMillis(1521801216617, '[D01]/[M01]/[Y0001]')",
           R"("23/03/2018")"},
          {"$fromMillis(1521801216617, '[D1o] [MNn], [Y]')",
           R"("23rd March, 2018")"},
          {"$fromMillis(1521801216617, '[FNn], [D1o] [MNn] [Y]')",
           R"("Friday, 23rd March 2018")"},
          {"$fromMillis(1521801216617, '[FNn,3-3] [D] [MN,3-3]')",
           R"("Fri 23 MAR")"},
          {"$fromMillis(1521801216617, '[h]:[m01] [P]')", R"("10:33 am")"},
          {"$fromMillis(1521801216617, '[h]:[m01]:[s01] [PN]')",
           R"("10:33:36 AM")"},
          {"$fromMillis(1521801216617, '[Y0001]-[d001]')", R"("2018-082")"},
          {"$fromMillis(1521801216617, '[X0001]-W[W01]-[F1]')",
           R"("2018-W12-5")"},
          {"$fromMillis(1521801216617, '[Y,2]')", R"("18")"},
          {"$fromMillis(1521801216617, '[YI]')", R"("MMXVIII")"},
          {"$fromMillis(1521801216617, '[Dw]')", R"("twenty-three")"},
          {"$fromMillis(1521801216617, '[[[Y]]]')", R"("[2018]")"},
          {"$fromMillis(1521801216617, '[f001]')", R"("617")"},
          {"$fromMillis(nothing)", "undefined"},
          {"$fromMillis(1521801216617, '[Q]')", "error D3132"},
          {"$fromMillis(1521801216617, '[Y')", "error D3135"},
          {"$fromMillis(1e20)", "error D1001"},
      },
      nullptr);
}

TEST(DateTimeTest, ToMillis) {
  CheckAll(
      {
          {"$toMillis('2017-11-07T15:07:54.972Z')", "1510067274972"},
          {"$toMillis('2018-03-23')", "1521763200000"},
          {"$toMillis('2018-03-23T10:33:00+00:00')", "1521801180000"},
          {"$toMillis('2024-02-29T23:59:59+05:30')", "1709231399000"},
          {"$toMillis('2024-02-29T23:59:59.5Z')", "1709251199500"},
          {"$toMillis('2023-02-29')", "error D3110"},
          {"$toMillis('2018-03-23 10:33')", "error D3110"},
          {"$toMillis('yesterday')", "error D3110"},
          {"$toMillis(nothing)", "undefined"},
          {"$toMillis('23/03/2018', '[D01]/[M01]/[Y0001]')", "1521763200000"},
          {"$toMillis('20180323', '[Y0001][M01][D01]')", "1521763200000"},
          {"$toMillis('2018-03-23 10:33', '[Y]-[M]-[D] [H]:[m]')",
           "1521801180000"},
          {"$toMillis('23 March 2018', '[D] [MNn] [Y]')", "1521763200000"},
          {"$toMillis('2018-082', '[Y0001]-[d001]')", "1521763200000"},
          {"$toMillis('10:33 am 23/03/2018', '[h]:[m] [P] [D]/[M]/[Y]')",
           "1521801180000"},
          {"$toMillis('2018-03-23T10:33+01:00', '[Y]-[M]-[D]T[H]:[m][Z]')",
           "1521797580000"},
          {"$toMillis('2018-03-23T10:33+0100', '[Y]-[M]-[D]T[H]:[m][Z0000]')",
           "1521797580000"},
          {"$toMillis('not a date', '[Y]-[M]-[D]')", "undefined"},
          {"$toMillis('Hello', 'Hello')", "undefined"},
          {"$toMillis('2018-03-23T10:33:36.61987', "
           "'[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f1]')",
           "1521801216619"},
          {"$toMillis('2018 10', '[Y] [m]')", "error D3136"},
      },
      nullptr);
}

TEST(DateTimeTest, ToMillisFillsLeadingPartsFromNow) {
  Bindings b;
  b.clock = [] { return int64_t{1521801216617}; };  // 2018-03-23T10:33:36.617Z
  CheckAll({{"$toMillis('12:00', '[H]:[m]')", "1521806400000"}}, nullptr, b);
}

TEST(FormatNumberTest, Pictures) {
  CheckAll(
      {
          {"$formatNumber(12345.6, '#,###.00')", R"("12,345.60")"},
          {"$formatNumber(1234.5678, '00.000e0')", R"("12.346e2")"},
          {"$formatNumber(34.555, '#0.00;(#0.00)')", R"("34.56")"},
          {"$formatNumber(-34.555, '#0.00;(#0.00)')", R"x("(34.56)")x"},
          {"$formatNumber(0.14, '01%')", R"("14%")"},
          {"$formatNumber(0.4857, '###.###\u2030')", R"("485.7‰")"},
          {"$formatNumber(1234.5678, '①①.①①①e①', {'zero-digit': '\u245f'})",
           R"("①②.③④⑥e②")"},
          {"$formatNumber(1e6, '#,##0')", R"("1,000,000")"},
          {"$formatNumber(0, '#,##0.00')", R"("0.00")"},
          {"$formatNumber(-5, '#0')", R"("-5")"},
          {"$formatNumber(1234.5, '#.##0,0', {'decimal-separator': ',', "
           "'grouping-separator': '.'})",
           R"("1.234,5")"},
          {"$formatNumber(12, '000')", R"("012")"},
          {"$formatNumber(0.14, '###pm', {'per-mille': 'pm'})", R"("140pm")"},
          {"$formatNumber(42, '%%')", "error D3086"},
          {"$formatNumber(0.5, '#')", R"("0")"},
          {"$formatNumber(1.5, '#')", R"("2")"},
          {"$formatNumber(nothing, '#')", "undefined"},
          {"$formatNumber(1, '#.#.#')", "error D3081"},
          {"$formatNumber(1, '#;#;#')", "error D3080"},
          {"$formatNumber(1, 'abc')", "error D3086"},
          {"$formatNumber(1, 'a.b')", "error D3085"},
          {"$formatNumber(1, '#,,#')", "error D3089"},
      },
      nullptr);
}

TEST(FormatIntegerTest, Pictures) {
  CheckAll(
      {
          {"$formatInteger(2789, 'w')",
           R"("two thousand, seven hundred and eighty-nine")"},
          {"$formatInteger(2789, 'W')",
           R"("TWO THOUSAND, SEVEN HUNDRED AND EIGHTY-NINE")"},
          {"$formatInteger(21, 'Ww')", R"("Twenty-One")"},
          {"$formatInteger(12, 'w;o')", R"("twelfth")"},
          {"$formatInteger(1e15, 'w')", R"("one thousand trillion")"},
          {"$formatInteger(20, 'w;o')", R"("twentieth")"},
          {"$formatInteger(1999, 'I')", R"("MCMXCIX")"},
          {"$formatInteger(4, 'i')", R"("iv")"},
          {"$formatInteger(28, 'A')", R"("AB")"},
          {"$formatInteger(1, 'a')", R"("a")"},
          {"$formatInteger(7, '000')", R"("007")"},
          {"$formatInteger(1234567, '#,##0')", R"("1,234,567")"},
          {"$formatInteger(1234567, '#,###,##0')", R"("1,234,567")"},
          {"$formatInteger(1234567, '0,00,000')", R"("12,34,567")"},
          {"$formatInteger(22, '0;o')", R"("22nd")"},
          {"$formatInteger(11, '0;o')", R"("11th")"},
          {"$formatInteger(-5, '00')", R"("-05")"},
          {"$formatInteger(42, '٠٠')", R"("٤٢")"},
          {"$formatInteger(1, 'x')", "error D3130"},
          {"$formatInteger(1, '0١')", "error D3131"},
      },
      nullptr);
}

TEST(ParseIntegerTest, Pictures) {
  CheckAll(
      {
          {"$parseInteger('twelve thousand, four hundred and seventy-six', "
           "'w')",
           "12476"},
          {"$parseInteger('twelfth', 'w;o')", "12"},
          {"$parseInteger('12,345,678', '#,##0')", "12345678"},
          {"$parseInteger('MCMXCIX', 'I')", "1999"},
          {"$parseInteger('ab', 'a')", "28"},
          {"$parseInteger('007', '000')", "7"},
          {"$parseInteger('22nd', '0;o')", "22"},
          {"$parseInteger(nothing, '0')", "undefined"},
      },
      nullptr);
}

}  // namespace
}  // namespace onewindow::asl::jsonata::testing
