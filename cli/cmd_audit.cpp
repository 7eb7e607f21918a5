// cli/cmd_audit.cpp: m365vault audit — the vault's audit log.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"

namespace m365vault::cli {
namespace {

int RunAudit(Context& ctx, int limit) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto entries = (*vault)->ListAudit(limit);
  if (!entries.ok()) return ctx.Fail(entries.status());
  if (ctx.json()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& e : *entries) {
      auto details = nlohmann::ordered_json::parse(e.details, nullptr, /*allow_exceptions=*/false);
      if (details.is_discarded()) details = e.details;
      list.push_back({{"time", FormatTime(e.time_ns)}, {"action", e.action}, {"actor", e.actor}, {"details", details}});
    }
    PrintJson(ctx.out(), {{"audit", list}});
    return kExitOk;
  }
  Table table({"TIME", "ACTION", "ACTOR", "DETAILS"});
  for (const auto& e : *entries) table.Add({FormatTime(e.time_ns), e.action, e.actor, e.details});
  table.Print(ctx.out());
  return kExitOk;
}

}  // namespace

void RegisterAuditCommand(CLI::App& app, Context& ctx) {
  auto limit = std::make_shared<int>(50);
  CLI::App* cmd = app.add_subcommand("audit", "Show the vault's audit log (who changed what, when)");
  cmd->add_option("--limit", *limit, "At most N entries, newest first (default 50; 0 = all)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  cmd->footer(R"(
Every change to the vault is logged: vault.create, tenant.add, tenant.remove,
job.start, job.finish, repository.prune. Details never contain secrets.
--json: {"audit": [{"time", "action", "actor", "details": {...}}]}.)");
  AddGlobalOptions(cmd, ctx, /*json=*/true);
  SetHandler(cmd, ctx, [&ctx, limit] { return RunAudit(ctx, *limit); });
}

}  // namespace m365vault::cli
