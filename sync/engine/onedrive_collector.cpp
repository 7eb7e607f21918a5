// sync/engine/onedrive_collector.cpp: the "onedrive" object type: a user's
// drive, tracked by item id through drive delta.
#include <algorithm>
#include <atomic>
#include <deque>
#include <thread>

#include "sync/engine/collector_support.h"
#include "sync/engine/collectors.h"
#include "sync/engine/icalendar.h"
#include "sync/engine/safe_name.h"
#include "sync/engine/vcard.h"
#include "sync/graph/encoding.h"

namespace m365vault::sync {
namespace {

// ---- onedrive ----

class DriveItemTraits final : public ItemTraits {
 public:
  explicit DriveItemTraits(std::string drive_path) : drive_path_(std::move(drive_path)) {}
  ItemChange Parse(const nlohmann::json& it) const override {
    ItemChange c = ParseIdentity(it, "deleted");
    if (c.kind == ItemChange::Kind::kRemove) return c;
    if (it.contains("root")) {
      c.kind = ItemChange::Kind::kRoot;
      return c;
    }
    if (it.contains("package") || it.contains("remoteItem")) {  // OneNote, shortcuts: not files
      c.kind = ItemChange::Kind::kIgnore;
      return c;
    }
    c.folder = it.contains("folder");
    if (auto p = it.find("parentReference"); p != it.end() && p->is_object()) c.parent = JsonString(*p, "id");
    const std::string name = JsonString(it, "name");
    if (c.folder) {
      c.stem = name;
    } else {
      std::tie(c.stem, c.ext) = SplitExtension(name);
    }
    c.etag = JsonString(it, "eTag");
    if (!c.folder) {
      c.content_url = drive_path_ + "/items/" + EncodePathSegment(c.id) + "/content";
      // Pre-authenticated and short-lived: a download starts there and asks
      // /content for a fresh one only if it has expired, which saves a Graph
      // request and its round trip per file.
      c.download_url = JsonString(it, "@microsoft.graph.downloadUrl");
    }
    c.attrs.mtime_ns = ParseGraphTime(JsonString(it, "lastModifiedDateTime"));
    auto& md = c.attrs.metadata;
    md["m365.id"] = c.id;
    if (!c.etag.empty()) md["m365.etag"] = c.etag;
    if (auto w = JsonString(it, "webUrl"); !w.empty()) md["m365.weburl"] = w;
    if (auto t = JsonString(it, "cTag"); !t.empty()) md["m365.ctag"] = t;
    if (auto f = it.find("file"); f != it.end() && f->is_object()) {
      if (auto h = f->find("hashes"); h != f->end() && h->is_object()) {
        for (const char* k : {"quickXorHash", "sha1Hash", "sha256Hash", "crc32Hash"}) {
          if (auto v = JsonString(*h, k); !v.empty()) md[std::string("m365.") + k] = v;
        }
      }
      if (auto mt = JsonString(*f, "mimeType"); !mt.empty()) md["m365.mimetype"] = mt;
    }
    return c;
  }

 private:
  std::string drive_path_;
};

class OneDriveCollector final : public Collector {
 public:
  const char* type() const override { return "onedrive"; }

  Status Probe(GraphClient& client, const UserInfo& user, GraphError* error, std::string* web_url) const override {
    RequestOptions o;
    o.concurrency_key = user.id;
    auto r = client.GetJson(UserPath(user) + "/drive?$select=id,driveType,webUrl", o, error);
    if (!r.ok() && error->kind == GraphErrorKind::kSkipResource) return Status::NotSupported("no OneDrive");
    if (r.ok() && web_url) *web_url = JsonString(*r, "webUrl");
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
      ctx.report(ObjectFailure(object, drive.status(), err, kLevelTop));
      return ObjectOutcome::kFailed;
    }
    const std::string drive_id = JsonString(*drive, "id");
    const std::string drive_path = "/drives/" + EncodePathSegment(drive_id);
    M365_ASSIGN_OR_RETURN(SyncStateStore::Object * state, ctx.state.GetObject("user:" + user.id));
    EntryAttributes attrs;
    attrs.metadata["m365.id"] = drive_id;
    if (auto w = JsonString(*drive, "webUrl"); !w.empty()) attrs.metadata["m365.weburl"] = w;
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
    ++ctx.counters.containers;
    ContainerResult r = SyncContainer(ctx.client, ctx.writer, spec, traits, cs, ctx.counters);
    SyncStateStore::RetainContainers(*state, {key});
    if (r.store_failure) return r.status;
    for (const auto& f : r.outcome.failures) ctx.report(f);
    if (!r.status.ok()) {
      ctx.report(ObjectFailure(object, r.status, r.error, kLevelTop));
      return ObjectOutcome::kFailed;
    }
    return r.outcome.failures.empty() ? ObjectOutcome::kDone : ObjectOutcome::kPartial;
  }
};


}  // namespace

const Collector& OneDriveCollectorInstance() {
  static const OneDriveCollector onedrive;
  return onedrive;
}

}  // namespace m365vault::sync
