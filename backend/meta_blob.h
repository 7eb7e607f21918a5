// backend/meta_blob.h
//
// Meta blobs: kMeta blobs (a collector's sync state) that name the blobs
// they refer to, so prune and check can follow a state they cannot parse:
//
//   u8 version (1) || varint n || n × child_id[32] || varint m || m × leaf_id[32] || payload
//
// Children are meta blobs of the same form (followed); leaves are kept but
// not read (e.g. the parts of a container's items). The payload is the
// collector's own (JSON for the sync state). A blob whose first byte is not
// the version is a bare payload that names nothing: sync states written
// before the envelope existed (JSON, '{') and opaque states of other callers
// (docs/format.md, "Sync state blobs"). Tampering is caught by the blob's
// authentication, not here.
//
// Thread safety: functions of values; the repository's own rules apply.
#pragma once

#include <functional>
#include <vector>

#include "backend/repository.h"

namespace m365vault {

struct MetaBlob {
  std::vector<BlobId> children;  // meta blobs this one refers to
  std::vector<BlobId> leaves;    // other blobs it refers to
  Bytes payload;
  bool legacy = false;           // a bare payload (no envelope): names nothing
};

Bytes EncodeMetaBlob(ByteView payload, const std::vector<BlobId>& children, const std::vector<BlobId>& leaves);
// Corruption on a malformed envelope.
Result<MetaBlob> DecodeMetaBlob(Bytes data);

// Encodes and saves (dedup: an unchanged blob is not written again); returns its id.
Result<BlobId> SaveMetaBlob(Repository& repo, ByteView payload, const std::vector<BlobId>& children = {},
                            const std::vector<BlobId>& leaves = {});
Result<MetaBlob> LoadMetaBlob(Repository& repo, const BlobId& id);

// Every blob reachable from the meta blob `root` (itself included), children
// read, leaves not: `visit(id, is_leaf)` returns false for an id it has seen
// (its references are not followed again). A meta blob that cannot be loaded
// or decoded goes to `on_error` and the walk goes on without its references.
void ForEachMetaReference(Repository& repo, const BlobId& root,
                          const std::function<bool(const BlobId& id, bool is_leaf)>& visit,
                          const std::function<void(const BlobId& id, const Status& error)>& on_error);

}  // namespace m365vault
