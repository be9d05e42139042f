// The bridge's configuration file: what it accepts, and every refusal
// naming the file and line without showing a secret. Also the text helpers.
#include "adapters/http/config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "adapters/http/http_util.h"

namespace onewindow::http_bridge {
namespace {

const std::map<std::string, std::string> kEnv = {
    {"TAX_TOKEN", "tok-123"},
    {"TAX_HOST", "tax.example.gov.mo"},
    {"EMPTY", ""}};

absl::StatusOr<BridgeConfig> Parse(const std::string& yaml) {
  return ParseBridgeConfig(yaml, "bridge.yaml", [](const std::string& name) {
    auto it = kEnv.find(name);
    return it == kEnv.end() ? nullptr : it->second.c_str();
  });
}

// Expects a refusal at `line` whose message contains `text`.
void ExpectRefused(const std::string& yaml, int line, const std::string& text) {
  auto c = Parse(yaml);
  ASSERT_FALSE(c.ok()) << yaml;
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(c.status().message());
  EXPECT_EQ(msg.rfind("bridge.yaml:" + std::to_string(line) + ": ", 0), 0u)
      << msg;
  EXPECT_NE(msg.find(text), std::string::npos) << msg;
  EXPECT_EQ(msg.find("tok-123"), std::string::npos) << msg;
}

TEST(BridgeConfigTest, ParsesRoutesWithSecretsFromTheEnvironment) {
  auto c = Parse(R"(
tasks:
  business-tax-registration:
    url: https://${TAX_HOST}:8443/onewindow/tasks?v=2
    timeout_ms: 5000
    headers:
      Authorization: Bearer ${TAX_TOKEN}
      X-Caller: onewindow
  "*":
    url: http://127.0.0.1:8090
)");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->routes.size(), 2u);
  const Route* tax = c->Find("business-tax-registration");
  ASSERT_NE(tax, nullptr);
  EXPECT_EQ(tax->origin, "https://tax.example.gov.mo:8443");
  EXPECT_EQ(tax->path, "/onewindow/tasks?v=2");
  EXPECT_EQ(tax->timeout.count(), 5000);
  ASSERT_EQ(tax->headers.size(), 2u);
  EXPECT_EQ(tax->headers[0].first, "Authorization");
  EXPECT_EQ(tax->headers[0].second, "Bearer tok-123");
  EXPECT_EQ(tax->line, 3);
  // The summary shows the template, not the secret.
  const std::string summary = RouteSummary(*tax);
  EXPECT_NE(summary.find("${TAX_HOST}"), std::string::npos);
  EXPECT_EQ(summary.find("tok-123"), std::string::npos);

  const Route* other = c->Find("anything-else");
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->task_type, "*");
  EXPECT_EQ(other->origin, "http://127.0.0.1:8090");
  EXPECT_EQ(other->path, "/");
  EXPECT_EQ(other->timeout.count(), kDefaultTimeoutMs);
  EXPECT_TRUE(c->SubscribedTypes().empty());  // "*": all types

  auto only =
      Parse("tasks:\n  a: {url: 'http://h/a'}\n  b: {url: 'http://h/b'}\n");
  ASSERT_TRUE(only.ok()) << only.status();
  EXPECT_EQ(only->SubscribedTypes(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(only->Find("c"), nullptr);
}

TEST(BridgeConfigTest, RefusesBadFilesNamingTheLine) {
  ExpectRefused("tasks:\n  a:\n    url: http://h/\n    colour: blue\n", 4,
                "tasks.a: unknown key 'colour' (expected url, timeout_ms, "
                "headers)");
  ExpectRefused("tasks:\n  a: {url: 'http://h/'}\nretries: 3\n", 3,
                "unknown key 'retries'");
  ExpectRefused("tasks:\n  a:\n    timeout_ms: 5\n", 2, "url is required");
  ExpectRefused("tasks:\n  a:\n    url: ftp://h/x\n", 3,
                "must start with http:// or https://");
  ExpectRefused("tasks:\n  a:\n    url: http:///x\n", 3, "no host");
  ExpectRefused("tasks:\n  a:\n    url: http://h:99999/x\n", 3,
                "port must be a number in 1..65535");
  ExpectRefused("tasks:\n  a:\n    url: http://user:pw@h/x\n", 3,
                "credentials in the URL");
  ExpectRefused("tasks:\n  a:\n    url: http://h/a b\n", 3, "space");
  ExpectRefused("tasks:\n  a:\n    url: http://h/#top\n", 3, "fragment");
  ExpectRefused("tasks:\n  a:\n    url: http://${NOPE}/x\n", 3,
                "${NOPE} is not set in the environment");
  ExpectRefused(
      "tasks:\n  a:\n    url: http://h/x\n    headers:\n      "
      "X-Key: ${EMPTY}\n",
      5, "${EMPTY} is not set");
  ExpectRefused("tasks:\n  a:\n    url: http://h/${TAX_TOKEN\n", 3,
                "without a closing");
  ExpectRefused("tasks:\n  a:\n    url: http://h/${1X}\n", 3,
                "not a variable name");
  ExpectRefused("tasks:\n  a:\n    url: http://h/\n    timeout_ms: 0\n", 4,
                "timeout_ms: expected an integer in 1..600000");
  ExpectRefused("tasks:\n  a:\n    url: http://h/\n    timeout_ms: soon\n", 4,
                "timeout_ms");
  ExpectRefused(
      "tasks:\n  a:\n    url: http://h/\n    headers:\n"
      "      Bad Name: x\n",
      5, "not a valid header name");
  ExpectRefused(
      "tasks:\n  a:\n    url: http://h/\n    headers:\n"
      "      Content-Length: 5\n",
      5, "set by the bridge");
  ExpectRefused(
      "tasks:\n  a:\n    url: http://h/\n    headers:\n"
      "      X-A: \"one\\r\\nX-Injected: two\"\n",
      5, "control character");
  ExpectRefused("tasks:\n  a:\n    url: http://h/\n    headers: [x]\n", 4,
                "expected a map");
  ExpectRefused("tasks:\n  a: {url: 'http://h/'}\n  a: {url: 'http://h/'}\n", 3,
                "duplicate task type 'a'");
  ExpectRefused("tasks:\n  a:\n    url: http://h/\n    url: http://g/\n", 4,
                "duplicate key 'url'");
  ExpectRefused("tasks: {}\n", 1, "tasks: expected a map");
  ExpectRefused("tasks:\n", 1, "tasks: expected a map");
  ExpectRefused("- a\n- b\n", 1, "expected a map with the key 'tasks'");
  ExpectRefused("", 1, "expected a map");
  ExpectRefused("other: 1\n", 1, "unknown key 'other'");
  ExpectRefused("tasks:\n  a: {url: [\n", 3, "YAML syntax");
  ExpectRefused("tasks:\n  \"two words\": {url: 'http://h/'}\n", 2,
                "holds a space");
}

TEST(BridgeConfigTest, BoundsAreChecked) {
  auto big = Parse(std::string(kMaxConfigBytes + 1, '#'));
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("limit"), std::string::npos);
  ExpectRefused("tasks:\n  a:\n    url: http://h/" +
                    std::string(kMaxUrlBytes, 'x') + "\n",
                3, "more than the limit");
  std::string many = "tasks:\n  a:\n    url: http://h/\n    headers:\n";
  for (size_t i = 0; i <= kMaxHeaders; ++i) {
    many += "      X-H" + std::to_string(i) + ": v\n";
  }
  ExpectRefused(many, static_cast<int>(5 + kMaxHeaders), "more than 64");
}

TEST(BridgeConfigTest, MissingFileIsNotFound) {
  auto c = LoadBridgeConfig("/nonexistent/bridge.yaml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
}

TEST(HttpUtilTest, PercentEncodingRoundTrips) {
  const std::string token = "FL-2026-000123-7/t3/2/00ab12cd34ef";
  const std::string enc = PercentEncode(token);
  EXPECT_EQ(enc, "FL-2026-000123-7%2Ft3%2F2%2F00ab12cd34ef");
  EXPECT_EQ(PercentDecode(enc), token);
  EXPECT_EQ(PercentEncode("a b+c~"), "a%20b%2Bc~");
  EXPECT_EQ(PercentDecode("a+b%41"), "a+bA");
  EXPECT_EQ(PercentDecode("%4"), std::nullopt);
  EXPECT_EQ(PercentDecode("%zz"), std::nullopt);
  EXPECT_EQ(PercentDecode("%"), std::nullopt);
}

TEST(HttpUtilTest, Utf8PrefixIsValidAndBounded) {
  EXPECT_EQ(Utf8Prefix("hello", 10), "hello");
  EXPECT_EQ(Utf8Prefix("hello world", 8), "hello wo...");
  // Not cut inside a character: "澳門" is 6 bytes.
  EXPECT_EQ(Utf8Prefix("\xE6\xBE\xB3\xE9\x96\x80", 4), "\xE6\xBE\xB3...");
  EXPECT_EQ(Utf8Prefix("a\xFF"
                       "b",
                       10),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(Utf8Prefix("\xC0\xAF", 10), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Utf8Prefix("\xED\xA0\x80", 10),
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(Utf8Prefix("\xF0\x9F\x98\x80", 10), "\xF0\x9F\x98\x80");
}

}  // namespace
}  // namespace onewindow::http_bridge
