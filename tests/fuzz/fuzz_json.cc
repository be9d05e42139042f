// Fuzzes ParseJson (strict payload parsing) and the JSON definition loader.
// Properties: no crash; what ParseJson accepts is within the depth limit and
// round-trips through dump(); it agrees with nlohmann's own parser on text
// without NUL bytes; the loader records a position for the root.
#include <cstddef>
#include <cstdint>

#include "engine/asl/definition.h"
#include "engine/asl/json_parse.h"
#include "tests/fuzz/fuzz_common.h"

using namespace onewindow;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsText(data, size);
  const asl::Limits& limits = fuzz::FuzzLimits();
  auto parsed = asl::ParseJson(text, limits);
  if (parsed.ok()) {
    fuzz::Require(asl::JsonDepth(*parsed) <= limits.max_json_depth,
                  "accepted JSON within the depth limit");
    std::string dumped = parsed->dump();
    fuzz::Require(asl::JsonTextSize(*parsed) == dumped.size(),
                  "JsonTextSize equals dump().size()");
    auto again = asl::ParseJson(dumped, asl::Limits{});
    fuzz::Require(again.ok() && *again == *parsed, "dump() round-trips");
  }
  if (text.find('\0') == std::string_view::npos &&
      text.size() <= limits.max_payload_bytes) {
    nlohmann::json reference =
        nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!reference.is_discarded() &&
        asl::JsonDepth(reference) <= limits.max_json_depth) {
      fuzz::Require(parsed.ok() && *parsed == reference,
                    "ParseJson accepts what nlohmann accepts");
    }
  }
  auto loaded = asl::LoadSource(text, asl::SourceFormat::kJson, limits);
  if (loaded.ok()) {
    fuzz::Require(loaded->lines.count("$") == 1, "root position recorded");
    fuzz::Require(loaded->lines.size() == loaded->columns.size(),
                  "a column for every line");
  }
  return 0;
}
