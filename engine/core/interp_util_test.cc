#include "engine/core/interp_util.h"

#include "gtest/gtest.h"

namespace onewindow::core::internal {
namespace {

TEST(JsonSizeTest, CountsExactlyWhatDumpWrites) {
  const nlohmann::json values[] = {
      nullptr,
      true,
      -12.5,
      "plain",
      "Padaria Lótus — 澳門 \"quoted\" \\ \n",
      nlohmann::json::parse(R"({"a": [1, 2, {"b": null}], "c": {}, "d": []})"),
      std::string("bad utf-8 \xff\xfe here"),
  };
  for (const auto& v : values) {
    EXPECT_EQ(JsonSize(v), DumpJson(v).size()) << DumpJson(v);
  }
}

}  // namespace
}  // namespace onewindow::core::internal
