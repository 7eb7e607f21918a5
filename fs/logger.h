// fs/logger.h
//
// Logger: where the mount reports what it cannot tell a caller through an
// errno (a corrupt blob under a read, a failed snapshot listing). The
// foreground mount logs to stderr, the daemon to syslog; tests capture lines.
//
// Thread safety: implementations are safe for concurrent use.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace m365vault::fs {

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Error(std::string_view line) = 0;
};

// "m365vault: <line>" on stderr.
std::unique_ptr<Logger> NewStderrLogger();
// syslog(LOG_ERR) with ident "m365vault" (openlog is called once).
std::unique_ptr<Logger> NewSyslogLogger();

// Keeps every line; for tests.
class CaptureLogger final : public Logger {
 public:
  void Error(std::string_view line) override {
    std::lock_guard<std::mutex> l(mu_);
    lines_.emplace_back(line);
  }
  std::vector<std::string> lines() const {
    std::lock_guard<std::mutex> l(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace m365vault::fs
