// fs/node.h
//
// Node: what one inode of the mount stands for. Nodes are immutable once
// built and shared (shared_ptr<const Node>), so a handler can keep using one
// after dropping the inode table's lock, even if a concurrent forget removes
// it from the table.
//
// MountedSnapshot: one snapshot as the mount shows it (its directory name, a
// reader, the synthetic root entry). Shared by every node below it.
//
// Thread safety: immutable values; SnapshotReader is itself thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "backend/snapshot.h"
#include "backend/snapshot_reader.h"
#include "backend/tree.h"

namespace m365vault::fs {

struct MountedSnapshot {
  uint32_t tenant = 0;      // index into the mount's tenant list
  std::string tenant_name;
  std::string type;         // the <type> directory name
  std::string dir_name;     // "2026-11-24T060000Z" (maybe with "-2")
  SnapshotInfo info;
  std::unique_ptr<SnapshotReader> reader;
  TreeEntry root_entry;     // synthetic directory entry for the snapshot root
};

enum class NodeKind : uint8_t {
  kRoot,      // "/": one directory per tenant
  kTenant,    // "/<tenant>": one directory per object type
  kType,      // "/<tenant>/<type>": latest + one directory per snapshot
  kLatest,    // "/<tenant>/<type>/latest": symlink to the newest snapshot
  kSnapshot,  // "/<tenant>/<type>/<time>": the snapshot's root tree
  kEntry,     // anything below a snapshot directory
};

struct Node {
  NodeKind kind = NodeKind::kRoot;
  uint32_t tenant = 0;  // all but kRoot
  std::string type;     // kType, kLatest, kSnapshot, kEntry
  // kLatest: the target; kSnapshot, kEntry: the snapshot holding the node.
  std::shared_ptr<const MountedSnapshot> snapshot;
  // kSnapshot: &snapshot->root_entry; kEntry: an entry of its parent's Tree
  // (aliasing shared_ptr: it keeps that Tree alive).
  std::shared_ptr<const TreeEntry> entry;
  // kEntry: '/'-separated path below the snapshot directory (for log lines
  // and for the node key).
  std::string path;

  // Nodes that never change for the life of the mount (kernel caches may keep
  // their attributes, contents and listings forever).
  bool immutable() const {
    return kind == NodeKind::kSnapshot || kind == NodeKind::kEntry || kind == NodeKind::kLatest;
  }
  bool is_directory() const {
    if (kind == NodeKind::kLatest) return false;
    if (kind == NodeKind::kEntry) return entry->kind == EntryKind::kDirectory;
    return true;
  }
};

}  // namespace m365vault::fs
