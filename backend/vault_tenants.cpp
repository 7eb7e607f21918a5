// backend/vault_tenants.cpp: tenants, their credentials and repositories.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "backend/local_storage.h"
#include "backend/vault.h"
#include "backend/vault_db.h"

namespace m365vault {
namespace {

constexpr char kTenantColumns[] =
    "name, tenant_id, client_id, credential_kind, storage, region, graph_url, login_url, ca_file, created,"
    " license_expiry";

// The files and folders a repository consists of (LocalStorage layout); purge
// removes only these, never anything else in a user-chosen folder.
constexpr const char* kRepositoryEntries[] = {"config", "keys", "data", "index", "snapshots", "locks"};

TenantRecord ReadTenant(Stmt& s) {
  TenantRecord t;
  t.name = s.Text(0);
  t.tenant_id = s.Text(1);
  t.client_id = s.Text(2);
  t.credential_kind = s.Text(3) == "certificate" ? CredentialKind::kCertificate : CredentialKind::kClientSecret;
  t.storage = s.Text(4);
  t.region = s.Text(5);
  t.graph_url = s.Text(6);
  t.login_url = s.Text(7);
  t.ca_file = s.Text(8);
  t.created_ns = s.Int(9);
  t.license_expiry_ns = s.Int(10);
  return t;
}

Bytes CredentialAad(const std::string& tenant) {
  std::string aad = "m365vault tenant credential v1";
  aad.push_back('\0');
  aad += tenant;
  return Bytes(aad.begin(), aad.end());
}

}  // namespace

Status Vault::ValidateCredential(CredentialKind kind, std::string_view credential) {
  if (credential.empty()) return Status::InvalidArgument("the credential is empty");
  if (kind == CredentialKind::kCertificate) {
    if (credential.find("-----BEGIN CERTIFICATE-----") == std::string_view::npos) {
      return Status::InvalidArgument("the certificate file holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    if (credential.find("PRIVATE KEY-----") == std::string_view::npos) {
      return Status::InvalidArgument(
          "the certificate file holds no private key; put the certificate and its key in one PEM file");
    }
    return Status::OK();
  }
  for (char c : credential) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::InvalidArgument("the client secret contains a control character or a line break");
    }
  }
  return Status::OK();
}

namespace {

Result<std::string> NormalizeUrl(std::string_view what, std::string url, const char* fallback) {
  if (url.empty()) return std::string(fallback);
  if (url.rfind("https://", 0) != 0 || url.size() <= 8) {
    return Status::InvalidArgument(std::string(what) + " '" + url + "' must be an https:// URL");
  }
  while (url.back() == '/') url.pop_back();
  return url;
}

std::string Absolute(const std::string& path) { return std::filesystem::absolute(path).lexically_normal().string(); }

Status PurgeRepository(const std::string& storage) {
  std::error_code ec;
  for (const char* entry : kRepositoryEntries) {
    std::filesystem::remove_all(storage + "/" + entry, ec);
    if (ec) return Status::IOError("cannot remove " + storage + "/" + entry + ": " + ec.message());
  }
  for (auto it = std::filesystem::directory_iterator(storage, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (it->path().filename().string().rfind(".tmp-", 0) == 0) std::filesystem::remove(it->path(), ec);
  }
  ::rmdir(storage.c_str());  // only if now empty; a user's other files stay
  return Status::OK();
}

}  // namespace

Result<TenantRecord> Vault::AddTenant(const TenantConfig& config) {
  M365_RETURN_IF_ERROR(ValidateTenantName(config.name));
  M365_RETURN_IF_ERROR(ValidateGuid("tenant id", config.tenant_id));
  M365_RETURN_IF_ERROR(ValidateGuid("client id", config.client_id));
  M365_RETURN_IF_ERROR(ValidateCredential(config.credential_kind, config.credential));

  TenantRecord rec;
  rec.name = config.name;
  rec.tenant_id = config.tenant_id;
  rec.client_id = config.client_id;
  rec.credential_kind = config.credential_kind;
  rec.region = config.region;
  M365_ASSIGN_OR_RETURN(rec.graph_url, NormalizeUrl("graph URL", config.graph_url, kDefaultGraphUrl));
  M365_ASSIGN_OR_RETURN(rec.login_url, NormalizeUrl("login URL", config.login_url, kDefaultLoginUrl));
  if (!config.ca_file.empty()) {
    rec.ca_file = Absolute(config.ca_file);
    if (::access(rec.ca_file.c_str(), R_OK) != 0) {
      return Status::InvalidArgument("CA file " + rec.ca_file + " cannot be read");
    }
  }
  if (config.storage.find("://") != std::string::npos) {
    return Status::NotSupported("storage '" + config.storage +
                                "': only local folders are supported so far (Azure Blob Storage comes later)");
  }
  rec.storage = Absolute(config.storage.empty() ? dir_ + "/repos/" + config.name : config.storage);

  {
    std::lock_guard<std::mutex> l(db_->mu());
    Stmt s(*db_, "SELECT name FROM tenants WHERE name = ? OR storage = ?");
    s.Bind(1, rec.name).Bind(2, rec.storage);
    M365_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) {
      std::string other = s.Text(0);
      if (other == rec.name) return Status::AlreadyExists("tenant '" + rec.name + "' already exists");
      return Status::AlreadyExists("storage " + rec.storage + " already belongs to tenant '" + other + "'");
    }
  }

  // The repository: a new one, or the one a removed (unpurged) tenant left.
  if (config.storage.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir_ + "/repos", ec);
    ::chmod((dir_ + "/repos").c_str(), 0700);
  }
  RepositoryOptions repo_options;
  repo_options.cache_dir = RepoCacheDir(rec.name);
  {
    M365_ASSIGN_OR_RETURN(auto storage, LocalStorage::Open(rec.storage, /*create=*/true));
    auto repo = Repository::Init(std::move(storage), master_, rec.name, repo_options);
    if (!repo.ok() && repo.status().code() == Status::Code::kAlreadyExists) {
      M365_ASSIGN_OR_RETURN(auto storage2, LocalStorage::Open(rec.storage, /*create=*/false));
      auto existing = Repository::Open(std::move(storage2), master_, repo_options);
      if (!existing.ok()) {
        if (existing.status().code() == Status::Code::kWrongKey) {
          return Status::AlreadyExists("storage " + rec.storage + " holds a repository this vault's key does not open");
        }
        return existing.status().WithContext("storage " + rec.storage);
      }
      if ((*existing)->tenant() != rec.name) {
        return Status::AlreadyExists("storage " + rec.storage + " holds the repository of tenant '" +
                                     (*existing)->tenant() + "'");
      }
    } else if (!repo.ok()) {
      return repo.status().WithContext("cannot create the repository in " + rec.storage);
    }
  }

  Bytes sealed = crypto::Seal(credential_key_, AsBytes(config.credential), CredentialAad(rec.name));
  std::lock_guard<std::mutex> l(db_->mu());
  rec.created_ns = NowNs();
  Transaction t(*db_);
  M365_RETURN_IF_ERROR(t.status());
  Stmt s(*db_,
         "INSERT INTO tenants(name, tenant_id, client_id, credential_kind, credential, storage, region,"
         " graph_url, login_url, ca_file, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.Bind(1, rec.name).Bind(2, rec.tenant_id).Bind(3, rec.client_id);
  s.Bind(4, CredentialKindName(rec.credential_kind)).BindBlob(5, sealed).Bind(6, rec.storage);
  s.Bind(7, rec.region).Bind(8, rec.graph_url).Bind(9, rec.login_url).Bind(10, rec.ca_file);
  s.Bind(11, rec.created_ns);
  Status st = s.Run();
  if (st.code() == Status::Code::kAlreadyExists) {
    return Status::AlreadyExists("tenant '" + rec.name + "' already exists");
  }
  M365_RETURN_IF_ERROR(st);
  nlohmann::json details = {{"tenant", rec.name},
                            {"tenant_id", rec.tenant_id},
                            {"client_id", rec.client_id},
                            {"credential_kind", CredentialKindName(rec.credential_kind)},
                            {"storage", rec.storage}};
  M365_RETURN_IF_ERROR(InsertAudit(*db_, rec.created_ns, "tenant.add", details.dump()));
  M365_RETURN_IF_ERROR(t.Commit());
  return rec;
}

Result<std::vector<TenantRecord>> Vault::ListTenants() {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_, (std::string("SELECT ") + kTenantColumns + " FROM tenants ORDER BY name").c_str());
  return s.Rows(ReadTenant);
}

Result<TenantRecord> Vault::GetTenant(const std::string& name) {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_, (std::string("SELECT ") + kTenantColumns + " FROM tenants WHERE name = ?").c_str());
  s.Bind(1, name);
  M365_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("no tenant named '" + name + "' (see 'm365vault tenant list')");
  return ReadTenant(s);
}

Status Vault::SetLicenseExpiry(const std::string& name, int64_t expiry_ns) {
  if (expiry_ns < 0) return Status::InvalidArgument("a licence expiry cannot be before 1970");
  M365_RETURN_IF_ERROR(GetTenant(name).status());
  std::lock_guard<std::mutex> l(db_->mu());
  Transaction t(*db_);
  M365_RETURN_IF_ERROR(t.status());
  Stmt s(*db_, "UPDATE tenants SET license_expiry = ? WHERE name = ?");
  s.Bind(1, expiry_ns).Bind(2, name);
  M365_RETURN_IF_ERROR(s.Run());
  nlohmann::json details = {{"tenant", name}, {"license_expiry_ns", expiry_ns}};
  M365_RETURN_IF_ERROR(InsertAudit(*db_, NowNs(), "tenant.license", details.dump()));
  return t.Commit();
}

Status Vault::RemoveTenant(const std::string& name, bool purge) {
  M365_ASSIGN_OR_RETURN(TenantRecord rec, GetTenant(name));
  {
    std::lock_guard<std::mutex> l(db_->mu());
    Transaction t(*db_);
    M365_RETURN_IF_ERROR(t.status());
    Stmt c(*db_, "DELETE FROM app_credentials WHERE tenant = ?");
    c.Bind(1, name);
    M365_RETURN_IF_ERROR(c.Run());
    Stmt s(*db_, "DELETE FROM tenants WHERE name = ?");
    s.Bind(1, name);
    M365_RETURN_IF_ERROR(s.Run());
    nlohmann::json details = {{"tenant", name}, {"storage", rec.storage}, {"purge", purge}};
    M365_RETURN_IF_ERROR(InsertAudit(*db_, NowNs(), "tenant.remove", details.dump()));
    M365_RETURN_IF_ERROR(t.Commit());
  }
  if (!purge) return Status::OK();
  M365_RETURN_IF_ERROR(PurgeRepository(rec.storage));
  std::error_code ec;
  std::filesystem::remove_all(RepoCacheDir(name), ec);
  if (ec) return Status::IOError("cannot remove cache " + RepoCacheDir(name) + ": " + ec.message());
  return Status::OK();
}

Result<std::unique_ptr<Repository>> Vault::OpenRepository(const std::string& name, RepositoryOptions options) {
  M365_ASSIGN_OR_RETURN(TenantRecord rec, GetTenant(name));
  if (options.cache_dir.empty()) options.cache_dir = RepoCacheDir(name);
  M365_ASSIGN_OR_RETURN(auto storage, LocalStorage::Open(rec.storage, /*create=*/false));
  auto repo = Repository::Open(std::move(storage), master_, options);
  if (!repo.ok()) return repo.status().WithContext("tenant '" + name + "' repository " + rec.storage);
  return repo;
}

Result<TenantCredential> Vault::GetTenantCredential(const std::string& name) {
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_, "SELECT credential_kind, credential FROM tenants WHERE name = ?");
  s.Bind(1, name);
  M365_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("no tenant named '" + name + "'");
  TenantCredential cred;
  cred.kind = s.Text(0) == "certificate" ? CredentialKind::kCertificate : CredentialKind::kClientSecret;
  Bytes sealed = s.Blob(1);
  auto plain = crypto::Open(credential_key_, sealed, CredentialAad(name));
  if (!plain.ok()) return Status::Corruption("the stored credential of tenant '" + name + "' does not authenticate");
  cred.secret.assign(plain->begin(), plain->end());
  crypto::Wipe(&plain.value());
  return cred;
}

}  // namespace m365vault
