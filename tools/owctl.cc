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
  std::string deploy_name, deploy_description;
  auto* deploy = workflow->add_subcommand(
      "deploy", "deploy definitions; prints NAME@VERSION for each");
  deploy->add_option("FILE", deploy_files, "definition files")->required();
  deploy->add_option("--name", deploy_name,
                     "workflow name (default: the file name before .asl)");
  deploy->add_option("--description", deploy_description,
                     "free text shown in listings");
  deploy->callback([&] {
    run = [&] {
      return ow::WorkflowDeploy(g, deploy_files, deploy_name,
                                deploy_description);
    };
  });

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
  csubmit->callback([&] {
    submit.has_data_file = data_opt->count() > 0;
    submit.has_data_json = data_json_opt->count() > 0;
    run = [&] { return ow::CaseSubmit(g, submit); };
  });

  std::string case_id;
  auto* cget = cases->add_subcommand("get", "show a case");
  cget->add_option("ID", case_id, "case number")->required();
  cget->callback([&] { run = [&] { return ow::CaseGet(g, case_id); }; });

  ow::ListArgs list;
  auto* clist = cases->add_subcommand("list", "list cases, newest first");
  clist->add_option("--status", list.status,
                    "RUNNING, SUCCEEDED, FAILED or CANCELLED");
  clist->add_option("--service", list.service, "service name");
  clist->add_option("--department", list.department,
                    "only cases with an open task at this department");
  clist->add_option("--limit", list.limit, "maximum number of cases")
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
