// sync/engine/departures.h
//
// Users leaving the snapshot. A run's snapshot shows the tenant as that run
// found it (docs/sync.md, "Users who leave"): after a *complete* user
// listing, a user the run does not back up any more is removed from the new
// snapshot, and their sync state (delta links, item maps) is dropped, so
// that a return starts afresh. Older snapshots keep their data until
// retention prunes them. Three reasons:
//
//   kNotInTenant        not in the listing (deleted from the tenant)
//   kExcludedByProfile  listed, but the scan profile does not select them
//   kNotApplicable      selected, but without this type of data any more
//                       (mailbox or OneDrive gone: Graph's 404 codes)
//
// A user whose listing or mailbox merely failed is never removed: the run
// keeps their previous content (and is partial). A listing that returns no
// user at all is treated as a failure, not as an empty tenant.
//
// Each object's top-level directory is recorded in the sync state
// (SyncStateStore::SetObjectDir), so a departed user's directory is known by
// id, and a user whose UPN (hence directory name) changed is renamed, not
// re-downloaded. States written before that record get a one-time upgrade:
// top-level directories no listed user claims are departed users'.
//
// Thread safety: call from the run's thread while no collector runs.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "backend/snapshot_writer.h"
#include "backend/vault.h"
#include "sync/engine/collectors.h"
#include "sync/engine/sync_state.h"

namespace m365vault::sync {

struct Departure {
  enum class Reason { kNotInTenant, kExcludedByProfile, kNotApplicable };
  Reason reason = Reason::kNotInTenant;
  std::string key;  // "user:<id>" ("" when only the directory is known)
  std::string dir;  // the top-level directory removed ("" if there was none)
  std::string upn;  // for users still listed
};

// Before the collectors run. REQUIRES: `listed` is a complete listing of
// the tenant's users; `selected` holds the ids of those this run backs up,
// `protected_ids` those the scan profile protects in any run scope
// (selected ones included). Renames moved directories of selected users,
// leaves users of other scopes alone, then removes departed users and those
// not protected (directory and state). Errors are the writer's.
Result<std::vector<Departure>> RemoveDepartedUsers(SnapshotWriter& writer, SyncStateStore& state,
                                                   const std::vector<UserInfo>& listed,
                                                   const std::set<std::string>& selected,
                                                   const std::set<std::string>& protected_ids);

// After the collectors: a selected user found without this type of data.
// Removes their directory and state if they had any; nothing otherwise.
Result<std::vector<Departure>> RemoveNotApplicable(SnapshotWriter& writer, SyncStateStore& state,
                                                   const UserInfo& user);

// After the collectors: records where each user's data lives.
Status RecordUserDirs(SnapshotWriter& writer, SyncStateStore& state, const std::vector<UserInfo>& users);

// The job event (an info event, JobEvent::IsInfo) for a departure.
// `kept_until` names the last snapshot that has the user's data.
JobEvent DepartureEvent(const Departure& d, const std::string& type, const std::string& kept_until);

}  // namespace m365vault::sync
