// sync/engine/exchange_collector.cpp: the "exchange" object type: mail
// folders and messages (.eml), contacts (.vcf) and calendars (.ics).
#include <algorithm>
#include <atomic>
#include <deque>
#include <set>
#include <thread>

#include "sync/engine/collector_support.h"
#include "sync/engine/collectors.h"
#include "sync/engine/icalendar.h"
#include "sync/engine/safe_name.h"
#include "sync/engine/vcard.h"
#include "sync/graph/encoding.h"

namespace m365vault::sync {
namespace {

constexpr size_t kFoldersInParallel = 4;

// ---- exchange ----

// A folder upsert (mail folder, contact folder, calendar): `name_key` gives
// its display name, `parent_key` (if any) its parent folder.
ItemChange FolderUpsert(const nlohmann::json& f, const char* name_key, const char* parent_key) {
  ItemChange c;
  c.id = JsonString(f, "id");
  c.kind = ItemChange::Kind::kUpsert;
  c.folder = true;
  if (parent_key) c.parent = JsonString(f, parent_key);
  c.stem = JsonString(f, name_key);
  c.attrs.metadata["m365.id"] = c.id;
  return c;
}

class MailFolderTraits final : public ItemTraits {
 public:
  ItemChange Parse(const nlohmann::json& f) const override {
    if (JsonString(f, "@odata.type").find("mailSearchFolder") != std::string::npos) {
      ItemChange ignored;  // kIgnore: search folders hold no mail of their own
      ignored.id = JsonString(f, "id");
      return ignored;
    }
    ItemChange c = FolderUpsert(f, "displayName", "parentFolderId");
    if (f.value("isHidden", false)) c.attrs.metadata["m365.hidden"] = "true";
    return c;
  }
};

class MessageTraits final : public ItemTraits {
 public:
  explicit MessageTraits(std::string user_path) : user_path_(std::move(user_path)) {}
  ItemChange Parse(const nlohmann::json& m) const override {
    ItemChange c = ParseIdentity(m, "@removed");
    if (c.kind == ItemChange::Kind::kRemove) return c;
    const std::string received = JsonString(m, "receivedDateTime");
    std::string subject = JsonString(m, "subject");
    std::string when = received.size() >= 16 ? received.substr(0, 10) + " " + received.substr(11, 2) +
                                                   received.substr(14, 2)
                                             : "0000-00-00 0000";
    c.stem = when + " " + (subject.empty() ? "(no subject)" : subject);
    c.ext = ".eml";
    c.always_suffix = true;
    c.etag = JsonString(m, "@odata.etag");
    if (c.etag.empty()) c.etag = JsonString(m, "changeKey");
    if (c.etag.empty()) c.etag = JsonString(m, "lastModifiedDateTime");
    c.content_url = user_path_ + "/messages/" + EncodePathSegment(c.id) + "/$value";
    c.attrs.mtime_ns = ParseGraphTime(JsonString(m, "lastModifiedDateTime"));
    auto& md = c.attrs.metadata;
    md["m365.id"] = c.id;
    md["m365.etag"] = c.etag;
    if (auto w = JsonString(m, "webLink"); !w.empty()) md["m365.weburl"] = w;
    md["m365.subject"] = subject;
    if (auto f = m.find("from"); f != m.end() && f->is_object() && f->contains("emailAddress")) {
      const auto& a = (*f)["emailAddress"];
      std::string name = JsonString(a, "name"), addr = JsonString(a, "address");
      md["m365.from"] = name.empty() ? addr : name + " <" + addr + ">";
    }
    if (!received.empty()) md["m365.received"] = received;
    if (auto im = JsonString(m, "internetMessageId"); !im.empty()) md["m365.internet_message_id"] = im;
    return c;
  }

 private:
  std::string user_path_;
};


// vCard 3.0 text value escaping (RFC 2426 / 6350) and 75-octet line folding.
class ContactTraits final : public ItemTraits {
 public:
  ItemChange Parse(const nlohmann::json& ct) const override {
    ItemChange c = ParseIdentity(ct, "@removed");
    if (c.kind == ItemChange::Kind::kRemove) return c;
    std::string name = JsonString(ct, "displayName");
    if (name.empty()) {
      for (const auto& e : ct.value("emailAddresses", nlohmann::json::array())) {
        if (name.empty()) name = JsonString(e, "address");
      }
    }
    c.stem = name.empty() ? "(no name)" : name;
    c.ext = ".vcf";
    c.always_suffix = true;
    c.etag = JsonString(ct, "@odata.etag");
    if (c.etag.empty()) c.etag = JsonString(ct, "changeKey") + JsonString(ct, "lastModifiedDateTime");
    c.inline_content = ContactToVcard(ct);
    c.attrs.mtime_ns = ParseGraphTime(JsonString(ct, "lastModifiedDateTime"));
    c.attrs.metadata["m365.id"] = c.id;
    c.attrs.metadata["m365.etag"] = c.etag;
    return c;
  }
};

class ContactFolderTraits final : public ItemTraits {
 public:
  ItemChange Parse(const nlohmann::json& f) const override { return FolderUpsert(f, "displayName", "parentFolderId"); }
};


// ---- calendars ----

class CalendarTraits final : public ItemTraits {
 public:
  ItemChange Parse(const nlohmann::json& f) const override {
    ItemChange c = FolderUpsert(f, "name", nullptr);
    if (c.stem.empty()) c.stem = "(no name)";
    return c;
  }
};

// Events of one calendar (a full listing every run, with
// $expand=exceptionOccurrences). The etag covers the master and its
// exceptions, so an unchanged event is not rewritten.
class EventTraits final : public ItemTraits {
 public:
  ItemChange Parse(const nlohmann::json& ev) const override { return Render(ev, {}); }
  static std::string Version(const nlohmann::json& ev) {
    std::string v = JsonString(ev, "changeKey");
    if (v.empty()) v = JsonString(ev, "@odata.etag");
    v += "|" + JsonString(ev, "lastModifiedDateTime");
    for (const auto& x : ev.value("exceptionOccurrences", nlohmann::json::array())) {
      v += "|" + JsonString(x, "id") + "=" + JsonString(x, "changeKey") + JsonString(x, "lastModifiedDateTime");
    }
    return v.size() > 100 ? ShortId(v) + ShortId(v + "#") : v;
  }
  static ItemChange Render(const nlohmann::json& ev, const std::vector<std::string>& cancelled) {
    ItemChange c = ParseIdentity(ev, "@removed");
    if (c.kind == ItemChange::Kind::kRemove) return c;
    const std::string subject = JsonString(ev, "subject");
    const std::string start = EventStartDate(ev);  // in the event's own zone
    c.stem = (start.size() >= 10 ? start : std::string("0000-00-00")) + " " +
             (subject.empty() ? "(no subject)" : subject);
    c.ext = ".ics";
    c.always_suffix = true;
    c.etag = Version(ev);
    c.inline_content = EventToICalendar(ev, cancelled);
    c.attrs.mtime_ns = ParseGraphTime(JsonString(ev, "lastModifiedDateTime"));
    auto& md = c.attrs.metadata;
    md["m365.id"] = c.id;
    md["m365.etag"] = c.etag;
    md["m365.subject"] = subject;
    if (auto t = JsonString(ev, "type"); !t.empty()) md["m365.event_type"] = t;
    if (auto w = JsonString(ev, "webLink"); !w.empty()) md["m365.weburl"] = w;
    if (auto u = JsonString(ev, "iCalUId"); !u.empty()) md["m365.icaluid"] = u;
    return c;
  }
};

// Lists a folder tree breadth-first into one full round: `first_url`, then
// `child_url(id)` for folders with children (always when
// childFolderCount is absent). `root_parent` receives the parent id of the
// top-level folders (the container root). Search folders are skipped by the
// traits (kIgnore).
Status ListFolderTree(CollectorContext& ctx, const std::string& first_url,
                      const std::function<std::string(const std::string&)>& child_url, const ItemTraits& traits,
                      const RequestOptions& request, Round* tree, std::string* root_parent, GraphError* err) {
  tree->full = true;
  std::deque<std::string> queue = {first_url};
  bool first = true;
  while (!queue.empty()) {
    const std::string url = queue.front();
    queue.pop_front();
    auto paged = ctx.client.ForEachPage(
        url, request,
        [&](const nlohmann::json& page) -> Status {
          ++ctx.counters.requests;
          for (const auto& f : page.value("value", nlohmann::json::array())) {
            ItemChange c = traits.Parse(f);
            if (c.id.empty() || c.kind == ItemChange::Kind::kIgnore) continue;
            if (first) *root_parent = c.parent;
            if (!f.contains("childFolderCount") || f.value("childFolderCount", 0) > 0) queue.push_back(child_url(c.id));
            tree->changes[c.id] = std::move(c);
          }
          return Status::OK();
        },
        err);
    if (!paged.ok()) return paged.status();
    first = false;
  }
  return Status::OK();
}

// Syncs the containers of `specs` (key -> spec) in `state`; failures are
// reported. Returns false if any failed.
Result<bool> SyncContainers(CollectorContext& ctx, SyncStateStore::Object& state,
                            const std::vector<ContainerSpec>& specs, const ItemTraits& traits) {
  bool ok = true;
  for (const auto& spec : specs) {
    ContainerState& cs = ctx.state.GetContainer(state, spec.key);
    ++ctx.counters.containers;
    ContainerResult r = SyncContainer(ctx.client, ctx.writer, spec, traits, cs, ctx.counters);
    if (r.store_failure) return r.status;
    for (const auto& f : r.outcome.failures) ctx.report(f);
    if (!r.outcome.failures.empty()) ok = false;
    if (!r.status.ok()) {
      ctx.report(ObjectFailure(spec.root_path, r.status, r.error, kLevelContainer));
      ok = false;
    }
  }
  return ok;
}


constexpr char kMessageSelect[] =
    "$select=id,subject,receivedDateTime,lastModifiedDateTime,from,webLink,changeKey,parentFolderId,"
    "internetMessageId";

class ExchangeCollector final : public Collector {
 public:
  const char* type() const override { return "exchange"; }

  Status Probe(GraphClient& client, const UserInfo& user, GraphError* error, std::string* web_url) const override {
    if (web_url) web_url->clear();  // a mailbox has no URL of its own
    auto r = client.GetJson(UserPath(user) + "/mailFolders/inbox?$select=id", MailboxRequest(user), error);
    if (!r.ok() && error->kind == GraphErrorKind::kSkipResource) return Status::NotSupported("no mailbox");
    return r.status();
  }

  Result<ObjectOutcome> BackupUser(CollectorContext& ctx, const UserInfo& user) const override {
    const std::string object = UserDirName(user);
    const std::string mail_root = object + "/Mail";
    const RequestOptions request = MailboxRequest(user);

    // 1. The folder tree: a full listing every run (O(folders) requests),
    // level by level; the child listings of one level run in parallel (the
    // mailbox limiter keeps them at 4 in flight).
    Round tree;
    tree.full = true;
    std::set<std::string> empty_folders;  // totalItemCount 0
    MailFolderTraits folder_traits;
    std::vector<std::string> level = {UserPath(user) + "/mailFolders?includeHiddenFolders=true&$top=100"};
    std::string root_folder_id;
    bool first = true;
    while (!level.empty()) {
      std::vector<std::string> next;
      std::mutex mu;  // guards tree, next, root_folder_id, failure
      GraphError failure;
      Status listed = ParallelFor(level.size(), first ? 1 : static_cast<int>(kFoldersInParallel), [&](size_t i) {
        GraphError err;
        auto paged = ctx.client.ForEachPage(
            level[i], request,
            [&](const nlohmann::json& page) -> Status {
              ++ctx.counters.requests;
              std::lock_guard<std::mutex> l(mu);
              for (const auto& f : page.value("value", nlohmann::json::array())) {
                ItemChange c = folder_traits.Parse(f);
                if (c.id.empty() || c.kind == ItemChange::Kind::kIgnore) continue;  // search folders
                if (first) root_folder_id = c.parent;  // top level: parent is msgfolderroot
                if (f.value("childFolderCount", 0) > 0) {
                  next.push_back(UserPath(user) + "/mailFolders/" + EncodePathSegment(c.id) +
                                 "/childFolders?includeHiddenFolders=true&$top=100");
                }
                if (auto n = f.find("totalItemCount"); n != f.end() && n->is_number_integer() && *n == 0) {
                  empty_folders.insert(c.id);
                }
                tree.changes[c.id] = std::move(c);
              }
              return Status::OK();
            },
            &err);
        if (!paged.ok()) {
          std::lock_guard<std::mutex> l(mu);
          failure = err;
        }
        return paged.status();
      });
      if (!listed.ok()) {
        if (first && failure.kind == GraphErrorKind::kSkipResource) return ObjectOutcome::kNotApplicable;
        ctx.report(ObjectFailure(object + "/Mail", listed, failure, kLevelTop));
        return ObjectOutcome::kFailed;
      }
      first = false;
      level = std::move(next);
    }
    const std::string state_key = "user:" + user.id;
    M365_ASSIGN_OR_RETURN(SyncStateStore::Object * state, ctx.state.GetObject(state_key));
    M365_RETURN_IF_ERROR(EnsureDirectory(ctx.writer, object));
    M365_RETURN_IF_ERROR(EnsureDirectory(ctx.writer, mail_root));
    ContainerState& folders = ctx.state.GetContainer(*state, "folders");
    M365_RETURN_IF_ERROR(EnsureNodes(folders));
    folders.root_id = root_folder_id;
    ContainerSpec tree_spec{"folders", mail_root, "", request, mail_root};
    M365_ASSIGN_OR_RETURN(ApplyOutcome applied,
                          ApplyRound(ctx.client, ctx.writer, tree_spec, std::move(tree), folders, ctx.counters));
    (void)applied;

    // 2. Messages: one delta stream per folder; up to kFoldersInParallel
    // folders at once (each downloads with its own threads; the mailbox
    // limiter keeps the mailbox at 4 requests in flight), so per-folder
    // round trips overlap instead of adding up.
    bool partial = false;
    std::vector<std::string> keep = {"folders"};
    MessageTraits traits(UserPath(user));
    struct Job {
      ContainerSpec spec;
      SyncStateStore::Object::Entry* entry;
      ContainerResult result;
    };
    std::vector<Job> jobs;
    for (const auto& [fid, node] : folders.nodes) {
      auto rel = NodePath(folders, fid);
      if (!rel) continue;
      const std::string key = "messages:" + fid;
      keep.push_back(key);
      ContainerState& cs = ctx.state.GetContainer(*state, key);
      if (empty_folders.count(fid) && cs.delta_link.empty() && cs.nodes.empty() && !cs.load_nodes) {
        // Empty and never synced: nothing to fetch. Most folders of a
        // mailbox are (Conversation History, Sync Issues, ...); the first
        // run after one receives mail starts its delta stream.
        ++ctx.counters.containers;
        continue;
      }
      ContainerSpec spec;
      spec.key = key;
      spec.root_path = mail_root + "/" + *rel;
      spec.initial_url = UserPath(user) + "/mailFolders/" + EncodePathSegment(fid) + "/messages/delta?" + kMessageSelect;
      spec.request = request;
      spec.object = spec.root_path;
      jobs.push_back({std::move(spec), &state->containers[key], {}});
    }
    // Contacts and calendars (listings, mostly small requests) run beside
    // the message folders, so their round trips overlap the downloads. They
    // only touch their own containers (references above stay valid: the
    // container map is a std::map and message workers do not look it up).
    std::vector<std::string> aux_keep;
    Result<bool> contacts_ok = true, calendars_ok = true;
    std::thread aux([&] {
      // 3. Contacts: <upn>/Contacts (the default folder) and its subfolders.
      contacts_ok = BackupContacts(ctx, user, *state, &aux_keep);
      // 4. Calendars: <upn>/Calendar/<calendar>/<date> <subject> [<id>].ics
      if (contacts_ok.ok()) calendars_ok = BackupCalendars(ctx, user, *state, &aux_keep);
    });
    ctx.counters.containers += jobs.size();
    {
      std::atomic<size_t> next{0};
      auto worker = [&] {
        for (size_t i = next++; i < jobs.size(); i = next++) {
          Job& job = jobs[i];
          job.result = SyncContainer(ctx.client, ctx.writer, job.spec, traits, job.entry->state, ctx.counters);
          // Done with the folder: its items leave memory (a big mailbox
          // holds the folders in flight, not all of them).
          if (Status st = ctx.state.ReleaseContainer(state_key, *job.entry); !st.ok() && !job.result.store_failure) {
            job.result.status = st;
            job.result.store_failure = true;
          }
        }
      };
      std::vector<std::thread> pool;
      for (size_t t = 1; t < std::min<size_t>(kFoldersInParallel, jobs.size()); ++t) pool.emplace_back(worker);
      worker();
      for (auto& t : pool) t.join();
    }
    aux.join();
    for (auto& job : jobs) {
      const ContainerResult& r = job.result;
      if (r.store_failure) return r.status;
      for (const auto& f : r.outcome.failures) ctx.report(f);
      if (!r.outcome.failures.empty()) partial = true;
      if (!r.status.ok()) {
        ctx.report(ObjectFailure(job.spec.root_path, r.status, r.error, kLevelContainer));
        partial = true;
      }
    }
    if (!contacts_ok.ok()) return contacts_ok.status();
    if (!calendars_ok.ok()) return calendars_ok.status();
    if (!*contacts_ok || !*calendars_ok) partial = true;
    keep.insert(keep.end(), aux_keep.begin(), aux_keep.end());
    SyncStateStore::RetainContainers(*state, keep);
    return partial ? ObjectOutcome::kPartial : ObjectOutcome::kDone;
  }

 private:
  // Calendars have no event delta in Graph v1.0 (only the primary
  // calendarView's): each calendar's events are listed in full every run and
  // applied as a full round by the engine; an event whose version (master +
  // exceptions) is unchanged is not rewritten. Cancelled occurrences of a
  // changed series come from its master and /instances (two requests per
  // changed series; none for single events).
  static Result<bool> BackupCalendars(CollectorContext& ctx, const UserInfo& user, SyncStateStore::Object& state,
                                      std::vector<std::string>* keep) {
    const std::string root = UserDirName(user) + "/Calendar";
    const RequestOptions request = MailboxRequest(user);
    auto is_cal_key = [](const std::string& k) { return k == "calendars" || k.rfind("events:", 0) == 0; };
    ++ctx.counters.containers;  // the calendar list
    Round cals;
    cals.full = true;
    CalendarTraits cal_traits;
    GraphError err;
    auto listed = ctx.client.ForEachPage(
        UserPath(user) + "/calendars?$top=100", request,
        [&](const nlohmann::json& page) -> Status {
          ++ctx.counters.requests;
          for (const auto& f : page.value("value", nlohmann::json::array())) {
            ItemChange c = cal_traits.Parse(f);
            if (!c.id.empty()) cals.changes[c.id] = std::move(c);
          }
          return Status::OK();
        },
        &err);
    if (!listed.ok()) {
      for (const auto& [key, e] : state.containers) {
        if (is_cal_key(key)) keep->push_back(key);
      }
      ctx.report(ObjectFailure(root, listed.status(), err, kLevelContainer));
      return false;
    }
    M365_RETURN_IF_ERROR(EnsureDirectory(ctx.writer, root));
    ContainerState& folders = ctx.state.GetContainer(state, "calendars");
    M365_RETURN_IF_ERROR(EnsureNodes(folders));
    ContainerSpec tree_spec{"calendars", root, "", request, root};
    M365_ASSIGN_OR_RETURN(ApplyOutcome applied,
                          ApplyRound(ctx.client, ctx.writer, tree_spec, std::move(cals), folders, ctx.counters));
    (void)applied;
    keep->push_back("calendars");
    bool ok = true;
    for (const auto& [cid, node] : folders.nodes) {
      auto rel = NodePath(folders, cid);
      if (!rel) continue;
      ContainerSpec spec;
      spec.key = "events:" + cid;
      spec.root_path = root + "/" + *rel;
      spec.initial_url = UserPath(user) + "/calendars/" + EncodePathSegment(cid) + "/events?$expand=exceptionOccurrences";
      spec.request = request;
      spec.object = spec.root_path;
      keep->push_back(spec.key);
      ContainerState& cs = ctx.state.GetContainer(state, spec.key);
      ++ctx.counters.containers;
      EventTraits traits;
      GraphError ferr;
      auto round = FetchRound(ctx.client, spec, traits, "", &ferr, &ctx.counters);
      if (!round.ok()) {
        ctx.report(ObjectFailure(spec.root_path, round.status(), ferr, kLevelContainer));
        ok = false;
        continue;
      }
      M365_RETURN_IF_ERROR(EnsureNodes(cs));
      // Changed series masters: EXDATEs for cancelled occurrences.
      bool failed = false;
      for (auto& [eid, ch] : round->changes) {
        if (ch.kind != ItemChange::Kind::kUpsert || !ch.inline_content) continue;
        auto old = cs.nodes.find(eid);
        if (old != cs.nodes.end() && old->second.etag == ch.etag) continue;
        // The listing rendered single events completely; only a series
        // needs its master again, for the recurrence and its instances.
        if (auto t = ch.attrs.metadata.find("m365.event_type");
            t == ch.attrs.metadata.end() || t->second != "seriesMaster") {
          continue;
        }
        auto master = ctx.client.GetJson(UserPath(user) + "/calendars/" + EncodePathSegment(cid) + "/events/" +
                                             EncodePathSegment(eid) + "?$expand=exceptionOccurrences",
                                         request, &ferr);
        if (!master.ok()) {
          ctx.report(ObjectFailure(spec.root_path, master.status(), ferr, kLevelContainer));
          failed = true;
          break;
        }
        ++ctx.counters.requests;
        if (JsonString(*master, "type") != "seriesMaster") continue;
        const auto recurrence = master->value("recurrence", nlohmann::json());
        const std::vector<std::string> expected = ExpectedOccurrenceDates(recurrence, 500);
        if (expected.empty()) continue;
        std::vector<std::string> originals;
        // The dates are local to the series' zone: widen the UTC window by a day.
        const std::string window = "startDateTime=" + FormatDayAfter(expected.front(), -1) + "T00:00:00Z&endDateTime=" +
                                   FormatDayAfter(expected.back()) + "T23:59:59Z";
        auto inst = ctx.client.ForEachPage(
            UserPath(user) + "/calendars/" + EncodePathSegment(cid) + "/events/" + EncodePathSegment(eid) +
                "/instances?" + window + "&$select=id,originalStart,type",
            request,
            [&](const nlohmann::json& page) -> Status {
              ++ctx.counters.requests;
              for (const auto& o : page.value("value", nlohmann::json::array())) {
                if (auto s = JsonString(o, "originalStart"); !s.empty()) originals.push_back(s);
              }
              return Status::OK();
            },
            &ferr);
        if (!inst.ok()) {
          ctx.report(ObjectFailure(spec.root_path, inst.status(), ferr, kLevelContainer));
          failed = true;
          break;
        }
        ch = EventTraits::Render(*master, CancelledDates(expected, OriginalStartDates(*master, originals)));
      }
      if (failed) {
        ok = false;
        continue;
      }
      M365_ASSIGN_OR_RETURN(ApplyOutcome out,
                            ApplyRound(ctx.client, ctx.writer, spec, std::move(round).value(), cs, ctx.counters));
      for (const auto& f : out.failures) ctx.report(f);
      if (!out.failures.empty()) ok = false;
    }
    return ok;
  }

  // "2024-05-01" -> "2024-05-02" (`days` = 1).
  static std::string FormatDayAfter(const std::string& date, int days = 1) {
    struct tm tm {};
    if (sscanf(date.c_str(), "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) return date;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm) + 86400 * days;
    gmtime_r(&t, &tm);
    char buf[16];
    strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
  }

  static Result<bool> BackupContacts(CollectorContext& ctx, const UserInfo& user, SyncStateStore::Object& state,
                                     std::vector<std::string>* keep) {
    const std::string root = UserDirName(user) + "/Contacts";
    const RequestOptions request = MailboxRequest(user);
    Round tree;
    std::string default_id;
    GraphError err;
    ContactFolderTraits folder_traits;
    ++ctx.counters.containers;  // the contact folder tree
    Status listed = ListFolderTree(
        ctx, UserPath(user) + "/contactFolders?$top=100",
        [&](const std::string& id) {
          return UserPath(user) + "/contactFolders/" + EncodePathSegment(id) + "/childFolders?$top=100";
        },
        folder_traits, request, &tree, &default_id, &err);
    // The folder tree and containers of a failed listing keep their state.
    for (const auto& [key, e] : state.containers) {
      if (key.rfind("contact", 0) == 0) keep->push_back(key);
    }
    if (!listed.ok()) {
      ctx.report(ObjectFailure(root, listed, err, kLevelContainer));
      return false;
    }
    M365_RETURN_IF_ERROR(EnsureDirectory(ctx.writer, root));
    ContainerState& folders = ctx.state.GetContainer(state, "contact-folders");
    M365_RETURN_IF_ERROR(EnsureNodes(folders));
    if (!default_id.empty()) folders.root_id = default_id;
    ContainerSpec tree_spec{"contact-folders", root, "", request, root};
    M365_ASSIGN_OR_RETURN(ApplyOutcome applied,
                          ApplyRound(ctx.client, ctx.writer, tree_spec, std::move(tree), folders, ctx.counters));
    (void)applied;
    std::vector<ContainerSpec> specs;
    specs.push_back({"contacts:default", root, UserPath(user) + "/contacts/delta", request, root});
    for (const auto& [fid, node] : folders.nodes) {
      auto rel = NodePath(folders, fid);
      if (!rel) continue;
      const std::string path = root + "/" + *rel;
      specs.push_back({"contacts:" + fid, path,
                       UserPath(user) + "/contactFolders/" + EncodePathSegment(fid) + "/contacts/delta", request, path});
    }
    keep->erase(std::remove_if(keep->begin(), keep->end(), [](const std::string& k) { return k.rfind("contact", 0) == 0; }),
                keep->end());
    keep->push_back("contact-folders");
    for (const auto& s : specs) keep->push_back(s.key);
    ContactTraits traits;
    return SyncContainers(ctx, state, specs, traits);
  }
};


}  // namespace

const Collector& ExchangeCollectorInstance() {
  static const ExchangeCollector exchange;
  return exchange;
}

}  // namespace m365vault::sync
