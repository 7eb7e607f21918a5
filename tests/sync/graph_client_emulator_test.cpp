// tests/sync/graph_client_emulator_test.cpp: the real Graph client stack
// (CurlHttpClient + ClientCredentialsTokenProvider + GraphClient) against the
// Graph emulator (tests/graph_emulator/server.js) over HTTPS. Skipped with a
// warning when node is missing.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "backend/clock.h"
#include "sync/graph/curl_http_client.h"
#include "sync/graph/encoding.h"
#include "sync/graph/graph_client.h"
#include "sync/graph/jwt_assertion.h"
#include "sync/graph/token_provider.h"

namespace m365vault::sync {
namespace {

namespace fs = std::filesystem;

class Emulator {
 public:
  Emulator() {
    dir_ = fs::temp_directory_path() / ("m365vault-emu-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    const std::string script = std::string(M365_REPO_DIR) + "/tests/graph_emulator/server.js";
    pid_ = fork();
    if (pid_ == 0) {
      freopen("/dev/null", "w", stdout);
      execlp("node", "node", script.c_str(), "--state-dir", dir_.c_str(), "--users", "3",
             static_cast<char*>(nullptr));
      _exit(127);
    }
    const fs::path info = dir_ / "emulator.json";
    for (int i = 0; i < 300 && !fs::exists(info); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(info);
    std::stringstream ss;
    ss << in.rdbuf();
    info_ = nlohmann::json::parse(ss.str(), nullptr, false);
  }
  ~Emulator() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bool ok() const { return info_.is_object() && info_.contains("graph_url"); }
  std::string operator[](const char* k) const { return info_.value(k, ""); }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  nlohmann::json info_;
};

}  // namespace

TEST_CASE("Graph client against the emulator", "[sync][emulator]") {
  CurlGlobal global;
  Emulator emu;
  if (!emu.ok()) {
    // Node.js is a dependency (scripts/install-deps): a missing emulator is a failure, not a skip.
    FAIL("the graph emulator did not start (node installed? see scripts/install-deps)");
  }
  CurlHttpClient::Options co;
  co.ca_file = emu["ca_file"];
  auto http = CurlHttpClient::Create(co);
  REQUIRE(http.ok());
  Clock& clock = Clock::Real();

  ClientCredentialsOptions secret;
  secret.login_url = emu["login_url"];
  secret.tenant_id = emu["tenant_id"];
  secret.client_id = emu["client_id"];
  secret.client_secret = emu["client_secret"];
  auto by_secret = ClientCredentialsTokenProvider::Create(secret, **http, clock);
  REQUIRE(by_secret.ok());
  auto t1 = (*by_secret)->GetToken();
  INFO(t1.status().ToString());
  REQUIRE(t1.ok());

  auto cert = CertificateCredential::LoadPemFile(emu["client_cert_file"]);
  INFO(cert.status().ToString());
  REQUIRE(cert.ok());
  ClientCredentialsOptions by_cert_opts = secret;
  by_cert_opts.client_secret.clear();
  by_cert_opts.certificate = std::shared_ptr<const CertificateCredential>(std::move(cert).value());
  auto by_cert = ClientCredentialsTokenProvider::Create(by_cert_opts, **http, clock);
  REQUIRE(by_cert.ok());
  auto t2 = (*by_cert)->GetToken();
  INFO(t2.status().ToString());
  REQUIRE(t2.ok());

  GraphClientOptions go;
  go.graph_url = emu["graph_url"];
  GraphClient client(go, **http, **by_cert, clock);

  std::vector<std::string> users;
  auto paged = client.ForEachPage("/users?$top=1", {}, [&](const nlohmann::json& page) {
    for (const auto& u : page["value"]) users.push_back(u["id"]);
    return Status::OK();
  });
  INFO(paged.status().ToString());
  REQUIRE(paged.ok());
  CHECK(users.size() >= 3);
  CHECK(paged->pages >= 3);

  // Find a file in some user's OneDrive and download it via the 302.
  std::string drive_id, file_id;
  int64_t file_size = -1;
  for (const auto& u : users) {
    GraphError err;
    auto drive = client.GetJson("/users/" + EncodePathSegment(u) + "/drive", {}, &err);
    if (!drive.ok()) continue;
    drive_id = (*drive)["id"];
    auto walk = client.ForEachPage("/drives/" + EncodePathSegment(drive_id) + "/root/delta", {},
                                   [&](const nlohmann::json& page) {
                                     for (const auto& it : page["value"]) {
                                       if (file_id.empty() && it.contains("file") && it.value("size", 0) > 0) {
                                         file_id = it["id"];
                                         file_size = it["size"];
                                       }
                                     }
                                     return Status::OK();
                                   });
    REQUIRE(walk.ok());
    CHECK_FALSE(walk->delta_link.empty());
    if (!file_id.empty()) break;
  }
  REQUIRE_FALSE(file_id.empty());
  uint64_t got = 0;
  auto dl = client.Download("/drives/" + EncodePathSegment(drive_id) + "/items/" + EncodePathSegment(file_id) +
                                "/content",
                            [&](std::string_view c) {
                              got += c.size();
                              return Status::OK();
                            });
  INFO(dl.status().ToString());
  REQUIRE(dl.ok());
  CHECK(static_cast<int64_t>(got) == file_size);

  HttpRequest req;
  req.url = emu["control_url"] + "/control/counters";
  auto counters = (*http)->Send(req);
  REQUIRE(counters.ok());
  auto c = nlohmann::json::parse(counters->body, nullptr, false);
  REQUIRE(c.is_object());
  INFO(counters->body);
  int violations = 0;
  for (const auto& [k, v] : c["violations"].items()) violations += v.get<int>();
  CHECK(violations == 0);
}

}  // namespace m365vault::sync
