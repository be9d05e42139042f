// The in-memory store: ordered maps behind a mutex. For engine tests that
// need no disk; same semantics as the RocksDB store (atomic batches,
// ordered scans), nothing survives the object.
#include <map>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "engine/store/format.h"
#include "engine/store/store.h"

namespace onewindow::store {

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char c = static_cast<unsigned char>(end.back());
    if (c != 0xff) {
      end.back() = static_cast<char>(c + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

absl::Status Store::ScanPrefix(int cf, std::string_view prefix, bool reverse,
                               const ScanFn& fn) const {
  return Scan(cf, prefix, PrefixEnd(prefix), reverse, fn);
}

namespace {

class MemStore final : public Store {
 public:
  struct Op {
    int cf;
    bool del;
    std::string key;
    std::string value;
  };
  class MemBatch final : public Batch {
   public:
    void Put(int cf, std::string_view key, std::string_view value) override {
      ops.push_back(Op{cf, false, std::string(key), std::string(value)});
      ++ops_;
      bytes_ += key.size() + value.size();
    }
    void Delete(int cf, std::string_view key) override {
      ops.push_back(Op{cf, true, std::string(key), {}});
      ++ops_;
      bytes_ += key.size();
    }
    void Clear() override {
      ops.clear();
      ops_ = 0;
      bytes_ = 0;
    }
    std::vector<Op> ops;
  };

  explicit MemStore(const StoreOptions& opts) : data_(kNumColumnFamilies) {
    meta_.set_format_version(kFormatVersion);
    meta_.set_shards(opts.shards < 1 ? 1 : opts.shards);
    meta_.set_created_at_ms(opts.now_ms);
    data_[kCfMeta][std::string(kMetaKey)] = meta_.SerializeAsString();
  }

  std::unique_ptr<Batch> NewBatch() const override {
    return std::make_unique<MemBatch>();
  }

  absl::Status Commit(Batch* batch) override {
    auto* b = static_cast<MemBatch*>(batch);
    std::unique_lock lock(mu_);
    for (const Op& op : b->ops) {
      if (op.cf < 0 || op.cf >= kNumColumnFamilies) {
        return absl::InvalidArgumentError("no column family " +
                                          std::to_string(op.cf));
      }
    }
    for (Op& op : b->ops) {
      if (op.del) {
        data_[op.cf].erase(op.key);
      } else {
        data_[op.cf][op.key] = op.value;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Get(int cf, std::string_view key) const override {
    std::shared_lock lock(mu_);
    const auto& m = data_.at(cf);
    auto it = m.find(std::string(key));
    if (it == m.end()) return absl::NotFoundError("not found");
    return it->second;
  }

  absl::Status Scan(int cf, std::string_view start, std::string_view end,
                    bool reverse, const ScanFn& fn) const override {
    // Copy the range out first so the callback may use the store.
    std::vector<std::pair<std::string, std::string>> rows;
    {
      std::shared_lock lock(mu_);
      const auto& m = data_.at(cf);
      auto lo = m.lower_bound(std::string(start));
      auto hi = end.empty() ? m.end() : m.lower_bound(std::string(end));
      for (auto it = lo; it != hi; ++it) rows.emplace_back(*it);
    }
    if (reverse) {
      for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
        if (!fn(it->first, it->second)) break;
      }
    } else {
      for (const auto& [k, v] : rows) {
        if (!fn(k, v)) break;
      }
    }
    return absl::OkStatus();
  }

 private:
  mutable std::shared_mutex mu_;
  std::vector<std::map<std::string, std::string>> data_;
};

}  // namespace

std::unique_ptr<Store> NewMemStore(const StoreOptions& options) {
  return std::make_unique<MemStore>(options);
}

}  // namespace onewindow::store
