//===- ConversionTest.cpp - f16, bf16, q8_0 and the convert kernel --------===//

#include "KernelTestUtil.h"

#include "kernels/Half.h"
#include "kernels/Q8_0.h"
#include "kernels/cpu/Simd.h"

#include <bit>
#include <limits>

using namespace strata::kernels;
using namespace strata::kernels::test;

namespace {

uint32_t bitsOf(float F) { return std::bit_cast<uint32_t>(F); }

/// The nearest value of a format to X among Lo and Hi (consecutive values
/// around X), ties to the one whose encoding is even.
uint16_t nearestEven(double X, uint16_t Lo, double LoV, uint16_t Hi,
                     double HiV) {
  double DLo = X - LoV, DHi = HiV - X;
  if (DLo < DHi)
    return Lo;
  if (DHi < DLo)
    return Hi;
  return (Lo & 1) ? Hi : Lo;
}

} // namespace

TEST(Half, DecodesEveryPatternExactly) {
  for (uint32_t H = 0; H < 65536; ++H) {
    float F = halfToFloat(uint16_t(H));
    double Ref = decodeHalf(uint16_t(H));
    if (std::isnan(Ref)) {
      EXPECT_TRUE(std::isnan(F)) << H;
      EXPECT_EQ(std::signbit(F), bool(H & 0x8000)) << H;
      continue;
    }
    EXPECT_EQ(double(F), Ref) << H;
    EXPECT_EQ(std::signbit(F), bool(H & 0x8000)) << H;
    // Every value, subnormals and infinities included, converts back.
    EXPECT_EQ(floatToHalf(F), H) << H;
  }
}

TEST(Half, NaNsStayNaN) {
  for (uint16_t H : {0x7c01, 0x7e00, 0x7fff, 0xfc01, 0xfe00}) {
    uint16_t Back = floatToHalf(halfToFloat(H));
    EXPECT_TRUE(std::isnan(decodeHalf(Back))) << H;
    EXPECT_EQ(Back & 0x8000, H & 0x8000);
  }
  // A float NaN whose payload sits below f16's mantissa bits must not
  // become inf.
  EXPECT_TRUE(std::isnan(
      decodeHalf(floatToHalf(std::bit_cast<float>(uint32_t(0x7f800001))))));
}

TEST(Half, RoundsToNearestEven) {
  // Exact cases around the edges of the format.
  EXPECT_EQ(floatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(floatToHalf(65519.99f), 0x7bff);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00); // The tie goes to even: inf.
  EXPECT_EQ(floatToHalf(1e10f), 0x7c00);
  EXPECT_EQ(floatToHalf(-1e10f), 0xfc00);
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(floatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(floatToHalf(0x1p-24f), 0x0001);     // Smallest subnormal.
  EXPECT_EQ(floatToHalf(0x1p-25f), 0x0000);     // Tie with 0: even.
  EXPECT_EQ(floatToHalf(0x1.000002p-25f), 1);   // Just above the tie.
  EXPECT_EQ(floatToHalf(0x1.8p-24f), 0x0002);   // 1.5 units: tie to 2.
  EXPECT_EQ(floatToHalf(0x1.4p-23f), 0x0002);   // 2.5 units: tie to 2.
  EXPECT_EQ(floatToHalf(0x1.ff8p-15f), 0x03ff); // Largest subnormal.
  EXPECT_EQ(floatToHalf(0x1.ffcp-15f), 0x0400); // Tie: up to a normal.
  EXPECT_EQ(floatToHalf(1.0f + 0x1p-11f), 0x3c00);
  EXPECT_EQ(floatToHalf(1.0f + 3 * 0x1p-11f), 0x3c02);
  EXPECT_EQ(floatToHalf(std::numeric_limits<float>::denorm_min()), 0);

  // Random floats over f16's range against the nearest of the two f16
  // values around each.
  std::mt19937 G(7);
  std::uniform_int_distribution<uint32_t> Bits(0x30000000, 0x47800000);
  for (int I = 0; I < 200000; ++I) {
    uint32_t B = Bits(G) | (I & 1 ? 0x80000000u : 0);
    float F = std::bit_cast<float>(B);
    double X = std::fabs(double(F));
    uint16_t H = floatToHalf(F);
    // The f16 values just below and above |F|, found by bisection over the
    // positive encodings (which sort like their values). Past the largest
    // finite value, the next "value" is 2^16, where inf begins to win.
    uint16_t Lo = 0, Top = 0x7c00;
    while (Top - Lo > 1) {
      uint16_t Mid = uint16_t((Lo + Top) / 2);
      (decodeHalf(Mid) <= X ? Lo : Top) = Mid;
    }
    uint16_t Hi = uint16_t(Lo + 1);
    uint16_t Want = decodeHalf(Lo) == X
                        ? Lo
                        : nearestEven(X, Lo, decodeHalf(Lo), Hi,
                                      Hi == 0x7c00 ? 65536.0 : decodeHalf(Hi));
    EXPECT_EQ(H & 0x7fff, Want) << std::hexfloat << F;
    EXPECT_EQ(H >> 15, B >> 31);
    if (testing::Test::HasFailure())
      break;
  }
}

#ifdef __FLT16_MAX__
TEST(Half, AgreesWithTheCompilersConversion) {
  std::mt19937 G(11);
  for (int I = 0; I < 200000; ++I) {
    float F = std::bit_cast<float>(uint32_t(G()));
    if (std::isnan(F))
      continue;
    _Float16 H = static_cast<_Float16>(F);
    ASSERT_EQ(floatToHalf(F), std::bit_cast<uint16_t>(H)) << std::hexfloat << F;
  }
}
#endif

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(floatToBFloat16(1.0f), 0x3f80);
  EXPECT_EQ(floatToBFloat16(1.0f + 0x1p-8f), 0x3f80);    // Tie: even.
  EXPECT_EQ(floatToBFloat16(1.0f + 0x1.8p-7f), 0x3f82);  // Tie: even.
  EXPECT_EQ(floatToBFloat16(1.0f + 0x1.02p-8f), 0x3f81); // Above the tie.
  EXPECT_EQ(floatToBFloat16(-2.0f), 0xc000);
  EXPECT_EQ(floatToBFloat16(std::numeric_limits<float>::max()), 0x7f80);
  EXPECT_EQ(floatToBFloat16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(floatToBFloat16(-0.0f), 0x8000);
  // NaNs stay NaN, even those whose payload is only in the low bits.
  for (uint32_t N : {0x7fc00000u, 0x7f800001u, 0xff800001u}) {
    uint16_t B = floatToBFloat16(std::bit_cast<float>(N));
    EXPECT_TRUE(std::isnan(decodeBFloat16(B))) << std::hex << N;
    EXPECT_EQ(B >> 15, N >> 31);
  }
  // Random finite floats: the result is the nearer of truncation and the
  // next value up, ties to even.
  std::mt19937 G(3);
  for (int I = 0; I < 200000; ++I) {
    uint32_t B = G();
    float F = std::bit_cast<float>(B);
    if (!std::isfinite(F))
      continue;
    uint16_t Lo = uint16_t(B >> 16), Hi = uint16_t(Lo + 1);
    double X = std::fabs(double(F));
    double LoV = std::fabs(decodeBFloat16(Lo));
    double HiV = (Hi & 0x7fff) == 0x7f80
                     ? 0x1p128 // The rounding boundary past the largest.
                     : std::fabs(decodeBFloat16(Hi));
    uint16_t Want = LoV == X ? Lo : nearestEven(X, Lo, LoV, Hi, HiV);
    ASSERT_EQ(floatToBFloat16(F), Want) << std::hexfloat << F;
  }
  // Every bf16 value converts back to itself.
  for (uint32_t H = 0; H < 65536; ++H) {
    float F = bfloat16ToFloat(uint16_t(H));
    if (!std::isnan(F)) {
      ASSERT_EQ(floatToBFloat16(F), H);
    }
    ASSERT_EQ(bitsOf(F), H << 16);
  }
}

TEST(Q8_0, BlocksMatchGGUF) {
  static_assert(sizeof(BlockQ8_0) == 34);
  static_assert(getBlockElements(ElementType::Q8_0) == 32);
  static_assert(getByteSize(ElementType::Q8_0, 4096) == 128 * 34);
  // One block of -16..15: the largest magnitude maps to -127 and D is
  // 16 / 127 in f16; the layout is the scale's two bytes, then the bytes.
  std::vector<float> V(32);
  for (int I = 0; I < 32; ++I)
    V[I] = float(I - 16);
  BlockQ8_0 B;
  quantizeRowQ8_0(V.data(), &B, 32);
  EXPECT_EQ(B.D, floatToHalf(16.0f / 127));
  EXPECT_EQ(B.Qs[0], -127);
  EXPECT_EQ(B.Qs[16], 0);
  EXPECT_EQ(B.Qs[31], int8_t(std::nearbyint(15 * 127 / 16.0)));
  uint8_t Raw[34];
  std::memcpy(Raw, &B, 34);
  EXPECT_EQ(Raw[2], uint8_t(int8_t(-127)));
  uint16_t D;
  std::memcpy(&D, Raw, 2);
  EXPECT_EQ(D, B.D);
}

TEST(Q8_0, RoundTripWithinHalfAStep) {
  std::vector<float> V = randomFloats(32 * 50, 5, -3, 3);
  for (int I = 0; I < 32; ++I)
    V[32 + I] = 0; // An all-zero block.
  std::vector<BlockQ8_0> B(50);
  quantizeRowQ8_0(V.data(), B.data(), int64_t(V.size()));
  std::vector<float> Back(V.size());
  dequantizeRowQ8_0(B.data(), Back.data(), int64_t(V.size()));
  for (int Blk = 0; Blk < 50; ++Blk) {
    double AMax = 0;
    for (int I = 0; I < 32; ++I)
      AMax = std::max(AMax, std::fabs(double(V[Blk * 32 + I])));
    // Half a quantization step, plus what rounding D to f16 moves the
    // largest code (127 * D * 2^-11).
    double Tol = AMax / 127 * 0.5 + AMax * 0x1p-11 + 1e-12;
    for (int I = 0; I < 32; ++I) {
      int K = Blk * 32 + I;
      EXPECT_NEAR(Back[K], V[K], Tol) << K;
      // Dequantizing is exact: D * q.
      EXPECT_EQ(double(Back[K]), decodeHalf(B[Blk].D) * double(B[Blk].Qs[I]));
    }
  }
  EXPECT_EQ(B[1].D, 0);
}

TEST(Convert, BetweenEveryFloatType) {
  std::vector<float> V = randomFloats(64 * 3, 9, -100, 100);
  for (ElementType From : WeightTypes)
    for (ElementType To : WeightTypes) {
      TestTensor Src = TestTensor::fromFloats(From, V);
      std::vector<double> SrcV = Src.decode();
      TestTensor Dst(To, Src.N);
      ASSERT_FALSE(bool(cpu::convert(Src.buf(), Dst.mut(), Src.N)));
      std::vector<double> DstV = Dst.decode();
      for (int64_t I = 0; I < Src.N; ++I) {
        double Tol = To == ElementType::Q8_0 ? 100.0 / 127 * 0.51 + 0.1
                                             : storeTolerance(To, SrcV[I]);
        ASSERT_NEAR(DstV[I], SrcV[I], Tol)
            << getName(From) << " -> " << getName(To) << " at " << I;
      }
    }
}

TEST(Convert, ReportsWhatItCannotDo) {
  std::vector<uint8_t> A(34 * 2), B(34 * 2);
  expectError(cpu::convert({A.data(), ElementType::F32},
                           {B.data(), ElementType::Q8_0}, 33),
              "not whole q8_0 blocks");
  expectError(cpu::convert({A.data(), ElementType::I32},
                           {B.data(), ElementType::F32}, 4),
              "no conversion from i32 to f32");
  expectError(cpu::convert({A.data(), ElementType::F32},
                           {B.data(), ElementType::F32}, -1),
              "negative");
  // i32 to i32 is a copy.
  int32_t X[3] = {1, -2, 3}, Y[3] = {};
  ASSERT_FALSE(
      bool(cpu::convert({X, ElementType::I32}, {Y, ElementType::I32}, 3)));
  EXPECT_EQ(Y[1], -2);
}

// The vector loads of the matmul and attention loops, lane by lane, against
// the scalar decoders, for every f16 and bf16 pattern and every int8.
TEST(Simd, VectorLoadsMatchScalarDecoding) {
  using namespace strata::kernels::cpu::simd;
  std::vector<uint16_t> All(65536);
  for (uint32_t I = 0; I < 65536; ++I)
    All[I] = uint16_t(I);
  auto Same = [](float Got, double Want) {
    return std::isnan(Want) ? std::isnan(Got) : double(Got) == Want;
  };
  for (uint32_t I = 0; I < 65536; I += 16) {
    VF A = loadF16(&All[I]);
    VF E, O;
    loadF16Pairs(&All[I], E, O);
    VF BE, BO;
    loadBF16Pairs(&All[I], BE, BO);
    for (int L = 0; L < 8; ++L) {
      ASSERT_TRUE(Same(A[L], decodeHalf(All[I + L]))) << I + L;
      ASSERT_TRUE(Same(E[L], decodeHalf(All[I + 2 * L]))) << I + 2 * L;
      ASSERT_TRUE(Same(O[L], decodeHalf(All[I + 2 * L + 1])));
      ASSERT_TRUE(Same(BE[L], decodeBFloat16(All[I + 2 * L])));
      ASSERT_TRUE(Same(BO[L], decodeBFloat16(All[I + 2 * L + 1])));
    }
  }
  int8_t Bytes[32];
  for (int Base = -128; Base < 128; Base += 32) {
    for (int J = 0; J < 32; ++J)
      Bytes[J] = int8_t(Base + J);
    VI Q;
    std::memcpy(&Q, Bytes, 32);
    VF B0 = byteOfLanes<0>(Q), B1 = byteOfLanes<1>(Q), B2 = byteOfLanes<2>(Q),
       B3 = byteOfLanes<3>(Q);
    for (int L = 0; L < 8; ++L) {
      EXPECT_EQ(B0[L], Bytes[4 * L]);
      EXPECT_EQ(B1[L], Bytes[4 * L + 1]);
      EXPECT_EQ(B2[L], Bytes[4 * L + 2]);
      EXPECT_EQ(B3[L], Bytes[4 * L + 3]);
    }
  }
}

TEST(Simd, ExpOfNonPositiveWithinTwoUlp) {
  using namespace strata::kernels::cpu::simd;
  std::mt19937 G(5);
  std::uniform_real_distribution<float> U(-87, 0);
  for (int I = 0; I < 20000; ++I) {
    VF X;
    for (int L = 0; L < 8; ++L)
      X[L] = I == 0 && L == 0 ? 0.0f : U(G);
    VF E = expNonPositive(X);
    for (int L = 0; L < 8; ++L) {
      double Want = std::exp(double(X[L]));
      // Two ulps of the result (ulp = 2^-23 relative at worst).
      ASSERT_NEAR(E[L], Want, Want * 0x1p-22) << X[L];
    }
  }
  VF Tiny = {-87.5f, -100.0f, -1e30f, -INFINITY,
             -88.0f, -200.0f, -90.0f, -87.2f};
  VF E = expNonPositive(Tiny);
  for (int L = 0; L < 8; ++L)
    EXPECT_EQ(E[L], 0.0f) << Tiny[L];
}

TEST(Simd, ReduceAddFourMatchesOneByOne) {
  using namespace strata::kernels::cpu::simd;
  std::vector<float> R = randomFloats(32, 9, -1e3f, 1e3f);
  VF A[4];
  std::memcpy(A, R.data(), sizeof A);
  float Out[4];
  reduceAdd4(A[0], A[1], A[2], A[3], Out);
  for (int I = 0; I < 4; ++I)
    EXPECT_EQ(Out[I], reduceAdd(A[I])) << I; // Bit for bit: the same tree.
}

#if STRATA_HAVE_HOST_ISA
STRATA_HOST_ISA static void loadF16Host8(const uint16_t *P, float *Out) {
  strata::kernels::cpu::simd::storeF32(
      Out, strata::kernels::cpu::simd::loadF16Host(P));
}

TEST(Simd, F16CLoadMatchesScalarDecoding) {
  if (!strata::kernels::cpu::simd::hasHostISA())
    GTEST_SKIP() << "no AVX2/FMA/F16C on this processor";
  for (uint32_t I = 0; I < 65536; I += 8) {
    uint16_t H[8];
    float F[8];
    for (int L = 0; L < 8; ++L)
      H[L] = uint16_t(I + L);
    loadF16Host8(H, F);
    for (int L = 0; L < 8; ++L) {
      double Want = decodeHalf(H[L]);
      ASSERT_TRUE(std::isnan(Want) ? std::isnan(F[L]) : F[L] == Want) << I + L;
    }
  }
}
#endif
