//===- ImportChecks.h - What the importer does after parsing ----*- C++ -*-===//
//
// The model fuzzers parse a file the way `strata inspect` and
// `strata compile` read it, then take a configuration they accept down the
// same path the tool does: lowering against the file's tensor table,
// verification of the lowered graph, and the model statistics. Lowering
// must reject what does not fit; a lowered graph that fails the verifier is
// a bug the tool reports as one, so here it aborts and libFuzzer keeps the
// input.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_FUZZ_IMPORTCHECKS_H
#define STRATA_FUZZ_IMPORTCHECKS_H

#include "ir/Verifier.h"
#include "ir/import/Lowering.h"
#include "ir/import/ModelConfig.h"
#include "ir/import/ModelStats.h"
#include "ir/modelfile/TensorTable.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

namespace strata::fuzz {

/// Lowers C (with the tensors of Table, when given), verifies the graph and
/// computes its statistics, as `strata inspect` does.
inline void lowerAndInspect(const import::ModelConfig &C,
                            const import::TensorTable *Table) {
  llvm::Expected<ir::Graph> G = import::lowerModel(C, Table, {});
  if (!G) {
    llvm::consumeError(G.takeError());
    return;
  }
  if (llvm::Error E = ir::verify(*G)) {
    llvm::errs() << "the lowered graph of an accepted model is invalid:\n"
                 << llvm::toString(std::move(E)) << '\n';
    std::abort();
  }
  llvm::Expected<import::ModelStats> Stats = import::computeModelStats(*G);
  if (!Stats)
    llvm::consumeError(Stats.takeError());
}

} // namespace strata::fuzz

#endif // STRATA_FUZZ_IMPORTCHECKS_H
