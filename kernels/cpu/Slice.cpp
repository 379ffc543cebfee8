//===- Slice.cpp - A range of one axis ------------------------------------===//

#include "kernels/cpu/Slice.h"
#include "kernels/KernelError.h"

#include <cstring>

namespace strata::kernels::cpu {

llvm::Error slice(ConstBuffer X, llvm::ArrayRef<int64_t> Dims, int64_t Axis,
                  int64_t Begin, int64_t End, MutableBuffer Out) {
  const int64_t Rank = int64_t(Dims.size());
  if (Axis < 0 || Axis >= Rank)
    return kernelError("slice: axis %lld of a rank-%lld tensor",
                       (long long)Axis, (long long)Rank);
  if (Begin < 0 || Begin > End || End > Dims[Axis])
    return kernelError("slice: [%lld, %lld) is not within dimension %lld of "
                       "size %lld",
                       (long long)Begin, (long long)End, (long long)Axis,
                       (long long)Dims[Axis]);
  if (X.Type != Out.Type)
    return kernelError("slice: x is %s but out is %s", getName(X.Type),
                       getName(Out.Type));
  // [Outer, Dims[Axis], Inner] elements; a slice copies Outer runs.
  int64_t Outer = 1, Inner = 1;
  for (int64_t I = 0; I < Axis; ++I)
    Outer *= Dims[I];
  for (int64_t I = Axis + 1; I < Rank; ++I)
    Inner *= Dims[I];
  const int64_t Block = getBlockElements(X.Type);
  if ((Begin * Inner) % Block != 0 || (End * Inner) % Block != 0 ||
      (Dims[Axis] * Inner) % Block != 0)
    return kernelError("slice: [%lld, %lld) of axis %lld cuts %s blocks",
                       (long long)Begin, (long long)End, (long long)Axis,
                       getName(X.Type));
  const int64_t RunBytes = getByteSize(X.Type, (End - Begin) * Inner);
  if (Outer == 0 || RunBytes == 0)
    return llvm::Error::success();
  if (!X.Data || !Out.Data)
    return kernelError("slice: null buffer");
  const int64_t SrcRow = getByteSize(X.Type, Dims[Axis] * Inner);
  const int64_t SrcSkip = getByteSize(X.Type, Begin * Inner);
  const char *Src = static_cast<const char *>(X.Data);
  char *Dst = static_cast<char *>(Out.Data);
  for (int64_t O = 0; O < Outer; ++O)
    std::memcpy(Dst + O * RunBytes, Src + O * SrcRow + SrcSkip, RunBytes);
  return llvm::Error::success();
}

} // namespace strata::kernels::cpu
