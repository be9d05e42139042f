// Tests for service manifests: parsing, every error with key and line,
// warnings, conversion to and from the API message, and agreement with the
// manifest's own JSON Schema (schema/service.schema.json).
#include "engine/manifest/service_manifest.h"

#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "engine/manifest/calendar.h"
#include "engine/manifest/document.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace onewindow::manifest {
namespace {

using ::testing::HasSubstr;

constexpr char kFoodLicence[] = R"yaml(# Food establishment licence
title:
  zh-Hant: 飲食場所牌照
  pt: Licença de estabelecimento de comidas
  en: Food establishment licence
case_prefix: FL
deadline: {working_days: 30}
calendar: macau
applicant_field: /applicant/name
input_schema:
  type: object
  required: [applicant, premises]
  properties:
    applicant:
      type: object
      required: [name]
      properties:
        name: {type: string, minLength: 1, title: Name}
    premises:
      type: object
      properties:
        area: {type: number, exclusiveMinimum: 0}
tasks:
  IACM/hygiene-inspection: {deadline: {working_days: 10}}
  dept:DSSOPT/works-check:
    deadline: {working_days: 15}
)yaml";

std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(OW_SOURCE_DIR) + "/" + relative);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ServiceManifestTest, ParsesEveryField) {
  ManifestCheck check = CheckServiceManifest(kFoodLicence);
  ASSERT_TRUE(check.manifest.has_value()) << JoinProblems(check.errors);
  EXPECT_TRUE(check.warnings.empty()) << JoinProblems(check.warnings);
  const ServiceManifest& m = *check.manifest;
  EXPECT_EQ(m.title.at("zh-Hant"), "飲食場所牌照");
  EXPECT_EQ(m.title.at("en"), "Food establishment licence");
  EXPECT_EQ(m.case_prefix, "FL");
  EXPECT_EQ(m.deadline_working_days, 30);
  EXPECT_EQ(m.calendar, "macau");
  EXPECT_EQ(m.applicant_field, "/applicant/name");
  ASSERT_NE(m.compiled_schema, nullptr);
  EXPECT_EQ(m.TaskDeadline("IACM/hygiene-inspection"), 10);
  EXPECT_EQ(m.TaskDeadline("dept:IACM/hygiene-inspection"), 10);
  EXPECT_EQ(m.TaskDeadline("arn:x:dept:DSSOPT/works-check"), 15);
  EXPECT_EQ(m.TaskDeadline("DSSOPT/works-check"), 15);
  EXPECT_FALSE(m.TaskDeadline("DSF/tax").has_value());
  EXPECT_EQ(m.source, kFoodLicence);
}

TEST(ServiceManifestTest, ChecksCaseDataAgainstTheInputSchema) {
  ServiceManifest m = *ParseServiceManifest(kFoodLicence);
  EXPECT_TRUE(
      m
          .CheckCaseData(Json::parse(
              R"({"applicant": {"name": "Chan"}, "premises": {"area": 80}})"))
          .ok());
  absl::Status s = m.CheckCaseData(
      Json::parse(R"({"applicant": {"name": ""}, "premises": {"area": -1}})"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("/applicant/name: must be at least 1"));
  EXPECT_THAT(s.message(), HasSubstr("/premises/area: must be > 0"));
  s = m.CheckCaseData(Json::parse(R"({"premises": {}})"));
  EXPECT_THAT(s.message(), HasSubstr("/applicant: is required"));
  // No schema: anything goes.
  EXPECT_TRUE(ParseServiceManifest("case_prefix: AB")->CheckCaseData(5).ok());
}

TEST(ServiceManifestTest, EmptyManifestGivesDefaults) {
  for (const char* text : {"", "# only a comment\n", "{}"}) {
    ManifestCheck check = CheckServiceManifest(text);
    ASSERT_TRUE(check.manifest.has_value()) << text;
    EXPECT_EQ(check.manifest->case_prefix, "OW");
    EXPECT_EQ(check.manifest->deadline_working_days, 0);
    EXPECT_TRUE(check.manifest->calendar.empty());
    EXPECT_EQ(check.manifest->compiled_schema, nullptr);
    EXPECT_FALSE(check.warnings.empty());
  }
}

TEST(ServiceManifestTest, MissingTitleLanguagesAreWarnings) {
  ManifestCheck check = CheckServiceManifest("title: {en: Food licence}\n");
  ASSERT_TRUE(check.manifest.has_value());
  ASSERT_EQ(check.warnings.size(), 2u);
  EXPECT_EQ(check.warnings[0].ToString(),
            "line 1, column 1: title: no Chinese title (zh-Hant)");
  EXPECT_EQ(check.warnings[1].ToString(),
            "line 1, column 1: title: no Portuguese title (pt)");
}

TEST(ServiceManifestTest, EveryErrorNamesKeyAndLine) {
  ManifestCheck check = CheckServiceManifest(
      "title: {en: X, fr: Y, pt: 5}\n"                   // 1
      "case_prefix: fl\n"                                // 2
      "deadline:\n"                                      // 3
      "  working_days: 0\n"                              // 4
      "  hours: 3\n"                                     // 5
      "calendar: Macau\n"                                // 6
      "applicant_field: applicant/name\n"                // 7
      "input_schema:\n"                                  // 8
      "  type: object\n"                                 // 9
      "  properties:\n"                                  // 10
      "    age: {type: int}\n"                           // 11
      "tasks:\n"                                         // 12
      "  hygiene: {deadline: {working_days: 5}}\n"       // 13
      "  IACM/check: {deadline: {working_days: 2.5}}\n"  // 14
      "  IACM/other: {limit: 3}\n"                       // 15
      "colour: red\n");                                  // 16
  EXPECT_FALSE(check.manifest.has_value());
  EXPECT_EQ(check.code, absl::StatusCode::kInvalidArgument);
  std::vector<std::string> lines;
  for (const Problem& p : check.errors) lines.push_back(p.ToString());
  std::string all = JoinProblems(check.errors, 100);
  EXPECT_THAT(all, HasSubstr("line 1, column 16: title.fr: unknown language "
                             "\"fr\" (expected zh-Hant, pt, en)"));
  EXPECT_THAT(all, HasSubstr("line 1, column 23: title.pt: must be non-empty "
                             "text, got 5"));
  EXPECT_THAT(all, HasSubstr("line 2, column 1: case_prefix: must be 2-4 "
                             "capital letters"));
  EXPECT_THAT(all, HasSubstr("line 4, column 3: deadline.working_days: must be "
                             "a whole number of working days from 1 to 3650, "
                             "got 0"));
  EXPECT_THAT(all, HasSubstr("line 5, column 3: deadline.hours: unknown key "
                             "\"hours\""));
  EXPECT_THAT(all, HasSubstr("line 6, column 1: calendar: must be a calendar "
                             "name"));
  EXPECT_THAT(all, HasSubstr("line 7, column 1: applicant_field: JSON pointer "
                             "\"applicant/name\" must be empty or start with"));
  EXPECT_THAT(all, HasSubstr("line 11, column 11: "
                             "input_schema.properties.age.type: \"int\" is not "
                             "a type"));
  EXPECT_THAT(all, HasSubstr("line 13, column 3: tasks.hygiene: \"hygiene\" is "
                             "not a department task type"));
  EXPECT_THAT(all,
              HasSubstr("line 14, column 27: "
                        "tasks.IACM/check.deadline.working_days: must be a "
                        "whole number"));
  EXPECT_THAT(all, HasSubstr("line 15, column 16: tasks.IACM/other.limit: "
                             "unknown key \"limit\" (expected deadline)"));
  EXPECT_THAT(all, HasSubstr("line 15, column 3: tasks.IACM/other: deadline is "
                             "required"));
  EXPECT_THAT(all, HasSubstr("line 16, column 1: colour: unknown key "
                             "\"colour\""));
  absl::StatusOr<ServiceManifest> m = ParseServiceManifest("case_prefix: 7\n");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(),
              HasSubstr("service manifest: line 1, column 1: case_prefix: "));
}

TEST(ServiceManifestTest, WrongTypesAndShapes) {
  for (const char* text :
       {"[1, 2]\n", "title: Food\n", "deadline: 30\n", "deadline: {}\n",
        "input_schema: 5\n", "tasks: [a]\n", "tasks: {A/b: 3}\n",
        "tasks: {A/b: {deadline: 3}}\n", "applicant_field: \"\"\n",
        "applicant_field: /a~2\n", "title: {en: \"\"}\n",
        "deadline: {working_days: \"30\"}\n",
        "deadline: {working_days: 3651}\n", "calendar: \"../x\"\n"}) {
    ManifestCheck check = CheckServiceManifest(text);
    EXPECT_FALSE(check.manifest.has_value()) << text;
    EXPECT_EQ(check.code, absl::StatusCode::kInvalidArgument) << text;
  }
  ManifestCheck dup = CheckServiceManifest(
      "tasks: {\"IACM/x\": {deadline: {working_days: 1}}, "
      "\"dept:IACM/x\": {deadline: {working_days: 2}}}\n");
  EXPECT_THAT(JoinProblems(dup.errors), HasSubstr("listed twice"));
}

TEST(ServiceManifestTest, SyntaxErrorsAndLimits) {
  ManifestCheck check = CheckServiceManifest("title: {en: [\n");
  EXPECT_EQ(check.code, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(JoinProblems(check.errors), HasSubstr("line "));
  check = CheckServiceManifest(std::string(kMaxManifestBytes + 1, '#'));
  EXPECT_EQ(check.code, absl::StatusCode::kResourceExhausted);
  std::string deep = "input_schema: " + std::string(100, '[');
  check = CheckServiceManifest(deep);
  EXPECT_EQ(check.code, absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(JoinProblems(check.errors), HasSubstr("64 levels"));
  absl::StatusOr<ServiceManifest> m = ParseServiceManifest(deep);
  EXPECT_EQ(m.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(ServiceManifestTest, ApplicantFieldNotInSchemaIsAWarning) {
  ManifestCheck check = CheckServiceManifest(
      "title: {zh-Hant: a, pt: b, en: c}\n"
      "applicant_field: /applicant/fullname\n"
      "input_schema: {properties: {applicant: {properties: {name: {}}}}}\n");
  ASSERT_TRUE(check.manifest.has_value());
  ASSERT_EQ(check.warnings.size(), 1u);
  EXPECT_THAT(check.warnings[0].ToString(),
              HasSubstr("line 2, column 1: applicant_field: input_schema does "
                        "not declare /applicant/fullname"));
}

TEST(ServiceManifestTest, JsonTextWorksToo) {
  ManifestCheck check = CheckServiceManifest(
      "{\n  \"case_prefix\": \"DSAL\",\n  \"deadline\": {\"working_days\": "
      "5},\n"
      "  \"input_schema\": {\"type\": \"object\"},\n  \"x\": 1\n}\n");
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_EQ(check.errors[0].ToString(),
            "line 5, column 3: x: unknown key \"x\" (expected title, "
            "case_prefix, deadline, calendar, input_schema, applicant_field, "
            "tasks)");
}

TEST(ServiceManifestTest, ProtoRoundTrip) {
  ServiceManifest m = *ParseServiceManifest(kFoodLicence);
  v1::ServiceManifest proto;
  ToProto(m, &proto);
  EXPECT_EQ(proto.case_prefix(), "FL");
  EXPECT_EQ(proto.deadline_working_days(), 30);
  EXPECT_EQ(proto.calendar(), "macau");
  EXPECT_EQ(proto.title().at("pt"), "Licença de estabelecimento de comidas");
  EXPECT_EQ(proto.task_deadline_working_days().at("IACM/hygiene-inspection"),
            10);
  EXPECT_EQ(proto.task_deadline_working_days().at("DSSOPT/works-check"), 15);
  EXPECT_EQ(proto.applicant_field(), "/applicant/name");
  EXPECT_EQ(Json::parse(proto.input_schema_json()), m.input_schema);
  EXPECT_EQ(proto.source(), kFoodLicence);

  // From the stored source.
  absl::StatusOr<ServiceManifest> back = ServiceManifestFromProto(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->task_deadline_working_days, m.task_deadline_working_days);
  // From the fields alone: the same rules apply.
  proto.clear_source();
  back = ServiceManifestFromProto(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->case_prefix, "FL");
  EXPECT_EQ(back->title, m.title);
  EXPECT_EQ(back->input_schema, m.input_schema);
  EXPECT_EQ(back->TaskDeadline("dept:IACM/hygiene-inspection"), 10);
  ASSERT_NE(back->compiled_schema, nullptr);
  proto.set_case_prefix("bad");
  EXPECT_EQ(ServiceManifestFromProto(proto).status().code(),
            absl::StatusCode::kInvalidArgument);
  proto.set_case_prefix("FL");
  proto.set_input_schema_json("{not json");
  EXPECT_EQ(ServiceManifestFromProto(proto).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Defaults.
  ToProto(ServiceManifest{}, &proto);
  EXPECT_EQ(proto.case_prefix(), "OW");
  EXPECT_TRUE(proto.input_schema_json().empty());
}

TEST(ServiceManifestTest, NormalizeTaskKey) {
  EXPECT_EQ(NormalizeTaskKey("IACM/hygiene"), "IACM/hygiene");
  EXPECT_EQ(NormalizeTaskKey("dept:IACM/hygiene"), "IACM/hygiene");
  EXPECT_EQ(NormalizeTaskKey("arn:aws:states:::dept:DSF/tax.check"),
            "DSF/tax.check");
  EXPECT_FALSE(NormalizeTaskKey("iacm/hygiene").has_value());
  EXPECT_FALSE(NormalizeTaskKey("IACM/").has_value());
  EXPECT_FALSE(NormalizeTaskKey("/x").has_value());
  EXPECT_FALSE(NormalizeTaskKey("IACM/a b").has_value());
}

// The manifest's JSON Schema (for editors) and the parser agree.
TEST(ServiceManifestSchemaTest, SchemaFileAgreesWithTheParser) {
  std::string text =
      ReadSourceFile("engine/manifest/schema/service.schema.json");
  ASSERT_FALSE(text.empty());
  absl::StatusOr<std::shared_ptr<const JsonSchema>> schema =
      JsonSchema::Compile(Json::parse(text));
  ASSERT_TRUE(schema.ok()) << schema.status();
  const char* samples[] = {
      kFoodLicence,
      "",
      "case_prefix: fl\n",
      "case_prefix: ABCDE\n",
      "deadline: {working_days: 0}\n",
      "deadline: {working_days: 3650}\n",
      "deadline: {working_days: 3651}\n",
      "deadline: {}\n",
      "calendar: Macau\n",
      "calendar: macau-2\n",
      "title: {fr: x}\n",
      "title: {en: \"\"}\n",
      "applicant_field: applicant\n",
      "applicant_field: /a~2\n",
      "applicant_field: /a~1b/c\n",
      "tasks: {hygiene: {deadline: {working_days: 1}}}\n",
      "tasks: {\"dept:IACM/x\": {deadline: {working_days: 1}}}\n",
      "tasks: {IACM/x: {deadline: {working_days: 1}, extra: 1}}\n",
      "input_schema: true\n",
      "input_schema: 5\n",
      "colour: red\n",
  };
  for (const char* sample : samples) {
    absl::StatusOr<LoadedDocument> doc = LoadDocument(sample);
    ASSERT_TRUE(doc.ok()) << sample;
    Json value = doc->value.is_null() ? Json::object() : doc->value;
    bool schema_ok = (*schema)->Validate(value).valid();
    bool parser_ok = CheckServiceManifest(sample).manifest.has_value();
    EXPECT_EQ(schema_ok, parser_ok) << sample;
  }
}

TEST(MacauCalendarTest, DeployedFileLoadsAndCountsHolidays) {
  absl::StatusOr<Calendar> cal =
      LoadCalendar(std::string(OW_SOURCE_DIR) + "/deploy/calendars", "macau");
  ASSERT_TRUE(cal.ok()) << cal.status();
  EXPECT_EQ(cal->utc_offset_minutes, 8 * 60);
  EXPECT_THAT(cal->source, HasSubstr("Executive Order 60/2000"));
  EXPECT_TRUE(cal->HasHolidaysIn(2026));
  EXPECT_TRUE(cal->HasHolidaysIn(2027));
  EXPECT_FALSE(cal->HasHolidaysIn(2028));
  // Every fixed-date holiday of Executive Order 60/2000 is there each year.
  for (int year : {2026, 2027}) {
    for (auto [m, d] : {std::pair{1, 1},
                        {5, 1},
                        {10, 1},
                        {10, 2},
                        {11, 2},
                        {12, 8},
                        {12, 20},
                        {12, 24},
                        {12, 25}}) {
      EXPECT_TRUE(cal->IsHoliday(*CivilDate::FromYmd(year, m, d)))
          << year << "-" << m << "-" << d;
    }
  }
  // Lunar New Year 2026 (Tue-Thu): submitted Friday 13 Feb, 3 working days:
  // Mon 16, then 17-19 off, Fri 20, Mon 23.
  CivilDate from = *CivilDate::Parse("2026-02-13");
  EXPECT_EQ(DueDate(from, 3, *cal)->ToString(), "2026-02-23");
  // Easter and Cheng Ming 2026: Fri 3 - Tue 7 April closed.
  EXPECT_EQ(DueDate(*CivilDate::Parse("2026-04-02"), 1, *cal)->ToString(),
            "2026-04-08");
  // A case submitted at 23:30 local time on Thursday 2026-12-17 counts from
  // that local day: 1 working day later is Fri 18; 2 -> Wed 23 (20 Sun,
  // 21 compensatory, 22 solstice).
  const int64_t submitted = 1797521400000;  // 2026-12-17T15:30:00Z
  CivilDate local = LocalDate(submitted, *cal);
  EXPECT_EQ(local.ToString(), "2026-12-17");
  EXPECT_EQ(DueDate(local, 2, *cal)->ToString(), "2026-12-23");
  EXPECT_EQ(EndOfLocalDate(*CivilDate::Parse("2026-12-23"), *cal),
            1798041600000);  // 2026-12-23T16:00:00Z
}

}  // namespace
}  // namespace onewindow::manifest
