//===- PlanVerifier.h - Proves a plan safe to run ---------------*- C++ -*-===//
//
// Checks a plan from its file alone, sharing no code with the planner that
// made it, so that a planner bug (or a hand edit) is caught before anything
// runs:
//
//   - the plan keeps the format's own rules (PlanStructure.h), which the
//     reader applies to a file: a plan built in memory is held to them too;
//   - a split weight or KV cache has all its shards, their ranges end to
//     end;
//   - every buffer is somewhere: a device region with an aligned offset
//     inside the region, or host or disk for a weight;
//   - no two buffers of one region overlap, and no two arena buffers of one
//     program that are live at the same step share a byte;
//   - every device's regions and reserve fit its capacity;
//   - every step reads only buffers that exist by then (weights, KV caches,
//     program inputs, or buffers an earlier step wrote), on its own device
//     unless it is a transfer, within their live ranges;
//   - every read of a buffer another stream wrote, and every reuse of arena
//     bytes another stream touched, is ordered by an event wait (directly
//     or through earlier waits and collectives);
//   - events are recorded before they are waited for; a collective's steps
//     are consecutive, one per member device;
//   - cleanup points name real programs, steps and buffers.
//
// Messages name the buffers and steps involved.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_IR_PLAN_PLANVERIFIER_H
#define STRATA_IR_PLAN_PLANVERIFIER_H

#include "ir/plan/Plan.h"

namespace strata::plan {

/// Success, or one error listing every problem found (at most
/// MaxProblems, then a count of the rest), each on its own line.
llvm::Error verifyPlan(const Plan &P, size_t MaxProblems = 20);

} // namespace strata::plan

#endif // STRATA_IR_PLAN_PLANVERIFIER_H
