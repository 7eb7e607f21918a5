// backend/mem_storage.h
//
// MemStorage: a Storage held in memory, for tests and benchmarks of the
// store's logic without disk I/O. Tests may reach in to corrupt objects.
//
// Thread safety: safe for concurrent use.
#pragma once

#include <map>
#include <mutex>

#include "backend/storage.h"

namespace m365vault {

class MemStorage final : public Storage {
 public:
  Status Write(std::string_view name, ByteView data) override {
    std::lock_guard<std::mutex> l(mu_);
    objects_[std::string(name)] = Bytes(data.begin(), data.end());
    return Status::OK();
  }
  Result<Bytes> Read(std::string_view name) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = objects_.find(std::string(name));
    if (it == objects_.end()) return Status::NotFound("no object " + std::string(name));
    return it->second;
  }
  Result<Bytes> ReadRange(std::string_view name, uint64_t offset, uint64_t length) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = objects_.find(std::string(name));
    if (it == objects_.end()) return Status::NotFound("no object " + std::string(name));
    if (offset + length > it->second.size()) return Status::Corruption(std::string(name) + " is too short");
    return Bytes(it->second.begin() + offset, it->second.begin() + offset + length);
  }
  Result<uint64_t> Size(std::string_view name) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = objects_.find(std::string(name));
    if (it == objects_.end()) return Status::NotFound("no object " + std::string(name));
    return static_cast<uint64_t>(it->second.size());
  }
  Result<std::vector<ObjectInfo>> List(std::string_view prefix) override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<ObjectInfo> out;
    for (const auto& [name, data] : objects_) {
      if (name.rfind(prefix, 0) == 0) out.push_back({name, data.size()});
    }
    return out;
  }
  Status Remove(std::string_view name) override {
    std::lock_guard<std::mutex> l(mu_);
    objects_.erase(std::string(name));
    return Status::OK();
  }
  std::string Describe() const override { return "memory"; }

  // Test access: every object, by name.
  std::map<std::string, Bytes>& objects() { return objects_; }

 private:
  std::mutex mu_;
  std::map<std::string, Bytes> objects_;
};

}  // namespace m365vault
