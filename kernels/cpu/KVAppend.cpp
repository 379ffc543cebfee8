//===- KVAppend.cpp - Write new keys or values into a cache ---------------===//

#include "kernels/cpu/KVAppend.h"
#include "kernels/KernelError.h"
#include "kernels/cpu/Convert.h"

#include <cstring>
#include <vector>

namespace strata::kernels::cpu {

llvm::Error kvAppend(MutableBuffer Cache, const KVCacheShape &Shape,
                     ConstBuffer New, int64_t Tokens,
                     llvm::ArrayRef<int32_t> Pos) {
  const int64_t B = Shape.Batch, Ctx = Shape.Context;
  const int64_t Row = Shape.Heads * Shape.HeadDim;
  if (B < 0 || Ctx < 0 || Shape.Heads < 0 || Shape.HeadDim < 0 || Tokens < 0)
    return kernelError("kv_append: negative size");
  if (!isFloat(Cache.Type) || !isFloat(New.Type))
    return kernelError("kv_append: unsupported types cache %s, new %s",
                       getName(Cache.Type), getName(New.Type));
  if (int64_t(Pos.size()) != B * Tokens)
    return kernelError("kv_append: %zu positions for [%lld, %lld] tokens",
                       Pos.size(), (long long)B, (long long)Tokens);
  for (size_t I = 0; I < Pos.size(); ++I)
    if (Pos[I] < 0 || Pos[I] >= Ctx)
      return kernelError("kv_append: position %d at [%lld, %lld] is outside "
                         "the cache's [0, %lld)",
                         Pos[I], (long long)(I / Tokens),
                         (long long)(I % Tokens), (long long)Ctx);
  if (Pos.empty() || Row == 0)
    return llvm::Error::success();
  if (!Cache.Data || !New.Data)
    return kernelError("kv_append: null buffer");

  std::vector<float> Scratch(New.Type == Cache.Type ? 0 : Row);
  for (int64_t Bi = 0; Bi < B; ++Bi)
    for (int64_t T = 0; T < Tokens; ++T) {
      int64_t Src = (Bi * Tokens + T) * Row;
      int64_t Dst = (Bi * Ctx + Pos[Bi * Tokens + T]) * Row;
      if (New.Type == Cache.Type) {
        std::memcpy(
            static_cast<char *>(Cache.Data) + getByteSize(Cache.Type, Dst),
            static_cast<const char *>(New.Data) + getByteSize(New.Type, Src),
            getByteSize(New.Type, Row));
        continue;
      }
      readF32(New, Src, Row, Scratch.data());
      writeF32(Scratch.data(), Cache, Dst, Row);
    }
  return llvm::Error::success();
}

} // namespace strata::kernels::cpu
