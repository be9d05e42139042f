// Functions: lambdas, calls, partial application, chains, the application
// of every kind of function, transforms, regular expressions and $eval.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/evaluator.h"
#include "engine/asl/jsonata/functions.h"

namespace onewindow::asl::jsonata::internal {

// ---- Functions -------------------------------------------------------------

absl::StatusOr<Value> Evaluator::EvalLambda(const Node& n, const Value& input,
                                            Frame* env) {
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

absl::StatusOr<Value> Evaluator::EvalCall(const Node& n, const Value& input,
                                          Frame* env, const Value* apply_to) {
  Value proc;
  std::vector<Value> args;
  absl::Status prepared = PrepareCall(n, input, env, apply_to, &proc, &args);
  if (!prepared.ok()) return prepared;
  Frame* saved = call_env_;
  call_env_ = env;
  absl::StatusOr<Value> r = Apply(proc, std::move(args), input);
  call_env_ = saved;
  if (!r.ok()) CallFailed(n, &r);
  return r;
}

void Evaluator::CallFailed(const Node& n, absl::StatusOr<Value>* r) {
  *r = WithOffset(r->status(), n.offset, ProcedureName(*n.procedure));
}

absl::Status Evaluator::PrepareCall(const Node& n, const Value& input,
                                    Frame* env, const Value* apply_to,
                                    Value* proc, std::vector<Value>* args) {
  OW_JSONATA_ASSIGN_OR_RETURN(*proc, Eval(*n.procedure, input, env));
  if (proc->IsUndefined() && n.procedure->type == NodeType::kPath) {
    return CallError(n, ProcedureName(*n.procedure), false, env);
  }
  args->reserve(n.items.size() + (apply_to ? 1 : 0));
  if (apply_to != nullptr) args->push_back(*apply_to);
  for (const NodePtr& a : n.items) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value v, Eval(*a, input, env));
    args->push_back(std::move(v));
  }
  return absl::OkStatus();
}

absl::Status Evaluator::CallError(const Node& n, std::string_view name,
                                  bool partial, Frame* env) {
  // JSONata's hint when a field name was called where $name was meant.
  if (!LookupVariable(name, env).IsUndefined()) {
    if (partial) {
      return Error(
          "T1007",
          absl::StrCat(
              "Attempted to partially apply a non-function. Did you mean $",
              std::string(name), "?"),
          n.offset, name);
    }
    return Error(
        "T1005",
        absl::StrCat("Attempted to invoke a non-function. Did you mean $",
                     std::string(name), "?"),
        n.offset, name);
  }
  if (partial)
    return Error("T1008", "Attempted to partially apply a non-function",
                 n.offset, name);
  return Error("T1006", "Attempted to invoke a non-function", n.offset, name);
}

absl::StatusOr<Value> Evaluator::EvalPartial(const Node& n, const Value& input,
                                             Frame* env) {
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
  if (!proc.IsFunction()) {
    absl::Status s =
        CallError(n, ProcedureName(*n.procedure), /*partial=*/true, env);
    if (!proc.IsUndefined() || n.procedure->type != NodeType::kPath) {
      return Error("T1008", "Attempted to partially apply a non-function",
                   n.offset, ProcedureName(*n.procedure));
    }
    return s;
  }
  f->target = std::move(proc);
  return Value::Func(std::move(f));
}

absl::StatusOr<Value> Evaluator::EvalApply(const Node& n, const Value& input,
                                           Frame* env) {
  OW_JSONATA_ASSIGN_OR_RETURN(Value lhs, Eval(*n.lhs, input, env));
  if (n.rhs->type == NodeType::kCall) return EvalCall(*n.rhs, input, env, &lhs);
  OW_JSONATA_ASSIGN_OR_RETURN(Value func, Eval(*n.rhs, input, env));
  if (!func.IsFunction()) {
    return Error("T2006",
                 "The right side of the function application operator ~> must "
                 "be a function",
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

absl::StatusOr<Value> Evaluator::Apply(const Value& proc,
                                       std::vector<Value> args,
                                       const Value& input) {
  absl::StatusOr<Value> result = ApplyInner(proc, std::move(args), input);
  // Tail calls come back as thunks; run them here, one after the other.
  while (result.ok() && result->IsFunction() && result->function()->thunk) {
    result = RunThunk(*result, input);
  }
  return result;
}

absl::StatusOr<Value> Evaluator::RunThunk(const Value& thunk_value,
                                          const Value& input) {
  std::shared_ptr<Function> thunk = thunk_value.function_ptr();
  const Node& call = *thunk->node->body;
  Frame* env = thunk->env;
  absl::StatusOr<Value> next = Eval(*call.procedure, thunk->input, env);
  if (!next.ok()) return next;
  if (next->IsUndefined() && call.procedure->type == NodeType::kPath) {
    return CallError(call, ProcedureName(*call.procedure), false, env);
  }
  std::vector<Value> args;
  args.reserve(call.items.size());
  for (const NodePtr& a : call.items) {
    absl::StatusOr<Value> v = Eval(*a, thunk->input, env);
    if (!v.ok()) return v;
    args.push_back(std::move(v).value());
  }
  Frame* saved = call_env_;
  call_env_ = env;
  absl::StatusOr<Value> r = ApplyInner(*next, std::move(args), input);
  call_env_ = saved;
  if (!r.ok())
    return WithOffset(r.status(), call.offset, ProcedureName(*call.procedure));
  return r;
}

absl::StatusOr<Value> Evaluator::ApplyInner(const Value& proc,
                                            std::vector<Value> args,
                                            const Value& input) {
  if (!proc.IsFunction() || call_depth_ >= limits_.max_call_depth)
    return ApplyError(proc);
  const Function& f = *proc.function();
  if (f.signature() != nullptr) {
    absl::Status s = ValidateArguments(f, &args, input);
    if (!s.ok()) return s;
  }
  ++call_depth_;
  absl::StatusOr<Value> r = f.kind == Function::Kind::kLambda
                                ? ApplyProcedure(f, args)
                            : f.kind == Function::Kind::kBuiltin
                                ? f.builtin->fn(*this, args, input)
                                : ApplyComposite(f, std::move(args), input);
  --call_depth_;
  return r;
}

absl::Status Evaluator::ApplyError(const Value& proc) {
  if (!proc.IsFunction())
    return Error("T1006", "Attempted to invoke a non-function");
  return Error("D1011",
               absl::StrCat("Stack overflow: function calls nest deeper than "
                            "the limit of ",
                            limits_.max_call_depth,
                            ". Check for non-terminating recursive function.  "
                            "Consider rewriting as tail-recursive"));
}

absl::Status Evaluator::ValidateArguments(const Function& f,
                                          std::vector<Value>* args,
                                          const Value& input) {
  OW_JSONATA_ASSIGN_OR_RETURN(*args,
                              f.signature()->Validate(*args, input, f.Name()));
  return absl::OkStatus();
}

absl::StatusOr<Value> Evaluator::ApplyComposite(const Function& f,
                                                std::vector<Value> args,
                                                const Value& input) {
  switch (f.kind) {
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
      OW_JSONATA_ASSIGN_OR_RETURN(Value mid,
                                  Apply(f.first, std::move(args), input));
      std::vector<Value> next;
      next.push_back(std::move(mid));
      return Apply(f.second, std::move(next), input);
    }
    case Function::Kind::kRegex:
      return ApplyRegex(f, args);
    case Function::Kind::kTransform:
      return ApplyTransform(f, args.empty() ? Value() : args[0]);
    default:
      return Value();
  }
}

absl::StatusOr<Value> Evaluator::ApplyProcedure(
    const Function& f, const std::vector<Value>& args) {
  auto frame = std::make_shared<Frame>();
  frame->parent = f.env->shared_from_this();
  const auto& params = f.node->params;
  frame->vars.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    frame->vars.emplace_back(params[i], i < args.size() ? args[i] : Value());
  }
  return Eval(*f.node->body, f.input, frame.get());
}

absl::StatusOr<Value> Evaluator::ApplyNative(const Function& f,
                                             const std::vector<Value>& args) {
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
    return Error("D3137", std::string(r.status().message()), kNoOffset,
                 f.native->name);
  }
  if (!r->has_value()) return Value();
  return Adopt(std::move(**r));
}

absl::StatusOr<Value> Evaluator::ApplyRegex(const Function& f,
                                            const std::vector<Value>& args) {
  if (args.empty() || !args[0].IsString()) return Value();
  const std::string& s = args[0].str();
  OW_JSONATA_ASSIGN_OR_RETURN(auto m, MatchRegex(*f.regex, s, 0));
  if (!m.has_value()) return Value();
  auto obj = std::make_shared<ObjectData>();
  obj->Set("match", Value::String(m->match));
  obj->Set("start", Value::Number(static_cast<double>(CodePointCount(
                        std::string_view(s).substr(0, m->start)))));
  obj->Set("end", Value::Number(static_cast<double>(
                      CodePointCount(std::string_view(s).substr(0, m->end)))));
  auto groups = std::make_shared<ArrayData>();
  for (const auto& g : m->groups)
    groups->items.push_back(Value::String(g.value_or("")));
  obj->Set("groups", Value::Array(std::move(groups)));
  return Value::Object(std::move(obj));
}

absl::StatusOr<Value> Evaluator::ApplyTransform(const Function& f,
                                                const Value& obj) {
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
    ObjectData* target = match.IsObject()
                             ? const_cast<ObjectData*>(match.object_data())
                             : nullptr;
    OW_JSONATA_ASSIGN_OR_RETURN(Value update, Eval(*n.update, match, f.env));
    if (!update.IsUndefined()) {
      if (!update.IsObject()) {
        OW_JSONATA_ASSIGN_OR_RETURN(std::string s, Stringify(update, false));
        return Error(
            "T2011",
            absl::StrCat(
                "The insert/update clause of the transform expression must "
                "evaluate to an object: ",
                update.IsString() ? Quote(s) : s),
            n.update->offset);
      }
      if (target != nullptr) {
        update.ForEachMember(
            [&](std::string_view k, const Value& v) { target->Set(k, v); });
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
            return Error(
                "T2012",
                absl::StrCat(
                    "The delete clause of the transform expression must "
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

absl::StatusOr<Value> Evaluator::ApplyHof(const Value& fn, const Value& value,
                                          const Value& index,
                                          const Value& array) {
  std::vector<Value> args;
  args.push_back(value);
  size_t arity = fn.IsFunction() ? fn.function()->Arity() : 1;
  if (arity >= 2) args.push_back(index);
  if (arity >= 3) args.push_back(array);
  return Apply(fn, std::move(args), Value::Null());
}

absl::StatusOr<std::optional<RegexMatchResult>> Evaluator::MatchRegex(
    const Regex& re, std::string_view s, size_t from) {
  OW_JSONATA_RETURN_IF_ERROR(Charge(1 + s.size() / 256));
  OW_JSONATA_ASSIGN_OR_RETURN(auto m,
                              re.Exec(s, from, limits_.regex_match_limit,
                                      limits_.regex_heap_limit_kib));
  if (!m.has_value()) return std::optional<RegexMatchResult>();
  RegexMatchResult r;
  r.start = m->start;
  r.end = m->end;
  r.match = std::string(s.substr(m->start, m->end - m->start));
  for (const auto& g : m->groups) {
    if (g.has_value()) {
      r.groups.emplace_back(
          std::string(s.substr(g->first, g->second - g->first)));
    } else {
      r.groups.emplace_back(std::nullopt);
    }
  }
  return std::optional<RegexMatchResult>(std::move(r));
}

absl::StatusOr<Value> Evaluator::EvalText(std::string_view text,
                                          const Value& context) {
  Limits limits = limits_;
  auto program = Parse(text, limits);
  if (!program.ok()) {
    return Error(
        "D3120",
        absl::StrCat("Syntax error in expression passed to function eval: ",
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
  // The expression sees the variables of the calling scope, as in JSONata.
  auto frame = NewFrame(call_env_ != nullptr ? call_env_ : root_.get());
  frame->retained = true;
  retained_.push_back(frame);
  frame->Bind("$", in);
  auto r = Eval(*p.root, in, frame.get());
  if (!r.ok()) {
    auto f = ReadError(r.status());
    if (f.has_value() && IsLimitCode(f->code)) return r.status();
    return Error(
        "D3121",
        absl::StrCat(
            "Dynamic error evaluating the expression passed to function eval: ",
            Finalize(r.status(), p.text).message()));
  }
  return r;
}

}  // namespace onewindow::asl::jsonata::internal
