// backend/vault_profiles.cpp: the pure parts of scan profiles and schedules
// (rule parsing, validation, wildcard matching, evaluation, schedule times).
#include <algorithm>
#include <cctype>
#include <set>

#include "backend/vault_profiles.h"

namespace m365vault {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

const char* ProfileModeName(ProfileMode mode) { return mode == ProfileMode::kExpress ? "express" : "advanced"; }

const char* RuleFieldName(RuleField field) {
  switch (field) {
    case RuleField::kUser:
      return "user";
    case RuleField::kMailbox:
      return "mailbox";
    case RuleField::kGroup:
      return "group";
    case RuleField::kSite:
      return "site";
  }
  return "user";
}

Result<ProfileRule> ParseRule(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("rule '" + std::string(text) + "': " + why +
                                   " (want TYPE:include|exclude:user|mailbox|group|site:PATTERN[=>CONTAINER])");
  };
  std::vector<std::string_view> parts;
  std::string_view rest = text;
  for (int i = 0; i < 3; ++i) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return bad("too few parts");
    parts.push_back(rest.substr(0, colon));
    rest.remove_prefix(colon + 1);
  }
  ProfileRule r;
  r.type = std::string(parts[0]);
  if (r.type.empty()) return bad("no object type");
  if (parts[1] == "include") {
    r.include = true;
  } else if (parts[1] == "exclude") {
    r.include = false;
  } else {
    return bad("the action must be include or exclude");
  }
  if (parts[2] == "user") {
    r.field = RuleField::kUser;
  } else if (parts[2] == "mailbox") {
    r.field = RuleField::kMailbox;
  } else if (parts[2] == "group") {
    r.field = RuleField::kGroup;
  } else if (parts[2] == "site") {
    r.field = RuleField::kSite;
  } else {
    return bad("the field must be user, mailbox, group or site");
  }
  size_t arrow = rest.rfind("=>");
  if (arrow != std::string_view::npos) {
    r.container = std::string(rest.substr(arrow + 2));
    rest = rest.substr(0, arrow);
    if (!r.include) return bad("an exclude rule has no container");
    if (r.container.empty()) return bad("empty container name");
    for (char c : r.container) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
        return bad("a container name is letters, digits, '-', '_' and '.'");
      }
    }
  }
  if (rest.empty()) return bad("empty pattern");
  r.pattern = std::string(rest);
  return r;
}

std::string FormatRule(const ProfileRule& r) {
  std::string s = r.type + ":" + (r.include ? "include" : "exclude") + ":" + RuleFieldName(r.field) + ":" + r.pattern;
  if (!r.container.empty()) s += "=>" + r.container;
  return s;
}

Status ValidateProfile(const ScanProfile& p, const std::vector<std::string>& supported) {
  if (p.types.empty()) return Status::InvalidArgument("a scan profile needs at least one object type");
  for (const auto& t : p.types) {
    if (!Contains(supported, t)) return Status::InvalidArgument("unknown object type '" + t + "'");
  }
  if (p.discovery_minute < 0 || p.discovery_minute >= 24 * 60) {
    return Status::InvalidArgument("the discovery time must be HH:MM (UTC)");
  }
  if (p.mode == ProfileMode::kExpress) {
    if (!p.rules.empty()) return Status::InvalidArgument("express mode takes no rules (use --mode advanced)");
    return Status::OK();
  }
  for (const auto& r : p.rules) {
    if (!Contains(p.types, r.type)) {
      return Status::InvalidArgument("rule '" + FormatRule(r) + "' is for a type the profile does not protect");
    }
    if (r.field == RuleField::kSite && !TypeHasSite(r.type)) {
      return Status::InvalidArgument("rule '" + FormatRule(r) + "': " + r.type +
                                     " objects have no site URL (a mailbox is not a site); match mailboxes by "
                                     "user, mailbox or group, and OneDrives by site");
    }
  }
  for (const auto& t : p.types) {
    bool any = std::any_of(p.rules.begin(), p.rules.end(), [&](const ProfileRule& r) { return r.type == t; });
    if (!any) return Status::InvalidArgument("advanced mode needs at least one rule for type '" + t + "'");
  }
  return Status::OK();
}

bool TypeHasSite(std::string_view type) { return type != "exchange"; }

bool ProfileUsesField(const ScanProfile& profile, RuleField field, std::string_view type) {
  if (profile.mode != ProfileMode::kAdvanced) return false;
  return std::any_of(profile.rules.begin(), profile.rules.end(), [&](const ProfileRule& r) {
    return r.field == field && (type.empty() || r.type == type);
  });
}

std::string SiteUrlOfDrive(std::string_view drive_url) {
  std::string_view url = drive_url;
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  size_t scheme = url.find("://");
  size_t path = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  if (path == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, url.rfind('/')));  // the last '/' is at or after `path`
}

bool WildcardMatch(std::string_view pattern, std::string_view text) {
  // Iterative glob with one backtrack point (the last '*'): linear-ish, no recursion.
  const std::string p = Lower(pattern), t = Lower(text);
  size_t pi = 0, ti = 0, star = std::string::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

RuleDecision EvaluateProfile(const ScanProfile& profile, const std::string& type, const ProfileObject& object) {
  RuleDecision d;
  if (!Contains(profile.types, type)) return d;
  if (profile.mode == ProfileMode::kExpress) {
    d.protect = true;
    d.container = "default";
    return d;
  }
  for (size_t i = 0; i < profile.rules.size(); ++i) {
    const ProfileRule& r = profile.rules[i];
    if (r.type != type) continue;
    bool match = false;
    switch (r.field) {
      case RuleField::kUser:
      case RuleField::kMailbox:
        match = !object.upn.empty() && WildcardMatch(r.pattern, object.upn);
        break;
      case RuleField::kGroup:
        match = std::any_of(object.groups.begin(), object.groups.end(),
                            [&](const std::string& g) { return WildcardMatch(r.pattern, g); });
        break;
      case RuleField::kSite:
        match = (!object.site_url.empty() && WildcardMatch(r.pattern, object.site_url)) ||
                (!object.drive_url.empty() && WildcardMatch(r.pattern, object.drive_url));
        break;
    }
    if (!match) continue;
    d.rule = static_cast<int>(i);
    d.protect = r.include;
    d.container = r.include ? (r.container.empty() ? "default" : r.container) : "";
    return d;
  }
  return d;  // no rule matched: unprotected
}

Result<std::vector<int>> ParseScheduleTimes(std::string_view text) {
  std::vector<int> out;
  std::set<int> seen;
  std::string_view rest = text;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (item.size() != 5 || item[2] != ':' || !digit(item[0]) || !digit(item[1]) || !digit(item[3]) ||
        !digit(item[4])) {
      return Status::InvalidArgument("'" + std::string(item) + "' is not a time: use HH:MM (UTC, 24-hour)");
    }
    int h = (item[0] - '0') * 10 + (item[1] - '0');
    int m = (item[3] - '0') * 10 + (item[4] - '0');
    if (h > 23 || m > 59) return Status::InvalidArgument("'" + std::string(item) + "' is not a time of day");
    if (!seen.insert(h * 60 + m).second) {
      return Status::InvalidArgument("time " + std::string(item) + " is given twice");
    }
    out.push_back(h * 60 + m);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (out.size() > kMaxScheduleTimes) {
    return Status::InvalidArgument("at most " + std::to_string(kMaxScheduleTimes) + " backup times a day, got " +
                                   std::to_string(out.size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string FormatMinute(int minute) {
  char buf[16];
  snprintf(buf, sizeof(buf), "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

std::string FormatScheduleTimes(const std::vector<int>& minutes) {
  std::string s;
  for (int m : minutes) s += (s.empty() ? "" : ",") + FormatMinute(m);
  return s;
}

std::vector<std::string> ProfileContainers(const ScanProfile& profile, const std::string& type) {
  std::set<std::string> names;
  if (profile.mode != ProfileMode::kAdvanced) return {};
  for (const auto& r : profile.rules) {
    if (r.type == type && r.include) names.insert(r.container.empty() ? "default" : r.container);
  }
  return {names.begin(), names.end()};
}

}  // namespace m365vault
