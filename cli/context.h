// cli/context.h
//
// Context: what every command handler gets: the global options, the output
// streams, and helpers that implement the CLI contract in one place: where
// the vault is, where the passphrase comes from, how an error is printed
// ("m365vault: <message>" on stderr, then an optional hint) and which exit
// code it yields.
//
// Thread safety: used by the main thread only.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include "backend/status.h"
#include "backend/vault.h"

namespace m365vault::cli {

// The exit codes of the command-line contract (docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,
  kExitUsage = 2,
  kExitPartial = 3,  // a backup committed but is partial
};

struct GlobalOptions {
  std::string vault_dir;        // --vault; "" = Vault::DefaultDir()
  std::string passphrase_file;  // --passphrase-file; "" = env or prompt
  bool json = false;            // --json
};

class Context {
 public:
  Context(std::ostream& out, std::ostream& err) : out_(out), err_(err) {}

  GlobalOptions global;
  // The handler of the command the parser selected (set during parsing, run
  // after it).
  std::function<int()> action;

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  bool json() const { return global.json; }

  std::string VaultDir() const;
  // The passphrase from --passphrase-file, $M365VAULT_PASSPHRASE or a prompt
  // on the terminal (asked twice when `confirm`). InvalidArgument when none
  // of these is available.
  Result<std::string> Passphrase(bool confirm);
  // Opens the vault with the passphrase.
  Result<std::unique_ptr<Vault>> OpenVault();

  // Prints "m365vault: <message>" (and "m365vault: hint: <hint>") to stderr
  // and returns the exit code for `status` (1; 2 for InvalidArgument).
  int Fail(const Status& status, std::string_view hint = {});
  // Prints a bad-usage message and a pointer to `command --help`; returns 2.
  int Usage(std::string_view message, std::string_view command);
  // Prints a warning to stderr.
  void Warn(std::string_view message);

 private:
  std::ostream& out_;
  std::ostream& err_;
};

}  // namespace m365vault::cli
