// Errors of the JSONata engine: payload encoding and positions.
#include "engine/asl/jsonata/errors.h"

#include <cstdlib>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/asl/jsonata/jsonata.h"
#include "engine/asl/jsonata/value.h"

namespace onewindow::asl::jsonata::internal {

namespace {

constexpr char kPayloadUrl[] = "onewindow.asl/jsonata-error";

absl::string_view Av(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// Payload: code \x1f offset \x1f position \x1f token.
void Store(absl::Status* s, const ErrorFields& f) {
  std::string p = absl::StrCat(f.code, "\x1f", f.offset, "\x1f", f.position,
                               "\x1f", f.token);
  s->SetPayload(kPayloadUrl, absl::Cord(p));
}

}  // namespace

bool IsLimitCode(std::string_view code) {
  static constexpr std::string_view kLimits[] = {"U1000", "U1001", "U1005",
                                                 "U1006", "U1008", "D1011",
                                                 "D1012", "D2014", "D2015"};
  for (std::string_view c : kLimits) {
    if (c == code) return true;
  }
  return false;
}

absl::Status Error(std::string_view code, std::string_view message,
                   int64_t offset, std::string_view token) {
  absl::StatusCode sc = IsLimitCode(code) ? absl::StatusCode::kResourceExhausted
                        : (code == "U1010" || code == "U1011")
                            ? absl::StatusCode::kFailedPrecondition
                            : absl::StatusCode::kInvalidArgument;
  absl::Status s(sc, absl::StrCat(Av(code), ": ", Av(message)));
  ErrorFields f;
  f.code = std::string(code);
  f.offset = offset;
  f.token = std::string(token);
  Store(&s, f);
  return s;
}

std::optional<ErrorFields> ReadError(const absl::Status& s) {
  auto p = s.GetPayload(kPayloadUrl);
  if (!p.has_value()) return std::nullopt;
  std::string text(*p);
  std::vector<std::string> parts =
      absl::StrSplit(text, absl::MaxSplits('\x1f', 3));
  if (parts.size() != 4) return std::nullopt;
  ErrorFields f;
  f.code = parts[0];
  f.offset = std::strtoll(parts[1].c_str(), nullptr, 10);
  f.position = static_cast<int>(std::strtol(parts[2].c_str(), nullptr, 10));
  f.token = parts[3];
  return f;
}

absl::Status WithOffset(absl::Status s, int64_t offset,
                        std::string_view token) {
  auto f = ReadError(s);
  if (!f.has_value()) return s;
  bool changed = false;
  if (f->offset == kNoOffset && offset != kNoOffset) {
    f->offset = offset;
    changed = true;
  }
  if (f->token.empty() && !token.empty()) {
    f->token = std::string(token);
    changed = true;
  }
  if (changed) Store(&s, *f);
  return s;
}

absl::Status Finalize(absl::Status s, std::string_view text) {
  auto f = ReadError(s);
  if (!f.has_value() || f->position >= 0 || f->offset == kNoOffset) return s;
  size_t off = static_cast<size_t>(f->offset);
  if (off > text.size()) off = text.size();
  f->position = static_cast<int>(CodePointCount(text.substr(0, off)));
  absl::Status out(s.code(),
                   absl::StrCat(s.message(), " at position ", f->position));
  Store(&out, *f);
  return out;
}

std::string BareMessage(const absl::Status& s) {
  std::string m(s.message());
  auto f = ReadError(s);
  if (!f.has_value()) return m;
  std::string prefix = f->code + ": ";
  if (m.compare(0, prefix.size(), prefix) == 0) m.erase(0, prefix.size());
  if (f->position >= 0) {
    std::string suffix = " at position " + std::to_string(f->position);
    if (m.size() >= suffix.size() &&
        m.compare(m.size() - suffix.size(), suffix.size(), suffix) == 0) {
      m.erase(m.size() - suffix.size());
    }
  }
  return m;
}

std::string Quote(std::string_view s) {
  std::string out;
  AppendQuoted(s, &out);
  return out;
}

}  // namespace onewindow::asl::jsonata::internal

namespace onewindow::asl::jsonata {

std::optional<ErrorInfo> GetErrorInfo(const absl::Status& status) {
  auto f = internal::ReadError(status);
  if (!f.has_value()) return std::nullopt;
  ErrorInfo info;
  info.code = f->code;
  info.position = f->position;
  info.offset = f->offset < 0 ? 0 : static_cast<size_t>(f->offset);
  info.token = f->token;
  return info;
}

absl::Status MakeError(std::string_view code, std::string_view message) {
  return internal::Error(code, message);
}

}  // namespace onewindow::asl::jsonata
