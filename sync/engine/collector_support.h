// sync/engine/collector_support.h
//
// Small helpers shared by the object types (exchange, onedrive): JSON field
// access that repairs invalid UTF-8, the request options every mailbox
// request carries, and snapshot-path helpers.
//
// Thread safety: free functions.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "backend/snapshot.h"
#include "backend/snapshot_writer.h"
#include "sync/engine/collectors.h"
#include "sync/graph/graph_client.h"
#include "sync/graph/graph_error.h"

namespace m365vault::sync {

// A string field of a Graph object, or "" (repaired to valid UTF-8).
std::string JsonString(const nlohmann::json& j, const char* key);
// Prefer: odata.maxpagesize and IdType="ImmutableId"; concurrency key = mailbox.
RequestOptions MailboxRequest(const UserInfo& user);
// "/users/<encoded id>"
std::string UserPath(const UserInfo& user);
// The start of every ItemTraits::Parse: the item's id, and kRemove when
// Graph marks it deleted (`removed_marker`: "@removed" in Outlook deltas,
// "deleted" in drive deltas), else kUpsert.
ItemChange ParseIdentity(const nlohmann::json& item, const char* removed_marker);
// Runs fn(i) for i in [0, n) on up to `threads` threads; the first error wins
// and stops the remaining work.
Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn);
// Creates `path` as a directory when it does not exist yet.
Status EnsureDirectory(SnapshotWriter& writer, const std::string& path, const EntryAttributes& attrs = {});
// A failure of an object or container as a job event; `level` is
// kLevelTop (the whole mailbox / OneDrive) or kLevelContainer (backend/snapshot.h).
FailedItem ObjectFailure(const std::string& object, const Status& st, const GraphError& err, const char* level);

}  // namespace m365vault::sync
