// JSON Pointers (RFC 6901): building, parsing and following them.
//
// Instance locations in schema errors, the manifest's applicant_field and
// positions in loaded documents are all JSON Pointers: "" is the whole
// document, "/applicant/name" a member, "/items/0" an array element; "~" and
// "/" inside a token are written "~0" and "~1". Stateless; thread-safe.
#ifndef ONEWINDOW_ENGINE_MANIFEST_JSON_POINTER_H_
#define ONEWINDOW_ENGINE_MANIFEST_JSON_POINTER_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace onewindow::manifest {

using Json = nlohmann::json;

// Escapes one reference token ("a/b" -> "a~1b", "~" -> "~0").
std::string EscapePointerToken(std::string_view token);

// Appends "/" + escaped token (or the index) to *pointer.
void AppendPointerToken(std::string* pointer, std::string_view token);
void AppendPointerIndex(std::string* pointer, size_t index);

// Splits a pointer into unescaped tokens. INVALID_ARGUMENT when it does not
// start with "/" (and is not empty) or has a "~" not followed by 0 or 1.
absl::StatusOr<std::vector<std::string>> ParsePointer(std::string_view pointer);

// The value `pointer` designates in `doc`, or nullptr when there is none (or
// the pointer is malformed). Array tokens must be decimal indexes without
// leading zeros.
const Json* FollowPointer(const Json& doc, std::string_view pointer);

}  // namespace onewindow::manifest

#endif  // ONEWINDOW_ENGINE_MANIFEST_JSON_POINTER_H_
