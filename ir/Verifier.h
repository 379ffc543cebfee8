//===- Verifier.h - Check every invariant of a graph ------------*- C++ -*-===//
//
// The verifier reports every broken invariant, not just the first: values
// defined twice, operands that are undefined or belong to another program,
// op arity, each op's typing rule (OpTyping.h), sizes of quantized tensors,
// the types of well-known attributes, def-use links, outputs, and cycles.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_VERIFIER_H
#define STRATA_IR_VERIFIER_H

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace strata::ir {

struct Diagnostic {
  SourceLoc Loc; ///< Where the offending value or op was written, if known.
  std::string Message;
};

/// Every broken invariant of G, in a stable order: shared values, then each
/// program's inputs, ops and outputs in stored order, then cycles.
std::vector<Diagnostic> verifyGraph(const Graph &G);

/// verifyGraph as one Error, each diagnostic on a line of its own as
/// `source:line:col: error: message`, where source is the graph's source
/// name (`<graph>` if it has none; no line and column when unknown).
llvm::Error verify(const Graph &G);

} // namespace strata::ir

#endif // STRATA_IR_VERIFIER_H
