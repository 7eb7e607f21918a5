// sync/schedule/scheduler.h
//
// The pure scheduler: given a day's schedule (minutes of the UTC day), the
// start of the last run and the time now, is a run due, and when is the next?
//
// Rule: a run is due when the latest scheduled time at or before `now` (a
// "slot", possibly yesterday's) has no run that started at or after it. So a
// daemon that was down over several slots runs once when it comes back (the
// missed run is caught up once, never a backlog), and a manual run after a
// slot also satisfies it.
//
// Thread safety: free functions over values.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace m365vault::sync {

using TimePoint = std::chrono::system_clock::time_point;

// The latest slot at or before `now`; std::nullopt when `minutes` is empty.
std::optional<TimePoint> LatestSlot(const std::vector<int>& minutes, TimePoint now);
// The first slot strictly after `now`; std::nullopt when `minutes` is empty.
std::optional<TimePoint> NextSlot(const std::vector<int>& minutes, TimePoint now);
// See the rule above. `last_run`: start of the last run, std::nullopt if none.
bool IsDue(const std::vector<int>& minutes, std::optional<TimePoint> last_run, TimePoint now);

// One schedule the daemon watches (a backup of one type, or of one
// container of a type, or the daily discovery with type "discovery").
struct ScheduleEntry {
  std::string tenant;
  std::string type;
  std::vector<int> minutes;
  std::optional<TimePoint> last_run;
  bool running = false;  // a run of this tenant and type is in progress: never start a second
  std::string scope;     // backups: RunOptions::scope ("", kScopeTypeSchedule, "container:NAME")
};

// The entries that are due and not running, in input order.
std::vector<const ScheduleEntry*> DueEntries(const std::vector<ScheduleEntry>& entries, TimePoint now);

}  // namespace m365vault::sync
