// Fuzzes JSONata: the first line is the expression, the rest the input
// document (JSON, or else taken as a string). Compiles and evaluates it with
// the Step Functions functions, a fixed clock and a fixed random source, and
// $eval allowed. Properties: no crash, bounded work (the limits, not the
// fuzzer's timeout, end runaway expressions), an expression that compiled
// once compiles again to the same free variables.
#include <cstddef>
#include <cstdint>

#include "engine/asl/jsonata/jsonata.h"
#include "engine/asl/jsonata/step_functions.h"
#include "tests/fuzz/fuzz_common.h"

using namespace onewindow;  // NOLINT

namespace {

const asl::jsonata::Limits& FuzzJsonataLimits() {
  static const asl::jsonata::Limits limits = [] {
    asl::jsonata::Limits l;
    l.max_steps = 200'000;  // keeps each run well under the fuzzer timeout
    l.max_sequence_length = 100'000;
    l.max_string_bytes = 1 << 20;
    l.max_result_bytes = 4 << 20;
    return l;
  }();
  return limits;
}

const asl::jsonata::FunctionTable& FuzzFunctions() {
  static const asl::jsonata::FunctionTable* table = [] {
    auto* t = new asl::jsonata::FunctionTable();
    (void)asl::jsonata::AddStepFunctionsFunctions(t);
    return t;
  }();
  return *table;
}

// The engine hands JSONata only valid UTF-8: definitions and payloads are
// parsed JSON or YAML, and gRPC strings are UTF-8.
bool ValidUtf8(std::string_view s) {
  try {
    (void)fuzz::Json(std::string(s)).dump();
    return true;
  } catch (const fuzz::Json::exception&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [text, rest] = fuzz::SplitAt(fuzz::AsText(data, size), '\n');
  if (!ValidUtf8(text) || !ValidUtf8(rest)) return 0;
  const asl::jsonata::Limits& limits = FuzzJsonataLimits();
  auto expr = asl::jsonata::Compile(text, limits);
  if (!expr.ok()) return 0;
  auto again = asl::jsonata::Compile(text, limits);
  fuzz::Require(again.ok(), "an expression that compiled compiles again");
  fuzz::Require((*again)->free_variables().size() ==
                    (*expr)->free_variables().size(),
                "compiling is deterministic");
  fuzz::Json doc = fuzz::DocumentOf(rest);
  asl::jsonata::Bindings bindings;
  bindings.functions = &FuzzFunctions();
  bindings.clock = [] { return int64_t{1'790'000'000'000}; };
  bindings.random = [] { return 0.25; };
  bindings.Set("states", fuzz::Json{{"input", doc}, {"context", {}}});
  auto r = asl::jsonata::Evaluate(**expr, &doc, bindings, limits);
  // U1099 is an exception the evaluator let escape (caught at its door so
  // that the engine stays up): still a defect to find here.
  if (!r.ok() && r.status().message().substr(0, 5) == "U1099") {
    std::fprintf(stderr, "%s\n", std::string(r.status().message()).c_str());
    fuzz::Require(false, "the evaluator reports errors, it does not throw");
  }
  return 0;
}
