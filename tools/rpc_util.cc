#include "tools/rpc_util.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "tools/cli_util.h"

namespace onewindow::owctl {
namespace {

using nlohmann::json;

// Tokens and certificates are small; anything larger is a wrong file.
constexpr size_t kMaxCredentialBytes = 1u << 20;

bool ReadCredential(const std::string& path, const char* flag, std::string* out,
                    std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = std::string(flag) + " " + path +
             ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    *error = std::string(flag) + " " + path +
             ": cannot read: " + std::strerror(errno);
    return false;
  }
  *out = text.str();
  if (out->size() > kMaxCredentialBytes) {
    *error = std::string(flag) + " " + path + ": larger than " +
             std::to_string(kMaxCredentialBytes) + " bytes";
    return false;
  }
  return true;
}

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& v,
                 const char* sep = ",") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

json ToJson(const google::protobuf::RepeatedPtrField<std::string>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

}  // namespace

std::string ReadToken(const std::string& token_file, std::string* error) {
  std::string token;
  std::string source;
  if (!token_file.empty()) {
    std::string text;
    if (!ReadCredential(token_file, "--token-file", &text, error)) return "";
    token = Trim(text.substr(0, text.find('\n')));
    source = "--token-file " + token_file;
    if (token.empty()) {
      *error = source + ": the file holds no token";
      return "";
    }
  } else if (const char* env = std::getenv("ONEWINDOW_TOKEN");
             env != nullptr && *env != '\0') {
    token = Trim(env);
    source = "$ONEWINDOW_TOKEN";
  }
  for (char c : token) {
    if (c < 0x21 || c > 0x7E) {
      *error = source +
               ": a token is printable ASCII without spaces (as `owctl auth "
               "token new` makes them)";
      return "";
    }
  }
  return token;
}

std::optional<Client> Client::Open(const GlobalOptions& g) {
  std::string error;
  const std::string token = ReadToken(g.token_file, &error);
  if (!error.empty()) {
    std::fprintf(stderr, "owctl: %s\n", error.c_str());
    return std::nullopt;
  }
  if (g.tls_cert.empty() != g.tls_key.empty()) {
    std::fprintf(stderr,
                 "owctl: --tls-cert and --tls-key go together (a client "
                 "certificate and its key)\n");
    return std::nullopt;
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!g.tls_ca.empty() || !g.tls_cert.empty()) {
    grpc::SslCredentialsOptions ssl;
    if ((!g.tls_ca.empty() &&
         !ReadCredential(g.tls_ca, "--tls-ca", &ssl.pem_root_certs, &error)) ||
        (!g.tls_cert.empty() &&
         (!ReadCredential(g.tls_cert, "--tls-cert", &ssl.pem_cert_chain,
                          &error) ||
          !ReadCredential(g.tls_key, "--tls-key", &ssl.pem_private_key,
                          &error)))) {
      std::fprintf(stderr, "owctl: %s\n", error.c_str());
      return std::nullopt;
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  if (!g.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(g.tls_server_name);
  }
  Client c;
  c.channel_ = grpc::CreateCustomChannel(g.addr, creds, args);
  if (!token.empty()) c.authorization_ = "Bearer " + token;
  c.timeout_ms_ = g.timeout_ms;
  return c;
}

void Client::Prepare(grpc::ClientContext* ctx) const {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(timeout_ms_));
  PrepareStream(ctx);
}

void Client::PrepareStream(grpc::ClientContext* ctx) const {
  if (!authorization_.empty()) {
    ctx->AddMetadata("authorization", authorization_);
  }
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "UNKNOWN";
  }
}

int ReportRpcError(const grpc::Status& s) {
  std::fprintf(stderr, "owctl: %s: %s\n", CodeName(s.error_code()),
               s.error_message().c_str());
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitFailed;
    default:
      // Includes UNAUTHENTICATED and PERMISSION_DENIED: the call never
      // reached the thing asked about.
      return kExitRpc;
  }
}

void Print(const json& j) { std::printf("%s\n", Dump(j).c_str()); }

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    if (width.size() < r.size()) width.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size())
        line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

const char* StatusName(v1::CaseStatus s) {
  switch (s) {
    case v1::CASE_STATUS_RUNNING:
      return "RUNNING";
    case v1::CASE_STATUS_SUCCEEDED:
      return "SUCCEEDED";
    case v1::CASE_STATUS_FAILED:
      return "FAILED";
    case v1::CASE_STATUS_CANCELLED:
      return "CANCELLED";
    default:
      return "UNSPECIFIED";
  }
}

bool Terminal(v1::CaseStatus s) {
  return s == v1::CASE_STATUS_SUCCEEDED || s == v1::CASE_STATUS_FAILED ||
         s == v1::CASE_STATUS_CANCELLED;
}

json DocumentJson(const v1::DocumentRef& d) {
  json j = {{"id", d.id()},
            {"name", d.name()},
            {"media_type", d.media_type()},
            {"size_bytes", d.size_bytes()},
            {"sha256", d.sha256()}};
  if (d.added_at_ms() > 0) j["added_at_ms"] = d.added_at_ms();
  if (!d.added_by().empty()) j["added_by"] = d.added_by();
  return j;
}

json CaseJson(const v1::Case& c) {
  json j = {{"id", c.id()},
            {"service", c.service()},
            {"version", c.version()},
            {"status", StatusName(c.status())},
            {"request_id", c.request_id()},
            {"created_at_ms", c.created_at_ms()},
            {"updated_at_ms", c.updated_at_ms()},
            {"current_states", ToJson(c.current_states())},
            {"open_departments", ToJson(c.open_departments())},
            {"input", JsonOrRaw(c.input_json())}};
  if (c.status() == v1::CASE_STATUS_SUCCEEDED || !c.output_json().empty()) {
    j["output"] = JsonOrRaw(c.output_json());
  }
  if (!c.error().empty() || c.status() == v1::CASE_STATUS_FAILED) {
    j["error"] = c.error();
  }
  if (!c.cause().empty() || c.status() == v1::CASE_STATUS_FAILED ||
      c.status() == v1::CASE_STATUS_CANCELLED) {
    j["cause"] = c.cause();
  }
  if (!c.due_date().empty()) {
    j["due_date"] = c.due_date();
    j["due_at_ms"] = c.due_at_ms();
  }
  j["overdue"] = c.overdue();
  json docs = json::array();
  for (const auto& d : c.documents()) docs.push_back(DocumentJson(d));
  j["documents"] = std::move(docs);
  if (!c.submitted_by().empty()) j["submitted_by"] = c.submitted_by();
  if (c.ended_at_ms() > 0) j["ended_at_ms"] = c.ended_at_ms();
  if (!c.ended_by().empty()) j["ended_by"] = c.ended_by();
  if (c.history_seq() > 0) j["history_seq"] = c.history_seq();
  return j;
}

void PrintCaseSummary(const v1::Case& c) {
  std::vector<std::vector<std::string>> rows = {
      {"Case:", c.id()},
      {"Service:", c.service() + "@" + std::to_string(c.version())},
      {"Status:",
       std::string(StatusName(c.status())) + (c.overdue() ? " (overdue)" : "")},
      {"Request id:", c.request_id().empty() ? "-" : c.request_id()},
      {"Created:", FormatTimeMs(c.created_at_ms())},
      {"Updated:", FormatTimeMs(c.updated_at_ms())},
  };
  if (!c.due_date().empty()) rows.push_back({"Due:", c.due_date()});
  if (!c.submitted_by().empty()) {
    rows.push_back({"Submitted by:", c.submitted_by()});
  }
  if (c.ended_at_ms() > 0) {
    rows.push_back(
        {"Ended:", FormatTimeMs(c.ended_at_ms()) +
                       (c.ended_by().empty() ? "" : " by " + c.ended_by())});
  }
  if (c.current_states_size() > 0) {
    rows.push_back({"States:", Join(c.current_states(), ", ")});
  }
  if (c.open_departments_size() > 0) {
    rows.push_back({"Departments:", Join(c.open_departments(), ", ")});
  }
  if (c.status() == v1::CASE_STATUS_SUCCEEDED) {
    rows.push_back({"Output:", Dump(JsonOrRaw(c.output_json()))});
  }
  if (!c.error().empty()) rows.push_back({"Error:", c.error()});
  if (!c.cause().empty()) rows.push_back({"Cause:", c.cause()});
  for (int i = 0; i < c.documents_size(); ++i) {
    const auto& d = c.documents(i);
    rows.push_back({i == 0 ? "Documents:" : "",
                    d.name() + " (" + d.media_type() + ", " +
                        std::to_string(d.size_bytes()) + " bytes, id " +
                        d.id() + ", sha256 " + d.sha256() + ")"});
  }
  PrintTable(rows);
}

json EventJson(const v1::HistoryEvent& e) {
  json j = {{"seq", e.seq()},
            {"at_ms", e.at_ms()},
            {"type", e.type()},
            {"state", e.state()},
            {"task_id", e.task_id()}};
  j["details"] = JsonOrRaw(e.details_json());
  if (!e.actor().empty()) j["actor"] = e.actor();
  if (!e.actor_role().empty()) j["actor_role"] = e.actor_role();
  if (!e.hash().empty()) j["hash"] = e.hash();
  return j;
}

std::string EventLine(const v1::HistoryEvent& e) {
  std::string line = std::to_string(e.seq()) + "  " + FormatTimeMs(e.at_ms()) +
                     "  " + e.type();
  if (!e.state().empty()) line += "  state=" + e.state();
  if (!e.task_id().empty()) line += "  task=" + e.task_id();
  if (!e.actor().empty() && e.actor() != "engine") {
    line += "  by=" + e.actor();
  }
  if (!e.details_json().empty()) {
    line += "  " + Dump(JsonOrRaw(e.details_json()));
  }
  return line;
}

grpc::Status FetchHistory(const Client& client, v1::CaseService::Stub* stub,
                          const std::string& id, int64_t after_seq,
                          std::vector<v1::HistoryEvent>* out) {
  constexpr int kPage = 1000;
  for (;;) {
    v1::GetCaseHistoryRequest req;
    req.set_case_id(id);
    req.set_after_seq(after_seq);
    req.set_limit(kPage);
    v1::GetCaseHistoryResponse resp;
    grpc::ClientContext call;
    client.Prepare(&call);
    grpc::Status s = stub->GetCaseHistory(&call, req, &resp);
    if (!s.ok()) return s;
    const int64_t before = after_seq;
    for (const auto& e : resp.events()) {
      after_seq = std::max(after_seq, e.seq());
      out->push_back(e);
    }
    // Servers that predate `more` answer short pages at the end.
    if (after_seq == before || (!resp.more() && resp.events_size() < kPage)) {
      return grpc::Status::OK;
    }
  }
}

bool ParseNameVersion(const std::string& text, std::string* name,
                      int64_t* version) {
  const auto at = text.rfind('@');
  if (at == std::string::npos) {
    *name = text;
    *version = 0;
    return !text.empty();
  }
  const std::string v = text.substr(at + 1);
  char* end = nullptr;
  errno = 0;
  const long long parsed = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || parsed <= 0 || errno == ERANGE || at == 0) {
    return false;
  }
  *name = text.substr(0, at);
  *version = parsed;
  return true;
}

}  // namespace onewindow::owctl
