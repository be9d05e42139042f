// Checks for the string formats asserted by the JSON Schema validator.
#include "engine/manifest/formats.h"

#include <string_view>

#include "engine/manifest/civil_date.h"

namespace onewindow::manifest {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsHex(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Reads exactly `n` digits at *pos into *value.
bool Digits(std::string_view s, size_t* pos, size_t n, int* value) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[*pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *value = v;
  return true;
}

bool Expect(std::string_view s, size_t* pos, char c) {
  if (*pos >= s.size() || s[*pos] != c) return false;
  ++*pos;
  return true;
}

// RFC 3986 character classes.
bool IsUnreserved(char c) {
  return IsAlpha(c) || IsDigit(c) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}
bool IsSubDelim(char c) {
  switch (c) {
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

// Every character of `s` is unreserved, a sub-delimiter, one of `extra`, or
// part of a %XX escape.
bool AllUriChars(std::string_view s, std::string_view extra) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2])) {
        return false;
      }
      i += 2;
      continue;
    }
    if (IsUnreserved(c) || IsSubDelim(c)) continue;
    if (extra.find(c) != std::string_view::npos) continue;
    return false;
  }
  return true;
}

bool IsAtext(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) !=
         std::string_view::npos;
}

}  // namespace

bool IsRfc3339Date(std::string_view s) {
  return s.size() == 10 && CivilDate::Parse(s).ok();
}

bool IsRfc3339DateTime(std::string_view s) {
  if (s.size() < 20 || !IsRfc3339Date(s.substr(0, 10))) return false;
  size_t pos = 10;
  if (s[pos] != 'T' && s[pos] != 't') return false;
  ++pos;
  int hour, minute, second;
  if (!Digits(s, &pos, 2, &hour) || !Expect(s, &pos, ':') ||
      !Digits(s, &pos, 2, &minute) || !Expect(s, &pos, ':') ||
      !Digits(s, &pos, 2, &second)) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    while (pos < s.size() && IsDigit(s[pos])) ++pos;
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!Digits(s, &pos, 2, &oh) || !Expect(s, &pos, ':') ||
        !Digits(s, &pos, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  if (second == 60) {
    // A leap second is inserted at the end of a UTC day: 23:59:60 UTC.
    int utc = ((hour * 60 + minute - offset_minutes) % 1440 + 1440) % 1440;
    if (utc != 23 * 60 + 59) return false;
  }
  return true;
}

bool IsIpv4Address(std::string_view s) {
  int parts = 0;
  size_t pos = 0;
  while (true) {
    size_t start = pos;
    int value = 0;
    while (pos < s.size() && IsDigit(s[pos]) && pos - start < 4) {
      value = value * 10 + (s[pos] - '0');
      ++pos;
    }
    size_t len = pos - start;
    if (len == 0 || len > 3 || value > 255) return false;
    if (len > 1 && s[start] == '0') return false;
    ++parts;
    if (pos == s.size()) break;
    if (s[pos] != '.' || parts == 4) return false;
    ++pos;
  }
  return parts == 4;
}

bool IsIpv6Address(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;
  size_t gap = s.find("::");
  if (gap != std::string_view::npos &&
      s.find("::", gap + 1) != std::string_view::npos) {
    return false;
  }
  // Counts the 16-bit groups of one side of "::"; an IPv4 tail counts two.
  auto groups = [](std::string_view side, bool may_end_in_ipv4, int* count) {
    *count = 0;
    if (side.empty()) return true;
    size_t pos = 0;
    while (true) {
      size_t end = side.find(':', pos);
      std::string_view group = side.substr(
          pos, end == std::string_view::npos ? side.npos : end - pos);
      bool last = end == std::string_view::npos;
      if (last && may_end_in_ipv4 &&
          group.find('.') != std::string_view::npos) {
        if (!IsIpv4Address(group)) return false;
        *count += 2;
        return true;
      }
      if (group.empty() || group.size() > 4) return false;
      for (char c : group) {
        if (!IsHex(c)) return false;
      }
      ++*count;
      if (last) return true;
      pos = end + 1;
    }
  };
  if (gap == std::string_view::npos) {
    int n;
    return groups(s, true, &n) && n == 8;
  }
  int left, right;
  if (!groups(s.substr(0, gap), false, &left) ||
      !groups(s.substr(gap + 2), true, &right)) {
    return false;
  }
  return left + right <= 7;
}

bool IsHostName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t pos = 0;
  while (true) {
    size_t end = s.find('.', pos);
    std::string_view label =
        s.substr(pos, end == std::string_view::npos ? s.npos : end - pos);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '-') return false;
    }
    if (end == std::string_view::npos) return true;
    pos = end + 1;
  }
}

bool IsEmailAddress(std::string_view s) {
  if (s.size() > 254) return false;
  size_t at;
  if (!s.empty() && s[0] == '"') {
    size_t pos = 1;
    bool closed = false;
    while (pos < s.size()) {
      char c = s[pos];
      if (c == '\\') {
        if (pos + 1 >= s.size() || s[pos + 1] < 32 || s[pos + 1] > 126) {
          return false;
        }
        pos += 2;
        continue;
      }
      if (c == '"') {
        closed = true;
        ++pos;
        break;
      }
      if (c < 32 || c > 126) return false;
      ++pos;
    }
    if (!closed || pos >= s.size() || s[pos] != '@') return false;
    at = pos;
  } else {
    at = s.rfind('@');
    if (at == std::string_view::npos || at == 0) return false;
    std::string_view local = s.substr(0, at);
    if (local.front() == '.' || local.back() == '.' ||
        local.find("..") != std::string_view::npos) {
      return false;
    }
    for (char c : local) {
      if (c != '.' && !IsAtext(c)) return false;
    }
  }
  if (at > 64) return false;
  std::string_view domain = s.substr(at + 1);
  if (domain.size() >= 2 && domain.front() == '[' && domain.back() == ']') {
    std::string_view literal = domain.substr(1, domain.size() - 2);
    if (literal.substr(0, 5) == "IPv6:")
      return IsIpv6Address(literal.substr(5));
    return IsIpv4Address(literal);
  }
  return IsHostName(domain);
}

bool IsUri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || !IsAlpha(s[0])) {
    return false;
  }
  for (char c : s.substr(0, colon)) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  std::string_view rest = s.substr(colon + 1);
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    if (!AllUriChars(rest.substr(hash + 1), ":@/?")) return false;
    rest = rest.substr(0, hash);
  }
  size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    if (!AllUriChars(rest.substr(question + 1), ":@/?")) return false;
    rest = rest.substr(0, question);
  }
  std::string_view path = rest;
  if (rest.substr(0, 2) == "//") {
    std::string_view authority = rest.substr(2);
    size_t slash = authority.find('/');
    if (slash != std::string_view::npos) {
      path = authority.substr(slash);
      authority = authority.substr(0, slash);
    } else {
      path = {};
    }
    size_t at = authority.find('@');
    if (at != std::string_view::npos) {
      if (!AllUriChars(authority.substr(0, at), ":")) return false;
      authority = authority.substr(at + 1);
    }
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority[0] == '[') {
      size_t close = authority.find(']');
      if (close == std::string_view::npos) return false;
      host = authority.substr(1, close - 1);
      std::string_view after = authority.substr(close + 1);
      if (!after.empty()) {
        if (after[0] != ':') return false;
        port = after.substr(1);
      }
      if (!host.empty() && (host[0] == 'v' || host[0] == 'V')) {
        size_t dot = host.find('.');
        if (dot == std::string_view::npos || dot < 2 ||
            dot + 1 >= host.size()) {
          return false;
        }
        for (char c : host.substr(1, dot - 1)) {
          if (!IsHex(c)) return false;
        }
        for (char c : host.substr(dot + 1)) {
          if (!IsUnreserved(c) && !IsSubDelim(c) && c != ':') return false;
        }
      } else if (!IsIpv6Address(host)) {
        return false;
      }
    } else {
      size_t port_colon = authority.find(':');
      if (port_colon != std::string_view::npos) {
        host = authority.substr(0, port_colon);
        port = authority.substr(port_colon + 1);
      }
      if (!AllUriChars(host, "")) return false;
    }
    for (char c : port) {
      if (!IsDigit(c)) return false;
    }
  }
  // path-abempty, path-absolute, path-rootless or path-empty: the "//"
  // case was taken above, so only the characters are left to check.
  return AllUriChars(path, ":@/");
}

bool IsAssertedFormat(std::string_view format) {
  return format == "date" || format == "date-time" || format == "email" ||
         format == "uri";
}

bool MatchesFormat(std::string_view format, std::string_view value) {
  if (format == "date") return IsRfc3339Date(value);
  if (format == "date-time") return IsRfc3339DateTime(value);
  if (format == "email") return IsEmailAddress(value);
  if (format == "uri") return IsUri(value);
  return true;
}

}  // namespace onewindow::manifest
