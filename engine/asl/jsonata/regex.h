// Regular expressions of JSONata (/pattern/flags) on PCRE2 (internal).
//
// Patterns are JavaScript-flavoured; PCRE2 is set up to read them the same
// way where it can ($ only at the end, \uHHHH escapes, [^] for any
// character). Matching is bounded by a match limit and a heap limit, so a
// catastrophic pattern fails with U1008 instead of running away; PCRE2's
// matcher does not recurse on the machine stack. Offsets are in bytes of
// UTF-8. A compiled Regex is immutable and safe to share across threads.
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_REGEX_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_REGEX_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace onewindow::asl::jsonata::internal {

class Regex {
 public:
  struct Match {
    size_t start = 0;
    size_t end = 0;
    // Capture groups; nullopt when a group did not take part.
    std::vector<std::optional<std::pair<size_t, size_t>>> groups;
  };

  // Compiles `pattern` with JSONata flags ('i', 'm'). Errors are S0303 at
  // `offset` (the byte offset of the regex token).
  static absl::StatusOr<std::shared_ptr<const Regex>> Compile(
      std::string_view pattern, std::string_view flags, int64_t offset);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // The first match starting at or after byte `from` of `subject`.
  absl::StatusOr<std::optional<Match>> Exec(std::string_view subject,
                                            size_t from, uint32_t match_limit,
                                            uint32_t heap_limit_kib) const;

  const std::string& pattern() const { return pattern_; }
  const std::string& flags() const { return flags_; }

 private:
  Regex() = default;
  void* code_ = nullptr;  // pcre2_code_8*
  std::string pattern_;
  std::string flags_;
  uint32_t capture_count_ = 0;
};

}  // namespace onewindow::asl::jsonata::internal

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_REGEX_H_
