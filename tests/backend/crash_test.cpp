// Crash safety: stop a backup and a prune at every mutating storage step in
// turn; after each, the repository checks clean, every committed snapshot
// reads back byte-exact, and the next backup succeeds.
#include <map>

#include "backend/maintenance.h"
#include "test_util.h"

using namespace m365vault;
using namespace m365vault::testing;

namespace {

using Files = std::map<std::string, Bytes>;

Files Generation(int gen) {
  Files f;
  for (int i = 0; i < 12; ++i) {
    size_t size = (i % 4 == 0) ? 200000 + 1000 * i : 3000 + 997 * i;
    f["u" + std::to_string(i % 3) + "/d" + std::to_string(i % 2) + "/f" + std::to_string(i)] =
        RandomBytes(size, gen * 100 + i);
  }
  return f;
}

Status Backup(Repository& repo, const Files& files, const SnapshotInfo* parent, SnapshotInfo* out) {
  M365_ASSIGN_OR_RETURN(auto lock, repo.Lock(LockMode::kShared, "backup"));
  M365_ASSIGN_OR_RETURN(auto w, SnapshotWriter::Start(repo, parent));
  for (const auto& [path, data] : files) M365_RETURN_IF_ERROR(w->PutFile(path, data, Attrs()));
  M365_ASSIGN_OR_RETURN(*out, w->Commit(SnapshotInfo{}));
  return Status::OK();
}

void ExpectSnapshotEquals(Repository& repo, const SnapshotInfo& snap, const Files& files) {
  for (const auto& [path, data] : files) {
    INFO(path);
    REQUIRE(ReadPath(repo, snap, path) == data);
  }
}

std::unique_ptr<Repository> OpenOn(Storage& s, const crypto::SecretKey& master) {
  auto r = Repository::Open(std::make_unique<BorrowedStorage>(s), master, TestRepo::SmallOptions());
  REQUIRE(r.ok());
  return std::move(r).value();
}

// After the "process" died: its lock files stay behind; a dead pid makes them
// stale, which we emulate by removing them.
void DropLocks(MemStorage& mem) {
  for (auto it = mem.objects().begin(); it != mem.objects().end();) {
    it = it->first.rfind("locks/", 0) == 0 ? mem.objects().erase(it) : std::next(it);
  }
}

void VerifyAfterCrash(MemStorage& mem, const crypto::SecretKey& master, const std::map<std::string, Files>& truth) {
  DropLocks(mem);
  auto repo = OpenOn(mem, master);
  auto report = Check(*repo, CheckOptions{true, nullptr});
  REQUIRE(report.ok());
  INFO((report->errors.empty() ? std::string() : report->errors.front()));
  REQUIRE(report->ok());
  auto snaps = repo->ListSnapshots();
  REQUIRE(snaps.ok());
  for (const SnapshotInfo& s : *snaps) {
    auto t = truth.find(s.job_id);
    REQUIRE(t != truth.end());
    ExpectSnapshotEquals(*repo, s, t->second);
  }
  // The next backup succeeds and reads back.
  SnapshotInfo next;
  Files g3 = Generation(3);
  REQUIRE(Backup(*repo, g3, snaps->empty() ? nullptr : &snaps->back(), &next).ok());
  ExpectSnapshotEquals(*repo, next, g3);
}

// Runs `op(repo)` on a copy of `base` whose storage "dies" at mutating step
// `crash_at`; returns the copy as the dead process left it.
template <typename Op>
std::unique_ptr<MemStorage> RunCrashingAt(const std::map<std::string, Bytes>& base, int64_t crash_at,
                                          const crypto::SecretKey& master, Op op) {
  auto mem = std::make_unique<MemStorage>();
  mem->objects() = base;
  FaultInjectionStorage faulty(*mem);
  faulty.CrashAtStep(crash_at);
  {
    auto repo = OpenOn(faulty, master);
    op(*repo);
  }
  return mem;
}


// A MemStorage whose disk fills up: streamed objects (packs) fail with NoSpace
// once `budget` bytes have been appended to them in all.
class FillingStorage final : public Storage {
 public:
  FillingStorage(MemStorage& base, size_t budget) : base_(base), budget_(budget) {}
  Status Write(std::string_view n, ByteView d) override { return base_.Write(n, d); }
  Result<std::unique_ptr<ObjectWriter>> Create(std::string_view n) override {
    return std::unique_ptr<ObjectWriter>(new Writer(*this, std::string(n)));
  }
  Result<Bytes> Read(std::string_view n) override { return base_.Read(n); }
  Result<Bytes> ReadRange(std::string_view n, uint64_t o, uint64_t l) override { return base_.ReadRange(n, o, l); }
  Result<uint64_t> Size(std::string_view n) override { return base_.Size(n); }
  Result<std::vector<ObjectInfo>> List(std::string_view p) override { return base_.List(p); }
  Status Remove(std::string_view n) override { return base_.Remove(n); }
  std::string Describe() const override { return "filling"; }

 private:
  struct Writer final : ObjectWriter {
    Writer(FillingStorage& s, std::string n) : storage(s), name(std::move(n)) {}
    Status Append(ByteView d) override {
      if (d.size() > storage.budget_) return Status::NoSpace("disk full writing " + name);
      storage.budget_ -= d.size();
      data.insert(data.end(), d.begin(), d.end());
      return Status::OK();
    }
    Status Commit() override { return storage.base_.Write(name, data); }
    FillingStorage& storage;
    std::string name;
    Bytes data;
  };
  MemStorage& base_;
  std::atomic<size_t> budget_;
};

}  // namespace

TEST_CASE("a backup stopped at any storage step loses nothing committed", "[backend][crash]") {
  TestRepo t;
  Files g1 = Generation(1), g2 = Generation(2);
  SnapshotInfo s1;
  {
    auto lock = t.repo->Lock(LockMode::kShared, "backup");
    auto w = SnapshotWriter::Start(*t.repo, nullptr);
    for (const auto& [p, d] : g1) REQUIRE((*w)->PutFile(p, d, Attrs()).ok());
    SnapshotInfo fields;
    fields.job_id = "g1";
    auto s = (*w)->Commit(fields);
    REQUIRE(s.ok());
    s1 = *s;
  }
  std::map<std::string, Bytes> base = t.mem.objects();

  // Count the steps of the second backup in a dry run.
  int64_t steps = 0;
  {
    MemStorage mem;
    mem.objects() = base;
    FaultInjectionStorage faulty(mem);
    auto repo = OpenOn(faulty, t.master);
    SnapshotInfo s2;
    REQUIRE(Backup(*repo, g2, &s1, &s2).ok());
    steps = faulty.steps();
  }
  REQUIRE(steps >= 4);

  for (int64_t crash_at = 0; crash_at <= steps; ++crash_at) {
    INFO("crash at step " << crash_at << " of " << steps);
    auto mem = RunCrashingAt(base, crash_at, t.master, [&](Repository& repo) {
      auto w = SnapshotWriter::Start(repo, &s1);
      auto lock = repo.Lock(LockMode::kShared, "backup");
      bool ok = lock.ok();
      for (const auto& [p, d] : g2) ok = ok && (*w)->PutFile(p, d, Attrs()).ok();
      SnapshotInfo fields;
      fields.job_id = "g2";
      if (ok) ok = (*w)->Commit(fields).ok();
      REQUIRE(ok == (crash_at >= steps - 1));  // the last step is the lock's removal
    });
    VerifyAfterCrash(*mem, t.master, {{"g1", g1}, {"g2", g2}, {"", Generation(3)}});
  }
}

TEST_CASE("a prune stopped at any storage step loses nothing kept", "[backend][crash][prune]") {
  TestRepo t;
  Files g1 = Generation(1), g2 = Generation(2);
  SnapshotInfo s1, s2;
  {
    SnapshotInfo fields;
    auto w = SnapshotWriter::Start(*t.repo, nullptr);
    for (const auto& [p, d] : g1) REQUIRE((*w)->PutFile(p, d, Attrs()).ok());
    fields.job_id = "g1";
    s1 = *(*w)->Commit(fields);
    auto w2 = SnapshotWriter::Start(*t.repo, nullptr);
    for (const auto& [p, d] : g2) REQUIRE((*w2)->PutFile(p, d, Attrs()).ok());
    fields.job_id = "g2";
    s2 = *(*w2)->Commit(fields);
  }
  std::map<std::string, Bytes> base = t.mem.objects();
  PruneOptions opts;
  opts.forget = {s1.id};
  opts.repack_threshold = 0.9;

  int64_t steps = 0;
  {
    MemStorage mem;
    mem.objects() = base;
    FaultInjectionStorage faulty(mem);
    auto repo = OpenOn(faulty, t.master);
    auto report = Prune(*repo, opts);
    REQUIRE(report.ok());
    REQUIRE(report->packs_deleted + report->packs_repacked > 0);
    steps = faulty.steps();
    // The pruned repository is smaller and still whole.
    REQUIRE(report->bytes_after < report->bytes_before);
    auto check = Check(*repo, CheckOptions{true, nullptr});
    REQUIRE(check.ok());
    REQUIRE(check->ok());
    ExpectSnapshotEquals(*repo, *repo->LoadSnapshot(s2.id), g2);
    REQUIRE(repo->LoadSnapshot(s1.id).status().IsNotFound());
  }
  for (int64_t crash_at = 0; crash_at < steps; ++crash_at) {
    INFO("crash at step " << crash_at << " of " << steps);
    auto mem = RunCrashingAt(base, crash_at, t.master, [&](Repository& repo) {
      // The last step is the lock's removal, after the prune is complete.
      REQUIRE(Prune(repo, opts).ok() == (crash_at >= steps - 1));
    });
    VerifyAfterCrash(*mem, t.master, {{"g1", g1}, {"g2", g2}, {"", Generation(3)}});
  }
}

TEST_CASE("prune keeps what kept snapshots need and refuses to guess", "[backend][prune]") {
  TestRepo t;
  Files g1 = Generation(1);
  auto w = SnapshotWriter::Start(*t.repo, nullptr);
  for (const auto& [p, d] : g1) REQUIRE((*w)->PutFile(p, d, Attrs()).ok());
  auto s1 = (*w)->Commit(SnapshotInfo{});
  REQUIRE(s1.ok());
  // Nothing to forget: nothing is removed.
  auto r = Prune(*t.repo, PruneOptions{});
  REQUIRE(r.ok());
  REQUIRE(r->blobs_removed == 0);
  REQUIRE(r->packs_deleted == 0);
  ExpectSnapshotEquals(*t.repo, *s1, g1);
  // An unreadable manifest stops prune instead of deleting its data.
  t.mem.objects()["snapshots/" + std::string(32, 'a')] = Bytes{'M', '3', 'V', 'R', 1, 0, 0};
  auto refused = Prune(*t.repo, PruneOptions{});
  REQUIRE_FALSE(refused.ok());
  REQUIRE(refused.status().message().find("prune stopped") != std::string::npos);
}

TEST_CASE("locks: shared coexist, exclusive excludes", "[backend][lock]") {
  TestRepo t;
  auto a = t.repo->Lock(LockMode::kShared, "backup exchange");
  REQUIRE(a.ok());
  auto b = t.repo->Lock(LockMode::kShared, "backup onedrive");
  REQUIRE(b.ok());
  auto x = t.repo->Lock(LockMode::kExclusive, "prune");
  REQUIRE(x.status().code() == Status::Code::kBusy);
  REQUIRE(x.status().message().find("backup") != std::string::npos);
  a->reset();
  b->reset();
  auto x2 = t.repo->Lock(LockMode::kExclusive, "prune");
  REQUIRE(x2.ok());
  REQUIRE(t.repo->Lock(LockMode::kShared, "backup").status().code() == Status::Code::kBusy);
  x2->reset();
  REQUIRE(t.repo->Lock(LockMode::kShared, "backup").ok());
}

// The disk fills up in the middle of a pack, at its last piece, or between
// packs: the error reaches the caller, no pack is half-visible, and no blob of
// an unwritten pack is reported as stored (so a later save writes it again
// instead of counting it as a duplicate).
TEST_CASE("a pack that cannot be written completely is reported and not counted", "[backend][crash]") {
  REQUIRE(crypto::InitCrypto());
  RepositoryOptions opts = TestRepo::SmallOptions();
  opts.pack_size = 4 << 20;  // several 1 MiB pieces per pack; 40 blobs make 3 packs
  for (size_t budget = 5 << 20; budget <= (10 << 20); budget += 256 << 10) {
    INFO("pack bytes that fit: " << budget);
    MemStorage mem;
    crypto::SecretKey master = crypto::SecretKey::Random();
    auto repo = Repository::Init(std::make_unique<FillingStorage>(mem, budget), master, "contoso", opts);
    REQUIRE(repo.ok());
    std::vector<std::pair<BlobId, Bytes>> blobs;
    Status st;
    for (int i = 0; i < 40 && st.ok(); ++i) {
      Bytes b = RandomBytes(256 << 10, 500 + i);
      const BlobId id = (*repo)->HashBlob(b);
      blobs.emplace_back(id, std::move(b));
      st = (*repo)->SaveBlob(BlobType::kData, id, blobs.back().second).status();
    }
    if (st.ok()) st = (*repo)->Flush();
    REQUIRE_FALSE(st.ok());
    CHECK(st.code() == Status::Code::kNoSpace);
    CHECK_THAT(st.ToString(), Catch::Contains("writing pack"));

    size_t stored = 0;
    for (const auto& [id, data] : blobs) {
      if (!(*repo)->HasBlob(id)) continue;
      ++stored;
      auto back = (*repo)->LoadBlob(BlobType::kData, id);
      REQUIRE(back.ok());
      CHECK(*back == data);
    }
    CHECK(stored >= 15);  // the first pack was committed
    CHECK(stored < 40);
    auto packs = mem.List("data/");
    REQUIRE(packs.ok());
    uint64_t visible = 0;
    for (const ObjectInfo& o : *packs) visible += o.size;
    CHECK(visible <= budget);  // nothing half-written is visible
  }
}

// Past index_batch blobs, the pack writer indexes what it has committed before
// Flush: another process sees those blobs, and the repository holds only the
// locations it has not indexed yet.
TEST_CASE("written packs are indexed before Flush once enough blobs wait", "[backend][index]") {
  RepositoryOptions opts = TestRepo::SmallOptions();
  opts.pack_size = 256 << 10;
  opts.index_batch = 8;
  TestRepo t(opts);
  std::vector<std::pair<BlobId, Bytes>> blobs;
  for (int i = 0; i < 40; ++i) {
    Bytes b = RandomBytes(100 << 10, 900 + i);
    const BlobId id = t.repo->HashBlob(b);
    REQUIRE(t.repo->SaveBlob(BlobType::kData, id, b).ok());
    blobs.emplace_back(id, std::move(b));
  }
  // No Flush yet: a second opening finds what the index files written so far name.
  size_t seen = 0;
  {
    auto other = t.Reopen(opts);
    auto index = t.mem.List("index/");
    REQUIRE(index.ok());
    CHECK(index->size() >= 2);
    for (const auto& [id, data] : blobs) {
      if (!other->HasBlob(id)) continue;
      ++seen;
      auto back = other->LoadBlob(BlobType::kData, id);
      REQUIRE(back.ok());
      CHECK(*back == data);
    }
  }
  CHECK(seen >= 16);
  CHECK(seen < blobs.size());  // the open pack's blobs wait for Flush
  REQUIRE(t.repo->Flush().ok());
  auto last = t.Reopen(opts);
  for (const auto& [id, data] : blobs) {
    auto back = last->LoadBlob(BlobType::kData, id);
    REQUIRE(back.ok());
    CHECK(*back == data);
  }
}

// Prune's repack writes many blobs: the pack writer indexes them in several
// files before prune's Flush. Prune's final index must still name every one
// of them before the older index files go.
TEST_CASE("prune keeps repacked blobs that were indexed while the repack ran", "[backend][prune][index]") {
  RepositoryOptions opts = TestRepo::SmallOptions();
  opts.pack_size = 64 << 10;
  opts.index_batch = 4;
  TestRepo t(opts);
  Files all;
  for (int i = 0; i < 40; ++i) all["u/f" + std::to_string(i)] = RandomBytes(20000 + 37 * i, 3000 + i);
  SnapshotInfo s1, s2;
  {
    auto w = SnapshotWriter::Start(*t.repo, nullptr);
    for (const auto& [p, d] : all) REQUIRE((*w)->PutFile(p, d, Attrs()).ok());
    s1 = *(*w)->Commit(SnapshotInfo{});
  }
  Files kept;
  {
    auto w = SnapshotWriter::Start(*t.repo, &s1);
    int i = 0;
    for (const auto& [p, d] : all) {
      if (i++ % 2) {
        REQUIRE((*w)->Remove(p).ok());
      } else {
        kept[p] = d;
      }
    }
    s2 = *(*w)->Commit(SnapshotInfo{});
  }
  PruneOptions popts;
  popts.forget = {s1.id};
  popts.repack_threshold = 0.9;
  auto report = Prune(*t.repo, popts);
  REQUIRE(report.ok());
  REQUIRE(report->packs_repacked >= 4);
  auto fresh = t.Reopen(opts);
  ExpectSnapshotEquals(*fresh, *fresh->LoadSnapshot(s2.id), kept);
  auto check = Check(*fresh, CheckOptions{true, nullptr});
  REQUIRE(check.ok());
  CHECK(check->ok());
}
