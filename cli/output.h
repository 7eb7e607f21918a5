// cli/output.h
//
// Formatting shared by the commands: aligned text tables for people, JSON
// documents for scripts (the shapes are documented in docs/cli.md and are
// stable), times and sizes.
//
// Thread safety: free functions and a value type.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace m365vault::cli {

// A table: header row, then rows; columns padded to their widest cell, the
// last column unpadded.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "2026-11-24T18:00:00Z" (RFC 3339, UTC, seconds); "" for 0.
std::string FormatTime(int64_t time_ns);
// "1.5 MiB"
std::string FormatBytes(uint64_t bytes);
// "3m12s"
std::string FormatDuration(int64_t ns);
// Writes `doc` pretty-printed, followed by a newline.
void PrintJson(std::ostream& out, const nlohmann::ordered_json& doc);

}  // namespace m365vault::cli
