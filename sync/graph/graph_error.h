// sync/graph/graph_error.h
//
// GraphError: what a failed Graph (or token endpoint) call said, parsed from
// the HTTP status, the body and a few headers, and what the caller should do
// about it (GraphErrorKind). One function maps HTTP/Graph errors to Status.
//
// Bodies understood, with keys matched case-insensitively:
//   Graph:  {"error":{"code":..,"message":..,"innerError":{"code":..,"innererror":{..}}}}
//   OAuth:  {"error":"invalid_client","error_description":"AADSTS7000215: ..."}
//   empty or non-JSON bodies (then only the HTTP status counts).
//
// Classification (see docs/graph-client.md for the table):
//   kRetryable     429, 500, 502, 503, 504, 509, transport, cannotSnapshotTree
//   kRefreshToken  401 (InvalidAuthenticationToken or any 401 from Graph)
//   kResync        410, or a sync-state code (syncStateNotFound,
//                  syncStateInvalid, resyncRequired, resyncChanges*)
//   kSkipItem      404 on an item, malwareDetected, ErrorCorruptData, ...
//   kSkipResource  MailboxNotEnabledForRESTAPI, ResourceNotFound,
//                  mysiteNotFound, ErrorInvalidUser, ...
//   kFatal         everything else: 400, 403, 409, 507, ...
//
// Thread safety: values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "backend/status.h"
#include "sync/graph/http_client.h"

namespace m365vault::sync {

enum class GraphErrorKind {
  kRetryable,
  kRefreshToken,
  kResync,
  kSkipItem,
  kSkipResource,
  kFatal,
};

const char* GraphErrorKindName(GraphErrorKind kind);

struct GraphError {
  int http_status = 0;               // 0 for a transport failure
  std::string code;                  // error.code, or the OAuth "error"
  std::vector<std::string> inner_codes;  // innerError chain, outermost first
  std::string message;               // error.message / error_description
  std::string request_id;            // request-id header or innerError
  std::string location;              // Location header (410 resync restart)
  GraphErrorKind kind = GraphErrorKind::kFatal;

  // True if `code` or any inner code equals c, ignoring case.
  bool HasCode(std::string_view c) const;
  // The most specific code: the innermost inner code, else code.
  const std::string& MostSpecificCode() const;

  // A Status for this error. The message is "HTTP <status> <code>[/<inner>]:
  // <message>" and never contains a token or secret. Codes:
  //   kRetryable -> Throttled (429/509) or Unavailable (retryable=true)
  //   kRefreshToken -> PermissionDenied     kResync -> NotFound
  //   kSkipItem -> NotFound (Corruption for corrupt data / malware)
  //   kSkipResource -> NotSupported
  //   kFatal -> 400 InvalidArgument, 403 PermissionDenied, 404 NotFound,
  //             409/412 AlreadyExists, 507 NoSpace, else Unavailable(false)
  Status ToStatus() const;
};

// Parses a failed response. `body` may be empty or garbage.
GraphError ParseGraphError(int http_status, std::string_view body, const HttpHeaders& headers);

// A GraphError for a transport failure (kind kRetryable if the Status is).
GraphError TransportError(const Status& status);

// The kind for a parsed error; ParseGraphError already sets it.
GraphErrorKind ClassifyGraphError(const GraphError& error);

}  // namespace m365vault::sync
