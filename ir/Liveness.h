//===- Liveness.h - When each activation buffer is live ---------*- C++ -*-===//
//
// For one program in a topological order, the step at which each buffer is
// made and the last step that reads it. Results that alias an operand
// (kv_append's updated cache, reshape's view) are not buffers of their own:
// their uses extend the buffer they alias. Weights and KV caches are not
// activations and are left out. The largest sum of bytes live at one step
// is the lower bound of any arena for the program.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_LIVENESS_H
#define STRATA_IR_LIVENESS_H

#include "ir/Graph.h"

#include <vector>

namespace strata::ir {

struct LiveBuffer {
  ValueId Value; ///< The value that owns the buffer.
  uint64_t Bytes;
  uint32_t First; ///< Step that writes it (0 for inputs).
  uint32_t Last;  ///< Last step that reads it (the end for outputs).
};

struct ProgramLiveness {
  std::vector<OpId> Steps;         ///< The order the steps are numbered in.
  std::vector<LiveBuffer> Buffers; ///< In order of First, then value id.
  uint64_t PeakBytes = 0;          ///< Largest sum of live bytes at a step.
};

/// Liveness of program P in its topological order; fails on a cycle or a
/// tensor whose byte size is not exact.
llvm::Expected<ProgramLiveness> computeLiveness(const Graph &G, ProgramId P);

} // namespace strata::ir

#endif // STRATA_IR_LIVENESS_H
