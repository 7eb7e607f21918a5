#include <set>

#include "backend/chunker.h"
#include "test_util.h"

using namespace m365vault;
using namespace m365vault::testing;

namespace {

std::vector<Bytes> ChunkAll(const Chunker& c, const Bytes& data, size_t feed) {
  // Feeds the data in pieces of `feed` bytes, as a stream would arrive.
  std::vector<Bytes> out;
  Bytes buf;
  size_t pos = 0;
  while (pos < data.size() || !buf.empty()) {
    size_t take = std::min(feed, data.size() - pos);
    buf.insert(buf.end(), data.begin() + pos, data.begin() + pos + take);
    pos += take;
    bool eof = pos == data.size();
    for (;;) {
      size_t n = c.NextChunk(buf, eof);
      if (n == 0) break;
      out.emplace_back(buf.begin(), buf.begin() + n);
      buf.erase(buf.begin(), buf.begin() + n);
      if (buf.empty()) break;
    }
    if (eof && buf.empty()) break;
  }
  return out;
}

}  // namespace

TEST_CASE("chunk sizes stay within bounds and cover the input", "[backend][chunker]") {
  ChunkerParams p{16 * 1024, 64 * 1024, 256 * 1024};
  Chunker c(crypto::SecretKey::Random(), p);
  Bytes data = RandomBytes(5 << 20, 11);
  auto chunks = ChunkAll(c, data, 1 << 20);
  size_t total = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (i + 1 < chunks.size()) REQUIRE(chunks[i].size() >= p.min_size);
    REQUIRE(chunks[i].size() <= p.max_size);
    total += chunks[i].size();
  }
  REQUIRE(total == data.size());
  double avg = double(data.size()) / chunks.size();
  REQUIRE(avg > p.avg_size / 2);
  REQUIRE(avg < p.avg_size * 2);
}

TEST_CASE("boundaries do not depend on how the stream is fed", "[backend][chunker]") {
  Chunker c(crypto::SecretKey::Random(), ChunkerParams{4096, 16384, 65536});
  Bytes data = RandomBytes(1 << 20, 12);
  auto a = ChunkAll(c, data, 1 << 20);
  auto b = ChunkAll(c, data, 1000);
  REQUIRE(a == b);
}

TEST_CASE("an insertion moves only nearby boundaries", "[backend][chunker]") {
  Chunker c(crypto::SecretKey::Random(), ChunkerParams{4096, 16384, 65536});
  Bytes data = RandomBytes(2 << 20, 13);
  Bytes edited = data;
  Bytes insert = RandomBytes(100, 14);
  edited.insert(edited.begin() + (1 << 20), insert.begin(), insert.end());
  auto a = ChunkAll(c, data, 1 << 16);
  auto b = ChunkAll(c, edited, 1 << 16);
  std::set<Bytes> sa(a.begin(), a.end());
  size_t shared = 0;
  for (const Bytes& x : b) shared += sa.count(x);
  // All but the chunks around the edit survive.
  REQUIRE(shared + 3 >= b.size());
  REQUIRE(shared + 3 >= a.size());
}

TEST_CASE("the gear table is keyed: another tenant cuts elsewhere", "[backend][chunker]") {
  ChunkerParams p{4096, 16384, 65536};
  Chunker c1(crypto::SecretKey::Random(), p), c2(crypto::SecretKey::Random(), p);
  Bytes data = RandomBytes(1 << 20, 15);
  REQUIRE(ChunkAll(c1, data, 1 << 20) != ChunkAll(c2, data, 1 << 20));
}
