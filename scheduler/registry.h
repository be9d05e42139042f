// WorkflowRegistry: the deployed workflow versions, compiled and cached.
//
// Deploying validates the definition, stores a new version (unless it equals
// the latest) and makes it the one new cases get; earlier versions stay so
// running cases keep theirs. Thread-safe.
#ifndef ONEWINDOW_SCHEDULER_REGISTRY_H_
#define ONEWINDOW_SCHEDULER_REGISTRY_H_

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/asl/definition.h"
#include "engine/store/store.h"

namespace onewindow::scheduler {

// The ASL source format a stored or requested definition format names.
asl::SourceFormat SourceFormatFromProto(onewindow::v1::DefinitionFormat f);

struct DeployedWorkflow {
  store::WorkflowRecord record;
  std::shared_ptr<const asl::Definition> definition;
};

struct DeployResult {
  std::string name;
  int64_t version = 0;
  bool created = false;
};

class WorkflowRegistry {
 public:
  explicit WorkflowRegistry(store::Store* store) : store_(store) {}

  // Loads and compiles every stored version.
  absl::Status Load();

  // Validates and stores `text` as the next version of `name`.
  // INVALID_ARGUMENT naming the definition paths at fault.
  absl::StatusOr<DeployResult> Deploy(const std::string& name,
                                      const std::string& text,
                                      asl::SourceFormat format,
                                      const std::string& description,
                                      int64_t now_ms);

  // `version` 0 = latest. NOT_FOUND for an unknown name or version.
  absl::StatusOr<DeployedWorkflow> Get(const std::string& name,
                                       int64_t version) const;
  // Latest version of every workflow, by name.
  std::vector<DeployedWorkflow> ListLatest() const;

  // Checks a name: letters, digits, '-', '_', '.'; 1..80 characters.
  static absl::Status CheckName(const std::string& name);

 private:
  store::Store* const store_;
  mutable std::shared_mutex mu_;
  std::mutex deploy_mu_;  // serialises deploys
  // name -> version -> workflow
  std::map<std::string, std::map<int64_t, DeployedWorkflow>> workflows_;
};

}  // namespace onewindow::scheduler

#endif  // ONEWINDOW_SCHEDULER_REGISTRY_H_
