//===- Attention.h - Causal grouped-query attention -------------*- C++ -*-===//
//
// Query (b, t) attends cache positions 0..Pos[b, t] inclusive of its batch
// row, with softmax(q . k * Scale) weights over the values. Query head h
// reads KV head h / (Heads / KVHeads) (grouped-query attention; multi-head
// when they are equal). The softmax runs online over blocks of positions
// (running max and sum, rescaled as the max grows), so scratch memory does
// not grow with the context; everything accumulates in f32.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_CPU_ATTENTION_H
#define STRATA_KERNELS_CPU_ATTENTION_H

#include "kernels/ElementType.h"
#include "kernels/cpu/CpuContext.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <optional>

namespace strata::kernels::cpu {

struct AttentionShape {
  int64_t Batch = 0;
  int64_t Tokens = 0; ///< Queries per batch row.
  int64_t Heads = 0, KVHeads = 0;
  int64_t KeyDim = 0;
  int64_t ValueDim = 0; ///< 0: KeyDim.
  int64_t Context = 0;  ///< Cache positions.
};

/// Q is [Batch, Tokens, Heads, KeyDim]; K [Batch, Context, KVHeads, KeyDim];
/// V [Batch, Context, KVHeads, ValueDim]; Out [Batch, Tokens, Heads,
/// ValueDim]; all f32, f16 or bf16. Pos has Batch * Tokens entries, each in
/// [0, Context) (an error otherwise). Scale defaults to 1 / sqrt(KeyDim).
/// Splits (batch, KV head, token) groups over Ctx.Threads when the
/// multiply-adds reach Ctx.ParallelMinMACs; every output is computed the
/// same way either way.
llvm::Error attention(ConstBuffer Q, ConstBuffer K, ConstBuffer V,
                      llvm::ArrayRef<int32_t> Pos, MutableBuffer Out,
                      const AttentionShape &Shape,
                      std::optional<float> Scale = std::nullopt,
                      const CpuContext &Ctx = {});

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_ATTENTION_H
