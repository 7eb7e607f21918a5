// backend/bytes.h
//
// Byte buffers and views, and the little-endian / varint codecs every on-disk
// format in the backend uses (see docs/format.md).
//
// Thread safety: free functions on values; no shared state.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace m365vault {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// An allocator whose resize() leaves new elements uninitialized.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  using std::allocator<T>::allocator;
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
// An output buffer sized to a bound and then written (compression): growing
// it costs no memset, and pages past what is written are never touched (the
// bound of a 40 MB tree blob is 40 MB; its compressed form a quarter of that).
using ScratchBytes = std::vector<uint8_t, DefaultInitAllocator<uint8_t>>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view AsString(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string ToHex(ByteView b);
// Returns false when `hex` is not an even-length lowercase/uppercase hex string.
bool FromHex(std::string_view hex, Bytes* out);

// Appenders for the binary encodings.
void PutU8(Bytes* out, uint8_t v);
void PutU32(Bytes* out, uint32_t v);
void PutU64(Bytes* out, uint64_t v);
void PutVarint(Bytes* out, uint64_t v);
void PutBytes(Bytes* out, ByteView b);
// Length-prefixed (varint) byte string.
void PutLengthPrefixed(Bytes* out, ByteView b);

uint32_t LoadU32(const uint8_t* p);
uint64_t LoadU64(const uint8_t* p);

// A bounds-checked cursor over a byte view. Every Get* returns false (and
// leaves the reader failed) instead of reading past the end, so decoders of
// untrusted input cannot overrun.
class ByteReader {
 public:
  explicit ByteReader(ByteView data) : data_(data) {}
  bool GetU8(uint8_t* v);
  bool GetU32(uint32_t* v);
  bool GetU64(uint64_t* v);
  bool GetVarint(uint64_t* v);
  bool GetBytes(size_t n, ByteView* v);
  bool GetLengthPrefixed(ByteView* v);
  size_t remaining() const { return data_.size() - pos_; }
  bool done() const { return pos_ == data_.size(); }

 private:
  ByteView data_;
  size_t pos_ = 0;
};

}  // namespace m365vault
