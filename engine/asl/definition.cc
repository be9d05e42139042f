// Definition: load, validate and index an ASL state machine.
//
// After validation the document is moved into the Definition and indexed in
// place: every Machine holds pointers into doc_, which never changes again.
#include "engine/asl/definition.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "openssl/evp.h"

namespace onewindow::asl {
namespace {

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(),
                 nullptr) != 1) {
    return std::string();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

absl::Status ErrorsToStatus(const std::vector<ValidationError>& errors) {
  std::vector<std::string> lines;
  lines.reserve(errors.size());
  // The first few errors, each with its hint (where limits are named).
  constexpr size_t kShown = 8;
  for (const ValidationError& e : errors) {
    if (lines.size() == kShown) {
      lines.push_back(absl::StrCat("and ", errors.size() - kShown,
                                   " more (validate the definition for all)"));
      break;
    }
    lines.push_back(e.hint.empty()
                        ? absl::StrCat(e.path, ": ", e.message)
                        : absl::StrCat(e.path, ": ", e.message, " (", e.hint,
                                       ")"));
  }
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

}  // namespace

// Builds the index of one (already validated) machine and, recursively, of
// the machines its Parallel and Map states own.
class DefinitionIndexer {
 public:
  DefinitionIndexer(Definition* def, std::set<std::string>* departments,
                    const Limits& limits)
      : def_(def), departments_(departments), limits_(limits) {}

  // Recursion follows Parallel/Map nesting, bounded by validation.
  std::unique_ptr<Machine> Index(const Json& machine) {
    auto out = std::make_unique<Machine>();
    out->start_at = machine.at("StartAt").get<std::string>();
    std::vector<StateSpec*> compiled_states;
    for (const auto& [name, state] : machine.at("States").items()) {
      out->states.emplace(name, &state);
      auto spec =
          std::make_unique<StateSpec>(CompileState(name, state, limits_));
      spec->machine = out.get();
      StateSpec* compiled = spec.get();
      def_->specs_.push_back(std::move(spec));
      def_->spec_by_json_.emplace(&state, compiled);
      out->specs.emplace(name, compiled);
      compiled_states.push_back(compiled);
      const std::string& type = state.at("Type").get_ref<const std::string&>();
      if (type == "Parallel") {
        const Json& branches = state.at("Branches");
        for (size_t i = 0; i < branches.size(); ++i) {
          auto branch = Index(branches[i]);
          compiled->branches.push_back(branch.get());
          def_->nested_.emplace(std::make_pair(&state, static_cast<int>(i)),
                                std::move(branch));
        }
      } else if (type == "Map") {
        auto it = state.find("ItemProcessor");
        if (it == state.end()) it = state.find("Iterator");
        auto processor = Index(*it);
        compiled->processor = processor.get();
        def_->nested_.emplace(std::make_pair(&state, 0), std::move(processor));
      } else if (type == "Task") {
        auto resource = state.find("Resource");
        std::string department;
        if (resource != state.end() && resource->is_string() &&
            ParseDeptResource(resource->get_ref<const std::string&>(),
                              &department, nullptr)) {
          departments_->insert(std::move(department));
        }
      }
    }
    Link(out.get(), compiled_states);
    return out;
  }

 private:
  // Resolves transition targets to the machine's own compiled states.
  static void Link(Machine* m, const std::vector<StateSpec*>& states) {
    m->start = m->Find(m->start_at);
    for (StateSpec* s : states) {
      if (!s->next.empty()) s->next_state = m->Find(s->next);
      if (!s->default_next.empty()) s->default_state = m->Find(s->default_next);
      for (ChoiceBranch& b : s->choices) b.next_state = m->Find(b.next);
      for (Catcher& c : s->catchers) c.next_state = m->Find(c.next);
    }
  }

  Definition* def_;
  std::set<std::string>* departments_;
  const Limits& limits_;
};

absl::StatusOr<std::shared_ptr<const Definition>> Definition::Compile(
    std::string_view text, SourceFormat format, const Limits& limits) {
  absl::StatusOr<LoadedSource> source = LoadSource(text, format, limits);
  if (!source.ok()) return source.status();
  std::vector<ValidationError> errors = Validate(*source, limits);
  if (!errors.empty()) return ErrorsToStatus(errors);
  return Build(std::move(source->doc), limits);
}

absl::StatusOr<std::shared_ptr<const Definition>> Definition::FromJson(
    Json doc, const Limits& limits) {
  LoadedSource source;
  source.doc = std::move(doc);
  std::vector<ValidationError> errors = Validate(source, limits);
  if (!errors.empty()) return ErrorsToStatus(errors);
  return Build(std::move(source.doc), limits);
}

std::shared_ptr<const Definition> Definition::Build(Json doc,
                                                    const Limits& limits) {
  std::shared_ptr<Definition> def(new Definition());
  def->doc_ = std::move(doc);
  std::set<std::string> departments;
  DefinitionIndexer indexer(def.get(), &departments, limits);
  def->root_ = indexer.Index(def->doc_);
  def->departments_.assign(departments.begin(), departments.end());
  def->jsonata_.AddAll(def->doc_);
  def->jsonata_default_ = DefinitionIsJsonata(def->doc_);
  // Same text as doc_.dump(); invalid UTF-8 (possible from YAML) is replaced
  // instead of throwing.
  def->digest_ =
      Sha256Hex(def->doc_.dump(-1, ' ', false, Json::error_handler_t::replace));
  return def;
}

const Machine* Definition::Nested(const Json* state, int index) const {
  auto it = nested_.find(std::make_pair(state, index));
  return it == nested_.end() ? nullptr : it->second.get();
}

}  // namespace onewindow::asl
