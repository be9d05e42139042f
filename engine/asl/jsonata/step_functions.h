// The functions AWS Step Functions adds to JSONata, for OneWindow's
// JSONata states: $partition, $range, $parse, $random (with an optional
// seed), $uuid and, when the caller supplies a digest, $hash.
//
// $random() and $uuid() draw from Bindings::random, so an evaluation is
// reproducible when the caller seeds that source; $random(seed) is a pure
// function of its seed. The table is built once and may be shared by
// concurrent evaluations.
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_STEP_FUNCTIONS_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_STEP_FUNCTIONS_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/asl/jsonata/jsonata.h"

namespace onewindow::asl::jsonata {

// Computes the hex digest of `data` with `algorithm` ("MD5", "SHA-1",
// "SHA-256", "SHA-384", "SHA-512").
using HashFunction = std::function<absl::StatusOr<std::string>(
    std::string_view data, std::string_view algorithm)>;

// Adds the Step Functions functions to `table`; $hash only when `hash` is
// set. Errors are D3137-style with messages like the States.* intrinsics.
absl::Status AddStepFunctionsFunctions(FunctionTable* table,
                                       HashFunction hash = nullptr);

}  // namespace onewindow::asl::jsonata

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_STEP_FUNCTIONS_H_
