// sync/engine/backup_run.h
//
// One backup run = one object type of one tenant = one snapshot:
//   open the tenant's repository (shared lock), take the latest snapshot of
//   that type as parent (and its sync state), start a job in the vault, run
//   the collector over every user, record failures as job events, commit the
//   snapshot (partial if anything failed) with the new sync state, finish
//   the job. Nothing is visible until Commit, so a killed run leaves the
//   previous snapshots intact and the next run starts from the last commit.
//
// Also: building the Graph client stack from a tenant record, and discovery.
//
// Thread safety: RunBackup uses worker threads internally; call it from one
// thread per tenant/type.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/snapshot_writer.h"
#include "backend/vault.h"
#include "backend/vault_profiles.h"
#include "sync/engine/collectors.h"
#include "sync/engine/profile_objects.h"
#include "sync/graph/curl_http_client.h"
#include "sync/graph/graph_client.h"
#include "sync/graph/token_provider.h"

namespace m365vault::sync {

// The client stack for one tenant: curl (with the tenant's CA file), the
// client-credentials token provider (secret or certificate from the vault:
// the app registration the tenant's scan profile names, else the tenant's
// own), and the Graph client on the tenant's graph_url.
struct GraphStack {
  std::unique_ptr<CurlHttpClient> http;
  std::unique_ptr<ClientCredentialsTokenProvider> tokens;
  std::unique_ptr<GraphClient> client;
};
Result<std::unique_ptr<GraphStack>> ConnectTenant(Vault& vault, const std::string& tenant,
                                                  GraphClientOptions options = {});

// The object types RunBackup accepts ("exchange", "onedrive").
std::vector<std::string> SupportedTypes();

struct RunProgress {
  std::string type;
  uint64_t objects_total = 0;
  uint64_t objects_done = 0;
  uint64_t items = 0;
  uint64_t bytes = 0;
  uint64_t failed = 0;
};

using ObjectSelector =
    std::function<Result<std::vector<UserInfo>>(GraphClient& client, std::vector<UserInfo> users)>;

struct RunOptions {
  // Called from worker threads (serialised) as objects and files complete.
  std::function<void(const RunProgress&)> progress;
  // Users backed up at once (each limited to 4 requests in flight per
  // mailbox). More users than max_requests_in_flight / 4, so that while some
  // wait on the client (a folder listing, delta paging, their last folder)
  // the others use the request budget: users pipeline instead of running in
  // waves.
  int parallel_objects = 8;
  // The run's request budget: requests in flight at once across all users
  // (0 = only the per-mailbox limit). Applies to the client RunBackup builds
  // (ConnectTenant), not to `client` below.
  int max_requests_in_flight = 16;
  // Use this client instead of ConnectTenant (tests). Must outlive the run.
  GraphClient* client = nullptr;
  // The snapshot writer's options (tests shrink its listing budget so that
  // every large directory goes through the spill).
  SnapshotWriterOptions writer;
  // The scan profile's choice of objects: called once per run with the run's
  // Graph client and every listed user; returns the users to back up (group
  // and site rules fetch memberships and drive URLs through that client, so
  // with its retries and throttling). An error fails the run. Unset: every
  // user. In a run of every protected object (scope ""), a listed user left
  // out is *excluded*: removed from the new snapshot like a deleted user
  // (info event "info.user_excluded"; older snapshots keep them) and their
  // sync state dropped (sync/engine/departures.h).
  ObjectSelector select_objects;
  // Which objects select_objects takes, recorded in the job (Vault::StartJob):
  // "" every protected object, kScopeTypeSchedule, ContainerScope(NAME).
  // Objects outside a narrower scope keep what the parent snapshot had.
  std::string scope;
  // For runs with a narrower scope: the profile's choice over every scope
  // (ProfileFilter with scope "", or ApplyProfile's), to tell objects of other scopes (kept)
  // from excluded ones (removed). Unset in such a run: only users gone from
  // the tenant are removed. Ignored when scope is "".
  ObjectSelector select_protected;
  // Accept a listing in which many users of the previous snapshot are gone
  // (see kMassDepartureMin): without it such a run removes nobody and is
  // partial, so a directory glitch cannot empty the newest snapshot. Set by
  // `backup --allow-mass-removal`; the daemon never sets it.
  bool allow_mass_departure = false;
};

struct RunResult {
  int64_t job_id = 0;
  std::string type;
  JobStatus status = JobStatus::kFailed;
  std::string snapshot_id;  // "" when nothing was committed
  std::string parent_id;
  JobCounts counts;
  std::vector<FailedItem> failures;
  std::vector<std::string> not_applicable;  // UPNs without this type of data
  // Users removed from this snapshot (deleted from the tenant, excluded by
  // the profile, no data of this type any more): their info events' reasons.
  std::vector<std::string> removed;
  std::string error;                         // why the run failed, if it did
  double seconds = 0;
};

// A user listing that lacks at least kMassDepartureMin of the previous
// snapshot's users, and more than kMassDeparturePercent of them, is not
// believed unless RunOptions::allow_mass_departure.
inline constexpr size_t kMassDepartureMin = 5;
inline constexpr size_t kMassDeparturePercent = 20;
// How many of the previous snapshot's users (state keys "user:<id>") the
// listing lacks, out of how many.
std::pair<size_t, size_t> MissingUsers(const std::vector<std::string>& previous_keys,
                                       const std::vector<UserInfo>& listed);

// Runs one backup. Returns an error only when the run could not even start
// (unknown tenant or type, repository locked or unreadable); a run that
// started returns a RunResult whose status says how it went (the job in the
// vault says the same).
Result<RunResult> RunBackup(Vault& vault, const std::string& tenant, const std::string& type,
                            const RunOptions& options = {});

// Run scopes (RunOptions::scope): every protected object (""), the objects
// that follow the type's schedule (those whose container has no schedule of
// its own), or one container's objects.
inline constexpr char kScopeTypeSchedule[] = "type-schedule";
inline std::string ContainerScope(const std::string& container) { return "container:" + container; }

// Sets options->select_objects (and, for a narrower options->scope,
// select_protected) from the tenant's scan profile: what ProfileFilter gives
// for the scope and for "", but the rules are evaluated, and group
// memberships and drive URLs fetched, once per run. Errors as ProfileFilter.
Status ApplyProfile(Vault& vault, const std::string& tenant, const std::string& type, RunOptions* options);

// RunOptions::select_objects for the tenant's scan profile (express mode:
// everything; advanced mode: its rules for `type`, see SelectProtected),
// narrowed to `scope`. InvalidArgument on an unknown scope or a container
// the profile does not name.
Result<ObjectSelector> ProfileFilter(Vault& vault, const std::string& tenant, const std::string& type,
                                     const std::string& scope = "");

struct DiscoveredUser {
  std::string id, upn, display_name;
  // Per type: "yes", "not applicable" or "error: ..."
  std::vector<std::pair<std::string, std::string>> types;
  // The groups (displayName and mail) of Discovery::groups the user is in,
  // directly or nested; empty when the profile has no group rules.
  std::vector<std::string> groups;
  std::string drive_url;  // the OneDrive's webUrl ("" without a OneDrive)
};

struct Discovery {
  std::vector<DiscoveredUser> users;
  // The groups whose displayName or mail some group rule of the profile
  // matches (their members were listed); empty without group rules.
  std::vector<GroupInfo> groups;
};
// Lists the users and probes each for every object type (4 at once); with a
// profile that has group rules, also resolves those groups' members
// (ResolveGroupMemberships). The drive URL comes with the OneDrive probe.
Result<Discovery> Discover(Vault& vault, const std::string& tenant, GraphClient* client = nullptr,
                           const ScanProfile* profile = nullptr);

}  // namespace m365vault::sync
