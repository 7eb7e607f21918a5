// sync/schedule/warnings.h
//
// Warnings about a tenant's protection, with the thresholds admins know from
// the commercial products, evaluated on the last backup job of each object
// type:
//   last_backup_failed  the last backup job failed (or was interrupted);
//   content_failures    more than 10% of the objects at content level (items)
//                       failed;
//   container_failures  more than 5% at a container level below the top
//                       (folders, drives) failed;
//   top_failures        any object at the top container level (a mailbox, a
//                       user's OneDrive) failed;
// and per tenant:
//   license_expiring    the tenant's licence / subscription expires within
//                       kLicenseWarningDays;
//   license_expired     it has expired.
// EvaluateWarnings is the exact, pure threshold function; ClassifyJob turns a
// job and its events into per-level counts (see its comment for how).
//
// Thread safety: free functions over values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backend/vault.h"

namespace m365vault::sync {

enum class WarningKind {
  kLastBackupFailed,
  kContentFailures,
  kContainerFailures,
  kTopFailures,
  kLicenseExpiring,
  kLicenseExpired,
};
// "last_backup_failed", "content_failures", "container_failures", "top_failures",
// "license_expiring", "license_expired"
const char* WarningKindName(WarningKind kind);

struct Warning {
  WarningKind kind;
  std::string tenant;
  std::string type;
  int64_t job_id = 0;
  std::string message;
};

struct LevelCounts {
  uint64_t total = 0;
  uint64_t failed = 0;
};

struct JobLevels {
  LevelCounts top;        // mailboxes, OneDrives
  LevelCounts container;  // folders, drives below the top
  LevelCounts content;    // messages, files
};

// Thresholds (strictly more than): content 10%, container 5%, top 0 objects.
inline constexpr uint64_t kContentPercent = 10;
inline constexpr uint64_t kContainerPercent = 5;

// The warnings for `job` (the last backup job of its tenant and type).
std::vector<Warning> EvaluateWarnings(const JobRecord& job, const JobLevels& levels);

// The licence warning of a tenant whose licence / subscription expires at
// `expiry_ns` (0: not set, no warning), seen at `now_ns`.
inline constexpr int64_t kLicenseWarningDays = 30;
std::vector<Warning> EvaluateLicense(const std::string& tenant, int64_t expiry_ns, int64_t now_ns);

// Per-level counts from a job and its events. Top level: the job's objects
// (objects_total / objects_failed). An event's level is the one the collector
// recorded (JobEvent::level); events of older versions have none, and their
// level is guessed from the depth of the object path ("alice@x" top,
// "alice@x/Mail" container, deeper content). Container total = the containers
// the run visited (JobCounts::containers_total), or one per object for older
// jobs. Content total = items written + content failures.
JobLevels ClassifyJob(const JobRecord& job, const std::vector<JobEvent>& events);

}  // namespace m365vault::sync
