#include <sys/stat.h>

#include <filesystem>

#include "backend/local_storage.h"
#include "backend/maintenance.h"
#include "test_util.h"

using namespace m365vault;
using namespace m365vault::testing;

namespace {

struct TempDir {
  std::string path;
  explicit TempDir(const char* base = "/tmp") {
    std::string tmpl = std::string(base) + "/m365vault-test-XXXXXX";
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("local storage writes atomically, privately, and rejects escaping names", "[backend][storage]") {
  TempDir dir;
  auto s = LocalStorage::Open(dir.path + "/repo", true);
  REQUIRE(s.ok());
  REQUIRE((*s)->Write("data/ab/abcdef", AsBytes("payload")).ok());
  auto r = (*s)->Read("data/ab/abcdef");
  REQUIRE(r.ok());
  REQUIRE(AsString(*r) == "payload");
  auto part = (*s)->ReadRange("data/ab/abcdef", 3, 4);
  REQUIRE(AsString(*part) == "load");
  REQUIRE((*s)->ReadRange("data/ab/abcdef", 3, 40).status().IsCorruption());
  struct stat st;
  REQUIRE(::stat((dir.path + "/repo/data/ab/abcdef").c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir.path + "/repo/data/ab").c_str(), &st) == 0);
  REQUIRE((st.st_mode & 0777) == 0700);
  for (const char* bad : {"../x", "/etc/passwd", "a//b", "a/./b", ""}) {
    INFO(bad);
    REQUIRE((*s)->Write(bad, AsBytes("x")).code() == Status::Code::kInvalidArgument);
  }
  // A leftover temporary file (a crash mid-write) is never listed.
  {
    std::FILE* f = std::fopen((dir.path + "/repo/data/ab/.tmp-123").c_str(), "w");
    std::fclose(f);
  }
  auto list = (*s)->List("data/");
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  REQUIRE(list->front().name == "data/ab/abcdef");
  REQUIRE((*s)->Read("data/none").status().IsNotFound());
  REQUIRE((*s)->Remove("data/ab/abcdef").ok());
  REQUIRE((*s)->Remove("data/ab/abcdef").ok());
  REQUIRE(LocalStorage::Open(dir.path + "/missing", false).status().IsNotFound());
}

TEST_CASE("a 300 MB sparse-ish file round-trips through a repository on disk", "[backend][large]") {
  TempDir dir;
  auto storage = LocalStorage::Open(dir.path + "/repo", true);
  REQUIRE(storage.ok());
  crypto::SecretKey master = crypto::SecretKey::Random();
  RepositoryOptions opts;
  opts.cache_dir = dir.path + "/cache";
  auto repo = Repository::Init(std::move(storage).value(), master, "contoso", opts);
  REQUIRE(repo.ok());
  const uint64_t kSize = 300ull << 20;
  // Mostly zeros, with random islands every 7 MiB: stream it without holding it.
  auto w = SnapshotWriter::Start(**repo, nullptr);
  auto sink = (*w)->BeginFile("big/sparse.bin", Attrs());
  REQUIRE(sink.ok());
  Bytes block(1 << 20);
  for (uint64_t off = 0; off < kSize; off += block.size()) {
    std::fill(block.begin(), block.end(), 0);
    if ((off >> 20) % 7 == 3) block = RandomBytes(block.size(), off);
    REQUIRE((*sink)->Append(block).ok());
  }
  REQUIRE((*sink)->Finish().ok());
  auto snap = (*w)->Commit(SnapshotInfo{});
  REQUIRE(snap.ok());
  // Zeros dedup: far less than 300 MB stored.
  REQUIRE((*repo)->stats().bytes_stored < 60ull << 20);

  // Read back through a fresh open, whole and at odd offsets.
  auto reopened = Repository::Open(std::move(LocalStorage::Open(dir.path + "/repo", false)).value(), master, opts);
  REQUIRE(reopened.ok());
  SnapshotReader reader(**reopened, *snap);
  auto e = reader.Lookup("big/sparse.bin");
  REQUIRE(e.ok());
  REQUIRE(e->size == kSize);
  Bytes got(1 << 20);
  for (uint64_t off = 0; off < kSize; off += got.size()) {
    auto n = reader.Read(*e, off, got);
    REQUIRE(n.ok());
    REQUIRE(*n == got.size());
    Bytes expect(got.size(), 0);
    if ((off >> 20) % 7 == 3) expect = RandomBytes(got.size(), off);
    REQUIRE(got == expect);
  }
  Bytes tail(100);
  auto n = reader.Read(*e, kSize - 50, tail);
  REQUIRE(*n == 50);
}

// Large objects (packs) are written with O_DIRECT in 1 MiB aligned pieces plus
// a buffered tail; a file system without O_DIRECT (tmpfs) takes the buffered
// path. Both must give back exactly the bytes written, whatever the size.
TEST_CASE("large objects round-trip on disk and on tmpfs, aligned or not", "[backend][storage]") {
  std::vector<std::string> bases = {"/tmp"};
  if (std::filesystem::is_directory("/dev/shm")) bases.push_back("/dev/shm");
  for (const std::string& base : bases) {
    TempDir dir(base.c_str());
    INFO(dir.path);
    auto s = LocalStorage::Open(dir.path + "/repo", true);
    REQUIRE(s.ok());
    for (size_t size : {size_t{1} << 20, (size_t{3} << 20) + 4096, (size_t{5} << 20) + 123, size_t{17} << 20 | 1}) {
      INFO(size);
      Bytes data(size);
      for (size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>((i * 2654435761u) >> 13);
      const std::string name = "data/ab/pack-" + std::to_string(size);
      REQUIRE((*s)->Write(name, data).ok());
      auto back = (*s)->Read(name);
      REQUIRE(back.ok());
      CHECK(back->size() == size);
      CHECK(*back == data);
      struct stat st {};
      REQUIRE(::stat((dir.path + "/repo/" + name).c_str(), &st) == 0);
      CHECK((st.st_mode & 0777) == 0600);
    }
    // No temporary file is left behind.
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path + "/repo")) {
      CHECK(e.path().filename().string().rfind(".tmp-", 0) != 0);
    }
  }
}


// Packs are streamed: Create, Append in pieces of any size, Commit. The object
// must not exist before Commit, must hold exactly the pieces after it, and an
// object abandoned before Commit must leave no file at all.
TEST_CASE("objects streamed in pieces appear whole at commit, or not at all", "[backend][storage]") {
  std::vector<std::string> bases = {"/tmp"};
  if (std::filesystem::is_directory("/dev/shm")) bases.push_back("/dev/shm");
  auto no_files_under = [](const std::string& dir) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
      if (e.is_regular_file()) return false;
    }
    return true;
  };
  for (const std::string& base : bases) {
    TempDir dir(base.c_str());
    INFO(dir.path);
    auto s = LocalStorage::Open(dir.path + "/repo", true);
    REQUIRE(s.ok());
    const std::string name = "data/cd/streamed";
    Bytes expect;
    {
      auto w = (*s)->Create(name);
      REQUIRE(w.ok());
      uint64_t seed = 1;
      for (size_t piece : {size_t{1}, size_t{4095}, size_t{1} << 20, size_t{3000000}, size_t{7}, size_t{4096},
                           (size_t{1} << 20) - 4104}) {
        Bytes b = RandomBytes(piece, seed++);
        expect.insert(expect.end(), b.begin(), b.end());
        REQUIRE((*w)->Append(b).ok());
        CHECK((*s)->Size(name).status().IsNotFound());
      }
      auto listed = (*s)->List("data/");
      REQUIRE(listed.ok());
      CHECK(listed->empty());
      REQUIRE((*w)->Commit().ok());
      CHECK_FALSE((*w)->Append(expect).ok());
      CHECK_FALSE((*w)->Commit().ok());
    }
    auto back = (*s)->Read(name);
    REQUIRE(back.ok());
    CHECK(back->size() == expect.size());
    CHECK(*back == expect);
    REQUIRE((*s)->Remove(name).ok());

    {  // abandoned halfway: no object, no temporary file
      auto w = (*s)->Create("data/ef/abandoned");
      REQUIRE(w.ok());
      REQUIRE((*w)->Append(RandomBytes(5 << 20, 9)).ok());
    }
    CHECK((*s)->Size("data/ef/abandoned").status().IsNotFound());
    CHECK(no_files_under(dir.path + "/repo"));
  }
}

// A backup killed mid-pack leaves the pack's temp file (never listed, never
// read). Prune, which runs alone under its exclusive lock, removes such files
// and says how much it freed; the snapshots stay whole.
TEST_CASE("prune removes the temp files of writers that were killed", "[backend][storage][prune]") {
  TempDir dir;
  crypto::SecretKey master = crypto::SecretKey::Random();
  RepositoryOptions opts;
  opts.cache_dir = dir.path + "/cache";
  auto repo = Repository::Init(std::move(LocalStorage::Open(dir.path + "/repo", true)).value(), master, "contoso", opts);
  REQUIRE(repo.ok());
  const Bytes content = RandomBytes(3 << 20, 77);
  auto w = SnapshotWriter::Start(**repo, nullptr);
  REQUIRE(w.ok());
  REQUIRE((*w)->PutFile("u/file.bin", content, Attrs()).ok());
  auto snap = (*w)->Commit(SnapshotInfo{});
  REQUIRE(snap.ok());

  // What a killed writer leaves: a temp file beside the packs.
  std::filesystem::create_directories(dir.path + "/repo/data/7f");
  const std::string leftover = dir.path + "/repo/data/7f/.tmp-0123456789abcdef";
  {
    std::FILE* f = std::fopen(leftover.c_str(), "wb");
    REQUIRE(f != nullptr);
    const Bytes junk = RandomBytes(12345, 5);
    REQUIRE(std::fwrite(junk.data(), 1, junk.size(), f) == junk.size());
    std::fclose(f);
  }
  auto before = (*repo)->storage().List("data/");
  REQUIRE(before.ok());
  for (const ObjectInfo& o : *before) CHECK(o.name.find(".tmp-") == std::string::npos);

  auto report = Prune(**repo, PruneOptions{});
  REQUIRE(report.ok());
  CHECK(report->unfinished_bytes_removed == 12345);
  CHECK_FALSE(std::filesystem::exists(leftover));
  CHECK(ReadPath(**repo, *snap, "u/file.bin") == content);
  auto after = Prune(**repo, PruneOptions{});
  REQUIRE(after.ok());
  CHECK(after->unfinished_bytes_removed == 0);
}
