// fs/vault_fs_dirs.cpp: directory handles for opendir/readdir(plus).
#include "fs/snapshot_names.h"
#include "fs/vault_fs.h"

namespace m365vault::fs {

std::string_view DirHandle::Name(size_t item) const {
  if (item == 0) return ".";
  if (item == 1) return "..";
  return tree ? std::string_view(tree->entries[item - 2].name) : std::string_view(names[item - 2]);
}

mode_t DirHandle::Type(size_t item) const {
  if (item < 2) return S_IFDIR;
  if (tree) {
    switch (tree->entries[item - 2].kind) {
      case EntryKind::kDirectory: return S_IFDIR;
      case EntryKind::kFile: return S_IFREG;
      case EntryKind::kSymlink: return S_IFLNK;
    }
  }
  if (dir->kind == NodeKind::kType && Name(item) == kLatestName) return S_IFLNK;
  return S_IFDIR;
}

Result<std::unique_ptr<DirHandle>> VaultFs::OpenDir(Ino ino) {
  std::shared_ptr<const Node> node = NodeOf(ino);
  if (!node->is_directory()) return Status::InvalidArgument("not a directory");
  auto h = std::make_unique<DirHandle>();
  h->ino = ino;
  h->dir = node;
  switch (node->kind) {
    case NodeKind::kRoot:
      for (const MountedTenant& t : catalog_.tenants()) h->names.push_back(t.name);
      break;
    case NodeKind::kTenant: {
      M365_ASSIGN_OR_RETURN(h->view, catalog_.View(node->tenant));
      for (const TypeView& tv : h->view->types) h->names.push_back(tv.type);
      break;
    }
    case NodeKind::kType: {
      M365_ASSIGN_OR_RETURN(h->view, catalog_.View(node->tenant));
      if (const TypeView* tv = h->view->Find(node->type)) {
        h->names.emplace_back(kLatestName);
        for (const auto& s : tv->snapshots) h->names.push_back(s->dir_name);
      }
      break;
    }
    case NodeKind::kLatest:
      return Status::InvalidArgument("not a directory");
    case NodeKind::kSnapshot:
    case NodeKind::kEntry:
      M365_ASSIGN_OR_RETURN(h->tree, LoadListing(*node));
      break;
  }
  return h;
}

Result<EntryInfo> VaultFs::LookupItem(const DirHandle& dir, size_t item) {
  const Node& parent = *dir.dir;
  if (item < 2 || item >= dir.size()) return Status::InvalidArgument("no such directory item");
  if (dir.tree) return Remember(parent, EntryChild(parent, dir.tree, item - 2));
  const std::string& name = dir.names[item - 2];
  switch (parent.kind) {
    case NodeKind::kRoot:
      return Remember(parent, TenantChild(static_cast<uint32_t>(item - 2)));
    case NodeKind::kTenant:
      return Remember(parent, TypeChild(parent.tenant, name));
    case NodeKind::kType: {
      // Resolve in the view captured at opendir, so the listing and the
      // entries agree even if a refresh happened in between.
      const TypeView* tv = dir.view->Find(parent.type);
      if (!tv) return Status::NotFound(name);
      if (name == kLatestName) return Remember(parent, LatestChild(*tv));
      std::shared_ptr<const MountedSnapshot> s = tv->Find(name);
      if (!s) return Status::NotFound(name);
      return Remember(parent, SnapshotChild(s));
    }
    default:
      return Status::InvalidArgument("not a directory");
  }
}

Ino VaultFs::ItemIno(const DirHandle& dir, size_t item) const {
  if (item == 0) return dir.ino;
  if (item == 1) return kRootIno;  // informational only; the kernel resolves ".." itself
  const Node& parent = *dir.dir;
  if (dir.tree) {
    std::string path = parent.path.empty() ? dir.tree->entries[item - 2].name
                                            : parent.path + "/" + dir.tree->entries[item - 2].name;
    return HashInodeKey(EntryKey(parent.snapshot->tenant_name, parent.snapshot->info.id, path));
  }
  const std::string& name = dir.names[item - 2];
  const std::string& tenant = catalog_.tenants()[parent.kind == NodeKind::kRoot ? item - 2 : parent.tenant].name;
  switch (parent.kind) {
    case NodeKind::kRoot: return HashInodeKey(TenantKey(tenant));
    case NodeKind::kTenant: return HashInodeKey(TypeKey(tenant, name));
    case NodeKind::kType: {
      const TypeView* tv = dir.view->Find(parent.type);
      if (!tv) return dir.ino;
      if (name == kLatestName) return HashInodeKey(LatestKey(tenant, parent.type, tv->latest->info.id));
      std::shared_ptr<const MountedSnapshot> s = tv->Find(name);
      return s ? HashInodeKey(SnapshotKey(tenant, s->info.id)) : dir.ino;
    }
    default: return dir.ino;
  }
}

}  // namespace m365vault::fs
