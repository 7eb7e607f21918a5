// backend/snapshot_writer.cpp
//
// The copy-on-write overlay: a DirNode per directory touched by this run,
// loaded lazily from the parent snapshot's tree. Untouched directories stay
// as entries holding their old subtree id, so Commit() rewrites only the
// dirty path from each change up to the root. A DirNode holds its entries
// encoded (EncodeEntryBody), not as TreeEntry: a folder of 100,000 mails
// costs about the size of its tree blob, not three times that, and Commit()
// assembles the blob (a large directory's parts, tree_builder.h) from the
// bodies without decoding them. Listings live in memory up to a budget
// (SnapshotWriterOptions::entry_budget); past it the largest move to a
// temporary spill database (dir_entries.h), and Persist() writes out a
// finished user's subtree, so memory bounds neither a directory's size nor
// the number of directories a run touches.
#include "backend/snapshot_writer.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <future>
#include <mutex>

#include "backend/buffer_pool.h"
#include "backend/chunker.h"
#include "backend/dir_entries.h"
#include "backend/thread_pool.h"
#include "backend/tree_builder.h"
#include "backend/tree_walk.h"

namespace m365vault {

Result<std::vector<std::string>> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string part(path.substr(start, end - start));
    if (!IsValidEntryName(part)) return Status::InvalidArgument("invalid path \"" + std::string(path) + "\"");
    parts.push_back(std::move(part));
    start = end + 1;
  }
  return parts;
}

Status SnapshotWriter::PutFile(std::string_view path, ByteView content, const EntryAttributes& attrs) {
  M365_ASSIGN_OR_RETURN(std::unique_ptr<FileSink> sink, BeginFile(path, attrs));
  M365_RETURN_IF_ERROR(sink->Append(content));
  return sink->Finish().status();
}

namespace {

constexpr uint32_t kDefaultFileMode = 0644;
constexpr uint32_t kDefaultDirMode = 0755;

struct DirNode {
  explicit DirNode(size_t* held) : entries(held) {}

  bool loaded = false;
  bool dirty = false;
  BlobId original;
  DirEntries entries;  // name -> EncodeEntryBody (without the name); in memory or spilled
  std::map<std::string, std::unique_ptr<DirNode>> children;  // opened subdirectories

  // The entry `name`, decoded, or nullopt.
  Result<std::optional<TreeEntry>> Find(const std::string& name) {
    M365_ASSIGN_OR_RETURN(std::optional<Bytes> body, entries.Get(name));
    if (!body) return std::optional<TreeEntry>();
    M365_ASSIGN_OR_RETURN(TreeEntry e, DecodeEntryBody(name, *body));
    return std::optional<TreeEntry>(std::move(e));
  }
  // Find for an entry that must exist (the parent of an open child).
  Result<TreeEntry> Get(const std::string& name) {
    M365_ASSIGN_OR_RETURN(std::optional<TreeEntry> e, Find(name));
    if (!e) return Status::Corruption("snapshot writer: no entry " + name + " for an open directory");
    return std::move(*e);
  }
  Status Set(const TreeEntry& e) { return entries.Put(e.name, EncodeEntryBody(e)); }
};

TreeEntry MakeEntry(const std::string& name, EntryKind kind, const EntryAttributes& a) {
  TreeEntry e;
  e.name = name;
  e.kind = kind;
  e.mode = a.mode ? a.mode : (kind == EntryKind::kDirectory ? kDefaultDirMode : kDefaultFileMode);
  e.mtime_ns = a.mtime_ns;
  e.metadata = a.metadata;
  return e;
}

class SnapshotWriterImpl;

class FileSinkImpl final : public FileSink {
 public:
  FileSinkImpl(SnapshotWriterImpl& w, std::vector<std::string> parts, EntryAttributes attrs);
  ~FileSinkImpl() override { Abandon(); }
  Status Append(ByteView data) override;
  Result<uint64_t> Finish() override;
  void Abandon() override;

 private:
  Status Cut(bool eof);
  Status Submit(ByteView chunk);
  Status WaitOne();

  SnapshotWriterImpl& w_;
  std::vector<std::string> parts_;
  EntryAttributes attrs_;
  Bytes buf_;
  size_t pos_ = 0;
  uint64_t size_ = 0;
  std::vector<ChunkRef> chunks_;
  std::deque<std::future<Result<ChunkRef>>> inflight_;
  Status error_;
  bool done_ = false;
};

// A finished file whose last chunks may still be in the pool.
struct PendingFile {
  std::vector<std::string> parts;
  TreeEntry entry;  // chunks_ so far; the rest come from `inflight`
  std::deque<std::future<Result<ChunkRef>>> inflight;
};

class SnapshotWriterImpl final : public SnapshotWriter {
 public:
  SnapshotWriterImpl(Repository& repo, const SnapshotInfo* parent, SnapshotWriterOptions options)
      : repo_(repo),
        options_(options),
        chunker_(repo.chunker_key(), repo.chunker_params()),
        pool_(std::thread::hardware_concurrency()) {
    root_ = NewNode();
    if (parent) {
      parent_ = *parent;
      root_->original = parent->root;
      stats_ = parent->stats;
    } else {
      root_->loaded = true;
    }
    for (const char* k : {"files_written", "bytes_written", "entries_removed", "directories_spilled"}) stats_[k] = 0;
  }

  Result<std::unique_ptr<FileSink>> BeginFile(std::string_view path, const EntryAttributes& attrs) override {
    M365_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitPath(path));
    return std::unique_ptr<FileSink>(new FileSinkImpl(*this, std::move(parts), attrs));
  }

  Status MakeDirectory(std::string_view path, const EntryAttributes& attrs) override {
    M365_RETURN_IF_ERROR(DrainPending());
    M365_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitPath(path));
    std::lock_guard<std::mutex> l(mu_);
    M365_ASSIGN_OR_RETURN(DirNode * dir, Walk(parts, parts.size(), true));
    (void)dir;
    // Update the directory's own entry in its parent.
    M365_ASSIGN_OR_RETURN(DirNode * parent, Walk(parts, parts.size() - 1, false));
    M365_ASSIGN_OR_RETURN(TreeEntry e, parent->Get(parts.back()));
    e.mode = attrs.mode ? attrs.mode : kDefaultDirMode;
    e.mtime_ns = attrs.mtime_ns;
    e.metadata = attrs.metadata;
    return parent->Set(e);
  }

  Status Remove(std::string_view path) override {
    M365_RETURN_IF_ERROR(DrainPending());
    M365_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitPath(path));
    std::lock_guard<std::mutex> l(mu_);
    auto parent = Walk(parts, parts.size() - 1, false);
    if (!parent.ok()) return parent.status();
    DirNode* p = *parent;
    M365_ASSIGN_OR_RETURN(std::optional<TreeEntry> e, p->Find(parts.back()));
    if (!e) return Status::NotFound("no " + std::string(path) + " to remove");
    if (e->kind == EntryKind::kFile) SubtractFile(*e);
    M365_RETURN_IF_ERROR(p->entries.Erase(parts.back()).status());
    p->children.erase(parts.back());
    ++stats_["entries_removed"];
    return Status::OK();
  }

  Status Rename(std::string_view from, std::string_view to) override {
    M365_RETURN_IF_ERROR(DrainPending());
    M365_ASSIGN_OR_RETURN(std::vector<std::string> src, SplitPath(from));
    M365_ASSIGN_OR_RETURN(std::vector<std::string> dst, SplitPath(to));
    if (dst.size() > src.size() && std::equal(src.begin(), src.end(), dst.begin())) {
      return Status::InvalidArgument("cannot move " + std::string(from) + " into itself");
    }
    std::lock_guard<std::mutex> l(mu_);
    M365_ASSIGN_OR_RETURN(DirNode * sp, Walk(src, src.size() - 1, false));
    M365_ASSIGN_OR_RETURN(std::optional<Bytes> e, sp->entries.Get(src.back()));  // the body: the name is the key
    if (!e) return Status::NotFound("no " + std::string(from) + " to move");
    M365_ASSIGN_OR_RETURN(DirNode * dp, Walk(dst, dst.size() - 1, true));
    M365_ASSIGN_OR_RETURN(bool taken, dp->entries.Contains(dst.back()));
    if (taken) return Status::AlreadyExists(std::string(to) + " exists");
    // Walk(dst) may have re-pointed nothing in sp (distinct nodes stay valid).
    M365_RETURN_IF_ERROR(sp->entries.Erase(src.back()).status());
    std::unique_ptr<DirNode> child;
    if (auto c = sp->children.find(src.back()); c != sp->children.end()) {
      child = std::move(c->second);
      sp->children.erase(c);
    }
    M365_RETURN_IF_ERROR(dp->entries.Put(dst.back(), std::move(*e)));
    if (child) dp->children[dst.back()] = std::move(child);
    return Status::OK();
  }

  Result<std::optional<TreeEntry>> Lookup(std::string_view path) override {
    M365_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitPath(path));
    M365_RETURN_IF_ERROR(DrainPendingUnder(parts));
    std::lock_guard<std::mutex> l(mu_);
    auto parent = Walk(parts, parts.size() - 1, false, /*mark_dirty=*/false);
    if (!parent.ok()) {
      if (parent.status().IsNotFound()) return std::optional<TreeEntry>();
      return parent.status();
    }
    return (*parent)->Find(parts.back());
  }

  Result<std::vector<std::string>> ListNames(std::string_view path) override {
    if (path.empty()) {
      M365_RETURN_IF_ERROR(DrainPending());
    } else {
      M365_ASSIGN_OR_RETURN(std::vector<std::string> under, SplitPath(path));
      M365_RETURN_IF_ERROR(DrainPendingUnder(under));
    }
    std::vector<std::string> names;
    std::lock_guard<std::mutex> l(mu_);
    DirNode* dir = root_.get();
    if (!path.empty()) {
      M365_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitPath(path));
      auto d = Walk(parts, parts.size(), false, false);
      if (!d.ok()) return d.status().IsNotFound() ? Result<std::vector<std::string>>(names) : d.status();
      dir = *d;
    } else {
      M365_RETURN_IF_ERROR(Load(root_.get()));
    }
    M365_RETURN_IF_ERROR(dir->entries.ForEach([&](std::string_view name, ByteView) {
      names.emplace_back(name);
      return Status::OK();
    }));
    return names;
  }

  Status Persist(std::string_view path) override {
    M365_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitPath(path));
    M365_RETURN_IF_ERROR(DrainPendingUnder(parts));
    std::lock_guard<std::mutex> l(mu_);
    if (committed_) return Status::InvalidArgument("Persist after Commit");
    // Only directories this run opened hold anything; the rest are blobs already.
    DirNode* parent = root_.get();
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      auto c = parent->children.find(parts[i]);
      if (c == parent->children.end()) return Status::OK();
      parent = c->second.get();
    }
    auto child = parent->children.find(parts.back());
    if (child == parent->children.end()) return Status::OK();
    auto written = WriteTree(child->second.get());
    if (!written.ok()) {  // the subtree is half consumed: this writer cannot commit
      broken_ = written.status();
      return broken_;
    }
    const BlobId id = *written;
    parent->children.erase(child);
    // The parent is dirty already (opening the child marked it): its entry
    // now names the written tree, which a later Walk opens again.
    M365_ASSIGN_OR_RETURN(TreeEntry e, parent->Get(parts.back()));
    e.subtree = id;
    return parent->Set(e);
  }

  Status SetSyncState(ByteView state) override {
    BlobId id = repo_.HashBlob(state);
    M365_RETURN_IF_ERROR(repo_.SaveBlob(BlobType::kMeta, id, state).status());
    std::lock_guard<std::mutex> l(mu_);
    sync_state_ = id;
    return Status::OK();
  }

  Result<SnapshotInfo> Commit(SnapshotInfo fields) override {
    M365_RETURN_IF_ERROR(DrainPending());
    std::lock_guard<std::mutex> l(mu_);
    // WriteTree consumes the overlay, so a failed Commit cannot be retried.
    if (committed_) return Status::InvalidArgument("Commit was already called on this writer");
    if (!broken_.ok()) return broken_.WithContext("an earlier Persist failed");
    committed_ = true;
    M365_ASSIGN_OR_RETURN(BlobId root, WriteTree(root_.get()));
    M365_RETURN_IF_ERROR(repo_.Flush());
    fields.root = root;
    fields.parent = parent_ ? parent_->id : "";
    if (fields.tenant.empty()) fields.tenant = repo_.tenant();
    if (fields.time_ns == 0) {
      fields.time_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    }
    if (!sync_state_.IsZero()) fields.sync_state = sync_state_;
    for (const auto& [k, v] : stats_) fields.stats.emplace(k, v);
    M365_RETURN_IF_ERROR(repo_.SaveSnapshot(&fields));
    return fields;
  }

  // Called by sinks.
  Repository& repo() { return repo_; }
  const Chunker& chunker() const { return chunker_; }
  ThreadPool& pool() { return pool_; }
  size_t max_inflight() const { return pool_.size() * 3; }
  // Reused buffers: a sink's window on its file, and the chunks in flight.
  // Four and eight: more kept buffers saved little CPU and cost resident
  // memory (bench/README.md, session 3).
  BufferPool& file_buffers() { return file_buffers_; }
  BufferPool& chunk_buffers() { return chunk_buffers_; }

  // Queues a finished file; completes the oldest ones while too many
  // chunks are outstanding (bounded memory) or already stored.
  void AddPending(PendingFile f) {
    std::lock_guard<std::mutex> l(pending_mu_);
    pending_chunks_ += f.inflight.size();
    pending_.push_back(std::move(f));
    while (!pending_.empty() && (pending_chunks_ > max_inflight() * 2 || FrontReady())) CompleteFront();
  }

  // Completes the queued files if one of them lies at or below `parts`
  // (so a lookup sees every file written before it); else leaves them.
  Status DrainPendingUnder(const std::vector<std::string>& parts) {
    {
      std::lock_guard<std::mutex> l(pending_mu_);
      bool hit = false;
      for (const PendingFile& f : pending_) {
        if (f.parts.size() >= parts.size() && std::equal(parts.begin(), parts.end(), f.parts.begin())) {
          hit = true;
          break;
        }
      }
      if (!hit) return deferred_error_;
    }
    return DrainPending();
  }

  // Completes every queued file; returns the first error any of them met.
  Status DrainPending() {
    std::lock_guard<std::mutex> l(pending_mu_);
    while (!pending_.empty()) CompleteFront();
    return deferred_error_;
  }

  Status InsertFile(const std::vector<std::string>& parts, TreeEntry entry) {
    std::lock_guard<std::mutex> l(mu_);
    M365_ASSIGN_OR_RETURN(DirNode * dir, Walk(parts, parts.size() - 1, true));
    M365_ASSIGN_OR_RETURN(std::optional<TreeEntry> old, dir->Find(entry.name));
    if (old) {
      if (old->kind == EntryKind::kFile) SubtractFile(*old);
      dir->children.erase(entry.name);
    }
    stats_["total_files"] += 1;
    stats_["total_bytes"] += entry.size;
    stats_["files_written"] += 1;
    stats_["bytes_written"] += entry.size;
    M365_RETURN_IF_ERROR(dir->Set(entry));
    return MaybeSpill();
  }

 private:
  // REQUIRES: pending_mu_ held.
  bool FrontReady() const {
    for (const auto& f : pending_.front().inflight) {
      if (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return false;
    }
    return true;
  }

  // REQUIRES: pending_mu_ held.
  void CompleteFront() {
    PendingFile f = std::move(pending_.front());
    pending_.pop_front();
    pending_chunks_ -= f.inflight.size();
    Status st;
    for (auto& fut : f.inflight) {
      Result<ChunkRef> r = fut.get();
      if (!r.ok()) {
        if (st.ok()) st = r.status();
      } else {
        f.entry.chunks.push_back(*r);
      }
    }
    if (st.ok()) {
      f.entry.ComputeOffsets();
      st = InsertFile(f.parts, std::move(f.entry));
    }
    if (!st.ok() && deferred_error_.ok()) deferred_error_ = st.WithContext("storing a file's content");
  }

  void SubtractFile(const TreeEntry& e) {
    if (stats_["total_files"] > 0) stats_["total_files"] -= 1;
    stats_["total_bytes"] -= std::min(stats_["total_bytes"], e.size);
  }

  Status Load(DirNode* d) {
    if (d->loaded) return Status::OK();
    // The blob itself (a split tree's parts one at a time), split into
    // bodies: no decoded Tree (nor a copy of it in the repository's tree
    // cache) for a directory about to change. Errors name the tree.
    size_t n = 0;
    Status st = ForEachTreeEntry(repo_, d->original, [&](std::string_view name, ByteView body) {
      M365_RETURN_IF_ERROR(d->entries.Put(std::string(name), Bytes(body.begin(), body.end())));
      return ++n % 1024 == 0 ? MaybeSpill() : Status::OK();  // a huge directory goes to the spill as it loads
    });
    if (!st.ok()) {
      d->entries.Clear();
      return st;
    }
    d->loaded = true;
    return Status::OK();
  }

  // Returns the DirNode for parts[0..depth), loading (and with `create`,
  // creating) each level. Marks the path dirty unless told not to.
  // REQUIRES: mu_ held.
  Result<DirNode*> Walk(const std::vector<std::string>& parts, size_t depth, bool create, bool mark_dirty = true) {
    DirNode* d = root_.get();
    M365_RETURN_IF_ERROR(Load(d));
    if (mark_dirty) d->dirty = true;
    for (size_t i = 0; i < depth; ++i) {
      const std::string& name = parts[i];
      auto child = d->children.find(name);
      if (child == d->children.end()) {
        M365_ASSIGN_OR_RETURN(std::optional<TreeEntry> entry, d->Find(name));
        auto node = NewNode();
        if (!entry) {
          if (!create) return Status::NotFound("no directory " + name);
          M365_RETURN_IF_ERROR(d->Set(MakeEntry(name, EntryKind::kDirectory, EntryAttributes{})));
          node->loaded = true;
        } else if (entry->kind != EntryKind::kDirectory) {
          if (!create) return Status::NotFound(name + " is not a directory");
          // A file is replaced by a directory of the same name.
          SubtractFile(*entry);
          M365_RETURN_IF_ERROR(d->Set(MakeEntry(name, EntryKind::kDirectory, EntryAttributes{})));
          node->loaded = true;
        } else {
          node->original = entry->subtree;
        }
        child = d->children.emplace(name, std::move(node)).first;
      }
      d = child->second.get();
      M365_RETURN_IF_ERROR(Load(d));
      if (mark_dirty) d->dirty = true;
    }
    return d;
  }

  // REQUIRES: mu_ held.
  Result<BlobId> WriteTree(DirNode* d) {
    if (!d->dirty && !d->original.IsZero()) return d->original;
    M365_RETURN_IF_ERROR(Load(d));
    for (auto& [name, child] : d->children) {
      M365_ASSIGN_OR_RETURN(BlobId id, WriteTree(child.get()));
      M365_ASSIGN_OR_RETURN(TreeEntry e, d->Get(name));
      e.subtree = id;
      M365_RETURN_IF_ERROR(d->Set(e));
    }
    d->children.clear();
    // Each body is freed as it is added: Commit is the writer's last call,
    // and a directory of 100,000 mails would otherwise briefly exist twice.
    // The builder holds one part at a time, saving each as it completes.
    TreeBuilder builder([this](ByteView blob) -> Result<BlobId> {
      BlobId id = repo_.HashBlob(blob);
      M365_RETURN_IF_ERROR(repo_.SaveBlob(BlobType::kTree, id, blob).status());
      return id;
    });
    M365_RETURN_IF_ERROR(d->entries.Drain(  // sorted by name
        [&](std::string_view name, ByteView body) { return builder.Add(name, body); }));
    return builder.Finish();
  }

  std::unique_ptr<DirNode> NewNode() { return std::make_unique<DirNode>(&held_); }

  // When the listings in memory pass the budget, moves the largest to the
  // spill database until half the budget is left. REQUIRES: mu_ held.
  Status MaybeSpill() {
    if (held_ <= options_.entry_budget) return Status::OK();
    if (!spill_) {
      M365_ASSIGN_OR_RETURN(spill_, EntrySpill::Open());
    }
    std::vector<DirNode*> nodes;
    std::vector<DirNode*> todo = {root_.get()};
    while (!todo.empty()) {
      DirNode* n = todo.back();
      todo.pop_back();
      if (n->entries.memory() > 0) nodes.push_back(n);
      for (auto& [name, c] : n->children) todo.push_back(c.get());
    }
    std::sort(nodes.begin(), nodes.end(),
              [](DirNode* a, DirNode* b) { return a->entries.memory() > b->entries.memory(); });
    for (DirNode* n : nodes) {
      if (held_ <= options_.entry_budget / 2) break;
      M365_RETURN_IF_ERROR(n->entries.Spill(*spill_));
      ++stats_["directories_spilled"];
    }
    return Status::OK();
  }

  Repository& repo_;
  const SnapshotWriterOptions options_;
  size_t held_ = 0;                     // GUARDED_BY(mu_): bytes of the listings in memory
  std::unique_ptr<EntrySpill> spill_;   // GUARDED_BY(mu_): opened on first need; outlives root_
  Chunker chunker_;
  BufferPool file_buffers_{4};
  BufferPool chunk_buffers_{8};
  ThreadPool pool_;  // after the buffer pools: its tasks give chunks back
  std::mutex mu_;
  std::unique_ptr<DirNode> root_;                 // GUARDED_BY(mu_)
  std::optional<SnapshotInfo> parent_;
  std::map<std::string, uint64_t> stats_;          // GUARDED_BY(mu_)
  BlobId sync_state_;
  bool committed_ = false;  // GUARDED_BY(mu_)
  Status broken_;           // GUARDED_BY(mu_): a failed Persist; Commit refuses
  std::mutex pending_mu_;  // before mu_
  std::deque<PendingFile> pending_;  // GUARDED_BY(pending_mu_), in Finish order
  size_t pending_chunks_ = 0;        // GUARDED_BY(pending_mu_)
  Status deferred_error_;            // GUARDED_BY(pending_mu_)
};

FileSinkImpl::FileSinkImpl(SnapshotWriterImpl& w, std::vector<std::string> parts, EntryAttributes attrs)
    : w_(w), parts_(std::move(parts)), attrs_(std::move(attrs)) {}

Status FileSinkImpl::Submit(ByteView data) {
  while (inflight_.size() >= w_.max_inflight()) M365_RETURN_IF_ERROR(WaitOne());
  Repository& repo = w_.repo();
  BufferPool& buffers = w_.chunk_buffers();
  Bytes chunk = buffers.Take();
  chunk.assign(data.begin(), data.end());
  inflight_.push_back(w_.pool().Submit([&repo, &buffers, chunk = std::move(chunk)]() mutable -> Result<ChunkRef> {
    ChunkRef ref{repo.HashBlob(chunk), static_cast<uint32_t>(chunk.size())};
    Status st = repo.SaveBlob(BlobType::kData, ref.id, chunk).status();
    buffers.Give(std::move(chunk));
    M365_RETURN_IF_ERROR(st);
    return ref;
  }));
  return Status::OK();
}

Status FileSinkImpl::WaitOne() {
  Result<ChunkRef> r = inflight_.front().get();
  inflight_.pop_front();
  if (!r.ok()) return r.status();
  chunks_.push_back(*r);
  return Status::OK();
}

Status FileSinkImpl::Cut(bool eof) {
  for (;;) {
    ByteView rest(buf_.data() + pos_, buf_.size() - pos_);
    if (rest.empty()) break;
    size_t n = w_.chunker().NextChunk(rest, eof);
    if (n == 0) break;
    M365_RETURN_IF_ERROR(Submit(rest.first(n)));
    pos_ += n;
  }
  if (pos_ > 0 && (pos_ >= buf_.size() / 2 || eof)) {
    buf_.erase(buf_.begin(), buf_.begin() + pos_);
    pos_ = 0;
  }
  return Status::OK();
}

Status FileSinkImpl::Append(ByteView data) {
  if (done_) return Status::InvalidArgument("append after finish");
  if (!error_.ok()) return error_;
  if (buf_.capacity() == 0) buf_ = w_.file_buffers().Take();
  buf_.insert(buf_.end(), data.begin(), data.end());
  size_ += data.size();
  if (buf_.size() - pos_ >= w_.chunker().params().max_size) error_ = Cut(false);
  return error_;
}

Result<uint64_t> FileSinkImpl::Finish() {
  if (done_) return Status::InvalidArgument("file finished twice");
  if (error_.ok()) error_ = Cut(true);
  done_ = true;
  w_.file_buffers().Give(std::move(buf_));
  buf_ = Bytes();
  if (!error_.ok()) {
    Abandon();
    return error_;
  }
  // The last chunks may still be hashing and sealing: hand them to the
  // writer, which inserts the file once they are stored, so a caller that
  // streams many small files one after another keeps every core busy.
  TreeEntry e = MakeEntry(parts_.back(), EntryKind::kFile, attrs_);
  e.size = size_;
  e.chunks = std::move(chunks_);
  w_.AddPending(PendingFile{std::move(parts_), std::move(e), std::move(inflight_)});
  return size_;
}

void FileSinkImpl::Abandon() {
  while (!inflight_.empty()) {
    inflight_.front().wait();
    inflight_.pop_front();
  }
  done_ = true;
  w_.file_buffers().Give(std::move(buf_));
  buf_ = Bytes();
}

}  // namespace

Result<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Start(Repository& repo, const SnapshotInfo* parent,
                                                              SnapshotWriterOptions options) {
  return std::unique_ptr<SnapshotWriter>(new SnapshotWriterImpl(repo, parent, options));
}

}  // namespace m365vault
