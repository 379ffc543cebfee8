//===- RoPETest.cpp - rotary position embedding ---------------------------===//

#include "KernelTestUtil.h"

#include "kernels/cpu/RoPE.h"

#include <numbers>

using namespace strata::kernels;
using namespace strata::kernels::cpu;
using namespace strata::kernels::test;

namespace {

std::vector<float> runRoPE(const std::vector<float> &X, const RoPEShape &S,
                           const std::vector<int32_t> &Pos,
                           const RoPEParams &P) {
  std::vector<float> Out(X.size());
  llvm::cantFail(rope({X.data(), ElementType::F32},
                      {Out.data(), ElementType::F32}, S, Pos, P));
  return Out;
}

} // namespace

TEST(RoPE, HandComputedExample) {
  // One head of 4 at position 1, theta 10000: pair 0 turns 1 radian, pair
  // 1 turns 10000^-0.5 = 0.01. The expected values are (x cos - y sin,
  // x sin + y cos) worked out for each pairing.
  std::vector<float> X = {1, 2, 3, 4};
  RoPEParams P;
  P.Mode = RoPEMode::Normal; // Pairs (0, 1) and (2, 3).
  std::vector<float> N = runRoPE(X, {1, 1, 1, 4}, {1}, P);
  const double WantNormal[] = {-1.1426396637476532, 1.922075596544176,
                               2.9598506679133294, 4.029799501669161};
  P.Mode = RoPEMode::NeoX; // Pairs (0, 2) and (1, 3).
  std::vector<float> H = runRoPE(X, {1, 1, 1, 4}, {1}, P);
  const double WantNeoX[] = {-1.9841106485555495, 1.959900667496664,
                             2.4623779024123156, 4.019799668334994};
  for (int I = 0; I < 4; ++I) {
    EXPECT_NEAR(N[I], WantNormal[I], 1e-6) << I;
    EXPECT_NEAR(H[I], WantNeoX[I], 1e-6) << I;
  }
  // Position 0 is the identity.
  EXPECT_EQ(runRoPE(X, {1, 1, 1, 4}, {0}, P), X);
}

TEST(RoPE, BothLayoutsAgainstReference) {
  // Head dimension 10 (not a power of two), 3 heads, positions up to 5000.
  const int64_t B = 2, T = 3, H = 3, D = 10;
  std::vector<int32_t> Pos = {0, 7, 5000, 1, 2, 3};
  for (RoPEMode Mode : {RoPEMode::Normal, RoPEMode::NeoX})
    for (ElementType XT : FloatTypes) {
      TestTensor X = TestTensor::fromFloats(XT, randomFloats(B * T * H * D, 3));
      TestTensor Out(XT, X.N);
      RoPEParams P;
      P.Theta = 500000;
      P.Mode = Mode;
      ASSERT_FALSE(bool(rope(X.buf(), Out.mut(), {B, T, H, D}, Pos, P)));
      std::vector<double> XV = X.decode(), OV = Out.decode();
      for (int64_t Row = 0; Row < B * T; ++Row)
        for (int64_t Hd = 0; Hd < H; ++Hd)
          for (int64_t I = 0; I < D / 2; ++I) {
            int64_t A = Mode == RoPEMode::Normal ? 2 * I : I;
            int64_t Bx = Mode == RoPEMode::Normal ? 2 * I + 1 : I + D / 2;
            int64_t Base = (Row * H + Hd) * D;
            double Angle = Pos[Row] * std::pow(500000.0, -2.0 * I / D);
            double X0 = XV[Base + A], X1 = XV[Base + Bx];
            double W0 = X0 * std::cos(Angle) - X1 * std::sin(Angle);
            double W1 = X0 * std::sin(Angle) + X1 * std::cos(Angle);
            // cos and sin are rounded to f32, then two f32 products and a
            // sum: a few ulps of values below 2 in magnitude.
            double Tol = 1e-6;
            ASSERT_NEAR(OV[Base + A], W0, Tol + storeTolerance(XT, W0));
            ASSERT_NEAR(OV[Base + Bx], W1, Tol + storeTolerance(XT, W1));
          }
    }
}

TEST(RoPE, NeoXIsNormalOnPermutedElements) {
  // Interleaving the halves (x0, x_{D/2}, x1, x_{D/2+1}, ...) turns the
  // neox pairing into the normal one.
  const int64_t H = 5, D = 6;
  std::vector<float> X = randomFloats(H * D, 8);
  std::vector<float> Perm(X.size());
  for (int64_t Hd = 0; Hd < H; ++Hd)
    for (int64_t I = 0; I < D / 2; ++I) {
      Perm[Hd * D + 2 * I] = X[Hd * D + I];
      Perm[Hd * D + 2 * I + 1] = X[Hd * D + I + D / 2];
    }
  RoPEParams P;
  P.Mode = RoPEMode::NeoX;
  std::vector<float> A = runRoPE(X, {1, 1, H, D}, {123}, P);
  P.Mode = RoPEMode::Normal;
  std::vector<float> B = runRoPE(Perm, {1, 1, H, D}, {123}, P);
  for (int64_t Hd = 0; Hd < H; ++Hd)
    for (int64_t I = 0; I < D / 2; ++I) {
      EXPECT_EQ(A[Hd * D + I], B[Hd * D + 2 * I]);
      EXPECT_EQ(A[Hd * D + I + D / 2], B[Hd * D + 2 * I + 1]);
    }
}

TEST(RoPE, InPlace) {
  std::vector<float> X = randomFloats(2 * 8, 12);
  RoPEParams P;
  std::vector<float> Want = runRoPE(X, {1, 2, 1, 8}, {3, 4}, P);
  std::vector<int32_t> Pos = {3, 4};
  ASSERT_FALSE(bool(rope({X.data(), ElementType::F32},
                         {X.data(), ElementType::F32}, {1, 2, 1, 8}, Pos, P)));
  EXPECT_EQ(X, Want);
}

TEST(RoPE, LinearScalingDividesPositions) {
  std::vector<float> X = randomFloats(16, 2);
  RoPEParams P;
  P.Scaling = RoPEScaling::Linear;
  P.Factor = 4;
  RoPEParams Plain;
  std::vector<float> A = runRoPE(X, {1, 1, 2, 8}, {400}, P);
  std::vector<float> B = runRoPE(X, {1, 1, 2, 8}, {100}, Plain);
  for (size_t I = 0; I < X.size(); ++I)
    EXPECT_NEAR(A[I], B[I], 1e-6);
}

TEST(RoPE, Llama3Frequencies) {
  // Llama 3.1's configuration. Expected values from the definition: pairs
  // whose wavelength is under 8192 / 4 keep their frequency, those over
  // 8192 / 1 are divided by 8, those between are blended.
  RoPEParams P;
  P.Theta = 500000;
  P.Scaling = RoPEScaling::Llama3;
  P.Factor = 8;
  P.LowFreqFactor = 1;
  P.HighFreqFactor = 4;
  P.OriginalContext = 8192;
  std::vector<double> F(64);
  double Magnitude;
  ASSERT_FALSE(bool(getRoPEFrequencies(P, 128, F, Magnitude)));
  EXPECT_EQ(Magnitude, 1.0);
  const std::pair<int, double> Want[] = {{0, 1.0},
                                         {10, 0.12868737343265052},
                                         {25, 0.005940730375674967},
                                         {30, 0.0013718935677611381},
                                         {31, 0.0008567514129196321},
                                         {40, 3.428102195952591e-05},
                                         {63, 3.068925988914511e-07}};
  for (auto [I, V] : Want)
    EXPECT_NEAR(F[I], V, V * 1e-12) << I;
}

TEST(RoPE, YaRNFrequenciesAndMagnitude) {
  RoPEParams P;
  P.Theta = 10000;
  P.Scaling = RoPEScaling::YaRN;
  P.Factor = 4;
  P.OriginalContext = 4096;
  std::vector<double> F(32), Plain(32);
  double M, PlainM;
  ASSERT_FALSE(bool(getRoPEFrequencies(P, 64, F, M)));
  ASSERT_FALSE(bool(getRoPEFrequencies(RoPEParams{}, 64, Plain, PlainM)));
  // Pairs that turn more than beta_fast = 32 times over the original
  // context keep their frequency; fewer than beta_slow = 1 are divided by
  // the factor; the ramp lies between (dimensions floor(low)..ceil(high)).
  auto Turns = [&](int I) { return 4096 * Plain[I] / (2 * std::numbers::pi); };
  for (int I = 0; I < 32; ++I) {
    if (Turns(I) > 32 * 1.3)
      EXPECT_DOUBLE_EQ(F[I], Plain[I]) << I;
    else if (Turns(I) < 1 / 1.3)
      EXPECT_DOUBLE_EQ(F[I], Plain[I] / 4) << I;
    else
      EXPECT_TRUE(F[I] <= Plain[I] && F[I] >= Plain[I] / 4) << I;
  }
  EXPECT_DOUBLE_EQ(M, 0.1 * std::log(4.0) + 1);
  // mscale == mscale_all_dim (DeepSeek-V3) cancels the attention factor.
  P.MScale = P.MScaleAllDim = 1;
  ASSERT_FALSE(bool(getRoPEFrequencies(P, 64, F, M)));
  EXPECT_DOUBLE_EQ(M, 1.0);
  // A factor of 1 is no scaling at all.
  P.Factor = 1;
  ASSERT_FALSE(bool(getRoPEFrequencies(P, 64, F, M)));
  for (int I = 0; I < 32; ++I)
    EXPECT_DOUBLE_EQ(F[I], Plain[I]);
}

TEST(RoPE, RejectsOddDimensionsAndNegativePositions) {
  std::vector<float> X(12);
  std::vector<int32_t> Pos = {0, 1};
  RoPEParams P;
  expectError(rope({X.data(), ElementType::F32}, {X.data(), ElementType::F32},
                   {1, 2, 2, 3}, Pos, P),
              "head dimension must be even");
  Pos = {0, -1};
  expectError(rope({X.data(), ElementType::F32}, {X.data(), ElementType::F32},
                   {1, 2, 1, 6}, Pos, P),
              "position -1 at [0, 1] is negative");
  Pos = {0};
  expectError(rope({X.data(), ElementType::F32}, {X.data(), ElementType::F32},
                   {1, 2, 1, 6}, Pos, P),
              "1 positions for [1, 2] tokens");
  P.Scaling = RoPEScaling::Llama3;
  P.Factor = 8;
  Pos = {0, 1};
  expectError(rope({X.data(), ElementType::F32}, {X.data(), ElementType::F32},
                   {1, 2, 1, 6}, Pos, P),
              "original context");
}
