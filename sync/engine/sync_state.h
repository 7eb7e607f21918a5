// sync/engine/sync_state.h
//
// SyncStateStore: the collectors' delta state, stored so that its cost grows
// with the change (docs/sync.md, "State format"):
//
//   root blob (SnapshotWriter::SetSyncState):
//     {"v":1,"objects":{"<object key>":"<hex id of the object blob>"},
//      "dirs":{"<object key>":"<its top-level directory in the snapshot>"}}
//   ("dirs" is absent in states written before it existed: HasDirs()).
//   object blob (kMeta, one per mailbox / drive owner):
//     {"containers":{"<container key>":{"link":"<delta link>","parts":["<hex>",...]}}}
//   parts (kMeta): the container's EncodeNodes text (id -> parent, names,
//     etag), cut into content-defined parts of ~64 KiB (kStatePartParams):
//     a change rewrites the part it falls in, not the container's state,
//     and the text is never whole in memory. States written before these
//     parts have "items":"<hex>", one blob of the whole text (still read).
// Every blob is a meta blob (backend/meta_blob.h) whose envelope names what
// it refers to: the root its object blobs (children), an object its parts
// (leaves), so prune keeps them. A state from before the envelope is read,
// and Save() then writes every object again in the new form.
//
// Blobs are content-addressed, so an unchanged object or container is the
// same blob and is not written again; a container's items are read only when
// its round has changes (ContainerState::load_nodes).
//
// Thread safety: Object() may be called from several threads; one object's
// containers must be used by one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backend/chunker.h"
#include "backend/repository.h"
#include "sync/engine/delta_engine.h"

namespace m365vault::sync {

class SyncStateStore {
 public:
  struct Object {
    struct Entry {
      ContainerState state;
      std::vector<BlobId> parts;  // the stored items text (empty: none yet)
    };
    std::map<std::string, Entry> containers;
    bool loaded = false;
    BlobId blob;  // the stored object blob
  };

  explicit SyncStateStore(Repository& repo);

  // Reads the root blob of a previous snapshot (a zero id = no state).
  Status Load(const BlobId& root);

  // The state of one object (loaded on first use). Returns a stable pointer.
  Result<Object*> GetObject(const std::string& key);

  // The container's state in `object`, created empty if absent; its nodes
  // load lazily (load_nodes) when it came from the store.
  ContainerState& GetContainer(Object& object, const std::string& key);

  // Drops the containers of `object` not in `keep`.
  static void RetainContainers(Object& object, const std::vector<std::string>& keep);

  // The object keys of the loaded state and of objects used since, sorted.
  std::vector<std::string> ObjectKeys();
  // Forgets an object: its state is not saved (its next run starts afresh).
  void DropObject(const std::string& key);

  // The top-level snapshot directory an object's data lives in ("" if not
  // recorded), and whether the loaded state recorded directories at all.
  std::string ObjectDir(const std::string& key);
  void SetObjectDir(const std::string& key, const std::string& dir);
  bool HasDirs();

  // Stores the node maps the object `key` holds in memory and frees them;
  // they load again if used. A run calls it when it is done with a user, so
  // it holds the items of the users in progress, not of the whole tenant.
  // Nothing to do for an object not loaded.
  Status Release(const std::string& key);
  // The same for one container of object `object_key`: a collector calls it
  // when the container's round is done, so a mailbox holds the folders in
  // flight, not all of them. No other thread may use the container.
  Status ReleaseContainer(const std::string& object_key, Object::Entry& e);

  // A stored state that could not be read (missing or corrupt blobs): the
  // object, or one of its containers, started afresh with a full round.
  struct Problem {
    std::string key;   // the object ("user:<id>")
    std::string what;
  };
  std::vector<Problem> TakeProblems();

  // Writes changed blobs and returns the new root blob's bytes (a meta blob
  // naming the object blobs, which name their parts: backend/meta_blob.h).
  Result<Bytes> Save();

 private:
  // Stores a container's in-memory nodes (if any) as its items blob.
  Status StoreNodes(Object::Entry& e);
  // Makes a container of object `key` load its nodes from its parts on first use.
  void LoadLater(const std::string& key, Object::Entry& e);
  // Missing or corrupt, as opposed to a storage failure that may pass.
  static bool Unreadable(const Status& st);
  void Note(const std::string& key, const std::string& what);

  Repository& repo_;
  Chunker chunker_;  // cuts the items texts into parts
  std::mutex mu_;
  std::map<std::string, std::string> root_;  // object key -> blob hex (from the parent)
  std::map<std::string, std::unique_ptr<Object>> objects_;
  std::map<std::string, std::string> dirs_;  // object key -> top-level directory
  bool has_dirs_ = false;                    // the loaded root had "dirs"
  bool legacy_root_ = false;                 // the loaded root names no references
  std::vector<Problem> problems_;
};

}  // namespace m365vault::sync
