// sync/schedule/scheduler.cpp
#include "sync/schedule/scheduler.h"

namespace m365vault::sync {
namespace {

constexpr std::chrono::minutes kDay{24 * 60};

TimePoint DayStart(TimePoint t) {
  auto since = std::chrono::duration_cast<std::chrono::minutes>(t.time_since_epoch());
  auto days = since / kDay;
  if (since.count() < 0 && since % kDay != std::chrono::minutes(0)) --days;  // floor before 1970
  return TimePoint(days * kDay);
}

}  // namespace

std::optional<TimePoint> LatestSlot(const std::vector<int>& minutes, TimePoint now) {
  if (minutes.empty()) return std::nullopt;
  std::optional<TimePoint> best;
  for (TimePoint day : {DayStart(now) - kDay, DayStart(now)}) {
    for (int m : minutes) {
      TimePoint slot = day + std::chrono::minutes(m);
      if (slot <= now && (!best || slot > *best)) best = slot;
    }
  }
  return best;
}

std::optional<TimePoint> NextSlot(const std::vector<int>& minutes, TimePoint now) {
  if (minutes.empty()) return std::nullopt;
  std::optional<TimePoint> best;
  for (TimePoint day : {DayStart(now), DayStart(now) + kDay}) {
    for (int m : minutes) {
      TimePoint slot = day + std::chrono::minutes(m);
      if (slot > now && (!best || slot < *best)) best = slot;
    }
  }
  return best;
}

bool IsDue(const std::vector<int>& minutes, std::optional<TimePoint> last_run, TimePoint now) {
  std::optional<TimePoint> slot = LatestSlot(minutes, now);
  if (!slot) return false;
  return !last_run || *last_run < *slot;
}

std::vector<const ScheduleEntry*> DueEntries(const std::vector<ScheduleEntry>& entries, TimePoint now) {
  std::vector<const ScheduleEntry*> due;
  for (const auto& e : entries) {
    if (!e.running && IsDue(e.minutes, e.last_run, now)) due.push_back(&e);
  }
  return due;
}

}  // namespace m365vault::sync
