// Path evaluation: steps, tuple streams, predicates, sorting, grouping,
// field lookup, wildcards and descendants.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/evaluator.h"
#include "engine/asl/jsonata/functions.h"

namespace onewindow::asl::jsonata::internal {

// ---- Paths -----------------------------------------------------------------

absl::StatusOr<Value> Evaluator::EvalPath(const Node& n, const Value& input,
                                          Frame* env) {
  const auto& steps = n.items;
  Value input_seq;
  size_t first = 0;
  // Fast path: while every step maps one non-array value to one value, no
  // sequence needs to be built. The result is the one JSONata's general
  // algorithm gives (a one-item sequence is its item).
  if (!n.keep_singleton_array && !n.keep_array && !n.group && !n.tuple &&
      (!input.IsArray() || steps[0]->type == NodeType::kVariable)) {
    Value cur = input;
    for (; first < steps.size(); ++first) {
      const Node& step = *steps[first];
      if (step.tuple || step.type == NodeType::kSort || !step.stages.empty() ||
          (first == 0 && step.cons_array) || cur.IsArray()) {
        break;
      }
      OW_JSONATA_ASSIGN_OR_RETURN(Value r, Eval(step, cur, env));
      if (r.IsUndefined() || first + 1 == steps.size()) return r;
      cur = std::move(r);
      if (cur.IsArray()) {
        ++first;
        break;
      }
    }
    if (first == 0) {
      input_seq = Value::Array(SequenceOf(input));
    } else if (cur.IsArray() && !cur.IsCons()) {
      input_seq = cur;
    } else {
      input_seq = Value::Array(SequenceOf(cur));
    }
  } else if (input.IsArray() && steps[0]->type != NodeType::kVariable) {
    input_seq = input;
  } else {
    input_seq = Value::Array(SequenceOf(input));
  }
  Value result_seq;
  Value tuples;
  bool is_tuple = false;
  for (size_t i = first; i < steps.size(); ++i) {
    const Node& step = *steps[i];
    if (step.tuple) is_tuple = true;
    if (i == 0 && step.cons_array) {
      OW_JSONATA_ASSIGN_OR_RETURN(result_seq, Eval(step, input_seq, env));
      // A filter on the constructor can leave one plain value ("[1][0]");
      // the next step reads a sequence.
      if (i + 1 < steps.size() && !result_seq.IsUndefined() &&
          !result_seq.IsArray()) {
        result_seq = Value::Array(SequenceOf(result_seq));
      }
    } else if (is_tuple) {
      OW_JSONATA_ASSIGN_OR_RETURN(tuples,
                                  EvalTupleStep(step, input_seq, tuples, env));
    } else {
      OW_JSONATA_ASSIGN_OR_RETURN(
          result_seq, EvalStep(step, input_seq, env, i == steps.size() - 1));
    }
    if (!is_tuple && (result_seq.IsUndefined() ||
                      (result_seq.IsArray() && result_seq.size() == 0))) {
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
    return EvalGroup(n.group->pairs, n.group->offset,
                     is_tuple ? tuples : result_seq, env);
  }
  return result_seq;
}

absl::StatusOr<Value> Evaluator::EvalStep(const Node& step,
                                          const Value& input_seq, Frame* env,
                                          bool last) {
  if (step.type == NodeType::kSort) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value r, EvalSort(step, input_seq, env));
    if (!step.stages.empty()) return EvalStages(step.stages, r, env);
    return r;
  }
  if (!input_seq.IsArray()) {
    // Steps read sequences; a plain value is a sequence of one.
    if (input_seq.IsUndefined()) return input_seq;
    return EvalStep(step, Value::Array(SequenceOf(input_seq)), env, last);
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
  if (last && results.size() == 1 && results[0].IsArray() &&
      !results[0].IsSequence()) {
    return results[0];
  }
  auto out = NewSequence();
  size_t total = 0;
  for (const Value& r : results)
    total += (r.IsArray() && !r.IsCons()) ? r.size() : 1;
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

absl::StatusOr<Value> Evaluator::EvalTupleStep(const Node& step,
                                               const Value& input_seq,
                                               const Value& tuples,
                                               Frame* env) {
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
          SetBinding(&tuple, step.index_var,
                     Value::Number(static_cast<double>(bb)));
        }
        if (step.ancestor != nullptr)
          SetBinding(&tuple, step.ancestor->label, ats[e]);
      }
      out->items.push_back(std::move(at));
      out->tuples.push_back(std::move(tuple));
    }
  }
  Value result = Value::Array(std::move(out));
  if (!step.stages.empty()) return EvalStages(step.stages, result, env);
  return result;
}

absl::StatusOr<Value> Evaluator::EvalStages(const std::vector<Stage>& stages,
                                            Value input, Frame* env) {
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

absl::StatusOr<Value> Evaluator::EvalFilter(const Node& predicate,
                                            const Value& input, Frame* env) {
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
  if (predicate.type == NodeType::kNumber && predicate.predicates.empty() &&
      !predicate.group) {
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

absl::StatusOr<Value> Evaluator::EvalSort(const Node& step, const Value& input,
                                          Frame* env) {
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
      OW_JSONATA_ASSIGN_OR_RETURN(keys[i * nterms + t],
                                  Eval(*step.terms[t].expr, item, e));
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
                     "The expressions within an order-by clause must evaluate "
                     "to numeric or string "
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
                     absl::StrCat("Type mismatch when comparing values ", a,
                                  " and ", b, " in order-by clause"),
                     step.offset);
      }
    }
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  OW_JSONATA_RETURN_IF_ERROR(
      Charge(static_cast<uint64_t>(n) *
             (1 + static_cast<uint64_t>(std::log2(n + 1)))));
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
absl::StatusOr<Value> Evaluator::EvalGroup(
    const std::vector<std::pair<NodePtr, NodePtr>>& pairs, int64_t offset,
    const Value& input, Frame* env) {
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
  // Groups are found by linear search while there are few of them.
  std::unordered_map<std::string, size_t> index;
  auto find_group = [&](const std::string& key) -> Entry* {
    if (groups.size() <= 16) {
      for (Entry& g : groups) {
        if (g.key == key) return &g;
      }
      return nullptr;
    }
    if (index.empty()) {
      for (size_t k = 0; k < groups.size(); ++k)
        index.emplace(groups[k].key, k);
    }
    auto it = index.find(key);
    return it == index.end() ? nullptr : &groups[it->second];
  };
  for (size_t i = 0; i < items.size(); ++i) {
    std::shared_ptr<Frame> frame;
    Frame* e = env;
    if (reduce) {
      frame = TupleFrame(env, TupleAt(input, i));
      e = frame.get();
    }
    for (size_t p = 0; p < pairs.size(); ++p) {
      OW_JSONATA_ASSIGN_OR_RETURN(Value key,
                                  Eval(*pairs[p].first, items[i], e));
      if (key.IsUndefined()) continue;
      if (!key.IsString()) {
        OW_JSONATA_ASSIGN_OR_RETURN(std::string s, Stringify(key, false));
        return Error(
            "T1003",
            absl::StrCat(
                "Key in object structure must evaluate to a string; got: ", s),
            offset);
      }
      if (Entry* found = find_group(key.str())) {
        Entry& g = *found;
        if (g.expr_index != p) {
          return Error(
              "D1009",
              absl::StrCat("Multiple key definitions evaluate to same key: ",
                           Quote(key.str())),
              offset);
        }
        if (reduce) {
          g.tuples.push_back(i);
        } else {
          OW_JSONATA_ASSIGN_OR_RETURN(g.data, Append(g.data, items[i]));
        }
      } else {
        if (!index.empty()) index.emplace(key.str(), groups.size());
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
    OW_JSONATA_ASSIGN_OR_RETURN(Value v,
                                Eval(*pairs[g.expr_index].second, context, e));
    if (!v.IsUndefined()) result->Set(g.key, std::move(v));
  }
  return Value::Object(std::move(result));
}

absl::StatusOr<Value> Evaluator::LookupName(const Value& input,
                                            std::string_view key) {
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

absl::Status FlattenInto(Evaluator& ev, const Value& v,
                         std::vector<Value>* out) {
  if (!v.IsArray()) {
    out->push_back(v);
    return absl::OkStatus();
  }
  OW_JSONATA_RETURN_IF_ERROR(ev.CheckStack());
  size_t n = v.size();
  for (size_t i = 0; i < n; ++i)
    OW_JSONATA_RETURN_IF_ERROR(FlattenInto(ev, v.at(i), out));
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
    for (size_t i = 0; i < in.size(); ++i)
      OW_JSONATA_RETURN_IF_ERROR(take(in.at(i)));
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

}  // namespace onewindow::asl::jsonata::internal
