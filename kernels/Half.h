//===- Half.h - f16 and bf16 to and from f32 --------------------*- C++ -*-===//
//
// Scalar conversions, exact in the widening direction and rounding to
// nearest, ties to even, in the narrowing one. They use integer operations
// only, so they do not depend on the floating-point environment (rounding
// mode, flush-to-zero) and give the same bits on every machine.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_HALF_H
#define STRATA_KERNELS_HALF_H

#include <bit>
#include <cstdint>

namespace strata::kernels {

/// binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
constexpr float halfToFloat(uint16_t H) {
  uint32_t Sign = uint32_t(H & 0x8000) << 16;
  uint32_t Mag = H & 0x7fff;
  uint32_t Bits;
  if (Mag < 0x0400) {
    // Zero or subnormal: Mag * 2^-24, exact as a float (Mag < 2^10).
    return std::bit_cast<float>(Sign |
                                std::bit_cast<uint32_t>(float(Mag) * 0x1p-24f));
  }
  // Moving the fields to an f32's places and adding the bias difference
  // (127 - 15) to the exponent converts a normal number; inf and NaN (exponent
  // 31) need a second addition to reach exponent 255, keeping NaN payloads.
  Bits = (Mag << 13) + (112u << 23);
  if (Mag >= 0x7c00)
    Bits += 112u << 23;
  return std::bit_cast<float>(Sign | Bits);
}

constexpr uint16_t floatToHalf(float F) {
  uint32_t X = std::bit_cast<uint32_t>(F);
  uint16_t Sign = uint16_t((X >> 16) & 0x8000);
  uint32_t A = X & 0x7fffffff;
  if (A >= 0x7f800000) {
    // Inf stays inf; NaN keeps its top payload bits and is made quiet so
    // that truncating the payload cannot turn it into inf.
    if (A == 0x7f800000)
      return Sign | 0x7c00;
    return Sign | 0x7e00 | uint16_t((A >> 13) & 0x3ff);
  }
  // 65520 = 65504 + half an ulp rounds (to even) up to inf.
  if (A >= 0x477ff000)
    return Sign | 0x7c00;
  if (A >= 0x38800000) {
    // Normal in f16 (>= 2^-14). Adding 0xfff plus the lowest kept bit rounds
    // to nearest even; a mantissa carry correctly bumps the exponent.
    uint32_t Rounded = A + 0xfff + ((A >> 13) & 1);
    return Sign | uint16_t((Rounded - (112u << 23)) >> 13);
  }
  // Below 2^-25 everything rounds to zero (2^-25 itself ties to even 0).
  if (A < 0x33000000)
    return Sign;
  // Subnormal in f16: the value is M * 2^(E - 150) and the f16 subnormal
  // unit is 2^-24, so the result is M >> (126 - E), rounded to nearest even.
  // A result of 0x400 is the smallest normal, which is the right encoding.
  uint32_t E = A >> 23;
  uint32_t M = (A & 0x7fffff) | 0x800000;
  uint32_t Shift = 126 - E; // 14..24
  uint32_t Q = M >> Shift;
  uint32_t Rem = M & ((1u << Shift) - 1);
  uint32_t HalfUlp = 1u << (Shift - 1);
  if (Rem > HalfUlp || (Rem == HalfUlp && (Q & 1)))
    ++Q;
  return Sign | uint16_t(Q);
}

constexpr float bfloat16ToFloat(uint16_t B) {
  return std::bit_cast<float>(uint32_t(B) << 16);
}

constexpr uint16_t floatToBFloat16(float F) {
  uint32_t X = std::bit_cast<uint32_t>(F);
  if ((X & 0x7fffffff) > 0x7f800000)
    return uint16_t((X >> 16) | 0x40); // NaN: quiet, never rounded to inf.
  // Round to nearest even; overflow past the largest finite bf16 gives inf,
  // as it should.
  return uint16_t((X + 0x7fff + ((X >> 16) & 1)) >> 16);
}

} // namespace strata::kernels

#endif // STRATA_KERNELS_HALF_H
