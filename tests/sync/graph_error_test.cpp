// tests/sync/graph_error_test.cpp
#include <catch2/catch.hpp>

#include "sync/graph/graph_error.h"

namespace m365vault::sync {

TEST_CASE("Graph envelope parsed with mixed key casing and nested inner codes", "[sync]") {
  const char* body = R"({"ERROR":{"Code":"generalException","MESSAGE":"boom",
      "innerError":{"code":"outer","request-id":"rid-1","InnerError":{"code":"cannotSnapshotTree"}}}})";
  GraphError e = ParseGraphError(410, body, {});
  CHECK(e.code == "generalException");
  CHECK(e.message == "boom");
  REQUIRE(e.inner_codes == std::vector<std::string>{"outer", "cannotSnapshotTree"});
  CHECK(e.MostSpecificCode() == "cannotSnapshotTree");
  CHECK(e.request_id == "rid-1");
  CHECK(e.HasCode("CANNOTSNAPSHOTTREE"));
  CHECK(e.kind == GraphErrorKind::kRetryable);  // transient inner code beats the 410
}

TEST_CASE("Sync-state codes mean resync whatever their casing", "[sync]") {
  for (const char* code : {"SyncStateNotFound", "syncStateNotFound", "SYNCSTATEINVALID", "resyncRequired",
                           "ResyncRequired", "resyncChangesApplyDifferences"}) {
    std::string body = std::string(R"({"error":{"code":")") + code + R"(","message":"x"}})";
    GraphError e = ParseGraphError(400, body, {});
    INFO(code);
    CHECK(e.kind == GraphErrorKind::kResync);
    CHECK(e.ToStatus().IsNotFound());
  }
  GraphError bare = ParseGraphError(410, "", {{"location", "https://graph/restart"}});
  CHECK(bare.kind == GraphErrorKind::kResync);
  CHECK(bare.location == "https://graph/restart");
}

TEST_CASE("Classification table", "[sync]") {
  auto kind = [](int status, const std::string& code) {
    std::string body = code.empty() ? "" : R"({"error":{"code":")" + code + R"(","message":"m"}})";
    return ParseGraphError(status, body, {}).kind;
  };
  for (int s : {429, 500, 502, 503, 504, 509}) CHECK(kind(s, "") == GraphErrorKind::kRetryable);
  CHECK(kind(503, "serviceNotAvailable") == GraphErrorKind::kRetryable);
  CHECK(kind(401, "InvalidAuthenticationToken") == GraphErrorKind::kRefreshToken);
  CHECK(kind(404, "itemNotFound") == GraphErrorKind::kSkipItem);
  CHECK(kind(404, "ErrorItemNotFound") == GraphErrorKind::kSkipItem);
  CHECK(kind(403, "malwareDetected") == GraphErrorKind::kSkipItem);
  CHECK(kind(500, "ErrorCorruptData") == GraphErrorKind::kRetryable);  // a 5xx is retried first
  CHECK(kind(400, "ErrorCorruptData") == GraphErrorKind::kSkipItem);
  CHECK(kind(404, "MailboxNotEnabledForRESTAPI") == GraphErrorKind::kSkipResource);
  CHECK(kind(404, "mailboxnotenabledforrestapi") == GraphErrorKind::kSkipResource);
  CHECK(kind(404, "ResourceNotFound") == GraphErrorKind::kSkipResource);
  CHECK(kind(400, "invalidRequest") == GraphErrorKind::kFatal);
  CHECK(kind(403, "accessDenied") == GraphErrorKind::kFatal);
  CHECK(kind(409, "nameAlreadyExists") == GraphErrorKind::kFatal);
  CHECK(kind(507, "quotaLimitReached") == GraphErrorKind::kFatal);
}

TEST_CASE("Statuses carry code and message", "[sync]") {
  GraphError e = ParseGraphError(429, R"({"error":{"code":"TooManyRequests","message":"Please retry"}})", {});
  Status st = e.ToStatus();
  CHECK(st.code() == Status::Code::kThrottled);
  CHECK(st.retryable());
  CHECK(st.message().find("TooManyRequests") != std::string::npos);
  CHECK(st.message().find("Please retry") != std::string::npos);
  CHECK(ParseGraphError(403, R"({"error":{"code":"accessDenied"}})", {}).ToStatus().code() ==
        Status::Code::kPermissionDenied);
  CHECK(ParseGraphError(400, "{}", {}).ToStatus().code() == Status::Code::kInvalidArgument);
  CHECK(ParseGraphError(507, "", {}).ToStatus().code() == Status::Code::kNoSpace);
  CHECK(ParseGraphError(404, R"({"error":{"code":"MailboxNotEnabledForRESTAPI"}})", {}).ToStatus().code() ==
        Status::Code::kNotSupported);
  CHECK_FALSE(ParseGraphError(400, "", {}).ToStatus().retryable());
  Status unavailable = ParseGraphError(503, "", {}).ToStatus();
  CHECK(unavailable.code() == Status::Code::kUnavailable);
  CHECK(unavailable.retryable());
}

TEST_CASE("OAuth error bodies, empty and garbage bodies", "[sync]") {
  GraphError o = ParseGraphError(
      401, R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret","error_codes":[7000215]})",
      {});
  CHECK(o.code == "invalid_client");
  CHECK(o.message.find("AADSTS7000215") != std::string::npos);
  GraphError empty = ParseGraphError(503, "", {});
  CHECK(empty.code.empty());
  CHECK(empty.kind == GraphErrorKind::kRetryable);
  GraphError garbage = ParseGraphError(502, "<html>bad gateway", {{"Request-Id", "r9"}});
  CHECK(garbage.kind == GraphErrorKind::kRetryable);
  CHECK(garbage.request_id == "r9");
  GraphError array = ParseGraphError(400, R"([1,2])", {});
  CHECK(array.code.empty());
  CHECK(array.kind == GraphErrorKind::kFatal);
}

TEST_CASE("Transport errors are retryable unless the transport says not", "[sync]") {
  CHECK(TransportError(Status::Unavailable("reset")).kind == GraphErrorKind::kRetryable);
  CHECK(TransportError(Status::Unavailable("tls verify", false)).kind == GraphErrorKind::kFatal);
}

}  // namespace m365vault::sync
