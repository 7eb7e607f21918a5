// sync/graph/curl_http_client.cpp
#include "sync/graph/curl_http_client.h"

#include <curl/curl.h>

#include <array>
#include <cstdio>
#include <cstring>

namespace m365vault::sync {
namespace {

struct EasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct ShareDeleter {
  void operator()(CURLSH* h) const { curl_share_cleanup(h); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using SharePtr = std::unique_ptr<CURLSH, ShareDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

// Per-transfer state the curl callbacks write into.
struct Transfer {
  CURL* easy = nullptr;
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  size_t max_buffered = 0;
  bool headers_delivered = false;
  bool status_known = false;
  Status callback_error;  // set when a sink/on_headers aborted the transfer

  Status DeliverHeaders() {
    if (headers_delivered) return Status::OK();
    headers_delivered = true;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    response->status = static_cast<int>(code);
    if (request->on_headers) return request->on_headers(response->status, response->headers);
    return Status::OK();
  }
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

size_t HeaderCallback(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {
    t->response->headers.clear();  // a new response (100-continue, proxy CONNECT)
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response->headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                                      std::string(Trim(line.substr(colon + 1))));
  }
  return size * n;
}

size_t WriteCallback(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  Status st = t->DeliverHeaders();
  if (!st.ok()) {
    t->callback_error = st;
    return 0;
  }
  const int status = t->response->status;
  if (t->request->body_sink && status >= 200 && status < 300) {
    st = t->request->body_sink(std::string_view(data, len));
    if (!st.ok()) {
      t->callback_error = st;
      return 0;
    }
    return len;
  }
  if (t->response->body.size() + len > t->max_buffered) {
    t->callback_error = Status::Unavailable("response body larger than the buffer limit", false);
    return 0;
  }
  t->response->body.append(data, len);
  return len;
}

using ShareLocks = std::array<std::mutex, CURL_LOCK_DATA_LAST>;
void LockShare(CURL*, curl_lock_data data, curl_lock_access, void* user) {
  (*static_cast<ShareLocks*>(user))[data].lock();
}
void UnlockShare(CURL*, curl_lock_data data, void* user) {
  (*static_cast<ShareLocks*>(user))[data].unlock();
}

bool IsVerificationError(CURLcode c) {
  return c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE ||
         c == CURLE_SSL_ISSUER_ERROR || c == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

}  // namespace

CurlGlobal::CurlGlobal() { ok_ = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }
CurlGlobal::~CurlGlobal() {
  if (ok_) curl_global_cleanup();
}

struct CurlHttpClient::Impl {
  Options options;
  SharePtr share;
  ShareLocks share_locks;
  std::mutex pool_mu;
  std::vector<EasyPtr> pool;  // GUARDED_BY(pool_mu)

  EasyPtr Take() {
    {
      std::lock_guard<std::mutex> l(pool_mu);
      if (!pool.empty()) {
        EasyPtr h = std::move(pool.back());
        pool.pop_back();
        curl_easy_reset(h.get());  // keeps live connections and caches
        return h;
      }
    }
    return EasyPtr(curl_easy_init());
  }
  void Give(EasyPtr h) {
    std::lock_guard<std::mutex> l(pool_mu);
    pool.push_back(std::move(h));
  }
};


Result<std::unique_ptr<CurlHttpClient>> CurlHttpClient::Create(Options options) {
  if (!options.ca_file.empty()) {
    std::FILE* f = std::fopen(options.ca_file.c_str(), "rb");
    if (f == nullptr) return Status::InvalidArgument("cannot read CA file " + options.ca_file);
    std::fclose(f);
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->share.reset(curl_share_init());
  if (!impl->share) return Status::Unavailable("curl_share_init failed", false);
  CURLSH* sh = impl->share.get();
  bool ok = curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, LockShare) == CURLSHE_OK &&
            curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, UnlockShare) == CURLSHE_OK &&
            curl_share_setopt(sh, CURLSHOPT_USERDATA, &impl->share_locks) == CURLSHE_OK &&
            curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) == CURLSHE_OK &&
            curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) == CURLSHE_OK;
  if (!ok) return Status::Unavailable("curl share setup failed", false);
  // Connection sharing is newer; without it the per-handle pool still reuses.
  curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  return std::unique_ptr<CurlHttpClient>(new CurlHttpClient(std::move(impl)));
}

CurlHttpClient::CurlHttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CurlHttpClient::~CurlHttpClient() {
  // Easy handles must go before the share they use.
  impl_->pool.clear();
}

Result<HttpResponse> CurlHttpClient::Send(const HttpRequest& request) {
  EasyPtr easy = impl_->Take();
  if (!easy) return Status::Unavailable("curl_easy_init failed");
  CURL* h = easy.get();
  const Options& o = impl_->options;

  HttpResponse response;
  Transfer t;
  t.easy = h;
  t.request = &request;
  t.response = &response;
  t.max_buffered = o.max_buffered_body;

  SlistPtr headers;
  for (const auto& [k, v] : request.headers) {
    std::string line = k + ": " + v;
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) return Status::Unavailable("out of memory building headers");
    headers.release();
    headers.reset(next);
  }
  if (!FindHeader(request.headers, "Expect")) {
    curl_slist* next = curl_slist_append(headers.get(), "Expect:");
    if (next != nullptr) {
      headers.release();
      headers.reset(next);
    }
  }

  char errbuf[CURL_ERROR_SIZE] = {0};
  std::string range;
  curl_easy_setopt(h, CURLOPT_SHARE, impl_->share.get());
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!o.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  long timeout_ms = static_cast<long>(request.timeout.count());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 120000L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, o.low_speed_bytes);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_time.count()));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  // The cache is the share's, but its size is the handle's option (and
  // curl_easy_reset puts it back to 5): set on every request.
  curl_easy_setopt(h, CURLOPT_MAXCONNECTS, o.max_idle_connections);
  if (!request.body_sink) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  if (request.range_start) {
    range = std::to_string(*request.range_start) + "-";
    curl_easy_setopt(h, CURLOPT_RANGE, range.c_str());
  }
  if (request.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, HeaderCallback);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteCallback);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);

  CURLcode rc = curl_easy_perform(h);
  Status result;
  if (!t.callback_error.ok()) {
    result = t.callback_error;
  } else if (rc != CURLE_OK) {
    std::string msg = std::string("HTTP transport error: ") + curl_easy_strerror(rc);
    if (errbuf[0] != '\0') msg += std::string(" (") + errbuf + ")";
    result = Status::Unavailable(msg, !IsVerificationError(rc));
  } else {
    result = t.DeliverHeaders();  // bodiless responses still report headers
  }
  char* eff = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) response.effective_url = eff;
  // Unlink the per-call headers before the handle goes back to the pool.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  impl_->Give(std::move(easy));
  if (!result.ok()) return result;
  return response;
}

}  // namespace m365vault::sync
