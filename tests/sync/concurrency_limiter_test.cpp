// tests/sync/concurrency_limiter_test.cpp
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend/clock.h"
#include "sync/graph/concurrency_limiter.h"
#include "sync/graph/fake_http_client.h"
#include "sync/graph/graph_client.h"
#include "tests/sync/sync_test_util.h"

namespace m365vault::sync {

TEST_CASE("Limiter never lets more than 4 in flight per key", "[sync]") {
  ConcurrencyLimiter limiter(4);
  std::atomic<int> in_a{0}, max_a{0}, in_b{0}, max_b{0};
  auto work = [&](const char* key, std::atomic<int>& in, std::atomic<int>& max) {
    for (int i = 0; i < 20; ++i) {
      auto permit = limiter.Acquire(key);
      int now = ++in;
      int seen = max.load();
      while (now > seen && !max.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      --in;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back(work, "mailbox-a", std::ref(in_a), std::ref(max_a));
    threads.emplace_back(work, "mailbox-b", std::ref(in_b), std::ref(max_b));
  }
  for (auto& t : threads) t.join();
  CHECK(max_a.load() == 4);  // reached, never exceeded
  CHECK(max_b.load() == 4);
  CHECK(limiter.InFlight("mailbox-a") == 0);
}

TEST_CASE("Permits release on scope exit and on move", "[sync]") {
  ConcurrencyLimiter limiter(2);
  {
    auto p1 = limiter.Acquire("k");
    auto p2 = limiter.Acquire("k");
    CHECK(limiter.InFlight("k") == 2);
    ConcurrencyLimiter::Permit moved = std::move(p1);
    CHECK(limiter.InFlight("k") == 2);
    moved.Release();
    CHECK(limiter.InFlight("k") == 1);
  }
  CHECK(limiter.InFlight("k") == 0);
  auto unlimited = limiter.Acquire("");
  CHECK(limiter.InFlight("") == 0);
}

TEST_CASE("GraphClient holds at most 4 requests per mailbox in flight", "[sync]") {
  FakeHttpClient http;
  testing::CountingTokenProvider tokens;
  ManualClock clock;
  GraphClientOptions o;
  o.graph_url = "https://graph.example";
  GraphClient client(o, http, tokens, clock);
  std::atomic<int> in{0}, max{0};
  http.SetHandler([&](const HttpRequest&) -> std::optional<FakeResponse> {
    int now = ++in;
    int seen = max.load();
    while (now > seen && !max.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --in;
    return FakeResponse::Json(200, R"({"value":[]})");
  });
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&] {
      RequestOptions ro;
      ro.concurrency_key = "user-1";
      for (int i = 0; i < 10; ++i) {
        if (!client.GetJson("/users/user-1/messages", ro).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(max.load() <= 4);
  CHECK(max.load() >= 2);  // the threads did overlap
  CHECK(http.requests().size() == 100);
}

// Records the highest value a counter reached.
void NoteMax(std::atomic<int>& now_value, int now, std::atomic<int>& max) {
  (void)now_value;
  int seen = max.load();
  while (now > seen && !max.compare_exchange_weak(seen, now)) {
  }
}

TEST_CASE("Limiter caps all keys together when max_total is set", "[sync]") {
  ConcurrencyLimiter limiter(4, 6);
  std::atomic<int> total{0}, max_total{0};
  std::atomic<int> per_key[3] = {0, 0, 0};
  std::atomic<int> max_key[3] = {0, 0, 0};
  const char* keys[3] = {"mailbox-a", "mailbox-b", ""};  // "" counts in the total only
  std::vector<std::thread> threads;
  for (int k = 0; k < 3; ++k) {
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, k] {
        for (int i = 0; i < 15; ++i) {
          auto permit = limiter.Acquire(keys[k]);
          NoteMax(total, ++total, max_total);
          NoteMax(per_key[k], ++per_key[k], max_key[k]);
          CHECK(limiter.TotalInFlight() <= 6);
          std::this_thread::sleep_for(std::chrono::microseconds(300));
          --per_key[k];
          --total;
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  CHECK(max_total.load() == 6);  // reached, never exceeded
  CHECK(max_key[0].load() <= 4);
  CHECK(max_key[1].load() <= 4);
  CHECK(limiter.TotalInFlight() == 0);
  CHECK(limiter.InFlight("mailbox-a") == 0);
}

TEST_CASE("A full total cap blocks until a permit of any key is released", "[sync]") {
  ConcurrencyLimiter limiter(4, 2);
  auto a = limiter.Acquire("a");
  auto b = limiter.Acquire("b");
  CHECK(limiter.TotalInFlight() == 2);
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    auto c = limiter.Acquire("c");
    got = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(got.load());  // "c" has no permit out, but the total is full
  b.Release();
  waiter.join();
  CHECK(got.load());
  CHECK(limiter.TotalInFlight() == 1);
}

TEST_CASE("The empty key is limited by the total only", "[sync]") {
  ConcurrencyLimiter limiter(4, 6);
  std::vector<ConcurrencyLimiter::Permit> permits;
  for (int i = 0; i < 6; ++i) permits.push_back(limiter.Acquire(""));  // more than 4: does not block
  CHECK(limiter.TotalInFlight() == 6);
  CHECK(limiter.InFlight("") == 0);
  permits.clear();
  CHECK(limiter.TotalInFlight() == 0);
}

TEST_CASE("GraphClient holds at most max_in_flight requests across mailboxes", "[sync]") {
  FakeHttpClient http;
  testing::CountingTokenProvider tokens;
  ManualClock clock;
  GraphClientOptions o;
  o.graph_url = "https://graph.example";
  o.max_in_flight = 6;
  GraphClient client(o, http, tokens, clock);
  std::atomic<int> in{0}, max{0};
  http.SetHandler([&](const HttpRequest&) -> std::optional<FakeResponse> {
    NoteMax(in, ++in, max);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --in;
    return FakeResponse::Json(200, R"({"value":[]})");
  });
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      RequestOptions ro;
      ro.concurrency_key = "user-" + std::to_string(t % 4);  // 4 mailboxes x 4 = 16 without the cap
      for (int i = 0; i < 10; ++i) {
        if (!client.GetJson("/users/u/messages", ro).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  CHECK(max.load() <= 6);
  CHECK(max.load() >= 5);  // the threads did overlap up to the cap
  CHECK(http.requests().size() == 160);
}

// Blocks until `n` threads wait in limiter.Acquire.
void AwaitWaiting(const ConcurrencyLimiter& limiter, int n) {
  while (limiter.Waiting() < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

TEST_CASE("A released slot goes to the first waiter that may take it", "[sync]") {
  ConcurrencyLimiter limiter(2, 3);
  auto a1 = limiter.Acquire("a");
  auto a2 = limiter.Acquire("a");
  auto b1 = limiter.Acquire("b");  // the total (3) is full
  std::vector<std::string> order;
  std::vector<ConcurrencyLimiter::Permit> held;  // the waiters keep their permits
  std::mutex order_mu;
  auto waiter = [&](std::string key, std::string name) {
    return std::thread([&, key, name] {
      auto p = limiter.Acquire(key);
      std::lock_guard<std::mutex> l(order_mu);
      order.push_back(name);
      held.push_back(std::move(p));
    });
  };
  std::thread w1 = waiter("a", "a-first");  // "a" is at its limit
  AwaitWaiting(limiter, 1);
  std::thread w2 = waiter("b", "b-second");
  AwaitWaiting(limiter, 2);
  std::thread w3 = waiter("a", "a-third");
  AwaitWaiting(limiter, 3);
  // b1's slot: "a" is still at 2, so the first waiter that may take it is b-second.
  b1.Release();
  w2.join();
  CHECK(limiter.Waiting() == 2);
  // a1's slot: a-first, not a-third.
  a1.Release();
  w1.join();
  CHECK(limiter.Waiting() == 1);
  {
    std::lock_guard<std::mutex> l(order_mu);
    CHECK(order == std::vector<std::string>{"b-second", "a-first"});
  }
  a2.Release();
  w3.join();
  CHECK(order.back() == "a-third");
  CHECK(limiter.Waiting() == 0);
  CHECK(limiter.TotalInFlight() == 3);  // b-second, a-first, a-third
  held.clear();
  CHECK(limiter.TotalInFlight() == 0);
  CHECK(limiter.InFlight("a") == 0);
}

}  // namespace m365vault::sync
