// backend/repository.h
//
// Repository: one tenant's versioned, deduplicated, encrypted store, on a
// Storage. Holds the tenant key (unwrapped with the vault's master key), the
// packers that group sealed blobs into ~16 MiB packs, the blob index (a local
// SQLite cache of the repository's index files, queried per blob, never loaded
// whole), and bounded caches of decoded chunks and trees with single-flight
// loading.
//
// Write path: SaveBlob (dedups by id) -> packs -> Flush writes the index file.
// A SnapshotWriter then saves the manifest (the commit point).
// Read path: LoadTree / LoadChunk by id, through the caches.
//
// Thread safety: every method is safe to call from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/blob_id.h"
#include "backend/bytes.h"
#include "backend/crypto.h"
#include "backend/snapshot.h"
#include "backend/status.h"
#include "backend/storage.h"
#include "backend/tree.h"

namespace m365vault {

struct ChunkerParams {
  uint32_t min_size = 32 * 1024;
  uint32_t avg_size = 128 * 1024;  // a power of two
  uint32_t max_size = 1024 * 1024;
};

struct RepositoryOptions {
  // Folder for the local index cache (created 0700). Empty: an in-memory cache
  // rebuilt from the repository's index files at every open.
  std::string cache_dir;
  size_t pack_size = 16 << 20;
  int zstd_level = 1;
  // Bytes of decoded chunks and trees kept in memory.
  size_t cache_bytes = 128 << 20;
  // Threads for chunk hashing/compression/sealing and read-ahead; 0 = cores.
  unsigned threads = 0;
  // Used only by Init: chunking parameters fixed for the repository's life.
  ChunkerParams chunker;
  // Blobs of written packs indexed in memory at most: past this many, the
  // pack writer writes an index file for them (Flush writes the rest), so a
  // run of millions of blobs does not hold all their locations.
  size_t index_batch = 16384;
};

enum class LockMode { kShared, kExclusive };

// A held repository lock; released (its lock file removed) when destroyed.
class RepositoryLock {
 public:
  virtual ~RepositoryLock() = default;
};

struct RepositoryStats {
  uint64_t blobs_saved = 0;       // new blobs written by this process
  uint64_t blobs_deduped = 0;     // SaveBlob calls for blobs already present
  uint64_t bytes_plain = 0;       // plaintext bytes of new blobs
  uint64_t bytes_stored = 0;      // sealed bytes of new blobs
  uint64_t packs_written = 0;
};

class Repository {
 public:
  virtual ~Repository() = default;

  // Creates a repository for `tenant` in an empty storage: a random tenant
  // key, wrapped by `master_key`. AlreadyExists if the storage holds one.
  static Result<std::unique_ptr<Repository>> Init(std::unique_ptr<Storage> storage,
                                                   const crypto::SecretKey& master_key,
                                                   const std::string& tenant, RepositoryOptions options);
  // Opens an existing repository. WrongKey if `master_key` opens none of its
  // key files; nothing is written in that case.
  static Result<std::unique_ptr<Repository>> Open(std::unique_ptr<Storage> storage,
                                                  const crypto::SecretKey& master_key,
                                                  RepositoryOptions options);

  virtual const std::string& tenant() const = 0;
  virtual Storage& storage() = 0;
  virtual const ChunkerParams& chunker_params() const = 0;
  // The key the chunker's gear table is derived from.
  virtual const crypto::SecretKey& chunker_key() const = 0;

  // --- blobs ---
  virtual BlobId HashBlob(ByteView plaintext) const = 0;
  // Stores a blob unless one with that id exists. Returns true if it was new.
  // REQUIRES: id == HashBlob(plaintext).
  virtual Result<bool> SaveBlob(BlobType type, const BlobId& id, ByteView plaintext) = 0;
  virtual bool HasBlob(const BlobId& id) = 0;
  // Loads, authenticates, decompresses and re-hashes a blob. NotFound if the
  // index has no such blob; Corruption if its bytes are wrong.
  virtual Result<Bytes> LoadBlob(BlobType type, const BlobId& id) = 0;
  // Writes out open packs and an index file for everything saved so far.
  virtual Status Flush() = 0;

  // --- cached reads (for readers and the mount) ---
  // A directory's whole listing, whatever its format: a split tree's parts
  // are loaded and checked one at a time and concatenated (tree_walk.h).
  virtual Result<std::shared_ptr<const Tree>> LoadTree(const BlobId& id) = 0;
  virtual Result<std::shared_ptr<const Bytes>> LoadChunk(const BlobId& id) = 0;
  // Starts loading a chunk into the cache in the background (read-ahead).
  virtual void Prefetch(const BlobId& id) = 0;

  // --- snapshots ---
  // All snapshots, oldest first. Manifests are cached, so a repeated call
  // only lists the storage folder and reads new ones.
  virtual Result<std::vector<SnapshotInfo>> ListSnapshots() = 0;
  virtual Result<SnapshotInfo> LoadSnapshot(const std::string& id) = 0;
  // Seals and writes a manifest; fills info->id. The caller flushes first.
  virtual Status SaveSnapshot(SnapshotInfo* info) = 0;
  virtual Status RemoveSnapshot(const std::string& id) = 0;

  // --- locks ---
  // Shared locks (backups) coexist; an exclusive lock (prune) excludes all.
  // Busy if a conflicting live lock exists. Stale locks (dead pid on this
  // host, or not refreshed for 30 minutes) are ignored and removed.
  virtual Result<std::unique_ptr<RepositoryLock>> Lock(LockMode mode, const std::string& purpose) = 0;

  // Adds a key file so `new_master_key` opens the repository too.
  virtual Status AddMasterKey(const crypto::SecretKey& new_master_key) = 0;

  virtual RepositoryStats stats() const = 0;

  // Used by check and prune (backend/maintenance.h).
  class Internals;
  virtual Internals& internals() = 0;
};

}  // namespace m365vault
