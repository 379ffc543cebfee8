//===- MatMul.h - x times a weight's transpose ------------------*- C++ -*-===//
//
// Y[Rows, Out] = X[Rows, In] * W[Out, In]^T: a linear layer with its weight
// stored [out, in], as GGUF and Hugging Face store them. Decode (Rows == 1)
// is a matrix-vector product that streams the weight once; prefill converts
// tiles of weight rows to f32 once and reuses them, from cache, for every
// row of X.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_CPU_MATMUL_H
#define STRATA_KERNELS_CPU_MATMUL_H

#include "kernels/ElementType.h"
#include "kernels/cpu/CpuContext.h"

#include "llvm/Support/Error.h"

namespace strata::kernels::cpu {

/// X and Y are f32, f16 or bf16; W is f32, f16, bf16 or q8_0 (then In is a
/// multiple of 32). Accumulates in f32. Splits over output rows on
/// Ctx.Threads when Rows * In * Out reaches Ctx.ParallelMinMACs. Each
/// output is computed the same way however the rows are split, so threaded
/// and serial results are bit-identical.
llvm::Error matmul(ConstBuffer X, ConstBuffer W, MutableBuffer Y, int64_t Rows,
                   int64_t In, int64_t Out, const CpuContext &Ctx = {});

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_MATMUL_H
