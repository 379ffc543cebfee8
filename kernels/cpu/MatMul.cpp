//===- MatMul.cpp - x times a weight's transpose --------------------------===//
//
// Within one call every output Y[t, o] is one sum in one order whatever
// rows it is grouped with: 8-lane f32 accumulators run along the row (the
// zero-padded tail last) and reduceAdd adds their lanes. So the split over
// threads never changes a result. Which lanes hold which elements depends on
// the weight type, the target and decode versus prefill (see
// MatMulLoops.inc), so results differ between those only by rounding.
//
//===----------------------------------------------------------------------===//

#include "kernels/cpu/MatMul.h"
#include "kernels/Half.h"
#include "kernels/KernelError.h"
#include "kernels/Q8_0.h"
#include "kernels/cpu/Convert.h"
#include "kernels/cpu/Simd.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

using namespace strata::kernels;
using namespace strata::kernels::cpu;
using namespace strata::kernels::cpu::simd;

namespace {

struct Problem {
  const float *X; ///< [Rows, In], f32.
  const uint8_t *W;
  ElementType WType;
  MutableBuffer Y;
  int64_t Rows, In, Out;
  int64_t WRowBytes;
  /// Output rows converted at once in prefill; a multiple of 4.
  int64_t TileRows;
};

// The loops, once for the baseline and once for the host's vector units.
namespace portable {
#define STRATA_MATMUL_HOST 0
#include "kernels/cpu/MatMulLoops.inc"
#undef STRATA_MATMUL_HOST
} // namespace portable

#if STRATA_HAVE_HOST_ISA
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
namespace host {
#define STRATA_MATMUL_HOST 1
#include "kernels/cpu/MatMulLoops.inc"
#undef STRATA_MATMUL_HOST
} // namespace host
#pragma GCC pop_options
#endif

/// The order decode reads x in, to match how it reads W (see Simd.h):
/// Natural; Pairs, per 16 elements the 8 even ones then the 8 odd ones;
/// Quads, per 32 elements those at 4j, then 4j + 1, 4j + 2, 4j + 3.
enum class XOrder { Natural, Pairs, Quads };

XOrder getDecodeOrder(ElementType W, bool Host) {
  switch (W) {
  case ElementType::F16:
    return Host ? XOrder::Natural : XOrder::Pairs;
  case ElementType::BF16:
    return XOrder::Pairs;
  case ElementType::Q8_0:
    return Host ? XOrder::Natural : XOrder::Quads;
  default:
    return XOrder::Natural;
  }
}

/// x in Order, zero-padded to whole groups of 16 for Pairs.
std::vector<float> permuteX(const float *X, int64_t In, XOrder Order) {
  std::vector<float> Xp;
  if (Order == XOrder::Pairs) {
    Xp.assign((In + 15) / 16 * 16, 0.0f);
    for (int64_t I = 0; I < In; ++I) {
      int64_t G = I / 16 * 16, J = I % 16;
      Xp[G + (J % 2) * 8 + J / 2] = X[I];
    }
  } else {
    Xp.resize(In);
    for (int64_t I = 0; I < In; ++I) {
      int64_t B = I / 32 * 32, J = I % 32;
      Xp[B + (J % 4) * 8 + J / 4] = X[I];
    }
  }
  return Xp;
}

bool isWeightType(ElementType T) {
  return isFloat(T) || T == ElementType::Q8_0;
}

} // namespace

llvm::Error strata::kernels::cpu::matmul(ConstBuffer X, ConstBuffer W,
                                         MutableBuffer Y, int64_t Rows,
                                         int64_t In, int64_t Out,
                                         const CpuContext &Ctx) {
  if (Rows < 0 || In < 0 || Out < 0)
    return kernelError("matmul: negative size [%lld, %lld] x [%lld, %lld]^T",
                       (long long)Rows, (long long)In, (long long)Out,
                       (long long)In);
  if (!isFloat(X.Type) || !isFloat(Y.Type) || !isWeightType(W.Type))
    return kernelError("matmul: unsupported types x %s, weight %s, y %s",
                       getName(X.Type), getName(W.Type), getName(Y.Type));
  if (W.Type == ElementType::Q8_0 && In % BlockQ8_0::Elements != 0)
    return kernelError("matmul: q8_0 weight rows of %lld elements are not "
                       "whole 32-element blocks",
                       (long long)In);
  if (Rows == 0 || Out == 0)
    return llvm::Error::success();
  if (!Y.Data || (In > 0 && (!X.Data || !W.Data)))
    return kernelError("matmul: null buffer");

  std::vector<float> XF32;
  const float *XP = static_cast<const float *>(X.Data);
  if (X.Type != ElementType::F32) {
    XF32.resize(Rows * In);
    readF32(X, 0, Rows * In, XF32.data());
    XP = XF32.data();
  }
  // A tile of f32 weight rows should stay in L2 (512 KiB or more on the
  // x86-64 servers this targets) while every row of X passes over it.
  int64_t TileRows = std::clamp<int64_t>(
      (int64_t(256) << 10) / (std::max<int64_t>(In, 1) * 4) / 4 * 4, 4, 64);
  Problem P{.X = XP,
            .W = static_cast<const uint8_t *>(W.Data),
            .WType = W.Type,
            .Y = Y,
            .Rows = Rows,
            .In = In,
            .Out = Out,
            .WRowBytes = getByteSize(W.Type, In),
            .TileRows = TileRows};

  bool Host = false;
  void (*Run)(const Problem &, int64_t, int64_t, float *) = portable::runRange;
#if STRATA_HAVE_HOST_ISA
  if (!Ctx.PortableOnly && hasHostISA()) {
    Host = true;
    Run = host::runRange;
  }
#endif
  std::vector<float> XPermuted;
  if (Rows == 1) {
    XOrder Order = getDecodeOrder(W.Type, Host);
    if (Order != XOrder::Natural) {
      XPermuted = permuteX(P.X, In, Order);
      P.X = XPermuted.data();
    }
  }
  // Each range converts its weight tiles into its own scratch.
  bool NeedsScratch = Rows > 1 && W.Type != ElementType::F32;
  auto RunRows = [&](int64_t O0, int64_t O1) {
    std::vector<float> Scratch(NeedsScratch ? TileRows * In : 0);
    Run(P, O0, O1, Scratch.data());
  };
  int64_t Unit = Rows > 1 ? TileRows : 8;
  int64_t Units = (Out + Unit - 1) / Unit;
  if (!Ctx.Threads || Ctx.Threads->getConcurrency() < 2 || Units < 2 ||
      Rows * In * Out < Ctx.ParallelMinMACs) {
    RunRows(0, Out);
    return llvm::Error::success();
  }
  Ctx.Threads->run(Units, [&](size_t Begin, size_t End) {
    RunRows(int64_t(Begin) * Unit, std::min<int64_t>(int64_t(End) * Unit, Out));
  });
  return llvm::Error::success();
}
