// sync/graph/concurrency_limiter.h
//
// ConcurrencyLimiter: a counting semaphore per key (a mailbox or user id),
// so no more than `max_per_key` requests to one mailbox are in flight at once
// (Outlook allows 4 per app per mailbox), and optionally a cap on all
// requests together (`max_total`, 0 = none): the run's request budget, so
// that more mailboxes than budget/4 can be worked on at once and one whose
// requests are waiting on the client (listing a folder tree, a last big
// folder) leaves its share to the others. Acquire blocks until a slot is free
// under both limits and returns an RAII Permit that frees it. An empty key is
// limited only by `max_total`.
//
// Waiters queue in arrival order; a released slot is handed to the first
// waiter that may take it, and only that thread is woken (a run has ~100
// threads waiting on one limiter: waking all of them on every release cost
// ~60 futex calls per request).
//
// Thread safety: all methods are safe to call from many threads.
// REQUIRES: the limiter outlives every Permit it handed out.
#pragma once

#include <condition_variable>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace m365vault::sync {

class ConcurrencyLimiter {
 public:
  class Permit {
   public:
    Permit() = default;
    Permit(Permit&& other) noexcept;
    Permit& operator=(Permit&& other) noexcept;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit() { Release(); }
    void Release();

   private:
    friend class ConcurrencyLimiter;
    Permit(ConcurrencyLimiter* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    ConcurrencyLimiter* owner_ = nullptr;  // null: nothing to release
    std::string key_;                      // "" = counted in the total only
  };

  explicit ConcurrencyLimiter(int max_per_key = 4, int max_total = 0);
  ConcurrencyLimiter(const ConcurrencyLimiter&) = delete;
  ConcurrencyLimiter& operator=(const ConcurrencyLimiter&) = delete;

  Permit Acquire(std::string_view key);
  int InFlight(std::string_view key) const;
  int TotalInFlight() const;  // permits out under max_total (0 when there is no cap)
  int Waiting() const;        // threads blocked in Acquire
  int max_per_key() const { return max_per_key_; }
  int max_total() const { return max_total_; }

 private:
  struct Waiter {
    const std::string* key;
    std::condition_variable cv;
    bool granted = false;  // GUARDED_BY(mu_): the permit was taken on its behalf
  };
  void ReleaseKey(const std::string& key);
  bool HasRoomLocked(const std::string& key) const;  // REQUIRES: mu_ held
  void TakeLocked(const std::string& key);           // REQUIRES: mu_ held
  void GrantWaitersLocked();                         // REQUIRES: mu_ held

  const int max_per_key_;
  const int max_total_;  // 0 = no total cap
  mutable std::mutex mu_;
  std::list<Waiter*> waiters_;  // GUARDED_BY(mu_); arrival order
  std::unordered_map<std::string, int> in_flight_;  // GUARDED_BY(mu_); no zero entries
  int total_ = 0;                                   // GUARDED_BY(mu_); only when max_total_ > 0
};

}  // namespace m365vault::sync
