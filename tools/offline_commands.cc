// owctl's offline commands: `workflow validate`, `workflow test`,
// `run-local` and `auth token new`, on the engine's own ASL loader,
// validator and interpreter.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/asl/definition.h"
#include "engine/core/local_runner.h"
#include "nlohmann/json.hpp"
#include "openssl/evp.h"
#include "openssl/rand.h"
#include "tools/cli_util.h"
#include "tools/commands.h"
#include "tools/definition_file.h"
#include "tools/definition_tests.h"

namespace onewindow::owctl {
namespace {

// Test files under a directory: *.test.yaml, *.test.yml, *.test.json, in
// name order.
std::vector<std::string> TestFilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    for (const char* ext : {".test.yaml", ".test.yml", ".test.json"}) {
      const std::string e(ext);
      if (name.size() > e.size() &&
          name.compare(name.size() - e.size(), e.size(), e) == 0) {
        out.push_back(it->path().string());
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Base64Url(const unsigned char* data, size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = data[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (n - i == 2) {
    const uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(),
                 nullptr) != 1) {
    return "";
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

bool NameChars(const std::string& s, bool upper_only) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = upper_only
                        ? ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                           c == '_' || c == '-')
                        : ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                           c == '.' || c == '@');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

int WorkflowValidate(const GlobalOptions& g,
                     const std::vector<std::string>& files) {
  bool all_valid = true;
  nlohmann::json report = nlohmann::json::array();
  for (const auto& file : files) {
    const DefinitionFile d = LoadDefinitionFile(file);
    if (!d.readable) {
      // Said on stderr, as every unreadable file is.
      std::fprintf(stderr, "owctl: %s: %s\n", file.c_str(),
                   d.problems.front().message.c_str());
    }
    if (!d.valid()) all_valid = false;
    if (g.json) {
      report.push_back(
          {{"file", file}, {"valid", d.valid()}, {"errors", d.ProblemsJson()}});
      continue;
    }
    for (const std::string& w : d.WarningLines()) {
      std::fprintf(stderr, "%s\n", w.c_str());
    }
    if (d.valid()) {
      std::printf("%s: valid\n", file.c_str());
    } else if (d.readable) {
      for (const std::string& e : d.ErrorLines()) {
        std::printf("%s\n", e.c_str());
      }
    }
  }
  if (g.json) std::printf("%s\n", Dump(report).c_str());
  return all_valid ? kExitOk : kExitFailed;
}

int WorkflowTest(const GlobalOptions& g, const std::vector<std::string>& args) {
  std::vector<std::string> files;
  for (const std::string& a : args) {
    std::error_code ec;
    if (std::filesystem::is_directory(a, ec)) {
      std::vector<std::string> found = TestFilesUnder(a);
      if (found.empty()) {
        std::fprintf(stderr, "owctl: %s: no *.test.yaml files\n", a.c_str());
      }
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back(a);
    }
  }
  int passed = 0, failed = 0;
  nlohmann::json report = nlohmann::json::array();
  for (const std::string& file : files) {
    const TestFileReport r = RunDefinitionTestFile(file);
    passed += r.passed();
    failed += r.failed();
    if (g.json) {
      nlohmann::json cases = nlohmann::json::array();
      for (const auto& c : r.cases) {
        nlohmann::json j = {{"name", c.name}, {"passed", c.passed}};
        if (!c.passed) j["failure"] = c.failure;
        cases.push_back(std::move(j));
      }
      report.push_back(
          {{"file", file}, {"notes", r.notes}, {"cases", std::move(cases)}});
      continue;
    }
    for (const std::string& n : r.notes) std::printf("%s\n", n.c_str());
    for (const auto& c : r.cases) {
      if (c.passed) {
        std::printf("PASS %s: %s\n", file.c_str(), c.name.c_str());
      } else if (c.name.empty()) {
        std::printf("FAIL %s: %s\n", file.c_str(), c.failure.c_str());
      } else {
        std::printf("FAIL %s: %s: %s\n", file.c_str(), c.name.c_str(),
                    c.failure.c_str());
      }
    }
  }
  if (g.json) {
    std::printf("%s\n", Dump({{"files", std::move(report)},
                              {"passed", passed},
                              {"failed", failed}})
                            .c_str());
  } else {
    std::printf("%d passed, %d failed\n", passed, failed);
  }
  return failed == 0 && !files.empty() ? kExitOk : kExitFailed;
}

int RunLocal(const GlobalOptions& g, const RunLocalArgs& args) {
  const DefinitionFile d = LoadDefinitionFile(args.definition_file);
  if (!d.readable) {
    std::fprintf(stderr, "owctl: %s: %s\n", args.definition_file.c_str(),
                 d.problems.front().message.c_str());
    return kExitFailed;
  }
  if (!d.valid()) {
    for (const std::string& e : d.ErrorLines()) {
      std::fprintf(stderr, "%s\n", e.c_str());
    }
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

  auto run = core::RunLocal(d.definition, *input, options);
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

int AuthTokenNew(const GlobalOptions& g, const TokenArgs& args) {
  static const char* kRoles[] = {"counter", "department", "analyst",
                                 "supervisor", "admin"};
  if (std::find_if(std::begin(kRoles), std::end(kRoles), [&](const char* r) {
        return args.role == r;
      }) == std::end(kRoles)) {
    std::fprintf(stderr,
                 "owctl: --role %s: expected counter, department, analyst, "
                 "supervisor or admin\n",
                 args.role.c_str());
    return kExitUsage;
  }
  if (!NameChars(args.name, false)) {
    std::fprintf(stderr,
                 "owctl: --name %s: 1 to 64 letters, digits, '.', '_', '-' "
                 "or '@'\n",
                 args.name.c_str());
    return kExitUsage;
  }
  if ((args.role == "department") != !args.department.empty()) {
    std::fprintf(stderr,
                 "owctl: --department is required with --role department, "
                 "and only with it\n");
    return kExitUsage;
  }
  if (!args.department.empty() && !NameChars(args.department, true)) {
    std::fprintf(stderr,
                 "owctl: --department %s: a department code is capital "
                 "letters, digits, '_' or '-' (as in dept:<DEPT>/...)\n",
                 args.department.c_str());
    return kExitUsage;
  }
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    std::fprintf(stderr, "owctl: OpenSSL could not make random bytes\n");
    return kExitFailed;
  }
  const std::string token = "ow_" + Base64Url(raw, sizeof(raw));
  OPENSSL_cleanse(raw, sizeof(raw));
  const std::string digest = Sha256Hex(token);
  std::string entry = "- {name: " + args.name + ", role: " + args.role;
  if (!args.department.empty()) entry += ", department: " + args.department;
  entry += ", token_sha256: " + digest + "}";

  if (!args.out_file.empty()) {
    const int fd = ::open(args.out_file.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      std::fprintf(stderr, "owctl: --out %s: %s\n", args.out_file.c_str(),
                   std::strerror(errno));
      return kExitFailed;
    }
    const std::string line = token + "\n";
    const bool ok = ::write(fd, line.data(), line.size()) ==
                    static_cast<ssize_t>(line.size());
    const bool closed = ::close(fd) == 0;
    if (!ok || !closed) {
      std::fprintf(stderr, "owctl: --out %s: cannot write: %s\n",
                   args.out_file.c_str(), std::strerror(errno));
      return kExitFailed;
    }
  }
  if (g.json) {
    nlohmann::json j = {{"name", args.name},
                        {"role", args.role},
                        {"token_sha256", digest},
                        {"entry", entry}};
    if (!args.department.empty()) j["department"] = args.department;
    if (args.out_file.empty()) {
      j["token"] = token;
    } else {
      j["token_file"] = args.out_file;
    }
    std::printf("%s\n", Dump(j).c_str());
    return kExitOk;
  }
  if (args.out_file.empty()) {
    std::printf("token: %s\n", token.c_str());
  } else {
    std::printf("token written to %s\n", args.out_file.c_str());
  }
  std::printf(
      "# add under principals: in the --auth-file, then reload "
      "onewindowd (SIGHUP)\n%s\n",
      entry.c_str());
  return kExitOk;
}

}  // namespace onewindow::owctl
