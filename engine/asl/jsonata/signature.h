// Function signatures of JSONata ("<s-nn?:s>") and argument checking
// (internal to engine/asl/jsonata).
//
// A signature lists one type symbol per parameter: s string, n number,
// b boolean, l null, a array, o object, f function, j any JSON, x anything,
// (..) a choice; '?' optional, '+' one or more, '-' take the context value
// when the argument is missing; a<T> and f<...> add a type parameter.
// Validate() checks the actual arguments against it, fills in the context
// value and wraps single values passed for array parameters, or fails with
// T0410/T0411/T0412. Immutable after Parse(); thread-safe.
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_SIGNATURE_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_SIGNATURE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/asl/jsonata/value.h"

namespace onewindow::asl::jsonata::internal {

class Signature {
 public:
  // Parses `text` ("<...>"); errors (S0401, S0402) at `offset` plus the
  // position inside the signature.
  static absl::StatusOr<Signature> Parse(std::string_view text, int64_t offset);

  // Checks `args` (undefined for missing) against the signature. `context`
  // is the input of the call, used for '-' parameters.
  absl::StatusOr<std::vector<Value>> Validate(
      const std::vector<Value>& args, const Value& context,
      std::string_view function_name) const;

  // Number of declared parameters.
  size_t param_count() const { return params_.size(); }
  const std::string& text() const { return text_; }

 private:
  enum class Quant { kOne, kOptional, kPlus };
  struct Param {
    std::string symbols;  // accepted type symbols ('m' = missing)
    char type = 'x';
    Quant quant = Quant::kOne;
    bool context = false;
    std::string context_symbols;
    std::string subtype;  // a<subtype>
  };

  // Matches symbols[pos..] against params_[i..]; with `prefix` the match
  // need not reach the end. Records the symbols each parameter took.
  bool Match(const std::string& symbols, size_t i, size_t pos, size_t last,
             bool prefix, std::vector<std::pair<size_t, size_t>>* spans,
             size_t* end) const;

  std::vector<Param> params_;
  std::string text_;
};

// The type symbol of a value ('m' when undefined).
char TypeSymbol(const Value& v);

}  // namespace onewindow::asl::jsonata::internal

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_SIGNATURE_H_
