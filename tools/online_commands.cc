// owctl's online commands: thin gRPC clients of WorkflowService, CaseService
// and AdapterService, with human and --json output.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "nlohmann/json.hpp"
#include "onewindow/v1/adapters.grpc.pb.h"
#include "onewindow/v1/cases.grpc.pb.h"
#include "onewindow/v1/workflows.grpc.pb.h"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace onewindow::owctl {
namespace {

namespace v1 = ::onewindow::v1;
using nlohmann::json;

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

// Prints "owctl: CODE: message" and maps the code to an exit status: the
// request was understood and refused -> 1; transport trouble -> 3.
int ReportRpcError(const grpc::Status& s) {
  std::fprintf(stderr, "owctl: %s: %s\n", CodeName(s.error_code()),
               s.error_message().c_str());
  switch (s.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitFailed;
    default:
      return kExitRpc;
  }
}

std::shared_ptr<grpc::Channel> Channel(const GlobalOptions& g) {
  return grpc::CreateChannel(g.addr, grpc::InsecureChannelCredentials());
}

// Applies --timeout-ms to a call.
void SetDeadline(grpc::ClientContext* ctx, const GlobalOptions& g) {
  ctx->set_deadline(std::chrono::system_clock::now() +
                    std::chrono::milliseconds(g.timeout_ms));
}

void Print(const json& j) { std::printf("%s\n", Dump(j).c_str()); }

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

// Prints rows as left-aligned columns separated by two spaces.
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
  return j;
}

void PrintCaseSummary(const v1::Case& c) {
  std::vector<std::vector<std::string>> rows = {
      {"Case:", c.id()},
      {"Service:", c.service() + "@" + std::to_string(c.version())},
      {"Status:", StatusName(c.status())},
      {"Request id:", c.request_id().empty() ? "-" : c.request_id()},
      {"Created:", FormatTimeMs(c.created_at_ms())},
      {"Updated:", FormatTimeMs(c.updated_at_ms())},
  };
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
  PrintTable(rows);
}

json EventJson(const v1::HistoryEvent& e) {
  json j = {{"seq", e.seq()},
            {"at_ms", e.at_ms()},
            {"type", e.type()},
            {"state", e.state()},
            {"task_id", e.task_id()}};
  j["details"] = JsonOrRaw(e.details_json());
  return j;
}

std::string EventLine(const v1::HistoryEvent& e) {
  std::string line = std::to_string(e.seq()) + "  " + FormatTimeMs(e.at_ms()) +
                     "  " + e.type();
  if (!e.state().empty()) line += "  state=" + e.state();
  if (!e.task_id().empty()) line += "  task=" + e.task_id();
  if (!e.details_json().empty()) {
    line += "  " + Dump(JsonOrRaw(e.details_json()));
  }
  return line;
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

// Reads the whole history of a case, page by page, after `after_seq`.
grpc::Status FetchHistory(const GlobalOptions& g, v1::CaseService::Stub* stub,
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
    SetDeadline(&call, g);
    grpc::Status s = stub->GetCaseHistory(&call, req, &resp);
    if (!s.ok()) return s;
    for (const auto& e : resp.events()) {
      after_seq = std::max(after_seq, e.seq());
      out->push_back(e);
    }
    if (resp.events_size() < kPage) return grpc::Status::OK;
  }
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
                   const std::string& name, const std::string& description) {
  if (!name.empty() && files.size() > 1) {
    std::fprintf(stderr, "owctl: --name needs a single FILE\n");
    return kExitUsage;
  }
  auto stub = v1::WorkflowService::NewStub(Channel(g));
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
    v1::DeployWorkflowResponse resp;
    grpc::ClientContext call;
    SetDeadline(&call, g);
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
  auto stub = v1::WorkflowService::NewStub(Channel(g));
  v1::ListWorkflowsResponse resp;
  grpc::ClientContext call;
  SetDeadline(&call, g);
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
  const auto at = name_version.rfind('@');
  if (at != std::string::npos) {
    const std::string v = name_version.substr(at + 1);
    char* end = nullptr;
    const long long version = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || version <= 0) {
      std::fprintf(stderr, "owctl: %s: expected NAME or NAME@VERSION\n",
                   name_version.c_str());
      return kExitUsage;
    }
    req.set_name(name_version.substr(0, at));
    req.set_version(version);
  } else {
    req.set_name(name_version);
  }
  auto stub = v1::WorkflowService::NewStub(Channel(g));
  v1::GetWorkflowResponse resp;
  grpc::ClientContext call;
  SetDeadline(&call, g);
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
  auto stub = v1::CaseService::NewStub(Channel(g));
  v1::SubmitCaseResponse resp;
  grpc::ClientContext call;
  SetDeadline(&call, g);
  grpc::Status s = stub->SubmitCase(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print({{"case_id", resp.case_id()},
           {"version", resp.version()},
           {"deduplicated", resp.deduplicated()}});
  } else {
    std::printf("%s\n", resp.case_id().c_str());
  }
  return kExitOk;
}

int CaseGet(const GlobalOptions& g, const std::string& id) {
  auto stub = v1::CaseService::NewStub(Channel(g));
  v1::GetCaseRequest req;
  req.set_case_id(id);
  v1::GetCaseResponse resp;
  grpc::ClientContext call;
  SetDeadline(&call, g);
  grpc::Status s = stub->GetCase(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print(CaseJson(resp.case_()));
  } else {
    PrintCaseSummary(resp.case_());
  }
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
  auto stub = v1::CaseService::NewStub(Channel(g));
  v1::ListCasesResponse resp;
  grpc::ClientContext call;
  SetDeadline(&call, g);
  grpc::Status s = stub->ListCases(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    json a = json::array();
    for (const auto& c : resp.cases()) a.push_back(CaseJson(c));
    Print(a);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {
      {"ID", "STATUS", "SERVICE", "VERSION", "UPDATED AT", "DEPARTMENTS"}};
  for (const auto& c : resp.cases()) {
    rows.push_back(
        {c.id(), StatusName(c.status()), c.service(),
         std::to_string(c.version()), FormatTimeMs(c.updated_at_ms()),
         c.open_departments_size() ? Join(c.open_departments()) : "-"});
  }
  PrintTable(rows);
  if (!resp.next_page_token().empty()) {
    std::fprintf(stderr,
                 "owctl: more cases match; raise --limit to see them\n");
  }
  return kExitOk;
}

int CaseHistory(const GlobalOptions& g, const std::string& id) {
  auto stub = v1::CaseService::NewStub(Channel(g));
  std::vector<v1::HistoryEvent> events;
  grpc::Status s = FetchHistory(g, stub.get(), id, 0, &events);
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

int CaseWatch(const GlobalOptions& g, const std::string& id,
              int64_t interval_ms) {
  auto stub = v1::CaseService::NewStub(Channel(g));
  int64_t last_seq = 0;
  for (;;) {
    // The case first, then its history: once the case is seen ended, the
    // history read after it holds every event up to the end.
    v1::GetCaseRequest req;
    req.set_case_id(id);
    v1::GetCaseResponse resp;
    grpc::ClientContext call;
    SetDeadline(&call, g);
    grpc::Status s = stub->GetCase(&call, req, &resp);
    if (!s.ok()) return ReportRpcError(s);
    std::vector<v1::HistoryEvent> events;
    s = FetchHistory(g, stub.get(), id, last_seq, &events);
    if (!s.ok()) return ReportRpcError(s);
    for (const auto& e : events) {
      last_seq = std::max(last_seq, e.seq());
      if (g.json) {
        Print(EventJson(e));
      } else {
        std::printf("%s\n", EventLine(e).c_str());
      }
    }
    std::fflush(stdout);
    const v1::Case& c = resp.case_();
    if (Terminal(c.status())) {
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
    std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
  }
}

int CaseCancel(const GlobalOptions& g, const std::string& id,
               const std::string& reason) {
  auto stub = v1::CaseService::NewStub(Channel(g));
  v1::CancelCaseRequest req;
  req.set_case_id(id);
  req.set_reason(reason);
  v1::CancelCaseResponse resp;
  grpc::ClientContext call;
  SetDeadline(&call, g);
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
  auto stub = v1::AdapterService::NewStub(Channel(g));
  v1::ActivateTasksResponse resp;
  grpc::ClientContext call;
  SetDeadline(&call, g);
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
  auto stub = v1::AdapterService::NewStub(Channel(g));
  v1::CompleteTaskResponse resp;
  grpc::ClientContext call;
  SetDeadline(&call, g);
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
  auto stub = v1::AdapterService::NewStub(Channel(g));
  v1::FailTaskResponse resp;
  grpc::ClientContext call;
  SetDeadline(&call, g);
  grpc::Status s = stub->FailTask(&call, req, &resp);
  if (!s.ok()) return ReportRpcError(s);
  if (g.json) {
    Print({{"token", token}, {"result", "failed"}});
  } else {
    std::printf("%s failed\n", token.c_str());
  }
  return kExitOk;
}

}  // namespace onewindow::owctl
