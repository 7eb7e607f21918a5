// sync/graph/http_client.h
//
// HttpClient: the one seam for HTTP. A request is plain data in, a response is
// plain data out. Retry, backoff and throttling do NOT live here; they live in
// GraphClient (sync/graph/graph_client.h). Implementations: CurlHttpClient (real,
// sync/graph/curl_http_client.h) and FakeHttpClient (scripted, for tests).
//
// Contract for implementations:
//  - Send returns an HttpResponse for every HTTP answer, whatever its status
//    (a 503 is a response, not an error).
//  - A transport failure (DNS, connect, TLS handshake reset, timeout, a
//    connection dropped mid-body) is Status::Unavailable with retryable=true.
//    A TLS verification failure is Unavailable with retryable=false.
//  - When `body_sink` is set and the final status is 2xx, the body is handed
//    to the sink in pieces as it arrives and HttpResponse::body stays empty.
//    Other statuses (errors, redirects) are buffered in HttpResponse::body so
//    the caller can parse the error. A non-OK Status from the sink aborts the
//    transfer and is returned from Send unchanged.
//  - `on_headers`, when set, is called once with the final status and headers
//    before the first body byte reaches the sink (or at the end when there is
//    no body). A non-OK Status aborts the transfer and is returned from Send.
//  - Redirects are not followed unless `follow_redirects` is true.
//
// Thread safety: implementations are safe to call from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backend/status.h"

namespace m365vault::sync {

// Header names compare case-insensitively; order and duplicates are kept.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of the first header called `name` (any case), or nullopt.
std::optional<std::string_view> FindHeader(const HttpHeaders& headers, std::string_view name);

// Case-insensitive ASCII comparison (header names, Graph error codes).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

using BodySink = std::function<Status(std::string_view chunk)>;
using HeadersCallback = std::function<Status(int status, const HttpHeaders& headers)>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
  // When set, ask for the bytes from this offset on ("Range: bytes=N-").
  std::optional<uint64_t> range_start;
  // Upper bound on the whole exchange. Never zero: every request is bounded.
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  BodySink body_sink;         // optional, see the contract above
  HeadersCallback on_headers; // optional, see the contract above
  bool follow_redirects = false;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;           // empty when the body went to a sink
  std::string effective_url;  // the URL that produced this response

  std::optional<std::string_view> Header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

}  // namespace m365vault::sync
