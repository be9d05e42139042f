// owctl's offline commands: `workflow validate` and `run-local`, on the
// engine's own ASL loader, validator and interpreter.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/asl/definition.h"
#include "engine/core/local_runner.h"
#include "nlohmann/json.hpp"
#include "tools/cli_util.h"
#include "tools/commands.h"

namespace onewindow::owctl {
namespace {

asl::SourceFormat FormatOf(const std::string& path) {
  const std::string ext = Extension(path);
  if (ext == ".json") return asl::SourceFormat::kJson;
  if (ext == ".yaml" || ext == ".yml") return asl::SourceFormat::kYaml;
  return asl::SourceFormat::kAuto;
}

struct FileVerdict {
  bool readable = true;
  std::vector<asl::ValidationError> errors;
  std::shared_ptr<const asl::Definition> definition;  // when compiled
};

// Loads and validates one definition file. A syntax error is reported as
// one error at "$".
FileVerdict Check(const std::string& path, const std::string& text) {
  FileVerdict v;
  auto loaded = asl::LoadSource(text, FormatOf(path));
  if (!loaded.ok()) {
    v.errors.push_back({"$", std::string(loaded.status().message()), 0});
    return v;
  }
  v.errors = asl::Validate(*loaded);
  return v;
}

std::string ErrorLine(const std::string& file, const asl::ValidationError& e) {
  std::string line =
      file + ": " + (e.path.empty() ? "$" : e.path) + ": " + e.message;
  if (e.line > 0) line += " (line " + std::to_string(e.line) + ")";
  return line;
}

}  // namespace

int WorkflowValidate(const GlobalOptions& g,
                     const std::vector<std::string>& files) {
  bool all_valid = true;
  nlohmann::json report = nlohmann::json::array();
  for (const auto& file : files) {
    auto text = ReadFileOrReport(file);
    if (!text) {
      all_valid = false;
      report.push_back({{"file", file},
                        {"valid", false},
                        {"errors",
                         {{{"path", "$"},
                           {"message", "cannot read the file"},
                           {"line", 0}}}}});
      continue;
    }
    const FileVerdict v = Check(file, *text);
    if (!v.errors.empty()) all_valid = false;
    if (g.json) {
      nlohmann::json errs = nlohmann::json::array();
      for (const auto& e : v.errors) {
        errs.push_back(
            {{"path", e.path}, {"message", e.message}, {"line", e.line}});
      }
      report.push_back(
          {{"file", file}, {"valid", v.errors.empty()}, {"errors", errs}});
      continue;
    }
    if (v.errors.empty()) {
      std::printf("%s: valid\n", file.c_str());
    } else {
      for (const auto& e : v.errors) {
        std::printf("%s\n", ErrorLine(file, e).c_str());
      }
    }
  }
  if (g.json) std::printf("%s\n", Dump(report).c_str());
  return all_valid ? kExitOk : kExitFailed;
}

int RunLocal(const GlobalOptions& g, const RunLocalArgs& args) {
  auto text = ReadFileOrReport(args.definition_file);
  if (!text) return kExitFailed;
  auto loaded = asl::LoadSource(*text, FormatOf(args.definition_file));
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s: $: %s\n", args.definition_file.c_str(),
                 std::string(loaded.status().message()).c_str());
    return kExitFailed;
  }
  const auto errors = asl::Validate(*loaded);
  if (!errors.empty()) {
    for (const auto& e : errors) {
      std::fprintf(stderr, "%s\n", ErrorLine(args.definition_file, e).c_str());
    }
    return kExitFailed;
  }
  auto def = asl::Definition::FromJson(std::move(loaded->doc));
  if (!def.ok()) {
    std::fprintf(stderr, "%s: %s\n", args.definition_file.c_str(),
                 std::string(def.status().message()).c_str());
    return kExitFailed;
  }

  auto input = ReadJsonFileOrReport(args.input_file);
  if (!input) return kExitFailed;

  core::LocalRunOptions options;
  options.echo_tasks = args.echo_tasks;
  for (const auto& spec : args.task_results) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      std::fprintf(stderr, "owctl: --task-result %s: expected RESOURCE=FILE\n",
                   spec.c_str());
      return kExitUsage;
    }
    auto result = ReadJsonFileOrReport(spec.substr(eq + 1));
    if (!result) return kExitFailed;
    options.task_results[spec.substr(0, eq)] = std::move(*result);
  }

  auto run = core::RunLocal(*def, *input, options);
  if (!run.ok()) {
    std::fprintf(stderr, "owctl: run-local: %s\n",
                 std::string(run.status().ToString()).c_str());
    return kExitFailed;
  }
  if (run->succeeded) {
    std::printf("%s\n", Dump(run->output).c_str());
    return kExitOk;
  }
  // Written by hand to keep "Error" before "Cause".
  const nlohmann::json error =
      run->has_error ? nlohmann::json(run->error) : nlohmann::json(nullptr);
  const nlohmann::json cause =
      run->has_cause ? nlohmann::json(run->cause) : nlohmann::json(nullptr);
  std::printf("{\"Error\": %s, \"Cause\": %s}\n", Dump(error).c_str(),
              Dump(cause).c_str());
  return kExitFailed;
}

}  // namespace onewindow::owctl
