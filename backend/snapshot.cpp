// backend/snapshot.cpp
#include "backend/snapshot.h"

#include <ctime>
#include <nlohmann/json.hpp>

namespace m365vault {

using nlohmann::json;

Bytes EncodeSnapshot(const SnapshotInfo& s) {
  json j;
  j["version"] = 1;
  j["tenant"] = s.tenant;
  j["object_type"] = s.object_type;
  j["time_ns"] = s.time_ns;
  j["root"] = s.root.Hex();
  j["parent"] = s.parent;
  j["job_id"] = s.job_id;
  j["partial"] = s.partial;
  j["failed"] = json::array();
  for (const FailedItem& f : s.failed) {
    json item = {{"object", f.object}, {"code", f.code}, {"reason", f.reason}, {"hint", f.hint}};
    if (!f.level.empty()) item["level"] = f.level;
    j["failed"].push_back(std::move(item));
  }
  j["stats"] = s.stats;
  if (!s.sync_state.IsZero()) j["sync_state"] = s.sync_state.Hex();
  j["tags"] = s.tags;
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  return Bytes(text.begin(), text.end());
}

Result<SnapshotInfo> DecodeSnapshot(ByteView data) {
  json j = json::parse(AsString(data), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Corruption("snapshot manifest is not valid JSON");
  SnapshotInfo s;
  try {
    if (j.at("version").get<int>() != 1) return Status::NotSupported("snapshot manifest of an unknown version");
    s.tenant = j.at("tenant").get<std::string>();
    s.object_type = j.at("object_type").get<std::string>();
    s.time_ns = j.at("time_ns").get<int64_t>();
    if (!BlobId::FromHex(j.at("root").get<std::string>(), &s.root)) {
      return Status::Corruption("snapshot manifest has a bad root id");
    }
    s.parent = j.value("parent", "");
    s.job_id = j.value("job_id", "");
    s.partial = j.value("partial", false);
    for (const json& f : j.value("failed", json::array())) {
      s.failed.push_back({f.value("object", ""), f.value("code", ""), f.value("reason", ""), f.value("hint", ""),
                          f.value("level", "")});
    }
    s.stats = j.value("stats", std::map<std::string, uint64_t>{});
    if (j.contains("sync_state") && !BlobId::FromHex(j["sync_state"].get<std::string>(), &s.sync_state)) {
      return Status::Corruption("snapshot manifest has a bad sync state id");
    }
    s.tags = j.value("tags", std::map<std::string, std::string>{});
  } catch (const json::exception& e) {
    return Status::Corruption(std::string("snapshot manifest: ") + e.what());
  }
  return s;
}

std::string SnapshotTimeName(int64_t time_ns) {
  time_t secs = static_cast<time_t>(time_ns / 1000000000);
  if (time_ns < 0 && time_ns % 1000000000) --secs;
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace m365vault
