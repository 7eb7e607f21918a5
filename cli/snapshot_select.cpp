// cli/snapshot_select.cpp
#include "cli/snapshot_select.h"

#include <set>

namespace m365vault::cli {

Result<SnapshotInfo> SelectSnapshot(const std::vector<SnapshotInfo>& snapshots, const std::string& spec,
                                    const std::string& type) {
  std::vector<const SnapshotInfo*> candidates;
  for (const auto& s : snapshots) {
    if (type.empty() || s.object_type == type) candidates.push_back(&s);
  }
  std::string of_type = type.empty() ? "" : " of type '" + type + "'";
  if (spec == "latest") {
    if (candidates.empty()) return Status::NotFound("no snapshots" + of_type);
    if (type.empty()) {
      std::set<std::string> types;
      for (const auto* s : candidates) types.insert(s->object_type);
      if (types.size() > 1) {
        std::string list;
        for (const auto& t : types) list += (list.empty() ? "" : ", ") + t;
        return Status::InvalidArgument("'latest' is ambiguous: there are snapshots of types " + list +
                                       "; add --type TYPE");
      }
    }
    const SnapshotInfo* best = candidates.front();
    for (const auto* s : candidates) {
      if (s->time_ns >= best->time_ns) best = s;
    }
    return *best;
  }
  std::vector<const SnapshotInfo*> matches;
  for (const auto* s : candidates) {
    if (SnapshotTimeName(s->time_ns) == spec) matches.push_back(s);
  }
  if (matches.empty()) {
    if (spec.size() < 4) {
      return Status::InvalidArgument("snapshot '" + spec + "': give at least 4 characters of its id, or 'latest'");
    }
    for (const auto* s : candidates) {
      if (s->id.compare(0, spec.size(), spec) == 0) matches.push_back(s);
    }
  }
  if (matches.empty()) return Status::NotFound("no snapshot '" + spec + "'" + of_type);
  if (matches.size() > 1) {
    return Status::InvalidArgument("snapshot '" + spec + "' is ambiguous (" + std::to_string(matches.size()) +
                                   " match); give more of its id or add --type");
  }
  return *matches.front();
}

Result<SnapshotInfo> ResolveSnapshot(Repository& repo, const std::string& spec, const std::string& type) {
  M365_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> snapshots, repo.ListSnapshots());
  return SelectSnapshot(snapshots, spec, type);
}

}  // namespace m365vault::cli
