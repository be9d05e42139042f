// Parallel and Map: a join per running state, its children launched in
// bounded batches (a wide fan-out continues in later calls, so one case
// cannot hold its shard), results collected in order, and cancellation.
#include "engine/core/execution_impl.h"
#include "engine/core/interp_util.h"

namespace onewindow::core {

using internal::AnyNumber;
using internal::DumpJson;
namespace sv1 = onewindow::store::v1;

void Execution::Impl::RunParallel(Thread& t) {
  Json ctx = Context(t, nullptr);
  Json eff_storage;
  const Json* eff = nullptr;
  if (absl::Status s = EffectiveInput(t, ctx, &eff_storage, &eff); !s.ok()) {
    return StateFailed(t, Failure::FromStatus(s));
  }
  auto params = Template(*t.sj, "Parameters", *eff, ctx);
  if (!params.ok()) {
    return StateFailed(t, Failure::FromStatus(params.status()));
  }
  auto bit = t.sj->find("Branches");
  const size_t n = bit != t.sj->end() && bit->is_array() ? bit->size() : 0;
  Join j;
  j.id = next_join++;
  j.kind = JoinKind::kParallel;
  j.parent = t.id;
  j.inputs.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (i + 1 == n) {
      j.inputs.push_back(std::move(*params));
    } else {
      j.inputs.push_back(*params);
    }
  }
  j.results.resize(n);
  Emit(sv1::PARALLEL_STARTED, t.state).number = static_cast<int64_t>(n);
  StartJoin(t, std::move(j));
}

void Execution::Impl::RunMap(Thread& t) {
  Json ctx = Context(t, nullptr);
  Json eff_storage;
  const Json* eff = nullptr;
  if (absl::Status s = EffectiveInput(t, ctx, &eff_storage, &eff); !s.ok()) {
    return StateFailed(t, Failure::FromStatus(s));
  }
  const Json& sj = *t.sj;
  Json items;
  if (const std::string* ip = StrField(sj, "ItemsPath")) {
    asl::EvalEnv env = Env(&ctx);
    auto v = asl::EvalPath(*ip, *eff, env);
    if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
    items = std::move(*v);
  } else {
    items = *eff;
  }
  if (!items.is_array()) {
    return StateFailed(
        t, Failure::Of(asl::kStatesRuntime,
                       "Map items are not an array: " + DumpJson(items)));
  }
  const int64_t max_items = info.limits.max_map_items();
  if (max_items > 0 && static_cast<int64_t>(items.size()) > max_items) {
    return StateFailed(
        t, Failure::Of(kStatesLimitExceeded,
                       "the Map has " + std::to_string(items.size()) +
                           " items, over the limit of " +
                           std::to_string(max_items) +
                           " items per Map state (max_map_items)"));
  }
  int64_t maxc = 0;
  bool found = false;
  absl::Status s = NumberOrPath(t, "MaxConcurrency", "MaxConcurrencyPath", *eff,
                                ctx, 0, &maxc, &found);
  if (!s.ok()) return StateFailed(t, Failure::FromStatus(s));
  int64_t tol_count = -1;
  s = NumberOrPath(t, "ToleratedFailureCount", "ToleratedFailureCountPath",
                   *eff, ctx, 0, &tol_count, &found);
  if (!s.ok()) return StateFailed(t, Failure::FromStatus(s));
  if (!found) tol_count = -1;
  double tol_pct = -1;
  if (sj.contains("ToleratedFailurePercentage")) {
    if (!AnyNumber(sj["ToleratedFailurePercentage"], &tol_pct) || tol_pct < 0 ||
        tol_pct > 100) {
      return StateFailed(t, Failure::Of(asl::kStatesRuntime,
                                        "ToleratedFailurePercentage is "
                                        "not a valid percentage"));
    }
  } else if (const std::string* p =
                 StrField(sj, "ToleratedFailurePercentagePath")) {
    asl::EvalEnv env = Env(&ctx);
    auto v = asl::EvalPath(*p, *eff, env);
    if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
    if (!AnyNumber(*v, &tol_pct) || tol_pct < 0 || tol_pct > 100) {
      return StateFailed(t,
                         Failure::Of(asl::kStatesRuntime,
                                     "ToleratedFailurePercentagePath '" + *p +
                                         "' does not give a valid percentage"));
    }
  }
  const char* selector_field = sj.contains("ItemSelector") ? "ItemSelector"
                               : sj.contains("Parameters") ? "Parameters"
                                                           : nullptr;
  Join j;
  j.id = next_join++;
  j.kind = JoinKind::kMap;
  j.parent = t.id;
  j.max_concurrency = maxc;
  j.tolerated_count = tol_count;
  j.tolerated_pct = tol_pct;
  j.inputs.reserve(items.size());
  // The selector as compiled at deploy, when the definition has it.
  const asl::StateSpec* spec = def->Spec(t.sj);
  const asl::CompiledTemplate* selector =
      spec != nullptr && spec->item_selector.has_value()
          ? &*spec->item_selector
          : nullptr;
  for (size_t i = 0; i < items.size(); ++i) {
    if (selector_field != nullptr) {
      // The context is this state's own copy: each item overwrites Map.
      ctx["Map"] = {{"Item", {{"Index", i}, {"Value", items[i]}}}};
      asl::EvalEnv env = Env(&ctx);
      auto v = selector != nullptr
                   ? selector->Eval(*eff, env)
                   : asl::EvalPayloadTemplate(sj[selector_field], *eff, env);
      if (!v.ok()) return StateFailed(t, Failure::FromStatus(v.status()));
      j.inputs.push_back(std::move(*v));
    } else {
      j.inputs.push_back(std::move(items[i]));
    }
  }
  j.results.resize(j.inputs.size());
  Emit(sv1::MAP_STARTED, t.state).number = static_cast<int64_t>(items.size());
  StartJoin(t, std::move(j));
}

void Execution::Impl::StartJoin(Thread& t, Join j) {
  const int64_t jid = j.id;
  if (j.inputs.empty()) {
    Complete(t, Json::array(), /*select=*/true);
    return;
  }
  t.phase = Phase::kJoin;
  t.child_join = jid;
  joins.emplace(jid, std::move(j));
  LaunchChildren(joins.at(jid));
}

void Execution::Impl::LaunchChildren(Join& j) {
  Thread& parent = threads.at(j.parent);
  const int64_t total = static_cast<int64_t>(j.inputs.size());
  const int64_t batch = info.limits.launch_batch();
  while (j.next < total &&
         (j.max_concurrency == 0 ||
          static_cast<int64_t>(j.children.size()) < j.max_concurrency)) {
    if (batch > 0 && launched_this_call >= batch) {
      // The rest start in a later call (Continue), so that one wide
      // fan-out does not hold the shard.
      pending_joins.insert(j.id);
      return;
    }
    ++launched_this_call;
    const int64_t i = j.next++;
    const int index = j.kind == JoinKind::kParallel ? static_cast<int>(i) : 0;
    Thread c;
    c.id = next_thread++;
    c.mpath = parent.mpath;
    c.mpath.push_back(MachineStep{parent.state, index});
    c.machine = def->Nested(parent.sj, index);
    c.join = j.id;
    c.slot = i;
    c.input = std::move(j.inputs[i]);
    c.vars = parent.vars;
    j.inputs[i] = nullptr;  // no longer needed
    if (c.machine != nullptr) {
      c.state = c.machine->start_at;
      c.sj = StateJson(c.machine, c.state);
    }
    Emit(j.kind == JoinKind::kMap ? sv1::MAP_ITERATION_STARTED
                                  : sv1::PARALLEL_BRANCH_STARTED,
         parent.state)
        .index = i;
    if (c.sj == nullptr) {
      // The definition lacks the nested machine: fail the parent state.
      CancelJoin(j.id);
      parent.child_join = 0;
      StateFailed(parent, Failure::Of(asl::kStatesRuntime,
                                      "state '" + parent.state +
                                          "' has no runnable machine"));
      return;
    }
    j.children.insert(c.id);
    const int64_t cid = c.id;
    threads.emplace(cid, std::move(c));
    Enqueue(threads.at(cid), Phase::kEnter);
  }
  pending_joins.erase(j.id);
}

void Execution::Impl::LaunchPending() {
  std::vector<int64_t> ids(pending_joins.begin(), pending_joins.end());
  pending_joins.clear();
  for (int64_t jid : ids) {
    auto it = joins.find(jid);
    if (it == joins.end()) continue;
    LaunchChildren(it->second);
    if (status != RunStatus::kRunning) return;
  }
}

void Execution::Impl::ChildSucceeded(int64_t jid, int64_t cid, int64_t slot,
                                     Json output) {
  Join& j = joins.at(jid);
  j.children.erase(cid);
  j.results[slot] = std::move(output);
  ++j.done;
  Emit(j.kind == JoinKind::kMap ? sv1::MAP_ITERATION_SUCCEEDED
                                : sv1::PARALLEL_BRANCH_SUCCEEDED,
       threads.at(j.parent).state)
      .index = slot;
  FinishOrContinue(j);
}

void Execution::Impl::FinishOrContinue(Join& j) {
  if (j.done == static_cast<int64_t>(j.results.size())) {
    Json results = Json::array();
    auto& arr = results.get_ref<Json::array_t&>();
    arr.reserve(j.results.size());
    for (Json& r : j.results) arr.push_back(std::move(r));
    Thread& parent = threads.at(j.parent);
    pending_joins.erase(j.id);
    joins.erase(j.id);
    parent.child_join = 0;
    Complete(parent, std::move(results), /*select=*/true);
    return;
  }
  LaunchChildren(j);
}

void Execution::Impl::ChildFailed(int64_t jid, int64_t cid, int64_t slot,
                                  Failure f) {
  Join& j = joins.at(jid);
  j.children.erase(cid);
  Thread& parent = threads.at(j.parent);
  {
    Event& e = Emit(j.kind == JoinKind::kMap ? sv1::MAP_ITERATION_FAILED
                                             : sv1::PARALLEL_BRANCH_FAILED,
                    parent.state);
    e.index = slot;
    e.error = f.error;
    e.cause = f.cause;
    e.has_error = f.has_error;
    e.has_cause = f.has_cause;
  }
  if (j.kind == JoinKind::kMap &&
      (j.tolerated_count >= 0 || j.tolerated_pct >= 0)) {
    ++j.failed;
    const double total = static_cast<double>(j.results.size());
    const bool over_count =
        j.tolerated_count >= 0 && j.failed > j.tolerated_count;
    const bool over_pct =
        j.tolerated_pct >= 0 && j.failed * 100.0 / total > j.tolerated_pct;
    if (!over_count && !over_pct) {
      j.results[slot] = f.ToJson();
      ++j.done;
      FinishOrContinue(j);
      return;
    }
    f = Failure::Of(asl::kStatesExceedToleratedFailureThreshold,
                    "The specified tolerated failure threshold was "
                    "exceeded");
  }
  CancelJoin(jid);
  parent.child_join = 0;
  StateFailed(parent, f);
}

// ---- cancellation ----------------------------------------------------------

void Execution::Impl::CancelThread(int64_t id) {
  auto it = threads.find(id);
  if (it == threads.end()) return;
  Thread& t = it->second;
  WithdrawTask(t);
  DisarmTimer(&t.timer);
  if (t.child_join != 0) CancelJoin(t.child_join);
  threads.erase(id);
}

void Execution::Impl::CancelJoin(int64_t jid) {
  auto it = joins.find(jid);
  if (it == joins.end()) return;
  std::set<int64_t> children = std::move(it->second.children);
  joins.erase(it);
  pending_joins.erase(jid);
  for (int64_t c : children) CancelThread(c);
}

void Execution::Impl::CancelEverything() {
  std::vector<int64_t> ids;
  ids.reserve(threads.size());
  for (const auto& [id, t] : threads) ids.push_back(id);
  for (int64_t id : ids) CancelThread(id);
  joins.clear();
  pending_joins.clear();
  for (auto& [id, tm] : timers) {
    DropTimer(id, tm.due_ms);
  }
  timers.clear();
  for (auto& [id, th] : tasks) DropTask(id);
  tasks.clear();
  queue.clear();
}

}  // namespace onewindow::core
