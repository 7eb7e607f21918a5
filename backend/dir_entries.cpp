// backend/dir_entries.cpp
#include "backend/dir_entries.h"

namespace m365vault {
namespace {
// A map node (~48 bytes), the name's and the body's headers and allocations.
constexpr size_t kEntryOverhead = 128;
}  // namespace

size_t DirEntries::Cost(const std::string& name, const Bytes& body) {
  return kEntryOverhead + name.size() + body.capacity();
}

void DirEntries::Account(ptrdiff_t delta) {
  memory_ = static_cast<size_t>(static_cast<ptrdiff_t>(memory_) + delta);
  if (held_) *held_ = static_cast<size_t>(static_cast<ptrdiff_t>(*held_) + delta);
}

Result<std::optional<Bytes>> DirEntries::Get(const std::string& name) {
  if (spill_) return spill_->Get(dir_, name);
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::optional<Bytes>();
  return std::optional<Bytes>(it->second);
}

Result<bool> DirEntries::Contains(const std::string& name) {
  if (spill_) {
    M365_ASSIGN_OR_RETURN(std::optional<Bytes> body, spill_->Get(dir_, name));
    return body.has_value();
  }
  return entries_.count(name) > 0;
}

Status DirEntries::Put(const std::string& name, Bytes body) {
  if (spill_) return spill_->Put(dir_, name, body);
  body.shrink_to_fit();
  auto [it, inserted] = entries_.try_emplace(name);
  ptrdiff_t delta = static_cast<ptrdiff_t>(Cost(name, body));
  if (!inserted) delta -= static_cast<ptrdiff_t>(Cost(name, it->second));
  it->second = std::move(body);
  Account(delta);
  return Status::OK();
}

Result<bool> DirEntries::Erase(const std::string& name) {
  if (spill_) return spill_->Erase(dir_, name);
  auto it = entries_.find(name);
  if (it == entries_.end()) return false;
  Account(-static_cast<ptrdiff_t>(Cost(it->first, it->second)));
  entries_.erase(it);
  return true;
}

Status DirEntries::ForEach(const std::function<Status(std::string_view name, ByteView body)>& fn) {
  if (spill_) return spill_->ForEach(dir_, fn);
  for (const auto& [name, body] : entries_) M365_RETURN_IF_ERROR(fn(name, body));
  return Status::OK();
}

Status DirEntries::Drain(const std::function<Status(std::string_view name, ByteView body)>& fn) {
  if (spill_) {
    M365_RETURN_IF_ERROR(spill_->ForEach(dir_, fn));
    return spill_->Drop(dir_);
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    M365_RETURN_IF_ERROR(fn(it->first, it->second));
    Account(-static_cast<ptrdiff_t>(Cost(it->first, it->second)));
    it = entries_.erase(it);
  }
  return Status::OK();
}

void DirEntries::Clear() {
  if (spill_) {
    (void)spill_->Drop(dir_);  // rows left behind only cost temporary disk
    return;
  }
  Account(-static_cast<ptrdiff_t>(memory_));
  entries_.clear();
}

Status DirEntries::Spill(EntrySpill& spill) {
  if (spill_) return Status::OK();
  const int64_t dir = spill.NewDir();
  for (const auto& [name, body] : entries_) M365_RETURN_IF_ERROR(spill.Put(dir, name, body));
  spill_ = &spill;
  dir_ = dir;
  Account(-static_cast<ptrdiff_t>(memory_));
  std::map<std::string, Bytes>().swap(entries_);
  return Status::OK();
}

}  // namespace m365vault
