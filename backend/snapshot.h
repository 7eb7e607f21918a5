// backend/snapshot.h
//
// SnapshotInfo: the manifest of one snapshot — one backup run of one object
// type of one tenant. The manifest is the commit point: it is written last,
// after every pack and index file it depends on, so a snapshot either exists
// whole or not at all. Stored sealed under `snapshots/<id>` (docs/format.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "backend/blob_id.h"
#include "backend/bytes.h"
#include "backend/status.h"

namespace m365vault {

// An item the run could not back up (retried next run).
struct FailedItem {
  std::string object;  // "alice@contoso.com/Mail/Inbox/<id>"
  std::string code;    // Graph error code, e.g. "ErrorItemNotFound"
  std::string reason;  // what happened
  std::string hint;    // what the admin can do
  std::string level;   // kLevelTop, kLevelContainer or kLevelContent ("" = unknown)
};

// Levels of a failure, for the warnings' thresholds: a whole object (a
// mailbox, a user's OneDrive), a container below it (a folder, a calendar, a
// drive's round), or one item.
inline constexpr char kLevelTop[] = "top";
inline constexpr char kLevelContainer[] = "container";
inline constexpr char kLevelContent[] = "content";

struct SnapshotInfo {
  std::string id;           // 32 hex characters; assigned when saved
  std::string tenant;       // tenant name
  std::string object_type;  // "exchange", "onedrive", ... ("" in plain store use)
  int64_t time_ns = 0;      // start of the run, ns since the epoch, UTC
  BlobId root;              // root tree blob
  std::string parent;       // id of the snapshot it was written from, or ""
  std::string job_id;
  bool partial = false;
  std::vector<FailedItem> failed;
  std::map<std::string, uint64_t> stats;  // "files", "bytes", "new_bytes", ...
  BlobId sync_state;        // kMeta blob with the collector's delta state; zero if none
  std::map<std::string, std::string> tags;
};

// JSON encoding of the manifest plaintext (sealed by the repository).
Bytes EncodeSnapshot(const SnapshotInfo& info);
Result<SnapshotInfo> DecodeSnapshot(ByteView data);

// "2026-11-24T060000Z": sortable, no colons; the snapshot's directory name.
std::string SnapshotTimeName(int64_t time_ns);

}  // namespace m365vault
