// cli/cmd_maintenance.cpp: m365vault check | prune — front ends on
// backend/maintenance.h. Each run is recorded as a job in the vault.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "backend/maintenance.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/snapshot_select.h"

namespace m365vault::cli {
namespace {

struct CheckCmdOptions {
  std::string tenant;
  bool read_data = false;
};

struct PruneCmdOptions {
  std::string tenant;
  std::vector<std::string> forget;
  bool dry_run = false;
  double repack_threshold = 0.5;
};

// Progress lines on a terminal only (overwritten in place).
std::function<void(const std::string&)> Progress(Context& ctx) {
  if (ctx.json() || !::isatty(STDERR_FILENO)) return nullptr;
  return [&ctx](const std::string& line) { ctx.err() << "\r\033[K" << line << std::flush; };
}

void EndProgress(Context& ctx) {
  if (!ctx.json() && ::isatty(STDERR_FILENO)) ctx.err() << "\r\033[K" << std::flush;
}

int RunCheck(Context& ctx, const CheckCmdOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto repo = (*vault)->OpenRepository(o.tenant);
  if (!repo.ok()) return ctx.Fail(repo.status());
  auto job = (*vault)->StartJob(o.tenant, "check", "");
  if (!job.ok()) return ctx.Fail(job.status());

  CheckOptions options;
  options.read_data = o.read_data;
  options.progress = Progress(ctx);
  auto report = Check(**repo, options);
  EndProgress(ctx);
  if (!report.ok()) {
    (void)(*vault)->FinishJob(*job, JobStatus::kFailed, {}, "", report.status().message());
    return ctx.Fail(report.status());
  }
  JobCounts counts;
  counts.items = report->data_blobs + report->trees;
  counts.bytes = report->bytes_read;
  for (const auto& e : report->errors) {
    (void)(*vault)->AddJobEvent({*job, 0, o.tenant, "", e, "run 'm365vault check --read-data' and see docs/cli.md", "top"});
  }
  (void)(*vault)->FinishJob(*job, report->ok() ? JobStatus::kSucceeded : JobStatus::kFailed, counts, "",
                            report->ok() ? "" : std::to_string(report->errors.size()) + " problems found");

  if (ctx.json()) {
    PrintJson(ctx.out(), {{"tenant", o.tenant},
                          {"job", *job},
                          {"ok", report->ok()},
                          {"read_data", o.read_data},
                          {"snapshots", report->snapshots},
                          {"trees", report->trees},
                          {"data_blobs", report->data_blobs},
                          {"packs", report->packs},
                          {"bytes_read", report->bytes_read},
                          {"errors", report->errors}});
  } else {
    ctx.out() << "Checked tenant " << o.tenant << (o.read_data ? " (structure and all data)" : " (structure)") << ": "
              << report->snapshots << " snapshots, " << report->trees << " trees, " << report->data_blobs
              << " data blobs, " << report->packs << " packs";
    if (o.read_data) ctx.out() << ", " << FormatBytes(report->bytes_read) << " read";
    ctx.out() << "\n";
    for (const auto& e : report->errors) ctx.out() << "error: " << e << "\n";
    ctx.out() << (report->ok() ? "No errors found.\n" : std::to_string(report->errors.size()) + " errors found.\n");
  }
  if (!report->ok()) {
    ctx.err() << "m365vault: check found " << report->errors.size() << " errors in tenant " << o.tenant
              << "'s repository\n";
    return kExitError;
  }
  return kExitOk;
}

int RunPrune(Context& ctx, const PruneCmdOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto repo = (*vault)->OpenRepository(o.tenant);
  if (!repo.ok()) return ctx.Fail(repo.status());

  PruneOptions options;
  options.dry_run = o.dry_run;
  options.repack_threshold = o.repack_threshold;
  options.progress = Progress(ctx);
  if (!o.forget.empty()) {
    auto snapshots = (*repo)->ListSnapshots();
    if (!snapshots.ok()) return ctx.Fail(snapshots.status());
    for (const auto& spec : o.forget) {
      auto s = SelectSnapshot(*snapshots, spec, "");
      if (!s.ok()) return ctx.Fail(s.status(), "list them with 'm365vault snapshots " + o.tenant + "'");
      options.forget.push_back(s->id);
    }
  }
  auto job = (*vault)->StartJob(o.tenant, "prune", "");
  if (!job.ok()) return ctx.Fail(job.status());
  auto report = Prune(**repo, options);
  EndProgress(ctx);
  if (!report.ok()) {
    (void)(*vault)->FinishJob(*job, JobStatus::kFailed, {}, "", report.status().message());
    return ctx.Fail(report.status());
  }
  JobCounts counts;
  counts.items = report->blobs_removed;
  counts.bytes = report->bytes_before - std::min(report->bytes_before, report->bytes_after);
  (void)(*vault)->FinishJob(*job, JobStatus::kSucceeded, counts, "", "");
  nlohmann::ordered_json details = {{"tenant", o.tenant},
                                    {"forget", options.forget},
                                    {"dry_run", o.dry_run},
                                    {"packs_deleted", report->packs_deleted},
                                    {"packs_repacked", report->packs_repacked}};
  if (!o.dry_run) (void)(*vault)->Audit("repository.prune", details.dump());

  if (ctx.json()) {
    PrintJson(ctx.out(), {{"tenant", o.tenant},
                          {"job", *job},
                          {"dry_run", o.dry_run},
                          {"forgotten", options.forget},
                          {"snapshots_forgotten", report->snapshots_forgotten},
                          {"packs_deleted", report->packs_deleted},
                          {"packs_repacked", report->packs_repacked},
                          {"packs_kept", report->packs_kept},
                          {"blobs_live", report->blobs_live},
                          {"blobs_removed", report->blobs_removed},
                          {"bytes_before", report->bytes_before},
                          {"bytes_after", report->bytes_after},
                          {"unfinished_bytes_removed", report->unfinished_bytes_removed}});
  } else {
    ctx.out() << (o.dry_run ? "Would prune" : "Pruned") << " tenant " << o.tenant << ": " << report->snapshots_forgotten
              << " snapshots forgotten, " << report->blobs_removed << " blobs removed, " << report->packs_deleted
              << " packs deleted, " << report->packs_repacked << " repacked, " << report->packs_kept << " kept; "
              << FormatBytes(report->bytes_before) << " -> " << FormatBytes(report->bytes_after);
    if (report->unfinished_bytes_removed > 0) {
      ctx.out() << "; " << FormatBytes(report->unfinished_bytes_removed) << " left by interrupted writes removed";
    }
    ctx.out() << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterMaintenanceCommands(CLI::App& app, Context& ctx) {
  auto co = std::make_shared<CheckCmdOptions>();
  CLI::App* check = app.add_subcommand("check", "Verify a tenant's repository");
  check->add_option("NAME", co->tenant, "Tenant name")->required();
  check->add_flag("--read-data", co->read_data,
                  "Also read every pack and verify every blob decrypts and hashes to its id (slow)");
  check->footer(R"(
Without --read-data: structure only (every index entry points into a pack whose
trailer agrees; every snapshot's trees decode and reference indexed blobs).
Exit 0 when no errors are found, 1 otherwise. Recorded as a 'check' job.
--json: {"tenant", "job", "ok", "read_data", "snapshots", "trees", "data_blobs",
"packs", "bytes_read", "errors": [string]}.)");
  AddGlobalOptions(check, ctx, /*json=*/true);
  SetHandler(check, ctx, [&ctx, co] { return RunCheck(ctx, *co); });

  auto po = std::make_shared<PruneCmdOptions>();
  CLI::App* prune = app.add_subcommand("prune", "Forget snapshots and delete data no kept snapshot uses");
  prune->add_option("NAME", po->tenant, "Tenant name")->required();
  prune->add_option("--forget", po->forget, "Snapshot to delete first (id prefix or time name); repeatable")
      ->type_name("ID")
      ->allow_extra_args(false)
      ->take_all();
  prune->add_flag("--dry-run", po->dry_run, "Report what would be removed; change nothing");
  prune
      ->add_option("--repack-threshold", po->repack_threshold,
                   "Repack packs whose live share is below this fraction (default 0.5)")
      ->check(CLI::Range(0.0, 1.0))
      ->type_name("F");
  prune->footer(R"(
Takes an exclusive lock on the repository (backups of the tenant wait or fail
with 'busy'). Safe against a crash at any point. Recorded as a 'prune' job.
--json: {"tenant", "job", "dry_run", "forgotten": [id], "snapshots_forgotten",
"packs_deleted", "packs_repacked", "packs_kept", "blobs_live", "blobs_removed",
"bytes_before", "bytes_after"}.)");
  AddGlobalOptions(prune, ctx, /*json=*/true);
  SetHandler(prune, ctx, [&ctx, po] { return RunPrune(ctx, *po); });
}

}  // namespace m365vault::cli
