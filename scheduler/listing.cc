// Listing cases through the secondary indexes, and the supervisor's board
// from the counters. Runs on reader threads.
#include <algorithm>
#include <limits>
#include <map>

#include "absl/strings/escaping.h"
#include "engine/store/records.h"
#include "scheduler/engine.h"

namespace onewindow::scheduler {

namespace v1 = onewindow::v1;

namespace {

// Most index entries one page may look at before it returns what it has
// (with a token to go on): filters the index does not cover cost reads.
constexpr int kMaxScanPerPage = 20000;

uint64_t Fnv1a(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t QueryDigest(const v1::ListCasesRequest& r) {
  std::string q = std::to_string(r.status()) + "\n" + r.service() + "\n" +
                  r.department() + "\n" + (r.overdue() ? "o" : "") + "\n" +
                  std::to_string(r.submitted_after_ms()) + "\n" +
                  std::to_string(r.submitted_before_ms()) + "\n" +
                  r.applicant() + "\n" + std::to_string(r.version());
  return Fnv1a(q);
}

std::string LowerApplicant(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20) continue;
    out.push_back(static_cast<char>(c < 0x80 ? std::tolower(c) : c));
    if (out.size() >= 128) break;
  }
  return out;
}

}  // namespace

void Engine::ListCases(const v1::ListCasesRequest& request,
                       Done<v1::ListCasesResponse> done) {
  RunOnReader([this, request, done = std::move(done)] {
    done(DoListCases(request));
  });
}

absl::StatusOr<v1::ListCasesResponse> Engine::DoListCases(
    const v1::ListCasesRequest& request) {
  using store::kSep;
  const int limit =
      request.limit() <= 0 ? 100 : std::min(request.limit(), 1000);
  if (request.limit() < 0) {
    return absl::InvalidArgumentError("limit: must be >= 0");
  }
  if (request.version() != 0 && request.service().empty()) {
    return absl::InvalidArgumentError("version: needs service");
  }
  const v1::CaseStatus status = request.status();
  const bool closed_status = status == v1::CASE_STATUS_SUCCEEDED ||
                             status == v1::CASE_STATUS_FAILED ||
                             status == v1::CASE_STATUS_CANCELLED;
  v1::ListCasesResponse resp;
  // Department and overdue entries exist only for running cases.
  if ((!request.department().empty() || request.overdue()) && closed_status) {
    return resp;
  }
  const int64_t after_ms = request.submitted_after_ms();
  const int64_t before_ms = request.submitted_before_ms();
  if (after_ms < 0 || before_ms < 0 ||
      (before_ms > 0 && after_ms >= before_ms)) {
    return absl::InvalidArgumentError(
        "submitted_after_ms/submitted_before_ms: not a valid range");
  }

  // Pick the index that covers the most filters.
  std::string prefix(1, '\0');
  bool by_time = true;  // the index orders by submission, newest first
  const std::string applicant = LowerApplicant(request.applicant());
  if (request.overdue()) {
    prefix[0] = store::kIdxDue;
    by_time = false;
  } else if (!request.department().empty()) {
    prefix[0] = store::kIdxDepartment;
    prefix += request.department();
    prefix.push_back(kSep);
  } else if (!applicant.empty()) {
    prefix[0] = store::kIdxApplicant;
    prefix += applicant;
    prefix.push_back(kSep);
    if (status != v1::CASE_STATUS_UNSPECIFIED) {
      prefix.push_back(static_cast<char>(status));
    } else {
      by_time = false;  // grouped by status first
    }
  } else if (status != v1::CASE_STATUS_UNSPECIFIED &&
             !request.service().empty()) {
    prefix[0] = store::kIdxStatusService;
    prefix.push_back(static_cast<char>(status));
    prefix += request.service();
    prefix.push_back(kSep);
  } else if (!request.service().empty()) {
    prefix[0] = store::kIdxService;
    prefix += request.service();
    prefix.push_back(kSep);
  } else if (status != v1::CASE_STATUS_UNSPECIFIED) {
    prefix[0] = store::kIdxStatus;
    prefix.push_back(static_cast<char>(status));
  } else {
    prefix[0] = store::kIdxCreated;
  }
  std::string start = prefix;
  std::string end = store::PrefixEnd(prefix);
  const int64_t now = clock_->NowMs();
  if (request.overdue()) {
    end = prefix + store::Be64(static_cast<uint64_t>(now) + 1);
  } else if (by_time) {
    if (before_ms > 0) start = prefix + store::Be64(store::Newest(before_ms - 1));
    if (after_ms > 0) end = prefix + store::Be64(store::Newest(after_ms - 1));
  }
  const uint64_t digest = QueryDigest(request);
  if (!request.page_token().empty()) {
    std::string raw;
    store::v1::PageToken token;
    if (!absl::WebSafeBase64Unescape(request.page_token(), &raw) ||
        !token.ParseFromString(raw) || token.query() != digest ||
        token.after_key().compare(0, prefix.size(), prefix) != 0) {
      return absl::InvalidArgumentError(
          "page_token: not a token of this query (it comes from a listing "
          "with other filters, or is damaged)");
    }
    std::string next = token.after_key();
    next.push_back('\0');
    if (next > start) start = next;
  }

  int scanned = 0;
  std::string last_key;
  bool more = false;
  absl::Status inner = absl::OkStatus();
  absl::Status s = store_->Scan(
      store::kCfIndexes, start, end, false,
      [&](std::string_view k, std::string_view) {
        if (resp.cases_size() >= limit || ++scanned > kMaxScanPerPage) {
          more = true;
          return false;
        }
        last_key = std::string(k);
        const std::string id = store::CaseIdOfIndexKey(k);
        if (id.empty()) return true;
        absl::StatusOr<store::CaseRecord> c = store::GetCase(*store_, id);
        if (!c.ok()) {
          if (c.status().code() == absl::StatusCode::kNotFound) return true;
          inner = c.status();
          return false;
        }
        // The filters the index did not cover.
        if (status != v1::CASE_STATUS_UNSPECIFIED && c->status() != status) {
          return true;
        }
        if (!request.service().empty() && c->service() != request.service()) {
          return true;
        }
        if (request.version() != 0 && c->version() != request.version()) {
          return true;
        }
        if (!request.department().empty() &&
            std::find(c->open_departments().begin(),
                      c->open_departments().end(),
                      request.department()) == c->open_departments().end()) {
          return true;
        }
        if (!applicant.empty() && c->applicant() != applicant) return true;
        if (after_ms > 0 && c->created_at_ms() < after_ms) return true;
        if (before_ms > 0 && c->created_at_ms() >= before_ms) return true;
        if (request.overdue() &&
            (c->status() != v1::CASE_STATUS_RUNNING || c->due_at_ms() > now)) {
          return true;
        }
        *resp.add_cases() = ToApiCase(*c);
        return true;
      });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  if (more && !last_key.empty()) {
    store::v1::PageToken token;
    token.set_query(digest);
    // The token continues after the last entry returned or looked at.
    token.set_after_key(last_key);
    std::string out;
    absl::WebSafeBase64Escape(token.SerializeAsString(), &out);
    resp.set_next_page_token(out);
  }
  return resp;
}

void Engine::GetBoard(Done<v1::Board> done) {
  RunOnReader([this, done = std::move(done)] { done(DoBoard()); });
}

absl::StatusOr<v1::Board> Engine::DoBoard() {
  using store::kSep;
  const int64_t now = clock_->NowMs();
  v1::Board board;
  board.set_at_ms(now);
  std::map<std::pair<std::string, int>, int64_t> cases;
  std::map<std::string, int64_t> overdue, open_tasks;
  std::map<int64_t, int64_t> hours;
  const int64_t this_hour = now - now % 3600000;
  const int64_t first_hour = this_hour - 23 * 3600000LL;
  absl::Status s = store_->Scan(
      store::kCfCounters, "", "", false,
      [&](std::string_view k, std::string_view v) {
        if (k.size() < 3) return true;
        const int64_t n = static_cast<int64_t>(store::ReadBe64(v));
        std::string_view body = k.substr(1, k.size() - 2);  // no id, shard
        switch (k[0]) {
          case store::kCtrCases: {
            size_t sep = body.find(kSep);
            if (sep == std::string_view::npos || sep + 2 != body.size()) break;
            cases[{std::string(body.substr(0, sep)),
                   static_cast<unsigned char>(body[sep + 1])}] += n;
            break;
          }
          case store::kCtrOverdue: {
            size_t sep = body.find(kSep);
            if (sep == std::string_view::npos) break;
            overdue[std::string(body.substr(0, sep))] += n;
            break;
          }
          case store::kCtrOpenTasks: {
            size_t sep = body.find(kSep);
            if (sep == std::string_view::npos) break;
            open_tasks[std::string(body.substr(0, sep))] += n;
            break;
          }
          case store::kCtrCompleted: {
            if (body.size() != 8) break;
            const int64_t h = static_cast<int64_t>(store::ReadBe64(body));
            if (h >= first_hour && h <= this_hour) hours[h] += n;
            break;
          }
          default:
            break;
        }
        return true;
      });
  if (!s.ok()) return s;
  for (const auto& [key, n] : cases) {
    if (n == 0) continue;
    auto* c = board.add_cases();
    c->set_service(key.first);
    c->set_status(static_cast<v1::CaseStatus>(key.second));
    c->set_count(n);
  }
  for (const auto& [service, n] : overdue) {
    if (n <= 0) continue;
    auto* o = board.add_overdue();
    o->set_service(service);
    o->set_count(n);
  }
  for (const auto& [dept, n] : open_tasks) {
    auto* d = board.add_departments();
    d->set_department(dept);
    d->set_open_tasks(std::max<int64_t>(0, n));
    // The oldest open task is the first in its department's queue (queue
    // positions start from the time they were made).
    std::string prefix = dept;
    prefix.push_back(kSep);
    int64_t oldest = 0;
    absl::Status q = store_->ScanPrefix(
        store::kCfTaskQueue, prefix, false,
        [&](std::string_view k, std::string_view) {
          if (k.size() == prefix.size() + 8) {
            oldest = static_cast<int64_t>(
                         store::ReadBe64(k.substr(prefix.size()))) >> 12;
          }
          return false;
        });
    if (!q.ok()) return q;
    if (n > 0 && oldest > 0 && oldest <= now) {
      d->set_oldest_task_age_s((now - oldest) / 1000);
    }
  }
  for (int64_t h = first_hour; h <= this_hour; h += 3600000) {
    auto* b = board.add_completed_per_hour();
    b->set_hour_start_ms(h);
    auto it = hours.find(h);
    b->set_completed(it == hours.end() ? 0 : it->second);
  }
  return board;
}

}  // namespace onewindow::scheduler
