// Function signatures: parsing and argument validation.
#include "engine/asl/jsonata/signature.h"

#include "absl/strings/str_cat.h"
#include "engine/asl/jsonata/errors.h"

namespace onewindow::asl::jsonata::internal {

namespace {

size_t FindClosing(std::string_view s, size_t start, char open, char close) {
  int depth = 1;
  size_t pos = start;
  while (pos + 1 < s.size()) {
    ++pos;
    if (s[pos] == close) {
      if (--depth == 0) return pos;
    } else if (s[pos] == open) {
      ++depth;
    }
  }
  return s.size();
}

std::string ArrayTypeName(std::string_view subtype) {
  switch (subtype.empty() ? ' ' : subtype[0]) {
    case 'a':
      return "arrays";
    case 'b':
      return "booleans";
    case 'f':
      return "functions";
    case 'n':
      return "numbers";
    case 'o':
      return "objects";
    case 's':
      return "strings";
    default:
      return std::string(subtype);
  }
}

}  // namespace

char TypeSymbol(const Value& v) {
  switch (v.type()) {
    case Value::Type::kFunction:
      return 'f';
    case Value::Type::kString:
      return 's';
    case Value::Type::kNumber:
      return 'n';
    case Value::Type::kBool:
      return 'b';
    case Value::Type::kNull:
      return 'l';
    case Value::Type::kArray:
      return 'a';
    case Value::Type::kObject:
      return 'o';
    default:
      return 'm';
  }
}

absl::StatusOr<Signature> Signature::Parse(std::string_view text,
                                           int64_t offset) {
  Signature sig;
  sig.text_ = std::string(text);
  Param param;
  Param* prev = nullptr;
  auto next = [&]() {
    sig.params_.push_back(param);
    prev = &sig.params_.back();
    param = Param();
  };
  for (size_t pos = 1; pos < text.size(); ++pos) {
    char symbol = text[pos];
    if (symbol == ':') break;
    switch (symbol) {
      case 's':
      case 'n':
      case 'b':
      case 'l':
      case 'o':
        param.symbols = std::string(1, symbol) + "m";
        param.type = symbol;
        next();
        break;
      case 'a':
        param.symbols = "asnblfom";
        param.type = 'a';
        next();
        break;
      case 'f':
        param.symbols = "f";
        param.type = 'f';
        next();
        break;
      case 'j':
        param.symbols = "asnblom";
        param.type = 'j';
        next();
        break;
      case 'x':
        param.symbols = "asnblfom";
        param.type = 'x';
        next();
        break;
      case '-':
        if (prev != nullptr) {
          prev->context = true;
          prev->context_symbols = prev->symbols;
          prev->quant = Quant::kOptional;
        }
        break;
      case '?':
      case '+':
        if (prev != nullptr)
          prev->quant = symbol == '?' ? Quant::kOptional : Quant::kPlus;
        break;
      case '(': {
        size_t end = FindClosing(text, pos, '(', ')');
        std::string_view choice = text.substr(pos + 1, end - pos - 1);
        if (choice.find('<') != std::string_view::npos) {
          return Error(
              "S0402",
              "Choice groups containing parameterized types are not supported",
              offset + static_cast<int64_t>(pos));
        }
        param.symbols = std::string(choice) + "m";
        param.type = '(';
        pos = end;
        next();
        break;
      }
      case '<':
        if (prev != nullptr && (prev->type == 'a' || prev->type == 'f')) {
          size_t end = FindClosing(text, pos, '<', '>');
          prev->subtype = std::string(text.substr(pos + 1, end - pos - 1));
          pos = end;
        } else {
          return Error(
              "S0401",
              "Type parameters can only be applied to functions and arrays",
              offset + static_cast<int64_t>(pos));
        }
        break;
      default:
        break;
    }
  }
  return sig;
}

bool Signature::Match(const std::string& symbols, size_t i, size_t pos,
                      size_t last, bool prefix,
                      std::vector<std::pair<size_t, size_t>>* spans,
                      size_t* end) const {
  if (i == last) {
    if (prefix || pos == symbols.size()) {
      *end = pos;
      return true;
    }
    return false;
  }
  const Param& p = params_[i];
  auto accepts = [&](size_t at) {
    return at < symbols.size() &&
           p.symbols.find(symbols[at]) != std::string::npos;
  };
  switch (p.quant) {
    case Quant::kOne:
      if (!accepts(pos)) return false;
      (*spans)[i] = {pos, 1};
      return Match(symbols, i + 1, pos + 1, last, prefix, spans, end);
    case Quant::kOptional:
      if (accepts(pos)) {
        (*spans)[i] = {pos, 1};
        if (Match(symbols, i + 1, pos + 1, last, prefix, spans, end))
          return true;
      }
      (*spans)[i] = {pos, 0};
      return Match(symbols, i + 1, pos, last, prefix, spans, end);
    case Quant::kPlus: {
      size_t k = 0;
      while (accepts(pos + k)) ++k;
      for (; k >= 1; --k) {
        (*spans)[i] = {pos, k};
        if (Match(symbols, i + 1, pos + k, last, prefix, spans, end))
          return true;
      }
      return false;
    }
  }
  return false;
}

absl::StatusOr<std::vector<Value>> Signature::Validate(
    const std::vector<Value>& args, const Value& context,
    std::string_view function_name) const {
  std::string symbols;
  symbols.reserve(args.size());
  for (const Value& a : args) symbols.push_back(TypeSymbol(a));
  std::vector<std::pair<size_t, size_t>> spans(params_.size());
  size_t end = 0;
  if (!Match(symbols, 0, 0, params_.size(), false, &spans, &end)) {
    size_t good_to = 0;
    for (size_t k = 1; k <= params_.size(); ++k) {
      std::vector<std::pair<size_t, size_t>> partial(params_.size());
      size_t pend = 0;
      if (!Match(symbols, 0, 0, k, true, &partial, &pend)) break;
      good_to = pend;
    }
    return Error("T0410",
                 absl::StrCat("Argument ", good_to + 1, " of function ",
                              Quote(function_name),
                              " does not match function signature"),
                 kNoOffset, function_name);
  }
  std::vector<Value> out;
  out.reserve(params_.size());
  size_t arg_index = 0;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Param& p = params_[i];
    auto [start, len] = spans[i];
    if (len == 0) {
      if (p.context) {
        char ct = TypeSymbol(context);
        if (p.context_symbols.find(ct) != std::string::npos) {
          out.push_back(context);
        } else {
          return Error(
              "T0411",
              absl::StrCat(
                  "Context value is not a compatible type with argument ",
                  arg_index + 1, " of function ", Quote(function_name)),
              kNoOffset, function_name);
        }
      } else {
        out.push_back(arg_index < args.size() ? args[arg_index] : Value());
        ++arg_index;
      }
      continue;
    }
    for (size_t k = 0; k < len; ++k) {
      char single = symbols[start + k];
      Value arg = arg_index < args.size() ? args[arg_index] : Value();
      if (p.type == 'a') {
        if (single == 'm') {
          arg = Value();
        } else {
          bool ok = true;
          if (!p.subtype.empty()) {
            if (single != 'a' && std::string(1, single) != p.subtype) {
              ok = false;
            } else if (single == 'a' && arg.size() > 0) {
              char item_type = TypeSymbol(arg.at(0));
              if (item_type != p.subtype[0]) {
                ok = false;
              } else {
                for (size_t j = 1; j < arg.size(); ++j) {
                  if (TypeSymbol(arg.at(j)) != item_type) {
                    ok = false;
                    break;
                  }
                }
              }
            }
          }
          if (!ok) {
            return Error(
                "T0412",
                absl::StrCat("Argument ", arg_index + 1, " of function ",
                             Quote(function_name), " must be an array of ",
                             ArrayTypeName(p.subtype)),
                kNoOffset, function_name);
          }
          if (single != 'a') {
            auto a = std::make_shared<ArrayData>();
            a->items.push_back(arg);
            arg = Value::Array(std::move(a));
          }
        }
      }
      out.push_back(std::move(arg));
      ++arg_index;
    }
  }
  return out;
}

}  // namespace onewindow::asl::jsonata::internal
