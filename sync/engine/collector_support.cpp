// sync/engine/collector_support.cpp
#include "sync/engine/collector_support.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "sync/engine/delta_engine.h"
#include "sync/engine/safe_name.h"
#include "sync/graph/encoding.h"

namespace m365vault::sync {
namespace {
constexpr char kImmutableId[] = "IdType=\"ImmutableId\"";
constexpr char kPageSize[] = "odata.maxpagesize=200";
}  // namespace

std::string JsonString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? RepairUtf8(it->get<std::string>()) : std::string();
}

RequestOptions MailboxRequest(const UserInfo& user) {
  RequestOptions o;
  o.prefer = {kPageSize, kImmutableId};
  o.concurrency_key = user.id;
  return o;
}

std::string UserPath(const UserInfo& user) { return "/users/" + EncodePathSegment(user.id); }

Status ParallelFor(size_t n, int threads, const std::function<Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) {
      Status st = fn(i);
      if (!st.ok()) {
        std::lock_guard<std::mutex> l(mu);
        if (first.ok()) first = st;
        next = n;
        return;
      }
    }
  };
  const int count = std::max(1, std::min<int>(threads, static_cast<int>(n)));
  std::vector<std::thread> pool;
  for (int t = 1; t < count; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return first;
}

ItemChange ParseIdentity(const nlohmann::json& item, const char* removed_marker) {
  ItemChange c;
  c.id = JsonString(item, "id");
  c.kind = item.contains(removed_marker) ? ItemChange::Kind::kRemove : ItemChange::Kind::kUpsert;
  return c;
}

Status EnsureDirectory(SnapshotWriter& writer, const std::string& path, const EntryAttributes& attrs) {
  M365_ASSIGN_OR_RETURN(auto entry, writer.Lookup(path));
  if (entry) return Status::OK();
  return writer.MakeDirectory(path, attrs);
}

FailedItem ObjectFailure(const std::string& object, const Status& st, const GraphError& err, const char* level) {
  return {object, err.MostSpecificCode(), st.message(), HintFor(err), level};
}

}  // namespace m365vault::sync
