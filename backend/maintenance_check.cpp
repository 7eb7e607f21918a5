// backend/maintenance_check.cpp
#include <map>
#include <unordered_set>

#include "backend/maintenance.h"
#include "backend/meta_blob.h"
#include "backend/repository_internals.h"
#include "backend/tree_walk.h"

namespace m365vault {
namespace {

struct Checker {
  Repository& repo;
  Repository::Internals& in;
  const CheckOptions& opts;
  CheckReport report;
  std::unordered_set<BlobId, BlobIdHash> trees_seen;
  std::unordered_set<BlobId, BlobIdHash> meta_seen;

  void Error(std::string msg) { report.errors.push_back(std::move(msg)); }
  void Progress(const std::string& line) {
    if (opts.progress) opts.progress(line);
  }

  bool Indexed(const BlobId& id) {
    auto loc = in.index().Find(id);
    return loc.ok() && loc->has_value();
  }

  // One directory: its blob, or a split tree's index and every part (each
  // counted once, and checked against every index that names it).
  void WalkTree(const BlobId& id, const std::string& where) {
    if (!trees_seen.insert(id).second) return;
    ++report.trees;
    TreeWalkHooks hooks;
    hooks.on_part = [&](const TreePart& part) {
      if (trees_seen.insert(part.id).second) ++report.trees;
      return true;
    };
    Status st = ForEachDecodedTreeEntry(repo, id, hooks, [&](TreeEntry& e) {
      std::string path = where + "/" + e.name;
      if (e.kind == EntryKind::kDirectory) {
        WalkTree(e.subtree, path);
      } else if (e.kind == EntryKind::kFile) {
        for (const ChunkRef& c : e.chunks) {
          ++report.data_blobs;
          if (!Indexed(c.id)) Error("chunk " + c.id.Short() + " of " + path + " is not in the index");
        }
      }
      return Status::OK();
    });
    // "directory 1a2b3c4d/Inbox: Corruption: tree 5e6f...: part 2 of 9 (...): missing: ..."
    if (!st.ok()) Error("directory " + where + ": " + st.ToString());
  }

  // Every blob the snapshot's sync state names is indexed, and its meta blobs decode.
  void CheckSyncState(const BlobId& root, const std::string& snapshot) {
    const std::string where = "sync state of snapshot " + snapshot.substr(0, 8);
    ForEachMetaReference(
        repo, root,
        [&](const BlobId& b, bool) {
          if (!meta_seen.insert(b).second) return false;
          if (!Indexed(b)) Error(where + ": blob " + b.Short() + " is not in the index");
          return true;
        },
        [&](const BlobId& b, const Status& error) {
          if (Indexed(b)) Error(where + ": blob " + b.Short() + ": " + error.ToString());
        });
  }

  void CheckSnapshots() {
    auto files = repo.storage().List("snapshots/");
    if (!files.ok()) return Error("cannot list snapshots: " + files.status().ToString());
    for (const ObjectInfo& f : *files) {
      std::string id = f.name.substr(10);
      auto info = repo.LoadSnapshot(id);
      if (!info.ok()) {
        Error(info.status().ToString());
        continue;
      }
      ++report.snapshots;
      Progress("snapshot " + id.substr(0, 8));
      WalkTree(info->root, id.substr(0, 8));
      if (!info->sync_state.IsZero()) CheckSyncState(info->sync_state, id);
    }
  }

  void CheckPacks() {
    std::map<BlobId, std::vector<format::PackEntry>> by_pack;
    Status st = in.index().ForEach([&](const format::PackEntry& e) {
      by_pack[e.loc.pack].push_back(e);
      return Status::OK();
    });
    if (!st.ok()) return Error("cannot read the index: " + st.ToString());
    auto files = repo.storage().List("data/");
    if (!files.ok()) return Error("cannot list packs: " + files.status().ToString());
    std::map<BlobId, uint64_t> present;
    for (const ObjectInfo& f : *files) {
      BlobId id;
      if (!format::ParsePackName(f.name, &id)) {
        Error("unexpected file " + f.name);
        continue;
      }
      present[id] = f.size;
    }
    for (const auto& [pack, entries] : by_pack) {
      if (!present.count(pack)) Error("pack " + pack.Short() + " is missing (" + std::to_string(entries.size()) + " blobs)");
    }
    size_t n = 0;
    for (const auto& [pack, size] : present) {
      ++n;
      ++report.packs;
      if (n % 16 == 0) Progress("packs " + std::to_string(n) + "/" + std::to_string(present.size()));
      auto indexed = by_pack.find(pack);
      if (indexed == by_pack.end()) continue;  // unreferenced (a crashed run's); prune removes it
      CheckPack(pack, indexed->second);
    }
  }

  void CheckPack(const BlobId& pack, const std::vector<format::PackEntry>& indexed) {
    std::string name = format::PackName(pack);
    auto data = repo.storage().Read(name);
    if (!data.ok()) return Error("pack " + pack.Short() + ": " + data.status().ToString());
    report.bytes_read += data->size();
    auto trailer = format::ParseTrailer(in.keys(), pack, *data);
    if (!trailer.ok()) return Error(trailer.status().ToString());
    std::map<BlobId, format::BlobLocation> in_trailer;
    std::map<uint64_t, uint64_t> extents;  // offset -> length
    for (const auto& e : *trailer) {
      in_trailer[e.id] = e.loc;
      extents[e.loc.offset] = e.loc.length;
    }
    // The blobs must tile the pack from the header to the trailer: no byte
    // unaccounted for (a truncated or padded pack).
    uint64_t trailer_len = LoadU32(data->data() + data->size() - 4);
    uint64_t pos = format::kHeaderSize;
    for (const auto& [off, len] : extents) {
      if (off != pos) break;
      pos += len;
    }
    if (pos + trailer_len + 4 != data->size()) Error("pack " + pack.Short() + " has bytes no blob accounts for");
    for (const auto& e : indexed) {
      auto t = in_trailer.find(e.id);
      if (t == in_trailer.end() || t->second.offset != e.loc.offset || t->second.length != e.loc.length ||
          t->second.type != e.loc.type) {
        Error("index entry for blob " + e.id.Short() + " disagrees with pack " + pack.Short());
      }
    }
    if (!opts.read_data) return;
    for (const auto& e : *trailer) {
      if (uint64_t(e.loc.offset) + e.loc.length > data->size()) {
        Error("blob " + e.id.Short() + " lies outside pack " + pack.Short());
        continue;
      }
      ByteView sealed(data->data() + e.loc.offset, e.loc.length);
      auto plain = format::OpenBlob(in.keys(), e.loc.type, e.id, sealed);
      if (!plain.ok()) Error(plain.status().WithContext("pack " + pack.Short()).ToString());
    }
  }
};

}  // namespace

Result<CheckReport> Check(Repository& repo, const CheckOptions& options) {
  M365_ASSIGN_OR_RETURN(std::unique_ptr<RepositoryLock> lock, repo.Lock(LockMode::kShared, "check"));
  M365_RETURN_IF_ERROR(repo.internals().SyncIndex());
  Checker c{repo, repo.internals(), options, {}, {}, {}};
  c.CheckPacks();
  c.CheckSnapshots();
  return c.report;
}

}  // namespace m365vault
