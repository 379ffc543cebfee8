//===- OpTyping.h - The typing rule of every op -----------------*- C++ -*-===//
//
// Each op kind has one rule that checks its operand types, its required
// attributes and its result type. The verifier runs them; docs/ir.md states
// the same rules in prose.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_OPTYPING_H
#define STRATA_IR_OPTYPING_H

#include "ir/Graph.h"

#include "llvm/ADT/STLFunctionalExtras.h"

namespace strata::ir {

/// Checks op O of G, which must have the right number of valid operands.
/// Calls Report once per broken rule.
void checkOpTyping(const Graph &G, const Op &O,
                   llvm::function_ref<void(const llvm::Twine &)> Report);

} // namespace strata::ir

#endif // STRATA_IR_OPTYPING_H
