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

ConcurrencyLimiter::ConcurrencyLimiter(int max_per_key) : max_per_key_(max_per_key < 1 ? 1 : max_per_key) {}

ConcurrencyLimiter::Permit ConcurrencyLimiter::Acquire(std::string_view key) {
  if (key.empty()) return Permit();
  std::string k(key);
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [&] {
    auto it = in_flight_.find(k);
    return it == in_flight_.end() || it->second < max_per_key_;
  });
  ++in_flight_[k];
  return Permit(this, std::move(k));
}

int ConcurrencyLimiter::InFlight(std::string_view key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = in_flight_.find(std::string(key));
  return it == in_flight_.end() ? 0 : it->second;
}

void ConcurrencyLimiter::ReleaseKey(const std::string& key) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = in_flight_.find(key);
    if (it != in_flight_.end() && --it->second <= 0) in_flight_.erase(it);
  }
  cv_.notify_all();
}

}  // namespace m365vault::sync
