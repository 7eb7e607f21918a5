// sync/engine/delta_engine.h
//
// The generic delta engine: the one place that pages through Graph delta
// rounds, persists delta links, resyncs on 410, applies a round to a
// snapshot tree and records per-item failures. Object types (mail messages,
// mail folders, drive items, ...) are small ItemTraits classes that say how
// one JSON item becomes a change (id, parent, name, content URL, metadata);
// none of them pages, retries or touches delta links (docs/sync.md).
//
// Model. A *container* is one delta stream (a mail folder's messages, a
// drive) or one full listing (a mailbox's folder tree). Its state is a delta
// link plus a map item id -> NodeState (parent id, name as Graph gave it, the
// entry name we assigned, version). Items are tracked by id, never by path:
// a folder rename or move is one SnapshotWriter::Rename of its subtree.
//
// A round is applied while it streams, in batches of kApplyBatchItems
// changes (SyncContainer), so memory holds one batch, not the round: the same
// id repeated within a batch keeps its last occurrence, a later batch simply
// applies it again. What needs the whole round waits for its end: a full
// round (first run, or after a 410 resync) deletes exactly the items we had
// that it did not return, and items whose parent is not known yet wait for
// it. The delta link is stored only when the round completed; a round that
// breaks midway keeps the batches applied so far (tree and state agree) and
// its old link, so the next run replays it. Items whose download fails keep
// their previous state and the container keeps its previous delta link, so
// the next run replays the round and fetches them again (replayed changes
// are idempotent: same parent, name and version = nothing to do).
//
// Thread safety: a ContainerState is used by one thread at a time; different
// containers may be synced from different threads sharing one GraphClient and
// one SnapshotWriter (whose tree operations are internally serialised).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backend/snapshot.h"
#include "backend/snapshot_writer.h"
#include "sync/graph/graph_client.h"

namespace m365vault::sync {

// One node (file or folder) of a container, as remembered between runs.
struct NodeState {
  std::string parent;  // parent id; "" = the container root
  std::string raw;     // the name as Graph gave it (stem; detects renames)
  std::string name;    // the entry name assigned in the snapshot
  std::string etag;    // version of the content we hold; "" = none
  bool folder = false;
  bool seen = false;   // scratch, not stored: returned by the full round being applied
};

struct ContainerState {
  std::string delta_link;  // "" = next round is a full enumeration
  std::string root_id;     // the id Graph uses for the container root (drive root)
  std::map<std::string, NodeState> nodes;
  // Set by a state store that loads `nodes` (and root_id) lazily: called once
  // before a round with changes is applied, so an unchanged container costs
  // one request and no state read. Null = nodes are already there.
  std::function<Status(ContainerState&)> load_nodes;
};

// What ItemTraits makes of one item of a page.
struct ItemChange {
  enum class Kind { kUpsert, kRemove, kRoot, kIgnore };
  Kind kind = Kind::kIgnore;
  std::string id;
  std::string parent;       // Graph's parent id ("" or the root id = container root)
  bool folder = false;
  std::string stem;         // name without extension, unsanitised (Graph's own)
  std::string ext;          // ".eml", or "" (then the extension is in stem)
  bool always_suffix = false;  // always append " [<short id>]" (mail)
  std::string etag;         // version; a change of it means "fetch again"
  std::string content_url;  // files: what to download; "" = no content
  std::string download_url;  // files: a pre-authenticated URL for content_url, tried first
  std::optional<std::string> inline_content;  // files rendered from JSON (vCard, iCalendar)
  EntryAttributes attrs;    // mtime and m365.* metadata
};

// How one object type's items become changes. Implementations are stateless.
class ItemTraits {
 public:
  virtual ~ItemTraits() = default;
  virtual ItemChange Parse(const nlohmann::json& item) const = 0;
};

// One delta stream / listing.
struct ContainerSpec {
  std::string key;          // unique within its object ("folder:<id>", "drive:<id>")
  std::string root_path;    // snapshot path of the container root
  std::string initial_url;  // the full-round URL (delta without token)
  RequestOptions request;   // Prefer headers, concurrency key (the mailbox)
  std::string object;       // for failure records, e.g. the UPN
};

// A completed round, ready to apply.
struct Round {
  bool full = false;       // full enumeration: absent items are deleted
  bool resynced = false;   // full because the old link was refused (410)
  std::string delta_link;  // the new link ("" for listings)
  std::map<std::string, ItemChange> changes;  // by id; last occurrence wins
  int pages = 0;
};

// How many changes SyncContainer collects before applying them to the tree
// and the state (one batch per container in memory, whatever the round's size).
inline constexpr size_t kApplyBatchItems = 1000;

// Counters shared by the engine and the run (progress display, job counts).
struct SyncCounters {
  std::atomic<uint64_t> items{0};        // files written (downloaded)
  std::atomic<uint64_t> bytes{0};        // bytes written
  std::atomic<uint64_t> items_failed{0};
  std::atomic<uint64_t> requests{0};     // pages fetched
  std::atomic<uint64_t> containers{0};   // containers visited (folders, calendars, drives), for the warnings
  std::function<void()> on_progress;     // called after each file (may be null)
};

// The result of applying one round to one container.
struct ApplyOutcome {
  bool changed = false;               // the state (and tree) changed
  std::vector<FailedItem> failures;   // items that failed (kept for next run)
};

// Pages through one round, whole in memory (listings whose items are needed
// together, e.g. a calendar's events): from `link`, or spec.initial_url when
// it is empty.
// A refused link (GraphErrorKind::kResync) restarts once with a full round.
// On failure returns the Status and fills *error when given.
Result<Round> FetchRound(GraphClient& client, const ContainerSpec& spec, const ItemTraits& traits,
                         const std::string& link, GraphError* error, SyncCounters* counters = nullptr);

// Applies a completed round to `state` and to the snapshot under
// spec.root_path: deletions, renames/moves (via a staging area, so swaps
// and moves into new folders work), new folders, downloads of new or changed
// files (streamed into FileSinks). Per-item failures are returned, not fatal.
// The new delta link is stored only when no item failed. A non-OK Status
// means the snapshot tree could not be updated (the run should fail).
Result<ApplyOutcome> ApplyRound(GraphClient& client, SnapshotWriter& writer, const ContainerSpec& spec,
                                Round round, ContainerState& state, SyncCounters& counters);

// Pages through the container's round (as FetchRound) and applies it in
// batches while it streams (as ApplyRound, a batch at a time). A container
// whose round fails is reported as one failure (per-container isolation):
// it keeps its old delta link and applies no deletion; batches applied
// before the failure stay, with their per-item failures in `outcome`.
struct ContainerResult {
  Status status;             // non-OK: the round failed (old link kept, no deletion)
  bool store_failure = false;  // status came from the repository, not Graph: fail the run
  GraphError error;          // when status came from Graph
  ApplyOutcome outcome;      // also when status is non-OK: the batches applied before
  bool resynced = false;
};
ContainerResult SyncContainer(GraphClient& client, SnapshotWriter& writer, const ContainerSpec& spec,
                              const ItemTraits& traits, ContainerState& state, SyncCounters& counters);

// Runs state.load_nodes if it is set (see ContainerState).
Status EnsureNodes(ContainerState& state);

// The path of node `id` relative to the container root ("" for the root),
// or nullopt when it is unknown or an orphan.
std::optional<std::string> NodePath(const ContainerState& state, const std::string& id);

// "2024-05-01T10:00:00.123Z" -> ns since the epoch; 0 if unparsable.
int64_t ParseGraphTime(const std::string& text);

// A hint for the admin for a Graph failure (job events).
std::string HintFor(const GraphError& error);

// JSON (de)serialisation of a container's node map (stored as kMeta blobs,
// sync_state.h). EncodeNodesTo hands the text out a piece at a time (an item
// each), so it is never whole in memory; DecodeNodesFrom reads the
// concatenation of `parts` texts, loading one at a time (`load(i)`); a load
// error is returned as is, a malformed text is Corruption.
void EncodeNodesTo(const ContainerState& state, const std::function<void(std::string_view)>& out);
Status DecodeNodesFrom(size_t parts, const std::function<Result<Bytes>(size_t i)>& load, ContainerState* state);
std::string EncodeNodes(const ContainerState& state);
bool DecodeNodes(std::string_view text, ContainerState* state);

}  // namespace m365vault::sync
