//===- FuzzSir.cpp - libFuzzer target for the .sir text form --------------===//
//
// The input is a .sir file. It is read as `strata opt` reads one: parsed
// into a SourceMgr buffer, verified, and every diagnostic printed with its
// line and caret (to a null stream). A graph that parses must also round
// trip, as tests/roundtrip_all.py checks for the repository's files:
// printing it, parsing the print and printing again gives the same text. A
// failure of that is a printer or parser bug, so it aborts and libFuzzer
// keeps the input.
//
//===----------------------------------------------------------------------===//

#include "fuzz/RoundTrip.h"
#include "ir/Verifier.h"
#include "ir/text/Parser.h"
#include "ir/text/Printer.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace strata;

/// A parsed graph's print must parse and print to the same text.
static void checkRoundTrip(const ir::Graph &G) {
  std::string First = ir::text::printGraphToString(G);
  llvm::Expected<ir::Graph> Again = ir::text::parseGraph(First, "<printed>");
  if (!Again)
    fuzz::roundTripFailed("graph",
                          "the print does not parse: " +
                              llvm::toString(Again.takeError()),
                          First);
  std::string Second = ir::text::printGraphToString(*Again);
  if (Second != First)
    fuzz::roundTripFailed(
        "graph", "printing the parsed print changed it:\n" + Second, First);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::SourceMgr SM;
  unsigned BufferId = SM.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(reinterpret_cast<const char *>(Data), Size),
          "fuzz.sir"),
      llvm::SMLoc());
  llvm::Expected<ir::Graph> G = ir::text::parseGraph(SM, BufferId);
  if (!G) {
    llvm::consumeError(G.takeError());
    return 0;
  }
  // As strata opt prints the verifier's diagnostics.
  for (const ir::Diagnostic &D : ir::verifyGraph(*G)) {
    llvm::SMLoc Loc;
    if (D.Loc.isValid())
      Loc = SM.FindLocForLineAndColumn(BufferId, D.Loc.Line, D.Loc.Col);
    SM.PrintMessage(llvm::nulls(), Loc, llvm::SourceMgr::DK_Error, D.Message);
  }
  checkRoundTrip(*G);
  return 0;
}
