// sync/graph/encoding.h
//
// Small text encodings the Graph client needs: URL path segments, form
// bodies, base64url (JWT), and random GUIDs (client-request-id, jti).
//
// Thread safety: all functions are safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace m365vault::sync {

// Percent-encodes everything outside RFC 3986 "unreserved" (A-Z a-z 0-9 - . _ ~),
// so an Outlook id with '/', '+', '=' stays one path segment.
std::string EncodePathSegment(std::string_view segment);

// application/x-www-form-urlencoded body from name/value pairs.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// Base64url without padding (RFC 7515 section 2).
std::string Base64UrlEncode(std::string_view bytes);
std::string Base64UrlDecode(std::string_view text);  // empty on malformed input

// A random (version 4) GUID in lower case, e.g. "3f2a...-....".
std::string NewGuid();

}  // namespace m365vault::sync
