// tests/cli/snapshot_select_test.cpp
#include "cli/snapshot_select.h"

#include <catch2/catch.hpp>

using namespace m365vault;
using m365vault::cli::SelectSnapshot;

namespace {
SnapshotInfo Snap(std::string id, std::string type, int64_t secs) {
  SnapshotInfo s;
  s.id = std::move(id);
  s.object_type = std::move(type);
  s.time_ns = secs * 1'000'000'000LL;
  return s;
}
}  // namespace

TEST_CASE("snapshots are chosen by id prefix, time name or latest", "[cli]") {
  std::vector<SnapshotInfo> all = {Snap("aaaa1111", "exchange", 1'800'000'000),
                                   Snap("aaab2222", "onedrive", 1'800'000'100),
                                   Snap("bbbb3333", "exchange", 1'800'000'200)};
  REQUIRE(SelectSnapshot(all, "bbbb", "")->id == "bbbb3333");
  REQUIRE(SelectSnapshot(all, "aaaa1", "")->id == "aaaa1111");
  REQUIRE(SelectSnapshot(all, "aaa", "").status().code() == Status::Code::kInvalidArgument);  // too short
  REQUIRE(SelectSnapshot(all, "aaaa", "")->id == "aaaa1111");
  REQUIRE(SelectSnapshot(all, "cccc", "").status().IsNotFound());
  REQUIRE(SelectSnapshot(all, "latest", "exchange")->id == "bbbb3333");
  REQUIRE(SelectSnapshot(all, "latest", "onedrive")->id == "aaab2222");
  REQUIRE(SelectSnapshot(all, "latest", "").status().code() == Status::Code::kInvalidArgument);  // two types
  REQUIRE(SelectSnapshot(all, "latest", "teams").status().IsNotFound());
  REQUIRE(SelectSnapshot(all, SnapshotTimeName(all[1].time_ns), "")->id == "aaab2222");
  // A type filter applies to prefixes too.
  REQUIRE(SelectSnapshot(all, "aaab", "exchange").status().IsNotFound());
  std::vector<SnapshotInfo> dup = {Snap("abcd0001", "x", 1), Snap("abcd0002", "x", 2)};
  REQUIRE(SelectSnapshot(dup, "abcd", "").status().code() == Status::Code::kInvalidArgument);
  REQUIRE(SelectSnapshot(dup, "latest", "")->id == "abcd0002");
  REQUIRE(SelectSnapshot({}, "latest", "").status().IsNotFound());
}
