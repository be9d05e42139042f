// Operations on values: appending, equality, cloning, JSON text, and the
// conversion of results to nlohmann::json.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"
#include "engine/asl/jsonata/evaluator.h"
#include "engine/asl/jsonata/functions.h"

namespace onewindow::asl::jsonata::internal {

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
    return Error("D3001",
                 "Attempting to invoke string function on Infinity or NaN");
  }
  std::string out;
  Value x = v;
  if (x.IsOuterWrapper()) x = x.at(0);
  OW_JSONATA_RETURN_IF_ERROR(StringifyInto(x, pretty, 0, &out));
  return out;
}

absl::Status Evaluator::StringifyInto(const Value& v, bool pretty, int indent,
                                      std::string* out) {
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
      if (!std::isfinite(v.number())) {
        return Error("D1001", absl::StrCat("Number out of range: ",
                                           FormatJsNumber(v.number())));
      }
      out->append(std::isfinite(v.number()) ? FormatNumberForString(v.number())
                                            : "null");
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
        OW_JSONATA_RETURN_IF_ERROR(
            StringifyInto(item, pretty, indent + 1, out));
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
    return Error("U1006", absl::StrCat("Result exceeds the limit of ",
                                       limits_.max_result_bytes, " bytes"));
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
        return Error("D1001",
                     absl::StrCat("Number out of range: ", FormatJsNumber(d)));
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
