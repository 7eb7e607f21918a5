// fs/snapshot_names.h
//
// Names of the synthetic directories above a snapshot's own tree:
//   /<tenant>/<type>/{latest, 2026-11-24T060000Z, 2026-11-24T060000Z-2, ...}
//
// A snapshot's directory is SnapshotTimeName(time_ns). Snapshots of one type
// that fall in the same second are ordered by (time_ns, id); the first keeps
// the plain name and the later ones get "-2", "-3", ... . Because a new backup
// starts later than every existing one, adding a snapshot never renames an
// existing directory.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backend/snapshot.h"

namespace m365vault::fs {

// The name of the symlink to the newest snapshot of a type.
inline constexpr std::string_view kLatestName = "latest";

// The <type> directory of a snapshot: its object_type, "files" when empty.
std::string TypeDirName(const SnapshotInfo& info);

// Orders `snapshots` (all of one type) by (time_ns, id) and returns the
// directory name of each, in that order. `snapshots` is sorted in place.
std::vector<std::string> AssignSnapshotDirNames(std::vector<const SnapshotInfo*>& snapshots);

// True when `name` is usable as a directory name in the mount (non-empty,
// not "." or "..", no '/' or NUL, at most 255 bytes).
bool IsUsableName(std::string_view name);

}  // namespace m365vault::fs
