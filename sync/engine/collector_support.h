// sync/engine/collector_support.h
//
// Small helpers shared by the object types (exchange, onedrive): JSON field
// access that repairs invalid UTF-8, the request options every mailbox
// request carries, and snapshot-path helpers.
//
// Thread safety: free functions.
#pragma once

#include <functional>
#include <optional>
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

// Every item of a paged collection (no request options), as `parse` makes it;
// items it gives nullopt for are left out. The first failed page fails it.
template <typename T>
Result<std::vector<T>> ListAll(GraphClient& client, const std::string& path,
                               const std::function<std::optional<T>(const nlohmann::json&)>& parse) {
  std::vector<T> out;
  auto paged = client.ForEachPage(path, {}, [&](const nlohmann::json& page) -> Status {
    for (const auto& item : page.value("value", nlohmann::json::array())) {
      if (std::optional<T> v = parse(item)) out.push_back(std::move(*v));
    }
    return Status::OK();
  });
  if (!paged.ok()) return paged.status();
  return out;
}
// Creates `path` as a directory when it does not exist yet.
Status EnsureDirectory(SnapshotWriter& writer, const std::string& path, const EntryAttributes& attrs = {});
// A failure of an object or container as a job event; `level` is
// kLevelTop (the whole mailbox / OneDrive) or kLevelContainer (backend/snapshot.h).
FailedItem ObjectFailure(const std::string& object, const Status& st, const GraphError& err, const char* level);

}  // namespace m365vault::sync
