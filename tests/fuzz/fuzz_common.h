// Helpers shared by the libFuzzer targets: splitting one input into an
// expression and a document, and an evaluation environment that is
// deterministic (no clock, no real randomness).
#ifndef ONEWINDOW_TESTS_FUZZ_FUZZ_COMMON_H_
#define ONEWINDOW_TESTS_FUZZ_FUZZ_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

#include "engine/asl/expr.h"
#include "engine/asl/json_parse.h"
#include "engine/asl/limits.h"
#include "nlohmann/json.hpp"

namespace onewindow::fuzz {

using Json = nlohmann::json;

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Splits at the first `separator`: (before, after); no separator: (all, "").
inline std::pair<std::string_view, std::string_view> SplitAt(
    std::string_view text, char separator) {
  size_t at = text.find(separator);
  if (at == std::string_view::npos) return {text, {}};
  return {text.substr(0, at), text.substr(at + 1)};
}

// The document part of an input: JSON when it parses, else the text as a
// JSON string (so every input exercises evaluation).
inline Json DocumentOf(std::string_view text) {
  auto parsed = asl::ParseJson(text);
  if (parsed.ok()) return *std::move(parsed);
  return Json(std::string(text));
}

// Limits a little tighter than the defaults where the defaults only cost
// fuzzing time (the mechanisms are the same).
inline const asl::Limits& FuzzLimits() {
  static const asl::Limits* const kLimits = [] {
    auto* l = new asl::Limits();
    l->max_yaml_nodes = 100000;
    l->max_yaml_bytes = 4 << 20;
    l->max_path_steps = 1000000;
    return l;
  }();
  return *kLimits;
}

inline asl::EvalEnv FuzzEnv(const Json* context) {
  asl::EvalEnv env;
  env.context = context;
  env.limits = &FuzzLimits();
  uint64_t state = 42;
  env.random = [state]() mutable {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state;
  };
  return env;
}

// A property that must hold: abort (a finding) when it does not.
inline void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace onewindow::fuzz

#endif  // ONEWINDOW_TESTS_FUZZ_FUZZ_COMMON_H_
