// sync/graph/graph_error.cpp
#include "sync/graph/graph_error.h"

#include <initializer_list>

#include <nlohmann/json.hpp>

namespace m365vault::sync {
namespace {

using nlohmann::json;

// The member of object `j` whose key equals `key` ignoring case, or nullptr.
const json* FindKey(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (EqualsIgnoreCase(it.key(), key)) return &it.value();
  }
  return nullptr;
}

std::string StringAt(const json& j, std::string_view key) {
  const json* v = FindKey(j, key);
  return (v != nullptr && v->is_string()) ? v->get<std::string>() : std::string();
}

bool AnyCode(const GraphError& e, std::initializer_list<std::string_view> codes) {
  for (std::string_view c : codes) {
    if (e.HasCode(c)) return true;
  }
  return false;
}

}  // namespace

const char* GraphErrorKindName(GraphErrorKind kind) {
  switch (kind) {
    case GraphErrorKind::kRetryable: return "retryable";
    case GraphErrorKind::kRefreshToken: return "refresh-token";
    case GraphErrorKind::kResync: return "resync";
    case GraphErrorKind::kSkipItem: return "skip-item";
    case GraphErrorKind::kSkipResource: return "skip-resource";
    case GraphErrorKind::kFatal: return "fatal";
  }
  return "unknown";
}

bool GraphError::HasCode(std::string_view c) const {
  if (EqualsIgnoreCase(code, c)) return true;
  for (const auto& inner : inner_codes) {
    if (EqualsIgnoreCase(inner, c)) return true;
  }
  return false;
}

const std::string& GraphError::MostSpecificCode() const {
  return inner_codes.empty() ? code : inner_codes.back();
}

GraphErrorKind ClassifyGraphError(const GraphError& e) {
  const int s = e.http_status;
  if (s == 0) return GraphErrorKind::kRetryable;  // transport
  if (AnyCode(e, {"syncStateNotFound", "syncStateInvalid", "resyncRequired",
                  "resyncChangesApplyDifferences", "resyncChangesUploadDifferences",
                  "resyncApplyDifferences", "resyncUploadDifferences"})) {
    return GraphErrorKind::kResync;
  }
  if (AnyCode(e, {"cannotSnapshotTree", "activityLimitReached", "serviceNotAvailable",
                  "ApplicationThrottled"})) {
    return GraphErrorKind::kRetryable;
  }
  if (s == 429 || s == 500 || s == 502 || s == 503 || s == 504 || s == 509) {
    return GraphErrorKind::kRetryable;
  }
  if (s == 401) return GraphErrorKind::kRefreshToken;
  if (s == 410) return GraphErrorKind::kResync;
  if (AnyCode(e, {"MailboxNotEnabledForRESTAPI", "MailboxNotSupportedForRESTAPI",
                  "ResourceNotFound", "Request_ResourceNotFound", "mysiteNotFound",
                  "ErrorInvalidUser", "ErrorNonExistentMailbox", "UserNotFound"})) {
    return GraphErrorKind::kSkipResource;
  }
  if (AnyCode(e, {"malwareDetected", "ErrorCorruptData", "ErrorItemCorrupt",
                  "ErrorMimeContentConversionFailed", "ErrorInvalidRecipients"})) {
    return GraphErrorKind::kSkipItem;
  }
  if (s == 404) return GraphErrorKind::kSkipItem;
  return GraphErrorKind::kFatal;
}

GraphError ParseGraphError(int http_status, std::string_view body, const HttpHeaders& headers) {
  GraphError e;
  e.http_status = http_status;
  if (auto rid = FindHeader(headers, "request-id")) e.request_id = std::string(*rid);
  if (auto loc = FindHeader(headers, "Location")) e.location = std::string(*loc);

  json doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded() && doc.is_object()) {
    const json* err = FindKey(doc, "error");
    if (err != nullptr && err->is_object()) {  // Graph envelope
      e.code = StringAt(*err, "code");
      e.message = StringAt(*err, "message");
      const json* inner = FindKey(*err, "innerError");
      for (int depth = 0; inner != nullptr && inner->is_object() && depth < 16; ++depth) {
        std::string c = StringAt(*inner, "code");
        if (!c.empty()) e.inner_codes.push_back(std::move(c));
        if (e.request_id.empty()) e.request_id = StringAt(*inner, "request-id");
        inner = FindKey(*inner, "innerError");
      }
    } else if (err != nullptr && err->is_string()) {  // OAuth
      e.code = err->get<std::string>();
      e.message = StringAt(doc, "error_description");
    }
  }
  e.kind = ClassifyGraphError(e);
  return e;
}

GraphError TransportError(const Status& status) {
  GraphError e;
  e.http_status = 0;
  e.code = "transport";
  e.message = status.message();
  e.kind = status.retryable() ? GraphErrorKind::kRetryable : GraphErrorKind::kFatal;
  return e;
}

Status GraphError::ToStatus() const {
  if (http_status == 0) return Status::Unavailable(message, kind == GraphErrorKind::kRetryable);
  std::string msg = "HTTP " + std::to_string(http_status);
  if (!code.empty()) msg += " " + code;
  if (!inner_codes.empty()) msg += "/" + inner_codes.back();
  // Messages are capped: some servers echo whole request bodies.
  std::string m = message.size() > 500 ? message.substr(0, 500) + "..." : message;
  if (!m.empty()) msg += ": " + m;
  if (!request_id.empty()) msg += " (request-id " + request_id + ")";

  switch (kind) {
    case GraphErrorKind::kRetryable:
      if (http_status == 429 || http_status == 509) return Status::Throttled(msg);
      return Status::Unavailable(msg, true);
    case GraphErrorKind::kRefreshToken:
      return Status::PermissionDenied(msg);
    case GraphErrorKind::kResync:
      return Status::NotFound(msg);
    case GraphErrorKind::kSkipItem:
      if (http_status == 404) return Status::NotFound(msg);
      return Status::Corruption(msg);
    case GraphErrorKind::kSkipResource:
      return Status::NotSupported(msg);
    case GraphErrorKind::kFatal:
      break;
  }
  switch (http_status) {
    case 400: return Status::InvalidArgument(msg);
    case 401:
    case 403: return Status::PermissionDenied(msg);
    case 404: return Status::NotFound(msg);
    case 409:
    case 412: return Status::AlreadyExists(msg);
    case 507: return Status::NoSpace(msg);
    default: return Status::Unavailable(msg, false);
  }
}

}  // namespace m365vault::sync
