// The values JSONata computes with (internal to engine/asl/jsonata).
//
// A Value is undefined, null, a boolean, a number (double, as in
// JavaScript), a string, an array, an object or a function. Strings, arrays
// and objects read from the input document are borrowed (a pointer into the
// nlohmann::json tree, which outlives the evaluation); those computed are
// shared and immutable once published. Arrays carry JSONata's sequence
// flags. Copying a Value is cheap (a tag, a pointer and a reference count).
// Not thread-safe to mutate; published values are only read.
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_VALUE_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_VALUE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"

namespace onewindow::asl::jsonata::internal {

using Json = nlohmann::json;

struct ArrayData;
struct ObjectData;
struct Function;

class Value {
 public:
  enum class Type : uint8_t {
    kUndefined,
    kNull,
    kBool,
    kNumber,
    kString,
    kArray,
    kObject,
    kFunction,
  };

  Value() { u_.n = 0; }

  static Value Null() { return Value(Type::kNull); }
  static Value Bool(bool b) {
    Value v(Type::kBool);
    v.u_.b = b;
    return v;
  }
  static Value Number(double d) {
    Value v(Type::kNumber);
    v.u_.n = d;
    return v;
  }
  static Value String(std::string s);
  // Borrows `s`, which must outlive the value.
  static Value StringRef(const std::string* s) {
    Value v(Type::kString);
    v.u_.s = s;
    return v;
  }
  static Value Array(std::shared_ptr<ArrayData> a);
  static Value Object(std::shared_ptr<ObjectData> o);
  static Value Func(std::shared_ptr<Function> f);
  // Borrows `j`, which must outlive the value.
  static Value FromJson(const Json& j);

  Type type() const { return type_; }
  bool IsUndefined() const { return type_ == Type::kUndefined; }
  bool IsNull() const { return type_ == Type::kNull; }
  bool IsBool() const { return type_ == Type::kBool; }
  bool IsNumber() const { return type_ == Type::kNumber; }
  bool IsString() const { return type_ == Type::kString; }
  bool IsArray() const { return type_ == Type::kArray; }
  bool IsObject() const { return type_ == Type::kObject; }
  bool IsFunction() const { return type_ == Type::kFunction; }

  bool boolean() const { return u_.b; }
  double number() const { return u_.n; }
  const std::string& str() const { return *u_.s; }

  // Arrays. A JSON-backed array has json() set and no flags.
  size_t size() const;
  Value at(size_t i) const;
  const ArrayData* array_data() const { return json_ ? nullptr : u_.a; }
  bool IsSequence() const;
  bool KeepSingleton() const;
  bool IsCons() const;
  bool IsOuterWrapper() const;
  bool IsTupleStream() const;

  // Objects.
  Value Get(std::string_view key) const;
  size_t ObjectSize() const;
  const ObjectData* object_data() const { return json_ ? nullptr : u_.o; }
  // Calls f(key, value) for each member in order (JSON-backed objects are
  // in key order).
  template <typename F>
  void ForEachMember(F&& f) const;

  const Json* json() const { return json_ ? u_.j : nullptr; }
  const Function* function() const { return u_.f; }
  std::shared_ptr<Function> function_ptr() const;
  std::shared_ptr<ArrayData> array_ptr() const;
  std::shared_ptr<ObjectData> object_ptr() const;
  // Identity of the referenced string/array/object/function (for "in").
  const void* identity() const { return u_.p; }

 private:
  explicit Value(Type t) : type_(t) { u_.n = 0; }

  Type type_ = Type::kUndefined;
  bool json_ = false;  // arrays/objects: u_.j points into a Json tree
  union {
    bool b;
    double n;
    const std::string* s;
    const Json* j;
    ArrayData* a;
    ObjectData* o;
    Function* f;
    const void* p;
  } u_;
  std::shared_ptr<void> hold_;  // owns what u_ points to, if anything
};

// The bindings a tuple carries alongside its context value ('@').
using TupleBindings = std::vector<std::pair<std::string_view, Value>>;

struct ArrayData {
  std::vector<Value> items;
  bool sequence = false;        // a JSONata sequence, not a JSON array
  bool keep_singleton = false;  // a one-item sequence stays an array
  bool cons = false;            // built by an array constructor: not flattened
  bool outer_wrapper = false;   // wraps an input array
  bool tuple_stream = false;    // items are '@' of tuples; see tuples
  std::vector<TupleBindings> tuples;  // parallel to items in a tuple stream
};

// Members in insertion order with an index once the object grows.
struct ObjectData {
  std::vector<std::pair<std::string, Value>> entries;

  const Value* Find(std::string_view key) const;
  void Set(std::string_view key, Value v);
  void Erase(std::string_view key);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const {
      return std::hash<std::string_view>()(s);
    }
  };
  void Reindex();
  std::unordered_map<std::string, size_t, Hash, std::equal_to<>> index_;
};

inline Value Value::String(std::string s) {
  auto p = std::make_shared<std::string>(std::move(s));
  Value v(Type::kString);
  v.u_.s = p.get();
  v.hold_ = std::move(p);
  return v;
}

inline Value Value::Array(std::shared_ptr<ArrayData> a) {
  Value v(Type::kArray);
  v.u_.a = a.get();
  v.hold_ = std::move(a);
  return v;
}

inline Value Value::Object(std::shared_ptr<ObjectData> o) {
  Value v(Type::kObject);
  v.u_.o = o.get();
  v.hold_ = std::move(o);
  return v;
}

inline Value Value::Func(std::shared_ptr<Function> f) {
  Value v(Type::kFunction);
  v.u_.f = f.get();
  v.hold_ = std::move(f);
  return v;
}

inline Value Value::FromJson(const Json& j) {
  switch (j.type()) {
    case Json::value_t::boolean:
      return Bool(j.get<bool>());
    case Json::value_t::number_integer:
      return Number(static_cast<double>(j.get<int64_t>()));
    case Json::value_t::number_unsigned:
      return Number(static_cast<double>(j.get<uint64_t>()));
    case Json::value_t::number_float:
      return Number(j.get<double>());
    case Json::value_t::string:
      return StringRef(j.get_ptr<const std::string*>());
    case Json::value_t::array: {
      Value v(Type::kArray);
      v.json_ = true;
      v.u_.j = &j;
      return v;
    }
    case Json::value_t::object: {
      Value v(Type::kObject);
      v.json_ = true;
      v.u_.j = &j;
      return v;
    }
    default:
      return Null();
  }
}

inline size_t Value::size() const {
  // Items of an array; any other value has none (its union holds no array).
  if (type_ != Type::kArray) return 0;
  return json_ ? u_.j->size() : u_.a->items.size();
}

inline Value Value::at(size_t i) const {
  return json_ ? FromJson((*u_.j)[i]) : u_.a->items[i];
}

inline bool Value::IsSequence() const {
  return type_ == Type::kArray && !json_ && u_.a->sequence;
}
inline bool Value::KeepSingleton() const {
  return type_ == Type::kArray && !json_ && u_.a->keep_singleton;
}
inline bool Value::IsCons() const {
  return type_ == Type::kArray && !json_ && u_.a->cons;
}
inline bool Value::IsOuterWrapper() const {
  return type_ == Type::kArray && !json_ && u_.a->outer_wrapper;
}
inline bool Value::IsTupleStream() const {
  return type_ == Type::kArray && !json_ && u_.a->tuple_stream;
}

inline Value Value::Get(std::string_view key) const {
  if (json_) {
    auto it = u_.j->find(key);
    return it == u_.j->end() ? Value() : FromJson(*it);
  }
  const Value* v = u_.o->Find(key);
  return v ? *v : Value();
}

inline size_t Value::ObjectSize() const {
  return json_ ? u_.j->size() : u_.o->entries.size();
}

template <typename F>
void Value::ForEachMember(F&& f) const {
  if (json_) {
    for (auto it = u_.j->begin(); it != u_.j->end(); ++it) {
      f(std::string_view(it.key()), FromJson(it.value()));
    }
  } else {
    for (const auto& [k, v] : u_.o->entries) f(std::string_view(k), v);
  }
}

inline std::shared_ptr<Function> Value::function_ptr() const {
  return std::static_pointer_cast<Function>(hold_);
}
inline std::shared_ptr<ArrayData> Value::array_ptr() const {
  return json_ ? nullptr : std::static_pointer_cast<ArrayData>(hold_);
}
inline std::shared_ptr<ObjectData> Value::object_ptr() const {
  return json_ ? nullptr : std::static_pointer_cast<ObjectData>(hold_);
}

// A new, empty sequence.
inline std::shared_ptr<ArrayData> NewSequence() {
  auto a = std::make_shared<ArrayData>();
  a->sequence = true;
  return a;
}

// JavaScript's Number.prototype.toString for finite numbers.
std::string FormatJsNumber(double d);
// JSONata's rendering of a number in strings: 15 significant digits.
std::string FormatNumberForString(double d);
// Rounds to 15 significant digits as Number(d.toPrecision(15)) does.
double RoundTo15(double d);

// True when `d` is an integer value (JavaScript's Number.isInteger).
bool IsInteger(double d);

// Appends the JSON text of `s` (quoted, escaped like JSON.stringify).
void AppendQuoted(std::string_view s, std::string* out);

// Number of Unicode code points in UTF-8 `s` (invalid bytes count as one).
size_t CodePointCount(std::string_view s);
// Splits UTF-8 into code points (each a byte range of `s`).
std::vector<std::string_view> CodePoints(std::string_view s);
// Appends the UTF-8 encoding of code point `cp`.
void AppendUtf8(uint32_t cp, std::string* out);
// Decodes the code point at s[*i] and advances *i (invalid: U+FFFD, 1 byte).
uint32_t DecodeUtf8(std::string_view s, size_t* i);

}  // namespace onewindow::asl::jsonata::internal

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_VALUE_H_
