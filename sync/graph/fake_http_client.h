// sync/graph/fake_http_client.h
//
// FakeHttpClient: a scripted HttpClient for tests (library target
// sync_testing, not linked into the product). Responses are queued per URL
// pattern (a substring of the URL) and served in order; every request is
// recorded. A response can break a streamed body after N bytes (a transport
// error mid-transfer) or be a pure transport error. A handler, when set, is
// asked first and may answer dynamically.
//
// Sink semantics follow the HttpClient contract: on_headers before the body;
// a 2xx body goes to the sink in chunks, other bodies are buffered.
//
// Thread safety: all methods are safe to call from many threads at once.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sync/graph/http_client.h"

namespace m365vault::sync {

struct FakeResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  // Stream only this many body bytes, then fail with Unavailable (reset).
  std::optional<size_t> break_after;
  // If not OK, Send returns it instead of a response.
  Status transport_error;

  static FakeResponse Json(int status, std::string body, HttpHeaders headers = {});
  static FakeResponse Transport(std::string message);
};

struct RecordedRequest {
  std::string method;
  std::string url;
  HttpHeaders headers;
  std::string body;
  std::optional<uint64_t> range_start;

  std::optional<std::string_view> Header(std::string_view name) const { return FindHeader(headers, name); }
};

class FakeHttpClient final : public HttpClient {
 public:
  using Handler = std::function<std::optional<FakeResponse>(const HttpRequest&)>;

  // Queues a response for the next request whose URL contains url_part.
  // Patterns are tried in the order they were first added.
  void Enqueue(const std::string& url_part, FakeResponse response);
  void SetHandler(Handler handler);

  Result<HttpResponse> Send(const HttpRequest& request) override;

  std::vector<RecordedRequest> requests() const;
  size_t RequestCount(const std::string& url_part) const;
  // Responses queued but never served.
  size_t Unserved() const;

  static constexpr size_t kChunk = 1000;  // sink chunk size

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<std::string, std::deque<FakeResponse>>> queues_;  // GUARDED_BY(mu_)
  std::vector<RecordedRequest> requests_;                                 // GUARDED_BY(mu_)
  Handler handler_;                                                       // GUARDED_BY(mu_)
};

}  // namespace m365vault::sync
