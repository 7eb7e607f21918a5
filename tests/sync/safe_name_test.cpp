// tests/sync/safe_name_test.cpp: hostile Microsoft 365 names -> safe, stable names.
#include <catch2/catch.hpp>

#include "backend/tree.h"
#include "sync/engine/safe_name.h"

namespace m365vault::sync {

TEST_CASE("SafeName replaces dangerous characters", "[sync][names]") {
  CHECK(SafeName("A/B slash") == "A_B slash");
  CHECK(SafeName("back\\slash:colon*star?") == "back_slash:colon*star?");
  CHECK(SafeName(std::string("nul\0byte", 8)) == "nul_byte");
  CHECK(SafeName("tab\there\x7f") == "tab_here_");
  CHECK(SafeName("c1 \xC2\x85 next") == "c1 _ next");
  CHECK(SafeName("rtl \xE2\x80\xAE" "fdp.exe") == "rtl _fdp.exe");
  CHECK(SafeName("isolate \xE2\x81\xA6x\xE2\x81\xA9") == "isolate _x_");
  CHECK(SafeName("Café") == "Café");
  // NFC and NFD stay distinct byte strings.
  CHECK(SafeName("Cafe\xCC\x81") != SafeName("Caf\xC3\xA9"));
}

TEST_CASE("SafeName never yields . or .. or trailing dots and spaces", "[sync][names]") {
  CHECK(SafeName(".") == "_");
  CHECK(SafeName("..") == "_");
  CHECK(SafeName("") == "_");
  CHECK(SafeName("   ") == "_");
  CHECK(SafeName("trailing dot.") == "trailing dot");
  CHECK(SafeName("trailing space ") == "trailing space");
  CHECK(SafeName("x. . ") == "x");
  CHECK(SafeName(".hidden") == ".hidden");
  CHECK(SafeName("", ".eml", " [1234abcd]") == " [1234abcd].eml");
}

TEST_CASE("SafeName repairs invalid UTF-8 and surrogates", "[sync][names]") {
  CHECK(SafeName("bad \xFF byte") == "bad \xEF\xBF\xBD byte");
  CHECK(SafeName("lone \xED\xA0\x80 surrogate") == "lone \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD surrogate");
  CHECK(SafeName("overlong \xC0\xAF") == "overlong \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(SafeName("cut \xE6\x97") == "cut \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(RepairUtf8("ok ✓") == "ok ✓");
}

TEST_CASE("SafeName truncates to 255 bytes on a UTF-8 boundary keeping suffix and extension", "[sync][names]") {
  std::string long_name;
  for (int i = 0; i < 200; ++i) long_name += "日";  // 600 bytes
  const std::string n = SafeName(long_name, ".eml", " [abcdef12]");
  CHECK(n.size() <= 255);
  CHECK(n.size() > 240);
  CHECK(n.substr(n.size() - 15) == " [abcdef12].eml");
  CHECK(IsValidEntryName(n));
  CHECK(RepairUtf8(n) == n);
  const std::string plain = SafeName(std::string(400, 'a') + ".docx");
  CHECK(plain.size() == 255);
  CHECK(IsValidEntryName(plain));
}

TEST_CASE("every hostile name becomes a valid entry name", "[sync][names]") {
  const char* hostile[] = {"..", ".", "a/b", "\\", "\x01\x02", "\xE2\x80\xAE", " ", "...", "x\xED\xB0\x80",
                           "\xF4\x90\x80\x80", "∕ and ／", "trailing. ", "\xC3"};
  for (const char* h : hostile) {
    INFO(h);
    CHECK(IsValidEntryName(SafeName(h)));
    CHECK(IsValidEntryName(SafeName(h, ".eml", " [00000000]")));
  }
}

TEST_CASE("ShortId is stable, 8 hex characters", "[sync][names]") {
  CHECK(ShortId("AAMkAD==") == ShortId("AAMkAD=="));
  CHECK(ShortId("a") != ShortId("b"));
  CHECK(ShortId("x").size() == 8);
}

TEST_CASE("SplitExtension", "[sync][names]") {
  CHECK(SplitExtension("report.final.docx") == std::pair<std::string, std::string>{"report.final", ".docx"});
  CHECK(SplitExtension(".bashrc").second.empty());
  CHECK(SplitExtension("noext").second.empty());
  CHECK(SplitExtension("weird.ext with space").second.empty());
}

TEST_CASE("RepairJsonSurrogates", "[sync][names]") {
  std::string out;
  CHECK(RepairJsonSurrogates(R"({"s":"a\ud800b"})", &out));
  CHECK(out == R"({"s":"a\ufffdb"})");
  CHECK(RepairJsonSurrogates(R"({"s":"\udc00"})", &out));
  CHECK(out == R"({"s":"\ufffd"})");
  CHECK_FALSE(RepairJsonSurrogates(R"({"s":"\ud83d\ude00 \\ud800 \u00e9"})", &out));
}

}  // namespace m365vault::sync
