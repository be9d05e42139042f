// owctl: the OneWindow command line for counters, analysts and operators.
// This file only parses the command line (CLI11, which is slow to compile:
// keep it here alone); the commands are in commands.h.
//
// Exit codes: 0 ok, 1 invalid or failed, 2 usage error, 3 RPC or
// connection error.
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "tools/commands.h"

namespace {

using onewindow::owctl::GlobalOptions;

std::string DefaultAddr() {
  const char* env = std::getenv("ONEWINDOW_ADDR");
  return env != nullptr && *env != '\0' ? env : "127.0.0.1:50051";
}

}  // namespace

int main(int argc, char** argv) {
  namespace ow = onewindow::owctl;
  CLI::App app{"owctl: OneWindow case-routing engine command line"};
  app.fallthrough();
  app.require_subcommand(1);

  GlobalOptions g;
  g.addr = DefaultAddr();
  app.add_option("--addr", g.addr,
                 "engine address host:port (default $ONEWINDOW_ADDR or "
                 "127.0.0.1:50051)");
  app.add_flag("--json", g.json, "machine-readable JSON output");
  app.add_option("--timeout-ms", g.timeout_ms, "deadline of each RPC in ms")
      ->default_val(10000)
      ->check(CLI::PositiveNumber);
  app.add_option("--token-file", g.token_file,
                 "bearer token file (default $ONEWINDOW_TOKEN)");
  app.add_option("--tls-ca", g.tls_ca,
                 "CA certificates (PEM) to check the server with; turns TLS "
                 "on");
  auto* tls_cert = app.add_option("--tls-cert", g.tls_cert,
                                  "client certificate (PEM) for mutual TLS");
  auto* tls_key =
      app.add_option("--tls-key", g.tls_key, "client private key (PEM)");
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  app.add_option("--tls-server-name", g.tls_server_name,
                 "name the server certificate must carry, when it is not "
                 "the host in --addr");

  std::function<int()> run;

  // workflow ...
  auto* workflow = app.add_subcommand("workflow",
                                      "validate, deploy and read "
                                      "workflow definitions");
  workflow->require_subcommand(1);

  std::vector<std::string> validate_files;
  auto* validate =
      workflow->add_subcommand("validate", "check definitions (offline)");
  validate
      ->add_option("FILE", validate_files,
                   "definition files (.json, "
                   ".yaml, .yml)")
      ->required();
  validate->callback(
      [&] { run = [&] { return ow::WorkflowValidate(g, validate_files); }; });

  std::vector<std::string> deploy_files;
  std::string deploy_name, deploy_description, deploy_service_file;
  auto* deploy = workflow->add_subcommand(
      "deploy", "deploy definitions; prints NAME@VERSION for each");
  deploy->add_option("FILE", deploy_files, "definition files")->required();
  deploy->add_option("--name", deploy_name,
                     "workflow name (default: the file name before .asl)");
  deploy->add_option("--description", deploy_description,
                     "free text shown in listings");
  deploy->add_option("--service-file", deploy_service_file,
                     "service manifest (default: NAME.service.yaml beside "
                     "NAME.asl.yaml, when present)");
  deploy->callback([&] {
    run = [&] {
      return ow::WorkflowDeploy(g, deploy_files, deploy_name,
                                deploy_description, deploy_service_file);
    };
  });

  ow::RenderArgs render;
  auto* wrender = workflow->add_subcommand(
      "render", "draw a definition as Mermaid, Graphviz dot or SVG");
  wrender->add_option("SOURCE", render.source, "FILE, NAME or NAME@VERSION")
      ->required();
  wrender
      ->add_option("--format", render.format,
                   "mermaid, dot or svg (default: from -o's extension, "
                   "else mermaid)")
      ->check(CLI::IsMember({"mermaid", "dot", "svg"}));
  wrender->add_option("--case", render.case_id,
                      "mark the states this case passed, waits at and "
                      "failed in");
  wrender->add_option("-o,--output", render.output,
                      "write to FILE (default standard output)");
  wrender->callback(
      [&] { run = [&] { return ow::WorkflowRender(g, render); }; });

  std::vector<std::string> test_files;
  auto* wtest = workflow->add_subcommand(
      "test", "run definition tests (NAME.test.yaml; offline)");
  wtest
      ->add_option("FILE", test_files,
                   "test files, or directories to search for *.test.yaml")
      ->required();
  wtest->callback(
      [&] { run = [&] { return ow::WorkflowTest(g, test_files); }; });

  std::string diff_a, diff_b;
  auto* wdiff = workflow->add_subcommand(
      "diff",
      "states added, removed and changed from A to B, and which running "
      "cases of a deployed A could move to B");
  wdiff->add_option("A", diff_a, "FILE, NAME or NAME@VERSION")->required();
  wdiff->add_option("B", diff_b, "FILE, NAME or NAME@VERSION")->required();
  wdiff->callback(
      [&] { run = [&] { return ow::WorkflowDiff(g, diff_a, diff_b); }; });

  auto* wlist = workflow->add_subcommand("list", "list deployed workflows");
  wlist->callback([&] { run = [&] { return ow::WorkflowList(g); }; });

  std::string get_name;
  auto* wget = workflow->add_subcommand("get", "print a deployed definition");
  wget->add_option("NAME", get_name, "NAME or NAME@VERSION")->required();
  wget->callback([&] { run = [&] { return ow::WorkflowGet(g, get_name); }; });

  // run-local
  ow::RunLocalArgs local;
  auto* run_local = app.add_subcommand(
      "run-local", "run a definition in-process with virtual time (offline)");
  run_local->add_option("DEFINITION", local.definition_file, "definition file")
      ->required();
  run_local
      ->add_option("INPUT", local.input_file,
                   "input JSON file, - for standard input")
      ->required();
  run_local
      ->add_option("--task-result", local.task_results,
                   "RESOURCE=FILE: fixed result of Tasks with that Resource "
                   "(repeatable)")
      ->allow_extra_args(false);
  run_local->add_flag("--echo-tasks", local.echo_tasks,
                      "Tasks without a fixed result echo their input "
                      "(department echo contract)");
  run_local->callback([&] { run = [&] { return ow::RunLocal(g, local); }; });

  // case ...
  auto* cases = app.add_subcommand("case", "submit, follow and cancel cases");
  cases->require_subcommand(1);

  ow::SubmitArgs submit;
  auto* csubmit =
      cases->add_subcommand("submit", "submit a case; prints the case number");
  csubmit->add_option("--service", submit.service, "service (workflow) name")
      ->required();
  auto* data_opt = csubmit->add_option("--data", submit.data_file,
                                       "case data JSON file, - for stdin");
  auto* data_json_opt =
      csubmit->add_option("--data-json", submit.data_json, "case data JSON");
  data_opt->excludes(data_json_opt);
  csubmit->add_option("--request-id", submit.request_id,
                      "idempotency key: the same id returns the same case");
  csubmit->add_option("--version", submit.version,
                      "definition version (default latest)");
  csubmit->add_option("--document", submit.documents,
                      "id=..,name=..,type=..,size=..,sha256=.. (a document "
                      "the citizen brought; repeatable)");
  csubmit->callback([&] {
    submit.has_data_file = data_opt->count() > 0;
    submit.has_data_json = data_json_opt->count() > 0;
    run = [&] { return ow::CaseSubmit(g, submit); };
  });

  std::string case_id;
  auto* cget = cases->add_subcommand("get", "show a case");
  cget->add_option("ID", case_id, "case number")->required();
  cget->callback([&] { run = [&] { return ow::CaseGet(g, case_id); }; });

  auto* creceipt = cases->add_subcommand(
      "receipt",
      "what to hand the citizen: case number, service, due date, "
      "documents");
  creceipt->add_option("ID", case_id, "case number")->required();
  creceipt->callback(
      [&] { run = [&] { return ow::CaseReceipt(g, case_id); }; });

  ow::ListArgs list;
  auto* clist = cases->add_subcommand("list", "list cases, newest first");
  clist->add_option("--status", list.status,
                    "RUNNING, SUCCEEDED, FAILED or CANCELLED");
  clist->add_option("--service", list.service, "service name");
  clist->add_option("--department", list.department,
                    "only cases with an open task at this department");
  clist->add_option("--limit", list.limit, "maximum number of cases")
      ->check(CLI::PositiveNumber);
  clist->add_flag("--overdue", list.overdue,
                  "only running cases past their due date");
  clist->add_option("--page-token", list.page_token,
                    "continue a listing (the token printed last)");
  clist->add_option("--applicant", list.applicant,
                    "only cases of this applicant");
  clist->add_option("--since", list.since,
                    "only cases submitted on or after YYYY-MM-DD (local "
                    "time)");
  clist->add_option("--until", list.until,
                    "only cases submitted on or before YYYY-MM-DD (local "
                    "time)");
  clist
      ->add_option("--version", list.version,
                   "with --service: only cases of this version")
      ->check(CLI::PositiveNumber);
  clist->callback([&] { run = [&] { return ow::CaseList(g, list); }; });

  auto* chistory = cases->add_subcommand("history", "show a case's history");
  chistory->add_option("ID", case_id, "case number")->required();
  chistory->callback(
      [&] { run = [&] { return ow::CaseHistory(g, case_id); }; });

  int64_t watch_interval_ms = 500;
  auto* cwatch = cases->add_subcommand(
      "watch",
      "follow a case until it ends; exit 0 if it succeeded, 1 otherwise");
  cwatch->add_option("ID", case_id, "case number")->required();
  cwatch->add_option("--interval-ms", watch_interval_ms, "poll period")
      ->check(CLI::PositiveNumber);
  cwatch->callback([&] {
    run = [&] { return ow::CaseWatch(g, case_id, watch_interval_ms); };
  });

  auto* cverify = cases->add_subcommand(
      "verify",
      "check a case's history hash chain; exit 1 naming the first "
      "bad event");
  cverify->add_option("ID", case_id, "case number")->required();
  cverify->callback([&] { run = [&] { return ow::CaseVerify(g, case_id); }; });

  auto* cdocs = cases->add_subcommand("documents", "a case's documents");
  cdocs->require_subcommand(1);
  std::vector<std::string> add_documents;
  auto* cdocs_add =
      cdocs->add_subcommand("add", "attach documents to a running case");
  cdocs_add->add_option("ID", case_id, "case number")->required();
  cdocs_add
      ->add_option("--document", add_documents,
                   "id=..,name=..,type=..,size=..,sha256=.. (repeatable)")
      ->required();
  cdocs_add->callback([&] {
    run = [&] { return ow::CaseDocumentsAdd(g, case_id, add_documents); };
  });

  int64_t migrate_version = 0;
  auto* cmigrate = cases->add_subcommand(
      "migrate", "move a running case to another version of its service");
  cmigrate->add_option("ID", case_id, "case number")->required();
  cmigrate->add_option("--to-version", migrate_version, "target version")
      ->required()
      ->check(CLI::PositiveNumber);
  cmigrate->callback([&] {
    run = [&] { return ow::CaseMigrate(g, case_id, migrate_version); };
  });

  std::string cancel_reason;
  auto* ccancel = cases->add_subcommand("cancel", "cancel a running case");
  ccancel->add_option("ID", case_id, "case number")->required();
  ccancel->add_option("--reason", cancel_reason, "why (recorded in history)")
      ->required();
  ccancel->callback(
      [&] { run = [&] { return ow::CaseCancel(g, case_id, cancel_reason); }; });

  // task ...
  auto* tasks = app.add_subcommand("task", "act for a department by hand");
  tasks->require_subcommand(1);

  ow::ActivateArgs activate;
  auto* tactivate =
      tasks->add_subcommand("activate", "lease ready tasks of a department");
  tactivate->add_option("--department", activate.department, "department code")
      ->required();
  tactivate->add_option("--max", activate.max, "maximum tasks to lease")
      ->default_val(1)
      ->check(CLI::Range(1, 100));
  tactivate
      ->add_option("--lease-ms", activate.lease_ms,
                   "lease length (default: the engine's, 5 minutes)")
      ->check(CLI::NonNegativeNumber);
  tactivate->add_option("--worker", activate.worker,
                        "worker name (default owctl)");
  tactivate->callback(
      [&] { run = [&] { return ow::TaskActivate(g, activate); }; });

  std::string token, result_file, result_json;
  auto* tcomplete = tasks->add_subcommand("complete", "complete a task");
  tcomplete->add_option("TOKEN", token, "task token")->required();
  auto* result_opt =
      tcomplete->add_option("--result", result_file, "result JSON file");
  auto* result_json_opt =
      tcomplete->add_option("--result-json", result_json, "result JSON");
  result_opt->excludes(result_json_opt);
  tcomplete->callback([&] {
    const bool has_file = result_opt->count() > 0;
    const bool has_json = result_json_opt->count() > 0;
    run = [&, has_file, has_json] {
      return ow::TaskComplete(g, token, result_file, has_file, result_json,
                              has_json);
    };
  });

  std::string fail_error, fail_cause;
  auto* tfail = tasks->add_subcommand("fail", "fail a task with an error");
  tfail->add_option("TOKEN", token, "task token")->required();
  tfail->add_option("--error", fail_error, "error name, matched by Retry/Catch")
      ->required();
  tfail->add_option("--cause", fail_cause, "human-readable cause");
  tfail->callback([&] {
    run = [&] { return ow::TaskFail(g, token, fail_error, fail_cause); };
  });

  // calendar ...
  auto* calendar = app.add_subcommand("calendar", "working days (offline)");
  calendar->require_subcommand(1);
  ow::CalendarDueArgs due;
  auto* cdue = calendar->add_subcommand(
      "due",
      "the date of the Nth working day after FROM (FROM not counted), as "
      "the engine counts a service's deadline");
  cdue->add_option("--from", due.from,
                   "YYYY-MM-DD (default: today in the calendar's local "
                   "time)");
  cdue->add_option("--working-days", due.working_days, "N, 1..3650")
      ->required();
  cdue->add_option("--calendar", due.calendar_file,
                   "calendar file (deploy/calendars/NAME.yaml; default: "
                   "Saturday and Sunday off, no holidays)");
  cdue->callback([&] { run = [&] { return ow::CalendarDue(g, due); }; });

  // admin ...
  auto* admin = app.add_subcommand("admin", "operate the engine");
  admin->require_subcommand(1);
  std::string backup_dir;
  auto* abackup = admin->add_subcommand(
      "backup",
      "a consistent online copy of the store, on the server's "
      "machine");
  abackup->add_option("--to", backup_dir, "directory (new or empty)")
      ->required();
  abackup->callback(
      [&] { run = [&] { return ow::AdminBackup(g, backup_dir); }; });

  // auth ...
  auto* auth = app.add_subcommand("auth", "principals and tokens");
  auth->require_subcommand(1);
  auto* auth_token = auth->add_subcommand("token", "bearer tokens");
  auth_token->require_subcommand(1);
  ow::TokenArgs token_args;
  auto* token_new = auth_token->add_subcommand(
      "new", "make a token and the auth-file entry for it (offline)");
  token_new->add_option("--name", token_args.name, "principal name")
      ->required();
  token_new
      ->add_option("--role", token_args.role,
                   "counter, department, analyst, supervisor or admin")
      ->required();
  token_new->add_option("--department", token_args.department,
                        "department code (with --role department)");
  token_new->add_option("--out", token_args.out_file,
                        "write the token to this new file (mode 0600) "
                        "instead of printing it");
  token_new->callback(
      [&] { run = [&] { return ow::AuthTokenNew(g, token_args); }; });

  auto* whoami = app.add_subcommand("whoami", "the principal the engine sees");
  whoami->callback([&] { run = [&] { return ow::WhoAmI(g); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? ow::kExitOk : ow::kExitUsage;
  }
  if (!run) {
    std::fputs(app.help().c_str(), stderr);
    return ow::kExitUsage;
  }
  return run();
}
