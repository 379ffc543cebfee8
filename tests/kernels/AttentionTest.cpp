//===- AttentionTest.cpp - attention and kv_append ------------------------===//

#include "KernelTestUtil.h"

#include "kernels/cpu/Attention.h"
#include "kernels/cpu/KVAppend.h"
#include "kernels/cpu/ThreadPool.h"

using namespace strata::kernels;
using namespace strata::kernels::cpu;
using namespace strata::kernels::test;

namespace {

/// Causal grouped-query attention in double, from the definition. Tol gets
/// each output's error bound for an f32 computation: the weights are a
/// softmax, so an output is a convex combination of values in [-1, 1], and
/// an absolute error e in the scores moves it by at most about 2e. e is the
/// f32 summation bound of the largest dot product, plus f32 rounding of the
/// softmax itself.
std::vector<double> referenceAttention(const std::vector<double> &Q,
                                       const std::vector<double> &K,
                                       const std::vector<double> &V,
                                       const std::vector<int32_t> &Pos,
                                       const AttentionShape &S, double Scale,
                                       std::vector<double> &Tol) {
  const int64_t Dv = S.ValueDim ? S.ValueDim : S.KeyDim, Dk = S.KeyDim;
  std::vector<double> Out(S.Batch * S.Tokens * S.Heads * Dv);
  Tol.assign(Out.size(), 0);
  for (int64_t B = 0; B < S.Batch; ++B)
    for (int64_t T = 0; T < S.Tokens; ++T)
      for (int64_t H = 0; H < S.Heads; ++H) {
        int64_t KH = H / (S.Heads / S.KVHeads);
        int64_t Last = Pos[B * S.Tokens + T];
        const double *Qh = &Q[((B * S.Tokens + T) * S.Heads + H) * Dk];
        std::vector<double> Scores(Last + 1);
        double Max = -INFINITY, ScoreErr = 0;
        for (int64_t J = 0; J <= Last; ++J) {
          const double *Kj = &K[((B * S.Context + J) * S.KVHeads + KH) * Dk];
          double Dot = 0, Mag = 0;
          for (int64_t I = 0; I < Dk; ++I) {
            Dot += Qh[I] * Kj[I];
            Mag += std::fabs(Qh[I] * Kj[I]);
          }
          Scores[J] = Dot * Scale;
          Max = std::max(Max, Scores[J]);
          ScoreErr = std::max(ScoreErr, sumTolerance(Dk, Mag) * Scale);
        }
        double Sum = 0;
        for (double &X : Scores)
          Sum += (X = std::exp(X - Max));
        double *O = &Out[((B * S.Tokens + T) * S.Heads + H) * Dv];
        for (int64_t I = 0; I < Dv; ++I)
          Tol[O - Out.data() + I] = 2 * (ScoreErr + std::fabs(Max) * 0x1p-23) +
                                    1e-6 + (Last + 1) * 0x1p-22;
        for (int64_t J = 0; J <= Last; ++J) {
          const double *Vj = &V[((B * S.Context + J) * S.KVHeads + KH) * Dv];
          for (int64_t I = 0; I < Dv; ++I)
            O[I] += Scores[J] / Sum * Vj[I];
        }
      }
  return Out;
}

struct AttentionData {
  AttentionShape S;
  TestTensor Q, K, V;
  std::vector<int32_t> Pos;
};

AttentionData makeData(const AttentionShape &S, std::vector<int32_t> Pos,
                       ElementType QT, ElementType KVT, uint32_t Seed,
                       float QRange = 1) {
  const int64_t Dv = S.ValueDim ? S.ValueDim : S.KeyDim;
  AttentionData D{
      S,
      TestTensor::fromFloats(
          QT, randomFloats(S.Batch * S.Tokens * S.Heads * S.KeyDim, Seed,
                           -QRange, QRange)),
      TestTensor::fromFloats(
          KVT,
          randomFloats(S.Batch * S.Context * S.KVHeads * S.KeyDim, Seed + 1)),
      TestTensor::fromFloats(
          KVT, randomFloats(S.Batch * S.Context * S.KVHeads * Dv, Seed + 2)),
      std::move(Pos)};
  return D;
}

void checkAttention(const AttentionData &D, ElementType OutT,
                    const CpuContext &Ctx = {}) {
  const int64_t Dv = D.S.ValueDim ? D.S.ValueDim : D.S.KeyDim;
  TestTensor Out(OutT, D.S.Batch * D.S.Tokens * D.S.Heads * Dv);
  ASSERT_FALSE(bool(attention(D.Q.buf(), D.K.buf(), D.V.buf(), D.Pos, Out.mut(),
                              D.S, std::nullopt, Ctx)));
  std::vector<double> Tol;
  std::vector<double> Ref =
      referenceAttention(D.Q.decode(), D.K.decode(), D.V.decode(), D.Pos, D.S,
                         1 / std::sqrt(double(D.S.KeyDim)), Tol);
  std::vector<double> Got = Out.decode();
  for (size_t I = 0; I < Ref.size(); ++I)
    ASSERT_NEAR(Got[I], Ref[I], Tol[I] + storeTolerance(OutT, Ref[I]))
        << "q " << getName(D.Q.Type) << ", kv " << getName(D.K.Type) << ", out "
        << getName(OutT) << " at " << I;
}

} // namespace

TEST(Attention, GroupedQueryWithPositions) {
  // 6 query heads over 2 KV heads, head dimension 20 (not a power of two),
  // two batch rows at different positions, three queries each.
  AttentionShape S{2, 3, 6, 2, 20, 0, 37};
  uint32_t Seed = 1;
  for (ElementType KVT : FloatTypes)
    for (ElementType QT : FloatTypes)
      for (bool Portable : {false, true}) {
        CpuContext Ctx;
        Ctx.PortableOnly = Portable;
        checkAttention(makeData(S, {5, 6, 7, 0, 1, 36}, QT, KVT, Seed++), QT,
                       Ctx);
      }
}

TEST(Attention, ManyBlocksAndSharpScores) {
  // Positions past several 64-position blocks exercise the online softmax's
  // rescaling; large q makes the scores sharp (exp overflows without the
  // max subtracted).
  AttentionShape S{1, 2, 4, 4, 12, 0, 300};
  checkAttention(makeData(S, {130, 299}, ElementType::F32, ElementType::F32, 7),
                 ElementType::F32);
  checkAttention(makeData(S, {64, 200}, ElementType::F32, ElementType::F16, 8,
                          /*QRange=*/40),
                 ElementType::F32);
}

TEST(Attention, ValueDimDiffersFromKeyDim) {
  AttentionShape S{1, 2, 4, 1, 24, 9, 20};
  checkAttention(makeData(S, {3, 19}, ElementType::F32, ElementType::BF16, 9),
                 ElementType::F32);
}

TEST(Attention, GroupedQueryEqualsMultiHeadWithRepeatedKV) {
  // The same attention written as multi-head over a cache whose KV heads are
  // repeated per query head must give the same numbers.
  AttentionShape G{1, 2, 8, 2, 16, 0, 40};
  AttentionData D =
      makeData(G, {10, 39}, ElementType::F32, ElementType::F32, 11);
  AttentionShape M = G;
  M.KVHeads = 8;
  auto Repeat = [&](const TestTensor &T) {
    std::vector<double> V = T.decode();
    std::vector<float> R(G.Context * 8 * 16);
    for (int64_t J = 0; J < G.Context; ++J)
      for (int64_t H = 0; H < 8; ++H)
        for (int64_t I = 0; I < 16; ++I)
          R[(J * 8 + H) * 16 + I] = float(V[(J * 2 + H / 4) * 16 + I]);
    return TestTensor::fromFloats(ElementType::F32, R);
  };
  TestTensor KM = Repeat(D.K), VM = Repeat(D.V);
  TestTensor A(ElementType::F32, 2 * 8 * 16), B(ElementType::F32, 2 * 8 * 16);
  ASSERT_FALSE(
      bool(attention(D.Q.buf(), D.K.buf(), D.V.buf(), D.Pos, A.mut(), G)));
  ASSERT_FALSE(
      bool(attention(D.Q.buf(), KM.buf(), VM.buf(), D.Pos, B.mut(), M)));
  EXPECT_EQ(A.Bytes, B.Bytes);
}

TEST(Attention, ThreadedEqualsSerialBitForBit) {
  ThreadPool Pool(3);
  CpuContext Threaded;
  Threaded.Threads = &Pool;
  Threaded.ParallelMinMACs = 0; // Split whatever the size.
  AttentionShape S{2, 5, 8, 2, 64, 0, 512};
  AttentionData D = makeData(S, {100, 200, 300, 400, 511, 0, 1, 2, 3, 450},
                             ElementType::F32, ElementType::F16, 13);
  TestTensor A(ElementType::F32, 2 * 5 * 8 * 64),
      B(ElementType::F32, 2 * 5 * 8 * 64);
  ASSERT_FALSE(
      bool(attention(D.Q.buf(), D.K.buf(), D.V.buf(), D.Pos, A.mut(), S)));
  ASSERT_FALSE(bool(attention(D.Q.buf(), D.K.buf(), D.V.buf(), D.Pos, B.mut(),
                              S, std::nullopt, Threaded)));
  EXPECT_EQ(A.Bytes, B.Bytes);
  checkAttention(D, ElementType::F32, Threaded);
}

TEST(Attention, ExplicitScale) {
  AttentionShape S{1, 1, 2, 1, 8, 0, 4};
  AttentionData D = makeData(S, {3}, ElementType::F32, ElementType::F32, 17);
  TestTensor Out(ElementType::F32, 2 * 8);
  ASSERT_FALSE(bool(
      attention(D.Q.buf(), D.K.buf(), D.V.buf(), D.Pos, Out.mut(), S, 0.0f)));
  // A zero scale gives uniform weights: the mean of the four values.
  std::vector<double> V = D.V.decode(), Got = Out.decode();
  for (int64_t I = 0; I < 8; ++I) {
    double Mean = (V[I] + V[8 + I] + V[16 + I] + V[24 + I]) / 4;
    EXPECT_NEAR(Got[I], Mean, 1e-6);
    EXPECT_NEAR(Got[8 + I], Mean, 1e-6);
  }
}

TEST(Attention, RejectsBadPositionsAndShapes) {
  AttentionShape S{1, 2, 4, 2, 8, 0, 16};
  AttentionData D = makeData(S, {3, 16}, ElementType::F32, ElementType::F32, 3);
  TestTensor Out(ElementType::F32, 2 * 4 * 8);
  expectError(attention(D.Q.buf(), D.K.buf(), D.V.buf(), D.Pos, Out.mut(), S),
              "position 16 at [0, 1] is outside the cache's [0, 16)");
  D.Pos = {-1, 0};
  expectError(attention(D.Q.buf(), D.K.buf(), D.V.buf(), D.Pos, Out.mut(), S),
              "position -1 at [0, 0]");
  D.Pos = {0};
  expectError(attention(D.Q.buf(), D.K.buf(), D.V.buf(), D.Pos, Out.mut(), S),
              "1 positions for [1, 2] queries");
  D.Pos = {0, 1};
  AttentionShape Bad = S;
  Bad.KVHeads = 3;
  expectError(attention(D.Q.buf(), D.K.buf(), D.V.buf(), D.Pos, Out.mut(), Bad),
              "not a multiple of 3 KV heads");
}

TEST(KVAppend, WritesRowsAtPositionsConverting) {
  KVCacheShape S{2, 10, 3, 5};
  for (ElementType CacheT : FloatTypes)
    for (ElementType NewT : FloatTypes) {
      std::vector<float> Init(2 * 10 * 15, 7.0f);
      TestTensor Cache = TestTensor::fromFloats(CacheT, Init);
      TestTensor New =
          TestTensor::fromFloats(NewT, randomFloats(2 * 2 * 15, 4));
      std::vector<int32_t> Pos = {4, 9, 0, 5};
      ASSERT_FALSE(bool(kvAppend(Cache.mut(), S, New.buf(), 2, Pos)));
      std::vector<double> C = Cache.decode(), N = New.decode();
      for (int64_t B = 0; B < 2; ++B)
        for (int64_t J = 0; J < 10; ++J) {
          int64_t Src = -1;
          for (int64_t T = 0; T < 2; ++T)
            if (Pos[B * 2 + T] == J)
              Src = B * 2 + T;
          for (int64_t I = 0; I < 15; ++I) {
            double Got = C[(B * 10 + J) * 15 + I];
            double Want = Src < 0 ? 7.0 : N[Src * 15 + I];
            ASSERT_NEAR(Got, Want, storeTolerance(CacheT, Want))
                << getName(NewT) << " -> " << getName(CacheT) << " b " << B
                << " pos " << J;
          }
        }
    }
}

TEST(KVAppend, BadPositionsWriteNothing) {
  KVCacheShape S{1, 4, 1, 2};
  std::vector<float> Cache(8, 1.0f), New = {5, 6, 7, 8};
  std::vector<int32_t> Pos = {1, 4};
  expectError(kvAppend({Cache.data(), ElementType::F32}, S,
                       {New.data(), ElementType::F32}, 2, Pos),
              "position 4 at [0, 1] is outside the cache's [0, 4)");
  Pos = {-2, 0};
  expectError(kvAppend({Cache.data(), ElementType::F32}, S,
                       {New.data(), ElementType::F32}, 2, Pos),
              "position -2");
  EXPECT_EQ(Cache, std::vector<float>(8, 1.0f));
  Pos = {3};
  expectError(kvAppend({Cache.data(), ElementType::F32}, S,
                       {New.data(), ElementType::F32}, 2, Pos),
              "1 positions for [1, 2] tokens");
}
