// sync/graph/graph_client.cpp: URL resolution, the retry loop, JSON and paging.
// Downloads are in graph_download.cpp.
#include "sync/graph/graph_client.h"
#include "sync/engine/safe_name.h"

#include <optional>

#include "sync/graph/encoding.h"

namespace m365vault::sync {
namespace {

bool IsAbsoluteUrl(std::string_view s) { return s.substr(0, 8) == "https://" || s.substr(0, 7) == "http://"; }

// "https://host:port" of an absolute URL.
std::string_view Origin(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  size_t end = url.find_first_of("/?#", scheme + 3);
  return url.substr(0, end);
}

bool IsSuccess(int status) { return status >= 200 && status < 400; }

}  // namespace

GraphClient::GraphClient(GraphClientOptions options, HttpClient& http, TokenProvider& tokens, Clock& clock)
    : options_(std::move(options)),
      http_(http),
      tokens_(tokens),
      clock_(clock),
      backoff_(options_.backoff, options_.random),
      limiter_(options_.max_per_key, options_.max_in_flight) {}

std::string GraphClient::ResolveUrl(std::string_view path_or_url) const {
  if (IsAbsoluteUrl(path_or_url)) return std::string(path_or_url);
  std::string base = options_.graph_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string path(path_or_url);
  if (path.empty() || path.front() != '/') path.insert(0, "/");
  const std::string version_prefix = "/" + options_.api_version + "/";
  if (path.rfind(version_prefix, 0) == 0) return base + path;
  return base + "/" + options_.api_version + path;
}

bool GraphClient::IsGraphOrigin(std::string_view url) const {
  return EqualsIgnoreCase(Origin(url), Origin(options_.graph_url));
}

void GraphClient::AddHeaders(HttpRequest& request, const RequestOptions& options,
                             const std::string& request_id) const {
  std::string prefer;
  auto add_prefer = [&](std::string_view v) {
    if (v.empty()) return;
    if (!prefer.empty()) prefer += ", ";
    prefer += v;
  };
  for (const auto& p : options.prefer) add_prefer(p);
  for (const auto& [k, v] : options.headers) {
    if (EqualsIgnoreCase(k, "Prefer")) {
      add_prefer(v);
    } else if (!EqualsIgnoreCase(k, "Authorization")) {  // auth is ours to set
      request.headers.emplace_back(k, v);
    }
  }
  if (!prefer.empty()) request.headers.emplace_back("Prefer", prefer);
  request.headers.emplace_back("User-Agent", options_.user_agent);
  request.headers.emplace_back("client-request-id", request_id);
  request.timeout = options.timeout.count() > 0 ? options.timeout : request.timeout;
}

Result<HttpResponse> GraphClient::Execute(const HttpRequest& base, const RequestOptions& options, bool authenticate,
                                          const PrepareFn& prepare, const ValidateFn& validate,
                                          GraphError* error) {
  if (authenticate && !IsGraphOrigin(base.url)) {
    return Status::InvalidArgument("refusing to send a Graph token to a host other than " +
                                   std::string(Origin(options_.graph_url)));
  }
  const std::string request_id = NewGuid();
  const BackoffOptions& bo = backoff_.options();
  bool refreshed = false;
  int retries = 0;
  int malformed = 0;
  for (;;) {
    HttpRequest req = base;
    if (prepare) prepare(req);
    AddHeaders(req, options, request_id);

    std::string token;
    Status failure;
    GraphError graph_error;
    std::optional<std::chrono::nanoseconds> retry_after;
    bool have_graph_error = false;

    if (authenticate) {
      Result<std::string> t = tokens_.GetToken();
      if (t.ok()) {
        token = std::move(t).value();
        req.headers.emplace_back("Authorization", "Bearer " + token);
      } else {
        failure = t.status();
      }
    }
    if (failure.ok()) {
      Result<HttpResponse> sent = [&] {
        ConcurrencyLimiter::Permit permit = limiter_.Acquire(options.concurrency_key);
        return http_.Send(req);
      }();
      if (!sent.ok()) {
        failure = sent.status();
        graph_error = TransportError(failure);
        have_graph_error = true;
      } else if (IsSuccess(sent->status)) {
        Status valid = validate ? validate(*sent) : Status::OK();
        if (valid.ok()) return sent;
        failure = valid;
        if (++malformed < options_.max_malformed_json_attempts) failure = Status::Unavailable(valid.message());
      } else {
        graph_error = ParseGraphError(sent->status, sent->body, sent->headers);
        have_graph_error = true;
        failure = graph_error.ToStatus();
        if (auto ra = sent->Header("Retry-After")) retry_after = ParseRetryAfter(*ra, clock_.Now());
        if (graph_error.kind == GraphErrorKind::kRefreshToken && authenticate && !refreshed) {
          tokens_.Invalidate(token);
          refreshed = true;
          continue;  // replay once with a fresh token, no wait
        }
      }
    }

    auto give_up = [&](Status st) -> Status {
      if (error != nullptr && have_graph_error) *error = graph_error;
      return st;
    };
    const bool retryable = have_graph_error && graph_error.http_status != 0
                               ? graph_error.kind == GraphErrorKind::kRetryable
                               : failure.retryable();
    if (!retryable) return give_up(failure);
    if (retries + 1 >= bo.max_attempts) {
      return give_up(failure.WithContext("gave up after " + std::to_string(retries + 1) + " attempts"));
    }
    if (retry_after && *retry_after > bo.max_retry_after) {
      return give_up(failure.WithContext("server asked to wait longer than allowed"));
    }
    clock_.SleepFor(backoff_.Delay(retries, retry_after));
    ++retries;
  }
}

Result<nlohmann::json> GraphClient::SendJson(HttpRequest request, const RequestOptions& options,
                                             GraphError* error) {
  nlohmann::json parsed;
  request.headers.emplace_back("Accept", "application/json");
  request.timeout = options_.request_timeout;  // AddHeaders applies options.timeout if set
  auto validate = [&](const HttpResponse& resp) -> Status {
    if (resp.status >= 300) {
      return Status::Corruption("unexpected HTTP " + std::to_string(resp.status) + " for a JSON request");
    }
    if (resp.status == 204 || resp.body.empty()) {
      parsed = nlohmann::json::object();
      return Status::OK();
    }
    parsed = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
    std::string repaired;  // Graph may send lone UTF-16 surrogates ("\ud800"): make them U+FFFD
    if (parsed.is_discarded() && RepairJsonSurrogates(resp.body, &repaired)) {
      parsed = nlohmann::json::parse(repaired, nullptr, /*allow_exceptions=*/false);
    }
    if (parsed.is_discarded()) {
      return Status::Corruption("malformed JSON from " + resp.effective_url + " (" +
                                std::to_string(resp.body.size()) + " bytes)");
    }
    return Status::OK();
  };
  M365_ASSIGN_OR_RETURN(HttpResponse resp, Execute(request, options, /*authenticate=*/true, nullptr, validate, error));
  (void)resp;
  return parsed;
}

Result<nlohmann::json> GraphClient::GetJson(std::string_view path_or_url, const RequestOptions& options,
                                            GraphError* error) {
  HttpRequest req;
  req.method = "GET";
  req.url = ResolveUrl(path_or_url);
  return SendJson(std::move(req), options, error);
}

Result<nlohmann::json> GraphClient::PostJson(std::string_view path_or_url, const nlohmann::json& body,
                                             const RequestOptions& options, GraphError* error) {
  HttpRequest req;
  req.method = "POST";
  req.url = ResolveUrl(path_or_url);
  req.body = body.dump();
  req.headers.emplace_back("Content-Type", "application/json");
  return SendJson(std::move(req), options, error);
}

Result<PagingResult> GraphClient::ForEachPage(std::string_view path_or_url, const RequestOptions& options,
                                              const PageCallback& on_page, GraphError* error) {
  PagingResult result;
  std::string url = ResolveUrl(path_or_url);
  for (;;) {
    M365_ASSIGN_OR_RETURN(nlohmann::json page, GetJson(url, options, error));
    if (!page.is_object()) return Status::Corruption("collection page is not a JSON object: " + url);
    ++result.pages;
    M365_RETURN_IF_ERROR(on_page(page));
    auto next = page.find("@odata.nextLink");
    if (next != page.end() && next->is_string() && !next->get_ref<const std::string&>().empty()) {
      std::string next_url = next->get<std::string>();
      if (next_url == url) return Status::Corruption("@odata.nextLink points at the same page: " + url);
      url = std::move(next_url);
      continue;
    }
    auto delta = page.find("@odata.deltaLink");
    if (delta != page.end() && delta->is_string()) result.delta_link = delta->get<std::string>();
    return result;
  }
}

}  // namespace m365vault::sync
