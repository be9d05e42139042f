// Small deterministic helpers of the interpreter: the seeded random
// generator, ISO 8601 time formatting from virtual milliseconds, and checked
// reads of numbers out of definitions and data. Internal to engine/core;
// stateless functions are thread-safe.
#ifndef ONEWINDOW_ENGINE_CORE_INTERP_UTIL_H_
#define ONEWINDOW_ENGINE_CORE_INTERP_UTIL_H_

#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"

namespace onewindow::core::internal {

// splitmix64: advances *state and returns the next 64-bit value.
uint64_t SplitMix64(uint64_t* state);

// "2026-01-01T00:00:00.000Z" for a time in ms since the Unix epoch (UTC).
std::string FormatIsoMs(int64_t ms);

// Reads a JSON number that holds a whole value (1 or 1.0) into *out. False
// for non-numbers (booleans included), fractions, NaN/inf and values outside
// the int64 range.
bool WholeNumber(const nlohmann::json& v, int64_t* out);

// Reads any JSON number (not booleans) as a double.
bool AnyNumber(const nlohmann::json& v, double* out);

// Serialised size in bytes (compact JSON; invalid UTF-8 replaced).
size_t JsonSize(const nlohmann::json& v);

// Compact JSON text that never throws (invalid UTF-8 replaced).
std::string DumpJson(const nlohmann::json& v);

}  // namespace onewindow::core::internal

#endif  // ONEWINDOW_ENGINE_CORE_INTERP_UTIL_H_
