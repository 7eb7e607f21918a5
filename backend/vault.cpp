// backend/vault.cpp: creating and opening a vault, its keys, validators and
// the audit log. Tenants are in vault_tenants.cpp, jobs in vault_jobs.cpp.
#include "backend/vault.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "backend/local_storage.h"
#include "backend/repo_format.h"
#include "backend/vault_db.h"

namespace m365vault {
namespace {

constexpr char kKeyFile[] = "master.key";
constexpr char kDbFile[] = "vault.db";
// crypto_kdf subkey id of the master key that seals tenant credentials; far
// from the repository's KeyPurpose values, which derive from tenant keys.
constexpr auto kCredentialPurpose = static_cast<crypto::KeyPurpose>(0x7661756c74637231ULL);  // "vaultcr1"

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<Bytes> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  Bytes out;
  uint8_t buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      return ErrnoStatus(e, "read", path);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  ::close(fd);
  return out;
}

// Writes a private file durably: temp file, fsync, rename, fsync the folder.
Status WritePrivateFile(const std::string& dir, const std::string& name, ByteView data) {
  std::string path = dir + "/" + name;
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoStatus(errno, "create", tmp);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return ErrnoStatus(e, "write", tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(e, "fsync", tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(e, "rename", path);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::OK();
}

Status MakePrivateDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create folder " + dir + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) return ErrnoStatus(errno, "chmod", dir);
  return Status::OK();
}

crypto::PwhashParams ChoosePwhash(const VaultOptions& options) {
  if (options.pwhash) return *options.pwhash;
  const char* fast = std::getenv("M365VAULT_TEST_FAST_KDF");
  if (fast && std::string_view(fast) == "1") return crypto::PwhashParams::ForTests();
  return crypto::PwhashParams::Interactive();
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

const char* CredentialKindName(CredentialKind kind) {
  return kind == CredentialKind::kCertificate ? "certificate" : "client_secret";
}

const char* JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kSucceeded:
      return "succeeded";
    case JobStatus::kPartial:
      return "partial";
    case JobStatus::kFailed:
      return "failed";
    case JobStatus::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

TenantCredential::~TenantCredential() {
  // Best effort: zero the secret's bytes before the string frees them.
  volatile char* p = secret.data();
  for (size_t i = 0; i < secret.size(); ++i) p[i] = 0;
}

std::string Vault::DefaultDir() {
  const char* env = std::getenv("M365VAULT_DIR");
  if (env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/m365vault";
}

Status Vault::ValidateTenantName(std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return Status::InvalidArgument("tenant name must be 1 to 64 characters");
  }
  if (name.front() == '.') return Status::InvalidArgument("tenant name must not start with '.'");
  for (char c : name) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("tenant name '" + std::string(name) +
                                     "' may only contain letters, digits, '.', '_' and '-'");
    }
  }
  return Status::OK();
}

Status Vault::ValidateGuid(std::string_view what, std::string_view id) {
  // 8-4-4-4-12 hex digits, e.g. 72f988bf-86f1-41af-91ab-2d7cd011db47.
  static constexpr int kGroups[] = {8, 4, 4, 4, 12};
  size_t pos = 0;
  bool ok = id.size() == 36;
  for (int g = 0; ok && g < 5; ++g) {
    for (int i = 0; ok && i < kGroups[g]; ++i) ok = IsHex(id[pos++]);
    if (ok && g < 4) ok = id[pos++] == '-';
  }
  if (!ok) {
    return Status::InvalidArgument(std::string(what) + " '" + std::string(id) +
                                   "' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
  }
  return Status::OK();
}

Vault::Vault(std::string dir, crypto::SecretKey master, std::unique_ptr<VaultDb> db, Clock& clock)
    : dir_(std::move(dir)),
      master_(std::move(master)),
      credential_key_(crypto::DeriveSubkey(master_, kCredentialPurpose)),
      db_(std::move(db)),
      clock_(clock) {}

Vault::~Vault() = default;

int64_t Vault::NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.Now().time_since_epoch()).count();
}

std::string Vault::RepoCacheDir(const std::string& name) const { return dir_ + "/cache/" + name; }

Result<std::unique_ptr<Vault>> Vault::Create(const std::string& dir_in, std::string_view passphrase,
                                             VaultOptions options) {
  if (dir_in.empty()) return Status::InvalidArgument("vault folder is empty");
  if (passphrase.empty()) return Status::InvalidArgument("the passphrase must not be empty");
  if (!crypto::InitCrypto()) return Status::IOError("libsodium cannot initialise");
  std::string dir = std::filesystem::absolute(dir_in).lexically_normal().string();
  if (!dir.empty() && dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (Exists(dir + "/" + kKeyFile)) return Status::AlreadyExists("a vault already exists in " + dir);
  // Never take over (and chmod) a folder that holds other things; only an
  // empty one, or one left by an interrupted init (vault.db and its WAL).
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind(kDbFile, 0) != 0 && name != std::string(kKeyFile) + ".tmp") {
      return Status::AlreadyExists(dir + " exists and is not empty; choose a new or empty folder for the vault");
    }
  }
  M365_RETURN_IF_ERROR(MakePrivateDir(dir));

  // The database first, the key file last: a vault exists once master.key
  // does; a vault.db left by an interrupted init is simply reused.
  M365_ASSIGN_OR_RETURN(std::unique_ptr<VaultDb> db, VaultDb::Open(dir + "/" + kDbFile, /*create=*/true));
  crypto::SecretKey master = crypto::SecretKey::Random();
  M365_ASSIGN_OR_RETURN(Bytes wrapped, format::WrapKeyWithPassphrase(master, passphrase, ChoosePwhash(options)));
  Clock& clock = options.clock ? *options.clock : Clock::Real();
  std::unique_ptr<Vault> vault(new Vault(dir, std::move(master), std::move(db), clock));
  {
    std::lock_guard<std::mutex> l(vault->db_->mu());
    nlohmann::json details = {{"dir", dir}};
    M365_RETURN_IF_ERROR(InsertAudit(*vault->db_, vault->NowNs(), "vault.create", details.dump()));
  }
  M365_RETURN_IF_ERROR(WritePrivateFile(dir, kKeyFile, wrapped));
  return vault;
}

Result<std::unique_ptr<Vault>> Vault::Open(const std::string& dir_in, std::string_view passphrase,
                                           VaultOptions options) {
  if (!crypto::InitCrypto()) return Status::IOError("libsodium cannot initialise");
  std::string dir = std::filesystem::absolute(dir_in).lexically_normal().string();
  if (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::string key_path = dir + "/" + kKeyFile;
  if (!Exists(key_path)) {
    return Status::NotFound("no vault in " + dir + " (run 'm365vault init' to create one)");
  }
  M365_ASSIGN_OR_RETURN(Bytes wrapped, ReadWholeFile(key_path));
  auto master = format::UnwrapKeyWithPassphrase(wrapped, passphrase);
  if (!master.ok()) {
    if (master.status().code() == Status::Code::kWrongKey) {
      return Status::WrongKey("wrong passphrase for the vault in " + dir);
    }
    return master.status().WithContext(key_path);
  }
  std::string db_path = dir + "/" + kDbFile;
  if (!Exists(db_path)) return Status::Corruption("the vault in " + dir + " has a key but no vault.db");
  M365_ASSIGN_OR_RETURN(std::unique_ptr<VaultDb> db, VaultDb::Open(db_path, /*create=*/false));
  Clock& clock = options.clock ? *options.clock : Clock::Real();
  return std::unique_ptr<Vault>(new Vault(dir, std::move(master).value(), std::move(db), clock));
}

Status Vault::Audit(const std::string& action, const std::string& details) {
  std::lock_guard<std::mutex> l(db_->mu());
  return InsertAudit(*db_, NowNs(), action, details);
}

Result<std::vector<AuditEntry>> Vault::ListAudit(int limit) {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_, "SELECT time, action, actor, details FROM audit ORDER BY id DESC LIMIT ?");
  s.Bind(1, static_cast<int64_t>(limit > 0 ? limit : -1));
  return s.Rows([](Stmt& r) { return AuditEntry{r.Int(0), r.Text(1), r.Text(2), r.Text(3)}; });
}

}  // namespace m365vault
