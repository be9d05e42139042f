// Definition tests (`owctl workflow test`): a NAME.test.yaml file names a
// workflow file (relative to itself) and cases, each an input, mocked
// answers of Task states by state name, and what is expected. Each case runs
// offline on the local runner with virtual time.
//
//   workflow: food-licence.asl.yaml
//   cases:
//     - name: all approve
//       input: {premises: {area: 80}}      # or input_file: x.json
//       start_time: 2026-03-02T09:00:00Z   # optional; virtual clock start
//       mocks:                             # a list = successive calls
//         Hygiene: {result: {approved: true}}
//         Works: [{error: Dept.Failure, cause: down},
//                 {result: {approved: true}, after_seconds: 3600}]
//       expect:
//         status: SUCCEEDED                # or FAILED, with error/cause
//         output: {...}                    # or output_contains: {...}
//         states: [Opinions, Decide]       # top-level states, in order
//
// A mock answers immediately, or after_seconds of virtual time later (a
// shorter TimeoutSeconds fires first). Past the end of a list the last answer
// repeats. output_contains matches a subset: members of expected objects must
// be present (extra ones are ignored); arrays must have the same length and
// match element by element under the same rule.
//
// Problems with the file itself (unknown fields, a mock for a state that is
// not there or not a Task, a states entry that is not a top-level state, an
// invalid workflow) fail the case concerned, or the whole file, with the
// file, the location and the line. Thread-safe; reads files.
#ifndef ONEWINDOW_TOOLS_DEFINITION_TESTS_H_
#define ONEWINDOW_TOOLS_DEFINITION_TESTS_H_

#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace onewindow::owctl {

struct TestCaseReport {
  std::string name;  // the case's name, or "" for a problem of the file
  bool passed = false;
  // Why it failed: the first difference ("/output/decision: expected
  // \"refused\", got \"granted\""), or a problem of the case or file
  // ("$.cases[1].mocks.Nope: no state named ... (line 14); hint: ...").
  std::string failure;
};

struct TestFileReport {
  std::string file;
  // Lines to show before the results (e.g. the workflow's validation
  // errors), already formatted.
  std::vector<std::string> notes;
  std::vector<TestCaseReport> cases;

  int passed() const;
  int failed() const;
};

// Runs every case of one test file.
TestFileReport RunDefinitionTestFile(const std::string& path);

// The first difference between `expected` and `actual` as
// "POINTER: expected X, got Y" (JSON pointer under `pointer`), or nullopt
// when they match. With `subset`, expected objects may leave members out.
// Numbers compare by value (1 == 1.0); true is not 1.
std::optional<std::string> FirstDifference(const nlohmann::json& expected,
                                           const nlohmann::json& actual,
                                           const std::string& pointer,
                                           bool subset);

}  // namespace onewindow::owctl

#endif  // ONEWINDOW_TOOLS_DEFINITION_TESTS_H_
