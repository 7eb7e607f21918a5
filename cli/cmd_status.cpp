// cli/cmd_status.cpp: m365vault status [NAME] — protection at a glance.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "backend/vault_profiles.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "sync/schedule/status.h"

namespace m365vault::cli {
namespace {

struct StatusOptions {
  std::string tenant;
};

nlohmann::ordered_json WarningsJson(const std::vector<sync::Warning>& list) {
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
  for (const auto& w : list) {
    warnings.push_back({{"kind", sync::WarningKindName(w.kind)}, {"job", w.job_id}, {"message", w.message}});
  }
  return warnings;
}

nlohmann::ordered_json TimesJson(const std::vector<int>& minutes) {
  nlohmann::ordered_json at = nlohmann::ordered_json::array();
  for (int m : minutes) at.push_back(FormatMinute(m));
  return at;
}

nlohmann::ordered_json TypeJson(const sync::TypeStatus& s) {
  nlohmann::ordered_json warnings = WarningsJson(s.warnings);
  nlohmann::ordered_json schedule = TimesJson(s.schedule);
  nlohmann::ordered_json containers = nlohmann::ordered_json::array();
  for (const auto& c : s.containers) {
    containers.push_back({{"container", c.name},
                          {"schedule", TimesJson(c.schedule)},
                          {"last_run", c.last_job ? FormatTime(c.last_job->started_ns) : ""},
                          {"last_status", c.last_job ? JobStatusName(c.last_job->status) : ""},
                          {"next_run", FormatTime(c.next_run_ns)}});
  }
  nlohmann::ordered_json j = {
      {"type", s.type},
      {"in_profile", s.in_profile},
      {"schedule", schedule},
      {"containers", containers},
      {"last_success", s.last_success ? FormatTime(s.last_success->started_ns) : ""},
      {"last_success_job", s.last_success ? s.last_success->id : 0},
      {"last_status", s.last_job ? JobStatusName(s.last_job->status) : ""},
      {"next_run", FormatTime(s.next_run_ns)},
      {"discovered", s.discovery ? nlohmann::ordered_json(s.discovery->discovered) : nlohmann::ordered_json()},
      {"protected", s.discovery ? nlohmann::ordered_json(s.discovery->protected_) : nlohmann::ordered_json()},
      {"items", s.items},
      {"bytes", s.bytes},
      {"warnings", warnings}};
  return j;
}

int RunStatus(Context& ctx, const StatusOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto store = ProfileStore::Open(**vault, Clock::Real());
  if (!store.ok()) return ctx.Fail(store.status());
  auto status = sync::BuildStatus(**vault, **store, o.tenant, Clock::Real());
  if (!status.ok()) return ctx.Fail(status.status(), "list tenants with 'm365vault tenant list'");
  size_t warnings = 0;
  for (const auto& t : *status) {
    warnings += t.warnings.size();
    for (const auto& s : t.types) warnings += s.warnings.size();
  }
  if (ctx.json()) {
    nlohmann::ordered_json tenants = nlohmann::ordered_json::array();
    for (const auto& t : *status) {
      nlohmann::ordered_json types = nlohmann::ordered_json::array();
      for (const auto& s : t.types) types.push_back(TypeJson(s));
      tenants.push_back({{"tenant", t.tenant},
                         {"mode", t.mode},
                         {"storage_bytes", t.storage_bytes},
                         {"license_expires", t.license_expiry_ns ? FormatTime(t.license_expiry_ns).substr(0, 10) : ""},
                         {"warnings", WarningsJson(t.warnings)},
                         {"types", types},
                         {"errors", t.errors}});
    }
    PrintJson(ctx.out(), {{"tenants", tenants}, {"warnings", warnings}});
    return kExitOk;
  }
  if (status->empty()) {
    ctx.out() << "No tenants yet. Add one with 'm365vault tenant add'.\n";
    return kExitOk;
  }
  for (const auto& t : *status) {
    ctx.out() << t.tenant << " (" << t.mode << " profile, storage used " << FormatBytes(t.storage_bytes)
              << (t.license_expiry_ns ? ", licence until " + FormatTime(t.license_expiry_ns).substr(0, 10) : "")
              << ")\n";
    Table table({"TYPE", "LAST SUCCESS", "LAST RUN", "NEXT RUN", "PROTECTED", "ITEMS", "SIZE", "WARNINGS"});
    for (const auto& s : t.types) {
      std::string prot = s.discovery ? std::to_string(s.discovery->protected_) + "/" + std::to_string(s.discovery->discovered)
                                     : "-";
      table.Add({s.type, s.last_success ? FormatTime(s.last_success->started_ns) : "never",
                 s.last_job ? JobStatusName(s.last_job->status) : "-",
                 s.in_profile ? FormatTime(s.next_run_ns) : "not in profile", prot, std::to_string(s.items),
                 FormatBytes(s.bytes), std::to_string(s.warnings.size())});
    }
    table.Print(ctx.out());
    for (const auto& s : t.types) {
      for (const auto& c : s.containers) {
        ctx.out() << "  " << s.type << " container " << c.name << ": daily at " << FormatScheduleTimes(c.schedule)
                  << " UTC, last run " << (c.last_job ? FormatTime(c.last_job->started_ns) : "never") << " ("
                  << (c.last_job ? JobStatusName(c.last_job->status) : "-") << "), next "
                  << FormatTime(c.next_run_ns) << "\n";
      }
    }
    for (const auto& w : t.warnings) ctx.out() << "  WARNING: " << w.message << "\n";
    for (const auto& s : t.types) {
      for (const auto& w : s.warnings) ctx.out() << "  WARNING " << s.type << ": " << w.message << "\n";
    }
    for (const auto& e : t.errors) ctx.out() << "  note: " << e << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterStatusCommand(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand("status", "What is protected, when it runs next, and what needs attention");
  cmd->add_option("NAME", o->tenant, "Only this tenant");
  cmd->footer(R"(
PROTECTED is protected/discovered objects from the last discovery. Warnings: the last backup
failed; more than 10% of items failed; more than 5% of containers failed; any mailbox or
OneDrive failed; the licence expires within 30 days or has expired ('tenant set NAME
--license-expires DATE'). See docs/scheduling.md.
--json: {"tenants": [{"tenant", "mode", "storage_bytes", "license_expires", "warnings",
"types": [{"type", "in_profile", "schedule", "containers": [{"container", "schedule",
"last_run", "last_status", "next_run"}], "last_success", "last_success_job", "last_status",
"next_run", "discovered", "protected", "items", "bytes", "warnings": [{"kind", "job",
"message"}]}], "errors"}], "warnings": N})");
  AddGlobalOptions(cmd, ctx, /*json=*/true);
  SetHandler(cmd, ctx, [&ctx, o] { return RunStatus(ctx, *o); });
}

}  // namespace m365vault::cli
