// fs/logger.cpp
#include "fs/logger.h"

#include <syslog.h>

#include <cstdio>

namespace m365vault::fs {
namespace {

class StderrLogger final : public Logger {
 public:
  void Error(std::string_view line) override {
    // One fprintf per line, so lines from several threads do not interleave.
    std::fprintf(stderr, "m365vault: %.*s\n", static_cast<int>(line.size()), line.data());
  }
};

class SyslogLogger final : public Logger {
 public:
  SyslogLogger() { openlog("m365vault", LOG_PID, LOG_DAEMON); }
  void Error(std::string_view line) override {
    syslog(LOG_ERR, "%.*s", static_cast<int>(line.size()), line.data());
  }
};

}  // namespace

std::unique_ptr<Logger> NewStderrLogger() { return std::make_unique<StderrLogger>(); }
std::unique_ptr<Logger> NewSyslogLogger() { return std::make_unique<SyslogLogger>(); }

}  // namespace m365vault::fs
