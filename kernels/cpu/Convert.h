//===- Convert.h - Rows to and from f32, convert/copy -----------*- C++ -*-===//
//
// Every kernel computes in f32: it reads a row of its input in the input's
// element type into f32, computes, and writes the row back in the output's
// type. These are the conversions it uses, and the `convert`/`copy` op.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_CPU_CONVERT_H
#define STRATA_KERNELS_CPU_CONVERT_H

#include "kernels/ElementType.h"

#include "llvm/Support/Error.h"

namespace strata::kernels::cpu {

/// Reads elements [Begin, Begin + N) of Src (f32, f16, bf16 or q8_0) as f32.
/// For q8_0, Begin and N are multiples of 32.
void readF32(ConstBuffer Src, int64_t Begin, int64_t N, float *Dst);

/// Writes N floats to elements [Begin, Begin + N) of Dst (f32, f16, bf16 or
/// q8_0), rounding to nearest even. For q8_0, Begin and N are multiples of
/// 32.
void writeF32(const float *Src, MutableBuffer Dst, int64_t Begin, int64_t N);

/// Elements [Begin, Begin + N) of Src as f32: a pointer into Src itself when
/// it is f32, else Scratch (N floats) filled by readF32.
inline const float *rowAsF32(ConstBuffer Src, int64_t Begin, int64_t N,
                             float *Scratch) {
  if (Src.Type == ElementType::F32)
    return static_cast<const float *>(Src.Data) + Begin;
  readF32(Src, Begin, N, Scratch);
  return Scratch;
}

/// Copies N elements from Src to Dst, converting between f32, f16, bf16 and
/// q8_0 (quantizing when Dst is q8_0), or copying i32 to i32. Src and Dst
/// must not overlap unless they are the same buffer of the same type.
llvm::Error convert(ConstBuffer Src, MutableBuffer Dst, int64_t N);

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_CONVERT_H
