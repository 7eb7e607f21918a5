// backend/lru_cache.h
//
// LruCache<V>: a bounded cache of immutable values keyed by BlobId, with
// single-flight loading: when several threads ask for the same missing key at
// once, one loads it and the others wait for that result. Bounded by the sum
// of each value's charge (bytes); least recently used values go first.
// Errors are not cached.
//
// Thread safety: safe for concurrent use. The loader runs without the lock.
#pragma once

#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "backend/blob_id.h"
#include "backend/status.h"

namespace m365vault {

template <typename V>
class LruCache {
 public:
  using Loader = std::function<Result<std::shared_ptr<const V>>()>;
  using Charge = std::function<size_t(const V&)>;

  LruCache(size_t capacity, Charge charge) : capacity_(capacity), charge_(std::move(charge)) {}

  Result<std::shared_ptr<const V>> GetOrLoad(const BlobId& key, const Loader& load) {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      auto it = map_.find(key);
      if (it == map_.end()) break;
      Slot& slot = it->second;
      if (slot.value) {
        lru_.splice(lru_.begin(), lru_, slot.pos);
        return slot.value;
      }
      // Someone is loading it: wait, then look again (it may have failed).
      cv_.wait(l);
    }
    map_.emplace(key, Slot{});
    l.unlock();
    Result<std::shared_ptr<const V>> loaded = load();
    l.lock();
    auto it = map_.find(key);
    if (!loaded.ok()) {
      map_.erase(it);
    } else {
      it->second.value = loaded.value();
      it->second.charge = charge_(*loaded.value());
      lru_.push_front(key);
      it->second.pos = lru_.begin();
      used_ += it->second.charge;
      Evict();
    }
    cv_.notify_all();
    return loaded;
  }

  // True when the key is cached or being loaded.
  bool Contains(const BlobId& key) {
    std::lock_guard<std::mutex> l(mu_);
    return map_.count(key) != 0;
  }

  size_t used() {
    std::lock_guard<std::mutex> l(mu_);
    return used_;
  }

 private:
  struct Slot {
    std::shared_ptr<const V> value;  // null while loading
    size_t charge = 0;
    typename std::list<BlobId>::iterator pos;
  };

  // REQUIRES: mu_ held.
  void Evict() {
    while (used_ > capacity_ && lru_.size() > 1) {
      BlobId victim = lru_.back();
      lru_.pop_back();
      auto it = map_.find(victim);
      used_ -= it->second.charge;
      map_.erase(it);
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  size_t capacity_;
  size_t used_ = 0;
  Charge charge_;
  std::unordered_map<BlobId, Slot, BlobIdHash> map_;
  std::list<BlobId> lru_;
};

}  // namespace m365vault
