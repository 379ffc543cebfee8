//===- CompilePlan.h - From a lowered graph to a verified plan --*- C++ -*-===//
//
// The whole compile: the placement pipeline on a copy of the graph, the
// plan with its schedules, memory plan and sync points, and the plan
// verifier. Placement estimates activations from liveness; the memory plan
// knows them exactly (with staging buffers and alignment). When a device
// then needs more than placement allowed for and no longer fits, placement
// runs again with the exact figure as that device's floor, until the plan
// fits or a few rounds have passed.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_COMPILEPLAN_H
#define STRATA_PASSES_COMPILEPLAN_H

#include "passes/CompileOptions.h"
#include "passes/Pass.h"

#include "ir/cluster/Cluster.h"
#include "ir/plan/Plan.h"

namespace strata::passes {

struct CompileRequest {
  CompileOptions Options;
  /// Placement passes, as --passes takes them; empty for
  /// defaultPipeline(Options).
  std::string Pipeline;
  plan::ModelInfo Model;
  bool TimePasses = false;
  unsigned MaxRounds = 4;
};

struct CompileResult {
  plan::Plan Plan;
  unsigned Rounds = 1; ///< Placements run (1 when the estimate held).
  std::vector<Statistic> Stats;
};

/// Places G on C with Request's pipeline and returns the verified plan. The
/// model's fingerprint is filled in from G when Request leaves it empty.
llvm::Expected<CompileResult> compilePlan(const ir::Graph &G,
                                          const cluster::Cluster &C,
                                          const CompileRequest &Request);

} // namespace strata::passes

#endif // STRATA_PASSES_COMPILEPLAN_H
