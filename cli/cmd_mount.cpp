// cli/cmd_mount.cpp: m365vault mount — the vault as an fs::MountSource.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "cli/commands.h"
#include "fs/mount.h"

namespace m365vault::cli {
namespace {

struct MountCmdOptions {
  std::string mountpoint;
  std::string tenant;
  bool foreground = false;
  bool allow_other = false;
  bool debug = false;
  size_t cache_mb = 64;
};

// Opens the vault and the tenants' repositories in Open(), which RunMount
// calls after daemonizing (SQLite handles and thread pools must not cross a
// fork). The passphrase is read before, in the parent, where a prompt works.
class VaultMountSource final : public fs::MountSource {
 public:
  VaultMountSource(std::string dir, std::string passphrase, std::string only_tenant, size_t cache_bytes)
      : dir_(std::move(dir)),
        passphrase_(std::move(passphrase)),
        only_tenant_(std::move(only_tenant)),
        cache_bytes_(cache_bytes) {}
  ~VaultMountSource() override { Wipe(); }

  Status Open() override {
    auto vault = Vault::Open(dir_, passphrase_);
    Wipe();
    M365_RETURN_IF_ERROR(vault.status());
    vault_ = std::move(vault).value();
    std::vector<TenantRecord> tenants;
    if (!only_tenant_.empty()) {
      M365_ASSIGN_OR_RETURN(TenantRecord t, vault_->GetTenant(only_tenant_));
      tenants.push_back(std::move(t));
    } else {
      M365_ASSIGN_OR_RETURN(tenants, vault_->ListTenants());
    }
    if (tenants.empty()) return Status::NotFound("the vault has no tenants to mount (see 'm365vault tenant add')");
    for (const auto& t : tenants) {
      RepositoryOptions options;
      options.cache_bytes = cache_bytes_;
      M365_ASSIGN_OR_RETURN(auto repo, vault_->OpenRepository(t.name, options));
      repos_.push_back({t.name, std::move(repo)});
    }
    return Status::OK();
  }

  std::vector<fs::MountedTenant> Tenants() override {
    std::vector<fs::MountedTenant> out;
    for (auto& [name, repo] : repos_) out.push_back({name, repo.get()});
    return out;
  }

 private:
  void Wipe() {
    for (char& c : passphrase_) c = 0;
    passphrase_.clear();
  }

  std::string dir_;
  std::string passphrase_;
  std::string only_tenant_;
  size_t cache_bytes_;
  std::unique_ptr<Vault> vault_;
  std::vector<std::pair<std::string, std::unique_ptr<Repository>>> repos_;
};

int RunMountCmd(Context& ctx, const MountCmdOptions& o) {
  if (!o.tenant.empty()) {
    Status st = Vault::ValidateTenantName(o.tenant);
    if (!st.ok()) return ctx.Usage(st.message(), "m365vault mount");
  }
  auto passphrase = ctx.Passphrase(/*confirm=*/false);
  if (!passphrase.ok()) return ctx.Fail(passphrase.status());
  fs::MountOptions options;
  options.mountpoint = o.mountpoint;
  options.foreground = o.foreground;
  options.allow_other = o.allow_other;
  options.debug = o.debug;
  options.cache_bytes = o.cache_mb << 20;
  VaultMountSource source(ctx.VaultDir(), std::move(passphrase).value(), o.tenant, options.cache_bytes);
  if (!o.foreground) ctx.err().flush();
  Status st = fs::RunMount(options, source);
  if (!st.ok()) {
    if (st.code() == Status::Code::kNotSupported || st.code() == Status::Code::kPermissionDenied) {
      return ctx.Fail(st, "FUSE needs /dev/fuse (modprobe fuse; in a container: --device /dev/fuse)");
    }
    if (st.code() == Status::Code::kBusy) return ctx.Fail(st, "unmount it with 'fusermount3 -u " + o.mountpoint + "'");
    return ctx.Fail(st);
  }
  return kExitOk;
}

}  // namespace

void RegisterMountCommand(CLI::App& app, Context& ctx) {
  auto mo = std::make_shared<MountCmdOptions>();
  CLI::App* cmd = app.add_subcommand("mount", "Mount the snapshots read-only as a file system (FUSE)");
  cmd->add_option("MOUNTPOINT", mo->mountpoint, "An empty folder to mount on")->required();
  cmd->add_option("--tenant", mo->tenant, "Mount only this tenant (default: every tenant)")->type_name("NAME");
  cmd->add_flag("--foreground,-f", mo->foreground, "Serve in this process until unmounted (logs to stderr)");
  cmd->add_flag("--allow-other", mo->allow_other,
                "Let other users see the mount (non-root needs user_allow_other in /etc/fuse.conf)");
  cmd->add_flag("--debug", mo->debug, "libfuse debug output");
  cmd->add_option("--cache-mb", mo->cache_mb,
                  "Memory for decoded trees and chunks, per tenant (the kernel's page cache holds file data)")
      ->default_val(64)
      ->check(CLI::Range(8, 65536));
  cmd->footer(R"(
Layout: MOUNTPOINT/<tenant>/<type>/{latest -> <time>, <time>/<object>/...}
(docs/fuse.md). Read-only; new snapshots appear without remounting. Without
--foreground the command returns once the mount is ready and a background
process serves it; unmount with 'fusermount3 -u MOUNTPOINT'.

Example:
  m365vault mount ~/m365 --tenant contoso
  ls ~/m365/contoso/exchange/latest/)");
  AddGlobalOptions(cmd, ctx, /*json=*/false);
  SetHandler(cmd, ctx, [&ctx, mo] { return RunMountCmd(ctx, *mo); });
}

}  // namespace m365vault::cli
