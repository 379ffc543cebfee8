//===- MatMulTest.cpp - matmul against a double-precision reference -------===//

#include "KernelTestUtil.h"

#include "kernels/cpu/MatMul.h"
#include "kernels/cpu/ThreadPool.h"

using namespace strata::kernels;
using namespace strata::kernels::cpu;
using namespace strata::kernels::test;

namespace {

struct Case {
  int64_t Rows, In, Out;
};

/// Runs one matmul and checks it against sum_i x[t, i] * w[o, i] in double
/// over the values actually stored (so f16/bf16/q8_0 weights and inputs
/// count as the values they dequantize to). Tolerance: the f32 summation
/// bound over In terms, plus half an ulp of Y's type.
void checkMatMul(const Case &C, ElementType XT, ElementType WT, ElementType YT,
                 const CpuContext &Ctx, uint32_t Seed) {
  TestTensor X =
      TestTensor::fromFloats(XT, randomFloats(C.Rows * C.In, Seed, -2, 2));
  TestTensor W =
      TestTensor::fromFloats(WT, randomFloats(C.Out * C.In, Seed + 1));
  TestTensor Y(YT, C.Rows * C.Out);
  ASSERT_FALSE(
      bool(matmul(X.buf(), W.buf(), Y.mut(), C.Rows, C.In, C.Out, Ctx)));
  std::vector<double> XV = X.decode(), WV = W.decode(), YV = Y.decode();
  for (int64_t T = 0; T < C.Rows; ++T)
    for (int64_t O = 0; O < C.Out; ++O) {
      double Ref = 0, Mag = 0;
      for (int64_t I = 0; I < C.In; ++I) {
        Ref += XV[T * C.In + I] * WV[O * C.In + I];
        Mag += std::fabs(XV[T * C.In + I] * WV[O * C.In + I]);
      }
      double Tol = sumTolerance(C.In, Mag) + storeTolerance(YT, Ref);
      ASSERT_NEAR(YV[T * C.Out + O], Ref, Tol)
          << "x " << getName(XT) << ", w " << getName(WT) << ", y "
          << getName(YT) << ", [" << C.Rows << ", " << C.In << "] x [" << C.Out
          << ", " << C.In << "]^T at (" << T << ", " << O << ")";
    }
}

// Odd sizes: not multiples of the vector width, of 4 rows or of 16; decode
// (1 row), small prefill and tails of every kind. q8_0 needs In % 32 == 0.
const Case Cases[] = {{1, 37, 13},  {1, 288, 67}, {2, 45, 9},
                      {3, 100, 45}, {5, 19, 70},  {1, 1, 1}};
const Case Q8Cases[] = {{1, 32, 5}, {1, 288, 67}, {2, 96, 9}, {7, 160, 21}};

} // namespace

TEST(MatMul, EveryWeightTypeAgainstReference) {
  uint32_t Seed = 1;
  for (ElementType WT : WeightTypes)
    for (const Case &C : WT == ElementType::Q8_0 ? llvm::ArrayRef<Case>(Q8Cases)
                                                 : llvm::ArrayRef<Case>(Cases))
      for (bool Portable : {false, true}) {
        CpuContext Ctx;
        Ctx.PortableOnly = Portable;
        checkMatMul(C, ElementType::F32, WT, ElementType::F32, Ctx, Seed++);
      }
}

TEST(MatMul, HalfPrecisionActivations) {
  uint32_t Seed = 100;
  for (ElementType XT : FloatTypes)
    for (ElementType YT : FloatTypes)
      for (ElementType WT : {ElementType::F32, ElementType::BF16})
        for (const Case &C : {Case{1, 70, 11}, Case{4, 33, 17}})
          checkMatMul(C, XT, WT, YT, {}, Seed++);
}

TEST(MatMul, ThreadedEqualsSerialBitForBit) {
  ThreadPool Pool(3);
  CpuContext Threaded;
  Threaded.Threads = &Pool;
  Threaded.ParallelMinMACs = 0; // Split whatever the size.
  // Row counts that split unevenly, and one above the default threshold.
  const Case Big[] = {{1, 512, 301}, {6, 160, 203}, {1, 2048, 257}};
  for (ElementType WT : WeightTypes)
    for (const Case &C : Big) {
      TestTensor X = TestTensor::fromFloats(
          ElementType::F32, randomFloats(C.Rows * C.In, 21, -2, 2));
      TestTensor W = TestTensor::fromFloats(WT, randomFloats(C.Out * C.In, 22));
      TestTensor Serial(ElementType::F32, C.Rows * C.Out);
      TestTensor Parallel(ElementType::F32, C.Rows * C.Out);
      ASSERT_FALSE(
          bool(matmul(X.buf(), W.buf(), Serial.mut(), C.Rows, C.In, C.Out)));
      ASSERT_FALSE(bool(matmul(X.buf(), W.buf(), Parallel.mut(), C.Rows, C.In,
                               C.Out, Threaded)));
      EXPECT_EQ(Serial.Bytes, Parallel.Bytes) << getName(WT);
      checkMatMul(C, ElementType::F32, WT, ElementType::F32, Threaded, 23);
    }
}

TEST(MatMul, PortableAndHostCodeAgree) {
  // Both are checked against the reference above; here they must also be
  // close to each other (they differ only in fused multiply-add rounding).
  for (ElementType WT : WeightTypes) {
    Case C{3, 256, 33};
    TestTensor X = TestTensor::fromFloats(ElementType::F32,
                                          randomFloats(C.Rows * C.In, 31));
    TestTensor W = TestTensor::fromFloats(WT, randomFloats(C.Out * C.In, 32));
    for (int64_t Rows : {int64_t(1), C.Rows}) {
      TestTensor A(ElementType::F32, Rows * C.Out),
          B(ElementType::F32, Rows * C.Out);
      CpuContext Portable;
      Portable.PortableOnly = true;
      ASSERT_FALSE(bool(matmul(X.buf(), W.buf(), A.mut(), Rows, C.In, C.Out)));
      ASSERT_FALSE(
          bool(matmul(X.buf(), W.buf(), B.mut(), Rows, C.In, C.Out, Portable)));
      std::vector<double> AV = A.decode(), BV = B.decode();
      for (size_t I = 0; I < AV.size(); ++I)
        ASSERT_NEAR(AV[I], BV[I], 1e-4) << getName(WT) << " " << I;
    }
  }
}

TEST(MatMul, RejectsWhatItCannotCompute) {
  std::vector<float> X(64), Y(64);
  std::vector<uint8_t> W(34 * 4);
  expectError(matmul({X.data(), ElementType::F32},
                     {W.data(), ElementType::Q8_0},
                     {Y.data(), ElementType::F32}, 1, 33, 1),
              "not whole 32-element blocks");
  expectError(matmul({X.data(), ElementType::F32}, {W.data(), ElementType::F32},
                     {Y.data(), ElementType::Q8_0}, 1, 4, 1),
              "unsupported types");
  expectError(matmul({X.data(), ElementType::I32}, {W.data(), ElementType::F32},
                     {Y.data(), ElementType::F32}, 1, 4, 1),
              "unsupported types");
  expectError(matmul({X.data(), ElementType::F32}, {W.data(), ElementType::F32},
                     {Y.data(), ElementType::F32}, -1, 4, 1),
              "negative size");
  expectError(matmul({nullptr, ElementType::F32}, {W.data(), ElementType::F32},
                     {Y.data(), ElementType::F32}, 1, 4, 1),
              "null buffer");
  // Nothing to compute is fine.
  EXPECT_FALSE(
      bool(matmul({nullptr, ElementType::F32}, {nullptr, ElementType::F32},
                  {nullptr, ElementType::F32}, 0, 4, 4)));
}

namespace {
/// Counts the calls it gets and runs them on the calling thread.
struct CountingParallelFor final : ParallelFor {
  int Runs = 0;
  void run(size_t N, llvm::function_ref<void(size_t, size_t)> Body) override {
    ++Runs;
    Body(0, N / 2);
    Body(N / 2, N);
  }
  unsigned getConcurrency() const override { return 2; }
};
} // namespace

TEST(MatMul, SplitsOnlyWorkAboveTheThreshold) {
  CountingParallelFor Counter;
  CpuContext Ctx;
  Ctx.Threads = &Counter;
  std::vector<float> X(1024, 0.5f), W(1024 * 600, 0.25f), Y(600);
  // 64 x 64 multiply-adds: stays on the caller.
  ASSERT_FALSE(
      bool(matmul({X.data(), ElementType::F32}, {W.data(), ElementType::F32},
                  {Y.data(), ElementType::F32}, 1, 64, 64, Ctx)));
  EXPECT_EQ(Counter.Runs, 0);
  ASSERT_FALSE(
      bool(matmul({X.data(), ElementType::F32}, {W.data(), ElementType::F32},
                  {Y.data(), ElementType::F32}, 1, 1024, 600, Ctx)));
  ASSERT_GE(1024 * 600, DefaultParallelMinMACs);
  EXPECT_EQ(Counter.Runs, 1);
  EXPECT_EQ(Y[599], 1024 * 0.125f);
}
