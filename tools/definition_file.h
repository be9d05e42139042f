// Definition files as owctl reads them: load, validate and compile one ASL
// file (JSON or YAML), with every problem as a printable line in the CLI
// contract's form "FILE: <path>: <message>", extended with
// " (line L, column C)" and "; hint: …" where known. Warnings (legal but
// likely wrong) are kept apart and never make a definition invalid.
// Stateless and thread-safe.
#ifndef ONEWINDOW_TOOLS_DEFINITION_FILE_H_
#define ONEWINDOW_TOOLS_DEFINITION_FILE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/asl/definition.h"
#include "nlohmann/json.hpp"

namespace onewindow::owctl {

// One problem found in a definition.
struct Problem {
  std::string path;  // "$.States.Check.Next"; "$" for the whole file
  std::string message;
  int line = 0;  // 1-based, 0 = unknown
  int column = 0;
  std::string hint;
  bool warning = false;
};

struct DefinitionFile {
  std::string file;
  bool readable = true;
  std::vector<Problem> problems;  // errors and warnings, in source order
  // The compiled definition; null when the file is unreadable or invalid.
  std::shared_ptr<const asl::Definition> definition;

  bool valid() const { return definition != nullptr; }
  // The error lines ("FILE: path: message (line L, column C); hint: H").
  std::vector<std::string> ErrorLines() const;
  // The warning lines ("FILE: warning: path: message ...").
  std::vector<std::string> WarningLines() const;
  // {"path", "message", "line", "column", "hint", "severity"} per problem.
  nlohmann::json ProblemsJson() const;
};

// The source format a file name implies (.json, .yaml/.yml, else detect).
asl::SourceFormat FormatOfPath(const std::string& path);

// Loads `text` as the definition file `file`.
DefinitionFile LoadDefinitionText(const std::string& file,
                                  const std::string& text);

// Reads and loads a file ("-" = stdin). An unreadable file has readable =
// false and one problem at "$" saying why.
DefinitionFile LoadDefinitionFile(const std::string& file);

// "FILE: path: message (line L, column C); hint: H".
std::string ProblemLine(const std::string& file, const Problem& p);

// The line of `path` in `lines`, or of its nearest ancestor that has one; 0
// when none does.
int LineOf(const std::map<std::string, int>& lines, const std::string& path);

}  // namespace onewindow::owctl

#endif  // ONEWINDOW_TOOLS_DEFINITION_FILE_H_
