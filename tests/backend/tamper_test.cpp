#include "backend/maintenance.h"
#include "backend/repo_format.h"
#include "backend/repository_internals.h"
#include "test_util.h"

using namespace m365vault;
using namespace m365vault::testing;

namespace {

SnapshotInfo MakeSnapshot(TestRepo& t) {
  auto w = SnapshotWriter::Start(*t.repo, nullptr);
  REQUIRE((*w)->PutFile("alice/Mail/Inbox/a.eml", RandomBytes(50000, 1), Attrs()).ok());
  REQUIRE((*w)->PutFile("alice/Mail/Inbox/b.eml", AsBytes(std::string(30000, 'q')), Attrs()).ok());
  REQUIRE((*w)->SetSyncState(AsBytes("delta-link-state")).ok());
  auto s = (*w)->Commit(SnapshotInfo{});
  REQUIRE(s.ok());
  return *s;
}

// Reads every file of the snapshot; returns the first error.
Status ReadEverything(Repository& repo, const SnapshotInfo& snap) {
  SnapshotReader r(repo, snap);
  for (const char* p : {"alice/Mail/Inbox/a.eml", "alice/Mail/Inbox/b.eml"}) {
    auto e = r.Lookup(p);
    if (!e.ok()) return e.status();
    auto d = r.ReadAll(*e);
    if (!d.ok()) return d.status();
  }
  return Status::OK();
}

}  // namespace

TEST_CASE("a flipped bit anywhere in the repository is detected", "[backend][tamper]") {
  TestRepo t;
  SnapshotInfo snap = MakeSnapshot(t);
  std::vector<std::string> names;
  for (auto& [name, data] : t.mem.objects()) {
    if (name.rfind("locks/", 0) != 0) names.push_back(name);
  }
  REQUIRE(names.size() >= 5);  // config, key, packs, index, snapshot
  for (const std::string& name : names) {
    Bytes& data = t.mem.objects()[name];
    for (size_t pos : {size_t(0), size_t(5), data.size() / 2, data.size() - 1}) {
      {
        INFO(name << " byte " << pos);
        data[pos] ^= 0x10;
        // Either the repository refuses to open, or check reports the damage,
        // or reading fails; it never silently returns wrong bytes.
        auto repo = Repository::Open(std::make_unique<BorrowedStorage>(t.mem), t.master, TestRepo::SmallOptions());
        if (repo.ok()) {
          auto report = Check(**repo, CheckOptions{true, nullptr});
          bool detected = !report.ok() || !report->ok();
          auto snaps = (*repo)->ListSnapshots();
          if (!snaps.ok() || snaps->empty()) {
            detected = true;
          } else {
            Status read = ReadEverything(**repo, snaps->front());
            if (!read.ok()) detected = true;
          }
          REQUIRE(detected);
        }
        data[pos] ^= 0x10;
      }
    }
  }
  // Undamaged again: everything checks out.
  auto report = Check(*t.repo, CheckOptions{true, nullptr});
  REQUIRE(report.ok());
  INFO((report->errors.empty() ? "" : report->errors.front()));
  REQUIRE(report->ok());
  REQUIRE(ReadEverything(*t.repo, snap).ok());
}

TEST_CASE("a data blob cannot be served as a tree", "[backend][tamper]") {
  TestRepo t;
  SnapshotInfo snap = MakeSnapshot(t);
  SnapshotReader r(*t.repo, snap);
  auto e = r.Lookup("alice/Mail/Inbox/a.eml");
  REQUIRE(e.ok());
  BlobId data_id = e->chunks.front().id;
  REQUIRE(t.repo->LoadBlob(BlobType::kData, data_id).ok());
  auto as_tree = t.repo->LoadBlob(BlobType::kTree, data_id);
  REQUIRE(as_tree.status().IsCorruption());
}

TEST_CASE("another tenant's key cannot read this tenant", "[backend][tamper]") {
  TestRepo a, b;
  MakeSnapshot(a);
  auto wrong = Repository::Open(std::make_unique<BorrowedStorage>(a.mem), b.master, TestRepo::SmallOptions());
  REQUIRE(wrong.status().code() == Status::Code::kWrongKey);
  // Even with keys in hand, a blob of one repository does not open in another.
  auto& ka = a.repo->internals().keys();
  auto& kb = b.repo->internals().keys();
  Bytes plain = RandomBytes(1000, 3);
  BlobId id = a.repo->HashBlob(plain);
  Bytes sealed;
  format::SealBlob(ka, BlobType::kData, id, plain, 3, &sealed);
  REQUIRE(format::OpenBlob(ka, BlobType::kData, id, sealed).ok());
  REQUIRE(format::OpenBlob(kb, BlobType::kData, id, sealed).status().IsCorruption());
}

TEST_CASE("a wrong passphrase gives a clear error", "[backend][keys]") {
  crypto::SecretKey master = crypto::SecretKey::Random();
  auto wrapped = format::WrapKeyWithPassphrase(master, "correct horse", crypto::PwhashParams::ForTests());
  REQUIRE(wrapped.ok());
  auto bad = format::UnwrapKeyWithPassphrase(*wrapped, "wrong horse");
  REQUIRE(bad.status().code() == Status::Code::kWrongKey);
  REQUIRE(bad.status().message() == "wrong passphrase");
  auto good = format::UnwrapKeyWithPassphrase(*wrapped, "correct horse");
  REQUIRE(good.ok());
  REQUIRE(std::equal(good->view().begin(), good->view().end(), master.view().begin()));
  // A second passphrase can wrap the same master key.
  auto second = format::WrapKeyWithPassphrase(master, "other", crypto::PwhashParams::ForTests());
  auto again = format::UnwrapKeyWithPassphrase(*second, "other");
  REQUIRE(std::equal(again->view().begin(), again->view().end(), master.view().begin()));
}

TEST_CASE("no plaintext marker reaches the storage", "[backend][privacy]") {
  TestRepo t;
  const std::string markers[] = {"MARKER-SUBJECT-7f3a9", "alice-secret-folder-name", "m365-etag-marker-x1"};
  auto w = SnapshotWriter::Start(*t.repo, nullptr);
  std::string body;
  for (int i = 0; i < 2000; ++i) body += "Subject: " + markers[0] + " line " + std::to_string(i) + "\n";
  EntryAttributes a = Attrs();
  a.metadata["m365.etag"] = markers[2];
  REQUIRE((*w)->PutFile(markers[1] + "/mail.eml", AsBytes(body), a).ok());
  REQUIRE((*w)->PutFile("small.txt", AsBytes(markers[0]), a).ok());
  SnapshotInfo fields;
  fields.object_type = "exchange";
  fields.job_id = markers[2];
  REQUIRE((*w)->Commit(fields).ok());
  for (auto& [name, data] : t.mem.objects()) {
    std::string_view text = AsString(data);
    for (const std::string& m : markers) {
      INFO(name << " contains " << m);
      REQUIRE(text.find(m) == std::string_view::npos);
      REQUIRE(name.find(m) == std::string::npos);
    }
    REQUIRE(text.find("contoso") == std::string_view::npos);
  }
}
