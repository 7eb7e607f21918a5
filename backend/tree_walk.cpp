// backend/tree_walk.cpp
#include "backend/tree_walk.h"

#include <algorithm>
#include <string>

namespace m365vault {
namespace {

// "part 3 of 12 (1a2b3c4d, from "Inbox")"
std::string PartName(const std::vector<TreePart>& parts, size_t i) {
  return "part " + std::to_string(i + 1) + " of " + std::to_string(parts.size()) + " (" + parts[i].id.Short() +
         ", from \"" + parts[i].first + "\")";
}

// Part i's blob. A part the repository lacks is Corruption (the directory is
// damaged), not NotFound; a part that is an index is Corruption. Errors do
// not name the part: callers add PartName.
Result<Bytes> LoadPart(Repository& repo, const TreePart& part) {
  Result<Bytes> blob = repo.LoadBlob(BlobType::kTree, part.id);
  if (!blob.ok()) {
    if (blob.status().IsNotFound()) return Status::Corruption("missing: " + blob.status().message());
    return blob.status();
  }
  if (IsTreeIndex(*blob)) return Status::Corruption("is itself an index (parts never nest)");
  return blob;
}

// The checks of part i against the index that the order of its own entries
// does not make: its count, its first name, and that all its names come
// before the next part's first one (so parts are disjoint and in order).
Status CheckCount(const std::vector<TreePart>& parts, size_t i, uint64_t count) {
  if (count == parts[i].count) return Status::OK();
  return Status::Corruption("holds " + std::to_string(count) + " entries, the index says " +
                            std::to_string(parts[i].count));
}
Status CheckFirst(const std::vector<TreePart>& parts, size_t i, std::string_view first) {
  if (first == parts[i].first) return Status::OK();
  return Status::Corruption("starts at \"" + std::string(first) + "\", not at its first name in the index");
}
Status CheckBeforeNext(const std::vector<TreePart>& parts, size_t i, std::string_view name) {
  if (i + 1 == parts.size() || name < parts[i + 1].first) return Status::OK();
  return Status::Corruption("holds \"" + std::string(name) + "\", not before the next part's first name \"" +
                            parts[i + 1].first + "\" (parts out of order or overlapping)");
}

uint64_t TotalCount(const std::vector<TreePart>& parts) {
  uint64_t n = 0;
  for (const TreePart& p : parts) n += p.count;  // DecodeTreeIndex checked it cannot overflow
  return n;
}

using EntryFn = std::function<Status(std::string_view name, ByteView body, TreeEntry& entry)>;

// The walk behind every function here; `data` is the blob of `tree`. Errors
// of on_entry go back as they are; those of the walk name the tree.
Status Walk(Repository& repo, const BlobId& tree, ByteView data, const TreeWalkHooks& hooks, const EntryFn& on_entry) {
  const std::string context = "tree " + tree.Short();
  bool visitor_failed = false;
  auto visit = [&](std::string_view name, ByteView body, TreeEntry& entry) {
    Status st = on_entry(name, body, entry);
    visitor_failed = !st.ok();
    return st;
  };
  if (!IsTreeIndex(data)) {
    Status st = ForEachDecodedEntry(
        data,
        [&](size_t n) {
          if (hooks.on_count) hooks.on_count(n);
        },
        visit);
    return visitor_failed ? st : st.WithContext(context);
  }
  Result<std::vector<TreePart>> decoded = DecodeTreeIndex(data);
  if (!decoded.ok()) return decoded.status().WithContext(context);
  const std::vector<TreePart>& parts = *decoded;
  if (hooks.on_count) hooks.on_count(TotalCount(parts));
  for (size_t i = 0; i < parts.size(); ++i) {
    if (hooks.on_part && !hooks.on_part(parts[i])) continue;
    const std::string part_context = context + ": " + PartName(parts, i);
    Result<Bytes> blob = LoadPart(repo, parts[i]);
    if (!blob.ok()) return blob.status().WithContext(part_context);
    size_t count = 0;
    bool first = true;
    // Every check runs before the entry is reported: on_entry never sees an
    // entry out of order, and sees none of a part whose count is wrong.
    Status st = ForEachDecodedEntry(
        *blob, [&](size_t n) { count = n; },
        [&](std::string_view name, ByteView body, TreeEntry& entry) -> Status {
          if (first) {
            M365_RETURN_IF_ERROR(CheckCount(parts, i, count));
            M365_RETURN_IF_ERROR(CheckFirst(parts, i, name));
            first = false;
          }
          M365_RETURN_IF_ERROR(CheckBeforeNext(parts, i, name));
          return visit(name, body, entry);
        });
    if (st.ok() && first) st = CheckCount(parts, i, count);  // an empty part
    if (!st.ok()) return visitor_failed ? st : st.WithContext(part_context);
  }
  return Status::OK();
}

Result<Bytes> LoadTreeBlob(Repository& repo, const BlobId& tree) {
  Result<Bytes> blob = repo.LoadBlob(BlobType::kTree, tree);
  if (!blob.ok()) return blob.status().WithContext("tree " + tree.Short());
  return blob;
}

}  // namespace

Status ForEachTreeEntry(Repository& repo, const BlobId& tree, const TreeWalkHooks& hooks,
                        const TreeEntryVisitor& on_entry) {
  M365_ASSIGN_OR_RETURN(Bytes data, LoadTreeBlob(repo, tree));
  return Walk(repo, tree, data, hooks,
              [&](std::string_view name, ByteView body, TreeEntry&) { return on_entry(name, body); });
}

Status ForEachDecodedTreeEntry(Repository& repo, const BlobId& tree, const TreeWalkHooks& hooks,
                               const std::function<Status(TreeEntry& entry)>& on_entry) {
  M365_ASSIGN_OR_RETURN(Bytes data, LoadTreeBlob(repo, tree));
  return Walk(repo, tree, data, hooks, [&](std::string_view, ByteView, TreeEntry& entry) { return on_entry(entry); });
}

Result<Tree> LoadSplitTree(Repository& repo, const BlobId& id, ByteView index) {
  Tree tree;
  TreeWalkHooks hooks;
  // The index's claim, checked only as parts load: reserve no more than a
  // modest directory on its word.
  hooks.on_count = [&](uint64_t n) { tree.entries.reserve(std::min<uint64_t>(n, 1 << 16)); };
  M365_RETURN_IF_ERROR(Walk(repo, id, index, hooks, [&](std::string_view, ByteView, TreeEntry& entry) {
    tree.entries.push_back(std::move(entry));
    return Status::OK();
  }));
  return tree;
}

}  // namespace m365vault
