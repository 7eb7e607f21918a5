// sync/engine/collectors.h
//
// The object types m365vault backs up, each a Collector on the generic delta
// engine (sync/engine/delta_engine.h), registered in one list (Collectors()):
//
//   exchange  <upn>/Mail/<folder path>/<YYYY-MM-DD HHMM> <subject> [<short id>].eml
//             every mail folder (hidden included, search folders skipped),
//             per-folder message delta, MIME from /messages/{id}/$value
//             <upn>/Contacts/...vcf, and
//             <upn>/Calendar/<calendar>/<YYYY-MM-DD> <subject> [<short id>].ics
//             (full listing per calendar each run, sync/engine/icalendar.h)
//   onedrive  <upn>/<the drive's own paths>: drive delta tracked by item id
//
// A collector backs up one user (one "object") at a time; users without a
// mailbox / OneDrive are "not applicable", not failures. Collectors never
// page, retry or persist delta links themselves: the engine does.
//
// Thread safety: BackupUser may run for different users on different threads.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/snapshot_writer.h"
#include "sync/engine/delta_engine.h"
#include "sync/graph/graph_client.h"
#include "sync/engine/sync_state.h"

namespace m365vault::sync {

struct UserInfo {
  std::string id;
  std::string upn;
  std::string display_name;
  std::string mail;
};

// Lists /users (paged).
Result<std::vector<UserInfo>> ListUsers(GraphClient& client);

// The snapshot directory name of a user (their UPN, made safe).
std::string UserDirName(const UserInfo& user);

struct CollectorContext {
  GraphClient& client;
  SnapshotWriter& writer;
  SyncStateStore& state;
  SyncCounters& counters;
  // Thread-safe sink for failures (items, folders, mailboxes).
  std::function<void(const FailedItem&)> report;
};

enum class ObjectOutcome {
  kDone,           // everything backed up
  kPartial,        // some items or containers failed (reported)
  kNotApplicable,  // no mailbox / no OneDrive
  kFailed,         // the whole object failed (reported); its state is unchanged
};

class Collector {
 public:
  virtual ~Collector() = default;
  virtual const char* type() const = 0;
  // Backs up one user's data of this type into ctx.writer. A non-OK Status
  // is a store failure that must fail the run.
  virtual Result<ObjectOutcome> BackupUser(CollectorContext& ctx, const UserInfo& user) const = 0;
  // Discovery: does the user have something of this type? NotSupported =
  // not applicable; other errors are failures. On success `web_url` (if not
  // null) receives the object's URL when the type has one (OneDrive: the
  // drive's webUrl), else "".
  virtual Status Probe(GraphClient& client, const UserInfo& user, GraphError* error, std::string* web_url) const = 0;
};

// All collectors, in a fixed order ("exchange", "onedrive").
const std::vector<const Collector*>& Collectors();
// The object types, one file each (exchange_collector.cpp, onedrive_collector.cpp).
const Collector& ExchangeCollectorInstance();
const Collector& OneDriveCollectorInstance();
// nullptr if unknown.
const Collector* FindCollector(const std::string& type);

}  // namespace m365vault::sync
