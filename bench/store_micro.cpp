// bench/store_micro.cpp
//
// store_micro: single-thread throughput of each stage of the store's write
// path on this machine, next to the primitives restic uses, so a profile of
// `store_bench backup` can be read as "which stage costs what per byte".
//
//   store_micro [MiB per test, default 256]
//
// Stages (what a data chunk goes through, repository.cpp / repo_format.cpp):
// chunker (gear hash), keyed BLAKE2b-256 (chunk id), zstd level 3 (on text
// and on incompressible bytes, with the 4 KiB sample that skips it),
// XChaCha20-Poly1305 (sealing), unkeyed BLAKE2b-256 of the whole pack (pack
// name). For comparison: SHA-256 (restic's ids; SHA-NI where the CPU has it)
// and AES-256-GCM / ChaCha20-Poly1305 via OpenSSL.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/resource.h>
#include <unistd.h>
#include <sodium.h>
#include <zstd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "backend/chunker.h"
#include "backend/crypto.h"

using namespace m365vault;

namespace {

constexpr size_t kChunk = 128 << 10;

double Run(const char* name, size_t total, const std::function<void()>& fn, size_t per_call) {
  size_t calls = std::max<size_t>(1, total / per_call);
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < calls; ++i) fn();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double mbs = double(calls) * per_call / s / (1 << 20);
  std::printf("%-48s %9.0f MiB/s\n", name, mbs);
  return mbs;
}

Bytes TextBytes(size_t n, std::mt19937_64& rng) {
  static const char* words[] = {"the", "meeting", "budget", "project", "please", "review", "attached", "report",
                                "thanks", "regards", "customer", "contract", "deadline", "team", "update", "of"};
  std::string s;
  while (s.size() < n) {
    s += words[rng() % 16];
    s += (rng() % 12 == 0) ? ".\n" : " ";
  }
  return Bytes(s.begin(), s.begin() + n);
}

}  // namespace

int main(int argc, char** argv) {
  if (!crypto::InitCrypto()) return 1;
  size_t total = (argc > 1 ? std::stoul(argv[1]) : 256) << 20;
  std::mt19937_64 rng(1);
  Bytes random(16 << 20);
  for (auto& b : random) b = static_cast<uint8_t>(rng());
  Bytes text = TextBytes(16 << 20, rng);
  crypto::SecretKey key = crypto::SecretKey::Random();
  size_t off = 0;
  auto next = [&](const Bytes& src) {
    off = (off + kChunk) % (src.size() - kChunk);
    return ByteView(src.data() + off, kChunk);
  };
  uint8_t out[32];

  std::printf("single thread, %zu KiB chunks, %zu MiB per test\n", kChunk >> 10, total >> 20);
  Chunker chunker(key, ChunkerParams{});
  Run("chunker (FastCDC gear, 32K/128K/1M) random", total, [&] {
    ByteView v(random.data(), random.size());
    size_t pos = 0;
    while (pos < v.size()) pos += chunker.NextChunk(v.subspan(pos), true);
  }, random.size());
  Run("keyed BLAKE2b-256 (chunk id)", total, [&] { crypto::KeyedHash(key, next(random), out); }, kChunk);
  Run("BLAKE2b-256 of a 16 MiB pack (pack name)", total, [&] { crypto::PlainHash(random, out); }, random.size());
  {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    Bytes dst(ZSTD_compressBound(kChunk));
    Run("zstd -3 text", total, [&] {
      auto v = next(text);
      ZSTD_compressCCtx(c, dst.data(), dst.size(), v.data(), v.size(), 3);
    }, kChunk);
    Run("zstd -3 random (full attempt)", total, [&] {
      auto v = next(random);
      ZSTD_compressCCtx(c, dst.data(), dst.size(), v.data(), v.size(), 3);
    }, kChunk);
    Run("zstd -1 4 KiB sample of random (skip test)", total / 32, [&] {
      auto v = next(random);
      ZSTD_compressCCtx(c, dst.data(), dst.size(), v.data(), 4096, 1);
    }, kChunk);
    ZSTD_freeCCtx(c);
  }
  {
    Bytes sealed;
    Run("XChaCha20-Poly1305 seal (libsodium)", total, [&] {
      sealed.clear();
      crypto::SealAppend(key, next(random), AsBytes("aad-aad-aad"), &sealed);
    }, kChunk);
  }
  Run("memcpy", total * 4, [&] {
    static Bytes dst(kChunk);
    auto v = next(random);
    std::memcpy(dst.data(), v.data(), v.size());
  }, kChunk);
  // --- what restic uses ---
  Run("SHA-256 (OpenSSL; restic's ids)", total, [&] {
    auto v = next(random);
    unsigned int n;
    EVP_Digest(v.data(), v.size(), out, &n, EVP_sha256(), nullptr);
  }, kChunk);
  {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Bytes dst(kChunk + 32);
    uint8_t iv[12] = {}, tag[16];
    auto aead = [&](const EVP_CIPHER* cipher) {
      auto v = next(random);
      int n;
      EVP_EncryptInit_ex(ctx, cipher, nullptr, key.data(), iv);
      EVP_EncryptUpdate(ctx, dst.data(), &n, v.data(), static_cast<int>(v.size()));
      EVP_EncryptFinal_ex(ctx, dst.data() + n, &n);
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag);
    };
    Run("AES-256-GCM (OpenSSL)", total, [&] { aead(EVP_aes_256_gcm()); }, kChunk);
    Run("ChaCha20-Poly1305 (OpenSSL)", total, [&] { aead(EVP_chacha20_poly1305()); }, kChunk);
    EVP_CIPHER_CTX_free(ctx);
  }
  {
    Bytes dst(ZSTD_compressBound(kChunk));
    Run("crypto_generichash BLAKE2b unkeyed 128K", total, [&] {
      auto v = next(random);
      crypto_generichash(out, 32, v.data(), v.size(), nullptr, 0);
    }, kChunk);
  }
  // Writing packs. RepositoryImpl builds each ~16 MiB pack in a freshly
  // reserved buffer and LocalStorage::Write hands it to one write() when it is
  // full (cache-cold by then); the alternative appends each 1 MiB to the file
  // as the pack fills (cache-hot), as restic does with its temp files. Each
  // pack goes to a new file, fsync'd. System CPU is what the kernel's copy
  // into the page cache costs. STORE_MICRO_DIR: a folder on the repository
  // disk (default /tmp).
  {
    const char* dir = std::getenv("STORE_MICRO_DIR") ? std::getenv("STORE_MICRO_DIR") : "/tmp";
    size_t packs = std::max<size_t>(8, total / (16 << 20) * 4);
    for (int round = 0; round < 2; ++round) {
      for (bool streaming : {false, true}) {
        struct rusage r0, r1;
        getrusage(RUSAGE_SELF, &r0);
        auto t0 = std::chrono::steady_clock::now();
        for (size_t p = 0; p < packs; ++p) {
          std::string name = std::string(dir) + "/store_micro_pack_" + std::to_string(p);
          int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
          if (fd < 0) return 1;
          Bytes buf;
          buf.reserve((16 << 20) + (1 << 20));
          size_t flushed = 0;
          while (buf.size() < (16u << 20)) {
            auto v = next(random);
            buf.insert(buf.end(), v.begin(), v.end());
            if (streaming && buf.size() - flushed >= (1 << 20)) {
              if (::write(fd, buf.data() + flushed, buf.size() - flushed) < 0) return 1;
              flushed = buf.size();
            }
          }
          if (::write(fd, buf.data() + flushed, buf.size() - flushed) < 0) return 1;
          ::fsync(fd);
          ::close(fd);
          ::unlink(name.c_str());
        }
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        getrusage(RUSAGE_SELF, &r1);
        double sys = (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) + (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
        std::printf("%zu packs of 16 MiB, %-36s %6.2f s wall, %6.2f s system CPU\n", packs,
                    streaming ? "appended to the file per 1 MiB:" : "built in memory, one write():", wall, sys);
      }
    }
  }
  return 0;
}
