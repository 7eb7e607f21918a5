// cli/passphrase.h
//
// Where the vault passphrase comes from, in this order: the file named by
// --passphrase-file (its first line), $M365VAULT_PASSPHRASE, or a prompt on
// the controlling terminal with echo off. The passphrase is never taken from
// the command line (argv is visible to every user of the machine).
//
// Thread safety: the prompt changes terminal modes; main thread only.
#pragma once

#include <string>
#include <utility>

#include "backend/status.h"
#include "backend/vault.h"

namespace m365vault::cli {

// Reads the first line of `path` (without its line break). InvalidArgument if
// it is empty.
Result<std::string> ReadPassphraseFile(const std::string& path);

// Prompts on /dev/tty with echo off; asks twice and compares when `confirm`.
// InvalidArgument when stdin is not a terminal.
Result<std::string> PromptPassphrase(bool confirm);

// Reads a secret from a file ("-" = stdin): the whole content without
// trailing line breaks and spaces. Warns through `warn` (if set) when the
// file can be read by other users.
Result<std::string> ReadSecretFile(const std::string& path, std::string* warning);

// Reads a whole text file ("-" = stdin), e.g. a PEM.
Result<std::string> ReadTextFile(const std::string& path);

// An app registration's credential from exactly one of --client-secret-file
// (ReadSecretFile) and --certificate (a PEM with the certificate and key).
struct CredentialFiles {
  std::string secret_file;
  std::string certificate_file;
};
Result<std::pair<CredentialKind, std::string>> ReadCredential(const CredentialFiles& files, std::string* warning);

}  // namespace m365vault::cli
