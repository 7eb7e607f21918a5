// fs/inode_table.h
//
// InodeTable: the kernel-visible inode numbers and the nodes they stand for.
//
// Inode numbers are derived, not allocated (compare squashfuse ll_inode.c).
// Every node has a key that names it for the life of the repository:
//
//   tenant     "T" tenant
//   type       "Y" tenant \0 type
//   latest     "L" tenant \0 type \0 target-snapshot-id
//   snapshot   "S" tenant \0 snapshot-id
//   entry      "E" tenant \0 snapshot-id \0 path-below-the-snapshot
//
// and its inode number is a 64-bit hash of that key (FNV-1a, then the
// splitmix64 finalizer). The root is FUSE_ROOT_ID and never in the table.
// So the same file has the same inode number in every mount, and a lookup
// needs no table of all names: nothing at mount time grows with the
// repository. `latest` includes its target in its key, so when a new
// snapshot arrives `latest` becomes a new, again immutable, symlink inode and
// the kernel's cached link text of the old one is never served for the new.
//
// Collisions (two live keys with one hash) are detected by comparing keys; the
// later key probes hash + kShards, hash + 2*kShards, ... (staying in its
// shard). Numbers 0 and FUSE_ROOT_ID are skipped the same way. A colliding
// key can therefore get a different number in a later mount; with 64-bit
// hashes that needs ~2^32 live inodes to become likely.
//
// The table holds only the nodes the kernel has been told about, with their
// lookup counts (passthrough_hp's nlookup): Remember adds one, Forget
// subtracts, and a node is erased when its count reaches zero. Memory is
// bounded by what the kernel keeps in its inode cache.
//
// Thread safety: all methods are thread-safe. Shards are independent; each
// has its own mutex, never held while calling out or replying.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "fs/node.h"

namespace m365vault::fs {

using Ino = uint64_t;  // == fuse_ino_t (static_assert in fuse_ops.cpp)
inline constexpr Ino kRootIno = 1;  // == FUSE_ROOT_ID

// The hash part of the scheme: the number `key` gets when nothing collides.
Ino HashInodeKey(std::string_view key);

// Builders for the keys above.
std::string TenantKey(std::string_view tenant);
std::string TypeKey(std::string_view tenant, std::string_view type);
std::string LatestKey(std::string_view tenant, std::string_view type, std::string_view target_id);
std::string SnapshotKey(std::string_view tenant, std::string_view snapshot_id);
std::string EntryKey(std::string_view tenant, std::string_view snapshot_id, std::string_view path);

class InodeTable {
 public:
  InodeTable() = default;
  InodeTable(const InodeTable&) = delete;
  InodeTable& operator=(const InodeTable&) = delete;

  // Returns the inode number of `key`, adding one kernel reference. If the key
  // is already live, its existing node is kept and `node` is dropped.
  Ino Remember(const std::string& key, std::shared_ptr<const Node> node);
  // The node of a live inode, or nullptr (an inode the kernel never got from
  // us, or one already forgotten: a bug in the caller or the kernel).
  std::shared_ptr<const Node> Get(Ino ino) const;
  // Drops `n` kernel references; erases the node at zero. Unknown inodes and
  // the root are ignored.
  void Forget(Ino ino, uint64_t n);
  // Live inodes (for tests and statistics).
  size_t size() const;

  static constexpr unsigned kShards = 64;

 private:
  struct Slot {
    std::string key;
    std::shared_ptr<const Node> node;
    uint64_t nlookup = 0;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<Ino, Slot> slots;  // GUARDED_BY(mu)
    // Live keys that did not get their hash (collisions): key -> ino. Checked
    // first, so a displaced key keeps its number while it is live even after
    // the slot it collided with is freed.
    std::unordered_map<std::string, Ino> displaced;  // GUARDED_BY(mu)
  };
  Shard& ShardOf(Ino ino) { return shards_[ino % kShards]; }
  const Shard& ShardOf(Ino ino) const { return shards_[ino % kShards]; }

  Shard shards_[kShards];
};

}  // namespace m365vault::fs
