// sync/engine/profile_objects.h
//
// What a scan profile's rules see of a user beyond the UPN (backend/vault_profiles.h,
// ProfileObject): the groups the user belongs to, for `group` rules, and the
// OneDrive's URL, for `site` rules. Both cost Graph requests, so they are
// fetched only when the profile has such rules:
//   groups  GET /groups (paged, $top=999), then, for the groups whose
//           displayName or mail a group rule's pattern matches, and only those,
//           GET /groups/{id}/transitiveMembers (paged, $top=999; nested groups
//           flattened by Graph; non-user members such as devices and groups
//           skipped by their @odata.type);
//   sites   GET /users/{id}/drive?$select=id,webUrl,driveType per user (a user
//           without a OneDrive has no site URL).
// All requests go through the GraphClient (retries, throttling, paging).
//
// Thread safety: the functions are thread-safe (GraphClient is).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "backend/vault_profiles.h"
#include "sync/engine/collectors.h"
#include "sync/graph/graph_client.h"

namespace m365vault::sync {

struct GroupInfo {
  std::string id;
  std::string display_name;
  std::string mail;  // "" for groups without mail (security groups)
};

// Every group of the tenant (paged).
Result<std::vector<GroupInfo>> ListGroups(GraphClient& client);

// The ids of the users in a group, directly or through nested groups.
Result<std::vector<std::string>> ListGroupUserIds(GraphClient& client, const std::string& group_id);

// Whether a group's displayName or mail matches `pattern` (WildcardMatch).
bool GroupMatches(const std::string& pattern, const GroupInfo& group);

struct GroupMemberships {
  // The groups some pattern matched, in /groups order.
  std::vector<GroupInfo> groups;
  // user id -> displayName and mail of each matched group the user is in.
  std::map<std::string, std::vector<std::string>> names_by_user;
};
// Lists the groups, then the transitive members of those any of `patterns`
// matches (none fetched when no group matches).
Result<GroupMemberships> ResolveGroupMemberships(GraphClient& client, const std::vector<std::string>& patterns);

// The patterns of the profile's group rules (for `type`, or all types if empty).
std::vector<std::string> GroupRulePatterns(const ScanProfile& profile, const std::string& type = {});

// The webUrl of the user's OneDrive; NotSupported if the user has none.
Result<std::string> DriveWebUrl(GraphClient& client, const UserInfo& user);

// The ProfileObject of a user for one type: site_url/drive_url only for
// types with a site (TypeHasSite) and a known drive URL.
ProfileObject MakeProfileObject(const std::string& type, const std::string& upn, std::vector<std::string> groups,
                                const std::string& drive_url);

// RunOptions::select_objects of a profile for one type: keeps the users the
// profile protects. Group memberships and drive URLs are fetched only when
// the type has group or site rules (drive URLs with up to `parallel`
// requests at once). A failed group listing fails the selection; a user
// whose drive URL cannot be read (other than "no OneDrive") is kept unless a
// rule before any site rule decides it, so the run reports the failure
// instead of silently dropping the user. `in_scope`, when set, narrows the
// protected users further by their rule decision (a run of one container);
// `all_protected`, when set, receives the protected users of every scope.
Result<std::vector<UserInfo>> SelectProtected(GraphClient& client, const ScanProfile& profile, const std::string& type,
                                              std::vector<UserInfo> users, int parallel = 4,
                                              const std::function<bool(const RuleDecision&)>& in_scope = nullptr,
                                              std::vector<UserInfo>* all_protected = nullptr);

}  // namespace m365vault::sync
