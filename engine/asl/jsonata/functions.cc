// JSONata's built-in functions: numbers, booleans, arrays, objects,
// higher-order functions; and the table of all built-ins.
#include "engine/asl/jsonata/functions.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/evaluator.h"

namespace onewindow::asl::jsonata::internal {

namespace {

using Args = std::vector<Value>;

Value Arg(const Args& args, size_t i) {
  return i < args.size() ? args[i] : Value();
}

Value Str(std::string s) { return Value::String(std::move(s)); }

Value Num(double d) { return Value::Number(d); }

std::string NumberText(double d) { return FormatNumberForString(d); }

// ---- Numbers ----------------------------------------------------------------

absl::StatusOr<Value> FnSum(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  double total = 0;
  for (size_t i = 0; i < a.size(); ++i) total += a.at(i).number();
  return Num(total);
}

absl::StatusOr<Value> FnCount(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Num(0);
  return Num(static_cast<double>(a.size()));
}

absl::StatusOr<Value> MinMax(Evaluator& ev, const Args& args, bool max) {
  Value a = Arg(args, 0);
  if (a.IsUndefined() || a.size() == 0) return Value();
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  double r = a.at(0).number();
  for (size_t i = 1; i < a.size(); ++i) {
    double d = a.at(i).number();
    r = max ? std::max(r, d) : std::min(r, d);
  }
  return Num(r);
}

absl::StatusOr<Value> FnMax(Evaluator& ev, const Args& args, const Value&) {
  return MinMax(ev, args, true);
}

absl::StatusOr<Value> FnMin(Evaluator& ev, const Args& args, const Value&) {
  return MinMax(ev, args, false);
}

absl::StatusOr<Value> FnAverage(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined() || a.size() == 0) return Value();
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  double total = 0;
  for (size_t i = 0; i < a.size(); ++i) total += a.at(i).number();
  return Num(total / static_cast<double>(a.size()));
}

bool FullMatchDecimal(const std::string& s) {
  size_t i = 0, n = s.size();
  if (i < n && s[i] == '-') ++i;
  size_t start = i;
  while (i < n && isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == start) return false;
  if (i < n && s[i] == '.') {
    ++i;
    size_t f = i;
    while (i < n && isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == f) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t e = i;
    while (i < n && isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == e) return false;
  }
  return i == n;
}

std::optional<double> ParseRadixLiteral(const std::string& s) {
  if (s.size() < 3 || s[0] != '0') return std::nullopt;
  int base = 0;
  char p = static_cast<char>(tolower(static_cast<unsigned char>(s[1])));
  if (p == 'x') base = 16;
  if (p == 'o') base = 8;
  if (p == 'b') base = 2;
  if (base == 0) return std::nullopt;
  double v = 0;
  for (size_t i = 2; i < s.size(); ++i) {
    int d;
    char c = static_cast<char>(tolower(static_cast<unsigned char>(s[i])));
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else
      return std::nullopt;
    if (d >= base) return std::nullopt;
    v = v * base + d;
  }
  return v;
}

absl::StatusOr<Value> FnNumber(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (a.IsNumber()) return a;
  if (a.IsBool()) return Num(a.boolean() ? 1 : 0);
  if (a.IsString()) {
    const std::string& s = a.str();
    if (FullMatchDecimal(s)) {
      double d = std::strtod(s.c_str(), nullptr);
      if (std::isfinite(d)) return Num(d);
    }
    if (auto r = ParseRadixLiteral(s)) return Num(*r);
  }
  OW_JSONATA_ASSIGN_OR_RETURN(std::string text, ev.Stringify(a, false));
  if (a.IsString()) text = Quote(text);
  return Error("D3030",
               absl::StrCat("Unable to cast value to a number: ", text));
}

absl::StatusOr<Value> FnFloor(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  return Num(std::floor(a.number()) + 0.0);
}

absl::StatusOr<Value> FnCeil(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  return Num(std::ceil(a.number()) + 0.0);
}

absl::StatusOr<Value> FnAbs(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  return Num(std::fabs(a.number()));
}

double ShiftDecimal(double x, int places) {
  std::string s = FormatJsNumber(x);
  size_t e = s.find('e');
  std::string mant = e == std::string::npos ? s : s.substr(0, e);
  int exp = e == std::string::npos ? 0 : std::atoi(s.c_str() + e + 1);
  std::string shifted = mant + "e" + std::to_string(exp + places);
  return std::strtod(shifted.c_str(), nullptr);
}

absl::StatusOr<Value> FnRound(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  double x = a.number();
  int precision = 0;
  Value p = Arg(args, 1);
  if (p.IsNumber()) precision = static_cast<int>(std::trunc(p.number()));
  if (precision != 0) x = ShiftDecimal(x, precision);
  double r = std::floor(x + 0.5);
  double diff = r - x;
  if (std::fabs(diff) == 0.5 && std::fabs(std::fmod(r, 2)) == 1) r -= 1;
  if (precision != 0) r = ShiftDecimal(r, -precision);
  if (r == 0) r = 0;  // no negative zero
  return Num(r);
}

absl::StatusOr<Value> FnSqrt(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (a.number() < 0) {
    return Error(
        "D3060",
        absl::StrCat(
            "The sqrt function cannot be applied to a negative number: ",
            NumberText(a.number())));
  }
  return Num(std::sqrt(a.number()));
}

absl::StatusOr<Value> FnPower(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  double r = std::pow(a.number(), Arg(args, 1).number());
  if (!std::isfinite(r)) {
    return Error(
        "D3061",
        absl::StrCat(
            "The power function has resulted in a value that cannot be "
            "represented as a JSON number: base=",
            NumberText(a.number()),
            ", exponent=", NumberText(Arg(args, 1).number())));
  }
  return Num(r);
}

absl::StatusOr<Value> FnRandom(Evaluator& ev, const Args&, const Value&) {
  OW_JSONATA_ASSIGN_OR_RETURN(double r, ev.Random());
  return Num(r);
}

absl::StatusOr<Value> FnFormatBase(Evaluator&, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  double value = a.number();
  // JSONata rounds half to even first.
  double r = std::floor(value + 0.5);
  if (std::fabs(r - value) == 0.5 && std::fabs(std::fmod(r, 2)) == 1) r -= 1;
  int radix = 10;
  Value b = Arg(args, 1);
  if (b.IsNumber()) radix = static_cast<int>(b.number());
  if (radix < 2 || radix > 36) {
    return Error(
        "D3100",
        absl::StrCat(
            "The radix of the formatBase function must be between 2 and 36.  "
            "It was given ",
            b.IsNumber() ? NumberText(b.number()) : "undefined"));
  }
  bool negative = r < 0;
  double m = std::fabs(r);
  std::string digits;
  if (m < 1) digits = "0";
  while (m >= 1 && digits.size() < 1100) {
    double q = std::floor(m / radix);
    int d = static_cast<int>(m - q * radix);
    digits.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[d]);
    m = q;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return Str(digits);
}

// ---- Booleans
// ----------------------------------------------------------------

absl::StatusOr<Value> FnBoolean(Evaluator&, const Args& args, const Value&) {
  auto b = ToBoolean(Arg(args, 0));
  return b.has_value() ? Value::Bool(*b) : Value();
}

absl::StatusOr<Value> FnNot(Evaluator&, const Args& args, const Value&) {
  auto b = ToBoolean(Arg(args, 0));
  return b.has_value() ? Value::Bool(!*b) : Value();
}

absl::StatusOr<Value> FnExists(Evaluator&, const Args& args, const Value&) {
  return Value::Bool(!Arg(args, 0).IsUndefined());
}

// ---- Arrays
// ------------------------------------------------------------------

absl::StatusOr<Value> FnAppend(Evaluator& ev, const Args& args, const Value&) {
  return ev.Append(Arg(args, 0), Arg(args, 1));
}

absl::StatusOr<Value> FnReverse(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (a.size() <= 1) return a;
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  auto out = std::make_shared<ArrayData>();
  for (size_t i = a.size(); i > 0; --i) out->items.push_back(a.at(i - 1));
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnShuffle(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (a.size() <= 1) return a;
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(a.size()));
  auto out = std::make_shared<ArrayData>();
  for (size_t i = 0; i < a.size(); ++i) out->items.push_back(a.at(i));
  for (size_t i = out->items.size() - 1; i > 0; --i) {
    OW_JSONATA_ASSIGN_OR_RETURN(double r, ev.Random());
    size_t j = static_cast<size_t>(std::floor(r * static_cast<double>(i + 1)));
    if (j > i) j = i;
    std::swap(out->items[i], out->items[j]);
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnDistinct(Evaluator& ev, const Args& args,
                                 const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (!a.IsArray() || a.size() <= 1) return a;
  auto out = a.IsSequence() ? NewSequence() : std::make_shared<ArrayData>();
  std::unordered_set<std::string> seen;  // primitives, keyed by type and value
  std::vector<Value> structured;
  for (size_t i = 0; i < a.size(); ++i) {
    OW_JSONATA_RETURN_IF_ERROR(ev.Charge(1));
    Value v = a.at(i);
    std::string key;
    switch (v.type()) {
      case Value::Type::kNull:
        key = "l";
        break;
      case Value::Type::kBool:
        key = v.boolean() ? "b1" : "b0";
        break;
      case Value::Type::kNumber:
        key = "n" + FormatJsNumber(v.number());
        break;
      case Value::Type::kString:
        key = "s" + v.str();
        break;
      default:
        break;
    }
    if (!key.empty()) {
      if (seen.insert(key).second) out->items.push_back(v);
      continue;
    }
    bool dup = false;
    for (const Value& s : structured) {
      OW_JSONATA_ASSIGN_OR_RETURN(bool eq, ev.DeepEqual(v, s));
      if (eq) {
        dup = true;
        break;
      }
    }
    if (!dup) {
      structured.push_back(v);
      out->items.push_back(v);
    }
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnZip(Evaluator& ev, const Args& args, const Value&) {
  size_t len = args.empty() ? 0 : SIZE_MAX;
  for (const Value& a : args) len = std::min(len, a.IsArray() ? a.size() : 0);
  auto out = std::make_shared<ArrayData>();
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(len * args.size()));
  for (size_t i = 0; i < len; ++i) {
    auto tuple = std::make_shared<ArrayData>();
    for (const Value& a : args) tuple->items.push_back(a.at(i));
    out->items.push_back(Value::Array(std::move(tuple)));
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnSort(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  if (a.size() <= 1) return a;
  std::vector<Value> items;
  items.reserve(a.size());
  for (size_t i = 0; i < a.size(); ++i) items.push_back(a.at(i));
  Value fn = Arg(args, 1);
  std::vector<Value> sorted;
  if (fn.IsUndefined()) {
    bool numbers = true, strings = true;
    for (const Value& v : items) {
      numbers = numbers && v.IsNumber();
      strings = strings && v.IsString();
    }
    if (!numbers && !strings) {
      return Error("D3070",
                   "The single argument form of the sort function can only be "
                   "applied to an array "
                   "of strings or an array of numbers.  Use the second "
                   "argument to specify a "
                   "comparison function");
    }
    OW_JSONATA_RETURN_IF_ERROR(ev.Charge(items.size() * 8));
    std::stable_sort(
        items.begin(), items.end(), [&](const Value& x, const Value& y) {
          return numbers ? x.number() < y.number() : x.str() < y.str();
        });
    sorted = std::move(items);
  } else {
    // Bottom-up merge sort; the comparator answers "swap?" as in JSONata.
    std::vector<Value> buf(items.size());
    for (size_t width = 1; width < items.size(); width *= 2) {
      for (size_t lo = 0; lo < items.size(); lo += 2 * width) {
        size_t mid = std::min(lo + width, items.size());
        size_t hi = std::min(lo + 2 * width, items.size());
        size_t i = lo, j = mid, k = lo;
        while (i < mid && j < hi) {
          std::vector<Value> cargs{items[i], items[j]};
          OW_JSONATA_ASSIGN_OR_RETURN(
              Value r, ev.Apply(fn, std::move(cargs), Value::Null()));
          if (ToBoolean(r).value_or(false)) {
            buf[k++] = items[j++];
          } else {
            buf[k++] = items[i++];
          }
        }
        while (i < mid) buf[k++] = items[i++];
        while (j < hi) buf[k++] = items[j++];
      }
      std::swap(items, buf);
    }
    sorted = std::move(items);
  }
  auto out = std::make_shared<ArrayData>();
  out->items = std::move(sorted);
  return Value::Array(std::move(out));
}

// ---- Objects
// -----------------------------------------------------------------

absl::Status CollectKeys(Evaluator& ev, const Value& v,
                         std::vector<std::string>* keys,
                         std::unordered_set<std::string>* seen) {
  if (v.IsArray()) {
    OW_JSONATA_RETURN_IF_ERROR(ev.CheckStack());
    for (size_t i = 0; i < v.size(); ++i)
      OW_JSONATA_RETURN_IF_ERROR(CollectKeys(ev, v.at(i), keys, seen));
  } else if (v.IsObject()) {
    v.ForEachMember([&](std::string_view k, const Value&) {
      if (seen->insert(std::string(k)).second) keys->emplace_back(k);
    });
  }
  return ev.Charge(1);
}

absl::StatusOr<Value> FnKeys(Evaluator& ev, const Args& args, const Value&) {
  std::vector<std::string> keys;
  std::unordered_set<std::string> seen;
  OW_JSONATA_RETURN_IF_ERROR(CollectKeys(ev, Arg(args, 0), &keys, &seen));
  auto out = NewSequence();
  for (auto& k : keys) out->items.push_back(Str(std::move(k)));
  if (out->items.empty()) return Value();
  if (out->items.size() == 1) return out->items[0];
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> LookupIn(Evaluator& ev, const Value& input,
                               const std::string& key) {
  if (input.IsObject()) return input.Get(key);
  if (!input.IsArray()) return Value();
  OW_JSONATA_RETURN_IF_ERROR(ev.CheckStack());
  auto out = NewSequence();
  for (size_t i = 0; i < input.size(); ++i) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value r, LookupIn(ev, input.at(i), key));
    if (r.IsUndefined()) continue;
    if (r.IsArray()) {
      for (size_t k = 0; k < r.size(); ++k) out->items.push_back(r.at(k));
    } else {
      out->items.push_back(std::move(r));
    }
  }
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(out->items.size()));
  if (out->items.empty()) return Value();
  if (out->items.size() == 1) return out->items[0];
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnLookup(Evaluator& ev, const Args& args, const Value&) {
  return LookupIn(ev, Arg(args, 0), Arg(args, 1).str());
}

absl::Status SpreadInto(Evaluator& ev, const Value& v,
                        std::vector<Value>* out) {
  OW_JSONATA_RETURN_IF_ERROR(ev.Charge(1));
  if (v.IsArray()) {
    OW_JSONATA_RETURN_IF_ERROR(ev.CheckStack());
    for (size_t i = 0; i < v.size(); ++i)
      OW_JSONATA_RETURN_IF_ERROR(SpreadInto(ev, v.at(i), out));
  } else if (v.IsObject()) {
    v.ForEachMember([&](std::string_view k, const Value& m) {
      auto o = std::make_shared<ObjectData>();
      o->Set(k, m);
      out->push_back(Value::Object(std::move(o)));
    });
  } else if (!v.IsUndefined()) {
    out->push_back(v);
  }
  return ev.CheckLength(out->size());
}

absl::StatusOr<Value> FnSpread(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (!a.IsArray() && !a.IsObject()) return a;
  auto out = NewSequence();
  OW_JSONATA_RETURN_IF_ERROR(SpreadInto(ev, a, &out->items));
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnMerge(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  auto out = std::make_shared<ObjectData>();
  for (size_t i = 0; i < a.size(); ++i) {
    Value o = a.at(i);
    if (!o.IsObject()) continue;
    OW_JSONATA_RETURN_IF_ERROR(ev.Charge(o.ObjectSize()));
    o.ForEachMember(
        [&](std::string_view k, const Value& v) { out->Set(k, v); });
  }
  return Value::Object(std::move(out));
}

absl::StatusOr<Value> FnEach(Evaluator& ev, const Args& args, const Value&) {
  Value o = Arg(args, 0);
  Value fn = Arg(args, 1);
  auto out = NewSequence();
  if (!o.IsObject()) return Value();
  std::vector<std::pair<std::string, Value>> members;
  o.ForEachMember([&](std::string_view k, const Value& v) {
    members.emplace_back(std::string(k), v);
  });
  for (auto& [k, v] : members) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value r, ev.ApplyHof(fn, v, Str(k), o));
    if (!r.IsUndefined()) out->items.push_back(std::move(r));
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnSift(Evaluator& ev, const Args& args, const Value&) {
  Value o = Arg(args, 0);
  Value fn = Arg(args, 1);
  if (!o.IsObject()) return Value();
  std::vector<std::pair<std::string, Value>> members;
  o.ForEachMember([&](std::string_view k, const Value& v) {
    members.emplace_back(std::string(k), v);
  });
  auto out = std::make_shared<ObjectData>();
  for (auto& [k, v] : members) {
    OW_JSONATA_ASSIGN_OR_RETURN(Value r, ev.ApplyHof(fn, v, Str(k), o));
    if (ToBoolean(r).value_or(false)) out->Set(k, v);
  }
  if (out->entries.empty()) return Value();
  return Value::Object(std::move(out));
}

absl::StatusOr<Value> FnError(Evaluator&, const Args& args, const Value&) {
  Value m = Arg(args, 0);
  return Error("D3137", m.IsString() ? m.str() : "$error() function evaluated");
}

absl::StatusOr<Value> FnAssert(Evaluator&, const Args& args, const Value&) {
  if (!Arg(args, 0).boolean()) {
    Value m = Arg(args, 1);
    return Error("D3141",
                 m.IsString() ? m.str() : "$assert() statement failed");
  }
  return Value();
}

absl::StatusOr<Value> FnType(Evaluator&, const Args& args, const Value&) {
  switch (Arg(args, 0).type()) {
    case Value::Type::kUndefined:
      return Value();
    case Value::Type::kNull:
      return Str("null");
    case Value::Type::kBool:
      return Str("boolean");
    case Value::Type::kNumber:
      return Str("number");
    case Value::Type::kString:
      return Str("string");
    case Value::Type::kArray:
      return Str("array");
    case Value::Type::kObject:
      return Str("object");
    case Value::Type::kFunction:
      return Str("function");
  }
  return Value();
}

absl::StatusOr<Value> FnClone(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  return ev.Clone(a);
}

absl::StatusOr<Value> FnEval(Evaluator& ev, const Args& args,
                             const Value& input) {
  Value text = Arg(args, 0);
  if (text.IsUndefined()) return Value();
  if (!ev.bindings().allow_eval) {
    return Error("U1011", "$eval is not allowed in this context");
  }
  Value context = Arg(args, 1).IsUndefined() ? input : Arg(args, 1);
  return ev.EvalText(text.str(), context);
}

// ---- Higher-order
// ------------------------------------------------------------

absl::StatusOr<Value> FnMap(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  Value fn = Arg(args, 1);
  auto out = NewSequence();
  for (size_t i = 0; i < a.size(); ++i) {
    OW_JSONATA_ASSIGN_OR_RETURN(
        Value r, ev.ApplyHof(fn, a.at(i), Num(static_cast<double>(i)), a));
    if (!r.IsUndefined()) out->items.push_back(std::move(r));
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnFilter(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  Value fn = Arg(args, 1);
  auto out = NewSequence();
  for (size_t i = 0; i < a.size(); ++i) {
    Value item = a.at(i);
    OW_JSONATA_ASSIGN_OR_RETURN(
        Value r, ev.ApplyHof(fn, item, Num(static_cast<double>(i)), a));
    if (ToBoolean(r).value_or(false)) out->items.push_back(std::move(item));
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> FnSingle(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  Value fn = Arg(args, 1);
  bool found = false;
  Value result;
  for (size_t i = 0; i < a.size(); ++i) {
    Value item = a.at(i);
    bool ok = true;
    if (!fn.IsUndefined()) {
      OW_JSONATA_ASSIGN_OR_RETURN(
          Value r, ev.ApplyHof(fn, item, Num(static_cast<double>(i)), a));
      ok = ToBoolean(r).value_or(false);
    }
    if (ok) {
      if (found) {
        return Error("D3138",
                     "The $single() function expected exactly 1 matching "
                     "result.  Instead it "
                     "matched more.");
      }
      found = true;
      result = item;
    }
  }
  if (!found) {
    return Error("D3139",
                 "The $single() function expected exactly 1 matching result.  "
                 "Instead it matched 0.");
  }
  return result;
}

absl::StatusOr<Value> FnReduce(Evaluator& ev, const Args& args, const Value&) {
  Value a = Arg(args, 0);
  if (a.IsUndefined()) return Value();
  Value fn = Arg(args, 1);
  size_t arity = fn.IsFunction() ? fn.function()->Arity() : 0;
  if (arity < 2) {
    return Error("D3050",
                 "The second argument of reduce function must be a function "
                 "with at least two "
                 "arguments");
  }
  Value init = Arg(args, 2);
  Value result;
  size_t i = 0;
  if (init.IsUndefined() && a.size() > 0) {
    result = a.at(0);
    i = 1;
  } else {
    result = init;
  }
  for (; i < a.size(); ++i) {
    std::vector<Value> call{result, a.at(i)};
    if (arity >= 3) call.push_back(Num(static_cast<double>(i)));
    if (arity >= 4) call.push_back(a);
    OW_JSONATA_ASSIGN_OR_RETURN(result,
                                ev.Apply(fn, std::move(call), Value::Null()));
  }
  return result;
}

// ---- The table
// ---------------------------------------------------------------

const BuiltinDef kDefs[] = {
    {"sum", "<a<n>:n>", FnSum},
    {"count", "<a:n>", FnCount},
    {"max", "<a<n>:n>", FnMax},
    {"min", "<a<n>:n>", FnMin},
    {"average", "<a<n>:n>", FnAverage},
    {"formatNumber", "<n-so?:s>", FnFormatNumber},
    {"formatBase", "<n-n?:s>", FnFormatBase},
    {"formatInteger", "<n-s:s>", FnFormatInteger},
    {"parseInteger", "<s-s:n>", FnParseInteger},
    {"number", "<(nsb)-:n>", FnNumber},
    {"floor", "<n-:n>", FnFloor},
    {"ceil", "<n-:n>", FnCeil},
    {"round", "<n-n?:n>", FnRound},
    {"abs", "<n-:n>", FnAbs},
    {"sqrt", "<n-:n>", FnSqrt},
    {"power", "<n-n:n>", FnPower},
    {"random", "<:n>", FnRandom},
    {"boolean", "<x-:b>", FnBoolean},
    {"not", "<x-:b>", FnNot},
    {"map", "<af>", FnMap},
    {"zip", "<a+>", FnZip},
    {"filter", "<af>", FnFilter},
    {"single", "<af?>", FnSingle},
    {"reduce", "<afj?:j>", FnReduce},
    {"sift", "<o-f?:o>", FnSift},
    {"keys", "<x-:a<s>>", FnKeys},
    {"lookup", "<x-s:x>", FnLookup},
    {"append", "<xx:a>", FnAppend},
    {"exists", "<x:b>", FnExists},
    {"spread", "<x-:a<o>>", FnSpread},
    {"merge", "<a<o>:o>", FnMerge},
    {"reverse", "<a:a>", FnReverse},
    {"each", "<o-f:a>", FnEach},
    {"error", "<s?:x>", FnError},
    {"assert", "<bs?:x>", FnAssert},
    {"type", "<x:s>", FnType},
    {"sort", "<af?:a>", FnSort},
    {"shuffle", "<a:a>", FnShuffle},
    {"distinct", "<x:x>", FnDistinct},
    {"eval", "<sx?:x>", FnEval},
    {"toMillis", "<s-s?:n>", FnToMillis},
    {"fromMillis", "<n-s?s?:s>", FnFromMillis},
    {"now", "<s?s?:s>", FnNow},
    {"millis", "<:n>", FnMillis},
    {"clone", "<(oa)-:o>", FnClone},
};

struct Table {
  std::vector<std::unique_ptr<Builtin>> builtins;
  std::unordered_map<std::string_view, const Builtin*> by_name;
};

const Table& GetTable() {
  static const Table* table = [] {
    auto* t = new Table();
    auto add = [t](const BuiltinDef& d) {
      auto b = std::make_unique<Builtin>();
      b->name = d.name;
      b->signature_text = d.signature;
      b->fn = d.fn;
      auto sig = Signature::Parse(d.signature, 0);
      if (sig.ok()) b->signature = std::move(sig).value();
      auto f = std::make_shared<Function>();
      f->kind = Function::Kind::kBuiltin;
      f->builtin = b.get();
      b->function = std::move(f);
      t->by_name.emplace(b->name, b.get());
      t->builtins.push_back(std::move(b));
    };
    for (const BuiltinDef& d : kDefs) add(d);
    for (const BuiltinDef& d : StringBuiltins()) add(d);
    return t;
  }();
  return *table;
}

}  // namespace

const Builtin* FindBuiltin(std::string_view name) {
  const Table& t = GetTable();
  auto it = t.by_name.find(name);
  return it == t.by_name.end() ? nullptr : it->second;
}

bool IsBuiltinFunctionName(std::string_view name) {
  return FindBuiltin(name) != nullptr;
}

std::optional<bool> ToBoolean(const Value& v) {
  switch (v.type()) {
    case Value::Type::kUndefined:
      return std::nullopt;
    case Value::Type::kNull:
      return false;
    case Value::Type::kBool:
      return v.boolean();
    case Value::Type::kNumber:
      return v.number() != 0;
    case Value::Type::kString:
      return !v.str().empty();
    case Value::Type::kObject:
      return v.ObjectSize() > 0;
    case Value::Type::kFunction:
      return false;
    case Value::Type::kArray: {
      // An array is true when any value nested in it is; walked with an
      // explicit stack, since input arrays may nest deeply.
      std::vector<std::pair<Value, size_t>> stack;
      stack.emplace_back(v, 0);
      while (!stack.empty()) {
        auto& [a, next] = stack.back();
        if (next >= a.size()) {
          stack.pop_back();
          continue;
        }
        Value item = a.at(next++);
        if (item.IsArray()) {
          stack.emplace_back(std::move(item), 0);
        } else if (ToBoolean(item).value_or(false)) {
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

}  // namespace onewindow::asl::jsonata::internal
