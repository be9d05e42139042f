// Tests for the asserted string formats: date, date-time, email, uri.
#include "engine/manifest/formats.h"

#include "gtest/gtest.h"

namespace onewindow::manifest {
namespace {

TEST(FormatsTest, Date) {
  EXPECT_TRUE(IsRfc3339Date("2026-12-20"));
  EXPECT_TRUE(IsRfc3339Date("2024-02-29"));
  EXPECT_FALSE(IsRfc3339Date("2026-02-29"));
  EXPECT_FALSE(IsRfc3339Date("2026-1-20"));
  EXPECT_FALSE(IsRfc3339Date("20261220"));
  EXPECT_FALSE(IsRfc3339Date("2026-12-20T00:00:00Z"));
  EXPECT_FALSE(IsRfc3339Date("2026-350"));
  EXPECT_FALSE(IsRfc3339Date("2026-12-2\xd9\xa0"));  // Arabic-Indic digit
}

TEST(FormatsTest, DateTime) {
  EXPECT_TRUE(IsRfc3339DateTime("2026-12-20T09:30:00+08:00"));
  EXPECT_TRUE(IsRfc3339DateTime("2026-12-20t09:30:00.123456z"));
  EXPECT_TRUE(IsRfc3339DateTime("1937-01-01T12:00:27.87+00:20"));
  // Leap seconds: only at 23:59:60 UTC.
  EXPECT_TRUE(IsRfc3339DateTime("1998-12-31T23:59:60Z"));
  EXPECT_TRUE(IsRfc3339DateTime("1998-12-31T15:59:60.123-08:00"));
  EXPECT_FALSE(IsRfc3339DateTime("1998-12-31T22:59:60Z"));
  EXPECT_FALSE(IsRfc3339DateTime("1998-12-31T23:58:60Z"));
  EXPECT_FALSE(IsRfc3339DateTime("1998-12-31T23:59:61Z"));
  EXPECT_FALSE(IsRfc3339DateTime("2026-12-20T24:00:00Z"));
  EXPECT_FALSE(IsRfc3339DateTime("2026-12-20T09:30:00"));       // no offset
  EXPECT_FALSE(IsRfc3339DateTime("2026-12-20T09:30:00+0800"));  // no colon
  EXPECT_FALSE(IsRfc3339DateTime("2026-12-20T09:30:00-24:00"));
  EXPECT_FALSE(IsRfc3339DateTime("2026-12-20 09:30:00Z"));
  EXPECT_FALSE(IsRfc3339DateTime("2026-12-20T09:30:00.Z"));
  EXPECT_FALSE(IsRfc3339DateTime("2026-02-31T09:30:00Z"));
}

TEST(FormatsTest, Email) {
  for (const char* ok :
       {"joe.bloggs@example.com", "te~st@example.com", "~test@example.com",
        "test~@example.com", "\"joe bloggs\"@example.com",
        "\"joe..bloggs\"@example.com", "\"joe@bloggs\"@example.com",
        "joe.bloggs@[127.0.0.1]", "joe.bloggs@[IPv6:::1]", "te.s.t@example.com",
        "a+tag@mail.gov.mo", "x@localhost"}) {
    EXPECT_TRUE(IsEmailAddress(ok)) << ok;
  }
  for (const char* bad :
       {"2962", ".test@example.com", "test.@example.com", "te..st@example.com",
        "joe.bloggs@invalid=domain.com", "joe.bloggs@[127.0.0.300]", "@x.com",
        "a@", "a b@example.com", "a@-example.com", "a@example..com",
        "\"unterminated@example.com", "joé@example.com"}) {
    EXPECT_FALSE(IsEmailAddress(bad)) << bad;
  }
}

TEST(FormatsTest, Uri) {
  for (const char* ok :
       {"http://foo.bar/?baz=qux#quux",
        "http://foo.com/blah_(wikipedia)_blah#cite-1",
        "http://foo.bar/?q=Test%20URL-encoded%20stuff",
        "http://xn--nw2a.xn--j6w193g/",
        "http://-.~_!$&'()*+,;=:%40:80%2f::::::@example.com",
        "http://223.255.255.254", "ftp://ftp.is.co.za/rfc/rfc1808.txt",
        "ldap://[2001:db8::7]/c=GB?objectClass?one",
        "mailto:John.Doe@example.com", "news:comp.infosystems.www.servers.unix",
        "tel:+1-816-555-1212",
        "urn:oasis:names:specification:docbook:dtd:xml:4.1.2",
        "https://www.gov.mo/zh-hant/", "file:///etc/hosts", "x:"}) {
    EXPECT_TRUE(IsUri(ok)) << ok;
  }
  for (const char* bad : {"//foo.bar/?baz=qux#quux",
                          "/abc",
                          "\\\\WINDOWS\\fileshare",
                          "abc",
                          "http:// shouldfail.com",
                          ":// should fail",
                          "bar,baz:foo",
                          "https://[@example.org/test.txt",
                          "https://example.org/foobar\xc2\xae.txt",
                          "https://example.org/foobar\\.txt",
                          "https://example.org/foobar<>.txt",
                          "https://example.org/foobar{}.txt",
                          "https://example.org/foobar^.txt",
                          "https://example.org/foobar`.txt",
                          "https://example.org/foo bar.txt",
                          "https://example.org/foobar|.txt",
                          "http://x/%zz",
                          "1http://x",
                          "http://host:80a/",
                          "http://[::1/"}) {
    EXPECT_FALSE(IsUri(bad)) << bad;
  }
}

TEST(FormatsTest, HelpersAndDispatch) {
  EXPECT_TRUE(IsIpv4Address("192.168.0.1"));
  EXPECT_FALSE(IsIpv4Address("087.10.0.1"));
  EXPECT_FALSE(IsIpv4Address("127.0.0.0.1"));
  EXPECT_FALSE(IsIpv4Address("256.1.1.1"));
  EXPECT_FALSE(IsIpv4Address("1.2.3"));
  EXPECT_TRUE(IsIpv6Address("::1"));
  EXPECT_TRUE(IsIpv6Address("2001:db8::7"));
  EXPECT_TRUE(IsIpv6Address("::ffff:192.168.0.1"));
  EXPECT_TRUE(IsIpv6Address("1:2:3:4:5:6:7:8"));
  EXPECT_FALSE(IsIpv6Address("12345::"));
  EXPECT_FALSE(IsIpv6Address("1:1:1:1:1:1:1:1:1"));
  EXPECT_FALSE(IsIpv6Address("::laptop"));
  EXPECT_FALSE(IsIpv6Address("1::2::3"));
  EXPECT_FALSE(IsIpv6Address("1:2:3:4:5:6:7::8:9"));
  EXPECT_TRUE(IsHostName("www.example.com"));
  EXPECT_FALSE(IsHostName("-a.example"));
  EXPECT_FALSE(IsHostName(std::string(64, 'a') + ".com"));
  EXPECT_TRUE(IsAssertedFormat("date"));
  EXPECT_FALSE(IsAssertedFormat("ipv4"));
  EXPECT_TRUE(MatchesFormat("ipv4", "not an address"));  // annotation only
  EXPECT_FALSE(MatchesFormat("email", "nope"));
}

}  // namespace
}  // namespace onewindow::manifest
