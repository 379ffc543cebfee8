//===- Softmax.cpp - Softmax over the last axis ---------------------------===//

#include "kernels/cpu/Softmax.h"
#include "kernels/KernelError.h"
#include "kernels/cpu/Convert.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace strata::kernels::cpu {

llvm::Error softmax(ConstBuffer X, MutableBuffer Out, int64_t Rows, int64_t N) {
  if (Rows < 0 || N < 0)
    return kernelError("softmax: negative size [%lld, %lld]", (long long)Rows,
                       (long long)N);
  if (!isFloat(X.Type) || !isFloat(Out.Type))
    return kernelError("softmax: unsupported types x %s, out %s",
                       getName(X.Type), getName(Out.Type));
  if (Rows == 0 || N == 0)
    return llvm::Error::success();
  if (!X.Data || !Out.Data)
    return kernelError("softmax: null buffer");

  std::vector<float> XBuf(X.Type == ElementType::F32 ? 0 : N);
  std::vector<float> OBuf(Out.Type == ElementType::F32 ? 0 : N);
  for (int64_t R = 0; R < Rows; ++R) {
    const float *XR = rowAsF32(X, R * N, N, XBuf.data());
    float *O = Out.Type == ElementType::F32
                   ? static_cast<float *>(Out.Data) + R * N
                   : OBuf.data();
    float Max = *std::max_element(XR, XR + N);
    double Sum = 0;
    for (int64_t I = 0; I < N; ++I) {
      O[I] = std::exp(XR[I] - Max);
      Sum += O[I];
    }
    float Inv = float(1.0 / Sum);
    for (int64_t I = 0; I < N; ++I)
      O[I] *= Inv;
    if (Out.Type != ElementType::F32)
      writeF32(O, Out, R * N, N);
  }
  return llvm::Error::success();
}

} // namespace strata::kernels::cpu
