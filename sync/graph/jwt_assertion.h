// sync/graph/jwt_assertion.h
//
// CertificateCredential: an app's certificate and private key (one PEM file
// holding both), and the signed JWT client assertion Entra ID accepts in the
// client-credentials flow instead of a secret.
//
// Assertion format (RS256):
//   header  {"alg":"RS256","typ":"JWT","x5t":<b64url SHA-1 of cert DER>,
//            "x5t#S256":<b64url SHA-256 of cert DER>}
//   claims  {"aud":<token URL>,"iss":<client id>,"sub":<client id>,
//            "jti":<random GUID>,"nbf":now,"iat":now,"exp":now+lifetime}
//
// Thread safety: const methods are safe to call from many threads.
#pragma once

#include <openssl/evp.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "backend/status.h"

namespace m365vault::sync {

class CertificateCredential {
 public:
  // Loads a PEM file with an RSA private key and its certificate.
  // Errors: NotFound (no file), InvalidArgument (no key, no cert, not RSA,
  // or the key does not match the certificate). Never echoes file content.
  static Result<std::unique_ptr<CertificateCredential>> LoadPemFile(const std::string& path);
  static Result<std::unique_ptr<CertificateCredential>> FromPem(std::string_view pem);

  // Base64url thumbprints of the certificate's DER encoding.
  const std::string& x5t_sha1() const { return x5t_sha1_; }
  const std::string& x5t_sha256() const { return x5t_sha256_; }
  const std::string& certificate_der() const { return cert_der_; }

  // A signed compact JWT: header.claims.signature.
  Result<std::string> MakeAssertion(std::string_view audience, std::string_view client_id,
                                    std::chrono::system_clock::time_point now,
                                    std::chrono::seconds lifetime = std::chrono::minutes(10)) const;

 private:
  struct KeyDeleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  CertificateCredential() = default;

  std::unique_ptr<EVP_PKEY, KeyDeleter> key_;
  std::string cert_der_;
  std::string x5t_sha1_;
  std::string x5t_sha256_;
};

}  // namespace m365vault::sync
