// backend/crypto.cpp
#include "backend/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <cassert>
#include <cstdlib>

namespace m365vault::crypto {

static_assert(kKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kNonceSize == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kTagSize == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(kSaltSize == crypto_pwhash_SALTBYTES);
static_assert(kKeySize == crypto_kdf_KEYBYTES);

bool InitCrypto() { return sodium_init() >= 0; }

static uint8_t* AllocateKey() {
  // sodium_malloc needs sodium_init; make key allocation safe even before main.
  static const bool initialised = sodium_init() >= 0;
  if (!initialised) std::abort();
  return static_cast<uint8_t*>(sodium_malloc(kKeySize));
}

SecretKey::SecretKey() : p_(AllocateKey()) {
  if (p_ == nullptr) std::abort();  // out of locked memory: nothing safe to do
  sodium_memzero(p_, kKeySize);
}

SecretKey::~SecretKey() {
  if (p_) sodium_free(p_);
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    if (p_) sodium_free(p_);
    p_ = other.p_;
    other.p_ = nullptr;
  }
  return *this;
}

SecretKey SecretKey::Random() {
  SecretKey k;
  randombytes_buf(k.p_, kKeySize);
  return k;
}

SecretKey SecretKey::FromBytes(ByteView b) {
  assert(b.size() == kKeySize);
  SecretKey k;
  std::memcpy(k.p_, b.data(), kKeySize);
  return k;
}

PwhashParams PwhashParams::Interactive() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}

PwhashParams PwhashParams::ForTests() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

Result<SecretKey> DeriveFromPassphrase(std::string_view passphrase, ByteView salt, PwhashParams params) {
  if (salt.size() != kSaltSize) return Status::InvalidArgument("passphrase salt has the wrong size");
  SecretKey k;
  if (crypto_pwhash(k.data(), kKeySize, passphrase.data(), passphrase.size(), salt.data(), params.opslimit,
                    params.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::IOError("Argon2id ran out of memory");
  }
  return k;
}

void SealAppend(const SecretKey& key, ByteView plaintext, ByteView ad, Bytes* out) {
  size_t start = out->size();
  out->resize(start + kNonceSize + plaintext.size() + kTagSize);
  uint8_t* nonce = out->data() + start;
  randombytes_buf(nonce, kNonceSize);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceSize, &clen, plaintext.data(), plaintext.size(),
                                             ad.data(), ad.size(), nullptr, nonce, key.data());
  assert(clen == plaintext.size() + kTagSize);
}

Bytes Seal(const SecretKey& key, ByteView plaintext, ByteView ad) {
  Bytes out;
  SealAppend(key, plaintext, ad, &out);
  return out;
}

Result<Bytes> Open(const SecretKey& key, ByteView sealed, ByteView ad) {
  if (sealed.size() < kSealOverhead) return Status::Corruption("sealed data is too short");
  Bytes plain(sealed.size() - kSealOverhead);
  unsigned long long plen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &plen, nullptr, sealed.data() + kNonceSize,
                                                 sealed.size() - kNonceSize, ad.data(), ad.size(), sealed.data(),
                                                 key.data()) != 0) {
    return Status::Corruption("data does not authenticate (altered, or sealed under another key or context)");
  }
  plain.resize(plen);
  return plain;
}

void KeyedHash(const SecretKey& key, ByteView data, uint8_t out[kHashSize]) {
  unsigned int len = kHashSize;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(kKeySize), data.data(), data.size(), out, &len) == nullptr ||
      len != kHashSize) {
    std::abort();  // OpenSSL without SHA-256: nothing sensible to do
  }
}

void PlainHash(ByteView data, uint8_t out[kHashSize]) {
  crypto_generichash(out, kHashSize, data.data(), data.size(), nullptr, 0);
}

SecretKey DeriveSubkey(const SecretKey& key, KeyPurpose purpose) {
  SecretKey sub;
  crypto_kdf_derive_from_key(sub.data(), kKeySize, static_cast<uint64_t>(purpose), "m365vlt1", key.data());
  return sub;
}

void RandomBytes(uint8_t* out, size_t n) { randombytes_buf(out, n); }

void Wipe(Bytes* b) {
  if (!b->empty()) sodium_memzero(b->data(), b->size());
}

}  // namespace m365vault::crypto
