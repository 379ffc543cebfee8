//===- RoundTrip.h - How a fuzz target reports a broken round trip -*- C++
//-*-===//
//
// Plans, cluster descriptions and .sir graphs promise that what is read
// writes, reads back and writes to the same text. A target that finds
// otherwise prints why and the text written, then aborts, so that
// libFuzzer keeps the input as it keeps a crash.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_FUZZ_ROUNDTRIP_H
#define STRATA_FUZZ_ROUNDTRIP_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

namespace strata::fuzz {

/// What names the text, e.g. "plan"; Written is the first text written.
[[noreturn]] inline void roundTripFailed(llvm::StringRef What,
                                         const llvm::Twine &Why,
                                         llvm::StringRef Written) {
  llvm::errs() << "round trip failed: " << Why << "\nwritten " << What << ":\n"
               << Written << '\n';
  std::abort();
}

} // namespace strata::fuzz

#endif // STRATA_FUZZ_ROUNDTRIP_H
