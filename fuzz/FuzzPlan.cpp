//===- FuzzPlan.cpp - libFuzzer target for plan files ---------------------===//
//
// The input is a plan file. It is read as `strata verify` and `strata run`
// read one: parsePlan, then verifyPlan. A plan that parses must also round
// trip: writing it and reading the text back gives a plan that writes the
// same text, since the plan file is the only contract between compile and
// run. A failure of that is a reader or writer bug, so it aborts and
// libFuzzer keeps the input.
//
//===----------------------------------------------------------------------===//

#include "fuzz/RoundTrip.h"
#include "ir/plan/Plan.h"
#include "ir/plan/PlanVerifier.h"

#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace strata;

static void checkRoundTrip(const plan::Plan &P) {
  std::string First = plan::planToString(P);
  llvm::Expected<plan::Plan> Again = plan::parsePlan(First, "<written>");
  if (!Again)
    fuzz::roundTripFailed("plan",
                          "the written plan does not parse: " +
                              llvm::toString(Again.takeError()),
                          First);
  std::string Second = plan::planToString(*Again);
  if (Second != First)
    fuzz::roundTripFailed(
        "plan", "writing the read plan changed it:\n" + Second, First);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Text(reinterpret_cast<const char *>(Data), Size);
  llvm::Expected<plan::Plan> P = plan::parsePlan(Text, "fuzz.json");
  if (!P) {
    llvm::consumeError(P.takeError());
    return 0;
  }
  if (llvm::Error E = plan::verifyPlan(*P))
    llvm::consumeError(std::move(E));
  checkRoundTrip(*P);
  return 0;
}
