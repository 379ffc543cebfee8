//===- Elementwise.h - silu_mul, add and mul --------------------*- C++ -*-===//
//
// Element by element in f32, each operand read in its own type (f32, f16 or
// bf16) and the result written in Out's. Out may be A (in place).
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_CPU_ELEMENTWISE_H
#define STRATA_KERNELS_CPU_ELEMENTWISE_H

#include "kernels/ElementType.h"

#include "llvm/Support/Error.h"

namespace strata::kernels::cpu {

/// Out = silu(Gate) * Up over N elements; silu(x) = x / (1 + exp(-x)).
llvm::Error siluMul(ConstBuffer Gate, ConstBuffer Up, MutableBuffer Out,
                    int64_t N);

/// Out = A + B over NumA elements, B's NumB elements repeated: B's shape is
/// a suffix of A's (a bias [d] over [n, d]), so NumA is a multiple of NumB.
llvm::Error add(ConstBuffer A, int64_t NumA, ConstBuffer B, int64_t NumB,
                MutableBuffer Out);

/// Out = A * B, broadcast as for add.
llvm::Error mul(ConstBuffer A, int64_t NumA, ConstBuffer B, int64_t NumB,
                MutableBuffer Out);

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_ELEMENTWISE_H
