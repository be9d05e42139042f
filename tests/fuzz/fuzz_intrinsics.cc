// Fuzzes intrinsic functions: the first line is the call, the rest the
// input document. Evaluates the call on its own and inside a payload
// template, and checks it with the validator's test. Properties: no crash,
// results within the payload limit.
#include <cstddef>
#include <cstdint>

#include "engine/asl/expr.h"
#include "engine/asl/json_parse.h"
#include "tests/fuzz/fuzz_common.h"

using namespace onewindow;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [expr, rest] = fuzz::SplitAt(fuzz::AsText(data, size), '\n');
  fuzz::Json doc = fuzz::DocumentOf(rest);
  asl::EvalEnv env = fuzz::FuzzEnv(&doc);
  auto value = asl::EvalIntrinsic(expr, doc, env);
  if (value.ok()) {
    fuzz::Require(
        asl::JsonTextSize(*value) <= fuzz::FuzzLimits().max_payload_bytes,
        "intrinsic results within the payload limit");
  }
  std::string why;
  (void)asl::IsValidIntrinsic(expr, &why);
  fuzz::Json tmpl = {{"v.$", std::string(expr)}, {"k", {{"w.$", "$"}}}};
  (void)asl::EvalPayloadTemplate(tmpl, doc, env);
  return 0;
}
