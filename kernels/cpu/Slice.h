//===- Slice.h - A range of one axis ----------------------------*- C++ -*-===//

#ifndef STRATA_KERNELS_CPU_SLICE_H
#define STRATA_KERNELS_CPU_SLICE_H

#include "kernels/ElementType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace strata::kernels::cpu {

/// Out = X with dimension Axis of Dims (row-major) cut to [Begin, End).
/// Out has X's element type; any type works, and for q8_0 a cut of the
/// last axis must fall on 32-element block boundaries.
llvm::Error slice(ConstBuffer X, llvm::ArrayRef<int64_t> Dims, int64_t Axis,
                  int64_t Begin, int64_t End, MutableBuffer Out);

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_SLICE_H
