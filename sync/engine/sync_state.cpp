// sync/engine/sync_state.cpp
#include "sync/engine/sync_state.h"

#include <set>

#include <nlohmann/json.hpp>

namespace m365vault::sync {
namespace {

Result<nlohmann::json> LoadJson(Repository& repo, const BlobId& id) {
  M365_ASSIGN_OR_RETURN(Bytes data, repo.LoadBlob(BlobType::kMeta, id));
  auto j = nlohmann::json::parse(AsString(data), nullptr, false);
  if (!j.is_object()) return Status::Corruption("sync state blob " + id.Short() + " is not a JSON object");
  return j;
}

Result<BlobId> SaveText(Repository& repo, const std::string& text) {
  const BlobId id = repo.HashBlob(AsBytes(text));
  M365_ASSIGN_OR_RETURN(bool saved, repo.SaveBlob(BlobType::kMeta, id, AsBytes(text)));
  (void)saved;
  return id;
}

}  // namespace

Status SyncStateStore::Load(const BlobId& root) {
  std::lock_guard<std::mutex> l(mu_);
  root_.clear();
  objects_.clear();
  dirs_.clear();
  has_dirs_ = false;
  if (root.IsZero()) return Status::OK();
  M365_ASSIGN_OR_RETURN(nlohmann::json j, LoadJson(repo_, root));
  auto objects = j.find("objects");
  if (objects == j.end() || !objects->is_object()) return Status::Corruption("sync state without objects");
  for (auto it = objects->begin(); it != objects->end(); ++it) {
    if (!it.value().is_string()) return Status::Corruption("sync state: bad object entry");
    root_[it.key()] = it.value().get<std::string>();
  }
  if (auto dirs = j.find("dirs"); dirs != j.end() && dirs->is_object()) {
    has_dirs_ = true;
    for (auto it = dirs->begin(); it != dirs->end(); ++it) {
      if (it.value().is_string()) dirs_[it.key()] = it.value().get<std::string>();
    }
  }
  return Status::OK();
}

std::vector<std::string> SyncStateStore::ObjectKeys() {
  std::lock_guard<std::mutex> l(mu_);
  std::set<std::string> keys;
  for (const auto& [k, v] : root_) keys.insert(k);
  for (const auto& [k, v] : objects_) keys.insert(k);
  return {keys.begin(), keys.end()};
}

void SyncStateStore::DropObject(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  root_.erase(key);
  objects_.erase(key);
  dirs_.erase(key);
}

std::string SyncStateStore::ObjectDir(const std::string& key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = dirs_.find(key);
  return it == dirs_.end() ? std::string() : it->second;
}

void SyncStateStore::SetObjectDir(const std::string& key, const std::string& dir) {
  std::lock_guard<std::mutex> l(mu_);
  dirs_[key] = dir;
}

bool SyncStateStore::HasDirs() {
  std::lock_guard<std::mutex> l(mu_);
  return has_dirs_;
}

Result<SyncStateStore::Object*> SyncStateStore::GetObject(const std::string& key) {
  std::string hex;
  Object* object = nullptr;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto& slot = objects_[key];
    if (!slot) slot = std::make_unique<Object>();
    object = slot.get();
    if (object->loaded) return object;
    auto r = root_.find(key);
    if (r != root_.end()) hex = r->second;
  }
  object->loaded = true;
  if (hex.empty()) return object;
  if (!BlobId::FromHex(hex, &object->blob)) return Status::Corruption("bad object blob id in sync state");
  M365_ASSIGN_OR_RETURN(nlohmann::json j, LoadJson(repo_, object->blob));
  auto containers = j.find("containers");
  if (containers == j.end() || !containers->is_object()) return Status::Corruption("object state without containers");
  for (auto it = containers->begin(); it != containers->end(); ++it) {
    Object::Entry& e = object->containers[it.key()];
    e.state.delta_link = it.value().value("link", "");
    const std::string items = it.value().value("items", "");
    if (!items.empty() && BlobId::FromHex(items, &e.items)) LoadLater(e);
  }
  return object;
}

void SyncStateStore::LoadLater(Object::Entry& e) {
  const BlobId id = e.items;
  e.state.load_nodes = [this, id](ContainerState& state) -> Status {
    M365_ASSIGN_OR_RETURN(Bytes data, repo_.LoadBlob(BlobType::kMeta, id));
    if (!DecodeNodes(AsString(data), &state)) return Status::Corruption("bad container state " + id.Short());
    return Status::OK();
  };
}

Status SyncStateStore::StoreNodes(Object::Entry& e) {
  if (e.state.load_nodes) return Status::OK();  // never loaded: the stored blob is current
  // Dedup makes this free when the nodes did not change.
  M365_ASSIGN_OR_RETURN(e.items, SaveText(repo_, EncodeNodes(e.state)));
  return Status::OK();
}

Status SyncStateStore::Release(const std::string& key) {
  Object* object = nullptr;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end() || !it->second->loaded) return Status::OK();
    object = it->second.get();
  }
  for (auto& [ckey, e] : object->containers) {
    if (e.state.load_nodes) continue;
    M365_RETURN_IF_ERROR(StoreNodes(e));
    std::map<std::string, NodeState>().swap(e.state.nodes);
    e.state.root_id.clear();  // stored with the nodes (EncodeNodes)
    LoadLater(e);
  }
  return Status::OK();
}

ContainerState& SyncStateStore::GetContainer(Object& object, const std::string& key) {
  return object.containers[key].state;
}

void SyncStateStore::RetainContainers(Object& object, const std::vector<std::string>& keep) {
  std::set<std::string> k(keep.begin(), keep.end());
  for (auto it = object.containers.begin(); it != object.containers.end();) {
    it = k.count(it->first) ? std::next(it) : object.containers.erase(it);
  }
}

Result<std::string> SyncStateStore::Save() {
  std::lock_guard<std::mutex> l(mu_);
  std::map<std::string, std::string> root = root_;
  for (auto& [key, object] : objects_) {
    if (!object->loaded) continue;
    nlohmann::json containers = nlohmann::json::object();
    for (auto& [ckey, e] : object->containers) {
      M365_RETURN_IF_ERROR(StoreNodes(e));
      containers[ckey] = {{"link", e.state.delta_link}, {"items", e.items.IsZero() ? "" : e.items.Hex()}};
    }
    nlohmann::json j = {{"containers", containers}};
    M365_ASSIGN_OR_RETURN(object->blob, SaveText(repo_, j.dump()));
    root[key] = object->blob.Hex();
  }
  nlohmann::json objects = nlohmann::json::object();
  for (const auto& [k, v] : root) objects[k] = v;
  nlohmann::json dirs = nlohmann::json::object();
  for (const auto& [k, v] : dirs_) {
    if (root.count(k)) dirs[k] = v;  // only for objects that still have state
  }
  return nlohmann::json({{"v", 1}, {"objects", objects}, {"dirs", dirs}}).dump();
}

}  // namespace m365vault::sync
