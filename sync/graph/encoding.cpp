// sync/graph/encoding.cpp
#include "sync/graph/encoding.h"

#include <openssl/rand.h>

#include <cstdint>
#include <random>

namespace m365vault::sync {
namespace {
constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}
}  // namespace

std::string EncodePathSegment(std::string_view segment) {
  std::string out;
  out.reserve(segment.size() * 3);
  for (unsigned char c : segment) {
    if (Unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out.push_back('&');
    out += EncodePathSegment(k);
    out.push_back('=');
    out += EncodePathSegment(v);
  }
  return out;
}

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8) | b(i + 2);
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
    out.push_back(kB64Url[v & 63]);
  }
  if (bytes.size() - i == 1) {
    uint32_t v = b(i) << 16;
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
  } else if (bytes.size() - i == 2) {
    uint32_t v = (b(i) << 16) | (b(i + 1) << 8);
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
  }
  return out;
}

std::string Base64UrlDecode(std::string_view text) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return {};
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = val(c);
    if (v < 0) return {};
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::string NewGuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) {
    // The CSPRNG failing is near impossible; a request id need not be secret.
    std::random_device rd;
    for (auto& x : b) x = static_cast<unsigned char>(rd());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  static constexpr char kLowerHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kLowerHex[b[i] >> 4]);
    out.push_back(kLowerHex[b[i] & 15]);
  }
  return out;
}

}  // namespace m365vault::sync
