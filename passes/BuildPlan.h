//===- BuildPlan.h - The placed graph as a plan -----------------*- C++ -*-===//
//
// Turns a graph whose weights and KV caches the placement passes have
// placed into a plan::Plan: one buffer per tensor (per shard when split,
// with exact shard sizes), the devices with their planned bytes, the
// fallbacks taken, and the cost model's predicted prefill and decode times.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_BUILDPLAN_H
#define STRATA_PASSES_BUILDPLAN_H

#include "passes/Pass.h"

#include "ir/cluster/Cluster.h"
#include "ir/plan/Plan.h"

namespace strata::passes {

/// The fingerprint of G's weights (plan::planFingerprint).
std::string fingerprintGraph(const ir::Graph &G);

llvm::Expected<plan::Plan> buildPlan(const ir::Graph &G,
                                     const cluster::Cluster &C,
                                     PassContext &Ctx, plan::ModelInfo Model,
                                     plan::Options Opts);

} // namespace strata::passes

#endif // STRATA_PASSES_BUILDPLAN_H
