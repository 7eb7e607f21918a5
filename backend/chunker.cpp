// backend/chunker.cpp
#include "backend/chunker.h"

#include <sodium.h>

#include <algorithm>
#include <bit>

namespace m365vault {
namespace {

// A mask of `bits` ones in the high bits: with the gear hash (h << 1) + g,
// the high bits depend on the last 64 bytes, the low bits on only a few.
uint64_t HighMask(int bits) { return bits <= 0 ? 0 : ~uint64_t(0) << (64 - bits); }

}  // namespace

Chunker::Chunker(const crypto::SecretKey& seed, ChunkerParams params) : params_(params) {
  uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES] = {};
  crypto_stream_xchacha20(reinterpret_cast<uint8_t*>(gear_.data()), sizeof gear_, nonce, seed.data());
  int bits = std::bit_width(params_.avg_size) - 1;
  mask_small_ = HighMask(bits + 2);
  mask_large_ = HighMask(bits - 2);
}

size_t Chunker::NextChunk(ByteView data, bool eof) const {
  size_t n = data.size();
  if (n <= params_.min_size) return eof ? n : 0;
  size_t barrier = std::min<size_t>(n, params_.max_size);
  size_t normal = std::min<size_t>(params_.avg_size, barrier);
  const uint8_t* p = data.data();
  uint64_t h = 0;
  size_t i = params_.min_size;
  for (; i < normal; ++i) {
    h = (h << 1) + gear_[p[i]];
    if (!(h & mask_small_)) return i + 1;
  }
  for (; i < barrier; ++i) {
    h = (h << 1) + gear_[p[i]];
    if (!(h & mask_large_)) return i + 1;
  }
  if (barrier == params_.max_size) return barrier;
  return eof ? n : 0;
}

}  // namespace m365vault
