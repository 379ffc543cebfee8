//===- Elementwise.cpp - silu_mul, add and mul ----------------------------===//

#include "kernels/cpu/Elementwise.h"
#include "kernels/KernelError.h"
#include "kernels/cpu/Convert.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace strata::kernels::cpu {

/// Out[i] = Op(A[i], B[i % NumB]), in chunks of at most Chunk elements so
/// that non-f32 operands go through small f32 buffers, and f32 ones not at
/// all.
template <class OpT>
static llvm::Error binary(const char *Name, ConstBuffer A, int64_t NumA,
                          ConstBuffer B, int64_t NumB, MutableBuffer Out,
                          OpT Op) {
  if (NumA < 0 || NumB < 0)
    return kernelError("%s: negative element count", Name);
  if (!isFloat(A.Type) || !isFloat(B.Type) || !isFloat(Out.Type))
    return kernelError("%s: unsupported types %s, %s, out %s", Name,
                       getName(A.Type), getName(B.Type), getName(Out.Type));
  if (NumA == 0)
    return llvm::Error::success();
  if (NumB == 0 || NumA % NumB != 0)
    return kernelError("%s: %lld elements cannot be broadcast over %lld", Name,
                       (long long)NumB, (long long)NumA);
  if (!A.Data || !B.Data || !Out.Data)
    return kernelError("%s: null buffer", Name);

  constexpr int64_t Chunk = 1024;
  float ABuf[Chunk], BBuf[Chunk], OBuf[Chunk];
  for (int64_t Row = 0; Row < NumA; Row += NumB)
    for (int64_t J = 0; J < NumB; J += Chunk) {
      int64_t N = std::min(Chunk, NumB - J);
      const float *AP = rowAsF32(A, Row + J, N, ABuf);
      const float *BP = rowAsF32(B, J, N, BBuf);
      float *OP = Out.Type == ElementType::F32
                      ? static_cast<float *>(Out.Data) + Row + J
                      : OBuf;
      for (int64_t I = 0; I < N; ++I)
        OP[I] = Op(AP[I], BP[I]);
      if (OP == OBuf)
        writeF32(OBuf, Out, Row + J, N);
    }
  return llvm::Error::success();
}

llvm::Error siluMul(ConstBuffer Gate, ConstBuffer Up, MutableBuffer Out,
                    int64_t N) {
  // For very negative x, exp(-x) overflows to inf and x / inf gives -0: the
  // right limit, without a special case.
  return binary("silu_mul", Gate, N, Up, N, Out,
                [](float G, float U) { return G / (1.0f + std::exp(-G)) * U; });
}

llvm::Error add(ConstBuffer A, int64_t NumA, ConstBuffer B, int64_t NumB,
                MutableBuffer Out) {
  return binary("add", A, NumA, B, NumB, Out,
                [](float X, float Y) { return X + Y; });
}

llvm::Error mul(ConstBuffer A, int64_t NumA, ConstBuffer B, int64_t NumB,
                MutableBuffer Out) {
  return binary("mul", A, NumA, B, NumB, Out,
                [](float X, float Y) { return X * Y; });
}

} // namespace strata::kernels::cpu
