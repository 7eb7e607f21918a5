// tests/sync/curl_http_client_test.cpp: the real CurlHttpClient against a
// local HTTPS server (curl_test_server.js, Node.js) with a throwaway CA.
// Skipped (with a warning) when node or the openssl CLI is missing.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "backend/clock.h"
#include "sync/graph/curl_http_client.h"
#include "sync/graph/graph_client.h"
#include "sync/graph/token_provider.h"

namespace m365vault::sync {
namespace {

namespace fs = std::filesystem;

// The node test server as a child process; killed on destruction.
class TestServer {
 public:
  // The server's request counters (GET /control/counters).
  nlohmann::json Counters(HttpClient& http) const {
    HttpRequest req;
    req.url = url() + "/control/counters";
    auto resp = http.Send(req);
    REQUIRE(resp.ok());
    auto c = nlohmann::json::parse(resp->body, nullptr, false);
    REQUIRE_FALSE(c.is_discarded());
    return c;
  }
  TestServer() {
    dir_ = fs::temp_directory_path() / ("m365vault-curl-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    key_ = (dir_ / "key.pem").string();
    cert_ = (dir_ / "cert.pem").string();
    std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
                      " -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " + key_ + " -out " + cert_ +
                      " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return;
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::string script = std::string(M365_SYNC_TEST_DIR) + "/curl_test_server.js";
      execlp("node", "node", script.c_str(), key_.c_str(), cert_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[128] = {0};
    if (out != nullptr && std::fgets(line, sizeof(line), out) != nullptr) {
      std::sscanf(line, "PORT %d", &port_);
    }
    if (out != nullptr) std::fclose(out);
  }
  ~TestServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool ok() const { return port_ > 0; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const std::string& ca_file() const { return cert_; }

 private:
  fs::path dir_;
  std::string key_, cert_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace

TEST_CASE("CurlHttpClient against a local HTTPS server", "[sync][curl]") {
  CurlGlobal global;
  REQUIRE(global.ok());
  TestServer server;
  if (!server.ok()) {
    FAIL("the local HTTPS test server did not start (node and openssl come from scripts/install-deps)");
  }
  CurlHttpClient::Options co;
  co.ca_file = server.ca_file();
  auto http_or = CurlHttpClient::Create(co);
  REQUIRE(http_or.ok());
  CurlHttpClient& http = **http_or;

  SECTION("TLS verification is on: without the CA the server is refused, not retried") {
    auto plain = CurlHttpClient::Create({});
    REQUIRE(plain.ok());
    HttpRequest req;
    req.url = server.url() + "/control/counters";
    auto r = (*plain)->Send(req);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Status::Code::kUnavailable);
    CHECK_FALSE(r.status().retryable());
  }

  SECTION("token, paging, gzip, 429, 302 download and Range resume") {
    Clock& clock = Clock::Real();
    ClientCredentialsOptions to;
    to.login_url = server.url();
    to.tenant_id = "tenant-1";
    to.client_id = "app";
    to.client_secret = "pw";
    auto tokens = ClientCredentialsTokenProvider::Create(to, http, clock);
    REQUIRE(tokens.ok());
    GraphClientOptions go;
    go.graph_url = server.url();
    go.backoff.initial_delay = std::chrono::milliseconds(10);
    GraphClient client(go, http, **tokens, clock);

    RequestOptions ro;
    ro.prefer = {"odata.maxpagesize=2"};
    std::vector<std::string> ids;
    auto paged = client.ForEachPage("/users", ro, [&](const nlohmann::json& page) {
      for (const auto& u : page["value"]) ids.push_back(u["id"]);
      return Status::OK();
    });
    REQUIRE(paged.ok());
    CHECK(ids == std::vector<std::string>{"u1", "u2", "u3"});
    CHECK(paged->pages == 3);
    CHECK(paged->delta_link == server.url() + "/v1.0/users/delta?$deltatoken=x");

    auto gz = client.GetJson("/gzip");
    REQUIRE(gz.ok());
    CHECK((*gz)["value"].get<std::string>().size() == 5000);

    auto start = std::chrono::steady_clock::now();
    auto throttled = client.GetJson("/throttle");
    REQUIRE(throttled.ok());
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(200));

    std::string whole, resumed;
    auto d1 = client.Download("/drives/d/items/plain/content", [&](std::string_view c) {
      whole.append(c);
      return Status::OK();
    });
    REQUIRE(d1.ok());
    CHECK(whole.size() == 200000);
    auto d2 = client.Download("/drives/d/items/break/content", [&](std::string_view c) {
      resumed.append(c);
      return Status::OK();
    });
    REQUIRE(d2.ok());
    CHECK(d2->resumes >= 1);
    CHECK(resumed == whole);

    auto missing = client.GetJson("/nothing");
    CHECK(missing.status().IsNotFound());

    const nlohmann::json c = server.Counters(http);
    CHECK(c["violations"] == 0);
    CHECK(c["token_requests"] == 1);
    CHECK(c["range_requests"].get<int>() >= 1);
    CHECK(c["throttled"] == 1);
  }

  SECTION("connections are reused when many requests run at once") {
    // 8 threads x 25 requests: at most 8 are in flight, so 8 connections (plus
    // the counters request) suffice. libcurl's default cache of 5 idle
    // connections would close most of them: ~100 new TLS handshakes.
    constexpr int kThreads = 8, kRequests = 25;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kRequests; ++i) {
          HttpRequest req;
          req.url = server.url() + "/blob/plain";
          auto r = http.Send(req);
          if (!r.ok() || r->status != 200 || r->body.size() != 200000) ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    const nlohmann::json c = server.Counters(http);
    CHECK(c["blob_requests"] == kThreads * kRequests);
    CHECK(c["tls_connections"].get<int>() <= kThreads + 1);
  }

  SECTION("a wrong secret is PermissionDenied with the OAuth code") {
    ClientCredentialsOptions to;
    to.login_url = server.url();
    to.tenant_id = "tenant-1";
    to.client_id = "app";
    to.client_secret = "wrong";
    auto tokens = ClientCredentialsTokenProvider::Create(to, http, Clock::Real());
    REQUIRE(tokens.ok());
    auto t = (*tokens)->GetToken();
    REQUIRE_FALSE(t.ok());
    CHECK(t.status().code() == Status::Code::kPermissionDenied);
    CHECK(t.status().message().find("invalid_client") != std::string::npos);
    CHECK(t.status().message().find("wrong") == std::string::npos);
  }
}

}  // namespace m365vault::sync
