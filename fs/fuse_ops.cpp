// fs/fuse_ops.cpp
#include "fs/fuse_ops.h"

#include <atomic>
#include <fcntl.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "fs/errno_map.h"
#include "fs/vault_fs.h"

namespace m365vault::fs {
namespace {

static_assert(sizeof(fuse_ino_t) == sizeof(Ino), "inode numbers are 64-bit");
static_assert(FUSE_ROOT_ID == kRootIno, "the root is FUSE_ROOT_ID");

// Largest read and write request we ask the kernel for.
constexpr unsigned kMaxIoBytes = 1 << 20;

VaultFs& FsOf(fuse_req_t req) { return *static_cast<VaultFs*>(fuse_req_userdata(req)); }
// Whether the kernel agreed to zero-message opens (one session per process).
std::atomic<bool> g_zero_message_open{false};

DirHandle& DirOf(fuse_file_info* fi) { return *reinterpret_cast<DirHandle*>(fi->fh); }
FileHandle& FileOf(fuse_file_info* fi) { return *reinterpret_cast<FileHandle*>(fi->fh); }

void ReplyStatus(fuse_req_t req, const Status& status) { fuse_reply_err(req, ErrnoFromStatus(status)); }

fuse_entry_param ToEntryParam(const EntryInfo& e) {
  fuse_entry_param p{};
  p.ino = e.ino;
  p.attr = e.attr;
  p.entry_timeout = e.entry_timeout;
  p.attr_timeout = e.attr_timeout;
  return p;
}

void OnInit(void* userdata, fuse_conn_info* conn) {
  auto want = [conn](unsigned cap) {
    if (conn->capable & cap) conn->want |= cap;
  };
  want(FUSE_CAP_ASYNC_READ);
  want(FUSE_CAP_READDIRPLUS);  // always plus: a listing is nearly always followed by stats
  conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
  want(FUSE_CAP_CACHE_SYMLINKS);  // safe: every symlink inode is immutable (inode_table.h)
  want(FUSE_CAP_PARALLEL_DIROPS);
  want(FUSE_CAP_NO_OPEN_SUPPORT);
  g_zero_message_open = (conn->want & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
  // Contents never change under an inode: no invalidation on mtime checks.
  conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
  conn->max_write = kMaxIoBytes;  // libfuse derives max_pages (the read size) from it
  conn->max_read = 0;             // no limit beyond max_pages
}

void OnLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  Result<EntryInfo> e = FsOf(req).Lookup(parent, name);
  if (!e.ok()) return ReplyStatus(req, e.status());
  fuse_entry_param p = ToEntryParam(*e);
  fuse_reply_entry(req, &p);
}

void OnForget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  FsOf(req).Forget(ino, nlookup);
  fuse_reply_none(req);
}

void OnForgetMulti(fuse_req_t req, size_t count, fuse_forget_data* forgets) {
  VaultFs& fs = FsOf(req);
  for (size_t i = 0; i < count; ++i) fs.Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void OnGetAttr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* /*fi*/) {
  Result<AttrInfo> a = FsOf(req).GetAttr(ino);
  if (!a.ok()) return ReplyStatus(req, a.status());
  fuse_reply_attr(req, &a->attr, a->timeout);
}

void OnReadLink(fuse_req_t req, fuse_ino_t ino) {
  Result<std::string> target = FsOf(req).ReadLink(ino);
  if (!target.ok()) return ReplyStatus(req, target.status());
  fuse_reply_readlink(req, target->c_str());
}

void OnOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_APPEND))) {
    return (void)fuse_reply_err(req, EROFS);
  }
  Result<std::unique_ptr<FileHandle>> h = FsOf(req).Open(ino);
  if (!h.ok()) return ReplyStatus(req, h.status());
  if (g_zero_message_open.load()) {
    // The kernel then stops sending open and release for files and keeps
    // their page cache (its no-open default is FOPEN_KEEP_CACHE): two round
    // trips fewer per small file read. Reads resolve the inode instead; the
    // read-only mount itself refuses opens for writing (EROFS).
    return (void)fuse_reply_err(req, ENOSYS);
  }
  fi->fh = reinterpret_cast<uint64_t>(h->release());
  fi->keep_cache = 1;  // immutable: page cache survives close/open
  fi->noflush = 1;
  fuse_reply_open(req, fi);
}

void OnRead(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi) {
  thread_local std::vector<uint8_t> buffer;
  if (buffer.size() < size) buffer.resize(size);
  std::unique_ptr<FileHandle> by_inode;  // zero-message opens carry no handle
  if (fi == nullptr || fi->fh == 0) {
    Result<std::unique_ptr<FileHandle>> h = FsOf(req).Open(ino);
    if (!h.ok()) return ReplyStatus(req, h.status());
    by_inode = std::move(h).value();
  }
  const FileHandle& file = by_inode ? *by_inode : FileOf(fi);
  Result<size_t> n = FsOf(req).Read(file, static_cast<uint64_t>(off), std::span<uint8_t>(buffer.data(), size));
  if (!n.ok()) return ReplyStatus(req, n.status());
  fuse_reply_buf(req, reinterpret_cast<const char*>(buffer.data()), *n);
}

void OnRelease(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  if (fi->fh != 0) std::unique_ptr<FileHandle>(reinterpret_cast<FileHandle*>(fi->fh)).reset();
  fuse_reply_err(req, 0);
}

void OnFlush(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* /*fi*/) { fuse_reply_err(req, 0); }

void OnOpenDir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  Result<std::unique_ptr<DirHandle>> h = FsOf(req).OpenDir(ino);
  if (!h.ok()) return ReplyStatus(req, h.status());
  if ((*h)->immutable()) {
    fi->keep_cache = 1;
    fi->cache_readdir = 1;
  }
  fi->fh = reinterpret_cast<uint64_t>(h->release());
  fuse_reply_open(req, fi);
}

// Fills one reply buffer from item `off` on. Offsets are item indexes + 1, so
// they stay valid for the life of the handle. An error is returned only while
// the buffer is still empty (entries already added hold lookup references).
void DoReadDir(fuse_req_t req, size_t size, off_t off, fuse_file_info* fi, bool plus) {
  VaultFs& fs = FsOf(req);
  DirHandle& dir = DirOf(fi);
  std::vector<char> buf(size);
  size_t used = 0;
  Status error;
  for (size_t item = static_cast<size_t>(off); item < dir.size(); ++item) {
    const char* name = dir.Name(item).data();  // NUL-terminated (std::string or literal)
    char* p = buf.data() + used;
    size_t rem = size - used;
    size_t n;
    if (plus) {
      fuse_entry_param e{};
      if (item < 2) {
        e.attr.st_ino = fs.ItemIno(dir, item);  // ino 0: the kernel makes no dentry for . and ..
        e.attr.st_mode = S_IFDIR;
      } else {
        Result<EntryInfo> info = fs.LookupItem(dir, item);
        if (!info.ok()) {
          error = info.status();
          break;
        }
        e = ToEntryParam(*info);
      }
      n = fuse_add_direntry_plus(req, p, rem, name, &e, static_cast<off_t>(item + 1));
      if (n > rem) {
        if (e.ino) fs.Forget(e.ino, 1);  // not sent: the kernel never saw it
        break;
      }
    } else {
      struct stat st {};
      st.st_ino = fs.ItemIno(dir, item);
      st.st_mode = dir.Type(item);
      n = fuse_add_direntry(req, p, rem, name, &st, static_cast<off_t>(item + 1));
      if (n > rem) break;
    }
    used += n;
  }
  if (!error.ok() && used == 0) return ReplyStatus(req, error);
  fuse_reply_buf(req, buf.data(), used);
}

void OnReadDir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  DoReadDir(req, size, off, fi, false);
}
void OnReadDirPlus(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi) {
  DoReadDir(req, size, off, fi, true);
}

void OnReleaseDir(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  std::unique_ptr<DirHandle>(reinterpret_cast<DirHandle*>(fi->fh)).reset();
  fuse_reply_err(req, 0);
}

void OnStatFs(fuse_req_t req, fuse_ino_t /*ino*/) {
  struct statvfs st {};
  st.f_bsize = 128 * 1024;
  st.f_frsize = 128 * 1024;
  st.f_files = FsOf(req).inodes().size() + 1;
  st.f_namemax = 255;
  st.f_flag = ST_RDONLY;
  fuse_reply_statfs(req, &st);
}

void OnGetXattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size) {
  Result<std::optional<std::string>> value = FsOf(req).GetXattr(ino, name);
  if (!value.ok()) return ReplyStatus(req, value.status());
  if (!value->has_value()) return (void)fuse_reply_err(req, ENODATA);
  const std::string& v = **value;
  if (size == 0) return (void)fuse_reply_xattr(req, v.size());  // size probe
  if (size < v.size()) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, v.data(), v.size());
}

void OnListXattr(fuse_req_t req, fuse_ino_t ino, size_t size) {
  auto all = FsOf(req).Xattrs(ino);
  if (!all.ok()) return ReplyStatus(req, all.status());
  std::string names;  // "name\0name\0..."
  for (const auto& [name, value] : *all) {
    names += name;
    names.push_back('\0');
  }
  if (size == 0) return (void)fuse_reply_xattr(req, names.size());
  if (size < names.size()) return (void)fuse_reply_err(req, ERANGE);
  fuse_reply_buf(req, names.data(), names.size());
}

// --- every mutating operation: EROFS ---------------------------------------

void ReplyReadOnly(fuse_req_t req) { fuse_reply_err(req, EROFS); }

void OnSetAttr(fuse_req_t req, fuse_ino_t, struct stat*, int, fuse_file_info*) { ReplyReadOnly(req); }
void OnMknod(fuse_req_t req, fuse_ino_t, const char*, mode_t, dev_t) { ReplyReadOnly(req); }
void OnMkdir(fuse_req_t req, fuse_ino_t, const char*, mode_t) { ReplyReadOnly(req); }
void OnUnlink(fuse_req_t req, fuse_ino_t, const char*) { ReplyReadOnly(req); }
void OnRmdir(fuse_req_t req, fuse_ino_t, const char*) { ReplyReadOnly(req); }
void OnSymlink(fuse_req_t req, const char*, fuse_ino_t, const char*) { ReplyReadOnly(req); }
void OnRename(fuse_req_t req, fuse_ino_t, const char*, fuse_ino_t, const char*, unsigned) { ReplyReadOnly(req); }
void OnLink(fuse_req_t req, fuse_ino_t, fuse_ino_t, const char*) { ReplyReadOnly(req); }
void OnWrite(fuse_req_t req, fuse_ino_t, const char*, size_t, off_t, fuse_file_info*) { ReplyReadOnly(req); }
void OnCreate(fuse_req_t req, fuse_ino_t, const char*, mode_t, fuse_file_info*) { ReplyReadOnly(req); }
void OnSetXattr(fuse_req_t req, fuse_ino_t, const char*, const char*, size_t, int) { ReplyReadOnly(req); }
void OnRemoveXattr(fuse_req_t req, fuse_ino_t, const char*) { ReplyReadOnly(req); }
void OnFallocate(fuse_req_t req, fuse_ino_t, int, off_t, off_t, fuse_file_info*) { ReplyReadOnly(req); }
void OnCopyFileRange(fuse_req_t req, fuse_ino_t, off_t, fuse_file_info*, fuse_ino_t, off_t, fuse_file_info*, size_t,
                     int) {
  ReplyReadOnly(req);
}

}  // namespace

void AssignOperations(fuse_lowlevel_ops& ops) {
  ops = {};
  ops.init = OnInit;
  ops.lookup = OnLookup;
  ops.forget = OnForget;
  ops.forget_multi = OnForgetMulti;
  ops.getattr = OnGetAttr;
  ops.readlink = OnReadLink;
  ops.open = OnOpen;
  ops.read = OnRead;
  ops.flush = OnFlush;
  ops.release = OnRelease;
  ops.opendir = OnOpenDir;
  ops.readdir = OnReadDir;
  ops.readdirplus = OnReadDirPlus;
  ops.releasedir = OnReleaseDir;
  ops.statfs = OnStatFs;
  ops.getxattr = OnGetXattr;
  ops.listxattr = OnListXattr;
  ops.setattr = OnSetAttr;
  ops.mknod = OnMknod;
  ops.mkdir = OnMkdir;
  ops.unlink = OnUnlink;
  ops.rmdir = OnRmdir;
  ops.symlink = OnSymlink;
  ops.rename = OnRename;
  ops.link = OnLink;
  ops.write = OnWrite;
  ops.create = OnCreate;
  ops.setxattr = OnSetXattr;
  ops.removexattr = OnRemoveXattr;
  ops.fallocate = OnFallocate;
  ops.copy_file_range = OnCopyFileRange;
}

}  // namespace m365vault::fs
