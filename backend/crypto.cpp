// backend/crypto.cpp
#include "backend/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>

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

namespace {

// XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha) as two steps: HChaCha20 of the
// key and the first 16 nonce bytes gives a subkey (libsodium), under which the
// RFC 8439 ChaCha20-Poly1305 of OpenSSL runs with nonce 0^4 || nonce[16..24].
// The output is byte for byte that of crypto_aead_xchacha20poly1305_ietf_*
// (tests/backend/crypto_test.cpp), and OpenSSL's AVX-512 code seals at 2.5x
// libsodium's speed here (bench/README.md).
class XChaChaStep {
 public:
  XChaChaStep(const SecretKey& key, const uint8_t* nonce) {
    crypto_core_hchacha20(subkey_, nonce, key.data(), nullptr);
    std::memset(ietf_nonce_, 0, 4);
    std::memcpy(ietf_nonce_ + 4, nonce + 16, 8);
  }
  ~XChaChaStep() { sodium_memzero(subkey_, sizeof subkey_); }
  XChaChaStep(const XChaChaStep&) = delete;
  XChaChaStep& operator=(const XChaChaStep&) = delete;

  // Starts encryption (or decryption) in this thread's cipher context and
  // authenticates `ad`.
  EVP_CIPHER_CTX* Begin(bool encrypt, ByteView ad) const {
    EVP_CIPHER_CTX* ctx = ThreadContext();
    Check(EVP_CipherInit_ex(ctx, Cipher(), nullptr, subkey_, ietf_nonce_, encrypt ? 1 : 0));
    if (!ad.empty()) Update(ctx, nullptr, ad);
    return ctx;
  }

  // Runs `in` through the cipher into `out` (nullptr: authenticate only).
  static void Update(EVP_CIPHER_CTX* ctx, uint8_t* out, ByteView in) {
    constexpr size_t kStep = size_t{1} << 30;  // EVP takes int lengths
    for (size_t at = 0; at < in.size(); at += kStep) {
      const int n = static_cast<int>(std::min(kStep, in.size() - at));
      int written = 0;
      Check(EVP_CipherUpdate(ctx, out ? out + at : nullptr, &written, in.data() + at, n));
    }
  }

  static void Check(int ok) {
    if (ok != 1) std::abort();  // OpenSSL without ChaCha20-Poly1305: nothing safe to do
  }

 private:
  static const EVP_CIPHER* Cipher() {
    static const EVP_CIPHER* cipher = EVP_chacha20_poly1305();
    if (cipher == nullptr) std::abort();
    return cipher;
  }
  static EVP_CIPHER_CTX* ThreadContext() {
    struct Holder {
      EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
      ~Holder() { EVP_CIPHER_CTX_free(ctx); }
    };
    thread_local Holder holder;
    if (holder.ctx == nullptr) std::abort();
    return holder.ctx;
  }

  uint8_t subkey_[kKeySize];
  uint8_t ietf_nonce_[12];
};

}  // namespace

void SealPartsAppend(const SecretKey& key, std::initializer_list<ByteView> parts, ByteView ad, Bytes* out) {
  size_t total = 0;
  for (ByteView p : parts) total += p.size();
  const size_t start = out->size();
  out->resize(start + kNonceSize + total + kTagSize);
  uint8_t* nonce = out->data() + start;
  randombytes_buf(nonce, kNonceSize);
  XChaChaStep step(key, nonce);
  EVP_CIPHER_CTX* ctx = step.Begin(/*encrypt=*/true, ad);
  uint8_t* at = nonce + kNonceSize;
  for (ByteView p : parts) {
    XChaChaStep::Update(ctx, at, p);
    at += p.size();
  }
  int written = 0;
  XChaChaStep::Check(EVP_CipherFinal_ex(ctx, at, &written));
  XChaChaStep::Check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), at));
}

void SealAppend(const SecretKey& key, ByteView plaintext, ByteView ad, Bytes* out) {
  SealPartsAppend(key, {plaintext}, ad, out);
}

Bytes Seal(const SecretKey& key, ByteView plaintext, ByteView ad) {
  Bytes out;
  SealAppend(key, plaintext, ad, &out);
  return out;
}

Result<Bytes> Open(const SecretKey& key, ByteView sealed, ByteView ad) {
  if (sealed.size() < kSealOverhead) return Status::Corruption("sealed data is too short");
  const size_t n = sealed.size() - kSealOverhead;
  Bytes plain(n);
  XChaChaStep step(key, sealed.data());
  EVP_CIPHER_CTX* ctx = step.Begin(/*encrypt=*/false, ad);
  XChaChaStep::Update(ctx, plain.data(), sealed.subspan(kNonceSize, n));
  uint8_t tag[kTagSize];
  std::memcpy(tag, sealed.data() + kNonceSize + n, kTagSize);
  XChaChaStep::Check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize), tag));
  int written = 0;
  if (EVP_CipherFinal_ex(ctx, plain.data() + n, &written) != 1) {
    sodium_memzero(plain.data(), plain.size());
    return Status::Corruption("data does not authenticate (altered, or sealed under another key or context)");
  }
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
