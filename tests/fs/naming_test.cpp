// tests/fs/naming_test.cpp: snapshot directory names, the errno map, inode
// numbers and the mount point checks.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "fs/errno_map.h"
#include "fs/inode_table.h"
#include "fs/mountpoint.h"
#include "fs/snapshot_names.h"

using namespace m365vault;
using namespace m365vault::fs;

namespace {
SnapshotInfo Snap(std::string id, int64_t time_ns, std::string type = "exchange") {
  SnapshotInfo s;
  s.id = std::move(id);
  s.time_ns = time_ns;
  s.object_type = std::move(type);
  return s;
}
constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT0 = 1'795'500'000 * kSec;  // 2026-11-24T06:00:00Z
}  // namespace

TEST_CASE("snapshot directories are named by UTC second, ties get -2, -3 by (time, id)", "[fs][names]") {
  SnapshotInfo a = Snap("bb", kT0 + 5), b = Snap("aa", kT0 + 5), c = Snap("cc", kT0 + 1), d = Snap("dd", kT0 + kSec);
  std::vector<const SnapshotInfo*> list = {&a, &b, &c, &d};
  std::vector<std::string> names = AssignSnapshotDirNames(list);
  REQUIRE(names.size() == 4);
  std::string base = SnapshotTimeName(kT0);
  CHECK(base == "2026-11-24T060000Z");
  // Order: c (earliest ns), b (id aa), a (id bb), d (next second).
  CHECK(list[0] == &c);
  CHECK(list[1] == &b);
  CHECK(list[2] == &a);
  CHECK(names[0] == base);
  CHECK(names[1] == base + "-2");
  CHECK(names[2] == base + "-3");
  CHECK(names[3] == "2026-11-24T060001Z");

  // A later snapshot never renames an existing directory.
  SnapshotInfo e = Snap("00", kT0 + 7);
  std::vector<const SnapshotInfo*> more = {&a, &b, &c, &d, &e};
  std::vector<std::string> names2 = AssignSnapshotDirNames(more);
  CHECK(names2[0] == base);
  CHECK(names2[1] == base + "-2");
  CHECK(names2[2] == base + "-3");
  CHECK(names2[3] == base + "-4");
  CHECK(more[3] == &e);
}

TEST_CASE("type directory defaults to files; usable names", "[fs][names]") {
  CHECK(TypeDirName(Snap("a", 0, "")) == "files");
  CHECK(TypeDirName(Snap("a", 0, "onedrive")) == "onedrive");
  CHECK(IsUsableName("contoso"));
  CHECK(IsUsableName("a b ü"));
  CHECK_FALSE(IsUsableName(""));
  CHECK_FALSE(IsUsableName("."));
  CHECK_FALSE(IsUsableName(".."));
  CHECK_FALSE(IsUsableName("a/b"));
  CHECK_FALSE(IsUsableName(std::string(256, 'x')));
  CHECK_FALSE(IsUsableName(std::string("a\0b", 3)));
}

TEST_CASE("every Status code maps to the intended errno", "[fs][errno]") {
  CHECK(ErrnoFromStatus(Status::OK()) == 0);
  CHECK(ErrnoFromStatus(Status::NotFound("x")) == ENOENT);
  CHECK(ErrnoFromStatus(Status::Corruption("x")) == EIO);
  CHECK(ErrnoFromStatus(Status::IOError("x")) == EIO);
  CHECK(ErrnoFromStatus(Status::InvalidArgument("x")) == EINVAL);
  CHECK(ErrnoFromStatus(Status::Unavailable("x")) == EAGAIN);
  CHECK(ErrnoFromStatus(Status::Throttled("x")) == EAGAIN);
  CHECK(ErrnoFromStatus(Status::PermissionDenied("x")) == EACCES);
  CHECK(ErrnoFromStatus(Status::WrongKey("x")) == EACCES);
  CHECK(ErrnoFromStatus(Status::AlreadyExists("x")) == EEXIST);
  CHECK(ErrnoFromStatus(Status::Busy("x")) == EBUSY);
  CHECK(ErrnoFromStatus(Status::NotSupported("x")) == EOPNOTSUPP);
  CHECK(ErrnoFromStatus(Status::Cancelled("x")) == EINTR);
  CHECK(ErrnoFromStatus(Status::NoSpace("x")) == ENOSPC);
}

TEST_CASE("inode numbers are hashes of stable keys, counted by lookups", "[fs][inode]") {
  // Stable across runs and processes: a fixed value for a fixed key.
  CHECK(HashInodeKey(EntryKey("contoso", "0123", "a/b")) == HashInodeKey(EntryKey("contoso", "0123", "a/b")));
  CHECK(HashInodeKey(EntryKey("contoso", "0123", "a/b")) != HashInodeKey(EntryKey("contoso", "0123", "a/c")));
  // Key parts are separated: ("ab","c") differs from ("a","bc").
  CHECK(TypeKey("ab", "c") != TypeKey("a", "bc"));
  CHECK(EntryKey("t", "s", "p") != SnapshotKey("t", "s"));

  InodeTable table;
  auto node = std::make_shared<Node>();
  node->kind = NodeKind::kTenant;
  Ino a = table.Remember(TenantKey("a"), node);
  CHECK(a == HashInodeKey(TenantKey("a")));
  CHECK(a != kRootIno);
  CHECK(table.Get(a) == node);
  // A second lookup keeps the first node and adds a reference.
  auto other = std::make_shared<Node>();
  CHECK(table.Remember(TenantKey("a"), other) == a);
  CHECK(table.Get(a) == node);
  table.Forget(a, 1);
  CHECK(table.Get(a) == node);
  table.Forget(a, 1);
  CHECK(table.Get(a) == nullptr);
  CHECK(table.size() == 0);
  table.Forget(a, 5);        // unknown: ignored
  table.Forget(kRootIno, 1);  // root: ignored

  // Many keys: all distinct numbers, none 0 or 1, forget-all empties the table.
  std::set<Ino> inos;
  for (int i = 0; i < 20000; ++i) {
    Ino ino = table.Remember(EntryKey("t", "s", "f" + std::to_string(i)), node);
    CHECK((ino != 0 && ino != kRootIno));
    inos.insert(ino);
  }
  CHECK(inos.size() == 20000);
  for (Ino ino : inos) table.Forget(ino, 1);
  CHECK(table.size() == 0);
}

TEST_CASE("mountinfo parsing unescapes paths", "[fs][mountpoint]") {
  std::string info =
      "22 1 0:21 / /proc rw,nosuid - proc proc rw\n"
      "40 22 0:40 / /tmp/my\\040mnt rw - fuse.m365vault m365vault ro\n";
  CHECK(IsListedMountpoint(info, "/proc"));
  CHECK(IsListedMountpoint(info, "/tmp/my mnt"));
  CHECK_FALSE(IsListedMountpoint(info, "/tmp/my"));
  CHECK_FALSE(IsListedMountpoint(info, "/tmp"));
}

TEST_CASE("mount point checks give clear errors", "[fs][mountpoint]") {
  char tmpl[] = "/tmp/fs_mp_XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  std::string dir = tmpl;

  CHECK(CheckMountpoint("").status().code() == Status::Code::kInvalidArgument);
  auto missing = CheckMountpoint(dir + "/nope");
  CHECK(missing.status().IsNotFound());
  CHECK(missing.status().message().find("does not exist") != std::string::npos);

  std::ofstream(dir + "/file") << "x";
  auto file = CheckMountpoint(dir + "/file");
  CHECK(file.status().code() == Status::Code::kInvalidArgument);
  CHECK(file.status().message().find("not a directory") != std::string::npos);

  auto nonempty = CheckMountpoint(dir);
  CHECK(nonempty.status().code() == Status::Code::kBusy);
  CHECK(nonempty.status().message().find("not empty") != std::string::npos);

  REQUIRE(mkdir((dir + "/empty").c_str(), 0755) == 0);
  auto ok = CheckMountpoint(dir + "/./empty");
  REQUIRE(ok.ok());
  CHECK(*ok == dir + "/empty");

  CHECK(CheckMountpoint("/proc").status().code() == Status::Code::kBusy);  // already mounted

  std::system(("rm -rf " + dir).c_str());
}
