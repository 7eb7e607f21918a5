// cli/cmd_daemon.cpp: m365vault daemon — runs the vault's schedules until
// SIGTERM/SIGINT (then stops starting runs and waits for the running ones).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <memory>

#include "backend/vault_profiles.h"
#include "cli/commands.h"
#include "sync/schedule/daemon.h"

namespace m365vault::cli {
namespace {

struct DaemonCmdOptions {
  std::string log_level = "info";
  std::string log_file;
  uint64_t log_max_mb = 10;
  int max_parallel = 2;
  int poll_seconds = 30;
};

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

extern "C" void OnStopSignal(int) { g_stop.store(true); }

int RunDaemon(Context& ctx, const DaemonCmdOptions& o) {
  auto level = sync::ParseLogLevel(o.log_level);
  if (!level.ok()) return ctx.Fail(level.status());
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto lock = sync::DaemonLock::Acquire((*vault)->dir());
  if (!lock.ok()) return ctx.Fail(lock.status());
  sync::DaemonLogOptions lo;
  lo.level = *level;
  lo.file = o.log_file;
  lo.max_bytes = o.log_max_mb << 20;
  auto log = sync::DaemonLog::Open(lo);
  if (!log.ok()) return ctx.Fail(log.status());
  auto store = ProfileStore::Open(**vault, Clock::Real());
  if (!store.ok()) return ctx.Fail(store.status());

  struct sigaction sa = {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  sync::DaemonOptions d;
  d.max_parallel = o.max_parallel;
  d.poll = std::chrono::seconds(o.poll_seconds);
  d.log = log->get();
  sync::Daemon daemon(**vault, **store, d);
  (*log)->Info("vault " + (*vault)->dir() + ", pid " + std::to_string(::getpid()));
  Status st = daemon.Run(g_stop);
  if (!st.ok()) return ctx.Fail(st);
  return kExitOk;
}

}  // namespace

void RegisterDaemonCommand(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<DaemonCmdOptions>();
  CLI::App* cmd = app.add_subcommand("daemon", "Run discoveries and backups on their schedules until stopped");
  cmd->add_option("--log-level", o->log_level, "debug, info (default), warn or error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  cmd->add_option("--log-file", o->log_file, "Log to FILE (rotated by size) instead of stderr")->type_name("FILE");
  cmd->add_option("--log-max-mb", o->log_max_mb, "Rotate the log file at N MiB (default 10; 3 old files kept)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-parallel", o->max_parallel, "At most N runs at once, across tenants (default 2)")
      ->type_name("N")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--poll", o->poll_seconds, "Seconds between scheduling passes (default 30)")
      ->type_name("S")
      ->check(CLI::Range(1, 3600));
  cmd->footer(R"(
One daemon per vault: a second one exits 1 ("another daemon (pid N) is running").
SIGTERM or SIGINT: no new runs start; running ones finish (each commits its snapshot
or nothing), then the daemon exits 0. Schedules: 'm365vault schedule set'; what is
protected: 'm365vault profile'. See docs/scheduling.md.)");
  AddGlobalOptions(cmd, ctx, /*json=*/false);
  SetHandler(cmd, ctx, [&ctx, o] { return RunDaemon(ctx, *o); });
}

}  // namespace m365vault::cli
