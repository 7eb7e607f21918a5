// tests/cli/app_test.cpp: the command line in-process: usage errors, help,
// and commands over a vault holding a real snapshot (ls, cat, check).
#include "cli/app.h"

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backend/crypto.h"
#include "backend/snapshot_writer.h"
#include "backend/vault.h"

using namespace m365vault;

namespace {

struct Out {
  int rc = -1;
  std::string out, err;
};

Out RunCli(std::vector<std::string> args) {
  args.insert(args.begin(), "m365vault");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  Out r;
  r.rc = cli::Run(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

struct CliVault {
  std::string root;
  std::string dir;
  CliVault() {
    static std::atomic<int> n{0};
    root = (std::filesystem::temp_directory_path() /
            ("m365vault-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
               .string();
    std::filesystem::remove_all(root);
    dir = root + "/vault";
    REQUIRE(crypto::InitCrypto());
    ::setenv("M365VAULT_TEST_FAST_KDF", "1", 1);
    ::setenv("M365VAULT_PASSPHRASE", "pw", 1);
    ::setenv("M365VAULT_DIR", dir.c_str(), 1);
  }
  ~CliVault() { std::filesystem::remove_all(root); }

  // `init` and, for each name, `tenant add NAME` with a client secret file.
  void InitWithTenants(const std::vector<std::string>& names) {
    REQUIRE(RunCli({"init"}).rc == 0);
    const std::string secret = root + "/secret";
    { std::ofstream(secret) << "s3cret\n"; }
    for (const auto& name : names) {
      Out r = RunCli({"tenant", "add", name, "--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47", "--client-id",
                      "0b5d3c2a-1f1e-4c4b-9a38-7c2b1d2e3f40", "--client-secret-file", secret});
      INFO(r.err);
      REQUIRE(r.rc == 0);
    }
  }
};

}  // namespace

TEST_CASE("usage errors exit 2 with a hint", "[cli]") {
  CliVault v;
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {},
           {"bogus"},
           {"tenant"},
           {"tenant", "frob"},
           {"ls"},
           {"check"},
           {"job", "show", "abc"},
           {"tenant", "add", "x", "--tenant-id", "72f988bf-86f1-41af-91ab-2d7cd011db47"},
           {"snapshots", "--no-such-flag"}}) {
    INFO(args.size());
    Out r = RunCli(args);
    REQUIRE(r.rc == 2);
    REQUIRE(r.err.rfind("m365vault", 0) == 0);
  }
  Out r = RunCli({"bogus"});
  REQUIRE(r.err.find("unknown command 'bogus'") != std::string::npos);
}

TEST_CASE("every command has a --help", "[cli]") {
  CliVault v;
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{{"--help"},
                                                                             {"init", "--help"},
                                                                             {"tenant", "--help"},
                                                                             {"tenant", "add", "--help"},
                                                                             {"tenant", "list", "--help"},
                                                                             {"tenant", "show", "--help"},
                                                                             {"tenant", "remove", "--help"},
                                                                             {"snapshots", "--help"},
                                                                             {"ls", "--help"},
                                                                             {"cat", "--help"},
                                                                             {"check", "--help"},
                                                                             {"prune", "--help"},
                                                                             {"jobs", "--help"},
                                                                             {"job", "show", "--help"}}) {
    Out r = RunCli(args);
    INFO(r.out);
    REQUIRE(r.rc == 0);
    REQUIRE(r.out.find("Usage: m365vault") != std::string::npos);
  }
}

TEST_CASE("ls, cat and check read a real snapshot", "[cli]") {
  CliVault v;
  v.InitWithTenants({"contoso"});
  std::string body(300000, 'x');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i * 7919) % 26);
  std::string snap_id;
  {
    auto vault = Vault::Open(v.dir, "pw");
    REQUIRE(vault.ok());
    auto repo = (*vault)->OpenRepository("contoso");
    REQUIRE(repo.ok());
    auto w = SnapshotWriter::Start(**repo, nullptr);
    REQUIRE(w.ok());
    REQUIRE((*w)->PutFile("alice@contoso.com/Documents/plan.txt", AsBytes(body), {}).ok());
    REQUIRE((*w)->PutFile("alice@contoso.com/empty.txt", {}, {}).ok());
    SnapshotInfo fields;
    fields.tenant = "contoso";
    fields.object_type = "onedrive";
    fields.time_ns = 1'800'000'000'000'000'000;
    auto s = (*w)->Commit(fields);
    REQUIRE(s.ok());
    snap_id = s->id;
  }
  Out snaps = RunCli({"snapshots", "--json"});
  REQUIRE(snaps.rc == 0);
  REQUIRE(snaps.out.find(snap_id) != std::string::npos);
  REQUIRE(snaps.out.find("\"type\": \"onedrive\"") != std::string::npos);

  Out ls = RunCli({"ls", "contoso", "latest", "alice@contoso.com"});
  REQUIRE(ls.rc == 0);
  REQUIRE(ls.out.find("Documents/") != std::string::npos);
  REQUIRE(ls.out.find("empty.txt") != std::string::npos);

  Out lsj = RunCli({"ls", "contoso", snap_id.substr(0, 6), "/alice@contoso.com/Documents/", "--json"});
  REQUIRE(lsj.rc == 0);
  REQUIRE(lsj.out.find("\"name\": \"plan.txt\"") != std::string::npos);
  REQUIRE(lsj.out.find("\"size\": 300000") != std::string::npos);

  Out cat = RunCli({"cat", "contoso", "latest", "alice@contoso.com/Documents/plan.txt"});
  REQUIRE(cat.rc == 0);
  REQUIRE(cat.out == body);
  REQUIRE(RunCli({"cat", "contoso", "latest", "alice@contoso.com"}).rc != 0);
  REQUIRE(RunCli({"cat", "contoso", "latest", "nope.txt"}).rc == 1);
  REQUIRE(RunCli({"cat", "contoso", "ffff0000", "x"}).rc == 1);

  Out check = RunCli({"check", "contoso", "--read-data", "--json"});
  INFO(check.err);
  REQUIRE(check.rc == 0);
  REQUIRE(check.out.find("\"ok\": true") != std::string::npos);

  Out jobs = RunCli({"jobs", "contoso", "--json"});
  REQUIRE(jobs.rc == 0);
  REQUIRE(jobs.out.find("\"kind\": \"check\"") != std::string::npos);
  REQUIRE(RunCli({"job", "show", "1"}).rc == 0);
  REQUIRE(RunCli({"job", "show", "99"}).rc == 1);

  REQUIRE(RunCli({"prune", "contoso", "--forget", "0000ffff"}).rc == 1);  // no such snapshot
  Out dry = RunCli({"prune", "contoso", "--forget", snap_id.substr(0, 8), "--dry-run", "--json"});
  INFO(dry.err);
  REQUIRE(dry.rc == 0);
  REQUIRE(RunCli({"snapshots", "contoso", "--json"}).out.find(snap_id) != std::string::npos);
  Out prune = RunCli({"prune", "contoso", "--forget", snap_id.substr(0, 8), "--json"});
  INFO(prune.err);
  REQUIRE(prune.rc == 0);
  REQUIRE(prune.out.find("\"snapshots_forgotten\": 1") != std::string::npos);
  REQUIRE(RunCli({"snapshots", "contoso", "--json"}).out.find(snap_id) == std::string::npos);
  REQUIRE(RunCli({"check", "contoso", "--read-data"}).rc == 0);
  Out audit = RunCli({"audit", "--json"});
  REQUIRE(audit.out.find("repository.prune") != std::string::npos);
}

TEST_CASE("text listings are aligned tables", "[cli]") {
  CliVault v;
  v.InitWithTenants({"a", "longer-name"});
  Out list = RunCli({"tenant", "list"});
  REQUIRE(list.rc == 0);
  std::istringstream lines(list.out);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  REQUIRE(header.find("TENANT ID") == first.find("72f988bf"));
  REQUIRE(header.find("TENANT ID") == second.find("72f988bf"));
}
