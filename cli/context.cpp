// cli/context.cpp
#include "cli/context.h"

#include <cstdlib>
#include <ostream>

#include "cli/passphrase.h"

namespace m365vault::cli {

std::string Context::VaultDir() const { return global.vault_dir.empty() ? Vault::DefaultDir() : global.vault_dir; }

Result<std::string> Context::Passphrase(bool confirm) {
  if (!global.passphrase_file.empty()) return ReadPassphraseFile(global.passphrase_file);
  const char* env = std::getenv("M365VAULT_PASSPHRASE");
  if (env && *env) return std::string(env);
  return PromptPassphrase(confirm);
}

Result<std::unique_ptr<Vault>> Context::OpenVault() {
  M365_ASSIGN_OR_RETURN(std::string passphrase, Passphrase(/*confirm=*/false));
  return Vault::Open(VaultDir(), passphrase);
}

int Context::Fail(const Status& status, std::string_view hint) {
  err_ << "m365vault: " << status.message() << "\n";
  if (!hint.empty()) err_ << "m365vault: hint: " << hint << "\n";
  err_.flush();
  return status.code() == Status::Code::kInvalidArgument ? kExitUsage : kExitError;
}

int Context::Usage(std::string_view message, std::string_view command) {
  err_ << "m365vault: " << message << "\n"
       << "Run '" << command << " --help' for usage.\n";
  err_.flush();
  return kExitUsage;
}

void Context::Warn(std::string_view message) { err_ << "m365vault: warning: " << message << "\n"; }

}  // namespace m365vault::cli
