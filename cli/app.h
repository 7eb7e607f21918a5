// cli/app.h
//
// The m365vault command line as a function, so tests can run it in-process:
// parses argv, runs the selected command and returns the exit code of the
// contract (0 ok, 1 error, 2 bad usage, 3 partial backup). Output goes to
// `out`, errors to `err` as "m365vault: <message>".
//
// REQUIRES: crypto::InitCrypto() has run (GlobalInit in main.cpp).
// Thread safety: main thread only.
#pragma once

#include <iosfwd>

namespace m365vault::cli {

int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace m365vault::cli
