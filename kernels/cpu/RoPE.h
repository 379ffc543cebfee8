//===- RoPE.h - Rotary position embedding -----------------------*- C++ -*-===//
//
// Rotates pairs of each head's elements by position * frequency. Two
// pairings exist: GGUF files (llama.cpp's "normal" mode) pair adjacent
// elements (2i, 2i + 1); Hugging Face checkpoints ("neox", rotate_half) pair
// i with i + D/2. Pair i turns at theta^(-2i/D) radians per position before
// scaling; the scalings are those of Hugging Face's rope_scaling.
//
//===----------------------------------------------------------------------===//

#ifndef STRATA_KERNELS_CPU_ROPE_H
#define STRATA_KERNELS_CPU_ROPE_H

#include "kernels/ElementType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

namespace strata::kernels::cpu {

enum class RoPEMode { Normal, NeoX };

enum class RoPEScaling {
  None,
  Linear, ///< Positions divided by Factor.
  Llama3, ///< Meta's: long wavelengths slowed by Factor, short kept, blended.
  YaRN,   ///< NTK-by-parts interpolation and an attention factor.
};

struct RoPEParams {
  double Theta = 10000;
  RoPEMode Mode = RoPEMode::Normal;
  RoPEScaling Scaling = RoPEScaling::None;
  double Factor = 1;           ///< Linear, Llama3, YaRN.
  double LowFreqFactor = 1;    ///< Llama3.
  double HighFreqFactor = 4;   ///< Llama3.
  int64_t OriginalContext = 0; ///< Llama3, YaRN.
  double BetaFast = 32;        ///< YaRN.
  double BetaSlow = 1;         ///< YaRN.
  double MScale = 1;           ///< YaRN.
  double MScaleAllDim = 0;     ///< YaRN.
};

struct RoPEShape {
  int64_t Batch = 0, Tokens = 0, Heads = 0, HeadDim = 0;
};

/// Radians per position of each of the HeadDim / 2 pairs, after scaling,
/// into Freqs; and the factor cos and sin are multiplied by (YaRN's
/// attention factor; 1 for the others) into Magnitude. Computed in double.
llvm::Error getRoPEFrequencies(const RoPEParams &P, int64_t HeadDim,
                               llvm::MutableArrayRef<double> Freqs,
                               double &Magnitude);

/// Out[b, t, h] = X[b, t, h] rotated for position Pos[b * Tokens + t]. X and
/// Out are [Batch, Tokens, Heads, HeadDim] in f32, f16 or bf16; Out may be X.
/// HeadDim must be even and positions non-negative.
llvm::Error rope(ConstBuffer X, MutableBuffer Out, const RoPEShape &Shape,
                 llvm::ArrayRef<int32_t> Pos, const RoPEParams &P);

} // namespace strata::kernels::cpu

#endif // STRATA_KERNELS_CPU_ROPE_H
