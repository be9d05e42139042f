// The JSONata evaluator: paths, operators, constructors, functions.
#include "engine/asl/jsonata/evaluator.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/functions.h"

namespace onewindow::asl::jsonata::internal {

namespace {

std::string_view OpText(const Node& n) { return n.value; }

}  // namespace

const Signature* Function::signature() const {
  switch (kind) {
    case Kind::kLambda:
      return node != nullptr && node->signature.has_value() ? &*node->signature
                                                            : nullptr;
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
      return target.IsFunction() ? target.function()->Name()
                                 : std::string_view();
    default:
      return "lambda";
  }
}

Evaluator::Evaluator(const Program& program, const Bindings& bindings,
                     const Limits& limits)
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
    return Error("D1012", absl::StrCat("Evaluation exceeds the limit of ",
                                       limits_.max_steps,
                                       " steps. Check for infinite loop"));
  }
  return absl::OkStatus();
}

// Stack depth is measured between frame addresses: the address of a local
// would do in a plain build, but under AddressSanitizer's use-after-return
// detection locals live on a separate fake stack.
const char* Evaluator::FrameAddress() {
  return static_cast<const char*>(__builtin_frame_address(0));
}

absl::Status Evaluator::CheckStack() {
  const char* p = FrameAddress();
  size_t used = stack_base_ > p ? static_cast<size_t>(stack_base_ - p) : 0;
  if (used > max_stack_used_) max_stack_used_ = used;
  if (used > limits_.max_stack_bytes) {
    return Error("D1011",
                 absl::StrCat("Stack overflow: evaluation exceeds the stack "
                              "limit of ",
                              limits_.max_stack_bytes,
                              " bytes. Check for non-terminating recursion"));
  }
  return absl::OkStatus();
}

absl::Status Evaluator::CheckLength(size_t items) {
  if (items > limits_.max_sequence_length) {
    return Error("D2015", absl::StrCat("The maximum sequence length of ",
                                       limits_.max_sequence_length,
                                       " was exceeded (", items, " items)"));
  }
  return absl::OkStatus();
}

absl::Status Evaluator::CheckString(size_t bytes) {
  if (bytes > limits_.max_string_bytes) {
    return Error("U1005", absl::StrCat("String of ", bytes,
                                       " bytes exceeds the limit of ",
                                       limits_.max_string_bytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> Evaluator::Random() {
  if (!bindings_.random) {
    return Error(
        "U1010",
        "No source of random numbers was supplied for this evaluation");
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
  stack_base_ = FrameAddress();
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
    return Error(
        "U1009",
        "The result of the expression is a function, which has no JSON value");
  }
  Json out;
  absl::Status s = ToJsonInto(*result, &out);
  if (!s.ok()) return Finalize(s, program_.text);
  return std::optional<Json>(std::move(out));
}

absl::StatusOr<Value> Evaluator::Eval(const Node& n, const Value& input,
                                      Frame* env) {
  // Kept small: this frame is on the stack once per level of nesting.
  const char* here = FrameAddress();
  size_t used =
      stack_base_ > here ? static_cast<size_t>(stack_base_ - here) : 0;
  if (used > max_stack_used_) max_stack_used_ = used;
  if (++steps_ > limits_.max_steps || used > limits_.max_stack_bytes)
    return BudgetError();
  // One named result, finished in place, so that no temporaries share
  // this frame.
  absl::StatusOr<Value> result = EvalNode(n, input, env);
  if (result.ok() &&
      (!n.predicates.empty() || n.group || result->IsSequence())) {
    Finish(n, &result, env);
  }
  return result;
}

absl::Status Evaluator::BudgetError() {
  OW_JSONATA_RETURN_IF_ERROR(Charge(0));
  return CheckStack();
}

void Evaluator::Finish(const Node& n, absl::StatusOr<Value>* result,
                       Frame* env) {
  for (const Stage& p : n.predicates) {
    *result = EvalFilter(*p.expr, **result, env);
    if (!result->ok()) return;
  }
  if (n.type != NodeType::kPath && n.group) {
    *result = EvalGroup(n.group->pairs, n.group->offset, **result, env);
    if (!result->ok()) return;
  }
  const Value& v = **result;
  if (v.IsSequence() && !v.IsTupleStream()) {
    ArrayData* a = const_cast<ArrayData*>(v.array_data());
    if (n.keep_array) a->keep_singleton = true;
    if (a->items.empty()) {
      *result = Value();
    } else if (a->items.size() == 1 && !a->keep_singleton) {
      Value item = a->items[0];
      *result = std::move(item);
    }
  }
}

absl::StatusOr<Value> Evaluator::EvalNode(const Node& n, const Value& input,
                                          Frame* env) {
  // A dispatcher only: every case is a call, so that this frame stays small.
  switch (n.type) {
    case NodeType::kPath:
      return EvalPath(n, input, env);
    case NodeType::kBinary:
      return EvalBinary(n, input, env);
    case NodeType::kNegate:
      return EvalNegate(n, input, env);
    case NodeType::kArray:
      return EvalArray(n, input, env);
    case NodeType::kObject:
      return EvalGroup(n.pairs, n.offset, input, env);
    case NodeType::kName:
      return LookupName(input, n.value);
    case NodeType::kString:
    case NodeType::kNumber:
    case NodeType::kLiteral:
    case NodeType::kRegex:
    case NodeType::kPlaceholder:
      return Constant(n);
    case NodeType::kWildcard:
      return Wildcard(input);
    case NodeType::kDescendant:
      return Descendants(input);
    case NodeType::kParent:
    case NodeType::kVariable:
      return Variable(n, input, env);
    case NodeType::kCondition:
    case NodeType::kElvis:
    case NodeType::kCoalesce:
      return EvalCondition(n, input, env);
    case NodeType::kBlock:
      return EvalBlock(n, input, env);
    case NodeType::kBind:
      return EvalBind(n, input, env);
    case NodeType::kCall:
      return EvalCall(n, input, env, nullptr);
    case NodeType::kPartial:
      return EvalPartial(n, input, env);
    case NodeType::kLambda:
      return EvalLambda(n, input, env);
    case NodeType::kApply:
      return EvalApply(n, input, env);
    case NodeType::kTransform:
      return TransformFunction(n, env);
    case NodeType::kSort:
      return EvalSortNode(n, input, env);
    default:
      return Error("S0206", "Unknown expression type", n.offset);
  }
}

absl::StatusOr<Value> Evaluator::Constant(const Node& n) {
  switch (n.type) {
    case NodeType::kString:
      return Value::StringRef(&n.value);
    case NodeType::kNumber:
      return Value::Number(n.number);
    case NodeType::kLiteral:
      return n.literal == Literal::kNull
                 ? Value::Null()
                 : Value::Bool(n.literal == Literal::kTrue);
    case NodeType::kRegex: {
      auto f = std::make_shared<Function>();
      f->kind = Function::Kind::kRegex;
      f->regex = n.regex;
      return Value::Func(std::move(f));
    }
    default:
      return Value();
  }
}

absl::StatusOr<Value> Evaluator::Variable(const Node& n, const Value& input,
                                          Frame* env) {
  if (n.type == NodeType::kParent) {
    const Value* v = env->Find(n.slot->label);
    return v ? *v : Value();
  }
  if (n.value.empty()) return input.IsOuterWrapper() ? input.at(0) : input;
  return LookupVariable(n.value, env);
}

absl::StatusOr<Value> Evaluator::EvalNegate(const Node& n, const Value& input,
                                            Frame* env) {
  absl::StatusOr<Value> v = Eval(*n.expr, input, env);
  if (!v.ok() || v->IsUndefined()) return v;
  if (v->IsNumber()) return Value::Number(-v->number());
  return NegateError(n, *v);
}

absl::Status Evaluator::NegateError(const Node& n, const Value& v) {
  OW_JSONATA_ASSIGN_OR_RETURN(std::string s, Stringify(v, false));
  if (v.IsString()) s = Quote(s);
  return Error("D1002", absl::StrCat("Cannot negate a non-numeric value: ", s),
               n.offset, "-");
}

absl::StatusOr<Value> Evaluator::EvalCondition(const Node& n,
                                               const Value& input, Frame* env) {
  if (n.type == NodeType::kCondition) {
    absl::StatusOr<Value> c = Eval(*n.condition, input, env);
    if (!c.ok()) return c;
    if (ToBoolean(*c).value_or(false)) return Eval(*n.then_branch, input, env);
    if (n.else_branch) return Eval(*n.else_branch, input, env);
    return Value();
  }
  absl::StatusOr<Value> c = Eval(*n.lhs, input, env);
  if (!c.ok()) return c;
  bool keep = n.type == NodeType::kElvis ? ToBoolean(*c).value_or(false)
                                         : !c->IsUndefined();
  if (keep) return c;
  return Eval(*n.rhs, input, env);
}

absl::StatusOr<Value> Evaluator::EvalBind(const Node& n, const Value& input,
                                          Frame* env) {
  absl::StatusOr<Value> v = Eval(*n.rhs, input, env);
  if (v.ok()) env->Bind(n.value, *v);
  return v;
}

absl::StatusOr<Value> Evaluator::TransformFunction(const Node& n, Frame* env) {
  auto f = std::make_shared<Function>();
  f->kind = Function::Kind::kTransform;
  f->node = &n;
  Retain(env);
  f->env = env;
  return Value::Func(std::move(f));
}

absl::StatusOr<Value> Evaluator::EvalSortNode(const Node& n, const Value& input,
                                              Frame* env) {
  return EvalSort(n, input.IsArray() ? input : Value::Array(SequenceOf(input)),
                  env);
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

std::shared_ptr<Frame> Evaluator::TupleFrame(Frame* parent,
                                             const TupleBindings& bindings) {
  auto f = NewFrame(parent);
  f->vars.reserve(bindings.size());
  for (const auto& [k, v] : bindings) f->vars.emplace_back(k, v);
  return f;
}

Value Evaluator::LookupVariable(std::string_view name, Frame* env) const {
  if (const Value* v = env->Find(name)) return *v;
  if (const Json* j = bindings_.Find(name)) return Value::FromJson(*j);
  if (bindings_.functions != nullptr) {
    if (const NativeEntry* e = bindings_.functions->Find(name))
      return Value::Func(e->function);
  }
  if (const Builtin* b = FindBuiltin(name)) return Value::Func(b->function);
  return Value();
}

// ---- Operators -------------------------------------------------------------

absl::StatusOr<Value> Evaluator::EvalBinary(const Node& n, const Value& input,
                                            Frame* env) {
  absl::StatusOr<Value> lhs = Eval(*n.lhs, input, env);
  if (!lhs.ok()) return lhs;
  if (n.op == BinaryOp::kAnd || n.op == BinaryOp::kOr)
    return EvalLogical(n, *lhs, input, env);
  absl::StatusOr<Value> rhs = Eval(*n.rhs, input, env);
  if (!rhs.ok()) return rhs;
  return BinaryOperation(n, *lhs, *rhs);
}

absl::StatusOr<Value> Evaluator::EvalLogical(const Node& n, const Value& lhs,
                                             const Value& input, Frame* env) {
  bool l = ToBoolean(lhs).value_or(false);
  if (n.op == BinaryOp::kAnd ? !l : l) return Value::Bool(l);
  absl::StatusOr<Value> rhs = Eval(*n.rhs, input, env);
  if (!rhs.ok()) return rhs;
  return Value::Bool(ToBoolean(*rhs).value_or(false));
}

absl::StatusOr<Value> Evaluator::BinaryOperation(const Node& n,
                                                 const Value& lhs,
                                                 const Value& rhs) {
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
      for (const Value* v : {&lhs, &rhs}) {
        if (!std::isfinite(v->number())) {
          return Error("D1001",
                       absl::StrCat("Number out of range: ",
                                    FormatJsNumber(v->number())),
                       n.offset, OpText(n));
        }
      }
      double a = lhs.number(), b = rhs.number(), r = 0;
      switch (n.op) {
        case BinaryOp::kAdd:
          r = a + b;
          break;
        case BinaryOp::kSub:
          r = a - b;
          break;
        case BinaryOp::kMul:
          r = a * b;
          break;
        case BinaryOp::kDiv:
          r = a / b;
          break;
        default:
          r = std::fmod(a, b);
          break;
      }
      // As in JSONata, a result out of range (Infinity, NaN) is only an
      // error when it is used: as an operand, in $string, or in the result.
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
                     absl::StrCat("The expressions either side of operator ",
                                  Quote(OpText(n)),
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
                     absl::StrCat("The values ", a, " and ", b,
                                  " either side of operator ", Quote(OpText(n)),
                                  " must be of the same data type"),
                     n.offset, OpText(n));
      }
      int c;
      if (lhs.IsNumber()) {
        c = lhs.number() < rhs.number()   ? -1
            : lhs.number() > rhs.number() ? 1
                                          : 0;
      } else {
        int r = lhs.str().compare(rhs.str());
        c = r < 0 ? -1 : r > 0 ? 1 : 0;
      }
      switch (n.op) {
        case BinaryOp::kLt:
          return Value::Bool(c < 0);
        case BinaryOp::kLe:
          return Value::Bool(c <= 0);
        case BinaryOp::kGt:
          return Value::Bool(c > 0);
        default:
          return Value::Bool(c >= 0);
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
          case Value::Type::kNull:
            return true;
          case Value::Type::kBool:
            return a.boolean() == b.boolean();
          case Value::Type::kNumber:
            return a.number() == b.number();
          case Value::Type::kString:
            return a.str() == b.str();
          default:
            return a.identity() == b.identity();
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
        return Error("T2003",
                     "The left side of the range operator (..) must evaluate "
                     "to an integer",
                     n.offset, "..");
      }
      if (!rhs.IsUndefined() && !(rhs.IsNumber() && IsInteger(rhs.number()))) {
        return Error("T2004",
                     "The right side of the range operator (..) must evaluate "
                     "to an integer",
                     n.offset, "..");
      }
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
      double a = lhs.number(), b = rhs.number();
      if (a > b) return Value();
      double size = b - a + 1;
      if (size > static_cast<double>(limits_.max_sequence_length)) {
        return Error(
            "D2014",
            absl::StrCat(
                "The size of the sequence allocated by the range operator (..) "
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
      return Error("S0204",
                   absl::StrCat("Unknown operator: ", Quote(OpText(n))),
                   n.offset);
  }
}

absl::StatusOr<Value> Evaluator::EvalArray(const Node& n, const Value& input,
                                           Frame* env) {
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

absl::StatusOr<Value> Evaluator::EvalBlock(const Node& n, const Value& input,
                                           Frame* env) {
  auto frame = NewFrame(env);
  Value result;
  for (const NodePtr& e : n.items) {
    OW_JSONATA_ASSIGN_OR_RETURN(result, Eval(*e, input, frame.get()));
  }
  return result;
}

}  // namespace onewindow::asl::jsonata::internal
