// backend/buffer_pool.h
//
// BufferPool: a few byte buffers kept for reuse, so a hot path that fills a
// fresh buffer of up to a few megabytes again and again (a file being
// chunked, a chunk on its way to the pool) does not pay the kernel's page
// faults and unmapping for each one (collectors.cpp keeps large blocks in
// mmap). Few are kept: each kept buffer is resident memory.
//
// Take() returns an empty buffer (with the capacity of an earlier one when the
// pool has one); Give() returns a buffer, which is kept while fewer than
// `max_kept` are waiting and dropped otherwise.
//
// Thread safety: Take and Give may be called from any thread.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "backend/bytes.h"

namespace m365vault {

class BufferPool {
 public:
  explicit BufferPool(size_t max_kept) : max_kept_(max_kept) {}

  Bytes Take() {
    std::lock_guard<std::mutex> l(mu_);
    if (kept_.empty()) return Bytes();
    Bytes b = std::move(kept_.back());
    kept_.pop_back();
    return b;
  }

  void Give(Bytes b) {
    if (b.capacity() == 0) return;
    b.clear();
    std::lock_guard<std::mutex> l(mu_);
    if (kept_.size() < max_kept_) kept_.push_back(std::move(b));
  }

 private:
  const size_t max_kept_;
  std::mutex mu_;
  std::vector<Bytes> kept_;  // GUARDED_BY(mu_)
};

}  // namespace m365vault
