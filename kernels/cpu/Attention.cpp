//===- Attention.cpp - Causal grouped-query attention over a cache --------===//

#include "kernels/cpu/Attention.h"
#include "kernels/Half.h"
#include "kernels/KernelError.h"
#include "kernels/cpu/Convert.h"
#include "kernels/cpu/Simd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

using namespace strata::kernels;
using namespace strata::kernels::cpu;
using namespace strata::kernels::cpu::simd;

namespace {

/// Positions whose scores are kept at once per head: a block's scores stay
/// in L1 and the rescaling of the accumulators happens once per block.
constexpr int64_t BlockPositions = 64;

struct Problem {
  ConstBuffer Q, K, V;
  const int32_t *Pos;
  MutableBuffer Out;
  int64_t Batch, Tokens, Heads, KVHeads, KeyDim, ValueDim, Context;
  float Scale;
};

/// One thread's working memory for a group of query heads. Rows are padded
/// with zeros to whole vectors (Dkp, Dvp), so the loops have no tails.
struct Scratch {
  int64_t Dkp, Dvp;
  std::vector<float> Q, Acc, Scores, KRow, VBlock, Max, Sum;
  std::vector<const float *> VRows;
  explicit Scratch(const Problem &P)
      : Dkp((P.KeyDim + Lanes - 1) / Lanes * Lanes),
        Dvp((P.ValueDim + Lanes - 1) / Lanes * Lanes) {
    int64_t G = P.Heads / P.KVHeads;
    Q.assign(G * Dkp, 0.0f);
    Acc.assign(G * Dvp, 0.0f);
    Scores.assign(G * BlockPositions, 0.0f);
    KRow.assign(Dkp, 0.0f);
    VBlock.assign(BlockPositions * Dvp, 0.0f);
    Max.resize(G);
    Sum.resize(G);
    VRows.resize(BlockPositions);
  }
};

// The loops, once for the baseline and once for the host's vector units.
namespace portable {
#define STRATA_ATTENTION_HOST 0
#include "kernels/cpu/AttentionLoops.inc"
#undef STRATA_ATTENTION_HOST
} // namespace portable

#if STRATA_HAVE_HOST_ISA
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace host {
#define STRATA_ATTENTION_HOST 1
#include "kernels/cpu/AttentionLoops.inc"
#undef STRATA_ATTENTION_HOST
} // namespace host
#pragma GCC pop_options
#endif
} // namespace

llvm::Error strata::kernels::cpu::attention(
    ConstBuffer Q, ConstBuffer K, ConstBuffer V, llvm::ArrayRef<int32_t> Pos,
    MutableBuffer Out, const AttentionShape &S, std::optional<float> Scale,
    const CpuContext &Ctx) {
  const int64_t Dv = S.ValueDim ? S.ValueDim : S.KeyDim;
  if (S.Batch < 0 || S.Tokens < 0 || S.Heads < 0 || S.KVHeads <= 0 ||
      S.KeyDim <= 0 || Dv <= 0 || S.Context < 0)
    return kernelError("attention: bad shape (batch %lld, tokens %lld, heads "
                       "%lld, kv heads %lld, dims %lld/%lld, context %lld)",
                       (long long)S.Batch, (long long)S.Tokens,
                       (long long)S.Heads, (long long)S.KVHeads,
                       (long long)S.KeyDim, (long long)Dv,
                       (long long)S.Context);
  if (S.Heads % S.KVHeads != 0)
    return kernelError("attention: %lld query heads are not a multiple of "
                       "%lld KV heads",
                       (long long)S.Heads, (long long)S.KVHeads);
  if (!isFloat(Q.Type) || !isFloat(K.Type) || !isFloat(V.Type) ||
      !isFloat(Out.Type))
    return kernelError("attention: unsupported types q %s, k %s, v %s, out %s",
                       getName(Q.Type), getName(K.Type), getName(V.Type),
                       getName(Out.Type));
  if (int64_t(Pos.size()) != S.Batch * S.Tokens)
    return kernelError("attention: %zu positions for [%lld, %lld] queries",
                       Pos.size(), (long long)S.Batch, (long long)S.Tokens);
  int64_t MACs = 0;
  for (size_t I = 0; I < Pos.size(); ++I) {
    if (Pos[I] < 0 || Pos[I] >= S.Context)
      return kernelError("attention: position %d at [%lld, %lld] is outside "
                         "the cache's [0, %lld)",
                         Pos[I], (long long)(I / S.Tokens),
                         (long long)(I % S.Tokens), (long long)S.Context);
    MACs += (int64_t(Pos[I]) + 1) * S.Heads * (S.KeyDim + Dv);
  }
  if (Pos.empty() || S.Heads == 0)
    return llvm::Error::success();
  if (!Q.Data || !K.Data || !V.Data || !Out.Data)
    return kernelError("attention: null buffer");

  Problem P{.Q = Q,
            .K = K,
            .V = V,
            .Pos = Pos.data(),
            .Out = Out,
            .Batch = S.Batch,
            .Tokens = S.Tokens,
            .Heads = S.Heads,
            .KVHeads = S.KVHeads,
            .KeyDim = S.KeyDim,
            .ValueDim = Dv,
            .Context = S.Context,
            .Scale = Scale ? *Scale : float(1.0 / std::sqrt(double(S.KeyDim)))};
  void (*Run)(const Problem &, int64_t, int64_t) = portable::attendRange;
#if STRATA_HAVE_HOST_ISA
  if (!Ctx.PortableOnly && hasHostISA())
    Run = host::attendRange;
#endif
  const int64_t Items = S.Batch * S.KVHeads * S.Tokens;
  if (!Ctx.Threads || Ctx.Threads->getConcurrency() < 2 || Items < 2 ||
      MACs < Ctx.ParallelMinMACs) {
    Run(P, 0, Items);
    return llvm::Error::success();
  }
  Ctx.Threads->run(Items, [&](size_t Begin, size_t End) {
    Run(P, int64_t(Begin), int64_t(End));
  });
  return llvm::Error::success();
}
