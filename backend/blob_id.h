// backend/blob_id.h
//
// BlobId: the 32-byte name of a blob. For every blob it is the tenant's keyed
// BLAKE2b-256 of the blob's plaintext (key: the kChunkId subkey), so equal
// content dedups, ids reveal nothing without the key, and someone who can mail
// the tenant cannot forge a collision.
//
// BlobType says what a blob holds; it is bound into the blob's associated data
// so a data blob can never be served as a tree.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "backend/bytes.h"

namespace m365vault {

enum class BlobType : uint8_t {
  kData = 1,  // file content chunks
  kTree = 2,  // a directory listing, or a split tree's index or part (backend/tree.h)
  kMeta = 3,  // other metadata (sync state)
};

struct BlobId {
  std::array<uint8_t, 32> bytes{};

  auto operator<=>(const BlobId&) const = default;
  bool IsZero() const {
    for (uint8_t b : bytes) if (b) return false;
    return true;
  }
  std::string Hex() const { return ToHex(ByteView(bytes.data(), bytes.size())); }
  // Short form for messages.
  std::string Short() const { return Hex().substr(0, 12); }
  static bool FromHex(std::string_view hex, BlobId* out) {
    Bytes b;
    if (!m365vault::FromHex(hex, &b) || b.size() != 32) return false;
    std::memcpy(out->bytes.data(), b.data(), 32);
    return true;
  }
  static BlobId FromView(ByteView v) {
    BlobId id;
    std::memcpy(id.bytes.data(), v.data(), 32);
    return id;
  }
};

struct BlobIdHash {
  size_t operator()(const BlobId& id) const {
    size_t h;
    std::memcpy(&h, id.bytes.data(), sizeof h);
    return h;
  }
};

}  // namespace m365vault
