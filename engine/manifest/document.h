// Loading YAML or JSON text into nlohmann::json, within bounds, remembering
// where each value came from.
//
// Manifests and calendars are small files written by people; they arrive as
// text (a file or an RPC field) and may be hostile. Before yaml-cpp sees the
// text it is checked for size and for nesting depth by a scan that does not
// recurse (yaml-cpp's parser recurses once per level); while converting,
// every node is counted with aliases expanded, so an alias bomb is refused
// instead of being built. Plain scalars resolve by the YAML 1.2 core schema
// (null, true/false, integers, floats; anything else is a string: dates stay
// strings). JSON text is read as YAML (JSON is YAML's flow style). Stateless;
// thread-safe.
#ifndef ONEWINDOW_ENGINE_MANIFEST_DOCUMENT_H_
#define ONEWINDOW_ENGINE_MANIFEST_DOCUMENT_H_

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace onewindow::manifest {

using Json = nlohmann::json;

struct LoadLimits {
  // Bytes of source text.
  size_t max_bytes = 256 * 1024;
  // Levels of nesting (the top-level value is level 1).
  int max_depth = 64;
  // Values in the result, each use of an alias counted again. (Without
  // aliases every value takes at least two bytes of text.)
  size_t max_nodes = 128 * 1024;
  // Bytes of scalar text in the result, each use of an alias counted again.
  size_t max_scalar_bytes = 1024 * 1024;
};

// 1-based line and column; 0 when unknown.
struct SourcePosition {
  int line = 0;
  int column = 0;
};

// "line L, column C" (or "line L" without a column; empty when unknown).
std::string FormatPosition(const SourcePosition& position);

struct LoadedDocument {
  // Null for an empty text.
  Json value;
  // JSON pointer -> where that value starts; for an object member, where
  // its key starts.
  std::map<std::string, SourcePosition, std::less<>> positions;

  // Position of `pointer`, or of its nearest ancestor that has one.
  SourcePosition PositionOf(std::string_view pointer) const;
};

// A pointer into `doc` as people write it: "tasks.DSF/check.deadline",
// "holidays[2]" (keys joined by '.', array elements as [index], a key with
// '.', '[', '"' or spaces in double quotes); "(top level)" for "".
std::string KeyPath(const Json& doc, std::string_view pointer);

// Something wrong (or worth a warning) at one place in a loaded document.
struct Problem {
  // JSON pointer of the value at fault.
  std::string pointer;
  // The same place as people write it (KeyPath).
  std::string path;
  SourcePosition position;
  std::string message;

  // "line 3, column 5: deadline.working_days: <message>".
  std::string ToString() const;
};

// A problem at `pointer` of `doc`, with its path and position filled in.
Problem MakeProblem(const LoadedDocument& doc, std::string pointer,
                    std::string message);

// The problems' ToString() joined by "; " (at most `max_shown`, then
// "and N more").
std::string JoinProblems(const std::vector<Problem>& problems,
                         size_t max_shown = 20);

// Parses one YAML document (or JSON text). INVALID_ARGUMENT with line and
// column for syntax errors, duplicate keys, non-scalar keys, several
// documents or unknown tags; RESOURCE_EXHAUSTED naming the limit for text,
// nesting, node count or expanded size over `limits`.
absl::StatusOr<LoadedDocument> LoadDocument(std::string_view text,
                                            const LoadLimits& limits = {});

// The scan LoadDocument runs before parsing: OK when no line of `text`
// nests deeper than `max_depth` levels (block indentation levels, "- " / "? "
// / ": " entries and open flow brackets, counted conservatively), else
// RESOURCE_EXHAUSTED naming the line and the limit. Exposed for tests.
absl::Status CheckNestingDepth(std::string_view text, int max_depth);

// Reads a whole file, refusing more than `max_bytes` (RESOURCE_EXHAUSTED)
// and unreadable files (NOT_FOUND / PERMISSION_DENIED / UNKNOWN, naming the
// path).
absl::StatusOr<std::string> ReadFileBounded(const std::string& path,
                                            size_t max_bytes);

}  // namespace onewindow::manifest

#endif  // ONEWINDOW_ENGINE_MANIFEST_DOCUMENT_H_
