// sync/graph/graph_client.h
//
// GraphClient: Microsoft Graph requests for the collectors. This is the one
// place where retries live; everything below it (HttpClient, TokenProvider)
// reports errors once and lets GraphClient decide.
//
// Per logical request GraphClient
//  - resolves the target: a path ("/users/{id}/mailFolders") is prefixed with
//    {graph_url}/{api_version}; an absolute URL (nextLink, deltaLink) is used
//    verbatim, never re-encoded or re-parameterised;
//  - sends User-Agent, client-request-id (one GUID for all retries),
//    "Authorization: Bearer ..." (only to the graph_url origin), the caller's
//    headers, and all Prefer values folded into one Prefer header;
//  - holds a ConcurrencyLimiter permit for RequestOptions::concurrency_key
//    (a mailbox or user id: at most max_per_key in flight; and at most
//    max_in_flight requests in all when set) for each attempt, never while
//    sleeping;
//  - retries retryable failures (429, 500, 502, 503, 504, 509, transport):
//    sleeps exactly Retry-After when the server sent one, else capped
//    exponential backoff with full jitter, up to backoff.max_attempts tries;
//  - on 401 invalidates the token and replays once; a second 401 fails
//    (PermissionDenied);
//  - never retries other 4xx (400, 403, 404, 409, 410, ...).
//
// Errors: a failed call returns a Status (mapping in sync/graph/graph_error.h). A
// caller that must act on the kind of failure (resync on 410, skip an item,
// skip a mailbox) passes a GraphError* and reads error->kind and the Graph
// codes; it is filled on every failure that came from an HTTP answer or the
// transport (http_status 0).
//
// Thread safety: all methods are safe to call from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/clock.h"
#include "backend/status.h"
#include "sync/graph/concurrency_limiter.h"
#include "sync/graph/graph_error.h"
#include "sync/graph/http_client.h"
#include "sync/graph/retry_after.h"
#include "sync/graph/token_provider.h"

namespace m365vault::sync {

struct GraphClientOptions {
  std::string graph_url = "https://graph.microsoft.com";
  std::string api_version = "v1.0";
  std::string user_agent = "ISV|m365vault|m365vault/0.1";
  BackoffOptions backoff;
  BackoffPolicy::RandomSource random;  // null = a real random source
  int max_per_key = 4;                 // concurrent requests per mailbox
  int max_in_flight = 0;               // concurrent requests in all (0 = no cap)
  std::chrono::milliseconds request_timeout{std::chrono::seconds(100)};
  std::chrono::milliseconds download_timeout{std::chrono::hours(2)};
  // Tries of a request whose 2xx body is not valid JSON.
  int max_malformed_json_attempts = 3;
  // Resumptions of one download that keeps making progress between breaks.
  int max_download_resumes = 50;
};

struct RequestOptions {
  HttpHeaders headers;               // extra headers (ConsistencyLevel, ...)
  std::vector<std::string> prefer;   // e.g. IdType="ImmutableId", odata.maxpagesize=100
  std::string concurrency_key;       // mailbox/user id; empty = not limited
  std::chrono::milliseconds timeout{0};  // 0 = the client default
};

struct PagingResult {
  std::string delta_link;  // the last page's @odata.deltaLink, or empty
  int pages = 0;
};

struct DownloadResult {
  uint64_t bytes = 0;  // bytes handed to the sink
  int resumes = 0;     // Range requests after a broken transfer
  int url_refreshes = 0;  // times an expired pre-authenticated URL was re-fetched
};

class GraphClient {
 public:
  // `http`, `tokens` and `clock` must outlive the client.
  GraphClient(GraphClientOptions options, HttpClient& http, TokenProvider& tokens, Clock& clock);
  GraphClient(const GraphClient&) = delete;
  GraphClient& operator=(const GraphClient&) = delete;

  // The URL a path or absolute URL resolves to (see the header comment).
  std::string ResolveUrl(std::string_view path_or_url) const;

  // GET a JSON document. A 2xx body that is not JSON is retried a few times,
  // then fails with Corruption. Unknown fields are simply there in the json.
  Result<nlohmann::json> GetJson(std::string_view path_or_url, const RequestOptions& options = {},
                                 GraphError* error = nullptr);

  // POST a JSON body and parse the JSON answer. Retried like GET, so use it
  // only for requests that are safe to repeat (e.g. $batch of GETs).
  Result<nlohmann::json> PostJson(std::string_view path_or_url, const nlohmann::json& body,
                                  const RequestOptions& options = {}, GraphError* error = nullptr);

  // Calls on_page for every page of a collection, following @odata.nextLink
  // verbatim (an empty page with a nextLink is followed too) until a page has
  // none. Headers (Prefer, ...) are re-sent on every page. Returns the final
  // @odata.deltaLink (empty if none). A non-OK Status from on_page stops the
  // walk and is returned.
  using PageCallback = std::function<Status(const nlohmann::json& page)>;
  Result<PagingResult> ForEachPage(std::string_view path_or_url, const RequestOptions& options,
                                   const PageCallback& on_page, GraphError* error = nullptr);

  // Streams a /content or /$value body into `sink` without buffering it.
  // A 302 is followed to its Location WITHOUT the Authorization header; a
  // transfer that breaks midway resumes with "Range: bytes=N-" (a 206 whose
  // Content-Range does not start at N is rejected; a 200 that ignores Range
  // has its first N bytes dropped); an expired pre-authenticated URL
  // (401/403/404/410 from the download host) is replaced by asking Graph
  // again. With `preauthenticated_url` (a listing's
  // @microsoft.graph.downloadUrl, https only: another is ignored), the
  // download starts there, without the Authorization header and without the
  // round trip to Graph for the 302.
  // The sink sees every byte exactly once, in order. A sink error aborts the
  // download and is returned as is.
  Result<DownloadResult> Download(std::string_view path_or_url, const BodySink& sink,
                                  const RequestOptions& options = {}, GraphError* error = nullptr,
                                  std::string_view preauthenticated_url = {});

  ConcurrencyLimiter& limiter() { return limiter_; }
  const GraphClientOptions& options() const { return options_; }

 private:
  // Called before each attempt to adjust the request (e.g. Range).
  using PrepareFn = std::function<void(HttpRequest&)>;
  // Judges a 2xx/3xx response; a non-OK Status means "malformed, try again".
  using ValidateFn = std::function<Status(const HttpResponse&)>;

  // One logical request with retries. Returns the first 2xx or 3xx response.
  Result<HttpResponse> Execute(const HttpRequest& base, const RequestOptions& options, bool authenticate,
                               const PrepareFn& prepare, const ValidateFn& validate, GraphError* error);
  Result<nlohmann::json> SendJson(HttpRequest request, const RequestOptions& options, GraphError* error);
  void AddHeaders(HttpRequest& request, const RequestOptions& options, const std::string& request_id) const;
  bool IsGraphOrigin(std::string_view url) const;

  const GraphClientOptions options_;
  HttpClient& http_;
  TokenProvider& tokens_;
  Clock& clock_;
  BackoffPolicy backoff_;
  ConcurrencyLimiter limiter_;
};

}  // namespace m365vault::sync
