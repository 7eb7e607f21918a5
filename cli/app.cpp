// cli/app.cpp: the top-level parser, the command table and the mapping of
// parse errors to the exit-code contract.
#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/commands.h"

namespace m365vault::cli {
namespace {

constexpr char kDescription[] =
    "m365vault: back up Microsoft 365 tenants into encrypted, deduplicated, dated snapshots.";

constexpr char kFooter[] = R"(
Environment:
  M365VAULT_DIR         the vault folder (default ~/.local/share/m365vault)
  M365VAULT_PASSPHRASE  the vault passphrase (else --passphrase-file, else a prompt)

Exit codes: 0 ok, 1 error, 2 bad usage, 3 backup committed but partial.
Run 'm365vault COMMAND --help' for a command's options. See docs/cli.md.)";

// The deepest subcommand the parser reached, for "run X --help" hints.
const CLI::App* DeepestParsed(const CLI::App* app) {
  for (const CLI::App* sub : app->get_subcommands()) return DeepestParsed(sub);
  return app;
}

}  // namespace

void SetHandler(CLI::App* command, Context& ctx, std::function<int()> handler) {
  command->callback([&ctx, handler = std::move(handler)] { ctx.action = handler; });
}

void AddGlobalOptions(CLI::App* command, Context& ctx, bool json) {
  command
      ->add_option("--vault", ctx.global.vault_dir, "Vault folder (default $M365VAULT_DIR or ~/.local/share/m365vault)")
      ->type_name("DIR")
      ->group("Global options");
  command
      ->add_option("--passphrase-file", ctx.global.passphrase_file,
                   "Read the vault passphrase from the first line of FILE")
      ->type_name("FILE")
      ->group("Global options");
  if (json) {
    command->add_flag("--json", ctx.global.json, "Print JSON (shapes in docs/cli.md)")->group("Global options");
  }
}

std::string CommandPath(const CLI::App* command) {
  std::string path;
  for (const CLI::App* a = command; a != nullptr; a = a->get_parent()) {
    path = a->get_name() + (path.empty() ? "" : " " + path);
  }
  return path;
}

int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Context ctx(out, err);
  CLI::App app(kDescription, "m365vault");
  app.footer(kFooter);
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command; inherited by subcommands
  AddGlobalOptions(&app, ctx, /*json=*/true);

  RegisterInitCommand(app, ctx);
  RegisterTenantCommands(app, ctx);
  RegisterSnapshotCommands(app, ctx);
  RegisterMaintenanceCommands(app, ctx);
  RegisterJobCommands(app, ctx);
  RegisterAuditCommand(app, ctx);
  RegisterDiscoverCommand(app, ctx);
  RegisterBackupCommand(app, ctx);
  RegisterProfileCommands(app, ctx);
  RegisterDaemonCommand(app, ctx);
  RegisterStatusCommand(app, ctx);
#ifdef M365VAULT_WITH_FS
  RegisterMountCommand(app, ctx);
#endif

  if (argc <= 1) {
    err << app.help() << "\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    const CLI::App* cmd = DeepestParsed(&app);
    out << cmd->help(cmd->get_parent() ? CommandPath(cmd->get_parent()) : "");
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    const CLI::App* cmd = DeepestParsed(&app);
    // A word where a command was expected: say so rather than "a subcommand is required".
    std::vector<std::string> rest = cmd->remaining();
    if (rest.empty()) rest = app.remaining();  // fell through to the top level
    if (cmd->get_require_subcommand_min() > 0 && !rest.empty() && !rest.front().empty() && rest.front()[0] != '-') {
      return ctx.Usage("unknown command '" + rest.front() + "'", CommandPath(cmd));
    }
    return ctx.Usage(e.what(), CommandPath(cmd));
  }
  if (!ctx.action) return ctx.Usage("no command given", CommandPath(DeepestParsed(&app)));
  return ctx.action();
}

}  // namespace m365vault::cli
