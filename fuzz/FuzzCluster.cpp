//===- FuzzCluster.cpp - libFuzzer target for cluster descriptions --------===//
//
// The input is a cluster description (--cluster FILE.json, and the
// "cluster.description" of every plan). It is read as `strata compile`
// reads one: parseClusterJSON. A cluster that reads must also round trip,
// since a plan records its cluster as clusterToJSON writes it: writing the
// cluster and reading the text back gives a cluster that writes the same
// text. A failure of that aborts, and libFuzzer keeps the input.
//
//===----------------------------------------------------------------------===//

#include "fuzz/RoundTrip.h"
#include "ir/cluster/Cluster.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace strata;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Text(reinterpret_cast<const char *>(Data), Size);
  // One name for every read: a description's "spec" is the file it came
  // from, which is part of what is written.
  llvm::Expected<cluster::Cluster> C =
      cluster::parseClusterJSON(Text, "c.json");
  if (!C) {
    llvm::consumeError(C.takeError());
    return 0;
  }
  std::string First = llvm::formatv("{0}", cluster::clusterToJSON(*C)).str();
  llvm::Expected<cluster::Cluster> Again =
      cluster::parseClusterJSON(First, "c.json");
  if (!Again)
    fuzz::roundTripFailed("cluster",
                          "the written cluster does not read: " +
                              llvm::toString(Again.takeError()),
                          First);
  std::string Second =
      llvm::formatv("{0}", cluster::clusterToJSON(*Again)).str();
  if (Second != First)
    fuzz::roundTripFailed(
        "cluster", "writing the read cluster changed it:\n" + Second, First);
  return 0;
}
