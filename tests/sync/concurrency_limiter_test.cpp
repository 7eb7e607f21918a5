// tests/sync/concurrency_limiter_test.cpp
#include <catch2/catch.hpp>

#include <atomic>
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

}  // namespace m365vault::sync
