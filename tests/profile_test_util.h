// tests/profile_test_util.h: scan profiles for tests (backend and sync).
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "backend/vault_profiles.h"

namespace m365vault::testing {

// An advanced profile of tenant "contoso" over exchange and onedrive with
// `rules` (each must parse).
inline ScanProfile AdvancedProfile(const std::vector<std::string>& rules) {
  ScanProfile p;
  p.tenant = "contoso";
  p.types = {"exchange", "onedrive"};
  p.mode = ProfileMode::kAdvanced;
  for (const auto& r : rules) {
    auto parsed = ParseRule(r);
    INFO(r);
    REQUIRE(parsed.ok());
    p.rules.push_back(*parsed);
  }
  return p;
}

}  // namespace m365vault::testing
