//===- ElementwiseTest.cpp - embedding, norms and the small kernels -------===//

#include "KernelTestUtil.h"

#include "kernels/cpu/ArgMax.h"
#include "kernels/cpu/Elementwise.h"
#include "kernels/cpu/Embedding.h"
#include "kernels/cpu/RMSNorm.h"
#include "kernels/cpu/Slice.h"
#include "kernels/cpu/Softmax.h"

#include <limits>

using namespace strata::kernels;
using namespace strata::kernels::cpu;
using namespace strata::kernels::test;

TEST(Embedding, RowsOfEveryTableType) {
  const int64_t Vocab = 11, Dim = 64;
  std::vector<int32_t> Ids = {3, 0, 10, 3, 7};
  for (ElementType TT : WeightTypes)
    for (ElementType OT : FloatTypes) {
      TestTensor Table =
          TestTensor::fromFloats(TT, randomFloats(Vocab * Dim, 5, -4, 4));
      TestTensor Out(OT, int64_t(Ids.size()) * Dim);
      ASSERT_FALSE(bool(embedding({Table.buf(), Vocab, Dim}, Ids, Out.mut())));
      std::vector<double> TV = Table.decode(), OV = Out.decode();
      for (size_t I = 0; I < Ids.size(); ++I)
        for (int64_t J = 0; J < Dim; ++J) {
          double Want = TV[Ids[I] * Dim + J];
          ASSERT_NEAR(OV[I * Dim + J], Want, storeTolerance(OT, Want))
              << getName(TT) << " -> " << getName(OT);
        }
    }
}

TEST(Embedding, VocabularySlicesSumToTheWhole) {
  const int64_t Vocab = 10, Dim = 6;
  std::vector<float> Full = randomFloats(Vocab * Dim, 6);
  std::vector<int32_t> Ids = {0, 3, 4, 9, 5};
  std::vector<float> Whole(Ids.size() * Dim), Sum(Ids.size() * Dim, 0.0f);
  ASSERT_FALSE(bool(embedding({{Full.data(), ElementType::F32}, Vocab, Dim},
                              Ids, {Whole.data(), ElementType::F32})));
  // Rows [0, 4) on one device and [4, 10) on another.
  for (auto [Offset, Rows] : {std::pair<int64_t, int64_t>{0, 4}, {4, 6}}) {
    EmbeddingTable T{{Full.data() + Offset * Dim, ElementType::F32},
                     Rows,
                     Dim,
                     Offset,
                     Vocab};
    std::vector<float> Part(Ids.size() * Dim, -1.0f);
    ASSERT_FALSE(bool(embedding(T, Ids, {Part.data(), ElementType::F32})));
    for (size_t I = 0; I < Ids.size(); ++I) {
      bool Held = Ids[I] >= Offset && Ids[I] < Offset + Rows;
      for (int64_t J = 0; J < Dim; ++J) {
        if (!Held) {
          ASSERT_EQ(Part[I * Dim + J], 0.0f);
        }
        Sum[I * Dim + J] += Part[I * Dim + J];
      }
    }
  }
  EXPECT_EQ(Sum, Whole);
}

TEST(Embedding, RejectsIdsOutsideTheVocabulary) {
  std::vector<float> Table(4 * 2), Out(3 * 2, 9.0f);
  std::vector<int32_t> Ids = {1, 4, 0};
  expectError(embedding({{Table.data(), ElementType::F32}, 4, 2}, Ids,
                        {Out.data(), ElementType::F32}),
              "token id 4 at index 1 is outside [0, 4)");
  Ids = {-1};
  expectError(embedding({{Table.data(), ElementType::F32}, 4, 2}, Ids,
                        {Out.data(), ElementType::F32}),
              "token id -1 at index 0");
  EXPECT_EQ(Out, std::vector<float>(6, 9.0f)); // Nothing written.
  // A slice: ids up to the whole vocabulary are fine, beyond it not.
  Ids = {7};
  EXPECT_FALSE(bool(embedding({{Table.data(), ElementType::F32}, 4, 2, 4, 8},
                              Ids, {Out.data(), ElementType::F32})));
  Ids = {8};
  expectError(embedding({{Table.data(), ElementType::F32}, 4, 2, 4, 8}, Ids,
                        {Out.data(), ElementType::F32}),
              "outside [0, 8)");
  expectError(embedding({{Table.data(), ElementType::F32}, 4, 2, 6, 8}, Ids,
                        {Out.data(), ElementType::F32}),
              "do not fit a vocabulary of 8");
}

TEST(RMSNorm, AgainstReference) {
  const int64_t Rows = 3, Dim = 37;
  uint32_t Seed = 1;
  for (ElementType XT : FloatTypes)
    for (ElementType WT : FloatTypes) {
      TestTensor X =
          TestTensor::fromFloats(XT, randomFloats(Rows * Dim, Seed++, -3, 3));
      TestTensor W = TestTensor::fromFloats(WT, randomFloats(Dim, Seed++));
      TestTensor Out(XT, Rows * Dim);
      ASSERT_FALSE(
          bool(rmsNorm(X.buf(), W.buf(), Out.mut(), Rows, Dim, 1e-5f)));
      std::vector<double> XV = X.decode(), WV = W.decode(), OV = Out.decode();
      for (int64_t R = 0; R < Rows; ++R) {
        double SS = 0;
        for (int64_t I = 0; I < Dim; ++I)
          SS += XV[R * Dim + I] * XV[R * Dim + I];
        double Scale = 1 / std::sqrt(SS / Dim + 1e-5);
        for (int64_t I = 0; I < Dim; ++I) {
          double Want = XV[R * Dim + I] * Scale * WV[I];
          ASSERT_NEAR(OV[R * Dim + I], Want,
                      1e-6 * std::fabs(Want) * 4 + 1e-7 +
                          storeTolerance(XT, Want));
        }
      }
    }
}

TEST(RMSNorm, InPlaceAndErrors) {
  std::vector<float> X = randomFloats(2 * 9, 3), W = randomFloats(9, 4);
  std::vector<float> Want(X.size());
  ASSERT_FALSE(
      bool(rmsNorm({X.data(), ElementType::F32}, {W.data(), ElementType::F32},
                   {Want.data(), ElementType::F32}, 2, 9, 1e-6f)));
  ASSERT_FALSE(
      bool(rmsNorm({X.data(), ElementType::F32}, {W.data(), ElementType::F32},
                   {X.data(), ElementType::F32}, 2, 9, 1e-6f)));
  EXPECT_EQ(X, Want);
  expectError(rmsNorm({X.data(), ElementType::F32},
                      {W.data(), ElementType::F32},
                      {X.data(), ElementType::F32}, 2, 9, 0.0f),
              "eps must be positive");
  expectError(rmsNorm({X.data(), ElementType::Q8_0},
                      {W.data(), ElementType::F32},
                      {X.data(), ElementType::F32}, 2, 9, 1e-6f),
              "unsupported types");
}

TEST(SiLUMul, AgainstReference) {
  for (ElementType T : FloatTypes) {
    std::vector<float> G = randomFloats(1037, 1, -12, 12);
    G[0] = -200; // exp(200) overflows to inf: the limit, -0 * up.
    G[1] = 200;
    TestTensor Gate = TestTensor::fromFloats(T, G);
    TestTensor Up = TestTensor::fromFloats(T, randomFloats(1037, 2, -2, 2));
    TestTensor Out(T, 1037);
    ASSERT_FALSE(bool(siluMul(Gate.buf(), Up.buf(), Out.mut(), 1037)));
    std::vector<double> GV = Gate.decode(), UV = Up.decode(), OV = Out.decode();
    for (int64_t I = 0; I < 1037; ++I) {
      double Want = GV[I] / (1 + std::exp(-GV[I])) * UV[I];
      // A few f32 roundings (exp, add, divide, multiply).
      ASSERT_NEAR(OV[I], Want,
                  8e-7 * std::fabs(Want) + 1e-30 + storeTolerance(T, Want))
          << getName(T) << " " << GV[I];
    }
  }
}

TEST(AddMul, BroadcastFromTheRight) {
  const int64_t N = 5, D = 23;
  for (ElementType AT : FloatTypes)
    for (ElementType BT : FloatTypes) {
      TestTensor A = TestTensor::fromFloats(AT, randomFloats(N * D, 3, -5, 5));
      TestTensor Bias = TestTensor::fromFloats(BT, randomFloats(D, 4, -5, 5));
      TestTensor Sum(AT, N * D), Prod(ElementType::F32, N * D);
      ASSERT_FALSE(bool(add(A.buf(), N * D, Bias.buf(), D, Sum.mut())));
      ASSERT_FALSE(bool(mul(A.buf(), N * D, Bias.buf(), D, Prod.mut())));
      std::vector<double> AV = A.decode(), BV = Bias.decode(),
                          SV = Sum.decode(), PV = Prod.decode();
      for (int64_t I = 0; I < N * D; ++I) {
        double S = AV[I] + BV[I % D], P = AV[I] * BV[I % D];
        ASSERT_NEAR(SV[I], S, std::fabs(S) * 0x1p-24 + storeTolerance(AT, S));
        ASSERT_NEAR(PV[I], P, std::fabs(P) * 0x1p-24);
      }
    }
  // Same shapes (a residual add), in place.
  std::vector<float> X = {1, 2, 3}, Y = {10, 20, 30};
  ASSERT_FALSE(
      bool(add({X.data(), ElementType::F32}, 3, {Y.data(), ElementType::F32}, 3,
               {X.data(), ElementType::F32})));
  EXPECT_EQ(X, (std::vector<float>{11, 22, 33}));
  expectError(add({X.data(), ElementType::F32}, 3, {Y.data(), ElementType::F32},
                  2, {X.data(), ElementType::F32}),
              "2 elements cannot be broadcast over 3");
}

TEST(Softmax, StableAndNormalised) {
  for (ElementType T : FloatTypes) {
    std::vector<float> V = randomFloats(4 * 301, 5, -30, 30);
    V[0] = 1000; // exp(1000) overflows without the max subtracted.
    TestTensor X = TestTensor::fromFloats(T, V);
    TestTensor Out(T, X.N);
    ASSERT_FALSE(bool(softmax(X.buf(), Out.mut(), 4, 301)));
    std::vector<double> XV = X.decode(), OV = Out.decode();
    for (int64_t R = 0; R < 4; ++R) {
      double Max = -INFINITY, Sum = 0;
      for (int64_t I = 0; I < 301; ++I)
        Max = std::max(Max, XV[R * 301 + I]);
      for (int64_t I = 0; I < 301; ++I)
        Sum += std::exp(XV[R * 301 + I] - Max);
      for (int64_t I = 0; I < 301; ++I) {
        double Diff = XV[R * 301 + I] - Max;
        double Want = std::exp(Diff) / Sum;
        // x - max rounds to f32 (half an ulp of |x - max|, which exp turns
        // into a relative error), then exp, the sum and the division.
        ASSERT_NEAR(OV[R * 301 + I], Want,
                    Want * (std::fabs(Diff) * 0x1p-24 + 1e-6) + 1e-30 +
                        storeTolerance(T, Want));
      }
    }
  }
}

TEST(ArgMax, FirstLargestIgnoringNaN) {
  const float NaN = std::numeric_limits<float>::quiet_NaN();
  const float Inf = std::numeric_limits<float>::infinity();
  std::vector<float> X = {1,    5,    3,    5,  // Tie: the first.
                          NaN,  -2,   NaN,  -1, // NaNs skipped.
                          -Inf, -Inf, -Inf, -Inf, NaN, NaN, NaN, NaN};
  int32_t Out[4];
  ASSERT_FALSE(bool(argmax({X.data(), ElementType::F32}, 4, 4, Out)));
  EXPECT_EQ(Out[0], 1);
  EXPECT_EQ(Out[1], 3);
  EXPECT_EQ(Out[2], 0);
  EXPECT_EQ(Out[3], 0);
  // A long bf16 row, crossing the kernel's chunks.
  std::vector<float> Long = randomFloats(10000, 7);
  Long[9000] = 3;
  TestTensor B = TestTensor::fromFloats(ElementType::BF16, Long);
  ASSERT_FALSE(bool(argmax(B.buf(), 1, 10000, Out)));
  EXPECT_EQ(Out[0], 9000);
  expectError(argmax({X.data(), ElementType::F32}, 1, 0, Out), "bad size");
}

TEST(Slice, EveryAxis) {
  // x[2, 3, 4] = 100 a + 10 b + c.
  std::vector<float> X(24);
  for (int A = 0; A < 2; ++A)
    for (int B = 0; B < 3; ++B)
      for (int C = 0; C < 4; ++C)
        X[(A * 3 + B) * 4 + C] = float(100 * A + 10 * B + C);
  const int64_t Dims[] = {2, 3, 4};
  std::vector<float> Out(24, -1);
  ASSERT_FALSE(bool(slice({X.data(), ElementType::F32}, Dims, 1, 1, 3,
                          {Out.data(), ElementType::F32})));
  EXPECT_EQ(std::vector<float>(Out.begin(), Out.begin() + 16),
            (std::vector<float>{10, 11, 12, 13, 20, 21, 22, 23, 110, 111, 112,
                                113, 120, 121, 122, 123}));
  ASSERT_FALSE(bool(slice({X.data(), ElementType::F32}, Dims, 2, 3, 4,
                          {Out.data(), ElementType::F32})));
  EXPECT_EQ(std::vector<float>(Out.begin(), Out.begin() + 6),
            (std::vector<float>{3, 13, 23, 103, 113, 123}));
  ASSERT_FALSE(bool(slice({X.data(), ElementType::F32}, Dims, 0, 1, 2,
                          {Out.data(), ElementType::F32})));
  EXPECT_EQ(Out[0], 100);
  EXPECT_EQ(Out[11], 123);
  expectError(slice({X.data(), ElementType::F32}, Dims, 1, 2, 4,
                    {Out.data(), ElementType::F32}),
              "[2, 4) is not within dimension 1 of size 3");
  expectError(slice({X.data(), ElementType::F32}, Dims, 3, 0, 1,
                    {Out.data(), ElementType::F32}),
              "axis 3 of a rank-3 tensor");
  // q8_0 rows can be sliced on block boundaries only.
  TestTensor Q =
      TestTensor::fromFloats(ElementType::Q8_0, randomFloats(128, 1));
  TestTensor QOut(ElementType::Q8_0, 64);
  const int64_t QDims[] = {2, 64};
  ASSERT_FALSE(bool(slice(Q.buf(), QDims, 1, 32, 64, QOut.mut())));
  std::vector<double> QV = Q.decode(), QO = QOut.decode();
  for (int I = 0; I < 32; ++I) {
    EXPECT_EQ(QO[I], QV[32 + I]);
    EXPECT_EQ(QO[32 + I], QV[96 + I]);
  }
  expectError(slice(Q.buf(), QDims, 1, 16, 48, QOut.mut()), "cuts q8_0 blocks");
}
