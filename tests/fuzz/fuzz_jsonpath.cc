// Fuzzes JSONPath: the first line is the path, the rest the document (JSON,
// or else taken as a string). Evaluates it as a Path, a context path and a
// ResultPath. Properties: no crash, bounded work; a path IsValidPath accepts
// evaluates without a parse error.
#include <cstddef>
#include <cstdint>

#include "absl/strings/match.h"
#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "engine/asl/json_path.h"
#include "tests/fuzz/fuzz_common.h"

using namespace onewindow;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [path, rest] = fuzz::SplitAt(fuzz::AsText(data, size), '\n');
  fuzz::Json doc = fuzz::DocumentOf(rest);
  asl::EvalEnv env = fuzz::FuzzEnv(&doc);
  bool found = false;
  auto value = asl::EvalPathOptional(path, doc, env, &found);
  if (asl::IsValidPath(path) && !value.ok()) {
    fuzz::Require(
        !absl::StrContains(value.status().message(), "invalid JSONPath"),
        "a valid path parses at evaluation");
  }
  (void)asl::EvalPath(path, doc, env);
  (void)asl::ApplyResultPath(path, doc, fuzz::Json::array({1, "x"}));
  auto current = asl::internal::ParseJsonPath(path, /*allow_current=*/true,
                                              fuzz::FuzzLimits());
  (void)current;
  return 0;
}
