// sync/graph/token_provider.cpp
#include "sync/graph/token_provider.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "sync/graph/encoding.h"
#include "sync/graph/graph_error.h"

namespace m365vault::sync {
namespace {

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// expires_in is a number in v2, but a string in some older endpoints.
std::optional<int64_t> ReadSeconds(const nlohmann::json& j) {
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number()) return static_cast<int64_t>(j.get<double>());
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.empty() || s.size() > 12 || !std::all_of(s.begin(), s.end(), ::isdigit)) return std::nullopt;
    return std::stoll(s);
  }
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<ClientCredentialsTokenProvider>> ClientCredentialsTokenProvider::Create(
    ClientCredentialsOptions options, HttpClient& http, Clock& clock) {
  if (options.login_url.empty() || options.tenant_id.empty() || options.client_id.empty()) {
    return Status::InvalidArgument("token provider needs login_url, tenant_id and client_id");
  }
  if (options.client_secret.empty() == (options.certificate == nullptr)) {
    return Status::InvalidArgument("token provider needs exactly one of client secret or certificate");
  }
  return std::unique_ptr<ClientCredentialsTokenProvider>(
      new ClientCredentialsTokenProvider(std::move(options), http, clock));
}

ClientCredentialsTokenProvider::ClientCredentialsTokenProvider(ClientCredentialsOptions options, HttpClient& http,
                                                               Clock& clock)
    : options_(std::move(options)),
      token_url_(TrimSlash(options_.login_url) + "/" + EncodePathSegment(options_.tenant_id) + "/oauth2/v2.0/token"),
      http_(http),
      clock_(clock) {}

int ClientCredentialsTokenProvider::fetch_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return fetch_count_;
}

bool ClientCredentialsTokenProvider::UsableLocked(bool allow_due) const {
  if (token_.empty()) return false;
  auto now = clock_.Monotonic();
  return now < (allow_due ? expires_at_ : refresh_at_);
}

Result<std::string> ClientCredentialsTokenProvider::GetToken() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (UsableLocked(/*allow_due=*/false)) return token_;
  }
  std::unique_lock<std::mutex> refresh(refresh_mu_, std::try_to_lock);
  if (!refresh.owns_lock()) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (UsableLocked(/*allow_due=*/true)) return token_;  // a refresh is under way
    }
    refresh.lock();
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (UsableLocked(/*allow_due=*/false)) return token_;  // refreshed while we waited
  }
  Result<Fetched> fetched = Fetch();
  std::lock_guard<std::mutex> l(mu_);
  if (!fetched.ok()) {
    if (UsableLocked(/*allow_due=*/true)) return token_;  // proactive refresh failed; old one still good
    return fetched.status();
  }
  const auto now = clock_.Monotonic();
  const auto lifetime = fetched->lifetime;
  const auto margin = std::min<std::chrono::seconds>(options_.refresh_margin, lifetime / 5);
  // Stop using a token a little before the server would reject it.
  const auto skew = std::min<std::chrono::seconds>(std::chrono::seconds(30), lifetime / 10);
  token_ = std::move(fetched->token);
  refresh_at_ = now + lifetime - margin;
  expires_at_ = now + lifetime - skew;
  ++fetch_count_;
  return token_;
}

void ClientCredentialsTokenProvider::Invalidate(std::string_view token) {
  std::lock_guard<std::mutex> l(mu_);
  if (!token_.empty() && token_ == token) token_.clear();
}

Result<ClientCredentialsTokenProvider::Fetched> ClientCredentialsTokenProvider::Fetch() {
  std::vector<std::pair<std::string, std::string>> form = {
      {"client_id", options_.client_id},
      {"scope", std::string(kGraphScope)},
      {"grant_type", "client_credentials"},
  };
  if (options_.certificate) {
    M365_ASSIGN_OR_RETURN(std::string assertion,
                          options_.certificate->MakeAssertion(token_url_, options_.client_id, clock_.Now(),
                                                              options_.assertion_lifetime));
    form.emplace_back("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    form.emplace_back("client_assertion", std::move(assertion));
  } else {
    form.emplace_back("client_secret", options_.client_secret);
  }
  HttpRequest req;
  req.method = "POST";
  req.url = token_url_;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.body = FormEncode(form);
  req.timeout = options_.request_timeout;

  Result<HttpResponse> sent = http_.Send(req);
  if (!sent.ok()) return sent.status().WithContext("token request");
  const HttpResponse& resp = *sent;
  if (resp.status != 200) {
    GraphError e = ParseGraphError(resp.status, resp.body, resp.headers);
    std::string what = "token request to " + token_url_ + " failed: HTTP " + std::to_string(resp.status);
    if (!e.code.empty()) what += " " + e.code;
    if (!e.message.empty()) what += ": " + e.message.substr(0, 500);
    if (resp.status >= 500 || resp.status == 429 || resp.status == 408) return Status::Unavailable(what, true);
    return Status::PermissionDenied(what);
  }
  nlohmann::json doc = nlohmann::json::parse(resp.body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status::Unavailable("token endpoint returned malformed JSON", true);
  }
  auto at = doc.find("access_token");
  auto ei = doc.find("expires_in");
  if (at == doc.end() || !at->is_string() || at->get_ref<const std::string&>().empty()) {
    return Status::Unavailable("token response has no access_token", true);
  }
  std::optional<int64_t> seconds = ei == doc.end() ? std::optional<int64_t>(3599) : ReadSeconds(*ei);
  if (!seconds || *seconds <= 0) return Status::Unavailable("token response has a bad expires_in", true);
  return Fetched{at->get<std::string>(), std::chrono::seconds(*seconds)};
}

}  // namespace m365vault::sync
