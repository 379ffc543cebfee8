//===- Simd.h - Portable 8-lane vectors for the hot loops -------*- C++ -*-===//
//
// Internal to kernels/cpu. GCC/Clang vector extensions: 8 floats that the
// x86-64 baseline runs as two SSE registers and AVX2 as one. The portable
// f16, bf16 and int8 loads widen with integer operations only, so they
// vectorise on every target and give the same bits as Half.h's scalar
// conversions; masks come from shifts, since GCC turns 8-lane compares into
// scalar code on SSE2.
//
// The hot loops (MatMulLoops.inc, AttentionLoops.inc) are compiled twice:
// for the baseline, and under `#pragma GCC target("avx2,fma,f16c")`, chosen
// at run time by hasHostISA(). The helpers here are always_inline, so they
// take on either target; the *Host ones use AVX2/F16C instructions and may
// only be called from the second copy.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_CPU_SIMD_H
#define STRATA_KERNELS_CPU_SIMD_H

#include <cstdint>
#include <cstring>

#define STRATA_ALWAYS_INLINE inline __attribute__((always_inline))

#if defined(__x86_64__) && defined(__GNUC__)
#define STRATA_HAVE_HOST_ISA 1
#define STRATA_HOST_ISA __attribute__((target("avx2,fma,f16c")))
#include <immintrin.h>
#else
#define STRATA_HAVE_HOST_ISA 0
#endif

namespace strata::kernels::cpu::simd {

constexpr int Lanes = 8;
typedef float VF __attribute__((vector_size(32)));
typedef int32_t VI __attribute__((vector_size(32)));
typedef uint32_t VU __attribute__((vector_size(32)));
typedef uint16_t VH __attribute__((vector_size(16)));

/// Whether this processor runs STRATA_HOST_ISA code.
inline bool hasHostISA() {
#if STRATA_HAVE_HOST_ISA
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
#else
  return false;
#endif
}

STRATA_ALWAYS_INLINE VF loadF32(const float *P) {
  VF V;
  std::memcpy(&V, P, sizeof V);
  return V;
}

STRATA_ALWAYS_INLINE void storeF32(float *P, VF V) {
  std::memcpy(P, &V, sizeof V);
}

STRATA_ALWAYS_INLINE VF loadBF16(const uint16_t *P) {
  VH H;
  std::memcpy(&H, P, sizeof H);
  return reinterpret_cast<VF>(__builtin_convertvector(H, VU) << 16);
}

/// The vector form of halfToFloat (Half.h), select for select: f16 bit
/// patterns in the low 16 bits of each lane to f32.
STRATA_ALWAYS_INLINE VF halfBitsToFloat(VU U) {
  VU Sign = (U & 0x8000u) << 16;
  // Masks from shifts rather than compares and `?:`: on the SSE2 baseline
  // GCC turns 8-lane compares into scalar code.
  VI Mag = reinterpret_cast<VI>(U & 0x7fffu);
  VI InfNaN = -((Mag + 0x400) >> 15); // All ones where the exponent is 31.
  VI Subnormal = (Mag - 0x400) >> 31; // All ones where the exponent is 0.
  VI Norm = (Mag << 13) + (112 << 23) + (InfNaN & (112 << 23));
  VI Sub = reinterpret_cast<VI>(__builtin_convertvector(Mag, VF) * 0x1p-24f);
  VI Bits = (Subnormal & Sub) | (~Subnormal & Norm);
  return reinterpret_cast<VF>(reinterpret_cast<VU>(Bits) | Sign);
}

STRATA_ALWAYS_INLINE VF loadF16(const uint16_t *P) {
  VH H;
  std::memcpy(&H, P, sizeof H);
  return halfBitsToFloat(__builtin_convertvector(H, VU));
}

STRATA_ALWAYS_INLINE VU loadU32(const void *P) {
  VU V;
  std::memcpy(&V, P, sizeof V);
  return V;
}

// Widening 16 consecutive 16-bit values takes lane shuffles, which x86 runs
// on fewer ports than plain arithmetic and which then bound a matrix-vector
// product. Loaded as 8 32-bit lanes instead, lane J holds elements 2J (low
// half) and 2J + 1 (high half), and shifts and masks split them; the
// caller's x is permuted once to match (even elements, then odd).
STRATA_ALWAYS_INLINE void loadBF16Pairs(const uint16_t *P, VF &Even, VF &Odd) {
  VU U = loadU32(P);
  Even = reinterpret_cast<VF>(U << 16);
  Odd = reinterpret_cast<VF>(U & 0xffff0000u);
}

STRATA_ALWAYS_INLINE void loadF16Pairs(const uint16_t *P, VF &Even, VF &Odd) {
  VU U = loadU32(P);
  Even = halfBitsToFloat(U & 0xffffu);
  Odd = halfBitsToFloat(U >> 16);
}

/// The same for 32 int8: byte K of lane J is element 4J + K. Shifting it to
/// the top and arithmetically back sign-extends it.
template <int K> STRATA_ALWAYS_INLINE VF byteOfLanes(VI V) {
  return __builtin_convertvector((V << (24 - 8 * K)) >> 24, VF);
}

#if STRATA_HAVE_HOST_ISA
/// F16C's conversion; only for code compiled with STRATA_HOST_ISA.
__attribute__((target("avx2,fma,f16c"))) STRATA_ALWAYS_INLINE VF
loadF16Host(const uint16_t *P) {
  return reinterpret_cast<VF>(
      _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(P))));
}

/// Eight int8 widened by AVX2's sign extension, in their own order.
__attribute__((target("avx2,fma,f16c"))) STRATA_ALWAYS_INLINE VF
loadI8Host(const int8_t *P) {
  return reinterpret_cast<VF>(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(
      _mm_loadl_epi64(reinterpret_cast<const __m128i *>(P)))));
}

#endif

/// The first N < Lanes elements of P, zeros after: the tail of a row goes
/// through the same vector code as the rest of it.
template <class T>
STRATA_ALWAYS_INLINE void copyPartial(T *Dst, const T *P, int64_t N) {
  for (int I = 0; I < Lanes; ++I)
    Dst[I] = I < N ? P[I] : T(0);
}

/// Sums the lanes in a fixed order, so every path that accumulated the same
/// lanes returns the same float.
STRATA_ALWAYS_INLINE float reduceAdd(VF V) {
  return ((V[0] + V[4]) + (V[2] + V[6])) + ((V[1] + V[5]) + (V[3] + V[7]));
}

/// reduceAdd of four vectors at once, into Out[0..4), with the same tree
/// (lanes i and i + 4, then i and i + 2, then neighbours), so each sum has
/// the same bits as reduceAdd's: the transposes only move partial sums.
STRATA_ALWAYS_INLINE void reduceAdd4(VF A0, VF A1, VF A2, VF A3, float *Out) {
  // [x0+x4, x1+x5, x2+x6, x3+x7] of two vectors per result.
  VF C0 = __builtin_shufflevector(A0, A1, 0, 1, 2, 3, 8, 9, 10, 11) +
          __builtin_shufflevector(A0, A1, 4, 5, 6, 7, 12, 13, 14, 15);
  VF C1 = __builtin_shufflevector(A2, A3, 0, 1, 2, 3, 8, 9, 10, 11) +
          __builtin_shufflevector(A2, A3, 4, 5, 6, 7, 12, 13, 14, 15);
  // Lanes: A0's two halves of its sum, A2's, then A1's, A3's.
  VF D = __builtin_shufflevector(C0, C1, 0, 1, 8, 9, 4, 5, 12, 13) +
         __builtin_shufflevector(C0, C1, 2, 3, 10, 11, 6, 7, 14, 15);
  VF E = __builtin_shufflevector(D, D, 0, 2, 4, 6, 0, 2, 4, 6) +
         __builtin_shufflevector(D, D, 1, 3, 5, 7, 1, 3, 5, 7);
  Out[0] = E[0];
  Out[1] = E[2];
  Out[2] = E[1];
  Out[3] = E[3];
}

/// exp(X) for X <= 0 (softmax weights), within about 2 ulp: X = N ln2 + R
/// with |R| <= ln2 / 2 (ln2 split in two so N ln2 is exact), e^R by its
/// Taylor series to degree 7 (the remainder is below 2^-27), times 2^N
/// built in the exponent bits. Lanes below -87, where e^X is under f32's
/// smallest normal, give 0; so does -inf.
STRATA_ALWAYS_INLINE VF expNonPositive(VF X) {
  // The sign of X + 87 as a mask (an 8-lane compare would be scalar code on
  // the SSE2 baseline).
  VI Underflow = reinterpret_cast<VI>(X + 87.0f) >> 31;
  // Adding 1.5 * 2^23 rounds X log2(e) to an integer in the low bits.
  const float Magic = 0x1.8p23f;
  VF T = X * 1.44269504088896341f + Magic;
  VF N = T - Magic;
  VI Exponent =
      (reinterpret_cast<VI>(T) - reinterpret_cast<VI>(VF{} + Magic) + 127)
      << 23;
  VF R = X - N * 0.693145751953125f;  // ln2's top 16 bits: N * it is exact.
  R = R - N * 1.4286068202862268e-6f; // The rest of ln2.
  VF P = VF{} + 1.0f / 5040;
  P = P * R + 1.0f / 720;
  P = P * R + 1.0f / 120;
  P = P * R + 1.0f / 24;
  P = P * R + 1.0f / 6;
  P = P * R + 0.5f;
  P = P * R + 1.0f;
  P = P * R + 1.0f;
  VF Result = P * reinterpret_cast<VF>(Exponent);
  return reinterpret_cast<VF>(reinterpret_cast<VI>(Result) & ~Underflow);
}

} // namespace strata::kernels::cpu::simd

#endif // STRATA_KERNELS_CPU_SIMD_H
