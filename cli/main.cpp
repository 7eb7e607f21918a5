// cli/main.cpp: the m365vault executable.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "backend/crypto.h"
#include "cli/app.h"

namespace {

// Process-wide setup that must run once, before any thread starts.
class GlobalInit {
 public:
  GlobalInit() {
    ::umask(077);  // everything m365vault writes is private to the user
    ok_ = m365vault::crypto::InitCrypto();
  }
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  GlobalInit init;
  if (!init.ok()) {
    std::fprintf(stderr, "m365vault: libsodium cannot initialise (no entropy source?)\n");
    return 1;
  }
  std::ios::sync_with_stdio(false);
  int rc = m365vault::cli::Run(argc, argv, std::cout, std::cerr);
  std::cout.flush();
  return rc;
}
