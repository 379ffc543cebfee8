//===- Q8_0.h - ggml's q8_0 blocks ------------------------------*- C++ -*-===//
//
// q8_0 stores a row as blocks of 32 values, each block an f16 scale D and 32
// signed bytes: value = D * q. The layout matches ggml's block_q8_0, so GGUF
// tensors are used in place.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_Q8_0_H
#define STRATA_KERNELS_Q8_0_H

#include <cstdint>

namespace strata::kernels {

struct BlockQ8_0 {
  static constexpr int64_t Elements = 32;
  uint16_t D; ///< f16 scale.
  int8_t Qs[Elements];
};
static_assert(sizeof(BlockQ8_0) == 34, "q8_0 blocks are 34 bytes in GGUF");

/// Quantizes N floats (a multiple of 32) into N / 32 blocks. Each block's
/// scale is its largest magnitude / 127, so that value maps to +-127; the
/// others round to nearest.
void quantizeRowQ8_0(const float *Src, BlockQ8_0 *Dst, int64_t N);

/// Expands N / 32 blocks into N floats. Exact: D * q fits an f32.
void dequantizeRowQ8_0(const BlockQ8_0 *Src, float *Dst, int64_t N);

} // namespace strata::kernels

#endif // STRATA_KERNELS_Q8_0_H
