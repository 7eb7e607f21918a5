// tests/fs/vault_fs_test.cpp: the mounted tree without a kernel — VaultFs on
// repositories in memory.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "backend/test_util.h"
#include "fs/vault_fs.h"

using namespace m365vault;
using namespace m365vault::fs;
using namespace m365vault::testing;

namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'500'000 * kSec;  // 2026-11-24T060000Z

SnapshotInfo CommitFiles(Repository& repo, const std::string& type, int64_t time_ns,
                         const std::map<std::string, Bytes>& files) {
  auto w = SnapshotWriter::Start(repo, nullptr);
  REQUIRE(w.ok());
  for (const auto& [path, data] : files) {
    EntryAttributes a = Attrs(kT0 - 1000 * kSec + static_cast<int64_t>(data.size()), "id-" + path);
    a.metadata["m365.subject"] = "Subject of " + path;
    a.mode = 0644;
    REQUIRE((*w)->PutFile(path, data, a).ok());
  }
  SnapshotInfo fields;
  fields.object_type = type;
  fields.time_ns = time_ns;
  fields.job_id = "job-1";
  auto snap = (*w)->Commit(fields);
  REQUIRE(snap.ok());
  return *snap;
}

struct Fixture {
  TestRepo t;
  CaptureLogger log;
  std::map<std::string, Bytes> files = {
      {"alice@contoso.com/Mail/Inbox/2026-11-20 0900 Hello wörld [a1].eml", RandomBytes(70000, 1)},
      {"alice@contoso.com/Mail/empty.eml", Bytes{}},
      {"alice@contoso.com/one.bin", RandomBytes(1, 2)},
      {"bob@contoso.com/big.bin", RandomBytes(300000, 3)},
  };
  SnapshotInfo s1, s2;
  std::unique_ptr<VaultFs> vfs;

  Fixture() {
    s1 = CommitFiles(*t.repo, "exchange", kT0, files);
    s2 = CommitFiles(*t.repo, "exchange", kT0 + 5, files);  // same second: "-2"
    VaultFsOptions o;
    o.uid = 1234;
    o.gid = 5678;
    o.refresh_interval = std::chrono::milliseconds(0);  // always re-list
    vfs = std::make_unique<VaultFs>(std::vector<MountedTenant>{{"contoso", t.repo.get()}}, o, log);
  }

  Ino Walk(const std::string& path) {
    Ino ino = kRootIno;
    size_t start = 0;
    while (start < path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      auto e = vfs->Lookup(ino, path.substr(start, end - start));
      REQUIRE(e.ok());
      REQUIRE(e->ino != 0);
      ino = e->ino;
      start = end + 1;
    }
    return ino;
  }
  std::vector<std::string> List(Ino ino) {
    auto h = vfs->OpenDir(ino);
    REQUIRE(h.ok());
    std::vector<std::string> names;
    for (size_t i = 0; i < (*h)->size(); ++i) names.emplace_back((*h)->Name(i));
    return names;
  }
};

}  // namespace

TEST_CASE("the tree: tenants, types, latest, dated snapshots, objects", "[fs][vault]") {
  Fixture f;
  CHECK(f.List(kRootIno) == std::vector<std::string>{".", "..", "contoso"});
  Ino tenant = f.Walk("contoso");
  CHECK(f.List(tenant) == std::vector<std::string>{".", "..", "exchange"});
  Ino type = f.Walk("contoso/exchange");
  CHECK(f.List(type) == std::vector<std::string>{".", "..", "latest", "2026-11-24T060000Z", "2026-11-24T060000Z-2"});

  Ino latest = f.Walk("contoso/exchange/latest");
  auto link = f.vfs->ReadLink(latest);
  REQUIRE(link.ok());
  CHECK(*link == "2026-11-24T060000Z-2");
  auto lattr = f.vfs->GetAttr(latest);
  REQUIRE(lattr.ok());
  CHECK(S_ISLNK(lattr->attr.st_mode));

  Ino snap = f.Walk("contoso/exchange/2026-11-24T060000Z");
  CHECK(f.List(snap) == std::vector<std::string>{".", "..", "alice@contoso.com", "bob@contoso.com"});
  auto sattr = f.vfs->GetAttr(snap);
  REQUIRE(sattr.ok());
  CHECK(S_ISDIR(sattr->attr.st_mode));
  CHECK((sattr->attr.st_mode & 07777) == 0555);
  CHECK(sattr->attr.st_mtim.tv_sec == kT0 / kSec);
  CHECK(sattr->attr.st_uid == 1234);
  CHECK(sattr->attr.st_gid == 5678);

  std::string path = "alice@contoso.com/Mail/Inbox/2026-11-20 0900 Hello wörld [a1].eml";
  Ino file = f.Walk("contoso/exchange/2026-11-24T060000Z/" + path);
  auto attr = f.vfs->GetAttr(file);
  REQUIRE(attr.ok());
  CHECK(S_ISREG(attr->attr.st_mode));
  CHECK((attr->attr.st_mode & 07777) == 0444);
  CHECK(attr->attr.st_size == 70000);
  CHECK(attr->attr.st_ino == file);
  int64_t want_mtime = kT0 - 1000 * kSec + 70000;
  CHECK(attr->attr.st_mtim.tv_sec == want_mtime / kSec);
  CHECK(attr->attr.st_mtim.tv_nsec == want_mtime % kSec);
  CHECK(attr->timeout > 1e6);  // immutable

  // The same path in the other snapshot is a different inode; the same path
  // looked up again is the same inode.
  Ino file2 = f.Walk("contoso/exchange/2026-11-24T060000Z-2/" + path);
  CHECK(file2 != file);
  CHECK(f.Walk("contoso/exchange/2026-11-24T060000Z/" + path) == file);
}

TEST_CASE("reads return the stored bytes at any offset", "[fs][vault]") {
  Fixture f;
  Ino ino = f.Walk("contoso/exchange/latest");
  (void)ino;
  Ino file = f.Walk("contoso/exchange/2026-11-24T060000Z/bob@contoso.com/big.bin");
  auto h = f.vfs->Open(file);
  REQUIRE(h.ok());
  const Bytes& want = f.files["bob@contoso.com/big.bin"];
  for (uint64_t off : {uint64_t{0}, uint64_t{1}, uint64_t{65535}, uint64_t{131072}, uint64_t{299999}}) {
    Bytes buf(100000);
    auto n = f.vfs->Read(**h, off, buf);
    REQUIRE(n.ok());
    size_t expect = std::min<uint64_t>(buf.size(), want.size() - off);
    REQUIRE(*n == expect);
    CHECK(std::equal(buf.begin(), buf.begin() + expect, want.begin() + off));
  }
  Bytes buf(10);
  auto eof = f.vfs->Read(**h, 300000, buf);
  REQUIRE(eof.ok());
  CHECK(*eof == 0);
  auto past = f.vfs->Read(**h, 1 << 30, buf);
  REQUIRE(past.ok());
  CHECK(*past == 0);

  Ino empty = f.Walk("contoso/exchange/2026-11-24T060000Z/alice@contoso.com/Mail/empty.eml");
  auto he = f.vfs->Open(empty);
  REQUIRE(he.ok());
  auto zero = f.vfs->Read(**he, 0, buf);
  REQUIRE(zero.ok());
  CHECK(*zero == 0);

  // Directories and symlinks cannot be opened as files.
  CHECK(f.vfs->Open(f.Walk("contoso/exchange/2026-11-24T060000Z")).status().code() ==
        Status::Code::kInvalidArgument);
}

TEST_CASE("missing names are negative entries with the right timeout", "[fs][vault]") {
  Fixture f;
  auto none = f.vfs->Lookup(kRootIno, "fabrikam");
  REQUIRE(none.ok());
  CHECK(none->ino == 0);
  CHECK(none->entry_timeout < 10);  // the tenant/type/snapshot levels change
  Ino snap = f.Walk("contoso/exchange/2026-11-24T060000Z");
  auto none2 = f.vfs->Lookup(snap, "carol@contoso.com");
  REQUIRE(none2.ok());
  CHECK(none2->ino == 0);
  CHECK(none2->entry_timeout > 1e6);  // a snapshot never changes
  auto none3 = f.vfs->Lookup(f.Walk("contoso/exchange"), "2020-01-01T000000Z");
  REQUIRE(none3.ok());
  CHECK(none3->ino == 0);
  // Below a file: not a directory.
  Ino file = f.Walk("contoso/exchange/2026-11-24T060000Z/alice@contoso.com/one.bin");
  CHECK_FALSE(f.vfs->Lookup(file, "x").ok());
}

TEST_CASE("extended attributes: user.m365.* on objects, snapshot metadata on snapshot dirs", "[fs][vault]") {
  Fixture f;
  Ino file = f.Walk("contoso/exchange/2026-11-24T060000Z/alice@contoso.com/one.bin");
  auto all = f.vfs->Xattrs(file);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  CHECK((*all)[0].first == "user.m365.id");
  CHECK((*all)[0].second == "id-alice@contoso.com/one.bin");
  CHECK((*all)[1].first == "user.m365.subject");
  auto v = f.vfs->GetXattr(file, "user.m365.id");
  REQUIRE(v.ok());
  REQUIRE(v->has_value());
  CHECK(**v == "id-alice@contoso.com/one.bin");
  auto missing = f.vfs->GetXattr(file, "user.m365.etag");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  auto security = f.vfs->GetXattr(file, "security.capability");
  REQUIRE(security.ok());
  CHECK_FALSE(security->has_value());

  Ino snap = f.Walk("contoso/exchange/2026-11-24T060000Z-2");
  auto id = f.vfs->GetXattr(snap, "user.m365.snapshot.id");
  REQUIRE(id.ok());
  REQUIRE(id->has_value());
  CHECK(**id == f.s2.id);
  auto partial = f.vfs->GetXattr(snap, "user.m365.snapshot.partial");
  REQUIRE(partial.ok());
  CHECK(**partial == "false");
  auto job = f.vfs->GetXattr(snap, "user.m365.snapshot.job");
  REQUIRE(job.ok());
  CHECK(**job == "job-1");
}

TEST_CASE("a new snapshot appears and latest moves to a new inode", "[fs][vault]") {
  Fixture f;
  Ino type = f.Walk("contoso/exchange");
  Ino old_latest = f.Walk("contoso/exchange/latest");
  SnapshotInfo s3 = CommitFiles(*f.t.repo, "exchange", kT0 + 3600 * kSec, {{"new.txt", RandomBytes(10, 9)}});
  CHECK(f.List(type).back() == "2026-11-24T070000Z");
  Ino new_latest = f.Walk("contoso/exchange/latest");
  CHECK(new_latest != old_latest);
  CHECK(*f.vfs->ReadLink(new_latest) == "2026-11-24T070000Z");
  CHECK(*f.vfs->ReadLink(old_latest) == "2026-11-24T060000Z-2");  // the old inode still says what it said
  // A second type shows up in the tenant directory.
  CommitFiles(*f.t.repo, "onedrive", kT0, {{"doc.txt", RandomBytes(10, 10)}});
  CHECK(f.List(f.Walk("contoso")) == std::vector<std::string>{".", "..", "exchange", "onedrive"});
  CHECK_FALSE(f.vfs->OpenDir(f.Walk("contoso/onedrive/latest")).ok());  // a symlink, not a directory
}

TEST_CASE("readdirplus lookups are counted and forgotten", "[fs][vault]") {
  Fixture f;
  Ino snap = f.Walk("contoso/exchange/2026-11-24T060000Z");
  size_t before = f.vfs->inodes().size();
  auto h = f.vfs->OpenDir(snap);
  REQUIRE(h.ok());
  std::vector<Ino> got;
  for (size_t i = 2; i < (*h)->size(); ++i) {
    auto e = f.vfs->LookupItem(**h, i);
    REQUIRE(e.ok());
    CHECK(e->ino == f.vfs->ItemIno(**h, i));
    CHECK(S_ISDIR(e->attr.st_mode));
    got.push_back(e->ino);
  }
  CHECK(f.vfs->inodes().size() == before + 2);
  for (Ino ino : got) f.vfs->Forget(ino, 1);
  CHECK(f.vfs->inodes().size() == before);
}

TEST_CASE("a corrupt blob fails the read with Corruption and a log line naming it", "[fs][vault]") {
  Fixture f;
  std::string path = "bob@contoso.com/big.bin";
  Ino file = f.Walk("contoso/exchange/2026-11-24T060000Z/" + path);  // trees now cached
  auto h = f.vfs->Open(file);
  REQUIRE(h.ok());
  for (auto& [name, data] : f.t.mem.objects()) {
    if (name.rfind("data/", 0) == 0) {
      for (size_t i = 0; i < data.size(); i += 97) data[i] ^= 0x5a;
    }
  }
  Bytes buf(300000);
  auto n = f.vfs->Read(**h, 0, buf);
  REQUIRE_FALSE(n.ok());
  CHECK((n.status().IsCorruption() || n.status().code() == Status::Code::kIOError));
  auto lines = f.log.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("tenant contoso") != std::string::npos);
  CHECK(lines[0].find("exchange/2026-11-24T060000Z") != std::string::npos);
  CHECK(lines[0].find("path " + path) != std::string::npos);
}
