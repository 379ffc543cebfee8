//===- RMSNorm.h - Root-mean-square normalisation ---------------*- C++ -*-===//

#ifndef STRATA_KERNELS_CPU_RMSNORM_H
#define STRATA_KERNELS_CPU_RMSNORM_H

#include "kernels/ElementType.h"

#include "llvm/Support/Error.h"

namespace strata::kernels::cpu {

/// Out[r] = X[r] / sqrt(mean(X[r]^2) + Eps) * Weight for each of Rows rows
/// of Dim elements. X, Weight ([Dim]) and Out are f32, f16 or bf16; Out may
/// be X itself. The mean is accumulated in f32 lanes, the scale in double.
llvm::Error rmsNorm(ConstBuffer X, ConstBuffer Weight, MutableBuffer Out,
                    int64_t Rows, int64_t Dim, float Eps);

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_RMSNORM_H
