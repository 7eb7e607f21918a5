// cli/cmd_jobs.cpp: m365vault jobs | job show
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/output.h"

namespace m365vault::cli {
namespace {

struct JobsOptions {
  std::string tenant;
  int limit = 50;
};

struct JobShowOptions {
  int64_t id = 0;
  std::string output;
};

nlohmann::ordered_json JobJson(const JobRecord& j) {
  return {{"id", j.id},
          {"tenant", j.tenant},
          {"kind", j.kind},
          {"type", j.object_type},
          {"scope", j.scope},
          {"status", JobStatusName(j.status)},
          {"started", FormatTime(j.started_ns)},
          {"ended", FormatTime(j.ended_ns)},
          {"objects_total", j.counts.objects_total},
          {"objects_done", j.counts.objects_done},
          {"objects_failed", j.counts.objects_failed},
          {"items", j.counts.items},
          {"bytes", j.counts.bytes},
          {"containers", j.counts.containers_total},
          {"snapshot", j.snapshot_id},
          {"error", j.error},
          {"host", j.host},
          {"pid", j.pid}};
}

nlohmann::ordered_json EventJson(const JobEvent& e) {
  return {
      {"time", FormatTime(e.time_ns)}, {"object", e.object}, {"level", e.level}, {"code", e.code},
      {"reason", e.reason},            {"hint", e.hint}};
}

std::string Duration(const JobRecord& j) { return j.ended_ns ? FormatDuration(j.ended_ns - j.started_ns) : "-"; }

int RunJobs(Context& ctx, const JobsOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  if (!o.tenant.empty()) {
    // An unknown name is an error, not an empty list (a typo would look like "no jobs").
    auto t = (*vault)->GetTenant(o.tenant);
    auto any = (*vault)->ListJobs({o.tenant, 1});
    if (!t.ok() && (!any.ok() || any->empty())) return ctx.Fail(t.status());
  }
  auto jobs = (*vault)->ListJobs({o.tenant, o.limit});
  if (!jobs.ok()) return ctx.Fail(jobs.status());
  if (ctx.json()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& j : *jobs) list.push_back(JobJson(j));
    PrintJson(ctx.out(), {{"jobs", list}});
    return kExitOk;
  }
  if (jobs->empty()) {
    ctx.out() << "No jobs yet.\n";
    return kExitOk;
  }
  Table table({"ID", "TENANT", "KIND", "TYPE", "STATUS", "STARTED", "DURATION", "ITEMS", "FAILED", "SNAPSHOT"});
  for (const auto& j : *jobs) {
    table.Add({std::to_string(j.id), j.tenant, j.kind, j.object_type.empty() ? "-" : j.object_type,
               JobStatusName(j.status), FormatTime(j.started_ns), Duration(j), std::to_string(j.counts.items),
               std::to_string(j.counts.objects_failed), j.snapshot_id.empty() ? "-" : j.snapshot_id.substr(0, 8)});
  }
  table.Print(ctx.out());
  return kExitOk;
}

void PrintJobText(std::ostream& out, const JobRecord& j, const std::vector<JobEvent>& events) {
  out << "Job:       " << j.id << "\n"
      << "Tenant:    " << j.tenant << "\n"
      << "Kind:      " << j.kind << (j.object_type.empty() ? "" : " (" + j.object_type + ")")
      << (j.scope.empty() ? "" : ", " + j.scope) << "\n"
      << "Status:    " << JobStatusName(j.status) << "\n"
      << "Started:   " << FormatTime(j.started_ns) << "\n"
      << "Ended:     " << (j.ended_ns ? FormatTime(j.ended_ns) + " (" + Duration(j) + ")" : "-") << "\n"
      << "Objects:   " << j.counts.objects_done << " done, " << j.counts.objects_failed << " failed, of "
      << j.counts.objects_total << "\n"
      << "Items:     " << j.counts.items << " (" << FormatBytes(j.counts.bytes) << ")\n"
      << "Snapshot:  " << (j.snapshot_id.empty() ? "-" : j.snapshot_id) << "\n";
  if (!j.error.empty()) out << "Error:     " << j.error << "\n";
  out << "Events:    " << events.size() << "\n";
  for (const auto& e : events) {
    out << "  " << FormatTime(e.time_ns) << "  " << (e.object.empty() ? "-" : e.object);
    if (!e.level.empty()) out << "  (" << e.level << ")";
    if (!e.code.empty()) out << "  [" << e.code << "]";
    out << "\n    " << e.reason << "\n";
    if (!e.hint.empty()) out << "    hint: " << e.hint << "\n";
  }
}

int RunJobShow(Context& ctx, const JobShowOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto job = (*vault)->GetJob(o.id);
  if (!job.ok()) return ctx.Fail(job.status());
  auto events = (*vault)->ListJobEvents(o.id);
  if (!events.ok()) return ctx.Fail(events.status());
  std::ostringstream text;
  if (ctx.json()) {
    nlohmann::ordered_json doc = JobJson(*job);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& e : *events) list.push_back(EventJson(e));
    doc["events"] = list;
    PrintJson(text, doc);
  } else {
    PrintJobText(text, *job, *events);
  }
  if (o.output.empty()) {
    ctx.out() << text.str();
    return kExitOk;
  }
  // The report may name users and items: write it private to the user.
  int fd = ::open(o.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ctx.Fail(Status::IOError("cannot write " + o.output));
  std::string s = text.str();
  bool ok = ::write(fd, s.data(), s.size()) == static_cast<ssize_t>(s.size());
  ok = ::close(fd) == 0 && ok;
  if (!ok) return ctx.Fail(Status::IOError("cannot write " + o.output));
  if (!ctx.json()) ctx.err() << "Wrote job " << o.id << " report to " << o.output << "\n";
  return kExitOk;
}

}  // namespace

void RegisterJobCommands(CLI::App& app, Context& ctx) {
  auto jo = std::make_shared<JobsOptions>();
  CLI::App* jobs = app.add_subcommand("jobs", "List recent jobs (backups, discoveries, checks, prunes)");
  jobs->add_option("NAME", jo->tenant, "Only this tenant's jobs");
  jobs->add_option("--limit", jo->limit, "At most N jobs, newest first (default 50; 0 = all)")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  jobs->footer(R"(
--json: {"jobs": [{"id", "tenant", "kind", "type", "scope", "status", "started", "ended",
"objects_total", "objects_done", "objects_failed", "items", "bytes", "containers",
"snapshot", "error", "host", "pid"}]}. Scope: "" every protected object, "type-schedule"
(the type's scheduled run, without containers on their own schedules) or "container:NAME". Status is running, succeeded, partial, failed, or
interrupted (still marked running but its process is gone: the run was killed).)");
  AddGlobalOptions(jobs, ctx, /*json=*/true);
  SetHandler(jobs, ctx, [&ctx, jo] { return RunJobs(ctx, *jo); });

  CLI::App* job = app.add_subcommand("job", "Show one job");
  job->require_subcommand(1);
  AddGlobalOptions(job, ctx, /*json=*/true);
  auto so = std::make_shared<JobShowOptions>();
  CLI::App* show = job->add_subcommand("show", "Show a job with every event (failed items, reasons, hints)");
  show->add_option("ID", so->id, "Job id (see 'm365vault jobs')")->required()->check(CLI::PositiveNumber);
  show->add_option("--output", so->output, "Write the report to FILE (created 0600) instead of stdout")
      ->type_name("FILE");
  show->footer(R"(
--json: the job object of 'jobs --json' plus "events": [{"time", "object",
"level", "code", "reason", "hint"}]; level is top (a mailbox, a OneDrive),
container (a folder, a calendar) or content (an item).)");
  AddGlobalOptions(show, ctx, /*json=*/true);
  SetHandler(show, ctx, [&ctx, so] { return RunJobShow(ctx, *so); });
}

}  // namespace m365vault::cli
