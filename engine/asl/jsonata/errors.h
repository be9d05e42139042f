// Errors of the JSONata engine (internal to engine/asl/jsonata).
//
// A failed absl::Status carries a payload with the JSONata code, the byte
// offset in the expression text and the token at fault. Errors are built
// without a character position; Finalize() adds it ("... at position N")
// once the text is known, at the boundary of Compile() and Evaluate().
// Stateless; thread-safe.
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_ERRORS_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_ERRORS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

// Propagates a failed absl::Status (internal use).
#define OW_JSONATA_RETURN_IF_ERROR(expr)                     \
  do {                                                       \
    ::absl::Status ow_jsonata_status_ = (expr);              \
    if (!ow_jsonata_status_.ok()) return ow_jsonata_status_; \
  } while (false)

#define OW_JSONATA_CONCAT_INNER(a, b) a##b
#define OW_JSONATA_CONCAT(a, b) OW_JSONATA_CONCAT_INNER(a, b)
// Assigns the value of a StatusOr expression or propagates its error.
#define OW_JSONATA_ASSIGN_OR_RETURN(lhs, expr) \
  OW_JSONATA_ASSIGN_OR_RETURN_IMPL(            \
      OW_JSONATA_CONCAT(ow_jsonata_so_, __LINE__), lhs, expr)
#define OW_JSONATA_ASSIGN_OR_RETURN_IMPL(so, lhs, expr) \
  auto so = (expr);                                     \
  if (!so.ok()) return std::move(so).status();          \
  lhs = std::move(so).value()

namespace onewindow::asl::jsonata::internal {

inline constexpr int64_t kNoOffset = -1;

// Codes of limits exceeded: JSONata's stack overflow (D1011), timeout
// (D1012) and sequence length (D2014, D2015), and this implementation's
// U1000 (text), U1001 (nesting), U1005 (string), U1006 (result), U1008
// (regular expression).
bool IsLimitCode(std::string_view code);

// An error with JSONata code `code` ("T2001"); `message` without the code.
// Limit codes are RESOURCE_EXHAUSTED; U1010 (no clock or random source)
// and U1011 ($eval refused) FAILED_PRECONDITION; others INVALID_ARGUMENT.
absl::Status Error(std::string_view code, std::string_view message,
                   int64_t offset = kNoOffset, std::string_view token = "");

struct ErrorFields {
  std::string code;
  int64_t offset = kNoOffset;
  int position = -1;
  std::string token;
};
std::optional<ErrorFields> ReadError(const absl::Status& s);

// Sets the offset (and token, when it has none) of an error that has none.
absl::Status WithOffset(absl::Status s, int64_t offset, std::string_view token);

// Adds the character position computed from `text` to the message and the
// payload. Idempotent.
absl::Status Finalize(absl::Status s, std::string_view text);

// The message of an error without its code prefix and position suffix.
std::string BareMessage(const absl::Status& s);

// JSON.stringify of a string, for messages.
std::string Quote(std::string_view s);

}  // namespace onewindow::asl::jsonata::internal

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_ERRORS_H_
