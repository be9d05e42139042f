#include "tools/definition_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "tools/cli_util.h"

namespace onewindow::owctl {
namespace {

// The ASL library's ValidationError grows column, hint and severity over
// time; these read them when present and give the neutral value otherwise.
template <typename E>
int ColumnOf(const E& e) {
  if constexpr (requires { e.column; }) {
    return static_cast<int>(e.column);
  } else {
    return 0;
  }
}

template <typename E>
std::string HintOf(const E& e) {
  if constexpr (requires { e.hint; }) {
    return std::string(e.hint);
  } else {
    return "";
  }
}

template <typename E>
bool IsWarning(const E& e) {
  if constexpr (requires { e.severity; }) {
    using S = std::remove_cvref_t<decltype(e.severity)>;
    if constexpr (requires { S::kWarning; }) {
      return e.severity == S::kWarning;
    } else if constexpr (requires { S::WARNING; }) {
      return e.severity == S::WARNING;
    } else {
      return false;
    }
  } else if constexpr (requires { e.warning; }) {
    return static_cast<bool>(e.warning);
  } else {
    return false;
  }
}

template <typename E>
Problem ToProblem(const E& e) {
  Problem p;
  p.path = e.path.empty() ? "$" : e.path;
  p.message = e.message;
  p.line = e.line;
  p.column = ColumnOf(e);
  p.hint = HintOf(e);
  p.warning = IsWarning(e);
  return p;
}

}  // namespace

asl::SourceFormat FormatOfPath(const std::string& path) {
  const std::string ext = Extension(path);
  if (ext == ".json") return asl::SourceFormat::kJson;
  if (ext == ".yaml" || ext == ".yml") return asl::SourceFormat::kYaml;
  return asl::SourceFormat::kAuto;
}

std::string ProblemLine(const std::string& file, const Problem& p) {
  std::string line = file + ": ";
  if (p.warning) line += "warning: ";
  line += (p.path.empty() ? "$" : p.path) + ": " + p.message;
  if (p.line > 0 && p.column > 0) {
    line += " (line " + std::to_string(p.line) + ", column " +
            std::to_string(p.column) + ")";
  } else if (p.line > 0) {
    line += " (line " + std::to_string(p.line) + ")";
  }
  if (!p.hint.empty()) line += "; hint: " + p.hint;
  return line;
}

std::vector<std::string> DefinitionFile::ErrorLines() const {
  std::vector<std::string> out;
  for (const Problem& p : problems) {
    if (!p.warning) out.push_back(ProblemLine(file, p));
  }
  return out;
}

std::vector<std::string> DefinitionFile::WarningLines() const {
  std::vector<std::string> out;
  for (const Problem& p : problems) {
    if (p.warning) out.push_back(ProblemLine(file, p));
  }
  return out;
}

nlohmann::json DefinitionFile::ProblemsJson() const {
  nlohmann::json a = nlohmann::json::array();
  for (const Problem& p : problems) {
    nlohmann::json j = {{"path", p.path},
                        {"message", p.message},
                        {"line", p.line},
                        {"severity", p.warning ? "WARNING" : "ERROR"}};
    if (p.column > 0) j["column"] = p.column;
    if (!p.hint.empty()) j["hint"] = p.hint;
    a.push_back(std::move(j));
  }
  return a;
}

DefinitionFile LoadDefinitionText(const std::string& file,
                                  const std::string& text) {
  DefinitionFile out;
  out.file = file;
  auto loaded = asl::LoadSource(text, FormatOfPath(file));
  if (!loaded.ok()) {
    Problem p;
    p.path = "$";
    p.message = std::string(loaded.status().message());
    out.problems.push_back(std::move(p));
    return out;
  }
  bool has_error = false;
  for (const auto& e : asl::Validate(*loaded)) {
    Problem p = ToProblem(e);
    has_error = has_error || !p.warning;
    out.problems.push_back(std::move(p));
  }
  if (has_error) return out;
  auto def = asl::Definition::FromJson(std::move(loaded->doc));
  if (!def.ok()) {
    Problem p;
    p.path = "$";
    p.message = std::string(def.status().message());
    out.problems.push_back(std::move(p));
    return out;
  }
  out.definition = *def;
  return out;
}

DefinitionFile LoadDefinitionFile(const std::string& file) {
  std::ostringstream text;
  bool ok = true;
  std::string why;
  if (file == "-") {
    text << std::cin.rdbuf();
    ok = !std::cin.bad();
    why = "cannot read standard input";
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      ok = false;
    } else {
      text << in.rdbuf();
      ok = !in.bad();
    }
    if (!ok) why = std::string("cannot read: ") + std::strerror(errno);
  }
  if (!ok) {
    DefinitionFile out;
    out.file = file;
    out.readable = false;
    Problem p;
    p.path = "$";
    p.message = why;
    out.problems.push_back(std::move(p));
    return out;
  }
  return LoadDefinitionText(file, text.str());
}

int LineOf(const std::map<std::string, int>& lines, const std::string& path) {
  std::string p = path;
  while (!p.empty()) {
    auto it = lines.find(p);
    if (it != lines.end()) return it->second;
    const size_t cut = p.find_last_of(".[");
    if (cut == std::string::npos || cut == 0) break;
    p.resize(cut);
  }
  auto root = lines.find("$");
  return root == lines.end() ? 0 : root->second;
}

}  // namespace onewindow::owctl
