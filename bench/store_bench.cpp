// bench/store_bench.cpp
//
// store_bench: a small backup tool over the backend API, for the store
// benchmark of issue 2 (see bench/README.md). Not part of the product.
//
//   store_bench init REPO [--chunker MIN/AVG/MAX]
//   store_bench backup REPO SRC_DIR [--readers N] [--full]
//   store_bench restore REPO DEST
//   store_bench chunk-sweep V1_DIR [V2_DIR] [--work DIR] [--params LIST] [--readers N]
//
// The master key of a bench repository is kept in REPO.key (hex) and the
// local index cache in REPO.cache, both outside the repository so `du REPO`
// measures the repository alone (restic and borg keep their caches in
// ~/.cache as well).
//
// backup: the first run has no parent. A later run starts from the latest
// snapshot and does what a real backup of a directory does: a file whose size
// and mtime equal its entry in the parent is skipped; changed and new files are
// read and written; entries gone from the source are removed (restic's
// parent-based change detection). --full re-reads every file.
//
// Files are streamed in 1 MiB reads through FileSinks, by --readers threads
// (default 2, like restic's file-read concurrency); the walk, Lookup, Remove
// and MakeDirectory happen on the main thread.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "backend/crypto.h"
#include "backend/local_storage.h"
#include "backend/repository.h"
#include "backend/snapshot_reader.h"
#include "backend/snapshot_writer.h"

namespace m365vault {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadSize = 1 << 20;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "store_bench: %s\n", what.c_str());
  std::exit(1);
}

void Check(const Status& st, const std::string& what) {
  if (!st.ok()) Die(what + ": " + st.ToString());
}

template <typename T>
T Take(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}

std::string Human(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %s", bytes, units[u]);
  return buf;
}

uint64_t ParseSize(const std::string& s) {
  char* end = nullptr;
  uint64_t v = std::strtoull(s.c_str(), &end, 10);
  if (end && (*end == 'K' || *end == 'k')) v <<= 10;
  if (end && (*end == 'M' || *end == 'm')) v <<= 20;
  return v;
}

// "32K/128K/1M" -> params.
ChunkerParams ParseChunker(const std::string& s) {
  ChunkerParams p;
  size_t a = s.find('/'), b = s.find('/', a + 1);
  if (a == std::string::npos || b == std::string::npos) Die("chunker params look like 32K/128K/1M: " + s);
  p.min_size = static_cast<uint32_t>(ParseSize(s.substr(0, a)));
  p.avg_size = static_cast<uint32_t>(ParseSize(s.substr(a + 1, b - a - 1)));
  p.max_size = static_cast<uint32_t>(ParseSize(s.substr(b + 1)));
  return p;
}

std::string ChunkerName(const ChunkerParams& p) {
  auto f = [](uint32_t v) {
    if (v % (1 << 20) == 0) return std::to_string(v >> 20) + "M";
    return std::to_string(v >> 10) + "K";
  };
  return f(p.min_size) + "/" + f(p.avg_size) + "/" + f(p.max_size);
}

// --- repository handles ---

crypto::SecretKey LoadOrCreateKey(const std::string& repo, bool create) {
  std::string path = repo + ".key";
  if (create) {
    crypto::SecretKey k = crypto::SecretKey::Random();
    std::ofstream f(path, std::ios::trunc);
    f << ToHex(k.view()) << "\n";
    if (!f) Die("cannot write " + path);
    ::chmod(path.c_str(), 0600);
    return k;
  }
  std::ifstream f(path);
  std::string hex;
  f >> hex;
  Bytes b;
  if (!FromHex(hex, &b) || b.size() != crypto::kKeySize) Die("no key in " + path);
  return crypto::SecretKey::FromBytes(b);
}

RepositoryOptions Options(const std::string& repo) {
  RepositoryOptions o;
  o.cache_dir = repo + ".cache";
  return o;
}

std::unique_ptr<Repository> InitRepo(const std::string& repo, ChunkerParams chunker) {
  crypto::SecretKey key = LoadOrCreateKey(repo, true);
  auto storage = Take(LocalStorage::Open(repo, true), "open storage " + repo);
  RepositoryOptions o = Options(repo);
  o.chunker = chunker;
  return Take(Repository::Init(std::move(storage), key, "bench", o), "init " + repo);
}

std::unique_ptr<Repository> OpenRepo(const std::string& repo) {
  crypto::SecretKey key = LoadOrCreateKey(repo, false);
  auto storage = Take(LocalStorage::Open(repo, false), "open storage " + repo);
  return Take(Repository::Open(std::move(storage), key, Options(repo)), "open " + repo);
}

// --- backup ---

struct FileJob {
  std::string rel;   // path in the snapshot
  std::string full;  // path on disk
  EntryAttributes attrs;
};

struct BackupResult {
  uint64_t files = 0;          // regular files in the source
  uint64_t bytes = 0;          // their total size
  uint64_t files_read = 0;     // files read and written (new or changed)
  uint64_t bytes_read = 0;
  uint64_t files_skipped = 0;  // unchanged (parent size + mtime)
  uint64_t removed = 0;        // entries gone from the source
  uint64_t dirs = 0;
  double wall = 0, walk = 0, read_io = 0, store = 0, commit = 0;
  double tree_calls = 0;  // main thread in Lookup/ListNames/Remove/MakeDirectory (parent trees)
  RepositoryStats stats;
  SnapshotInfo snapshot;
};

EntryAttributes AttrsOf(const struct stat& st) {
  EntryAttributes a;
  a.mode = st.st_mode & 07777;
  a.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return a;
}

// A fixed set of threads streaming files into the writer.
class Readers {
 public:
  Readers(SnapshotWriter& w, unsigned n) : w_(w) {
    for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~Readers() { Close(); }

  void Push(FileJob job) {
    std::unique_lock<std::mutex> l(mu_);
    space_.wait(l, [this] { return queue_.size() < 256; });
    queue_.push_back(std::move(job));
    ready_.notify_one();
  }
  void Close() {
    {
      std::lock_guard<std::mutex> l(mu_);
      closed_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t files_read() const { return files_read_; }
  double read_seconds() const { return read_ns_ / 1e9; }
  double store_seconds() const { return store_ns_ / 1e9; }

 private:
  void Run() {
    Bytes buf(kReadSize);
    for (;;) {
      FileJob job;
      {
        std::unique_lock<std::mutex> l(mu_);
        ready_.wait(l, [this] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        space_.notify_one();
      }
      One(job, buf);
    }
  }

  void One(const FileJob& job, Bytes& buf) {
    int fd = ::open(job.full.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
    if (fd < 0) fd = ::open(job.full.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) Die("open " + job.full + ": " + std::strerror(errno));
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    auto t0 = Clock::now();
    auto sink = Take(w_.BeginFile(job.rel, job.attrs), "begin " + job.rel);
    uint64_t read_ns = 0, store_ns = 0, total = 0;
    for (;;) {
      auto a = Clock::now();
      ssize_t n = ::read(fd, buf.data(), buf.size());
      auto b = Clock::now();
      read_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
      if (n < 0) {
        if (errno == EINTR) continue;
        Die("read " + job.full + ": " + std::strerror(errno));
      }
      if (n == 0) break;
      total += static_cast<uint64_t>(n);
      Check(sink->Append(ByteView(buf.data(), static_cast<size_t>(n))), "append " + job.rel);
      store_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - b).count();
    }
    ::close(fd);
    auto c = Clock::now();
    Take(sink->Finish(), "finish " + job.rel);
    store_ns += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - c).count();
    (void)t0;
    bytes_read_ += total;
    ++files_read_;
    read_ns_ += read_ns;
    store_ns_ += store_ns;
  }

  SnapshotWriter& w_;
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<FileJob> queue_;
  bool closed_ = false;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> bytes_read_{0}, files_read_{0}, read_ns_{0}, store_ns_{0};
};

// Walks `dir_full` (snapshot path `dir_rel`, "" for the root) depth first in
// name order: directories and change detection here, file content to readers.
void Walk(SnapshotWriter& w, Readers& readers, const std::string& dir_full, const std::string& dir_rel,
          bool have_parent, bool full, BackupResult* r) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir_full.c_str());
  if (!d) Die("opendir " + dir_full + ": " + std::strerror(errno));
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    names.push_back(std::move(n));
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());

  auto tc = Clock::now();
  if (have_parent) {
    // Entries of the parent snapshot that are gone from the source.
    auto old = Take(w.ListNames(dir_rel), "list " + dir_rel);
    for (const std::string& n : old) {
      if (!std::binary_search(names.begin(), names.end(), n)) {
        Check(w.Remove(dir_rel.empty() ? n : dir_rel + "/" + n), "remove");
        ++r->removed;
      }
    }
  }
  r->tree_calls += Seconds(tc, Clock::now());

  for (const std::string& n : names) {
    std::string full_path = dir_full + "/" + n;
    std::string rel = dir_rel.empty() ? n : dir_rel + "/" + n;
    struct stat st;
    if (::lstat(full_path.c_str(), &st) != 0) Die("stat " + full_path + ": " + std::strerror(errno));
    EntryAttributes attrs = AttrsOf(st);
    if (S_ISDIR(st.st_mode)) {
      ++r->dirs;
      auto t = Clock::now();
      std::optional<TreeEntry> old;
      if (have_parent) old = Take(w.Lookup(rel), "lookup " + rel);
      if (!old || old->kind != EntryKind::kDirectory || old->mtime_ns != attrs.mtime_ns ||
          old->mode != attrs.mode) {
        Check(w.MakeDirectory(rel, attrs), "mkdir " + rel);
      }
      r->tree_calls += Seconds(t, Clock::now());
      Walk(w, readers, full_path, rel, have_parent, full, r);
    } else if (S_ISREG(st.st_mode)) {
      ++r->files;
      r->bytes += static_cast<uint64_t>(st.st_size);
      if (have_parent && !full) {
        auto t = Clock::now();
        auto old = Take(w.Lookup(rel), "lookup " + rel);
        r->tree_calls += Seconds(t, Clock::now());
        if (old && old->kind == EntryKind::kFile && old->size == static_cast<uint64_t>(st.st_size) &&
            old->mtime_ns == attrs.mtime_ns && old->mode == attrs.mode) {
          ++r->files_skipped;
          continue;
        }
      }
      readers.Push(FileJob{rel, full_path, std::move(attrs)});
    }
    // Symlinks, devices, sockets: not in the bench data.
  }
}

BackupResult Backup(Repository& repo, const std::string& src, unsigned nreaders, bool full) {
  BackupResult r;
  auto t0 = Clock::now();
  auto snaps = Take(repo.ListSnapshots(), "list snapshots");
  const SnapshotInfo* parent = snaps.empty() ? nullptr : &snaps.back();
  auto w = Take(SnapshotWriter::Start(repo, parent), "start snapshot");
  {
    Readers readers(*w, nreaders);
    Walk(*w, readers, src, "", parent != nullptr, full, &r);
    r.walk = Seconds(t0, Clock::now());
    readers.Close();
    r.files_read = readers.files_read();
    r.bytes_read = readers.bytes_read();
    r.read_io = readers.read_seconds();
    r.store = readers.store_seconds();
  }
  auto t1 = Clock::now();
  SnapshotInfo fields;
  fields.object_type = "bench";
  r.snapshot = Take(w->Commit(fields), "commit");
  auto t2 = Clock::now();
  r.commit = Seconds(t1, t2);
  r.wall = Seconds(t0, t2);
  r.stats = repo.stats();
  return r;
}

void PrintBackup(const BackupResult& r) {
  std::printf("snapshot   %s%s\n", r.snapshot.id.c_str(), r.snapshot.parent.empty() ? "" : " (with parent)");
  std::printf("files      %llu in %llu dirs, %s\n", (unsigned long long)r.files, (unsigned long long)r.dirs,
              Human(r.bytes).c_str());
  std::printf("read       %llu files, %s (skipped %llu unchanged, removed %llu)\n",
              (unsigned long long)r.files_read, Human(r.bytes_read).c_str(), (unsigned long long)r.files_skipped,
              (unsigned long long)r.removed);
  std::printf("new        %llu blobs, %s plain -> %s stored, %llu deduped, %llu packs\n",
              (unsigned long long)r.stats.blobs_saved, Human(r.stats.bytes_plain).c_str(),
              Human(r.stats.bytes_stored).c_str(), (unsigned long long)r.stats.blobs_deduped,
              (unsigned long long)r.stats.packs_written);
  std::printf("wall       %.2f s (walk+enqueue %.2f s of which writer Lookup/ListNames/MakeDirectory/Remove "
              "%.2f s; commit %.2f s; summed over readers: read() %.2f s, Append/Finish %.2f s)\n",
              r.wall, r.walk, r.tree_calls, r.commit, r.read_io, r.store);
  if (r.wall > 0) std::printf("throughput %.1f MiB/s of source read\n", r.bytes_read / r.wall / (1 << 20));
  std::printf("RESULT files=%llu bytes=%llu files_read=%llu bytes_read=%llu skipped=%llu removed=%llu "
              "new_plain=%llu new_stored=%llu blobs=%llu deduped=%llu wall=%.3f\n",
              (unsigned long long)r.files, (unsigned long long)r.bytes, (unsigned long long)r.files_read,
              (unsigned long long)r.bytes_read, (unsigned long long)r.files_skipped, (unsigned long long)r.removed,
              (unsigned long long)r.stats.bytes_plain, (unsigned long long)r.stats.bytes_stored,
              (unsigned long long)r.stats.blobs_saved, (unsigned long long)r.stats.blobs_deduped, r.wall);
}

// --- restore ---

struct RestoreCount {
  uint64_t files = 0, bytes = 0;
};

void RestoreDir(SnapshotReader& reader, const std::string& rel, const std::string& dest, Bytes& buf,
                RestoreCount* c) {
  auto tree = Take(reader.ListDirectory(rel), "list " + rel);
  std::filesystem::create_directories(dest);
  for (const TreeEntry& e : tree->entries) {
    std::string child_rel = rel.empty() ? e.name : rel + "/" + e.name;
    std::string out = dest + "/" + e.name;
    if (e.kind == EntryKind::kDirectory) {
      RestoreDir(reader, child_rel, out, buf, c);
      ::chmod(out.c_str(), e.mode);
    } else if (e.kind == EntryKind::kFile) {
      int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, e.mode ? e.mode : 0644);
      if (fd < 0) Die("create " + out + ": " + std::strerror(errno));
      uint64_t off = 0;
      while (off < e.size) {
        size_t n = Take(reader.Read(e, off, std::span<uint8_t>(buf.data(), buf.size())), "read " + child_rel);
        if (n == 0) Die("short read of " + child_rel);
        if (::write(fd, buf.data(), n) != static_cast<ssize_t>(n)) Die("write " + out);
        off += n;
      }
      ::close(fd);
      struct timespec ts[2];
      ts[0].tv_sec = ts[1].tv_sec = e.mtime_ns / 1000000000;
      ts[0].tv_nsec = ts[1].tv_nsec = e.mtime_ns % 1000000000;
      ::utimensat(AT_FDCWD, out.c_str(), ts, 0);
      ++c->files;
      c->bytes += e.size;
    }
  }
}

// --- chunk sweep ---

struct ChunkCount {
  std::unordered_set<BlobId, BlobIdHash> unique;
  uint64_t refs = 0;
  uint64_t unique_bytes = 0;
};

void CountChunks(Repository& repo, const BlobId& tree_id, ChunkCount* c) {
  auto tree = Take(repo.LoadTree(tree_id), "load tree");
  for (const TreeEntry& e : tree->entries) {
    if (e.kind == EntryKind::kDirectory) {
      CountChunks(repo, e.subtree, c);
    } else if (e.kind == EntryKind::kFile) {
      for (const ChunkRef& ch : e.chunks) {
        ++c->refs;
        if (c->unique.insert(ch.id).second) c->unique_bytes += ch.length;
      }
    }
  }
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) n += it->file_size(ec);
  }
  return n;
}

int ChunkSweep(const std::string& v1, const std::string& v2, const std::string& work,
               const std::vector<ChunkerParams>& params, unsigned readers) {
  std::printf("%-14s %9s %9s %10s %12s %8s %12s %12s %12s %8s %8s %8s\n", "chunker", "chunks", "refs", "avg_chunk",
              "v1_unique", "v1_dedup", "v1_stored", "v2_new_plain", "repo_bytes", "v1+v2", "v1_wall", "v2_wall");
  for (const ChunkerParams& p : params) {
    std::string repo_path = work + "/sweep-" + std::to_string(p.avg_size >> 10) + "k";
    std::filesystem::remove_all(repo_path);
    std::filesystem::remove_all(repo_path + ".cache");
    std::unique_ptr<Repository> repo = InitRepo(repo_path, p);
    BackupResult r1 = Backup(*repo, v1, readers, false);
    BackupResult r2;
    bool have_v2 = !v2.empty();
    if (have_v2) r2 = Backup(*repo, v2, readers, false);
    uint64_t plain2 = have_v2 ? r2.stats.bytes_plain - r1.stats.bytes_plain : 0;
    ChunkCount c1;
    CountChunks(*repo, r1.snapshot.root, &c1);
    ChunkCount c = c1;
    if (have_v2) CountChunks(*repo, r2.snapshot.root, &c);
    repo.reset();
    uint64_t size = DirBytes(repo_path);
    uint64_t logical = r1.bytes + (have_v2 ? r2.bytes : 0);
    // v1_dedup: v1 bytes / v1 unique chunk bytes (dedup inside one snapshot,
    // before compression). v2_new_plain: plaintext of the blobs v2 added
    // (changed and new data + trees); smaller is better, the floor is the
    // bytes the churn really changed. v1+v2: logical bytes of both snapshots
    // / repository bytes (dedup and compression together).
    std::printf("%-14s %9zu %9llu %10s %12llu %8.3f %12llu %12llu %12llu %8.3f %8.2f %8.2f\n",
                ChunkerName(p).c_str(), c.unique.size(), (unsigned long long)c.refs,
                Human(c.unique.empty() ? 0 : double(c.unique_bytes) / c.unique.size()).c_str(),
                (unsigned long long)c1.unique_bytes, double(r1.bytes) / std::max<uint64_t>(1, c1.unique_bytes),
                (unsigned long long)r1.stats.bytes_stored, (unsigned long long)plain2, (unsigned long long)size,
                double(logical) / std::max<uint64_t>(1, size), r1.wall, r2.wall);
    std::fflush(stdout);
    std::filesystem::remove_all(repo_path);
    std::filesystem::remove_all(repo_path + ".cache");
    std::filesystem::remove(repo_path + ".key");
  }
  return 0;
}

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage:\n"
               "  store_bench init REPO [--chunker MIN/AVG/MAX]\n"
               "  store_bench backup REPO SRC_DIR [--readers N] [--full]\n"
               "  store_bench restore REPO DEST\n"
               "  store_bench chunk-sweep V1_DIR [V2_DIR] [--work DIR] [--params P1,P2,...] [--readers N]\n"
               "     P like 32K/128K/1M; default 16K/64K/256K,32K/128K/1M,64K/256K/2M,512K/1M/8M\n");
  std::exit(2);
}

int Main(int argc, char** argv) {
  if (argc < 3) Usage();
  if (!crypto::InitCrypto()) Die("libsodium failed to initialise");
  std::string cmd = argv[1];
  std::vector<std::string> pos;
  unsigned readers = 2;
  bool full = false;
  std::string chunker, work = "/tmp", params_list = "16K/64K/256K,32K/128K/1M,64K/256K/2M,512K/1M/8M";
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Usage();
      return argv[++i];
    };
    if (a == "--readers") readers = static_cast<unsigned>(std::stoul(next()));
    else if (a == "--full") full = true;
    else if (a == "--chunker") chunker = next();
    else if (a == "--work") work = next();
    else if (a == "--params") params_list = next();
    else if (a.rfind("--", 0) == 0) Usage();
    else pos.push_back(a);
  }
  if (readers == 0) readers = 1;

  if (cmd == "init" && pos.size() == 1) {
    ChunkerParams p;
    if (!chunker.empty()) p = ParseChunker(chunker);
    auto repo = InitRepo(pos[0], p);
    std::printf("initialised %s (chunker %s)\n", pos[0].c_str(), ChunkerName(repo->chunker_params()).c_str());
    return 0;
  }
  if (cmd == "backup" && pos.size() == 2) {
    auto repo = OpenRepo(pos[0]);
    std::string src = pos[1];
    while (src.size() > 1 && src.back() == '/') src.pop_back();
    BackupResult r = Backup(*repo, src, readers, full);
    PrintBackup(r);
    return 0;
  }
  if (cmd == "restore" && pos.size() == 2) {
    auto repo = OpenRepo(pos[0]);
    auto snaps = Take(repo->ListSnapshots(), "list snapshots");
    if (snaps.empty()) Die("no snapshot in " + pos[0]);
    SnapshotReader reader(*repo, snaps.back());
    Bytes buf(4 << 20);
    RestoreCount c;
    auto t0 = Clock::now();
    RestoreDir(reader, "", pos[1], buf, &c);
    double s = Seconds(t0, Clock::now());
    std::printf("restored snapshot %s: %llu files, %s in %.2f s\n", snaps.back().id.c_str(),
                (unsigned long long)c.files, Human(c.bytes).c_str(), s);
    return 0;
  }
  if (cmd == "chunk-sweep" && (pos.size() == 1 || pos.size() == 2)) {
    std::vector<ChunkerParams> params;
    size_t start = 0;
    while (start < params_list.size()) {
      size_t end = params_list.find(',', start);
      if (end == std::string::npos) end = params_list.size();
      params.push_back(ParseChunker(params_list.substr(start, end - start)));
      start = end + 1;
    }
    return ChunkSweep(pos[0], pos.size() == 2 ? pos[1] : "", work, params, readers);
  }
  Usage();
}

}  // namespace
}  // namespace m365vault

int main(int argc, char** argv) { return m365vault::Main(argc, argv); }
