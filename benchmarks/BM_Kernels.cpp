//===- BM_Kernels.cpp - CPU kernel throughput against memory bandwidth ----===//
//
// Decode multiplies one token by every weight matrix, so it is bound by how
// fast the weights stream from memory. This binary measures the machine's
// memory bandwidth (a streaming sum over 1 GiB, on one thread and on all of
// them) and times:
//   - matmul decode (1 row) over [32000, 288], [768, 288] and [4096, 4096]
//     weights in f32, f16, bf16 and q8_0, on one thread and on all, warm
//     (one copy, cached if it fits) and cold (copies totalling 1 GiB);
//   - matmul prefill (128 rows) over the same shapes;
//   - attention decode over 256 and 2048 cached positions;
//   - the thread pool's wake-up and f32 matvecs around the threshold for
//     going parallel (CpuContext.h's DefaultParallelMinMACs).
//
// Bar: decode matvec within 2x of memory bandwidth. For each decode run,
// `bw_fraction` is the matvec's rate over a streaming sum's rate over the
// same bytes with as many threads, measured in alternation (the median of
// five pairs): on this shared VM the memory's speed drifts by 2x within
// minutes, so only measurements taken together compare. `bar_fraction`
// (0.5) states the bar beside it. The cold runs test the bar against
// memory; warm runs compare with reading the same cached bytes.
//
//===----------------------------------------------------------------------===//

#include "kernels/cpu/Attention.h"
#include "kernels/cpu/Convert.h"
#include "kernels/cpu/MatMul.h"
#include "kernels/cpu/ThreadPool.h"

#include "benchmark/benchmark.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

using namespace strata::kernels;
using namespace strata::kernels::cpu;

namespace {

constexpr double BarFraction = 0.5;

unsigned hardwareThreads() {
  return std::max(1u, std::thread::hardware_concurrency());
}

/// One pool for the whole run, as a runtime would keep one per device.
ThreadPool &pool() {
  static ThreadPool Pool(hardwareThreads());
  return Pool;
}

/// 1 GiB to stream, kept for the whole run.
const std::vector<float> &streamBuffer() {
  static const std::vector<float> Buf(size_t(1) << 28, 1.0f);
  return Buf;
}

typedef float Vec8 __attribute__((vector_size(32)));

/// Sums N floats (a multiple of 32) through four 8-lane accumulators: the
/// loads are the whole cost. Cloned for AVX2 so that the reference rate is
/// the best this core can read, not what the baseline x86-64 code reaches.
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx2", "default")))
#endif
float streamSum(const float *P, size_t N) {
  Vec8 A[4] = {};
  for (size_t I = 0; I + 32 <= N; I += 32)
    for (int K = 0; K < 4; ++K) {
      Vec8 V;
      std::memcpy(&V, P + I + 8 * K, sizeof V);
      A[K] += V;
    }
  Vec8 S = (A[0] + A[1]) + (A[2] + A[3]);
  float Sum = 0;
  for (int L = 0; L < 8; ++L)
    Sum += S[L];
  return Sum;
}

/// Streams Bytes at P (whole 128-byte groups) on Threads threads of the
/// shared pool.
void streamBytes(const uint8_t *P, size_t Bytes, unsigned Threads) {
  const size_t Floats = Bytes / 128 * 32;
  std::vector<float> Partial(Threads);
  auto Body = [&](size_t Begin, size_t End) {
    for (size_t T = Begin; T < End; ++T) {
      size_t Chunk = Floats / 32 / Threads * 32;
      size_t Len = T + 1 == Threads ? Floats - T * Chunk : Chunk;
      Partial[T] =
          streamSum(reinterpret_cast<const float *>(P) + T * Chunk, Len);
    }
  };
  if (Threads > 1)
    pool().run(Threads, Body);
  else
    Body(0, 1);
  benchmark::DoNotOptimize(Partial.data());
}

/// Bytes per second of the best of three streaming sums over 1 GiB.
double measureBandwidth(unsigned Threads) {
  const std::vector<float> &Buf = streamBuffer();
  double Best = 0;
  for (int Rep = 0; Rep < 3; ++Rep) {
    auto T0 = std::chrono::steady_clock::now();
    streamBytes(reinterpret_cast<const uint8_t *>(Buf.data()),
                Buf.size() * sizeof(float), Threads);
    double S =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - T0)
            .count();
    Best = std::max(Best, double(Buf.size() * sizeof(float)) / S);
  }
  return Best;
}

double median(std::vector<double> V) {
  std::sort(V.begin(), V.end());
  return V[V.size() / 2];
}

void BM_StreamSum(benchmark::State &State) {
  unsigned Threads = State.range(0) ? hardwareThreads() : 1;
  const std::vector<float> &Buf = streamBuffer();
  for (auto _ : State) {
    std::vector<float> Partial(Threads);
    auto Body = [&](size_t Begin, size_t End) {
      for (size_t T = Begin; T < End; ++T) {
        size_t Chunk = Buf.size() / Threads;
        Partial[T] = streamSum(Buf.data() + T * Chunk, Chunk);
      }
    };
    if (Threads > 1)
      pool().run(Threads, Body);
    else
      Body(0, 1);
    benchmark::DoNotOptimize(Partial.data());
  }
  State.SetBytesProcessed(int64_t(State.iterations()) * int64_t(Buf.size()) *
                          4);
  State.counters["threads"] = Threads;
}

const ElementType Types[] = {ElementType::F32, ElementType::F16,
                             ElementType::BF16, ElementType::Q8_0};

std::vector<uint8_t> randomWeights(ElementType T, int64_t Out, int64_t In) {
  std::mt19937 G(1);
  std::uniform_real_distribution<float> U(-1, 1);
  std::vector<float> F(Out * In);
  for (float &X : F)
    X = U(G);
  std::vector<uint8_t> W(getByteSize(T, Out * In));
  llvm::cantFail(
      convert({F.data(), ElementType::F32}, {W.data(), T}, Out * In));
  return W;
}

/// Args: weight type index, out, in, rows, all threads (0/1), cold (0/1).
/// Cold runs cycle through copies of the weight that together take 1 GiB,
/// far more than the caches: a decode step reads each layer's weights once,
/// so this is what decode sees. Warm runs reuse one copy, which stays in
/// cache when it fits.
void BM_MatMul(benchmark::State &State) {
  ElementType T = Types[State.range(0)];
  int64_t Out = State.range(1), In = State.range(2), Rows = State.range(3);
  bool Threaded = State.range(4), Cold = State.range(5);
  std::vector<uint8_t> One = randomWeights(T, Out, In);
  const size_t Bytes = One.size();
  const size_t Copies = Cold ? ((size_t(1) << 30) + Bytes - 1) / Bytes : 1;
  std::vector<uint8_t> W(Copies * Bytes);
  for (size_t C = 0; C < Copies; ++C)
    std::memcpy(W.data() + C * Bytes, One.data(), Bytes);
  One = {};
  std::vector<float> X(Rows * In, 0.5f), Y(Rows * Out);
  CpuContext Ctx;
  Ctx.Threads = Threaded ? &pool() : nullptr;
  size_t Next = 0;
  for (auto _ : State) {
    const uint8_t *WP = W.data() + Next * Bytes;
    Next = (Next + 1) % Copies;
    if (llvm::Error E =
            matmul({X.data(), ElementType::F32}, {WP, T},
                   {Y.data(), ElementType::F32}, Rows, In, Out, Ctx)) {
      State.SkipWithError(llvm::toString(std::move(E)).c_str());
      return;
    }
    benchmark::DoNotOptimize(Y.data());
  }
  State.SetBytesProcessed(int64_t(Bytes) * State.iterations());
  State.SetLabel(
      std::string(getName(T)) + (Rows == 1 ? " decode" : " prefill") +
      (Threaded ? " all-threads" : " 1-thread") + (Cold ? " cold" : " warm"));
  State.counters["GFLOPs"] =
      benchmark::Counter(2.0 * Rows * In * Out * State.iterations() / 1e9,
                         benchmark::Counter::kIsRate);
  if (Rows == 1) {
    // The bar, like with like: passes of the matvec over the weights (every
    // copy, or the one copy repeated to 64 MiB) alternate with streaming
    // sums over the same bytes, so both see the same memory, caches and
    // neighbours; bw_fraction is the median of five pairs' ratios.
    const unsigned Threads = Threaded ? hardwareThreads() : 1;
    const size_t Reps =
        Cold ? 1 : std::max<size_t>(1, (size_t(64) << 20) / Bytes);
    const double PassBytes = double(Reps * Copies * Bytes);
    std::vector<double> Ratios, MatVec, Stream;
    for (int Pair = 0; Pair < 5; ++Pair) {
      auto T0 = std::chrono::steady_clock::now();
      for (size_t R = 0; R < Reps; ++R)
        for (size_t C = 0; C < Copies; ++C)
          llvm::cantFail(matmul({X.data(), ElementType::F32},
                                {W.data() + C * Bytes, T},
                                {Y.data(), ElementType::F32}, 1, In, Out, Ctx));
      auto T1 = std::chrono::steady_clock::now();
      for (size_t R = 0; R < Reps; ++R)
        for (size_t C = 0; C < Copies; ++C)
          streamBytes(W.data() + C * Bytes, Bytes, Threads);
      auto T2 = std::chrono::steady_clock::now();
      double MV = std::chrono::duration<double>(T1 - T0).count();
      double ST = std::chrono::duration<double>(T2 - T1).count();
      Ratios.push_back(ST / MV);
      MatVec.push_back(PassBytes / MV / 1e9);
      Stream.push_back(PassBytes / ST / 1e9);
    }
    State.counters["matvec_GBps"] = median(MatVec);
    State.counters["stream_GBps"] = median(Stream);
    State.counters["bw_fraction"] = median(Ratios);
    State.counters["bar_fraction"] = BarFraction;
  }
}

void matmulArgs(benchmark::internal::Benchmark *B) {
  const std::pair<int64_t, int64_t> Shapes[] = {
      {32000, 288}, {768, 288}, {4096, 4096}};
  for (auto [Out, In] : Shapes)
    for (int64_t T = 0; T < 4; ++T)
      for (int64_t Threaded : {0, 1})
        for (int64_t Cold : {0, 1})
          B->Args({T, Out, In, 1, Threaded, Cold});
  for (auto [Out, In] : Shapes)
    for (int64_t T = 0; T < 4; ++T)
      for (int64_t Threaded : {0, 1})
        B->Args({T, Out, In, 128, Threaded, 0});
  B->ArgNames({"type", "out", "in", "rows", "mt", "cold"});
}

/// Args: context positions attended, cache type index (0 f32, 1 f16), all
/// threads. Llama-2-7B's attention shape with 4 KV heads of 8 queries.
void BM_AttentionDecode(benchmark::State &State) {
  const int64_t Positions = State.range(0);
  const ElementType CacheT =
      State.range(1) ? ElementType::F16 : ElementType::F32;
  const bool Threaded = State.range(2);
  AttentionShape S{1, 1, 32, 4, 128, 0, Positions};
  std::vector<uint8_t> K = randomWeights(CacheT, Positions * 4, 128);
  std::vector<uint8_t> V = randomWeights(CacheT, Positions * 4, 128);
  std::vector<float> Q(32 * 128, 0.1f), Out(32 * 128);
  std::vector<int32_t> Pos = {int32_t(Positions - 1)};
  CpuContext Ctx;
  Ctx.Threads = Threaded ? &pool() : nullptr;
  for (auto _ : State) {
    if (llvm::Error E =
            attention({Q.data(), ElementType::F32}, {K.data(), CacheT},
                      {V.data(), CacheT}, Pos, {Out.data(), ElementType::F32},
                      S, std::nullopt, Ctx)) {
      State.SkipWithError(llvm::toString(std::move(E)).c_str());
      return;
    }
    benchmark::DoNotOptimize(Out.data());
  }
  State.SetBytesProcessed(int64_t(K.size() + V.size()) * State.iterations());
  State.SetLabel(std::string(getName(CacheT)) + " cache" +
                 (Threaded ? " all-threads" : " 1-thread"));
}

/// What waking the pool costs: a region whose ranges each wait until every
/// range has started, so every worker must wake (arg 1); and an empty
/// region, where the caller may finish all ranges before a worker wakes
/// (arg 0). Splitting work pays once it takes several times the first.
void BM_PoolWake(benchmark::State &State) {
  ThreadPool &P = pool();
  const size_t N = P.getConcurrency();
  const bool AllWake = State.range(0);
  for (auto _ : State) {
    std::atomic<size_t> Started{0};
    P.run(N, [&](size_t Begin, size_t End) {
      Started.fetch_add(End - Begin);
      while (AllWake && Started.load() < N)
        std::this_thread::yield();
    });
  }
  State.counters["threads"] = double(N);
}

/// f32 decode matvecs around the threshold for going parallel, on one thread
/// and on all (with the threshold lowered to 0): where the second starts to
/// win is the threshold.
void BM_MatVecThreshold(benchmark::State &State) {
  const int64_t Out = State.range(0), In = 288;
  std::vector<float> W(Out * In, 0.25f), X(In, 0.5f), Y(Out);
  CpuContext Ctx;
  Ctx.Threads = State.range(1) ? &pool() : nullptr;
  Ctx.ParallelMinMACs = 0;
  for (auto _ : State) {
    llvm::cantFail(matmul({X.data(), ElementType::F32},
                          {W.data(), ElementType::F32},
                          {Y.data(), ElementType::F32}, 1, In, Out, Ctx));
    benchmark::DoNotOptimize(Y.data());
  }
  State.counters["MACs"] = double(Out * In);
  State.counters["above_default_threshold"] =
      Out * In >= DefaultParallelMinMACs;
}

// Wall-clock time throughout: the pool's threads do part of the work.
BENCHMARK(BM_StreamSum)
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatMul)
    ->Apply(matmulArgs)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AttentionDecode)
    ->ArgsProduct({{256, 2048}, {0, 1}, {0, 1}})
    ->ArgNames({"ctx", "f16", "mt"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PoolWake)
    ->Arg(0)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MatVecThreshold)
    ->ArgsProduct({{128, 256, 512, 1024, 2048, 4096, 8192}, {0, 1}})
    ->ArgNames({"out", "mt"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("bar",
                              "decode matvec within 2x of memory bandwidth "
                              "(bw_fraction >= 0.5)");
  benchmark::AddCustomContext("memory_bandwidth_1_thread_GBps",
                              std::to_string(measureBandwidth(1) / 1e9));
  benchmark::AddCustomContext(
      "memory_bandwidth_all_threads_GBps",
      std::to_string(measureBandwidth(hardwareThreads()) / 1e9));
  benchmark::AddCustomContext("threads", std::to_string(hardwareThreads()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
