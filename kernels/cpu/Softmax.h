//===- Softmax.h - Softmax over the last axis -------------------*- C++ -*-===//

#ifndef STRATA_KERNELS_CPU_SOFTMAX_H
#define STRATA_KERNELS_CPU_SOFTMAX_H

#include "kernels/ElementType.h"

#include "llvm/Support/Error.h"

namespace strata::kernels::cpu {

/// Out[r] = exp(X[r] - max) / sum(exp(X[r] - max)) for each of Rows rows of
/// N elements (the max subtracted for stability; the sum in double). X and
/// Out are f32, f16 or bf16; Out may be X.
llvm::Error softmax(ConstBuffer X, MutableBuffer Out, int64_t Rows, int64_t N);

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_SOFTMAX_H
