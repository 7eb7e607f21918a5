// tests/sync/backup_e2e_test.cpp: end-to-end backups against the Graph
// emulator over HTTPS: a real vault (fast KDF), the tenant added from the
// emulator's connection info, RunBackup for exchange and onedrive, then every
// message and file read back through SnapshotReader compared with the
// emulator's ground truth (/control/truth) byte for byte (SHA-256); again
// after mutations (new snapshot == new truth, old snapshot == old truth);
// again with faults (429s, 503s, resets, 30 s tokens, invalidated delta
// tokens) with zero protocol violations. Skipped when node is missing.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "backend/meta_blob.h"
#include "backend/maintenance.h"
#include "backend/snapshot_reader.h"
#include "backend/tree.h"
#include "backend/tree_builder.h"
#include "backend/vault.h"
#include "sync/engine/backup_run.h"
#include "sync/schedule/warnings.h"
#include "sync/graph/curl_http_client.h"
#include "sync/engine/icalendar.h"
#include "tests/sync/ics_checker.h"
#include "sync/engine/safe_name.h"

namespace m365vault::sync {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The tenant an emulator generates (tests/graph_emulator/server.js options).
struct TenantSize {
  int seed = 7;
  int users = 4;
  int messages = 25;  // per user
  int files = 14;     // per user
  int max_file_mb = 3;
  int contacts = 2;   // per user
  int events = 7;     // per user

  std::vector<std::string> Args() const {
    const std::pair<const char*, int> options[] = {
        {"--seed", seed},
        {"--users", users},
        {"--messages-per-user", messages},
        {"--files-per-user", files},
        {"--max-file-mb", max_file_mb},
        {"--contacts-per-user", contacts},
        {"--events-per-user", events},
    };
    std::vector<std::string> args;
    for (const auto& [flag, value] : options) {
      args.push_back(flag);
      args.push_back(std::to_string(value));
    }
    return args;
  }
};

class Emulator {
 public:
  explicit Emulator(const fs::path& dir, const TenantSize& size = {}) : dir_(dir) {
    std::vector<std::string> args = size.Args();
    fs::create_directories(dir_);
    const std::string script = std::string(M365_REPO_DIR) + "/tests/graph_emulator/server.js";
    args.insert(args.begin(), {"node", script, "--state-dir", dir_.string()});
    pid_ = fork();
    if (pid_ == 0) {
      freopen("/dev/null", "w", stdout);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp("node", argv.data());
      _exit(127);
    }
    const fs::path info = dir_ / "emulator.json";
    for (int i = 0; i < 400 && !fs::exists(info); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(info);
    std::stringstream ss;
    ss << in.rdbuf();
    info_ = json::parse(ss.str(), nullptr, false);
  }
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;
  ~Emulator() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool ok() const { return info_.is_object() && info_.contains("graph_url"); }
  std::string operator[](const char* k) const { return info_.value(k, ""); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  json info_;
};

// Talks to the emulator's control API (plain HTTP).
class Control {
 public:
  Control(HttpClient& http, std::string url) : http_(http), url_(std::move(url)) {}
  json Call(const std::string& method, const std::string& path, const json& body = nullptr) {
    HttpRequest req;
    req.method = method;
    req.url = url_ + path;
    req.timeout = std::chrono::seconds(120);
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    auto resp = http_.Send(req);
    REQUIRE(resp.ok());
    INFO(path << ": " << resp->body.substr(0, 500));
    REQUIRE(resp->status == 200);
    std::string repaired;  // subjects with lone surrogates, as Graph sends them
    return json::parse(RepairJsonSurrogates(resp->body, &repaired) ? repaired : resp->body);
  }

 private:
  HttpClient& http_;
  std::string url_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// One end-to-end test's world: a fresh folder named after the test, the
// emulator started there with `args`, a vault (passphrase `passphrase`) with
// the tenant "emu" pointing at it, and the emulator's control API. Each step
// REQUIREs success: Node.js is a dependency (scripts/install-deps), so a
// missing emulator is a failure, not a skip. The folder is removed at the end.
struct EmulatorTenant {
  fs::path dir;
  Emulator emu;
  Result<std::unique_ptr<Vault>> vault;
  CurlGlobal curl;
  Result<std::unique_ptr<CurlHttpClient>> http;
  std::optional<Control> control;

  EmulatorTenant(const std::string& tag, const TenantSize& size, const std::string& passphrase)
      : dir(FreshDir(tag)),
        emu(dir / "emu", size),
        vault(AddEmulatorTenant(emu, dir / "vault", passphrase)),
        http(CurlHttpClient::Create({})) {
    REQUIRE(http.ok());
    control.emplace(**http, emu["control_url"]);
  }
  // One in-process backup of the tenant; REQUIREs that it ran (its status,
  // partial or failed, is the caller's to check; its failures are logged).
  RunResult Backup(const std::string& type, const RunOptions& options = {}) {
    auto r = RunBackup(**vault, "emu", type, options);
    INFO(type << ": " << r.status().ToString());
    REQUIRE(r.ok());
    for (const auto& f : r->failures) UNSCOPED_INFO("failure: " << f.object << " " << f.code << " " << f.reason);
    return std::move(r).value();
  }
  // The tenant's repository, opened afresh (sees every committed snapshot).
  std::unique_ptr<Repository> Repo() {
    auto r = (*vault)->OpenRepository("emu");
    REQUIRE(r.ok());
    return std::move(r).value();
  }
  ~EmulatorTenant() {
    control.reset();
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  static fs::path FreshDir(const std::string& tag) {
    fs::path d = fs::temp_directory_path() / ("m365vault-" + tag + "-" + std::to_string(getpid()));
    fs::remove_all(d);
    return d;
  }
  static Result<std::unique_ptr<Vault>> AddEmulatorTenant(const Emulator& emu, const fs::path& vault_dir,
                                                          const std::string& passphrase) {
    if (!emu.ok()) FAIL("the graph emulator did not start (node installed? see scripts/install-deps)");
    setenv("M365VAULT_TEST_FAST_KDF", "1", 1);
    auto vault = Vault::Create(vault_dir.string(), passphrase);
    REQUIRE(vault.ok());
    TenantConfig tc;
    tc.name = "emu";
    tc.tenant_id = emu["tenant_id"];
    tc.client_id = emu["client_id"];
    tc.credential = ReadFile(emu["client_secret_file"]);
    tc.graph_url = emu["graph_url"];
    tc.login_url = emu["login_url"];
    tc.ca_file = emu["ca_file"];
    auto added = (*vault)->AddTenant(tc);
    INFO(added.status().ToString());
    REQUIRE(added.ok());
    return vault;
  }
};

std::string Sha256Hex(SnapshotReader& reader, const TreeEntry& file) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<uint8_t> buf(1 << 20);
  for (uint64_t off = 0; off < file.size;) {
    auto n = reader.Read(file, off, buf);
    REQUIRE(n.ok());
    REQUIRE(*n > 0);
    EVP_DigestUpdate(ctx, buf.data(), *n);
    off += *n;
  }
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return ToHex(ByteView(md, len));
}

struct Seen {
  std::string path;
  std::string parent_id;  // m365.id of the directory holding it ("" = the walk root)
  std::string sha256;     // files
  bool folder = false;
};

// Every entry under `root` by m365.id; checks names on the way.
void Walk(SnapshotReader& reader, const std::string& root, const std::string& parent_id, bool hash,
          std::map<std::string, Seen>* out) {
  auto dir = reader.ListDirectory(root);
  INFO(root << ": " << dir.status().ToString());
  REQUIRE(dir.ok());
  for (const auto& e : (*dir)->entries) {
    CHECK(IsValidEntryName(e.name));
    CHECK(e.name.find("\xE2\x80\xAE") == std::string::npos);  // RTL override
    CHECK(e.name.rfind(".m365vault-staging", 0) != 0);
    CHECK((e.name.back() != '.' && e.name.back() != ' '));
    const std::string path = root + "/" + e.name;
    auto id = e.metadata.find("m365.id");
    if (e.kind == EntryKind::kDirectory) {
      const std::string my_id = id == e.metadata.end() ? "" : id->second;
      if (!my_id.empty()) (*out)[my_id] = Seen{path, parent_id, "", true};
      Walk(reader, path, my_id, hash, out);
    } else {
      INFO(path);
      REQUIRE(id != e.metadata.end());
      CHECK(out->count(id->second) == 0);
      (*out)[id->second] = Seen{path, parent_id, hash ? Sha256Hex(reader, e) : "", false};
    }
  }
}

// The entry name at the end of `path` is `raw` made safe, possibly with a
// " [short id]" suffix before the extension.
bool NameMatches(const std::string& path, const std::string& raw, bool split_ext) {
  const std::string name = path.substr(path.rfind('/') + 1);
  if (name == SafeName(raw)) return true;
  auto [stem, ext] = split_ext ? SplitExtension(raw) : std::pair<std::string, std::string>(raw, "");
  if (name == SafeName(stem, ext, "")) return true;  // e.g. "trailing dot..locked"
  const std::string prefix = SafeName(stem, "", "");
  return name.rfind(prefix.substr(0, std::min<size_t>(prefix.size(), 200)), 0) == 0 && name.find(" [") != std::string::npos;
}

struct Truth {
  json items;
  std::map<std::string, json> users;  // index order: upn -> user
};

Truth GetTruth(Control& control) {
  Truth t;
  t.items = control.Call("GET", "/control/truth?kinds=users,mail,contacts,calendar,drive&format=json")["items"];
  for (const auto& it : t.items) {
    if (it["type"] == "user") t.users[it["userPrincipalName"]] = it;
  }
  return t;
}

// "2024-03-18T08:00:00Z" -> "20240318T080000Z".
std::string IcsUtcValue(const json& iso) {
  const std::string s = iso.get<std::string>();
  return s.substr(0, 4) + s.substr(5, 2) + s.substr(8, 2) + "T" + s.substr(11, 2) + s.substr(14, 2) + s.substr(17, 2) + "Z";
}

// The snapshot of `type` equals the truth for every user.
void CompareExchange(Repository& repo, const std::string& snapshot_id, const Truth& truth) {
  auto info = repo.LoadSnapshot(snapshot_id);
  REQUIRE(info.ok());
  SnapshotReader reader(repo, *info);
  size_t messages = 0, contacts_seen = 0, events_seen = 0, series_seen = 0, zones_seen = 0, zones_unknown = 0, dst_series = 0;
  for (const auto& [upn, user] : truth.users) {
    const std::string uid = user["id"];
    const std::string root = SafeName(upn) + "/Mail";
    if (!user["hasMailbox"].get<bool>()) {
      CHECK_FALSE(reader.Lookup(SafeName(upn)).ok());
      continue;
    }
    std::map<std::string, Seen> seen;
    Walk(reader, root, "", true, &seen);
    std::set<std::string> folders, search;
    for (const auto& it : truth.items) {
      if (it["type"] == "mail_folder" && it["user"] == user["id"]) {
        (it.value("search", false) ? search : folders).insert(it["id"].get<std::string>());
      }
    }
    size_t expected = 0;
    for (const auto& it : truth.items) {
      if (it.value("user", json()) != user["id"]) continue;
      if (it["type"] == "mail_folder" && folders.count(it["id"])) {
        const std::string id = it["id"];
        INFO("folder " << it["path"].dump());
        REQUIRE(seen.count(id));
        CHECK(seen[id].folder);
        const std::string parent = it["parentId"].is_string() ? it["parentId"].get<std::string>() : "";
        CHECK(seen[id].parent_id == (folders.count(parent) ? parent : ""));
        CHECK(NameMatches(seen[id].path, it["displayName"], false));
        ++expected;
      } else if (it["type"] == "message") {
        const std::string id = it["immutableId"];
        INFO("message " << it["subject"].dump() << " in " << it["folderPath"].dump());
        REQUIRE(seen.count(id));
        CHECK(seen[id].sha256 == it["sha256"].get<std::string>());
        CHECK(seen[id].parent_id == it["folderId"].get<std::string>());
        ++expected;
        ++messages;
      }
    }
    CHECK(seen.size() == expected);  // nothing extra (deleted / moved-away items gone)

    // Contacts: <upn>/Contacts holds the default folder's contacts and the
    // other contact folders.
    std::map<std::string, Seen> contacts;
    Walk(reader, SafeName(upn) + "/Contacts", "", false, &contacts);
    std::string default_folder;
    size_t expected_contacts = 0;
    for (const auto& it : truth.items) {
      if (it["type"] == "contact_folder" && it["user"] == user["id"] && it.value("default", false)) {
        default_folder = it["id"];
      }
    }
    for (const auto& it : truth.items) {
      if (it.value("user", json()) != user["id"]) continue;
      if (it["type"] == "contact_folder" && !it.value("default", false)) {
        REQUIRE(contacts.count(it["id"]));
        ++expected_contacts;
      } else if (it["type"] == "contact") {
        const std::string id = it["immutableId"];
        INFO("contact " << it["displayName"].dump());
        REQUIRE(contacts.count(id));
        const std::string folder = it["folderId"];
        CHECK(contacts[id].parent_id == (folder == default_folder ? "" : folder));
        auto e = reader.Lookup(contacts[id].path);
        REQUIRE(e.ok());
        auto data = reader.ReadAll(*e);
        REQUIRE(data.ok());
        const std::string vcf(AsString(*data));
        CHECK(vcf.rfind("BEGIN:VCARD\r\nVERSION:3.0\r\n", 0) == 0);
        CHECK(vcf.find("UID:" + id) != std::string::npos);
        ++expected_contacts;
        ++contacts_seen;
      }
    }
    CHECK(contacts.size() == expected_contacts);

    // Calendars: <upn>/Calendar/<calendar>/<date> <subject> [<id>].ics
    std::map<std::string, Seen> cal;
    Walk(reader, SafeName(upn) + "/Calendar", "", false, &cal);
    size_t expected_cal = 0;
    for (const auto& it : truth.items) {
      if (it.value("user", json()) != user["id"]) continue;
      if (it["type"] == "calendar") {
        INFO("calendar " << it["name"].dump());
        REQUIRE(cal.count(it["id"]));
        CHECK(cal[it["id"]].folder);
        CHECK(NameMatches(cal[it["id"]].path, it["name"], false));
        ++expected_cal;
      } else if (it["type"] == "event") {
        const std::string id = it["id"];
        INFO("event " << it["subject"].dump());
        REQUIRE(cal.count(id));
        CHECK(cal[id].parent_id == it["calendarId"].get<std::string>());
        auto e = reader.Lookup(cal[id].path);
        REQUIRE(e.ok());
        auto data = reader.ReadAll(*e);
        REQUIRE(data.ok());
        const std::string ics(AsString(*data));
        CHECK(ics.rfind("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 0) == 0);
        // Unfold, then look at whole content lines.
        std::string unfolded;
        for (size_t i = 0; i < ics.size(); ++i) {
          if (ics.compare(i, 3, "\r\n ") == 0) {
            i += 2;
            continue;
          }
          unfolded.push_back(ics[i]);
        }
        auto has_line = [&](const std::string& line) { return unfolded.find("\r\n" + line + "\r\n") != std::string::npos; };
        CHECK(has_line("X-M365-ID:" + IcsEscape(id)));
        CHECK(has_line("SUMMARY:" + IcsEscape(it["subject"].get<std::string>())));
        const size_t uid = unfolded.find("\r\nUID:");
        REQUIRE(uid != std::string::npos);
        CHECK(unfolded.find("\r\n", uid + 2) > uid + 6);  // not empty
        // Valid RFC 5545 (every TZID has its VTIMEZONE), read back independently:
        // DTSTART is the event's instant, in its zone when the zone is known.
        icscheck::IcsComponent parsed;
        REQUIRE(icscheck::ParseIcs(ics, &parsed) == "");
        auto vevents = parsed.Children("VEVENT");
        REQUIRE(!vevents.empty());
        const icscheck::IcsProp* dtstart = vevents[0]->Find("DTSTART");
        REQUIRE(dtstart);
        const std::string zone = it["timeZone"];
        CHECK(icscheck::IcsUtc(parsed, *dtstart) == icscheck::IcsWall(IcsUtcValue(it["startUtc"])));
        if (zone == "UTC") {
          CHECK(dtstart->value.back() == 'Z');
        } else if (zone.rfind("tzone://", 0) == 0) {
          CHECK(dtstart->value.back() == 'Z');  // unknown zone: UTC, the name kept
          CHECK(has_line("X-M365-START-TIMEZONE:" + IcsEscape(zone)));
          ++zones_unknown;
        } else {
          CHECK(dtstart->params.count("TZID"));
          ++zones_seen;
        }
        if (it["recurrence"].is_object()) {
          ++series_seen;
          const std::string rrule = RecurrenceToRrule(it["recurrence"]);
          const std::string head = rrule.substr(0, rrule.find(";UNTIL="));
          CHECK(unfolded.find("\r\nRRULE:" + head + ";UNTIL=") != std::string::npos);
          // The series expands to the planned occurrences, at their local time across DST.
          std::vector<int64_t> planned;
          for (const auto& o : it["occurrenceStarts"]) planned.push_back(*icscheck::IcsWall(IcsUtcValue(o)));
          CHECK(icscheck::IcsWeeklyStarts(parsed, *vevents[0]) == planned);
          size_t rid = 0;
          for (size_t p = 0; (p = unfolded.find("\r\nRECURRENCE-ID", p)) != std::string::npos; ++p) ++rid;
          CHECK(rid == it["exceptions"].size());
          for (const auto& x : it["exceptions"]) {
            CHECK(has_line("SUMMARY:" + IcsEscape(x["subject"].get<std::string>())));
            bool found = false;
            for (size_t v = 1; v < vevents.size(); ++v) {
              const auto* r = vevents[v]->Find("RECURRENCE-ID");
              if (r && icscheck::IcsUtc(parsed, *r) == icscheck::IcsWall(IcsUtcValue(x["originalStart"]))) found = true;
            }
            CHECK(found);
          }
          auto exdates = vevents[0]->All("EXDATE");
          CHECK(exdates.size() == it["cancelledOccurrences"].get<size_t>());
          for (const auto* x : exdates) {
            auto at = icscheck::IcsUtc(parsed, *x);
            REQUIRE(at);
            CHECK(std::find(planned.begin(), planned.end(), *at) != planned.end());
          }
          if (zone == "W. Europe Standard Time" && planned.size() >= 3) {
            ++dst_series;  // 09:00 local: one hour earlier in UTC after the change
            CHECK(planned[2] - planned[1] == 7 * 86400 - 3600);
          }
        } else {
          for (const auto* v : vevents) CHECK(v->Find("RRULE") == nullptr);  // (VTIMEZONEs have theirs)
        }
        ++expected_cal;
        ++events_seen;
      }
    }
    CHECK(cal.size() == expected_cal);
  }
  CHECK(messages > 20);
  CHECK(contacts_seen > 0);
  CHECK(events_seen > 0);
  CHECK(series_seen > 0);
  CHECK(zones_seen > 0);
  CHECK(zones_unknown > 0);
  CHECK(dst_series > 0);
}

void CompareOneDrive(Repository& repo, const std::string& snapshot_id, const Truth& truth) {
  auto info = repo.LoadSnapshot(snapshot_id);
  REQUIRE(info.ok());
  SnapshotReader reader(repo, *info);
  size_t files = 0;
  for (const auto& [upn, user] : truth.users) {
    if (!user["hasDrive"].get<bool>()) {
      CHECK_FALSE(reader.Lookup(SafeName(upn)).ok());
      continue;
    }
    std::map<std::string, Seen> seen;
    Walk(reader, SafeName(upn), "", true, &seen);
    std::map<std::string, std::string> id_by_path;  // joined truth path -> id
    for (const auto& it : truth.items) {
      if (it["type"] == "drive_item" && it["user"] == user["id"]) id_by_path[it["path"].dump()] = it["id"];
    }
    size_t expected = 0;
    for (const auto& it : truth.items) {
      if (it["type"] != "drive_item" || it["user"] != user["id"] || it["path"].empty()) continue;
      const std::string id = it["id"];
      json parent_path = it["path"];
      parent_path.erase(parent_path.size() - 1);
      const std::string parent = parent_path.empty() ? "" : id_by_path[parent_path.dump()];
      INFO("drive item " << it["path"].dump());
      REQUIRE(seen.count(id));
      CHECK(seen[id].parent_id == parent);
      CHECK(seen[id].folder == it.value("folder", false));
      CHECK(NameMatches(seen[id].path, it["name"], !it.value("folder", false)));
      if (!it.value("folder", false)) {
        CHECK(seen[id].sha256 == it["sha256"].get<std::string>());
        ++files;
      }
      ++expected;
    }
    CHECK(seen.size() == expected);
  }
  CHECK(files > 10);
}


}  // namespace

namespace {
uint64_t Counter(const json& counters, const char* group, const char* kind);
}  // namespace

TEST_CASE("backup exchange and onedrive against the emulator", "[sync][e2e]") {
  EmulatorTenant world("e2e", TenantSize{}, "e2e passphrase");
  Control& control = *world.control;

  auto backup = [&](const std::string& type, JobStatus want = JobStatus::kSucceeded, RunOptions options = {}) {
    RunResult r = world.Backup(type, options);
    INFO(r.error);
    CHECK(r.status == want);
    REQUIRE_FALSE(r.snapshot_id.empty());
    return r;
  };
  auto repo = [&] { return world.Repo(); };

  // --- 1. first backup == truth
  const Truth truth1 = GetTruth(control);
  // The run's request budget reaches the client RunBackup builds: with 3, no
  // more than 3 mailbox requests are ever in flight (up to 4 per mailbox
  // otherwise; the latency makes requests overlap).
  RunOptions budget;
  budget.max_requests_in_flight = 3;
  control.Call("POST", "/control/faults", {{"latency_ms", 30}});
  control.Call("POST", "/control/counters/reset", json::object());
  RunResult ex1 = backup("exchange", JobStatus::kSucceeded, budget);
  {
    json c = control.Call("GET", "/control/counters");
    INFO(c.dump());
    CHECK(c.value("mailbox_peak_in_flight", 0) >= 1);
    CHECK(c.value("mailbox_peak_in_flight", 0) <= 3);
    // A message delta stream for every folder with mail, none for the empty
    // ones (Outbox, Sync Issues, ...) until mail arrives there (step 3).
    uint64_t folders = 0, with_mail = 0;
    for (const auto& it : truth1.items) {
      if (it["type"] != "mail_folder" || it.value("search", false)) continue;
      ++folders;
      if (it.value("totalItemCount", 0) > 0) ++with_mail;
    }
    const uint64_t deltas = Counter(c, "requests", "messages_delta");
    CHECK(deltas >= with_mail);
    CHECK(deltas < folders);
  }
  control.Call("POST", "/control/faults", {{"latency_ms", 0}});
  control.Call("POST", "/control/counters/reset", json::object());
  RunResult od1 = backup("onedrive");
  {
    // Files come straight from the listing's pre-authenticated URLs: no
    // request to /content (each would be a Graph request and a 302).
    json c = control.Call("GET", "/control/counters");
    INFO(c.dump());
    CHECK(od1.counts.items > 10);
    CHECK(Counter(c, "requests", "drive_content") == 0);
  }
  CHECK(ex1.not_applicable.size() >= 1);
  CHECK(od1.not_applicable.size() >= 1);
  {
    auto r = repo();
    CompareExchange(*r, ex1.snapshot_id, truth1);
    CompareOneDrive(*r, od1.snapshot_id, truth1);
  }

  // --- 2. no changes: nothing downloaded
  RunResult ex_idle = backup("exchange");
  RunResult od_idle = backup("onedrive");
  CHECK(ex_idle.counts.items == 0);
  CHECK(od_idle.counts.items == 0);

  // --- 3. mutations
  std::string edit_path, move_path, delete_path;
  const std::string upn0 = truth1.users.begin()->first;
  int user0 = -1;
  std::string user0_id;
  for (const auto& [upn, u] : truth1.users) {
    if (u["hasDrive"].get<bool>() && u["hasMailbox"].get<bool>()) {
      user0 = u["index"];
      user0_id = u["id"];
      break;
    }
  }
  REQUIRE(user0 >= 0);
  for (const auto& it : truth1.items) {
    if (it["type"] != "drive_item" || it["user"] != user0_id || it.value("folder", false)) continue;
    std::string p;
    for (const auto& c : it["path"]) p += (p.empty() ? "" : "/") + c.get<std::string>();
    if (p.find("Hostile") != std::string::npos) continue;
    if (edit_path.empty()) edit_path = p;
    else if (move_path.empty()) move_path = p;
    else if (delete_path.empty()) delete_path = p;
  }
  REQUIRE_FALSE(delete_path.empty());
  json ops = json::array({
      {{"op", "new_mail"}, {"user", user0}, {"folder", "inbox"}, {"count", 3}},
      {{"op", "new_mail"}, {"user", user0}, {"folder", "outbox"}, {"count", 2}},  // empty until now
      {{"op", "edit_mail"}, {"user", user0}, {"folder", "inbox"}, {"count", 1}},
      {{"op", "move_mail"}, {"user", user0}, {"folder", "inbox"}, {"count", 2}, {"offset", 1}, {"to", "archive"}},
      {{"op", "delete_mail"}, {"user", user0}, {"folder", "sentitems"}, {"count", 1}},
      {{"op", "rename_folder"}, {"user", user0}, {"folder", "Inbox/Projects"}, {"name", "Projects (renamed)"}},
      {{"op", "new_contact"}, {"user", user0}, {"folder", 1}, {"count", 2}},
      {{"op", "edit_contact"}, {"user", user0}, {"folder", 0}, {"count", 1}},
      {{"op", "delete_contact"}, {"user", user0}, {"folder", 0}, {"count", 1}},
      {{"op", "new_drive_folder"}, {"user", user0}, {"name", "Fresh folder"}},
      {{"op", "new_file"}, {"user", user0}, {"path", "Fresh folder/new file.txt"}, {"size", 5000}},
      {{"op", "edit_file"}, {"user", user0}, {"path", edit_path}, {"size", 7777}},
      {{"op", "move_file"}, {"user", user0}, {"path", move_path}, {"to", "Fresh folder"}, {"name", "moved here.bin"}},
      {{"op", "delete_file"}, {"user", user0}, {"path", delete_path}},
      {{"op", "rename_drive_folder"}, {"user", user0}, {"path", "Documents"}, {"name", "Documents (renamed)"}},
  });
  control.Call("POST", "/control/mutate", {{"ops", ops}});
  control.Call("POST", "/control/mutate", {{"op", "churn"}, {"fraction", 0.1}, {"seed", 3}});
  const Truth truth2 = GetTruth(control);
  CHECK(truth2.items.dump() != truth1.items.dump());
  RunResult ex2 = backup("exchange");
  RunResult od2 = backup("onedrive");
  CHECK(ex2.parent_id == ex_idle.snapshot_id);
  {
    auto r = repo();
    CompareExchange(*r, ex2.snapshot_id, truth2);
    CompareOneDrive(*r, od2.snapshot_id, truth2);
    CompareExchange(*r, ex1.snapshot_id, truth1);  // the old snapshot is untouched
    CompareOneDrive(*r, od1.snapshot_id, truth1);
  }

  // --- 4. faults: throttling, 503s, resets, short tokens, invalidated delta tokens
  control.Call("POST", "/control/counters/reset", json::object());
  control.Call("POST", "/control/faults",
               {{"rate_429", 0.2}, {"rate_503", 0.05}, {"rate_reset", 0.02}, {"retry_after", json::array({"0.2", "1"})},
                {"latency_ms", 2}, {"seed", 11}});
  control.Call("POST", "/control/token-ttl", {{"seconds", 30}, {"expire_existing", true}});
  control.Call("POST", "/control/invalidate-delta", {{"kind", "all"}});
  // Every listing URL has expired by the time it is used: each download
  // falls back to /content for a fresh one.
  control.Call("POST", "/control/knobs", {{"listing_url_ttl", 0}});
  control.Call("POST", "/control/mutate", {{"op", "churn"}, {"fraction", 0.1}, {"seed", 5}});
  const Truth truth3 = GetTruth(control);
  RunResult ex3 = backup("exchange");
  RunResult od3 = backup("onedrive");
  WARN("first run: exchange " << ex1.counts.items << " messages, " << ex1.counts.bytes << " bytes in " << ex1.seconds
       << " s; onedrive " << od1.counts.items << " files, " << od1.counts.bytes << " bytes in " << od1.seconds
       << " s; idle runs " << ex_idle.seconds << " s / " << od_idle.seconds << " s; after mutations "
       << ex2.counts.items << " + " << od2.counts.items << " items; with faults " << ex3.counts.items << " + "
       << od3.counts.items << " items in " << ex3.seconds << " s / " << od3.seconds << " s");
  // Drive resync after the token was invalidated: a full round re-enumerates
  // (metadata only; unchanged files are not downloaded again).
  control.Call("POST", "/control/faults", {{"rate_429", 0}, {"rate_503", 0}, {"rate_reset", 0}});
  control.Call("POST", "/control/knobs", {{"listing_url_ttl", 3600}});
  json counters = control.Call("GET", "/control/counters");
  INFO(counters.dump());
  CHECK(counters["violations"].empty());
  CHECK(counters["faults"].size() > 0);
  CHECK(od3.counts.items > 0);
  CHECK(Counter(counters, "requests", "drive_content") >= od3.counts.items);
  {
    auto r = repo();
    CompareExchange(*r, ex3.snapshot_id, truth3);
    CompareOneDrive(*r, od3.snapshot_id, truth3);
    CompareExchange(*r, ex2.snapshot_id, truth2);
  }
}

namespace {

// Runs the m365vault CLI with `args` (env already set); returns its pid.
pid_t SpawnCli(const std::vector<std::string>& args, const fs::path& log) {
  pid_t pid = fork();
  if (pid == 0) {
    freopen(log.c_str(), "a", stdout);
    freopen(log.c_str(), "a", stderr);
    std::vector<std::string> all = {M365_CLI_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(M365_CLI_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

uint64_t Counter(const json& counters, const char* group, const char* kind) {
  auto g = counters.find(group);
  if (g == counters.end() || !g->contains(kind)) return 0;
  return (*g)[kind].get<uint64_t>();
}

size_t SnapshotCount(Vault& vault) {
  auto r = vault.OpenRepository("emu");
  REQUIRE(r.ok());
  auto list = (*r)->ListSnapshots();
  REQUIRE(list.ok());
  return list->size();
}

}  // namespace

// A mailbox whose folders are too large for one tree blob and a writer
// whose listing budget is tiny: the folders are split over several tree
// blobs, the listings go through the spill, and every snapshot still equals
// the truth, first backup, after churn, and with no change.
TEST_CASE("big folders: split trees and spilled listings equal the truth", "[sync][e2e][split]") {
  EmulatorTenant world("split",
                       TenantSize{.seed = 22, .users = 1, .messages = 15000, .files = 2,
                                  .max_file_mb = 1, .contacts = 2, .events = 7},
                       "split passphrase");
  Control& control = *world.control;
  RunOptions options;
  options.writer.entry_budget = 64 * 1024;
  auto backup = [&] {
    RunResult r = world.Backup("exchange", options);
    INFO(r.error);
    REQUIRE(r.status == JobStatus::kSucceeded);
    return r;
  };
  // The largest directory under a user's Mail, and whether its tree blob is a split one.
  auto largest_folder = [&](Repository& repo, const std::string& snapshot_id) {
    auto info = repo.LoadSnapshot(snapshot_id);
    REQUIRE(info.ok());
    SnapshotReader reader(repo, *info);
    size_t most = 0;
    BlobId tree;
    bool must_split = false;  // the cut rule (tree_builder.h) finds a boundary before the last entry
    std::function<void(const std::string&)> walk = [&](const std::string& dir) {
      auto list = reader.ListDirectory(dir);
      REQUIRE(list.ok());
      size_t files = 0;
      for (const auto& e : (*list)->entries) {
        if (e.kind == EntryKind::kDirectory) walk(dir + "/" + e.name);
        files += e.kind == EntryKind::kFile ? 1 : 0;
      }
      if (files > most) {
        most = files;
        tree = reader.Lookup(dir)->subtree;
        const auto& entries = (*list)->entries;
        must_split = false;
        for (size_t i = kMinPartEntries - 1; i + 1 < entries.size(); ++i) {
          must_split |= PartBoundaryHash(entries[i].name) % kPartAverageEntries == 0;
        }
      }
    };
    for (const auto& e : (*reader.RootTree())->entries) walk(e.name);
    auto blob = repo.LoadBlob(BlobType::kTree, tree);
    REQUIRE(blob.ok());
    CHECK(must_split);  // else this seed makes a test that cannot see a split
    return std::make_pair(most, IsTreeIndex(*blob));
  };

  const Truth truth1 = GetTruth(control);
  const RunResult first = backup();
  {
    auto r = world.Repo();
    CompareExchange(*r, first.snapshot_id, truth1);
    auto info = r->LoadSnapshot(first.snapshot_id);
    REQUIRE(info.ok());
    CHECK(info->stats.at("directories_spilled") > 0);
    auto [files, split] = largest_folder(*r, first.snapshot_id);
    INFO(files << " messages in the largest folder");
    CHECK(files > 4000);
    CHECK(split);
  }
  control.Call("POST", "/control/mutate", {{"op", "churn"}, {"fraction", 0.05}, {"seed", 3}});
  const Truth truth2 = GetTruth(control);
  const RunResult second = backup();
  CHECK(second.counts.items > 0);
  CHECK(second.counts.items < first.counts.items / 5);
  const RunResult idle = backup();
  CHECK(idle.counts.items == 0);
  auto r = world.Repo();
  CompareExchange(*r, first.snapshot_id, truth1);
  CompareExchange(*r, second.snapshot_id, truth2);
  CompareExchange(*r, idle.snapshot_id, truth2);
  auto report = Check(*r, CheckOptions{true, nullptr});
  REQUIRE(report.ok());
  INFO((report->errors.empty() ? "" : report->errors.front()));
  CHECK(report->ok());
}

// A `m365vault backup` killed with SIGKILL partway (after some downloads,
// emulator latency 40 ms) leaves the previous snapshots intact (`check
// --read-data` passes, the snapshot count is unchanged, the old snapshot
// still equals the old truth); the repository lock of the dead process is
// stale by pid, so the next backup runs and equals the new truth.
TEST_CASE("a backup killed mid-run leaves the vault intact", "[sync][e2e][kill]") {
  const std::string passphrase = "kill passphrase";
  EmulatorTenant world("kill",
                       TenantSize{.seed = 9, .users = 3, .messages = 20, .files = 24,
                                  .max_file_mb = 2, .contacts = 2, .events = 4},
                       passphrase);
  const fs::path& dir = world.dir;
  auto& vault = world.vault;
  Control& control = *world.control;

  const Truth truth1 = GetTruth(control);
  const RunResult ex1 = world.Backup("exchange");
  const RunResult od1 = world.Backup("onedrive");
  REQUIRE(od1.status == JobStatus::kSucceeded);
  const size_t snapshots_before = SnapshotCount(**vault);
  REQUIRE(snapshots_before == 2);

  // Every file of two users changes; mail churns. Then slow the emulator down.
  int rw = 0;
  for (const auto& [upn, u] : truth1.users) {
    if (u["hasDrive"].get<bool>() && rw < 2) {
      control.Call("POST", "/control/mutate", {{"op", "ransomware"}, {"user", u["index"]}});
      ++rw;
    }
  }
  control.Call("POST", "/control/mutate", {{"op", "churn"}, {"fraction", 0.3}, {"seed", 4}});
  const Truth truth2 = GetTruth(control);
  control.Call("POST", "/control/faults", {{"latency_ms", 40}});
  control.Call("POST", "/control/counters/reset", json::object());

  setenv("M365VAULT_DIR", (dir / "vault").c_str(), 1);
  setenv("M365VAULT_PASSPHRASE", passphrase.c_str(), 1);
  // A pack being written is a temp file beside the packs (never listed,
  // never read) until it is committed.
  auto temp_files = [&] {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir / "vault" / "repos")) {
      n += e.path().filename().string().rfind(".tmp-", 0) == 0 ? 1 : 0;
    }
    return n;
  };
  const fs::path log = dir / "cli.log";
  pid_t pid = SpawnCli({"backup", "emu", "--type", "onedrive"}, log);
  uint64_t downloads = 0;
  bool exited = false;
  for (int i = 0; i < 600; ++i) {  // up to 60 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    downloads = Counter(control.Call("GET", "/control/counters"), "requests", "download");
    if (downloads >= 6 && temp_files() > 0) break;  // mid-pack
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      exited = true;
      break;
    }
  }
  REQUIRE_FALSE(exited);  // it must still be running: the kill is mid-run
  REQUIRE(downloads >= 6);
  kill(pid, SIGKILL);
  CHECK(WaitExit(pid) == 128 + SIGKILL);  // reaped: its lock's pid is gone
  WARN("killed `m365vault backup` after " << downloads << " downloads");

  const size_t left = temp_files();
  CHECK(left > 0);  // killed with a pack half-written

  // The previous snapshots are intact.
  CHECK(SnapshotCount(**vault) == snapshots_before);
  control.Call("POST", "/control/faults", {{"latency_ms", 0}});
  {
    int rc = WaitExit(SpawnCli({"check", "emu", "--read-data"}, log));
    INFO(ReadFile(log.string()));
    CHECK(rc == 0);
    auto r = world.Repo();
    CompareOneDrive(*r, od1.snapshot_id, truth1);
    CompareExchange(*r, ex1.snapshot_id, truth1);
  }
  // The next backup (the CLI, then in-process for the comparison) catches up.
  {
    int rc = WaitExit(SpawnCli({"backup", "emu"}, log));
    INFO(ReadFile(log.string()));
    CHECK(rc == 0);
  }
  CHECK(SnapshotCount(**vault) == snapshots_before + 2);
  auto r = world.Repo();
  auto list = r->ListSnapshots();
  REQUIRE(list.ok());
  std::string od2, ex2;
  for (const auto& s : *list) {
    if (s.id == od1.snapshot_id || s.id == ex1.snapshot_id) continue;
    (s.object_type == "onedrive" ? od2 : ex2) = s.id;
  }
  REQUIRE_FALSE(od2.empty());
  REQUIRE_FALSE(ex2.empty());
  CompareOneDrive(*r, od2, truth2);
  CompareExchange(*r, ex2, truth2);
  // Prune removes the killed run's temp file and says so; the snapshots stay whole.
  {
    const fs::path prune_log = dir / "prune.log";
    int rc = WaitExit(SpawnCli({"prune", "emu"}, prune_log));
    const std::string out = ReadFile(prune_log.string());
    INFO(out);
    CHECK(rc == 0);
    CHECK(temp_files() == 0);
    CHECK(out.find("left by interrupted writes removed") != std::string::npos);
  }
  {
    int rc = WaitExit(SpawnCli({"check", "emu", "--read-data"}, log));
    CHECK(rc == 0);
  }
  r = world.Repo();
  CompareOneDrive(*r, od2, truth2);

  // Forget the first snapshots and rewrite every pack holding anything dead:
  // the latest snapshots' sync state is kept whole (its blobs name what they
  // refer to), so the next backup is incremental, needs no reset, and equals
  // the new truth.
  {
    const fs::path prune_log = dir / "prune2.log";
    int rc = WaitExit(SpawnCli({"prune", "emu", "--forget", od1.snapshot_id.substr(0, 12), "--forget",
                                ex1.snapshot_id.substr(0, 12), "--repack-threshold", "1"},
                               prune_log));
    INFO(ReadFile(prune_log.string()));
    REQUIRE(rc == 0);
  }
  control.Call("POST", "/control/mutate", {{"op", "churn"}, {"fraction", 0.1}, {"seed", 5}});
  const Truth truth3 = GetTruth(control);
  const RunResult ex3 = world.Backup("exchange");
  const RunResult od3 = world.Backup("onedrive");
  for (const auto* run : {&ex3, &od3}) {
    INFO(run->type << ": " << run->error);
    CHECK(run->status == JobStatus::kSucceeded);
    auto events = (*vault)->ListJobEvents(run->job_id);
    REQUIRE(events.ok());
    for (const auto& e : *events) CHECK(e.code != "info.state_reset");
  }
  CHECK(ex3.counts.items < ex1.counts.items);  // incremental: only the churned mail
  {
    int rc = WaitExit(SpawnCli({"check", "emu", "--read-data"}, log));
    INFO(ReadFile(log.string()));
    CHECK(rc == 0);
  }
  r = world.Repo();
  CompareExchange(*r, ex3.snapshot_id, truth3);
  CompareOneDrive(*r, od3.snapshot_id, truth3);
}


namespace {

// path -> SHA-256 of every file under `root` (empty when `root` is absent).
std::map<std::string, std::string> FileHashes(Repository& repo, const std::string& snapshot_id, const std::string& root) {
  auto info = repo.LoadSnapshot(snapshot_id);
  REQUIRE(info.ok());
  SnapshotReader reader(repo, *info);
  std::map<std::string, std::string> out;
  std::function<void(const std::string&)> walk = [&](const std::string& dir) {
    auto list = reader.ListDirectory(dir);
    if (!list.ok()) return;
    for (const auto& e : (*list)->entries) {
      const std::string p = dir + "/" + e.name;
      if (e.kind == EntryKind::kDirectory) {
        walk(p);
      } else {
        out[p] = Sha256Hex(reader, e);
      }
    }
  };
  walk(root);
  return out;
}

std::set<std::string> TopLevel(Repository& repo, const std::string& snapshot_id) {
  auto info = repo.LoadSnapshot(snapshot_id);
  REQUIRE(info.ok());
  SnapshotReader reader(repo, *info);
  auto list = reader.ListDirectory("");
  REQUIRE(list.ok());
  std::set<std::string> out;
  for (const auto& e : (*list)->entries) out.insert(e.name);
  return out;
}

// The object keys ("user:<id>") of a snapshot's sync state.
std::set<std::string> StateObjects(Repository& repo, const std::string& snapshot_id) {
  auto info = repo.LoadSnapshot(snapshot_id);
  REQUIRE(info.ok());
  auto blob = LoadMetaBlob(repo, info->sync_state);
  REQUIRE(blob.ok());
  std::set<std::string> out;
  const json root = json::parse(AsString(blob->payload));
  for (const auto& [k, v] : root["objects"].items()) out.insert(k);
  return out;
}

}  // namespace

// Users who leave the tenant leave the next snapshot (docs/sync.md, "Users
// who leave"): a failed user listing (first page or midway) removes nobody,
// a failing mailbox keeps its previous content, a deleted user is gone from
// the next snapshot (info event, state dropped) while the old snapshot still
// has them byte-exact; a user excluded by the profile goes the same way; a
// returning user is backed up afresh.
TEST_CASE("users deleted from the tenant leave the next snapshot", "[sync][e2e][departures]") {
  EmulatorTenant world("departures",
                       TenantSize{.seed = 7, .users = 5, .messages = 12, .files = 8,
                                  .max_file_mb = 1, .contacts = 2, .events = 4},
                       "departures passphrase");
  auto& vault = world.vault;
  Control& control = *world.control;
  auto repo = [&] { return world.Repo(); };
  auto run = [&](const std::string& type, RunOptions options = {}) { return world.Backup(type, options); };
  auto events = [&](int64_t job) {
    auto e = (*vault)->ListJobEvents(job);
    REQUIRE(e.ok());
    return std::move(e).value();
  };

  // --- 1. first backups
  const Truth truth1 = GetTruth(control);
  std::string victim, victim_id, excluded;
  int victim_index = -1;
  for (const auto& [upn, u] : truth1.users) {
    if (!u["hasMailbox"].get<bool>() || !u["hasDrive"].get<bool>()) continue;
    if (excluded.empty()) {
      excluded = upn;
    } else if (victim.empty()) {
      victim = upn;
      victim_id = u["id"];
      victim_index = u["index"];
    }
  }
  REQUIRE_FALSE(victim.empty());
  RunResult ex1 = run("exchange"), od1 = run("onedrive");
  REQUIRE(ex1.status == JobStatus::kSucceeded);
  REQUIRE(od1.status == JobStatus::kSucceeded);
  const std::string vdir = SafeName(victim);
  const auto ex1_files = FileHashes(*repo(), ex1.snapshot_id, vdir);
  const auto od1_files = FileHashes(*repo(), od1.snapshot_id, vdir);
  REQUIRE(ex1_files.size() > 5);
  REQUIRE(od1_files.size() > 3);
  CHECK(StateObjects(*repo(), ex1.snapshot_id).count("user:" + victim_id));
  auto snapshots = [&] {
    auto l = repo()->ListSnapshots();
    REQUIRE(l.ok());
    return l->size();
  };
  const size_t count1 = snapshots();

  // --- 2. the listing fails (first page; midway): the run fails, nothing is committed or removed
  control.Call("POST", "/control/mutate", {{"op", "delete_user"}, {"user", victim_index}});
  for (const json& knobs : {json{{"users_fail_page", 1}}, json{{"users_max_page", 2}, {"users_fail_page", 2}}}) {
    INFO(knobs.dump());
    control.Call("POST", "/control/knobs", knobs);
    RunResult r = run("exchange");
    CHECK(r.status == JobStatus::kFailed);
    CHECK(r.snapshot_id.empty());
    CHECK(r.removed.empty());
    CHECK(snapshots() == count1);
    control.Call("POST", "/control/knobs", {{"users_fail_page", 0}, {"users_max_page", 0}});
  }
  control.Call("POST", "/control/mutate", {{"op", "restore_user"}, {"user", victim_id}});

  // --- 3. the victim's mailbox fails: partial, their previous content stays
  control.Call("POST", "/control/knobs", {{"fail_mailbox_user", victim_index + 1}});
  RunResult ex_fail = run("exchange");
  control.Call("POST", "/control/knobs", {{"fail_mailbox_user", 0}});
  CHECK(ex_fail.status == JobStatus::kPartial);
  CHECK(ex_fail.removed.empty());
  CHECK(FileHashes(*repo(), ex_fail.snapshot_id, vdir) == ex1_files);
  CHECK(StateObjects(*repo(), ex_fail.snapshot_id).count("user:" + victim_id));

  // --- 4. the victim is deleted from the tenant
  control.Call("POST", "/control/mutate", {{"op", "delete_user"}, {"user", victim_index}});
  const Truth truth2 = GetTruth(control);
  REQUIRE(truth2.users.count(victim) == 0);
  RunResult ex2 = run("exchange"), od2 = run("onedrive");
  CHECK(ex2.status == JobStatus::kSucceeded);  // a departure is not a failure
  CHECK(od2.status == JobStatus::kSucceeded);
  {
    auto r = repo();
    CompareExchange(*r, ex2.snapshot_id, truth2);
    CompareOneDrive(*r, od2.snapshot_id, truth2);
    CHECK(TopLevel(*r, ex2.snapshot_id).count(vdir) == 0);
    CHECK(TopLevel(*r, od2.snapshot_id).count(vdir) == 0);
    CHECK(StateObjects(*r, ex2.snapshot_id).count("user:" + victim_id) == 0);
    CHECK(StateObjects(*r, od2.snapshot_id).count("user:" + victim_id) == 0);
    // The older snapshots still have them, byte for byte.
    CHECK(FileHashes(*r, ex1.snapshot_id, vdir) == ex1_files);
    CHECK(FileHashes(*r, od1.snapshot_id, vdir) == od1_files);
    auto parent = r->LoadSnapshot(ex_fail.snapshot_id);
    REQUIRE(parent.ok());
    const auto ev = events(ex2.job_id);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].code == "info.user_removed");
    CHECK(ev[0].object == vdir);
    CHECK(ev[0].reason == "user " + vdir + " no longer in the tenant; removed from this snapshot, kept in snapshots up to " +
                              SnapshotTimeName(parent->time_ns));
    REQUIRE(ex2.removed.size() == 1);
    auto job = (*vault)->GetJob(ex2.job_id);
    REQUIRE(job.ok());
    CHECK(ClassifyJob(*job, ev).top.failed == 0);  // no warning for a departure
    CHECK(events(od2.job_id).size() == 1);
  }

  // --- 5. a user excluded by the scan profile: same removal, said so
  RunOptions profile;
  profile.select_objects = [&](GraphClient&, std::vector<UserInfo> users) -> Result<std::vector<UserInfo>> {
    std::erase_if(users, [&](const UserInfo& u) { return u.upn == excluded; });
    return users;
  };
  RunResult ex3 = run("exchange", profile);
  CHECK(ex3.status == JobStatus::kSucceeded);
  {
    auto r = repo();
    CHECK(TopLevel(*r, ex3.snapshot_id).count(SafeName(excluded)) == 0);
    CHECK_FALSE(FileHashes(*r, ex2.snapshot_id, SafeName(excluded)).empty());
    const auto ev = events(ex3.job_id);
    REQUIRE(ev.size() == 1);
    CHECK(ev[0].code == "info.user_excluded");
    CHECK(ev[0].reason.find("user " + excluded + " excluded by the scan profile") == 0);
  }

  // --- 5b. a run of one container's scope: other scopes' users stay as they were
  for (bool with_protected : {true, false}) {
    INFO("select_protected: " << with_protected);
    RunOptions scoped;
    scoped.scope = ContainerScope("vip");
    scoped.select_objects = [&](GraphClient&, std::vector<UserInfo> users) -> Result<std::vector<UserInfo>> {
      std::erase_if(users, [&](const UserInfo& u) { return u.upn == excluded || u.upn != truth2.users.rbegin()->first; });
      return users;
    };
    if (with_protected) {
      scoped.select_protected = [&](GraphClient&, std::vector<UserInfo> users) -> Result<std::vector<UserInfo>> {
        std::erase_if(users, [&](const UserInfo& u) { return u.upn == excluded; });
        return users;
      };
    }
    RunResult ex_scoped = run("exchange", scoped);
    CHECK(ex_scoped.status == JobStatus::kSucceeded);
    CHECK(ex_scoped.removed.empty());
    CHECK(events(ex_scoped.job_id).empty());
    auto r = repo();
    CHECK(TopLevel(*r, ex_scoped.snapshot_id) == TopLevel(*r, ex3.snapshot_id));
  }

  // --- 6. both come back: backed up afresh (their states were dropped), equal to the truth
  control.Call("POST", "/control/mutate", {{"op", "restore_user"}, {"user", victim_id}});
  const Truth truth4 = GetTruth(control);
  RunResult ex4 = run("exchange"), od4 = run("onedrive");
  CHECK(ex4.status == JobStatus::kSucceeded);
  CHECK(od4.status == JobStatus::kSucceeded);
  CHECK(ex4.removed.empty());
  {
    auto r = repo();
    CompareExchange(*r, ex4.snapshot_id, truth4);
    CompareOneDrive(*r, od4.snapshot_id, truth4);
    CHECK(FileHashes(*r, ex4.snapshot_id, vdir) == ex1_files);
    CHECK(FileHashes(*r, od4.snapshot_id, vdir) == od1_files);
  }
}

// A listing that lacks many of the previous snapshot's users (a directory
// glitch, a revoked permission) removes nobody and makes the run partial,
// until an admin accepts it with allow_mass_departure (`--allow-mass-removal`).
TEST_CASE("a user listing missing many users removes nobody unless allowed", "[sync][e2e][departures]") {
  EmulatorTenant world("mass",
                       TenantSize{.seed = 5, .users = 9, .messages = 3, .files = 1,
                                  .max_file_mb = 1, .contacts = 1, .events = 1},
                       "mass passphrase");
  auto& vault = world.vault;
  Control& control = *world.control;
  auto run = [&](RunOptions options = {}) { return world.Backup("exchange", options); };
  RunResult first = run();
  REQUIRE(first.status == JobStatus::kSucceeded);
  std::vector<std::string> gone;
  std::vector<int> gone_index;
  for (const auto& [upn, u] : GetTruth(control).users) {
    if (u["hasMailbox"].get<bool>() && gone.size() < kMassDepartureMin) {
      gone.push_back(upn);
      gone_index.push_back(u["index"]);
    }
  }
  REQUIRE(gone.size() == kMassDepartureMin);
  for (int index : gone_index) control.Call("POST", "/control/mutate", {{"op", "delete_user"}, {"user", index}});

  RunResult refused = run();
  CHECK(refused.status == JobStatus::kPartial);
  CHECK(refused.removed.empty());
  bool flagged = false;
  for (const auto& f : refused.failures) flagged = flagged || f.code == "MassDeparture";
  CHECK(flagged);
  auto repo = (*vault)->OpenRepository("emu");
  REQUIRE(repo.ok());
  for (const auto& upn : gone) CHECK_FALSE(FileHashes(**repo, refused.snapshot_id, SafeName(upn)).empty());

  RunOptions allow;
  allow.allow_mass_departure = true;
  RunResult accepted = run(allow);
  CHECK(accepted.status == JobStatus::kSucceeded);
  CHECK(accepted.removed.size() == gone.size());
  auto repo2 = world.Repo();
  for (const auto& upn : gone) CHECK(FileHashes(*repo2, accepted.snapshot_id, SafeName(upn)).empty());
}

TEST_CASE("MissingUsers counts the previous snapshot's users absent from the listing", "[sync][departures]") {
  std::vector<UserInfo> listed = {{"a", "a@x", "", ""}, {"b", "b@x", "", ""}};
  CHECK(MissingUsers({"user:a", "user:b", "user:c", "other:z"}, listed) == std::pair<size_t, size_t>{1, 3});
  CHECK(MissingUsers({}, listed) == std::pair<size_t, size_t>{0, 0});
}

}  // namespace m365vault::sync
