// JSON Pointer (RFC 6901) helpers.
#include "engine/manifest/json_pointer.h"

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace onewindow::manifest {

std::string EscapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out.append("~0");
    } else if (c == '/') {
      out.append("~1");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void AppendPointerToken(std::string* pointer, std::string_view token) {
  pointer->push_back('/');
  for (char c : token) {
    if (c == '~') {
      pointer->append("~0");
    } else if (c == '/') {
      pointer->append("~1");
    } else {
      pointer->push_back(c);
    }
  }
}

void AppendPointerIndex(std::string* pointer, size_t index) {
  pointer->push_back('/');
  pointer->append(std::to_string(index));
}

absl::StatusOr<std::vector<std::string>> ParsePointer(
    std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON pointer \"", std::string(pointer),
                     "\" must be empty or start with \"/\""));
  }
  std::string token;
  for (size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
      continue;
    }
    char c = pointer[i];
    if (c != '~') {
      token.push_back(c);
      continue;
    }
    if (i + 1 < pointer.size() &&
        (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
      token.push_back(pointer[i + 1] == '0' ? '~' : '/');
      ++i;
      continue;
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "JSON pointer \"", std::string(pointer),
        "\": \"~\" must be followed by 0 or 1 (at offset ", i, ")"));
  }
  return tokens;
}

const Json* FollowPointer(const Json& doc, std::string_view pointer) {
  absl::StatusOr<std::vector<std::string>> tokens = ParsePointer(pointer);
  if (!tokens.ok()) return nullptr;
  const Json* at = &doc;
  for (const std::string& token : *tokens) {
    if (at->is_object()) {
      auto it = at->find(token);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      if (token.empty() || token.size() > 18 ||
          (token.size() > 1 && token[0] == '0')) {
        return nullptr;
      }
      size_t index = 0;
      for (char c : token) {
        if (c < '0' || c > '9') return nullptr;
        index = index * 10 + static_cast<size_t>(c - '0');
      }
      if (index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
  }
  return at;
}

}  // namespace onewindow::manifest
