// The JSONata evaluator (internal to engine/asl/jsonata).
//
// One Evaluator runs one evaluation of a compiled Program: it owns the
// frames of variables, the values computed and the budget counters, and is
// used by one thread. The tree-walking follows the JSONata 2.x reference
// implementation (sequences, tuple streams for '@', '#' and '%', tail calls
// of lambdas). Every entry into Eval() charges a step and checks the
// machine stack against Limits::max_stack_bytes; function calls are counted
// against Limits::max_call_depth.
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_EVALUATOR_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_EVALUATOR_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/asl/jsonata/ast.h"
#include "engine/asl/jsonata/jsonata.h"
#include "engine/asl/jsonata/value.h"

// Keeps a function out of its callers, so that recursive callers keep
// small stack frames.
#define OW_JSONATA_NOINLINE __attribute__((noinline))

namespace onewindow::asl::jsonata::internal {

class Evaluator;
struct Builtin;

// Variables of one scope (block, function call, tuple).
struct Frame : std::enable_shared_from_this<Frame> {
  std::shared_ptr<Frame> parent;
  std::vector<std::pair<std::string_view, Value>> vars;
  bool retained = false;

  const Value* Find(std::string_view name) const {
    for (const Frame* f = this; f != nullptr; f = f->parent.get()) {
      for (const auto& [k, v] : f->vars) {
        if (k == name) return &v;
      }
    }
    return nullptr;
  }
  void Bind(std::string_view name, Value v) {
    for (auto& [k, old] : vars) {
      if (k == name) {
        old = std::move(v);
        return;
      }
    }
    vars.emplace_back(name, std::move(v));
  }
};

using BuiltinFn = absl::StatusOr<Value> (*)(Evaluator& ev,
                                            const std::vector<Value>& args,
                                            const Value& input);

struct Builtin {
  std::string_view name;
  std::string_view signature_text;
  BuiltinFn fn;
  std::optional<Signature> signature;
  std::shared_ptr<Function> function;
};

struct Function {
  enum class Kind : uint8_t {
    kLambda,
    kBuiltin,
    kNative,
    kPartial,
    kChain,
    kRegex,
    kTransform
  };
  Kind kind = Kind::kLambda;
  // kLambda (node is the lambda), kTransform (node is the transform).
  const Node* node = nullptr;
  Frame* env = nullptr;
  std::shared_ptr<Frame> env_hold;  // thunks own their frame
  Value input;
  bool thunk = false;
  // kBuiltin / kNative.
  const Builtin* builtin = nullptr;
  const NativeEntry* native = nullptr;
  // kPartial: target with arguments; holes are marked in `hole`.
  Value target;
  std::vector<Value> bound;
  std::vector<bool> hole;
  // kChain: first then second.
  Value first, second;
  // kRegex.
  std::shared_ptr<const Regex> regex;

  const Signature* signature() const;
  // Number of parameters, as JSONata counts them for higher-order calls.
  size_t Arity() const;
  std::string_view Name() const;
};

}  // namespace onewindow::asl::jsonata::internal

namespace onewindow::asl::jsonata::internal {

struct NativeEntry {
  std::string name;
  std::optional<Signature> signature;
  NativeFunction fn;
  std::shared_ptr<Function> function;
};

// One match of a regular expression (byte offsets into the subject).
struct RegexMatchResult {
  std::string match;
  size_t start = 0;  // byte offsets
  size_t end = 0;
  std::vector<std::optional<std::string>> groups;
};

class Evaluator final : public CallContext {
 public:
  Evaluator(const Program& program, const Bindings& bindings,
            const Limits& limits);
  ~Evaluator() override;
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // Evaluates the program against `input` (null: undefined).
  absl::StatusOr<std::optional<Json>> Run(const Json* input);

  absl::StatusOr<Value> Eval(const Node& n, const Value& input, Frame* env);
  // Calls `proc` with `args`; `input` is the context for '-' parameters.
  absl::StatusOr<Value> Apply(const Value& proc, std::vector<Value> args,
                              const Value& input);
  // Calls `fn` the way higher-order functions do: with as many of
  // (value, index, array) as it takes.
  absl::StatusOr<Value> ApplyHof(const Value& fn, const Value& value,
                                 const Value& index, const Value& array);

  // Budgets.
  absl::Status Charge(uint64_t steps);
  absl::Status CheckStack();
  absl::Status CheckLength(size_t items);
  absl::Status CheckString(size_t bytes);
  const Limits& limits() const { return limits_; }
  // Most machine stack used so far below Run(), in bytes (for tests).
  size_t max_stack_used() const { return max_stack_used_; }
  uint64_t steps() const { return steps_; }
  const Bindings& bindings() const { return bindings_; }

  // CallContext.
  absl::StatusOr<double> Random() override;
  absl::StatusOr<int64_t> NowMillis() override;

  // Values.
  absl::StatusOr<std::string> Stringify(const Value& v, bool pretty);
  absl::StatusOr<bool> DeepEqual(const Value& a, const Value& b);
  absl::StatusOr<Json> ToJson(const Value& v);
  // Adopts `j` for the rest of the evaluation and returns a view of it.
  Value Adopt(Json j);
  absl::StatusOr<Value> Clone(const Value& v);
  absl::StatusOr<Value> Append(const Value& a, const Value& b);
  absl::StatusOr<Value> EvalText(std::string_view text, const Value& context);
  absl::StatusOr<std::optional<RegexMatchResult>> MatchRegex(const Regex& re,
                                                             std::string_view s,
                                                             size_t from);

 private:
  // The evaluation of one node kind each. Those on the path of nested
  // evaluation keep their frames small; error formatting and bulky work
  // live in separate functions that are not inlined into them.
  absl::StatusOr<Value> EvalNode(const Node& n, const Value& input, Frame* env);
  OW_JSONATA_NOINLINE absl::Status BudgetError();
  OW_JSONATA_NOINLINE void Finish(const Node& n, absl::StatusOr<Value>* result,
                                  Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> Constant(const Node& n);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> Variable(const Node& n,
                                                     const Value& input,
                                                     Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalNegate(const Node& n,
                                                       const Value& input,
                                                       Frame* env);
  OW_JSONATA_NOINLINE absl::Status NegateError(const Node& n, const Value& v);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalCondition(const Node& n,
                                                          const Value& input,
                                                          Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalBind(const Node& n,
                                                     const Value& input,
                                                     Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> TransformFunction(const Node& n,
                                                              Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalSortNode(const Node& n,
                                                         const Value& input,
                                                         Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> BinaryOperation(const Node& n,
                                                            const Value& lhs,
                                                            const Value& rhs);
  OW_JSONATA_NOINLINE absl::Status CallError(const Node& n,
                                             std::string_view name,
                                             bool partial, Frame* env);
  OW_JSONATA_NOINLINE void CallFailed(const Node& n, absl::StatusOr<Value>* r);
  OW_JSONATA_NOINLINE absl::Status PrepareCall(const Node& n,
                                               const Value& input, Frame* env,
                                               const Value* apply_to,
                                               Value* proc,
                                               std::vector<Value>* args);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalLogical(const Node& n,
                                                        const Value& lhs,
                                                        const Value& input,
                                                        Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> RunThunk(const Value& thunk,
                                                     const Value& input);
  OW_JSONATA_NOINLINE absl::Status ApplyError(const Value& proc);
  OW_JSONATA_NOINLINE absl::Status ValidateArguments(const Function& f,
                                                     std::vector<Value>* args,
                                                     const Value& input);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> ApplyComposite(
      const Function& f, std::vector<Value> args, const Value& input);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalPath(const Node& n,
                                                     const Value& input,
                                                     Frame* env);
  absl::StatusOr<Value> EvalStep(const Node& step, const Value& input_seq,
                                 Frame* env, bool last);
  absl::StatusOr<Value> EvalTupleStep(const Node& step, const Value& input_seq,
                                      const Value& tuples, Frame* env);
  absl::StatusOr<Value> EvalStages(const std::vector<Stage>& stages,
                                   Value input, Frame* env);
  absl::StatusOr<Value> EvalFilter(const Node& predicate, const Value& input,
                                   Frame* env);
  absl::StatusOr<Value> EvalSort(const Node& step, const Value& input,
                                 Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalGroup(
      const std::vector<std::pair<NodePtr, NodePtr>>& pairs, int64_t offset,
      const Value& input, Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalBinary(const Node& n,
                                                       const Value& input,
                                                       Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalArray(const Node& n,
                                                      const Value& input,
                                                      Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalBlock(const Node& n,
                                                      const Value& input,
                                                      Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalCall(const Node& n,
                                                     const Value& input,
                                                     Frame* env,
                                                     const Value* apply_to);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalPartial(const Node& n,
                                                        const Value& input,
                                                        Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalApply(const Node& n,
                                                      const Value& input,
                                                      Frame* env);
  OW_JSONATA_NOINLINE absl::StatusOr<Value> EvalLambda(const Node& n,
                                                       const Value& input,
                                                       Frame* env);
  absl::StatusOr<Value> ApplyInner(const Value& proc, std::vector<Value> args,
                                   const Value& input);
  absl::StatusOr<Value> ApplyProcedure(const Function& f,
                                       const std::vector<Value>& args);
  absl::StatusOr<Value> ApplyNative(const Function& f,
                                    const std::vector<Value>& args);
  absl::StatusOr<Value> ApplyTransform(const Function& f, const Value& obj);
  absl::StatusOr<Value> ApplyRegex(const Function& f,
                                   const std::vector<Value>& args);

  absl::StatusOr<Value> LookupName(const Value& input, std::string_view key);
  absl::StatusOr<Value> Wildcard(const Value& input);
  absl::StatusOr<Value> Descendants(const Value& input);
  Value LookupVariable(std::string_view name, Frame* env) const;
  std::shared_ptr<Frame> NewFrame(Frame* parent);
  void Retain(Frame* frame);
  std::shared_ptr<Frame> TupleFrame(Frame* parent,
                                    const TupleBindings& bindings);

  absl::Status StringifyInto(const Value& v, bool pretty, int indent,
                             std::string* out);
  absl::Status ToJsonInto(const Value& v, Json* out);

  const Program& program_;
  const Bindings& bindings_;
  const Limits& limits_;
  uint64_t steps_ = 0;
  int call_depth_ = 0;
  const char* stack_base_ = nullptr;
  // The caller's frame address (not inlined, so it is a frame of its own).
  __attribute__((noinline)) static const char* FrameAddress();
  size_t max_stack_used_ = 0;
  Frame* call_env_ = nullptr;  // scope of the function call being applied
  size_t result_bytes_ = 0;
  std::shared_ptr<Frame> root_;
  std::vector<std::shared_ptr<Frame>> retained_;
  std::deque<Json> adopted_;
  std::vector<std::unique_ptr<Program>> eval_programs_;
  std::optional<int64_t> now_;
};

// ---- Helpers shared by the evaluator's files ------------------------------

inline std::shared_ptr<ArrayData> SequenceOf(const Value& v) {
  auto seq = NewSequence();
  seq->items.push_back(v);
  return seq;
}

inline bool IsArrayOfNumbers(const Value& v) {
  if (!v.IsArray()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v.at(i).IsNumber()) return false;
  }
  return true;
}

// Bindings of the i-th tuple of a tuple stream.
inline const TupleBindings& TupleAt(const Value& stream, size_t i) {
  static const TupleBindings kEmpty;
  const ArrayData* a = stream.array_data();
  if (a == nullptr || i >= a->tuples.size()) return kEmpty;
  return a->tuples[i];
}

inline void SetBinding(TupleBindings* t, std::string_view name, Value v) {
  for (auto& [k, old] : *t) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  t->emplace_back(name, std::move(v));
}

}  // namespace onewindow::asl::jsonata::internal

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_EVALUATOR_H_
