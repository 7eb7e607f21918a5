// fs/vault_fs.cpp: lookups, attributes, reads and extended attributes.
// Directory listings are in vault_fs_dirs.cpp.
#include "fs/vault_fs.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "fs/snapshot_names.h"

namespace m365vault::fs {
namespace {

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void SetTime(struct stat* st, int64_t ns) {
  int64_t sec = ns / 1'000'000'000;
  int64_t rem = ns % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --sec;
  }
  st->st_mtim.tv_sec = sec;
  st->st_mtim.tv_nsec = rem;
  st->st_atim = st->st_mtim;
  st->st_ctim = st->st_mtim;
}

}  // namespace

VaultFs::VaultFs(std::vector<MountedTenant> tenants, VaultFsOptions options, Logger& log)
    : options_(options),
      log_(log),
      catalog_(std::move(tenants), options.refresh_interval, log),
      root_(std::make_shared<const Node>()),
      mount_time_ns_(NowNs()) {}

std::shared_ptr<const Node> VaultFs::NodeOf(Ino ino) const {
  if (ino == kRootIno) return root_;
  std::shared_ptr<const Node> node = inodes_.Get(ino);
  if (!node) {
    // The kernel only uses inodes we returned and has not forgotten; an
    // unknown one means our lookup counting is broken (passthrough_hp aborts
    // the same way in get_inode).
    std::fprintf(stderr, "m365vault: unknown inode %llu\n", static_cast<unsigned long long>(ino));
    std::abort();
  }
  return node;
}

std::string VaultFs::Describe(const Node& node) {
  std::string out;
  if (!node.snapshot) return "tenant #" + std::to_string(node.tenant);
  const MountedSnapshot& s = *node.snapshot;
  out = "tenant " + s.tenant_name + ", snapshot " + s.type + "/" + s.dir_name + " (id " + s.info.id + ")";
  if (node.kind == NodeKind::kEntry) out += ", path " + node.path;
  return out;
}

// --- children -------------------------------------------------------------

VaultFs::Child VaultFs::TenantChild(uint32_t tenant) const {
  auto node = std::make_shared<Node>();
  node->kind = NodeKind::kTenant;
  node->tenant = tenant;
  return {TenantKey(catalog_.tenants()[tenant].name), std::move(node)};
}

VaultFs::Child VaultFs::TypeChild(uint32_t tenant, const std::string& type) const {
  auto node = std::make_shared<Node>();
  node->kind = NodeKind::kType;
  node->tenant = tenant;
  node->type = type;
  return {TypeKey(catalog_.tenants()[tenant].name, type), std::move(node)};
}

VaultFs::Child VaultFs::LatestChild(const TypeView& type) const {
  auto node = std::make_shared<Node>();
  node->kind = NodeKind::kLatest;
  node->tenant = type.latest->tenant;
  node->type = type.type;
  node->snapshot = type.latest;
  return {LatestKey(type.latest->tenant_name, type.type, type.latest->info.id), std::move(node)};
}

VaultFs::Child VaultFs::SnapshotChild(const std::shared_ptr<const MountedSnapshot>& snapshot) const {
  auto node = std::make_shared<Node>();
  node->kind = NodeKind::kSnapshot;
  node->tenant = snapshot->tenant;
  node->type = snapshot->type;
  node->snapshot = snapshot;
  node->entry = std::shared_ptr<const TreeEntry>(snapshot, &snapshot->root_entry);
  return {SnapshotKey(snapshot->tenant_name, snapshot->info.id), std::move(node)};
}

VaultFs::Child VaultFs::EntryChild(const Node& parent, const std::shared_ptr<const Tree>& tree, size_t index) const {
  auto node = std::make_shared<Node>();
  node->kind = NodeKind::kEntry;
  node->tenant = parent.tenant;
  node->type = parent.type;
  node->snapshot = parent.snapshot;
  node->entry = std::shared_ptr<const TreeEntry>(tree, &tree->entries[index]);
  const std::string& name = tree->entries[index].name;
  node->path = parent.path.empty() ? name : parent.path + "/" + name;
  std::string key = EntryKey(parent.snapshot->tenant_name, parent.snapshot->info.id, node->path);
  return {std::move(key), std::move(node)};
}

Result<std::shared_ptr<const Tree>> VaultFs::LoadListing(const Node& dir) {
  Result<std::shared_ptr<const Tree>> tree = dir.snapshot->reader->repository().LoadTree(dir.entry->subtree);
  if (!tree.ok()) {
    log_.Error("cannot list directory: " + Describe(dir) + ": " + tree.status().ToString());
  }
  return tree;
}

Result<VaultFs::Child> VaultFs::FindChild(const Node& parent, std::string_view name) {
  switch (parent.kind) {
    case NodeKind::kRoot: {
      int t = catalog_.FindTenant(name);
      if (t < 0) return Status::NotFound("no tenant " + std::string(name));
      return TenantChild(static_cast<uint32_t>(t));
    }
    case NodeKind::kTenant: {
      M365_ASSIGN_OR_RETURN(std::shared_ptr<const TenantView> view, catalog_.View(parent.tenant));
      const TypeView* tv = view->Find(name);
      if (!tv) return Status::NotFound("no type " + std::string(name));
      return TypeChild(parent.tenant, tv->type);
    }
    case NodeKind::kType: {
      M365_ASSIGN_OR_RETURN(std::shared_ptr<const TenantView> view, catalog_.View(parent.tenant));
      const TypeView* tv = view->Find(parent.type);
      if (!tv) return Status::NotFound("type " + parent.type + " has no snapshots");
      if (name == kLatestName) return LatestChild(*tv);
      std::shared_ptr<const MountedSnapshot> s = tv->Find(name);
      if (!s) return Status::NotFound("no snapshot " + std::string(name));
      return SnapshotChild(s);
    }
    case NodeKind::kLatest:
      return Status::InvalidArgument("not a directory");
    case NodeKind::kSnapshot:
    case NodeKind::kEntry: {
      if (!parent.is_directory()) return Status::InvalidArgument("not a directory");
      M365_ASSIGN_OR_RETURN(std::shared_ptr<const Tree> tree, LoadListing(parent));
      const TreeEntry* e = tree->Find(name);
      if (!e) return Status::NotFound(std::string(name));
      return EntryChild(parent, tree, static_cast<size_t>(e - tree->entries.data()));
    }
  }
  return Status::InvalidArgument("bad node");
}

double VaultFs::ChildEntryTimeout(const Node& parent) const {
  bool stable = parent.kind == NodeKind::kSnapshot || parent.kind == NodeKind::kEntry;
  return stable ? options_.immutable_timeout : options_.refresh_interval.count() / 1000.0;
}

double VaultFs::AttrTimeout(const Node& node) const {
  return node.immutable() ? options_.immutable_timeout : options_.refresh_interval.count() / 1000.0;
}

EntryInfo VaultFs::Remember(const Node& parent, Child child) {
  EntryInfo e;
  const Node& node = *child.node;
  e.ino = inodes_.Remember(child.key, child.node);
  e.attr = Attr(node, e.ino);
  e.entry_timeout = ChildEntryTimeout(parent);
  e.attr_timeout = AttrTimeout(node);
  return e;
}

Result<EntryInfo> VaultFs::Lookup(Ino parent_ino, std::string_view name) {
  std::shared_ptr<const Node> parent = NodeOf(parent_ino);
  if (!parent->is_directory()) return Status::InvalidArgument("not a directory");
  Result<Child> child = FindChild(*parent, name);
  if (!child.ok()) {
    if (!child.status().IsNotFound()) return child.status();
    EntryInfo negative;  // ino 0: the kernel caches the miss
    negative.entry_timeout = ChildEntryTimeout(*parent);
    return negative;
  }
  return Remember(*parent, std::move(child).value());
}

void VaultFs::Forget(Ino ino, uint64_t nlookup) { inodes_.Forget(ino, nlookup); }

// --- attributes ----------------------------------------------------------

struct stat VaultFs::Attr(const Node& node, Ino ino) {
  struct stat st {};
  st.st_ino = ino;
  st.st_uid = options_.uid;
  st.st_gid = options_.gid;
  st.st_nlink = 1;  // directories too: "unknown", so find(1) does no leaf optimisation
  st.st_blksize = 128 * 1024;
  int64_t time_ns = mount_time_ns_;
  switch (node.kind) {
    case NodeKind::kRoot:
    case NodeKind::kTenant:
    case NodeKind::kType:
      st.st_mode = S_IFDIR | 0555;
      if (node.kind != NodeKind::kRoot) {
        // The newest snapshot time, so `ls -lt` shows the tenant/type that
        // changed last. Served from the cached view; no refresh error here.
        Result<std::shared_ptr<const TenantView>> view = catalog_.View(node.tenant);
        if (view.ok()) {
          if (node.kind == NodeKind::kTenant && (*view)->newest_ns) time_ns = (*view)->newest_ns;
          const TypeView* tv = node.kind == NodeKind::kType ? (*view)->Find(node.type) : nullptr;
          if (tv) time_ns = tv->latest->info.time_ns;
        }
      }
      break;
    case NodeKind::kLatest:
      st.st_mode = S_IFLNK | 0777;
      st.st_size = static_cast<off_t>(node.snapshot->dir_name.size());
      time_ns = node.snapshot->info.time_ns;
      break;
    case NodeKind::kSnapshot:
    case NodeKind::kEntry: {
      const TreeEntry& e = *node.entry;
      // Graph gives some containers (mail folders) no time: show the
      // snapshot's rather than 1970.
      time_ns = e.mtime_ns != 0 ? e.mtime_ns : node.snapshot->info.time_ns;
      switch (e.kind) {
        case EntryKind::kDirectory:
          st.st_mode = S_IFDIR | 0555;
          break;
        case EntryKind::kFile:
          st.st_mode = S_IFREG | 0444 | (e.mode & 0111);
          st.st_size = static_cast<off_t>(e.size);
          break;
        case EntryKind::kSymlink:
          st.st_mode = S_IFLNK | 0777;
          st.st_size = static_cast<off_t>(e.link_target.size());
          break;
      }
      break;
    }
  }
  st.st_blocks = (st.st_size + 511) / 512;
  SetTime(&st, time_ns);
  return st;
}

Result<AttrInfo> VaultFs::GetAttr(Ino ino) {
  std::shared_ptr<const Node> node = NodeOf(ino);
  AttrInfo a;
  a.attr = Attr(*node, ino);
  a.timeout = AttrTimeout(*node);
  return a;
}

Result<std::string> VaultFs::ReadLink(Ino ino) {
  std::shared_ptr<const Node> node = NodeOf(ino);
  if (node->kind == NodeKind::kLatest) return node->snapshot->dir_name;
  if (node->kind == NodeKind::kEntry && node->entry->kind == EntryKind::kSymlink) return node->entry->link_target;
  return Status::InvalidArgument("not a symlink");
}

// --- files ---------------------------------------------------------------

Result<std::unique_ptr<FileHandle>> VaultFs::Open(Ino ino) {
  std::shared_ptr<const Node> node = NodeOf(ino);
  if (node->kind != NodeKind::kEntry || node->entry->kind != EntryKind::kFile) {
    return Status::InvalidArgument("not a regular file");
  }
  auto handle = std::make_unique<FileHandle>();
  handle->node = std::move(node);
  return handle;
}

Result<size_t> VaultFs::Read(const FileHandle& file, uint64_t offset, std::span<uint8_t> out) {
  const Node& node = *file.node;
  const TreeEntry& entry = *node.entry;
  if (offset >= entry.size) return size_t{0};
  if (out.size() > entry.size - offset) out = out.first(entry.size - offset);
  Result<size_t> n = node.snapshot->reader->Read(entry, offset, out);
  if (!n.ok()) {
    log_.Error("read failed: " + Describe(node) + ", offset " + std::to_string(offset) + ": " +
               n.status().ToString());
    return n;
  }
  if (*n != out.size()) {
    // The tree promised more bytes than the chunks hold: never hand out a
    // short read that looks like the end of a good file.
    Status st = Status::Corruption("file content is shorter than its size");
    log_.Error("read failed: " + Describe(node) + ", offset " + std::to_string(offset) + ": " + st.ToString());
    return st;
  }
  return n;
}

// --- extended attributes ---------------------------------------------------

Result<std::vector<std::pair<std::string, std::string>>> VaultFs::Xattrs(Ino ino) {
  std::shared_ptr<const Node> node = NodeOf(ino);
  std::vector<std::pair<std::string, std::string>> out;
  if (node->kind == NodeKind::kSnapshot) {
    const SnapshotInfo& info = node->snapshot->info;
    const std::string p = "user.m365.snapshot.";
    out.emplace_back(p + "id", info.id);
    out.emplace_back(p + "time", SnapshotTimeName(info.time_ns));
    out.emplace_back(p + "type", node->snapshot->type);
    out.emplace_back(p + "tenant", node->snapshot->tenant_name);
    out.emplace_back(p + "partial", info.partial ? "true" : "false");
    if (!info.job_id.empty()) out.emplace_back(p + "job", info.job_id);
    if (!info.parent.empty()) out.emplace_back(p + "parent", info.parent);
    if (!info.failed.empty()) out.emplace_back(p + "failed", std::to_string(info.failed.size()));
  } else if (node->kind == NodeKind::kEntry) {
    for (const auto& [key, value] : node->entry->metadata) out.emplace_back("user." + key, value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::optional<std::string>> VaultFs::GetXattr(Ino ino, std::string_view name) {
  std::shared_ptr<const Node> node = NodeOf(ino);
  if (node->kind == NodeKind::kEntry) {
    // Fast path: no list built for the common security.* probes.
    if (name.substr(0, 5) != "user.") return std::optional<std::string>();
    auto it = node->entry->metadata.find(std::string(name.substr(5)));
    if (it == node->entry->metadata.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  M365_ASSIGN_OR_RETURN(auto all, Xattrs(ino));
  for (auto& [key, value] : all) {
    if (key == name) return std::optional<std::string>(std::move(value));
  }
  return std::optional<std::string>();
}

}  // namespace m365vault::fs
