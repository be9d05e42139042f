// owctl's online commands: thin gRPC clients of WorkflowService, CaseService
// and AdapterService, with human and --json output.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "nlohmann/json.hpp"
#include "onewindow/v1/adapters.grpc.pb.h"
#include "onewindow/v1/admin.grpc.pb.h"
#include "onewindow/v1/cases.grpc.pb.h"
#include "onewindow/v1/workflows.grpc.pb.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/rpc_util.h"

namespace onewindow::owctl {
namespace {

namespace v1 = ::onewindow::v1;
using nlohmann::json;

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ",";
    out += s;
  }
  return out;
}

json ToJson(const google::protobuf::RepeatedPtrField<std::string>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

const char* FormatName(v1::DefinitionFormat f) {
  switch (f) {
    case v1::DEFINITION_FORMAT_JSON:
      return "JSON";
    case v1::DEFINITION_FORMAT_YAML:
      return "YAML";
    default:
      return "UNSPECIFIED";
  }
}

v1::DefinitionFormat FormatOf(const std::string& path) {
  const std::string ext = Extension(path);
  if (ext == ".json") return v1::DEFINITION_FORMAT_JSON;
  if (ext == ".yaml" || ext == ".yml") return v1::DEFINITION_FORMAT_YAML;
  return v1::DEFINITION_FORMAT_UNSPECIFIED;
}

json WorkflowJson(const v1::Workflow& w, bool with_definition) {
  json j = {{"name", w.name()},
            {"version", w.version()},
            {"description", w.description()},
            {"deployed_at_ms", w.deployed_at_ms()},
            {"departments", ToJson(w.departments())},
            {"digest", w.digest()},
            {"format", FormatName(w.format())}};
  if (with_definition) j["definition"] = w.definition();
  return j;
}

// NAME.service.yaml (or .yml) beside NAME.asl.yaml, when there is one.
std::string ManifestBeside(const std::string& definition_file) {
  std::string dir;
  if (const auto slash = definition_file.find_last_of('/');
      slash != std::string::npos) {
    dir = definition_file.substr(0, slash + 1);
  }
  const std::string stem = WorkflowNameFromPath(definition_file);
  for (const char* ext : {".service.yaml", ".service.yml"}) {
    const std::string candidate = dir + stem + ext;
    if (::access(candidate.c_str(), R_OK) == 0) return candidate;
  }
  return "";
}

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Parses "id=..,name=..,type=..,size=..,sha256=.." ("\," is a comma inside
// a value). Prints what is wrong and returns false.
bool ParseDocument(const std::string& spec, v1::DocumentRef* doc) {
  std::map<std::string, std::string> fields;
  std::string key, value;
  bool in_value = false;
  auto flush = [&]() -> bool {
    if (key.empty() && value.empty() && !in_value) return true;
    if (!in_value || key.empty()) {
      std::fprintf(stderr,
                   "owctl: --document %s: expected KEY=VALUE pairs separated "
                   "by commas\n",
                   spec.c_str());
      return false;
    }
    if (!fields.emplace(key, value).second) {
      std::fprintf(stderr, "owctl: --document %s: %s given twice\n",
                   spec.c_str(), key.c_str());
      return false;
    }
    key.clear();
    value.clear();
    in_value = false;
    return true;
  };
  for (size_t i = 0; i < spec.size(); ++i) {
    const char c = spec[i];
    if (c == '\\' && i + 1 < spec.size() && spec[i + 1] == ',') {
      (in_value ? value : key) += ',';
      ++i;
    } else if (c == ',') {
      if (!flush()) return false;
    } else if (c == '=' && !in_value) {
      in_value = true;
    } else {
      (in_value ? value : key) += c;
    }
  }
  if (!flush()) return false;
  if (auto t = fields.find("media_type"); t != fields.end()) {
    if (fields.count("type") != 0) {
      std::fprintf(stderr,
                   "owctl: --document %s: give type= or media_type=, not "
                   "both\n",
                   spec.c_str());
      return false;
    }
    fields["type"] = t->second;
    fields.erase(t);
  }
  for (const auto& [k, v] : fields) {
    if (k != "id" && k != "name" && k != "type" && k != "size" &&
        k != "sha256") {
      std::fprintf(stderr,
                   "owctl: --document %s: unknown key %s (expected id, name, "
                   "type, size, sha256)\n",
                   spec.c_str(), k.c_str());
      return false;
    }
  }
  for (const char* k : {"id", "name", "type", "size", "sha256"}) {
    auto it = fields.find(k);
    if (it == fields.end() || it->second.empty()) {
      std::fprintf(stderr, "owctl: --document %s: %s= is required\n",
                   spec.c_str(), k);
      return false;
    }
  }
  const std::string& size = fields["size"];
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(size.c_str(), &end, 10);
  if (*end != '\0' || n < 0 || errno == ERANGE) {
    std::fprintf(stderr,
                 "owctl: --document %s: size=%s is not a number of bytes\n",
                 spec.c_str(), size.c_str());
    return false;
  }
  std::string sha = fields["sha256"];
  for (char& c : sha) c = static_cast<char>(std::tolower(c));
  if (!IsHex64(sha)) {
    std::fprintf(stderr,
                 "owctl: --document %s: sha256= must be 64 hexadecimal "
                 "digits\n",
                 spec.c_str());
    return false;
  }
  doc->set_id(fields["id"]);
  doc->set_name(fields["name"]);
  doc->set_media_type(fields["type"]);
  doc->set_size_bytes(n);
  doc->set_sha256(sha);
  return true;
}

// Midnight (local time) of a YYYY-MM-DD date, in ms since the epoch; with
// `next_day`, midnight of the day after.
bool LocalDateMs(const std::string& date, bool next_day, int64_t* ms) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (date.size() != 10 ||
      std::sscanf(date.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 ||
      m < 1 || m > 12 || d < 1 || d > 31 || y < 1970) {
    return false;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d + (next_day ? 1 : 0);
  tm.tm_isdst = -1;
  const std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return false;
  *ms = static_cast<int64_t>(t) * 1000;
  return true;
}

json TaskJson(const v1::Task& t) {
  return {{"token", t.token()},
          {"case_id", t.case_id()},
          {"task_id", t.task_id()},
          {"department", t.department()},
          {"task_type", t.task_type()},
          {"state", t.state()},
          {"service", t.service()},
          {"version", t.version()},
          {"attempt", t.attempt()},
          {"lease_expires_at_ms", t.lease_expires_at_ms()},
          {"deadline_at_ms", t.deadline_at_ms()},
          {"heartbeat_seconds", t.heartbeat_seconds()},
          {"input", JsonOrRaw(t.input_json())}};
}

}  // namespace

std::string WorkflowNameFromPath(const std::string& path) {
  std::string base = path;
  if (const auto slash = base.find_last_of('/'); slash != std::string::npos) {
    base = base.substr(slash + 1);
  }
  for (size_t pos = base.find(".asl"); pos != std::string::npos;
       pos = base.find(".asl", pos + 1)) {
    const size_t end = pos + 4;
    if (pos > 0 && (end == base.size() || base[end] == '.')) {
      return base.substr(0, pos);
    }
  }
  if (const auto dot = base.find_last_of('.');
      dot != std::string::npos && dot > 0) {
    return base.substr(0, dot);
  }
  return base;
}

int WorkflowDeploy(const GlobalOptions& g,
                   const std::vector<std::string>& files,
                   const std::string& name, const std::string& description,
                   const std::string& service_file) {
  if (!name.empty() && files.size() > 1) {
    std::fprintf(stderr, "owctl: --name needs a single FILE\n");
    return kExitUsage;
  }
  if (!service_file.empty() && files.size() > 1) {
    std::fprintf(stderr, "owctl: --service-file needs a single FILE\n");
    return kExitUsage;
  }
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::WorkflowService::NewStub(client->channel());
  json report = json::array();
  int rc = kExitOk;
  for (const auto& file : files) {
    auto text = ReadFileOrReport(file);
    if (!text) {
      rc = kExitFailed;
      continue;
    }
    v1::DeployWorkflowRequest req;
    req.set_name(name.empty() ? WorkflowNameFromPath(file) : name);
    req.set_definition(*text);
    req.set_format(FormatOf(file));
    req.set_description(description);
    const std::string manifest =
        service_file.empty() ? ManifestBeside(file) : service_file;
    if (!manifest.empty()) {
      auto manifest_text = ReadFileOrReport(manifest);
      if (!manifest_text) {
        rc = kExitFailed;
        continue;
      }
      req.set_service_manifest(*manifest_text);
    }
    v1::DeployWorkflowResponse resp;
    grpc::ClientContext call;
    client->Prepare(&call);
    grpc::Status s = stub->DeployWorkflow(&call, req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "owctl: %s: deploy failed\n", file.c_str());
      const int code = ReportRpcError(s);
      if (code == kExitRpc) return code;
      rc = code;
      continue;
    }
    if (g.json) {
      report.push_back({{"file", file},
                        {"service_file", manifest},
                        {"name", resp.name()},
                        {"version", resp.version()},
                        {"created", resp.created()}});
    } else {
      std::printf("%s@%lld\n", resp.name().c_str(),
                  static_cast<long long>(resp.version()));
    }
  }
  if (g.json) Print(report);
  return rc;
}

int WorkflowList(const GlobalOptions& g) {
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::WorkflowService::NewStub(client->channel());
  v1::ListWorkflowsResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s =
      stub->ListWorkflows(&call, v1::ListWorkflowsRequest(), &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    json a = json::array();
    for (const auto& w : resp.workflows()) a.push_back(WorkflowJson(w, false));
    Print(a);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "VERSION", "DEPARTMENTS", "DEPLOYED AT"}};
  for (const auto& w : resp.workflows()) {
    rows.push_back({w.name(), std::to_string(w.version()),
                    w.departments_size() ? Join(w.departments()) : "-",
                    FormatTimeMs(w.deployed_at_ms())});
  }
  PrintTable(rows);
  return kExitOk;
}

int WorkflowGet(const GlobalOptions& g, const std::string& name_version) {
  v1::GetWorkflowRequest req;
  std::string name;
  int64_t version = 0;
  if (!ParseNameVersion(name_version, &name, &version)) {
    std::fprintf(stderr, "owctl: %s: expected NAME or NAME@VERSION\n",
                 name_version.c_str());
    return kExitUsage;
  }
  req.set_name(name);
  req.set_version(version);
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::WorkflowService::NewStub(client->channel());
  v1::GetWorkflowResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->GetWorkflow(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print(WorkflowJson(resp.workflow(), true));
    return kExitOk;
  }
  std::string def = resp.workflow().definition();
  if (def.empty() || def.back() != '\n') def += '\n';
  std::fputs(def.c_str(), stdout);
  return kExitOk;
}

int CaseSubmit(const GlobalOptions& g, const SubmitArgs& args) {
  if (args.has_data_file == args.has_data_json) {
    std::fprintf(stderr,
                 "owctl: case submit needs exactly one of --data FILE and "
                 "--data-json JSON\n");
    return kExitUsage;
  }
  std::optional<json> data;
  if (args.has_data_file) {
    data = ReadJsonFileOrReport(args.data_file);
  } else {
    data = ParseJsonOrReport(args.data_json, "--data-json");
  }
  if (!data) return kExitFailed;
  v1::SubmitCaseRequest req;
  req.set_service(args.service);
  req.set_input_json(Dump(*data));
  req.set_request_id(args.request_id);
  req.set_version(args.version);
  for (const std::string& spec : args.documents) {
    if (!ParseDocument(spec, req.add_documents())) return kExitUsage;
  }
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::CaseService::NewStub(client->channel());
  v1::SubmitCaseResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->SubmitCase(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    json out = {{"case_id", resp.case_id()},
                {"version", resp.version()},
                {"deduplicated", resp.deduplicated()}};
    if (!resp.due_date().empty()) out["due_date"] = resp.due_date();
    if (resp.created_at_ms() > 0) out["created_at_ms"] = resp.created_at_ms();
    Print(out);
  } else {
    std::printf("%s\n", resp.case_id().c_str());
  }
  return kExitOk;
}

int CaseGet(const GlobalOptions& g, const std::string& id) {
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::CaseService::NewStub(client->channel());
  v1::GetCaseRequest req;
  req.set_case_id(id);
  v1::GetCaseResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->GetCase(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print(CaseJson(resp.case_()));
  } else {
    PrintCaseSummary(resp.case_());
  }
  return kExitOk;
}

namespace {

// "2026-11-28 14:20 +0800" in this machine's local time (the counter's).
std::string LocalTimeMs(int64_t ms) {
  if (ms <= 0) return "-";
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (::localtime_r(&t, &tm) == nullptr) return FormatTimeMs(ms);
  char buf[64];
  if (std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M %z", &tm) == 0) {
    return FormatTimeMs(ms);
  }
  return buf;
}

// Titles in the order the counter reads them out: Chinese, Portuguese,
// English, then any other language by tag.
std::vector<std::pair<std::string, std::string>> OrderedTitles(
    const google::protobuf::Map<std::string, std::string>& titles) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* lang : {"zh-Hant", "pt", "en"}) {
    if (auto it = titles.find(lang);
        it != titles.end() && !it->second.empty()) {
      out.emplace_back(lang, it->second);
    }
  }
  std::map<std::string, std::string> rest;
  for (const auto& [lang, title] : titles) {
    if (lang != "zh-Hant" && lang != "pt" && lang != "en" && !title.empty()) {
      rest.emplace(lang, title);
    }
  }
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace

int CaseReceipt(const GlobalOptions& g, const std::string& id) {
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto cases = v1::CaseService::NewStub(client->channel());
  v1::GetCaseRequest req;
  req.set_case_id(id);
  v1::GetCaseResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = cases->GetCase(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  const v1::Case& c = resp.case_();

  // The manifest of the version the case runs: titles, deadline, calendar.
  // Without it the receipt still carries what the case itself holds.
  std::optional<v1::ServiceManifest> manifest;
  {
    auto workflows = v1::WorkflowService::NewStub(client->channel());
    v1::GetWorkflowRequest wreq;
    wreq.set_name(c.service());
    wreq.set_version(c.version());
    v1::GetWorkflowResponse wresp;
    grpc::ClientContext wcall;
    client->Prepare(&wcall);
    grpc::Status ws = workflows->GetWorkflow(&wcall, wreq, &wresp);
    if (ws.ok()) {
      manifest = wresp.workflow().manifest();
    } else {
      std::fprintf(stderr,
                   "owctl: note: no service titles on the receipt: %s: %s\n",
                   CodeName(ws.error_code()), ws.error_message().c_str());
    }
  }
  std::vector<std::pair<std::string, std::string>> titles;
  if (manifest) titles = OrderedTitles(manifest->title());
  const int deadline = manifest ? manifest->deadline_working_days() : 0;
  const std::string calendar = manifest && !manifest->calendar().empty()
                                   ? manifest->calendar()
                                   : "default";

  if (g.json) {
    json title = json::object();
    for (const auto& [lang, t] : titles) title[lang] = t;
    json docs = json::array();
    for (const auto& d : c.documents()) docs.push_back(DocumentJson(d));
    json out = {{"case_id", c.id()},
                {"service", c.service()},
                {"version", c.version()},
                {"title", std::move(title)},
                {"status", StatusName(c.status())},
                {"submitted_at_ms", c.created_at_ms()},
                {"submitted_at", FormatTimeMs(c.created_at_ms())},
                {"documents", std::move(docs)}};
    if (!c.due_date().empty()) out["due_date"] = c.due_date();
    if (deadline > 0) {
      out["deadline_working_days"] = deadline;
      out["calendar"] = calendar;
    }
    Print(out);
    return kExitOk;
  }

  std::vector<std::vector<std::string>> rows;
  rows.push_back({"Case number", c.id()});
  if (titles.empty()) {
    rows.push_back({"Service", c.service()});
  } else {
    for (size_t i = 0; i < titles.size(); ++i) {
      rows.push_back({i == 0 ? "Service" : "", titles[i].second});
    }
    rows.push_back({"", "(" + c.service() + ", version " +
                            std::to_string(c.version()) + ")"});
  }
  rows.push_back({"Submitted", LocalTimeMs(c.created_at_ms())});
  if (!c.due_date().empty()) {
    std::string due = c.due_date();
    if (deadline > 0) {
      due += " (" + std::to_string(deadline) + " working day" +
             (deadline == 1 ? "" : "s") + ", calendar " + calendar + ")";
    }
    rows.push_back({"Due date", due});
  } else {
    rows.push_back({"Due date", "- (the service sets no statutory deadline)"});
  }
  rows.push_back({"Status", std::string(StatusName(c.status())) +
                                (c.overdue() ? " (overdue)" : "")});
  if (c.documents_size() == 0) {
    rows.push_back({"Documents", "none"});
  }
  for (int i = 0; i < c.documents_size(); ++i) {
    const auto& d = c.documents(i);
    rows.push_back({i == 0 ? "Documents" : "",
                    std::to_string(i + 1) + ". " + d.name() + "  " +
                        d.media_type() + "  " + std::to_string(d.size_bytes()) +
                        " bytes  sha256 " + d.sha256()});
  }
  PrintTable(rows);
  std::printf(
      "\nQuote the case number to follow the case; its last digit is a "
      "check digit.\n");
  return kExitOk;
}

int CaseList(const GlobalOptions& g, const ListArgs& args) {
  v1::ListCasesRequest req;
  if (!args.status.empty()) {
    std::string st = args.status;
    for (char& c : st) c = static_cast<char>(std::toupper(c));
    v1::CaseStatus status;
    if (!v1::CaseStatus_Parse("CASE_STATUS_" + st, &status) ||
        status == v1::CASE_STATUS_UNSPECIFIED) {
      std::fprintf(stderr,
                   "owctl: --status %s: expected RUNNING, SUCCEEDED, FAILED "
                   "or CANCELLED\n",
                   args.status.c_str());
      return kExitUsage;
    }
    req.set_status(status);
  }
  req.set_service(args.service);
  req.set_department(args.department);
  req.set_limit(args.limit);
  req.set_overdue(args.overdue);
  req.set_page_token(args.page_token);
  req.set_applicant(args.applicant);
  if (args.version > 0 && args.service.empty()) {
    std::fprintf(stderr, "owctl: --version goes with --service\n");
    return kExitUsage;
  }
  req.set_version(args.version);
  int64_t ms = 0;
  if (!args.since.empty()) {
    if (!LocalDateMs(args.since, false, &ms)) {
      std::fprintf(stderr, "owctl: --since %s: expected YYYY-MM-DD\n",
                   args.since.c_str());
      return kExitUsage;
    }
    req.set_submitted_after_ms(ms);
  }
  if (!args.until.empty()) {
    if (!LocalDateMs(args.until, true, &ms)) {
      std::fprintf(stderr, "owctl: --until %s: expected YYYY-MM-DD\n",
                   args.until.c_str());
      return kExitUsage;
    }
    req.set_submitted_before_ms(ms);
  }
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::CaseService::NewStub(client->channel());
  v1::ListCasesResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->ListCases(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    json a = json::array();
    for (const auto& c : resp.cases()) a.push_back(CaseJson(c));
    Print(
        {{"cases", std::move(a)}, {"next_page_token", resp.next_page_token()}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"ID", "STATUS", "SERVICE",
                                                 "VERSION", "DUE", "UPDATED AT",
                                                 "DEPARTMENTS"}};
  for (const auto& c : resp.cases()) {
    rows.push_back(
        {c.id(), std::string(StatusName(c.status())) + (c.overdue() ? "*" : ""),
         c.service(), std::to_string(c.version()),
         c.due_date().empty() ? "-" : c.due_date(),
         FormatTimeMs(c.updated_at_ms()),
         c.open_departments_size() ? Join(c.open_departments()) : "-"});
  }
  PrintTable(rows);
  // The token comes last, so `| tail -n 1` finds it.
  if (!resp.next_page_token().empty()) {
    std::printf("next_page_token: %s\n", resp.next_page_token().c_str());
  }
  return kExitOk;
}

int CaseHistory(const GlobalOptions& g, const std::string& id) {
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::CaseService::NewStub(client->channel());
  std::vector<v1::HistoryEvent> events;
  grpc::Status s = FetchHistory(*client, stub.get(), id, 0, &events);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    json a = json::array();
    for (const auto& e : events) a.push_back(EventJson(e));
    Print(a);
    return kExitOk;
  }
  for (const auto& e : events) std::printf("%s\n", EventLine(e).c_str());
  return kExitOk;
}

namespace {

void PrintEvent(const GlobalOptions& g, const v1::HistoryEvent& e) {
  if (g.json) {
    Print(EventJson(e));
  } else {
    std::printf("%s\n", EventLine(e).c_str());
  }
  std::fflush(stdout);
}

// The last line of `case watch`, and its exit status.
int PrintEnded(const GlobalOptions& g, const v1::Case& c) {
  if (g.json) {
    Print(CaseJson(c));
  } else if (c.status() == v1::CASE_STATUS_SUCCEEDED) {
    std::printf("%s SUCCEEDED %s\n", c.id().c_str(),
                Dump(JsonOrRaw(c.output_json())).c_str());
  } else {
    std::printf("%s %s %s%s%s\n", c.id().c_str(), StatusName(c.status()),
                c.error().c_str(), c.cause().empty() ? "" : ": ",
                c.cause().c_str());
  }
  return c.status() == v1::CASE_STATUS_SUCCEEDED ? kExitOk : kExitFailed;
}

}  // namespace

int CaseWatch(const GlobalOptions& g, const std::string& id,
              int64_t interval_ms) {
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::CaseService::NewStub(client->channel());
  int64_t last_seq = 0;

  // The server stream: events as they commit, ending after the final one.
  {
    grpc::ClientContext ctx;
    client->PrepareStream(&ctx);
    v1::WatchCaseRequest req;
    req.set_case_id(id);
    auto reader = stub->WatchCase(&ctx, req);
    v1::WatchCaseResponse msg;
    while (reader->Read(&msg)) {
      if (!msg.has_event() || msg.event().seq() <= last_seq) continue;
      last_seq = msg.event().seq();
      PrintEvent(g, msg.event());
    }
    grpc::Status s = reader->Finish();
    if (!s.ok() && s.error_code() != grpc::StatusCode::UNIMPLEMENTED) {
      return ReportRpcError(s);
    }
    // OK: the stream ended; the case says how (or, if it has not ended,
    // polling takes over from here). UNIMPLEMENTED: an older server.
  }

  for (;;) {
    // The case first, then its history: once the case is seen ended, the
    // history read after it holds every event up to the end.
    v1::GetCaseRequest req;
    req.set_case_id(id);
    v1::GetCaseResponse resp;
    grpc::ClientContext call;
    client->Prepare(&call);
    grpc::Status s = stub->GetCase(&call, req, &resp);
    if (!s.ok()) return ReportRpcError(s);
    std::vector<v1::HistoryEvent> events;
    s = FetchHistory(*client, stub.get(), id, last_seq, &events);
    if (!s.ok()) return ReportRpcError(s);
    for (const auto& e : events) {
      if (e.seq() <= last_seq) continue;
      last_seq = e.seq();
      PrintEvent(g, e);
    }
    if (Terminal(resp.case_().status())) return PrintEnded(g, resp.case_());
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
}

int CaseCancel(const GlobalOptions& g, const std::string& id,
               const std::string& reason) {
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::CaseService::NewStub(client->channel());
  v1::CancelCaseRequest req;
  req.set_case_id(id);
  req.set_reason(reason);
  v1::CancelCaseResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->CancelCase(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print(CaseJson(resp.case_()));
  } else {
    std::printf(
        "%s %s\n",
        resp.case_().id().empty() ? id.c_str() : resp.case_().id().c_str(),
        resp.case_().status() == v1::CASE_STATUS_UNSPECIFIED
            ? "CANCELLED"
            : StatusName(resp.case_().status()));
  }
  return kExitOk;
}

int TaskActivate(const GlobalOptions& g, const ActivateArgs& args) {
  v1::ActivateTasksRequest req;
  req.set_department(args.department);
  req.set_max_tasks(args.max);
  req.set_lease_ms(args.lease_ms);
  req.set_worker(args.worker.empty() ? "owctl" : args.worker);
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::AdapterService::NewStub(client->channel());
  v1::ActivateTasksResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->ActivateTasks(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    json a = json::array();
    for (const auto& t : resp.tasks()) a.push_back(TaskJson(t));
    Print(a);
    return kExitOk;
  }
  if (resp.tasks_size() == 0) {
    std::fprintf(stderr, "owctl: no task ready for %s\n",
                 args.department.c_str());
    return kExitOk;
  }
  // One task a line, tab-separated, token first (easy to cut/awk).
  for (const auto& t : resp.tasks()) {
    std::printf("%s\t%s\t%s\t%s\t%s\n", t.token().c_str(), t.case_id().c_str(),
                t.state().c_str(), t.task_type().c_str(),
                Dump(JsonOrRaw(t.input_json())).c_str());
  }
  return kExitOk;
}

int TaskComplete(const GlobalOptions& g, const std::string& token,
                 const std::string& result_file, bool has_result_file,
                 const std::string& result_json, bool has_result_json) {
  if (has_result_file == has_result_json) {
    std::fprintf(stderr,
                 "owctl: task complete needs exactly one of --result FILE and "
                 "--result-json JSON\n");
    return kExitUsage;
  }
  std::optional<json> result =
      has_result_file ? ReadJsonFileOrReport(result_file)
                      : ParseJsonOrReport(result_json, "--result-json");
  if (!result) return kExitFailed;
  v1::CompleteTaskRequest req;
  req.set_token(token);
  req.set_result_json(Dump(*result));
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::AdapterService::NewStub(client->channel());
  v1::CompleteTaskResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->CompleteTask(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print({{"token", token}, {"result", "completed"}});
  } else {
    std::printf("%s completed\n", token.c_str());
  }
  return kExitOk;
}

int TaskFail(const GlobalOptions& g, const std::string& token,
             const std::string& error, const std::string& cause) {
  v1::FailTaskRequest req;
  req.set_token(token);
  req.set_error(error);
  req.set_cause(cause);
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::AdapterService::NewStub(client->channel());
  v1::FailTaskResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->FailTask(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print({{"token", token}, {"result", "failed"}});
  } else {
    std::printf("%s failed\n", token.c_str());
  }
  return kExitOk;
}

int CaseVerify(const GlobalOptions& g, const std::string& id) {
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::CaseService::NewStub(client->channel());
  v1::VerifyCaseRequest req;
  req.set_case_id(id);
  v1::VerifyCaseResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->VerifyCase(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print({{"case_id", id},
           {"intact", resp.intact()},
           {"events", resp.events()},
           {"first_bad_seq", resp.first_bad_seq()},
           {"message", resp.message()}});
  } else if (resp.intact()) {
    std::printf("%s: history intact (%lld events)\n", id.c_str(),
                static_cast<long long>(resp.events()));
  } else {
    std::printf("%s: event %lld: %s\n", id.c_str(),
                static_cast<long long>(resp.first_bad_seq()),
                resp.message().c_str());
  }
  return resp.intact() ? kExitOk : kExitFailed;
}

int CaseDocumentsAdd(const GlobalOptions& g, const std::string& id,
                     const std::vector<std::string>& documents) {
  v1::AddDocumentsRequest req;
  req.set_case_id(id);
  for (const std::string& spec : documents) {
    if (!ParseDocument(spec, req.add_documents())) return kExitUsage;
  }
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::CaseService::NewStub(client->channel());
  v1::AddDocumentsResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->AddDocuments(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print(CaseJson(resp.case_()));
  } else {
    PrintCaseSummary(resp.case_());
  }
  return kExitOk;
}

int CaseMigrate(const GlobalOptions& g, const std::string& id,
                int64_t to_version) {
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::CaseService::NewStub(client->channel());
  v1::MigrateCaseRequest req;
  req.set_case_id(id);
  req.set_to_version(to_version);
  v1::MigrateCaseResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->MigrateCase(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print(CaseJson(resp.case_()));
  } else {
    PrintCaseSummary(resp.case_());
  }
  return kExitOk;
}

int AdminBackup(const GlobalOptions& g, const std::string& to_dir) {
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::AdminService::NewStub(client->channel());
  v1::BackupRequest req;
  req.set_to_dir(to_dir);
  v1::BackupResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->Backup(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print({{"dir", resp.dir()},
           {"bytes", resp.bytes()},
           {"sequence", resp.sequence()},
           {"took_ms", resp.took_ms()}});
  } else {
    std::printf("%s: %lld bytes at sequence %llu in %lld ms\n",
                resp.dir().c_str(), static_cast<long long>(resp.bytes()),
                static_cast<unsigned long long>(resp.sequence()),
                static_cast<long long>(resp.took_ms()));
  }
  return kExitOk;
}

int WhoAmI(const GlobalOptions& g) {
  auto client = Client::Open(g);
  if (!client) return kExitUsage;
  auto stub = v1::AdminService::NewStub(client->channel());
  v1::WhoAmIResponse resp;
  grpc::ClientContext call;
  client->Prepare(&call);
  grpc::Status s = stub->WhoAmI(&call, v1::WhoAmIRequest(), &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print({{"principal", resp.principal()},
           {"role", resp.role()},
           {"department", resp.department()}});
  } else if (resp.department().empty()) {
    std::printf("%s %s\n", resp.principal().c_str(), resp.role().c_str());
  } else {
    std::printf("%s %s %s\n", resp.principal().c_str(), resp.role().c_str(),
                resp.department().c_str());
  }
  return kExitOk;
}

}  // namespace onewindow::owctl
