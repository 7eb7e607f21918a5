// sync/engine/departures.cpp: users leaving the snapshot.
#include "sync/engine/departures.h"

#include <algorithm>
#include <map>

namespace m365vault::sync {
namespace {

constexpr char kUserPrefix[] = "user:";

std::string UserKey(const UserInfo& u) { return kUserPrefix + u.id; }

Status RemoveDir(SnapshotWriter& writer, const std::string& dir) {
  Status st = writer.Remove(dir);
  return st.code() == Status::Code::kNotFound ? Status::OK() : st;
}

}  // namespace

Result<std::vector<Departure>> RemoveDepartedUsers(SnapshotWriter& writer, SyncStateStore& state,
                                                   const std::vector<UserInfo>& listed,
                                                   const std::set<std::string>& selected,
                                                   const std::set<std::string>& protected_ids) {
  std::vector<Departure> out;
  M365_ASSIGN_OR_RETURN(std::vector<std::string> top_names, writer.ListNames(""));
  std::set<std::string> top(top_names.begin(), top_names.end());
  const std::vector<std::string> keys = state.ObjectKeys();
  const std::set<std::string> has_state(keys.begin(), keys.end());
  const bool legacy = !state.HasDirs();
  std::set<std::string> claimed, listed_keys;
  std::set<std::string> owned;  // directories listed users' states live in

  for (const UserInfo& u : listed) {
    const std::string key = UserKey(u);
    listed_keys.insert(key);
    const std::string want = UserDirName(u);
    const std::string stored = state.ObjectDir(key);
    const std::string dir = stored.empty() ? want : stored;
    claimed.insert(want);
    claimed.insert(dir);
    if (!selected.count(u.id) && protected_ids.count(u.id)) continue;  // another scope's: as it was
    if (!selected.count(u.id)) {
      const bool had_dir = top.count(dir) > 0;
      if (!had_dir && !has_state.count(key)) continue;  // never backed up: nothing to do
      if (had_dir) M365_RETURN_IF_ERROR(RemoveDir(writer, dir));
      top.erase(dir);
      state.DropObject(key);
      out.push_back({Departure::Reason::kExcludedByProfile, key, had_dir ? dir : "", u.upn});
      continue;
    }
    if (!stored.empty() && stored != want && top.count(stored)) {
      // The UPN changed: the data moves with the user (no re-download).
      if (!top.count(want)) {
        M365_RETURN_IF_ERROR(writer.Rename(stored, want));
        top.erase(stored);
        top.insert(want);
        state.SetObjectDir(key, want);
      } else {
        // Both names exist (cannot happen unless the snapshot was edited): keep
        // the current name and start this user afresh.
        M365_RETURN_IF_ERROR(RemoveDir(writer, stored));
        top.erase(stored);
        state.DropObject(key);
      }
    } else if (has_state.count(key) && !top.count(want) && (stored.empty() || !top.count(stored))) {
      // State without its directory (an old state whose user was renamed):
      // start afresh so that the data lands in the user's directory.
      state.DropObject(key);
    }
    if (has_state.count(key)) owned.insert(state.ObjectDir(key).empty() ? want : state.ObjectDir(key));
  }

  // Users with state (and a recorded directory) who are not listed any more.
  for (const std::string& key : keys) {
    if (key.rfind(kUserPrefix, 0) != 0 || listed_keys.count(key)) continue;
    const std::string dir = state.ObjectDir(key);
    // (A new user with a departed user's UPN has no state yet: the old
    // directory goes, and the new user's first backup fills it afresh.)
    const bool had_dir = !dir.empty() && top.count(dir) && !owned.count(dir);
    if (had_dir) M365_RETURN_IF_ERROR(RemoveDir(writer, dir));
    if (had_dir) top.erase(dir);
    state.DropObject(key);
    if (had_dir || !legacy) out.push_back({Departure::Reason::kNotInTenant, key, had_dir ? dir : "", ""});
  }

  // Old states do not say whose a directory is: top-level directories no
  // listed user claims belong to departed users.
  if (legacy) {
    for (const std::string& name : std::set<std::string>(top)) {
      if (claimed.count(name)) continue;
      M365_RETURN_IF_ERROR(RemoveDir(writer, name));
      out.push_back({Departure::Reason::kNotInTenant, "", name, ""});
    }
  }
  return out;
}

Result<std::vector<Departure>> RemoveNotApplicable(SnapshotWriter& writer, SyncStateStore& state,
                                                   const UserInfo& user) {
  const std::string key = UserKey(user);
  std::string dir = state.ObjectDir(key);
  if (dir.empty()) dir = UserDirName(user);
  M365_ASSIGN_OR_RETURN(auto entry, writer.Lookup(dir));
  const std::vector<std::string> keys = state.ObjectKeys();
  const bool had_state = std::find(keys.begin(), keys.end(), key) != keys.end();
  if (!entry && !had_state) return std::vector<Departure>{};
  if (entry) M365_RETURN_IF_ERROR(RemoveDir(writer, dir));
  state.DropObject(key);
  return std::vector<Departure>{{Departure::Reason::kNotApplicable, key, entry ? dir : "", user.upn}};
}

Status RecordUserDirs(SnapshotWriter& writer, SyncStateStore& state, const std::vector<UserInfo>& users) {
  for (const UserInfo& u : users) {
    const std::string dir = UserDirName(u);
    M365_ASSIGN_OR_RETURN(auto entry, writer.Lookup(dir));
    if (entry) state.SetObjectDir(UserKey(u), dir);
  }
  return Status::OK();
}

JobEvent DepartureEvent(const Departure& d, const std::string& type, const std::string& kept_until) {
  JobEvent e;
  e.level = kLevelInfo;
  const std::string who = !d.upn.empty() ? d.upn : !d.dir.empty() ? d.dir : d.key;
  e.object = !d.dir.empty() ? d.dir : who;
  const std::string kept = d.dir.empty() ? "; nothing of theirs was in the previous snapshot"
                                         : "; removed from this snapshot, kept in snapshots up to " + kept_until;
  switch (d.reason) {
    case Departure::Reason::kNotInTenant:
      e.code = "info.user_removed";
      e.reason = "user " + who + " no longer in the tenant" + kept;
      e.hint = "older snapshots keep the data until retention prunes them; restore from one of them if needed";
      break;
    case Departure::Reason::kExcludedByProfile:
      e.code = "info.user_excluded";
      e.reason = "user " + who + " excluded by the scan profile's rules" + kept;
      e.hint = "include the user in the scan profile to back them up again (their next backup is a full one)";
      break;
    case Departure::Reason::kNotApplicable:
      e.code = "info.user_not_applicable";
      e.reason = "user " + who + " no longer has " + (type == "onedrive" ? "a OneDrive" : "a mailbox") + kept;
      e.hint = "check the user's license; older snapshots keep the data until retention prunes them";
      break;
  }
  return e;
}

}  // namespace m365vault::sync
