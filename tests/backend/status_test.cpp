#include <catch2/catch.hpp>

#include "backend/status.h"

using m365vault::Result;
using m365vault::Status;

static Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

static Status Chain(int x, int* out) {
  M365_ASSIGN_OR_RETURN(int h, Half(x));
  *out = h;
  return Status::OK();
}

TEST_CASE("Status carries code, message and retryable flag", "[backend][status]") {
  Status ok;
  REQUIRE(ok.ok());
  REQUIRE(ok.ToString() == "OK");
  Status t = Status::Throttled("slow down");
  REQUIRE_FALSE(t.ok());
  REQUIRE(t.retryable());
  REQUIRE(t.code() == Status::Code::kThrottled);
  REQUIRE(Status::Corruption("x").WithContext("pack 1").ToString() == "Corruption: pack 1: x");
  REQUIRE_FALSE(Status::Corruption("x").retryable());
}

TEST_CASE("Result propagates errors through M365_ASSIGN_OR_RETURN", "[backend][status]") {
  int out = 0;
  REQUIRE(Chain(8, &out).ok());
  REQUIRE(out == 4);
  Status st = Chain(3, &out);
  REQUIRE(st.code() == Status::Code::kInvalidArgument);
  REQUIRE(st.message() == "odd");
}
