// sync/engine/delta_engine.cpp
#include "sync/engine/delta_engine.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <atomic>
#include <mutex>
#include <thread>
#include <ctime>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "sync/engine/safe_name.h"

namespace m365vault::sync {
namespace {

constexpr char kStagingDir[] = ".m365vault-staging";
constexpr size_t kDownloadsPerContainer = 4;

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

using PathMemo = std::unordered_map<std::string, std::optional<std::string>>;

// Path of `id` relative to the container root, "" for the root; nullopt if
// its parent chain does not reach the root (an orphan) or loops. `find(id)`
// returns the node or null.
template <typename Find>
std::optional<std::string> RelPath(const Find& find, const std::string& id, PathMemo& memo) {
  if (id.empty()) return std::string();
  if (auto m = memo.find(id); m != memo.end()) return m->second;
  memo[id] = std::nullopt;  // loop guard
  const NodeState* node = find(id);
  std::optional<std::string> result;
  if (node) {
    auto parent = RelPath(find, node->parent, memo);
    if (parent) result = JoinPath(*parent, node->name);
  }
  memo[id] = result;
  return result;
}

size_t Depth(const std::string& rel) { return rel.empty() ? 0 : std::count(rel.begin(), rel.end(), '/') + 1; }

}  // namespace

int64_t ParseGraphTime(const std::string& text) {
  struct tm tm {};
  int frac_ns = 0;
  if (text.size() < 19) return 0;
  if (sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
             &tm.tm_sec) != 6) {
    return 0;
  }
  if (text.size() > 20 && text[19] == '.') {
    int scale = 100000000;
    for (size_t i = 20; i < text.size() && isdigit(static_cast<unsigned char>(text[i])) && scale > 0; ++i) {
      frac_ns += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const time_t t = timegm(&tm);
  return static_cast<int64_t>(t) * 1000000000LL + frac_ns;
}

std::string HintFor(const GraphError& e) {
  if (e.http_status == 0) return "network failure talking to Graph; it is retried on the next run";
  if (e.HasCode("MailboxNotEnabledForRESTAPI") || e.HasCode("ResourceNotFound") || e.HasCode("mysiteNotFound")) {
    return "the user has no mailbox or OneDrive; nothing to back up";
  }
  if (e.http_status == 401 || e.http_status == 403) {
    return "check the app registration's application permissions (Mail.Read, Files.Read.All, User.Read.All) "
           "and admin consent";
  }
  if (e.http_status == 404) return "the item disappeared during the backup; the next run catches up";
  if (e.HasCode("malwareDetected")) return "Microsoft flagged the file as malware; it cannot be downloaded";
  if (e.HasCode("ErrorCorruptData") || e.HasCode("ErrorCannotOpenFileAttachment")) {
    return "the item is corrupt in Microsoft 365; open it in Outlook/OneDrive to repair or delete it";
  }
  if (e.http_status == 429 || e.http_status == 503 || e.http_status == 509 || e.http_status >= 500) {
    return "Microsoft 365 throttled or failed repeatedly; it is retried on the next run";
  }
  if (e.http_status == 410) return "the delta token expired; the next run re-enumerates the container";
  return "retried on the next run; if it keeps failing, check the job events and the item in Microsoft 365";
}

Result<Round> FetchRound(GraphClient& client, const ContainerSpec& spec, const ItemTraits& traits,
                         const std::string& link, GraphError* error, SyncCounters* counters) {
  Round round;
  std::string url = link.empty() ? spec.initial_url : link;
  round.full = link.empty();
  for (int attempt = 0;; ++attempt) {
    round.changes.clear();
    GraphError err;
    auto paged = client.ForEachPage(
        url, spec.request,
        [&](const nlohmann::json& page) -> Status {
          if (counters) ++counters->requests;
          auto value = page.find("value");
          if (value == page.end() || !value->is_array()) return Status::OK();
          for (const auto& item : *value) {
            ItemChange change = traits.Parse(item);
            if (change.kind == ItemChange::Kind::kIgnore || change.id.empty()) continue;
            round.changes[change.id] = std::move(change);  // last occurrence wins
          }
          return Status::OK();
        },
        &err);
    if (paged.ok()) {
      round.delta_link = paged->delta_link;
      round.pages = paged->pages;
      return round;
    }
    if (err.kind == GraphErrorKind::kResync && attempt == 0) {
      // The link is gone: enumerate everything; deletions follow from what
      // this full round does not return (applied only once it completes).
      url = spec.initial_url;
      round.full = true;
      round.resynced = true;
      continue;
    }
    if (error) *error = err;
    return paged.status();
  }
}

namespace {

using NodeMap = std::map<std::string, NodeState>;
using ChangeMap = std::map<std::string, ItemChange>;

// Applies one batch to state.nodes and the snapshot tree, in place:
// `changes` (one per id) and the removal of `gone` (the end of a full
// round). Only the nodes the batch touches are copied (to know their old
// paths); the whole node map is scanned only when a folder moves or goes,
// or to find the names taken in a folder that receives new items.
//
// Upserts whose parent is unknown are orphans: with `defer` they are moved
// there unapplied (their parent may come later in the round), without it
// they are dropped (the next full round or a later change brings them back).
// Marks every applied upsert `seen` (full rounds delete the unseen at the
// end). Per-item failures go to *outcome; a non-OK Status means the tree
// could not be updated.
Status ApplyChanges(GraphClient& client, SnapshotWriter& writer, const ContainerSpec& spec, ChangeMap& changes,
                    const std::vector<std::string>& gone, ChangeMap* defer, ContainerState& state,
                    SyncCounters& counters, ApplyOutcome* outcome) {
  NodeMap& nodes = state.nodes;
  for (auto& [id, ch] : changes) {
    if (ch.kind == ItemChange::Kind::kRoot) state.root_id = id;
  }
  std::set<std::string> removed(gone.begin(), gone.end());
  std::map<std::string, const ItemChange*> upserts;
  for (auto& [id, ch] : changes) {
    if (ch.kind == ItemChange::Kind::kRemove) {
      removed.insert(id);
    } else if (ch.kind == ItemChange::Kind::kUpsert) {
      if (ch.parent == state.root_id) ch.parent.clear();
      upserts[id] = &ch;
      removed.erase(id);
    }
  }
  // Orphans: an upsert whose parent is neither the root, nor a node that
  // stays, nor an upsert of this batch that is not itself an orphan.
  for (bool again = true; again;) {
    again = false;
    for (auto it = upserts.begin(); it != upserts.end();) {
      const std::string& parent = it->second->parent;
      const bool known = parent.empty() || upserts.count(parent) || (nodes.count(parent) && !removed.count(parent));
      if (known) {
        ++it;
        continue;
      }
      if (defer) {
        (*defer)[it->first] = std::move(changes.at(it->first));
      } else {
        removed.insert(it->first);  // an orphan we had goes
      }
      it = upserts.erase(it);
      again = true;
    }
  }

  // 1. The previous version of every node the batch touches.
  std::map<std::string, std::optional<NodeState>> before;
  auto remember = [&](const std::string& id) {
    if (before.count(id)) return;
    auto it = nodes.find(id);
    before.emplace(id, it == nodes.end() ? std::nullopt : std::optional<NodeState>(it->second));
  };
  for (const auto& id : removed) remember(id);
  for (const auto& [id, ch] : upserts) remember(id);
  auto old_node = [&](const std::string& id) -> const NodeState* {
    if (auto b = before.find(id); b != before.end()) return b->second ? &*b->second : nullptr;
    auto it = nodes.find(id);
    return it == nodes.end() ? nullptr : &it->second;
  };
  auto new_node = [&](const std::string& id) -> const NodeState* {
    auto it = nodes.find(id);
    return it == nodes.end() ? nullptr : &it->second;
  };

  // 2. The new node map: removals, upserts.
  bool folders_moved = false;  // a folder went or changed parent/name: its descendants' paths change
  for (const auto& id : removed) {
    auto it = nodes.find(id);
    if (it == nodes.end()) continue;
    folders_moved |= it->second.folder;
    nodes.erase(it);
  }
  for (const auto& [id, ch] : upserts) {
    NodeState& n = nodes[id];
    const NodeState* old = old_node(id);
    n.parent = ch->parent;
    n.raw = ch->stem + ch->ext;
    n.folder = ch->folder;
    n.seen = true;
    n.etag = old ? old->etag : "";
    // Keep the assigned name while Graph's name and the parent are unchanged.
    n.name = (old && old->raw == n.raw && old->parent == n.parent) ? old->name : std::string();
    if (old && old->folder && n.name.empty()) folders_moved = true;
  }
  // Nodes under a folder that went are dropped with it (their removal may
  // come later in the round, or never: a later change brings them back).
  for (bool again = folders_moved; again;) {
    again = false;
    for (auto it = nodes.begin(); it != nodes.end();) {
      if (!it->second.parent.empty() && !nodes.count(it->second.parent)) {
        remember(it->first);
        it = nodes.erase(it);
        again = true;
      } else {
        ++it;
      }
    }
  }
  for (const auto& [id, old] : before) {
    if (old.has_value() != (nodes.count(id) > 0)) outcome->changed = true;
  }

  // 3. Names: unique per parent. Kept names first, then new ones (in id
  // order, so the outcome does not depend on page order within a batch).
  {
  std::map<std::string, std::unordered_set<std::string_view>> used;  // views of the nodes' names
  for (const auto& [id, ch] : upserts) {
    if (nodes.at(id).name.empty()) used[nodes.at(id).parent];
  }
  if (!used.empty()) {
    for (const auto& [id, n] : nodes) {
      if (n.name.empty()) continue;
      if (auto u = used.find(n.parent); u != used.end()) u->second.insert(n.name);
    }
  }
  for (const auto& [id, ch] : upserts) {
    NodeState& n = nodes.at(id);
    if (!n.name.empty()) continue;
    auto& names = used[n.parent];
    const std::string suffix = " [" + ShortId(id) + "]";
    std::string name = SafeName(ch->stem, ch->ext, ch->always_suffix ? suffix : "");
    if (names.count(name)) name = SafeName(ch->stem, ch->ext, suffix);
    for (int i = 2; names.count(name); ++i) {
      name = SafeName(ch->stem, ch->ext, " [" + ShortId(id + "#" + std::to_string(i)) + "]");
    }
    n.name = std::move(name);
    names.insert(n.name);  // the node's own string: stable while `used` lives
  }
  }

  // 4. Old and new paths. A node whose whole parent chain kept its parents
  // and names has the same path: skip it without building paths. Without a
  // folder moving, only the touched nodes can have moved.
  PathMemo old_memo, new_memo;
  struct Move {
    std::string id;
    std::string from;
    size_t depth;
  };
  std::vector<Move> out;  // removed, or moved/renamed
  std::unordered_map<std::string, bool> stable_memo;
  std::function<bool(const std::string&)> stable = [&](const std::string& id) -> bool {
    if (id.empty()) return true;
    const NodeState* o = old_node(id);
    if (!o) return false;
    if (auto m = stable_memo.find(id); m != stable_memo.end()) return m->second;
    stable_memo[id] = false;  // loop guard
    const NodeState* n = new_node(id);
    bool result = n && n->parent == o->parent && n->name == o->name && stable(o->parent);
    stable_memo[id] = result;
    return result;
  };
  auto consider = [&](const std::string& id) {
    if (stable(id)) return;
    auto from = RelPath(old_node, id, old_memo);
    if (!from) return;
    if (!nodes.count(id)) {
      out.push_back({id, *from, Depth(*from)});
      return;
    }
    auto to = RelPath(new_node, id, new_memo);
    if (to && *to != *from) out.push_back({id, *from, Depth(*from)});
  };
  for (const auto& [id, old] : before) {
    if (old) consider(id);
  }
  if (folders_moved) {
    for (const auto& [id, n] : nodes) {
      if (!before.count(id)) consider(id);
    }
  }
  std::sort(out.begin(), out.end(), [](const Move& a, const Move& b) { return a.depth > b.depth; });
  // Staging lives inside the container (one thread per container), removed
  // before the batch ends.
  const std::string staging = JoinPath(spec.root_path, std::string(kStagingDir) + "-" + ShortId(spec.key));
  std::map<std::string, std::string> staged;  // id -> staging path
  bool used_staging = false;
  for (const auto& m : out) {
    const std::string from = JoinPath(spec.root_path, m.from);
    Status st;
    if (!nodes.count(m.id)) {
      st = writer.Remove(from);
    } else {
      const std::string to = JoinPath(staging, std::to_string(staged.size()));
      st = writer.Rename(from, to);
      if (st.ok()) staged[m.id] = to;
      used_staging = true;
    }
    if (!st.ok() && !st.IsNotFound()) return st.WithContext("updating " + from);
    if (!st.ok() && nodes.count(m.id)) nodes[m.id].etag.clear();  // missing: fetch it again
    outcome->changed = true;
  }

  // 5. Place: staged items back at their new paths, new folders, downloads;
  // shallowest first so parents exist.
  struct Place {
    std::string id;
    std::string rel;
    size_t depth;
  };
  std::vector<Place> in;
  auto place = [&](const std::string& id) {
    if (!nodes.count(id)) return;
    auto rel = RelPath(new_node, id, new_memo);
    if (rel) in.push_back({id, *rel, Depth(*rel)});
  };
  for (const auto& [id, ch] : upserts) place(id);
  for (const auto& [id, path] : staged) {
    if (!upserts.count(id)) place(id);
  }
  std::sort(in.begin(), in.end(), [](const Place& a, const Place& b) {
    return a.depth != b.depth ? a.depth < b.depth : a.rel < b.rel;
  });
  std::set<std::string> failed;
  struct Download {
    std::string id, rel, path;
    const ItemChange* change;
  };
  std::vector<Download> downloads;
  for (const auto& p : in) {
    NodeState& n = nodes.at(p.id);
    const std::string path = JoinPath(spec.root_path, p.rel);
    if (auto s = staged.find(p.id); s != staged.end()) {
      M365_RETURN_IF_ERROR(writer.Rename(s->second, path).WithContext("moving to " + path));
    }
    auto u = upserts.find(p.id);
    if (u == upserts.end()) continue;
    const ItemChange& ch = *u->second;
    const NodeState* old = old_node(p.id);
    const bool existed = old && !n.etag.empty();
    if (existed && n.etag == ch.etag && !staged.count(p.id) && old->name == n.name) continue;
    if (ch.folder) {
      const std::string version = ch.etag.empty() ? "-" : ch.etag;  // folders without etag: "-"
      if (!existed || n.etag != version) {
        M365_RETURN_IF_ERROR(writer.MakeDirectory(path, ch.attrs).WithContext("creating " + path));
        n.etag = version;
        outcome->changed = true;
      }
      continue;
    }
    if (existed && n.etag == ch.etag) continue;  // only moved or renamed
    outcome->changed = true;
    if (ch.inline_content) {
      M365_RETURN_IF_ERROR(writer.PutFile(path, AsBytes(*ch.inline_content), ch.attrs).WithContext("writing " + path));
      n.etag = ch.etag;
      ++counters.items;
      counters.bytes += ch.inline_content->size();
      continue;
    }
    if (ch.content_url.empty()) {
      M365_RETURN_IF_ERROR(writer.PutFile(path, {}, ch.attrs).WithContext("writing " + path));
      n.etag = ch.etag;
      continue;
    }
    downloads.push_back({p.id, p.rel, path, &ch});
  }

  // 6. Downloads, up to kDownloadsPerContainer at once (each in its own
  // FileSink on its own thread; the mailbox limiter caps requests at 4).
  std::mutex mu;  // guards failed, outcome, store_status, nodes' etags
  Status store_status;
  std::atomic<size_t> next{0};
  auto download_worker = [&] {
    for (size_t i = next++; i < downloads.size(); i = next++) {
      const Download& d = downloads[i];
      {
        std::lock_guard<std::mutex> l(mu);
        if (!store_status.ok()) return;
      }
      auto sink = writer.BeginFile(d.path, d.change->attrs);
      if (!sink.ok()) {
        std::lock_guard<std::mutex> l(mu);
        store_status = sink.status().WithContext("writing " + d.path);
        return;
      }
      GraphError err;
      uint64_t bytes = 0;
      Status sink_status;  // a failure of the store (fatal), not of Graph
      auto dl = client.Download(
          d.change->content_url,
          [&](std::string_view chunk) {
            bytes += chunk.size();
            Status st = (*sink)->Append(AsBytes(chunk));
            if (!st.ok()) sink_status = st;
            return st;
          },
          spec.request, &err, d.change->download_url);
      Status finished;
      if (sink_status.ok() && dl.ok()) {
        auto size = (*sink)->Finish();
        finished = size.status();
      } else {
        (*sink)->Abandon();
      }
      std::lock_guard<std::mutex> l(mu);
      if (!sink_status.ok() || !finished.ok()) {
        store_status = (!sink_status.ok() ? sink_status : finished).WithContext("writing " + d.path);
        return;
      }
      if (!dl.ok()) {
        ++counters.items_failed;
        failed.insert(d.id);
        outcome->failures.push_back(
            {JoinPath(spec.object, d.rel), err.MostSpecificCode(), dl.status().message(), HintFor(err), kLevelContent});
        continue;
      }
      nodes.at(d.id).etag = d.change->etag;
      ++counters.items;
      counters.bytes += bytes;
      if (counters.on_progress) counters.on_progress();
    }
  };
  {
    const size_t n_threads = std::min<size_t>(kDownloadsPerContainer, downloads.size());
    std::vector<std::thread> pool;
    for (size_t t = 1; t < n_threads; ++t) pool.emplace_back(download_worker);
    if (!downloads.empty()) download_worker();
    for (auto& t : pool) t.join();
  }
  if (!store_status.ok()) return store_status;
  if (used_staging) {
    Status st = writer.Remove(staging);
    if (!st.ok() && !st.IsNotFound()) return st;
  }
  // Failed new items are forgotten (the replayed round creates them); failed
  // existing ones keep their old version (etag) so they are fetched again.
  for (const auto& id : failed) {
    const NodeState* old = old_node(id);
    if (!old || old->etag.empty()) nodes.erase(id);
  }
  return Status::OK();
}

// The nodes a full round did not return (not `seen`, and not upserted by
// `last`, the round's final batch): deleted when the round completes.
std::vector<std::string> Unseen(const ContainerState& state, const ChangeMap& last) {
  std::vector<std::string> gone;
  for (const auto& [id, n] : state.nodes) {
    if (n.seen) continue;
    auto c = last.find(id);
    if (c == last.end() || c->second.kind != ItemChange::Kind::kUpsert) gone.push_back(id);
  }
  return gone;
}

void ClearSeen(ContainerState& state) {
  for (auto& [id, n] : state.nodes) n.seen = false;
}

// One round applied while it streams: changes are applied in batches of
// kApplyBatchItems as pages arrive, so memory holds one batch, not the round
// (docs/sync.md, "Rounds"). Deletions of a full round and orphans wait for
// Finish(); the delta link is stored only by Finish() (and only when no item
// failed).
class StreamedRound {
 public:
  StreamedRound(GraphClient& client, SnapshotWriter& writer, const ContainerSpec& spec, ContainerState& state,
                SyncCounters& counters)
      : client_(client), writer_(writer), spec_(spec), state_(state), counters_(counters) {}

  // Starts (or restarts, after a refused link) a round. A full round loads
  // the nodes now: its deletions are the nodes it does not return.
  Status Begin(bool full) {
    full_ = full;
    batch_.clear();
    deferred_.clear();
    if (full_) {
      M365_RETURN_IF_ERROR(Load());
      ClearSeen(state_);
    }
    return Status::OK();
  }

  bool full() const { return full_; }

  // Adds a change (replacing an earlier one of the same id in this batch or
  // among the deferred); applies the batch once it is full.
  Status Add(ItemChange change) {
    deferred_.erase(change.id);
    const std::string id = change.id;
    batch_[id] = std::move(change);
    if (batch_.size() < kApplyBatchItems) return Status::OK();
    return Apply(nullptr);
  }

  // Ends the round: applies the last batch, the deferred orphans and (full
  // round) the deletions, then stores the link when no item failed.
  Status Finish(const std::string& delta_link) {
    if (batch_.empty() && deferred_.empty() && !full_ && delta_link == state_.delta_link) return Status::OK();
    for (auto& [id, ch] : deferred_) batch_.emplace(id, std::move(ch));
    deferred_.clear();
    M365_RETURN_IF_ERROR(Apply(&delta_link));
    if (full_ && resynced_) outcome_.changed = true;
    if (outcome_.failures.empty()) {
      if (state_.delta_link != delta_link) outcome_.changed = true;
      state_.delta_link = delta_link;
    }
    return Status::OK();
  }

  void set_resynced() { resynced_ = true; }
  ApplyOutcome& outcome() { return outcome_; }

 private:
  Status Load() {
    if (loaded_) return Status::OK();
    loaded_ = true;
    return EnsureNodes(state_);
  }

  // Applies batch_ (the last one when `final_link` is given).
  Status Apply(const std::string* final_link) {
    M365_RETURN_IF_ERROR(Load());
    const bool last = final_link != nullptr;
    std::vector<std::string> gone;
    if (last && full_) gone = Unseen(state_, batch_);
    Status st = ApplyChanges(client_, writer_, spec_, batch_, gone, last ? nullptr : &deferred_, state_, counters_,
                             &outcome_);
    batch_.clear();
#if defined(__GLIBC__)
    // The batch (its changes, the pages it came from, the download buffers)
    // is freed between long-lived allocations (nodes, tree entries), so the
    // arenas keep whole free pages that glibc does not return by itself.
    malloc_trim(0);
#endif
    return st;
  }

  GraphClient& client_;
  SnapshotWriter& writer_;
  const ContainerSpec& spec_;
  ContainerState& state_;
  SyncCounters& counters_;
  bool full_ = false;
  bool resynced_ = false;
  bool loaded_ = false;
  ChangeMap batch_;     // not applied yet, by id (last occurrence wins)
  ChangeMap deferred_;  // orphans so far: applied (or dropped) by Finish()
  ApplyOutcome outcome_;
};

}  // namespace

Result<ApplyOutcome> ApplyRound(GraphClient& client, SnapshotWriter& writer, const ContainerSpec& spec,
                                Round round, ContainerState& state, SyncCounters& counters) {
  ApplyOutcome outcome;
  std::vector<std::string> gone;
  if (round.full) {
    ClearSeen(state);
    gone = Unseen(state, round.changes);
  }
  M365_RETURN_IF_ERROR(
      ApplyChanges(client, writer, spec, round.changes, gone, nullptr, state, counters, &outcome));
  if (round.full && round.resynced) outcome.changed = true;
  if (outcome.failures.empty()) {
    if (state.delta_link != round.delta_link) outcome.changed = true;
    state.delta_link = round.delta_link;
  }
  return outcome;
}

ContainerResult SyncContainer(GraphClient& client, SnapshotWriter& writer, const ContainerSpec& spec,
                              const ItemTraits& traits, ContainerState& state, SyncCounters& counters) {
  ContainerResult result;
  StreamedRound round(client, writer, spec, state, counters);
  std::string url = state.delta_link.empty() ? spec.initial_url : state.delta_link;
  Status store;  // a failure of the repository while applying a batch
  auto fail_store = [&](Status st) {
    result.status = std::move(st);
    result.store_failure = true;
    result.outcome = std::move(round.outcome());
    return result;
  };
  if (Status st = round.Begin(state.delta_link.empty()); !st.ok()) return fail_store(st);
  for (int attempt = 0;; ++attempt) {
    GraphError err;
    auto paged = client.ForEachPage(
        url, spec.request,
        [&](const nlohmann::json& page) -> Status {
          ++counters.requests;
          auto value = page.find("value");
          if (value == page.end() || !value->is_array()) return Status::OK();
          for (const auto& item : *value) {
            ItemChange change = traits.Parse(item);
            if (change.kind == ItemChange::Kind::kIgnore || change.id.empty()) continue;
            store = round.Add(std::move(change));
            if (!store.ok()) return store;
          }
          return Status::OK();
        },
        &err);
    if (!store.ok()) return fail_store(store);
    if (paged.ok()) {
      if (Status st = round.Finish(paged->delta_link); !st.ok()) return fail_store(st);
      break;
    }
    if (err.kind == GraphErrorKind::kResync && attempt == 0) {
      // The link is gone: enumerate everything; deletions follow from what
      // this full round does not return (applied only once it completes).
      url = spec.initial_url;
      result.resynced = true;
      round.set_resynced();
      if (Status st = round.Begin(true); !st.ok()) return fail_store(st);
      continue;
    }
    // The round broke: the batches applied so far stay (tree and state
    // agree, their failures are reported); the link stays, so the next run
    // replays the round; no deletion happens.
    result.status = paged.status();
    result.error = err;
    break;
  }
  result.outcome = std::move(round.outcome());
  return result;
}

Status EnsureNodes(ContainerState& state) {
  if (!state.load_nodes) return Status::OK();
  auto load = std::move(state.load_nodes);
  state.load_nodes = nullptr;
  return load(state);
}

std::optional<std::string> NodePath(const ContainerState& state, const std::string& id) {
  PathMemo memo;
  auto find = [&](const std::string& key) -> const NodeState* {
    auto it = state.nodes.find(key);
    return it == state.nodes.end() ? nullptr : &it->second;
  };
  return RelPath(find, id, memo);
}

void EncodeNodesTo(const ContainerState& state, const std::function<void(std::string_view)>& out) {
  // Written directly, without a JSON document of the whole map (a container
  // of 100,000 items would hold it twice), and handed out an item at a time;
  // the bytes are those of json({{"root_id",..},{"items",..}}).dump(): keys
  // sorted, compact.
  std::string piece;
  auto str = [&](const std::string& s) { piece += nlohmann::json(s).dump(); };
  out("{\"items\":{");
  bool first = true;
  for (const auto& [id, n] : state.nodes) {
    piece.clear();
    if (!first) piece += ',';
    first = false;
    str(id);
    piece += ":[";
    str(n.parent);
    piece += ',';
    str(n.raw);
    piece += ',';
    str(n.name);
    piece += ',';
    str(n.etag);
    piece += n.folder ? ",1]" : ",0]";
    out(piece);
  }
  piece = "},\"root_id\":";
  str(state.root_id);
  piece += '}';
  out(piece);
}

std::string EncodeNodes(const ContainerState& state) {
  std::string text;
  EncodeNodesTo(state, [&](std::string_view piece) { text += piece; });
  return text;
}

namespace {

// Reads an items blob (EncodeNodes) event by event, without a JSON document
// of it: a container of 100,000 items would otherwise be held a second time,
// several times larger, while it is decoded.
//   {"items":{"<id>":["<parent>","<raw>","<name>","<etag>",<0|1>], ...},"root_id":"<id>"}
// Other top-level keys are skipped; anything else malformed fails the parse.
class NodesReader final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit NodesReader(ContainerState* state) : state_(state) {}
  bool complete() const { return saw_items_; }

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool number_integer(number_integer_t v) override { return Number(v != 0); }
  bool number_unsigned(number_unsigned_t v) override { return Number(v != 0); }

  bool string(string_t& v) override {
    if (InItem()) {
      if (field_ > 3) return false;
      std::string* fields[] = {&node_.parent, &node_.raw, &node_.name, &node_.etag};
      *fields[field_++] = std::move(v);
      return true;
    }
    if (depth_ == 1 && key_ == "root_id") state_->root_id = std::move(v);
    return Value();
  }

  bool start_object(std::size_t) override {
    if (depth_ == 0 || (depth_ > 1 && !in_items_)) return ++depth_, true;  // the top, or skipped
    if (depth_ == 1 && key_ == "items") {
      in_items_ = saw_items_ = true;
      return ++depth_, true;
    }
    if (depth_ == 1) return ++depth_, true;  // another key's value: skipped
    return false;                            // an item that is not an array
  }
  bool end_object() override {
    if (depth_ == 2 && in_items_) in_items_ = false;
    --depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = std::move(k);
    if (depth_ == 2 && in_items_) id_ = std::move(k);
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0 || (depth_ == 1 && key_ == "items")) return false;
    if (depth_ == 2 && in_items_) {
      node_ = NodeState();
      field_ = 0;
    } else if (depth_ >= 3 && in_items_) {
      return false;  // nested inside an item
    }
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    if (depth_ == 2 && in_items_) {
      if (field_ < 5) return false;
      state_->nodes[id_] = std::move(node_);
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  bool InItem() const { return in_items_ && depth_ == 3; }
  // A value other than an item's string or number: fine outside items.
  bool Value() const { return depth_ > 0 && !(in_items_ && depth_ <= 3); }
  bool Number(bool nonzero) {
    if (!InItem()) return Value();
    if (field_ != 4) return false;
    node_.folder = nonzero;
    ++field_;
    return true;
  }

  ContainerState* state_;
  int depth_ = 0;          // 1 = inside the top object, 2 = inside "items", 3 = inside an item
  bool in_items_ = false;  // depth >= 2 is within "items"
  bool saw_items_ = false;
  std::string key_;        // the current top-level key
  std::string id_;         // the current item's id
  NodeState node_;
  int field_ = 0;          // the next field of the current item
};

}  // namespace

namespace {

// The characters of the parts' concatenation, one part loaded at a time.
class PartsText {
 public:
  PartsText(size_t count, const std::function<Result<Bytes>(size_t i)>& load) : count_(count), load_(load) {}
  const Status& status() const { return status_; }

  // An input iterator over the text (what nlohmann's parser reads from).
  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;
    Iterator() = default;
    explicit Iterator(PartsText* text) : text_(text) {
      if (text_ && !text_->Advance()) text_ = nullptr;
    }
    reference operator*() const { return reinterpret_cast<const char&>(text_->part_[text_->pos_]); }
    Iterator& operator++() {
      if (++text_->pos_ >= text_->part_.size() && !text_->Advance()) text_ = nullptr;
      return *this;
    }
    bool operator==(const Iterator& o) const { return text_ == o.text_; }
    bool operator!=(const Iterator& o) const { return text_ != o.text_; }

   private:
    PartsText* text_ = nullptr;  // null = the end
  };

 private:
  // Moves to the next non-empty part; false at the end or on a load error.
  bool Advance() {
    while (pos_ >= part_.size()) {
      if (next_ >= count_ || !status_.ok()) return false;
      auto loaded = load_(next_++);
      if (!loaded.ok()) {
        status_ = loaded.status();
        return false;
      }
      part_ = std::move(loaded).value();
      pos_ = 0;
    }
    return true;
  }

  size_t count_;
  const std::function<Result<Bytes>(size_t)>& load_;
  size_t next_ = 0;
  Bytes part_;
  size_t pos_ = 0;
  Status status_;
};

}  // namespace

Status DecodeNodesFrom(size_t parts, const std::function<Result<Bytes>(size_t i)>& load, ContainerState* state) {
  state->root_id.clear();
  state->nodes.clear();
  NodesReader reader(state);
  PartsText text(parts, load);
  const bool parsed = nlohmann::json::sax_parse(PartsText::Iterator(&text), PartsText::Iterator(), &reader);
  if (parsed && reader.complete()) return Status::OK();
  state->nodes.clear();
  if (!text.status().ok()) return text.status();
  return Status::Corruption("malformed container state");
}

bool DecodeNodes(std::string_view text, ContainerState* state) {
  return DecodeNodesFrom(
             1, [&](size_t) -> Result<Bytes> { return Bytes(text.begin(), text.end()); }, state)
      .ok();
}

}  // namespace m365vault::sync
