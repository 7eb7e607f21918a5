// sync/graph/graph_download.cpp: GraphClient::Download (302 without auth, Range
// resume, expired pre-authenticated URLs).
#include <charconv>

#include "sync/graph/graph_client.h"

namespace m365vault::sync {
namespace {

constexpr int kMaxRedirects = 5;
constexpr int kMaxUrlRefreshes = 3;

// The first byte offset of "bytes 100-999/1000", or nullopt.
std::optional<uint64_t> ContentRangeStart(std::string_view v) {
  if (v.substr(0, 6) != "bytes ") return std::nullopt;
  v.remove_prefix(6);
  uint64_t start = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), start);
  if (ec != std::errc() || p == v.data() + v.size() || *p != '-') return std::nullopt;
  return start;
}

bool IsRedirect(int status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

}  // namespace

Result<DownloadResult> GraphClient::Download(std::string_view path_or_url, const BodySink& sink,
                                             const RequestOptions& options, GraphError* error,
                                             std::string_view preauthenticated_url) {
  const std::string api_url = ResolveUrl(path_or_url);
  DownloadResult result;
  // The pre-authenticated URL: the listing's (only over TLS; any other goes
  // through Graph), or the last 302's.
  std::string location;
  if (preauthenticated_url.rfind("https://", 0) == 0) location = preauthenticated_url;
  uint64_t skip = 0;     // bytes to drop because the server ignored Range
  int redirects = 0;

  HttpRequest base;
  base.method = "GET";
  base.timeout = options_.download_timeout;
  base.body_sink = [&](std::string_view chunk) -> Status {
    if (skip > 0) {
      const size_t drop = static_cast<size_t>(std::min<uint64_t>(skip, chunk.size()));
      chunk.remove_prefix(drop);
      skip -= drop;
      if (chunk.empty()) return Status::OK();
    }
    result.bytes += chunk.size();
    return sink(chunk);
  };
  base.on_headers = [&](int status, const HttpHeaders& headers) -> Status {
    skip = 0;
    if (status == 206) {
      auto range = FindHeader(headers, "Content-Range");
      auto start = range ? ContentRangeStart(*range) : std::nullopt;
      if (!start || *start != result.bytes) {
        return Status::Corruption("download resume at byte " + std::to_string(result.bytes) +
                                  " got Content-Range '" + std::string(range.value_or("")) + "'");
      }
    } else if (status == 200 && result.bytes > 0) {
      skip = result.bytes;  // Range ignored: the body starts over
    }
    return Status::OK();
  };
  auto prepare = [&](HttpRequest& req) {
    req.range_start.reset();
    if (result.bytes > 0) {
      req.range_start = result.bytes;
      ++result.resumes;
    }
  };

  for (;;) {
    const uint64_t before = result.bytes;
    base.url = location.empty() ? api_url : location;
    GraphError err;
    Result<HttpResponse> r = Execute(base, options, /*authenticate=*/location.empty(), prepare, nullptr, &err);
    if (r.ok()) {
      if (!IsRedirect(r->status)) return result;  // 2xx: the sink has everything
      auto loc = r->Header("Location");
      if (!loc || loc->empty()) return Status::Corruption("redirect without Location from " + base.url);
      if (++redirects > kMaxRedirects) return Status::Corruption("too many redirects for " + api_url);
      location = std::string(*loc);
      continue;
    }
    const bool from_download_host = !location.empty();
    if (from_download_host &&
        (err.http_status == 401 || err.http_status == 403 || err.http_status == 404 || err.http_status == 410) &&
        result.url_refreshes < kMaxUrlRefreshes) {
      ++result.url_refreshes;  // the pre-authenticated URL expired: ask Graph for a new one
      location.clear();
      continue;
    }
    if (r.status().retryable() && result.bytes > before && result.resumes < options_.max_download_resumes) {
      continue;  // broke again, but made progress: resume
    }
    if (error != nullptr) *error = err;
    return r.status();
  }
}

}  // namespace m365vault::sync
