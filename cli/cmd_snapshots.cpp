// cli/cmd_snapshots.cpp: m365vault snapshots | ls | cat — front ends on the
// backend's SnapshotReader.
#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>

#include "backend/snapshot_reader.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/snapshot_select.h"

namespace m365vault::cli {
namespace {

struct SnapshotsOptions {
  std::string tenant, type;
};

struct BrowseOptions {
  std::string tenant, snapshot, path, type;
};

std::string ShortId(const std::string& id) { return id.substr(0, 8); }

nlohmann::ordered_json SnapshotJson(const SnapshotInfo& s) {
  nlohmann::ordered_json stats = nlohmann::ordered_json::object();
  for (const auto& [k, v] : s.stats) stats[k] = v;
  return {{"id", s.id},
          {"short_id", ShortId(s.id)},
          {"tenant", s.tenant},
          {"type", s.object_type},
          {"time", FormatTime(s.time_ns)},
          {"name", SnapshotTimeName(s.time_ns)},
          {"partial", s.partial},
          {"failed_items", s.failed.size()},
          {"job_id", s.job_id},
          {"parent", s.parent},
          {"stats", stats}};
}

uint64_t Stat(const SnapshotInfo& s, const char* key) {
  auto it = s.stats.find(key);
  return it == s.stats.end() ? 0 : it->second;
}

int RunSnapshots(Context& ctx, const SnapshotsOptions& o) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  std::vector<TenantRecord> tenants;
  if (!o.tenant.empty()) {
    auto t = (*vault)->GetTenant(o.tenant);
    if (!t.ok()) return ctx.Fail(t.status());
    tenants.push_back(*t);
  } else {
    auto all = (*vault)->ListTenants();
    if (!all.ok()) return ctx.Fail(all.status());
    tenants = std::move(all).value();
  }
  int rc = kExitOk;
  std::vector<SnapshotInfo> found;
  for (const auto& t : tenants) {
    auto repo = (*vault)->OpenRepository(t.name);
    auto list = repo.ok() ? (*repo)->ListSnapshots() : Result<std::vector<SnapshotInfo>>(repo.status());
    if (!list.ok()) {
      rc = ctx.Fail(list.status());
      continue;
    }
    for (auto& s : *list) {
      if (o.type.empty() || s.object_type == o.type) {
        if (s.tenant.empty()) s.tenant = t.name;
        found.push_back(std::move(s));
      }
    }
  }
  if (ctx.json()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& s : found) list.push_back(SnapshotJson(s));
    PrintJson(ctx.out(), {{"snapshots", list}});
    return rc;
  }
  if (found.empty()) {
    ctx.out() << "No snapshots" << (o.type.empty() ? "" : " of type " + o.type)
              << (o.tenant.empty() ? "" : " for tenant " + o.tenant) << ".\n";
    return rc;
  }
  Table table({"ID", "TENANT", "TYPE", "TIME", "STATUS", "FILES", "SIZE"});
  for (const auto& s : found) {
    table.Add({ShortId(s.id), s.tenant, s.object_type.empty() ? "-" : s.object_type, FormatTime(s.time_ns),
               s.partial ? "partial (" + std::to_string(s.failed.size()) + " failed)" : "complete",
               std::to_string(Stat(s, "total_files")), FormatBytes(Stat(s, "total_bytes"))});
  }
  table.Print(ctx.out());
  return rc;
}

std::string ModeString(const TreeEntry& e) {
  std::string m = e.kind == EntryKind::kDirectory ? "d" : e.kind == EntryKind::kSymlink ? "l" : "-";
  uint32_t mode = e.mode ? e.mode : (e.kind == EntryKind::kDirectory ? 0755 : 0644);
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) m.push_back((mode & (0400 >> i)) ? rwx[i] : '-');
  return m;
}

const char* KindName(EntryKind k) {
  return k == EntryKind::kDirectory ? "dir" : k == EntryKind::kSymlink ? "symlink" : "file";
}

nlohmann::ordered_json EntryJson(const TreeEntry& e) {
  nlohmann::ordered_json j = {{"name", e.name}, {"type", KindName(e.kind)},
                              {"size", e.size}, {"mtime", FormatTime(e.mtime_ns)},
                              {"mode", e.mode}, {"metadata", e.metadata}};
  if (e.kind == EntryKind::kSymlink) j["target"] = e.link_target;
  return j;
}

// Opens the vault, the tenant's repository and the snapshot, then calls `fn`.
template <typename Fn>
int WithReader(Context& ctx, const BrowseOptions& o, Fn fn) {
  auto vault = ctx.OpenVault();
  if (!vault.ok()) return ctx.Fail(vault.status());
  auto repo = (*vault)->OpenRepository(o.tenant);
  if (!repo.ok()) return ctx.Fail(repo.status());
  auto snap = ResolveSnapshot(**repo, o.snapshot, o.type);
  if (!snap.ok()) return ctx.Fail(snap.status(), "list them with 'm365vault snapshots " + o.tenant + "'");
  SnapshotReader reader(**repo, *snap);
  return fn(reader);
}

int RunLs(Context& ctx, const BrowseOptions& o) {
  return WithReader(ctx, o, [&](SnapshotReader& reader) {
    auto entry = reader.Lookup(o.path);
    if (!entry.ok()) return ctx.Fail(entry.status());
    std::vector<TreeEntry> entries;
    if (entry->kind == EntryKind::kDirectory) {
      auto dir = reader.ListDirectory(o.path);
      if (!dir.ok()) return ctx.Fail(dir.status());
      entries = (*dir)->entries;
    } else {
      entries.push_back(*entry);
    }
    if (ctx.json()) {
      nlohmann::ordered_json list = nlohmann::ordered_json::array();
      for (const auto& e : entries) list.push_back(EntryJson(e));
      PrintJson(ctx.out(), {{"tenant", o.tenant}, {"snapshot", reader.info().id}, {"path", o.path}, {"entries", list}});
      return static_cast<int>(kExitOk);
    }
    Table table({"MODE", "SIZE", "MODIFIED", "NAME"});
    for (const auto& e : entries) {
      std::string name = e.name + (e.kind == EntryKind::kDirectory ? "/" : "");
      if (e.kind == EntryKind::kSymlink) name += " -> " + e.link_target;
      table.Add({ModeString(e), e.kind == EntryKind::kDirectory ? "-" : std::to_string(e.size), FormatTime(e.mtime_ns),
                 name});
    }
    table.Print(ctx.out());
    return static_cast<int>(kExitOk);
  });
}

int RunCat(Context& ctx, const BrowseOptions& o) {
  return WithReader(ctx, o, [&](SnapshotReader& reader) {
    auto entry = reader.Lookup(o.path);
    if (!entry.ok()) return ctx.Fail(entry.status());
    if (entry->kind != EntryKind::kFile) {
      return ctx.Fail(Status::InvalidArgument("'" + o.path + "' is not a file"), "use 'm365vault ls' to list a folder");
    }
    std::vector<uint8_t> buf(1 << 20);
    uint64_t offset = 0;
    while (offset < entry->size) {
      auto n = reader.Read(*entry, offset, buf);
      if (!n.ok()) return ctx.Fail(n.status());
      if (*n == 0) break;
      ctx.out().write(reinterpret_cast<const char*>(buf.data()), static_cast<std::streamsize>(*n));
      if (!ctx.out()) return ctx.Fail(Status::IOError("cannot write to standard output"));
      offset += *n;
    }
    ctx.out().flush();
    return static_cast<int>(kExitOk);
  });
}

void AddBrowseArgs(CLI::App* cmd, BrowseOptions& o, bool path_required) {
  cmd->add_option("NAME", o.tenant, "Tenant name")->required();
  cmd->add_option("SNAPSHOT", o.snapshot, "Snapshot: id prefix (4+ characters), time name, or 'latest'")->required();
  auto* path = cmd->add_option("PATH", o.path, "Path inside the snapshot, '/'-separated (default: the root)");
  if (path_required) path->required();
  cmd->add_option("--type", o.type, "Object type 'latest' refers to (exchange, onedrive, ...)")->type_name("T");
}

// The reader's paths are relative, without leading or trailing slashes.
std::string NormalizePath(std::string p) {
  while (!p.empty() && p.front() == '/') p.erase(p.begin());
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

void RegisterSnapshotCommands(CLI::App& app, Context& ctx) {
  auto so = std::make_shared<SnapshotsOptions>();
  CLI::App* snaps = app.add_subcommand("snapshots", "List snapshots, of one tenant or of all");
  snaps->add_option("NAME", so->tenant, "Tenant name (default: every tenant)");
  snaps->add_option("--type", so->type, "Only snapshots of this object type (exchange, onedrive, ...)")->type_name("T");
  snaps->footer(R"(
One snapshot per backup run of one object type, oldest first. Columns: short id,
tenant, type, time (UTC), status (complete or partial), files, size.
--json: {"snapshots": [{"id", "short_id", "tenant", "type", "time", "name",
"partial", "failed_items", "job_id", "parent", "stats"}]}.)");
  AddGlobalOptions(snaps, ctx, /*json=*/true);
  SetHandler(snaps, ctx, [&ctx, so] { return RunSnapshots(ctx, *so); });

  auto lo = std::make_shared<BrowseOptions>();
  CLI::App* ls = app.add_subcommand("ls", "List a folder of a snapshot");
  AddBrowseArgs(ls, *lo, /*path_required=*/false);
  ls->footer(R"(
Examples:
  m365vault ls contoso latest --type exchange
  m365vault ls contoso 3f2a9c01 alice@contoso.com/Mail/Inbox)");
  AddGlobalOptions(ls, ctx, /*json=*/true);
  SetHandler(ls, ctx, [&ctx, lo] {
    lo->path = NormalizePath(lo->path);
    return RunLs(ctx, *lo);
  });

  auto co = std::make_shared<BrowseOptions>();
  CLI::App* cat = app.add_subcommand("cat", "Write a file of a snapshot to standard output");
  AddBrowseArgs(cat, *co, /*path_required=*/true);
  cat->footer(R"(
Example:
  m365vault cat contoso latest --type onedrive alice@contoso.com/Documents/plan.docx > plan.docx)");
  AddGlobalOptions(cat, ctx, /*json=*/false);
  SetHandler(cat, ctx, [&ctx, co] {
    co->path = NormalizePath(co->path);
    return RunCat(ctx, *co);
  });
}

}  // namespace m365vault::cli
