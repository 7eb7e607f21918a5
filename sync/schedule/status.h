// sync/schedule/status.h
//
// ProtectionStatus: what `m365vault status` reports, per tenant and object
// type: the last successful backup, the next scheduled run, protected /
// discovered objects (from the last discovery), items and bytes protected
// (the latest committed snapshot's totals), storage used (the size of the
// repository's files) and the active warnings (sync/schedule/warnings.h).
//
// Thread safety: BuildStatus only reads; call it from any one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backend/vault.h"
#include "backend/vault_profiles.h"
#include "sync/schedule/warnings.h"

namespace m365vault::sync {

// A container of a type with a schedule of its own.
struct ContainerStatus {
  std::string name;
  std::vector<int> schedule;
  std::optional<JobRecord> last_job;  // the last backup of this container
  int64_t next_run_ns = 0;
};

struct TypeStatus {
  std::string type;
  bool in_profile = false;  // the scan profile protects this type
  std::vector<int> schedule;
  std::vector<ContainerStatus> containers;  // containers on their own schedules
  std::optional<JobRecord> last_job;      // the last backup job of this type (any scope)
  std::optional<JobRecord> last_success;  // the last succeeded or partial one
  int64_t next_run_ns = 0;                // 0: not scheduled; the type's or a container's, whichever is first
  std::optional<DiscoveryResult> discovery;
  uint64_t items = 0;  // in the latest snapshot of this type
  uint64_t bytes = 0;
  // Of the last job of each scope (the type's runs, each container's).
  std::vector<Warning> warnings;
};

struct TenantStatus {
  std::string tenant;
  std::string mode;  // the profile's mode
  uint64_t storage_bytes = 0;
  int64_t license_expiry_ns = 0;     // 0: not set
  std::vector<Warning> warnings;     // the tenant's own (licence)
  std::vector<TypeStatus> types;
  std::vector<std::string> errors;  // what could not be read (e.g. a locked repository)
};

// `tenant` "" = every tenant. NotFound for an unknown tenant.
Result<std::vector<TenantStatus>> BuildStatus(Vault& vault, ProfileStore& store, const std::string& tenant,
                                              Clock& clock);

// The sum of the sizes of the regular files under `dir` (0 if it is missing).
uint64_t DirectoryBytes(const std::string& dir);

// The newest job of `kind` (and `type`, unless empty) in `jobs` (newest first).
std::optional<JobRecord> NewestJob(const std::vector<JobRecord>& jobs, const std::string& kind, const std::string& type,
                                   bool successful_only = false);

}  // namespace m365vault::sync
