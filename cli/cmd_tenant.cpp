// cli/cmd_tenant.cpp: m365vault tenant add|list|show|set|remove
#include <CLI/CLI.hpp>
#include <time.h>

#include <cstdio>
#include <memory>
#include <ostream>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/passphrase.h"

namespace m365vault::cli {
namespace {

struct AddOptions {
  std::string name, tenant_id, client_id, secret_file, certificate_file;
  std::string storage, region, graph_url, login_url, ca_file;
  std::string license_expires;
};

struct SetOptions {
  std::string name;
  std::string license_expires;
};

// "YYYY-MM-DD" (00:00 UTC of that day) -> ns since the epoch; "none" -> 0.
Result<int64_t> ParseExpiry(const std::string& text) {
  if (text == "none") return int64_t{0};
  struct tm tm {};
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 || m < 1 || m > 12 || d < 1 ||
      d > 31) {
    return Status::InvalidArgument("--license-expires takes a date YYYY-MM-DD (UTC) or 'none', not '" + text + "'");
  }
  tm.tm_year = y - 1900;
  tm.tm_mon = m - 1;
  tm.tm_mday = d;
  const time_t t = timegm(&tm);
  struct tm back {};
  gmtime_r(&t, &back);
  if (back.tm_mday != d) return Status::InvalidArgument("--license-expires: " + text + " is not a calendar date");
  return static_cast<int64_t>(t) * 1000000000;
}

std::string FormatExpiry(int64_t ns) { return ns ? FormatTime(ns).substr(0, 10) : ""; }

struct RemoveOptions {
  std::string name;
  bool purge = false;
};

nlohmann::ordered_json TenantJson(const TenantRecord& t) {
  return {{"name", t.name},           {"tenant_id", t.tenant_id},
          {"client_id", t.client_id}, {"credential_kind", CredentialKindName(t.credential_kind)},
          {"storage", t.storage},     {"region", t.region},
          {"graph_url", t.graph_url}, {"login_url", t.login_url},
          {"ca_file", t.ca_file},     {"created", FormatTime(t.created_ns)},
          {"license_expires", FormatExpiry(t.license_expiry_ns)}};
}

void PrintTenant(std::ostream& out, const TenantRecord& t) {
  auto line = [&](const char* k, const std::string& v) { out << k << v << "\n"; };
  line("Name:        ", t.name);
  line("Tenant ID:   ", t.tenant_id);
  line("Client ID:   ", t.client_id);
  line("Credential:  ", std::string(CredentialKindName(t.credential_kind)) + " (stored encrypted)");
  line("Storage:     ", t.storage);
  line("Region:      ", t.region.empty() ? "-" : t.region);
  line("Graph URL:   ", t.graph_url);
  line("Login URL:   ", t.login_url);
  line("CA file:     ", t.ca_file.empty() ? "- (system CAs)" : t.ca_file);
  line("Created:     ", FormatTime(t.created_ns));
  line("Licence:     ", t.license_expiry_ns ? "expires " + FormatExpiry(t.license_expiry_ns) : "- (no expiry set)");
}

int RunAdd(Context& ctx, const AddOptions& o) {
  // Malformed arguments are bad usage (exit 2), caught before the passphrase.
  Status st = Vault::ValidateTenantName(o.name);
  if (st.ok()) st = Vault::ValidateGuid("--tenant-id", o.tenant_id);
  if (st.ok()) st = Vault::ValidateGuid("--client-id", o.client_id);
  if (!st.ok()) return ctx.Usage(st.message(), "m365vault tenant add");
  int64_t expiry = 0;
  if (!o.license_expires.empty()) {
    auto e = ParseExpiry(o.license_expires);
    if (!e.ok()) return ctx.Usage(e.status().message(), "m365vault tenant add");
    expiry = *e;
  }

  TenantConfig config;
  config.name = o.name;
  config.tenant_id = o.tenant_id;
  config.client_id = o.client_id;
  {
    std::string warning;
    auto credential = ReadCredential({o.secret_file, o.certificate_file}, &warning);
    if (!credential.ok()) return ctx.Fail(credential.status());
    if (!warning.empty()) ctx.Warn(warning);
    config.credential_kind = credential->first;
    config.credential = std::move(credential->second);
  }
  config.storage = o.storage;
  config.region = o.region;
  config.graph_url = o.graph_url;
  config.login_url = o.login_url;
  config.ca_file = o.ca_file;

  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto rec = (*vault)->AddTenant(config);
  for (char& c : config.credential) c = 0;
  if (!rec.ok()) {
    if (rec.status().code() == Status::Code::kAlreadyExists) {
      return ctx.Fail(rec.status(), "choose another name, or 'm365vault tenant remove " + o.name + "' first");
    }
    return ctx.Fail(rec.status());
  }
  if (expiry) {
    if (Status e = (*vault)->SetLicenseExpiry(rec->name, expiry); !e.ok()) return ctx.Fail(e);
    rec->license_expiry_ns = expiry;
  }
  if (ctx.json()) {
    PrintJson(ctx.out(), TenantJson(*rec));
  } else {
    ctx.out() << "Added tenant " << rec->name << "; its repository is " << rec->storage << "\n";
  }
  return kExitOk;
}

int RunList(Context& ctx) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto tenants = (*vault)->ListTenants();
  if (!tenants.ok()) return ctx.Fail(tenants.status());
  if (ctx.json()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& t : *tenants) list.push_back(TenantJson(t));
    PrintJson(ctx.out(), {{"tenants", list}});
    return kExitOk;
  }
  if (tenants->empty()) {
    ctx.out() << "No tenants yet. Add one with 'm365vault tenant add'.\n";
    return kExitOk;
  }
  Table table({"NAME", "TENANT ID", "CLIENT ID", "CREDENTIAL", "STORAGE"});
  for (const auto& t : *tenants) {
    table.Add({t.name, t.tenant_id, t.client_id, CredentialKindName(t.credential_kind), t.storage});
  }
  table.Print(ctx.out());
  return kExitOk;
}

int RunShow(Context& ctx, const std::string& name) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto t = (*vault)->GetTenant(name);
  if (!t.ok()) return ctx.Fail(t.status());
  if (ctx.json()) {
    PrintJson(ctx.out(), TenantJson(*t));
  } else {
    PrintTenant(ctx.out(), *t);
  }
  return kExitOk;
}

int RunSet(Context& ctx, const SetOptions& o) {
  auto expiry = ParseExpiry(o.license_expires);
  if (!expiry.ok()) return ctx.Usage(expiry.status().message(), "m365vault tenant set");
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  Status st = (*vault)->SetLicenseExpiry(o.name, *expiry);
  if (!st.ok()) return ctx.Fail(st, "list tenants with 'm365vault tenant list'");
  auto t = (*vault)->GetTenant(o.name);
  if (!t.ok()) return ctx.Fail(t.status());
  if (ctx.json()) {
    PrintJson(ctx.out(), TenantJson(*t));
  } else if (*expiry) {
    ctx.out() << "The licence of " << o.name << " expires on " << FormatExpiry(*expiry)
              << "; 'm365vault status' warns from 30 days before.\n";
  } else {
    ctx.out() << "Cleared the licence expiry of " << o.name << ".\n";
  }
  return kExitOk;
}

int RunRemove(Context& ctx, const RemoveOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto t = (*vault)->GetTenant(o.name);
  if (!t.ok()) return ctx.Fail(t.status());
  Status st = (*vault)->RemoveTenant(o.name, o.purge);
  if (!st.ok()) return ctx.Fail(st);
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"removed", o.name}, {"storage", t->storage}, {"purged", o.purge}});
  } else if (o.purge) {
    ctx.out() << "Removed tenant " << o.name << " and deleted its repository " << t->storage << "\n";
  } else {
    ctx.out() << "Removed tenant " << o.name << "; its repository stays in " << t->storage << "\n"
              << "('tenant add' with --storage " << t->storage << " re-attaches it; --purge deletes it)\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterTenantCommands(CLI::App& app, Context& ctx) {
  CLI::App* tenant = app.add_subcommand("tenant", "Add, list, show or remove the tenants this vault backs up");
  tenant->require_subcommand(1);
  AddGlobalOptions(tenant, ctx, /*json=*/true);

  auto add_opts = std::make_shared<AddOptions>();
  CLI::App* add = tenant->add_subcommand("add", "Register a tenant and create its repository");
  add->add_option("NAME", add_opts->name, "Short name for the tenant: letters, digits, '.', '_', '-' (max 64)")
      ->required();
  add->add_option("--tenant-id", add_opts->tenant_id, "Entra ID directory (tenant) id, a GUID")
      ->required()
      ->type_name("GUID");
  add->add_option("--client-id", add_opts->client_id, "Application (client) id of the app registration, a GUID")
      ->required()
      ->type_name("GUID");
  auto* secret = add->add_option("--client-secret-file", add_opts->secret_file,
                                 "File holding the client secret ('-' = stdin); never pass it on the command line")
                     ->type_name("FILE");
  auto* cert = add->add_option("--certificate", add_opts->certificate_file,
                               "PEM file with the app's certificate and its private key")
                   ->type_name("FILE.pem");
  secret->excludes(cert);
  cert->excludes(secret);
  add->add_option("--storage", add_opts->storage, "Folder for the tenant's repository (default VAULT/repos/NAME)")
      ->type_name("PATH");
  add->add_option("--region", add_opts->region, "Storage region label, e.g. eu (informational)")->type_name("R");
  add->add_option("--graph-url", add_opts->graph_url, "Microsoft Graph base URL (default https://graph.microsoft.com)")
      ->type_name("URL");
  add->add_option("--login-url", add_opts->login_url,
                  "Token endpoint base URL (default https://login.microsoftonline.com)")
      ->type_name("URL");
  add->add_option("--ca-file", add_opts->ca_file, "Extra trusted CA certificates (PEM) for Graph and login")
      ->type_name("FILE.pem");
  add->add_option("--license-expires", add_opts->license_expires,
                  "When the tenant's Microsoft 365 licence / subscription ends (status warns 30 days before)")
      ->type_name("YYYY-MM-DD");
  add->footer(R"(
Exactly one of --client-secret-file and --certificate is required. The secret or
certificate is stored encrypted in the vault and never printed. The tenant's
repository is created in --storage (or VAULT/repos/NAME); a folder that already
holds this vault's repository for NAME is re-attached.

Example:
  m365vault tenant add contoso \
      --tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47 \
      --client-id 0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f40 \
      --client-secret-file ~/contoso.secret)");
  AddGlobalOptions(add, ctx, /*json=*/true);
  SetHandler(add, ctx, [&ctx, add_opts, add] {
    if (add_opts->secret_file.empty() == add_opts->certificate_file.empty()) {
      return ctx.Usage("give exactly one of --client-secret-file FILE and --certificate FILE.pem", CommandPath(add));
    }
    return RunAdd(ctx, *add_opts);
  });

  CLI::App* list = tenant->add_subcommand("list", "List the tenants");
  list->footer("\nColumns: name, tenant id, client id, credential kind, storage. --json: {\"tenants\": [...]}.");
  AddGlobalOptions(list, ctx, /*json=*/true);
  SetHandler(list, ctx, [&ctx] { return RunList(ctx); });

  auto show_name = std::make_shared<std::string>();
  CLI::App* show = tenant->add_subcommand("show", "Show one tenant's settings (never its secret)");
  show->add_option("NAME", *show_name, "Tenant name")->required();
  AddGlobalOptions(show, ctx, /*json=*/true);
  SetHandler(show, ctx, [&ctx, show_name] { return RunShow(ctx, *show_name); });

  auto set_opts = std::make_shared<SetOptions>();
  CLI::App* set = tenant->add_subcommand("set", "Change a tenant's settings");
  set->add_option("NAME", set_opts->name, "Tenant name")->required();
  set->add_option("--license-expires", set_opts->license_expires,
                  "When the tenant's licence / subscription ends ('none' clears it); 'status' warns from 30 days "
                  "before")
      ->required()
      ->type_name("YYYY-MM-DD|none");
  AddGlobalOptions(set, ctx, /*json=*/true);
  SetHandler(set, ctx, [&ctx, set_opts] { return RunSet(ctx, *set_opts); });

  RegisterCredentialCommands(*tenant, ctx);

  auto rm_opts = std::make_shared<RemoveOptions>();
  CLI::App* rm = tenant->add_subcommand("remove", "Forget a tenant (its repository is kept unless --purge)");
  rm->add_option("NAME", rm_opts->name, "Tenant name")->required();
  rm->add_flag("--purge", rm_opts->purge, "Also delete the tenant's repository and cache: its backups are gone");
  rm->footer(R"(
Without --purge the repository stays where it is and can be re-attached with
'tenant add NAME --storage PATH'. With --purge only the repository's own files
(config, keys, data, index, snapshots, locks) are deleted.)");
  AddGlobalOptions(rm, ctx, /*json=*/true);
  SetHandler(rm, ctx, [&ctx, rm_opts] { return RunRemove(ctx, *rm_opts); });
}

}  // namespace m365vault::cli
