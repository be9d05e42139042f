// Fuzzes the YAML definition loader: depth pre-scan, yaml-cpp, alias
// expansion under a budget, scalar resolution. Properties: no crash, no
// unbounded memory; what loads is within the depth limit and serialises.
#include <cstddef>
#include <cstdint>

#include "engine/asl/definition.h"
#include "engine/asl/json_parse.h"
#include "tests/fuzz/fuzz_common.h"

using namespace onewindow;  // NOLINT

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::AsText(data, size);
  const asl::Limits& limits = fuzz::FuzzLimits();
  auto loaded = asl::LoadSource(text, asl::SourceFormat::kYaml, limits);
  if (loaded.ok()) {
    fuzz::Require(asl::JsonDepth(loaded->doc) <= limits.max_json_depth + 1,
                  "loaded YAML within the depth limit");
    std::string dumped = loaded->doc.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    fuzz::Require(asl::JsonTextSize(loaded->doc) >= dumped.size() / 3,
                  "size estimate in range");
    fuzz::Require(loaded->lines.size() == loaded->columns.size(),
                  "a column for every line");
  }
  return 0;
}
