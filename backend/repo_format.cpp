// backend/repo_format.cpp
#include "backend/repo_format.h"

#include <memory>
#include <zstd.h>

#include <cstring>

namespace m365vault::format {
namespace {

constexpr uint8_t kStored = 0;
constexpr uint8_t kZstd = 1;
// A sample this large decides whether a big blob is worth compressing.
constexpr size_t kSampleSize = 4 * 1024;

Bytes FileAad(FileKind kind, const std::array<uint8_t, 16>& repo_id) {
  Bytes ad(kMagic, kMagic + 4);
  PutU8(&ad, kVersion);
  PutU8(&ad, static_cast<uint8_t>(kind));
  PutBytes(&ad, ByteView(repo_id.data(), repo_id.size()));
  return ad;
}

Bytes BlobAad(BlobType type, const BlobId& id, const std::array<uint8_t, 16>& repo_id) {
  Bytes ad(kMagic, kMagic + 4);
  PutU8(&ad, kVersion);
  PutU8(&ad, 'B');
  PutU8(&ad, static_cast<uint8_t>(type));
  PutBytes(&ad, ByteView(id.bytes.data(), 32));
  PutBytes(&ad, ByteView(repo_id.data(), repo_id.size()));
  return ad;
}

// Compresses into `out`; returns false when it does not pay.
bool TryCompress(ByteView plain, int level, ScratchBytes* out) {
  if (plain.size() < 64) return false;
  // Freed when the thread ends: short-lived threads (a mailbox's folder
  // workers store node state) would otherwise leak a context each.
  struct FreeCCtx {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  thread_local std::unique_ptr<ZSTD_CCtx, FreeCCtx> owned(ZSTD_createCCtx());
  ZSTD_CCtx* cctx = owned.get();
  if (plain.size() > 4 * kSampleSize) {
    // Incompressible content (JPEG, zip-based Office files, PDF streams)
    // shows in samples; skip the full attempt when the start, middle and end
    // all fail to compress.
    thread_local Bytes sample(ZSTD_compressBound(kSampleSize));
    bool any_pays = false;
    for (size_t at : {size_t(0), (plain.size() - kSampleSize) / 2, plain.size() - kSampleSize}) {
      size_t n = ZSTD_compressCCtx(cctx, sample.data(), sample.size(), plain.data() + at, kSampleSize, 1);
      if (!ZSTD_isError(n) && n <= kSampleSize * 97 / 100) {
        any_pays = true;
        break;
      }
    }
    if (!any_pays) return false;
  }
  out->resize(ZSTD_compressBound(plain.size()));
  size_t n = ZSTD_compressCCtx(cctx, out->data(), out->size(), plain.data(), plain.size(), level);
  if (ZSTD_isError(n) || n + 8 >= plain.size()) return false;
  out->resize(n);
  return true;
}

}  // namespace

TenantKeys TenantKeys::Derive(const crypto::SecretKey& tenant_key) {
  return TenantKeys{tenant_key.Clone(), crypto::DeriveSubkey(tenant_key, crypto::KeyPurpose::kChunkId),
                    crypto::DeriveSubkey(tenant_key, crypto::KeyPurpose::kBlobAead),
                    crypto::DeriveSubkey(tenant_key, crypto::KeyPurpose::kChunkerSeed), {}};
}

void PutHeader(Bytes* out) {
  out->insert(out->end(), kMagic, kMagic + 4);
  out->push_back(kVersion);
}

Result<ByteView> CheckHeader(ByteView file, std::string_view what) {
  if (file.size() < kHeaderSize || std::memcmp(file.data(), kMagic, 4) != 0) {
    return Status::Corruption(std::string(what) + " is not an m365vault repository file");
  }
  if (file[4] != kVersion) {
    return Status::NotSupported(std::string(what) + " has format version " + std::to_string(file[4]) +
                                "; this build reads version " + std::to_string(kVersion));
  }
  return file.subspan(kHeaderSize);
}

Bytes SealFile(const TenantKeys& keys, FileKind kind, ByteView plaintext) {
  Bytes out;
  PutHeader(&out);
  crypto::SealAppend(keys.aead, plaintext, FileAad(kind, keys.repo_id), &out);
  return out;
}

Result<Bytes> OpenFile(const TenantKeys& keys, FileKind kind, ByteView file, std::string_view what) {
  M365_ASSIGN_OR_RETURN(ByteView body, CheckHeader(file, what));
  auto plain = crypto::Open(keys.aead, body, FileAad(kind, keys.repo_id));
  if (!plain.ok()) return plain.status().WithContext(what);
  return plain;
}

BlobBody EncodeBlob(ByteView plaintext, int zstd_level, ScratchBytes* scratch) {
  if (TryCompress(plaintext, zstd_level, scratch)) return {kZstd, *scratch};
  return {kStored, plaintext};
}

void SealBlobBody(const TenantKeys& keys, BlobType type, const BlobId& id, const BlobBody& body, Bytes* out) {
  crypto::SealPartsAppend(keys.aead, {ByteView(&body.encoding, 1), body.payload}, BlobAad(type, id, keys.repo_id),
                          out);
}

void SealBlob(const TenantKeys& keys, BlobType type, const BlobId& id, ByteView plaintext, int zstd_level,
              Bytes* out) {
  thread_local ScratchBytes scratch;
  SealBlobBody(keys, type, id, EncodeBlob(plaintext, zstd_level, &scratch), out);
}

Result<Bytes> OpenBlob(const TenantKeys& keys, BlobType type, const BlobId& id, ByteView sealed, bool verify_id) {
  auto opened = crypto::Open(keys.aead, sealed, BlobAad(type, id, keys.repo_id));
  if (!opened.ok()) return Status::Corruption("blob " + id.Short() + " does not authenticate");
  Bytes& inner = opened.value();
  if (inner.empty()) return Status::Corruption("blob " + id.Short() + " is empty");
  Bytes plain;
  if (inner[0] == kStored) {
    plain.assign(inner.begin() + 1, inner.end());
  } else if (inner[0] == kZstd) {
    unsigned long long size = ZSTD_getFrameContentSize(inner.data() + 1, inner.size() - 1);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 31)) {
      return Status::Corruption("blob " + id.Short() + " has a bad zstd frame");
    }
    plain.resize(size);
    size_t n = ZSTD_decompress(plain.data(), plain.size(), inner.data() + 1, inner.size() - 1);
    if (ZSTD_isError(n) || n != size) return Status::Corruption("blob " + id.Short() + " does not decompress");
  } else {
    return Status::Corruption("blob " + id.Short() + " has an unknown encoding");
  }
  if (!verify_id) return plain;
  uint8_t h[crypto::kHashSize];
  crypto::KeyedHash(keys.chunk_id, plain, h);
  if (std::memcmp(h, id.bytes.data(), 32) != 0) return Status::Corruption("blob " + id.Short() + " hashes wrong");
  return plain;
}

static void EncodeEntries(const std::vector<PackEntry>& entries, bool with_pack, Bytes* out) {
  PutVarint(out, entries.size());
  for (const PackEntry& e : entries) {
    if (with_pack) PutBytes(out, ByteView(e.loc.pack.bytes.data(), 32));
    PutU8(out, static_cast<uint8_t>(e.loc.type));
    PutBytes(out, ByteView(e.id.bytes.data(), 32));
    PutVarint(out, e.loc.offset);
    PutVarint(out, e.loc.length);
    PutVarint(out, e.loc.raw_length);
  }
}

static Result<std::vector<PackEntry>> DecodeEntries(ByteView data, bool with_pack, const BlobId* pack,
                                                    const char* what) {
  ByteReader r(data);
  uint64_t n;
  auto bad = [what] { return Status::Corruption(std::string("malformed ") + what); };
  if (!r.GetVarint(&n) || n > r.remaining() / 36 + 1) return bad();
  std::vector<PackEntry> out(n);
  for (PackEntry& e : out) {
    ByteView v;
    uint8_t type;
    uint64_t off, len, raw;
    if (with_pack) {
      if (!r.GetBytes(32, &v)) return bad();
      e.loc.pack = BlobId::FromView(v);
    } else {
      e.loc.pack = *pack;
    }
    if (!r.GetU8(&type) || type < 1 || type > 3 || !r.GetBytes(32, &v) || !r.GetVarint(&off) ||
        !r.GetVarint(&len) || !r.GetVarint(&raw) || off > UINT32_MAX || len > UINT32_MAX || raw > UINT32_MAX) {
      return bad();
    }
    e.id = BlobId::FromView(v);
    e.loc.type = static_cast<BlobType>(type);
    e.loc.offset = static_cast<uint32_t>(off);
    e.loc.length = static_cast<uint32_t>(len);
    e.loc.raw_length = static_cast<uint32_t>(raw);
  }
  if (!r.done()) return bad();
  return out;
}

void AppendTrailer(const TenantKeys& keys, const std::vector<PackEntry>& entries, Bytes* pack) {
  Bytes plain;
  EncodeEntries(entries, false, &plain);
  size_t before = pack->size();
  crypto::SealAppend(keys.aead, plain, FileAad(FileKind::kTrailer, keys.repo_id), pack);
  PutU32(pack, static_cast<uint32_t>(pack->size() - before));
}

Result<std::vector<PackEntry>> ParseTrailer(const TenantKeys& keys, const BlobId& pack_id, ByteView pack) {
  M365_ASSIGN_OR_RETURN(ByteView body, CheckHeader(pack, "pack " + pack_id.Short()));
  if (body.size() < 4) return Status::Corruption("pack " + pack_id.Short() + " is truncated");
  uint32_t len = LoadU32(body.data() + body.size() - 4);
  if (len > body.size() - 4) return Status::Corruption("pack " + pack_id.Short() + " has a bad trailer length");
  ByteView sealed = body.subspan(body.size() - 4 - len, len);
  auto plain = crypto::Open(keys.aead, sealed, FileAad(FileKind::kTrailer, keys.repo_id));
  if (!plain.ok()) return Status::Corruption("pack " + pack_id.Short() + " trailer does not authenticate");
  return DecodeEntries(plain.value(), false, &pack_id, "pack trailer");
}

Bytes EncodeIndex(const std::vector<PackEntry>& entries) {
  Bytes out;
  PutU8(&out, 1);
  EncodeEntries(entries, true, &out);
  return out;
}

Result<std::vector<PackEntry>> DecodeIndex(ByteView plaintext) {
  if (plaintext.empty() || plaintext[0] != 1) return Status::Corruption("index file of an unknown version");
  return DecodeEntries(plaintext.subspan(1), true, nullptr, "index file");
}

std::string PackName(const BlobId& pack_id) {
  std::string hex = pack_id.Hex();
  return "data/" + hex.substr(0, 2) + "/" + hex;
}

bool ParsePackName(std::string_view name, BlobId* id) {
  size_t slash = name.rfind('/');
  return name.rfind("data/", 0) == 0 && slash != std::string_view::npos &&
         BlobId::FromHex(name.substr(slash + 1), id);
}

std::string ContentName(std::string_view folder, ByteView file) {
  uint8_t h[crypto::kHashSize];
  crypto::PlainHash(file, h);
  return std::string(folder) + "/" + ToHex(ByteView(h, sizeof h));
}

Bytes WrapKey(const crypto::SecretKey& key, const crypto::SecretKey& kek) {
  Bytes out;
  PutHeader(&out);
  PutU8(&out, static_cast<uint8_t>(FileKind::kTenantKey));
  Bytes ad(kMagic, kMagic + 4);
  PutU8(&ad, static_cast<uint8_t>(FileKind::kTenantKey));
  crypto::SealAppend(kek, key.view(), ad, &out);
  return out;
}

Result<crypto::SecretKey> UnwrapKey(ByteView file, const crypto::SecretKey& kek) {
  M365_ASSIGN_OR_RETURN(ByteView body, CheckHeader(file, "key file"));
  if (body.empty() || body[0] != static_cast<uint8_t>(FileKind::kTenantKey)) {
    return Status::Corruption("not a wrapped key file");
  }
  Bytes ad(kMagic, kMagic + 4);
  PutU8(&ad, static_cast<uint8_t>(FileKind::kTenantKey));
  auto plain = crypto::Open(kek, body.subspan(1), ad);
  if (!plain.ok()) return Status::WrongKey("this master key does not open the key file");
  if (plain->size() != crypto::kKeySize) return Status::Corruption("wrapped key has the wrong size");
  crypto::SecretKey k = crypto::SecretKey::FromBytes(*plain);
  crypto::Wipe(&plain.value());
  return k;
}

Result<Bytes> WrapKeyWithPassphrase(const crypto::SecretKey& key, std::string_view passphrase,
                                    crypto::PwhashParams params) {
  uint8_t salt[crypto::kSaltSize];
  crypto::RandomBytes(salt, sizeof salt);
  M365_ASSIGN_OR_RETURN(crypto::SecretKey kek, crypto::DeriveFromPassphrase(passphrase, ByteView(salt), params));
  Bytes out;
  PutHeader(&out);
  PutU8(&out, static_cast<uint8_t>(FileKind::kPassphraseKey));
  PutBytes(&out, ByteView(salt));
  PutU64(&out, params.opslimit);
  PutU64(&out, params.memlimit);
  Bytes ad(out.begin(), out.end());  // the whole header is authenticated
  crypto::SealAppend(kek, key.view(), ad, &out);
  return out;
}

Result<crypto::SecretKey> UnwrapKeyWithPassphrase(ByteView file, std::string_view passphrase) {
  M365_ASSIGN_OR_RETURN(ByteView body, CheckHeader(file, "passphrase key file"));
  constexpr size_t kParams = 1 + crypto::kSaltSize + 16;
  if (body.size() < kParams + crypto::kSealOverhead || body[0] != static_cast<uint8_t>(FileKind::kPassphraseKey)) {
    return Status::Corruption("not a passphrase key file");
  }
  crypto::PwhashParams params{LoadU64(body.data() + 1 + crypto::kSaltSize),
                              LoadU64(body.data() + 1 + crypto::kSaltSize + 8)};
  if (params.opslimit > 64 || params.memlimit > (4ull << 30)) {
    return Status::Corruption("passphrase key file has implausible Argon2id limits");
  }
  M365_ASSIGN_OR_RETURN(crypto::SecretKey kek,
                        crypto::DeriveFromPassphrase(passphrase, body.subspan(1, crypto::kSaltSize), params));
  ByteView ad = file.subspan(0, kHeaderSize + kParams);
  auto plain = crypto::Open(kek, body.subspan(kParams), ad);
  if (!plain.ok()) return Status::WrongKey("wrong passphrase");
  if (plain->size() != crypto::kKeySize) return Status::Corruption("wrapped key has the wrong size");
  crypto::SecretKey k = crypto::SecretKey::FromBytes(*plain);
  crypto::Wipe(&plain.value());
  return k;
}

}  // namespace m365vault::format
