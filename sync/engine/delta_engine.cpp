// sync/engine/delta_engine.cpp
#include "sync/engine/delta_engine.h"

#include <algorithm>
#include <functional>
#include <atomic>
#include <mutex>
#include <thread>
#include <ctime>
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

// Path of `id` relative to the container root, "" for the root; nullopt if
// its parent chain does not reach the root (an orphan) or loops.
std::optional<std::string> RelPath(const std::map<std::string, NodeState>& nodes, const std::string& id,
                                   std::unordered_map<std::string, std::optional<std::string>>& memo) {
  if (id.empty()) return std::string();
  if (auto m = memo.find(id); m != memo.end()) return m->second;
  memo[id] = std::nullopt;  // loop guard
  auto it = nodes.find(id);
  std::optional<std::string> result;
  if (it != nodes.end()) {
    auto parent = RelPath(nodes, it->second.parent, memo);
    if (parent) result = JoinPath(*parent, it->second.name);
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

Result<ApplyOutcome> ApplyRound(GraphClient& client, SnapshotWriter& writer, const ContainerSpec& spec,
                                Round round, ContainerState& state, SyncCounters& counters) {
  ApplyOutcome outcome;
  const std::map<std::string, NodeState>& old_nodes = state.nodes;
  std::map<std::string, NodeState> nodes = old_nodes;
  std::set<std::string> removed;

  // 1. The new node map: removals, upserts (parents mapped to the root).
  for (auto& [id, ch] : round.changes) {
    if (ch.kind == ItemChange::Kind::kRoot) {
      state.root_id = id;
      ch.kind = ItemChange::Kind::kIgnore;
    }
  }
  if (round.full) {
    for (const auto& [id, node] : old_nodes) {
      auto c = round.changes.find(id);
      if (c == round.changes.end() || c->second.kind == ItemChange::Kind::kIgnore) removed.insert(id);
    }
  }
  std::map<std::string, const ItemChange*> upserts;
  for (auto& [id, ch] : round.changes) {
    if (ch.kind == ItemChange::Kind::kRemove) {
      removed.insert(id);
    } else if (ch.kind == ItemChange::Kind::kUpsert) {
      if (ch.parent == state.root_id) ch.parent.clear();
      upserts[id] = &ch;
      removed.erase(id);
    }
  }
  for (const auto& id : removed) nodes.erase(id);
  for (const auto& [id, ch] : upserts) {
    NodeState& n = nodes[id];
    auto old = old_nodes.find(id);
    n.parent = ch->parent;
    n.raw = ch->stem + ch->ext;
    n.folder = ch->folder;
    n.etag = old != old_nodes.end() ? old->second.etag : "";
    // Keep the assigned name while Graph's name and the parent are unchanged.
    n.name = (old != old_nodes.end() && old->second.raw == n.raw && old->second.parent == n.parent)
                 ? old->second.name
                 : std::string();
  }
  // Orphans (parent gone or unknown) are dropped; the next full round or a
  // later change brings them back if they still exist.
  for (bool again = true; again;) {
    again = false;
    for (auto it = nodes.begin(); it != nodes.end();) {
      if (!it->second.parent.empty() && !nodes.count(it->second.parent)) {
        if (old_nodes.count(it->first)) removed.insert(it->first);
        it = nodes.erase(it);
        again = true;
      } else {
        ++it;
      }
    }
  }

  // 2. Names: unique per parent. Kept names first, then new ones (in id
  // order, so the outcome does not depend on page order).
  std::map<std::string, std::unordered_set<std::string>> used;
  for (const auto& [id, n] : nodes) {
    if (!n.name.empty()) used[n.parent].insert(n.name);
  }
  for (const auto& [id, ch] : upserts) {
    auto it = nodes.find(id);
    if (it == nodes.end() || !it->second.name.empty()) continue;
    auto& names = used[it->second.parent];
    const std::string suffix = " [" + ShortId(id) + "]";
    std::string name = SafeName(ch->stem, ch->ext, ch->always_suffix ? suffix : "");
    if (names.count(name)) name = SafeName(ch->stem, ch->ext, suffix);
    for (int i = 2; names.count(name); ++i) {
      name = SafeName(ch->stem, ch->ext, " [" + ShortId(id + "#" + std::to_string(i)) + "]");
    }
    names.insert(name);
    it->second.name = name;
  }

  // 3. Old and new paths.
  std::unordered_map<std::string, std::optional<std::string>> old_memo, new_memo;
  struct Move {
    std::string id;
    std::string from;
    size_t depth;
  };
  std::vector<Move> out;  // removed, or moved/renamed
  // A node whose whole parent chain kept its parents and names has the same
  // path: skip it without building paths (a mailbox of 100,000 mails with a
  // few changes then builds a few paths, not 200,000).
  std::unordered_map<const NodeState*, bool> stable_memo;
  std::function<bool(const std::string&)> stable = [&](const std::string& id) -> bool {
    if (id.empty()) return true;
    auto o = old_nodes.find(id);
    if (o == old_nodes.end()) return false;
    if (auto m = stable_memo.find(&o->second); m != stable_memo.end()) return m->second;
    stable_memo[&o->second] = false;  // loop guard
    auto n = nodes.find(id);
    bool result = n != nodes.end() && n->second.parent == o->second.parent && n->second.name == o->second.name &&
                  stable(o->second.parent);
    stable_memo[&o->second] = result;
    return result;
  };
  for (const auto& [id, n] : old_nodes) {
    if (stable(id)) continue;
    auto from = RelPath(old_nodes, id, old_memo);
    if (!from) continue;
    if (removed.count(id) || !nodes.count(id)) {
      out.push_back({id, *from, Depth(*from)});
      continue;
    }
    auto to = RelPath(nodes, id, new_memo);
    if (to && *to != *from) out.push_back({id, *from, Depth(*from)});
  }
  std::sort(out.begin(), out.end(), [](const Move& a, const Move& b) { return a.depth > b.depth; });
  // Staging lives inside the container (one thread per container), removed
  // before the round ends.
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
    outcome.changed = true;
  }

  // 4. Place: staged items back at their new paths, new folders, downloads;
  // shallowest first so parents exist.
  struct Place {
    std::string id;
    std::string rel;
    size_t depth;
  };
  std::vector<Place> in;
  for (const auto& [id, n] : nodes) {
    const bool is_upsert = upserts.count(id) > 0;
    if (!is_upsert && !staged.count(id)) continue;
    auto rel = RelPath(nodes, id, new_memo);
    if (rel) in.push_back({id, *rel, Depth(*rel)});
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
    NodeState& n = nodes[p.id];
    const std::string path = JoinPath(spec.root_path, p.rel);
    if (auto s = staged.find(p.id); s != staged.end()) {
      M365_RETURN_IF_ERROR(writer.Rename(s->second, path).WithContext("moving to " + path));
    }
    auto u = upserts.find(p.id);
    if (u == upserts.end()) continue;
    const ItemChange& ch = *u->second;
    const bool existed = old_nodes.count(p.id) > 0 && !n.etag.empty();
    if (existed && n.etag == ch.etag && !staged.count(p.id) && old_nodes.at(p.id).name == n.name) continue;
    if (ch.folder) {
      const std::string version = ch.etag.empty() ? "-" : ch.etag;  // folders without etag: "-"
      if (!existed || n.etag != version) {
        M365_RETURN_IF_ERROR(writer.MakeDirectory(path, ch.attrs).WithContext("creating " + path));
        n.etag = version;
        outcome.changed = true;
      }
      continue;
    }
    if (existed && n.etag == ch.etag) continue;  // only moved or renamed
    outcome.changed = true;
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

  // 5. Downloads, up to kDownloadsPerContainer at once (each in its own
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
          spec.request, &err);
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
        outcome.failures.push_back(
            {JoinPath(spec.object, d.rel), err.MostSpecificCode(), dl.status().message(), HintFor(err), kLevelContent});
        continue;
      }
      nodes[d.id].etag = d.change->etag;
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
    auto old = old_nodes.find(id);
    if (old == old_nodes.end() || old->second.etag.empty()) {
      nodes.erase(id);
    }
  }
  if (round.full && round.resynced) outcome.changed = true;
  if (!outcome.changed && nodes.size() != old_nodes.size()) outcome.changed = true;
  state.nodes = std::move(nodes);
  if (outcome.failures.empty()) {
    if (state.delta_link != round.delta_link) outcome.changed = true;
    state.delta_link = round.delta_link;
  }
  return outcome;
}

ContainerResult SyncContainer(GraphClient& client, SnapshotWriter& writer, const ContainerSpec& spec,
                              const ItemTraits& traits, ContainerState& state, SyncCounters& counters) {
  ContainerResult result;
  auto round = FetchRound(client, spec, traits, state.delta_link, &result.error, &counters);
  if (!round.ok()) {
    result.status = round.status();
    return result;
  }
  result.resynced = round->resynced;
  if (round->changes.empty() && !round->full && round->delta_link == state.delta_link) return result;
  result.status = EnsureNodes(state);
  if (!result.status.ok()) {
    result.store_failure = true;
    return result;
  }
  auto applied = ApplyRound(client, writer, spec, std::move(round).value(), state, counters);
  if (!applied.ok()) {
    result.status = applied.status();
    result.store_failure = true;
    return result;
  }
  result.outcome = std::move(applied).value();
  return result;
}

Status EnsureNodes(ContainerState& state) {
  if (!state.load_nodes) return Status::OK();
  auto load = std::move(state.load_nodes);
  state.load_nodes = nullptr;
  return load(state);
}

std::optional<std::string> NodePath(const ContainerState& state, const std::string& id) {
  std::unordered_map<std::string, std::optional<std::string>> memo;
  return RelPath(state.nodes, id, memo);
}

std::string EncodeNodes(const ContainerState& state) {
  nlohmann::json items = nlohmann::json::object();
  for (const auto& [id, n] : state.nodes) {
    items[id] = nlohmann::json::array({n.parent, n.raw, n.name, n.etag, n.folder ? 1 : 0});
  }
  nlohmann::json j = {{"root_id", state.root_id}, {"items", items}};
  return j.dump();
}

bool DecodeNodes(std::string_view text, ContainerState* state) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return false;
  state->root_id = j.value("root_id", "");
  state->nodes.clear();
  auto items = j.find("items");
  if (items == j.end() || !items->is_object()) return false;
  for (auto it = items->begin(); it != items->end(); ++it) {
    const auto& a = it.value();
    if (!a.is_array() || a.size() < 5) return false;
    NodeState n;
    n.parent = a[0].get<std::string>();
    n.raw = a[1].get<std::string>();
    n.name = a[2].get<std::string>();
    n.etag = a[3].get<std::string>();
    n.folder = a[4].get<int>() != 0;
    state->nodes[it.key()] = std::move(n);
  }
  return true;
}

}  // namespace m365vault::sync
