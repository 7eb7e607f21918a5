// sync/graph/curl_http_client.h
//
// CurlHttpClient: the libcurl implementation of HttpClient.
//
//  - Connections are reused: finished easy handles go back to a pool (a reset
//    handle keeps its live connections), and all handles share DNS, TLS
//    sessions and the connection cache through one CURLSH. The shared cache
//    keeps up to `max_idle_connections` idle connections (libcurl's default
//    of 5 would close most of them when more requests run at once, and every
//    request would pay a new TCP and TLS handshake).
//  - HTTP/2 over TLS when the server offers it (CURL_HTTP_VERSION_2TLS).
//  - TLS peer and host verification are always on. `ca_file` adds trust
//    anchors (CURLOPT_CAINFO); the system CA directory stays in use.
//  - Every request is bounded: a connect timeout, the request's total timeout,
//    and a low-speed limit that cuts stalled transfers.
//  - gzip/deflate are accepted for buffered responses; streamed downloads ask
//    for identity so that byte offsets (Range resume) mean what they say.
//  - Redirects are followed only when the request asks for it.
//
// Create a CurlGlobal in main (before any thread starts) and keep it alive
// while any CurlHttpClient exists.
//
// Thread safety: Send may be called from many threads at once.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sync/graph/http_client.h"

namespace m365vault::sync {

// Runs curl_global_init once for the process lifetime of this object.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
};

class CurlHttpClient final : public HttpClient {
 public:
  struct Options {
    std::string ca_file;  // extra trust anchors (PEM); empty = system only
    std::chrono::milliseconds connect_timeout{std::chrono::seconds(15)};
    // A transfer slower than low_speed_bytes per second for low_speed_time
    // is aborted as a stall (Unavailable, retryable).
    long low_speed_bytes = 1;
    std::chrono::seconds low_speed_time{60};
    // Largest error/redirect body kept in HttpResponse::body.
    size_t max_buffered_body = 64 << 20;
    // Idle connections kept for reuse (CURLOPT_MAXCONNECTS, all hosts
    // together). Should be at least the number of requests in flight at once
    // (4 per mailbox x mailboxes in parallel, twice for 302 downloads).
    long max_idle_connections = 128;
  };

  // Fails if the CA file is unreadable or libcurl cannot set up sharing.
  static Result<std::unique_ptr<CurlHttpClient>> Create(Options options);
  ~CurlHttpClient() override;

  Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  struct Impl;
  explicit CurlHttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace m365vault::sync
