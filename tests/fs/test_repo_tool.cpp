// tests/fs/test_repo_tool.cpp: builds repositories for the mount tests.
//
//   m365vault-test-repo init REPO KEYFILE TENANT
//       creates an empty repository in REPO and writes a new master key.
//   m365vault-test-repo backup REPO KEYFILE SRC TYPE [TIME_NS]
//       commits a snapshot of type TYPE holding the tree SRC (files and
//       directories with their mtimes and modes). Every file gets metadata
//       m365.id = "id:<relpath>", m365.etag = "etag-<size>",
//       m365.weburl = "https://contoso.example/<relpath>".
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "backend/snapshot_writer.h"
#include "tool_util.h"

using namespace m365vault;
using namespace m365vault::testing;
namespace stdfs = std::filesystem;

namespace {

int64_t MtimeNs(const struct stat& st) { return int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec; }

int Init(const std::string& repo_dir, const std::string& key_file, const std::string& tenant) {
  crypto::SecretKey key = crypto::SecretKey::Random();
  auto storage = LocalStorage::Open(repo_dir, true);
  if (!storage.ok()) return Fail(storage.status());
  RepositoryOptions options;
  options.pack_size = 4 << 20;  // several packs even for small test data
  auto repo = Repository::Init(std::move(storage).value(), key, tenant, options);
  if (!repo.ok()) return Fail(repo.status());
  std::ofstream out(key_file);
  out << ToHex(key.view()) << "\n";
  return out ? 0 : Fail(Status::IOError("cannot write " + key_file));
}

int Backup(const std::string& repo_dir, const std::string& key_file, const std::string& src, const std::string& type,
           int64_t time_ns) {
  auto key = ReadKeyFile(key_file);
  if (!key.ok()) return Fail(key.status());
  auto repo = OpenRepo(repo_dir, *key);
  if (!repo.ok()) return Fail(repo.status());
  auto writer = SnapshotWriter::Start(**repo, nullptr);
  if (!writer.ok()) return Fail(writer.status());
  std::vector<std::pair<std::string, EntryAttributes>> dirs;
  for (auto it = stdfs::recursive_directory_iterator(src); it != stdfs::recursive_directory_iterator(); ++it) {
    std::string rel = stdfs::relative(it->path(), src).string();
    struct stat st;
    if (lstat(it->path().c_str(), &st) != 0) return Fail(Status::IOError("cannot stat " + rel));
    EntryAttributes attrs;
    attrs.mode = st.st_mode & 07777;
    attrs.mtime_ns = MtimeNs(st);
    if (S_ISDIR(st.st_mode)) {
      dirs.emplace_back(rel, attrs);  // attributes set after the children exist
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    attrs.metadata["m365.id"] = "id:" + rel;
    attrs.metadata["m365.etag"] = "etag-" + std::to_string(st.st_size);
    attrs.metadata["m365.weburl"] = "https://contoso.example/" + rel;
    auto sink = (*writer)->BeginFile(rel, attrs);
    if (!sink.ok()) return Fail(sink.status());
    std::ifstream in(it->path(), std::ios::binary);
    std::vector<char> buf(1 << 20);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      std::streamsize n = in.gcount();
      if (n <= 0) break;
      Status st2 = (*sink)->Append(ByteView(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(n)));
      if (!st2.ok()) return Fail(st2);
    }
    auto size = (*sink)->Finish();
    if (!size.ok()) return Fail(size.status());
  }
  for (const auto& [rel, attrs] : dirs) {
    Status st = (*writer)->MakeDirectory(rel, attrs);
    if (!st.ok()) return Fail(st);
  }
  SnapshotInfo fields;
  fields.tenant = (*repo)->tenant();
  fields.object_type = type;
  fields.time_ns = time_ns;
  fields.job_id = "job-test";
  auto snap = (*writer)->Commit(fields);
  if (!snap.ok()) return Fail(snap.status());
  std::printf("%s %s\n", snap->id.c_str(), SnapshotTimeName(snap->time_ns).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (!crypto::InitCrypto()) return Fail(Status::IOError("libsodium init failed"));
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 4 && args[0] == "init") return Init(args[1], args[2], args[3]);
  if ((args.size() == 5 || args.size() == 6) && args[0] == "backup") {
    int64_t time_ns = args.size() == 6 ? std::stoll(args[5])
                                       : std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count();
    return Backup(args[1], args[2], args[3], args[4], time_ns);
  }
  std::fprintf(stderr,
               "usage: m365vault-test-repo init REPO KEYFILE TENANT\n"
               "       m365vault-test-repo backup REPO KEYFILE SRC TYPE [TIME_NS]\n");
  return 2;
}
