// The auth file and the authenticator: hashes only, constant-time lookups,
// precise refusals, reloads that keep the streams of principals that stay.
#include "engine/service/auth.h"

#include <filesystem>
#include <fstream>
#include <random>

#include "gtest/gtest.h"

namespace onewindow::service {
namespace {

std::string Entry(const std::string& name, const std::string& role,
                  const std::string& token, const std::string& dept = "") {
  std::string e = "  - {name: " + name + ", role: " + role;
  if (!dept.empty()) e += ", department: " + dept;
  if (!token.empty()) e += ", token_sha256: " + TokenSha256Hex(token);
  return e + "}\n";
}

TEST(AuthTest, TokensAreMatchedByTheirHash) {
  auto t = AuthTable::Parse("principals:\n" +
                            Entry("clerk", "counter", "secret-1") +
                            Entry("dsf", "department", "secret-2", "DSF") +
                            Entry("cb-cert", "department", "", "CB"));
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_NE((*t)->ByToken("secret-2"), nullptr);
  EXPECT_EQ((*t)->ByToken("secret-2")->department, "DSF");
  EXPECT_EQ((*t)->ByToken("secret-3"), nullptr);
  EXPECT_EQ((*t)->ByToken(""), nullptr);  // a certificate-only principal
  EXPECT_NE((*t)->ByName("cb-cert"), nullptr);
}

TEST(AuthTest, BadFilesAreRefusedNamingTheEntry) {
  const std::pair<std::string, std::string> cases[] = {
      {"principals:\n  - {name: a, role: root, token_sha256: " +
           std::string(64, 'a') + "}\n",
       "role"},
      {"principals:\n  - {name: a, role: department, token_sha256: " +
           std::string(64, 'a') + "}\n",
       "department"},
      {"principals:\n  - {name: a, role: counter, token_sha256: xyz}\n",
       "token_sha256"},
      {"principals:\n" + Entry("a", "counter", "t") + Entry("a", "admin", "u"),
       "twice"},
      {"principals:\n" + Entry("a", "counter", "t") + Entry("b", "admin", "t"),
       "same token"},
      {"principals:\n  - {name: a, role: counter, colour: red}\n", "colour"},
      {"users: []\n", "users"},
  };
  for (const auto& [text, word] : cases) {
    auto t = AuthTable::Parse(text);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(t.status().message().find(word), absl::string_view::npos)
        << t.status();
  }
}

TEST(AuthTest, AuthenticateGivesPreciseRefusals) {
  auto dir = std::filesystem::temp_directory_path() /
             ("ow-auth-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "auth.yaml").string();
  {
    std::ofstream(path) << "principals:\n"
                        << Entry("clerk", "counter", "tok-clerk")
                        << Entry("dsf", "department", "tok-dsf", "DSF")
                        << Entry("cb", "department", "", "CB");
  }
  auto a = Authenticator::Create(path, AuthLimits{2, 1});
  ASSERT_TRUE(a.ok());
  auto c = (*a)->Authenticate("Bearer tok-clerk", "", "peer", "m");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->principal, "clerk");
  EXPECT_EQ(c->role, Role::kCounter);
  auto by_cert = (*a)->Authenticate("", "cb", "peer", "m");
  ASSERT_TRUE(by_cert.ok());
  EXPECT_EQ(by_cert->department, "CB");
  for (const auto& [hdr, cn] :
       std::vector<std::pair<std::string, std::string>>{
           {"", ""}, {"Basic abc", ""}, {"Bearer nope", ""}, {"", "mallory"},
           {"Bearer " + std::string(600, 'x'), ""}}) {
    auto r = (*a)->Authenticate(hdr, cn, "peer", "m");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << hdr;
    // The token is never echoed back.
    if (hdr.size() > 7) {
      EXPECT_EQ(r.status().message().find(hdr.substr(7)),
                absl::string_view::npos);
    }
  }
  // Limits per principal.
  EXPECT_TRUE((*a)->AdmitCall("clerk").ok());
  EXPECT_TRUE((*a)->AdmitCall("clerk").ok());
  absl::Status over = (*a)->AdmitCall("clerk");
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(over.message().find("clerk"), absl::string_view::npos);
  (*a)->ReleaseCall("clerk");
  EXPECT_TRUE((*a)->AdmitCall("clerk").ok());
  // Streams: bounded, and ended on reload only for principals that changed.
  int clerk_ended = 0, dsf_ended = 0;
  auto s1 = (*a)->OpenStream(*c, [&] { ++clerk_ended; });
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ((*a)->OpenStream(*c, [] {}).status().code(),
            absl::StatusCode::kResourceExhausted);
  auto dsf = (*a)->Authenticate("Bearer tok-dsf", "", "peer", "m");
  ASSERT_TRUE(dsf.ok());
  auto s2 = (*a)->OpenStream(*dsf, [&] { ++dsf_ended; });
  ASSERT_TRUE(s2.ok());
  {
    // The clerk stays; DSF's principal is removed.
    std::ofstream(path) << "principals:\n"
                        << Entry("clerk", "counter", "tok-clerk");
  }
  ASSERT_TRUE((*a)->Reload().ok());
  EXPECT_EQ(clerk_ended, 0);
  EXPECT_EQ(dsf_ended, 1);
  EXPECT_EQ((*a)->Authenticate("Bearer tok-dsf", "", "p", "m").status().code(),
            absl::StatusCode::kUnauthenticated);
  // A broken file keeps the old table.
  { std::ofstream(path) << "principals: [oops"; }
  EXPECT_FALSE((*a)->Reload().ok());
  EXPECT_TRUE((*a)->Authenticate("Bearer tok-clerk", "", "p", "m").ok());
  (*a)->CloseStream(*s1);
  (*a)->CloseStream(*s2);
  std::filesystem::remove_all(dir);
}

TEST(AuthTest, WithoutAnAuthFileEveryoneIsTheAnonymousAdmin) {
  auto a = Authenticator::Create("", AuthLimits());
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE((*a)->enabled());
  auto c = (*a)->Authenticate("", "", "p", "m");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->principal, "anonymous");
  EXPECT_EQ(c->role, Role::kAdmin);
}

}  // namespace
}  // namespace onewindow::service
