// sync/engine/safe_name.h
//
// Turning Microsoft 365 names (folder names, file names, subjects) into safe,
// stable, unique snapshot entry names (see docs/sync.md, "Naming rules").
//
// Microsoft 365 names are hostile: '/', '\', control characters, NUL, bidi
// overrides, invalid UTF-8 (lone surrogates), trailing dots and spaces, "."
// and "..", and names far longer than 255 bytes. SafeName maps any of them to
// a name backend::IsValidEntryName accepts; UniqueName adds a short id
// suffix (derived from the item's immutable id, so it is stable across
// snapshots) when two items of one folder would otherwise share a name.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace m365vault::sync {

inline constexpr size_t kMaxNameBytes = 255;

// Valid UTF-8 with every invalid sequence (including UTF-8-encoded
// surrogates and overlong forms) replaced by U+FFFD.
std::string RepairUtf8(std::string_view text);

// 8 lowercase hex characters of SHA-256(id): a stable short form of an id.
std::string ShortId(std::string_view id);

// A safe entry name for `raw` with extension `ext` (e.g. ".eml", or "" when
// the extension is part of raw):
//  - invalid UTF-8 -> U+FFFD; '/', '\' -> '_'; C0/C1 control characters,
//    DEL and NUL -> '_'; bidi embeddings/overrides/isolates (U+202A-202E,
//    U+2066-2069) -> '_';
//  - trailing dots and spaces of the stem stripped (Windows/SharePoint rule);
//  - empty, "." or ".." -> "_";
//  - `suffix` (e.g. " [1a2b3c4d]") inserted before the extension;
//  - truncated on a UTF-8 boundary so that the whole name is at most 255
//    bytes, keeping suffix and extension.
// The result always satisfies IsValidEntryName.
std::string SafeName(std::string_view raw, std::string_view ext = "", std::string_view suffix = "");

// Splits "report.final.docx" into {"report.final", ".docx"}; an extension is
// at most 16 bytes of [A-Za-z0-9] after the last dot and the stem non-empty.
std::pair<std::string, std::string> SplitExtension(std::string_view name);

// Makes a repaired JSON text out of one whose string escapes contain lone
// UTF-16 surrogates ("\ud800" without a low surrogate after it, or a low
// surrogate alone), which strict parsers reject: each becomes "\ufffd".
// Returns false (and leaves `out` untouched) when there was nothing to fix.
bool RepairJsonSurrogates(std::string_view json, std::string* out);

}  // namespace m365vault::sync
