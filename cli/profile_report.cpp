// cli/profile_report.cpp
#include "cli/profile_report.h"

#include <ostream>

namespace m365vault::cli {

nlohmann::ordered_json ProfileMatchesJson(const ScanProfile& profile, const std::vector<sync::ProfileMatch>& matches) {
  nlohmann::ordered_json types = nlohmann::ordered_json::array();
  for (const auto& m : matches) {
    nlohmann::ordered_json rules = nlohmann::ordered_json::array();
    for (size_t i = 0; i < m.rule_matches.size() && i < profile.rules.size(); ++i) {
      const ProfileRule& r = profile.rules[i];
      if (r.type != m.type) continue;
      nlohmann::ordered_json rule = {{"rule", FormatRule(r)}, {"field", RuleFieldName(r.field)}, {"matched", m.rule_matches[i]}};
      if (r.field == RuleField::kGroup) rule["groups"] = m.rule_groups[i];
      rules.push_back(std::move(rule));
    }
    nlohmann::ordered_json prot = nlohmann::ordered_json::array();
    for (const auto& [upn, container] : m.protected_objects) prot.push_back({{"object", upn}, {"container", container}});
    types.push_back({{"type", m.type},
                     {"discovered", m.discovered},
                     {"rules", rules},
                     {"protected", prot},
                     {"unprotected", m.unprotected}});
  }
  return types;
}

void PrintProfileMatches(std::ostream& out, const ScanProfile& profile, const std::vector<sync::ProfileMatch>& matches) {
  for (const auto& m : matches) {
    out << m.type << ": " << m.protected_objects.size() << " of " << m.discovered << " objects protected";
    if (profile.mode == ProfileMode::kExpress) out << " (express profile: everything)";
    out << "\n";
    for (size_t i = 0; i < m.rule_matches.size() && i < profile.rules.size(); ++i) {
      const ProfileRule& r = profile.rules[i];
      if (r.type != m.type) continue;
      out << "  rule " << i + 1 << " " << FormatRule(r) << ": " << m.rule_matches[i].size() << " matched";
      if (r.field == RuleField::kGroup) {
        out << " (groups: ";
        if (m.rule_groups[i].empty()) out << "none match the pattern";
        for (size_t g = 0; g < m.rule_groups[i].size(); ++g) out << (g ? ", " : "") << m.rule_groups[i][g];
        out << ")";
      }
      out << "\n";
      for (const auto& upn : m.rule_matches[i]) out << "    " << upn << "\n";
    }
    if (!m.unprotected.empty()) {
      out << "  unprotected (discovered but not protected): " << m.unprotected.size() << "\n";
      for (const auto& upn : m.unprotected) out << "    " << upn << "\n";
    }
  }
}

}  // namespace m365vault::cli
