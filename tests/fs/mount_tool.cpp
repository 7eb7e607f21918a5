// tests/fs/mount_tool.cpp: m365vault-mount-test, a stand-in for
// `m365vault mount` until the CLI has it: serves repositories opened straight
// from directories with one master key file.
//
//   m365vault-mount-test [--foreground] [--debug] [--allow-other]
//                        [--refresh-ms N] KEYFILE MOUNTPOINT REPO...
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fs/mount.h"
#include "tool_util.h"

using namespace m365vault;
using namespace m365vault::testing;

namespace {

// Opens the repositories in Open(), i.e. after RunMount has forked.
class DirectorySource final : public fs::MountSource {
 public:
  DirectorySource(std::string key_file, std::vector<std::string> dirs, size_t cache_bytes)
      : key_file_(std::move(key_file)), dirs_(std::move(dirs)), cache_bytes_(cache_bytes) {}

  Status Open() override {
    M365_ASSIGN_OR_RETURN(crypto::SecretKey key, ReadKeyFile(key_file_));
    for (const std::string& dir : dirs_) {
      auto repo = OpenRepo(dir, key, cache_bytes_);
      if (!repo.ok()) return repo.status().WithContext("repository " + dir);
      repos_.push_back(std::move(repo).value());
    }
    return Status::OK();
  }
  std::vector<fs::MountedTenant> Tenants() override {
    std::vector<fs::MountedTenant> out;
    for (auto& r : repos_) out.push_back({r->tenant(), r.get()});
    return out;
  }

 private:
  std::string key_file_;
  std::vector<std::string> dirs_;
  size_t cache_bytes_;
  std::vector<std::unique_ptr<Repository>> repos_;
};

}  // namespace

int main(int argc, char** argv) {
  if (!crypto::InitCrypto()) return Fail(Status::IOError("libsodium init failed"));
  fs::MountOptions options;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--foreground" || a == "-f") options.foreground = true;
    else if (a == "--debug") options.debug = true;
    else if (a == "--allow-other") options.allow_other = true;
    else if (a == "--refresh-ms" && i + 1 < argc) options.refresh_ms = static_cast<unsigned>(std::stoul(argv[++i]));
    else if (a == "--cache-mb" && i + 1 < argc) options.cache_bytes = std::stoull(argv[++i]) << 20;
    else positional.push_back(a);
  }
  if (positional.size() < 3) {
    std::fprintf(stderr,
                 "usage: m365vault-mount-test [--foreground] [--debug] [--allow-other] [--refresh-ms N] "
                 "[--cache-mb N] KEYFILE MOUNTPOINT REPO...\n");
    return 2;
  }
  options.mountpoint = positional[1];
  DirectorySource source(positional[0], std::vector<std::string>(positional.begin() + 2, positional.end()),
                         options.cache_bytes);
  Status st = fs::RunMount(options, source);
  if (!st.ok()) return Fail(st);
  return 0;
}
