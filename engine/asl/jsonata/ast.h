// The syntax tree of a compiled JSONata expression (internal).
//
// The parser builds a raw tree (one node per operator, as written) and then
// rewrites it the way JSONata does: dotted operands become path steps,
// predicates become step stages, '@'/'#' bindings and '%' parent references
// are resolved into tuple-stream annotations. Offsets are byte offsets into
// the expression text just past the node's token. Immutable after
// compilation; shared read-only by concurrent evaluations.
#ifndef ONEWINDOW_ENGINE_ASL_JSONATA_AST_H_
#define ONEWINDOW_ENGINE_ASL_JSONATA_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/asl/jsonata/jsonata.h"
#include "engine/asl/jsonata/regex.h"
#include "engine/asl/jsonata/signature.h"

namespace onewindow::asl::jsonata::internal {

enum class NodeType : uint8_t {
  // Final tree.
  kPath,         // steps
  kBinary,       // op, lhs, rhs
  kNegate,       // expr
  kArray,        // items
  kObject,       // pairs (object constructor)
  kName,         // value: field name
  kString,       // value
  kNumber,       // number
  kLiteral,      // literal: true/false/null
  kWildcard,     // *
  kDescendant,   // **
  kParent,       // % (slot)
  kCondition,    // condition ? then : else
  kElvis,        // lhs ?: rhs
  kCoalesce,     // lhs ?? rhs
  kBlock,        // items
  kBind,         // value (variable) := rhs
  kRegex,        // regex
  kCall,         // procedure(items)
  kPartial,      // procedure(items with placeholders)
  kPlaceholder,  // ? in a partial application
  kVariable,     // value: name without '$' ("" = context, "$" = root)
  kLambda,       // params, signature, body
  kApply,        // lhs ~> rhs
  kTransform,    // | pattern | update, deletion |
  kSort,         // terms (a step of a path)
  // Raw tree only.
  kRawDot,        // items: operands of a chain a.b.c
  kRawPredicate,  // lhs[rhs]
  kRawGroup,      // lhs{pairs}
  kRawSortBy,     // lhs^(terms)
  kRawFocus,      // lhs@$var
  kRawIndex,      // lhs#$var
  kRawOperator,   // and/or/in used as a name
};

enum class BinaryOp : uint8_t {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kConcat,
  kAnd,
  kOr,
  kIn,
  kRange,
};

enum class Literal : uint8_t { kNull, kTrue, kFalse };

struct Node;
using NodePtr = std::unique_ptr<Node>;

// A reference from '%' to the step whose input it denotes.
struct Slot {
  std::string label;  // variable name the ancestor is bound to ("!0", ...)
  int level = 1;
  int index = 0;
};

struct Stage {
  enum class Kind : uint8_t { kFilter, kIndex };
  Kind kind = Kind::kFilter;
  NodePtr expr;     // kFilter
  std::string var;  // kIndex: variable bound to the position
  int64_t offset = 0;
};

struct SortTerm {
  bool descending = false;
  NodePtr expr;
};

struct Group {
  std::vector<std::pair<NodePtr, NodePtr>> pairs;
  int64_t offset = 0;
};

struct Node {
  NodeType type = NodeType::kLiteral;
  int64_t offset = 0;
  int depth = 1;  // height of the raw subtree (bounded by Limits::max_depth)

  std::string value;  // names, strings, variables, operator text
  double number = 0;
  Literal literal = Literal::kNull;
  BinaryOp op = BinaryOp::kAdd;

  NodePtr lhs, rhs;            // binary, apply, elvis, coalesce, bind rhs
  NodePtr expr;                // negate
  std::vector<NodePtr> items;  // array, block, path steps, call arguments
  std::vector<std::pair<NodePtr, NodePtr>> pairs;  // object constructor
  NodePtr procedure;                               // call, partial
  NodePtr condition, then_branch, else_branch;     // condition
  std::vector<std::string> params;                 // lambda
  std::optional<Signature> signature;              // lambda
  NodePtr body;                                    // lambda
  NodePtr pattern, update, deletion;               // transform
  std::vector<SortTerm> terms;                     // sort
  std::shared_ptr<const Regex> regex;              // regex

  // Annotations of steps and expressions (after rewriting).
  std::vector<Stage> stages;      // predicates/index bindings of a path step
  std::vector<Stage> predicates;  // filters of a non-step expression
  std::unique_ptr<Group> group;   // grouping {..} applied to the result
  bool keep_array = false;        // [] after a step
  bool cons_array = false;        // array constructor that is a path step
  bool keep_singleton_array = false;  // path: a step had []
  bool tuple = false;                 // step/path produces a tuple stream
  bool thunk = false;                 // lambda body is a tail call
  std::string focus;                  // @$var on a step
  std::string index_var;              // #$var on a step without stages
  Slot* ancestor = nullptr;           // step binds its input to this slot
  Slot* slot = nullptr;               // kParent
  std::vector<Slot*> seeking_parent;
};

// A compiled expression: the tree and what was learnt about it.
struct Program {
  std::string text;
  NodePtr root;
  std::vector<std::unique_ptr<Slot>> slots;
  std::vector<VariableReference> free_variables;
  bool reads_states = false;
};

// Fills in program->free_variables and reads_states (free_variables.cc).
void FindFreeVariables(Program* program);

// Parses `text` into a Program (syntax errors are finalized with their
// position).
absl::StatusOr<std::unique_ptr<Program>> Parse(std::string_view text,
                                               const Limits& limits);

}  // namespace onewindow::asl::jsonata::internal

#endif  // ONEWINDOW_ENGINE_ASL_JSONATA_AST_H_
