// The Step Functions additions to JSONata: $partition, $range, $parse,
// $random, $uuid, $hash.
#include "engine/asl/jsonata/step_functions.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace onewindow::asl::jsonata {

namespace {

using Json = nlohmann::json;
using Args = std::span<const std::optional<Json>>;

constexpr double kMaxItems = 1'000'000;

bool IsIntegral(const Json& j) {
  if (j.is_number_integer() || j.is_number_unsigned()) return true;
  if (!j.is_number_float()) return false;
  double d = j.get<double>();
  return std::isfinite(d) && std::trunc(d) == d;
}

absl::StatusOr<std::optional<Json>> Partition(Args args, CallContext&) {
  if (args.size() < 2 || !args[0].has_value() || !args[1].has_value())
    return std::optional<Json>();
  const Json& array = *args[0];
  const Json& size = *args[1];
  if (!IsIntegral(size) || size.get<double>() <= 0) {
    return MakeError(
        "D3137",
        absl::StrCat(
            "The chunk size of $partition must be a positive integer, got ",
            size.dump()));
  }
  // A chunk at least as large as the array is the whole array (and a size
  // beyond size_t, 2^64 say, must not be converted).
  const double wanted = size.get<double>();
  const size_t chunk = wanted >= static_cast<double>(array.size())
                           ? std::max<size_t>(array.size(), 1)
                           : static_cast<size_t>(wanted);
  Json out = Json::array();
  Json current = Json::array();
  for (const Json& item : array) {
    current.push_back(item);
    if (current.size() == chunk) {
      out.push_back(std::move(current));
      current = Json::array();
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return std::optional<Json>(std::move(out));
}

absl::StatusOr<std::optional<Json>> Range(Args args, CallContext&) {
  if (args.size() < 3 || !args[0].has_value() || !args[1].has_value() ||
      !args[2].has_value()) {
    return std::optional<Json>();
  }
  double first = args[0]->get<double>(), last = args[1]->get<double>(),
         step = args[2]->get<double>();
  if (step == 0 || !std::isfinite(step)) {
    return MakeError("D3137", "The step of $range must be a non-zero number");
  }
  double count = std::floor((last - first) / step) + 1;
  if (count > kMaxItems) {
    return MakeError(
        "D2015", absl::StrCat("$range would make ", count,
                              " items, more than the limit of ", kMaxItems));
  }
  Json out = Json::array();
  for (double i = 0; i < count; ++i) {
    double v = first + i * step;
    if (std::trunc(v) == v && std::fabs(v) < 9e15) {
      out.push_back(static_cast<int64_t>(v));
    } else {
      out.push_back(v);
    }
  }
  // A one-item result is a single value, as JSONata treats sequences.
  if (out.size() == 1) return std::optional<Json>(out[0]);
  if (out.empty()) return std::optional<Json>();
  return std::optional<Json>(std::move(out));
}

absl::StatusOr<std::optional<Json>> Parse(Args args, CallContext&) {
  if (args.empty() || !args[0].has_value()) return std::optional<Json>();
  const std::string& text = args[0]->get_ref<const std::string&>();
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return MakeError(
        "D3137", absl::StrCat("$parse could not parse its argument as JSON: ",
                              Json(text).dump()));
  }
  return std::optional<Json>(std::move(parsed));
}

// SplitMix64: a seeded generator for $random(seed).
uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

absl::StatusOr<std::optional<Json>> RandomFn(Args args, CallContext& ctx) {
  if (!args.empty() && args[0].has_value()) {
    const Json& seed = *args[0];
    if (!IsIntegral(seed)) {
      return MakeError(
          "D3137", absl::StrCat("The seed of $random must be an integer, got ",
                                seed.dump()));
    }
    // The seed's bits: an integer as it is, a larger integral double
    // (beyond int64) by its representation, never an out-of-range cast.
    uint64_t bits = 0;
    if (seed.is_number_integer()) {
      bits = static_cast<uint64_t>(seed.get<int64_t>());
    } else if (seed.is_number_unsigned()) {
      bits = seed.get<uint64_t>();
    } else {
      const double d = seed.get<double>();
      if (std::fabs(d) < 9.2e18) {
        bits = static_cast<uint64_t>(static_cast<int64_t>(d));
      } else {
        std::memcpy(&bits, &d, sizeof bits);
      }
    }
    uint64_t r = SplitMix(bits);
    return std::optional<Json>(static_cast<double>(r >> 11) /
                               9007199254740992.0);
  }
  auto r = ctx.Random();
  if (!r.ok()) return r.status();
  return std::optional<Json>(*r);
}

absl::StatusOr<std::optional<Json>> Uuid(Args, CallContext& ctx) {
  unsigned char bytes[16];
  for (int w = 0; w < 4; ++w) {
    auto r = ctx.Random();
    if (!r.ok()) return r.status();
    uint32_t v = static_cast<uint32_t>(*r * 4294967296.0);
    for (int k = 0; k < 4; ++k)
      bytes[w * 4 + k] = static_cast<unsigned char>(v >> (8 * k));
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3F) | 0x80);
  char buf[37];
  std::snprintf(
      buf, sizeof(buf),
      "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
      bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6],
      bytes[7], bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13],
      bytes[14], bytes[15]);
  return std::optional<Json>(std::string(buf));
}

}  // namespace

absl::Status AddStepFunctionsFunctions(FunctionTable* table,
                                       HashFunction hash) {
  absl::Status s = table->Add("partition", "<an:a>", Partition);
  if (s.ok()) s = table->Add("range", "<nnn:a>", Range);
  if (s.ok()) s = table->Add("parse", "<s:j>", Parse);
  if (s.ok()) s = table->Add("random", "<n?:n>", RandomFn);
  if (s.ok()) s = table->Add("uuid", "<:s>", Uuid);
  if (s.ok() && hash) {
    s = table->Add(
        "hash", "<ss:s>",
        [hash](Args args, CallContext&) -> absl::StatusOr<std::optional<Json>> {
          if (args.size() < 2 || !args[0].has_value() || !args[1].has_value()) {
            return std::optional<Json>();
          }
          auto digest = hash(args[0]->get_ref<const std::string&>(),
                             args[1]->get_ref<const std::string&>());
          if (!digest.ok())
            return MakeError("D3137", std::string(digest.status().message()));
          return std::optional<Json>(std::move(digest).value());
        });
  }
  return s;
}

}  // namespace onewindow::asl::jsonata
