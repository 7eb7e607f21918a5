// backend/crypto.h
//
// The cryptographic primitives of the store, from libsodium and OpenSSL:
//  - SecretKey: 32 key bytes in guarded memory (sodium_malloc), zeroed on free.
//  - Argon2id passphrase stretching (crypto_pwhash).
//  - XChaCha20-Poly1305 sealing with a random 192-bit nonce and associated data
//    (libsodium's HChaCha20, then OpenSSL's ChaCha20-Poly1305: 2.5x faster
//    here, and the same bytes as libsodium's crypto_aead_xchacha20poly1305_ietf).
//  - HMAC-SHA-256 (OpenSSL, which uses the CPU's SHA instructions) for blob
//    ids: 2.4x the speed of libsodium's keyed BLAKE2b here (bench/README.md).
//  - Subkey derivation (crypto_kdf) from a tenant key, one subkey per purpose.
//
// InitCrypto() must run once before any thread uses these (see GlobalInit in
// the CLI). Thread safety: all functions are safe to call concurrently.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "backend/bytes.h"
#include "backend/status.h"

namespace m365vault::crypto {

constexpr size_t kKeySize = 32;
constexpr size_t kNonceSize = 24;
constexpr size_t kTagSize = 16;
constexpr size_t kSealOverhead = kNonceSize + kTagSize;
constexpr size_t kHashSize = 32;
constexpr size_t kSaltSize = 16;

// Returns false if libsodium cannot initialise (no entropy source).
bool InitCrypto();

class SecretKey {
 public:
  SecretKey();  // allocates zeroed guarded memory
  ~SecretKey();
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  SecretKey(SecretKey&& other) noexcept : p_(other.p_) { other.p_ = nullptr; }
  SecretKey& operator=(SecretKey&& other) noexcept;

  static SecretKey Random();
  // REQUIRES: b.size() == kKeySize.
  static SecretKey FromBytes(ByteView b);
  SecretKey Clone() const { return FromBytes(view()); }

  uint8_t* data() { return p_; }
  const uint8_t* data() const { return p_; }
  ByteView view() const { return ByteView(p_, kKeySize); }

 private:
  uint8_t* p_;
};

struct PwhashParams {
  uint64_t opslimit;
  uint64_t memlimit;
  // ~0.5-1 s on a server core; what a new vault uses.
  static PwhashParams Interactive();
  // Fast parameters for tests only.
  static PwhashParams ForTests();
};

// Argon2id(passphrase, salt) -> 32-byte key. Fails only when out of memory.
Result<SecretKey> DeriveFromPassphrase(std::string_view passphrase, ByteView salt, PwhashParams params);

// Seals plaintext: returns nonce || ciphertext || tag.
Bytes Seal(const SecretKey& key, ByteView plaintext, ByteView associated_data);
// Appends the sealed form to *out (avoids a copy when building packs).
void SealAppend(const SecretKey& key, ByteView plaintext, ByteView associated_data, Bytes* out);
// Seals the concatenation of `parts` without building it first.
void SealPartsAppend(const SecretKey& key, std::initializer_list<ByteView> parts, ByteView associated_data,
                     Bytes* out);
// Opens a sealed box; Corruption if it was altered, sealed under another key or
// other associated data.
Result<Bytes> Open(const SecretKey& key, ByteView sealed, ByteView associated_data);

// HMAC-SHA-256.
void KeyedHash(const SecretKey& key, ByteView data, uint8_t out[kHashSize]);
// Unkeyed BLAKE2b-256 (for names of small files that hold only ciphertext).
void PlainHash(ByteView data, uint8_t out[kHashSize]);

// Purpose subkeys of a tenant key (crypto_kdf, context "m365vlt1").
enum class KeyPurpose : uint64_t {
  kChunkId = 1,      // keyed hash of blob plaintext -> blob id
  kBlobAead = 2,     // sealing of blobs, trailers, index, manifests, config
  kChunkerSeed = 3,  // gear table of the content-defined chunker
  kCatalogMac = 4,   // vault catalog integrity
};
SecretKey DeriveSubkey(const SecretKey& key, KeyPurpose purpose);

void RandomBytes(uint8_t* out, size_t n);
// Zeroes a buffer that held secret bytes (not optimised away).
void Wipe(Bytes* b);

}  // namespace m365vault::crypto
