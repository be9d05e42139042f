// Fuzzes loading (JSON or YAML, by the first character) and validating a
// definition (with and without warnings), then compiling it. Properties: no
// crash; warnings never change the verdict; a definition the validator
// accepts compiles.
#include <cstddef>
#include <cstdint>

#include "engine/asl/definition.h"
#include "tests/fuzz/fuzz_common.h"

using namespace onewindow;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsText(data, size);
  const asl::Limits& limits = fuzz::FuzzLimits();
  auto loaded = asl::LoadSource(text, asl::SourceFormat::kAuto, limits);
  if (!loaded.ok()) return 0;
  std::vector<asl::ValidationError> errors = asl::Validate(*loaded, limits);
  for (const auto& e : errors) {
    fuzz::Require(!e.message.empty() && !e.path.empty(),
                  "errors say where and what");
    fuzz::Require(e.severity == asl::Severity::kError,
                  "no warnings unless asked");
  }
  asl::ValidateOptions options;
  options.limits = limits;
  options.warnings = true;
  std::vector<asl::ValidationError> all = asl::Validate(*loaded, options);
  fuzz::Require(asl::HasErrors(all) == !errors.empty(),
                "warnings never change the verdict");
  if (errors.empty()) {
    auto def = asl::Definition::FromJson(std::move(loaded->doc), limits);
    fuzz::Require(def.ok(), "a valid definition compiles");
  }
  return 0;
}
