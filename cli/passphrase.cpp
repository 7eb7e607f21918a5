// cli/passphrase.cpp
#include "cli/passphrase.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace m365vault::cli {
namespace {

Result<std::string> ReadAll(const std::string& path) {
  if (path == "-") {
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return data;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The terminal mode to restore if a signal (Ctrl-C) ends the prompt.
struct termios g_saved_mode;
volatile sig_atomic_t g_tty_fd = -1;

void RestoreTerminalAndReraise(int sig) {
  if (g_tty_fd >= 0) ::tcsetattr(g_tty_fd, TCSAFLUSH, &g_saved_mode);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// Reads one line from the terminal with echo off; echo comes back even when
// the prompt is interrupted.
Result<std::string> ReadLineNoEcho(int fd, const char* prompt) {
  (void)!::write(fd, prompt, std::strlen(prompt));
  static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  struct sigaction old_actions[4];
  bool restore = ::tcgetattr(fd, &g_saved_mode) == 0;
  if (restore) {
    struct sigaction sa {};
    sa.sa_handler = RestoreTerminalAndReraise;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 4; ++i) ::sigaction(kSignals[i], &sa, &old_actions[i]);
    g_tty_fd = fd;
    struct termios quiet = g_saved_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    ::tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c;
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    line.push_back(c);
  }
  if (restore) {
    ::tcsetattr(fd, TCSAFLUSH, &g_saved_mode);
    g_tty_fd = -1;
    for (int i = 0; i < 4; ++i) ::sigaction(kSignals[i], &old_actions[i], nullptr);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

Result<std::string> ReadPassphraseFile(const std::string& path) {
  M365_ASSIGN_OR_RETURN(std::string data, ReadAll(path));
  size_t nl = data.find('\n');
  if (nl != std::string::npos) data.resize(nl);
  if (!data.empty() && data.back() == '\r') data.pop_back();
  if (data.empty()) return Status::InvalidArgument("passphrase file " + path + " is empty");
  return data;
}

Result<std::string> PromptPassphrase(bool confirm) {
  if (!::isatty(STDIN_FILENO)) {
    return Status::InvalidArgument(
        "no passphrase: set M365VAULT_PASSPHRASE, pass --passphrase-file FILE, or run on a terminal");
  }
  int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (fd < 0) return Status::InvalidArgument("no passphrase and no terminal to ask for one");
  auto first = ReadLineNoEcho(fd, confirm ? "New vault passphrase: " : "Vault passphrase: ");
  if (first.ok() && confirm) {
    auto second = ReadLineNoEcho(fd, "Repeat the passphrase: ");
    if (second.ok() && *second != *first) first = Status::InvalidArgument("the passphrases do not match");
  }
  ::close(fd);
  if (first.ok() && first->empty()) return Status::InvalidArgument("the passphrase must not be empty");
  return first;
}

Result<std::string> ReadSecretFile(const std::string& path, std::string* warning) {
  if (path != "-") {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) && warning) {
      *warning = path + " can be read by other users; consider 'chmod 600 " + path + "' or deleting it";
    }
  }
  M365_ASSIGN_OR_RETURN(std::string data, ReadAll(path));
  while (!data.empty() && (data.back() == '\n' || data.back() == '\r' || data.back() == ' ' || data.back() == '\t')) {
    data.pop_back();
  }
  if (data.empty()) return Status::InvalidArgument("secret file " + path + " is empty");
  return data;
}

Result<std::string> ReadTextFile(const std::string& path) { return ReadAll(path); }

Result<std::pair<CredentialKind, std::string>> ReadCredential(const CredentialFiles& files, std::string* warning) {
  if (files.secret_file.empty() == files.certificate_file.empty()) {
    return Status::InvalidArgument("give exactly one of --client-secret-file FILE and --certificate FILE.pem");
  }
  if (!files.secret_file.empty()) {
    M365_ASSIGN_OR_RETURN(std::string secret, ReadSecretFile(files.secret_file, warning));
    return std::make_pair(CredentialKind::kClientSecret, std::move(secret));
  }
  M365_ASSIGN_OR_RETURN(std::string pem, ReadTextFile(files.certificate_file));
  return std::make_pair(CredentialKind::kCertificate, std::move(pem));
}

}  // namespace m365vault::cli
