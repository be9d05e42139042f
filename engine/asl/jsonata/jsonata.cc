// Public API of the JSONata engine: compiling, bindings, evaluating.
#include "engine/asl/jsonata/jsonata.h"

#include <exception>
#include <new>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/ast.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/evaluator.h"

namespace onewindow::asl::jsonata {

Expression::Expression(std::unique_ptr<internal::Program> program)
    : program_(std::move(program)) {}

Expression::~Expression() = default;

const std::string& Expression::text() const { return program_->text; }

const std::vector<VariableReference>& Expression::free_variables() const {
  return program_->free_variables;
}

bool Expression::reads_states() const { return program_->reads_states; }

absl::StatusOr<std::shared_ptr<const Expression>> Compile(
    std::string_view text, const Limits& limits) {
  auto program = internal::Parse(text, limits);
  if (!program.ok()) return program.status();
  return std::shared_ptr<const Expression>(
      new Expression(std::move(program).value()));
}

FunctionTable::FunctionTable() = default;
FunctionTable::~FunctionTable() = default;

absl::Status FunctionTable::Add(std::string name, std::string_view signature,
                                NativeFunction fn) {
  auto entry = std::make_unique<internal::NativeEntry>();
  entry->name = name;
  if (!signature.empty()) {
    auto sig = internal::Signature::Parse(signature, 0);
    if (!sig.ok()) return sig.status();
    entry->signature = std::move(sig).value();
  }
  entry->fn = std::move(fn);
  auto f = std::make_shared<internal::Function>();
  f->kind = internal::Function::Kind::kNative;
  f->native = entry.get();
  entry->function = std::move(f);
  entries_[std::move(name)] = std::move(entry);
  return absl::OkStatus();
}

const internal::NativeEntry* FunctionTable::Find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.get();
}

void Bindings::Set(std::string name, nlohmann::json value) {
  Slot slot;
  slot.owned = std::make_shared<const nlohmann::json>(std::move(value));
  slot.value = slot.owned.get();
  vars_[std::move(name)] = std::move(slot);
}

void Bindings::SetRef(std::string name, const nlohmann::json& value) {
  Slot slot;
  slot.value = &value;
  vars_[std::move(name)] = std::move(slot);
}

const nlohmann::json* Bindings::Find(std::string_view name) const {
  auto it = vars_.find(name);
  return it == vars_.end() ? nullptr : it->second.value;
}

absl::StatusOr<std::optional<nlohmann::json>> Evaluate(
    const Expression& expression, const nlohmann::json* input,
    const Bindings& bindings, const Limits& limits) {
  internal::Evaluator evaluator(expression.program(), bindings, limits);
  // The evaluator reports errors as statuses. Should a defect still throw
  // (a container's length_error, say), the caller gets an error for this
  // expression instead of an exception unwinding through the engine.
  try {
    return evaluator.Run(input);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        "U1099: the evaluation ran out of memory");
  } catch (const std::exception& e) {
    return absl::InternalError(
        absl::StrCat("U1099: the evaluation failed: ", e.what()));
  }
}

}  // namespace onewindow::asl::jsonata
