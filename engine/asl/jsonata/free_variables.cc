// Free variables of a compiled expression: the $names it reads from its
// bindings, found by walking the tree with the scopes JSONata creates
// (blocks and lambdas); names bound anywhere in an enclosing scope, and
// the context/positional variables of '@' and '#', count as bound.
#include <map>
#include <set>

#include "engine/asl/jsonata/ast.h"
#include "engine/asl/jsonata/functions.h"

namespace onewindow::asl::jsonata::internal {

namespace {

class FreeVariables {
 public:
  explicit FreeVariables(Program* program) : program_(program) {}

  void Run(const Node& root) {
    CollectTupleVars(root);
    scopes_.push_back({});
    CollectBinds(root, &scopes_.back());
    Walk(root);
    for (auto& ref : refs_) {
      if (IsBuiltinFunctionName(ref.name)) continue;
      if (ref.name == "states") program_->reads_states = true;
      program_->free_variables.push_back(ref);
    }
  }

 private:
  using Scope = std::set<std::string, std::less<>>;

  template <typename F>
  static void ForEachChild(const Node& n, F&& f) {
    auto visit = [&f](const NodePtr& c) {
      if (c) f(*c);
    };
    visit(n.lhs);
    visit(n.rhs);
    visit(n.expr);
    for (const auto& c : n.items) visit(c);
    for (const auto& [k, v] : n.pairs) {
      visit(k);
      visit(v);
    }
    visit(n.procedure);
    visit(n.condition);
    visit(n.then_branch);
    visit(n.else_branch);
    visit(n.body);
    visit(n.pattern);
    visit(n.update);
    visit(n.deletion);
    for (const auto& t : n.terms) visit(t.expr);
    for (const auto& s : n.stages) visit(s.expr);
    for (const auto& s : n.predicates) visit(s.expr);
    if (n.group) {
      for (const auto& [k, v] : n.group->pairs) {
        visit(k);
        visit(v);
      }
    }
  }

  // Names bound with := in the region of one scope (not in nested blocks
  // or lambdas, which have their own).
  void CollectBinds(const Node& n, Scope* scope) {
    if (n.type == NodeType::kBind) scope->insert(n.value);
    ForEachChild(n, [&](const Node& c) {
      if (c.type == NodeType::kBlock || c.type == NodeType::kLambda) return;
      CollectBinds(c, scope);
    });
  }

  void CollectTupleVars(const Node& n) {
    if (!n.focus.empty()) tuple_vars_.insert(n.focus);
    if (!n.index_var.empty()) tuple_vars_.insert(n.index_var);
    for (const auto& s : n.stages) {
      if (s.kind == Stage::Kind::kIndex) tuple_vars_.insert(s.var);
    }
    ForEachChild(n, [&](const Node& c) { CollectTupleVars(c); });
  }

  bool Bound(std::string_view name) const {
    if (tuple_vars_.count(name)) return true;
    for (const auto& s : scopes_) {
      if (s.count(name)) return true;
    }
    return false;
  }

  void Reference(const Node& var, bool called) {
    const std::string& name = var.value;
    if (name.empty() || name == "$" || Bound(name)) return;
    auto it = ref_index_.find(name);
    if (it != ref_index_.end()) {
      refs_[it->second].called = refs_[it->second].called && called;
      return;
    }
    ref_index_.emplace(name, refs_.size());
    VariableReference ref;
    ref.name = name;
    ref.position = static_cast<int>(
        CodePointCount(std::string_view(program_->text)
                           .substr(0, static_cast<size_t>(var.offset))));
    ref.called = called;
    refs_.push_back(std::move(ref));
  }

  void Walk(const Node& n) {
    if (n.type == NodeType::kVariable) {
      Reference(n, false);
      return;
    }
    if ((n.type == NodeType::kCall || n.type == NodeType::kPartial) &&
        n.procedure && n.procedure->type == NodeType::kVariable) {
      Reference(*n.procedure, true);
      for (const auto& a : n.items) Walk(*a);
      for (const auto& s : n.predicates) Walk(*s.expr);
      return;
    }
    if (n.type == NodeType::kBlock || n.type == NodeType::kLambda) {
      scopes_.push_back({});
      for (const auto& p : n.params) scopes_.back().insert(p);
      CollectBinds(n, &scopes_.back());
      ForEachChild(n, [&](const Node& c) { Walk(c); });
      scopes_.pop_back();
      return;
    }
    ForEachChild(n, [&](const Node& c) { Walk(c); });
  }

  Program* program_;
  std::vector<Scope> scopes_;
  Scope tuple_vars_;
  std::vector<VariableReference> refs_;
  std::map<std::string, size_t, std::less<>> ref_index_;
};

}  // namespace

void FindFreeVariables(Program* program) {
  FreeVariables(program).Run(*program->root);
}

}  // namespace onewindow::asl::jsonata::internal
