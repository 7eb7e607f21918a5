// tests/sync/encoding_test.cpp
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sync/graph/encoding.h"

namespace m365vault::sync {

TEST_CASE("EncodePathSegment keeps unreserved and escapes the rest", "[sync]") {
  CHECK(EncodePathSegment("AAMkAD/abc+def==") == "AAMkAD%2Fabc%2Bdef%3D%3D");
  CHECK(EncodePathSegment("a-b.c_d~e") == "a-b.c_d~e");
  CHECK(EncodePathSegment("19:x@thread.tacv2") == "19%3Ax%40thread.tacv2");
  CHECK(EncodePathSegment("host,guid,guid") == "host%2Cguid%2Cguid");
  CHECK(EncodePathSegment("sp ace%") == "sp%20ace%25");
  CHECK(EncodePathSegment("\xC3\xA9") == "%C3%A9");
}

TEST_CASE("FormEncode escapes values", "[sync]") {
  CHECK(FormEncode({{"scope", "https://graph.microsoft.com/.default"}, {"s", "a&b=c"}}) ==
        "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&s=a%26b%3Dc");
}

TEST_CASE("Base64Url round-trips without padding", "[sync]") {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00", 3)}) {
    std::string enc = Base64UrlEncode(s);
    CHECK(enc.find('=') == std::string::npos);
    CHECK(enc.find('+') == std::string::npos);
    CHECK(enc.find('/') == std::string::npos);
    CHECK(Base64UrlDecode(enc) == s);
  }
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
}

TEST_CASE("NewGuid is a fresh version-4 GUID", "[sync]") {
  std::string a = NewGuid(), b = NewGuid();
  CHECK(a.size() == 36);
  CHECK(a != b);
  CHECK(a[14] == '4');
  CHECK(a[8] == '-');
}

}  // namespace m365vault::sync
