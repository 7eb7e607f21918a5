// backend/repo_format.h
//
// The byte layout of repository files (docs/format.md is the specification):
// the file header, the sealing of blobs with their associated data, pack
// trailers, index files and key files. Pure functions: no storage access.
//
// Thread safety: free functions; the TenantKeys are immutable.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "backend/blob_id.h"
#include "backend/bytes.h"
#include "backend/crypto.h"
#include "backend/status.h"

namespace m365vault::format {

constexpr uint8_t kMagic[4] = {'M', '3', 'V', 'R'};
constexpr uint8_t kVersion = 1;
constexpr size_t kHeaderSize = 5;

// What a sealed file or trailer is; bound into its associated data.
enum class FileKind : uint8_t {
  kConfig = 'C',
  kTenantKey = 'K',
  kPassphraseKey = 'P',
  kTrailer = 'T',
  kIndex = 'I',
  kSnapshot = 'S',
  kLock = 'L',
};

// The per-tenant keys, derived once from the tenant key.
struct TenantKeys {
  crypto::SecretKey tenant;
  crypto::SecretKey chunk_id;
  crypto::SecretKey aead;
  crypto::SecretKey chunker;
  std::array<uint8_t, 16> repo_id{};  // random, from the config; bound into every AAD

  static TenantKeys Derive(const crypto::SecretKey& tenant_key);
};

void PutHeader(Bytes* out);
// Checks magic and version; returns the view after the header.
Result<ByteView> CheckHeader(ByteView file, std::string_view what);

// A sealed file: header || Seal(aead, plaintext, AAD(kind, repo_id)).
Bytes SealFile(const TenantKeys& keys, FileKind kind, ByteView plaintext);
Result<Bytes> OpenFile(const TenantKeys& keys, FileKind kind, ByteView file, std::string_view what);

// A blob inside a pack: Seal(aead, flag || payload, AAD(type, id, version, repo_id)),
// flag 0 = stored, 1 = zstd. Compression is skipped when it does not pay.
void SealBlob(const TenantKeys& keys, BlobType type, const BlobId& id, ByteView plaintext, int zstd_level,
              Bytes* out);
// SealBlob in two steps, so the slow first one can run outside a lock:
// EncodeBlob picks the flag and payload (compressed into *scratch, or the
// plaintext itself: the body views one of them), SealBlobBody appends the
// sealed blob to *out.
struct BlobBody {
  uint8_t encoding;
  ByteView payload;
};
BlobBody EncodeBlob(ByteView plaintext, int zstd_level, ScratchBytes* scratch);
void SealBlobBody(const TenantKeys& keys, BlobType type, const BlobId& id, const BlobBody& body, Bytes* out);
// Authenticates and decompresses a blob. With `verify_id`, also re-hashes the
// plaintext and checks it is `id` (check --read-data). Without it, the AEAD
// alone vouches for the bytes: the id is bound into the associated data, so
// nobody without the key can substitute another blob.
Result<Bytes> OpenBlob(const TenantKeys& keys, BlobType type, const BlobId& id, ByteView sealed,
                       bool verify_id = true);

// Where a blob lives.
struct BlobLocation {
  BlobId pack;
  BlobType type = BlobType::kData;
  uint32_t offset = 0;      // in the pack file
  uint32_t length = 0;      // sealed length
  uint32_t raw_length = 0;  // plaintext length
};

struct PackEntry {
  BlobId id;
  BlobLocation loc;
};

// Pack trailer: sealed list of the pack's blobs, then its length (u32, clear).
void AppendTrailer(const TenantKeys& keys, const std::vector<PackEntry>& entries, Bytes* pack);
// Reads the trailer of a whole pack file (entries get `pack_id`).
Result<std::vector<PackEntry>> ParseTrailer(const TenantKeys& keys, const BlobId& pack_id, ByteView pack);

// Index file plaintext: every blob of some packs.
Bytes EncodeIndex(const std::vector<PackEntry>& entries);
Result<std::vector<PackEntry>> DecodeIndex(ByteView plaintext);

std::string PackName(const BlobId& pack_id);  // "data/3f/3f2a..."
bool ParsePackName(std::string_view name, BlobId* id);
// Content-addressed name for a file in a folder: "<folder>/<hex of hash>".
std::string ContentName(std::string_view folder, ByteView file);

// Wraps a 32-byte key with a key-encryption key (kind kTenantKey) or with a
// passphrase (kind kPassphraseKey: salt and Argon2id limits in the header).
Bytes WrapKey(const crypto::SecretKey& key, const crypto::SecretKey& kek);
Result<crypto::SecretKey> UnwrapKey(ByteView file, const crypto::SecretKey& kek);
Result<Bytes> WrapKeyWithPassphrase(const crypto::SecretKey& key, std::string_view passphrase,
                                    crypto::PwhashParams params);
// WrongKey if the passphrase does not open it; Corruption if it is not a key file.
Result<crypto::SecretKey> UnwrapKeyWithPassphrase(ByteView file, std::string_view passphrase);

}  // namespace m365vault::format
