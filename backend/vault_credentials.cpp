// backend/vault_credentials.cpp: a tenant's further app registrations, and
// the sign-in (client id + credential) a Graph client uses.
#include <nlohmann/json.hpp>

#include "backend/vault.h"
#include "backend/vault_db.h"

namespace m365vault {
namespace {

// Associated data of a sealed app credential: it opens only in its own row.
Bytes AppCredentialAad(const std::string& tenant, const std::string& name) {
  std::string aad = "m365vault app credential v1";
  aad.push_back('\0');
  aad += tenant;
  aad.push_back('\0');
  aad += name;
  return Bytes(aad.begin(), aad.end());
}

CredentialKind ParseKind(const std::string& s) {
  return s == "certificate" ? CredentialKind::kCertificate : CredentialKind::kClientSecret;
}

}  // namespace

Status Vault::AddAppCredential(const AppCredentialConfig& config) {
  Status name_ok = ValidateTenantName(config.name);
  if (!name_ok.ok()) {
    return Status::InvalidArgument("credential name '" + config.name +
                                   "': letters, digits, '.', '_' and '-' (max 64), not starting with '.'");
  }
  M365_RETURN_IF_ERROR(ValidateGuid("client id", config.client_id));
  M365_RETURN_IF_ERROR(ValidateCredential(config.kind, config.credential));
  M365_RETURN_IF_ERROR(GetTenant(config.tenant).status());
  Bytes sealed = crypto::Seal(credential_key_, AsBytes(config.credential), AppCredentialAad(config.tenant, config.name));
  std::lock_guard<std::mutex> l(db_->mu());
  const int64_t now = NowNs();
  Transaction t(*db_);
  M365_RETURN_IF_ERROR(t.status());
  Stmt s(*db_,
         "INSERT INTO app_credentials(tenant, name, client_id, credential_kind, credential, created)"
         " VALUES (?, ?, ?, ?, ?, ?)");
  s.Bind(1, config.tenant).Bind(2, config.name).Bind(3, config.client_id).Bind(4, CredentialKindName(config.kind));
  s.BindBlob(5, sealed).Bind(6, now);
  Status st = s.Run();
  if (st.code() == Status::Code::kAlreadyExists) {
    return Status::AlreadyExists("tenant '" + config.tenant + "' already has a credential named '" + config.name + "'");
  }
  M365_RETURN_IF_ERROR(st);
  nlohmann::json details = {{"tenant", config.tenant},
                            {"credential", config.name},
                            {"client_id", config.client_id},
                            {"kind", CredentialKindName(config.kind)}};
  M365_RETURN_IF_ERROR(InsertAudit(*db_, now, "credential.add", details.dump()));
  return t.Commit();
}

Result<std::vector<AppCredentialRecord>> Vault::ListAppCredentials(const std::string& tenant) {
  M365_RETURN_IF_ERROR(GetTenant(tenant).status());
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_,
         "SELECT name, client_id, credential_kind, created FROM app_credentials WHERE tenant = ? ORDER BY name");
  s.Bind(1, tenant);
  return s.Rows([&](Stmt& r) {
    return AppCredentialRecord{tenant, r.Text(0), r.Text(1), ParseKind(r.Text(2)), r.Int(3)};
  });
}

Status Vault::RemoveAppCredential(const std::string& tenant, const std::string& name) {
  std::lock_guard<std::mutex> l(db_->mu());
  Transaction t(*db_);
  M365_RETURN_IF_ERROR(t.status());
  Stmt s(*db_, "DELETE FROM app_credentials WHERE tenant = ? AND name = ?");
  s.Bind(1, tenant).Bind(2, name);
  M365_RETURN_IF_ERROR(s.Run());
  if (db_->Changes() == 0) {
    return Status::NotFound("tenant '" + tenant + "' has no credential named '" + name + "'");
  }
  nlohmann::json details = {{"tenant", tenant}, {"credential", name}};
  M365_RETURN_IF_ERROR(InsertAudit(*db_, NowNs(), "credential.remove", details.dump()));
  return t.Commit();
}

Result<AppSignIn> Vault::GetSignIn(const std::string& tenant, const std::string& name) {
  AppSignIn out;
  if (name.empty()) {
    M365_ASSIGN_OR_RETURN(TenantRecord rec, GetTenant(tenant));
    out.client_id = rec.client_id;
    M365_ASSIGN_OR_RETURN(out.credential, GetTenantCredential(tenant));
    return out;
  }
  std::lock_guard<std::mutex> l(db_->mu());
  Stmt s(*db_, "SELECT client_id, credential_kind, credential FROM app_credentials WHERE tenant = ? AND name = ?");
  s.Bind(1, tenant).Bind(2, name);
  M365_ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    return Status::NotFound("tenant '" + tenant + "' has no credential named '" + name +
                            "' (see 'm365vault tenant credential list " + tenant + "')");
  }
  out.client_id = s.Text(0);
  out.credential.kind = ParseKind(s.Text(1));
  Bytes sealed = s.Blob(2);
  auto plain = crypto::Open(credential_key_, sealed, AppCredentialAad(tenant, name));
  if (!plain.ok()) {
    return Status::Corruption("the stored credential '" + name + "' of tenant '" + tenant + "' does not authenticate");
  }
  out.credential.secret.assign(plain->begin(), plain->end());
  crypto::Wipe(&plain.value());
  return out;
}

}  // namespace m365vault
