// tests/sync/sync_test_util.h: shared helpers for sync tests.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "sync/graph/token_provider.h"

namespace m365vault::sync::testing {

// A TokenProvider that hands out "tok-1", "tok-2", ...: each Invalidate of
// the current token makes the next GetToken return a new one.
class CountingTokenProvider final : public TokenProvider {
 public:
  Result<std::string> GetToken() override {
    std::lock_guard<std::mutex> l(mu_);
    return "tok-" + std::to_string(generation_);
  }
  void Invalidate(std::string_view token) override {
    std::lock_guard<std::mutex> l(mu_);
    invalidated_.emplace_back(token);
    if (token == "tok-" + std::to_string(generation_)) ++generation_;
  }
  std::vector<std::string> invalidated() {
    std::lock_guard<std::mutex> l(mu_);
    return invalidated_;
  }

 private:
  std::mutex mu_;
  int generation_ = 1;
  std::vector<std::string> invalidated_;
};

// A fresh RSA key and self-signed certificate, PEM-encoded (key then cert).
struct TestCertificate {
  std::string pem;
  std::string cert_pem;
};

inline TestCertificate MakeTestCertificate() {
  TestCertificate out;
  EVP_PKEY* key = EVP_RSA_gen(2048);
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 42);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("m365vault-test"),
                             -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  out.pem.assign(data, static_cast<size_t>(len));
  BIO* cbio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cbio, cert);
  len = BIO_get_mem_data(cbio, &data);
  out.cert_pem.assign(data, static_cast<size_t>(len));
  BIO_free(cbio);
  BIO_free(bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace m365vault::sync::testing
