#include <map>

#include "test_util.h"

using namespace m365vault;
using namespace m365vault::testing;

TEST_CASE("files of every size class round-trip byte-exact", "[backend][snapshot]") {
  TestRepo t;
  auto w = SnapshotWriter::Start(*t.repo, nullptr);
  REQUIRE(w.ok());
  std::map<std::string, Bytes> files;
  const size_t sizes[] = {0, 1, 4095, 4096, 4097, 16384, 65535, 65536, 65537, 300000, 1 << 20};
  int i = 0;
  for (size_t n : sizes) {
    std::string path = "user" + std::to_string(i % 3) + "/dir/f" + std::to_string(i) + ".bin";
    files[path] = RandomBytes(n, 1000 + i);
    REQUIRE((*w)->PutFile(path, files[path], Attrs(1'700'000'000'000'000'000 + i)).ok());
    ++i;
  }
  auto snap = (*w)->Commit(SnapshotInfo{});
  REQUIRE(snap.ok());

  // Read back through a fresh open (index from the repository's index files).
  auto repo2 = t.Reopen();
  auto snaps = repo2->ListSnapshots();
  REQUIRE(snaps.ok());
  REQUIRE(snaps->size() == 1);
  for (const auto& [path, data] : files) {
    REQUIRE(ReadPath(*repo2, snaps->front(), path) == data);
  }
  SnapshotReader reader(*repo2, snaps->front());
  auto e = reader.Lookup("user1/dir/f1.bin");
  REQUIRE(e.ok());
  REQUIRE(e->size == 1);
  REQUIRE(e->mtime_ns == 1'700'000'000'000'000'001);
  REQUIRE(reader.Lookup("user1/dir/nope").status().IsNotFound());
  auto dir = reader.ListDirectory("user0/dir");
  REQUIRE(dir.ok());
  REQUIRE((*dir)->entries.size() == 4);

  // Random-offset reads agree with the source.
  const Bytes& big = files["user1/dir/f10.bin"];
  auto be = reader.Lookup("user1/dir/f10.bin");
  REQUIRE(be.ok());
  std::mt19937 rng(7);
  for (int k = 0; k < 200; ++k) {
    uint64_t off = rng() % (big.size() + 10);
    size_t len = rng() % 70000;
    Bytes out(len);
    auto n = reader.Read(*be, off, out);
    REQUIRE(n.ok());
    size_t expect = off >= big.size() ? 0 : std::min<size_t>(len, big.size() - off);
    REQUIRE(*n == expect);
    REQUIRE(std::equal(out.begin(), out.begin() + expect, big.begin() + std::min<size_t>(off, big.size())));
  }
}

TEST_CASE("an unchanged directory is the same tree blob in the next snapshot", "[backend][snapshot]") {
  TestRepo t;
  auto w1 = SnapshotWriter::Start(*t.repo, nullptr);
  REQUIRE((*w1)->PutFile("a/x.txt", AsBytes("hello"), Attrs()).ok());
  REQUIRE((*w1)->PutFile("b/y.txt", AsBytes("world"), Attrs()).ok());
  auto s1 = (*w1)->Commit(SnapshotInfo{});
  REQUIRE(s1.ok());

  auto w2 = SnapshotWriter::Start(*t.repo, &*s1);
  REQUIRE((*w2)->PutFile("b/z.txt", AsBytes("new"), Attrs()).ok());
  auto s2 = (*w2)->Commit(SnapshotInfo{});
  REQUIRE(s2.ok());
  REQUIRE(s2->parent == s1->id);

  SnapshotReader r1(*t.repo, *s1), r2(*t.repo, *s2);
  REQUIRE(r1.Lookup("a")->subtree == r2.Lookup("a")->subtree);
  REQUIRE(r1.Lookup("b")->subtree != r2.Lookup("b")->subtree);
  REQUIRE(ReadPath(*t.repo, *s2, "a/x.txt") == Bytes{'h', 'e', 'l', 'l', 'o'});
  REQUIRE(r1.Lookup("b/z.txt").status().IsNotFound());
  REQUIRE(ReadPath(*t.repo, *s2, "b/z.txt") == Bytes{'n', 'e', 'w'});
}

TEST_CASE("remove and rename rewrite only the paths they touch", "[backend][snapshot]") {
  TestRepo t;
  auto w1 = SnapshotWriter::Start(*t.repo, nullptr);
  REQUIRE((*w1)->PutFile("d1/sub/f.txt", AsBytes("one"), Attrs()).ok());
  REQUIRE((*w1)->PutFile("d1/g.txt", AsBytes("two"), Attrs()).ok());
  auto s1 = (*w1)->Commit(SnapshotInfo{});
  REQUIRE(s1.ok());

  auto w2 = SnapshotWriter::Start(*t.repo, &*s1);
  REQUIRE((*w2)->Rename("d1/sub", "d2/moved").ok());
  REQUIRE((*w2)->Remove("d1/g.txt").ok());
  REQUIRE((*w2)->Remove("d1/nothing").IsNotFound());
  REQUIRE((*w2)->Rename("d2", "d2/inside").code() == Status::Code::kInvalidArgument);
  auto s2 = (*w2)->Commit(SnapshotInfo{});
  REQUIRE(s2.ok());
  SnapshotReader r2(*t.repo, *s2);
  REQUIRE(ReadPath(*t.repo, *s2, "d2/moved/f.txt") == Bytes{'o', 'n', 'e'});
  REQUIRE(r2.Lookup("d1/g.txt").status().IsNotFound());
  REQUIRE(r2.Lookup("d1/sub").status().IsNotFound());
  // The moved subtree is the very same blob.
  SnapshotReader r1(*t.repo, *s1);
  REQUIRE(r1.Lookup("d1/sub")->subtree == r2.Lookup("d2/moved")->subtree);
}

TEST_CASE("a persisted subtree commits the same snapshot and can change again", "[backend][snapshot]") {
  TestRepo t;
  auto w0 = SnapshotWriter::Start(*t.repo, nullptr);
  REQUIRE((*w0)->PutFile("u1/Mail/Inbox/old.eml", AsBytes("old"), Attrs(5)).ok());
  auto s0 = (*w0)->Commit(SnapshotInfo{});
  REQUIRE(s0.ok());
  // The same changes, once without and once with Persist between users.
  auto build = [&](bool persist) {
    auto w = SnapshotWriter::Start(*t.repo, &*s0);
    REQUIRE(w.ok());
    SnapshotWriter& wr = **w;
    for (int i = 0; i < 20; ++i) {
      REQUIRE(wr.PutFile("u1/Mail/Inbox/m" + std::to_string(i) + ".eml", RandomBytes(100 + i, i), Attrs(i)).ok());
    }
    REQUIRE(wr.MakeDirectory("u1/Mail/Empty", EntryAttributes{}).ok());
    if (persist) {
      REQUIRE(wr.Persist("u1").ok());
      REQUIRE(wr.Persist("u1").ok());           // again: nothing left to write
      REQUIRE(wr.Persist("nobody/here").ok());  // never opened: nothing to do
    }
    REQUIRE(wr.PutFile("u2/a.txt", AsBytes("a"), Attrs()).ok());
    if (persist) REQUIRE(wr.Persist("u2").ok());
    // Changes after a Persist load the written trees back.
    REQUIRE(wr.Remove("u1/Mail/Inbox/old.eml").ok());
    REQUIRE(wr.Rename("u1/Mail/Inbox/m3.eml", "u1/Mail/Empty/m3.eml").ok());
    REQUIRE(wr.PutFile("u2/b.txt", AsBytes("b"), Attrs()).ok());
    auto found = wr.Lookup("u1/Mail/Inbox/m7.eml");
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->size == 107);
    auto snap = wr.Commit(SnapshotInfo{});
    REQUIRE(snap.ok());
    return *snap;
  };
  const SnapshotInfo plain = build(false);
  const SnapshotInfo persisted = build(true);
  CHECK(persisted.root == plain.root);
  CHECK(persisted.stats.at("total_files") == plain.stats.at("total_files"));
  CHECK(ReadPath(*t.repo, persisted, "u1/Mail/Empty/m3.eml") == RandomBytes(103, 3));
  SnapshotReader r(*t.repo, persisted);
  CHECK(r.Lookup("u1/Mail/Inbox/old.eml").status().IsNotFound());
  CHECK(r.Lookup("u1/Mail/Inbox/m3.eml").status().IsNotFound());
  REQUIRE((*r.ListDirectory("u1/Mail/Inbox"))->entries.size() == 19);
}

TEST_CASE("identical content is stored once across files and snapshots", "[backend][dedup]") {
  TestRepo t;
  Bytes data = RandomBytes(400000, 42);
  auto w1 = SnapshotWriter::Start(*t.repo, nullptr);
  REQUIRE((*w1)->PutFile("a.bin", data, Attrs()).ok());
  REQUIRE((*w1)->Commit(SnapshotInfo{}).ok());
  uint64_t stored = t.repo->stats().bytes_stored;
  auto w2 = SnapshotWriter::Start(*t.repo, nullptr);
  REQUIRE((*w2)->PutFile("copy/b.bin", data, Attrs()).ok());
  REQUIRE((*w2)->Commit(SnapshotInfo{}).ok());
  // Only the new trees were stored: far less than the data.
  REQUIRE(t.repo->stats().bytes_stored - stored < 2000);
  REQUIRE(t.repo->stats().blobs_deduped > 0);
}

TEST_CASE("bad paths are rejected", "[backend][snapshot]") {
  TestRepo t;
  auto w = SnapshotWriter::Start(*t.repo, nullptr);
  for (const char* p : {"", "/abs", "a//b", "a/../b", ".", "a/./b", "tab\there", "trail/"}) {
    INFO(p);
    REQUIRE((*w)->PutFile(p, AsBytes("x"), Attrs()).code() == Status::Code::kInvalidArgument);
  }
  std::string long_name(256, 'x');
  REQUIRE((*w)->PutFile(long_name, AsBytes("x"), Attrs()).code() == Status::Code::kInvalidArgument);
  REQUIRE((*w)->PutFile("bad\xff utf8", AsBytes("x"), Attrs()).code() == Status::Code::kInvalidArgument);
}

TEST_CASE("a finished file is visible to the next lookup, listing and rename", "[backend][snapshot]") {
  TestRepo t;
  auto w = SnapshotWriter::Start(*t.repo, nullptr);
  for (int i = 0; i < 200; ++i) {
    std::string path = "box/f" + std::to_string(i);
    REQUIRE((*w)->PutFile(path, RandomBytes(3000 + i, i), Attrs()).ok());
    auto e = (*w)->Lookup(path);
    REQUIRE(e.ok());
    REQUIRE(e->has_value());
    REQUIRE((*e)->size == 3000u + i);
  }
  REQUIRE((*w)->PutFile("late/x", AsBytes("x"), Attrs()).ok());
  auto names = (*w)->ListNames("late");
  REQUIRE(names.ok());
  REQUIRE(*names == std::vector<std::string>{"x"});
  REQUIRE((*w)->PutFile("late/y", AsBytes("y"), Attrs()).ok());
  REQUIRE((*w)->Rename("late/y", "late/z").ok());
  auto snap = (*w)->Commit(SnapshotInfo{});
  REQUIRE(snap.ok());
  REQUIRE(ReadPath(*t.repo, *snap, "late/z") == Bytes{'y'});
  REQUIRE(ReadPath(*t.repo, *snap, "box/f199") == RandomBytes(3199, 199));
}

TEST_CASE("tree entries kept encoded assemble the same blob as EncodeTree", "[backend][tree]") {
  Tree tree;
  TreeEntry dir;
  dir.name = "Inbox";
  dir.kind = EntryKind::kDirectory;
  dir.mode = 0755;
  dir.subtree.bytes[0] = 7;
  dir.metadata["m365.id"] = "folder-1";
  TreeEntry file;
  file.name = "2024-05-01 1000 hello [0123abcd].eml";
  file.mode = 0644;
  file.size = 10;
  file.mtime_ns = 1'700'000'000'000'000'000;
  file.metadata = {{"m365.id", "AAMk="}, {"m365.subject", "hello"}, {"m365.from", "A <a@b>"}};
  file.chunks = {ChunkRef{BlobId{}, 4}, ChunkRef{BlobId{}, 6}};
  file.chunks[1].id.bytes[31] = 1;
  REQUIRE(file.ComputeOffsets());
  TreeEntry link;
  link.name = "link";
  link.kind = EntryKind::kSymlink;
  link.link_target = "Inbox";
  tree.entries = {file, dir, link};
  REQUIRE(tree.Normalize().ok());
  const Bytes blob = EncodeTree(tree);

  std::vector<std::pair<std::string, Bytes>> bodies;
  size_t count = 0;
  REQUIRE(ForEachEncodedEntry(blob, [&](size_t n) { count = n; },
                              [&](std::string_view name, ByteView body) {
                                bodies.emplace_back(std::string(name), Bytes(body.begin(), body.end()));
                                return Status::OK();
                              })
              .ok());
  REQUIRE(count == 3);
  REQUIRE(bodies.size() == 3);
  Bytes assembled = EncodedTreeHeader(bodies.size());
  for (size_t i = 0; i < bodies.size(); ++i) {
    CHECK(bodies[i].second == EncodeEntryBody(tree.entries[i]));
    auto e = DecodeEntryBody(bodies[i].first, bodies[i].second);
    REQUIRE(e.ok());
    CHECK(e->name == tree.entries[i].name);
    CHECK(e->kind == tree.entries[i].kind);
    CHECK(e->metadata == tree.entries[i].metadata);
    CHECK(e->offsets == tree.entries[i].offsets);
    CHECK(e->subtree == tree.entries[i].subtree);
    CHECK(e->link_target == tree.entries[i].link_target);
    AppendEncodedEntry(&assembled, bodies[i].first, bodies[i].second);
  }
  CHECK(assembled == blob);
  auto decoded = DecodeTree(blob);
  REQUIRE(decoded.ok());
  CHECK(EncodeTree(*decoded) == blob);

  // Malformed input is refused, not read past its end.
  Bytes truncated(blob.begin(), blob.end() - 5);
  CHECK(ForEachEncodedEntry(truncated, nullptr, [](std::string_view, ByteView) { return Status::OK(); })
            .IsCorruption());
  CHECK(DecodeEntryBody("x", ByteView(bodies[0].second).first(bodies[0].second.size() - 1)).status().IsCorruption());
  Bytes trailing = bodies[0].second;
  trailing.push_back(0);
  CHECK(DecodeEntryBody("x", trailing).status().IsCorruption());
}
