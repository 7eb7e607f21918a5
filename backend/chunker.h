// backend/chunker.h
//
// Chunker: content-defined chunking (FastCDC with normalized chunking). Cut
// points depend only on the content and a per-tenant gear table derived from
// the tenant's chunker key, so an insertion moves only nearby boundaries and
// the boundaries themselves leak nothing about content to someone without the
// key. Sizes: see ChunkerParams and docs/format.md for why.
//
// Thread safety: immutable after construction; share freely.
#pragma once

#include <array>
#include <cstdint>

#include "backend/bytes.h"
#include "backend/crypto.h"
#include "backend/repository.h"

namespace m365vault {

class Chunker {
 public:
  Chunker(const crypto::SecretKey& seed, ChunkerParams params);

  // Length of the next chunk at the start of `data`. When `eof` is false and
  // no boundary can be decided yet (fewer than max_size bytes and no cut
  // point found), returns 0: append more data and call again.
  size_t NextChunk(ByteView data, bool eof) const;

  const ChunkerParams& params() const { return params_; }

 private:
  std::array<uint64_t, 256> gear_;
  ChunkerParams params_;
  uint64_t mask_small_;  // stricter mask before avg_size
  uint64_t mask_large_;  // looser mask after avg_size
};

}  // namespace m365vault
