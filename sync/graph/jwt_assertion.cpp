// sync/graph/jwt_assertion.cpp
#include "sync/graph/jwt_assertion.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sync/graph/encoding.h"

namespace m365vault::sync {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

Result<std::string> Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) {
    return Status::InvalidArgument("certificate digest failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

Result<std::unique_ptr<CertificateCredential>> CertificateCredential::LoadPemFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open certificate file " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  auto r = FromPem(ss.str());
  if (!r.ok()) return r.status().WithContext(path);
  return r;
}

Result<std::unique_ptr<CertificateCredential>> CertificateCredential::FromPem(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::InvalidArgument("cannot read PEM");
  std::unique_ptr<CertificateCredential> cred(new CertificateCredential());
  cred->key_.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!cred->key_) return Status::InvalidArgument("PEM has no readable private key");
  if (EVP_PKEY_get_base_id(cred->key_.get()) != EVP_PKEY_RSA) {
    return Status::InvalidArgument("certificate key is not RSA (RS256 needs RSA)");
  }
  BIO_reset(bio.get());  // the certificate may come before or after the key
  std::unique_ptr<X509, X509Deleter> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return Status::InvalidArgument("PEM has no certificate");
  if (X509_check_private_key(cert.get(), cred->key_.get()) != 1) {
    return Status::InvalidArgument("private key does not match the certificate");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_X509(cert.get(), &der);
  if (der_len <= 0) return Status::InvalidArgument("cannot encode certificate");
  cred->cert_der_.assign(reinterpret_cast<char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  M365_ASSIGN_OR_RETURN(std::string sha1, Digest(EVP_sha1(), cred->cert_der_));
  M365_ASSIGN_OR_RETURN(std::string sha256, Digest(EVP_sha256(), cred->cert_der_));
  cred->x5t_sha1_ = Base64UrlEncode(sha1);
  cred->x5t_sha256_ = Base64UrlEncode(sha256);
  return cred;
}

Result<std::string> CertificateCredential::MakeAssertion(std::string_view audience, std::string_view client_id,
                                                         std::chrono::system_clock::time_point now,
                                                         std::chrono::seconds lifetime) const {
  const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", x5t_sha1_}, {"x5t#S256", x5t_sha256_}};
  nlohmann::json claims = {{"aud", audience},  {"iss", client_id}, {"sub", client_id},
                           {"jti", NewGuid()}, {"nbf", t},         {"iat", t},
                           {"exp", t + lifetime.count()}};
  std::string signing_input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(claims.dump());

  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return Status::InvalidArgument("cannot sign client assertion");
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1) {
    return Status::InvalidArgument("cannot sign client assertion");
  }
  sig.resize(sig_len);
  return signing_input + "." + Base64UrlEncode(sig);
}

}  // namespace m365vault::sync
