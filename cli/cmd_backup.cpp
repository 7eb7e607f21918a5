// cli/cmd_backup.cpp: m365vault backup NAME [--type T ...] — one run per
// object type (sync::RunBackup), each committing one snapshot.
#include <CLI/CLI.hpp>
#include <chrono>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "sync/engine/backup_run.h"

namespace m365vault::cli {
namespace {

struct BackupOptions {
  std::string tenant;
  std::vector<std::string> types;
  int parallel = sync::RunOptions().parallel_objects;
  int max_requests = sync::RunOptions().max_requests_in_flight;
  bool no_progress = false;
  std::string container;
  bool allow_mass_removal = false;
};

// "12/40 objects, 3,210 items, 1.2 GiB, 24.0 MiB/s, ETA 3m10s": the ETA
// extrapolates the time per finished object over the ones left.
std::string ProgressLine(const sync::RunProgress& p, double seconds) {
  std::string line = std::to_string(p.objects_done) + "/" + std::to_string(p.objects_total) + " objects, " +
                     std::to_string(p.items) + " items, " + FormatBytes(p.bytes);
  if (seconds >= 1) line += ", " + FormatBytes(static_cast<uint64_t>(static_cast<double>(p.bytes) / seconds)) + "/s";
  if (p.objects_done > 0 && p.objects_done < p.objects_total) {
    const auto eta = static_cast<uint64_t>(seconds / static_cast<double>(p.objects_done) *
                                           static_cast<double>(p.objects_total - p.objects_done));
    line += ", ETA " + (eta >= 60 ? std::to_string(eta / 60) + "m" : "") + std::to_string(eta % 60) + "s";
  }
  if (p.failed) line += ", " + std::to_string(p.failed) + " failed";
  return line;
}

const char* StatusWord(JobStatus s) { return JobStatusName(s); }

int RunBackupCommand(Context& ctx, const BackupOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto tenant = (*vault)->GetTenant(o.tenant);
  if (!tenant.ok()) return ctx.Fail(tenant.status(), "list tenants with 'm365vault tenant list'");
  std::vector<std::string> types = o.types.empty() ? sync::SupportedTypes() : o.types;
  for (const auto& t : types) {
    bool known = false;
    for (const auto& s : sync::SupportedTypes()) known = known || s == t;
    if (!known) return ctx.Usage("unknown --type '" + t + "' (supported: exchange, onedrive)", "m365vault backup");
  }
  const bool tty = !ctx.json() && !o.no_progress && isatty(STDERR_FILENO);
  int rc = kExitOk;
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const auto& type : types) {
    sync::RunOptions ro;
    ro.parallel_objects = o.parallel;
    ro.max_requests_in_flight = o.max_requests;
    ro.scope = o.container.empty() ? "" : sync::ContainerScope(o.container);
    ro.allow_mass_departure = o.allow_mass_removal;
    // The scan profile decides what is protected.
    if (Status st = sync::ApplyProfile(**vault, o.tenant, type, &ro); !st.ok()) return ctx.Fail(st);
    if (tty) {
      const auto start = std::chrono::steady_clock::now();
      ro.progress = [start](const sync::RunProgress& p) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "\r\033[K%-9s %s", p.type.c_str(), ProgressLine(p, seconds).c_str());
        std::fflush(stderr);
      };
    }
    auto r = sync::RunBackup(**vault, o.tenant, type, ro);
    if (tty) std::fprintf(stderr, "\r\033[K");
    if (!r.ok()) {
      rc = ctx.Fail(r.status().WithContext(type));
      runs.push_back({{"type", type}, {"status", "failed"}, {"error", r.status().ToString()}});
      continue;
    }
    const sync::RunResult& res = *r;
    if (res.status == JobStatus::kFailed) {
      rc = kExitError;
    } else if (res.status == JobStatus::kPartial && rc == kExitOk) {
      rc = kExitPartial;
    }
    if (ctx.json()) {
      nlohmann::ordered_json failures = nlohmann::ordered_json::array();
      for (const auto& f : res.failures) {
        failures.push_back({{"object", f.object}, {"code", f.code}, {"reason", f.reason}, {"hint", f.hint}});
      }
      runs.push_back({{"type", type},
                      {"status", StatusWord(res.status)},
                      {"job_id", res.job_id},
                      {"snapshot", res.snapshot_id},
                      {"parent", res.parent_id},
                      {"objects_total", res.counts.objects_total},
                      {"objects_done", res.counts.objects_done},
                      {"objects_failed", res.counts.objects_failed},
                      {"not_applicable", res.not_applicable},
                      {"removed", res.removed},
                      {"items", res.counts.items},
                      {"bytes", res.counts.bytes},
                      {"seconds", res.seconds},
                      {"failures", failures},
                      {"error", res.error}});
      continue;
    }
    ctx.out() << type << ": " << StatusWord(res.status);
    if (!res.snapshot_id.empty()) ctx.out() << ", snapshot " << res.snapshot_id.substr(0, 8);
    ctx.out() << " (job " << res.job_id << "): " << res.counts.objects_done - res.not_applicable.size()
              << " objects, " << res.not_applicable.size() << " not applicable, " << res.counts.objects_failed
              << " failed; " << res.counts.items << " items written, " << FormatBytes(res.counts.bytes) << " in "
              << static_cast<int>(res.seconds * 10) / 10.0 << " s\n";
    for (const auto& line : res.removed) ctx.out() << "  info: " << line << "\n";
    for (size_t i = 0; i < res.failures.size() && i < 10; ++i) {
      const auto& f = res.failures[i];
      ctx.out() << "  failed: " << f.object << (f.code.empty() ? "" : " [" + f.code + "]") << ": " << f.reason
                << "\n    hint: " << f.hint << "\n";
    }
    if (res.failures.size() > 10) {
      ctx.out() << "  ... " << res.failures.size() - 10 << " more: 'm365vault job show " << res.job_id << "'\n";
    }
    if (!res.error.empty()) ctx.err() << "m365vault: " << type << ": " << res.error << "\n";
  }
  if (ctx.json()) PrintJson(ctx.out(), {{"tenant", o.tenant}, {"runs", runs}});
  return rc;
}

}  // namespace

void RegisterBackupCommand(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<BackupOptions>();
  CLI::App* cmd = app.add_subcommand("backup", "Back up a tenant now: one snapshot per object type");
  cmd->add_option("NAME", o->tenant, "Tenant name (see 'm365vault tenant list')")->required();
  cmd->add_option("--type", o->types, "Object type to back up: exchange, onedrive (repeatable; default: all)")
      ->type_name("T");
  cmd->add_option("--parallel", o->parallel, "Users backed up at once (default 8)")
      ->type_name("N")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--max-requests", o->max_requests,
                  "Requests to Microsoft 365 in flight at once, all users together (default 16; each mailbox "
                  "never gets more than 4)")
      ->type_name("N")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--container", o->container,
                  "Only the objects the scan profile puts into this container (advanced mode)")
      ->type_name("C");
  cmd->add_flag("--no-progress", o->no_progress, "Do not show progress on the terminal");
  cmd->add_flag("--allow-mass-removal", o->allow_mass_removal,
                "Accept a user listing that lacks many users of the previous snapshot (at least 5 and more "
                "than 20%): remove them from the new snapshot. Without it such a run removes nobody and is "
                "partial (MassDeparture)");
  cmd->footer(R"(
Only what changed since the previous snapshot of the type is fetched (delta).
Exit codes: 0 all types succeeded, 3 a snapshot was committed but is partial
(some items failed; they are retried by the next run, see 'm365vault job show
ID'), 1 a run failed.
--json: {"tenant", "runs": [{"type", "status", "job_id", "snapshot", "parent",
"objects_total", "objects_done", "objects_failed", "not_applicable", "removed", "items",
"bytes", "seconds", "failures": [{"object", "code", "reason", "hint"}], "error"}]})");
  AddGlobalOptions(cmd, ctx, /*json=*/true);
  SetHandler(cmd, ctx, [&ctx, o] { return RunBackupCommand(ctx, *o); });
}

}  // namespace m365vault::cli
