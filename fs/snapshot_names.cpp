// fs/snapshot_names.cpp
#include "fs/snapshot_names.h"

#include <algorithm>
#include <map>

namespace m365vault::fs {

std::string TypeDirName(const SnapshotInfo& info) {
  return info.object_type.empty() ? std::string("files") : info.object_type;
}

std::vector<std::string> AssignSnapshotDirNames(std::vector<const SnapshotInfo*>& snapshots) {
  std::sort(snapshots.begin(), snapshots.end(), [](const SnapshotInfo* a, const SnapshotInfo* b) {
    if (a->time_ns != b->time_ns) return a->time_ns < b->time_ns;
    return a->id < b->id;
  });
  std::vector<std::string> names;
  names.reserve(snapshots.size());
  std::map<std::string, int> seen;  // base name -> how many so far
  for (const SnapshotInfo* s : snapshots) {
    std::string base = SnapshotTimeName(s->time_ns);
    int n = ++seen[base];
    names.push_back(n == 1 ? base : base + "-" + std::to_string(n));
  }
  return names;
}

bool IsUsableName(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 255) return false;
  return name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

}  // namespace m365vault::fs
