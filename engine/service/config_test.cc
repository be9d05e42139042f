// onewindowd's settings: the file (every key, both spellings, every kind of
// refusal with its line), flags, checks across keys, the shipped
// deploy/onewindow.yaml, and JSON log lines.
#include "engine/service/config.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace onewindow::service {
namespace {

using ::testing::HasSubstr;

absl::Status Parse(const std::string& text, Config* c) {
  return ParseConfig(text, "test.yaml", c);
}

// The message of parsing `text` over the defaults (OK: empty).
std::string Refusal(const std::string& text) {
  Config c;
  absl::Status s = Parse(text, &c);
  return s.ok() ? "" : std::string(s.message());
}

TEST(ConfigTest, DefaultsAreTheDocumentedOnes) {
  Config c;
  EXPECT_EQ(c.listen, "127.0.0.1:50051");
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_format, "text");
  EXPECT_EQ(c.shards, 2);
  EXPECT_EQ(c.max_payload_bytes, 256 * 1024);
  EXPECT_EQ(c.http_listen, "127.0.0.1:8080");
  EXPECT_TRUE(c.backup.dir.empty());
  EXPECT_EQ(c.backup.every_ms, 6 * 3600 * 1000);
  EXPECT_EQ(c.backup.keep, 8);
  EXPECT_EQ(c.commit_window_us, 1000);
  EXPECT_TRUE(CheckConfig(c).ok());
}

TEST(ConfigTest, EveryKeyWithDashes) {
  Config c;
  absl::Status s = Parse(R"(
listen: 127.0.0.1:6000
data-dir: /srv/ow/data
workflows: /etc/ow/workflows
calendar-dir: /etc/ow/calendars
log-level: debug
log-format: json
shards: 4
max-payload-bytes: 65536
auth-file: /etc/ow/auth.yaml
insecure: true
tls-cert: /etc/ow/server.crt
tls-key: /etc/ow/server.key
tls-client-ca: /etc/ow/ca.crt
http-listen: 127.0.0.1:9090
backup:
  dir: /srv/ow/backups
  every: 1h30m
  keep: 3
max-open-cases: 1000
max-resident-cases: 500
max-queued-per-shard: 77
commit-window-us: 250
max-calls-per-principal: 9
max-streams-per-principal: 5
max-map-items: 200
max-open-tasks-per-case: 300
max-states-per-call: 4000
max-history-events: 5000
)",
                         &c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(c.listen, "127.0.0.1:6000");
  EXPECT_EQ(c.data_dir, "/srv/ow/data");
  EXPECT_EQ(c.workflows, "/etc/ow/workflows");
  EXPECT_EQ(c.calendar_dir, "/etc/ow/calendars");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.log_format, "json");
  EXPECT_EQ(c.shards, 4);
  EXPECT_EQ(c.max_payload_bytes, 65536);
  EXPECT_EQ(c.auth_file, "/etc/ow/auth.yaml");
  EXPECT_TRUE(c.insecure);
  EXPECT_EQ(c.tls_cert, "/etc/ow/server.crt");
  EXPECT_EQ(c.tls_key, "/etc/ow/server.key");
  EXPECT_EQ(c.tls_client_ca, "/etc/ow/ca.crt");
  EXPECT_EQ(c.http_listen, "127.0.0.1:9090");
  EXPECT_EQ(c.backup.dir, "/srv/ow/backups");
  EXPECT_EQ(c.backup.every_ms, 90 * 60 * 1000);
  EXPECT_EQ(c.backup.keep, 3);
  EXPECT_EQ(c.max_open_cases, 1000);
  EXPECT_EQ(c.max_resident_cases, 500);
  EXPECT_EQ(c.max_queued_per_shard, 77);
  EXPECT_EQ(c.commit_window_us, 250);
  EXPECT_EQ(c.max_calls_per_principal, 9);
  EXPECT_EQ(c.max_streams_per_principal, 5);
  EXPECT_EQ(c.max_map_items, 200);
  EXPECT_EQ(c.max_open_tasks_per_case, 300);
  EXPECT_EQ(c.max_states_per_call, 4000);
  EXPECT_EQ(c.max_history_events, 5000);
  EXPECT_TRUE(CheckConfig(c).ok()) << CheckConfig(c);
}

TEST(ConfigTest, UnderscoresAreTheSameKeys) {
  Config c;
  ASSERT_TRUE(Parse("data_dir: /d\nmax_payload_bytes: 2048\n"
                    "http_listen: ''\nlog_format: json\n",
                    &c)
                  .ok());
  EXPECT_EQ(c.data_dir, "/d");
  EXPECT_EQ(c.max_payload_bytes, 2048);
  EXPECT_EQ(c.http_listen, "");
  EXPECT_EQ(c.log_format, "json");
}

TEST(ConfigTest, KeysNotGivenKeepTheirValues) {
  Config c;
  c.listen = "127.0.0.1:7000";
  ASSERT_TRUE(Parse("shards: 3\n", &c).ok());
  EXPECT_EQ(c.listen, "127.0.0.1:7000");
  EXPECT_EQ(c.shards, 3);
  ASSERT_TRUE(Parse("", &c).ok());
  ASSERT_TRUE(Parse("# only a comment\n", &c).ok());
  EXPECT_EQ(c.shards, 3);
}

TEST(ConfigTest, UnknownKeyNamesKeyAndLine) {
  EXPECT_THAT(Refusal("listen: 127.0.0.1:1\n\ndata-dri: /x\n"),
              HasSubstr("test.yaml:3: unknown key 'data-dri'"));
  EXPECT_THAT(Refusal("listen: 127.0.0.1:1\n\ndata-dri: /x\n"),
              HasSubstr("data-dir"));  // the known keys are listed
  EXPECT_THAT(Refusal("backup:\n  dir: /b\n  evry: 1h\n"),
              HasSubstr("test.yaml:3: unknown key 'backup.evry'"));
  EXPECT_THAT(Refusal("Listen: 127.0.0.1:1\n"),
              HasSubstr("test.yaml:1: unknown key 'Listen'"));
}

TEST(ConfigTest, RepeatedKeyNamesBothLines) {
  EXPECT_THAT(Refusal("data-dir: /a\nshards: 2\ndata_dir: /b\n"),
              HasSubstr("test.yaml:3: data_dir: given twice (first on line 1)"));
}

TEST(ConfigTest, WrongTypesNameKeyAndLine) {
  EXPECT_THAT(Refusal("shards: [1, 2]\n"),
              HasSubstr("test.yaml:1: shards: expected a number, got a list"));
  EXPECT_THAT(Refusal("\nshards: \"2\"\n"),
              HasSubstr("test.yaml:2: shards: expected a number, got quoted "
                        "text \"2\""));
  EXPECT_THAT(Refusal("listen: {host: x}\n"),
              HasSubstr("test.yaml:1: listen: expected text, got a map"));
  EXPECT_THAT(Refusal("insecure: 'true'\n"),
              HasSubstr("insecure: expected true or false, got quoted text"));
  EXPECT_THAT(Refusal("insecure: maybe\n"),
              HasSubstr("insecure: expected true or false, got 'maybe'"));
  EXPECT_THAT(Refusal("shards:\n"), HasSubstr("test.yaml:1: shards: needs a value"));
  EXPECT_THAT(Refusal("backup: 6h\n"),
              HasSubstr("test.yaml:1: backup: expected a map"));
  EXPECT_THAT(Refusal("- listen\n"),
              HasSubstr("test.yaml:1: expected a map of settings, got a list"));
}

TEST(ConfigTest, BadValuesNameKeyAndLine) {
  EXPECT_THAT(Refusal("shards: 0\n"),
              HasSubstr("test.yaml:1: shards: 0 is out of range: expected a "
                        "whole number from 1 to 256"));
  EXPECT_THAT(Refusal("shards: 1000\n"), HasSubstr("out of range"));
  EXPECT_THAT(Refusal("shards: 2.5\n"),
              HasSubstr("shards: expected a whole number from 1 to 256, got "
                        "'2.5'"));
  EXPECT_THAT(Refusal("shards: 99999999999999999999999\n"),
              HasSubstr("out of range"));
  EXPECT_THAT(Refusal("max-payload-bytes: 10\n"),
              HasSubstr("max-payload-bytes: 10 is out of range"));
  EXPECT_THAT(Refusal("log-format: xml\n"),
              HasSubstr("log-format: expected one of text, json, got 'xml'"));
  EXPECT_THAT(Refusal("log-level: loud\n"),
              HasSubstr("log-level: expected one of trace"));
  EXPECT_THAT(Refusal("listen: nohost\n"),
              HasSubstr("listen: 'nohost' is not HOST:PORT"));
  EXPECT_THAT(Refusal("listen: 127.0.0.1:99999\n"),
              HasSubstr("the port must be a number from 1 to 65535"));
  EXPECT_THAT(Refusal("listen: ':50051'\n"), HasSubstr("has no host"));
  EXPECT_THAT(Refusal("listen: '::1:50051'\n"),
              HasSubstr("IPv6 host goes in brackets"));
  EXPECT_THAT(Refusal("listen: ''\n"), HasSubstr("listen: must not be empty"));
  EXPECT_THAT(Refusal("data-dir:\n"), HasSubstr("data-dir: must not be empty"));
  EXPECT_THAT(Refusal("http-listen: localhost\n"),
              HasSubstr("http-listen: 'localhost' is not HOST:PORT"));
  EXPECT_THAT(Refusal("backup:\n  every: 6\n"),
              HasSubstr("test.yaml:2: backup.every: expected a duration with "
                        "units"));
  EXPECT_THAT(Refusal("backup:\n  every: 6y\n"), HasSubstr("backup.every"));
  EXPECT_THAT(Refusal("backup:\n  every: 30s\n"),
              HasSubstr("backup.every: 30s is out of range: from 1m to 30d"));
  EXPECT_THAT(Refusal("backup:\n  every: 31d\n"), HasSubstr("out of range"));
  EXPECT_THAT(Refusal("backup:\n  keep: 0\n"),
              HasSubstr("test.yaml:2: backup.keep: 0 is out of range"));
  EXPECT_THAT(Refusal("max-open-cases: -5\n"),
              HasSubstr("max-open-cases: -5 is out of range"));
}

TEST(ConfigTest, GoodAddresses) {
  for (const char* a : {"127.0.0.1:50051", "0.0.0.0:1", "[::1]:50051",
                        "[::]:443", "localhost:8080", "unix:/run/ow.sock",
                        "ow-0.ow.default.svc:50051"}) {
    Config c;
    EXPECT_TRUE(SetField(&c, "listen", a).ok()) << a;
    EXPECT_EQ(c.listen, a);
  }
}

TEST(ConfigTest, YamlSyntaxErrorNamesLine) {
  EXPECT_THAT(Refusal("listen: 127.0.0.1:1\nshards: [1,\n"),
              HasSubstr("test.yaml:"));
  EXPECT_THAT(Refusal("a: b: c\n"), HasSubstr("test.yaml:1: not valid YAML"));
}

TEST(ConfigTest, RefusedFileChangesNothing) {
  Config c;
  EXPECT_FALSE(Parse("shards: 5\nlisten: 127.0.0.1:1\nbogus: 1\n", &c).ok());
  EXPECT_EQ(c.shards, 2);
  EXPECT_EQ(c.listen, "127.0.0.1:50051");
}

TEST(ConfigTest, OversizeFileIsRefusedNamingTheLimit) {
  std::string text = "# " + std::string(kMaxConfigFileBytes, 'x') + "\n";
  EXPECT_THAT(Refusal(text), HasSubstr("more than the limit of 1048576"));
}

TEST(ConfigTest, FlagsUseTheSameRules) {
  Config c;
  EXPECT_TRUE(SetField(&c, "data-dir", "/x").ok());
  EXPECT_EQ(c.data_dir, "/x");
  EXPECT_TRUE(SetField(&c, "backup.every", "1d").ok());
  EXPECT_EQ(c.backup.every_ms, 86'400'000);
  EXPECT_TRUE(SetField(&c, "insecure", "true").ok());
  EXPECT_TRUE(c.insecure);
  EXPECT_TRUE(SetField(&c, "insecure", "false").ok());
  EXPECT_FALSE(c.insecure);
  EXPECT_THAT(std::string(SetField(&c, "shards", "x").message()),
              HasSubstr("expected a whole number from 1 to 256, got 'x'"));
  EXPECT_THAT(std::string(SetField(&c, "nope", "1").message()),
              HasSubstr("unknown setting 'nope'"));
}

TEST(ConfigTest, EveryFieldHasAFlagAndHelp) {
  std::set<std::string> flags;
  for (const auto& f : Fields()) {
    EXPECT_FALSE(f.help.empty()) << f.key;
    EXPECT_EQ(f.flag.rfind("--", 0), 0u) << f.key;
    EXPECT_TRUE(flags.insert(f.flag).second) << f.flag;
  }
  // The flags tests and scripts rely on.
  for (const char* f :
       {"--listen", "--data-dir", "--workflows", "--log-level", "--shards",
        "--max-payload-bytes", "--auth-file", "--insecure", "--tls-cert",
        "--tls-key", "--tls-client-ca", "--calendar-dir", "--http-listen",
        "--log-format", "--backup-dir", "--backup-every", "--backup-keep",
        "--max-open-cases", "--max-resident-cases"}) {
    EXPECT_TRUE(flags.count(f)) << f;
  }
}

TEST(ConfigTest, ChecksAcrossKeys) {
  Config c;
  c.tls_cert = "/c";
  EXPECT_THAT(std::string(CheckConfig(c).message()),
              HasSubstr("tls-cert and tls-key go together"));
  c.tls_key = "/k";
  EXPECT_TRUE(CheckConfig(c).ok());
  c = Config();
  c.tls_client_ca = "/ca";
  EXPECT_THAT(std::string(CheckConfig(c).message()),
              HasSubstr("tls-client-ca needs tls-cert and tls-key"));

  c = Config();
  c.listen = "0.0.0.0:50051";
  EXPECT_EQ(CheckConfig(c).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(CheckConfig(c).message()),
              HasSubstr("listen 0.0.0.0:50051 is not a loopback address"));
  c.insecure = true;
  EXPECT_TRUE(CheckConfig(c).ok());
  c.insecure = false;
  c.auth_file = "/auth.yaml";
  EXPECT_TRUE(CheckConfig(c).ok());

  c = Config();
  c.http_listen = "0.0.0.0:8080";
  EXPECT_THAT(std::string(CheckConfig(c).message()),
              HasSubstr("http-listen 0.0.0.0:8080 is not a loopback"));
  c.http_listen = "127.0.0.1:50051";
  EXPECT_THAT(std::string(CheckConfig(c).message()),
              HasSubstr("http-listen and listen are both"));

  c = Config();
  c.data_dir = "/var/lib/ow";
  c.backup.dir = "/var/lib/ow/backups";
  EXPECT_THAT(std::string(CheckConfig(c).message()),
              HasSubstr("backup.dir /var/lib/ow/backups is inside data-dir"));
  c.backup.dir = "/var/lib";
  EXPECT_THAT(std::string(CheckConfig(c).message()),
              HasSubstr("data-dir /var/lib/ow is inside backup.dir"));
  c.backup.dir = "/var/lib/ow-backups";  // a prefix of the name only
  EXPECT_TRUE(CheckConfig(c).ok()) << CheckConfig(c);
}

TEST(ConfigTest, PrintedConfigReadsBack) {
  Config c;
  c.listen = "[::1]:50051";
  c.data_dir = "/data dir/with: colon";
  c.workflows = "'quoted'";
  c.http_listen = "";
  c.insecure = true;
  c.log_format = "json";
  c.backup.dir = "/b";
  c.backup.every_ms = 90 * 60 * 1000;
  c.backup.keep = 2;
  c.max_open_cases = 12345;
  const std::string yaml = ConfigToYaml(c);
  Config back;
  absl::Status s = Parse(yaml, &back);
  ASSERT_TRUE(s.ok()) << s << "\n" << yaml;
  EXPECT_EQ(ConfigToYaml(back), yaml);
  EXPECT_EQ(back.data_dir, c.data_dir);
  EXPECT_EQ(back.workflows, c.workflows);
  EXPECT_EQ(back.backup.every_ms, c.backup.every_ms);
  EXPECT_TRUE(back.insecure);
}

TEST(ConfigTest, Durations) {
  EXPECT_EQ(*ParseDuration("30s"), 30'000);
  EXPECT_EQ(*ParseDuration("15m"), 900'000);
  EXPECT_EQ(*ParseDuration("6h"), 21'600'000);
  EXPECT_EQ(*ParseDuration("1d"), 86'400'000);
  EXPECT_EQ(*ParseDuration("1h30m"), 5'400'000);
  EXPECT_EQ(*ParseDuration("250ms"), 250);
  for (const char* bad : {"", "6", "h", "6 h", "-1h", "1.5h", "6hours",
                          "1234567890h", "1h30"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatDuration(21'600'000), "6h");
  EXPECT_EQ(FormatDuration(5'400'000), "1h30m");
  EXPECT_EQ(FormatDuration(86'400'000 + 1), "1d1ms");
}

TEST(ConfigTest, Loopback) {
  EXPECT_TRUE(IsLoopback("127.0.0.1:1"));
  EXPECT_TRUE(IsLoopback("127.1.2.3:1"));
  EXPECT_TRUE(IsLoopback("[::1]:1"));
  EXPECT_TRUE(IsLoopback("localhost:1"));
  EXPECT_TRUE(IsLoopback("unix:/run/x.sock"));
  EXPECT_FALSE(IsLoopback("0.0.0.0:1"));
  EXPECT_FALSE(IsLoopback("[::]:1"));
  EXPECT_FALSE(IsLoopback("10.0.0.1:1"));
}

TEST(ConfigTest, LoadConfigFileNamesTheFile) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ow-config-test-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "ow.yaml").string();
  {
    std::ofstream(path) << "shards: 3\nnope: 1\n";
  }
  Config c;
  absl::Status s = LoadConfigFile(path, &c);
  EXPECT_THAT(std::string(s.message()), HasSubstr(path + ":2: unknown key"));
  EXPECT_EQ(LoadConfigFile((dir / "missing.yaml").string(), &c).code(),
            absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

// The config the package installs is valid and says what it should.
TEST(ConfigTest, ShippedConfigIsValid) {
  Config c;
  absl::Status s =
      LoadConfigFile(std::string(OW_SOURCE_DIR) + "/deploy/onewindow.yaml", &c);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(CheckConfig(c).ok()) << CheckConfig(c);
  EXPECT_EQ(c.data_dir, "/var/lib/onewindow/data");
  EXPECT_EQ(c.backup.dir, "/var/lib/onewindow/backups");
  EXPECT_EQ(c.listen, "127.0.0.1:50051");
}

TEST(ConfigTest, JsonLogLines) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger("", sink);
  logger.set_formatter(MakeJsonLogFormatter());
  logger.info("case {} said \"hi\"\nand left", "FL-2026-000001-3");
  logger.warn("bad byte \xff here");
  std::istringstream lines(out.str());
  std::string line;
  std::vector<nlohmann::json> got;
  while (std::getline(lines, line)) got.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(got.size(), 2u) << out.str();
  EXPECT_EQ(got[0]["level"], "info");
  EXPECT_EQ(got[0]["msg"], "case FL-2026-000001-3 said \"hi\"\nand left");
  const std::string ts = got[0]["ts"];
  EXPECT_EQ(ts.size(), 24u) << ts;  // 2026-03-14T09:26:53.589Z
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts.back(), 'Z');
  EXPECT_EQ(out.str().substr(0, 7), "{\"ts\":\"");  // ts first
  EXPECT_EQ(got[1]["level"], "warning");
  EXPECT_TRUE(got[1]["thread"].is_number());
}

}  // namespace
}  // namespace onewindow::service
