// backend/tree_walk.h
//
// Reading a directory whatever its tree format: a version-1 blob, or a split
// tree (version 2) whose index names parts, loaded one at a time. Each part
// is checked against the index as it loads (docs/format.md, "Split trees"):
// a part that is missing, is itself an index, or whose count, first name or
// name range disagrees with the index is Corruption, with the directory's id
// and the part (its number, id and first name) in the message.
//
// Thread safety: as the Repository's (any thread); callbacks run on the
// calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "backend/repository.h"
#include "backend/tree.h"

namespace m365vault {

struct TreeWalkHooks {
  // The directory's entry count, before any entry: a version-1 blob's count,
  // or the sum of the index's part counts (each checked as its part loads).
  std::function<void(uint64_t count)> on_count;
  // Split trees only: each part, in order, before it is loaded. Returning
  // false skips the part: it is neither loaded nor checked, and its entries
  // are not reported (prune skips the parts it has already marked).
  std::function<bool(const TreePart& part)> on_part;
};

// on_entry(name, body) for every entry of the directory whose tree blob is
// `tree`, in name order; the views are valid during the call only. A non-OK
// Status from on_entry stops the walk and is returned unchanged; every
// other error starts with "tree <id>: ".
using TreeEntryVisitor = std::function<Status(std::string_view name, ByteView body)>;
Status ForEachTreeEntry(Repository& repo, const BlobId& tree, const TreeWalkHooks& hooks,
                        const TreeEntryVisitor& on_entry);
inline Status ForEachTreeEntry(Repository& repo, const BlobId& tree, const TreeEntryVisitor& on_entry) {
  return ForEachTreeEntry(repo, tree, TreeWalkHooks{}, on_entry);
}

// As ForEachTreeEntry, handing each entry decoded (on_entry may move from
// it); each entry is parsed once. For walks that need every field (check,
// prune).
Status ForEachDecodedTreeEntry(Repository& repo, const BlobId& tree, const TreeWalkHooks& hooks,
                               const std::function<Status(TreeEntry& entry)>& on_entry);

// The whole listing of the split tree `id`, whose index blob is `index`: its
// parts loaded (not through the tree cache) and checked one at a time, their
// entries concatenated. Repository::LoadTree's loader for version 2.
Result<Tree> LoadSplitTree(Repository& repo, const BlobId& id, ByteView index);

}  // namespace m365vault
