// sync/engine/profile_objects.cpp
#include "sync/engine/profile_objects.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "sync/engine/collector_support.h"
#include "sync/graph/encoding.h"

namespace m365vault::sync {
namespace {


}  // namespace

Result<std::vector<GroupInfo>> ListGroups(GraphClient& client) {
  return ListAll<GroupInfo>(client, "/groups?$select=id,displayName,mail&$top=999",
                            [](const nlohmann::json& g) -> std::optional<GroupInfo> {
                              GroupInfo info{JsonString(g, "id"), JsonString(g, "displayName"), JsonString(g, "mail")};
                              if (info.id.empty()) return std::nullopt;
                              return info;
                            });
}

Result<std::vector<std::string>> ListGroupUserIds(GraphClient& client, const std::string& group_id) {
  // No OData cast (.../microsoft.graph.user): Graph serves it only as an
  // advanced query; the members' @odata.type tells users apart instead.
  const std::string path =
      "/groups/" + EncodePathSegment(group_id) + "/transitiveMembers?$select=id,userPrincipalName&$top=999";
  return ListAll<std::string>(client, path, [](const nlohmann::json& m) -> std::optional<std::string> {
    const std::string type = JsonString(m, "@odata.type");
    if (!type.empty() && type != "#microsoft.graph.user") return std::nullopt;  // groups, devices, contacts, ...
    std::string id = JsonString(m, "id");
    if (id.empty()) return std::nullopt;
    return id;
  });
}

bool GroupMatches(const std::string& pattern, const GroupInfo& group) {
  return WildcardMatch(pattern, group.display_name) || (!group.mail.empty() && WildcardMatch(pattern, group.mail));
}

Result<GroupMemberships> ResolveGroupMemberships(GraphClient& client, const std::vector<std::string>& patterns) {
  GroupMemberships out;
  if (patterns.empty()) return out;
  M365_ASSIGN_OR_RETURN(std::vector<GroupInfo> all, ListGroups(client));
  for (auto& g : all) {
    if (std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return GroupMatches(p, g); })) {
      out.groups.push_back(std::move(g));
    }
  }
  for (const GroupInfo& g : out.groups) {
    auto members = ListGroupUserIds(client, g.id);
    if (!members.ok()) return members.status().WithContext("listing the members of group '" + g.display_name + "'");
    for (const std::string& id : *members) {
      auto& names = out.names_by_user[id];
      names.push_back(g.display_name);
      if (!g.mail.empty()) names.push_back(g.mail);
    }
  }
  return out;
}

std::vector<std::string> GroupRulePatterns(const ScanProfile& profile, const std::string& type) {
  std::vector<std::string> patterns;
  if (profile.mode != ProfileMode::kAdvanced) return patterns;
  std::set<std::string> seen;
  for (const auto& r : profile.rules) {
    if (r.field != RuleField::kGroup || (!type.empty() && r.type != type)) continue;
    if (seen.insert(r.pattern).second) patterns.push_back(r.pattern);
  }
  return patterns;
}

Result<std::string> DriveWebUrl(GraphClient& client, const UserInfo& user) {
  RequestOptions o;
  o.concurrency_key = user.id;
  GraphError err;
  auto drive = client.GetJson(UserPath(user) + "/drive?$select=id,webUrl,driveType", o, &err);
  if (!drive.ok()) {
    if (err.kind == GraphErrorKind::kSkipResource) return Status::NotSupported("no OneDrive");
    return drive.status();
  }
  return JsonString(*drive, "webUrl");
}

ProfileObject MakeProfileObject(const std::string& type, const std::string& upn, std::vector<std::string> groups,
                                const std::string& drive_url) {
  ProfileObject object;
  object.upn = upn;
  object.groups = std::move(groups);
  if (TypeHasSite(type) && !drive_url.empty()) {
    object.site_url = SiteUrlOfDrive(drive_url);
    object.drive_url = drive_url;
  }
  return object;
}

Result<std::vector<UserInfo>> SelectProtected(GraphClient& client, const ScanProfile& profile, const std::string& type,
                                              std::vector<UserInfo> users, int parallel,
                                              const std::function<bool(const RuleDecision&)>& in_scope,
                                              std::vector<UserInfo>* all_protected) {
  GroupMemberships groups;
  const auto patterns = GroupRulePatterns(profile, type);
  if (!patterns.empty()) {
    M365_ASSIGN_OR_RETURN(groups, ResolveGroupMemberships(client, patterns));
  }
  std::vector<std::string> drive_urls(users.size());
  std::vector<char> url_failed(users.size(), 0);
  if (TypeHasSite(type) && ProfileUsesField(profile, RuleField::kSite, type)) {
    M365_RETURN_IF_ERROR(ParallelFor(users.size(), parallel, [&](size_t i) -> Status {
      auto url = DriveWebUrl(client, users[i]);
      if (url.ok()) {
        drive_urls[i] = *url;
      } else if (url.status().code() != Status::Code::kNotSupported) {
        url_failed[i] = 1;  // (after the client's retries)
      }
      return Status::OK();
    }));
  }
  std::vector<UserInfo> kept;
  if (all_protected) all_protected->clear();
  for (size_t i = 0; i < users.size(); ++i) {
    auto it = groups.names_by_user.find(users[i].id);
    std::vector<std::string> names = it == groups.names_by_user.end() ? std::vector<std::string>{} : it->second;
    RuleDecision d = EvaluateProfile(profile, type, MakeProfileObject(type, users[i].upn, std::move(names), drive_urls[i]));
    bool protect = d.protect;
    if (url_failed[i]) {
      // The site is unknown: the decision stands only if no site rule comes
      // before the deciding rule. Otherwise the user stays in the run, whose
      // collector then reports the OneDrive's failure: a run never drops an
      // object silently because a lookup failed.
      const size_t end = d.rule < 0 ? profile.rules.size() : static_cast<size_t>(d.rule);
      for (size_t r = 0; r < end; ++r) {
        if (profile.rules[r].type == type && profile.rules[r].field == RuleField::kSite) protect = true;
      }
    }
    if (protect && all_protected) all_protected->push_back(users[i]);
    if (protect && (!in_scope || in_scope(d))) kept.push_back(std::move(users[i]));
  }
  return kept;
}

}  // namespace m365vault::sync
