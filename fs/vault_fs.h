// fs/vault_fs.h
//
// VaultFs: the mounted tree, with no FUSE in sight (like squashfuse's
// libsquashfuse core under its ll.c front end). fs/fuse_ops.cpp turns each
// kernel request into one call here and one reply; the tests call it
// directly.
//
//   /                                 one directory per tenant (fixed at mount)
//   /<tenant>/                        one directory per object type
//   /<tenant>/<type>/latest           symlink to the newest dated directory
//   /<tenant>/<type>/<time>/...       one snapshot's tree, as stored
//
// The first three levels come from SnapshotCatalog and get short timeouts;
// everything below a snapshot directory is immutable and gets huge ones.
// Inode numbers: see fs/inode_table.h.
//
// Errors come back as Status; the front end maps them with ErrnoFromStatus.
// Failures the user cannot see through an errno alone (corrupt or missing
// blobs) are also logged with tenant, snapshot and path.
//
// Thread safety: all methods are thread-safe. VaultFs holds no lock across a
// backend call; the inode table and catalog have their own (see there).
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backend/status.h"
#include "fs/inode_table.h"
#include "fs/logger.h"
#include "fs/snapshot_catalog.h"

namespace m365vault::fs {

struct VaultFsOptions {
  uid_t uid = 0;  // owner of every node (the mounting user)
  gid_t gid = 0;
  // How long the tenant, type and snapshot listings (and `latest`) may be
  // cached, by us and by the kernel.
  std::chrono::milliseconds refresh_interval{1000};
  // Entry/attr timeout of immutable nodes: "forever".
  double immutable_timeout = 365.0 * 24 * 3600 * 100;
};

// A lookup result. ino == 0 is a negative entry: the name does not exist and
// the kernel may remember that for entry_timeout.
struct EntryInfo {
  Ino ino = 0;
  struct stat attr {};
  double entry_timeout = 0;
  double attr_timeout = 0;
};

struct AttrInfo {
  struct stat attr {};
  double timeout = 0;
};

// Per-open state of a directory: the listing as it was at opendir, so that
// offsets stay stable while the directory is read. Items 0 and 1 are "." and
// ".."; item 2 + i is child i.
struct DirHandle {
  Ino ino = 0;
  std::shared_ptr<const Node> dir;
  std::shared_ptr<const Tree> tree;          // snapshot and entry directories
  std::shared_ptr<const TenantView> view;    // tenant and type directories
  std::vector<std::string> names;            // root, tenant, type: child names
  // Immutable listing: the kernel may cache it (cache_readdir, keep_cache).
  bool immutable() const { return dir->immutable(); }
  size_t size() const { return 2 + (tree ? tree->entries.size() : names.size()); }
  std::string_view Name(size_t item) const;
  // The d_type bits (S_IFDIR, S_IFREG, S_IFLNK) of an item.
  mode_t Type(size_t item) const;
};

// Per-open state of a file.
struct FileHandle {
  std::shared_ptr<const Node> node;  // kEntry, a file
};

class VaultFs {
 public:
  VaultFs(std::vector<MountedTenant> tenants, VaultFsOptions options, Logger& log);
  VaultFs(const VaultFs&) = delete;
  VaultFs& operator=(const VaultFs&) = delete;

  // The child `name` of directory `parent`, with one kernel reference added
  // (unless negative). ENOTDIR-like InvalidArgument when parent is no
  // directory; EIO-like errors when a tree cannot be loaded (logged).
  Result<EntryInfo> Lookup(Ino parent, std::string_view name);
  // Item `item` (>= 2) of an open directory, as Lookup would return it; for
  // readdirplus. Adds a kernel reference; the caller Forgets it if the entry
  // did not fit into the reply.
  Result<EntryInfo> LookupItem(const DirHandle& dir, size_t item);
  void Forget(Ino ino, uint64_t nlookup);

  Result<AttrInfo> GetAttr(Ino ino);
  // Symlink text. InvalidArgument when `ino` is not a symlink.
  Result<std::string> ReadLink(Ino ino);

  // InvalidArgument when not a directory.
  Result<std::unique_ptr<DirHandle>> OpenDir(Ino ino);
  // The d_ino to show for an item in a plain readdir (no reference added).
  Ino ItemIno(const DirHandle& dir, size_t item) const;

  // InvalidArgument when `ino` is not a regular file. (Write access is
  // refused with EROFS by the front end before this is called.)
  Result<std::unique_ptr<FileHandle>> Open(Ino ino);
  // Reads up to out.size() bytes at `offset`; 0 at or past the end. A backend
  // failure is logged (tenant, snapshot, path, offset) and returned.
  Result<size_t> Read(const FileHandle& file, uint64_t offset, std::span<uint8_t> out);

  // Extended attributes of a node as (name, value), sorted by name:
  // entries: "user." + metadata key; snapshot directories:
  // user.m365.snapshot.{id,time,type,tenant,partial,job,parent,failed}.
  Result<std::vector<std::pair<std::string, std::string>>> Xattrs(Ino ino);
  // One attribute; nullopt when the node has no such attribute (ENODATA).
  Result<std::optional<std::string>> GetXattr(Ino ino, std::string_view name);

  InodeTable& inodes() { return inodes_; }
  SnapshotCatalog& catalog() { return catalog_; }

 private:
  struct Child {
    std::string key;
    std::shared_ptr<const Node> node;
  };
  // The node of a live inode; aborts on an inode the kernel cannot have.
  std::shared_ptr<const Node> NodeOf(Ino ino) const;
  // Resolves `name` in directory `parent` (NotFound when absent).
  Result<Child> FindChild(const Node& parent, std::string_view name);
  // Child node for entry `index` of `tree`, the listing of `parent`.
  Child EntryChild(const Node& parent, const std::shared_ptr<const Tree>& tree, size_t index) const;
  Child SnapshotChild(const std::shared_ptr<const MountedSnapshot>& snapshot) const;
  Child LatestChild(const TypeView& type) const;
  Child TypeChild(uint32_t tenant, const std::string& type) const;
  Child TenantChild(uint32_t tenant) const;
  // Loads the listing of a snapshot or entry directory; logs failures.
  Result<std::shared_ptr<const Tree>> LoadListing(const Node& dir);
  EntryInfo Remember(const Node& parent, Child child);
  double ChildEntryTimeout(const Node& parent) const;
  struct stat Attr(const Node& node, Ino ino);
  double AttrTimeout(const Node& node) const;
  // "tenant contoso, snapshot exchange/2026-11-24T060000Z (id ...), path a/b"
  static std::string Describe(const Node& node);

  VaultFsOptions options_;
  Logger& log_;
  SnapshotCatalog catalog_;
  InodeTable inodes_;
  std::shared_ptr<const Node> root_;
  int64_t mount_time_ns_;
};

}  // namespace m365vault::fs
