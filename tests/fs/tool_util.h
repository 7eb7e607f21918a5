// tests/fs/tool_util.h: shared by the mount test tools (not the library).
#pragma once

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "backend/crypto.h"
#include "backend/local_storage.h"
#include "backend/repository.h"

namespace m365vault::testing {

// The master key file holds the key's 32 bytes as 64 hex characters.
inline Result<crypto::SecretKey> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  std::string hex;
  if (!(in >> hex)) return Status::NotFound("cannot read key file " + path);
  Bytes raw;
  if (!FromHex(hex, &raw) || raw.size() != crypto::kKeySize) {
    return Status::InvalidArgument("key file " + path + " does not hold 64 hex characters");
  }
  return crypto::SecretKey::FromBytes(raw);
}

inline Result<std::unique_ptr<Repository>> OpenRepo(const std::string& dir, const crypto::SecretKey& key,
                                                    size_t cache_bytes = 64 << 20) {
  M365_ASSIGN_OR_RETURN(std::unique_ptr<LocalStorage> storage, LocalStorage::Open(dir, false));
  RepositoryOptions options;
  options.cache_bytes = cache_bytes;
  return Repository::Open(std::move(storage), key, options);
}

inline int Fail(const Status& st) {
  std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
  return 1;
}

}  // namespace m365vault::testing
