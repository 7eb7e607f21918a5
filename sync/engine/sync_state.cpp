// sync/engine/sync_state.cpp
#include "sync/engine/sync_state.h"

#include <set>

#include <nlohmann/json.hpp>

#include "backend/meta_blob.h"

namespace m365vault::sync {
namespace {

Result<nlohmann::json> LoadJson(Repository& repo, const BlobId& id, bool* legacy = nullptr) {
  M365_ASSIGN_OR_RETURN(MetaBlob m, LoadMetaBlob(repo, id));
  if (legacy) *legacy = m.legacy;
  auto j = nlohmann::json::parse(AsString(m.payload), nullptr, false);
  if (!j.is_object()) return Status::Corruption("sync state blob " + id.Short() + " is not a JSON object");
  return j;
}

// Parts of a container's items text: small enough that a change rewrites
// little, large enough that a 100,000-item container is ~700 blobs.
constexpr ChunkerParams kStatePartParams{16 * 1024, 64 * 1024, 256 * 1024};

// Streams the container's nodes into parts (dedup: an unchanged part is not written again).
Result<std::vector<BlobId>> SaveNodes(Repository& repo, const Chunker& chunker, const ContainerState& state) {
  std::vector<BlobId> parts;
  Bytes buf;
  Status st;
  auto cut = [&](bool eof) {
    size_t pos = 0;
    while (st.ok() && pos < buf.size()) {
      const ByteView rest(buf.data() + pos, buf.size() - pos);
      const size_t n = chunker.NextChunk(rest, eof);
      if (n == 0) break;
      auto id = SaveMetaBlob(repo, rest.first(n));
      if (!id.ok()) {
        st = id.status();
        break;
      }
      parts.push_back(*id);
      pos += n;
    }
    buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(pos));
  };
  EncodeNodesTo(state, [&](std::string_view piece) {
    buf.insert(buf.end(), piece.begin(), piece.end());
    if (buf.size() >= 2 * kStatePartParams.max_size) cut(false);
  });
  cut(true);
  M365_RETURN_IF_ERROR(st);
  return parts;
}

}  // namespace

SyncStateStore::SyncStateStore(Repository& repo) : repo_(repo), chunker_(repo.chunker_key(), kStatePartParams) {}

Status SyncStateStore::Load(const BlobId& root) {
  std::lock_guard<std::mutex> l(mu_);
  root_.clear();
  objects_.clear();
  dirs_.clear();
  has_dirs_ = false;
  legacy_root_ = false;
  if (root.IsZero()) return Status::OK();
  M365_ASSIGN_OR_RETURN(nlohmann::json j, LoadJson(repo_, root, &legacy_root_));
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
  auto loaded = LoadJson(repo_, object->blob);
  if (!loaded.ok()) {
    if (!Unreadable(loaded.status())) return loaded.status();
    // Lost (e.g. removed by a prune from before meta blobs named their
    // references): the object starts afresh rather than failing every run.
    Note(key, "its saved sync state cannot be read (" + loaded.status().ToString() + ")");
    object->blob = BlobId{};
    return object;
  }
  nlohmann::json& j = *loaded;
  auto containers = j.find("containers");
  if (containers == j.end() || !containers->is_object()) return Status::Corruption("object state without containers");
  for (auto it = containers->begin(); it != containers->end(); ++it) {
    Object::Entry& e = object->containers[it.key()];
    e.state.delta_link = it.value().value("link", "");
    BlobId id;
    if (auto parts = it.value().find("parts"); parts != it.value().end() && parts->is_array()) {
      for (const auto& hex : *parts) {
        if (!hex.is_string() || !BlobId::FromHex(hex.get<std::string>(), &id)) {
          return Status::Corruption("object state " + object->blob.Short() + ": bad part id");
        }
        e.parts.push_back(id);
      }
    } else if (BlobId::FromHex(it.value().value("items", ""), &id)) {  // before parts: one blob
      e.parts.push_back(id);
    }
    if (!e.parts.empty()) LoadLater(key, e);
  }
  return object;
}

bool SyncStateStore::Unreadable(const Status& st) {
  return st.IsNotFound() || st.code() == Status::Code::kCorruption;
}

void SyncStateStore::Note(const std::string& key, const std::string& what) {
  std::lock_guard<std::mutex> l(mu_);
  problems_.push_back({key, what});
}

std::vector<SyncStateStore::Problem> SyncStateStore::TakeProblems() {
  std::lock_guard<std::mutex> l(mu_);
  return std::exchange(problems_, {});
}

void SyncStateStore::LoadLater(const std::string& key, Object::Entry& e) {
  e.state.load_nodes = [this, key, parts = e.parts](ContainerState& state) -> Status {
    Status st = DecodeNodesFrom(
        parts.size(),
        [&](size_t i) -> Result<Bytes> {
          M365_ASSIGN_OR_RETURN(MetaBlob m, LoadMetaBlob(repo_, parts[i]));
          return std::move(m.payload);
        },
        &state);
    if (!st.ok() && Unreadable(st)) {
      // A full round rebuilds it (the delta link goes with the items it covered).
      Note(key, "the saved state of one of its folders or drives cannot be read (" + st.ToString() + ")");
      state.nodes.clear();
      state.root_id.clear();
      state.delta_link.clear();
      return Status::OK();
    }
    return st.WithContext("container state " + parts.front().Short());
  };
}

Status SyncStateStore::StoreNodes(Object::Entry& e) {
  if (e.state.load_nodes) return Status::OK();  // never loaded: the stored parts are current
  M365_ASSIGN_OR_RETURN(e.parts, SaveNodes(repo_, chunker_, e.state));
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
  for (auto& [ckey, e] : object->containers) M365_RETURN_IF_ERROR(ReleaseContainer(key, e));
  return Status::OK();
}

Status SyncStateStore::ReleaseContainer(const std::string& object_key, Object::Entry& e) {
  if (e.state.load_nodes) return Status::OK();  // not in memory
  M365_RETURN_IF_ERROR(StoreNodes(e));
  std::map<std::string, NodeState>().swap(e.state.nodes);
  e.state.root_id.clear();  // stored with the nodes (EncodeNodes)
  LoadLater(object_key, e);
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

Result<Bytes> SyncStateStore::Save() {
  if (legacy_root_) {
    // A state from before meta blobs named their references: read every
    // object once, so each is written again naming its parts and prune can
    // keep them (docs/sync.md, "State format").
    for (const std::string& key : ObjectKeys()) M365_RETURN_IF_ERROR(GetObject(key).status());
  }
  std::lock_guard<std::mutex> l(mu_);
  std::map<std::string, std::string> root = root_;
  for (auto& [key, object] : objects_) {
    if (!object->loaded) continue;
    nlohmann::json containers = nlohmann::json::object();
    std::vector<BlobId> leaves;
    for (auto& [ckey, e] : object->containers) {
      M365_RETURN_IF_ERROR(StoreNodes(e));
      nlohmann::json parts = nlohmann::json::array();
      for (const BlobId& id : e.parts) parts.push_back(id.Hex());
      leaves.insert(leaves.end(), e.parts.begin(), e.parts.end());
      containers[ckey] = {{"link", e.state.delta_link}, {"parts", std::move(parts)}};
    }
    nlohmann::json j = {{"containers", containers}};
    M365_ASSIGN_OR_RETURN(object->blob, SaveMetaBlob(repo_, AsBytes(j.dump()), {}, leaves));
    root[key] = object->blob.Hex();
  }
  nlohmann::json objects = nlohmann::json::object();
  std::vector<BlobId> children;
  for (const auto& [k, v] : root) {
    objects[k] = v;
    BlobId id;
    if (!BlobId::FromHex(v, &id)) return Status::Corruption("bad object blob id in sync state");
    children.push_back(id);
  }
  nlohmann::json dirs = nlohmann::json::object();
  for (const auto& [k, v] : dirs_) {
    if (root.count(k)) dirs[k] = v;  // only for objects that still have state
  }
  const std::string text = nlohmann::json({{"v", 1}, {"objects", objects}, {"dirs", dirs}}).dump();
  return EncodeMetaBlob(AsBytes(text), children, {});
}

}  // namespace m365vault::sync
