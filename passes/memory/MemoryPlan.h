//===- MemoryPlan.h - Regions, arena offsets and cleanup points -*- C++ -*-===//
//
// Decides where in each device's memory every buffer of a scheduled plan
// lives. Weights and KV caches get their own regions, packed in buffer
// order; the arena holds what the programs make, each buffer live from the
// step that writes it to the last step that reads it (a view extends its
// base), packed by best fit (planArena). Prefill and decode never run at
// once, so they share one arena per device, as large as the larger needs.
// Also lists the cleanup points, after loading and at the end of prefill,
// where the runtime releases memory.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_MEMORY_MEMORYPLAN_H
#define STRATA_PASSES_MEMORY_MEMORYPLAN_H

#include "ir/plan/Plan.h"

namespace strata::passes {

/// Offsets within every region are multiples of this: 256 bytes on GPUs
/// (what cudaMalloc guarantees, and what vectorised kernels assume), 64 on
/// CPUs (a cache line).
uint64_t regionAlignment(const plan::Device &D);

/// Fills in regions, offsets, live ranges, region sizes, arena statistics
/// and cleanup points of a plan whose schedules buildSchedules made.
llvm::Error planMemory(plan::Plan &P);

} // namespace strata::passes

#endif // STRATA_PASSES_MEMORY_MEMORYPLAN_H
