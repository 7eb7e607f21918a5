// cli/snapshot_select.h
//
// How commands name a snapshot: a unique prefix of its id (4+ hex
// characters), its time name ("2026-11-24T060000Z", as in the mounted tree),
// or "latest" — the newest snapshot of `type`, or of the only type the tenant
// has when `type` is empty.
//
// Thread safety: free functions.
#pragma once

#include <string>
#include <vector>

#include "backend/repository.h"
#include "backend/snapshot.h"

namespace m365vault::cli {

// Picks from `snapshots` (oldest first). NotFound if nothing matches;
// InvalidArgument if the spec is ambiguous or malformed.
Result<SnapshotInfo> SelectSnapshot(const std::vector<SnapshotInfo>& snapshots, const std::string& spec,
                                    const std::string& type);

// Lists the repository's snapshots and selects one.
Result<SnapshotInfo> ResolveSnapshot(Repository& repo, const std::string& spec, const std::string& type);

}  // namespace m365vault::cli
