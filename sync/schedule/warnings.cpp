// sync/schedule/warnings.cpp
#include "sync/schedule/warnings.h"

#include "backend/snapshot.h"

#include <time.h>

#include <algorithm>
#include <set>

namespace m365vault::sync {
namespace {

std::string Percent(const LevelCounts& c) {
  if (c.total == 0) return "0%";
  char buf[32];
  snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * static_cast<double>(c.failed) / static_cast<double>(c.total));
  return buf;
}

// failed / total > percent / 100, in integers.
bool Above(const LevelCounts& c, uint64_t percent) { return c.total > 0 && c.failed * 100 > c.total * percent; }

}  // namespace

const char* WarningKindName(WarningKind kind) {
  switch (kind) {
    case WarningKind::kLastBackupFailed:
      return "last_backup_failed";
    case WarningKind::kContentFailures:
      return "content_failures";
    case WarningKind::kContainerFailures:
      return "container_failures";
    case WarningKind::kTopFailures:
      return "top_failures";
    case WarningKind::kLicenseExpiring:
      return "license_expiring";
    case WarningKind::kLicenseExpired:
      return "license_expired";
  }
  return "unknown";
}

std::vector<Warning> EvaluateWarnings(const JobRecord& job, const JobLevels& levels) {
  std::vector<Warning> out;
  auto add = [&](WarningKind kind, std::string message) {
    out.push_back({kind, job.tenant, job.object_type, job.id, std::move(message)});
  };
  if (job.status == JobStatus::kFailed || job.status == JobStatus::kInterrupted) {
    add(WarningKind::kLastBackupFailed, std::string("the last backup (job ") + std::to_string(job.id) + ") " +
                                            (job.status == JobStatus::kFailed ? "failed" : "was interrupted") +
                                            (job.error.empty() ? "" : ": " + job.error));
  }
  if (Above(levels.content, kContentPercent)) {
    add(WarningKind::kContentFailures, std::to_string(levels.content.failed) + " of " +
                                           std::to_string(levels.content.total) + " items failed (" +
                                           Percent(levels.content) + ", more than 10%)");
  }
  if (Above(levels.container, kContainerPercent)) {
    add(WarningKind::kContainerFailures, std::to_string(levels.container.failed) + " of " +
                                             std::to_string(levels.container.total) + " containers failed (" +
                                             Percent(levels.container) + ", more than 5%)");
  }
  if (levels.top.failed > 0) {
    add(WarningKind::kTopFailures, std::to_string(levels.top.failed) + " of " + std::to_string(levels.top.total) +
                                       " top-level objects failed");
  }
  return out;
}

std::vector<Warning> EvaluateLicense(const std::string& tenant, int64_t expiry_ns, int64_t now_ns) {
  if (expiry_ns <= 0) return {};
  constexpr int64_t kDayNs = int64_t{86400} * 1000000000;
  const time_t expiry_s = static_cast<time_t>(expiry_ns / 1000000000);
  struct tm tm {};
  gmtime_r(&expiry_s, &tm);
  char date[16];
  strftime(date, sizeof date, "%Y-%m-%d", &tm);
  if (expiry_ns <= now_ns) {
    return {{WarningKind::kLicenseExpired, tenant, "", 0,
             std::string("the licence / subscription expired on ") + date + "; backups of an unlicensed tenant "
             "may stop working"}};
  }
  const int64_t days_left = (expiry_ns - now_ns + kDayNs - 1) / kDayNs;
  if (days_left > kLicenseWarningDays) return {};
  return {{WarningKind::kLicenseExpiring, tenant, "", 0,
           std::string("the licence / subscription expires on ") + date + " (in " + std::to_string(days_left) +
               (days_left == 1 ? " day)" : " days)")}};
}

JobLevels ClassifyJob(const JobRecord& job, const std::vector<JobEvent>& events) {
  JobLevels l;
  std::set<std::string> top, container, content;
  for (const auto& e : events) {
    if (e.object.empty()) continue;
    if (e.level == kLevelTop || e.level == kLevelContainer || e.level == kLevelContent) {
      (e.level == kLevelTop ? top : e.level == kLevelContainer ? container : content).insert(e.object);
      continue;
    }
    // Events of older versions carry no level: guess it from the path's depth.
    size_t depth = 1 + std::count(e.object.begin(), e.object.end(), '/');
    (depth == 1 ? top : depth == 2 ? container : content).insert(e.object);
  }
  l.top.total = job.counts.objects_total;
  l.top.failed = std::max<uint64_t>(job.counts.objects_failed, top.size());
  l.top.total = std::max(l.top.total, l.top.failed);
  l.container.failed = container.size();
  // Jobs of older versions did not count containers: at least one per object.
  const uint64_t containers = job.counts.containers_total ? job.counts.containers_total : job.counts.objects_total;
  l.container.total = std::max<uint64_t>(containers, l.container.failed);
  l.content.failed = content.size();
  l.content.total = job.counts.items + l.content.failed;
  return l;
}

}  // namespace m365vault::sync
