// The JSONata expressions of the shared Step Functions conformance cases
// (conformance-jsonata/cases/*/definition.json), evaluated in isolation
// with the $states and variables those cases give them, and the results
// that AWS recorded for them.
#include "engine/asl/jsonata/step_functions.h"
#include "engine/asl/jsonata/test_util.h"

namespace onewindow::asl::jsonata::testing {
namespace {

// Every {% ... %} expression that appears in the cases.
const char* const kCaseExpressions[] = {
    " $ItemsVar ",
    " $contains(\"hello$world\", /^hello\\\\ /) ",
    " $contains(\"hello$world\", /^hello\\\\$/) ",
    " $contains('hello$world', /^hello\\\\ /) ",
    " $contains('hello$world', /^hello\\\\$/) ",
    " $doesNotExist ",
    " $fn := function($x){$x} ",
    " $not($states.input.result.done) ",
    " $number(\"2\") ",
    " $parse($states.input.FunctionInput) ",
    " $partition($states.input.FunctionInput.fst, "
    "$states.input.FunctionInput.snd) ",
    " $range($states.input.FunctionInput.fst, $states.input.FunctionInput.snd, "
    "$states.input.FunctionInput.trd) ",
    " $states.input ",
    " $states.input = '\"' ",
    " $states.input.TimestampValue ",
    " $states.input.input_value ",
    " $states.input.items ",
    " $states.input.result.done ",
    " $states.input.str_value = \"string literal\" ",
    " $theAnswer ",
    " $variable := 1 ",
    " $varname ",
    " $varname.varfield ",
    " 1 ",
    " [0] ",
    " null ",
    " states.input ",
    " true ",
};

TEST(ConformanceTest, EveryCaseExpressionCompiles) {
  for (const char* text : kCaseExpressions) {
    auto e = Compile(text);
    EXPECT_TRUE(e.ok()) << text << ": " << e.status();
  }
}

// Evaluates `expr` with $states.input = `input` and the Step Functions
// functions, as a JSONata state would.
std::string State(std::string_view expr, const Json& input,
                  Bindings bindings = Bindings()) {
  static const FunctionTable* table = [] {
    auto* t = new FunctionTable();
    EXPECT_TRUE(AddStepFunctionsFunctions(t).ok());
    return t;
  }();
  Json states = {{"input", input},
                 {"context", {{"Execution", {{"Id", "arn:exec"}}}}}};
  bindings.Set("states", states);
  bindings.functions = table;
  return EvalShow(expr, nullptr, bindings);
}

TEST(ConformanceTest, RegularExpressionsWithEscapedDollar) {
  // evaljsonata-regex-base*: the JSON text "\\$" is the regex \$.
  EXPECT_EQ(State(" $contains(\"hello$world\", /^hello\\$/) ", Json::object()),
            "true");
  EXPECT_EQ(State(" $contains(\"hello$world\", /^hello\\ /) ", Json::object()),
            "false");
  EXPECT_EQ(State(" $contains('hello$world', /^hello\\$/) ", Json::object()),
            "true");
  EXPECT_EQ(State(" $contains('hello$world', /^hello\\ /) ", Json::object()),
            "false");
}

TEST(ConformanceTest, Partition) {
  struct C {
    const char* input;
    const char* expected;
  } cases[] = {
      {R"({"fst": [0, 1], "snd": 2})", "[[0, 1]]"},
      {R"({"fst": [0, 1], "snd": 4})", "[[0, 1]]"},
      {R"({"fst": [0, 1, 2], "snd": 2})", "[[0, 1], [2]]"},
      {R"({"fst": [0, 1, 2], "snd": 3})", "[[0, 1, 2]]"},
      {R"({"fst": [0, 1, 2], "snd": 4})", "[[0, 1, 2]]"},
      {R"({"fst": [0, 1, 2, 3], "snd": 2})", "[[0, 1], [2, 3]]"},
      {R"({"fst": [0, 1, 2, 3], "snd": 3})", "[[0, 1, 2], [3]]"},
      {R"({"fst": [0, 1, 2, 3], "snd": 4})", "[[0, 1, 2, 3]]"},
      // Sizes beyond any array, and beyond size_t: one chunk.
      {R"({"fst": [0, 1, 2, 3], "snd": 9223372036854775807})",
       "[[0, 1, 2, 3]]"},
      {R"({"fst": [0, 1], "snd": 29223372036854775807})", "[[0, 1]]"},
      {R"({"fst": [0, 1], "snd": 1e300})", "[[0, 1]]"},
  };
  for (const C& c : cases) {
    Json input = {{"FunctionInput", Json::parse(c.input)}};
    EXPECT_EQ(State(" $partition($states.input.FunctionInput.fst, "
                    "$states.input.FunctionInput.snd) ",
                    input),
              Norm(c.expected))
        << c.input;
  }
}

TEST(ConformanceTest, Range) {
  Json a = {{"FunctionInput", {{"fst", 0}, {"snd", 9}, {"trd", 3}}}};
  Json b = {{"FunctionInput", {{"fst", 1}, {"snd", 9}, {"trd", 2}}}};
  Json c = {{"FunctionInput", {{"fst", 1}, {"snd", 9}, {"trd", 9}}}};
  const char* expr =
      " $range($states.input.FunctionInput.fst, "
      "$states.input.FunctionInput.snd, "
      "$states.input.FunctionInput.trd) ";
  EXPECT_EQ(State(expr, a), Norm("[0, 3, 6, 9]"));
  EXPECT_EQ(State(expr, b), Norm("[1, 3, 5, 7, 9]"));
  EXPECT_EQ(State(expr, c), "1");  // a one-item sequence is a single value
}

TEST(ConformanceTest, Parse) {
  const char* expr = " $parse($states.input.FunctionInput) ";
  EXPECT_EQ(State(expr, {{"FunctionInput", "true"}}), "true");
  EXPECT_EQ(State(expr, {{"FunctionInput", "\"HelloWorld\""}}),
            Norm(R"("HelloWorld")"));
  EXPECT_EQ(State(expr, {{"FunctionInput", "[1, 2, \"HelloWorld\"]"}}),
            Norm(R"([1, 2, "HelloWorld"])"));
  EXPECT_EQ(State(expr, {{"FunctionInput", "{\"Arg1\": 1, \"Arg2\": []}"}}),
            Norm(R"({"Arg1": 1, "Arg2": []})"));
  EXPECT_EQ(State(expr, {{"FunctionInput", "{oops"}}), "error D3137");
}

TEST(ConformanceTest, StatesInputAndConditions) {
  Json done = Json::parse(R"({"result": {"done": false}})");
  EXPECT_EQ(State(" $states.input.result.done ", done), "false");
  EXPECT_EQ(State(" $not($states.input.result.done) ", done), "true");
  EXPECT_EQ(State(" $states.input = '\"' ", Json("\"")), "true");
  EXPECT_EQ(State(" $states.input.str_value = \"string literal\" ",
                  {{"str_value", "string literal"}}),
            "true");
  EXPECT_EQ(State(" $states.input ", {{"input_value", "stringliteral"}}),
            Norm(R"({"input_value": "stringliteral"})"));
  EXPECT_EQ(State(" $states.input.input_value ", {{"input_value", "x"}}),
            Norm(R"("x")"));
  EXPECT_EQ(State(" $states.input.items ", {{"items", Json::array({1, 2})}}),
            Norm("[1, 2]"));
  EXPECT_EQ(State(" $states.input.TimestampValue ",
                  {{"TimestampValue", "2016-03-14T01:59:00Z"}}),
            Norm(R"("2016-03-14T01:59:00Z")"));
  // Unqualified names read the (absent) input of the expression itself.
  EXPECT_EQ(State(" states.input ", {{"a", 1}}), "undefined");
  // "42" and 42 are not equal.
  EXPECT_EQ(State(" $states.input.s = 42 ", {{"s", "42"}}), "false");
}

TEST(ConformanceTest, LiteralsAndVariables) {
  EXPECT_EQ(State(" 1 ", Json::object()), "1");
  EXPECT_EQ(State(" [0] ", Json::object()), "[0]");
  EXPECT_EQ(State(" null ", Json::object()), "null");
  EXPECT_EQ(State(" true ", Json::object()), "true");
  EXPECT_EQ(State(" $number(\"2\") ", Json::object()), "2");
  EXPECT_EQ(State(" $variable := 1 ", Json::object()), "1");
  EXPECT_EQ(State(" $doesNotExist ", Json::object()), "undefined");
  EXPECT_EQ(State(" $fn := function($x){$x} ", Json::object()), "error U1009");
  Bindings vars;
  vars.Set("theAnswer", 42);
  vars.Set("varname", {{"varfield", "value"}});
  vars.Set("ItemsVar", Json::array({1, "a", true}));
  EXPECT_EQ(State(" $theAnswer ", Json::object(), vars), "42");
  EXPECT_EQ(State(" $varname ", Json::object(), vars),
            Norm(R"({"varfield": "value"})"));
  EXPECT_EQ(State(" $varname.varfield ", Json::object(), vars),
            Norm(R"("value")"));
  EXPECT_EQ(State(" $ItemsVar ", Json::object(), vars),
            Norm(R"([1, "a", true])"));
}

TEST(ConformanceTest, ExpressionsReportTheirVariables) {
  auto e = Compile(" $varname.varfield ");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ((*e)->free_variables().size(), 1u);
  EXPECT_EQ((*e)->free_variables()[0].name, "varname");
  EXPECT_FALSE((*e)->reads_states());
  e = Compile(
      " $partition($states.input.FunctionInput.fst, "
      "$states.input.FunctionInput.snd) ");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE((*e)->reads_states());
}

}  // namespace
}  // namespace onewindow::asl::jsonata::testing
