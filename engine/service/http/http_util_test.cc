#include "engine/service/http/http_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"

namespace onewindow::service::http {
namespace {

using ::testing::HasSubstr;

TEST(ParseListenTest, HostsAndPorts) {
  auto a = ParseListen("127.0.0.1:8080");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
  auto b = ParseListen("[::1]:0");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 0);
  auto c = ParseListen("localhost:80");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "localhost");
}

TEST(ParseListenTest, BadAddressesNameTheProblem) {
  EXPECT_THAT(ParseListen("8080").status().message(), HasSubstr("host:port"));
  EXPECT_THAT(ParseListen(":8080").status().message(),
              HasSubstr("host is missing"));
  EXPECT_THAT(ParseListen("h:99999").status().message(), HasSubstr("0..65535"));
  EXPECT_THAT(ParseListen("h:x").status().message(), HasSubstr("port"));
  EXPECT_THAT(ParseListen("::1:80").status().message(), HasSubstr("brackets"));
  EXPECT_THAT(ParseListen("[::1]80").status().message(), HasSubstr("[IPv6"));
  EXPECT_EQ(ParseListen("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseTargetTest, SegmentsAndQuery) {
  auto t = ParseTarget("/api/v1/cases/OW-2026-000001-3/events?after_seq=4&"
                       "service=food%20licence&q=a+b");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->segments, ::testing::ElementsAre("api", "v1", "cases",
                                                  "OW-2026-000001-3", "events"));
  ASSERT_EQ(t->query.size(), 3u);
  EXPECT_EQ(t->query[0], std::make_pair(std::string("after_seq"),
                                        std::string("4")));
  EXPECT_EQ(t->query[1].second, "food licence");
  EXPECT_EQ(t->query[2].second, "a b");
  auto root = ParseTarget("/");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->segments.empty());
  auto enc = ParseTarget("/api/v1/workflows/a%2Fb");
  EXPECT_FALSE(enc.ok());  // a slash inside a segment
}

TEST(ParseTargetTest, Limits) {
  EXPECT_THAT(ParseTarget("/" + std::string(kMaxTargetBytes, 'a'))
                  .status()
                  .message(),
              HasSubstr("limit of 4096"));
  std::string many = "/x?";
  for (size_t i = 0; i <= kMaxQueryParams; ++i) {
    many += "p" + std::to_string(i) + "=1&";
  }
  EXPECT_THAT(ParseTarget(many).status().message(),
              HasSubstr("more than 32 parameters"));
  EXPECT_THAT(ParseTarget("/x?a=1&a=2").status().message(),
              HasSubstr("\"a\": given more than once"));
  EXPECT_THAT(ParseTarget("/x%zz").status().message(),
              HasSubstr("bad percent escape"));
  EXPECT_THAT(ParseTarget("/x%00").status().message(), HasSubstr("%00"));
  EXPECT_THAT(ParseTarget("/a/../b").status().message(),
              HasSubstr("\"..\" is not allowed"));
  EXPECT_FALSE(ParseTarget("http://x/").ok());
}

TEST(StatusTest, TheTableOfApiMd) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 500);
}

TEST(ErrorJsonTest, CodeMessageAndSchemaFields) {
  auto j = nlohmann::json::parse(
      ErrorJson(absl::NotFoundError("case OW-1: not \"found\"")));
  EXPECT_EQ(j["code"], "NOT_FOUND");
  EXPECT_EQ(j["message"], "case OW-1: not \"found\"");
  EXPECT_FALSE(j.contains("field_errors"));

  auto s = ErrorJson(absl::InvalidArgumentError(
      "input_json does not meet the input schema of food: /applicant/name: "
      "required; /area: must be >= 1"));
  auto k = nlohmann::json::parse(s);
  ASSERT_EQ(k["field_errors"].size(), 2u);
  EXPECT_EQ(k["field_errors"][0]["pointer"], "/applicant/name");
  EXPECT_EQ(k["field_errors"][0]["message"], "required");
  EXPECT_EQ(k["field_errors"][1]["pointer"], "/area");
  EXPECT_EQ(k["field_errors"][1]["message"], "must be >= 1");
}

TEST(JsonTest, ProtoNamesAndDefaultsPrinted) {
  v1::SubmitCaseResponse r;
  r.set_case_id("OW-2026-000001-3");
  const std::string j = ToJson(r);
  auto p = nlohmann::json::parse(j);
  EXPECT_EQ(p["case_id"], "OW-2026-000001-3");
  EXPECT_EQ(p["deduplicated"], false);  // printed though default
  EXPECT_EQ(p["version"], "0");          // int64 as a string
  EXPECT_EQ(j.find('\n'), std::string::npos);  // one line (SSE data)

  v1::Case c;
  c.set_status(v1::CASE_STATUS_RUNNING);
  auto q = nlohmann::json::parse(ToJson(c));
  EXPECT_EQ(q["status"], "CASE_STATUS_RUNNING");
  EXPECT_TRUE(q["current_states"].is_array());
}

TEST(JsonTest, ParsesBothNameFormsAndRefusesUnknownFields) {
  v1::SubmitCaseRequest r;
  ASSERT_TRUE(FromJson(R"({"service": "x", "input_json": "{}"})", &r).ok());
  EXPECT_EQ(r.service(), "x");
  v1::SubmitCaseRequest r2;
  ASSERT_TRUE(FromJson(R"({"requestId": "r1"})", &r2).ok());
  EXPECT_EQ(r2.request_id(), "r1");
  v1::SubmitCaseRequest r3;
  EXPECT_TRUE(FromJson("  ", &r3).ok());

  absl::Status unknown = FromJson(R"({"servce": "x"})", &r);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.message(), HasSubstr("request body"));
  EXPECT_THAT(unknown.message(), HasSubstr("servce"));
  EXPECT_THAT(FromJson("[1]", &r).message(), HasSubstr("a JSON object"));
  EXPECT_THAT(FromJson(R"({"service": )", &r).message(),
              HasSubstr("request body"));
  EXPECT_THAT(FromJson(R"({"version": "x"})", &r).message(),
              HasSubstr("version"));
}

TEST(JsonTest, DepthIsCountedOutsideStrings) {
  EXPECT_EQ(JsonDepth("{}"), 1);
  EXPECT_EQ(JsonDepth(R"({"a": [[1], {"b": 2}]})"), 3);
  EXPECT_EQ(JsonDepth(R"({"a": "[[[[\"[["})", 2), 1);
  EXPECT_EQ(JsonDepth("[[[", 2), -1);
  v1::SubmitCaseRequest m;
  absl::Status s = FromJson(
      R"({"input_json": "{}", "x": )" + std::string(64, '[') +
          std::string(64, ']') + "}",
      &m);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("nested deeper than 64 levels"));
}

TEST(ParseTest, StatusIntBool) {
  EXPECT_EQ(ParseCaseStatus("running"), v1::CASE_STATUS_RUNNING);
  EXPECT_EQ(ParseCaseStatus("CASE_STATUS_FAILED"), v1::CASE_STATUS_FAILED);
  EXPECT_FALSE(ParseCaseStatus("sleeping"));
  EXPECT_EQ(ParseInt("42"), 42);
  EXPECT_FALSE(ParseInt("4x"));
  EXPECT_FALSE(ParseInt(""));
  EXPECT_FALSE(ParseInt("99999999999999999999"));
  EXPECT_EQ(ParseBool("true"), true);
  EXPECT_EQ(ParseBool("0"), false);
  EXPECT_FALSE(ParseBool("yes"));
}

TEST(SseFrameTest, Fields) {
  EXPECT_EQ(SseFrame("history", "3", "{\"a\":1}"),
            "id: 3\nevent: history\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(SseFrame("", "", "a\nb\r\nc"), "data: a\ndata: b\ndata: c\n\n");
}

TEST(StaticTest, ContentTypesAndHashedNames) {
  EXPECT_EQ(ContentTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("assets/app-1a2b3c4d.js"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("a/b.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(ContentTypeFor("font.woff2"), "font/woff2");
  EXPECT_EQ(ContentTypeFor("x.svg"), "image/svg+xml");
  EXPECT_EQ(ContentTypeFor("noext"), "application/octet-stream");

  EXPECT_TRUE(IsHashedAssetName("assets/index-BvJ3Lx9q.js"));
  EXPECT_TRUE(IsHashedAssetName("assets/index-BvJaLxkq.css"));  // no digit
  EXPECT_TRUE(IsHashedAssetName("main.3f2a9c1b4d5e6f70.js"));
  EXPECT_FALSE(IsHashedAssetName("index.html"));
  EXPECT_FALSE(IsHashedAssetName("favicon.ico"));
  EXPECT_FALSE(IsHashedAssetName("fonts/noto-sans-tc-variable.woff2"));
  EXPECT_FALSE(IsHashedAssetName("roboto-regular-400.woff2"));
}

}  // namespace
}  // namespace onewindow::service::http
