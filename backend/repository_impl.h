// backend/repository_impl.h
//
// RepositoryImpl: the one implementation of Repository over a Storage.
// Split by concern: repository.cpp (open, blobs, packs, index),
// repository_snapshots.cpp (manifests), repository_lock.cpp (locks).
//
// Lock order: pack_mu_[k] before mu_; never hold either across storage I/O
// except mu_ never, pack_mu_ never (packs are taken out before writing).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <thread>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "backend/lru_cache.h"
#include "backend/repository_internals.h"
#include "backend/thread_pool.h"

namespace m365vault {

class RepositoryImpl final : public Repository, public Repository::Internals {
 public:
  RepositoryImpl(std::unique_ptr<Storage> storage, format::TenantKeys keys, std::string tenant,
                 ChunkerParams chunker, RepositoryOptions options);
  ~RepositoryImpl() override;

  // Reads the config (sets repo id, tenant, chunker), opens the index cache.
  Status Load();

  const std::string& tenant() const override { return tenant_; }
  Storage& storage() override { return *storage_; }
  const ChunkerParams& chunker_params() const override { return chunker_; }
  const crypto::SecretKey& chunker_key() const override { return keys_.chunker; }

  BlobId HashBlob(ByteView plaintext) const override;
  Result<bool> SaveBlob(BlobType type, const BlobId& id, ByteView plaintext) override;
  bool HasBlob(const BlobId& id) override;
  Result<Bytes> LoadBlob(BlobType type, const BlobId& id) override;
  Status Flush() override;

  Result<std::shared_ptr<const Tree>> LoadTree(const BlobId& id) override;
  Result<std::shared_ptr<const Bytes>> LoadChunk(const BlobId& id) override;
  void Prefetch(const BlobId& id) override;

  Result<std::vector<SnapshotInfo>> ListSnapshots() override;
  Result<SnapshotInfo> LoadSnapshot(const std::string& id) override;
  Status SaveSnapshot(SnapshotInfo* info) override;
  Status RemoveSnapshot(const std::string& id) override;

  Result<std::unique_ptr<RepositoryLock>> Lock(LockMode mode, const std::string& purpose) override;
  Status AddMasterKey(const crypto::SecretKey& new_master_key) override;
  RepositoryStats stats() const override;
  Repository::Internals& internals() override { return *this; }

  // Internals
  const format::TenantKeys& keys() const override { return keys_; }
  IndexCache& index() override { return *index_; }
  Status SyncIndex() override;
  Status ResaveBlob(BlobType type, const BlobId& id, ByteView plaintext) override;
  std::vector<std::string> WrittenIndexFiles() override;

  // Writes the config for a new repository.
  Status WriteConfig();

 private:
  struct OpenPack {
    Bytes buf;
    std::vector<format::PackEntry> entries;
  };

  Result<bool> Save(BlobType type, const BlobId& id, ByteView plaintext, bool force);
  // Finishes and writes the pack taken out of packs_[k].
  Status WritePack(OpenPack pack);
  // Hands a full pack to the uploader thread (at most one waits), so workers
  // keep compressing and sealing while a pack is written and fsync'd. Returns
  // the first error of an earlier upload.
  Status EnqueuePack(OpenPack pack);
  // Waits until every enqueued pack is written; the first upload error.
  Status WaitUploads();
  void UploadLoop();
  Result<std::optional<format::BlobLocation>> Locate(const BlobId& id);
  static int PackClass(BlobType type) { return type == BlobType::kData ? 0 : 1; }

  std::unique_ptr<Storage> storage_;
  format::TenantKeys keys_;
  std::string tenant_;
  ChunkerParams chunker_;
  RepositoryOptions options_;
  std::unique_ptr<IndexCache> index_;

  std::mutex pack_mu_[2];
  OpenPack packs_[2];  // GUARDED_BY(pack_mu_[k]): 0 = data, 1 = trees and metadata

  std::mutex sync_mu_;  // one SyncIndex at a time
  std::mutex mu_;
  std::unordered_set<BlobId, BlobIdHash> in_flight_;                       // GUARDED_BY(mu_)
  std::unordered_map<BlobId, format::BlobLocation, BlobIdHash> pending_;  // GUARDED_BY(mu_)
  std::vector<std::string> written_index_files_;                          // GUARDED_BY(mu_)
  std::map<std::string, SnapshotInfo> manifests_;                         // GUARDED_BY(mu_)

  std::mutex up_mu_;
  std::condition_variable up_cv_;
  std::deque<OpenPack> up_queue_;  // GUARDED_BY(up_mu_)
  bool up_busy_ = false;           // GUARDED_BY(up_mu_): a pack is being written
  bool up_stop_ = false;           // GUARDED_BY(up_mu_)
  Status up_error_;                // GUARDED_BY(up_mu_)
  std::thread uploader_;           // started on first use (fork-safe)

  LruCache<Tree> tree_cache_;
  LruCache<Bytes> chunk_cache_;
  std::unique_ptr<ThreadPool> prefetch_pool_;
  std::atomic<int> prefetches_{0};
  std::atomic<bool> manifests_loaded_once_{false};  // first listing needs no index re-read

  std::atomic<uint64_t> blobs_saved_{0}, blobs_deduped_{0}, bytes_plain_{0}, bytes_stored_{0}, packs_written_{0};
};

}  // namespace m365vault
