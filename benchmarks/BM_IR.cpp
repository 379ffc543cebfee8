//===- BM_IR.cpp - Text form and verifier throughput ----------------------===//
//
// Builds Llama-shaped graphs of growing size (the decode program of N
// layers, 25 ops and 11 shared values per layer), then times printing,
// parsing, verifying and topologically sorting them.
//
// Bar: a model of hundreds of thousands of tensors must go through the IR
// in well under a second, so every stage must handle at least 1e6 values
// per second; the `bar_values_per_s` counter states it beside the measured
// `values_per_s`.
//
//===----------------------------------------------------------------------===//

#include "ir/Verifier.h"
#include "ir/text/Parser.h"
#include "ir/text/Printer.h"

#include "benchmark/benchmark.h"

#include <string>

using namespace strata::ir;

namespace {

constexpr double BarValuesPerSecond = 1e6;

TensorType type(DType D, llvm::ArrayRef<int64_t> Dims) {
  return {D, llvm::cantFail(Shape::get(Dims))};
}

/// A decode program over Layers Llama layers with stories260K's shapes.
Graph makeLlamaGraph(int Layers) {
  Graph G("synthetic");
  const int64_t D = 64, Heads = 8, KV = 4, HD = 8, FFN = 172, Vocab = 512;
  auto W = [&](const std::string &Name, llvm::ArrayRef<int64_t> Dims, int L) {
    AttrDict A;
    if (L >= 0)
      A.set(AttrKeys::Layer, L);
    return llvm::cantFail(G.addWeight(Name, type(DType::F16, Dims), A));
  };
  ValueId Embd = W("token_embd.weight", {Vocab, D}, -1);
  ProgramId P = llvm::cantFail(G.addProgram("decode"));
  ValueId Tok =
      llvm::cantFail(G.addInput(P, "token", type(DType::I32, {1, 1})));
  ValueId Pos = llvm::cantFail(G.addInput(P, "pos", type(DType::I32, {1, 1})));
  int Counter = 0;
  auto Op = [&](OpKind K, llvm::ArrayRef<ValueId> Args,
                llvm::ArrayRef<int64_t> Dims, AttrDict A = {},
                DType T = DType::F32) {
    OpId O = llvm::cantFail(G.addOp(P, K, Args, "v" + std::to_string(Counter++),
                                    type(T, Dims), std::move(A)));
    return G.getOp(O).Result;
  };
  AttrDict Eps, Rope;
  Eps.set("eps", 1e-5);
  Rope.set("theta", 10000.0);
  Rope.set("mode", "normal");
  ValueId X = Op(OpKind::Embedding, {Embd, Tok}, {1, 1, D});
  for (int L = 0; L < Layers; ++L) {
    std::string B = "blk." + std::to_string(L) + ".";
    ValueId Norm = W(B + "attn_norm.weight", {D}, L);
    ValueId Q = W(B + "attn_q.weight", {D, D}, L);
    ValueId K = W(B + "attn_k.weight", {KV * HD, D}, L);
    ValueId V = W(B + "attn_v.weight", {KV * HD, D}, L);
    ValueId O = W(B + "attn_output.weight", {D, D}, L);
    ValueId FNorm = W(B + "ffn_norm.weight", {D}, L);
    ValueId Gate = W(B + "ffn_gate.weight", {FFN, D}, L);
    ValueId Up = W(B + "ffn_up.weight", {FFN, D}, L);
    ValueId Down = W(B + "ffn_down.weight", {D, FFN}, L);
    AttrDict LA;
    LA.set(AttrKeys::Layer, L);
    ValueId KC =
        llvm::cantFail(G.addKVCache("cache_k." + std::to_string(L),
                                    type(DType::F16, {1, 512, KV, HD}), LA));
    ValueId VC =
        llvm::cantFail(G.addKVCache("cache_v." + std::to_string(L),
                                    type(DType::F16, {1, 512, KV, HD}), LA));
    ValueId H = Op(OpKind::RMSNorm, {X, Norm}, {1, 1, D}, Eps);
    ValueId Q4 = Op(OpKind::Reshape, {Op(OpKind::MatMul, {H, Q}, {1, 1, D})},
                    {1, 1, Heads, HD});
    ValueId K4 =
        Op(OpKind::Reshape, {Op(OpKind::MatMul, {H, K}, {1, 1, KV * HD})},
           {1, 1, KV, HD});
    ValueId V4 =
        Op(OpKind::Reshape, {Op(OpKind::MatMul, {H, V}, {1, 1, KV * HD})},
           {1, 1, KV, HD});
    ValueId QR = Op(OpKind::RoPE, {Q4, Pos}, {1, 1, Heads, HD}, Rope);
    ValueId KR = Op(OpKind::RoPE, {K4, Pos}, {1, 1, KV, HD}, Rope);
    ValueId KA =
        Op(OpKind::KVAppend, {KC, KR, Pos}, {1, 512, KV, HD}, {}, DType::F16);
    ValueId VA =
        Op(OpKind::KVAppend, {VC, V4, Pos}, {1, 512, KV, HD}, {}, DType::F16);
    ValueId Att = Op(OpKind::Attention, {QR, KA, VA, Pos}, {1, 1, Heads, HD});
    ValueId Flat = Op(OpKind::Reshape, {Att}, {1, 1, D});
    ValueId Res = Op(OpKind::Add, {X, Op(OpKind::MatMul, {Flat, O}, {1, 1, D})},
                     {1, 1, D});
    ValueId F = Op(OpKind::RMSNorm, {Res, FNorm}, {1, 1, D}, Eps);
    ValueId Act = Op(OpKind::SiLUMul,
                     {Op(OpKind::MatMul, {F, Gate}, {1, 1, FFN}),
                      Op(OpKind::MatMul, {F, Up}, {1, 1, FFN})},
                     {1, 1, FFN});
    X = Op(OpKind::Add, {Res, Op(OpKind::MatMul, {Act, Down}, {1, 1, D})},
           {1, 1, D});
  }
  ValueId Logits = Op(OpKind::MatMul, {X, Embd}, {1, 1, Vocab});
  llvm::cantFail(
      G.addOutput(P, Op(OpKind::ArgMax, {Logits}, {1, 1}, {}, DType::I32)));
  return G;
}

void setCounters(benchmark::State &State, const Graph &G, size_t Bytes) {
  double Values = static_cast<double>(G.numValues());
  State.counters["values"] = Values;
  State.counters["values_per_s"] = benchmark::Counter(
      Values * State.iterations(), benchmark::Counter::kIsRate);
  State.counters["bar_values_per_s"] = BarValuesPerSecond;
  State.SetBytesProcessed(static_cast<int64_t>(Bytes) * State.iterations());
}

void BM_Print(benchmark::State &State) {
  Graph G = makeLlamaGraph(State.range(0));
  size_t Bytes = 0;
  for (auto _ : State) {
    std::string S = text::printGraphToString(G);
    Bytes = S.size();
    benchmark::DoNotOptimize(S.data());
  }
  setCounters(State, G, Bytes);
}

void BM_Parse(benchmark::State &State) {
  Graph G = makeLlamaGraph(State.range(0));
  std::string Text = text::printGraphToString(G);
  for (auto _ : State) {
    auto Parsed = text::parseGraph(Text, "bench.sir");
    if (!Parsed) {
      State.SkipWithError(llvm::toString(Parsed.takeError()).c_str());
      return;
    }
    benchmark::DoNotOptimize(Parsed->numValues());
  }
  setCounters(State, G, Text.size());
}

void BM_Verify(benchmark::State &State) {
  Graph G = makeLlamaGraph(State.range(0));
  for (auto _ : State) {
    std::vector<Diagnostic> D = verifyGraph(G);
    if (!D.empty()) {
      State.SkipWithError(D.front().Message.c_str());
      return;
    }
  }
  setCounters(State, G, 0);
}

void BM_TopologicalOrder(benchmark::State &State) {
  Graph G = makeLlamaGraph(State.range(0));
  for (auto _ : State) {
    auto Order = G.topologicalOrder(0);
    benchmark::DoNotOptimize(Order->data());
  }
  setCounters(State, G, 0);
}

// 8 layers ~ 300 values; 8192 layers ~ 300,000 values (a 405B model has
// about 1,100 tensors; DeepSeek-V3 with experts as tensors about 45,000).
#define SIZES                                                                  \
  ->RangeMultiplier(8)->Range(8, 8192)->Unit(benchmark::kMillisecond)
BENCHMARK(BM_Print) SIZES;
BENCHMARK(BM_Parse) SIZES;
BENCHMARK(BM_Verify) SIZES;
BENCHMARK(BM_TopologicalOrder) SIZES;

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::AddCustomContext("bar", "every stage >= 1e6 values/s");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
