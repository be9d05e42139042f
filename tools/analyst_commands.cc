// owctl's analyst commands that work on files offline and on deployed
// versions online: `workflow render` and `workflow diff`.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/render/render.h"
#include "engine/render/svg.h"
#include "nlohmann/json.hpp"
#include "onewindow/v1/cases.grpc.pb.h"
#include "onewindow/v1/workflows.grpc.pb.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/definition_file.h"
#include "tools/rpc_util.h"
#include "tools/workflow_diff.h"

namespace onewindow::owctl {
namespace {

namespace v1 = ::onewindow::v1;
using nlohmann::json;

// Running cases looked at by `workflow diff` (pages of 1000).
constexpr int kMaxDiffCases = 10000;

// A file on disk, or something that can only be meant as one.
bool IsFile(const std::string& s) {
  struct stat st;
  if (::stat(s.c_str(), &st) == 0) return true;
  const std::string ext = Extension(s);
  return s.find('/') != std::string::npos || ext == ".json" || ext == ".yaml" ||
         ext == ".yml";
}

// A definition from a file or from the server.
struct Source {
  std::string label;  // the file, or NAME@VERSION
  bool deployed = false;
  std::string name;
  int64_t version = 0;
  DefinitionFile file;
};

// Loads `spec` (a file, or NAME[@VERSION] fetched with `client`; version
// `default_version` when none is given). Prints what went wrong and returns
// the exit status in *rc.
std::optional<Source> LoadSpec(const std::string& spec,
                               const std::optional<Client>& client,
                               int64_t default_version, int* rc) {
  Source src;
  if (IsFile(spec)) {
    src.label = spec;
    src.file = LoadDefinitionFile(spec);
  } else {
    if (!ParseNameVersion(spec, &src.name, &src.version)) {
      std::fprintf(stderr, "owctl: %s: expected FILE, NAME or NAME@VERSION\n",
                   spec.c_str());
      *rc = kExitUsage;
      return std::nullopt;
    }
    if (src.version == 0) src.version = default_version;
    if (!client) {
      *rc = kExitUsage;
      return std::nullopt;
    }
    auto stub = v1::WorkflowService::NewStub(client->channel());
    v1::GetWorkflowRequest req;
    req.set_name(src.name);
    req.set_version(src.version);
    v1::GetWorkflowResponse resp;
    grpc::ClientContext call;
    client->Prepare(&call);
    grpc::Status s = stub->GetWorkflow(&call, req, &resp);
    if (!s.ok()) {
      *rc = ReportRpcError(s);
      return std::nullopt;
    }
    src.deployed = true;
    src.version = resp.workflow().version();
    src.label = src.name + "@" + std::to_string(src.version);
    src.file = LoadDefinitionText(src.label, resp.workflow().definition());
  }
  if (!src.file.readable) {
    std::fprintf(stderr, "owctl: %s: %s\n", src.label.c_str(),
                 src.file.problems.front().message.c_str());
    *rc = kExitFailed;
    return std::nullopt;
  }
  if (!src.file.valid()) {
    for (const std::string& e : src.file.ErrorLines()) {
      std::fprintf(stderr, "%s\n", e.c_str());
    }
    *rc = kExitFailed;
    return std::nullopt;
  }
  return src;
}

std::string FormatFromOutput(const std::string& output) {
  const std::string ext = Extension(output);
  if (ext == ".svg") return "svg";
  if (ext == ".dot" || ext == ".gv") return "dot";
  return "mermaid";
}

bool WriteOutput(const std::string& output, const std::string& text) {
  if (output.empty() || output == "-") {
    return std::fwrite(text.data(), 1, text.size(), stdout) == text.size() &&
           std::fflush(stdout) == 0;
  }
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::fprintf(stderr, "owctl: -o %s: cannot write\n", output.c_str());
    return false;
  }
  return true;
}

}  // namespace

int WorkflowRender(const GlobalOptions& g, const RenderArgs& args) {
  const std::string format =
      args.format.empty() ? FormatFromOutput(args.output) : args.format;
  if (format != "mermaid" && format != "dot" && format != "svg") {
    std::fprintf(stderr, "owctl: --format %s: expected mermaid, dot or svg\n",
                 format.c_str());
    return kExitUsage;
  }
  if (format == "svg") {
    // Before any work: say at once when Graphviz is missing.
    if (auto dot = render::FindDot(); !dot.ok()) {
      std::fprintf(stderr, "owctl: render --format svg: %s\n",
                   std::string(dot.status().message()).c_str());
      return kExitFailed;
    }
  }
  const bool online = !args.case_id.empty() || !IsFile(args.source);
  std::optional<Client> client;
  if (online) {
    client = Client::Open(g);
    if (!client) return kExitUsage;
  }

  // The case first: its version is the default for NAME without @VERSION.
  render::Highlight highlight;
  std::optional<v1::Case> the_case;
  if (!args.case_id.empty()) {
    auto stub = v1::CaseService::NewStub(client->channel());
    v1::GetCaseRequest req;
    req.set_case_id(args.case_id);
    v1::GetCaseResponse resp;
    grpc::ClientContext call;
    client->Prepare(&call);
    grpc::Status s = stub->GetCase(&call, req, &resp);
    if (!s.ok()) return ReportRpcError(s);
    the_case = resp.case_();
    std::vector<v1::HistoryEvent> events;
    s = FetchHistory(*client, stub.get(), args.case_id, 0, &events);
    if (!s.ok()) return ReportRpcError(s);
    std::vector<render::HistoryStep> steps;
    steps.reserve(events.size());
    for (const auto& e : events) steps.push_back({e.type(), e.state()});
    highlight = render::HighlightFromHistory(
        steps, std::vector<std::string>(the_case->current_states().begin(),
                                        the_case->current_states().end()));
  }

  int rc = kExitOk;
  std::optional<Source> src =
      LoadSpec(args.source, client, the_case ? the_case->version() : 0, &rc);
  if (!src) return rc;
  if (the_case && src->deployed &&
      (src->name != the_case->service() ||
       src->version != the_case->version())) {
    std::fprintf(stderr, "owctl: note: case %s runs %s@%lld, not %s\n",
                 the_case->id().c_str(), the_case->service().c_str(),
                 static_cast<long long>(the_case->version()),
                 src->label.c_str());
  }

  render::RenderOptions options;
  options.title = src->label;
  if (the_case) {
    options.highlight = &highlight;
    options.title += " \xE2\x80\x94 case " + the_case->id() + " (" +
                     StatusName(the_case->status()) + ")";
  }
  const asl::Definition& def = *src->file.definition;
  std::string text;
  if (format == "mermaid") {
    text = render::ToMermaid(def, options);
  } else {
    text = render::ToDot(def, options);
    if (format == "svg") {
      auto svg = render::DotToSvg(text);
      if (!svg.ok()) {
        std::fprintf(stderr, "owctl: render --format svg: %s\n",
                     std::string(svg.status().message()).c_str());
        return kExitFailed;
      }
      text = std::move(*svg);
    }
  }
  return WriteOutput(args.output, text) ? kExitOk : kExitFailed;
}

int WorkflowDiff(const GlobalOptions& g, const std::string& a,
                 const std::string& b) {
  std::optional<Client> client;
  if (!IsFile(a) || !IsFile(b)) {
    client = Client::Open(g);
    if (!client) return kExitUsage;
  }
  int rc = kExitOk;
  std::optional<Source> sa = LoadSpec(a, client, 0, &rc);
  if (!sa) return rc;
  std::optional<Source> sb = LoadSpec(b, client, 0, &rc);
  if (!sb) return rc;
  const DefinitionDiff diff =
      DiffDefinitions(*sa->file.definition, *sb->file.definition);

  json out = {{"a", sa->label}, {"b", sb->label}, {"diff", diff.ToJson()}};
  if (!g.json) {
    std::printf("--- %s\n+++ %s\n", sa->label.c_str(), sb->label.c_str());
    if (diff.same()) std::printf("no differences\n");
    for (const std::string& line : DiffLines(diff)) {
      std::printf("%s\n", line.c_str());
    }
  }

  // Which running cases of a deployed A could move to B.
  if (sa->deployed) {
    auto stub = v1::CaseService::NewStub(client->channel());
    json movable = json::array();
    json blocked = json::array();
    std::vector<std::string> lines;
    bool truncated = false;
    std::string page_token;
    int seen = 0;
    for (;;) {
      v1::ListCasesRequest req;
      req.set_service(sa->name);
      req.set_version(sa->version);
      req.set_status(v1::CASE_STATUS_RUNNING);
      req.set_limit(1000);
      req.set_page_token(page_token);
      v1::ListCasesResponse resp;
      grpc::ClientContext call;
      client->Prepare(&call);
      grpc::Status s = stub->ListCases(&call, req, &resp);
      if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
        // An analyst may compare definitions without seeing cases: the
        // comparison stands, only the list of cases is missing.
        const std::string note =
            "the running cases of " + sa->label +
            " were not looked at: this principal may not list cases (" +
            s.error_message() + ")";
        if (g.json) {
          out["cases"] = {{"of", sa->label},
                          {"unavailable", "PERMISSION_DENIED"},
                          {"note", note}};
          Print(out);
        } else {
          std::printf("running cases: not shown\n");
        }
        std::fprintf(stderr, "owctl: note: %s\n", note.c_str());
        return kExitOk;
      }
      if (!s.ok()) {
        if (g.json) Print(out);
        std::fprintf(stderr, "owctl: cannot list the running cases of %s\n",
                     sa->label.c_str());
        return ReportRpcError(s);
      }
      for (const auto& c : resp.cases()) {
        // Filters a server might not apply yet.
        if (c.service() != sa->name || c.version() != sa->version ||
            c.status() != v1::CASE_STATUS_RUNNING) {
          continue;
        }
        std::vector<std::string> at(c.current_states().begin(),
                                    c.current_states().end());
        std::string where;
        for (const std::string& st : at)
          where += (where.empty() ? "" : ", ") + st;
        const auto missing = MissingState(at, *sb->file.definition);
        if (missing) {
          blocked.push_back(
              {{"id", c.id()}, {"current_states", at}, {"missing", *missing}});
          lines.push_back("  " + c.id() + "  cannot move: state \"" + *missing +
                          "\" is not in " + sb->label);
        } else {
          movable.push_back({{"id", c.id()}, {"current_states", at}});
          lines.push_back("  " + c.id() + "  could move (at " +
                          (where.empty() ? "-" : where) + ")");
        }
      }
      seen += resp.cases_size();
      page_token = resp.next_page_token();
      if (page_token.empty()) break;
      if (seen >= kMaxDiffCases) {
        truncated = true;
        break;
      }
    }
    out["cases"] = {{"of", sa->label},
                    {"movable", movable},
                    {"blocked", blocked},
                    {"truncated", truncated}};
    if (!g.json) {
      std::printf(
          "running cases of %s: %zu could move to %s, %zu could not%s\n",
          sa->label.c_str(), movable.size(), sb->label.c_str(), blocked.size(),
          truncated ? " (only the first ones were looked at)" : "");
      for (const std::string& l : lines) std::printf("%s\n", l.c_str());
    }
  }
  if (g.json) Print(out);
  return kExitOk;
}

}  // namespace onewindow::owctl
