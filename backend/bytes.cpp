// backend/bytes.cpp
#include "backend/bytes.h"

namespace m365vault {

std::string ToHex(ByteView b) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(b.size() * 2, '0');
  for (size_t i = 0; i < b.size(); ++i) {
    s[2 * i] = kDigits[b[i] >> 4];
    s[2 * i + 1] = kDigits[b[i] & 15];
  }
  return s;
}

static int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool FromHex(std::string_view hex, Bytes* out) {
  if (hex.size() % 2) return false;
  out->resize(hex.size() / 2);
  for (size_t i = 0; i < out->size(); ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

void PutU8(Bytes* out, uint8_t v) { out->push_back(v); }
void PutU32(Bytes* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU64(Bytes* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutVarint(Bytes* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<uint8_t>(v));
}
void PutBytes(Bytes* out, ByteView b) { out->insert(out->end(), b.begin(), b.end()); }
void PutLengthPrefixed(Bytes* out, ByteView b) {
  PutVarint(out, b.size());
  PutBytes(out, b);
}

uint32_t LoadU32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t LoadU64(const uint8_t* p) { return uint64_t(LoadU32(p)) | uint64_t(LoadU32(p + 4)) << 32; }

bool ByteReader::GetU8(uint8_t* v) {
  if (remaining() < 1) return false;
  *v = data_[pos_++];
  return true;
}
bool ByteReader::GetU32(uint32_t* v) {
  if (remaining() < 4) return false;
  *v = LoadU32(data_.data() + pos_);
  pos_ += 4;
  return true;
}
bool ByteReader::GetU64(uint64_t* v) {
  if (remaining() < 8) return false;
  *v = LoadU64(data_.data() + pos_);
  pos_ += 8;
  return true;
}
bool ByteReader::GetVarint(uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    uint8_t byte;
    if (!GetU8(&byte)) return false;
    result |= uint64_t(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *v = result;
      return true;
    }
  }
  return false;  // more than 10 bytes: malformed
}
bool ByteReader::GetBytes(size_t n, ByteView* v) {
  if (remaining() < n) return false;
  *v = data_.subspan(pos_, n);
  pos_ += n;
  return true;
}
bool ByteReader::GetLengthPrefixed(ByteView* v) {
  uint64_t n;
  return GetVarint(&n) && n <= remaining() && GetBytes(static_cast<size_t>(n), v);
}

}  // namespace m365vault
