//===- RMSNorm.cpp - Root-mean-square normalisation -----------------------===//

#include "kernels/cpu/RMSNorm.h"
#include "kernels/KernelError.h"
#include "kernels/cpu/Convert.h"
#include "kernels/cpu/Simd.h"

#include <cmath>
#include <vector>

namespace strata::kernels::cpu {

using namespace simd;

/// Sum of squares in eight f32 lanes (plain loops would not vectorise a
/// float reduction without -ffast-math).
static double sumOfSquares(const float *X, int64_t N) {
  VF Acc = {};
  int64_t I = 0;
  for (; I + Lanes <= N; I += Lanes) {
    VF V = loadF32(X + I);
    Acc += V * V;
  }
  double Sum = reduceAdd(Acc);
  for (; I < N; ++I)
    Sum += double(X[I]) * X[I];
  return Sum;
}

llvm::Error rmsNorm(ConstBuffer X, ConstBuffer Weight, MutableBuffer Out,
                    int64_t Rows, int64_t Dim, float Eps) {
  if (Rows < 0 || Dim < 0)
    return kernelError("rms_norm: negative size [%lld, %lld]", (long long)Rows,
                       (long long)Dim);
  if (!isFloat(X.Type) || !isFloat(Weight.Type) || !isFloat(Out.Type))
    return kernelError("rms_norm: unsupported types x %s, weight %s, out %s",
                       getName(X.Type), getName(Weight.Type),
                       getName(Out.Type));
  if (!(Eps > 0))
    return kernelError("rms_norm: eps must be positive, got %g", double(Eps));
  if (Rows == 0 || Dim == 0)
    return llvm::Error::success();
  if (!X.Data || !Weight.Data || !Out.Data)
    return kernelError("rms_norm: null buffer");

  std::vector<float> WScratch(Weight.Type == ElementType::F32 ? 0 : Dim);
  const float *W = rowAsF32(Weight, 0, Dim, WScratch.data());
  std::vector<float> XScratch(X.Type == ElementType::F32 ? 0 : Dim);
  std::vector<float> OutScratch(Out.Type == ElementType::F32 ? 0 : Dim);
  for (int64_t R = 0; R < Rows; ++R) {
    const float *XR = rowAsF32(X, R * Dim, Dim, XScratch.data());
    float Scale = float(1.0 / std::sqrt(sumOfSquares(XR, Dim) / Dim + Eps));
    float *O = Out.Type == ElementType::F32
                   ? static_cast<float *>(Out.Data) + R * Dim
                   : OutScratch.data();
    for (int64_t I = 0; I < Dim; ++I)
      O[I] = XR[I] * Scale * W[I];
    if (Out.Type != ElementType::F32)
      writeF32(O, Out, R * Dim, Dim);
  }
  return llvm::Error::success();
}

} // namespace strata::kernels::cpu
