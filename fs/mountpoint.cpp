// fs/mountpoint.cpp
#include "fs/mountpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace m365vault::fs {
namespace {

// Undoes the octal escapes of /proc/self/mountinfo (\040 space, \011 tab,
// \012 newline, \134 backslash).
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; ++k) {
        char c = s[i + k];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

bool IsListedMountpoint(const std::string& mountinfo, const std::string& path) {
  std::istringstream lines(mountinfo);
  std::string line;
  while (std::getline(lines, line)) {
    // "36 35 98:0 /mnt1 /mnt/parent rw,... - ext3 /dev/root rw": field 5.
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    if (!(fields >> id >> parent >> dev >> root >> mount_point)) continue;
    if (Unescape(mount_point) == path) return true;
  }
  return false;
}

Result<std::string> CheckMountpoint(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("no mount point given");
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound("mount point " + path + " does not exist (create it with mkdir)");
    if (err == ENOTCONN) {
      return Status::Busy("mount point " + path + " is a dead FUSE mount; unmount it with: fusermount3 -u " + path);
    }
    return Status::IOError("mount point " + path + ": " + std::strerror(err));
  }
  if (!S_ISDIR(st.st_mode)) return Status::InvalidArgument("mount point " + path + " is not a directory");
  char resolved[PATH_MAX];
  if (!realpath(path.c_str(), resolved)) {
    return Status::IOError("mount point " + path + ": " + std::strerror(errno));
  }
  std::string abs = resolved;

  std::ifstream in("/proc/self/mountinfo");
  std::stringstream mountinfo;
  mountinfo << in.rdbuf();
  if (IsListedMountpoint(mountinfo.str(), abs)) {
    return Status::Busy("mount point " + abs + " is already a mount point (unmount it first: fusermount3 -u " + abs +
                        ")");
  }
  DIR* dir = opendir(abs.c_str());
  if (!dir) return Status::IOError("mount point " + abs + ": " + std::strerror(errno));
  bool empty = true;
  while (dirent* d = readdir(dir)) {
    if (std::strcmp(d->d_name, ".") != 0 && std::strcmp(d->d_name, "..") != 0) {
      empty = false;
      break;
    }
  }
  closedir(dir);
  if (!empty) return Status::Busy("mount point " + abs + " is not empty");
  return abs;
}

Status CheckFuseDevice() {
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return Status::OK();
  }
  int err = errno;
  if (err == ENOENT || err == ENODEV || err == ENXIO) {
    return Status::NotSupported(
        "no /dev/fuse: load the fuse module (modprobe fuse) or give the container the device (--device /dev/fuse)");
  }
  return Status::PermissionDenied(std::string("cannot open /dev/fuse: ") + std::strerror(err));
}

}  // namespace m365vault::fs
