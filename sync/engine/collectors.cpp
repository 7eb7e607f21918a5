// sync/engine/collectors.cpp: the exchange and onedrive object types.
#include "sync/engine/collectors.h"

#include <algorithm>
#include <ctime>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <atomic>
#include <deque>
#include <thread>

#include "sync/graph/encoding.h"
#include "sync/engine/icalendar.h"
#include "sync/engine/safe_name.h"

namespace m365vault::sync {
namespace {

constexpr char kImmutableId[] = "IdType=\"ImmutableId\"";
constexpr char kPageSize[] = "odata.maxpagesize=200";
constexpr size_t kFoldersInParallel = 4;

std::string Str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? RepairUtf8(it->get<std::string>()) : std::string();
}

RequestOptions MailboxRequest(const UserInfo& user) {
  RequestOptions o;
  o.prefer = {kPageSize, kImmutableId};
  o.concurrency_key = user.id;
  return o;
}

std::string UserPath(const UserInfo& user) { return "/users/" + EncodePathSegment(user.id); }

// Creates `path` as a directory when it does not exist yet.
Status EnsureDirectory(SnapshotWriter& writer, const std::string& path, const EntryAttributes& attrs = {}) {
  M365_ASSIGN_OR_RETURN(auto entry, writer.Lookup(path));
  if (entry) return Status::OK();
  return writer.MakeDirectory(path, attrs);
}

FailedItem ObjectFailure(const std::string& object, const Status& st, const GraphError& err) {
  return {object, err.MostSpecificCode(), st.message(), HintFor(err)};
}

// ---- exchange ----

class MailFolderTraits final : public ItemTraits {
 public:
  ItemChange Parse(const nlohmann::json& f) const override {
    ItemChange c;
    c.id = Str(f, "id");
    if (Str(f, "@odata.type").find("mailSearchFolder") != std::string::npos) return c;  // kIgnore
    c.kind = ItemChange::Kind::kUpsert;
    c.folder = true;
    c.parent = Str(f, "parentFolderId");
    c.stem = Str(f, "displayName");
    c.attrs.metadata["m365.id"] = c.id;
    if (f.value("isHidden", false)) c.attrs.metadata["m365.hidden"] = "true";
    return c;
  }
};

class MessageTraits final : public ItemTraits {
 public:
  explicit MessageTraits(std::string user_path) : user_path_(std::move(user_path)) {}
  ItemChange Parse(const nlohmann::json& m) const override {
    ItemChange c;
    c.id = Str(m, "id");
    if (m.contains("@removed")) {
      c.kind = ItemChange::Kind::kRemove;
      return c;
    }
    c.kind = ItemChange::Kind::kUpsert;
    const std::string received = Str(m, "receivedDateTime");
    std::string subject = Str(m, "subject");
    std::string when = received.size() >= 16 ? received.substr(0, 10) + " " + received.substr(11, 2) +
                                                   received.substr(14, 2)
                                             : "0000-00-00 0000";
    c.stem = when + " " + (subject.empty() ? "(no subject)" : subject);
    c.ext = ".eml";
    c.always_suffix = true;
    c.etag = Str(m, "@odata.etag");
    if (c.etag.empty()) c.etag = Str(m, "changeKey");
    if (c.etag.empty()) c.etag = Str(m, "lastModifiedDateTime");
    c.content_url = user_path_ + "/messages/" + EncodePathSegment(c.id) + "/$value";
    c.attrs.mtime_ns = ParseGraphTime(Str(m, "lastModifiedDateTime"));
    auto& md = c.attrs.metadata;
    md["m365.id"] = c.id;
    md["m365.etag"] = c.etag;
    if (auto w = Str(m, "webLink"); !w.empty()) md["m365.weburl"] = w;
    md["m365.subject"] = subject;
    if (auto f = m.find("from"); f != m.end() && f->is_object() && f->contains("emailAddress")) {
      const auto& a = (*f)["emailAddress"];
      std::string name = Str(a, "name"), addr = Str(a, "address");
      md["m365.from"] = name.empty() ? addr : name + " <" + addr + ">";
    }
    if (!received.empty()) md["m365.received"] = received;
    if (auto im = Str(m, "internetMessageId"); !im.empty()) md["m365.internet_message_id"] = im;
    return c;
  }

 private:
  std::string user_path_;
};


// vCard 3.0 text value escaping (RFC 2426 / 6350) and 75-octet line folding.
std::string VcardEscape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == ',' || c == ';') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

void AddLine(std::string* out, const std::string& line) {
  size_t pos = 0, limit = 75;
  while (line.size() - pos > limit) {
    size_t end = pos + limit;
    while (end > pos && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) --end;  // UTF-8 boundary
    out->append(line, pos, end - pos);
    *out += "\r\n ";
    pos = end;
    limit = 74;
  }
  out->append(line, pos, std::string::npos);
  *out += "\r\n";
}

std::string ContactToVcard(const nlohmann::json& c) {
  std::string v;
  AddLine(&v, "BEGIN:VCARD");
  AddLine(&v, "VERSION:3.0");
  std::string fn = Str(c, "displayName");
  if (fn.empty()) fn = (Str(c, "givenName") + " " + Str(c, "surname"));
  AddLine(&v, "FN:" + VcardEscape(fn));
  AddLine(&v, "N:" + VcardEscape(Str(c, "surname")) + ";" + VcardEscape(Str(c, "givenName")) + ";" +
                  VcardEscape(Str(c, "middleName")) + ";" + VcardEscape(Str(c, "title")) + ";" +
                  VcardEscape(Str(c, "generation")));
  if (auto nick = Str(c, "nickName"); !nick.empty()) AddLine(&v, "NICKNAME:" + VcardEscape(nick));
  if (auto org = Str(c, "companyName"); !org.empty() || !Str(c, "department").empty()) {
    AddLine(&v, "ORG:" + VcardEscape(org) + ";" + VcardEscape(Str(c, "department")));
  }
  if (auto t = Str(c, "jobTitle"); !t.empty()) AddLine(&v, "TITLE:" + VcardEscape(t));
  for (const auto& e : c.value("emailAddresses", nlohmann::json::array())) {
    if (auto a = Str(e, "address"); !a.empty()) AddLine(&v, "EMAIL;TYPE=INTERNET:" + VcardEscape(a));
  }
  if (auto m = Str(c, "mobilePhone"); !m.empty()) AddLine(&v, "TEL;TYPE=CELL:" + VcardEscape(m));
  for (const char* key : {"businessPhones", "homePhones"}) {
    for (const auto& p : c.value(key, nlohmann::json::array())) {
      if (p.is_string()) {
        AddLine(&v, std::string("TEL;TYPE=") + (key[0] == 'b' ? "WORK" : "HOME") + ":" +
                        VcardEscape(RepairUtf8(p.get<std::string>())));
      }
    }
  }
  for (const auto& [key, type] : {std::pair{"businessAddress", "WORK"}, {"homeAddress", "HOME"}, {"otherAddress", "OTHER"}}) {
    auto a = c.find(key);
    if (a == c.end() || !a->is_object() || a->empty()) continue;
    AddLine(&v, std::string("ADR;TYPE=") + type + ":;;" + VcardEscape(Str(*a, "street")) + ";" +
                    VcardEscape(Str(*a, "city")) + ";" + VcardEscape(Str(*a, "state")) + ";" +
                    VcardEscape(Str(*a, "postalCode")) + ";" + VcardEscape(Str(*a, "countryOrRegion")));
  }
  if (auto b = Str(c, "birthday"); b.size() >= 10) AddLine(&v, "BDAY:" + b.substr(0, 10));
  if (auto n = Str(c, "personalNotes"); !n.empty()) AddLine(&v, "NOTE:" + VcardEscape(n));
  for (const auto& cat : c.value("categories", nlohmann::json::array())) {
    if (cat.is_string()) AddLine(&v, "CATEGORIES:" + VcardEscape(RepairUtf8(cat.get<std::string>())));
  }
  AddLine(&v, "UID:" + VcardEscape(Str(c, "id")));
  if (auto r = Str(c, "lastModifiedDateTime"); !r.empty()) AddLine(&v, "REV:" + r);
  AddLine(&v, "END:VCARD");
  return v;
}

class ContactTraits final : public ItemTraits {
 public:
  ItemChange Parse(const nlohmann::json& ct) const override {
    ItemChange c;
    c.id = Str(ct, "id");
    if (ct.contains("@removed")) {
      c.kind = ItemChange::Kind::kRemove;
      return c;
    }
    c.kind = ItemChange::Kind::kUpsert;
    std::string name = Str(ct, "displayName");
    if (name.empty()) {
      for (const auto& e : ct.value("emailAddresses", nlohmann::json::array())) {
        if (name.empty()) name = Str(e, "address");
      }
    }
    c.stem = name.empty() ? "(no name)" : name;
    c.ext = ".vcf";
    c.always_suffix = true;
    c.etag = Str(ct, "@odata.etag");
    if (c.etag.empty()) c.etag = Str(ct, "changeKey") + Str(ct, "lastModifiedDateTime");
    c.inline_content = ContactToVcard(ct);
    c.attrs.mtime_ns = ParseGraphTime(Str(ct, "lastModifiedDateTime"));
    c.attrs.metadata["m365.id"] = c.id;
    c.attrs.metadata["m365.etag"] = c.etag;
    return c;
  }
};

class ContactFolderTraits final : public ItemTraits {
 public:
  ItemChange Parse(const nlohmann::json& f) const override {
    ItemChange c;
    c.id = Str(f, "id");
    c.kind = ItemChange::Kind::kUpsert;
    c.folder = true;
    c.parent = Str(f, "parentFolderId");
    c.stem = Str(f, "displayName");
    c.attrs.metadata["m365.id"] = c.id;
    return c;
  }
};


// ---- calendars ----

class CalendarTraits final : public ItemTraits {
 public:
  ItemChange Parse(const nlohmann::json& f) const override {
    ItemChange c;
    c.id = Str(f, "id");
    c.kind = ItemChange::Kind::kUpsert;
    c.folder = true;
    c.stem = Str(f, "name");
    if (c.stem.empty()) c.stem = "(no name)";
    c.attrs.metadata["m365.id"] = c.id;
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
    std::string v = Str(ev, "changeKey");
    if (v.empty()) v = Str(ev, "@odata.etag");
    v += "|" + Str(ev, "lastModifiedDateTime");
    for (const auto& x : ev.value("exceptionOccurrences", nlohmann::json::array())) {
      v += "|" + Str(x, "id") + "=" + Str(x, "changeKey") + Str(x, "lastModifiedDateTime");
    }
    return v.size() > 100 ? ShortId(v) + ShortId(v + "#") : v;
  }
  static ItemChange Render(const nlohmann::json& ev, const std::vector<std::string>& cancelled) {
    ItemChange c;
    c.id = Str(ev, "id");
    if (ev.contains("@removed")) {
      c.kind = ItemChange::Kind::kRemove;
      return c;
    }
    c.kind = ItemChange::Kind::kUpsert;
    const std::string subject = Str(ev, "subject");
    std::string start;
    if (auto s = ev.find("start"); s != ev.end() && s->is_object()) start = Str(*s, "dateTime");
    c.stem = (start.size() >= 10 ? start.substr(0, 10) : std::string("0000-00-00")) + " " +
             (subject.empty() ? "(no subject)" : subject);
    c.ext = ".ics";
    c.always_suffix = true;
    c.etag = Version(ev);
    c.inline_content = EventToICalendar(ev, cancelled);
    c.attrs.mtime_ns = ParseGraphTime(Str(ev, "lastModifiedDateTime"));
    auto& md = c.attrs.metadata;
    md["m365.id"] = c.id;
    md["m365.etag"] = c.etag;
    md["m365.subject"] = subject;
    if (auto t = Str(ev, "type"); !t.empty()) md["m365.event_type"] = t;
    if (auto w = Str(ev, "webLink"); !w.empty()) md["m365.weburl"] = w;
    if (auto u = Str(ev, "iCalUId"); !u.empty()) md["m365.icaluid"] = u;
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
    ContainerResult r = SyncContainer(ctx.client, ctx.writer, spec, traits, cs, ctx.counters);
    if (!r.status.ok()) {
      if (r.store_failure) return r.status;
      ctx.report(ObjectFailure(spec.root_path, r.status, r.error));
      ok = false;
      continue;
    }
    for (const auto& f : r.outcome.failures) ctx.report(f);
    if (!r.outcome.failures.empty()) ok = false;
  }
  return ok;
}


constexpr char kMessageSelect[] =
    "$select=id,subject,receivedDateTime,lastModifiedDateTime,from,webLink,changeKey,parentFolderId,"
    "internetMessageId";

class ExchangeCollector final : public Collector {
 public:
  const char* type() const override { return "exchange"; }

  Status Probe(GraphClient& client, const UserInfo& user, GraphError* error) const override {
    auto r = client.GetJson(UserPath(user) + "/mailFolders/inbox?$select=id", MailboxRequest(user), error);
    if (!r.ok() && error->kind == GraphErrorKind::kSkipResource) return Status::NotSupported("no mailbox");
    return r.status();
  }

  Result<ObjectOutcome> BackupUser(CollectorContext& ctx, const UserInfo& user) const override {
    const std::string object = UserDirName(user);
    const std::string mail_root = object + "/Mail";
    const RequestOptions request = MailboxRequest(user);

    // 1. The folder tree: a full listing every run (O(folders) requests).
    Round tree;
    tree.full = true;
    MailFolderTraits folder_traits;
    std::deque<std::string> queue;
    queue.push_back(UserPath(user) + "/mailFolders?includeHiddenFolders=true&$top=100");
    std::string root_folder_id;
    bool first = true;
    while (!queue.empty()) {
      const std::string url = queue.front();
      queue.pop_front();
      GraphError err;
      auto paged = ctx.client.ForEachPage(
          url, request,
          [&](const nlohmann::json& page) -> Status {
            ++ctx.counters.requests;
            for (const auto& f : page.value("value", nlohmann::json::array())) {
              ItemChange c = folder_traits.Parse(f);
              if (c.id.empty() || c.kind == ItemChange::Kind::kIgnore) continue;  // search folders
              if (first) root_folder_id = c.parent;  // top level: parent is msgfolderroot
              if (f.value("childFolderCount", 0) > 0) {
                queue.push_back(UserPath(user) + "/mailFolders/" + EncodePathSegment(c.id) +
                                "/childFolders?includeHiddenFolders=true&$top=100");
              }
              tree.changes[c.id] = std::move(c);
            }
            return Status::OK();
          },
          &err);
      if (!paged.ok()) {
        if (first && err.kind == GraphErrorKind::kSkipResource) return ObjectOutcome::kNotApplicable;
        ctx.report(ObjectFailure(object + "/Mail", paged.status(), err));
        return ObjectOutcome::kFailed;
      }
      first = false;
    }
    M365_ASSIGN_OR_RETURN(SyncStateStore::Object * state, ctx.state.GetObject("user:" + user.id));
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
      ContainerState* state;
      ContainerResult result;
    };
    std::vector<Job> jobs;
    for (const auto& [fid, node] : folders.nodes) {
      auto rel = NodePath(folders, fid);
      if (!rel) continue;
      const std::string key = "messages:" + fid;
      keep.push_back(key);
      ContainerSpec spec;
      spec.key = key;
      spec.root_path = mail_root + "/" + *rel;
      spec.initial_url = UserPath(user) + "/mailFolders/" + EncodePathSegment(fid) + "/messages/delta?" + kMessageSelect;
      spec.request = request;
      spec.object = spec.root_path;
      jobs.push_back({std::move(spec), &ctx.state.GetContainer(*state, key), {}});
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
    {
      std::atomic<size_t> next{0};
      auto worker = [&] {
        for (size_t i = next++; i < jobs.size(); i = next++) {
          jobs[i].result = SyncContainer(ctx.client, ctx.writer, jobs[i].spec, traits, *jobs[i].state, ctx.counters);
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
      if (!r.status.ok()) {
        if (r.store_failure) return r.status;
        ctx.report(ObjectFailure(job.spec.root_path, r.status, r.error));
        partial = true;
        continue;
      }
      for (const auto& f : r.outcome.failures) ctx.report(f);
      if (!r.outcome.failures.empty()) partial = true;
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
  // changed series come from /instances (one request per changed series).
  static Result<bool> BackupCalendars(CollectorContext& ctx, const UserInfo& user, SyncStateStore::Object& state,
                                      std::vector<std::string>* keep) {
    const std::string root = UserDirName(user) + "/Calendar";
    const RequestOptions request = MailboxRequest(user);
    auto is_cal_key = [](const std::string& k) { return k == "calendars" || k.rfind("events:", 0) == 0; };
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
      ctx.report(ObjectFailure(root, listed.status(), err));
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
      EventTraits traits;
      GraphError ferr;
      auto round = FetchRound(ctx.client, spec, traits, "", &ferr, &ctx.counters);
      if (!round.ok()) {
        ctx.report(ObjectFailure(spec.root_path, round.status(), ferr));
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
        auto master = ctx.client.GetJson(UserPath(user) + "/calendars/" + EncodePathSegment(cid) + "/events/" +
                                             EncodePathSegment(eid) + "?$expand=exceptionOccurrences",
                                         request, &ferr);
        if (!master.ok()) {
          ctx.report(ObjectFailure(spec.root_path, master.status(), ferr));
          failed = true;
          break;
        }
        ++ctx.counters.requests;
        if (Str(*master, "type") != "seriesMaster") continue;
        const auto recurrence = master->value("recurrence", nlohmann::json());
        const std::vector<std::string> expected = ExpectedOccurrenceDates(recurrence, 500);
        if (expected.empty()) continue;
        std::vector<std::string> originals;
        const std::string window = "startDateTime=" + expected.front() + "T00:00:00Z&endDateTime=" +
                                   FormatDayAfter(expected.back()) + "T23:59:59Z";
        auto inst = ctx.client.ForEachPage(
            UserPath(user) + "/calendars/" + EncodePathSegment(cid) + "/events/" + EncodePathSegment(eid) +
                "/instances?" + window + "&$select=id,originalStart,type",
            request,
            [&](const nlohmann::json& page) -> Status {
              ++ctx.counters.requests;
              for (const auto& o : page.value("value", nlohmann::json::array())) {
                if (auto s = Str(o, "originalStart"); !s.empty()) originals.push_back(s);
              }
              return Status::OK();
            },
            &ferr);
        if (!inst.ok()) {
          ctx.report(ObjectFailure(spec.root_path, inst.status(), ferr));
          failed = true;
          break;
        }
        ch = EventTraits::Render(*master, CancelledDates(expected, originals));
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

  // "2024-05-01" -> "2024-05-02".
  static std::string FormatDayAfter(const std::string& date) {
    struct tm tm {};
    if (sscanf(date.c_str(), "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) return date;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm) + 86400;
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
      ctx.report(ObjectFailure(root, listed, err));
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

// ---- onedrive ----

class DriveItemTraits final : public ItemTraits {
 public:
  explicit DriveItemTraits(std::string drive_path) : drive_path_(std::move(drive_path)) {}
  ItemChange Parse(const nlohmann::json& it) const override {
    ItemChange c;
    c.id = Str(it, "id");
    if (it.contains("deleted")) {
      c.kind = ItemChange::Kind::kRemove;
      return c;
    }
    if (it.contains("root")) {
      c.kind = ItemChange::Kind::kRoot;
      return c;
    }
    if (it.contains("package") || it.contains("remoteItem")) return c;  // OneNote, shortcuts: not files
    c.kind = ItemChange::Kind::kUpsert;
    c.folder = it.contains("folder");
    if (auto p = it.find("parentReference"); p != it.end() && p->is_object()) c.parent = Str(*p, "id");
    const std::string name = Str(it, "name");
    if (c.folder) {
      c.stem = name;
    } else {
      std::tie(c.stem, c.ext) = SplitExtension(name);
    }
    c.etag = Str(it, "eTag");
    if (!c.folder) c.content_url = drive_path_ + "/items/" + EncodePathSegment(c.id) + "/content";
    c.attrs.mtime_ns = ParseGraphTime(Str(it, "lastModifiedDateTime"));
    auto& md = c.attrs.metadata;
    md["m365.id"] = c.id;
    if (!c.etag.empty()) md["m365.etag"] = c.etag;
    if (auto w = Str(it, "webUrl"); !w.empty()) md["m365.weburl"] = w;
    if (auto t = Str(it, "cTag"); !t.empty()) md["m365.ctag"] = t;
    if (auto f = it.find("file"); f != it.end() && f->is_object()) {
      if (auto h = f->find("hashes"); h != f->end() && h->is_object()) {
        for (const char* k : {"quickXorHash", "sha1Hash", "sha256Hash", "crc32Hash"}) {
          if (auto v = Str(*h, k); !v.empty()) md[std::string("m365.") + k] = v;
        }
      }
      if (auto mt = Str(*f, "mimeType"); !mt.empty()) md["m365.mimetype"] = mt;
    }
    return c;
  }

 private:
  std::string drive_path_;
};

class OneDriveCollector final : public Collector {
 public:
  const char* type() const override { return "onedrive"; }

  Status Probe(GraphClient& client, const UserInfo& user, GraphError* error) const override {
    RequestOptions o;
    o.concurrency_key = user.id;
    auto r = client.GetJson(UserPath(user) + "/drive?$select=id,driveType", o, error);
    if (!r.ok() && error->kind == GraphErrorKind::kSkipResource) return Status::NotSupported("no OneDrive");
    return r.status();
  }

  Result<ObjectOutcome> BackupUser(CollectorContext& ctx, const UserInfo& user) const override {
    const std::string object = UserDirName(user);
    RequestOptions request;
    request.concurrency_key = user.id;
    GraphError err;
    auto drive = ctx.client.GetJson(UserPath(user) + "/drive?$select=id,driveType,webUrl", request, &err);
    if (!drive.ok()) {
      if (err.kind == GraphErrorKind::kSkipResource) return ObjectOutcome::kNotApplicable;
      ctx.report(ObjectFailure(object, drive.status(), err));
      return ObjectOutcome::kFailed;
    }
    const std::string drive_id = Str(*drive, "id");
    const std::string drive_path = "/drives/" + EncodePathSegment(drive_id);
    M365_ASSIGN_OR_RETURN(SyncStateStore::Object * state, ctx.state.GetObject("user:" + user.id));
    EntryAttributes attrs;
    attrs.metadata["m365.id"] = drive_id;
    if (auto w = Str(*drive, "webUrl"); !w.empty()) attrs.metadata["m365.weburl"] = w;
    M365_RETURN_IF_ERROR(EnsureDirectory(ctx.writer, object, attrs));
    const std::string key = "drive:" + drive_id;
    ContainerSpec spec;
    spec.key = key;
    spec.root_path = object;
    spec.initial_url = drive_path + "/root/delta";
    spec.request = request;
    spec.object = object;
    DriveItemTraits traits(drive_path);
    ContainerState& cs = ctx.state.GetContainer(*state, key);
    ContainerResult r = SyncContainer(ctx.client, ctx.writer, spec, traits, cs, ctx.counters);
    SyncStateStore::RetainContainers(*state, {key});
    if (!r.status.ok()) {
      if (r.store_failure) return r.status;
      ctx.report(ObjectFailure(object, r.status, r.error));
      return ObjectOutcome::kFailed;
    }
    for (const auto& f : r.outcome.failures) ctx.report(f);
    return r.outcome.failures.empty() ? ObjectOutcome::kDone : ObjectOutcome::kPartial;
  }
};

}  // namespace

Result<std::vector<UserInfo>> ListUsers(GraphClient& client) {
  std::vector<UserInfo> users;
  auto paged = client.ForEachPage("/users?$select=id,userPrincipalName,mail,displayName&$top=999", {},
                                  [&](const nlohmann::json& page) -> Status {
                                    for (const auto& u : page.value("value", nlohmann::json::array())) {
                                      UserInfo info{Str(u, "id"), Str(u, "userPrincipalName"),
                                                    Str(u, "displayName"), Str(u, "mail")};
                                      if (!info.id.empty()) users.push_back(std::move(info));
                                    }
                                    return Status::OK();
                                  });
  if (!paged.ok()) return paged.status();
  return users;
}

std::string UserDirName(const UserInfo& user) { return SafeName(user.upn.empty() ? user.id : user.upn); }

namespace {
// glibc raises its mmap threshold dynamically (up to 32 MiB) each time a
// large mmapped block is freed; after the first chunk buffers and 16 MiB pack
// buffers are freed, later ones come from the malloc arenas, which then
// fragment across the worker threads: peak RSS grew with the number of items
// (bench/sync_bench.sh: 228 MiB at 20,000 messages, 610 MiB at 100,000). A
// fixed threshold keeps large buffers in mmap (returned on free): 134 MiB at
// 20,000. Done once per process, before the first run.
bool TuneAllocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
  return true;
}
}  // namespace

const std::vector<const Collector*>& Collectors() {
  static const bool tuned = TuneAllocator();
  (void)tuned;
  static const ExchangeCollector exchange;
  static const OneDriveCollector onedrive;
  static const std::vector<const Collector*> all = {&exchange, &onedrive};
  return all;
}

const Collector* FindCollector(const std::string& type) {
  for (const Collector* c : Collectors()) {
    if (type == c->type()) return c;
  }
  return nullptr;
}

}  // namespace m365vault::sync
