// The commands of owctl, one function each, returning the process exit code:
// 0 ok, 1 the thing is invalid or failed, 2 usage error, 3 RPC or connection
// error. Flag parsing lives in owctl.cc; these functions do the work and the
// printing (stdout for results, stderr for diagnostics).
#ifndef ONEWINDOW_TOOLS_COMMANDS_H_
#define ONEWINDOW_TOOLS_COMMANDS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace onewindow::owctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitRpc = 3;

struct GlobalOptions {
  std::string addr;
  bool json = false;
  int64_t timeout_ms = 10000;
  // Bearer token: first line of this file, else $ONEWINDOW_TOKEN.
  std::string token_file;
  // TLS: CA bundle to check the server with; client certificate and key for
  // mutual TLS; the name the server's certificate must carry when it is not
  // the host in --addr.
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;
};

// Offline (engine/asl, engine/core).
int WorkflowValidate(const GlobalOptions& g,
                     const std::vector<std::string>& files);

struct RunLocalArgs {
  std::string definition_file;
  std::string input_file;  // "-" = stdin
  // RESOURCE=FILE pairs.
  std::vector<std::string> task_results;
  bool echo_tasks = false;
};
int RunLocal(const GlobalOptions& g, const RunLocalArgs& args);

// Runs definition test files (or every *.test.yaml under a directory).
int WorkflowTest(const GlobalOptions& g, const std::vector<std::string>& files);

struct TokenArgs {
  std::string name;
  std::string role;
  std::string department;
  std::string out_file;  // write the token here (mode 0600) instead of stdout
};
// Makes a bearer token and the auth-file entry for it (offline).
int AuthTokenNew(const GlobalOptions& g, const TokenArgs& args);

struct CalendarDueArgs {
  std::string from;  // YYYY-MM-DD; "" = today in the calendar's local time
  int working_days = 0;
  std::string calendar_file;  // "" = Saturday and Sunday off, no holidays
};
// Prints the date of the Nth working day after FROM (offline).
int CalendarDue(const GlobalOptions& g, const CalendarDueArgs& args);

// Offline for files, online for NAME[@V] and --case.
struct RenderArgs {
  std::string source;  // FILE or NAME[@VERSION]
  std::string format;  // mermaid, dot, svg; "" = from --output, else mermaid
  std::string case_id;
  std::string output;  // file; "" or "-" = stdout
};
int WorkflowRender(const GlobalOptions& g, const RenderArgs& args);
// A and B: files or NAME[@VERSION] on the server.
int WorkflowDiff(const GlobalOptions& g, const std::string& a,
                 const std::string& b);

// Online (gRPC).
int WorkflowDeploy(const GlobalOptions& g,
                   const std::vector<std::string>& files,
                   const std::string& name, const std::string& description,
                   const std::string& service_file);
int WorkflowList(const GlobalOptions& g);
// `name_version` is NAME or NAME@VERSION.
int WorkflowGet(const GlobalOptions& g, const std::string& name_version);

struct SubmitArgs {
  std::string service;
  std::string data_file;  // "-" = stdin
  std::string data_json;
  bool has_data_file = false;
  bool has_data_json = false;
  std::string request_id;
  int64_t version = 0;
  // id=..,name=..,type=..,size=..,sha256=.. (repeatable).
  std::vector<std::string> documents;
};
int CaseSubmit(const GlobalOptions& g, const SubmitArgs& args);
int CaseGet(const GlobalOptions& g, const std::string& id);
// What the counter hands the citizen: case number, service (its titles),
// when submitted, due date and the documents taken.
int CaseReceipt(const GlobalOptions& g, const std::string& id);

struct ListArgs {
  std::string status;  // RUNNING, SUCCEEDED, FAILED, CANCELLED or empty
  std::string service;
  std::string department;
  int limit = 0;
  bool overdue = false;
  std::string page_token;
  std::string applicant;
  std::string since;  // YYYY-MM-DD, local time, inclusive
  std::string until;  // YYYY-MM-DD, local time, inclusive
  int64_t version = 0;
};
int CaseList(const GlobalOptions& g, const ListArgs& args);
int CaseHistory(const GlobalOptions& g, const std::string& id);
int CaseVerify(const GlobalOptions& g, const std::string& id);
int CaseDocumentsAdd(const GlobalOptions& g, const std::string& id,
                     const std::vector<std::string>& documents);
int CaseMigrate(const GlobalOptions& g, const std::string& id,
                int64_t to_version);
int AdminBackup(const GlobalOptions& g, const std::string& to_dir);
int WhoAmI(const GlobalOptions& g);
int CaseWatch(const GlobalOptions& g, const std::string& id,
              int64_t interval_ms);
int CaseCancel(const GlobalOptions& g, const std::string& id,
               const std::string& reason);

struct ActivateArgs {
  std::string department;
  int max = 1;
  int64_t lease_ms = 0;
  std::string worker;
};
int TaskActivate(const GlobalOptions& g, const ActivateArgs& args);
int TaskComplete(const GlobalOptions& g, const std::string& token,
                 const std::string& result_file, bool has_result_file,
                 const std::string& result_json, bool has_result_json);
int TaskFail(const GlobalOptions& g, const std::string& token,
             const std::string& error, const std::string& cause);

// Workflow name from a file name: the base name before ".asl" (or before
// its last extension when there is no ".asl").
std::string WorkflowNameFromPath(const std::string& path);

}  // namespace onewindow::owctl

#endif  // ONEWINDOW_TOOLS_COMMANDS_H_
