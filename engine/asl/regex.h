// Regular expressions for JSONPath filters (`@.name =~ /pattern/i`),
// matched in time linear in the subject (a Thompson NFA, no backtracking)
// and without recursion on the subject, so neither a long string nor a
// pathological pattern can stall or overflow the stack.
//
// The syntax is ECMAScript's without back-references and look-around:
// literals and escapes (\d \w \s \D \W \S \b \B \t \n \r \f \v \0 \xHH
// \uHHHH \cX), '.', classes [a-z] [^...], groups (...) and (?:...),
// alternation, the quantifiers * + ? {n} {n,} {n,m} (lazy forms accepted),
// ^ and $. Matching is over bytes, like std::regex on char; the 'i' flag
// folds ASCII letters. A pattern using anything else fails to compile.
//
// Internal header of engine/asl; compiled patterns are immutable and may be
// shared across threads.
#ifndef ONEWINDOW_ENGINE_ASL_REGEX_H_
#define ONEWINDOW_ENGINE_ASL_REGEX_H_

#include <bitset>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace onewindow::asl::internal {

class LinearRegex {
 public:
  enum class Result { kNoMatch, kMatch, kOutOfSteps };

  // Compiles `pattern`; `flags` may contain 'i' (ignore ASCII case) and 'm'
  // (^ and $ also match at line breaks). Groups nest at most `max_depth`
  // deep and the program has at most `max_size` instructions.
  static absl::StatusOr<std::shared_ptr<const LinearRegex>> Compile(
      std::string_view pattern, std::string_view flags, int max_depth = 32,
      size_t max_size = 20000);

  // True when the whole of `subject` matches. Adds the work done to *steps
  // and gives up with kOutOfSteps once *steps passes `max_steps`.
  Result FullMatch(std::string_view subject, int64_t* steps,
                   int64_t max_steps) const;

  // Program size (instructions), for tests.
  size_t size() const { return program_.size(); }

  struct Inst {
    enum class Op : uint8_t { kSet, kSplit, kJump, kAssert, kMatch };
    Op op = Op::kMatch;
    // kSet: index into sets_; kAssert: the assertion kind.
    uint32_t arg = 0;
    // kSplit/kJump targets.
    uint32_t x = 0;
    uint32_t y = 0;
  };
  enum Assertion : uint32_t { kBol, kEol, kWordBoundary, kNotWordBoundary };

 private:
  friend class RegexCompiler;
  LinearRegex() = default;

  bool AssertionHolds(uint32_t kind, std::string_view subject,
                      size_t pos) const;

  std::vector<Inst> program_;
  std::vector<std::bitset<256>> sets_;
  bool multiline_ = false;
};

}  // namespace onewindow::asl::internal

#endif  // ONEWINDOW_ENGINE_ASL_REGEX_H_
