// backend/maintenance_prune.cpp
//
// Order of steps (each one durable before the next), see maintenance.h:
//   1. forget: remove the chosen manifests
//   2. mark: walk every remaining manifest's trees
//   3. repack: live blobs of mostly-dead packs into new packs (+ their index)
//   4. write one index covering every live blob
//   5. remove all older index files
//   6. remove dead, repacked and unreferenced packs
#include <map>
#include <unordered_set>

#include "backend/maintenance.h"
#include "backend/meta_blob.h"
#include "backend/repository_internals.h"
#include "backend/tree_walk.h"

namespace m365vault {
namespace {

struct PackUse {
  uint64_t total = 0, live = 0;
  std::vector<format::PackEntry> live_entries;
};

// Marks tree `tree_id` and everything under it. A split tree's parts are
// marked too, and a part already marked (shared with a snapshot marked
// before) is not read again: its entries were marked with it.
Status Mark(Repository& repo, const BlobId& tree_id, std::unordered_set<BlobId, BlobIdHash>* live) {
  if (!live->insert(tree_id).second) return Status::OK();
  TreeWalkHooks hooks;
  hooks.on_part = [&](const TreePart& part) { return live->insert(part.id).second; };
  return ForEachDecodedTreeEntry(repo, tree_id, hooks, [&](TreeEntry& e) {
    if (e.kind == EntryKind::kDirectory) return Mark(repo, e.subtree, live);
    for (const ChunkRef& c : e.chunks) live->insert(c.id);
    return Status::OK();
  });
}

}  // namespace

Result<PruneReport> Prune(Repository& repo, const PruneOptions& opts) {
  auto progress = [&](const std::string& s) {
    if (opts.progress) opts.progress(s);
  };
  Repository::Internals& in = repo.internals();
  M365_ASSIGN_OR_RETURN(std::unique_ptr<RepositoryLock> lock, repo.Lock(LockMode::kExclusive, "prune"));
  PruneReport report;

  // 1. forget
  for (const std::string& id : opts.forget) {
    M365_RETURN_IF_ERROR(repo.LoadSnapshot(id).status());
    if (!opts.dry_run) M365_RETURN_IF_ERROR(repo.RemoveSnapshot(id));
    ++report.snapshots_forgotten;
  }

  // 2. mark. Every manifest must load: one we cannot read could reference
  // anything, so pruning around it could destroy its data.
  M365_RETURN_IF_ERROR(in.SyncIndex());
  M365_ASSIGN_OR_RETURN(std::vector<ObjectInfo> manifests, repo.storage().List("snapshots/"));
  std::set<std::string> forgotten(opts.forget.begin(), opts.forget.end());
  std::unordered_set<BlobId, BlobIdHash> live;
  for (const ObjectInfo& f : manifests) {
    std::string id = f.name.substr(10);
    if (forgotten.count(id)) continue;
    auto info = repo.LoadSnapshot(id);
    if (!info.ok()) {
      return info.status().WithContext("prune stopped: cannot read every snapshot, so cannot know what is garbage");
    }
    progress("marking snapshot " + id.substr(0, 8));
    M365_RETURN_IF_ERROR(Mark(repo, info->root, &live).WithContext("marking snapshot " + id));
    if (!info->sync_state.IsZero()) {
      // The state's blobs name the blobs they refer to (meta_blob.h). One
      // that is gone already takes nothing else with it: its references are
      // unreachable, and the next backup of that object starts afresh.
      ForEachMetaReference(
          repo, info->sync_state, [&](const BlobId& b, bool) { return live.insert(b).second; },
          [&](const BlobId& b, const Status& error) {
            progress("sync state of snapshot " + id.substr(0, 8) + ": blob " + b.Short() + ": " + error.ToString());
          });
    }
  }

  // Usage per pack.
  std::map<BlobId, PackUse> use;
  uint64_t indexed = 0;
  M365_RETURN_IF_ERROR(in.index().ForEach([&](const format::PackEntry& e) {
    ++indexed;
    PackUse& u = use[e.loc.pack];
    u.total += e.loc.length;
    if (live.count(e.id)) {
      u.live += e.loc.length;
      u.live_entries.push_back(e);
    }
    return Status::OK();
  }));
  M365_ASSIGN_OR_RETURN(std::vector<ObjectInfo> pack_files, repo.storage().List("data/"));
  std::vector<std::string> to_delete;
  std::vector<format::PackEntry> keep_entries;
  std::vector<format::PackEntry> to_repack;
  for (const ObjectInfo& f : pack_files) {
    report.bytes_before += f.size;
    BlobId pack;
    if (!format::ParsePackName(f.name, &pack)) continue;
    auto it = use.find(pack);
    if (it == use.end() || it->second.live == 0) {
      to_delete.push_back(f.name);
      ++report.packs_deleted;
    } else if (double(it->second.live) < opts.repack_threshold * double(it->second.total)) {
      to_delete.push_back(f.name);
      to_repack.insert(to_repack.end(), it->second.live_entries.begin(), it->second.live_entries.end());
      ++report.packs_repacked;
    } else {
      keep_entries.insert(keep_entries.end(), it->second.live_entries.begin(), it->second.live_entries.end());
      ++report.packs_kept;
    }
  }
  report.blobs_live = keep_entries.size() + to_repack.size();
  report.blobs_removed = indexed - report.blobs_live;
  if (opts.dry_run) return report;

  // 3. repack (the pack writer may write index files already while it runs)
  std::vector<std::string> before = in.WrittenIndexFiles();
  size_t n = 0;
  for (const format::PackEntry& e : to_repack) {
    if (++n % 256 == 0) progress("repacking " + std::to_string(n) + "/" + std::to_string(to_repack.size()));
    M365_ASSIGN_OR_RETURN(Bytes plain, repo.LoadBlob(e.loc.type, e.id));
    M365_RETURN_IF_ERROR(in.ResaveBlob(e.loc.type, e.id, plain));
  }
  M365_RETURN_IF_ERROR(repo.Flush());
  std::vector<std::string> after = in.WrittenIndexFiles();
  std::set<std::string> repack_index(after.begin() + before.size(), after.end());

  // 4. one index for everything live: kept packs' entries plus the new
  // locations of repacked blobs (read back from the repack's index files).
  std::vector<format::PackEntry> all = keep_entries;
  for (const std::string& name : repack_index) {
    M365_ASSIGN_OR_RETURN(Bytes file, repo.storage().Read(name));
    M365_ASSIGN_OR_RETURN(Bytes plain, format::OpenFile(in.keys(), format::FileKind::kIndex, file, name));
    M365_ASSIGN_OR_RETURN(std::vector<format::PackEntry> entries, format::DecodeIndex(plain));
    all.insert(all.end(), entries.begin(), entries.end());
  }
  M365_ASSIGN_OR_RETURN(std::vector<ObjectInfo> old_index, repo.storage().List("index/"));
  std::string new_index;
  if (!all.empty()) {
    Bytes file = format::SealFile(in.keys(), format::FileKind::kIndex, format::EncodeIndex(all));
    new_index = format::ContentName("index", file);
    M365_RETURN_IF_ERROR(repo.storage().Write(new_index, file));
  }
  // 5. old index files
  for (const ObjectInfo& f : old_index) {
    if (f.name != new_index) M365_RETURN_IF_ERROR(repo.storage().Remove(f.name));
  }
  // 6. packs
  for (size_t i = 0; i < to_delete.size(); ++i) {
    if (i % 64 == 0) progress("removing packs " + std::to_string(i) + "/" + std::to_string(to_delete.size()));
    M365_RETURN_IF_ERROR(repo.storage().Remove(to_delete[i]));
  }
  M365_RETURN_IF_ERROR(in.SyncIndex());
  // 7. what killed writers left (no one writes under the exclusive lock)
  M365_ASSIGN_OR_RETURN(report.unfinished_bytes_removed, repo.storage().RemoveUnfinished());
  M365_ASSIGN_OR_RETURN(std::vector<ObjectInfo> final_packs, repo.storage().List("data/"));
  for (const ObjectInfo& f : final_packs) report.bytes_after += f.size;
  return report;
}

}  // namespace m365vault
