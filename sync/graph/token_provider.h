// sync/graph/token_provider.h
//
// TokenProvider: hands out Graph access tokens. ClientCredentialsTokenProvider
// is the OAuth2 client-credentials implementation against
//   POST {login_url}/{tenant_id}/oauth2/v2.0/token
// with scope https://graph.microsoft.com/.default and either a client secret
// or a certificate (signed JWT client assertion, sync/graph/jwt_assertion.h).
//
// Caching: a token is reused until it is due for refresh, which is a margin
// before its expiry: min(refresh_margin, 20% of its lifetime), so an hour-long
// token is refreshed 5 minutes early and a 30-second one after 24 seconds.
// While a refresh is in flight, callers holding a still-valid token get it at
// once; callers without one wait for the refresh (one request at a time).
// If a proactive refresh fails while the old token is still valid, the old
// token is returned and the next call tries again.
//
// Secrets (client secret, assertion, tokens) are never logged and never put
// in a Status message.
//
// Errors from GetToken: PermissionDenied with the OAuth error code and
// description for a rejected request (invalid_client, unauthorized_client,
// invalid_scope, ...); Unavailable (retryable) for 5xx, 429 and transport
// failures. GetToken does not retry by itself: GraphClient's retry loop does.
//
// Thread safety: all methods are safe to call from many threads.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "backend/clock.h"
#include "backend/status.h"
#include "sync/graph/http_client.h"
#include "sync/graph/jwt_assertion.h"

namespace m365vault::sync {

inline constexpr std::string_view kGraphScope = "https://graph.microsoft.com/.default";

class TokenProvider {
 public:
  virtual ~TokenProvider() = default;
  // A currently valid access token (without the "Bearer " prefix).
  virtual Result<std::string> GetToken() = 0;
  // Forgets `token` if it is the cached one (after a 401), so the next
  // GetToken fetches a fresh one. A stale token (already replaced) is ignored,
  // so many threads hitting 401 on the same token cause one refresh.
  virtual void Invalidate(std::string_view token) = 0;
};

struct ClientCredentialsOptions {
  std::string login_url = "https://login.microsoftonline.com";
  std::string tenant_id;
  std::string client_id;
  // Exactly one of the two credentials.
  std::string client_secret;
  std::shared_ptr<const CertificateCredential> certificate;
  std::chrono::seconds refresh_margin{std::chrono::minutes(5)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::chrono::seconds assertion_lifetime{std::chrono::minutes(10)};
};

class ClientCredentialsTokenProvider final : public TokenProvider {
 public:
  // `http` and `clock` must outlive this object.
  // Errors: InvalidArgument when the options are incomplete or name both or
  // neither credential.
  static Result<std::unique_ptr<ClientCredentialsTokenProvider>> Create(ClientCredentialsOptions options,
                                                                        HttpClient& http, Clock& clock);

  Result<std::string> GetToken() override;
  void Invalidate(std::string_view token) override;

  // {login_url}/{tenant_id}/oauth2/v2.0/token (also the assertion audience).
  const std::string& token_url() const { return token_url_; }
  // How many token requests succeeded (for tests and metrics).
  int fetch_count() const;

 private:
  struct Fetched {
    std::string token;
    std::chrono::seconds lifetime;
  };
  ClientCredentialsTokenProvider(ClientCredentialsOptions options, HttpClient& http, Clock& clock);
  Result<Fetched> Fetch();
  // REQUIRES: mu_ held.
  bool UsableLocked(bool allow_due) const;

  const ClientCredentialsOptions options_;
  const std::string token_url_;
  HttpClient& http_;
  Clock& clock_;

  std::mutex refresh_mu_;  // held for the whole token request: one at a time
  mutable std::mutex mu_;  // guards the fields below
  std::string token_;
  std::chrono::steady_clock::time_point refresh_at_;
  std::chrono::steady_clock::time_point expires_at_;
  int fetch_count_ = 0;
};

}  // namespace m365vault::sync
