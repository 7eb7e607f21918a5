// Split trees (tree format version 2): a large directory is an index over
// parts cut by a content-defined rule; it reads back whole, its unchanged
// parts dedup, and every malformed index is refused with a clear error.
#include <algorithm>
#include <cstdio>
#include <set>

#include "backend/maintenance.h"
#include "backend/tree_builder.h"
#include "backend/tree_walk.h"
#include "test_util.h"

using namespace m365vault;
using namespace m365vault::testing;

namespace {

constexpr int kBig = 20000;

std::string BigName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "m%05d.eml", i);
  return buf;
}

// Saves tree blobs the way the snapshot writer does.
TreeBuilder::SaveFn Saver(Repository& repo, int* calls = nullptr) {
  return [&repo, calls](ByteView blob) -> Result<BlobId> {
    if (calls) ++*calls;
    BlobId id = repo.HashBlob(blob);
    M365_RETURN_IF_ERROR(repo.SaveBlob(BlobType::kTree, id, blob).status());
    return id;
  };
}

Bytes LoadTreeBlob(Repository& repo, const BlobId& id) {
  auto blob = repo.LoadBlob(BlobType::kTree, id);
  REQUIRE(blob.ok());
  return std::move(blob).value();
}

std::vector<TreePart> PartsOf(Repository& repo, const BlobId& id) {
  Bytes blob = LoadTreeBlob(repo, id);
  REQUIRE(IsTreeIndex(blob));
  auto parts = DecodeTreeIndex(blob);
  REQUIRE(parts.ok());
  return std::move(parts).value();
}

// Parts of `b` whose ids are not among `a`'s.
size_t ChangedParts(const std::vector<TreePart>& a, const std::vector<TreePart>& b) {
  std::set<BlobId> old;
  for (const TreePart& p : a) old.insert(p.id);
  return std::count_if(b.begin(), b.end(), [&](const TreePart& p) { return !old.count(p.id); });
}

BlobId SubtreeAt(Repository& repo, const SnapshotInfo& snap, const std::string& path) {
  SnapshotReader r(repo, snap);
  auto e = r.Lookup(path);
  REQUIRE(e.ok());
  REQUIRE(e->kind == EntryKind::kDirectory);
  return e->subtree;
}

std::vector<std::string> Names(const Tree& tree) {
  std::vector<std::string> names;
  for (const TreeEntry& e : tree.entries) names.push_back(e.name);
  return names;
}

TreeEntry FileEntry(const std::string& name, size_t nchunks = 1) {
  TreeEntry e;
  e.name = name;
  e.mode = 0644;
  e.mtime_ns = 1'700'000'000'000'000'000;
  e.metadata["m365.id"] = "id-" + name;
  for (size_t i = 0; i < nchunks; ++i) {
    ChunkRef c;
    c.id.bytes[0] = static_cast<uint8_t>(i);
    c.id.bytes[1] = static_cast<uint8_t>(i >> 8);
    c.id.bytes[2] = static_cast<uint8_t>(i >> 16);
    c.length = 1000;
    e.chunks.push_back(c);
  }
  e.size = 1000 * nchunks;
  e.ComputeOffsets();
  return e;
}

Tree MakeTree(int n, int first = 0) {
  Tree t;
  for (int i = first; i < first + n; ++i) t.entries.push_back(FileEntry(BigName(i)));
  return t;
}

}  // namespace

TEST_CASE("the boundary hash and the cut constants never change", "[backend][tree][split]") {
  // Known answers: FNV-1a 64 then fmix64 (docs/format.md, "Split trees").
  CHECK(PartBoundaryHash("a") == 0x82a2a958a9bece5bull);
  CHECK(PartBoundaryHash("Inbox") == 0xce688d6157ed22afull);
  CHECK(PartBoundaryHash("2024-05-01 1000 hello [0123abcd].eml") == 0x1b908f2e72e69fb4ull);
  CHECK(kMinPartEntries == 256);
  CHECK(kPartAverageEntries == 2048);
  CHECK(kMaxPartBytes == 4u << 20);
}

TEST_CASE("a large directory is split into parts and reads back whole", "[backend][tree][split]") {
  TestRepo t;
  auto w = SnapshotWriter::Start(*t.repo, nullptr);
  REQUIRE(w.ok());
  std::vector<std::string> names;
  for (int i = 0; i < kBig; ++i) {
    names.push_back(BigName(i));
    const std::string content = "mail " + std::to_string(i % 7);
    REQUIRE((*w)->PutFile("big/" + names.back(), AsBytes(content), Attrs(i, "id" + std::to_string(i))).ok());
  }
  for (int i = 0; i < 10; ++i) REQUIRE((*w)->PutFile("small/f" + std::to_string(i), AsBytes("x"), Attrs()).ok());
  auto snap = (*w)->Commit(SnapshotInfo{});
  REQUIRE(snap.ok());

  auto repo = t.Reopen();
  SnapshotReader reader(*repo, *snap);
  const BlobId big = SubtreeAt(*repo, *snap, "big");
  const std::vector<TreePart> parts = PartsOf(*repo, big);
  CHECK(parts.size() >= 4);
  uint64_t total = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    total += parts[i].count;
    // Each part is a plain version-1 tree starting at its first name.
    auto part = DecodeTree(LoadTreeBlob(*repo, parts[i].id));
    REQUIRE(part.ok());
    CHECK(part->entries.size() == parts[i].count);
    CHECK(part->entries.front().name == parts[i].first);
    if (i + 1 < parts.size()) {
      // Cut by the hash rule (these entries are far too small for the byte rule).
      CHECK(part->entries.size() >= kMinPartEntries);
      CHECK(PartBoundaryHash(part->entries.back().name) % kPartAverageEntries == 0);
    }
  }
  CHECK(total == kBig);

  // The index is not a listing: DecodeTree says so rather than returning nothing.
  auto as_plain = DecodeTree(LoadTreeBlob(*repo, big));
  REQUIRE_FALSE(as_plain.ok());
  CHECK(as_plain.status().message().find("index") != std::string::npos);

  auto listing = reader.ListDirectory("big");
  REQUIRE(listing.ok());
  CHECK(Names(**listing) == names);
  for (int i : {0, kBig / 2, kBig - 1}) {
    INFO(i);
    auto e = reader.Lookup("big/" + BigName(i));
    REQUIRE(e.ok());
    CHECK(e->mtime_ns == i);
    CHECK(e->metadata.at("m365.id") == "id" + std::to_string(i));
    const std::string content = "mail " + std::to_string(i % 7);
    CHECK(ReadPath(*repo, *snap, "big/" + BigName(i)) == Bytes(content.begin(), content.end()));
  }
  CHECK(reader.Lookup("big/m99999.eml").status().IsNotFound());

  // The streaming walk sees the same entries, in order, with the total first.
  uint64_t counted = 0;
  std::vector<std::string> walked;
  size_t parts_seen = 0;
  TreeWalkHooks hooks;
  hooks.on_count = [&](uint64_t n) { counted = n; };
  hooks.on_part = [&](const TreePart&) {
    ++parts_seen;
    return true;
  };
  REQUIRE(ForEachTreeEntry(*repo, big, hooks, [&](std::string_view name, ByteView body) {
            walked.emplace_back(name);
            return DecodeEntryBody(std::string(name), body).status();
          }).ok());
  CHECK(counted == kBig);
  CHECK(walked == names);
  CHECK(parts_seen == parts.size());

  // A small directory is still one version-1 blob, byte for byte EncodeTree's.
  const BlobId small = SubtreeAt(*repo, *snap, "small");
  Bytes small_blob = LoadTreeBlob(*repo, small);
  CHECK_FALSE(IsTreeIndex(small_blob));
  auto small_tree = reader.ListDirectory("small");
  REQUIRE(small_tree.ok());
  CHECK((*small_tree)->entries.size() == 10);
  CHECK(EncodeTree(**small_tree) == small_blob);

  auto report = Check(*repo, CheckOptions{true, nullptr});
  REQUIRE(report.ok());
  INFO((report->errors.empty() ? std::string() : report->errors.front()));
  CHECK(report->ok());
  CHECK(report->trees == 1 + 1 + parts.size() + 1);  // root, big's index and parts, small
}

TEST_CASE("a change in a large directory rewrites one part; moves and removals work", "[backend][tree][split][dedup]") {
  TestRepo t;
  auto w1 = SnapshotWriter::Start(*t.repo, nullptr);
  for (int i = 0; i < kBig; ++i) REQUIRE((*w1)->PutFile("box/big/" + BigName(i), AsBytes("x"), Attrs()).ok());
  auto s1 = (*w1)->Commit(SnapshotInfo{});
  REQUIRE(s1.ok());
  const std::vector<TreePart> p1 = PartsOf(*t.repo, SubtreeAt(*t.repo, *s1, "box/big"));

  // One entry in the middle changes: its part is rewritten, the others dedup.
  const uint64_t saved_before = t.repo->stats().blobs_saved;
  auto w2 = SnapshotWriter::Start(*t.repo, &*s1);
  REQUIRE((*w2)->PutFile("box/big/" + BigName(kBig / 2), AsBytes("changed"), Attrs()).ok());
  auto s2 = (*w2)->Commit(SnapshotInfo{});
  REQUIRE(s2.ok());
  const std::vector<TreePart> p2 = PartsOf(*t.repo, SubtreeAt(*t.repo, *s2, "box/big"));
  CHECK(p2.size() == p1.size());
  CHECK(ChangedParts(p1, p2) == 1);
  // New blobs: the content, one part, the index, box and the root.
  CHECK(t.repo->stats().blobs_saved - saved_before == 5);
  CHECK(ReadPath(*t.repo, *s2, "box/big/" + BigName(kBig / 2)) == Bytes{'c', 'h', 'a', 'n', 'g', 'e', 'd'});

  // Insertions and removals at both ends touch the first and the last part.
  auto w3 = SnapshotWriter::Start(*t.repo, &*s2);
  REQUIRE((*w3)->PutFile("box/big/a-first", AsBytes("first"), Attrs()).ok());
  REQUIRE((*w3)->PutFile("box/big/z-last", AsBytes("last"), Attrs()).ok());
  REQUIRE((*w3)->Remove("box/big/" + BigName(0)).ok());
  REQUIRE((*w3)->Remove("box/big/" + BigName(kBig - 1)).ok());
  auto s3 = (*w3)->Commit(SnapshotInfo{});
  REQUIRE(s3.ok());
  const std::vector<TreePart> p3 = PartsOf(*t.repo, SubtreeAt(*t.repo, *s3, "box/big"));
  CHECK(ChangedParts(p2, p3) <= 2);
  CHECK(p3.front().first == "a-first");
  CHECK(p3.front().id != p2.front().id);
  CHECK(p3.back().id != p2.back().id);
  for (size_t i = 1; i + 1 < p3.size(); ++i) CHECK(p3[i].id == p2[i].id);
  {
    SnapshotReader r3(*t.repo, *s3);
    auto listing = r3.ListDirectory("box/big");
    REQUIRE(listing.ok());
    std::vector<std::string> expect{"a-first"};
    for (int i = 1; i < kBig - 1; ++i) expect.push_back(BigName(i));
    expect.push_back("z-last");
    CHECK(Names(**listing) == expect);
    CHECK(ReadPath(*t.repo, *s3, "box/big/z-last") == Bytes{'l', 'a', 's', 't'});
  }

  // A rename moves the index as it is; a removal drops it.
  auto w4 = SnapshotWriter::Start(*t.repo, &*s3);
  REQUIRE((*w4)->Rename("box/big", "moved/big2").ok());
  auto s4 = (*w4)->Commit(SnapshotInfo{});
  REQUIRE(s4.ok());
  CHECK(SubtreeAt(*t.repo, *s4, "moved/big2") == SubtreeAt(*t.repo, *s3, "box/big"));
  SnapshotReader r4(*t.repo, *s4);
  CHECK(r4.Lookup("box/big").status().IsNotFound());
  CHECK(ReadPath(*t.repo, *s4, "moved/big2/a-first") == Bytes{'f', 'i', 'r', 's', 't'});
  auto w5 = SnapshotWriter::Start(*t.repo, &*s4);
  REQUIRE((*w5)->Remove("moved/big2").ok());
  auto s5 = (*w5)->Commit(SnapshotInfo{});
  REQUIRE(s5.ok());
  SnapshotReader r5(*t.repo, *s5);
  CHECK(r5.Lookup("moved/big2").status().IsNotFound());
  auto moved = r5.ListDirectory("moved");
  REQUIRE(moved.ok());
  CHECK((*moved)->entries.empty());

  // Prune keeps the parts of kept snapshots and removes those of forgotten ones.
  auto check = Check(*t.repo, CheckOptions{true, nullptr});
  REQUIRE(check.ok());
  INFO((check->errors.empty() ? std::string() : check->errors.front()));
  REQUIRE(check->ok());
  PruneOptions forget_old;
  forget_old.forget = {s1->id, s2->id, s5->id};
  auto pruned = Prune(*t.repo, forget_old);
  REQUIRE(pruned.ok());
  CHECK(pruned->blobs_removed > 0);
  for (const TreePart& p : p3) CHECK(t.repo->HasBlob(p.id));
  for (const TreePart& p : p1) {
    // s1's parts survive only where s3 (kept through s4) shares them.
    bool shared = std::any_of(p3.begin(), p3.end(), [&](const TreePart& q) { return q.id == p.id; });
    CHECK(t.repo->HasBlob(p.id) == shared);
  }
  auto after = t.Reopen();
  auto check2 = Check(*after, CheckOptions{true, nullptr});
  REQUIRE(check2.ok());
  INFO((check2->errors.empty() ? std::string() : check2->errors.front()));
  CHECK(check2->ok());
  SnapshotReader r4b(*after, *s4);
  auto listing4 = r4b.ListDirectory("moved/big2");
  REQUIRE(listing4.ok());
  CHECK((*listing4)->entries.size() == kBig);

  PruneOptions forget_all;
  forget_all.forget = {s3->id, s4->id};
  REQUIRE(Prune(*after, forget_all).ok());
  for (const TreePart& p : p3) CHECK_FALSE(after->HasBlob(p.id));
}

TEST_CASE("the cut is deterministic: the same entries give the same tree", "[backend][tree][split]") {
  TestRepo t;
  // Two writers, the entries added in opposite orders.
  BlobId roots[2];
  for (int run = 0; run < 2; ++run) {
    auto w = SnapshotWriter::Start(*t.repo, nullptr);
    for (int k = 0; k < 6000; ++k) {
      int i = run == 0 ? k : 5999 - k;
      REQUIRE((*w)->PutFile("d/" + BigName(i), AsBytes("same"), Attrs()).ok());
    }
    auto s = (*w)->Commit(SnapshotInfo{});
    REQUIRE(s.ok());
    roots[run] = s->root;
    CHECK(IsTreeIndex(LoadTreeBlob(*t.repo, SubtreeAt(*t.repo, *s, "d"))));
  }
  CHECK(roots[0] == roots[1]);
  // And the builder alone agrees with itself.
  Tree tree = MakeTree(6000);
  auto a = WriteTree(tree, Saver(*t.repo));
  auto b = WriteTree(tree, Saver(*t.repo));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a == *b);
}

TEST_CASE("TreeBuilder: one part is a plain tree, the byte rule, bad input", "[backend][tree][split]") {
  TestRepo t;
  auto save = Saver(*t.repo);

  // An empty directory and a small one: EncodeTree's blob, saved once.
  for (int n : {0, 1, 10, 255}) {
    INFO(n);
    Tree tree = MakeTree(n);
    int calls = 0;
    auto id = WriteTree(tree, Saver(*t.repo, &calls));
    REQUIRE(id.ok());
    CHECK(*id == t.repo->HashBlob(EncodeTree(tree)));
    CHECK(calls == 1);
  }

  // The first boundary (after kMinPartEntries) ends the directory: one part,
  // a plain tree; one entry more and it is an index over two parts.
  int boundary = -1;
  for (int i = kMinPartEntries - 1; boundary < 0; ++i) {
    if (PartBoundaryHash(BigName(i)) % kPartAverageEntries == 0) boundary = i;
  }
  Tree exact = MakeTree(boundary + 1);
  auto one = WriteTree(exact, save);
  REQUIRE(one.ok());
  CHECK(*one == t.repo->HashBlob(EncodeTree(exact)));
  Tree more = MakeTree(boundary + 2);
  auto two = WriteTree(more, save);
  REQUIRE(two.ok());
  REQUIRE(t.repo->Flush().ok());
  std::vector<TreePart> parts = PartsOf(*t.repo, *two);
  REQUIRE(parts.size() == 2);
  CHECK(parts[0].id == *one);
  CHECK(parts[1].count == 1);
  CHECK(parts[1].first == BigName(boundary + 1));

  // Entries too big for the hash rule: parts end at kMaxPartBytes.
  Tree heavy;
  for (int i = 0; i < 24; ++i) heavy.entries.push_back(FileEntry(BigName(i), 20000));  // ~700 KB each
  heavy.entries.push_back(FileEntry(BigName(24), 140000));                             // one entry > 4 MiB
  heavy.entries.push_back(FileEntry(BigName(25)));
  std::vector<size_t> sizes;
  auto heavy_id = WriteTree(heavy, [&](ByteView blob) {
    sizes.push_back(blob.size());
    return save(blob);
  });
  REQUIRE(heavy_id.ok());
  REQUIRE(t.repo->Flush().ok());
  parts = PartsOf(*t.repo, *heavy_id);
  CHECK(parts.size() >= 5);
  CHECK(sizes.size() == parts.size() + 1);
  const size_t body = EncodeEntryBody(heavy.entries[0]).size();
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    const bool has_giant = parts[i].first <= BigName(24) && (i + 1 == parts.size() || BigName(24) < parts[i + 1].first);
    if (!has_giant) CHECK(sizes[i] < kMaxPartBytes + body + 64);
  }
  auto heavy_back = t.repo->LoadTree(*heavy_id);
  REQUIRE(heavy_back.ok());
  REQUIRE((*heavy_back)->entries.size() == heavy.entries.size());
  CHECK(EncodeTree(**heavy_back) == EncodeTree(heavy));

  // Out of order, duplicate, invalid names; a failed save sticks.
  TreeBuilder b(save);
  const Bytes body1 = EncodeEntryBody(FileEntry("x"));
  REQUIRE(b.Add("b", body1).ok());
  CHECK(b.Add("a", body1).code() == Status::Code::kInvalidArgument);
  CHECK(b.Add("b", body1).code() == Status::Code::kInvalidArgument);
  CHECK(b.Add("x/y", body1).code() == Status::Code::kInvalidArgument);
  CHECK(b.Add("", body1).code() == Status::Code::kInvalidArgument);
  REQUIRE(b.Finish().ok());
  CHECK(b.Add("c", body1).code() == Status::Code::kInvalidArgument);

  int calls = 0;
  TreeBuilder failing([&](ByteView) -> Result<BlobId> {
    ++calls;
    return Status::IOError("disk full");
  });
  Status st;
  for (int i = 0; i < 3000 && st.ok(); ++i) st = failing.Add(BigName(i), body1);
  CHECK(st.code() == Status::Code::kIOError);
  CHECK(failing.Add("zzz", body1).code() == Status::Code::kIOError);
  CHECK(failing.Finish().status().code() == Status::Code::kIOError);
  CHECK(calls == 1);
}

TEST_CASE("a malformed split tree is refused with a clear error", "[backend][tree][split]") {
  TestRepo t;
  Repository& repo = *t.repo;
  auto save = Saver(repo);
  auto save_blob = [&](const Bytes& blob) {
    auto id = save(blob);
    REQUIRE(id.ok());
    return *id;
  };
  // Three parts: m00000-m00003, m00004-m00005, m00006-m00009.
  TreePart a{BigName(0), save_blob(EncodeTree(MakeTree(4, 0))), 4};
  TreePart b{BigName(4), save_blob(EncodeTree(MakeTree(2, 4))), 2};
  TreePart c{BigName(6), save_blob(EncodeTree(MakeTree(4, 6))), 4};
  const BlobId good = save_blob(EncodeTreeIndex({a, b, c}));
  REQUIRE(repo.Flush().ok());
  auto whole = repo.LoadTree(good);
  REQUIRE(whole.ok());
  CHECK(EncodeTree(**whole) == EncodeTree(MakeTree(10)));

  // Index blobs that do not decode.
  const Bytes good_index = EncodeTreeIndex({a, b, c});
  for (size_t n = 0; n < good_index.size(); ++n) {
    INFO("truncated to " << n);
    CHECK(DecodeTreeIndex(ByteView(good_index).first(n)).status().IsCorruption());
  }
  TreePart empty = b;
  empty.count = 0;
  TreePart bad_name = b;
  bad_name.first = "a/b";
  Bytes trailing = good_index;
  trailing.push_back(0);
  struct Case {
    const char* what;
    Bytes index;
    const char* message;  // part of the error's message
  };
  std::vector<Case> undecodable = {
      {"parts in the wrong order", EncodeTreeIndex({a, c, b}), "parts not in name order"},
      {"a repeated part", EncodeTreeIndex({a, a}), "parts not in name order"},
      {"one part", EncodeTreeIndex({a}), "fewer than 2 parts"},
      {"no part", EncodeTreeIndex({}), "fewer than 2 parts"},
      {"an empty part", EncodeTreeIndex({a, empty, c}), "empty part"},
      {"an invalid first name", EncodeTreeIndex({a, bad_name}), "first name"},
      {"trailing bytes", trailing, "trailing bytes"},
  };

  // Indexes that decode, but whose parts disagree with them.
  TreePart wrong_first = b;
  wrong_first.first = BigName(3) + "x";  // after a's last name, before b's first entry
  TreePart wrong_count = c;
  wrong_count.count = 5;
  TreePart overlapping = b;
  overlapping.id = save_blob(EncodeTree(MakeTree(3, 4)));  // m00004-m00006: m00006 is c's
  overlapping.count = 3;
  TreePart nested = c;
  nested.id = good;  // an index as a part
  TreePart missing = c;
  missing.id.bytes[0] ^= 1;
  std::vector<Case> inconsistent = {
      {"a first name that is not the part's", EncodeTreeIndex({a, wrong_first, c}), "not at its first name"},
      {"a wrong count", EncodeTreeIndex({a, b, wrong_count}), "the index says 5"},
      {"overlapping parts", EncodeTreeIndex({a, overlapping, c}), "not before the next part"},
      {"a nested index", EncodeTreeIndex({a, b, nested}), "parts never nest"},
      {"a missing part", EncodeTreeIndex({a, b, missing}), "missing"},
  };
  for (const Case& k : undecodable) {
    INFO(k.what);
    auto parts = DecodeTreeIndex(k.index);
    REQUIRE(parts.status().IsCorruption());
    CHECK(parts.status().message().find(k.message) != std::string::npos);
  }
  std::vector<Case> all = undecodable;
  all.insert(all.end(), inconsistent.begin(), inconsistent.end());
  std::vector<BlobId> ids;
  for (const Case& k : all) ids.push_back(save_blob(k.index));
  REQUIRE(repo.Flush().ok());
  for (size_t i = 0; i < all.size(); ++i) {
    const Case& k = all[i];
    INFO(k.what);
    auto tree = repo.LoadTree(ids[i]);
    REQUIRE(tree.status().IsCorruption());
    CHECK(tree.status().message().find(k.message) != std::string::npos);
    CHECK(tree.status().message().find("tree " + ids[i].Short()) != std::string::npos);
    // The streaming walk stops at the same fault, having reported only
    // entries in order and none past the fault.
    std::vector<std::string> seen;
    Status st = ForEachTreeEntry(repo, ids[i], [&](std::string_view name, ByteView) {
      seen.emplace_back(name);
      return Status::OK();
    });
    REQUIRE(st.IsCorruption());
    CHECK(st.message().find(k.message) != std::string::npos);
    CHECK(std::is_sorted(seen.begin(), seen.end()));
    CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  }
  // A visitor's own error comes back unchanged.
  Status stop = ForEachTreeEntry(repo, good, [](std::string_view, ByteView) { return Status::Cancelled("enough"); });
  CHECK(stop.code() == Status::Code::kCancelled);
  CHECK(stop.message() == "enough");
}

TEST_CASE("check reports a broken split tree at its path, and prune will not guess", "[backend][tree][split][prune]") {
  TestRepo t;
  Repository& repo = *t.repo;
  auto save = Saver(repo);
  TreePart a{BigName(0), *save(EncodeTree(MakeTree(4, 0))), 4};
  TreePart gone{BigName(4), a.id, 2};
  gone.id.bytes[0] ^= 0x40;  // no such blob
  auto index = save(EncodeTreeIndex({a, gone}));
  REQUIRE(index.ok());
  Tree root;
  TreeEntry dir;
  dir.name = "broken";
  dir.kind = EntryKind::kDirectory;
  dir.mode = 0755;
  dir.subtree = *index;
  root.entries.push_back(dir);
  auto root_id = save(EncodeTree(root));
  REQUIRE(root_id.ok());
  REQUIRE(repo.Flush().ok());
  SnapshotInfo info;
  info.root = *root_id;
  info.time_ns = 1;
  REQUIRE(repo.SaveSnapshot(&info).ok());

  auto report = Check(repo, CheckOptions{true, nullptr});
  REQUIRE(report.ok());
  // The other errors are the made-up chunks of the part that is there.
  auto broken = std::find_if(report->errors.begin(), report->errors.end(),
                             [](const std::string& e) { return e.rfind("directory ", 0) == 0; });
  REQUIRE(broken != report->errors.end());
  const std::string& error = *broken;
  INFO(error);
  CHECK(error.find(info.id.substr(0, 8) + "/broken") != std::string::npos);
  CHECK(error.find("part 2 of 2 (" + gone.id.Short()) != std::string::npos);
  CHECK(error.find("missing") != std::string::npos);

  SnapshotReader reader(repo, info);
  CHECK(reader.ListDirectory("broken").status().IsCorruption());
  CHECK(reader.Lookup("broken/" + BigName(0)).status().IsCorruption());

  auto pruned = Prune(repo, PruneOptions{});
  REQUIRE_FALSE(pruned.ok());
  CHECK(pruned.status().message().find("missing") != std::string::npos);
}
