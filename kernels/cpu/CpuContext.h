//===- CpuContext.h - What CPU kernels use besides operands -----*- C++ -*-===//
//
// The runtime owns the threads of a device; a kernel only asks it to run a
// loop. ParallelFor is that request. Kernels call it only when the work pays
// for waking the threads (the thresholds are in docs/kernels.md), so a
// context without one, or with a pool of one thread, is always valid.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_CPU_CPUCONTEXT_H
#define STRATA_KERNELS_CPU_CPUCONTEXT_H

#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstddef>
#include <cstdint>

namespace strata::kernels::cpu {

class ParallelFor {
public:
  virtual ~ParallelFor();

  /// Calls Body on disjoint, contiguous ranges [Begin, End) that together
  /// cover [0, N), possibly at the same time on several threads, and returns
  /// once every call has returned. Body must not call run again.
  virtual void run(size_t N,
                   llvm::function_ref<void(size_t Begin, size_t End)> Body) = 0;

  /// How many ranges can run at once; kernels size their split by it.
  virtual unsigned getConcurrency() const = 0;
};

/// Multiply-adds below which matmul and attention stay on the calling
/// thread: about 40 us of f32 decode on one core of the development VM,
/// several times what waking the pool's workers took there (BM_Kernels'
/// BM_PoolWake and BM_MatVecThreshold; docs/kernels.md). A runtime may set
/// its own per machine.
constexpr int64_t DefaultParallelMinMACs = int64_t(1) << 19;

struct CpuContext {
  /// Null: everything runs on the calling thread.
  ParallelFor *Threads = nullptr;
  /// Work below this many multiply-adds is not split (0: always split).
  int64_t ParallelMinMACs = DefaultParallelMinMACs;
  /// True: only the x86-64 baseline code, even where the processor has
  /// AVX2, FMA and F16C (tests compare the two; results differ only in
  /// rounding, as fused multiply-adds round once).
  bool PortableOnly = false;
};

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_CPUCONTEXT_H
