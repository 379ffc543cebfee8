//===- ArenaPlanner.h - Byte offsets for buffers in one arena ---*- C++ -*-===//
//
// Packs buffers with known lifetimes into one arena: each buffer gets a byte
// offset, and two buffers live at a common step never share a byte. The
// smallest arena is NP-hard to find (dynamic storage allocation), so the
// planner runs best fit under a few orderings and keeps the smallest arena,
// as TFLite's greedy-by-size and XLA's GlobalDecreasingSizeBestFitHeap do,
// then squeaky-wheel rounds and, on small programs, orderings with jittered
// keys. No arena can be
// smaller than the most bytes live at one step; planning stops there.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_PASSES_MEMORY_ARENAPLANNER_H
#define STRATA_PASSES_MEMORY_ARENAPLANNER_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace strata::memory {

/// A buffer of Bytes bytes, live at steps First through Last inclusive.
struct LiveInterval {
  uint64_t Bytes;
  uint32_t First;
  uint32_t Last;
};

struct ArenaAssignment {
  std::vector<uint64_t> Offsets; ///< One per buffer, in input order.
  uint64_t Size = 0;       ///< Arena bytes: largest offset + aligned size.
  uint64_t LowerBound = 0; ///< arenaLowerBound of the same buffers.
  /// The ordering that won: "pressure", "size", "pressure-time", "length",
  /// "area" (see ArenaPlanner.cpp), "squeaky-<round>" or "jitter-<round>".
  std::string Ordering;
};

/// How far planArena searches beyond its fixed orderings.
struct ArenaSearch {
  /// The fixed orderings after the first start only while the placements
  /// made so far, plus one per buffer, stay within this many. Placements
  /// cost about the same each, so this bounds the time: all five orderings
  /// run for up to 400,000 buffers, two for a million; with 0 only the
  /// first runs.
  size_t MaxPlacements = 2'000'000;
  /// At most this many rounds after the fixed orderings put first the
  /// buffers that the previous round left above the lower bound (within
  /// MaxPlacements, shared with the fixed orderings); 0 turns them off.
  unsigned SqueakyRounds = 8;
  /// At most this many orderings with pseudo-randomly jittered keys are
  /// tried after the fixed ones while the arena is above the lower bound.
  /// They run only on small programs (64,000 placements in all), so large
  /// programs cost the same with any value; 0 turns them off.
  unsigned JitterRounds = 1024;
};

/// Offsets, multiples of Alignment, for Buffers in one arena. Sizes are
/// rounded up to Alignment for packing. A zero-byte buffer gets offset 0 and
/// conflicts with nothing. Deterministic: the same input gives the same
/// offsets. Fails if a buffer's First is after its Last, if Alignment is not
/// a power of two, or if the aligned sizes add up to more than 2^63 - 1.
llvm::Expected<ArenaAssignment> planArena(llvm::ArrayRef<LiveInterval> Buffers,
                                          uint64_t Alignment,
                                          const ArenaSearch &Search = {});

/// The most bytes, sizes rounded up to Alignment, live at one step: no arena
/// for Buffers is smaller. Meant for input planArena accepts; on other input
/// it still returns (buffers with First > Last count as never live).
uint64_t arenaLowerBound(llvm::ArrayRef<LiveInterval> Buffers,
                         uint64_t Alignment);

} // namespace strata::memory

#endif // STRATA_PASSES_MEMORY_ARENAPLANNER_H
