// sync/schedule/warnings.cpp
#include "sync/schedule/warnings.h"

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

JobLevels ClassifyJob(const JobRecord& job, const std::vector<JobEvent>& events) {
  JobLevels l;
  std::set<std::string> top, container, content;
  for (const auto& e : events) {
    if (e.object.empty() || e.IsInfo()) continue;  // info events are not failures
    size_t depth = 1 + std::count(e.object.begin(), e.object.end(), '/');
    (depth == 1 ? top : depth == 2 ? container : content).insert(e.object);
  }
  l.top.total = job.counts.objects_total;
  l.top.failed = std::max<uint64_t>(job.counts.objects_failed, top.size());
  l.top.total = std::max(l.top.total, l.top.failed);
  l.container.failed = container.size();
  l.container.total = std::max<uint64_t>(job.counts.objects_total, l.container.failed);
  l.content.failed = content.size();
  l.content.total = job.counts.items + l.content.failed;
  return l;
}

}  // namespace m365vault::sync
