//===- KVAppend.h - Write new keys or values into a cache -------*- C++ -*-===//

#ifndef STRATA_KERNELS_CPU_KVAPPEND_H
#define STRATA_KERNELS_CPU_KVAPPEND_H

#include "kernels/ElementType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace strata::kernels::cpu {

struct KVCacheShape {
  int64_t Batch = 0, Context = 0, Heads = 0, HeadDim = 0;
};

/// Cache[b, Pos[b * Tokens + t]] = New[b, t], converted to the cache's type.
/// Cache is [Batch, Context, Heads, HeadDim], New [Batch, Tokens, Heads,
/// HeadDim], both f32, f16 or bf16. A position outside [0, Context) is an
/// error, found before anything is written.
llvm::Error kvAppend(MutableBuffer Cache, const KVCacheShape &Shape,
                     ConstBuffer New, int64_t Tokens,
                     llvm::ArrayRef<int32_t> Pos);

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_KVAPPEND_H
