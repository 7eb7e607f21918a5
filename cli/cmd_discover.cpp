// cli/cmd_discover.cpp: m365vault discover NAME — what can be protected:
// every user, and whether they have a mailbox and a OneDrive.
#include <CLI/CLI.hpp>

#include <memory>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "sync/engine/backup_run.h"

namespace m365vault::cli {
namespace {

struct DiscoverOptions {
  std::string tenant;
};

int RunDiscover(Context& ctx, const DiscoverOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto job = (*vault)->StartJob(o.tenant, "discovery", "");
  if (!job.ok()) return ctx.Fail(job.status(), "list tenants with 'm365vault tenant list'");
  auto users = sync::Discover(**vault, o.tenant);
  if (!users.ok()) {
    (void)(*vault)->FinishJob(*job, JobStatus::kFailed, {}, "", users.status().ToString());
    return ctx.Fail(users.status());
  }
  JobCounts counts;
  counts.objects_total = counts.objects_done = users->size();
  bool errors = false;
  for (const auto& u : *users) {
    for (const auto& [type, state] : u.types) {
      if (state.rfind("error", 0) == 0) {
        errors = true;
        (void)(*vault)->AddJobEvent({*job, 0, u.upn + "/" + type, "", state, "check the app's permissions"});
      }
    }
  }
  (void)(*vault)->FinishJob(*job, errors ? JobStatus::kPartial : JobStatus::kSucceeded, counts, "", "");
  if (ctx.json()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& u : *users) {
      nlohmann::ordered_json types = nlohmann::ordered_json::object();
      for (const auto& [type, state] : u.types) types[type] = state;
      list.push_back({{"id", u.id}, {"upn", u.upn}, {"display_name", u.display_name}, {"types", types}});
    }
    PrintJson(ctx.out(), {{"tenant", o.tenant}, {"users", list}});
    return errors ? kExitPartial : kExitOk;
  }
  Table table({"USER", "NAME", "EXCHANGE", "ONEDRIVE"});
  size_t mailboxes = 0, drives = 0;
  for (const auto& u : *users) {
    std::vector<std::string> row = {u.upn, u.display_name};
    for (const auto& [type, state] : u.types) {
      row.push_back(state);
      if (state == "yes") ++(type == "exchange" ? mailboxes : drives);
    }
    table.Add(row);
  }
  table.Print(ctx.out());
  ctx.out() << users->size() << " users: " << mailboxes << " mailboxes, " << drives << " OneDrives can be backed up.\n";
  return errors ? kExitPartial : kExitOk;
}

}  // namespace

void RegisterDiscoverCommand(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DiscoverOptions>();
  CLI::App* cmd = app.add_subcommand("discover", "Show what can be protected: users with a mailbox and/or a OneDrive");
  cmd->add_option("NAME", o->tenant, "Tenant name")->required();
  cmd->footer(R"(
Users without a mailbox or OneDrive are "not applicable" (not an error).
--json: {"tenant", "users": [{"id", "upn", "display_name", "types": {"exchange": "yes"|"not applicable"|"error: ...", "onedrive": ...}}]})");
  AddGlobalOptions(cmd, ctx, /*json=*/true);
  SetHandler(cmd, ctx, [&ctx, o] { return RunDiscover(ctx, *o); });
}

}  // namespace m365vault::cli
