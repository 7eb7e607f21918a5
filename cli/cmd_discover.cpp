// cli/cmd_discover.cpp: m365vault discover NAME — what can be protected:
// every user, whether they have a mailbox and a OneDrive, and what the scan
// profile makes of them (each rule's matches, the unprotected objects).
#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>

#include "backend/vault_profiles.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/profile_report.h"
#include "sync/schedule/daemon.h"

namespace m365vault::cli {
namespace {

struct DiscoverOptions {
  std::string tenant;
};

int RunDiscover(Context& ctx, const DiscoverOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto store = ProfileStore::Open(**vault, Clock::Real());
  if (!store.ok()) return ctx.Fail(store.status());
  // A "discovery" job: per-user probe errors become job events; the counts
  // per type are saved for `status`.
  auto report = sync::RunDiscovery(**vault, **store, o.tenant, Clock::Real());
  if (!report.ok()) return ctx.Fail(report.status(), "list tenants with 'm365vault tenant list'");
  const auto& users = report->discovery.users;
  const int rc = report->errors ? kExitPartial : kExitOk;
  if (ctx.json()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& u : users) {
      nlohmann::ordered_json types = nlohmann::ordered_json::object();
      for (const auto& [type, state] : u.types) types[type] = state;
      list.push_back({{"id", u.id},
                      {"upn", u.upn},
                      {"display_name", u.display_name},
                      {"types", types},
                      {"groups", u.groups},
                      {"drive_url", u.drive_url}});
    }
    nlohmann::ordered_json groups = nlohmann::ordered_json::array();
    for (const auto& g : report->discovery.groups) {
      groups.push_back({{"id", g.id}, {"display_name", g.display_name}, {"mail", g.mail}});
    }
    PrintJson(ctx.out(), {{"tenant", o.tenant},
                          {"users", list},
                          {"groups", groups},
                          {"mode", ProfileModeName(report->profile.mode)},
                          {"types", ProfileMatchesJson(report->profile, report->matches)}});
    return rc;
  }
  Table table({"USER", "NAME", "EXCHANGE", "ONEDRIVE"});
  size_t mailboxes = 0, drives = 0;
  for (const auto& u : users) {
    std::vector<std::string> row = {u.upn, u.display_name};
    for (const auto& [type, state] : u.types) {
      row.push_back(state);
      if (state == "yes") ++(type == "exchange" ? mailboxes : drives);
    }
    table.Add(row);
  }
  table.Print(ctx.out());
  ctx.out() << users.size() << " users: " << mailboxes << " mailboxes, " << drives << " OneDrives can be backed up.\n\n"
            << "Scan profile (" << ProfileModeName(report->profile.mode) << "):\n";
  PrintProfileMatches(ctx.out(), report->profile, report->matches);
  return rc;
}

}  // namespace

void RegisterDiscoverCommand(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DiscoverOptions>();
  CLI::App* cmd = app.add_subcommand(
      "discover", "Show what can be protected (users with a mailbox and/or a OneDrive) and what the scan profile protects");
  cmd->add_option("NAME", o->tenant, "Tenant name")->required();
  cmd->footer(R"(
Users without a mailbox or OneDrive are "not applicable" (not an error). Group memberships are
read only when the profile has group rules (the members of the groups those rules match).
--json: {"tenant", "users": [{"id", "upn", "display_name", "types": {"exchange": "yes"|"not applicable"|"error: ...",
"onedrive": ...}, "groups": [NAME or MAIL of matched groups], "drive_url"}], "groups": [{"id", "display_name", "mail"}],
"mode", "types": [as in 'profile test --json']})");
  AddGlobalOptions(cmd, ctx, /*json=*/true);
  SetHandler(cmd, ctx, [&ctx, o] { return RunDiscover(ctx, *o); });
}

}  // namespace m365vault::cli
