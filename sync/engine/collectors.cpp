// sync/engine/collectors.cpp: the list of object types, and user listing.
#include "sync/engine/collectors.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "sync/engine/collector_support.h"
#include "sync/engine/safe_name.h"

namespace m365vault::sync {

Result<std::vector<UserInfo>> ListUsers(GraphClient& client) {
  return ListAll<UserInfo>(client, "/users?$select=id,userPrincipalName,mail,displayName&$top=999",
                           [](const nlohmann::json& u) -> std::optional<UserInfo> {
                             UserInfo info{JsonString(u, "id"), JsonString(u, "userPrincipalName"),
                                           JsonString(u, "displayName"), JsonString(u, "mail")};
                             if (info.id.empty()) return std::nullopt;
                             return info;
                           });
}

std::string UserDirName(const UserInfo& user) { return SafeName(user.upn.empty() ? user.id : user.upn); }

namespace {
// glibc raises its mmap threshold dynamically (up to 32 MiB) each time a
// large mmapped block is freed; after the first chunk buffers and 16 MiB pack
// buffers are freed, later ones come from the malloc arenas, which then
// fragment across the worker threads: peak RSS grew with the number of items
// (bench/sync_bench.sh: 228 MiB at 20,000 messages, 610 MiB at 100,000). A
// fixed threshold keeps large buffers in mmap (returned on free): 134 MiB at
// 20,000. Done once per process, before the first run.
bool TuneAllocator() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
  return true;
}
}  // namespace

const std::vector<const Collector*>& Collectors() {
  static const bool tuned = TuneAllocator();
  (void)tuned;
  static const std::vector<const Collector*> all = {&ExchangeCollectorInstance(), &OneDriveCollectorInstance()};
  return all;
}

const Collector* FindCollector(const std::string& type) {
  for (const Collector* c : Collectors()) {
    if (type == c->type()) return c;
  }
  return nullptr;
}

}  // namespace m365vault::sync
