// Fuzzes compiling a definition and evaluating its compiled forms: the text
// before the first NUL byte is the definition (JSON or YAML), the rest the
// input. Every state of every machine has its paths, templates, Choice
// rules, Fail fields and *Path numbers evaluated against the input (and the
// input's "ctx" member as the context object). Properties: no crash, a
// valid definition compiles, Choice rules evaluate to a boolean or an ASL
// error.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "engine/asl/compiled.h"
#include "engine/asl/definition.h"
#include "engine/asl/errors.h"
#include "tests/fuzz/fuzz_common.h"

using namespace onewindow;  // NOLINT

namespace {

void Exercise(const asl::StateSpec& s, const fuzz::Json& input,
              const asl::EvalEnv& env) {
  auto effective = s.input_path.Select(input, env);
  const fuzz::Json& eff = effective.ok() ? *effective : input;
  for (const auto* t : {&s.parameters, &s.result_selector, &s.item_selector}) {
    if (t->has_value()) (void)(*t)->Eval(eff, env);
  }
  for (const asl::ChoiceBranch& b : s.choices) {
    auto r = b.rule.Eval(eff, env);
    if (!r.ok()) {
      fuzz::Require(!asl::AslErrorName(r.status()).empty(),
                    "Choice failures name an ASL error");
    }
  }
  (void)s.error.Eval(input, env);
  (void)s.cause.Eval(input, env);
  (void)s.items_path.Select(eff, env);
  for (const asl::NumberField* n :
       {&s.timeout_seconds, &s.heartbeat_seconds, &s.seconds,
        &s.max_concurrency, &s.tolerated_failure_count,
        &s.tolerated_failure_percentage}) {
    if (n->is_path) (void)n->path.Eval(eff, env);
  }
  if (s.timestamp.is_path) (void)s.timestamp.path.Eval(eff, env);
  (void)s.result_path.Place(input, fuzz::Json{{"r", 1}});
  for (const asl::Catcher& c : s.catchers) {
    (void)c.result_path.Place(input, fuzz::Json{{"Error", "E"}});
  }
  (void)s.output_path.Select(eff, env);
}

void Walk(const asl::Machine& m, const fuzz::Json& input,
          const asl::EvalEnv& env) {
  for (const auto& [name, spec] : m.specs) {
    Exercise(*spec, input, env);
    for (const asl::Machine* b : spec->branches) Walk(*b, input, env);
    if (spec->processor != nullptr) Walk(*spec->processor, input, env);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [definition, rest] = fuzz::SplitAt(fuzz::AsText(data, size), '\0');
  const asl::Limits& limits = fuzz::FuzzLimits();
  auto loaded = asl::LoadSource(definition, asl::SourceFormat::kAuto, limits);
  if (!loaded.ok()) return 0;
  bool valid = asl::Validate(*loaded, limits).empty();
  auto def = asl::Definition::FromJson(std::move(loaded->doc), limits);
  fuzz::Require(def.ok() == valid, "compiles exactly when valid");
  if (!def.ok()) return 0;
  fuzz::Json input = fuzz::DocumentOf(rest);
  fuzz::Json context = input.is_object() && input.contains("ctx")
                           ? input["ctx"]
                           : fuzz::Json::object();
  asl::EvalEnv env = fuzz::FuzzEnv(&context);
  Walk((*def)->root(), input, env);
  return 0;
}
