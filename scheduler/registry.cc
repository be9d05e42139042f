#include "scheduler/registry.h"

#include <openssl/sha.h>

#include <algorithm>
#include <set>

#include "engine/store/records.h"

namespace onewindow::scheduler {
namespace {

onewindow::v1::DefinitionFormat ToProto(asl::SourceFormat f,
                                        const std::string& text) {
  if (f == asl::SourceFormat::kJson)
    return onewindow::v1::DEFINITION_FORMAT_JSON;
  if (f == asl::SourceFormat::kYaml)
    return onewindow::v1::DEFINITION_FORMAT_YAML;
  size_t i = text.find_first_not_of(" \t\r\n");
  return (i != std::string::npos && text[i] == '{')
             ? onewindow::v1::DEFINITION_FORMAT_JSON
             : onewindow::v1::DEFINITION_FORMAT_YAML;
}

// Every Task state the engine runs must address a department.
void CheckResources(const asl::Json& machine, const std::string& path,
                    std::vector<std::string>* errors) {
  if (!machine.is_object() || !machine.contains("States") ||
      !machine["States"].is_object()) {
    return;
  }
  for (const auto& [name, state] : machine["States"].items()) {
    const std::string here = path + ".States." + name;
    if (!state.is_object()) continue;
    const std::string type = state.value("Type", "");
    if (type == "Task") {
      std::string dept, task_type;
      const std::string resource = state.value("Resource", "");
      if (!asl::ParseDeptResource(resource, &dept, &task_type)) {
        errors->push_back(here + ".Resource: \"" + resource +
                          "\" is not a department resource "
                          "(dept:<DEPT>/<task-type>)");
      }
    } else if (type == "Parallel" && state.contains("Branches") &&
               state["Branches"].is_array()) {
      for (size_t i = 0; i < state["Branches"].size(); ++i) {
        CheckResources(state["Branches"][i],
                       here + ".Branches[" + std::to_string(i) + "]", errors);
      }
    } else if (type == "Map") {
      for (const char* key : {"ItemProcessor", "Iterator"}) {
        if (state.contains(key)) {
          CheckResources(state[key], here + "." + key, errors);
        }
      }
    }
  }
}

}  // namespace

asl::SourceFormat SourceFormatFromProto(onewindow::v1::DefinitionFormat f) {
  switch (f) {
    case onewindow::v1::DEFINITION_FORMAT_JSON:
      return asl::SourceFormat::kJson;
    case onewindow::v1::DEFINITION_FORMAT_YAML:
      return asl::SourceFormat::kYaml;
    default:
      return asl::SourceFormat::kAuto;
  }
}

absl::Status WorkflowRegistry::CheckName(const std::string& name) {
  if (name.empty() || name.size() > 80) {
    return absl::InvalidArgumentError("name: must be 1 to 80 characters, got " +
                                      std::to_string(name.size()));
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
          c == '.')) {
      return absl::InvalidArgumentError(
          "name: \"" + name +
          "\" may hold only letters, digits, '-', '_' and '.'");
    }
  }
  return absl::OkStatus();
}

namespace {

// Stored versions were accepted once under some configured bound; they
// load under the highest values the settings allow (see
// engine/service/config.cc), so no later change of the bounds can stop the
// engine from loading what it runs.
asl::Limits LoadLimits(asl::Limits l) {
  l.max_json_depth = std::max(l.max_json_depth, 1000);
  l.max_definition_bytes = std::max(l.max_definition_bytes, size_t{16} << 20);
  l.max_states = std::max(l.max_states, 100'000);
  return l;
}

}  // namespace

WorkflowRegistry::WorkflowRegistry(store::Store* store, RulesFactory rules,
                                   const asl::Limits& limits)
    : store_(store),
      rules_(std::move(rules)),
      limits_(limits),
      load_limits_(LoadLimits(limits)) {}

absl::StatusOr<DeployedWorkflow> WorkflowRegistry::Compile(
    const store::WorkflowRecord& w) const {
  auto def = asl::Definition::Compile(
      w.definition(), SourceFormatFromProto(w.format()), load_limits_);
  if (!def.ok()) return def.status();
  absl::StatusOr<std::shared_ptr<const ServiceRules>> rules =
      rules_
          ? rules_(w.manifest_source())
          : absl::StatusOr<std::shared_ptr<const ServiceRules>>(DefaultRules());
  if (!rules.ok()) return rules.status();
  return DeployedWorkflow{std::make_shared<const store::WorkflowRecord>(w),
                          *def, *rules};
}

absl::Status WorkflowRegistry::Load() {
  std::map<std::string, std::map<int64_t, DeployedWorkflow>> loaded;
  absl::Status inner = absl::OkStatus();
  absl::Status s =
      store::ForEachWorkflow(*store_, [&](const store::WorkflowRecord& w) {
        absl::StatusOr<DeployedWorkflow> d = Compile(w);
        if (!d.ok()) {
          inner = absl::DataLossError(
              "stored workflow " + w.name() + "@" +
              std::to_string(w.version()) +
              " no longer compiles: " + std::string(d.status().message()));
          return false;
        }
        loaded[w.name()][w.version()] = std::move(*d);
        return true;
      });
  if (!s.ok()) return s;
  if (!inner.ok()) return inner;
  std::unique_lock lock(mu_);
  workflows_ = std::move(loaded);
  return absl::OkStatus();
}

absl::StatusOr<DeployResult> WorkflowRegistry::Deploy(
    const std::string& name, const std::string& text, asl::SourceFormat format,
    const std::string& description, int64_t now_ms, const std::string& manifest,
    const std::string& deployed_by, const std::string& deployed_role) {
  if (absl::Status s = CheckName(name); !s.ok()) return s;
  if (text.empty()) {
    return absl::InvalidArgumentError("definition: empty");
  }
  auto def = asl::Definition::Compile(text, format, limits_);
  if (!def.ok()) {
    return absl::InvalidArgumentError("definition is not valid: " +
                                      std::string(def.status().message()));
  }
  std::vector<std::string> errors;
  CheckResources((*def)->doc(), "$", &errors);
  if (!errors.empty()) {
    std::string msg = "definition is not valid: ";
    for (size_t i = 0; i < errors.size(); ++i) {
      if (i) msg += "; ";
      msg += errors[i];
    }
    return absl::InvalidArgumentError(msg);
  }
  absl::StatusOr<std::shared_ptr<const ServiceRules>> rules =
      rules_
          ? rules_(manifest)
          : absl::StatusOr<std::shared_ptr<const ServiceRules>>(DefaultRules());
  if (!rules.ok()) {
    return absl::InvalidArgumentError("service manifest is not valid: " +
                                      std::string(rules.status().message()));
  }
  // One digest covers the definition and the manifest: a new manifest
  // alone makes a new version.
  std::string digest = (*def)->digest();
  if (!manifest.empty()) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    const std::string both = digest + "\n" + manifest;
    SHA256(reinterpret_cast<const unsigned char*>(both.data()), both.size(),
           md);
    digest =
        store::Hex(std::string_view(reinterpret_cast<char*>(md), sizeof(md)));
  }

  std::lock_guard deploy_lock(deploy_mu_);
  int64_t version = 1;
  {
    std::shared_lock lock(mu_);
    auto it = workflows_.find(name);
    if (it != workflows_.end() && !it->second.empty()) {
      const DeployedWorkflow& latest = it->second.rbegin()->second;
      if (latest.record->digest() == digest) {
        return DeployResult{name, latest.record->version(), false};
      }
      version = latest.record->version() + 1;
    }
  }
  store::WorkflowRecord rec;
  rec.set_name(name);
  rec.set_version(version);
  rec.set_definition(text);
  rec.set_format(ToProto(format, text));
  rec.set_description(description);
  rec.set_deployed_at_ms(now_ms);
  for (const auto& d : (*def)->departments()) rec.add_departments(d);
  rec.set_digest(digest);
  rec.set_manifest_source(manifest);
  rec.set_deployed_by(deployed_by);
  rec.set_deployed_role(deployed_role);
  std::unique_ptr<store::Store::Batch> batch = store_->NewBatch();
  store::PutWorkflow(batch.get(), rec);
  if (absl::Status s = store_->Commit(batch.get()); !s.ok()) return s;
  std::unique_lock lock(mu_);
  workflows_[name][version] = DeployedWorkflow{
      std::make_shared<const store::WorkflowRecord>(rec), *def, *rules};
  return DeployResult{name, version, true};
}

absl::StatusOr<DeployedWorkflow> WorkflowRegistry::Get(const std::string& name,
                                                       int64_t version) const {
  std::shared_lock lock(mu_);
  auto it = workflows_.find(name);
  if (it == workflows_.end() || it->second.empty()) {
    return absl::NotFoundError("service: no workflow named \"" + name +
                               "\" is deployed");
  }
  if (version == 0) return it->second.rbegin()->second;
  auto v = it->second.find(version);
  if (v == it->second.end()) {
    return absl::NotFoundError("version: workflow \"" + name +
                               "\" has no version " + std::to_string(version));
  }
  return v->second;
}

std::vector<DeployedWorkflow> WorkflowRegistry::ListLatest() const {
  std::shared_lock lock(mu_);
  std::vector<DeployedWorkflow> out;
  for (const auto& [name, versions] : workflows_) {
    if (!versions.empty()) out.push_back(versions.rbegin()->second);
  }
  return out;
}

std::vector<DeployedWorkflow> WorkflowRegistry::ListVersions(
    const std::string& name) const {
  std::shared_lock lock(mu_);
  std::vector<DeployedWorkflow> out;
  auto it = workflows_.find(name);
  if (it == workflows_.end()) return out;
  for (const auto& [v, w] : it->second) out.push_back(w);
  return out;
}

}  // namespace onewindow::scheduler
