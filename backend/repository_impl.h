// backend/repository_impl.h
//
// RepositoryImpl: the one implementation of Repository over a Storage.
// Split by concern: repository.cpp (open, blobs, packs, index),
// repository_snapshots.cpp (manifests), repository_lock.cpp (locks).
//
// Lock order: pack_mu_[k] before up_mu_, and either before mu_; none is held
// across storage I/O (the pack writer thread writes with no lock held).
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
  // The pack being filled in one class. Its sealed bytes go to the pack
  // writer thread in pieces of about kPieceSize, so no pack is held whole.
  struct OpenPack {
    BlobId id;                               // the pack's random name
    Bytes piece;                             // sealed bytes not handed over yet
    uint64_t size = 0;                       // bytes of the pack so far
    std::vector<format::PackEntry> entries;  // offsets from the pack's start
  };
  // A piece of a pack on its way to storage; the last one carries the pack's
  // trailer and its entries, which are indexed once the pack is committed.
  struct PackPiece {
    int k = 0;
    BlobId pack;
    Bytes bytes;
    bool last = false;
    std::vector<format::PackEntry> entries;
  };
  // The pack of one class the writer thread is writing.
  struct PackSink {
    std::unique_ptr<ObjectWriter> writer;
    Status status;  // the pack's first failure: its later pieces are dropped
  };
  static constexpr size_t kPieceSize = 1 << 20;
  // A piece ends with a blob of up to ~1 MiB, or the trailer; one that grew
  // past this (a huge tree blob) is not kept for reuse.
  static constexpr size_t kPieceCapacity = 2 * kPieceSize + (64 << 10);
  static constexpr size_t kMaxQueuedPieces = 4;
  // Pieces that can exist at once (an open one per class, the queued ones,
  // the one being written), all kept for reuse: no allocation once warm.
  static constexpr size_t kMaxPieces = kMaxQueuedPieces + 3;

  Result<bool> Save(BlobType type, const BlobId& id, ByteView plaintext, bool force);
  // Hands packs_[k] over whole: its last piece with the trailer. Needs pack_mu_[k].
  Status ClosePack(int k);
  // Queues a piece for the pack writer thread (pieces of a pack in order, so
  // under its pack_mu_), waiting while kMaxQueuedPieces wait. Returns the first
  // error of an earlier write.
  Status EnqueuePiece(PackPiece piece);
  // A piece buffer, recycled when one is free. Needs up_mu_.
  Bytes TakePieceBuffer();
  // Writes a piece (the writer thread); at the last one, commits the pack and
  // indexes its blobs, or forgets them if any piece failed.
  Status WritePiece(PackPiece& piece, PackSink& sink);
  // Drops blobs that will never be written from in_flight_.
  void ForgetInFlight(const std::vector<format::PackEntry>& entries);
  // Waits until every queued piece is written; the first write error.
  Status WaitUploads();
  // Closes the open packs and waits until every queued piece is written:
  // then every blob saved so far has a location (pending_ or the index).
  Status FinishOpenPacks();
  // True while `id` is being saved or sits in a pack not yet written.
  bool InFlight(const BlobId& id) {
    std::lock_guard<std::mutex> l(mu_);
    return in_flight_.count(id) > 0;
  }
  // Writes an index file for the blobs in pending_ and moves them to the index
  // cache (the pack writer past options_.index_batch, and Flush).
  Status WriteIndex();
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

  std::mutex sync_mu_;         // one SyncIndex at a time
  std::mutex index_write_mu_;  // one WriteIndex at a time; before mu_
  std::mutex mu_;
  std::unordered_set<BlobId, BlobIdHash> in_flight_;                       // GUARDED_BY(mu_)
  std::unordered_map<BlobId, format::BlobLocation, BlobIdHash> pending_;  // GUARDED_BY(mu_)
  std::vector<std::string> written_index_files_;                          // GUARDED_BY(mu_)
  std::map<std::string, SnapshotInfo> manifests_;                         // GUARDED_BY(mu_)

  std::mutex up_mu_;
  std::condition_variable up_cv_;
  std::deque<PackPiece> up_queue_;  // GUARDED_BY(up_mu_)
  std::vector<Bytes> free_pieces_;   // GUARDED_BY(up_mu_): up to kMaxPieces buffers to reuse
  bool up_busy_ = false;           // GUARDED_BY(up_mu_): a piece is being written
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
