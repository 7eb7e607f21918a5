// tests/sync/token_provider_test.cpp
#include <catch2/catch.hpp>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "backend/clock.h"
#include "sync/graph/encoding.h"
#include "sync/graph/fake_http_client.h"
#include "sync/graph/jwt_assertion.h"
#include "sync/graph/token_provider.h"
#include "tests/sync/sync_test_util.h"

namespace m365vault::sync {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kTokenUrl = "https://login.example/tenant-1/oauth2/v2.0/token";

std::map<std::string, std::string> ParseForm(const std::string& body) {
  auto decode = [](std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size() + 0 && i + 2 <= s.size() - 1) {
        out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(s[i] == '+' ? ' ' : s[i]);
      }
    }
    return out;
  };
  std::map<std::string, std::string> m;
  size_t pos = 0;
  while (pos <= body.size()) {
    size_t amp = body.find('&', pos);
    std::string_view pair = std::string_view(body).substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    size_t eq = pair.find('=');
    m[decode(pair.substr(0, eq))] = eq == std::string_view::npos ? "" : decode(pair.substr(eq + 1));
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return m;
}

FakeResponse TokenResponse(const std::string& token, int expires_in) {
  return FakeResponse::Json(
      200, R"({"token_type":"Bearer","expires_in":)" + std::to_string(expires_in) +
               R"(,"ext_expires_in":3599,"access_token":")" + token + R"("})");
}

ClientCredentialsOptions SecretOptions() {
  ClientCredentialsOptions o;
  o.login_url = "https://login.example/";
  o.tenant_id = "tenant-1";
  o.client_id = "app-1";
  o.client_secret = "s3cr3t&=+";
  return o;
}

std::unique_ptr<ClientCredentialsTokenProvider> Make(ClientCredentialsOptions o, HttpClient& http, Clock& clock) {
  auto r = ClientCredentialsTokenProvider::Create(std::move(o), http, clock);
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("Client secret token request has the documented form", "[sync]") {
  FakeHttpClient http;
  ManualClock clock;
  auto p = Make(SecretOptions(), http, clock);
  CHECK(p->token_url() == kTokenUrl);
  http.Enqueue("/oauth2/v2.0/token", TokenResponse("AT1", 3599));
  auto t = p->GetToken();
  REQUIRE(t.ok());
  CHECK(*t == "AT1");
  auto reqs = http.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].url == kTokenUrl);
  CHECK(reqs[0].Header("content-type") == std::optional<std::string_view>("application/x-www-form-urlencoded"));
  CHECK(reqs[0].body.find("scope=https%3A%2F%2Fgraph.microsoft.com%2F.default") != std::string::npos);
  auto form = ParseForm(reqs[0].body);
  CHECK(form["client_id"] == "app-1");
  CHECK(form["grant_type"] == "client_credentials");
  CHECK(form["client_secret"] == "s3cr3t&=+");
  CHECK(form["scope"] == "https://graph.microsoft.com/.default");
  CHECK(form.count("client_assertion") == 0);
}

TEST_CASE("Tokens are cached and refreshed proactively", "[sync]") {
  FakeHttpClient http;
  ManualClock clock;
  auto p = Make(SecretOptions(), http, clock);
  SECTION("an hour-long token is refreshed 5 minutes early") {
    http.Enqueue("/token", TokenResponse("AT1", 3600));
    http.Enqueue("/token", TokenResponse("AT2", 3600));
    REQUIRE(*p->GetToken() == "AT1");
    clock.Advance(minutes(54));
    CHECK(*p->GetToken() == "AT1");
    CHECK(http.requests().size() == 1);
    clock.Advance(minutes(1) + seconds(1));
    CHECK(*p->GetToken() == "AT2");
    CHECK(p->fetch_count() == 2);
  }
  SECTION("a 30-second token is refreshed at 80% of its lifetime") {
    http.Enqueue("/token", TokenResponse("S1", 30));
    http.Enqueue("/token", TokenResponse("S2", 30));
    REQUIRE(*p->GetToken() == "S1");
    clock.Advance(seconds(23));
    CHECK(*p->GetToken() == "S1");
    clock.Advance(seconds(2));
    CHECK(*p->GetToken() == "S2");
  }
  SECTION("a failed proactive refresh keeps the still-valid token") {
    http.Enqueue("/token", TokenResponse("AT1", 3600));
    http.Enqueue("/token", FakeResponse::Json(503, ""));
    http.Enqueue("/token", TokenResponse("AT2", 3600));
    REQUIRE(*p->GetToken() == "AT1");
    clock.Advance(minutes(56));
    CHECK(*p->GetToken() == "AT1");  // refresh failed, old one still good
    CHECK(*p->GetToken() == "AT2");  // next call retries
  }
}

TEST_CASE("Invalidate forces a refresh once; stale invalidations are ignored", "[sync]") {
  FakeHttpClient http;
  ManualClock clock;
  auto p = Make(SecretOptions(), http, clock);
  http.Enqueue("/token", TokenResponse("AT1", 3600));
  http.Enqueue("/token", TokenResponse("AT2", 3600));
  REQUIRE(*p->GetToken() == "AT1");
  p->Invalidate("AT1");
  CHECK(*p->GetToken() == "AT2");
  p->Invalidate("AT1");  // a late 401 on the old token
  CHECK(*p->GetToken() == "AT2");
  CHECK(http.requests().size() == 2);
}

TEST_CASE("Token endpoint errors: OAuth rejections are PermissionDenied, 5xx retryable", "[sync]") {
  FakeHttpClient http;
  ManualClock clock;
  auto p = Make(SecretOptions(), http, clock);
  SECTION("invalid_client") {
    http.Enqueue("/token", FakeResponse::Json(401, R"({"error":"invalid_client",
        "error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]})"));
    auto t = p->GetToken();
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().code() == Status::Code::kPermissionDenied);
    CHECK_FALSE(t.status().retryable());
    CHECK(t.status().message().find("invalid_client") != std::string::npos);
    CHECK(t.status().message().find("AADSTS7000215") != std::string::npos);
    CHECK(t.status().message().find("s3cr3t") == std::string::npos);
  }
  SECTION("503 and transport") {
    http.Enqueue("/token", FakeResponse::Json(503, ""));
    http.Enqueue("/token", FakeResponse::Transport("connection refused"));
    auto t1 = p->GetToken();
    REQUIRE_FALSE(t1.ok());
    CHECK(t1.status().retryable());
    auto t2 = p->GetToken();
    REQUIRE_FALSE(t2.ok());
    CHECK(t2.status().retryable());
  }
  SECTION("malformed success body") {
    http.Enqueue("/token", FakeResponse::Json(200, R"({"token_type":"Bearer"})"));
    auto t = p->GetToken();
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().retryable());
  }
}

TEST_CASE("Concurrent callers share one token request", "[sync]") {
  FakeHttpClient http;
  ManualClock clock;
  auto p = Make(SecretOptions(), http, clock);
  std::atomic<int> calls{0};
  http.SetHandler([&](const HttpRequest&) -> std::optional<FakeResponse> {
    ++calls;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return TokenResponse("AT" + std::to_string(calls.load()), 3600);
  });
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto t = p->GetToken();
      if (t.ok() && *t == "AT1") ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(calls.load() == 1);
  CHECK(ok.load() == 8);
}

TEST_CASE("Options must name exactly one credential", "[sync]") {
  FakeHttpClient http;
  ManualClock clock;
  ClientCredentialsOptions none = SecretOptions();
  none.client_secret.clear();
  CHECK_FALSE(ClientCredentialsTokenProvider::Create(none, http, clock).ok());
  ClientCredentialsOptions missing_tenant = SecretOptions();
  missing_tenant.tenant_id.clear();
  CHECK_FALSE(ClientCredentialsTokenProvider::Create(missing_tenant, http, clock).ok());
}

TEST_CASE("Certificate assertion is an RS256 JWT that verifies with the certificate", "[sync]") {
  testing::TestCertificate tc = testing::MakeTestCertificate();
  auto cred = CertificateCredential::FromPem(tc.pem);
  REQUIRE(cred.ok());

  FakeHttpClient http;
  ManualClock clock;
  ClientCredentialsOptions o = SecretOptions();
  o.client_secret.clear();
  o.certificate = std::shared_ptr<const CertificateCredential>(std::move(cred).value());
  auto p = Make(o, http, clock);
  http.Enqueue("/token", TokenResponse("CERT-AT", 3600));
  http.Enqueue("/token", TokenResponse("CERT-AT2", 3600));
  REQUIRE(*p->GetToken() == "CERT-AT");
  p->Invalidate("CERT-AT");
  REQUIRE(*p->GetToken() == "CERT-AT2");

  auto reqs = http.requests();
  REQUIRE(reqs.size() == 2);
  auto form = ParseForm(reqs[0].body);
  CHECK(form.count("client_secret") == 0);
  CHECK(form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  const std::string jwt = form["client_assertion"];
  size_t d1 = jwt.find('.'), d2 = jwt.rfind('.');
  REQUIRE(d1 != std::string::npos);
  REQUIRE(d2 != d1);
  auto header = nlohmann::json::parse(Base64UrlDecode(jwt.substr(0, d1)), nullptr, false);
  auto claims = nlohmann::json::parse(Base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1)), nullptr, false);
  REQUIRE_FALSE(header.is_discarded());
  REQUIRE_FALSE(claims.is_discarded());

  // Thumbprints computed independently from the certificate PEM.
  BIO* bio = BIO_new_mem_buf(tc.cert_pem.data(), static_cast<int>(tc.cert_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  REQUIRE(cert != nullptr);
  unsigned char* der = nullptr;
  int der_len = i2d_X509(cert, &der);
  unsigned char sha1[20], sha256[32];
  unsigned int len = 0;
  EVP_Digest(der, der_len, sha1, &len, EVP_sha1(), nullptr);
  EVP_Digest(der, der_len, sha256, &len, EVP_sha256(), nullptr);
  OPENSSL_free(der);

  CHECK(header["alg"] == "RS256");
  CHECK(header["typ"] == "JWT");
  CHECK(header["x5t"] == Base64UrlEncode(std::string(reinterpret_cast<char*>(sha1), 20)));
  CHECK(header["x5t#S256"] == Base64UrlEncode(std::string(reinterpret_cast<char*>(sha256), 32)));
  const int64_t now = std::chrono::duration_cast<seconds>(clock.Now().time_since_epoch()).count();
  CHECK(claims["aud"] == kTokenUrl);
  CHECK(claims["iss"] == "app-1");
  CHECK(claims["sub"] == "app-1");
  CHECK(claims["nbf"] == now);
  CHECK(claims["iat"] == now);
  CHECK(claims["exp"] == now + 600);
  CHECK(claims["jti"].get<std::string>().size() == 36);
  auto form2 = ParseForm(reqs[1].body);
  auto claims2 = nlohmann::json::parse(
      Base64UrlDecode(form2["client_assertion"].substr(form2["client_assertion"].find('.') + 1,
                                                       form2["client_assertion"].rfind('.') -
                                                           form2["client_assertion"].find('.') - 1)),
      nullptr, false);
  CHECK(claims2["jti"] != claims["jti"]);  // a fresh jti per assertion

  // The signature verifies with the certificate's public key...
  EVP_PKEY* pub = X509_get_pubkey(cert);
  auto verify = [&](const std::string& signing_input, const std::string& sig) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    int ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pub) == 1 &&
             EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                              reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok != 0;
  };
  const std::string signing_input = jwt.substr(0, d2);
  const std::string signature = Base64UrlDecode(jwt.substr(d2 + 1));
  CHECK(signature.size() == 256);
  CHECK(verify(signing_input, signature));
  // ...and not once the claims are tampered with.
  std::string tampered = signing_input;
  tampered[tampered.size() - 2] ^= 1;
  CHECK_FALSE(verify(tampered, signature));
  EVP_PKEY_free(pub);
  X509_free(cert);
}

TEST_CASE("Certificate PEM errors are clear", "[sync]") {
  CHECK_FALSE(CertificateCredential::FromPem("not a pem").ok());
  testing::TestCertificate tc = testing::MakeTestCertificate();
  auto key_only = CertificateCredential::FromPem(tc.pem.substr(0, tc.pem.find("-----BEGIN CERTIFICATE")));
  REQUIRE_FALSE(key_only.ok());
  CHECK(key_only.status().message().find("certificate") != std::string::npos);
  testing::TestCertificate other = testing::MakeTestCertificate();
  std::string mismatched = tc.pem.substr(0, tc.pem.find("-----BEGIN CERTIFICATE")) + other.cert_pem;
  auto bad = CertificateCredential::FromPem(mismatched);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("does not match") != std::string::npos);
  CHECK(CertificateCredential::LoadPemFile("/nonexistent/cert.pem").status().IsNotFound());
}

}  // namespace m365vault::sync
