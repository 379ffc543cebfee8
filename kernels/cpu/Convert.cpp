//===- Convert.cpp - Rows to and from f32; the convert/copy kernel --------===//

#include "kernels/cpu/Convert.h"
#include "kernels/Half.h"
#include "kernels/KernelError.h"
#include "kernels/Q8_0.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace strata::kernels::cpu {

void readF32(ConstBuffer Src, int64_t Begin, int64_t N, float *Dst) {
  switch (Src.Type) {
  case ElementType::F32:
    std::memcpy(Dst, static_cast<const float *>(Src.Data) + Begin,
                N * sizeof(float));
    return;
  case ElementType::F16: {
    const uint16_t *P = static_cast<const uint16_t *>(Src.Data) + Begin;
    for (int64_t I = 0; I < N; ++I)
      Dst[I] = halfToFloat(P[I]);
    return;
  }
  case ElementType::BF16: {
    const uint16_t *P = static_cast<const uint16_t *>(Src.Data) + Begin;
    for (int64_t I = 0; I < N; ++I)
      Dst[I] = bfloat16ToFloat(P[I]);
    return;
  }
  case ElementType::Q8_0:
    assert(Begin % BlockQ8_0::Elements == 0 && "q8_0 reads whole blocks");
    dequantizeRowQ8_0(static_cast<const BlockQ8_0 *>(Src.Data) +
                          Begin / BlockQ8_0::Elements,
                      Dst, N);
    return;
  case ElementType::I32:
    break;
  }
  assert(false && "readF32 reads float or q8_0 buffers");
}

void writeF32(const float *Src, MutableBuffer Dst, int64_t Begin, int64_t N) {
  switch (Dst.Type) {
  case ElementType::F32:
    std::memcpy(static_cast<float *>(Dst.Data) + Begin, Src, N * sizeof(float));
    return;
  case ElementType::F16: {
    uint16_t *P = static_cast<uint16_t *>(Dst.Data) + Begin;
    for (int64_t I = 0; I < N; ++I)
      P[I] = floatToHalf(Src[I]);
    return;
  }
  case ElementType::BF16: {
    uint16_t *P = static_cast<uint16_t *>(Dst.Data) + Begin;
    for (int64_t I = 0; I < N; ++I)
      P[I] = floatToBFloat16(Src[I]);
    return;
  }
  case ElementType::Q8_0:
    assert(Begin % BlockQ8_0::Elements == 0 && "q8_0 writes whole blocks");
    quantizeRowQ8_0(
        Src, static_cast<BlockQ8_0 *>(Dst.Data) + Begin / BlockQ8_0::Elements,
        N);
    return;
  case ElementType::I32:
    break;
  }
  assert(false && "writeF32 writes float or q8_0 buffers");
}

static bool isConvertible(ElementType T) {
  return isFloat(T) || T == ElementType::Q8_0;
}

llvm::Error convert(ConstBuffer Src, MutableBuffer Dst, int64_t N) {
  if (N < 0)
    return kernelError("convert: negative element count %lld", (long long)N);
  if (N == 0)
    return llvm::Error::success();
  if (!Src.Data || !Dst.Data)
    return kernelError("convert: null buffer for %lld elements", (long long)N);
  if (Src.Type == Dst.Type) {
    if (N % getBlockElements(Src.Type) != 0)
      return kernelError("convert: %lld elements are not whole %s blocks",
                         (long long)N, getName(Src.Type));
    if (Src.Data != Dst.Data)
      std::memmove(Dst.Data, Src.Data, getByteSize(Src.Type, N));
    return llvm::Error::success();
  }
  if (!isConvertible(Src.Type) || !isConvertible(Dst.Type))
    return kernelError("convert: no conversion from %s to %s",
                       getName(Src.Type), getName(Dst.Type));
  if ((Src.Type == ElementType::Q8_0 || Dst.Type == ElementType::Q8_0) &&
      N % BlockQ8_0::Elements != 0)
    return kernelError("convert: %lld elements are not whole q8_0 blocks",
                       (long long)N);
  if (Src.Type == ElementType::F32) {
    writeF32(static_cast<const float *>(Src.Data), Dst, 0, N);
    return llvm::Error::success();
  }
  if (Dst.Type == ElementType::F32) {
    readF32(Src, 0, N, static_cast<float *>(Dst.Data));
    return llvm::Error::success();
  }
  // Between two non-f32 types: through f32, a chunk at a time (a multiple
  // of the q8_0 block, so chunks stay whole blocks).
  constexpr int64_t Chunk = 1024;
  float Buf[Chunk];
  for (int64_t I = 0; I < N; I += Chunk) {
    int64_t Len = std::min(Chunk, N - I);
    readF32(Src, I, Len, Buf);
    writeF32(Buf, Dst, I, Len);
  }
  return llvm::Error::success();
}

} // namespace strata::kernels::cpu
