// tests/backend/test_util.h: shared helpers for backend tests.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <random>

#include "backend/crypto.h"
#include "backend/fault_injection_storage.h"
#include "backend/mem_storage.h"
#include "backend/repository.h"
#include "backend/snapshot_reader.h"
#include "backend/snapshot_writer.h"

namespace m365vault::testing {

inline Bytes RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Bytes b(n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(b.data() + i, &v, 8);
  }
  for (; i < n; ++i) b[i] = static_cast<uint8_t>(rng());
  return b;
}

// A repository on a MemStorage the test keeps access to.
struct TestRepo {
  MemStorage mem;
  crypto::SecretKey master = crypto::SecretKey::Random();
  std::unique_ptr<Repository> repo;

  explicit TestRepo(RepositoryOptions opts = SmallOptions()) {
    REQUIRE(crypto::InitCrypto());
    auto r = Repository::Init(std::make_unique<BorrowedStorage>(mem), master, "contoso", opts);
    REQUIRE(r.ok());
    repo = std::move(r).value();
  }
  static RepositoryOptions SmallOptions() {
    RepositoryOptions o;
    o.pack_size = 1 << 20;
    o.chunker = {4096, 16384, 65536};
    o.cache_bytes = 8 << 20;
    o.index_batch = 4;  // index files while packs are written, not only at Flush
    return o;
  }
  std::unique_ptr<Repository> Reopen(RepositoryOptions opts = SmallOptions()) {
    auto r = Repository::Open(std::make_unique<BorrowedStorage>(mem), master, opts);
    REQUIRE(r.ok());
    return std::move(r).value();
  }
};

inline EntryAttributes Attrs(int64_t mtime = 1'700'000'000'000'000'000, std::string id = "") {
  EntryAttributes a;
  a.mtime_ns = mtime;
  if (!id.empty()) a.metadata["m365.id"] = id;
  return a;
}

inline Bytes ReadPath(Repository& repo, const SnapshotInfo& snap, const std::string& path) {
  SnapshotReader reader(repo, snap);
  auto e = reader.Lookup(path);
  REQUIRE(e.ok());
  auto data = reader.ReadAll(*e);
  REQUIRE(data.ok());
  return std::move(data).value();
}

}  // namespace m365vault::testing
