//===- KernelTestUtil.h - Tensors and references ----------------*- C++ -*-===//
//
// Test tensors are built from floats through the library's conversions, but
// read back through decoders written here from the formats' definitions, so
// that a reference computed from decode() does not share code with the
// kernel under test.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_TESTS_KERNELS_KERNELTESTUTIL_H
#define STRATA_TESTS_KERNELS_KERNELTESTUTIL_H

#include "kernels/ElementType.h"
#include "kernels/cpu/Convert.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

namespace strata::kernels::test {

/// binary16 from its definition: (-1)^s 2^(e-15) (1 + m/1024), subnormals
/// m 2^-24, exponent 31 inf or NaN.
inline double decodeHalf(uint16_t H) {
  int S = H >> 15, E = (H >> 10) & 31, M = H & 1023;
  double V;
  if (E == 0)
    V = std::ldexp(double(M), -24);
  else if (E == 31)
    V = M ? std::nan("") : INFINITY;
  else
    V = std::ldexp(1.0 + M / 1024.0, E - 15);
  return S ? -V : V;
}

inline double decodeBFloat16(uint16_t B) {
  uint32_t Bits = uint32_t(B) << 16;
  float F;
  std::memcpy(&F, &Bits, 4);
  return F;
}

/// A tensor's bytes in one element type.
struct TestTensor {
  ElementType Type = ElementType::F32;
  int64_t N = 0;
  std::vector<uint8_t> Bytes;

  TestTensor() = default;
  TestTensor(ElementType T, int64_t N)
      : Type(T), N(N), Bytes(getByteSize(T, N)) {}

  /// Values converted (rounded, or quantized) to T.
  static TestTensor fromFloats(ElementType T, const std::vector<float> &V) {
    TestTensor R(T, int64_t(V.size()));
    llvm::cantFail(cpu::convert({V.data(), ElementType::F32}, R.mut(), R.N));
    return R;
  }

  ConstBuffer buf() const { return {Bytes.data(), Type}; }
  MutableBuffer mut() { return {Bytes.data(), Type}; }

  /// The exact values stored.
  std::vector<double> decode() const {
    std::vector<double> V(N);
    for (int64_t I = 0; I < N; ++I) {
      switch (Type) {
      case ElementType::F32: {
        float F;
        std::memcpy(&F, Bytes.data() + 4 * I, 4);
        V[I] = F;
        break;
      }
      case ElementType::F16:
      case ElementType::BF16: {
        uint16_t H;
        std::memcpy(&H, Bytes.data() + 2 * I, 2);
        V[I] = Type == ElementType::F16 ? decodeHalf(H) : decodeBFloat16(H);
        break;
      }
      case ElementType::Q8_0: {
        const uint8_t *Blk = Bytes.data() + 34 * (I / 32);
        uint16_t D;
        std::memcpy(&D, Blk, 2);
        V[I] = decodeHalf(D) * double(int8_t(Blk[2 + I % 32]));
        break;
      }
      case ElementType::I32: {
        int32_t X;
        std::memcpy(&X, Bytes.data() + 4 * I, 4);
        V[I] = X;
        break;
      }
      }
    }
    return V;
  }
};

inline std::vector<float> randomFloats(size_t N, uint32_t Seed, float Lo = -1,
                                       float Hi = 1) {
  std::mt19937 G(Seed);
  std::uniform_real_distribution<float> U(Lo, Hi);
  std::vector<float> V(N);
  for (float &X : V)
    X = U(G);
  return V;
}

/// Rounding error of one f32 sum of N terms whose magnitudes add to Mag:
/// N * 2^-24 * Mag is a proven bound for any order; kernels sum in lanes,
/// which does better.
inline double sumTolerance(int64_t N, double Mag) {
  return (double(N) + 8) * 0x1p-24 * Mag + 1e-30;
}

/// Half an ulp of the output type at V, relative: the error of storing V.
inline double storeTolerance(ElementType T, double V) {
  switch (T) {
  case ElementType::F16:
    return std::fabs(V) * 0x1p-11 + 0x1p-25;
  case ElementType::BF16:
    return std::fabs(V) * 0x1p-8;
  default:
    return std::fabs(V) * 0x1p-24;
  }
}

inline const ElementType FloatTypes[] = {ElementType::F32, ElementType::F16,
                                         ElementType::BF16};
inline const ElementType WeightTypes[] = {ElementType::F32, ElementType::F16,
                                          ElementType::BF16, ElementType::Q8_0};

/// Expects E to be an error whose message contains Needle.
inline void expectError(llvm::Error E, const std::string &Needle) {
  ASSERT_TRUE(bool(E)) << "expected an error containing '" << Needle << "'";
  std::string Msg = llvm::toString(std::move(E));
  EXPECT_NE(Msg.find(Needle), std::string::npos) << Msg;
}

} // namespace strata::kernels::test

#endif // STRATA_TESTS_KERNELS_KERNELTESTUTIL_H
