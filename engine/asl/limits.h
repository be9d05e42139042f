// Bounds on everything the ASL library reads from outside: definition text,
// JSON payloads, expressions and the values built while evaluating them.
//
// Every refusal names the limit and its value, e.g.
//   "JSON nesting depth exceeds the limit of 128 at line 3, column 9".
// A Limits value is plain data; DefaultLimits() is immutable and shared.
#ifndef ONEWINDOW_ENGINE_ASL_LIMITS_H_
#define ONEWINDOW_ENGINE_ASL_LIMITS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace onewindow::asl {

struct Limits {
  // Nesting depth of any JSON (or YAML) document: definitions, case input,
  // task results, every payload. A scalar at the top is depth 0, "[1]" is 1.
  int max_json_depth = 128;
  // Bytes of a definition's source text (JSON or YAML).
  size_t max_definition_bytes = size_t{1} << 20;
  // Bytes of one payload handed to ParseJson, and of any value an intrinsic
  // function or a path builds (0 = unbounded).
  size_t max_payload_bytes = size_t{256} << 10;
  // States in one definition, all machines (branches, processors) together.
  int max_states = 10000;
  // Parallel and Map states nested inside each other.
  int max_machine_depth = 16;
  // Characters of one path, intrinsic function call or filter expression.
  size_t max_expression_length = 4096;
  // Nesting inside one expression: filter parentheses and negations,
  // intrinsic calls inside calls, Choice rules inside And/Or/Not.
  int max_expression_depth = 32;
  // Steps one JSONPath evaluation may take (values visited, filter tests,
  // regular-expression work): a bound on time for any input.
  int64_t max_path_steps = 1'000'000;
  // YAML after alias expansion: nodes, and bytes of keys and scalars.
  size_t max_yaml_nodes = 1'000'000;
  size_t max_yaml_bytes = size_t{16} << 20;
  // Elements States.ArrayRange may produce (as AWS Step Functions).
  int64_t max_array_range = 1000;
};

// Names of the limits as they appear in messages.
inline constexpr std::string_view kLimitJsonDepth = "JSON nesting depth";
inline constexpr std::string_view kLimitDefinitionBytes = "definition size";
inline constexpr std::string_view kLimitPayloadBytes = "payload size";
inline constexpr std::string_view kLimitStates = "number of states";
inline constexpr std::string_view kLimitMachineDepth =
    "Parallel/Map nesting depth";
inline constexpr std::string_view kLimitExpressionLength = "expression length";
inline constexpr std::string_view kLimitExpressionDepth =
    "expression nesting depth";
inline constexpr std::string_view kLimitPathSteps = "JSONPath evaluation steps";
inline constexpr std::string_view kLimitYamlNodes = "YAML nodes after aliases";
inline constexpr std::string_view kLimitYamlBytes = "YAML bytes after aliases";
inline constexpr std::string_view kLimitArrayRange =
    "States.ArrayRange result size";

// The defaults above; shared, never changes.
const Limits& DefaultLimits();

// "<name> exceeds the limit of <limit>" (with " bytes" for sizes when
// `unit` is given), the common start of every refusal.
std::string LimitMessage(std::string_view name, int64_t limit,
                         std::string_view unit = {});

// `s` itself when it has at most `max_bytes` bytes; else its start and its
// end with "…[N bytes elided]…" between them, cut on UTF-8 character
// boundaries, within max_bytes. For messages that quote what a client sent:
// a 20 KB expression must not come back as a 20 KB message (gRPC carries
// status messages in headers, which peers bound at a few kilobytes).
std::string ElideMiddle(std::string_view s, size_t max_bytes);

// Bytes of an error message (ASL diagnostics, gRPC status messages).
inline constexpr size_t kMaxMessageBytes = 1024;

}  // namespace onewindow::asl

#endif  // ONEWINDOW_ENGINE_ASL_LIMITS_H_
