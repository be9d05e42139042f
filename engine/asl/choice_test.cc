// Tests for Choice rule evaluation, every comparison operator and its
// ...Path form, the type tests, And/Or/Not, error cases and RFC 3339
// timestamps. kAwsCases replays the recorded AWS behaviour of the
// aws-choice-* conformance cases (one Choice rule each).
#include <string>

#include "engine/asl/errors.h"
#include "engine/asl/expr.h"
#include "gtest/gtest.h"

namespace onewindow::asl {
namespace {

struct AwsCase {
  const char* name;
  const char* rule;
  const char* input;
  bool expected;
};

// Generated from /work/shared/conformance/cases/aws-choice-*: the rule of
// the Choice state, the execution input, and whether AWS took the rule.
// clang-format off
constexpr AwsCase kAwsCases[] = {
    {"booleanequals-00", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":true}", "{\"Variable\":null,\"Value\":true}", false},
    {"booleanequals-04", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":true}", "{\"Variable\":0.0,\"Value\":true}", false},
    {"booleanequals-05", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":false}", "{\"Variable\":0.0,\"Value\":false}", false},
    {"booleanequals-06", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":true}", "{\"Variable\":1,\"Value\":true}", false},
    {"booleanequals-10", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":true}", "{\"Variable\":\"\",\"Value\":true}", false},
    {"booleanequals-11", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":false}", "{\"Variable\":\"\",\"Value\":false}", false},
    {"booleanequals-12", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":true}", "{\"Variable\":\" \",\"Value\":true}", false},
    {"booleanequals-14", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":true}", "{\"Variable\":\"HelloWorld\",\"Value\":true}", false},
    {"booleanequals-15", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":false}", "{\"Variable\":\"HelloWorld\",\"Value\":false}", false},
    {"booleanequals-16", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":true}", "{\"Variable\":\"2012-10-09T19:00:55\",\"Value\":true}", false},
    {"booleanequals-19", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":false}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":false}", false},
    {"booleanequals-20", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":true}", "{\"Variable\":\"2012-10-09T19:00:55+01:00\",\"Value\":true}", false},
    {"booleanequals-21", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":false}", "{\"Variable\":\"2012-10-09T19:00:55+01:00\",\"Value\":false}", false},
    {"booleanequals-23", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":false}", "{\"Variable\":\"2023-02-24\",\"Value\":false}", false},
    {"booleanequals-27", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":false}", "{\"Variable\":[\"\"],\"Value\":false}", false},
    {"booleanequals-28", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":true}", "{\"Variable\":{},\"Value\":true}", false},
    {"booleanequals-30", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":true}", "{\"Variable\":{\"A\":0},\"Value\":true}", false},
    {"booleanequals-35", "{\"Variable\":\"$.Variable\",\"BooleanEquals\":false}", "{\"Variable\":false,\"Value\":false}", true},
    {"booleanequalspath-01", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":null,\"Value\":false}", false},
    {"booleanequalspath-03", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":0,\"Value\":false}", false},
    {"booleanequalspath-04", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":0.0,\"Value\":true}", false},
    {"booleanequalspath-05", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":0.0,\"Value\":false}", false},
    {"booleanequalspath-06", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":1,\"Value\":true}", false},
    {"booleanequalspath-08", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":1.1,\"Value\":true}", false},
    {"booleanequalspath-09", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":1.1,\"Value\":false}", false},
    {"booleanequalspath-10", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":\"\",\"Value\":true}", false},
    {"booleanequalspath-14", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":\"HelloWorld\",\"Value\":true}", false},
    {"booleanequalspath-15", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":\"HelloWorld\",\"Value\":false}", false},
    {"booleanequalspath-16", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":\"2012-10-09T19:00:55\",\"Value\":true}", false},
    {"booleanequalspath-20", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":\"2012-10-09T19:00:55+01:00\",\"Value\":true}", false},
    {"booleanequalspath-22", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":\"2023-02-24\",\"Value\":true}", false},
    {"booleanequalspath-24", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":[],\"Value\":true}", false},
    {"booleanequalspath-25", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":[],\"Value\":false}", false},
    {"booleanequalspath-27", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":[\"\"],\"Value\":false}", false},
    {"booleanequalspath-30", "{\"Variable\":\"$.Variable\",\"BooleanEqualsPath\":\"$.Value\"}", "{\"Variable\":{\"A\":0},\"Value\":true}", false},
    {"isboolean-00", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":null,\"Value\":true}", false},
    {"isboolean-02", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":0,\"Value\":true}", false},
    {"isboolean-04", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":0.0,\"Value\":true}", false},
    {"isboolean-07", "{\"Variable\":\"$.Variable\",\"IsBoolean\":false}", "{\"Variable\":1,\"Value\":false}", true},
    {"isboolean-08", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":1.1,\"Value\":true}", false},
    {"isboolean-14", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":\"HelloWorld\",\"Value\":true}", false},
    {"isboolean-16", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":\"2012-10-09T19:00:55\",\"Value\":true}", false},
    {"isboolean-18", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":true}", false},
    {"isboolean-20", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":\"2012-10-09T19:00:55+01:00\",\"Value\":true}", false},
    {"isboolean-21", "{\"Variable\":\"$.Variable\",\"IsBoolean\":false}", "{\"Variable\":\"2012-10-09T19:00:55+01:00\",\"Value\":false}", true},
    {"isboolean-23", "{\"Variable\":\"$.Variable\",\"IsBoolean\":false}", "{\"Variable\":\"2023-02-24\",\"Value\":false}", true},
    {"isboolean-24", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":[],\"Value\":true}", false},
    {"isboolean-25", "{\"Variable\":\"$.Variable\",\"IsBoolean\":false}", "{\"Variable\":[],\"Value\":false}", true},
    {"isboolean-26", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":[\"\"],\"Value\":true}", false},
    {"isboolean-28", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":{},\"Value\":true}", false},
    {"isboolean-29", "{\"Variable\":\"$.Variable\",\"IsBoolean\":false}", "{\"Variable\":{},\"Value\":false}", true},
    {"isboolean-30", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":{\"A\":0},\"Value\":true}", false},
    {"isboolean-33", "{\"Variable\":\"$.Variable\",\"IsBoolean\":true}", "{\"Variable\":false,\"Value\":true}", true},
    {"isnull-00", "{\"Variable\":\"$.Variable\",\"IsNull\":true}", "{\"Variable\":null,\"Value\":true}", true},
    {"isnull-03", "{\"Variable\":\"$.Variable\",\"IsNull\":false}", "{\"Variable\":0,\"Value\":false}", true},
    {"isnull-05", "{\"Variable\":\"$.Variable\",\"IsNull\":false}", "{\"Variable\":0.0,\"Value\":false}", true},
    {"isnull-07", "{\"Variable\":\"$.Variable\",\"IsNull\":false}", "{\"Variable\":1,\"Value\":false}", true},
    {"isnull-08", "{\"Variable\":\"$.Variable\",\"IsNull\":true}", "{\"Variable\":1.1,\"Value\":true}", false},
    {"isnull-09", "{\"Variable\":\"$.Variable\",\"IsNull\":false}", "{\"Variable\":1.1,\"Value\":false}", true},
    {"isnull-14", "{\"Variable\":\"$.Variable\",\"IsNull\":true}", "{\"Variable\":\"HelloWorld\",\"Value\":true}", false},
    {"isnull-16", "{\"Variable\":\"$.Variable\",\"IsNull\":true}", "{\"Variable\":\"2012-10-09T19:00:55\",\"Value\":true}", false},
    {"isnull-19", "{\"Variable\":\"$.Variable\",\"IsNull\":false}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":false}", true},
    {"isnull-21", "{\"Variable\":\"$.Variable\",\"IsNull\":false}", "{\"Variable\":\"2012-10-09T19:00:55+01:00\",\"Value\":false}", true},
    {"isnull-22", "{\"Variable\":\"$.Variable\",\"IsNull\":true}", "{\"Variable\":\"2023-02-24\",\"Value\":true}", false},
    {"isnull-24", "{\"Variable\":\"$.Variable\",\"IsNull\":true}", "{\"Variable\":[],\"Value\":true}", false},
    {"isnull-25", "{\"Variable\":\"$.Variable\",\"IsNull\":false}", "{\"Variable\":[],\"Value\":false}", true},
    {"isnull-29", "{\"Variable\":\"$.Variable\",\"IsNull\":false}", "{\"Variable\":{},\"Value\":false}", true},
    {"isnull-30", "{\"Variable\":\"$.Variable\",\"IsNull\":true}", "{\"Variable\":{\"A\":0},\"Value\":true}", false},
    {"isnull-31", "{\"Variable\":\"$.Variable\",\"IsNull\":false}", "{\"Variable\":{\"A\":0},\"Value\":false}", true},
    {"isnull-33", "{\"Variable\":\"$.Variable\",\"IsNull\":true}", "{\"Variable\":false,\"Value\":true}", false},
    {"isnumeric-00", "{\"Variable\":\"$.Variable\",\"IsNumeric\":true}", "{\"Variable\":null,\"Value\":true}", false},
    {"isnumeric-01", "{\"Variable\":\"$.Variable\",\"IsNumeric\":false}", "{\"Variable\":null,\"Value\":false}", true},
    {"isnumeric-02", "{\"Variable\":\"$.Variable\",\"IsNumeric\":true}", "{\"Variable\":0,\"Value\":true}", true},
    {"isnumeric-03", "{\"Variable\":\"$.Variable\",\"IsNumeric\":false}", "{\"Variable\":0,\"Value\":false}", false},
    {"isnumeric-04", "{\"Variable\":\"$.Variable\",\"IsNumeric\":true}", "{\"Variable\":0.0,\"Value\":true}", true},
    {"isnumeric-05", "{\"Variable\":\"$.Variable\",\"IsNumeric\":false}", "{\"Variable\":0.0,\"Value\":false}", false},
    {"isnumeric-07", "{\"Variable\":\"$.Variable\",\"IsNumeric\":false}", "{\"Variable\":1,\"Value\":false}", false},
    {"isnumeric-08", "{\"Variable\":\"$.Variable\",\"IsNumeric\":true}", "{\"Variable\":1.1,\"Value\":true}", true},
    {"isnumeric-13", "{\"Variable\":\"$.Variable\",\"IsNumeric\":false}", "{\"Variable\":\" \",\"Value\":false}", true},
    {"isnumeric-14", "{\"Variable\":\"$.Variable\",\"IsNumeric\":true}", "{\"Variable\":\"HelloWorld\",\"Value\":true}", false},
    {"isnumeric-16", "{\"Variable\":\"$.Variable\",\"IsNumeric\":true}", "{\"Variable\":\"2012-10-09T19:00:55\",\"Value\":true}", false},
    {"isnumeric-17", "{\"Variable\":\"$.Variable\",\"IsNumeric\":false}", "{\"Variable\":\"2012-10-09T19:00:55\",\"Value\":false}", true},
    {"isnumeric-23", "{\"Variable\":\"$.Variable\",\"IsNumeric\":false}", "{\"Variable\":\"2023-02-24\",\"Value\":false}", true},
    {"isnumeric-25", "{\"Variable\":\"$.Variable\",\"IsNumeric\":false}", "{\"Variable\":[],\"Value\":false}", true},
    {"isnumeric-28", "{\"Variable\":\"$.Variable\",\"IsNumeric\":true}", "{\"Variable\":{},\"Value\":true}", false},
    {"isnumeric-29", "{\"Variable\":\"$.Variable\",\"IsNumeric\":false}", "{\"Variable\":{},\"Value\":false}", true},
    {"isnumeric-32", "{\"Variable\":\"$.Variable\",\"IsNumeric\":true}", "{\"Variable\":true,\"Value\":true}", false},
    {"isnumeric-33", "{\"Variable\":\"$.Variable\",\"IsNumeric\":true}", "{\"Variable\":false,\"Value\":true}", false},
    {"ispresent-00", "{\"Variable\":\"$.Variable\",\"IsPresent\":true}", "{\"Variable\":null,\"Value\":true}", true},
    {"ispresent-01", "{\"Variable\":\"$.Variable\",\"IsPresent\":false}", "{\"Variable\":null,\"Value\":false}", false},
    {"ispresent-08", "{\"Variable\":\"$.Variable\",\"IsPresent\":true}", "{\"Variable\":1.1,\"Value\":true}", true},
    {"ispresent-11", "{\"Variable\":\"$.Variable\",\"IsPresent\":false}", "{\"Variable\":\"\",\"Value\":false}", false},
    {"ispresent-12", "{\"Variable\":\"$.Variable\",\"IsPresent\":true}", "{\"Variable\":\" \",\"Value\":true}", true},
    {"ispresent-15", "{\"Variable\":\"$.Variable\",\"IsPresent\":false}", "{\"Variable\":\"HelloWorld\",\"Value\":false}", false},
    {"ispresent-17", "{\"Variable\":\"$.Variable\",\"IsPresent\":false}", "{\"Variable\":\"2012-10-09T19:00:55\",\"Value\":false}", false},
    {"ispresent-18", "{\"Variable\":\"$.Variable\",\"IsPresent\":true}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":true}", true},
    {"ispresent-24", "{\"Variable\":\"$.Variable\",\"IsPresent\":true}", "{\"Variable\":[],\"Value\":true}", true},
    {"ispresent-25", "{\"Variable\":\"$.Variable\",\"IsPresent\":false}", "{\"Variable\":[],\"Value\":false}", false},
    {"ispresent-26", "{\"Variable\":\"$.Variable\",\"IsPresent\":true}", "{\"Variable\":[\"\"],\"Value\":true}", true},
    {"ispresent-27", "{\"Variable\":\"$.Variable\",\"IsPresent\":false}", "{\"Variable\":[\"\"],\"Value\":false}", false},
    {"ispresent-28", "{\"Variable\":\"$.Variable\",\"IsPresent\":true}", "{\"Variable\":{},\"Value\":true}", true},
    {"ispresent-30", "{\"Variable\":\"$.Variable\",\"IsPresent\":true}", "{\"Variable\":{\"A\":0},\"Value\":true}", true},
    {"ispresent-32", "{\"Variable\":\"$.Variable\",\"IsPresent\":true}", "{\"Variable\":true,\"Value\":true}", true},
    {"ispresent-33", "{\"Variable\":\"$.Variable\",\"IsPresent\":true}", "{\"Variable\":false,\"Value\":true}", true},
    {"ispresent-35", "{\"Variable\":\"$.Variable\",\"IsPresent\":false}", "{\"Variable\":false,\"Value\":false}", false},
    {"isstring-01", "{\"Variable\":\"$.Variable\",\"IsString\":false}", "{\"Variable\":null,\"Value\":false}", true},
    {"isstring-06", "{\"Variable\":\"$.Variable\",\"IsString\":true}", "{\"Variable\":1,\"Value\":true}", false},
    {"isstring-07", "{\"Variable\":\"$.Variable\",\"IsString\":false}", "{\"Variable\":1,\"Value\":false}", true},
    {"isstring-08", "{\"Variable\":\"$.Variable\",\"IsString\":true}", "{\"Variable\":1.1,\"Value\":true}", false},
    {"isstring-09", "{\"Variable\":\"$.Variable\",\"IsString\":false}", "{\"Variable\":1.1,\"Value\":false}", true},
    {"isstring-12", "{\"Variable\":\"$.Variable\",\"IsString\":true}", "{\"Variable\":\" \",\"Value\":true}", true},
    {"isstring-14", "{\"Variable\":\"$.Variable\",\"IsString\":true}", "{\"Variable\":\"HelloWorld\",\"Value\":true}", true},
    {"isstring-15", "{\"Variable\":\"$.Variable\",\"IsString\":false}", "{\"Variable\":\"HelloWorld\",\"Value\":false}", false},
    {"isstring-16", "{\"Variable\":\"$.Variable\",\"IsString\":true}", "{\"Variable\":\"2012-10-09T19:00:55\",\"Value\":true}", true},
    {"isstring-20", "{\"Variable\":\"$.Variable\",\"IsString\":true}", "{\"Variable\":\"2012-10-09T19:00:55+01:00\",\"Value\":true}", true},
    {"isstring-22", "{\"Variable\":\"$.Variable\",\"IsString\":true}", "{\"Variable\":\"2023-02-24\",\"Value\":true}", true},
    {"isstring-23", "{\"Variable\":\"$.Variable\",\"IsString\":false}", "{\"Variable\":\"2023-02-24\",\"Value\":false}", false},
    {"isstring-25", "{\"Variable\":\"$.Variable\",\"IsString\":false}", "{\"Variable\":[],\"Value\":false}", true},
    {"isstring-26", "{\"Variable\":\"$.Variable\",\"IsString\":true}", "{\"Variable\":[\"\"],\"Value\":true}", false},
    {"isstring-28", "{\"Variable\":\"$.Variable\",\"IsString\":true}", "{\"Variable\":{},\"Value\":true}", false},
    {"isstring-29", "{\"Variable\":\"$.Variable\",\"IsString\":false}", "{\"Variable\":{},\"Value\":false}", true},
    {"isstring-30", "{\"Variable\":\"$.Variable\",\"IsString\":true}", "{\"Variable\":{\"A\":0},\"Value\":true}", false},
    {"isstring-35", "{\"Variable\":\"$.Variable\",\"IsString\":false}", "{\"Variable\":false,\"Value\":false}", true},
    {"numericequals-00", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0}", "{\"Variable\":null,\"Value\":0}", false},
    {"numericequals-03", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1.0}", "{\"Variable\":null,\"Value\":1.0}", false},
    {"numericequals-06", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1}", "{\"Variable\":0,\"Value\":1}", false},
    {"numericequals-08", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0}", "{\"Variable\":0.0,\"Value\":0}", true},
    {"numericequals-11", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1.0}", "{\"Variable\":0.0,\"Value\":1.0}", false},
    {"numericequals-13", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0.0}", "{\"Variable\":1,\"Value\":0.0}", false},
    {"numericequals-14", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1}", "{\"Variable\":1,\"Value\":1}", true},
    {"numericequals-15", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1.0}", "{\"Variable\":1,\"Value\":1.0}", true},
    {"numericequals-18", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1}", "{\"Variable\":1.1,\"Value\":1}", false},
    {"numericequals-20", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0}", "{\"Variable\":\"\",\"Value\":0}", false},
    {"numericequals-25", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0.0}", "{\"Variable\":\" \",\"Value\":0.0}", false},
    {"numericequals-26", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1}", "{\"Variable\":\" \",\"Value\":1}", false},
    {"numericequals-27", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1.0}", "{\"Variable\":\" \",\"Value\":1.0}", false},
    {"numericequals-28", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0}", "{\"Variable\":[],\"Value\":0}", false},
    {"numericequals-29", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0.0}", "{\"Variable\":[],\"Value\":0.0}", false},
    {"numericequals-30", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1}", "{\"Variable\":[],\"Value\":1}", false},
    {"numericequals-33", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0.0}", "{\"Variable\":[\"\"],\"Value\":0.0}", false},
    {"numericequals-35", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1.0}", "{\"Variable\":[\"\"],\"Value\":1.0}", false},
    {"numericequals-36", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0}", "{\"Variable\":{},\"Value\":0}", false},
    {"numericequals-37", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0.0}", "{\"Variable\":{},\"Value\":0.0}", false},
    {"numericequals-38", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1}", "{\"Variable\":{},\"Value\":1}", false},
    {"numericequals-39", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1.0}", "{\"Variable\":{},\"Value\":1.0}", false},
    {"numericequals-40", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0}", "{\"Variable\":{\"A\":0},\"Value\":0}", false},
    {"numericequals-43", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1.0}", "{\"Variable\":{\"A\":0},\"Value\":1.0}", false},
    {"numericequals-45", "{\"Variable\":\"$.Variable\",\"NumericEquals\":0.0}", "{\"Variable\":false,\"Value\":0.0}", false},
    {"numericequals-47", "{\"Variable\":\"$.Variable\",\"NumericEquals\":1.0}", "{\"Variable\":false,\"Value\":1.0}", false},
    {"numericequalspath-00", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":null,\"Value\":0}", false},
    {"numericequalspath-04", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":0,\"Value\":0}", true},
    {"numericequalspath-06", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":0,\"Value\":1}", false},
    {"numericequalspath-07", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":0,\"Value\":1.0}", false},
    {"numericequalspath-10", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":0.0,\"Value\":1}", false},
    {"numericequalspath-12", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":1,\"Value\":0}", false},
    {"numericequalspath-16", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":1.1,\"Value\":0}", false},
    {"numericequalspath-18", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":1.1,\"Value\":1}", false},
    {"numericequalspath-19", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":1.1,\"Value\":1.0}", false},
    {"numericequalspath-20", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":\"\",\"Value\":0}", false},
    {"numericequalspath-21", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":\"\",\"Value\":0.0}", false},
    {"numericequalspath-22", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":\"\",\"Value\":1}", false},
    {"numericequalspath-23", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":\"\",\"Value\":1.0}", false},
    {"numericequalspath-26", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":\" \",\"Value\":1}", false},
    {"numericequalspath-27", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":\" \",\"Value\":1.0}", false},
    {"numericequalspath-29", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":[],\"Value\":0.0}", false},
    {"numericequalspath-30", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":[],\"Value\":1}", false},
    {"numericequalspath-33", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":[\"\"],\"Value\":0.0}", false},
    {"numericequalspath-35", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":[\"\"],\"Value\":1.0}", false},
    {"numericequalspath-36", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":{},\"Value\":0}", false},
    {"numericequalspath-37", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":{},\"Value\":0.0}", false},
    {"numericequalspath-43", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":{\"A\":0},\"Value\":1.0}", false},
    {"numericequalspath-45", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":false,\"Value\":0.0}", false},
    {"numericequalspath-46", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":false,\"Value\":1}", false},
    {"numericequalspath-47", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":false,\"Value\":1.0}", false},
    {"numericequalspath-51", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":true,\"Value\":1.0}", false},
    {"numericequalspath-54", "{\"Variable\":\"$.Variable\",\"NumericEqualsPath\":\"$.Value\"}", "{\"Variable\":2.22,\"Value\":2.22}", true},
    {"numericgreaterthan-00", "{\"Variable\":\"$.Variable\",\"NumericGreaterThan\":0}", "{\"Variable\":0,\"Value\":0}", false},
    {"numericgreaterthan-03", "{\"Variable\":\"$.Variable\",\"NumericGreaterThan\":1}", "{\"Variable\":1,\"Value\":1}", false},
    {"numericgreaterthanequals-00", "{\"Variable\":\"$.Variable\",\"NumericGreaterThanEquals\":0}", "{\"Variable\":0,\"Value\":0}", true},
    {"numericgreaterthanequals-03", "{\"Variable\":\"$.Variable\",\"NumericGreaterThanEquals\":1}", "{\"Variable\":1,\"Value\":1}", true},
    {"numericgreaterthanequals-04", "{\"Variable\":\"$.Variable\",\"NumericGreaterThanEquals\":0}", "{\"Variable\":1,\"Value\":0}", true},
    {"numericgreaterthanequalspath-01", "{\"Variable\":\"$.Variable\",\"NumericGreaterThanEqualsPath\":\"$.Value\"}", "{\"Variable\":0.0,\"Value\":0}", true},
    {"numericgreaterthanequalspath-02", "{\"Variable\":\"$.Variable\",\"NumericGreaterThanEqualsPath\":\"$.Value\"}", "{\"Variable\":0,\"Value\":1}", false},
    {"numericgreaterthanpath-01", "{\"Variable\":\"$.Variable\",\"NumericGreaterThanPath\":\"$.Value\"}", "{\"Variable\":0.0,\"Value\":0}", false},
    {"numericgreaterthanpath-02", "{\"Variable\":\"$.Variable\",\"NumericGreaterThanPath\":\"$.Value\"}", "{\"Variable\":0,\"Value\":1}", false},
    {"numericgreaterthanpath-03", "{\"Variable\":\"$.Variable\",\"NumericGreaterThanPath\":\"$.Value\"}", "{\"Variable\":1,\"Value\":1}", false},
    {"numericlessthan-02", "{\"Variable\":\"$.Variable\",\"NumericLessThan\":1}", "{\"Variable\":0,\"Value\":1}", true},
    {"numericlessthan-04", "{\"Variable\":\"$.Variable\",\"NumericLessThan\":0}", "{\"Variable\":1,\"Value\":0}", false},
    {"numericlessthanequals-01", "{\"Variable\":\"$.Variable\",\"NumericLessThanEquals\":0}", "{\"Variable\":0.0,\"Value\":0}", true},
    {"numericlessthanequals-02", "{\"Variable\":\"$.Variable\",\"NumericLessThanEquals\":1}", "{\"Variable\":0,\"Value\":1}", true},
    {"numericlessthanequals-04", "{\"Variable\":\"$.Variable\",\"NumericLessThanEquals\":0}", "{\"Variable\":1,\"Value\":0}", false},
    {"numericlessthanequalspath-00", "{\"Variable\":\"$.Variable\",\"NumericLessThanEqualsPath\":\"$.Value\"}", "{\"Variable\":0,\"Value\":0}", true},
    {"numericlessthanequalspath-02", "{\"Variable\":\"$.Variable\",\"NumericLessThanEqualsPath\":\"$.Value\"}", "{\"Variable\":0,\"Value\":1}", true},
    {"numericlessthanpath-00", "{\"Variable\":\"$.Variable\",\"NumericLessThanPath\":\"$.Value\"}", "{\"Variable\":0,\"Value\":0}", false},
    {"numericlessthanpath-01", "{\"Variable\":\"$.Variable\",\"NumericLessThanPath\":\"$.Value\"}", "{\"Variable\":0.0,\"Value\":0}", false},
    {"numericlessthanpath-02", "{\"Variable\":\"$.Variable\",\"NumericLessThanPath\":\"$.Value\"}", "{\"Variable\":0,\"Value\":1}", true},
    {"stringequals-00", "{\"Variable\":\"$.Variable\",\"StringEquals\":\"HelloWorld\"}", "{\"Variable\":null,\"Value\":\"HelloWorld\"}", false},
    {"stringequals-02", "{\"Variable\":\"$.Variable\",\"StringEquals\":\"HelloWorld\"}", "{\"Variable\":0.0,\"Value\":\"HelloWorld\"}", false},
    {"stringequals-04", "{\"Variable\":\"$.Variable\",\"StringEquals\":\"HelloWorld\"}", "{\"Variable\":1.1,\"Value\":\"HelloWorld\"}", false},
    {"stringequals-06", "{\"Variable\":\"$.Variable\",\"StringEquals\":\"HelloWorld\"}", "{\"Variable\":\" \",\"Value\":\"HelloWorld\"}", false},
    {"stringequals-07", "{\"Variable\":\"$.Variable\",\"StringEquals\":\"HelloWorld\"}", "{\"Variable\":[],\"Value\":\"HelloWorld\"}", false},
    {"stringequals-08", "{\"Variable\":\"$.Variable\",\"StringEquals\":\"HelloWorld\"}", "{\"Variable\":[\"\"],\"Value\":\"HelloWorld\"}", false},
    {"stringequals-13", "{\"Variable\":\"$.Variable\",\"StringEquals\":\"     \"}", "{\"Variable\":\" \",\"Value\":\"     \"}", false},
    {"stringequals-15", "{\"Variable\":\"$.Variable\",\"StringEquals\":\"Hello\"}", "{\"Variable\":\"Hello\",\"Value\":\"Hello\"}", true},
    {"stringequalspath-00", "{\"Variable\":\"$.Variable\",\"StringEqualsPath\":\"$.Value\"}", "{\"Variable\":\" \",\"Value\":\"     \"}", false},
    {"stringgreaterthan-00", "{\"Variable\":\"$.Variable\",\"StringGreaterThan\":\"\"}", "{\"Variable\":\"\",\"Value\":\"\"}", false},
    {"stringgreaterthan-02", "{\"Variable\":\"$.Variable\",\"StringGreaterThan\":\"A\\t\\n\\r\"}", "{\"Variable\":\"A\",\"Value\":\"A\\t\\n\\r\"}", false},
    {"stringgreaterthanequals-00", "{\"Variable\":\"$.Variable\",\"StringGreaterThanEquals\":\"\"}", "{\"Variable\":\"\",\"Value\":\"\"}", true},
    {"stringgreaterthanequals-02", "{\"Variable\":\"$.Variable\",\"StringGreaterThanEquals\":\"A\"}", "{\"Variable\":\"AB\",\"Value\":\"A\"}", true},
    {"stringgreaterthanequalspath-00", "{\"Variable\":\"$.Variable\",\"StringGreaterThanEqualsPath\":\"$.Value\"}", "{\"Variable\":\"\",\"Value\":\"\"}", true},
    {"stringgreaterthanpath-00", "{\"Variable\":\"$.Variable\",\"StringGreaterThanPath\":\"$.Value\"}", "{\"Variable\":\"\",\"Value\":\"\"}", false},
    {"stringgreaterthanpath-01", "{\"Variable\":\"$.Variable\",\"StringGreaterThanPath\":\"$.Value\"}", "{\"Variable\":\"A\",\"Value\":\"A \"}", false},
    {"stringlessthan-00", "{\"Variable\":\"$.Variable\",\"StringLessThan\":\"\"}", "{\"Variable\":\"\",\"Value\":\"\"}", false},
    {"stringlessthan-01", "{\"Variable\":\"$.Variable\",\"StringLessThan\":\"AB\"}", "{\"Variable\":\"A\",\"Value\":\"AB\"}", true},
    {"stringlessthanequals-02", "{\"Variable\":\"$.Variable\",\"StringLessThanEquals\":\"A\"}", "{\"Variable\":\"AB\",\"Value\":\"A\"}", false},
    {"stringlessthanequalspath-00", "{\"Variable\":\"$.Variable\",\"StringLessThanEqualsPath\":\"$.Value\"}", "{\"Variable\":\"\",\"Value\":\"\"}", true},
    {"stringlessthanequalspath-01", "{\"Variable\":\"$.Variable\",\"StringLessThanEqualsPath\":\"$.Value\"}", "{\"Variable\":\"A\",\"Value\":\"AB\"}", true},
    {"stringlessthanpath-01", "{\"Variable\":\"$.Variable\",\"StringLessThanPath\":\"$.Value\"}", "{\"Variable\":\"A\",\"Value\":\"AB\"}", true},
    {"timestampequals-03", "{\"Variable\":\"$.Variable\",\"TimestampEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":1,\"Value\":\"2012-10-09T19:00:55Z\"}", false},
    {"timestampequals-05", "{\"Variable\":\"$.Variable\",\"TimestampEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":\"\",\"Value\":\"2012-10-09T19:00:55Z\"}", false},
    {"timestampequals-07", "{\"Variable\":\"$.Variable\",\"TimestampEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":\"2023-02-24 12:15:56.832957\",\"Value\":\"2012-10-09T19:00:55Z\"}", false},
    {"timestampequals-08", "{\"Variable\":\"$.Variable\",\"TimestampEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":[],\"Value\":\"2012-10-09T19:00:55Z\"}", false},
    {"timestampequals-09", "{\"Variable\":\"$.Variable\",\"TimestampEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":[\"\"],\"Value\":\"2012-10-09T19:00:55Z\"}", false},
    {"timestampequals-11", "{\"Variable\":\"$.Variable\",\"TimestampEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":{\"A\":0},\"Value\":\"2012-10-09T19:00:55Z\"}", false},
    {"timestampequals-13", "{\"Variable\":\"$.Variable\",\"TimestampEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":true,\"Value\":\"2012-10-09T19:00:55Z\"}", false},
    {"timestampequals-14", "{\"Variable\":\"$.Variable\",\"TimestampEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":\"2012-10-09T19:00:55Z\"}", true},
    {"timestampequals-15", "{\"Variable\":\"$.Variable\",\"TimestampEquals\":\"2012-10-09T19:00:56Z\"}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":\"2012-10-09T19:00:56Z\"}", false},
    {"timestampequalspath-01", "{\"Variable\":\"$.Variable\",\"TimestampEqualsPath\":\"$.Value\"}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":\"2012-10-09T19:00:56Z\"}", false},
    {"timestampgreaterthan-00", "{\"Variable\":\"$.Variable\",\"TimestampGreaterThan\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":\"2012-10-09T19:00:55Z\"}", false},
    {"timestampgreaterthan-01", "{\"Variable\":\"$.Variable\",\"TimestampGreaterThan\":\"2012-10-09T19:00:56Z\"}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":\"2012-10-09T19:00:56Z\"}", false},
    {"timestampgreaterthanequals-00", "{\"Variable\":\"$.Variable\",\"TimestampGreaterThanEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":\"2012-10-09T19:00:55Z\"}", true},
    {"timestampgreaterthanequals-02", "{\"Variable\":\"$.Variable\",\"TimestampGreaterThanEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":\"2012-10-09T19:00:56Z\",\"Value\":\"2012-10-09T19:00:55Z\"}", true},
    {"timestamplessthan-00", "{\"Variable\":\"$.Variable\",\"TimestampLessThan\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":\"2012-10-09T19:00:55Z\"}", false},
    {"timestamplessthan-02", "{\"Variable\":\"$.Variable\",\"TimestampLessThan\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":\"2012-10-09T19:00:56Z\",\"Value\":\"2012-10-09T19:00:55Z\"}", false},
    {"timestamplessthanequals-00", "{\"Variable\":\"$.Variable\",\"TimestampLessThanEquals\":\"2012-10-09T19:00:55Z\"}", "{\"Variable\":\"2012-10-09T19:00:55Z\",\"Value\":\"2012-10-09T19:00:55Z\"}", true},
    {"timestamplessthanequalspath-00", "{\"Variable\":\"$.Variable\",\"TimestampLessThanEqualsPath\":\"$.Value\"}", "{\"Variable\":\"2012-10-09T19:00:56Z\",\"Value\":\"2012-10-09T19:00:55Z\"}", false},
};
// clang-format on

TEST(ChoiceAwsTest, RecordedOutcomes) {
  for (const AwsCase& c : kAwsCases) {
    auto r =
        EvalChoiceRule(Json::parse(c.rule), Json::parse(c.input), EvalEnv{});
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.status();
    EXPECT_EQ(*r, c.expected)
        << "aws-choice-" << c.name << ": " << c.rule << " on " << c.input;
  }
}

bool Eval(const std::string& rule, const Json& input) {
  auto r = EvalChoiceRule(Json::parse(rule), input, EvalEnv{});
  EXPECT_TRUE(r.ok()) << rule << ": " << r.status();
  return r.ok() && *r;
}

// Evaluates `op` comparing $.v against `operand`, and the ...Path form
// comparing $.v against $.w = operand; both must agree.
bool Compare(const std::string& op, const Json& value, const Json& operand) {
  Json rule = {{"Variable", "$.v"}, {op, operand}};
  Json input = {{"v", value}, {"w", operand}};
  auto direct = EvalChoiceRule(rule, input, EvalEnv{});
  Json path_rule = {{"Variable", "$.v"}, {op + "Path", "$.w"}};
  auto via_path = EvalChoiceRule(path_rule, input, EvalEnv{});
  EXPECT_TRUE(direct.ok()) << op << ": " << direct.status();
  EXPECT_TRUE(via_path.ok()) << op << "Path: " << via_path.status();
  if (!direct.ok() || !via_path.ok()) return false;
  EXPECT_EQ(*direct, *via_path) << op << " " << value << " " << operand;
  return *direct;
}

TEST(ChoiceStringTest, Operators) {
  EXPECT_TRUE(Compare("StringEquals", "hello", "hello"));
  EXPECT_FALSE(Compare("StringEquals", "hello", "hello, world"));
  EXPECT_FALSE(Compare("StringEquals", 1, "1"));
  EXPECT_TRUE(Compare("StringLessThan", "a", "b"));
  EXPECT_FALSE(Compare("StringLessThan", "a", "a"));
  EXPECT_TRUE(Compare("StringLessThan", "A", "AB"));
  EXPECT_TRUE(Compare("StringGreaterThan", "b", "a"));
  EXPECT_FALSE(Compare("StringGreaterThan", "a", "a"));
  EXPECT_FALSE(Compare("StringGreaterThan", "A", "A\t\n\r"));
  EXPECT_TRUE(Compare("StringLessThanEquals", "a", "a"));
  EXPECT_TRUE(Compare("StringLessThanEquals", "a", "b"));
  EXPECT_FALSE(Compare("StringLessThanEquals", "c", "b"));
  EXPECT_TRUE(Compare("StringGreaterThanEquals", "c", "b"));
  EXPECT_TRUE(Compare("StringGreaterThanEquals", "", ""));
  EXPECT_FALSE(Compare("StringGreaterThanEquals", "a", "b"));
  EXPECT_FALSE(Compare("StringGreaterThanEquals", nullptr, ""));
}

TEST(ChoiceStringMatchesTest, Wildcards) {
  auto matches = [](const Json& value, const std::string& pattern) {
    Json rule = {{"Variable", "$.v"}, {"StringMatches", pattern}};
    auto r = EvalChoiceRule(rule, Json{{"v", value}}, EvalEnv{});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && *r;
  };
  EXPECT_TRUE(matches("foo23.log", "foo*.log"));
  EXPECT_TRUE(matches("zebra.log", "*.log"));
  EXPECT_TRUE(matches("foobar.zebra", "foo*.*"));
  EXPECT_FALSE(matches("foo", "foobar"));
  EXPECT_TRUE(matches("foobar", "foobar"));
  EXPECT_TRUE(matches("", "*"));
  EXPECT_TRUE(matches("abc", "a**c"));
  EXPECT_FALSE(matches("abc", "a*d"));
  EXPECT_TRUE(matches("log-*", "log-\\*"));
  EXPECT_FALSE(matches("log-x", "log-\\*"));
  EXPECT_TRUE(matches("a\\b", "a\\\\b"));
  EXPECT_TRUE(matches("mississippi", "*sip*"));
  EXPECT_FALSE(matches(12, "*"));
}

TEST(ChoiceNumericTest, Operators) {
  EXPECT_TRUE(Compare("NumericEquals", 1, 1.0));
  EXPECT_TRUE(Compare("NumericEquals", 0.0, 0));
  EXPECT_FALSE(Compare("NumericEquals", 1.1, 1));
  EXPECT_FALSE(Compare("NumericEquals", "1", 1));
  EXPECT_FALSE(Compare("NumericEquals", true, 1));
  EXPECT_TRUE(Compare("NumericEquals", 9007199254740993, 9007199254740993));
  EXPECT_FALSE(Compare("NumericEquals", 9007199254740993, 9007199254740992));
  EXPECT_TRUE(Compare("NumericLessThan", 100, 150));
  EXPECT_FALSE(Compare("NumericLessThan", 150, 150));
  EXPECT_TRUE(Compare("NumericLessThan", -1, 18446744073709551615ULL));
  EXPECT_TRUE(Compare("NumericGreaterThan", 200, 150));
  EXPECT_FALSE(Compare("NumericGreaterThan", 150, 150));
  EXPECT_TRUE(Compare("NumericGreaterThan", 1.5, 1));
  EXPECT_TRUE(Compare("NumericLessThanEquals", 150, 150));
  EXPECT_FALSE(Compare("NumericLessThanEquals", 200, 150));
  EXPECT_TRUE(Compare("NumericGreaterThanEquals", 150, 150));
  EXPECT_FALSE(Compare("NumericGreaterThanEquals", 100, 150));
  EXPECT_FALSE(Compare("NumericGreaterThanEquals", nullptr, 0));
}

TEST(ChoiceBooleanTest, Operators) {
  EXPECT_TRUE(Compare("BooleanEquals", true, true));
  EXPECT_TRUE(Compare("BooleanEquals", false, false));
  EXPECT_FALSE(Compare("BooleanEquals", false, true));
  EXPECT_FALSE(Compare("BooleanEquals", 0, false));
  EXPECT_FALSE(Compare("BooleanEquals", "true", true));
}

TEST(ChoiceTimestampTest, Operators) {
  const char* t1 = "2020-01-01T15:00:00Z";
  const char* t2 = "2020-12-12T15:00:00Z";
  EXPECT_TRUE(Compare("TimestampEquals", t1, t1));
  EXPECT_FALSE(Compare("TimestampEquals", t2, t1));
  // Same instant written with another offset and with a fraction.
  EXPECT_TRUE(Compare("TimestampEquals", "2020-01-01T16:00:00+01:00", t1));
  EXPECT_TRUE(Compare("TimestampEquals", "2020-01-01T15:00:00.000Z", t1));
  EXPECT_TRUE(Compare("TimestampLessThan", t1, t2));
  EXPECT_FALSE(Compare("TimestampLessThan", t1, t1));
  EXPECT_TRUE(Compare("TimestampLessThan", "2020-01-01T15:00:00.1Z",
                      "2020-01-01T15:00:00.100000001Z"));
  EXPECT_TRUE(Compare("TimestampGreaterThan", t2, t1));
  EXPECT_FALSE(Compare("TimestampGreaterThan", t1, t1));
  EXPECT_TRUE(Compare("TimestampLessThanEquals", t1, t1));
  EXPECT_FALSE(Compare("TimestampLessThanEquals", t2, t1));
  EXPECT_TRUE(Compare("TimestampGreaterThanEquals", t1, t1));
  EXPECT_FALSE(
      Compare("TimestampGreaterThanEquals", "2019-12-31T15:00:00Z", t1));
  // Not a timestamp: false, not an error.
  EXPECT_FALSE(Compare("TimestampEquals", "2023-02-24 12:15:56.832957", t1));
  EXPECT_FALSE(Compare("TimestampEquals", 1, t1));
  EXPECT_FALSE(Compare("TimestampLessThan", "2012-10-09T19:00:55", t1));
}

TEST(ChoiceTypeTest, IsTests) {
  Json input = Json::parse(
      R"({"n": null, "i": 1, "f": 1.5, "s": "x", "b": false, "a": [], "o": {},
          "t": "2020-01-01T15:00:00Z", "bad_t": "2020-01-01 15:00:00Z"})");
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "IsNull": true})", input));
  EXPECT_FALSE(Eval(R"({"Variable": "$.i", "IsNull": true})", input));
  EXPECT_TRUE(Eval(R"({"Variable": "$.a", "IsNull": false})", input));
  EXPECT_TRUE(Eval(R"({"Variable": "$.i", "IsNumeric": true})", input));
  EXPECT_TRUE(Eval(R"({"Variable": "$.f", "IsNumeric": true})", input));
  EXPECT_FALSE(Eval(R"({"Variable": "$.b", "IsNumeric": true})", input));
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "IsNumeric": false})", input));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "IsString": true})", input));
  EXPECT_FALSE(Eval(R"({"Variable": "$.o", "IsString": true})", input));
  EXPECT_TRUE(Eval(R"({"Variable": "$.b", "IsBoolean": true})", input));
  EXPECT_FALSE(Eval(R"({"Variable": "$.i", "IsBoolean": true})", input));
  EXPECT_TRUE(Eval(R"({"Variable": "$.t", "IsTimestamp": true})", input));
  EXPECT_FALSE(Eval(R"({"Variable": "$.bad_t", "IsTimestamp": true})", input));
  EXPECT_FALSE(Eval(R"({"Variable": "$.i", "IsTimestamp": true})", input));
  EXPECT_TRUE(Eval(R"({"Variable": "$.s", "IsTimestamp": false})", input));
}

TEST(ChoiceTypeTest, IsPresent) {
  Json input = Json::parse(R"({"a": {}, "n": null})");
  EXPECT_TRUE(Eval(R"({"Variable": "$.n", "IsPresent": true})", input));
  EXPECT_TRUE(Eval(R"({"Variable": "$.a", "IsPresent": true})", input));
  EXPECT_FALSE(Eval(R"({"Variable": "$.x", "IsPresent": true})", input));
  // choice-ispresent-missing-path
  EXPECT_TRUE(Eval(R"({"Variable": "$.a.b.c", "IsPresent": false})", input));
}

TEST(ChoiceLogicTest, AndOrNot) {
  Json input = Json::parse(R"({"n": 25, "s": "b", "dept": "dsf",
                               "amount": 500, "urgent": true})");
  // choice-and-false
  EXPECT_FALSE(
      Eval(R"({"And": [{"Variable": "$.n", "NumericGreaterThanEquals": 10},
                                {"Variable": "$.n", "NumericLessThan": 20}]})",
           input));
  EXPECT_TRUE(
      Eval(R"({"And": [{"Variable": "$.n", "NumericGreaterThanEquals": 20},
                               {"Variable": "$.n", "NumericLessThan": 30}]})",
           input));
  // choice-or
  EXPECT_TRUE(Eval(R"({"Or": [{"Variable": "$.s", "StringEquals": "a"},
                              {"Variable": "$.s", "StringEquals": "b"}]})",
                   input));
  EXPECT_FALSE(
      Eval(R"({"Or": [{"Variable": "$.s", "StringEquals": "a"}]})", input));
  // choice-not
  EXPECT_TRUE(
      Eval(R"({"Not": {"Variable": "$.s", "StringEquals": "a"}})", input));
  // choice-nested-boolean
  EXPECT_TRUE(Eval(R"({"And": [{"Variable": "$.dept", "IsPresent": true},
      {"Or": [{"Variable": "$.amount", "NumericLessThan": 100},
              {"Not": {"Variable": "$.urgent", "BooleanEquals": false}}]}]})",
                   input));
  // Short-circuit: the missing path after a false And member is not read.
  EXPECT_FALSE(Eval(R"({"And": [{"Variable": "$.s", "StringEquals": "z"},
                                {"Variable": "$.missing", "StringEquals": "z"}]})",
                    input));
}

TEST(ChoiceContextTest, ContextVariable) {
  Json context = Json::parse(R"({"Execution": {"Name": "run-1"}})");
  EvalEnv env;
  env.context = &context;
  auto r = EvalChoiceRule(
      Json::parse(
          R"({"Variable": "$$.Execution.Name", "StringEquals": "run-1"})"),
      Json::object(), env);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(*r);
}

TEST(ChoiceErrorTest, MissingVariableIsRuntimeError) {
  Json input = Json::parse(R"({"a": 1})");
  for (const char* rule :
       {R"({"Variable": "$.x", "NumericEquals": 1})",
        R"({"Variable": "$.x", "IsNull": true})",
        R"({"Variable": "$.a", "NumericEqualsPath": "$.x"})",
        R"({"Not": {"Variable": "$.x", "StringEquals": "a"}})"}) {
    auto r = EvalChoiceRule(Json::parse(rule), input, EvalEnv{});
    ASSERT_FALSE(r.ok()) << rule;
    EXPECT_EQ(AslErrorName(r.status()), kStatesRuntime) << rule;
  }
  auto r = EvalChoiceRule(Json::parse(R"({"Variable": "$.x", "IsNull": true})"),
                          input, EvalEnv{});
  EXPECT_EQ(AslErrorCause(r.status()),
            "Invalid path '$.x': The choice state's condition path references "
            "an invalid value.");
}

TEST(ChoiceErrorTest, MalformedRules) {
  Json input = Json::parse(R"({"a": 1})");
  for (const char* rule :
       {R"({"Variable": "$.a"})", R"({"Variable": "$.a", "Bogus": 1})",
        R"({"Variable": 5, "NumericEquals": 1})",
        R"({"Variable": "$.a", "IsNull": "yes"})",
        R"({"Variable": "$.a", "NumericEqualsPath": 3})", R"({"And": []})",
        R"({"Or": {}})", R"({})", R"([])",
        R"({"Variable": "not a path", "IsPresent": true})"}) {
    auto r = EvalChoiceRule(Json::parse(rule), input, EvalEnv{});
    ASSERT_FALSE(r.ok()) << rule;
    EXPECT_EQ(AslErrorName(r.status()), kStatesRuntime) << rule;
  }
}

TEST(TimestampTest, Valid) {
  for (const char* t :
       {"2020-01-01T15:00:00Z", "2012-10-09T19:00:55+01:00",
        "2016-03-14T01:59:00.123Z", "2016-03-14T01:59:00.123456789-08:30",
        "2020-02-29T00:00:00Z", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.9999999999Z"}) {
    EXPECT_TRUE(IsTimestamp(t)) << t;
  }
}

TEST(TimestampTest, Invalid) {
  for (const char* t :
       {"", "2020-01-01", "2012-10-09T19:00:55", "2020-01-01 15:00:00Z",
        "2020-01-01t15:00:00Z", "2020-01-01T15:00:00z", "05-12-2016T21:29:29Z",
        "2023-02-24 12:15:56.832957", "2021-02-29T00:00:00Z",
        "2020-13-01T00:00:00Z", "2020-01-01T24:00:00Z", "2020-01-01T15:60:00Z",
        "2020-01-01T15:00:60Z", "2020-01-01T15:00:00.Z",
        "2020-01-01T15:00:00+0100", "2020-01-01T15:00:00+01:00x",
        "2020-1-01T15:00:00Z"}) {
    EXPECT_FALSE(IsTimestamp(t)) << t;
  }
}

TEST(TimestampTest, ParseMs) {
  auto ms = ParseTimestampMs("1970-01-01T00:00:00Z");
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(*ms, 0);
  ms = ParseTimestampMs("2016-12-05T21:29:29.123Z");
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(*ms, 1480973369123);
  ms = ParseTimestampMs("2016-12-05T22:29:29.1239+01:00");
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(*ms, 1480973369123);
  ms = ParseTimestampMs("1969-12-31T23:59:59Z");
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(*ms, -1000);
  // aws-scen-wait-timestamp-path-no-z / -invalid-iso
  EXPECT_EQ(AslErrorName(ParseTimestampMs("2016-12-05T21:29:29").status()),
            kStatesRuntime);
  EXPECT_EQ(AslErrorName(ParseTimestampMs("05-12-2016T21:29:29Z").status()),
            kStatesRuntime);
}

TEST(TimestampTest, Ordering) {
  auto a = ParseTimestamp("2020-01-01T00:00:00.000000001Z");
  auto b = ParseTimestamp("2020-01-01T00:00:00Z");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GT(*a, *b);
  EXPECT_EQ(a->nanos, 1);
}

}  // namespace
}  // namespace onewindow::asl
