// cli/cmd_init.cpp: m365vault init
#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"

namespace m365vault::cli {
namespace {

int RunInit(Context& ctx) {
  std::string dir = ctx.VaultDir();
  auto passphrase = ctx.Passphrase(/*confirm=*/true);
  if (!passphrase.ok()) return ctx.Fail(passphrase.status());
  auto vault = Vault::Create(dir, *passphrase);
  if (!vault.ok()) {
    if (vault.status().code() == Status::Code::kAlreadyExists) {
      return ctx.Fail(vault.status(), "use --vault DIR (or M365VAULT_DIR) to create another vault elsewhere");
    }
    return ctx.Fail(vault.status());
  }
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"vault", (*vault)->dir()}});
  } else {
    ctx.out() << "Created vault " << (*vault)->dir() << "\n"
              << "Keep the passphrase safe: without it the backups cannot be read.\n"
              << "Next: m365vault tenant add NAME --tenant-id ID --client-id ID --client-secret-file FILE\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterInitCommand(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand("init", "Create a new vault (keys and catalog) protected by a passphrase");
  cmd->footer(R"(
Creates the vault folder (default $M365VAULT_DIR or ~/.local/share/m365vault),
private to you (0700), with a random master key wrapped by the passphrase
(Argon2id) and the catalog vault.db. The passphrase comes from
--passphrase-file, M365VAULT_PASSPHRASE, or a prompt (asked twice).
Fails if the folder already holds a vault.

Example:
  m365vault --vault /srv/m365vault init)");
  AddGlobalOptions(cmd, ctx, /*json=*/true);
  SetHandler(cmd, ctx, [&ctx] { return RunInit(ctx); });
}

}  // namespace m365vault::cli
