// sync/graph/fake_http_client.cpp
#include "sync/graph/fake_http_client.h"

namespace m365vault::sync {

FakeResponse FakeResponse::Json(int status, std::string body, HttpHeaders headers) {
  FakeResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  r.headers.emplace_back("Content-Type", "application/json");
  return r;
}

FakeResponse FakeResponse::Transport(std::string message) {
  FakeResponse r;
  r.transport_error = Status::Unavailable(std::move(message), true);
  return r;
}

void FakeHttpClient::Enqueue(const std::string& url_part, FakeResponse response) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [pattern, queue] : queues_) {
    if (pattern == url_part) {
      queue.push_back(std::move(response));
      return;
    }
  }
  queues_.emplace_back(url_part, std::deque<FakeResponse>{std::move(response)});
}

void FakeHttpClient::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> l(mu_);
  handler_ = std::move(handler);
}

Result<HttpResponse> FakeHttpClient::Send(const HttpRequest& request) {
  std::optional<FakeResponse> scripted;
  Handler handler;
  {
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back({request.method, request.url, request.headers, request.body, request.range_start});
    handler = handler_;
  }
  if (handler) scripted = handler(request);  // outside the lock: handlers may block
  if (!scripted) {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [pattern, queue] : queues_) {
      if (!queue.empty() && request.url.find(pattern) != std::string::npos) {
        scripted = std::move(queue.front());
        queue.pop_front();
        break;
      }
    }
  }
  if (!scripted) {
    return Status::InvalidArgument("FakeHttpClient: nothing scripted for " + request.method + " " + request.url);
  }
  if (!scripted->transport_error.ok()) return scripted->transport_error;

  HttpResponse resp;
  resp.status = scripted->status;
  resp.headers = scripted->headers;
  resp.effective_url = request.url;
  if (request.on_headers) M365_RETURN_IF_ERROR(request.on_headers(resp.status, resp.headers));
  const bool stream = request.body_sink && resp.status >= 200 && resp.status < 300;
  if (!stream) {
    resp.body = scripted->body;
    return resp;
  }
  const std::string& body = scripted->body;
  const size_t limit = scripted->break_after ? std::min(*scripted->break_after, body.size()) : body.size();
  for (size_t off = 0; off < limit; off += kChunk) {
    M365_RETURN_IF_ERROR(request.body_sink(std::string_view(body).substr(off, std::min(kChunk, limit - off))));
  }
  if (scripted->break_after) return Status::Unavailable("FakeHttpClient: connection reset mid-body", true);
  return resp;
}

std::vector<RecordedRequest> FakeHttpClient::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

size_t FakeHttpClient::RequestCount(const std::string& url_part) const {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (const auto& r : requests_) n += r.url.find(url_part) != std::string::npos ? 1 : 0;
  return n;
}

size_t FakeHttpClient::Unserved() const {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = 0;
  for (const auto& [p, q] : queues_) n += q.size();
  return n;
}

}  // namespace m365vault::sync
