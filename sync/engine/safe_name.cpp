// sync/engine/safe_name.cpp
#include "sync/engine/safe_name.h"

#include <openssl/sha.h>

#include <cctype>
#include <cstdint>

namespace m365vault::sync {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes one code point at text[*pos]; advances *pos. Returns -1 for an
// invalid sequence (then *pos has advanced by one byte).
int32_t DecodeOne(std::string_view text, size_t* pos) {
  const auto b0 = static_cast<uint8_t>(text[*pos]);
  int len = 0;
  uint32_t cp = 0;
  if (b0 < 0x80) {
    ++*pos;
    return b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07;
  } else {
    ++*pos;
    return -1;
  }
  if (*pos + len > text.size()) {
    ++*pos;
    return -1;
  }
  for (int i = 1; i < len; ++i) {
    const auto b = static_cast<uint8_t>(text[*pos + i]);
    if ((b & 0xC0) != 0x80) {
      ++*pos;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*pos;
    return -1;
  }
  *pos += len;
  return static_cast<int32_t>(cp);
}

bool IsUnsafeCodePoint(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == '/' || cp == '\\' ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Largest prefix of `s` (valid UTF-8) of at most `max` bytes ending on a
// code point boundary.
std::string_view Utf8Prefix(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<uint8_t>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

void StripTrailingDotsSpaces(std::string* s) {
  while (!s->empty() && (s->back() == '.' || s->back() == ' ')) s->pop_back();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The UTF-16 unit of a "\uXXXX" escape at json[i] (json[i] == '\\'), or -1.
int EscapeUnit(std::string_view json, size_t i) {
  if (i + 6 > json.size() || json[i] != '\\' || (json[i + 1] != 'u' && json[i + 1] != 'U')) return -1;
  int v = 0;
  for (size_t k = i + 2; k < i + 6; ++k) {
    const int h = HexValue(json[k]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

}  // namespace

std::string RepairUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const int32_t cp = DecodeOne(text, &pos);
    if (cp < 0) {
      out += kReplacement;
    } else {
      AppendUtf8(&out, static_cast<uint32_t>(cp));
    }
  }
  return out;
}

std::string ShortId(std::string_view id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

std::pair<std::string, std::string> SplitExtension(std::string_view name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || name.size() - dot < 2 || name.size() - dot > 17) {
    return {std::string(name), ""};
  }
  for (size_t i = dot + 1; i < name.size(); ++i) {
    if (!std::isalnum(static_cast<unsigned char>(name[i]))) return {std::string(name), ""};
  }
  return {std::string(name.substr(0, dot)), std::string(name.substr(dot))};
}

std::string SafeName(std::string_view raw, std::string_view ext, std::string_view suffix) {
  std::string stem;
  stem.reserve(raw.size());
  size_t pos = 0;
  while (pos < raw.size()) {
    const int32_t cp = DecodeOne(raw, &pos);
    if (cp < 0) {
      stem += kReplacement;
    } else if (IsUnsafeCodePoint(static_cast<uint32_t>(cp))) {
      stem.push_back('_');
    } else {
      AppendUtf8(&stem, static_cast<uint32_t>(cp));
    }
  }
  // The extension and suffix come from us, but sanitise them the same way.
  std::string safe_ext = ext.empty() ? std::string() : SafeName(ext.substr(ext[0] == '.' ? 1 : 0));
  if (!safe_ext.empty()) safe_ext = "." + safe_ext;
  std::string safe_suffix;
  for (char c : RepairUtf8(suffix)) safe_suffix.push_back((c == '/' || static_cast<unsigned char>(c) < 0x20) ? '_' : c);

  StripTrailingDotsSpaces(&stem);
  const size_t tail = safe_ext.size() + safe_suffix.size();
  const size_t room = tail < kMaxNameBytes ? kMaxNameBytes - tail : 0;
  stem = std::string(Utf8Prefix(stem, room));
  StripTrailingDotsSpaces(&stem);
  if (stem.empty() && safe_suffix.empty()) stem = "_";
  std::string name = stem + safe_suffix + safe_ext;
  if (name.empty() || name == "." || name == "..") name = "_";
  if (name.size() > kMaxNameBytes) name = std::string(Utf8Prefix(name, kMaxNameBytes));
  return name;
}

bool RepairJsonSurrogates(std::string_view json, std::string* out) {
  std::string fixed;
  bool changed = false;
  size_t copied = 0;
  for (size_t i = 0; i + 1 < json.size(); ++i) {
    if (json[i] != '\\') continue;
    const int unit = EscapeUnit(json, i);
    if (unit < 0) {
      ++i;  // skip the escaped character (e.g. "\\")
      continue;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const int next = EscapeUnit(json, i + 6);
      if (next >= 0xDC00 && next <= 0xDFFF) {
        i += 11;  // a valid pair
        continue;
      }
    } else if (!(unit >= 0xDC00 && unit <= 0xDFFF)) {
      i += 5;
      continue;
    }
    fixed.append(json.substr(copied, i - copied));
    fixed += "\\ufffd";
    copied = i + 6;
    i += 5;
    changed = true;
  }
  if (!changed) return false;
  fixed.append(json.substr(copied));
  *out = std::move(fixed);
  return true;
}

}  // namespace m365vault::sync
