// cli/commands.h
//
// The command table. Each command (or family) lives in its own cmd_*.cpp and
// has one Register* function that adds its CLI11 subcommand, options, help
// text and handler. Adding a command (discover, backup, daemon, ...) is one
// new file and one line in app.cpp.
//
// Thread safety: main thread only.
#pragma once

#include <functional>
#include <string>

#include "cli/context.h"

namespace CLI {
class App;
}

namespace m365vault::cli {

// Makes `handler` the action to run when `command` is the selected command.
void SetHandler(CLI::App* command, Context& ctx, std::function<int()> handler);
// Adds the global options (--vault, --passphrase-file, and --json when
// `json`) to a command, so its --help shows them and they may follow it.
void AddGlobalOptions(CLI::App* command, Context& ctx, bool json);
// "m365vault tenant add": the full name of a command, for messages.
std::string CommandPath(const CLI::App* command);

void RegisterInitCommand(CLI::App& app, Context& ctx);
void RegisterTenantCommands(CLI::App& app, Context& ctx);
// `tenant credential add|list|remove` under the `tenant` command.
void RegisterCredentialCommands(CLI::App& tenant, Context& ctx);
void RegisterSnapshotCommands(CLI::App& app, Context& ctx);     // snapshots, ls, cat
void RegisterMaintenanceCommands(CLI::App& app, Context& ctx);  // check, prune
void RegisterJobCommands(CLI::App& app, Context& ctx);          // jobs, job show
void RegisterAuditCommand(CLI::App& app, Context& ctx);
void RegisterDiscoverCommand(CLI::App& app, Context& ctx);  // discover
void RegisterBackupCommand(CLI::App& app, Context& ctx);    // backup
void RegisterProfileCommands(CLI::App& app, Context& ctx);  // profile show|set|test, schedule set
void RegisterDaemonCommand(CLI::App& app, Context& ctx);    // daemon
void RegisterStatusCommand(CLI::App& app, Context& ctx);    // status
#ifdef M365VAULT_WITH_FS
void RegisterMountCommand(CLI::App& app, Context& ctx);  // mount (needs the fs module)
#endif

}  // namespace m365vault::cli
