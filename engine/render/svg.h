// SVG from dot text by running Graphviz's `dot -Tsvg` (Debian package
// graphviz) as a child process: the text goes in on stdin, the SVG comes back
// on stdout. Bounded in time and output size. Thread-safe (no shared state);
// blocks the calling thread while dot runs.
#ifndef ONEWINDOW_ENGINE_RENDER_SVG_H_
#define ONEWINDOW_ENGINE_RENDER_SVG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace onewindow::render {

struct SvgOptions {
  // The dot program: a path, or a name looked up on PATH.
  std::string dot_program = "dot";
  // dot is killed after this long: DEADLINE_EXCEEDED.
  int64_t timeout_ms = 30000;
  // More SVG than this is RESOURCE_EXHAUSTED (dot is killed).
  size_t max_output_bytes = 32u << 20;
};

// Finds `program` (a path with '/', or a name on PATH) and returns its path;
// NOT_FOUND naming the Graphviz package when there is none.
absl::StatusOr<std::string> FindDot(std::string_view program = "dot");

// Runs dot on `dot_text`. NOT_FOUND when dot is not installed,
// DEADLINE_EXCEEDED after the timeout, RESOURCE_EXHAUSTED for too much
// output, INTERNAL with dot's first lines of stderr when it fails.
absl::StatusOr<std::string> DotToSvg(std::string_view dot_text,
                                     const SvgOptions& options = {});

}  // namespace onewindow::render

#endif  // ONEWINDOW_ENGINE_RENDER_SVG_H_
