// backend/repository_internals.h
//
// Repository::Internals: what maintenance (check, prune) needs beyond the
// public API. Not for front ends.
#pragma once

#include "backend/index_cache.h"
#include "backend/repo_format.h"
#include "backend/repository.h"

namespace m365vault {

class Repository::Internals {
 public:
  virtual ~Internals() = default;
  virtual const format::TenantKeys& keys() const = 0;
  virtual IndexCache& index() = 0;
  // Re-reads the repository's index files into the cache; rebuilds it from
  // scratch when an index file it holds has gone.
  virtual Status SyncIndex() = 0;
  // Like SaveBlob, but writes the blob again even if the index has it (repack).
  virtual Status ResaveBlob(BlobType type, const BlobId& id, ByteView plaintext) = 0;
  // Index files written by Flush since this process opened the repository.
  virtual std::vector<std::string> WrittenIndexFiles() = 0;
};

}  // namespace m365vault
