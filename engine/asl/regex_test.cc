#include "engine/asl/regex.h"

#include <cstdint>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace onewindow::asl::internal {
namespace {

bool Matches(const std::string& pattern, const std::string& subject,
             const std::string& flags = "") {
  auto re = LinearRegex::Compile(pattern, flags);
  EXPECT_TRUE(re.ok()) << pattern << ": " << re.status();
  if (!re.ok()) return false;
  int64_t steps = 0;
  return (*re)->FullMatch(subject, &steps, 1'000'000'000) ==
         LinearRegex::Result::kMatch;
}

// Same answers as std::regex (ECMAScript, regex_match) on short subjects,
// where std::regex is safe to run.
TEST(LinearRegexTest, AgreesWithStdRegex) {
  const std::vector<std::string> patterns = {
      "abc",          "a.c",      "a*",
      "a+b?",         "(ab|cd)*", "[a-c]+",
      "[^a-c]*",      "\\d{2,3}", "\\w+\\s\\w+",
      "x{3}",         "x{2,}",    "(a|ab)(c|bcd)(d*)",
      "^ab$",         ".*REES",   "[\\d\\-]+",
      "(?:ab)+",      "a{0,2}b",  "\\bfoo\\b.*",
      "[.]\\.",       "a|b|c",    "()",
      "(a*)*",        "a??b",     "[]a]",
      "\\x41\\u0042", "[a-]+",    "\\D\\W\\S",
      "a{,2}",        "{",
  };
  const std::vector<std::string> subjects = {
      "",      "a",   "abc",    "aab",        "abcd",   "12", "123", "1234",
      "ab",    "cd",  "abcdab", "xxx",        "xxxx",   "x",  "foo", "foo bar",
      "AB",    "a-1", "...",    ".",          "ddd",    "bb", "]a",  "a]",
      "a{,2}", "{",   "a\nb",   "NIGEL REES", "abcbcd", "b",  "-a-", "!_ ",
  };
  int compared = 0;
  for (const std::string& p : patterns) {
    std::regex re;
    try {
      re = std::regex(p, std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      continue;  // libstdc++ refuses browser forms such as "a{,2}" and "{"
    }
    ++compared;
    for (const std::string& s : subjects) {
      EXPECT_EQ(Matches(p, s), std::regex_match(s, re))
          << "/" << p << "/ on \"" << s << "\"";
    }
  }
  EXPECT_GE(compared, 27);
}

TEST(LinearRegexTest, IgnoreCase) {
  EXPECT_TRUE(Matches(".*rees", "Nigel REES", "i"));
  EXPECT_FALSE(Matches(".*rees", "Nigel REES"));
  EXPECT_TRUE(Matches("[a-c]+", "ABC", "i"));
}

TEST(LinearRegexTest, RefusesWhatItDoesNotImplement) {
  for (const char* p : {"(a)\\1", "a(?=b)", "a(?!b)", "(?<n>a)", "(", ")", "[a",
                        "a**", "*", "\\", "a{3,1}", "a{5000}"}) {
    EXPECT_FALSE(LinearRegex::Compile(p, "").ok()) << p;
  }
  std::string deep(40, '(');
  deep += std::string(40, ')');
  EXPECT_FALSE(LinearRegex::Compile(deep, "").ok());
  EXPECT_FALSE(LinearRegex::Compile("(a{1000}){1000}", "").ok());
}

TEST(LinearRegexTest, LongSubjectsAndBudget) {
  auto re = LinearRegex::Compile("(a|aa)*(a+)+b", "");
  ASSERT_TRUE(re.ok());
  std::string subject(100000, 'a');
  int64_t steps = 0;
  EXPECT_EQ((*re)->FullMatch(subject, &steps, INT64_MAX),
            LinearRegex::Result::kNoMatch);
  EXPECT_LT(steps, 100000 * 40);
  steps = 0;
  EXPECT_EQ((*re)->FullMatch(subject, &steps, 1000),
            LinearRegex::Result::kOutOfSteps);
  EXPECT_TRUE(Matches(".*", std::string(300000, 'z')));
}

}  // namespace
}  // namespace onewindow::asl::internal
