// sync/graph/concurrency_limiter.cpp
#include "sync/graph/concurrency_limiter.h"

namespace m365vault::sync {

ConcurrencyLimiter::Permit::Permit(Permit&& other) noexcept
    : owner_(other.owner_), key_(std::move(other.key_)) {
  other.owner_ = nullptr;
}

ConcurrencyLimiter::Permit& ConcurrencyLimiter::Permit::operator=(Permit&& other) noexcept {
  if (this != &other) {
    Release();
    owner_ = other.owner_;
    key_ = std::move(other.key_);
    other.owner_ = nullptr;
  }
  return *this;
}

void ConcurrencyLimiter::Permit::Release() {
  if (owner_ != nullptr) {
    owner_->ReleaseKey(key_);
    owner_ = nullptr;
  }
}

ConcurrencyLimiter::ConcurrencyLimiter(int max_per_key, int max_total)
    : max_per_key_(max_per_key < 1 ? 1 : max_per_key), max_total_(max_total < 0 ? 0 : max_total) {}

ConcurrencyLimiter::Permit ConcurrencyLimiter::Acquire(std::string_view key) {
  if (key.empty() && max_total_ == 0) return Permit();
  std::string k(key);
  std::unique_lock<std::mutex> l(mu_);
  // Releases hand slots to eligible waiters at once, so a slot that is free
  // now has no earlier claimant: taking it does not jump the queue.
  if (HasRoomLocked(k)) {
    TakeLocked(k);
    return Permit(this, std::move(k));
  }
  Waiter w{&k};
  waiters_.push_back(&w);
  w.cv.wait(l, [&] { return w.granted; });  // GrantWaitersLocked took the slot and dequeued us
  return Permit(this, std::move(k));
}

int ConcurrencyLimiter::InFlight(std::string_view key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = in_flight_.find(std::string(key));
  return it == in_flight_.end() ? 0 : it->second;
}

int ConcurrencyLimiter::TotalInFlight() const {
  std::lock_guard<std::mutex> l(mu_);
  return total_;
}

int ConcurrencyLimiter::Waiting() const {
  std::lock_guard<std::mutex> l(mu_);
  return static_cast<int>(waiters_.size());
}

bool ConcurrencyLimiter::HasRoomLocked(const std::string& key) const {
  if (max_total_ > 0 && total_ >= max_total_) return false;
  if (key.empty()) return true;
  auto it = in_flight_.find(key);
  return it == in_flight_.end() || it->second < max_per_key_;
}

void ConcurrencyLimiter::TakeLocked(const std::string& key) {
  if (!key.empty()) ++in_flight_[key];
  if (max_total_ > 0) ++total_;
}

void ConcurrencyLimiter::GrantWaitersLocked() {
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (max_total_ > 0 && total_ >= max_total_) return;
    Waiter* w = *it;
    if (!HasRoomLocked(*w->key)) {
      ++it;
      continue;
    }
    TakeLocked(*w->key);
    w->granted = true;
    it = waiters_.erase(it);
    // Notified under the lock: once it can see `granted` the waiter may
    // return and destroy `w`.
    w->cv.notify_one();
  }
}

void ConcurrencyLimiter::ReleaseKey(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  if (!key.empty()) {
    auto it = in_flight_.find(key);
    if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
  }
  if (max_total_ > 0) --total_;
  GrantWaitersLocked();
}

}  // namespace m365vault::sync
