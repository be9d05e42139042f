// Regular expressions on PCRE2 with match and heap limits.
#include "engine/asl/jsonata/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"

namespace onewindow::asl::jsonata::internal {

absl::StatusOr<std::shared_ptr<const Regex>> Regex::Compile(
    std::string_view pattern, std::string_view flags, int64_t offset) {
  uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF |
                     PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX |
                     PCRE2_ALLOW_EMPTY_CLASS;
  for (char f : flags) {
    if (f == 'i') options |= PCRE2_CASELESS;
    if (f == 'm') {
      options |= PCRE2_MULTILINE;
      options &= ~static_cast<uint32_t>(PCRE2_DOLLAR_ENDONLY);
    }
  }
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()),
                                   pattern.size(), options, &error_code,
                                   &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(error_code, buf, sizeof(buf));
    return Error(
        "S0303",
        absl::StrCat("Invalid regular expression /", std::string(pattern),
                     "/: ", reinterpret_cast<const char*>(buf), " at offset ",
                     error_offset),
        offset);
  }
  std::shared_ptr<Regex> re(new Regex());
  re->code_ = code;
  re->pattern_ = std::string(pattern);
  re->flags_ = std::string(flags);
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &re->capture_count_);
  return std::shared_ptr<const Regex>(std::move(re));
}

Regex::~Regex() {
  if (code_ != nullptr) pcre2_code_free(static_cast<pcre2_code*>(code_));
}

absl::StatusOr<std::optional<Regex::Match>> Regex::Exec(
    std::string_view subject, size_t from, uint32_t match_limit,
    uint32_t heap_limit_kib) const {
  if (from > subject.size()) return std::optional<Match>();
  auto* code = static_cast<pcre2_code*>(code_);
  pcre2_match_context* mctx = pcre2_match_context_create(nullptr);
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
  if (mctx == nullptr || md == nullptr) {
    if (mctx) pcre2_match_context_free(mctx);
    if (md) pcre2_match_data_free(md);
    return Error("U1008", "Out of memory for a regular expression match");
  }
  pcre2_set_match_limit(mctx, match_limit);
  pcre2_set_heap_limit(mctx, heap_limit_kib);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(subject.data()),
                       subject.size(), from, 0, md, mctx);
  std::optional<Match> result;
  absl::Status status;
  if (rc == PCRE2_ERROR_NOMATCH) {
    // no match
  } else if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
             rc == PCRE2_ERROR_HEAPLIMIT) {
    status = Error(
        "U1008", absl::StrCat("Regular expression /", pattern_,
                              "/ exceeds the match limit of ", match_limit,
                              " steps (or ", heap_limit_kib, " KiB of heap)"));
  } else if (rc < 0) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(rc, buf, sizeof(buf));
    status =
        Error("D1005",
              absl::StrCat("Regular expression /", pattern_,
                           "/ failed: ", reinterpret_cast<const char*>(buf)));
  } else {
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    Match m;
    m.start = ov[0];
    m.end = ov[1];
    for (uint32_t g = 1; g <= capture_count_; ++g) {
      if (g < static_cast<uint32_t>(rc) && ov[2 * g] != PCRE2_UNSET) {
        m.groups.emplace_back(
            std::make_pair(static_cast<size_t>(ov[2 * g]),
                           static_cast<size_t>(ov[2 * g + 1])));
      } else {
        m.groups.emplace_back(std::nullopt);
      }
    }
    result = std::move(m);
  }
  pcre2_match_data_free(md);
  pcre2_match_context_free(mctx);
  if (!status.ok()) return status;
  return result;
}

}  // namespace onewindow::asl::jsonata::internal
