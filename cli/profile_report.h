// cli/profile_report.h
//
// What a discovery found, matched against the scan profile: per type, each
// rule's matches (and for group rules the groups its pattern matched), the
// protected objects with their containers, and the unprotected ones. Shared
// by `discover` and `profile test`, in text and in --json.
//
// Thread safety: free functions.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <vector>

#include "backend/vault_profiles.h"
#include "sync/schedule/daemon.h"

namespace m365vault::cli {

// [{"type", "discovered", "rules": [{"rule", "field", "matched": [UPN], "groups": [NAME] (group rules)}],
//   "protected": [{"object", "container"}], "unprotected": [UPN]}]
nlohmann::ordered_json ProfileMatchesJson(const ScanProfile& profile, const std::vector<sync::ProfileMatch>& matches);

// Per type: "N of M objects protected", then each rule with the objects it
// decided (group rules: and the groups it matched), then the unprotected objects.
void PrintProfileMatches(std::ostream& out, const ScanProfile& profile, const std::vector<sync::ProfileMatch>& matches);

}  // namespace m365vault::cli
