// backend/repository.cpp
//
// Opening and creating repositories; saving, packing, indexing and loading
// blobs. See repository.h for the contract and docs/format.md for the bytes.
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <utility>
#include <nlohmann/json.hpp>

#include "backend/repository_impl.h"
#include "backend/tree_walk.h"

namespace m365vault {

using nlohmann::json;

namespace {

constexpr char kConfigName[] = "config";

size_t TreeCharge(const Tree& t) {
  size_t n = sizeof(Tree);
  for (const TreeEntry& e : t.entries) {
    n += sizeof(TreeEntry) + e.name.size() + e.chunks.size() * (sizeof(ChunkRef) + 8);
    for (const auto& [k, v] : e.metadata) n += k.size() + v.size() + 64;
  }
  return n;
}

Result<format::TenantKeys> UnlockTenantKey(Storage& storage, const crypto::SecretKey& master) {
  M365_ASSIGN_OR_RETURN(std::vector<ObjectInfo> key_files, storage.List("keys/"));
  if (key_files.empty()) return Status::Corruption("repository at " + storage.Describe() + " has no key files");
  for (const ObjectInfo& f : key_files) {
    auto data = storage.Read(f.name);
    if (!data.ok()) continue;
    auto key = format::UnwrapKey(*data, master);
    if (key.ok()) return format::TenantKeys::Derive(*key);
  }
  return Status::WrongKey("the vault's master key opens none of the key files of the repository at " +
                          storage.Describe());
}

}  // namespace

RepositoryImpl::RepositoryImpl(std::unique_ptr<Storage> storage, format::TenantKeys keys, std::string tenant,
                               ChunkerParams chunker, RepositoryOptions options)
    : storage_(std::move(storage)),
      keys_(std::move(keys)),
      tenant_(std::move(tenant)),
      chunker_(chunker),
      options_(std::move(options)),
      tree_cache_(options_.cache_bytes / 2, TreeCharge),
      chunk_cache_(options_.cache_bytes - options_.cache_bytes / 2, [](const Bytes& b) { return b.size() + 64; }),
      prefetch_pool_(nullptr) {}

RepositoryImpl::~RepositoryImpl() {
  {
    std::lock_guard<std::mutex> l(up_mu_);
    up_stop_ = true;
  }
  up_cv_.notify_all();
  if (uploader_.joinable()) uploader_.join();
  prefetch_pool_.reset();
}

void RepositoryImpl::UploadLoop() {
  PackSink sinks[2];  // an uncommitted pack's writer discards its file
  std::unique_lock<std::mutex> l(up_mu_);
  for (;;) {
    up_cv_.wait(l, [this] { return up_stop_ || !up_queue_.empty(); });
    if (up_queue_.empty()) return;
    PackPiece piece = std::move(up_queue_.front());
    up_queue_.pop_front();
    up_busy_ = true;
    up_cv_.notify_all();  // room in the queue
    l.unlock();
    Status st = WritePiece(piece, sinks[piece.k]);
    l.lock();
    up_busy_ = false;
    if (free_pieces_.size() < kMaxPieces && piece.bytes.capacity() <= kPieceCapacity) {
      piece.bytes.clear();
      free_pieces_.push_back(std::move(piece.bytes));
    }
    if (!st.ok() && up_error_.ok()) up_error_ = st;
    up_cv_.notify_all();
  }
}

Status RepositoryImpl::WritePiece(PackPiece& piece, PackSink& sink) {
  Status& st = sink.status;
  if (st.ok() && !sink.writer) {
    auto writer = storage_->Create(format::PackName(piece.pack));
    if (writer.ok()) {
      sink.writer = std::move(*writer);
    } else {
      st = writer.status();
    }
  }
  if (st.ok()) st = sink.writer->Append(piece.bytes);
  if (!piece.last) return st.WithContext("writing pack");
  if (st.ok()) st = sink.writer->Commit();
  sink.writer.reset();
  const Status result = std::move(st);
  st = Status::OK();  // the next pack starts afresh
  if (!result.ok()) {
    ForgetInFlight(piece.entries);
    return result.WithContext("writing pack");
  }
  size_t pending = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (format::PackEntry& e : piece.entries) {
      in_flight_.erase(e.id);
      e.loc.pack = piece.pack;
      pending_[e.id] = e.loc;
    }
    ++packs_written_;
    pending = pending_.size();
  }
  return pending >= options_.index_batch ? WriteIndex() : Status::OK();
}

void RepositoryImpl::ForgetInFlight(const std::vector<format::PackEntry>& entries) {
  std::lock_guard<std::mutex> l(mu_);
  for (const format::PackEntry& e : entries) in_flight_.erase(e.id);
}

Status RepositoryImpl::EnqueuePiece(PackPiece piece) {
  std::unique_lock<std::mutex> l(up_mu_);
  if (!uploader_.joinable()) uploader_ = std::thread([this] { UploadLoop(); });
  up_cv_.wait(l, [this] { return up_queue_.size() < kMaxQueuedPieces || !up_error_.ok(); });
  if (!up_error_.ok()) {
    Status st = up_error_;
    l.unlock();
    ForgetInFlight(piece.entries);  // the pack is never written
    return st;
  }
  up_queue_.push_back(std::move(piece));
  up_cv_.notify_all();
  return Status::OK();
}

Bytes RepositoryImpl::TakePieceBuffer() {
  if (!free_pieces_.empty()) {
    Bytes b = std::move(free_pieces_.back());
    free_pieces_.pop_back();
    return b;
  }
  Bytes b;
  b.reserve(kPieceCapacity);
  return b;
}

Status RepositoryImpl::WaitUploads() {
  std::unique_lock<std::mutex> l(up_mu_);
  up_cv_.wait(l, [this] { return up_queue_.empty() && !up_busy_; });
  return up_error_;
}

Result<std::unique_ptr<Repository>> Repository::Init(std::unique_ptr<Storage> storage,
                                                     const crypto::SecretKey& master_key, const std::string& tenant,
                                                     RepositoryOptions options) {
  auto existing = storage->Size(kConfigName);
  if (existing.ok()) return Status::AlreadyExists("a repository already exists at " + storage->Describe());
  if (!existing.status().IsNotFound()) return existing.status();
  ChunkerParams c = options.chunker;
  if (c.min_size < 64 || c.min_size >= c.avg_size || c.avg_size >= c.max_size || (c.avg_size & (c.avg_size - 1))) {
    return Status::InvalidArgument("chunker sizes must satisfy 64 <= min < avg < max, avg a power of two");
  }
  crypto::SecretKey tenant_key = crypto::SecretKey::Random();
  format::TenantKeys keys = format::TenantKeys::Derive(tenant_key);
  crypto::RandomBytes(keys.repo_id.data(), keys.repo_id.size());
  Bytes wrapped = format::WrapKey(tenant_key, master_key);
  M365_RETURN_IF_ERROR(storage->Write(format::ContentName("keys", wrapped), wrapped));
  auto repo = std::make_unique<RepositoryImpl>(std::move(storage), std::move(keys), tenant, c, std::move(options));
  M365_RETURN_IF_ERROR(repo->WriteConfig());
  M365_RETURN_IF_ERROR(repo->Load());
  return std::unique_ptr<Repository>(std::move(repo));
}

Result<std::unique_ptr<Repository>> Repository::Open(std::unique_ptr<Storage> storage,
                                                     const crypto::SecretKey& master_key,
                                                     RepositoryOptions options) {
  auto config = storage->Size(kConfigName);
  if (!config.ok()) {
    if (config.status().IsNotFound()) return Status::NotFound("no repository at " + storage->Describe());
    return config.status();
  }
  M365_ASSIGN_OR_RETURN(format::TenantKeys keys, UnlockTenantKey(*storage, master_key));
  auto repo = std::make_unique<RepositoryImpl>(std::move(storage), std::move(keys), "", ChunkerParams{},
                                               std::move(options));
  M365_RETURN_IF_ERROR(repo->Load());
  return std::unique_ptr<Repository>(std::move(repo));
}

Status RepositoryImpl::WriteConfig() {
  json j = {{"version", 1},
            {"tenant", tenant_},
            {"repo_id", ToHex(ByteView(keys_.repo_id.data(), keys_.repo_id.size()))},
            {"chunker", {{"min", chunker_.min_size}, {"avg", chunker_.avg_size}, {"max", chunker_.max_size}}}};
  std::string text = j.dump();
  format::TenantKeys config_keys{keys_.tenant.Clone(), keys_.chunk_id.Clone(), keys_.aead.Clone(),
                                 keys_.chunker.Clone(), {}};  // the config's AAD has a zero repo id
  return storage_->Write(kConfigName, format::SealFile(config_keys, format::FileKind::kConfig, AsBytes(text)));
}

Status RepositoryImpl::Load() {
  M365_ASSIGN_OR_RETURN(Bytes file, storage_->Read(kConfigName));
  std::array<uint8_t, 16> saved_id = keys_.repo_id;
  keys_.repo_id = {};
  auto plain = format::OpenFile(keys_, format::FileKind::kConfig, file, "repository config");
  keys_.repo_id = saved_id;
  if (!plain.ok()) return plain.status();
  json j = json::parse(AsString(*plain), nullptr, false);
  Bytes id;
  try {
    if (j.is_discarded() || j.at("version").get<int>() != 1) return Status::Corruption("bad repository config");
    tenant_ = j.at("tenant").get<std::string>();
    if (!FromHex(j.at("repo_id").get<std::string>(), &id) || id.size() != 16) {
      return Status::Corruption("bad repository id in config");
    }
    chunker_.min_size = j.at("chunker").at("min").get<uint32_t>();
    chunker_.avg_size = j.at("chunker").at("avg").get<uint32_t>();
    chunker_.max_size = j.at("chunker").at("max").get<uint32_t>();
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("bad repository config: ") + e.what());
  }
  std::memcpy(keys_.repo_id.data(), id.data(), 16);

  std::string cache_path;
  if (!options_.cache_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options_.cache_dir, ec);
    if (ec) return Status::IOError("cannot create cache folder " + options_.cache_dir + ": " + ec.message());
    ::chmod(options_.cache_dir.c_str(), 0700);
    cache_path = options_.cache_dir + "/" + ToHex(ByteView(keys_.repo_id.data(), 16)) + ".index.sqlite";
  }
  M365_ASSIGN_OR_RETURN(index_, IndexCache::Open(cache_path));
  return SyncIndex();
}

Status RepositoryImpl::SyncIndex() {
  std::lock_guard<std::mutex> l(sync_mu_);
  M365_ASSIGN_OR_RETURN(std::vector<ObjectInfo> files, storage_->List("index/"));
  M365_ASSIGN_OR_RETURN(std::set<std::string> known, index_->IndexFiles());
  std::set<std::string> present;
  for (const ObjectInfo& f : files) present.insert(f.name);
  for (const std::string& k : known) {
    if (!present.count(k)) {  // an index file was removed (prune): rebuild
      M365_RETURN_IF_ERROR(index_->Clear());
      known.clear();
      break;
    }
  }
  for (const std::string& name : present) {
    if (known.count(name)) continue;
    M365_ASSIGN_OR_RETURN(Bytes file, storage_->Read(name));
    M365_ASSIGN_OR_RETURN(Bytes plain, format::OpenFile(keys_, format::FileKind::kIndex, file, name));
    M365_ASSIGN_OR_RETURN(std::vector<format::PackEntry> entries, format::DecodeIndex(plain));
    M365_RETURN_IF_ERROR(index_->AddIndexFile(name, entries));
  }
  return Status::OK();
}

BlobId RepositoryImpl::HashBlob(ByteView plaintext) const {
  BlobId id;
  crypto::KeyedHash(keys_.chunk_id, plaintext, id.bytes.data());
  return id;
}

Result<bool> RepositoryImpl::SaveBlob(BlobType type, const BlobId& id, ByteView plaintext) {
  return Save(type, id, plaintext, false);
}

Status RepositoryImpl::ResaveBlob(BlobType type, const BlobId& id, ByteView plaintext) {
  return Save(type, id, plaintext, true).status();
}

Result<bool> RepositoryImpl::Save(BlobType type, const BlobId& id, ByteView plaintext, bool force) {
  if (plaintext.size() > UINT32_MAX / 2) return Status::InvalidArgument("blob too large");
  {
    std::lock_guard<std::mutex> l(mu_);
    if (in_flight_.count(id) || pending_.count(id)) {
      ++blobs_deduped_;
      return false;
    }
    if (!force) {
      M365_ASSIGN_OR_RETURN(auto loc, index_->Find(id));
      if (loc) {
        ++blobs_deduped_;
        return false;
      }
    }
    in_flight_.insert(id);
  }
  // Compression runs outside the pack lock; sealing (several GB/s) writes
  // straight into the open pack under it, which saves a copy of every byte.
  thread_local ScratchBytes scratch;
  struct ShrinkLater {  // a huge blob (the tree of 100,000 mails) leaves no huge buffer behind
    ScratchBytes& b;
    ~ShrinkLater() {
      if (b.capacity() > 2 * kPieceSize) ScratchBytes().swap(b);
    }
  } shrink_later{scratch};
  const format::BlobBody body = format::EncodeBlob(plaintext, options_.zstd_level, &scratch);

  const int k = PackClass(type);
  std::lock_guard<std::mutex> l(pack_mu_[k]);
  OpenPack& p = packs_[k];
  if (p.entries.empty()) {  // a new pack
    crypto::RandomBytes(p.id.bytes.data(), p.id.bytes.size());
    {
      std::lock_guard<std::mutex> ul(up_mu_);
      p.piece = TakePieceBuffer();
    }
    format::PutHeader(&p.piece);
    p.size = p.piece.size();
  }
  const size_t before = p.piece.size();
  format::SealBlobBody(keys_, type, id, body, &p.piece);
  const size_t sealed_size = p.piece.size() - before;
  format::PackEntry e{id, {BlobId{}, type, static_cast<uint32_t>(p.size), static_cast<uint32_t>(sealed_size),
                           static_cast<uint32_t>(plaintext.size())}};
  p.entries.push_back(e);
  p.size += sealed_size;
  bytes_plain_ += plaintext.size();
  bytes_stored_ += sealed_size;
  ++blobs_saved_;
  if (p.size >= options_.pack_size) M365_RETURN_IF_ERROR(ClosePack(k));
  if (p.piece.size() >= kPieceSize) {
    Bytes next;
    {
      std::lock_guard<std::mutex> ul(up_mu_);
      next = TakePieceBuffer();
    }
    Status st = EnqueuePiece(PackPiece{k, p.id, std::exchange(p.piece, std::move(next)), false, {}});
    if (!st.ok()) {  // the pack can no longer be completed
      ForgetInFlight(p.entries);
      p = OpenPack{};
      return st;
    }
  }
  return true;
}

Status RepositoryImpl::ClosePack(int k) {
  OpenPack p = std::exchange(packs_[k], OpenPack{});
  format::AppendTrailer(keys_, p.entries, &p.piece);
  return EnqueuePiece(PackPiece{k, p.id, std::move(p.piece), true, std::move(p.entries)});
}

Status RepositoryImpl::FinishOpenPacks() {
  for (int k = 0; k < 2; ++k) {
    std::lock_guard<std::mutex> l(pack_mu_[k]);
    if (!packs_[k].entries.empty()) M365_RETURN_IF_ERROR(ClosePack(k));
  }
  return WaitUploads();
}

Status RepositoryImpl::Flush() {
  M365_RETURN_IF_ERROR(FinishOpenPacks());
  return WriteIndex();
}

Status RepositoryImpl::WriteIndex() {
  std::lock_guard<std::mutex> w(index_write_mu_);
  std::vector<format::PackEntry> entries;
  {
    std::lock_guard<std::mutex> l(mu_);
    entries.reserve(pending_.size());
    for (const auto& [id, loc] : pending_) entries.push_back({id, loc});
  }
  if (entries.empty()) return Status::OK();
  Bytes file = format::SealFile(keys_, format::FileKind::kIndex, format::EncodeIndex(entries));
  std::string name = format::ContentName("index", file);
  M365_RETURN_IF_ERROR(storage_->Write(name, file).WithContext("writing index"));
  M365_RETURN_IF_ERROR(index_->AddIndexFile(name, entries));
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& e : entries) pending_.erase(e.id);
  written_index_files_.push_back(name);
  return Status::OK();
}

std::vector<std::string> RepositoryImpl::WrittenIndexFiles() {
  std::lock_guard<std::mutex> l(mu_);
  return written_index_files_;
}

Result<std::optional<format::BlobLocation>> RepositoryImpl::Locate(const BlobId& id) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = pending_.find(id);
    if (it != pending_.end()) return std::optional<format::BlobLocation>(it->second);
  }
  return index_->Find(id);
}

bool RepositoryImpl::HasBlob(const BlobId& id) {
  if (InFlight(id)) return true;
  auto loc = Locate(id);
  return loc.ok() && loc->has_value();
}

Result<Bytes> RepositoryImpl::LoadBlob(BlobType type, const BlobId& id) {
  M365_ASSIGN_OR_RETURN(auto loc, Locate(id));
  if (!loc && InFlight(id)) {
    // Saved by this process into a pack still open (a writer reading back a
    // tree it persisted): finish the open packs, then it has a location.
    M365_RETURN_IF_ERROR(FinishOpenPacks());
    M365_ASSIGN_OR_RETURN(loc, Locate(id));
  }
  if (!loc) return Status::NotFound("blob " + id.Short() + " is not in the index");
  auto sealed = storage_->ReadRange(format::PackName(loc->pack), loc->offset, loc->length);
  if (!sealed.ok() && sealed.status().IsNotFound()) {
    // A prune elsewhere may have repacked it: re-read the index once.
    M365_RETURN_IF_ERROR(SyncIndex());
    M365_ASSIGN_OR_RETURN(loc, Locate(id));
    if (!loc) return Status::NotFound("blob " + id.Short() + " is not in the index");
    sealed = storage_->ReadRange(format::PackName(loc->pack), loc->offset, loc->length);
    if (!sealed.ok() && sealed.status().IsNotFound()) {
      return Status::Corruption("pack " + loc->pack.Short() + " is missing");
    }
  }
  if (!sealed.ok()) return sealed.status();
  auto plain = format::OpenBlob(keys_, type, id, *sealed, /*verify_id=*/false);
  if (!plain.ok()) return plain.status().WithContext("pack " + loc->pack.Short());
  if (plain->size() != loc->raw_length) return Status::Corruption("blob " + id.Short() + " has the wrong length");
  return plain;
}

Result<std::shared_ptr<const Tree>> RepositoryImpl::LoadTree(const BlobId& id) {
  return tree_cache_.GetOrLoad(id, [&]() -> Result<std::shared_ptr<const Tree>> {
    M365_ASSIGN_OR_RETURN(Bytes data, LoadBlob(BlobType::kTree, id));
    // A split tree's parts are read here, not cached apart: readers want
    // whole listings. LoadSplitTree's errors name the tree already.
    if (IsTreeIndex(data)) {
      M365_ASSIGN_OR_RETURN(Tree whole, LoadSplitTree(*this, id, data));
      return std::shared_ptr<const Tree>(std::make_shared<Tree>(std::move(whole)));
    }
    auto tree = DecodeTree(data);
    if (!tree.ok()) return tree.status().WithContext("tree " + id.Short());
    return std::shared_ptr<const Tree>(std::make_shared<Tree>(std::move(tree).value()));
  });
}

Result<std::shared_ptr<const Bytes>> RepositoryImpl::LoadChunk(const BlobId& id) {
  return chunk_cache_.GetOrLoad(id, [&]() -> Result<std::shared_ptr<const Bytes>> {
    M365_ASSIGN_OR_RETURN(Bytes data, LoadBlob(BlobType::kData, id));
    return std::shared_ptr<const Bytes>(std::make_shared<Bytes>(std::move(data)));
  });
}

void RepositoryImpl::Prefetch(const BlobId& id) {
  if (chunk_cache_.Contains(id) || prefetches_.load() >= 16) return;
  ++prefetches_;
  {
    // Started on first use, so a repository opened before a fork (daemon)
    // has no threads to lose.
    std::lock_guard<std::mutex> l(mu_);
    if (!prefetch_pool_) prefetch_pool_ = std::make_unique<ThreadPool>(2);
  }
  prefetch_pool_->Submit([this, id] {
    (void)LoadChunk(id);  // errors surface when the reader asks for it
    --prefetches_;
  });
}

Status RepositoryImpl::AddMasterKey(const crypto::SecretKey& new_master_key) {
  Bytes wrapped = format::WrapKey(keys_.tenant, new_master_key);
  return storage_->Write(format::ContentName("keys", wrapped), wrapped);
}

RepositoryStats RepositoryImpl::stats() const {
  return {blobs_saved_.load(), blobs_deduped_.load(), bytes_plain_.load(), bytes_stored_.load(),
          packs_written_.load()};
}

}  // namespace m365vault
