//===- Schedule.h - Per-device steps of each program ------------*- C++ -*-===//
//
// Turns a placed graph into the steps each device runs. Every op becomes
// one step on each device of its group, over the piece of each tensor that
// device holds (a shard, a partial sum, or the whole); where a value is not
// where its consumer needs it, in the layout it needs it, the schedule
// inserts the step that moves or reshapes it: a copy between devices, a
// prefetch of an offloaded weight into a staging buffer, an all-reduce of
// partial sums, an all-gather of shards, a local slice. Copies and
// prefetches run on the destination device's copy stream, issued as soon as
// their source exists, so that they overlap with compute.
//
// The steps carry buffer indices and attributes only: memory offsets, live
// ranges and events are added by the memory planner and the sync pass.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_SCHEDULE_SCHEDULE_H
#define STRATA_PASSES_SCHEDULE_SCHEDULE_H

#include "ir/Graph.h"
#include "ir/plan/Plan.h"

namespace strata::passes {

/// Stream indices: each device has a compute stream and a copy stream.
inline unsigned computeStream(unsigned Device) { return 2 * Device; }
inline unsigned copyStream(unsigned Device) { return 2 * Device + 1; }

/// Adds P's streams and one ProgramSchedule per program of G, with the
/// activation, input and staging buffers they use. P must already hold
/// G's devices and its weight and KV-cache buffers (buildPlan's first
/// half). Fails, naming the op, on a placement it cannot run.
llvm::Error buildSchedules(const ir::Graph &G, plan::Plan &P);

} // namespace strata::passes

#endif // STRATA_PASSES_SCHEDULE_SCHEDULE_H
