// cli/cmd_profile.cpp: m365vault profile show|set|test NAME, schedule show|set|remove NAME
#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>

#include "backend/vault_profiles.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/profile_report.h"
#include "sync/engine/backup_run.h"
#include "sync/schedule/daemon.h"

namespace m365vault::cli {
namespace {

struct ProfileOptions {
  std::string tenant;
  std::vector<std::string> types;
  std::string discovery;
  std::string mode;
  std::vector<std::string> rules;
  bool clear_rules = false;
  std::optional<std::string> credential;
};

struct ScheduleOptions {
  std::string tenant;
  std::string type;
  std::string at;
  std::string container;
};

nlohmann::ordered_json ProfileJson(const ScanProfile& p) {
  nlohmann::ordered_json rules = nlohmann::ordered_json::array();
  for (const auto& r : p.rules) {
    rules.push_back({{"type", r.type},
                     {"action", r.include ? "include" : "exclude"},
                     {"field", RuleFieldName(r.field)},
                     {"pattern", r.pattern},
                     {"container", r.container},
                     {"rule", FormatRule(r)}});
  }
  return {{"tenant", p.tenant},
          {"types", p.types},
          {"discovery", FormatMinute(p.discovery_minute)},
          {"mode", ProfileModeName(p.mode)},
          {"rules", rules},
          {"credential", p.credential},
          {"default", !p.stored}};
}

void PrintProfile(std::ostream& out, const ScanProfile& p) {
  out << "Tenant:     " << p.tenant << "\n"
      << "Mode:       " << ProfileModeName(p.mode) << (p.stored ? "" : " (default)") << "\n"
      << "Types:      ";
  for (size_t i = 0; i < p.types.size(); ++i) out << (i ? ", " : "") << p.types[i];
  out << "\nDiscovery:  daily at " << FormatMinute(p.discovery_minute) << " UTC\n";
  out << "Sign-in:    " << (p.credential.empty() ? "the tenant's own app registration" : "credential " + p.credential)
      << "\n";
  if (p.mode == ProfileMode::kAdvanced) {
    out << "Rules (first match decides; unmatched objects are not protected):\n";
    for (size_t i = 0; i < p.rules.size(); ++i) out << "  " << i + 1 << ". " << FormatRule(p.rules[i]) << "\n";
  }
}

struct Opened {
  std::unique_ptr<Vault> vault;
  std::unique_ptr<ProfileStore> store;
};

Result<Opened> Open(Context& ctx) {
  Opened o;
  M365_ASSIGN_OR_RETURN(o.vault, ctx.OpenVault());
  M365_ASSIGN_OR_RETURN(o.store, ProfileStore::Open(*o.vault, Clock::Real()));
  return o;
}

nlohmann::ordered_json TimesJson(const std::vector<int>& minutes) {
  nlohmann::ordered_json at = nlohmann::ordered_json::array();
  for (int m : minutes) at.push_back(FormatMinute(m));
  return at;
}

// The schedules of the profile's types and of their containers: JSON
// {"TYPE": ["HH:MM", ...]} and {"TYPE": {"CONTAINER": ["HH:MM", ...]}}, or text.
Status ListSchedules(ProfileStore& store, const ScanProfile& p, nlohmann::ordered_json* types,
                     nlohmann::ordered_json* containers, std::ostream* text) {
  *types = nlohmann::ordered_json::object();
  *containers = nlohmann::ordered_json::object();
  if (text) *text << "Schedules (UTC):\n";
  for (const auto& t : p.types) {
    M365_ASSIGN_OR_RETURN(Schedule sc, store.GetSchedule(p.tenant, t));
    M365_ASSIGN_OR_RETURN(auto own, store.ListContainerSchedules(p.tenant, t));
    (*types)[t] = TimesJson(sc.minutes);
    if (text) *text << "  " << t << ": " << FormatScheduleTimes(sc.minutes) << (sc.stored ? "" : " (default)") << "\n";
    const std::vector<std::string> named = ProfileContainers(p, t);
    for (const auto& c : own) {
      const bool in_profile = std::find(named.begin(), named.end(), c.container) != named.end();
      (*containers)[t][c.container] = TimesJson(c.minutes);
      if (text) {
        *text << "    container " << c.container << ": " << FormatScheduleTimes(c.minutes)
              << (in_profile ? "" : " (not in the profile: not used)") << "\n";
      }
    }
  }
  return Status::OK();
}

// A tenant's profile with its schedules (ListSchedules), for the show commands.
struct ProfileView {
  ScanProfile profile;
  nlohmann::ordered_json schedules, containers;
  std::string text;
};

// Reads the view; on failure returns the exit code of ctx.Fail in *exit.
std::optional<ProfileView> LoadProfileView(Context& ctx, const std::string& tenant, int* exit) {
  auto v = Open(ctx);
  if (!v.ok()) {
    *exit = ctx.Fail(v.status());
    return std::nullopt;
  }
  auto p = v->store->GetProfile(tenant, sync::SupportedTypes());
  if (!p.ok()) {
    *exit = ctx.Fail(p.status(), "list tenants with 'm365vault tenant list'");
    return std::nullopt;
  }
  ProfileView view;
  view.profile = std::move(p).value();
  std::ostringstream text;
  Status st = ListSchedules(*v->store, view.profile, &view.schedules, &view.containers, &text);
  if (!st.ok()) {
    *exit = ctx.Fail(st);
    return std::nullopt;
  }
  view.text = text.str();
  return view;
}

int RunShow(Context& ctx, const ProfileOptions& o) {
  int exit = kExitOk;
  auto view = LoadProfileView(ctx, o.tenant, &exit);
  if (!view) return exit;
  if (ctx.json()) {
    auto doc = ProfileJson(view->profile);
    doc["schedules"] = view->schedules;
    doc["container_schedules"] = view->containers;
    PrintJson(ctx.out(), doc);
    return kExitOk;
  }
  PrintProfile(ctx.out(), view->profile);
  ctx.out() << view->text;
  return kExitOk;
}

int RunSet(Context& ctx, const ProfileOptions& o) {
  ScanProfile p;
  std::vector<ProfileRule> rules;
  for (const auto& text : o.rules) {
    auto r = ParseRule(text);
    if (!r.ok()) return ctx.Fail(r.status());
    rules.push_back(*r);
  }
  int discovery = -1;
  if (!o.discovery.empty()) {
    auto t = ParseScheduleTimes(o.discovery);
    if (!t.ok() || t->size() != 1) return ctx.Fail(Status::InvalidArgument("--discovery-at takes one HH:MM (UTC)"));
    discovery = (*t)[0];
  }
  auto v = Open(ctx);
  if (!v.ok()) return ctx.Fail(v.status());
  const auto supported = sync::SupportedTypes();
  auto current = v->store->GetProfile(o.tenant, supported);
  if (!current.ok()) return ctx.Fail(current.status(), "list tenants with 'm365vault tenant list'");
  p = *current;
  if (!o.types.empty()) {
    p.types = o.types;
    std::sort(p.types.begin(), p.types.end());
    p.types.erase(std::unique(p.types.begin(), p.types.end()), p.types.end());
  }
  if (discovery >= 0) p.discovery_minute = discovery;
  if (o.mode == "express") {
    p.mode = ProfileMode::kExpress;
    p.rules.clear();
  } else if (o.mode == "advanced") {
    p.mode = ProfileMode::kAdvanced;
  }
  if (o.clear_rules || !rules.empty()) p.rules = rules;
  if (o.credential) p.credential = *o.credential;
  // Rules for types no longer protected go with them.
  std::erase_if(p.rules, [&](const ProfileRule& r) { return std::find(p.types.begin(), p.types.end(), r.type) == p.types.end(); });
  Status st = v->store->SetProfile(p, supported);
  if (!st.ok()) return ctx.Fail(st);
  p.stored = true;
  if (ctx.json()) {
    PrintJson(ctx.out(), ProfileJson(p));
  } else {
    ctx.out() << "Saved the scan profile of " << o.tenant << ".\n";
    PrintProfile(ctx.out(), p);
  }
  return kExitOk;
}

int RunTest(Context& ctx, const ProfileOptions& o) {
  auto v = Open(ctx);
  if (!v.ok()) return ctx.Fail(v.status());
  auto report = sync::RunDiscovery(*v->vault, *v->store, o.tenant, Clock::Real());
  if (!report.ok()) return ctx.Fail(report.status(), "list tenants with 'm365vault tenant list'");
  const ScanProfile& p = report->profile;
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"tenant", o.tenant}, {"mode", ProfileModeName(p.mode)}, {"types", ProfileMatchesJson(p, report->matches)}});
    return kExitOk;
  }
  PrintProfileMatches(ctx.out(), p, report->matches);
  return kExitOk;
}

Status CheckType(const std::string& type) {
  const auto supported = sync::SupportedTypes();
  if (std::find(supported.begin(), supported.end(), type) != supported.end()) return Status::OK();
  return Status::InvalidArgument("unknown object type '" + type + "'");
}

int RunScheduleSet(Context& ctx, const ScheduleOptions& o) {
  auto times = ParseScheduleTimes(o.at);
  if (!times.ok()) return ctx.Fail(times.status());
  if (Status st = CheckType(o.type); !st.ok()) return ctx.Fail(st);
  auto v = Open(ctx);
  if (!v.ok()) return ctx.Fail(v.status());
  if (!o.container.empty()) {
    auto p = v->store->GetProfile(o.tenant, sync::SupportedTypes());
    if (!p.ok()) return ctx.Fail(p.status(), "list tenants with 'm365vault tenant list'");
    const std::vector<std::string> named = ProfileContainers(*p, o.type);
    if (std::find(named.begin(), named.end(), o.container) == named.end()) {
      return ctx.Fail(Status::InvalidArgument("the scan profile of " + o.tenant + " puts no " + o.type +
                                              " objects into a container '" + o.container + "'"),
                      "containers come from advanced-mode include rules ('...=>CONTAINER'); see 'm365vault "
                      "profile show " + o.tenant + "'");
    }
  }
  Schedule sc{o.tenant, o.type, *times, true, o.container};
  Status st = v->store->SetSchedule(sc);
  if (!st.ok()) return ctx.Fail(st);
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"tenant", o.tenant}, {"type", o.type}, {"container", o.container}, {"at", TimesJson(*times)}});
  } else {
    ctx.out() << "Backups of " << o.tenant << " " << o.type
              << (o.container.empty() ? "" : " container " + o.container) << " daily at "
              << FormatScheduleTimes(*times) << " UTC.\n";
    if (!o.container.empty()) ctx.out() << "The type's own runs now leave this container's objects out.\n";
  }
  return kExitOk;
}

int RunScheduleRemove(Context& ctx, const ScheduleOptions& o) {
  if (Status st = CheckType(o.type); !st.ok()) return ctx.Fail(st);
  auto v = Open(ctx);
  if (!v.ok()) return ctx.Fail(v.status());
  Status st = v->store->RemoveContainerSchedule(o.tenant, o.type, o.container);
  if (!st.ok()) return ctx.Fail(st, "see 'm365vault schedule show " + o.tenant + "'");
  if (ctx.json()) {
    PrintJson(ctx.out(), {{"tenant", o.tenant}, {"type", o.type}, {"container", o.container}, {"removed", true}});
  } else {
    ctx.out() << "Container " << o.container << " of " << o.tenant << " " << o.type
              << " follows the type's schedule again.\n";
  }
  return kExitOk;
}

int RunScheduleShow(Context& ctx, const ScheduleOptions& o) {
  int exit = kExitOk;
  auto view = LoadProfileView(ctx, o.tenant, &exit);
  if (!view) return exit;
  if (ctx.json()) {
    PrintJson(ctx.out(),
              {{"tenant", o.tenant}, {"schedules", view->schedules}, {"container_schedules", view->containers}});
  } else {
    ctx.out() << view->text;
  }
  return kExitOk;
}

}  // namespace

void RegisterProfileCommands(CLI::App& app, Context& ctx) {
  CLI::App* profile = app.add_subcommand("profile", "Show or change a tenant's scan profile (what is protected)");
  profile->require_subcommand(1);
  auto o = std::make_shared<ProfileOptions>();

  CLI::App* show = profile->add_subcommand("show", "Show the scan profile and schedules of a tenant");
  show->add_option("NAME", o->tenant, "Tenant name")->required();
  show->footer(R"(
--json: {"tenant", "types": [...], "discovery": "HH:MM", "mode": "express"|"advanced",
"rules": [{"type", "action", "field", "pattern", "container", "rule"}], "default": bool,
"schedules": {"TYPE": ["HH:MM", ...]}})");
  AddGlobalOptions(show, ctx, /*json=*/true);
  SetHandler(show, ctx, [&ctx, o] { return RunShow(ctx, *o); });

  CLI::App* set = profile->add_subcommand("set", "Change the scan profile of a tenant");
  set->add_option("NAME", o->tenant, "Tenant name")->required();
  set->add_option("--type", o->types, "Object types to protect (repeat; default: unchanged)")->type_name("T");
  set->add_option("--discovery-at", o->discovery, "Daily discovery time, HH:MM UTC")->type_name("HH:MM");
  set->add_option("--mode", o->mode, "express (everything) or advanced (rules)")
      ->check(CLI::IsMember({"express", "advanced"}));
  set->add_option("--rule", o->rules, "TYPE:include|exclude:user|mailbox|group|site:PATTERN[=>CONTAINER] (repeat, in order)")
      ->type_name("RULE");
  set->add_flag("--clear-rules", o->clear_rules, "Drop the rules (then give new ones with --rule)");
  set->add_option("--credential", o->credential,
                  "App registration to sign in with: a name from 'tenant credential list', or '' for the "
                  "tenant's own")
      ->type_name("CRED");
  set->footer(R"(
Advanced mode: the first rule (in the order given) whose pattern matches an object decides;
objects no rule matches are not protected. Each protected type needs at least one rule.
Patterns are case-insensitive; '*' matches any run of characters, '?' one.
user, mailbox: the UPN. group: the displayName or mail of a group the user is in (nested groups
count). site: onedrive only, the personal site URL (https://contoso-my.sharepoint.com/personal/
alice_contoso_com) or the drive URL (.../Documents); a mailbox has no site.
Example: m365vault profile set contoso --mode advanced \
  --rule 'exchange:exclude:user:ceo@*' --rule 'exchange:include:user:*@contoso.com=>staff' \
  --rule 'exchange:include:group:Sales*=>sales' \
  --rule 'onedrive:exclude:site:https://contoso-my.sharepoint.com/personal/ceo_*' --rule 'onedrive:include:user:*')");
  AddGlobalOptions(set, ctx, /*json=*/true);
  SetHandler(set, ctx, [&ctx, o] { return RunSet(ctx, *o); });

  CLI::App* test = profile->add_subcommand("test", "Run a discovery and show what each rule matches");
  test->add_option("NAME", o->tenant, "Tenant name")->required();
  test->footer(R"(
--json: {"tenant", "mode", "types": [{"type", "discovered", "rules": [{"rule", "field", "matched": [UPN],
"groups": [NAME] (group rules: the groups the pattern matches)}], "protected": [{"object", "container"}],
"unprotected": [UPN]}]})");
  AddGlobalOptions(test, ctx, /*json=*/true);
  SetHandler(test, ctx, [&ctx, o] { return RunTest(ctx, *o); });

  CLI::App* schedule =
      app.add_subcommand("schedule", "Show or set a tenant's backup times (up to four a day per type or container)");
  schedule->require_subcommand(1);
  auto so = std::make_shared<ScheduleOptions>();
  CLI::App* sshow = schedule->add_subcommand("show", "Show the backup times of every type and container");
  sshow->add_option("NAME", so->tenant, "Tenant name")->required();
  sshow->footer(R"(
--json: {"tenant", "schedules": {"TYPE": ["HH:MM", ...]},
"container_schedules": {"TYPE": {"CONTAINER": ["HH:MM", ...]}}})");
  AddGlobalOptions(sshow, ctx, /*json=*/true);
  SetHandler(sshow, ctx, [&ctx, so] { return RunScheduleShow(ctx, *so); });

  CLI::App* sset = schedule->add_subcommand("set", "Set the daily backup times of one object type or container");
  sset->add_option("NAME", so->tenant, "Tenant name")->required();
  sset->add_option("--type", so->type, "Object type")->required()->type_name("T");
  sset->add_option("--container", so->container,
                   "A container of the scan profile (advanced mode, '...=>CONTAINER' rules): its objects get "
                   "these times instead of the type's")
      ->type_name("C");
  sset->add_option("--at", so->at, "Up to four times a day, HH:MM UTC, comma-separated")
      ->required()
      ->type_name("HH:MM,...");
  sset->footer(R"(
Examples: m365vault schedule set contoso --type exchange --at 06:00,12:00,18:00,00:00
          m365vault schedule set contoso --type exchange --container vip --at 05:00,09:00,13:00,17:00)");
  AddGlobalOptions(sset, ctx, /*json=*/true);
  SetHandler(sset, ctx, [&ctx, so] { return RunScheduleSet(ctx, *so); });

  CLI::App* sremove =
      schedule->add_subcommand("remove", "Remove a container's own times (its objects follow the type's again)");
  sremove->add_option("NAME", so->tenant, "Tenant name")->required();
  sremove->add_option("--type", so->type, "Object type")->required()->type_name("T");
  sremove->add_option("--container", so->container, "The container")->required()->type_name("C");
  AddGlobalOptions(sremove, ctx, /*json=*/true);
  SetHandler(sremove, ctx, [&ctx, so] { return RunScheduleRemove(ctx, *so); });
}

}  // namespace m365vault::cli
