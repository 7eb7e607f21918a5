// fs/inode_table.cpp
#include "fs/inode_table.h"

namespace m365vault::fs {
namespace {

std::string JoinKey(char tag, std::initializer_list<std::string_view> parts) {
  std::string key(1, tag);
  bool first = true;
  for (std::string_view p : parts) {
    if (!first) key.push_back('\0');
    key.append(p);
    first = false;
  }
  return key;
}

}  // namespace

Ino HashInodeKey(std::string_view key) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char c : key) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 30;  // splitmix64 finalizer: spreads FNV's weak low bits
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

std::string TenantKey(std::string_view tenant) { return JoinKey('T', {tenant}); }
std::string TypeKey(std::string_view tenant, std::string_view type) { return JoinKey('Y', {tenant, type}); }
std::string LatestKey(std::string_view tenant, std::string_view type, std::string_view target_id) {
  return JoinKey('L', {tenant, type, target_id});
}
std::string SnapshotKey(std::string_view tenant, std::string_view snapshot_id) {
  return JoinKey('S', {tenant, snapshot_id});
}
std::string EntryKey(std::string_view tenant, std::string_view snapshot_id, std::string_view path) {
  return JoinKey('E', {tenant, snapshot_id, path});
}

Ino InodeTable::Remember(const std::string& key, std::shared_ptr<const Node> node) {
  Ino ino = HashInodeKey(key);
  Shard& shard = ShardOf(ino);
  std::lock_guard<std::mutex> l(shard.mu);
  if (auto d = shard.displaced.find(key); d != shard.displaced.end()) {
    ++shard.slots.at(d->second).nlookup;
    return d->second;
  }
  const Ino hashed = ino;
  for (;; ino += kShards) {  // stays in the same shard
    if (ino == 0 || ino == kRootIno) continue;
    auto it = shard.slots.find(ino);
    if (it == shard.slots.end()) {
      shard.slots.emplace(ino, Slot{key, std::move(node), 1});
      if (ino != hashed) shard.displaced.emplace(key, ino);
      return ino;
    }
    if (it->second.key == key) {
      ++it->second.nlookup;
      return ino;
    }
  }
}

std::shared_ptr<const Node> InodeTable::Get(Ino ino) const {
  const Shard& shard = ShardOf(ino);
  std::lock_guard<std::mutex> l(shard.mu);
  auto it = shard.slots.find(ino);
  return it == shard.slots.end() ? nullptr : it->second.node;
}

void InodeTable::Forget(Ino ino, uint64_t n) {
  Shard& shard = ShardOf(ino);
  std::shared_ptr<const Node> doomed;  // destroyed after the lock is dropped
  std::lock_guard<std::mutex> l(shard.mu);
  auto it = shard.slots.find(ino);
  if (it == shard.slots.end()) return;
  if (it->second.nlookup > n) {
    it->second.nlookup -= n;
    return;
  }
  doomed = std::move(it->second.node);
  if (HashInodeKey(it->second.key) != ino) shard.displaced.erase(it->second.key);
  shard.slots.erase(it);
}

size_t InodeTable::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard<std::mutex> l(s.mu);
    n += s.slots.size();
  }
  return n;
}

}  // namespace m365vault::fs
