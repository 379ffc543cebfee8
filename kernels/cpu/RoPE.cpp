//===- RoPE.cpp - Rotary position embedding -------------------------------===//
//
// The scalings follow transformers' modeling_rope_utils.py
// (_compute_linear_scaling_rope_parameters, _compute_llama3_parameters,
// _compute_yarn_parameters with truncation), computed in double.
//
//===----------------------------------------------------------------------===//

#include "kernels/cpu/RoPE.h"
#include "kernels/KernelError.h"
#include "kernels/cpu/Convert.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace strata::kernels::cpu {

/// Meta's Llama 3.1 scaling: wavelengths longer than
/// OriginalContext / LowFreqFactor are slowed by Factor, shorter than
/// OriginalContext / HighFreqFactor kept, and those between blended.
static void scaleLlama3(const RoPEParams &P, llvm::MutableArrayRef<double> F) {
  const double Old = double(P.OriginalContext);
  const double LowWavelen = Old / P.LowFreqFactor;
  const double HighWavelen = Old / P.HighFreqFactor;
  for (double &Freq : F) {
    double Wavelen = 2 * std::numbers::pi / Freq;
    if (Wavelen < HighWavelen)
      continue;
    if (Wavelen > LowWavelen) {
      Freq /= P.Factor;
      continue;
    }
    double Smooth = (Old / Wavelen - P.LowFreqFactor) /
                    (P.HighFreqFactor - P.LowFreqFactor);
    Freq = (1 - Smooth) * Freq / P.Factor + Smooth * Freq;
  }
}

static double yarnMScale(double Scale, double M) {
  return Scale <= 1 ? 1.0 : 0.1 * M * std::log(Scale) + 1.0;
}

/// YaRN: pairs that turn fewer than BetaSlow times over the original context
/// are interpolated (divided by Factor), those that turn more than BetaFast
/// times are kept, with a linear ramp between; cos and sin are scaled by the
/// attention factor.
static void scaleYaRN(const RoPEParams &P, int64_t HeadDim,
                      llvm::MutableArrayRef<double> F, double &Magnitude) {
  const double Dim = double(HeadDim);
  auto CorrectionDim = [&](double Rotations) {
    return Dim *
           std::log(double(P.OriginalContext) /
                    (Rotations * 2 * std::numbers::pi)) /
           (2 * std::log(P.Theta));
  };
  double Low = std::max(std::floor(CorrectionDim(P.BetaFast)), 0.0);
  double High = std::min(std::ceil(CorrectionDim(P.BetaSlow)), Dim - 1);
  if (Low == High)
    High += 0.001;
  for (size_t I = 0; I < F.size(); ++I) {
    double Ramp = std::clamp((double(I) - Low) / (High - Low), 0.0, 1.0);
    double Extrapolation = 1 - Ramp;
    F[I] = F[I] / P.Factor * (1 - Extrapolation) + F[I] * Extrapolation;
  }
  Magnitude = P.MScale != 0 && P.MScaleAllDim != 0
                  ? yarnMScale(P.Factor, P.MScale) /
                        yarnMScale(P.Factor, P.MScaleAllDim)
                  : yarnMScale(P.Factor, 1.0);
}

llvm::Error getRoPEFrequencies(const RoPEParams &P, int64_t HeadDim,
                               llvm::MutableArrayRef<double> Freqs,
                               double &Magnitude) {
  if (HeadDim <= 0 || HeadDim % 2 != 0 || int64_t(Freqs.size()) != HeadDim / 2)
    return kernelError("rope: head dimension %lld must be even and positive",
                       (long long)HeadDim);
  if (!(P.Theta > 0))
    return kernelError("rope: theta must be positive, got %g", P.Theta);
  if (P.Scaling != RoPEScaling::None && !(P.Factor > 0))
    return kernelError("rope: scaling factor must be positive, got %g",
                       P.Factor);
  if ((P.Scaling == RoPEScaling::Llama3 || P.Scaling == RoPEScaling::YaRN) &&
      P.OriginalContext <= 0)
    return kernelError("rope: scaling needs the original context, got %lld",
                       (long long)P.OriginalContext);
  if (P.Scaling == RoPEScaling::Llama3 &&
      !(P.LowFreqFactor > 0 && P.HighFreqFactor > P.LowFreqFactor))
    return kernelError("rope: llama3 scaling needs 0 < low_freq_factor < "
                       "high_freq_factor, got %g and %g",
                       P.LowFreqFactor, P.HighFreqFactor);
  for (int64_t I = 0; I < HeadDim / 2; ++I)
    Freqs[I] = std::pow(P.Theta, -2.0 * double(I) / double(HeadDim));
  Magnitude = 1;
  switch (P.Scaling) {
  case RoPEScaling::None:
    break;
  case RoPEScaling::Linear:
    for (double &F : Freqs)
      F /= P.Factor;
    break;
  case RoPEScaling::Llama3:
    scaleLlama3(P, Freqs);
    break;
  case RoPEScaling::YaRN:
    scaleYaRN(P, HeadDim, Freqs, Magnitude);
    break;
  }
  return llvm::Error::success();
}

llvm::Error rope(ConstBuffer X, MutableBuffer Out, const RoPEShape &Shape,
                 llvm::ArrayRef<int32_t> Pos, const RoPEParams &P) {
  const int64_t B = Shape.Batch, T = Shape.Tokens, H = Shape.Heads,
                D = Shape.HeadDim;
  if (B < 0 || T < 0 || H < 0 || D <= 0 || D % 2 != 0)
    return kernelError("rope: bad shape [%lld, %lld, %lld, %lld] (the head "
                       "dimension must be even)",
                       (long long)B, (long long)T, (long long)H, (long long)D);
  if (!isFloat(X.Type) || !isFloat(Out.Type))
    return kernelError("rope: unsupported types x %s, out %s", getName(X.Type),
                       getName(Out.Type));
  if (int64_t(Pos.size()) != B * T)
    return kernelError("rope: %zu positions for [%lld, %lld] tokens",
                       Pos.size(), (long long)B, (long long)T);
  for (size_t I = 0; I < Pos.size(); ++I)
    if (Pos[I] < 0)
      return kernelError("rope: position %d at [%lld, %lld] is negative",
                         Pos[I], (long long)(I / T), (long long)(I % T));
  std::vector<double> Freqs(D / 2);
  double Magnitude;
  if (llvm::Error E = getRoPEFrequencies(P, D, Freqs, Magnitude))
    return E;
  if (B * T * H == 0)
    return llvm::Error::success();
  if (!X.Data || !Out.Data)
    return kernelError("rope: null buffer");

  const int64_t Half = D / 2, RowElems = H * D;
  std::vector<float> Cos(Half), Sin(Half);
  std::vector<float> Scratch(
      X.Type == ElementType::F32 && Out.Type == ElementType::F32 ? 0
                                                                 : RowElems);
  // Element pair i of a head: (2i, 2i + 1) or (i, i + D/2).
  const int64_t Stride = P.Mode == RoPEMode::Normal ? 2 : 1;
  const int64_t Partner = P.Mode == RoPEMode::Normal ? 1 : Half;
  for (int64_t BT = 0; BT < B * T; ++BT) {
    for (int64_t I = 0; I < Half; ++I) {
      double Angle = double(Pos[BT]) * Freqs[I];
      Cos[I] = float(std::cos(Angle) * Magnitude);
      Sin[I] = float(std::sin(Angle) * Magnitude);
    }
    const float *Src;
    float *Dst;
    if (X.Type == ElementType::F32 && Out.Type == ElementType::F32) {
      Src = static_cast<const float *>(X.Data) + BT * RowElems;
      Dst = static_cast<float *>(Out.Data) + BT * RowElems;
    } else {
      readF32(X, BT * RowElems, RowElems, Scratch.data());
      Src = Dst = Scratch.data();
    }
    for (int64_t Hd = 0; Hd < H; ++Hd) {
      const float *S = Src + Hd * D;
      float *O = Dst + Hd * D;
      for (int64_t I = 0; I < Half; ++I) {
        float X0 = S[I * Stride], X1 = S[I * Stride + Partner];
        O[I * Stride] = X0 * Cos[I] - X1 * Sin[I];
        O[I * Stride + Partner] = X0 * Sin[I] + X1 * Cos[I];
      }
    }
    if (Dst == Scratch.data())
      writeF32(Scratch.data(), Out, BT * RowElems, RowElems);
  }
  return llvm::Error::success();
}

} // namespace strata::kernels::cpu
