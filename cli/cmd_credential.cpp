// cli/cmd_credential.cpp: m365vault tenant credential add|list|remove — a
// tenant's further app registrations, for scan profiles to sign in with
// (`profile set NAME --credential CRED`).
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "backend/vault_profiles.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/passphrase.h"
#include "sync/engine/backup_run.h"

namespace m365vault::cli {
namespace {

struct CredentialOptions {
  std::string tenant;
  std::string name;
  std::string client_id;
  CredentialFiles files;
};

nlohmann::ordered_json CredentialJson(const AppCredentialRecord& c) {
  return {{"name", c.name},
          {"client_id", c.client_id},
          {"credential_kind", CredentialKindName(c.kind)},
          {"created", FormatTime(c.created_ns)}};
}

int RunAdd(Context& ctx, const CredentialOptions& o) {
  Status st = Vault::ValidateGuid("--client-id", o.client_id);
  if (!st.ok()) return ctx.Usage(st.message(), "m365vault tenant credential add");
  std::string warning;
  auto credential = ReadCredential(o.files, &warning);
  if (!credential.ok()) return ctx.Fail(credential.status());
  if (!warning.empty()) ctx.Warn(warning);
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  AppCredentialConfig config{o.tenant, o.name, o.client_id, credential->first, std::move(credential->second)};
  st = (*vault)->AddAppCredential(config);
  for (char& c : config.credential) c = 0;
  if (!st.ok()) return ctx.Fail(st);
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"tenant", o.tenant},
                          {"name", o.name},
                          {"client_id", o.client_id},
                          {"credential_kind", CredentialKindName(config.kind)}});
  } else {
    ctx.out() << "Added credential " << o.name << " to " << o.tenant << " (stored encrypted). Use it with "
              << "'m365vault profile set " << o.tenant << " --credential " << o.name << "'.\n";
  }
  return kExitOk;
}

int RunList(Context& ctx, const CredentialOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto list = (*vault)->ListAppCredentials(o.tenant);
  if (!list.ok()) return ctx.Fail(list.status(), "list tenants with 'm365vault tenant list'");
  auto store = ProfileStore::Open(**vault, Clock::Real());
  if (!store.ok()) return ctx.Fail(store.status());
  auto profile = (*store)->GetProfile(o.tenant, sync::SupportedTypes());
  if (!profile.ok()) return ctx.Fail(profile.status());
  if (ctx.json()) {
    nlohmann::ordered_json items = nlohmann::ordered_json::array();
    for (const auto& c : *list) items.push_back(CredentialJson(c));
    PrintJson(ctx.out(), {{"tenant", o.tenant}, {"profile_uses", profile->credential}, {"credentials", items}});
    return kExitOk;
  }
  Table table({"NAME", "CLIENT ID", "KIND", "CREATED", "USED BY THE PROFILE"});
  auto tenant = (*vault)->GetTenant(o.tenant);
  if (!tenant.ok()) return ctx.Fail(tenant.status());
  table.Add({"(tenant's own)", tenant->client_id, CredentialKindName(tenant->credential_kind),
             FormatTime(tenant->created_ns), profile->credential.empty() ? "yes" : ""});
  for (const auto& c : *list) {
    table.Add({c.name, c.client_id, CredentialKindName(c.kind), FormatTime(c.created_ns),
               profile->credential == c.name ? "yes" : ""});
  }
  table.Print(ctx.out());
  return kExitOk;
}

int RunRemove(Context& ctx, const CredentialOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto store = ProfileStore::Open(**vault, Clock::Real());
  if (!store.ok()) return ctx.Fail(store.status());
  auto profile = (*store)->GetProfile(o.tenant, sync::SupportedTypes());
  if (!profile.ok()) return ctx.Fail(profile.status(), "list tenants with 'm365vault tenant list'");
  if (profile->credential == o.name) {
    return ctx.Fail(Status::Unavailable("the scan profile of " + o.tenant + " signs in with credential '" +
                                               o.name + "'", false),
                    "choose another first: 'm365vault profile set " + o.tenant + " --credential OTHER' ('' = the "
                    "tenant's own)");
  }
  Status st = (*vault)->RemoveAppCredential(o.tenant, o.name);
  if (!st.ok()) return ctx.Fail(st, "see 'm365vault tenant credential list " + o.tenant + "'");
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"tenant", o.tenant}, {"removed", o.name}});
  } else {
    ctx.out() << "Removed credential " << o.name << " of " << o.tenant << ".\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterCredentialCommands(CLI::App& tenant, Context& ctx) {
  CLI::App* cred = tenant.add_subcommand(
      "credential", "Further app registrations of a tenant, for its scan profile to sign in with");
  cred->require_subcommand(1);
  auto o = std::make_shared<CredentialOptions>();

  CLI::App* add = cred->add_subcommand("add", "Store another app registration's client id and secret or certificate");
  add->add_option("NAME", o->tenant, "Tenant name")->required();
  add->add_option("CRED", o->name, "A name for the credential: letters, digits, '.', '_', '-'")->required();
  add->add_option("--client-id", o->client_id, "Application (client) id of the app registration, a GUID")
      ->required()
      ->type_name("GUID");
  auto* secret = add->add_option("--client-secret-file", o->files.secret_file,
                                 "File holding the client secret ('-' = stdin); never pass it on the command line")
                     ->type_name("FILE");
  auto* cert = add->add_option("--certificate", o->files.certificate_file,
                               "PEM file with the app's certificate and its private key")
                   ->type_name("FILE.pem");
  secret->excludes(cert);
  cert->excludes(secret);
  add->footer(R"(
The secret or certificate is stored encrypted in the vault and never printed.
Example:
  m365vault tenant credential add contoso backup-app-2 \
      --client-id 0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f41 --certificate app2.pem
  m365vault profile set contoso --credential backup-app-2)");
  AddGlobalOptions(add, ctx, /*json=*/true);
  SetHandler(add, ctx, [&ctx, o, add] {
    if (o->files.secret_file.empty() == o->files.certificate_file.empty()) {
      return ctx.Usage("give exactly one of --client-secret-file FILE and --certificate FILE.pem", CommandPath(add));
    }
    return RunAdd(ctx, *o);
  });

  CLI::App* list = cred->add_subcommand("list", "List a tenant's credentials (never their secrets)");
  list->add_option("NAME", o->tenant, "Tenant name")->required();
  list->footer(R"(
--json: {"tenant", "profile_uses": CRED or "" (the tenant's own), "credentials": [{"name",
"client_id", "credential_kind", "created"}]})");
  AddGlobalOptions(list, ctx, /*json=*/true);
  SetHandler(list, ctx, [&ctx, o] { return RunList(ctx, *o); });

  CLI::App* rm = cred->add_subcommand("remove", "Forget a credential (not while the scan profile uses it)");
  rm->add_option("NAME", o->tenant, "Tenant name")->required();
  rm->add_option("CRED", o->name, "The credential")->required();
  AddGlobalOptions(rm, ctx, /*json=*/true);
  SetHandler(rm, ctx, [&ctx, o] { return RunRemove(ctx, *o); });
}

}  // namespace m365vault::cli
