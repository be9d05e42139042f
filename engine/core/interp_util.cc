#include "engine/core/interp_util.h"

#include <cmath>
#include <cstdio>

namespace onewindow::core::internal {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

std::string FormatIsoMs(int64_t ms) {
  const int64_t secs = FloorDiv(ms, 1000);
  const int64_t millis = ms - secs * 1000;
  int64_t days = FloorDiv(secs, 86400);
  const int64_t sod = secs - days * 86400;
  // Civil date from days since 1970-01-01 (proleptic Gregorian).
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t year = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  if (month <= 2) ++year;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                static_cast<long long>(year), static_cast<int>(month),
                static_cast<int>(day), static_cast<int>(sod / 3600),
                static_cast<int>((sod / 60) % 60), static_cast<int>(sod % 60),
                static_cast<int>(millis));
  return buf;
}

bool WholeNumber(const nlohmann::json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || std::floor(d) != d || d < -9.2e18 || d > 9.2e18) {
      return false;
    }
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

bool AnyNumber(const nlohmann::json& v, double* out) {
  if (!v.is_number()) return false;
  *out = v.get<double>();
  return std::isfinite(*out);
}

std::string DumpJson(const nlohmann::json& v) {
  return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// Counts what the serializer would write, without building the text.
class CountingOutput final
    : public nlohmann::detail::output_adapter_protocol<char> {
 public:
  void write_character(char) override { ++size_; }
  void write_characters(const char*, std::size_t length) override {
    size_ += length;
  }
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

}  // namespace

size_t JsonSize(const nlohmann::json& v) {
  auto counter = std::make_shared<CountingOutput>();
  nlohmann::detail::serializer<nlohmann::json> s(
      counter, ' ', nlohmann::json::error_handler_t::replace);
  s.dump(v, /*pretty_print=*/false, /*ensure_ascii=*/false,
         /*indent_step=*/0);
  return counter->size();
}

}  // namespace onewindow::core::internal
