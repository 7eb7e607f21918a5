#include <sys/stat.h>

#include <filesystem>

#include "backend/local_storage.h"
#include "test_util.h"

using namespace m365vault;
using namespace m365vault::testing;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/m365vault-test-XXXXXX";
    path = mkdtemp(tmpl);
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
