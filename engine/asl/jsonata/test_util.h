// Helpers for the JSONata tests: sample documents from the JSONata
// documentation and one-call evaluation.
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_TEST_UTIL_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_TEST_UTIL_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/asl/jsonata/jsonata.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace onewindow::asl::jsonata::testing {

using Json = nlohmann::json;

// The "Address" document of the JSONata documentation.
inline const Json& Address() {
  static const Json* j = new Json(Json::parse(R"({
    "FirstName": "Fred",
    "Surname": "Smith",
    "Age": 28,
    "Address": {"Street": "Hursley Park", "City": "Winchester", "Postcode": "SO21 2JN"},
    "Phone": [
      {"type": "home", "number": "0203 544 1234"},
      {"type": "office", "number": "01962 001234"},
      {"type": "office", "number": "01962 001235"},
      {"type": "mobile", "number": "077 7700 1234"}
    ],
    "Email": [
      {"type": "work", "address": ["fred.smith@my-work.com", "fsmith@my-work.com"]},
      {"type": "home", "address": ["freddy@my-social.com", "frederic.smith@very-serious.com"]}
    ],
    "Other": {
      "Over 18 ?": true,
      "Misc": null,
      "Alternative.Address": {"Street": "Brick Lane", "City": "London", "Postcode": "E1 6RF"}
    }
  })"));
  return *j;
}

// The "Account" (invoice) document of the JSONata documentation.
inline const Json& Account() {
  static const Json* j = new Json(Json::parse(R"({
    "Account": {
      "Account Name": "Firefly",
      "Order": [
        {
          "OrderID": "order103",
          "Product": [
            {"Product Name": "Bowler Hat", "ProductID": 858383, "SKU": "0406654608",
             "Description": {"Colour": "Purple", "Width": 300, "Height": 200, "Depth": 210, "Weight": 0.75},
             "Price": 34.45, "Quantity": 2},
            {"Product Name": "Trilby hat", "ProductID": 858236, "SKU": "0406634348",
             "Description": {"Colour": "Orange", "Width": 300, "Height": 200, "Depth": 210, "Weight": 0.6},
             "Price": 21.67, "Quantity": 1}
          ]
        },
        {
          "OrderID": "order104",
          "Product": [
            {"Product Name": "Bowler Hat", "ProductID": 858383, "SKU": "040657863",
             "Description": {"Colour": "Purple", "Width": 300, "Height": 200, "Depth": 210, "Weight": 0.75},
             "Price": 34.45, "Quantity": 4},
            {"ProductID": 345664, "SKU": "0406654603", "Product Name": "Cloak",
             "Description": {"Colour": "Black", "Width": 30, "Height": 20, "Depth": 210, "Weight": 2},
             "Price": 107.99, "Quantity": 1}
          ]
        }
      ]
    }
  })"));
  return *j;
}

// Compiles and evaluates `expr` against `input` (null: undefined).
inline absl::StatusOr<std::optional<Json>> RunExpr(
    std::string_view expr, const Json* input,
    const Bindings& bindings = Bindings(), const Limits& limits = Limits()) {
  auto compiled = Compile(expr, limits);
  if (!compiled.ok()) return compiled.status();
  return Evaluate(**compiled, input, bindings, limits);
}

// The result as JSON text, "undefined", or "error CODE".
inline std::string Show(const absl::StatusOr<std::optional<Json>>& r) {
  if (!r.ok()) {
    auto info = GetErrorInfo(r.status());
    return "error " + (info ? info->code : std::string(r.status().message()));
  }
  if (!r->has_value()) return "undefined";
  return (*r)->dump();
}

// Evaluates and renders: compare with the expected JSON text (normalised
// through nlohmann so that key order and spacing do not matter).
inline std::string EvalShow(std::string_view expr, const Json* input = nullptr,
                            const Bindings& bindings = Bindings(),
                            const Limits& limits = Limits()) {
  return Show(RunExpr(expr, input, bindings, limits));
}

inline std::string Norm(std::string_view expected) {
  if (expected == "undefined" || expected.substr(0, 6) == "error ")
    return std::string(expected);
  return Json::parse(expected).dump();
}

// The message of a failed evaluation or compilation.
inline std::string ErrorMessage(std::string_view expr,
                                const Json* input = nullptr) {
  auto r = RunExpr(expr, input);
  if (r.ok()) return "ok: " + Show(r);
  return std::string(r.status().message());
}

struct Case {
  const char* expr;
  const char* expected;  // JSON text, "undefined" or "error CODE"
};

inline void CheckAll(const std::vector<Case>& cases, const Json* input,
                     const Bindings& bindings = Bindings()) {
  for (const Case& c : cases) {
    EXPECT_EQ(EvalShow(c.expr, input, bindings), Norm(c.expected))
        << "expression: " << c.expr;
  }
}

}  // namespace onewindow::asl::jsonata::testing

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_TEST_UTIL_H_
