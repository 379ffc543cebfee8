//===- Q8_0.cpp - ggml's q8_0 blocks --------------------------------------===//

#include "kernels/Q8_0.h"
#include "kernels/Half.h"

#include <cassert>
#include <cmath>

namespace strata::kernels {

void quantizeRowQ8_0(const float *Src, BlockQ8_0 *Dst, int64_t N) {
  assert(N % BlockQ8_0::Elements == 0 && "q8_0 rows are whole blocks");
  for (int64_t B = 0; B < N / BlockQ8_0::Elements; ++B) {
    const float *X = Src + B * BlockQ8_0::Elements;
    float AMax = 0;
    for (int64_t I = 0; I < BlockQ8_0::Elements; ++I)
      AMax = std::fmax(AMax, std::fabs(X[I]));
    float D = AMax / 127;
    float Inv = D != 0 ? 1 / D : 0;
    Dst[B].D = floatToHalf(D);
    for (int64_t I = 0; I < BlockQ8_0::Elements; ++I) {
      float Q = std::nearbyint(X[I] * Inv);
      // |q| <= 127 by construction; the checks keep a NaN or inf input
      // from becoming an out-of-range (undefined) conversion.
      if (!(Q == Q))
        Q = 0;
      Q = std::fmin(std::fmax(Q, -127.0f), 127.0f);
      Dst[B].Qs[I] = static_cast<int8_t>(Q);
    }
  }
}

void dequantizeRowQ8_0(const BlockQ8_0 *Src, float *Dst, int64_t N) {
  assert(N % BlockQ8_0::Elements == 0 && "q8_0 rows are whole blocks");
  for (int64_t B = 0; B < N / BlockQ8_0::Elements; ++B) {
    float D = halfToFloat(Src[B].D);
    for (int64_t I = 0; I < BlockQ8_0::Elements; ++I)
      Dst[B * BlockQ8_0::Elements + I] = D * Src[B].Qs[I];
  }
}

} // namespace strata::kernels
