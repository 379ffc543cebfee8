//===- ArgMax.h - Index of the largest element of the last axis -*- C++ -*-===//

#ifndef STRATA_KERNELS_CPU_ARGMAX_H
#define STRATA_KERNELS_CPU_ARGMAX_H

#include "kernels/ElementType.h"

#include "llvm/Support/Error.h"

namespace strata::kernels::cpu {

/// Out[r] = the first index of the largest of row r's N elements (X is
/// [Rows, N] in f32, f16 or bf16). NaNs are never the largest; a row of
/// NaNs gives 0. N must be in 1..2^31 - 1.
llvm::Error argmax(ConstBuffer X, int64_t Rows, int64_t N, int32_t *Out);

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_ARGMAX_H
