// tests/backend/crypto_test.cpp: the sealing of backend/crypto.cpp is the
// XChaCha20-Poly1305 of libsodium byte for byte, both ways.
#include <sodium.h>

#include <catch2/catch.hpp>

#include "backend/crypto.h"
#include "test_util.h"

using namespace m365vault;
using namespace m365vault::testing;

namespace {

// libsodium's own sealing of `plain`, in our layout: nonce || ciphertext || tag.
Bytes SodiumSeal(const crypto::SecretKey& key, ByteView plain, ByteView ad, const uint8_t* nonce) {
  Bytes out(crypto::kNonceSize + plain.size() + crypto::kTagSize);
  std::memcpy(out.data(), nonce, crypto::kNonceSize);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + crypto::kNonceSize, &clen, plain.data(), plain.size(),
                                             ad.data(), ad.size(), nullptr, nonce, key.data());
  return out;
}

}  // namespace

TEST_CASE("sealing equals libsodium's XChaCha20-Poly1305 and opens what libsodium sealed", "[backend][crypto]") {
  const crypto::SecretKey key = crypto::SecretKey::Random();
  // sizes around ChaCha's 64-byte block and Poly1305's 16-byte block, and a large one
  const size_t size = GENERATE(0, 1, 15, 16, 17, 63, 64, 65, 1000, 131072 + 7, 3 << 20);
  const size_t ad_size = GENERATE(0, 5, 62);
  const Bytes plain = RandomBytes(size, static_cast<uint32_t>(size + 1));
  const Bytes ad = RandomBytes(ad_size, 99);

  const Bytes ours = crypto::Seal(key, plain, ad);
  REQUIRE(ours.size() == plain.size() + crypto::kSealOverhead);
  CHECK(ours == SodiumSeal(key, plain, ad, ours.data()));  // same bytes under our random nonce

  uint8_t nonce[crypto::kNonceSize];
  crypto::RandomBytes(nonce, sizeof nonce);
  auto opened = crypto::Open(key, SodiumSeal(key, plain, ad, nonce), ad);
  REQUIRE(opened.ok());
  CHECK(*opened == plain);
}

TEST_CASE("sealing parts equals sealing their concatenation", "[backend][crypto]") {
  const crypto::SecretKey key = crypto::SecretKey::Random();
  const Bytes a = RandomBytes(1, 1), b = RandomBytes(70001, 2), c = RandomBytes(33, 3);
  Bytes joined = a;
  joined.insert(joined.end(), b.begin(), b.end());
  joined.insert(joined.end(), c.begin(), c.end());
  Bytes sealed = {0xAB};  // appends after what is there
  crypto::SealPartsAppend(key, {a, b, Bytes{}, c}, AsBytes("ad"), &sealed);
  REQUIRE(sealed.size() == 1 + joined.size() + crypto::kSealOverhead);
  CHECK(sealed[0] == 0xAB);
  const ByteView box = ByteView(sealed).subspan(1);
  CHECK(Bytes(box.begin(), box.end()) == SodiumSeal(key, joined, AsBytes("ad"), box.data()));
  auto opened = crypto::Open(key, box, AsBytes("ad"));
  REQUIRE(opened.ok());
  CHECK(*opened == joined);
}

TEST_CASE("opening fails on any altered byte, a wrong key or other associated data", "[backend][crypto]") {
  const crypto::SecretKey key = crypto::SecretKey::Random();
  const Bytes plain = RandomBytes(300, 4);
  const Bytes sealed = crypto::Seal(key, plain, AsBytes("ad"));
  for (size_t i = 0; i < sealed.size(); i += 7) {
    Bytes bad = sealed;
    bad[i] ^= 0x20;
    CHECK(crypto::Open(key, bad, AsBytes("ad")).status().IsCorruption());
  }
  CHECK(crypto::Open(crypto::SecretKey::Random(), sealed, AsBytes("ad")).status().IsCorruption());
  CHECK(crypto::Open(key, sealed, AsBytes("ae")).status().IsCorruption());
  CHECK(crypto::Open(key, ByteView(sealed).first(crypto::kSealOverhead - 1), AsBytes("ad")).status().IsCorruption());
  CHECK(crypto::Open(key, sealed, AsBytes("ad")).ok());
}
