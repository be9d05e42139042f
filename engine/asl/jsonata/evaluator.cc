// The JSONata evaluator: paths, operators, constructors, functions.
#include "engine/asl/jsonata/evaluator.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/functions.h"

namespace onewindow::asl::jsonata::internal {

namespace {

std::shared_ptr<ArrayData> SequenceOf(const Value& v) {
  auto seq = NewSequence();
  seq->items.push_back(v);
  return seq;
}

// Items of an array value, or the value itself as one item.
template <typename F>
absl::Status ForEachItem(const Value& v, F&& f) {
  if (v.IsArray()) {
    size_t n = v.size();
    for (size_t i = 0; i < n; ++i) OW_JSONATA_RETURN_IF_ERROR(f(v.at(i), i));
    return absl::OkStatus();
  }
  return f(v, 0);
}

bool IsArrayOfNumbers(const Value& v) {
  if (!v.IsArray()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v.at(i).IsNumber()) return false;
  }
  return true;
}

std::string_view OpText(const Node& n) { return n.value; }

// Bindings of the i-th tuple of a tuple stream.
const TupleBindings& TupleAt(const Value& stream, size_t i) {
  static const TupleBindings kEmpty;
  const ArrayData* a = stream.array_data();
  if (a == nullptr || i >= a->tuples.size()) return kEmpty;
  return a->tuples[i];
}

void SetBinding(TupleBindings* t, std::string_view name, Value v) {
  for (auto& [k, old] : *t) {
    if (k == name) {
      old = std::move(v);
      return;
    }
  }
  t->emplace_back(name, std::move(v));
}

}  // namespace

const Signature* Function::signature() const {
  switch (kind) {
    case Kind::kLambda:
      return node != nullptr && node->signature.has_value() ? &*node->signature : nullptr;
    case Kind::kBuiltin:
      return builtin->signature.has_value() ? &*builtin->signature : nullptr;
    case Kind::kNative:
      return native->signature.has_value() ? &*native->signature : nullptr;
    default:
      return nullptr;
  }
}

size_t Function::Arity() const {
  switch (kind) {
    case Kind::kLambda:
      return node->params.size();
    case Kind::kBuiltin:
      // JSONata counts the parameters of the implementation; $string's
      // second one is optional there.
      if (builtin->name == "string") return 1;
      [[fallthrough]];
    case Kind::kNative: {
      const Signature* s = signature();
      return s ? s->param_count() : 1;
    }
    case Kind::kPartial: {
      size_t n = 0;
      for (bool h : hole) n += h ? 1 : 0;
      return n;
    }
    default:
      return 1;
  }
}

std::string_view Function::Name() const {
  switch (kind) {
    case Kind::kBuiltin:
      return builtin->name;
    case Kind::kNative:
      return native->name;
    case Kind::kPartial:
      return target.IsFunction() ? target.function()->Name() : std::string_view();
    default:
      return "lambda";
  }
}

Evaluator::Evaluator(const Program& program, const Bindings& bindings, const Limits& limits)
    : program_(program), bindings_(bindings), limits_(limits) {}

Evaluator::~Evaluator() {
  // Frames may refer to each other through retained parents; drop the
  // variables first so that values do not outlive what they borrow.
  for (auto& f : retained_) f->vars.clear();
}

// ---- Budgets ---------------------------------------------------------------

absl::Status Evaluator::Charge(uint64_t steps) {
  steps_ += steps;
  if (steps_ > limits_.max_steps) {
    return Error("U1003", absl::StrCat("Evaluation exceeds the limit of ", limits_.max_steps,
                                       " steps"));
  }
  return absl::OkStatus();
}

absl::Status Evaluator::CheckStack() {
  char here = 0;
  const char* p = &here;
  size_t used = stack_base_ > p ? static_cast<size_t>(stack_base_ - p) : 0;
  if (used > limits_.max_stack_bytes) {
    return Error("U1007", absl::StrCat("Evaluation exceeds the stack limit of ",
                                       limits_.max_stack_bytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status Evaluator::CheckLength(size_t items) {
  if (items > limits_.max_sequence_length) {
    return Error("U1004", absl::StrCat("Sequence of ", items, " items exceeds the limit of ",
                                       limits_.max_sequence_length, " items"));
  }
  return absl::OkStatus();
}

absl::Status Evaluator::CheckString(size_t bytes) {
  if (bytes > limits_.max_string_bytes) {
    return Error("U1005", absl::StrCat("String of ", bytes, " bytes exceeds the limit of ",
                                       limits_.max_string_bytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> Evaluator::Random() {
  if (!bindings_.random) {
    return Error("U1010", "No source of random numbers was supplied for this evaluation");
  }
  double r = bindings_.random();
  if (!(r >= 0 && r < 1)) r = 0;
  return r;
}

absl::StatusOr<int64_t> Evaluator::NowMillis() {
  if (!now_.has_value()) {
    if (!bindings_.clock) {
      return Error("U1010", "No clock was supplied for this evaluation");
    }
    now_ = bindings_.clock();
  }
  return *now_;
}

// ---- Entry -----------------------------------------------------------------

absl::StatusOr<std::optional<Json>> Evaluator::Run(const Json* input) {
  char base = 0;
  stack_base_ = &base;
  Value in = input != nullptr ? Value::FromJson(*input) : Value();
  if (in.IsArray()) {
    auto wrapper = SequenceOf(in);
    wrapper->outer_wrapper = true;
    in = Value::Array(std::move(wrapper));
  }
  root_ = std::make_shared<Frame>();
  root_->retained = true;
  root_->Bind("$", in);
  auto result = Eval(*program_.root, in, root_.get());
  if (!result.ok()) return Finalize(result.status(), program_.text);
  if (result->IsUndefined()) return std::optional<Json>();
  if (result->IsFunction()) {
    return Error("U1009", "The result of the expression is a function, which has no JSON value");
  }
  Json out;
  absl::Status s = ToJsonInto(*result, &out);
  if (!s.ok()) return Finalize(s, program_.text);
  return std::optional<Json>(std::move(out));
}

absl::StatusOr<Value> Evaluator::Eval(const Node& n, const Value& input, Frame* env) {
  OW_JSONATA_RETURN_IF_ERROR(Charge(1));
  OW_JSONATA_RETURN_IF_ERROR(CheckStack());
  OW_JSONATA_ASSIGN_OR_RETURN(Value result, EvalNode(n, input, env));
  for (const Stage& p : n.predicates) {
    OW_JSONATA_ASSIGN_OR_RETURN(result, EvalFilter(*p.expr, result, env));
  }
  if (n.type != NodeType::kPath && n.group) {
    OW_JSONATA_ASSIGN_OR_RETURN(result, EvalGroup(n.group->pairs, n.group->offset, result, env));
  }
  if (result.IsSequence() && !result.IsTupleStream()) {
    ArrayData* a = const_cast<ArrayData*>(result.array_data());
    if (n.keep_array) a->keep_singleton = true;
    if (a->items.empty()) return Value();
    if (a->items.size() == 1 && !a->keep_singleton) return Value(a->items[0]);
  }
  return result;
}

absl::StatusOr<Value> Evaluator::EvalNode(const Node& n, const Value& input, Frame* env) {
  switch (n.type) {
    case NodeType::kPath:
      return EvalPath(n, input, env);
    case NodeType::kBinary:
      return EvalBinary(n, input, env);
    case NodeType::kNegate: {
      OW_JSONATA_ASSIGN_OR_RETURN(Value v, Eval(*n.expr, input, env));
      if (v.IsUndefined()) return v;
      if (v.IsNumber()) return Value::Number(-v.number());
      OW_JSONATA_ASSIGN_OR_RETURN(std::string s, Stringify(v, false));
      return Error("D1002", absl::StrCat("Cannot negate a non-numeric value: ", s), n.offset, "-");
    }
    case NodeType::kArray:
      return EvalArray(n, input, env);
    case NodeType::kObject:
      return EvalGroup(n.pairs, n.offset, input, env);
    case NodeType::kName:
      return LookupName(input, n.value);
    case NodeType::kString:
      return Value::StringRef(&n.value);
    case NodeType::kNumber:
      return Value::Number(n.number);
    case NodeType::kLiteral:
      return n.literal == Literal::kNull ? Value::Null() : Value::Bool(n.literal == Literal::kTrue);
    case NodeType::kWildcard:
      return Wildcard(input);
    case NodeType::kDescendant:
      return Descendants(input);
    case NodeType::kParent: {
      const Value* v = env->Find(n.slot->label);
      return v ? *v : Value();
    }
    case NodeType::kCondition: {
      OW_JSONATA_ASSIGN_OR_RETURN(Value c, Eval(*n.condition, input, env));
      if (ToBoolean(c).value_or(false)) return Eval(*n.then_branch, input, env);
      if (n.else_branch) return Eval(*n.else_branch, input, env);
      return Value();
    }
    case NodeType::kElvis: {
      OW_JSONATA_ASSIGN_OR_RETURN(Value c, Eval(*n.lhs, input, env));
      if (ToBoolean(c).value_or(false)) return c;
      return Eval(*n.rhs, input, env);
    }
    case NodeType::kCoalesce: {
      OW_JSONATA_ASSIGN_OR_RETURN(Value c, Eval(*n.lhs, input, env));
      if (!c.IsUndefined()) return c;
      return Eval(*n.rhs, input, env);
    }
    case NodeType::kBlock:
      return EvalBlock(n, input, env);
    case NodeType::kBind: {
      OW_JSONATA_ASSIGN_OR_RETURN(Value v, Eval(*n.rhs, input, env));
      env->Bind(n.value, v);
      return v;
    }
    case NodeType::kRegex: {
      auto f = std::make_shared<Function>();
      f->kind = Function::Kind::kRegex;
      f->regex = n.regex;
      return Value::Func(std::move(f));
    }
    case NodeType::kCall:
      return EvalCall(n, input, env, nullptr);
    case NodeType::kPartial:
      return EvalPartial(n, input, env);
    case NodeType::kVariable:
      if (n.value.empty()) return input.IsOuterWrapper() ? input.at(0) : input;
      return LookupVariable(n.value, env);
    case NodeType::kLambda:
      return EvalLambda(n, input, env);
    case NodeType::kApply:
      return EvalApply(n, input, env);
    case NodeType::kTransform: {
      auto f = std::make_shared<Function>();
      f->kind = Function::Kind::kTransform;
      f->node = &n;
      Retain(env);
      f->env = env;
      return Value::Func(std::move(f));
    }
    case NodeType::kSort:
      return EvalSort(n, input.IsArray() ? input : Value::Array(SequenceOf(input)), env);
    case NodeType::kPlaceholder:
      return Value();
    default:
      return Error("S0206", "Unknown expression type", n.offset);
  }
}

// ---- Frames and variables --------------------------------------------------

std::shared_ptr<Frame> Evaluator::NewFrame(Frame* parent) {
  auto f = std::make_shared<Frame>();
  f->parent = parent->shared_from_this();
  return f;
}

void Evaluator::Retain(Frame* frame) {
  if (frame->retained) return;
  frame->retained = true;
  retained_.push_back(frame->shared_from_this());
}

std::shared_ptr<Frame> Evaluator::TupleFrame(Frame* parent, const TupleBindings& bindings) {
  auto f = NewFrame(parent);
  f->vars.reserve(bindings.size());
  for (const auto& [k, v] : bindings) f->vars.emplace_back(k, v);
  return f;
}

Value Evaluator::LookupVariable(std::string_view name, Frame* env) const {
  if (const Value* v = env->Find(name)) return *v;
  if (const Json* j = bindings_.Find(name)) return Value::FromJson(*j);
  if (bindings_.functions != nullptr) {
    if (const NativeEntry* e = bindings_.functions->Find(name)) return Value::Func(e->function);
  }
  if (const Builtin* b = FindBuiltin(name)) return Value::Func(b->function);
  return Value();
}

// ---- Paths -----------------------------------------------------------------

absl::StatusOr<Value> Evaluator::EvalPath(const Node& n, const Value& input, Frame* env) {
  const auto& steps = n.items;
  Value input_seq;
  if (input.IsArray() && steps[0]->type != NodeType::kVariable) {
    input_seq = input;
  } else {
    input_seq = Value::Array(SequenceOf(input));
  }
  Value result_seq;
  Value tuples;
  bool is_tuple = false;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Node& step = *steps[i];
    if (step.tuple) is_tuple = true;
    if (i == 0 && step.cons_array) {
      OW_JSONATA_ASSIGN_OR_RETURN(result_seq, Eval(step, input_seq, env));
    } else if (is_tuple) {
      OW_JSONATA_ASSIGN_OR_RETURN(tuples, EvalTupleStep(step, input_seq, tuples, env));
    } else {
      OW_JSONATA_ASSIGN_OR_RETURN(result_seq,
                                  EvalStep(step, input_seq, env, i == steps.size() - 1));
    }
    if (!is_tuple && (result_seq.IsUndefined() || (result_seq.IsArray() && result_seq.size() == 0))) {
      break;
    }
    if (step.focus.empty()) input_seq = result_seq;
  }
  if (is_tuple) {
    if (n.tuple) {
      result_seq = tuples;
    } else {
      auto seq = NewSequence();
      if (tuples.IsArray()) {
        const ArrayData* t = tuples.array_data();
        seq->items = t->items;
      }
      result_seq = Value::Array(std::move(seq));
    }
  }
  if (n.keep_singleton_array && result_seq.IsArray()) {
    if (result_seq.IsCons() && !result_seq.IsSequence()) {
      result_seq = Value::Array(SequenceOf(result_seq));
    }
    if (const ArrayData* a = result_seq.array_data()) {
      const_cast<ArrayData*>(a)->keep_singleton = true;
    }
  }
  if (n.group) {
    return EvalGroup(n.group->pairs, n.group->offset, is_tuple ? tuples : result_seq, env);
  }
  return result_seq;
}

absl::StatusOr<Value> Evaluator::EvalStep(const Node& step, const Value& input_seq, Frame* env,
                                          bool last) {
  if (step.type == NodeType::kSort) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value r, EvalSort(step, input_seq, env));
    if (!step.stages.empty()) return EvalStages(step.stages, r, env);
    return r;
  }
  std::vector<Value> results;
  size_t n = input_seq.size();
  results.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value res, Eval(step, input_seq.at(i), env));
    for (const Stage& s : step.stages) {
      if (s.kind == Stage::Kind::kFilter) {
        OW_JSONATA_ASSIGN_OR_RETURN(res, EvalFilter(*s.expr, res, env));
      }
    }
    if (!res.IsUndefined()) results.push_back(std::move(res));
  }
  if (last && results.size() == 1 && results[0].IsArray() && !results[0].IsSequence()) {
    return results[0];
  }
  auto out = NewSequence();
  size_t total = 0;
  for (const Value& r : results) total += (r.IsArray() && !r.IsCons()) ? r.size() : 1;
  OW_JSONATA_RETURN_IF_ERROR(CheckLength(total));
  OW_JSONATA_RETURN_IF_ERROR(Charge(total));
  out->items.reserve(total);
  for (Value& r : results) {
    if (!r.IsArray() || r.IsCons()) {
      out->items.push_back(std::move(r));
    } else if (const ArrayData* a = r.array_data()) {
      out->items.insert(out->items.end(), a->items.begin(), a->items.end());
    } else {
      size_t m = r.size();
      for (size_t k = 0; k < m; ++k) out->items.push_back(r.at(k));
    }
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> Evaluator::EvalTupleStep(const Node& step, const Value& input_seq,
                                               const Value& tuples, Frame* env) {
  if (step.type == NodeType::kSort) {
    Value result;
    if (!tuples.IsUndefined()) {
      OW_JSONATA_ASSIGN_OR_RETURN(result, EvalSort(step, tuples, env));
    } else {
      OW_JSONATA_ASSIGN_OR_RETURN(Value sorted, EvalSort(step, input_seq, env));
      auto stream = NewSequence();
      stream->tuple_stream = true;
      for (size_t i = 0; i < sorted.size(); ++i) {
        stream->items.push_back(sorted.at(i));
        TupleBindings b;
        if (!step.index_var.empty()) {
          b.emplace_back(step.index_var, Value::Number(static_cast<double>(i)));
        }
        stream->tuples.push_back(std::move(b));
      }
      result = Value::Array(std::move(stream));
    }
    if (!step.stages.empty()) return EvalStages(step.stages, result, env);
    return result;
  }
  // The incoming tuples: given, or one per input item.
  std::vector<Value> ats;
  std::vector<TupleBindings> binds;
  if (!tuples.IsUndefined() && tuples.IsArray()) {
    const ArrayData* t = tuples.array_data();
    ats = t->items;
    binds = t->tuples;
    binds.resize(ats.size());
  } else {
    size_t n = input_seq.size();
    for (size_t i = 0; i < n; ++i) ats.push_back(input_seq.at(i));
    binds.resize(ats.size());
  }
  auto out = NewSequence();
  out->tuple_stream = true;
  for (size_t e = 0; e < ats.size(); ++e) {
    auto frame = TupleFrame(env, binds[e]);
    OW_JSONATA_ASSIGN_OR_RETURN(Value res, Eval(step, ats[e], frame.get()));
    if (res.IsUndefined()) continue;
    Value items = res.IsArray() ? res : Value::Array(SequenceOf(res));
    size_t m = items.size();
    OW_JSONATA_RETURN_IF_ERROR(Charge(m));
    OW_JSONATA_RETURN_IF_ERROR(CheckLength(out->items.size() + m));
    for (size_t bb = 0; bb < m; ++bb) {
      TupleBindings tuple = binds[e];
      Value at;
      if (res.IsTupleStream()) {
        for (const auto& [k, v] : TupleAt(res, bb)) SetBinding(&tuple, k, v);
        at = res.at(bb);
      } else {
        if (!step.focus.empty()) {
          SetBinding(&tuple, step.focus, items.at(bb));
          at = ats[e];
        } else {
          at = items.at(bb);
        }
        if (!step.index_var.empty()) {
          SetBinding(&tuple, step.index_var, Value::Number(static_cast<double>(bb)));
        }
        if (step.ancestor != nullptr) SetBinding(&tuple, step.ancestor->label, ats[e]);
      }
      out->items.push_back(std::move(at));
      out->tuples.push_back(std::move(tuple));
    }
  }
  Value result = Value::Array(std::move(out));
  if (!step.stages.empty()) return EvalStages(step.stages, result, env);
  return result;
}

absl::StatusOr<Value> Evaluator::EvalStages(const std::vector<Stage>& stages, Value input,
                                            Frame* env) {
  Value result = std::move(input);
  for (const Stage& s : stages) {
    if (s.kind == Stage::Kind::kFilter) {
      OW_JSONATA_ASSIGN_OR_RETURN(result, EvalFilter(*s.expr, result, env));
    } else if (result.IsTupleStream()) {
      ArrayData* a = const_cast<ArrayData*>(result.array_data());
      a->tuples.resize(a->items.size());
      for (size_t i = 0; i < a->items.size(); ++i) {
        SetBinding(&a->tuples[i], s.var, Value::Number(static_cast<double>(i)));
      }
    }
  }
  return result;
}

absl::StatusOr<Value> Evaluator::EvalFilter(const Node& predicate, const Value& input,
                                            Frame* env) {
  auto results = NewSequence();
  bool tuple_stream = input.IsTupleStream();
  results->tuple_stream = tuple_stream;
  if (input.IsUndefined()) return Value::Array(std::move(results));
  Value items = input.IsArray() ? input : Value::Array(SequenceOf(input));
  size_t n = items.size();
  auto push = [&](size_t i) {
    results->items.push_back(items.at(i));
    if (tuple_stream) results->tuples.push_back(TupleAt(items, i));
  };
  if (predicate.type == NodeType::kNumber && predicate.predicates.empty() && !predicate.group) {
    double idx = std::floor(predicate.number);
    if (idx < 0) idx += static_cast<double>(n);
    if (idx >= 0 && idx < static_cast<double>(n)) {
      size_t i = static_cast<size_t>(idx);
      Value item = items.at(i);
      if (item.IsArray() && !tuple_stream) return item;
      push(i);
    }
    return Value::Array(std::move(results));
  }
  for (size_t i = 0; i < n; ++i) {
    Value item = items.at(i);
    Value res;
    if (tuple_stream) {
      auto frame = TupleFrame(env, TupleAt(items, i));
      OW_JSONATA_ASSIGN_OR_RETURN(res, Eval(predicate, item, frame.get()));
    } else {
      OW_JSONATA_ASSIGN_OR_RETURN(res, Eval(predicate, item, env));
    }
    if (res.IsNumber()) {
      double idx = std::floor(res.number());
      if (idx < 0) idx += static_cast<double>(n);
      if (idx == static_cast<double>(i)) push(i);
    } else if (IsArrayOfNumbers(res)) {
      for (size_t k = 0; k < res.size(); ++k) {
        double idx = std::floor(res.at(k).number());
        if (idx < 0) idx += static_cast<double>(n);
        if (idx == static_cast<double>(i)) push(i);
      }
    } else if (ToBoolean(res).value_or(false)) {
      push(i);
    }
  }
  return Value::Array(std::move(results));
}

absl::StatusOr<Value> Evaluator::EvalSort(const Node& step, const Value& input, Frame* env) {
  size_t n = input.IsArray() ? input.size() : (input.IsUndefined() ? 0 : 1);
  if (!input.IsArray()) return input;
  if (n <= 1) return input;
  bool tuple_stream = input.IsTupleStream();
  size_t nterms = step.terms.size();
  std::vector<Value> keys(n * nterms);
  for (size_t i = 0; i < n; ++i) {
    Value item = input.at(i);
    std::shared_ptr<Frame> frame;
    Frame* e = env;
    if (tuple_stream) {
      frame = TupleFrame(env, TupleAt(input, i));
      e = frame.get();
    }
    for (size_t t = 0; t < nterms; ++t) {
      OW_JSONATA_ASSIGN_OR_RETURN(keys[i * nterms + t], Eval(*step.terms[t].expr, item, e));
    }
  }
  for (size_t t = 0; t < nterms; ++t) {
    Value::Type type = Value::Type::kUndefined;
    const Value* first = nullptr;
    for (size_t i = 0; i < n; ++i) {
      const Value& k = keys[i * nterms + t];
      if (k.IsUndefined()) continue;
      if (!k.IsNumber() && !k.IsString()) {
        OW_JSONATA_ASSIGN_OR_RETURN(std::string s, Stringify(k, false));
        return Error("T2008",
                     "The expressions within an order-by clause must evaluate to numeric or string "
                     "values",
                     step.offset);
      }
      if (type == Value::Type::kUndefined) {
        type = k.type();
        first = &k;
      } else if (k.type() != type) {
        OW_JSONATA_ASSIGN_OR_RETURN(std::string a, Stringify(*first, false));
        OW_JSONATA_ASSIGN_OR_RETURN(std::string b, Stringify(k, false));
        return Error("T2007",
                     absl::StrCat("Type mismatch when comparing values ", a, " and ", b,
                                  " in order-by clause"),
                     step.offset);
      }
    }
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  OW_JSONATA_RETURN_IF_ERROR(
      Charge(static_cast<uint64_t>(n) * (1 + static_cast<uint64_t>(std::log2(n + 1)))));
  auto cmp = [&](size_t a, size_t b) {
    for (size_t t = 0; t < nterms; ++t) {
      const Value& ka = keys[a * nterms + t];
      const Value& kb = keys[b * nterms + t];
      int c = 0;
      if (ka.IsUndefined()) {
        c = kb.IsUndefined() ? 0 : 1;
        if (c != 0) return c;
        continue;
      }
      if (kb.IsUndefined()) return -1;
      if (ka.IsNumber()) {
        c = ka.number() == kb.number() ? 0 : ka.number() < kb.number() ? -1 : 1;
      } else {
        int r = ka.str().compare(kb.str());
        c = r == 0 ? 0 : r < 0 ? -1 : 1;
      }
      if (step.terms[t].descending) c = -c;
      if (c != 0) return c;
    }
    return 0;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return cmp(a, b) < 0; });
  auto out = NewSequence();
  out->tuple_stream = tuple_stream;
  out->items.reserve(n);
  for (size_t i : order) {
    out->items.push_back(input.at(i));
    if (tuple_stream) out->tuples.push_back(TupleAt(input, i));
  }
  return Value::Array(std::move(out));
}

// Object constructors and grouping.
absl::StatusOr<Value> Evaluator::EvalGroup(const std::vector<std::pair<NodePtr, NodePtr>>& pairs,
                                           int64_t offset, const Value& input, Frame* env) {
  bool reduce = input.IsTupleStream();
  std::vector<Value> items;
  if (input.IsArray()) {
    size_t n = input.size();
    items.reserve(n);
    for (size_t i = 0; i < n; ++i) items.push_back(input.at(i));
  } else {
    items.push_back(input);
  }
  if (items.empty()) items.emplace_back();
  struct Entry {
    std::string key;
    Value data;                  // plain grouping
    std::vector<size_t> tuples;  // tuple-stream grouping: indexes of tuples
    size_t expr_index = 0;
  };
  std::vector<Entry> groups;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < items.size(); ++i) {
    std::shared_ptr<Frame> frame;
    Frame* e = env;
    if (reduce) {
      frame = TupleFrame(env, TupleAt(input, i));
      e = frame.get();
    }
    for (size_t p = 0; p < pairs.size(); ++p) {
      OW_JSONATA_ASSIGN_OR_RETURN(Value key, Eval(*pairs[p].first, items[i], e));
      if (key.IsUndefined()) continue;
      if (!key.IsString()) {
        OW_JSONATA_ASSIGN_OR_RETURN(std::string s, Stringify(key, false));
        return Error("T1003", absl::StrCat("Key in object structure must evaluate to a string; got: ", s),
                     offset);
      }
      auto it = index.find(key.str());
      if (it != index.end()) {
        Entry& g = groups[it->second];
        if (g.expr_index != p) {
          return Error("D1009",
                       absl::StrCat("Multiple key definitions evaluate to same key: ", Quote(key.str())),
                       offset);
        }
        if (reduce) {
          g.tuples.push_back(i);
        } else {
          OW_JSONATA_ASSIGN_OR_RETURN(g.data, Append(g.data, items[i]));
        }
      } else {
        index.emplace(key.str(), groups.size());
        Entry g;
        g.key = key.str();
        g.expr_index = p;
        if (reduce) {
          g.tuples.push_back(i);
        } else {
          g.data = items[i];
        }
        groups.push_back(std::move(g));
      }
    }
  }
  auto result = std::make_shared<ObjectData>();
  for (Entry& g : groups) {
    Value context = g.data;
    std::shared_ptr<Frame> frame;
    Frame* e = env;
    if (reduce) {
      // Merge the tuples of the group: '@' and every binding are appended.
      TupleBindings merged;
      Value at;
      for (size_t k = 0; k < g.tuples.size(); ++k) {
        size_t ti = g.tuples[k];
        if (k == 0) {
          at = items[ti];
          merged = TupleAt(input, ti);
        } else {
          OW_JSONATA_ASSIGN_OR_RETURN(at, Append(at, items[ti]));
          for (const auto& [name, v] : TupleAt(input, ti)) {
            Value prev;
            for (const auto& [mk, mv] : merged) {
              if (mk == name) prev = mv;
            }
            OW_JSONATA_ASSIGN_OR_RETURN(Value joined, Append(prev, v));
            SetBinding(&merged, name, std::move(joined));
          }
        }
      }
      context = at;
      frame = TupleFrame(env, merged);
      e = frame.get();
    }
    OW_JSONATA_ASSIGN_OR_RETURN(Value v, Eval(*pairs[g.expr_index].second, context, e));
    if (!v.IsUndefined()) result->Set(g.key, std::move(v));
  }
  return Value::Object(std::move(result));
}

absl::StatusOr<Value> Evaluator::LookupName(const Value& input, std::string_view key) {
  if (input.IsObject()) return input.Get(key);
  if (!input.IsArray()) return Value();
  OW_JSONATA_RETURN_IF_ERROR(CheckStack());
  auto seq = NewSequence();
  size_t n = input.size();
  for (size_t i = 0; i < n; ++i) {
    Value item = input.at(i);
    Value res;
    if (item.IsObject()) {
      res = item.Get(key);
    } else if (item.IsArray()) {
      OW_JSONATA_ASSIGN_OR_RETURN(res, LookupName(item, key));
    } else {
      continue;
    }
    if (res.IsUndefined()) continue;
    if (res.IsArray()) {
      size_t m = res.size();
      OW_JSONATA_RETURN_IF_ERROR(CheckLength(seq->items.size() + m));
      for (size_t k = 0; k < m; ++k) seq->items.push_back(res.at(k));
    } else {
      seq->items.push_back(std::move(res));
    }
  }
  OW_JSONATA_RETURN_IF_ERROR(Charge(seq->items.size()));
  return Value::Array(std::move(seq));
}

namespace {

absl::Status FlattenInto(Evaluator& ev, const Value& v, std::vector<Value>* out) {
  if (!v.IsArray()) {
    out->push_back(v);
    return absl::OkStatus();
  }
  OW_JSONATA_RETURN_IF_ERROR(ev.CheckStack());
  size_t n = v.size();
  for (size_t i = 0; i < n; ++i) OW_JSONATA_RETURN_IF_ERROR(FlattenInto(ev, v.at(i), out));
  return ev.CheckLength(out->size());
}

}  // namespace

absl::StatusOr<Value> Evaluator::Wildcard(const Value& input) {
  Value in = input;
  if (in.IsOuterWrapper() && in.size() > 0) in = in.at(0);
  auto seq = NewSequence();
  bool appended = false;  // fn.append makes a plain array, as JSONata does
  auto take = [&](const Value& value) -> absl::Status {
    if (value.IsArray()) {
      OW_JSONATA_RETURN_IF_ERROR(FlattenInto(*this, value, &seq->items));
      appended = true;
    } else {
      seq->items.push_back(value);
    }
    return CheckLength(seq->items.size());
  };
  if (in.IsObject()) {
    absl::Status s;
    in.ForEachMember([&](std::string_view, const Value& v) {
      if (s.ok()) s = take(v);
    });
    OW_JSONATA_RETURN_IF_ERROR(s);
  } else if (in.IsArray()) {
    for (size_t i = 0; i < in.size(); ++i) OW_JSONATA_RETURN_IF_ERROR(take(in.at(i)));
  }
  OW_JSONATA_RETURN_IF_ERROR(Charge(seq->items.size()));
  if (appended) seq->sequence = false;
  return Value::Array(std::move(seq));
}

absl::StatusOr<Value> Evaluator::Descendants(const Value& input) {
  if (input.IsUndefined()) return Value();
  auto seq = NewSequence();
  // Depth-first, in document order, with an explicit stack.
  std::vector<std::pair<Value, size_t>> stack;
  auto visit = [&](const Value& v) -> absl::Status {
    if (!v.IsArray()) seq->items.push_back(v);
    if (v.IsArray() || v.IsObject()) stack.emplace_back(v, 0);
    return CheckLength(seq->items.size());
  };
  OW_JSONATA_RETURN_IF_ERROR(visit(input));
  std::vector<Value> members;
  while (!stack.empty()) {
    OW_JSONATA_RETURN_IF_ERROR(Charge(1));
    auto& [v, next] = stack.back();
    size_t n = v.IsArray() ? v.size() : v.ObjectSize();
    if (next >= n) {
      stack.pop_back();
      continue;
    }
    Value child;
    if (v.IsArray()) {
      child = v.at(next);
    } else if (const Json* j = v.json()) {
      auto it = j->begin();
      std::advance(it, static_cast<ptrdiff_t>(next));
      child = Value::FromJson(it.value());
    } else {
      child = v.object_data()->entries[next].second;
    }
    ++next;
    OW_JSONATA_RETURN_IF_ERROR(visit(child));
  }
  if (seq->items.size() == 1) return seq->items[0];
  return Value::Array(std::move(seq));
}

// ---- Operators -------------------------------------------------------------

absl::StatusOr<Value> Evaluator::EvalBinary(const Node& n, const Value& input, Frame* env) {
  OW_JSONATA_ASSIGN_OR_RETURN(Value lhs, Eval(*n.lhs, input, env));
  if (n.op == BinaryOp::kAnd) {
    if (!ToBoolean(lhs).value_or(false)) return Value::Bool(false);
    OW_JSONATA_ASSIGN_OR_RETURN(Value rhs, Eval(*n.rhs, input, env));
    return Value::Bool(ToBoolean(rhs).value_or(false));
  }
  if (n.op == BinaryOp::kOr) {
    if (ToBoolean(lhs).value_or(false)) return Value::Bool(true);
    OW_JSONATA_ASSIGN_OR_RETURN(Value rhs, Eval(*n.rhs, input, env));
    return Value::Bool(ToBoolean(rhs).value_or(false));
  }
  OW_JSONATA_ASSIGN_OR_RETURN(Value rhs, Eval(*n.rhs, input, env));
  switch (n.op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod: {
      if (!lhs.IsUndefined() && !lhs.IsNumber()) {
        return Error("T2001",
                     absl::StrCat("The left side of the ", Quote(OpText(n)),
                                  " operator must evaluate to a number"),
                     n.offset, OpText(n));
      }
      if (!rhs.IsUndefined() && !rhs.IsNumber()) {
        return Error("T2002",
                     absl::StrCat("The right side of the ", Quote(OpText(n)),
                                  " operator must evaluate to a number"),
                     n.offset, OpText(n));
      }
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
      double a = lhs.number(), b = rhs.number(), r = 0;
      switch (n.op) {
        case BinaryOp::kAdd: r = a + b; break;
        case BinaryOp::kSub: r = a - b; break;
        case BinaryOp::kMul: r = a * b; break;
        case BinaryOp::kDiv: r = a / b; break;
        default: r = std::fmod(a, b); break;
      }
      if (!std::isfinite(r)) {
        return Error("D1001", absl::StrCat("Number out of range: ", FormatJsNumber(r)), n.offset,
                     OpText(n));
      }
      return Value::Number(r);
    }
    case BinaryOp::kEq:
    case BinaryOp::kNe: {
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value::Bool(false);
      OW_JSONATA_ASSIGN_OR_RETURN(bool eq, DeepEqual(lhs, rhs));
      return Value::Bool(n.op == BinaryOp::kEq ? eq : !eq);
    }
    case BinaryOp::kLt:
    case BinaryOp::kLe:
    case BinaryOp::kGt:
    case BinaryOp::kGe: {
      bool lok = lhs.IsUndefined() || lhs.IsString() || lhs.IsNumber();
      bool rok = rhs.IsUndefined() || rhs.IsString() || rhs.IsNumber();
      if (!lok || !rok) {
        return Error("T2010",
                     absl::StrCat("The expressions either side of operator ", Quote(OpText(n)),
                                  " must evaluate to numeric or string values"),
                     n.offset, OpText(n));
      }
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
      if (lhs.type() != rhs.type()) {
        OW_JSONATA_ASSIGN_OR_RETURN(std::string a, Stringify(lhs, false));
        OW_JSONATA_ASSIGN_OR_RETURN(std::string b, Stringify(rhs, false));
        if (lhs.IsString()) a = Quote(a);
        if (rhs.IsString()) b = Quote(b);
        return Error("T2009",
                     absl::StrCat("The values ", a, " and ", b, " either side of operator ",
                                  Quote(OpText(n)), " must be of the same data type"),
                     n.offset, OpText(n));
      }
      int c;
      if (lhs.IsNumber()) {
        c = lhs.number() < rhs.number() ? -1 : lhs.number() > rhs.number() ? 1 : 0;
      } else {
        int r = lhs.str().compare(rhs.str());
        c = r < 0 ? -1 : r > 0 ? 1 : 0;
      }
      switch (n.op) {
        case BinaryOp::kLt: return Value::Bool(c < 0);
        case BinaryOp::kLe: return Value::Bool(c <= 0);
        case BinaryOp::kGt: return Value::Bool(c > 0);
        default: return Value::Bool(c >= 0);
      }
    }
    case BinaryOp::kConcat: {
      std::string out;
      if (!lhs.IsUndefined()) {
        OW_JSONATA_ASSIGN_OR_RETURN(out, Stringify(lhs, false));
      }
      if (!rhs.IsUndefined()) {
        OW_JSONATA_ASSIGN_OR_RETURN(std::string r, Stringify(rhs, false));
        OW_JSONATA_RETURN_IF_ERROR(CheckString(out.size() + r.size()));
        out += r;
      }
      OW_JSONATA_RETURN_IF_ERROR(Charge(out.size() / 64));
      return Value::String(std::move(out));
    }
    case BinaryOp::kIn: {
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value::Bool(false);
      auto same = [&](const Value& a, const Value& b) {
        if (a.type() != b.type()) return false;
        switch (a.type()) {
          case Value::Type::kNull: return true;
          case Value::Type::kBool: return a.boolean() == b.boolean();
          case Value::Type::kNumber: return a.number() == b.number();
          case Value::Type::kString: return a.str() == b.str();
          default: return a.identity() == b.identity();
        }
      };
      if (rhs.IsArray()) {
        size_t m = rhs.size();
        OW_JSONATA_RETURN_IF_ERROR(Charge(m));
        for (size_t i = 0; i < m; ++i) {
          if (same(rhs.at(i), lhs)) return Value::Bool(true);
        }
        return Value::Bool(false);
      }
      return Value::Bool(same(rhs, lhs));
    }
    case BinaryOp::kRange: {
      if (!lhs.IsUndefined() && !(lhs.IsNumber() && IsInteger(lhs.number()))) {
        return Error("T2003", "The left side of the range operator (..) must evaluate to an integer",
                     n.offset, "..");
      }
      if (!rhs.IsUndefined() && !(rhs.IsNumber() && IsInteger(rhs.number()))) {
        return Error("T2004", "The right side of the range operator (..) must evaluate to an integer",
                     n.offset, "..");
      }
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
      double a = lhs.number(), b = rhs.number();
      if (a > b) return Value();
      double size = b - a + 1;
      if (size > static_cast<double>(limits_.max_sequence_length)) {
        return Error("D2014",
                     absl::StrCat("The size of the sequence allocated by the range operator (..) "
                                  "must not exceed the limit of ",
                                  limits_.max_sequence_length, ".  Attempted to allocate ",
                                  FormatJsNumber(size), "."),
                     n.offset, "..");
      }
      size_t count = static_cast<size_t>(size);
      OW_JSONATA_RETURN_IF_ERROR(Charge(count));
      auto seq = NewSequence();
      seq->items.reserve(count);
      for (size_t i = 0; i < count; ++i) {
        seq->items.push_back(Value::Number(a + static_cast<double>(i)));
      }
      return Value::Array(std::move(seq));
    }
    default:
      return Error("S0204", absl::StrCat("Unknown operator: ", Quote(OpText(n))), n.offset);
  }
}

absl::StatusOr<Value> Evaluator::EvalArray(const Node& n, const Value& input, Frame* env) {
  auto out = std::make_shared<ArrayData>();
  for (const NodePtr& item : n.items) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value v, Eval(*item, input, env));
    if (v.IsUndefined()) continue;
    if (item->type == NodeType::kArray || !v.IsArray()) {
      out->items.push_back(std::move(v));
    } else if (const ArrayData* a = v.array_data()) {
      out->items.insert(out->items.end(), a->items.begin(), a->items.end());
    } else {
      size_t m = v.size();
      for (size_t k = 0; k < m; ++k) out->items.push_back(v.at(k));
    }
    OW_JSONATA_RETURN_IF_ERROR(CheckLength(out->items.size()));
  }
  OW_JSONATA_RETURN_IF_ERROR(Charge(out->items.size()));
  out->cons = n.cons_array;
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> Evaluator::EvalBlock(const Node& n, const Value& input, Frame* env) {
  auto frame = NewFrame(env);
  Value result;
  for (const NodePtr& e : n.items) {
    OW_JSONATA_ASSIGN_OR_RETURN(result, Eval(*e, input, frame.get()));
  }
  return result;
}

// ---- Functions -------------------------------------------------------------

absl::StatusOr<Value> Evaluator::EvalLambda(const Node& n, const Value& input, Frame* env) {
  auto f = std::make_shared<Function>();
  f->kind = Function::Kind::kLambda;
  f->node = &n;
  f->input = input;
  f->env = env;
  if (n.thunk) {
    f->thunk = true;
    f->env_hold = env->shared_from_this();
  } else {
    Retain(env);
  }
  return Value::Func(std::move(f));
}

namespace {

// The name a call refers to, for messages: $name or a field name.
std::string_view ProcedureName(const Node& procedure) {
  if (procedure.type == NodeType::kPath && !procedure.items.empty()) {
    return procedure.items[0]->value;
  }
  return procedure.value;
}

}  // namespace

absl::StatusOr<Value> Evaluator::EvalCall(const Node& n, const Value& input, Frame* env,
                                          const Value* apply_to) {
  OW_JSONATA_ASSIGN_OR_RETURN(Value proc, Eval(*n.procedure, input, env));
  std::string_view name = ProcedureName(*n.procedure);
  if (proc.IsUndefined() && n.procedure->type == NodeType::kPath &&
      !LookupVariable(name, env).IsUndefined()) {
    return Error("T1005",
                 absl::StrCat("Attempted to invoke a non-function. Did you mean $", std::string(name), "?"),
                 n.offset, name);
  }
  std::vector<Value> args;
  args.reserve(n.items.size() + (apply_to ? 1 : 0));
  if (apply_to != nullptr) args.push_back(*apply_to);
  for (const NodePtr& a : n.items) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value v, Eval(*a, input, env));
    args.push_back(std::move(v));
  }
  auto r = Apply(proc, std::move(args), input);
  if (!r.ok()) return WithOffset(r.status(), n.offset, name);
  return r;
}

absl::StatusOr<Value> Evaluator::EvalPartial(const Node& n, const Value& input, Frame* env) {
  auto f = std::make_shared<Function>();
  f->kind = Function::Kind::kPartial;
  for (const NodePtr& a : n.items) {
    if (a->type == NodeType::kPlaceholder) {
      f->bound.emplace_back();
      f->hole.push_back(true);
    } else {
      OW_JSONATA_ASSIGN_OR_RETURN(Value v, Eval(*a, input, env));
      f->bound.push_back(std::move(v));
      f->hole.push_back(false);
    }
  }
  OW_JSONATA_ASSIGN_OR_RETURN(Value proc, Eval(*n.procedure, input, env));
  std::string_view name = ProcedureName(*n.procedure);
  if (proc.IsUndefined() && n.procedure->type == NodeType::kPath &&
      !LookupVariable(name, env).IsUndefined()) {
    return Error("T1007",
                 absl::StrCat("Attempted to partially apply a non-function. Did you mean $", std::string(name),
                              "?"),
                 n.offset, name);
  }
  if (!proc.IsFunction()) {
    return Error("T1008", "Attempted to partially apply a non-function", n.offset, name);
  }
  f->target = std::move(proc);
  return Value::Func(std::move(f));
}

absl::StatusOr<Value> Evaluator::EvalApply(const Node& n, const Value& input, Frame* env) {
  OW_JSONATA_ASSIGN_OR_RETURN(Value lhs, Eval(*n.lhs, input, env));
  if (n.rhs->type == NodeType::kCall) return EvalCall(*n.rhs, input, env, &lhs);
  OW_JSONATA_ASSIGN_OR_RETURN(Value func, Eval(*n.rhs, input, env));
  if (!func.IsFunction()) {
    return Error("T2006", "The right side of the function application operator ~> must be a function",
                 n.offset, "~>");
  }
  if (lhs.IsFunction()) {
    auto chain = std::make_shared<Function>();
    chain->kind = Function::Kind::kChain;
    chain->first = std::move(lhs);
    chain->second = std::move(func);
    return Value::Func(std::move(chain));
  }
  std::vector<Value> args;
  args.push_back(std::move(lhs));
  auto r = Apply(func, std::move(args), Value::Null());
  if (!r.ok()) return WithOffset(r.status(), n.offset, "~>");
  return r;
}

absl::StatusOr<Value> Evaluator::Apply(const Value& proc, std::vector<Value> args,
                                       const Value& input) {
  OW_JSONATA_ASSIGN_OR_RETURN(Value result, ApplyInner(proc, std::move(args), input));
  // Tail calls come back as thunks; run them here without nesting.
  while (result.IsFunction() && result.function()->thunk) {
    std::shared_ptr<Function> thunk = result.function_ptr();
    const Node& call = *thunk->node->body;
    Frame* env = thunk->env;
    OW_JSONATA_ASSIGN_OR_RETURN(Value next, Eval(*call.procedure, thunk->input, env));
    std::vector<Value> next_args;
    next_args.reserve(call.items.size());
    for (const NodePtr& a : call.items) {
      OW_JSONATA_ASSIGN_OR_RETURN(Value v, Eval(*a, thunk->input, env));
      next_args.push_back(std::move(v));
    }
    auto r = ApplyInner(next, std::move(next_args), input);
    if (!r.ok()) return WithOffset(r.status(), call.offset, ProcedureName(*call.procedure));
    result = std::move(r).value();
  }
  return result;
}

absl::StatusOr<Value> Evaluator::ApplyInner(const Value& proc, std::vector<Value> args,
                                            const Value& input) {
  if (!proc.IsFunction()) return Error("T1006", "Attempted to invoke a non-function");
  const Function& f = *proc.function();
  if (++call_depth_ > limits_.max_call_depth) {
    --call_depth_;
    return Error("U1002", absl::StrCat("Function calls nest deeper than the limit of ",
                                       limits_.max_call_depth));
  }
  struct DepthGuard {
    int* d;
    ~DepthGuard() { --*d; }
  } guard{&call_depth_};
  if (const Signature* sig = f.signature()) {
    OW_JSONATA_ASSIGN_OR_RETURN(args, sig->Validate(args, input, f.Name()));
  }
  switch (f.kind) {
    case Function::Kind::kLambda:
      return ApplyProcedure(f, args);
    case Function::Kind::kBuiltin:
      return f.builtin->fn(*this, args, input);
    case Function::Kind::kNative:
      return ApplyNative(f, args);
    case Function::Kind::kPartial: {
      std::vector<Value> full;
      full.reserve(f.bound.size());
      size_t k = 0;
      for (size_t i = 0; i < f.bound.size(); ++i) {
        if (f.hole[i]) {
          full.push_back(k < args.size() ? args[k] : Value());
          ++k;
        } else {
          full.push_back(f.bound[i]);
        }
      }
      return Apply(f.target, std::move(full), input);
    }
    case Function::Kind::kChain: {
      OW_JSONATA_ASSIGN_OR_RETURN(Value mid, Apply(f.first, std::move(args), input));
      std::vector<Value> next;
      next.push_back(std::move(mid));
      return Apply(f.second, std::move(next), input);
    }
    case Function::Kind::kRegex:
      return ApplyRegex(f, args);
    case Function::Kind::kTransform:
      return ApplyTransform(f, args.empty() ? Value() : args[0]);
  }
  return Value();
}

absl::StatusOr<Value> Evaluator::ApplyProcedure(const Function& f, const std::vector<Value>& args) {
  auto frame = std::make_shared<Frame>();
  frame->parent = f.env->shared_from_this();
  const auto& params = f.node->params;
  frame->vars.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    frame->vars.emplace_back(params[i], i < args.size() ? args[i] : Value());
  }
  return Eval(*f.node->body, f.input, frame.get());
}

absl::StatusOr<Value> Evaluator::ApplyNative(const Function& f, const std::vector<Value>& args) {
  std::vector<std::optional<Json>> jargs;
  jargs.reserve(args.size());
  for (const Value& a : args) {
    if (a.IsUndefined() || a.IsFunction()) {
      jargs.emplace_back();
    } else {
      OW_JSONATA_ASSIGN_OR_RETURN(Json j, ToJson(a));
      jargs.emplace_back(std::move(j));
    }
  }
  auto r = f.native->fn(std::span<const std::optional<Json>>(jargs), *this);
  if (!r.ok()) {
    if (ReadError(r.status()).has_value()) return r.status();
    return Error("D3137", std::string(r.status().message()), kNoOffset, f.native->name);
  }
  if (!r->has_value()) return Value();
  return Adopt(std::move(**r));
}

absl::StatusOr<Value> Evaluator::ApplyRegex(const Function& f, const std::vector<Value>& args) {
  if (args.empty() || !args[0].IsString()) return Value();
  const std::string& s = args[0].str();
  OW_JSONATA_ASSIGN_OR_RETURN(auto m, MatchRegex(*f.regex, s, 0));
  if (!m.has_value()) return Value();
  auto obj = std::make_shared<ObjectData>();
  obj->Set("match", Value::String(m->match));
  obj->Set("start", Value::Number(static_cast<double>(CodePointCount(std::string_view(s).substr(0, m->start)))));
  obj->Set("end", Value::Number(static_cast<double>(CodePointCount(std::string_view(s).substr(0, m->end)))));
  auto groups = std::make_shared<ArrayData>();
  for (const auto& g : m->groups) groups->items.push_back(Value::String(g.value_or("")));
  obj->Set("groups", Value::Array(std::move(groups)));
  return Value::Object(std::move(obj));
}

absl::StatusOr<Value> Evaluator::ApplyTransform(const Function& f, const Value& obj) {
  if (obj.IsUndefined()) return Value();
  const Node& n = *f.node;
  OW_JSONATA_ASSIGN_OR_RETURN(Value result, Clone(obj));
  OW_JSONATA_ASSIGN_OR_RETURN(Value matches, Eval(*n.pattern, result, f.env));
  if (matches.IsUndefined()) return result;
  std::vector<Value> list;
  if (matches.IsArray()) {
    for (size_t i = 0; i < matches.size(); ++i) list.push_back(matches.at(i));
  } else {
    list.push_back(matches);
  }
  for (const Value& match : list) {
    OW_JSONATA_RETURN_IF_ERROR(Charge(1));
    ObjectData* target = match.IsObject() ? const_cast<ObjectData*>(match.object_data()) : nullptr;
    OW_JSONATA_ASSIGN_OR_RETURN(Value update, Eval(*n.update, match, f.env));
    if (!update.IsUndefined()) {
      if (!update.IsObject()) {
        OW_JSONATA_ASSIGN_OR_RETURN(std::string s, Stringify(update, false));
        return Error("T2011",
                     absl::StrCat("The insert/update clause of the transform expression must "
                                  "evaluate to an object: ",
                                  update.IsString() ? Quote(s) : s),
                     n.update->offset);
      }
      if (target != nullptr) {
        update.ForEachMember([&](std::string_view k, const Value& v) { target->Set(k, v); });
      }
    }
    if (n.deletion) {
      OW_JSONATA_ASSIGN_OR_RETURN(Value del, Eval(*n.deletion, match, f.env));
      if (!del.IsUndefined()) {
        std::vector<Value> names;
        if (del.IsArray()) {
          for (size_t i = 0; i < del.size(); ++i) names.push_back(del.at(i));
        } else {
          names.push_back(del);
        }
        for (const Value& name : names) {
          if (!name.IsString()) {
            OW_JSONATA_ASSIGN_OR_RETURN(std::string s, Stringify(del, false));
            return Error("T2012",
                         absl::StrCat("The delete clause of the transform expression must "
                                      "evaluate to a string or array of strings: ",
                                      s),
                         n.deletion->offset);
          }
        }
        if (target != nullptr) {
          for (const Value& name : names) target->Erase(name.str());
        }
      }
    }
  }
  return result;
}

absl::StatusOr<Value> Evaluator::ApplyHof(const Value& fn, const Value& value, const Value& index,
                                          const Value& array) {
  std::vector<Value> args;
  args.push_back(value);
  size_t arity = fn.IsFunction() ? fn.function()->Arity() : 1;
  if (arity >= 2) args.push_back(index);
  if (arity >= 3) args.push_back(array);
  return Apply(fn, std::move(args), Value::Null());
}

absl::StatusOr<std::optional<RegexMatchResult>> Evaluator::MatchRegex(const Regex& re,
                                                                      std::string_view s,
                                                                      size_t from) {
  OW_JSONATA_RETURN_IF_ERROR(Charge(1 + s.size() / 256));
  OW_JSONATA_ASSIGN_OR_RETURN(
      auto m, re.Exec(s, from, limits_.regex_match_limit, limits_.regex_heap_limit_kib));
  if (!m.has_value()) return std::optional<RegexMatchResult>();
  RegexMatchResult r;
  r.start = m->start;
  r.end = m->end;
  r.match = std::string(s.substr(m->start, m->end - m->start));
  for (const auto& g : m->groups) {
    if (g.has_value()) {
      r.groups.emplace_back(std::string(s.substr(g->first, g->second - g->first)));
    } else {
      r.groups.emplace_back(std::nullopt);
    }
  }
  return std::optional<RegexMatchResult>(std::move(r));
}

absl::StatusOr<Value> Evaluator::EvalText(std::string_view text, const Value& context) {
  Limits limits = limits_;
  auto program = Parse(text, limits);
  if (!program.ok()) {
    return Error("D3120", absl::StrCat("Syntax error in expression passed to function eval: ",
                                       program.status().message()));
  }
  const Program& p = **program;
  eval_programs_.push_back(std::move(program).value());
  Value in = context;
  if (in.IsArray() && !in.IsSequence()) {
    auto wrapper = SequenceOf(in);
    wrapper->outer_wrapper = true;
    in = Value::Array(std::move(wrapper));
  }
  auto frame = NewFrame(root_.get());
  frame->retained = true;
  retained_.push_back(frame);
  frame->Bind("$", in);
  auto r = Eval(*p.root, in, frame.get());
  if (!r.ok()) {
    auto f = ReadError(r.status());
    if (f.has_value() && !f->code.empty() && f->code[0] == 'U') return r.status();
    return Error("D3121", absl::StrCat("Dynamic error evaluating the expression passed to function eval: ",
                                       Finalize(r.status(), p.text).message()));
  }
  return r;
}

// ---- Values ----------------------------------------------------------------

Value Evaluator::Adopt(Json j) {
  adopted_.push_back(std::move(j));
  return Value::FromJson(adopted_.back());
}

absl::StatusOr<Value> Evaluator::Append(const Value& a, const Value& b) {
  if (a.IsUndefined()) return b;
  if (b.IsUndefined()) return a;
  auto out = std::make_shared<ArrayData>();
  size_t na = a.IsArray() ? a.size() : 1;
  size_t nb = b.IsArray() ? b.size() : 1;
  OW_JSONATA_RETURN_IF_ERROR(CheckLength(na + nb));
  OW_JSONATA_RETURN_IF_ERROR(Charge(na + nb));
  out->items.reserve(na + nb);
  if (a.IsArray()) {
    for (size_t i = 0; i < na; ++i) out->items.push_back(a.at(i));
  } else {
    out->items.push_back(a);
  }
  if (b.IsArray()) {
    for (size_t i = 0; i < nb; ++i) out->items.push_back(b.at(i));
  } else {
    out->items.push_back(b);
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<bool> Evaluator::DeepEqual(const Value& a, const Value& b) {
  OW_JSONATA_RETURN_IF_ERROR(Charge(1));
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kUndefined:
    case Value::Type::kNull:
      return true;
    case Value::Type::kBool:
      return a.boolean() == b.boolean();
    case Value::Type::kNumber:
      return a.number() == b.number();
    case Value::Type::kString:
      return a.str() == b.str();
    case Value::Type::kFunction:
      return a.identity() == b.identity();
    case Value::Type::kArray: {
      if (a.identity() == b.identity()) return true;
      if (a.size() != b.size()) return false;
      OW_JSONATA_RETURN_IF_ERROR(CheckStack());
      for (size_t i = 0; i < a.size(); ++i) {
        OW_JSONATA_ASSIGN_OR_RETURN(bool eq, DeepEqual(a.at(i), b.at(i)));
        if (!eq) return false;
      }
      return true;
    }
    case Value::Type::kObject: {
      if (a.identity() == b.identity()) return true;
      if (a.ObjectSize() != b.ObjectSize()) return false;
      OW_JSONATA_RETURN_IF_ERROR(CheckStack());
      absl::Status s;
      bool eq = true;
      a.ForEachMember([&](std::string_view k, const Value& v) {
        if (!eq || !s.ok()) return;
        Value other = b.Get(k);
        if (other.IsUndefined()) {
          eq = false;
          return;
        }
        auto r = DeepEqual(v, other);
        if (!r.ok()) {
          s = r.status();
        } else if (!*r) {
          eq = false;
        }
      });
      OW_JSONATA_RETURN_IF_ERROR(s);
      return eq;
    }
  }
  return false;
}

absl::StatusOr<Value> Evaluator::Clone(const Value& v) {
  OW_JSONATA_RETURN_IF_ERROR(Charge(1));
  switch (v.type()) {
    case Value::Type::kNumber:
      return Value::Number(RoundTo15(v.number()));
    case Value::Type::kFunction:
      return Value::String("");
    case Value::Type::kArray: {
      OW_JSONATA_RETURN_IF_ERROR(CheckStack());
      auto out = std::make_shared<ArrayData>();
      out->items.reserve(v.size());
      for (size_t i = 0; i < v.size(); ++i) {
        OW_JSONATA_ASSIGN_OR_RETURN(Value c, Clone(v.at(i)));
        out->items.push_back(std::move(c));
      }
      return Value::Array(std::move(out));
    }
    case Value::Type::kObject: {
      OW_JSONATA_RETURN_IF_ERROR(CheckStack());
      auto out = std::make_shared<ObjectData>();
      absl::Status s;
      v.ForEachMember([&](std::string_view k, const Value& m) {
        if (!s.ok() || m.IsUndefined()) return;
        auto c = Clone(m);
        if (!c.ok()) {
          s = c.status();
          return;
        }
        out->Set(k, std::move(c).value());
      });
      OW_JSONATA_RETURN_IF_ERROR(s);
      return Value::Object(std::move(out));
    }
    default:
      return v;
  }
}

absl::StatusOr<std::string> Evaluator::Stringify(const Value& v, bool pretty) {
  if (v.IsString()) return v.str();
  if (v.IsFunction()) return std::string();
  if (v.IsNumber() && !std::isfinite(v.number())) {
    return Error("D3001", "Attempting to invoke string function on Infinity or NaN");
  }
  std::string out;
  Value x = v;
  if (x.IsOuterWrapper()) x = x.at(0);
  OW_JSONATA_RETURN_IF_ERROR(StringifyInto(x, pretty, 0, &out));
  return out;
}

absl::Status Evaluator::StringifyInto(const Value& v, bool pretty, int indent, std::string* out) {
  OW_JSONATA_RETURN_IF_ERROR(Charge(1));
  OW_JSONATA_RETURN_IF_ERROR(CheckString(out->size()));
  auto newline = [&](int level) {
    if (!pretty) return;
    out->push_back('\n');
    out->append(static_cast<size_t>(level) * 2, ' ');
  };
  switch (v.type()) {
    case Value::Type::kUndefined:
    case Value::Type::kNull:
      out->append("null");
      return absl::OkStatus();
    case Value::Type::kBool:
      out->append(v.boolean() ? "true" : "false");
      return absl::OkStatus();
    case Value::Type::kNumber:
      out->append(std::isfinite(v.number()) ? FormatNumberForString(v.number()) : "null");
      return absl::OkStatus();
    case Value::Type::kString:
      AppendQuoted(v.str(), out);
      return absl::OkStatus();
    case Value::Type::kFunction:
      out->append("\"\"");
      return absl::OkStatus();
    case Value::Type::kArray: {
      OW_JSONATA_RETURN_IF_ERROR(CheckStack());
      size_t n = v.size();
      out->push_back('[');
      for (size_t i = 0; i < n; ++i) {
        if (i > 0) out->push_back(',');
        newline(indent + 1);
        Value item = v.at(i);
        OW_JSONATA_RETURN_IF_ERROR(StringifyInto(item, pretty, indent + 1, out));
      }
      if (n > 0) newline(indent);
      out->push_back(']');
      return absl::OkStatus();
    }
    case Value::Type::kObject: {
      OW_JSONATA_RETURN_IF_ERROR(CheckStack());
      out->push_back('{');
      bool first = true;
      absl::Status s;
      v.ForEachMember([&](std::string_view k, const Value& m) {
        if (!s.ok() || m.IsUndefined()) return;
        if (!first) out->push_back(',');
        first = false;
        newline(indent + 1);
        AppendQuoted(k, out);
        out->push_back(':');
        if (pretty) out->push_back(' ');
        s = StringifyInto(m, pretty, indent + 1, out);
      });
      OW_JSONATA_RETURN_IF_ERROR(s);
      if (!first) newline(indent);
      out->push_back('}');
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Json> Evaluator::ToJson(const Value& v) {
  Json out;
  OW_JSONATA_RETURN_IF_ERROR(ToJsonInto(v, &out));
  return out;
}

absl::Status Evaluator::ToJsonInto(const Value& v, Json* out) {
  OW_JSONATA_RETURN_IF_ERROR(Charge(1));
  result_bytes_ += 8;
  if (result_bytes_ > limits_.max_result_bytes) {
    return Error("U1006", absl::StrCat("Result exceeds the limit of ", limits_.max_result_bytes,
                                       " bytes"));
  }
  switch (v.type()) {
    case Value::Type::kUndefined:
    case Value::Type::kNull:
    case Value::Type::kFunction:
      *out = nullptr;
      return absl::OkStatus();
    case Value::Type::kBool:
      *out = v.boolean();
      return absl::OkStatus();
    case Value::Type::kNumber: {
      double d = v.number();
      if (!std::isfinite(d)) {
        *out = nullptr;
      } else if (IsInteger(d) && std::fabs(d) < 9.2e18) {
        *out = static_cast<int64_t>(d);
      } else {
        *out = d;
      }
      return absl::OkStatus();
    }
    case Value::Type::kString:
      result_bytes_ += v.str().size();
      if (result_bytes_ > limits_.max_result_bytes) {
        return Error("U1006", absl::StrCat("Result exceeds the limit of ",
                                           limits_.max_result_bytes, " bytes"));
      }
      *out = v.str();
      return absl::OkStatus();
    case Value::Type::kArray: {
      OW_JSONATA_RETURN_IF_ERROR(CheckStack());
      *out = Json::array();
      size_t n = v.size();
      auto& arr = out->get_ref<Json::array_t&>();
      arr.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        arr.emplace_back();
        OW_JSONATA_RETURN_IF_ERROR(ToJsonInto(v.at(i), &arr.back()));
      }
      return absl::OkStatus();
    }
    case Value::Type::kObject: {
      OW_JSONATA_RETURN_IF_ERROR(CheckStack());
      *out = Json::object();
      absl::Status s;
      v.ForEachMember([&](std::string_view k, const Value& m) {
        if (!s.ok() || m.IsUndefined() || m.IsFunction()) return;
        result_bytes_ += k.size();
        s = ToJsonInto(m, &(*out)[std::string(k)]);
      });
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace onewindow::asl::jsonata::internal
