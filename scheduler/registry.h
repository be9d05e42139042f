// WorkflowRegistry: the deployed workflow versions, compiled and cached,
// each with the rules its service manifest sets.
//
// Deploying validates the definition (and the manifest), stores a new
// version (unless both equal the latest) and makes it the one new cases
// get; earlier versions stay so running cases keep theirs. Thread-safe.
#ifndef ONEWINDOW_SCHEDULER_REGISTRY_H_
#define ONEWINDOW_SCHEDULER_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/asl/definition.h"
#include "engine/store/records.h"
#include "engine/store/store.h"
#include "scheduler/service_rules.h"

namespace onewindow::scheduler {

// The ASL source format a stored or requested definition format names.
asl::SourceFormat SourceFormatFromProto(onewindow::v1::DefinitionFormat f);

// Cheap to copy: every part is shared and immutable.
struct DeployedWorkflow {
  std::shared_ptr<const store::WorkflowRecord> record;  // never null
  std::shared_ptr<const asl::Definition> definition;
  std::shared_ptr<const ServiceRules> rules;  // never null
};

struct DeployResult {
  std::string name;
  int64_t version = 0;
  bool created = false;
};

// Turns a manifest's text (empty: none) into rules. INVALID_ARGUMENT naming
// the field and line at fault.
using RulesFactory =
    std::function<absl::StatusOr<std::shared_ptr<const ServiceRules>>(
        const std::string& manifest_text)>;

// Rules of a service without a manifest: prefix OW, no deadline, Saturday
// and Sunday off (UTC), any input.
std::shared_ptr<const ServiceRules> DefaultRules();

class WorkflowRegistry {
 public:
  // `limits` bound definitions deployed from now on; stored versions load
  // under the highest bounds the settings allow, so that lowering a bound
  // never stops the engine from starting with what it already runs.
  WorkflowRegistry(store::Store* store, RulesFactory rules,
                   const asl::Limits& limits = asl::DefaultLimits());

  // Loads and compiles every stored version.
  absl::Status Load();

  // Validates and stores `text` (with its manifest) as the next version of
  // `name`. INVALID_ARGUMENT naming the definition paths at fault.
  absl::StatusOr<DeployResult> Deploy(
      const std::string& name, const std::string& text,
      asl::SourceFormat format, const std::string& description, int64_t now_ms,
      const std::string& manifest = "", const std::string& deployed_by = "",
      const std::string& deployed_role = "");

  // `version` 0 = latest. NOT_FOUND for an unknown name or version.
  absl::StatusOr<DeployedWorkflow> Get(const std::string& name,
                                       int64_t version) const;
  // Latest version of every workflow, by name.
  std::vector<DeployedWorkflow> ListLatest() const;
  // Every version of one workflow, oldest first (empty when unknown).
  std::vector<DeployedWorkflow> ListVersions(const std::string& name) const;

  // Checks a name: letters, digits, '-', '_', '.'; 1..80 characters.
  static absl::Status CheckName(const std::string& name);

 private:
  absl::StatusOr<DeployedWorkflow> Compile(
      const store::WorkflowRecord& w) const;

  store::Store* const store_;
  const RulesFactory rules_;
  const asl::Limits limits_;       // new deployments
  const asl::Limits load_limits_;  // stored versions
  mutable std::shared_mutex mu_;
  std::mutex deploy_mu_;  // serialises deploys
  // name -> version -> workflow
  std::map<std::string, std::map<int64_t, DeployedWorkflow>> workflows_;
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_REGISTRY_H_
